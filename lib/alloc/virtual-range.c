/* virtual-range.c: a sorted array of free ranges, first fit, merged on free. */
#include "virtual-range.h"
#include "memory.h"

void virtual_range_init(struct virtual_range_allocator *allocator, const char *name, u64 start,
			u64 end, u64 guard)
{
	memset(allocator, 0, sizeof(*allocator));
	allocator->name = name;
	allocator->start = start;
	allocator->end = end;
	allocator->guard = guard;
	allocator->free[0].start = start;
	allocator->free[0].end = end;
	allocator->free_count = 1;
}

static void remove_free(struct virtual_range_allocator *allocator, unsigned index)
{
	memmove(&allocator->free[index], &allocator->free[index + 1],
		(allocator->free_count - index - 1) * sizeof(allocator->free[0]));
	allocator->free_count--;
}

static bool insert_free(struct virtual_range_allocator *allocator, unsigned index, u64 start,
			u64 end)
{
	if (allocator->free_count == VIRTUAL_RANGE_MAX_FREE)
		return false;
	memmove(&allocator->free[index + 1], &allocator->free[index],
		(allocator->free_count - index) * sizeof(allocator->free[0]));
	allocator->free[index].start = start;
	allocator->free[index].end = end;
	allocator->free_count++;
	return true;
}

/* Remove [start, end), which lies inside free range index, from the free set. */
static bool take(struct virtual_range_allocator *allocator, unsigned index, u64 start, u64 end)
{
	struct free_range *range = &allocator->free[index];
	u64 range_end = range->end;

	if (start == range->start && end == range_end) {
		remove_free(allocator, index);
		return true;
	}
	if (start == range->start) {
		range->start = end;
		return true;
	}
	range->end = start;
	if (end == range_end)
		return true;
	if (insert_free(allocator, index + 1, end, range_end))
		return true;
	range->end = range_end; /* no room to split: undo */
	return false;
}

u64 virtual_range_alloc(struct virtual_range_allocator *allocator, u64 size, u64 alignment)
{
	u64 guard = allocator->guard;

	if (!size)
		return VIRTUAL_RANGE_FAILED;
	for (unsigned i = 0; i < allocator->free_count; i++) {
		struct free_range *range = &allocator->free[i];
		u64 usable = ALIGN_UP(range->start + guard, alignment);

		if (usable < range->start || usable + size < usable || usable + size > range->end)
			continue;
		if (!take(allocator, i, usable - guard, usable + size))
			return VIRTUAL_RANGE_FAILED;
		return usable;
	}
	return VIRTUAL_RANGE_FAILED;
}

bool virtual_range_reserve(struct virtual_range_allocator *allocator, u64 address, u64 size)
{
	for (unsigned i = 0; i < allocator->free_count; i++) {
		struct free_range *range = &allocator->free[i];

		if (address >= range->start && address + size <= range->end)
			return take(allocator, i, address, address + size);
	}
	return false;
}

bool virtual_range_release(struct virtual_range_allocator *allocator, u64 start, u64 size)
{
	u64 end = start + size;
	unsigned index = 0;

	if (start < allocator->start || end > allocator->end || end <= start)
		return false;
	while (index < allocator->free_count && allocator->free[index].start < start)
		index++;
	/* Overlap with a free neighbour means this range was not taken. */
	if (index > 0 && allocator->free[index - 1].end > start)
		return false;
	if (index < allocator->free_count && allocator->free[index].start < end)
		return false;

	bool merge_below = index > 0 && allocator->free[index - 1].end == start;
	bool merge_above = index < allocator->free_count && allocator->free[index].start == end;

	if (merge_below && merge_above) {
		allocator->free[index - 1].end = allocator->free[index].end;
		remove_free(allocator, index);
	} else if (merge_below) {
		allocator->free[index - 1].end = end;
	} else if (merge_above) {
		allocator->free[index].start = start;
	} else {
		return insert_free(allocator, index, start, end);
	}
	return true;
}

bool virtual_range_free(struct virtual_range_allocator *allocator, u64 address, u64 size)
{
	return virtual_range_release(allocator, address - allocator->guard, size + allocator->guard);
}

bool virtual_range_contains(const struct virtual_range_allocator *allocator, u64 address)
{
	return address >= allocator->start && address < allocator->end;
}

u64 virtual_range_free_bytes(const struct virtual_range_allocator *allocator)
{
	u64 total = 0;

	for (unsigned i = 0; i < allocator->free_count; i++)
		total += allocator->free[i].end - allocator->free[i].start;
	return total;
}
