/*
 * cstart64.S: the boot stub and the 64-bit entry, nothing else.
 *
 * 1. A loader enters in 32-bit protected mode with paging off: QEMU's
 *    multiboot v1 loader (EAX = 0x2badb002, EBX = multiboot information) or
 *    the PVH entry (EBX = hvm_start_info).  The stub copies what the loader
 *    left into boot_handoff, so the kernel never needs low memory mapped.
 * 2. It builds the first page tables from boot_segments (see flat.lds.S):
 *    the kernel image at its upper-half link address with per-section
 *    permissions, the user image at its user address, the stub itself
 *    identity mapped, and the self-referencing top-level entry.  "la57" on
 *    the command line asks for 5-level paging when CPUID has it.
 * 3. It enables PAE (and LA57), EFER.LME and EFER.NXE, CR0.WP and paging,
 *    and jumps to the upper half.  "nonx" and "nowp" leave EFER.NXE (and
 *    every XD bit) and CR0.WP clear, so that tests can show they notice.
 * 4. kernel_entry64 loads the final GDT, IDT and TSS, moves to the kernel
 *    boot stack, removes the identity mapping, flushes the TLB and only then
 *    calls C.
 */
#include "layout.h"
#include "processor.h"
#include "page-table.h"
#include "boot-handoff.h"
#include "descriptors.h"

#define MULTIBOOT_FLAGS_MEMORY_INFO (1 << 1)
#define MULTIBOOT_FLAGS_ADDRESS_FIELDS (1 << 16)
#define MULTIBOOT_FLAGS (MULTIBOOT_FLAGS_MEMORY_INFO | MULTIBOOT_FLAGS_ADDRESS_FIELDS)
#define MULTIBOOT_INFO_HAS_COMMAND_LINE (1 << 2)
#define MULTIBOOT_INFO_HAS_MEMORY_MAP (1 << 6)
#define MULTIBOOT_INFO_SIZE 88 /* through the drive fields; the rest is video */
#define PVH_START_INFO_SIZE 56
#define PVH_MEMORY_MAP_ENTRY_SIZE 24
#define XEN_ELFNOTE_PHYS32_ENTRY 18

#define BOOT_CODE64_SELECTOR 0x08
#define BOOT_DATA_SELECTOR 0x10
#define SERIAL_PORT 0x3f8
#define DEBUG_EXIT_PORT 0xf4

/* Physical address of a kernel-linked symbol (see flat.lds.S). */
#define HANDOFF(field) (boot_handoff_physical + field)

	.section .multiboot_header, "a"
	.balign 4
multiboot_header:
	.long MULTIBOOT_HEADER_MAGIC
	.long MULTIBOOT_FLAGS
	.long -(MULTIBOOT_HEADER_MAGIC + MULTIBOOT_FLAGS)
	/* QEMU refuses 64-bit ELF files unless these fields say where to load. */
	.long multiboot_header          /* header_addr */
	.long image_load_physical_start /* load_addr */
	.long image_load_physical_end   /* load_end_addr: file data ends here */
	.long image_physical_end        /* bss_end_addr: zeroed up to here */
	.long multiboot_entry           /* entry_addr */

	/* The PVH entry point, for -M microvm and other PVH loaders. */
	.section .note.pvh, "a", @note
	.balign 4
	.long 4                         /* name size */
	.long 4                         /* descriptor size */
	.long XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.long pvh_entry

	.section .boot.text, "ax"
	.code32
	.globl multiboot_entry
multiboot_entry:
	cli
	cld
	mov $boot_stub_stack_top, %esp
	cmp $MULTIBOOT_LOADER_MAGIC, %eax
	mov $message_bad_loader, %esi
	jne boot_failure
	call record_multiboot_info
	jmp boot_common

	.globl pvh_entry
pvh_entry:
	cli
	cld
	mov $boot_stub_stack_top, %esp
	cmpl $PVH_START_INFO_MAGIC, (%ebx)
	mov $message_bad_loader, %esi
	jne boot_failure
	call record_pvh_info
	jmp boot_common

