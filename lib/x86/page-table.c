/*
 * page-table.c: map, unmap, protect and walk through the self-referencing
 * top-level entry (layout.h).
 *
 * With the self slot S in the top-level table (level N = 4 or 5), the
 * level-L entry that translates address A sits at the linear address
 *
 *     S repeated L times in the top index positions, followed by the top
 *     N - L indexes of A, followed by A's level-L index times 8,
 *
 * that is base(L) | ((A >> 9L) & (2^(12 + 9(N - L)) - 1) & ~7), sign
 * extended.  Every paging-structure page therefore has exactly one address,
 * inside the self slot's region, and is supervisor, writable and NX there
 * because the self entry is.
 */
#include "page-table.h"
#include "layout.h"
#include "processor.h"
#include "memory.h"
#include "alloc/physical.h"

static int levels = 4;
static u64 no_execute_mask = PAGE_NO_EXECUTE;
/* Per level: the self-map base and the mask of index bits (see the top). */
static u64 self_bases[6], index_masks[6];

void page_table_init(int paging_level_count, bool no_execute_enabled)
{
	levels = paging_level_count;
	no_execute_mask = no_execute_enabled ? PAGE_NO_EXECUTE : 0;
	for (int level = 1; level <= levels; level++) {
		u64 base = 0;

		for (int k = 1; k <= level; k++)
			base |= (u64)PAGE_TABLE_SELF_SLOT << (12 + 9 * (levels - k));
		self_bases[level] = canonical_form(base);
		index_masks[level] = ((1ULL << (12 + 9 * (levels - level))) - 1) & ~7ULL;
	}
}

int paging_levels(void)
{
	return levels;
}

int linear_address_bits(void)
{
	return 12 + 9 * levels;
}

u64 canonical_form(u64 address)
{
	int shift = 64 - linear_address_bits();

	return (u64)((s64)(address << shift) >> shift);
}

bool is_canonical(u64 address)
{
	return canonical_form(address) == address;
}

u64 page_size_at_level(int level)
{
	return 1ULL << (12 + 9 * (level - 1));
}

volatile u64 *page_table_entry_pointer(int level, u64 address)
{
	return (volatile u64 *)(self_bases[level] | ((address >> (9 * level)) & index_masks[level]));
}

/* The linear address of the table that holds level's entries for address. */
static void *table_holding(int level, u64 address)
{
	return (void *)ALIGN_DOWN((u64)page_table_entry_pointer(level, address), PAGE_SIZE);
}

static bool is_leaf(int level, u64 entry)
{
	return level == 1 || ((level == 2 || level == 3) && (entry & PAGE_LARGE));
}

static u64 table_entry_flags(u64 address)
{
	return PAGE_PRESENT | PAGE_WRITABLE | (is_lower_half(address) ? PAGE_USER : 0);
}

void page_table_walk(u64 address, struct page_walk *walk)
{
	u64 user = PAGE_USER, writable = PAGE_WRITABLE, no_execute = 0;

	memset(walk, 0, sizeof(*walk));
	for (int level = levels; level >= 1; level--) {
		volatile u64 *pointer = page_table_entry_pointer(level, address);
		u64 entry = *pointer;

		walk->pointers[level] = pointer;
		walk->entries[level] = entry;
		walk->leaf_level = level;
		if (!(entry & PAGE_PRESENT))
			return;
		user &= entry;
		writable &= entry;
		no_execute |= entry & PAGE_NO_EXECUTE;
		if (is_leaf(level, entry)) {
			u64 size = page_size_at_level(level);

			walk->present = true;
			walk->physical = (entry & PAGE_ADDRESS_MASK & ~(size - 1)) | (address & (size - 1));
			walk->effective_flags = PAGE_PRESENT | user | writable | no_execute;
			return;
		}
	}
}

/* Link a zeroed table under the level entry at pointer; false if no memory. */
static bool add_table(int level, u64 address, volatile u64 *pointer)
{
	u64 frame = physical_alloc(1, PAGE_SIZE, 0);

	if (frame == PHYSICAL_ALLOCATION_FAILED)
		return false;
	*pointer = frame | table_entry_flags(address);
	/* The new table is now visible at its self-map address; clear it there. */
	memset(table_holding(level - 1, address), 0, PAGE_SIZE);
	return true;
}

/*
 * If the table under the level entry for address maps nothing (only empty
 * tables below it, left behind by unmapped small pages), free those tables
 * and return true.  Returns false, changing nothing, if any leaf remains.
 */
static bool subtree_is_empty(int level, u64 address)
{
	u64 step = page_size_at_level(level - 1);

	for (int index = 0; index < PAGE_TABLE_ENTRIES; index++) {
		u64 entry = *page_table_entry_pointer(level - 1, address + (u64)index * step);

		if (!(entry & PAGE_PRESENT))
			continue;
		if (is_leaf(level - 1, entry) || !subtree_is_empty(level - 1, address + index * step))
			return false;
	}
	return true;
}

static void free_subtree(int level, u64 address)
{
	u64 step = page_size_at_level(level - 1);

	for (int index = 0; index < PAGE_TABLE_ENTRIES; index++) {
		u64 entry = *page_table_entry_pointer(level - 1, address + (u64)index * step);

		if (entry & PAGE_PRESENT)
			free_subtree(level - 1, address + index * step);
	}
	physical_free(*page_table_entry_pointer(level, address) & PAGE_ADDRESS_MASK, 1);
}

static int level_for_size(u64 size)
{
	for (int level = 1; level <= 3; level++)
		if (size == page_size_at_level(level))
			return level;
	return 0;
}

