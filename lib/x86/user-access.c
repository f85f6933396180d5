/* user-access.c: range checks, then one copy with EFLAGS.AC set by POPF. */
#include "user-access.h"
#include "layout.h"
#include "memory.h"
#include "page-table.h"
#include "processor.h"

static bool is_user_range(u64 address, size_t length, bool write)
{
	u64 last = address + length - 1;

	if (!length)
		return true;
	if (last < address || !is_lower_half(address) || !is_lower_half(last))
		return false;
	for (u64 page = ALIGN_DOWN(address, PAGE_SIZE); page <= last; page += PAGE_SIZE) {
		struct page_walk walk;

		page_table_walk(page, &walk);
		if (!walk.present || !(walk.effective_flags & PAGE_USER) ||
		    (write && !(walk.effective_flags & PAGE_WRITABLE)))
			return false;
	}
	return true;
}

/* The copy itself, with SMAP's override (EFLAGS.AC) open only around it. */
static void copy_with_user_access(void *destination, const void *source, size_t length)
{
	u64 flags = set_alignment_check(true);

	memcpy(destination, source, length);
	write_rflags(flags);
}

bool copy_from_user(void *destination, u64 user_source, size_t length)
{
	if (!is_user_range(user_source, length, false))
		return false;
	copy_with_user_access(destination, (const void *)user_source, length);
	return true;
}

bool copy_to_user(u64 user_destination, const void *source, size_t length)
{
	if (!is_user_range(user_destination, length, true))
		return false;
	copy_with_user_access((void *)user_destination, source, length);
	return true;
}
