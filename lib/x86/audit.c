/*
 * audit.c: one walk over the page tables, checking the invariants listed in
 * audit.h, plus a compact printed map of the address space.
 */
#include "audit.h"
#include "cpu-features.h"
#include "image.h"
#include "layout.h"
#include "memory.h"
#include "page-table.h"
#include "printf.h"
#include "processor.h"
#include "vm.h"
#include "alloc/physical.h"

#define MAX_TABLES 1024
#define MAX_REPORTED 16 /* violations printed in full; the rest are counted */

struct image_section {
	const char *name;
	char *start, *end;
	bool user, writable, executable;
};

static const struct image_section image_sections[] = {
	{ "kernel text", kernel_text_start, kernel_text_end, false, false, true },
	{ "kernel read-only data", kernel_rodata_start, kernel_rodata_end, false, false, false },
	{ "kernel data", kernel_data_start, kernel_data_end, false, true, false },
	{ "kernel bss", kernel_bss_start, kernel_bss_end, false, true, false },
	{ "user text", user_text_start, user_text_end, true, false, true },
	{ "user read-only data", user_rodata_start, user_rodata_end, true, false, false },
	{ "user data", user_data_start, user_data_end, true, true, false },
};

struct audit_state {
	struct audit_result result;
	u64 tables[MAX_TABLES];
	unsigned table_count;
	u64 *seen_frames;       /* one bit per frame below seen_limit */
	bool cpu_has_nx;        /* read once: CPUID exits under a hypervisor */
	bool no_execute_enabled; /* EFER.NXE, read once: so does RDMSR */
	u64 seen_limit;
};

/* Frames already seen by this walk; cleared only as far as RAM reaches. */
static u64 seen_frame_bitmap[PHYSICAL_MEMORY_LIMIT / PAGE_SIZE / 64];

static void violation(struct audit_state *state, u64 address, const char *what)
{
	if (!state->result.violations)
		state->result.first_violation = address;
	state->result.last_violation = address;
	if (state->result.violations++ < MAX_REPORTED)
		printf("audit: %#lx: %s\n", address, what);
}

static void collect_table(int level, u64 physical, u64 address, void *context)
{
	struct audit_state *state = context;

	if (state->table_count < MAX_TABLES)
		state->tables[state->table_count++] = physical;
	state->result.tables++;
}

static bool is_table_frame(const struct audit_state *state, u64 start, u64 size)
{
	for (unsigned i = 0; i < state->table_count; i++)
		if (state->tables[i] >= start && state->tables[i] - start < size)
			return true;
	return false;
}

static const struct image_section *section_of(u64 address)
{
	for (unsigned i = 0; i < ARRAY_SIZE(image_sections); i++)
		if (address >= (u64)image_sections[i].start && address < (u64)image_sections[i].end)
			return &image_sections[i];
	return NULL;
}

static bool user_at_every_level(const struct page_walk *walk)
{
	for (int level = paging_levels(); level >= walk->leaf_level; level--)
		if (!(walk->entries[level] & PAGE_USER))
			return false;
	return true;
}

/*
 * The section's rights in its own leaf entry, not only in the effective
 * rights: a read-only or non-executable page whose leaf says otherwise is
 * one upper-level change away from being writable or executable.
 */
static void check_section_leaf(struct audit_state *state, u64 address, const struct page_walk *walk,
			       const struct image_section *section)
{
	u64 leaf = walk->entries[walk->leaf_level];

	if (!section->writable && (leaf & PAGE_WRITABLE))
		violation(state, address, "image text or read-only data has R/W=1 in its leaf entry");
	if (!section->executable && state->no_execute_enabled && !(leaf & PAGE_NO_EXECUTE))
		violation(state, address, "image data has XD=0 in its leaf entry");
}

static void check_section(struct audit_state *state, u64 address, const struct page_walk *walk,
			  const struct image_section *section)
{
	u64 flags = walk->effective_flags;
	bool executable = !(flags & PAGE_NO_EXECUTE) || !state->no_execute_enabled;

	if (!!(flags & PAGE_USER) != section->user)
		violation(state, address, section->user ? "user image page is supervisor" :
							  "kernel image page is user-accessible");
	if (!!(flags & PAGE_WRITABLE) != section->writable)
		violation(state, address, section->writable ? "image data is read-only" :
							      "image text or read-only data is writable");
	/* Without NX in CPUID nothing can be made non-executable. */
	if (executable != section->executable && (section->executable || state->cpu_has_nx))
		violation(state, address, section->executable ? "image text is not executable" :
								"image data is executable");
	check_section_leaf(state, address, walk, section);
}

/* Supervisor memory has U/S=0 in every entry above it too, not only in effect. */
static void check_upper_half_entries(struct audit_state *state, u64 address,
				     const struct page_walk *walk)
{
	for (int level = paging_levels(); level >= walk->leaf_level; level--) {
		if (walk->entries[level] & PAGE_USER) {
			violation(state, address, "an upper-half paging-structure entry has U/S=1");
			return;
		}
	}
}

static void check_frames(struct audit_state *state, u64 address, u64 size, u64 physical)
{
	if (is_table_frame(state, physical, size))
		violation(state, address, "maps a page-table page outside the self map");
	for (u64 frame = physical / PAGE_SIZE; frame < (physical + size) / PAGE_SIZE; frame++) {
		u64 bit = 1ULL << (frame % 64);

		if (frame >= state->seen_limit)
			break; /* device memory above RAM: not tracked */
		if (state->seen_frames[frame / 64] & bit) {
			violation(state, address, "maps a frame that is mapped elsewhere too");
			break;
		}
		state->seen_frames[frame / 64] |= bit;
	}
}

