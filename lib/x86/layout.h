/*
 * layout.h: the one owner of canon's address-space map.
 *
 * Every virtual address that the kernel, the boot stub, the linker script and
 * the allocators agree on is defined here, and nowhere else.  The map is the
 * same under 4-level and 5-level paging: every address below is canonical in
 * both modes, so 5-level paging only adds room that nobody uses.
 *
 *   0xffff_ffff_ffff_ffff  +-------------------------------------------+
 *                          | kernel image .text .rodata .data .bss      | supervisor
 *   0xffff_ffff_8000_0000  |   KERNEL_IMAGE_BASE + physical address    | (linked here)
 *                          +-------------------------------------------+
 *                          | (unused)                                  |
 *   0xffff_ff80_0000_0000  +-------------------------------------------+
 *                          | page tables, through the self-referencing | supervisor
 *                          | top-level entry PAGE_TABLE_SELF_SLOT      | NX
 *   0xffff_ff00_0000_0000  +-------------------------------------------+ (4-level;
 *                          | supervisor region: heap, stacks with      |  5-level:
 *                          | guard pages, firmware tables, the frame   |  0xfffe_...)
 *                          | zeroing window (the allocator picks)      | supervisor
 *   0xffff_c000_0000_0000  +-------------------------------------------+
 *                          | (unused; no direct map of RAM exists)     |
 *   0xffff_8000_0000_0000  +===========================================+
 *                          |  non-canonical hole (#GP, or #SS via RSP) |
 *   0x0000_7fff_ffff_ffff  +===========================================+
 *                          | reserved for vm_map_fixed() near the end  | user
 *   0x0000_7f00_0000_0000  +-------------------------------------------+
 *                          | user region: heap and stacks with guard   | user
 *                          | pages (the allocator picks)               |
 *   0x0000_0010_0000_0000  +-------------------------------------------+
 *                          | (unused)                                  |
 *                          +-------------------------------------------+
 *                          | user image: .user.text .user.rodata .data | user
 *   0x0000_0000_0040_0000  +-------------------------------------------+
 *                          | never mapped: catches null pointers       |
 *   0x0000_0000_0000_0000  +-------------------------------------------+
 *
 * Physical memory: the image is loaded at KERNEL_LOAD_PHYSICAL.  The 32-bit
 * boot stub (.boot) is the only code ever identity mapped, and only until the
 * 64-bit entry drops that mapping.  No physical frame is mapped twice: the
 * user image's frames are mapped at their user address only, and page tables
 * are reached only through the self-referencing slot.
 *
 * Under 5-level paging the lower half reaches 0x00ff_ffff_ffff_ffff.  Only
 * vm_reserve() hands out that extra room (WIDE_USER_REGION), for a test that
 * needs a whole top-level entry of its own: every PML5E of the map above is
 * shared with the user image and the kernel.
 *
 * This header is included from C, from assembly and from the linker script,
 * so it holds only constants.
 */
#ifndef CANON_LAYOUT_H
#define CANON_LAYOUT_H

#if defined(__ASSEMBLER__) || defined(LINKER_SCRIPT)
#define LAYOUT_ADDRESS(value) value
#else
#define LAYOUT_ADDRESS(value) value##UL
#endif

#define PAGE_SHIFT 12
#define PAGE_SIZE LAYOUT_ADDRESS(0x1000)
#define LARGE_PAGE_SIZE LAYOUT_ADDRESS(0x200000)  /* 2 MiB */
#define HUGE_PAGE_SIZE LAYOUT_ADDRESS(0x40000000) /* 1 GiB */

/* Where the loader puts the image, and where the kernel part of it is linked. */
#define KERNEL_LOAD_PHYSICAL LAYOUT_ADDRESS(0x100000)
#define KERNEL_IMAGE_BASE LAYOUT_ADDRESS(0xffffffff80000000)

/* The user part of the image (.user.text, .user.rodata, .user.data). */
#define USER_IMAGE_BASE LAYOUT_ADDRESS(0x400000)

/* The ranges the virtual-range allocator hands out. */
#define USER_REGION_START LAYOUT_ADDRESS(0x0000001000000000)
#define USER_REGION_END LAYOUT_ADDRESS(0x00007f0000000000)
#define SUPERVISOR_REGION_START LAYOUT_ADDRESS(0xffffc00000000000)
#define SUPERVISOR_REGION_END LAYOUT_ADDRESS(0xffffff0000000000)
/* 5-level paging only: lower-half room above 4-level's, PML5E 1 to 254. */
#define WIDE_USER_REGION_START LAYOUT_ADDRESS(0x0001000000000000)
#define WIDE_USER_REGION_END LAYOUT_ADDRESS(0x00ff000000000000)

/*
 * The top-level paging entry that points back at its own table.  Through it,
 * every paging-structure page appears once, read-write, supervisor and NX, at
 * an address computed from the paging mode (see page-table.c).
 */
#define PAGE_TABLE_SELF_SLOT 510

/* Lowest physical address the page allocator may hand out (BIOS area below). */
#define PHYSICAL_ALLOCATION_FLOOR LAYOUT_ADDRESS(0x100000)
/* The page allocator tracks frames below this limit; RAM above is ignored. */
#define PHYSICAL_MEMORY_LIMIT LAYOUT_ADDRESS(0x400000000) /* 16 GiB */

/* Stack sizes; every stack has one unmapped guard page below it. */
#define KERNEL_STACK_SIZE LAYOUT_ADDRESS(0x4000)
#define INTERRUPT_STACK_SIZE LAYOUT_ADDRESS(0x2000)
#define USER_STACK_SIZE LAYOUT_ADDRESS(0x8000)
#define GUARD_SIZE PAGE_SIZE

#endif
