/*
 * paging-edits.h: changing one paging-structure entry for the length of a
 * case, and building a supervisor page next to a user page.
 *
 *  - entry_edit changes one paging-structure entry (any level) of one
 *    address and puts it back afterwards.
 *  - page_pair is two adjacent lower-half pages, one made supervisor (U/S=0
 *    in its PTE) and the other left user: the only way to build an access,
 *    a fetch or a descriptor table that crosses between supervisor and user
 *    memory, since the two halves of the address space are far apart.
 */
#ifndef CANON_PAGING_EDITS_H
#define CANON_PAGING_EDITS_H

#include "types.h"

/* Levels 1-5: "PTE", "PDE", "PDPTE", "PML4E", "PML5E". */
const char *paging_entry_name(int level);

/* One changed paging-structure entry, and what it held before. */
struct entry_edit {
	volatile u64 *entry;
	u64 saved;
	u64 address;
};

/*
 * In the level-N entry that translates address, clear then set bits, and
 * flush the TLB.  The entry must exist (level at or above the leaf).
 */
void entry_edit(struct entry_edit *edit, u64 address, int level, u64 clear, u64 set);
void entry_restore(struct entry_edit *edit);

struct page_pair {
	u64 boundary;        /* the second page; the first is boundary - PAGE_SIZE */
	u64 supervisor_page; /* lower half, U/S=0 in its PTE only */
	u64 user_page;       /* U/S=1 all the way down */
	struct entry_edit split;
};

/*
 * Two fresh adjacent user pages (VM_WRITE is implied, VM_EXECUTE optional);
 * the first is made supervisor, or the second when user_first.
 */
void page_pair_alloc(struct page_pair *pair, unsigned flags, bool user_first);
/* Write bytes at boundary + offset (offset < 0 is in the first page). */
void page_pair_write(struct page_pair *pair, s64 offset, const void *bytes, size_t length);
void page_pair_free(struct page_pair *pair);

#endif