static void audit_leaf(u64 address, u64 size, const struct page_walk *walk, void *context)
{
	struct audit_state *state = context;
	const struct vm_mapping *mapping = vm_find_mapping(address);
	const struct image_section *section = section_of(address);

	state->result.leaves++;
	state->result.mapped_bytes += size;
	if (!is_lower_half(address) && (walk->effective_flags & PAGE_USER))
		violation(state, address, "upper-half page is user-accessible");
	if (!is_lower_half(address))
		check_upper_half_entries(state, address, walk);
	if (is_lower_half(address) && !user_at_every_level(walk) &&
	    !(mapping && (mapping->kind == MAPPING_FIXED || mapping->kind == MAPPING_RESERVED)))
		violation(state, address, "lower-half page is not user at every level");
	if (section)
		check_section(state, address, walk, section);
	else if (!mapping)
		violation(state, address, "mapping that no image section or vm mapping owns");
	check_frames(state, address, size, walk->physical);
}

static void check_self_entry(struct audit_state *state)
{
	u64 self = *page_table_entry_pointer(paging_levels(), page_table_self_address());
	u64 expected_no_execute = state->no_execute_enabled ? PAGE_NO_EXECUTE : 0;

	if ((self & PAGE_ADDRESS_MASK) != (read_cr3() & PAGE_ADDRESS_MASK))
		violation(state, page_table_self_address(), "self entry does not point at CR3");
	if (self & PAGE_USER)
		violation(state, page_table_self_address(), "self entry is user-accessible");
	if ((self & PAGE_NO_EXECUTE) != expected_no_execute)
		violation(state, page_table_self_address(), "self entry is executable");
}

static void count_fixed(const struct vm_mapping *mapping, void *context)
{
	struct audit_state *state = context;

	if (mapping->kind == MAPPING_FIXED)
		state->result.fixed++;
}

struct audit_result page_table_audit(void)
{
	static struct audit_state state;

	memset(&state, 0, sizeof(state));
	state.seen_frames = seen_frame_bitmap;
	state.cpu_has_nx = cpu_has(FEATURE_NX);
	state.no_execute_enabled = read_msr(MSR_EFER) & EFER_NO_EXECUTE_ENABLE;
	state.seen_limit = physical_ram_end() / PAGE_SIZE;
	memset(seen_frame_bitmap, 0, ALIGN_UP(state.seen_limit, 64) / 8);
	page_table_for_each_table(collect_table, &state);
	if (state.table_count == MAX_TABLES)
		violation(&state, 0, "more page tables than the audit can track");
	page_table_for_each_leaf(audit_leaf, &state);
	check_self_entry(&state);
	vm_for_each_mapping(count_fixed, &state);
	return state.result;
}

/* The map printer merges neighbouring leaves with the same owner and rights. */
struct map_range {
	u64 start, end, flags;
	char owner[96];
};

static void print_range(const struct map_range *range)
{
	u64 size = range->end - range->start;

	printf("  %016lx-%016lx %4lu%c %c%c%c %-10s %s\n", range->start, range->end,
	       size >= (1UL << 30) ? size >> 30 : size >= (1UL << 20) ? size >> 20 : size >> 10,
	       size >= (1UL << 30) ? 'G' : size >= (1UL << 20) ? 'M' : 'K', 'r',
	       range->flags & PAGE_WRITABLE ? 'w' : '-', range->flags & PAGE_NO_EXECUTE ? '-' : 'x',
	       range->flags & PAGE_USER ? "user" : "supervisor", range->owner);
}

static void map_leaf(u64 address, u64 size, const struct page_walk *walk, void *context)
{
	struct map_range *range = context;
	static const char *const kinds[] = { "allocation", "stack", "fixed", "firmware", "reserved" };
	char owner[96];
	u64 flags = walk->effective_flags & (PAGE_USER | PAGE_WRITABLE | PAGE_NO_EXECUTE);
	const struct vm_mapping *mapping = vm_find_mapping(address);

	if (mapping)
		snprintf(owner, sizeof(owner), "%s%s%s", kinds[mapping->kind],
			 mapping->name ? ": " : "", mapping->name ? mapping->name : "");
	else
		vm_describe_address(address, owner, sizeof(owner));
	if (range->end == address && range->flags == flags && !strcmp(range->owner, owner)) {
		range->end += size;
		return;
	}
	if (range->end)
		print_range(range);
	range->start = address;
	range->end = address + size;
	range->flags = flags;
	memcpy(range->owner, owner, sizeof(owner));
}

static void print_fixed(const struct vm_mapping *mapping, void *context)
{
	if (mapping->kind == MAPPING_FIXED)
		printf("  fixed %#lx+%#lx: %s\n", mapping->start, mapping->size, mapping->name);
}

void page_table_print_map(void)
{
	struct map_range range = { 0 };

	printf("Address space (%d-level paging):\n", paging_levels());
	page_table_for_each_leaf(map_leaf, &range);
	if (range.end)
		print_range(&range);
	vm_for_each_mapping(print_fixed, NULL);
}
