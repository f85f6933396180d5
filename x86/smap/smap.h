/* smap.h: what the parts of the smap test share: its pages and its checks. */
#ifndef CANON_SMAP_H
#define CANON_SMAP_H

#include "types.h"
#include "paging-edits.h"

#define DATA_OFFSET 0x88 /* so that CR2 is not page-aligned */
#define DATA_MAGIC 0x5a5a0000c0ffee00ull

/* The pages set_up() makes (smap.c); tests never choose their addresses. */
struct smap_pages {
	u64 data_page;                   /* user, writable: DATA_MAGIC at DATA_OFFSET */
	u64 read_only_page;              /* user, read-only: DATA_MAGIC at DATA_OFFSET */
	u64 code_page;                   /* user, executable: magic_function */
	struct page_pair pair;           /* supervisor page, then user page */
	struct page_pair reversed_pair;  /* user page, then supervisor page */
};
extern struct smap_pages pages;

/* access-flag.c: string copies, fetches, CPL 3, and EFLAGS.AC itself. */
void check_rep_movsb_reading_across(bool ac);
void check_rep_movsb_writing_across(void);
void check_fetch_not_affected(void);
void check_cpl3_not_affected(void);
void check_popf_at_cpl0(void);
void check_ac_does_not_reach_ring3(const char *name, unsigned entry);
void check_popf_at_cpl3(void);
void check_syscall_clears_ac(void);
void check_stac_and_clac(void);

/* implicit.c: descriptor-table and TSS reads from user pages. */
void check_ldt_in_user_page(void);
void check_gdt_across_pages(void);
void check_idt_gate_in_user_page(void);
void check_page_fault_gate_in_user_page(void);
void check_ist_slot_in_user_page(void);
void check_io_map_base_in_user_page(void);

#endif
