/*
 * vm.c: joins the two allocators and the page tables into the API of vm.h.
 *
 * The virtual-range allocators (one per half) pick addresses; the physical
 * allocator picks frames; page-table.c maps them.  This file decides which
 * half, which page size and which permission bits, and remembers every
 * mapping so that vm_free() and the audit know what each range is.
 *
 * Fresh frames are zeroed before they are mapped anywhere, through a
 * supervisor window that maps each frame briefly (zero_frames), so that user
 * pages are never touched through their user address by the kernel.
 */
#include "vm.h"
#include "layout.h"
#include "image.h"
#include "page-table.h"
#include "processor.h"
#include "cpu-features.h"
#include "memory.h"
#include "printf.h"
#include "alloc/physical.h"
#include "alloc/virtual-range.h"

#define VM_MAX_MAPPINGS 512

static struct virtual_range_allocator user_ranges, supervisor_ranges;
/* 5-level paging only: the lower half above USER_REGION_END, for vm_reserve(). */
static struct virtual_range_allocator wide_user_ranges;
static struct vm_mapping mappings[VM_MAX_MAPPINGS];
/* One window per page size, so that a window never holds a smaller table. */
static u64 zero_windows[4]; /* indexed by level: 1 (4 KiB), 2 (2 MiB), 3 (1 GiB) */

static int level_of(u64 page_size)
{
	return page_size == HUGE_PAGE_SIZE ? 3 : page_size == LARGE_PAGE_SIZE ? 2 : 1;
}

static u64 page_flags(unsigned flags)
{
	u64 bits = 0;

	if (flags & VM_USER)
		bits |= PAGE_USER;
	if (flags & VM_WRITE)
		bits |= PAGE_WRITABLE;
	if (!(flags & VM_EXECUTE))
		bits |= PAGE_NO_EXECUTE;
	return bits;
}

static bool huge_pages_supported(void)
{
	static int supported = -1;

	if (supported < 0)
		supported = cpu_has(FEATURE_PAGE_1GB);
	return supported;
}

/* Largest page that fits at physical with count frames left. */
static u64 largest_fitting_page(u64 physical, u64 bytes)
{
	if (huge_pages_supported() && !(physical % HUGE_PAGE_SIZE) && bytes >= HUGE_PAGE_SIZE)
		return HUGE_PAGE_SIZE;
	if (!(physical % LARGE_PAGE_SIZE) && bytes >= LARGE_PAGE_SIZE)
		return LARGE_PAGE_SIZE;
	return PAGE_SIZE;
}

static void zero_frames(u64 physical, u64 count)
{
	u64 end = physical + count * PAGE_SIZE;

	while (physical < end) {
		u64 size = largest_fitting_page(physical, end - physical);
		u64 window = zero_windows[level_of(size)];

		if (!page_table_map(window, physical, size, PAGE_WRITABLE | PAGE_NO_EXECUTE))
			printf("canon: zeroing window %#lx busy\n", window);
		memset((void *)window, 0, size);
		page_table_unmap(window, NULL);
		physical += size;
	}
}

void vm_init(void)
{
	virtual_range_init(&user_ranges, "user", USER_REGION_START, USER_REGION_END, GUARD_SIZE);
	virtual_range_init(&supervisor_ranges, "supervisor", SUPERVISOR_REGION_START,
			   SUPERVISOR_REGION_END, GUARD_SIZE);
	if (paging_levels() == 5)
		virtual_range_init(&wide_user_ranges, "wide user", WIDE_USER_REGION_START,
				   WIDE_USER_REGION_END, GUARD_SIZE);
	zero_windows[1] = virtual_range_alloc(&supervisor_ranges, PAGE_SIZE, PAGE_SIZE);
	zero_windows[2] = virtual_range_alloc(&supervisor_ranges, LARGE_PAGE_SIZE, LARGE_PAGE_SIZE);
	zero_windows[3] = virtual_range_alloc(&supervisor_ranges, HUGE_PAGE_SIZE, HUGE_PAGE_SIZE);
	physical_set_zero_function(zero_frames);
}

/*
 * Mappings are kept sorted by start address, so that finding the one that
 * holds an address is a binary search: the audit asks once per leaf.
 */
static unsigned mapping_count;