bool page_table_map(u64 address, u64 physical, u64 size, u64 flags)
{
	int target = level_for_size(size);
	volatile u64 *pointer;

	if (!target || (address | physical) & (size - 1) || !is_canonical(address))
		return false;
	for (int level = levels; level > target; level--) {
		pointer = page_table_entry_pointer(level, address);
		if (!(*pointer & PAGE_PRESENT)) {
			if (!add_table(level, address, pointer))
				return false;
		} else if (is_leaf(level, *pointer)) {
			return false; /* inside a larger page */
		}
	}
	pointer = page_table_entry_pointer(target, address);
	if (*pointer & PAGE_PRESENT) {
		/* A large page may replace empty tables left by earlier mappings. */
		if (is_leaf(target, *pointer) || !subtree_is_empty(target, address))
			return false;
		free_subtree(target, address);
		*pointer = 0;
		flush_tlb(); /* a higher-level entry changed: drop cached structures */
	}
	flags &= ~(PAGE_ADDRESS_MASK | PAGE_LARGE);
	*pointer = physical | (flags & (no_execute_mask | 0xfff | (0xfULL << PAGE_PROTECTION_KEY_SHIFT))) |
		   PAGE_PRESENT | (target > 1 ? PAGE_LARGE : 0);
	return true;
}

u64 page_table_unmap(u64 address, u64 *size)
{
	struct page_walk walk;

	page_table_walk(address, &walk);
	if (!walk.present)
		return ~0ULL;
	*walk.pointers[walk.leaf_level] = 0;
	invalidate_page(address);
	if (size)
		*size = page_size_at_level(walk.leaf_level);
	return walk.entries[walk.leaf_level] & PAGE_ADDRESS_MASK &
	       ~(page_size_at_level(walk.leaf_level) - 1);
}

bool page_table_protect(u64 address, u64 flags)
{
	struct page_walk walk;
	u64 keep = PAGE_ADDRESS_MASK | PAGE_LARGE | PAGE_PRESENT;
	u64 entry;

	page_table_walk(address, &walk);
	if (!walk.present)
		return false;
	entry = walk.entries[walk.leaf_level] & keep;
	flags &= ~keep;
	*walk.pointers[walk.leaf_level] =
		entry | (flags & (no_execute_mask | 0xfff | (0xfULL << PAGE_PROTECTION_KEY_SHIFT)));
	invalidate_page(address);
	return true;
}

void flush_tlb(void)
{
	write_cr3(read_cr3());
}

/*
 * Recursive visit of the table at level that translates base, limited to
 * top-level indexes [first, last).  The walk so far (entries and effective
 * permissions above) travels down in walk, so a leaf costs no second walk;
 * empty entries cost one load each, which matters on hypervisors that
 * emulate every instruction.
 */
struct visit {
	page_leaf_visitor leaf;
	page_table_page_visitor table;
	void *context;
};

static void visit_level(int level, u64 base, int first, int last, struct page_walk *walk,
			const struct visit *visit)
{
	volatile u64 *table = table_holding(level, base);
	u64 step = page_size_at_level(level);
	struct page_walk above = *walk;

	for (int index = first; index < last; index++) {
		u64 entry = table[index];
		u64 address;

		if (!(entry & PAGE_PRESENT))
			continue;
		if (level == levels && index == PAGE_TABLE_SELF_SLOT)
			continue; /* the self map is not a mapping of its own */
		address = canonical_form(base + (u64)index * step);
		*walk = above;
		walk->entries[level] = entry;
		walk->pointers[level] = &table[index];
		walk->leaf_level = level;
		walk->effective_flags &= entry | ~(u64)(PAGE_USER | PAGE_WRITABLE);
		walk->effective_flags |= entry & PAGE_NO_EXECUTE;
		if (is_leaf(level, entry)) {
			walk->present = true;
			walk->physical = entry & PAGE_ADDRESS_MASK & ~(step - 1);
			if (visit->leaf)
				visit->leaf(address, step, walk, visit->context);
			continue;
		}
		if (visit->table)
			visit->table(level - 1, entry & PAGE_ADDRESS_MASK,
				     (u64)table_holding(level - 1, address), visit->context);
		visit_level(level - 1, address, 0, PAGE_TABLE_ENTRIES, walk, visit);
	}
	*walk = above;
}

static void visit_half(enum address_half half, const struct visit *visit)
{
	struct page_walk walk = { .effective_flags = PAGE_PRESENT | PAGE_USER | PAGE_WRITABLE };
	int middle = PAGE_TABLE_ENTRIES / 2;

	visit_level(levels, 0, half == UPPER_HALF ? middle : 0,
		    half == LOWER_HALF ? middle : PAGE_TABLE_ENTRIES, &walk, visit);
}

void page_table_for_each_leaf_in(enum address_half half, page_leaf_visitor leaf, void *context)
{
	struct visit visit = { .leaf = leaf, .context = context };

	visit_half(half, &visit);
}

void page_table_for_each_leaf(page_leaf_visitor leaf, void *context)
{
	page_table_for_each_leaf_in(BOTH_HALVES, leaf, context);
}

void page_table_for_each_table(page_table_page_visitor table, void *context)
{
	struct visit visit = { .table = table, .context = context };

	table(levels, read_cr3() & PAGE_ADDRESS_MASK, page_table_self_address(), context);
	visit_half(BOTH_HALVES, &visit);
}

u64 page_table_self_address(void)
{
	return self_bases[levels];
}
