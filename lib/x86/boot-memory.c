/*
 * boot-memory.c: the two memory-map formats.
 *   multiboot v1 (3.3): entries of { u32 size; u64 base; u64 length; u32 type },
 *     each `size` bytes long after the size field itself;
 *   PVH (hvm_start_info version 1): entries of { u64 base; u64 size; u32 type;
 *     u32 reserved }.
 * Type 1 is RAM in both.  Without a map, multiboot's mem_upper (KiB above
 * 1 MiB) is used.
 */
#include "boot-memory.h"
#include "image.h"
#include "layout.h"
#include "memory.h"
#include "alloc/physical.h"

#define MEMORY_TYPE_RAM 1
#define MULTIBOOT_INFO_HAS_MEMORY_SIZES (1 << 0)
#define MULTIBOOT_INFO_SIZE 88
#define PVH_START_INFO_SIZE 56
#define PVH_ENTRY_SIZE 24

static void add_ram(u64 base, u64 length)
{
	u64 end = base + length;

	if (end <= PHYSICAL_ALLOCATION_FLOOR)
		return;
	if (base < PHYSICAL_ALLOCATION_FLOOR)
		base = PHYSICAL_ALLOCATION_FLOOR;
	physical_add_ram(base, end);
}

static void read_multiboot_map(const struct boot_handoff *handoff)
{
	const u8 *map = handoff->memory_map;
	u32 offset = 0;

	while (offset + 24 <= handoff->memory_map_length) {
		u32 size;
		u64 base, length;
		u32 type;

		memcpy(&size, map + offset, 4);
		memcpy(&base, map + offset + 4, 8);
		memcpy(&length, map + offset + 12, 8);
		memcpy(&type, map + offset + 20, 4);
		if (type == MEMORY_TYPE_RAM)
			add_ram(base, length);
		offset += size + 4;
	}
}

static void read_pvh_map(const struct boot_handoff *handoff)
{
	for (u32 offset = 0; offset + PVH_ENTRY_SIZE <= handoff->memory_map_length;
	     offset += PVH_ENTRY_SIZE) {
		u64 base, length;
		u32 type;

		memcpy(&base, handoff->memory_map + offset, 8);
		memcpy(&length, handoff->memory_map + offset + 8, 8);
		memcpy(&type, handoff->memory_map + offset + 16, 4);
		if (type == MEMORY_TYPE_RAM)
			add_ram(base, length);
	}
}

static void read_multiboot_sizes(const struct boot_handoff *handoff)
{
	u32 flags, upper_kib;

	memcpy(&flags, handoff->info, 4);
	memcpy(&upper_kib, handoff->info + 8, 4);
	if (flags & MULTIBOOT_INFO_HAS_MEMORY_SIZES)
		add_ram(0x100000, (u64)upper_kib * 1024);
}

void boot_memory_init(const struct boot_handoff *handoff)
{
	bool multiboot = handoff->loader == LOADER_MULTIBOOT;

	if (handoff->memory_map_length)
		(multiboot ? read_multiboot_map : read_pvh_map)(handoff);
	else if (multiboot)
		read_multiboot_sizes(handoff);

	physical_reserve(IMAGE_ADDRESS(image_load_physical_start),
			 IMAGE_ADDRESS(image_physical_end));
	physical_reserve(handoff->info_physical, handoff->info_physical +
			 (multiboot ? MULTIBOOT_INFO_SIZE : PVH_START_INFO_SIZE));
	if (handoff->command_line_physical)
		physical_reserve(handoff->command_line_physical,
				 handoff->command_line_physical + handoff->command_line_length + 1);
	if (handoff->memory_map_physical)
		physical_reserve(handoff->memory_map_physical, handoff->memory_map_physical +
				 handoff->memory_map_original_length);
}
