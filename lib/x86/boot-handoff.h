/*
 * boot-handoff.h: what the 32-bit boot stub leaves for the 64-bit kernel.
 *
 * The loader's structures (multiboot information or the PVH start_info, the
 * command line and the memory map) sit in low physical memory that is never
 * mapped after boot.  The stub copies them here, into kernel .bss, while
 * paging is still off; the kernel parses the copies.  Offsets are fixed so
 * that the assembly stub can fill the structure.
 */
#ifndef CANON_BOOT_HANDOFF_H
#define CANON_BOOT_HANDOFF_H

#define LOADER_MULTIBOOT 1
#define LOADER_PVH 2

#define MULTIBOOT_HEADER_MAGIC 0x1badb002
#define MULTIBOOT_LOADER_MAGIC 0x2badb002
#define PVH_START_INFO_MAGIC 0x336ec578

#define HANDOFF_LOADER 0                  /* LOADER_MULTIBOOT or LOADER_PVH */
#define HANDOFF_PAGING_LEVELS 4           /* 4 or 5 */
#define HANDOFF_LA57_REQUESTED 8          /* "la57" was on the command line */
#define HANDOFF_NO_EXECUTE_ENABLED 12     /* the stub set EFER.NXE */
#define HANDOFF_INFO_PHYSICAL 16          /* where the loader's info was */
#define HANDOFF_COMMAND_LINE_PHYSICAL 20
#define HANDOFF_COMMAND_LINE_LENGTH 24    /* bytes copied, without the NUL */
#define HANDOFF_MEMORY_MAP_PHYSICAL 28
#define HANDOFF_MEMORY_MAP_LENGTH 32      /* bytes copied */
#define HANDOFF_MEMORY_MAP_ORIGINAL_LENGTH 36
#define HANDOFF_INFO 64
#define HANDOFF_INFO_SIZE 128
#define HANDOFF_COMMAND_LINE (HANDOFF_INFO + HANDOFF_INFO_SIZE)
#define HANDOFF_COMMAND_LINE_SIZE 4096
#define HANDOFF_MEMORY_MAP (HANDOFF_COMMAND_LINE + HANDOFF_COMMAND_LINE_SIZE)
#define HANDOFF_MEMORY_MAP_SIZE 4096
#define HANDOFF_SIZE (HANDOFF_MEMORY_MAP + HANDOFF_MEMORY_MAP_SIZE)

#ifndef __ASSEMBLER__
#include "types.h"

struct boot_handoff {
	u32 loader;
	u32 paging_levels;
	u32 la57_requested;
	u32 no_execute_enabled;
	u32 info_physical;
	u32 command_line_physical;
	u32 command_line_length;
	u32 memory_map_physical;
	u32 memory_map_length;
	u32 memory_map_original_length;
	u8 reserved[HANDOFF_INFO - 40];
	u8 info[HANDOFF_INFO_SIZE];
	char command_line[HANDOFF_COMMAND_LINE_SIZE];
	u8 memory_map[HANDOFF_MEMORY_MAP_SIZE];
};

_Static_assert(__builtin_offsetof(struct boot_handoff, memory_map_original_length) ==
	       HANDOFF_MEMORY_MAP_ORIGINAL_LENGTH, "handoff layout");
_Static_assert(__builtin_offsetof(struct boot_handoff, info) == HANDOFF_INFO, "handoff layout");
_Static_assert(__builtin_offsetof(struct boot_handoff, command_line) == HANDOFF_COMMAND_LINE,
	       "handoff layout");
_Static_assert(__builtin_offsetof(struct boot_handoff, memory_map) == HANDOFF_MEMORY_MAP,
	       "handoff layout");
_Static_assert(sizeof(struct boot_handoff) == HANDOFF_SIZE, "handoff layout");

extern struct boot_handoff boot_handoff;
#endif

#endif
