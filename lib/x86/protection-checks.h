/*
 * protection-checks.h: what the paging-protection tests (smep, smap, umip,
 * wp-nx) share.
 *
 *  - Outcomes are compared with check_outcome() (exceptions.h).
 *  - entry_edit changes one paging-structure entry (any level) of one
 *    address and puts it back afterwards.
 *  - page_pair is two adjacent lower-half pages, one made supervisor (U/S=0
 *    in its PTE) and the other left user: the only way to build an access,
 *    a fetch or a descriptor table that crosses between supervisor and user
 *    memory, since the two halves of the address space are far apart.
 *  - USER_PROBE and KERNEL_STUB define short assembly functions whose
 *    faulting instruction has a label, so that a test knows the RIP a fault
 *    must report.
 */
#ifndef CANON_PROTECTION_CHECKS_H
#define CANON_PROTECTION_CHECKS_H

#include "types.h"
#include "exceptions.h"
#include "user.h"

/*
 * The I/D bit of a fetch's #PF under the current CR4.SMEP and EFER.NXE:
 * Intel sets it when SMEP=1 or NXE=1 (SDM Vol. 3A 4.7); AMD defines it only
 * when NXE=1 (APM Vol. 2 8.4.2), so there *undefined gets it otherwise.
 */
u32 fetch_fault_flag(u32 *undefined);

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

#define PROTECTION_STRINGIFY_(x) #x
#define PROTECTION_STRINGIFY(x) PROTECTION_STRINGIFY_(x)

/*
 * USER_PROBE(name, setup, instruction): a ring-3 function
 *     u64 name(u64 a, u64 b, u64 c, u64 d)    (a in RDI, b in RSI, c in RDX)
 * that runs setup, then instruction at the label name_instruction, then
 * returns RAX.  It expands to top-level assembly in .user.text:
 *     name: setup; name_instruction: instruction; ret
 * A fault there ends run_user(), whose result must then name
 * name_instruction as RIP.
 */
#define USER_PROBE(name, setup, instruction)                                       \
	u64 name(u64 a, u64 b, u64 c, u64 d);                                      \
	extern char name##_instruction[];                                          \
	asm(".pushsection .user.text, \"ax\"\n" #name ":\n\t" setup "\n" #name     \
	    "_instruction:\n\t" instruction "\n\tret\n.popsection")

/*
 * KERNEL_STUB(name, body): a supervisor function u64 name(u64 argument) made
 * of the assembly body, for call_or_fault(): e.g. "jmp *%rdi" jumps to its
 * argument.  Expands to: .text; name: body.
 */
#define KERNEL_STUB(name, body)                                                    \
	u64 name(u64 argument);                                                    \
	asm(".pushsection .text\n" #name ":\n\t" body "\n.popsection")

#endif
