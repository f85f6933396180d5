/*
 * page-table.h: 4-level and 5-level page tables (SDM Vol. 3A 4.5).
 *
 * Map, unmap, change protection and walk.  Paging-structure pages come from
 * the physical page allocator and are reached only through the
 * self-referencing top-level entry (layout.h: PAGE_TABLE_SELF_SLOT), so no
 * page table is ever mapped anywhere else.
 *
 * Permissions live in the leaf.  Non-leaf entries are always writable and
 * executable; they carry U/S=1 in the lower half and U/S=0 in the upper half,
 * so every user page is user "all the way down" and no supervisor page can
 * be reached from CPL 3.
 */
#ifndef CANON_PAGE_TABLE_H
#define CANON_PAGE_TABLE_H

#define PAGE_PRESENT 0x1
#define PAGE_WRITABLE 0x2
#define PAGE_USER 0x4
#define PAGE_WRITE_THROUGH 0x8
#define PAGE_CACHE_DISABLE 0x10
#define PAGE_ACCESSED 0x20
#define PAGE_DIRTY 0x40
#define PAGE_LARGE 0x80 /* PS: this entry maps a 2 MiB or 1 GiB page */
#define PAGE_GLOBAL 0x100
#define PAGE_NO_EXECUTE_HIGH 0x80000000 /* bit 63, as seen in the high dword */

/* Page-fault error code (SDM Vol. 3A 4.7). */
#define PAGE_FAULT_PRESENT 0x1
#define PAGE_FAULT_WRITE 0x2
#define PAGE_FAULT_USER 0x4
#define PAGE_FAULT_RESERVED 0x8
#define PAGE_FAULT_FETCH 0x10
#define PAGE_FAULT_PROTECTION_KEY 0x20
#define PAGE_FAULT_SHADOW_STACK 0x40

#ifndef __ASSEMBLER__
#include "types.h"

#define PAGE_NO_EXECUTE BIT(63)
#define PAGE_PROTECTION_KEY_SHIFT 59
#define PAGE_ADDRESS_MASK 0x000ffffffffff000ULL
#define PAGE_TABLE_ENTRIES 512

/* Record the paging mode the boot stub chose, and whether EFER.NXE is on. */
void page_table_init(int levels, bool no_execute_enabled);
/* Paging mode: 4 or 5 levels. */
int paging_levels(void);
/* Bits of linear address that paging translates: 48 or 57. */
int linear_address_bits(void);
/* True when address is canonical for the current paging mode. */
bool is_canonical(u64 address);
/* Sign-extend from the current linear-address width. */
u64 canonical_form(u64 address);
/* True for addresses in the lower (user) half. */
static inline bool is_lower_half(u64 address) { return (s64)address >= 0; }

/* Size of the page a leaf at level maps: 4 KiB, 2 MiB or 1 GiB. */
u64 page_size_at_level(int level);

/*
 * The address, through the self-referencing entry, of the level-N entry
 * (1: PTE ... 5: PML5E) that translates address.  Only meaningful when the
 * table holding that entry exists.
 */
volatile u64 *page_table_entry_pointer(int level, u64 address);

/* What a walk found; entries[level] is valid for levels top..leaf_level. */
struct page_walk {
	int leaf_level;      /* level of the last entry read */
	bool present;        /* that entry maps a page */
	u64 entries[6];      /* entries[1..5]; 0 where the walk stopped above */
	volatile u64 *pointers[6];
	u64 physical;        /* translated physical address when present */
	u64 effective_flags; /* U/S and R/W ANDed, NX ORed down the walk */
};

void page_table_walk(u64 address, struct page_walk *walk);

/*
 * Map one page of size 4 KiB, 2 MiB or 1 GiB.  flags are the leaf's
 * permission bits (PAGE_WRITABLE, PAGE_USER, PAGE_NO_EXECUTE, ...); PRESENT
 * and, for large pages, PAGE_LARGE are added here.  Returns false when the
 * address is already mapped or a table cannot be allocated.
 */
bool page_table_map(u64 address, u64 physical, u64 size, u64 flags);
/* Remove the leaf translating address; returns its physical address, or ~0. */
u64 page_table_unmap(u64 address, u64 *size);
/* Replace the leaf's permission bits; returns false when nothing is mapped. */
bool page_table_protect(u64 address, u64 flags);

/* Flush every non-global translation and paging-structure cache entry. */
void flush_tlb(void);

/* The top-level table's own address, through the self map. */
u64 page_table_self_address(void);

/* Visit every present leaf in address order (the self map is skipped). */
typedef void (*page_leaf_visitor)(u64 address, u64 size, const struct page_walk *walk,
				  void *context);
void page_table_for_each_leaf(page_leaf_visitor visit, void *context);
/* The same, for one half only: cheaper when the other half is large. */
enum address_half { LOWER_HALF, UPPER_HALF, BOTH_HALVES };
void page_table_for_each_leaf_in(enum address_half half, page_leaf_visitor visit, void *context);
/* Visit every paging-structure page: level, frame, and its self-map address. */
typedef void (*page_table_page_visitor)(int level, u64 physical, u64 address, void *context);
void page_table_for_each_table(page_table_page_visitor visit, void *context);
#endif

#endif