/* EBX: multiboot information. */
record_multiboot_info:
	movl $LOADER_MULTIBOOT, HANDOFF(HANDOFF_LOADER)
	mov %ebx, HANDOFF(HANDOFF_INFO_PHYSICAL)
	mov %ebx, %esi
	mov $HANDOFF(HANDOFF_INFO), %edi
	mov $MULTIBOOT_INFO_SIZE, %ecx
	rep movsb
	testl $MULTIBOOT_INFO_HAS_COMMAND_LINE, (%ebx)
	jz 1f
	mov 16(%ebx), %esi
	call copy_command_line
1:	testl $MULTIBOOT_INFO_HAS_MEMORY_MAP, (%ebx)
	jz 2f
	mov 48(%ebx), %esi
	mov 44(%ebx), %ecx
	call copy_memory_map
2:	ret

/* EBX: hvm_start_info.  Addresses above 4 GiB are not expected here. */
record_pvh_info:
	movl $LOADER_PVH, HANDOFF(HANDOFF_LOADER)
	mov %ebx, HANDOFF(HANDOFF_INFO_PHYSICAL)
	mov %ebx, %esi
	mov $HANDOFF(HANDOFF_INFO), %edi
	mov $PVH_START_INFO_SIZE, %ecx
	rep movsb
	mov 24(%ebx), %esi              /* cmdline_paddr */
	test %esi, %esi
	jz 1f
	call copy_command_line
1:	cmpl $1, 4(%ebx)                /* the memory map arrived in version 1 */
	jb 2f
	mov 40(%ebx), %esi              /* memmap_paddr */
	imul $PVH_MEMORY_MAP_ENTRY_SIZE, 48(%ebx), %ecx /* memmap_entries */
	call copy_memory_map
2:	ret

/* ESI: NUL-terminated string; copies at most the buffer size minus one. */
copy_command_line:
	mov %esi, HANDOFF(HANDOFF_COMMAND_LINE_PHYSICAL)
	mov $HANDOFF(HANDOFF_COMMAND_LINE), %edi
	xor %ecx, %ecx
1:	cmp $HANDOFF_COMMAND_LINE_SIZE - 1, %ecx
	je 2f
	movb (%esi,%ecx), %al
	test %al, %al
	jz 2f
	movb %al, (%edi,%ecx)
	inc %ecx
	jmp 1b
2:	movb $0, (%edi,%ecx)
	mov %ecx, HANDOFF(HANDOFF_COMMAND_LINE_LENGTH)
	ret

/* ESI: memory map, ECX: its length in bytes. */
copy_memory_map:
	mov %esi, HANDOFF(HANDOFF_MEMORY_MAP_PHYSICAL)
	mov %ecx, HANDOFF(HANDOFF_MEMORY_MAP_ORIGINAL_LENGTH)
	cmp $HANDOFF_MEMORY_MAP_SIZE, %ecx
	jbe 1f
	mov $HANDOFF_MEMORY_MAP_SIZE, %ecx
1:	mov %ecx, HANDOFF(HANDOFF_MEMORY_MAP_LENGTH)
	mov $HANDOFF(HANDOFF_MEMORY_MAP), %edi
	rep movsb
	ret

boot_common:
	call require_long_mode
	call choose_paging_mode
	call choose_write_protect
	call build_boot_page_tables

	mov %cr4, %eax
	or $CR4_PAE, %eax
	cmpl $5, HANDOFF(HANDOFF_PAGING_LEVELS)
	jne 1f
	or $CR4_LA57, %eax
1:	mov %eax, %cr4
	mov boot_top_table, %eax
	mov %eax, %cr3

	mov $MSR_EFER, %ecx
	rdmsr
	or $EFER_LONG_MODE_ENABLE, %eax
	cmpl $0, HANDOFF(HANDOFF_NO_EXECUTE_ENABLED)
	je 2f
	or $EFER_NO_EXECUTE_ENABLE, %eax
2:	wrmsr

	lgdt boot_gdt_register
	mov %cr0, %eax
	or $(CR0_PAGING | CR0_PROTECTION_ENABLE), %eax
	or boot_write_protect, %eax
	mov %eax, %cr0
	ljmp $BOOT_CODE64_SELECTOR, $boot_long_mode

/*
 * CPUID.80000001H:EDX[29] is long mode; EDX[20] is NX, used unless the
 * command line says "nonx" (EFER.NXE stays 0 and no page gets XD).
 */