static unsigned first_mapping_after(u64 address)
{
	unsigned low = 0, high = mapping_count;

	while (low < high) {
		unsigned middle = (low + high) / 2;

		if (mappings[middle].start <= address)
			low = middle + 1;
		else
			high = middle;
	}
	return low;
}

static struct vm_mapping *record_mapping(enum vm_mapping_kind kind, u64 start, u64 size,
					 u64 page_size, unsigned flags, const char *name)
{
	unsigned index = first_mapping_after(start);

	if (mapping_count == VM_MAX_MAPPINGS)
		return NULL;
	memmove(&mappings[index + 1], &mappings[index],
		(mapping_count - index) * sizeof(mappings[0]));
	mapping_count++;
	mappings[index] = (struct vm_mapping){ kind, start, size, page_size, flags, name };
	return &mappings[index];
}

static void forget_mapping(const struct vm_mapping *mapping)
{
	unsigned index = (unsigned)(mapping - mappings);

	memmove(&mappings[index], &mappings[index + 1],
		(mapping_count - index - 1) * sizeof(mappings[0]));
	mapping_count--;
}

const struct vm_mapping *vm_find_mapping(u64 address)
{
	unsigned index = first_mapping_after(address);

	if (index && address - mappings[index - 1].start < mappings[index - 1].size)
		return &mappings[index - 1];
	return NULL;
}

void vm_for_each_mapping(void (*visit)(const struct vm_mapping *mapping, void *context),
			 void *context)
{
	for (unsigned i = 0; i < mapping_count; i++)
		visit(&mappings[i], context);
}

/* Unmap [start, start + size), giving frames back when they are RAM we own. */
static void unmap_range(u64 start, u64 size, bool free_frames)
{
	for (u64 address = start; address < start + size;) {
		u64 page_size = PAGE_SIZE;
		u64 physical = page_table_unmap(address, &page_size);

		if (physical != ~0ULL && free_frames)
			physical_free(physical, page_size / PAGE_SIZE);
		address += page_size;
	}
}

/* Back [start, start + size) with fresh frames of page_size. */
static bool map_fresh(u64 start, u64 size, u64 page_size, u64 bits, unsigned physical_flags)
{
	for (u64 address = start; address < start + size; address += page_size) {
		u64 physical = physical_alloc(page_size / PAGE_SIZE, page_size, physical_flags);

		if (physical == PHYSICAL_ALLOCATION_FAILED)
			goto undo;
		if (!page_table_map(address, physical, page_size, bits)) {
			physical_free(physical, page_size / PAGE_SIZE);
			goto undo;
		}
		continue;
undo:
		unmap_range(start, address - start, true);
		return false;
	}
	return true;
}

static bool flags_are_valid(unsigned flags)
{
	return !(flags & VM_USER) != !(flags & VM_SUPERVISOR);
}

static u64 first_page_size(size_t bytes, unsigned flags)
{
	if (!(flags & VM_LARGE_PAGES))
		return PAGE_SIZE;
	if (bytes >= HUGE_PAGE_SIZE && huge_pages_supported())
		return HUGE_PAGE_SIZE;
	return bytes >= LARGE_PAGE_SIZE ? LARGE_PAGE_SIZE : PAGE_SIZE;
}

/*
 * Everything is zeroed except stacks: nothing reads a stack before writing
 * it, and zeroing costs ~0.3 ms a page on hypervisors that emulate the guest.
 */
static void *allocate(size_t bytes, unsigned flags, enum vm_mapping_kind kind, const char *name)
{
	unsigned physical_flags = kind == MAPPING_STACK ? 0 : PHYSICAL_ZERO;
	struct virtual_range_allocator *ranges;

	if (!bytes || !flags_are_valid(flags))
		return NULL;
	ranges = (flags & VM_USER) ? &user_ranges : &supervisor_ranges;
	/* Fall back to smaller pages when RAM has no aligned run left. */
	for (u64 page_size = first_page_size(bytes, flags);; page_size = level_of(page_size) == 3 ?
							       LARGE_PAGE_SIZE : PAGE_SIZE) {
		u64 size = ALIGN_UP((u64)bytes, page_size);
		u64 start = virtual_range_alloc(ranges, size, page_size);

		if (start == VIRTUAL_RANGE_FAILED)
			return NULL;
		if (map_fresh(start, size, page_size, page_flags(flags), physical_flags)) {
			if (record_mapping(kind, start, size, page_size, flags, name))
				return (void *)start;
			unmap_range(start, size, true);
			virtual_range_free(ranges, start, size);
			return NULL;
		}
		virtual_range_free(ranges, start, size);
		if (page_size == PAGE_SIZE)
			return NULL;
	}
}

