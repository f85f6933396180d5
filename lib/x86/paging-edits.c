/* paging-edits.c: paging-entry edits and page pairs. */
#include "paging-edits.h"
#include "exceptions.h"
#include "layout.h"
#include "memory.h"
#include "page-table.h"
#include "printf.h"
#include "processor.h"
#include "report.h"
#include "user-access.h"
#include "vm.h"

const char *paging_entry_name(int level)
{
	static const char *const names[] = { "?", "PTE", "PDE", "PDPTE", "PML4E", "PML5E" };

	return level >= 1 && level <= 5 ? names[level] : names[0];
}

void entry_edit(struct entry_edit *edit, u64 address, int level, u64 clear, u64 set)
{
	struct page_walk walk;

	page_table_walk(address, &walk);
	if (level < walk.leaf_level || level > paging_levels() || !walk.pointers[level])
		fatal("no %s translates %#lx", paging_entry_name(level), address);
	edit->entry = walk.pointers[level];
	edit->saved = *edit->entry;
	edit->address = address;
	*edit->entry = (edit->saved & ~clear) | set;
	/* A non-leaf entry may sit in the paging-structure caches: flush all. */
	flush_tlb();
}

void entry_restore(struct entry_edit *edit)
{
	*edit->entry = edit->saved;
	flush_tlb();
}

void page_pair_alloc(struct page_pair *pair, unsigned flags, bool user_first)
{
	u64 first = (u64)vm_alloc(2 * PAGE_SIZE, VM_USER | VM_WRITE | (flags & VM_EXECUTE));

	if (!first)
		fatal("cannot allocate two user pages");
	pair->boundary = first + PAGE_SIZE;
	pair->supervisor_page = user_first ? first + PAGE_SIZE : first;
	pair->user_page = user_first ? first : first + PAGE_SIZE;
	entry_edit(&pair->split, pair->supervisor_page, 1, PAGE_USER, 0);
}

/* The bytes go in through the user address, while both pages are user. */
void page_pair_write(struct page_pair *pair, s64 offset, const void *bytes, size_t length)
{
	entry_restore(&pair->split);
	if (!copy_to_user(pair->boundary + offset, bytes, length))
		fatal("page pair write at %ld outside the pair", (long)offset);
	entry_edit(&pair->split, pair->supervisor_page, 1, PAGE_USER, 0);
}

void page_pair_free(struct page_pair *pair)
{
	entry_restore(&pair->split);
	vm_free((void *)(pair->boundary - PAGE_SIZE));
}