require_long_mode:
	mov $0x80000000, %eax
	cpuid
	cmp $0x80000001, %eax
	mov $message_no_long_mode, %esi
	jb boot_failure
	mov $0x80000001, %eax
	cpuid
	bt $29, %edx
	jnc boot_failure
	bt $20, %edx
	jnc 1f
	mov $0x786e6f6e, %eax           /* "nonx", little-endian */
	call command_line_has_word
	je 1f
	movl $1, HANDOFF(HANDOFF_NO_EXECUTE_ENABLED)
	movl $PAGE_NO_EXECUTE_HIGH, boot_no_execute_mask
1:	ret

/*
 * Is the four-letter word in EAX (its bytes in memory order) a whole word
 * of the command line?  ZF=1 when it is.  Clobbers ECX, EDX and ESI.
 */
command_line_has_word:
	mov $HANDOFF(HANDOFF_COMMAND_LINE), %esi
	mov %esi, %edx                  /* start of the line */
1:	cmpb $0, (%esi)
	je 4f
	cmpl %eax, (%esi)
	jne 3f
	cmp %edx, %esi                  /* word starts the line or follows a space */
	je 2f
	cmpb $' ', -1(%esi)
	jne 3f
2:	movb 4(%esi), %cl               /* and ends the line or precedes a space */
	test %cl, %cl
	jz 5f
	cmp $' ', %cl
	je 5f
3:	inc %esi
	jmp 1b
4:	or $1, %ecx                     /* not found: ZF=0 */
	ret
5:	xor %ecx, %ecx                  /* found: ZF=1 */
	ret

/*
 * 5-level paging when the command line holds the word "la57" and
 * CPUID.(EAX=7,ECX=0):ECX[16] is set; otherwise 4-level.  The kernel reports
 * a request it could not honour.
 */
choose_paging_mode:
	movl $4, HANDOFF(HANDOFF_PAGING_LEVELS)
	mov $0x3735616c, %eax           /* "la57" */
	call command_line_has_word
	jne 1f
	movl $1, HANDOFF(HANDOFF_LA57_REQUESTED)
	xor %eax, %eax
	cpuid
	cmp $7, %eax
	jb 1f
	mov $7, %eax
	xor %ecx, %ecx
	cpuid
	bt $16, %ecx
	jnc 1f
	movl $5, HANDOFF(HANDOFF_PAGING_LEVELS)
1:	ret

/* CR0.WP, unless the command line says "nowp". */
choose_write_protect:
	movl $CR0_WRITE_PROTECT, boot_write_protect
	mov $0x70776f6e, %eax           /* "nowp" */
	call command_line_has_word
	jne 1f
	movl $0, boot_write_protect
1:	ret

/*
 * Builds the tables described by boot_segments.  Each segment is
 * { u64 virtual start, u32 physical start, u32 physical end, u64 flags }.
 */
build_boot_page_tables:
	call allocate_boot_table
	mov %eax, boot_top_table
	/* The self-referencing entry: supervisor, writable, not executable. */
	mov %eax, %edx
	or $(PAGE_PRESENT | PAGE_WRITABLE), %edx
	mov %edx, PAGE_TABLE_SELF_SLOT * 8(%eax)
	mov boot_no_execute_mask, %edx
	mov %edx, PAGE_TABLE_SELF_SLOT * 8 + 4(%eax)

	mov $boot_segments, %esi
1:	cmp $boot_segments_end, %esi
	je 4f
	mov 8(%esi), %eax               /* physical start */
	cmp 12(%esi), %eax              /* physical end */
	je 3f                           /* nothing to map */
	mov (%esi), %edx
	mov %edx, map_virtual_low
	mov 4(%esi), %edx
	mov %edx, map_virtual_high
	mov %eax, map_physical
	mov 16(%esi), %edx
	mov %edx, map_flags_low
	mov 20(%esi), %edx
	and boot_no_execute_mask, %edx
	mov %edx, map_flags_high
2:	call map_boot_page             /* EBX: the leaf entry just written */
	/* Fill the rest of that page table directly, without walking again. */
5:	addl $PAGE_SIZE, map_virtual_low
	adcl $0, map_virtual_high
	addl $PAGE_SIZE, map_physical
	mov map_physical, %eax
	cmp 12(%esi), %eax
	jae 3f
	testl $0x1ff000, map_virtual_low /* crossed into the next page table? */
	jz 2b
	add $8, %ebx
	or map_flags_low, %eax
	or $(PAGE_PRESENT | PAGE_ACCESSED | PAGE_DIRTY), %eax
	mov %eax, (%ebx)
	mov map_flags_high, %eax
	mov %eax, 4(%ebx)
	jmp 5b