void *vm_alloc(size_t bytes, unsigned flags)
{
	return allocate(bytes, flags, MAPPING_ALLOCATION, NULL);
}

u64 vm_alloc_stack(const char *name, size_t bytes)
{
	u64 bottom = (u64)allocate(bytes, VM_SUPERVISOR | VM_WRITE, MAPPING_STACK, name);

	return bottom ? bottom + ALIGN_UP((u64)bytes, PAGE_SIZE) : 0;
}

static struct virtual_range_allocator *region_of(u64 address)
{
	if (virtual_range_contains(&user_ranges, address))
		return &user_ranges;
	if (virtual_range_contains(&supervisor_ranges, address))
		return &supervisor_ranges;
	if (paging_levels() == 5 && virtual_range_contains(&wide_user_ranges, address))
		return &wide_user_ranges;
	return NULL;
}

void vm_free(void *address)
{
	struct vm_mapping *mapping = (struct vm_mapping *)vm_find_mapping((u64)address);
	struct virtual_range_allocator *ranges;

	if (!mapping)
		return;
	/* A reservation's owner has unmapped its pages; walking it all could take hours. */
	if (mapping->kind != MAPPING_RESERVED)
		unmap_range(mapping->start, mapping->size, mapping->kind != MAPPING_PHYSICAL);
	ranges = region_of(mapping->start);
	if (ranges && mapping->kind == MAPPING_FIXED)
		virtual_range_release(ranges, mapping->start, mapping->size);
	else if (ranges)
		virtual_range_free(ranges, mapping->start, mapping->size);
	forget_mapping(mapping);
}

bool vm_protect(void *address, size_t bytes, unsigned flags)
{
	struct vm_mapping *mapping = (struct vm_mapping *)vm_find_mapping((u64)address);
	u64 start = (u64)address, end = start + bytes;

	if (!mapping || mapping->kind == MAPPING_PHYSICAL || mapping->kind == MAPPING_RESERVED ||
	    !flags_are_valid(flags) ||
	    (flags & VM_USER) != (mapping->flags & VM_USER) ||
	    start % mapping->page_size || end % mapping->page_size ||
	    end > mapping->start + mapping->size)
		return false;
	for (u64 page = start; page < end; page += mapping->page_size)
		if (!page_table_protect(page, page_flags(flags)))
			return false;
	if (start == mapping->start && end == mapping->start + mapping->size)
		mapping->flags = flags;
	return true;
}

void *vm_map_fixed(u64 address, size_t bytes, unsigned flags, const char *reason)
{
	u64 size = ALIGN_UP((u64)bytes, PAGE_SIZE);
	struct virtual_range_allocator *ranges = region_of(address);

	/* Fixed user memory stays in the lower half: the upper half is supervisor. */
	if (!bytes || address % PAGE_SIZE || !flags_are_valid(flags) || !is_canonical(address) ||
	    !is_canonical(address + size - 1) || ((flags & VM_USER) && !is_lower_half(address)) ||
	    is_lower_half(address) != is_lower_half(address + size - 1) || !reason)
		return NULL;
	if (ranges && !virtual_range_reserve(ranges, address, size))
		return NULL;
	if (map_fresh(address, size, PAGE_SIZE, page_flags(flags), PHYSICAL_ZERO) &&
	    record_mapping(MAPPING_FIXED, address, size, PAGE_SIZE, flags, reason))
		return (void *)address;
	unmap_range(address, size, true);
	if (ranges)
		virtual_range_release(ranges, address, size);
	return NULL;
}

void *vm_reserve(u64 bytes, u64 alignment, unsigned flags, const char *reason)
{
	struct virtual_range_allocator *ranges = (flags & VM_USER) ? &user_ranges : &supervisor_ranges;
	u64 size = ALIGN_UP(bytes, PAGE_SIZE), start;

	if (!bytes || !reason || !flags_are_valid(flags) || !alignment || alignment % PAGE_SIZE)
		return NULL;
	start = virtual_range_alloc(ranges, size, alignment);
	if (start == VIRTUAL_RANGE_FAILED && (flags & VM_USER) && paging_levels() == 5) {
		ranges = &wide_user_ranges;
		start = virtual_range_alloc(ranges, size, alignment);
	}
	if (start == VIRTUAL_RANGE_FAILED)
		return NULL;
	if (!record_mapping(MAPPING_RESERVED, start, size, PAGE_SIZE, flags, reason)) {
		virtual_range_free(ranges, start, size);
		return NULL;
	}
	return (void *)start;
}

