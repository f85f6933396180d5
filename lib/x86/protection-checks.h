/*
 * protection-checks.h: what the paging-protection tests (smep, smap, umip,
 * wp-nx) share.
 *
 *  - An expected outcome is a struct exception_info: no exception, or the
 *    vector, the full error code, CR2 (for #PF) and the RIP the exception
 *    must report.  check_outcome() compares all of them and, on a mismatch,
 *    prints both sides before the FAIL line.
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

/* A #PF the test expects: error code, CR2 and the faulting instruction. */
static inline struct exception_info page_fault_at(u32 error_code, u64 cr2, u64 rip)
{
	struct exception_info info = exception(PF_VECTOR, error_code);

	info.address = cr2;
	info.rip = rip;
	return info;
}

/* Any other exception the test expects, raised by the instruction at rip. */
static inline struct exception_info fault_at(unsigned vector, u32 error_code, u64 rip)
{
	struct exception_info info = exception(vector, error_code);

	info.rip = rip;
	return info;
}

/*
 * True when observed is expected: both "no exception", or the same vector
 * and error code, RIP equal to expected.rip, and for #PF CR2 equal to
 * expected.address.  On a mismatch, prints "name: expected ..., got ...".
 */
bool outcome_matches(const char *name, struct exception_info expected,
		     struct exception_info observed);
/* outcome_matches(), reported as one check called name. */
bool check_outcome(const char *name, struct exception_info expected,
		   struct exception_info observed);

/* What ended a ring-3 run, as an outcome: its fault, or no exception. */
struct exception_info user_outcome(const struct user_result *result);

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

/* Set or clear EFLAGS.AC with POPF; returns the RFLAGS it replaced. */
u64 set_alignment_check(bool on);

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