3:	add $24, %esi
	jmp 1b
4:	ret

/* Maps map_virtual -> map_physical with map_flags, creating tables. */
map_boot_page:
	push %esi
	mov boot_top_table, %edi
	mov HANDOFF(HANDOFF_PAGING_LEVELS), %ecx
1:	call boot_table_index
	lea (%edi,%eax,8), %ebx
	testl $PAGE_PRESENT, (%ebx)
	jnz 2f
	call allocate_boot_table
	or $(PAGE_PRESENT | PAGE_WRITABLE | PAGE_ACCESSED), %eax
	testl $0x80000000, map_virtual_high     /* lower half: user all the way down */
	jnz 3f
	or $PAGE_USER, %eax
3:	mov %eax, (%ebx)
	movl $0, 4(%ebx)
2:	mov (%ebx), %edi
	and $~0xfff, %edi
	dec %ecx
	cmp $1, %ecx
	jne 1b
	call boot_table_index
	lea (%edi,%eax,8), %ebx
	mov $message_mapped_twice, %esi
	testl $PAGE_PRESENT, (%ebx)
	jnz boot_failure
	mov map_physical, %eax
	or map_flags_low, %eax
	/* Accessed and dirty up front: no fault to set them under shadow paging. */
	or $(PAGE_PRESENT | PAGE_ACCESSED | PAGE_DIRTY), %eax
	mov %eax, (%ebx)
	mov map_flags_high, %eax
	mov %eax, 4(%ebx)
	pop %esi
	ret

/* ECX: level (1-5).  Returns in EAX the index of map_virtual at that level. */
boot_table_index:
	push %ecx
	push %edx
	lea 3(%ecx,%ecx,8), %ecx        /* shift = 12 + 9 * (level - 1) */
	mov map_virtual_low, %eax
	mov map_virtual_high, %edx
	cmp $32, %ecx
	jb 1f
	mov %edx, %eax
	sub $32, %ecx
	shr %cl, %eax
	jmp 2f
1:	shrd %cl, %edx, %eax
2:	and $511, %eax
	pop %edx
	pop %ecx
	ret

/*
 * Returns in EAX a page from the boot page-table pool.  The pool is in
 * .boot.bss, which every loader zeroes (multiboot up to bss_end_addr, an ELF
 * loader up to each segment's memory size), so the page is already clear;
 * clearing it again would cost ~10 ms on hypervisors that emulate the guest.
 */
allocate_boot_table:
	mov boot_pool_next, %eax
	mov $message_pool_exhausted, %esi
	cmp $boot_page_table_pool_end, %eax
	jae boot_failure
	addl $PAGE_SIZE, boot_pool_next
	ret

/*
 * ESI: message.  Nothing is set up yet, so write straight to COM1, tell the
 * exit device (if any) that the test failed, and stop.
 */
boot_failure:
	mov $SERIAL_PORT, %dx
1:	lodsb
	test %al, %al
	jz 2f
	out %al, %dx
	jmp 1b
2:	mov $DEBUG_EXIT_PORT, %dx
	mov $1, %eax
	out %eax, %dx
3:	cli
	hlt
	jmp 3b

	.code64
boot_long_mode:
	movabs $kernel_entry64, %rax
	jmp *%rax

	.section .boot.data, "aw"
	.balign 8
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff        /* 64-bit code, DPL 0 */
	.quad 0x00cf92000000ffff        /* data, DPL 0 */
boot_gdt_end:
boot_gdt_register:
	.word boot_gdt_end - boot_gdt - 1
	.long boot_gdt

/* What the stub maps; the linker script supplies every bound. */
	.balign 8
