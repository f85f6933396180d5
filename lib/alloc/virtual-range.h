/*
 * virtual-range.h: an allocator of address ranges, and nothing else.
 *
 * It hands out page-aligned ranges from [start, end), first fit, with the
 * requested alignment, and keeps an unmapped guard of `guard` bytes below
 * every range it hands out, so that two neighbours never touch.  It knows
 * nothing of page tables: the caller maps what it gets.  Freed ranges are
 * merged with free neighbours.
 */
#ifndef CANON_VIRTUAL_RANGE_H
#define CANON_VIRTUAL_RANGE_H

#include "types.h"

#define VIRTUAL_RANGE_FAILED 0
#define VIRTUAL_RANGE_MAX_FREE 128

struct free_range {
	u64 start, end;
};

struct virtual_range_allocator {
	const char *name;
	u64 start, end, guard;
	unsigned free_count;
	struct free_range free[VIRTUAL_RANGE_MAX_FREE]; /* sorted, disjoint, not adjacent */
};

void virtual_range_init(struct virtual_range_allocator *allocator, const char *name, u64 start,
			u64 end, u64 guard);
/* Start of a free range of size bytes aligned to alignment, or _FAILED. */
u64 virtual_range_alloc(struct virtual_range_allocator *allocator, u64 size, u64 alignment);
/* Take exactly [address, address + size) (no guard); false if any is taken. */
bool virtual_range_reserve(struct virtual_range_allocator *allocator, u64 address, u64 size);
/* Give back a range from _alloc (with its guard); false if it was not taken. */
bool virtual_range_free(struct virtual_range_allocator *allocator, u64 address, u64 size);
/* Give back a range from _reserve. */
bool virtual_range_release(struct virtual_range_allocator *allocator, u64 address, u64 size);
bool virtual_range_contains(const struct virtual_range_allocator *allocator, u64 address);
u64 virtual_range_free_bytes(const struct virtual_range_allocator *allocator);

#endif