static bool is_image_frame(u64 physical)
{
	return physical >= IMAGE_ADDRESS(image_load_physical_start) &&
	       physical < IMAGE_ADDRESS(image_physical_end);
}

void *vm_map_physical(u64 physical, size_t bytes, unsigned flags)
{
	u64 first = ALIGN_DOWN(physical, PAGE_SIZE);
	u64 size = ALIGN_UP(physical + bytes, PAGE_SIZE) - first;
	u64 start;

	/* Never a second mapping of RAM: that would alias memory mapped elsewhere. */
	for (u64 frame = first; frame < first + size; frame += PAGE_SIZE)
		if (physical_is_ram(frame) || is_image_frame(frame))
			return NULL;
	if (!bytes || !(flags & VM_SUPERVISOR) || (flags & (VM_USER | VM_EXECUTE)))
		return NULL;
	start = virtual_range_alloc(&supervisor_ranges, size, PAGE_SIZE);
	if (start == VIRTUAL_RANGE_FAILED)
		return NULL;
	for (u64 offset = 0; offset < size; offset += PAGE_SIZE) {
		if (!page_table_map(start + offset, first + offset, PAGE_SIZE, page_flags(flags))) {
			unmap_range(start, offset, false);
			virtual_range_free(&supervisor_ranges, start, size);
			return NULL;
		}
	}
	if (!record_mapping(MAPPING_PHYSICAL, start, size, PAGE_SIZE, flags, NULL)) {
		unmap_range(start, size, false);
		virtual_range_free(&supervisor_ranges, start, size);
		return NULL;
	}
	return (void *)(start + physical - first);
}

const char *vm_stack_guard_owner(u64 address)
{
	unsigned index = first_mapping_after(address);

	/* A guard page sits just below the start of the mapping that follows it. */
	if (index < mapping_count && mappings[index].kind == MAPPING_STACK &&
	    address >= mappings[index].start - GUARD_SIZE)
		return mappings[index].name;
	return NULL;
}

static const char *image_section_of(u64 address)
{
	static const struct {
		const char *name;
		char *start, *end;
	} sections[] = {
		{ "kernel text", kernel_text_start, kernel_text_end },
		{ "kernel read-only data", kernel_rodata_start, kernel_rodata_end },
		{ "kernel data", kernel_data_start, kernel_data_end },
		{ "kernel bss", kernel_bss_start, kernel_bss_end },
		{ "user text", user_text_start, user_text_end },
		{ "user read-only data", user_rodata_start, user_rodata_end },
		{ "user data", user_data_start, user_data_end },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(sections); i++)
		if (address >= IMAGE_ADDRESS(sections[i].start) &&
		    address < IMAGE_ADDRESS(sections[i].end))
			return sections[i].name;
	return NULL;
}

static const char *const kind_names[] = {
	[MAPPING_ALLOCATION] = "allocation",
	[MAPPING_STACK] = "stack",
	[MAPPING_FIXED] = "fixed mapping",
	[MAPPING_PHYSICAL] = "firmware mapping",
	[MAPPING_RESERVED] = "reservation",
};

const char *vm_describe_address(u64 address, char *buffer, size_t size)
{
	const struct vm_mapping *mapping = vm_find_mapping(address);
	const char *section = image_section_of(address);
	const char *stack = vm_stack_guard_owner(address);

	if (section)
		snprintf(buffer, size, "%s", section);
	else if (mapping)
		snprintf(buffer, size, "%s %s %#lx+%#lx%s%s",
			 mapping->flags & VM_USER ? "user" : "supervisor", kind_names[mapping->kind],
			 mapping->start, mapping->size, mapping->name ? ": " : "",
			 mapping->name ? mapping->name : "");
	else if (stack)
		snprintf(buffer, size, "guard page below the %s stack", stack);
	else if (!is_canonical(address))
		snprintf(buffer, size, "non-canonical");
	else
		snprintf(buffer, size, "not mapped by the kernel");
	return buffer;
}