boot_segments:
	/* The stub, identity mapped until kernel_entry64 removes it. */
	.quad boot_physical_start
	.long boot_physical_start, boot_physical_end
	.quad PAGE_WRITABLE
	.quad kernel_text_start
	.long kernel_text_physical_start, kernel_text_physical_end
	.quad 0
	.quad kernel_rodata_start
	.long kernel_rodata_physical_start, kernel_rodata_physical_end
	.long 0, PAGE_NO_EXECUTE_HIGH
	.quad kernel_data_start
	.long kernel_data_physical_start, kernel_data_physical_end
	.long PAGE_WRITABLE, PAGE_NO_EXECUTE_HIGH
	.quad kernel_bss_start
	.long kernel_bss_physical_start, kernel_bss_physical_end
	.long PAGE_WRITABLE, PAGE_NO_EXECUTE_HIGH
	.quad user_text_start
	.long user_text_physical_start, user_text_physical_end
	.quad PAGE_USER
	.quad user_rodata_start
	.long user_rodata_physical_start, user_rodata_physical_end
	.long PAGE_USER, PAGE_NO_EXECUTE_HIGH
	.quad user_data_start
	.long user_data_physical_start, user_data_physical_end
	.long PAGE_USER | PAGE_WRITABLE, PAGE_NO_EXECUTE_HIGH
boot_segments_end:

boot_pool_next:
	.long boot_page_table_pool
boot_top_table:
	.long 0
boot_write_protect:
	.long 0
boot_no_execute_mask:
	.long 0
map_virtual_low:
	.long 0
map_virtual_high:
	.long 0
map_physical:
	.long 0
map_flags_low:
	.long 0
map_flags_high:
	.long 0

message_bad_loader:
	.asciz "canon: not started by a multiboot v1 or PVH loader\n"
message_no_long_mode:
	.asciz "canon: this CPU has no long mode (CPUID.80000001H:EDX[29])\n"
message_pool_exhausted:
	.asciz "canon: boot page-table pool exhausted\n"
message_mapped_twice:
	.asciz "canon: boot segments overlap\n"

	.section .boot.bss, "aw", @nobits
	.balign PAGE_SIZE
	.globl boot_page_table_pool
boot_page_table_pool:
	.skip 16 * PAGE_SIZE
boot_page_table_pool_end:
	.skip PAGE_SIZE
boot_stub_stack_top:

/*
 * The 64-bit entry, at the kernel's upper-half link address.  The identity
 * mapping still exists here, and is removed before any C code runs.
 */
	.section .text, "ax"
	.globl kernel_entry64
kernel_entry64:
	lgdt global_descriptor_table_register(%rip)
	mov $KERNEL_DATA_SELECTOR, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	xor %eax, %eax
	mov %eax, %fs
	mov %eax, %gs
	lea boot_kernel_stack_top(%rip), %rsp
	pushq $KERNEL_CODE_SELECTOR
	lea 1f(%rip), %rax
	push %rax
	lretq
1:	call load_interrupt_descriptors
	call remove_identity_mapping
	xor %ebp, %ebp                  /* the backtrace stops here */
	movabs $boot_handoff, %rdi
	call kernel_setup
	ud2

/*
 * Clears the leaf entries of the stub's identity mapping through the
 * self-referencing slot, then reloads CR3 to flush everything.  The address
 * of the leaf entry for V is SELF_REGION | ((V >> 9) & mask) with the low
 * three bits clear, where mask covers the 9 * levels + 3 bits below the
 * self slot's index.
 */
remove_identity_mapping:
	mov $PAGE_TABLE_SELF_SLOT, %rdx
	mov $12 + 9 * 3, %ecx
	mov %cr4, %rax
	test $CR4_LA57, %eax
	jz 1f
	add $9, %ecx
1:	shl %cl, %rdx                   /* self slot at the top-level index */
	add $9, %ecx
	mov $-1, %rax
	shl %cl, %rax                   /* sign extension above the linear width */
	or %rax, %rdx
	sub $9, %ecx
	mov $1, %r8
	shl %cl, %r8
	dec %r8                         /* mask of the bits below the slot index */
	and $~7, %r8
	mov $boot_physical_start, %esi
2:	mov %rsi, %rax
	shr $9, %rax
	and %r8, %rax
	or %rdx, %rax
	movq $0, (%rax)
	add $PAGE_SIZE, %rsi
	cmp $boot_physical_end, %rsi
	jb 2b
	mov %cr3, %rax
	mov %rax, %cr3
	ret

	.section .bss
	.balign PAGE_SIZE
boot_kernel_stack:
	.skip KERNEL_STACK_SIZE
	.globl boot_kernel_stack_top
boot_kernel_stack_top:
