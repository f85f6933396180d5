/*
 * audit.h: check the whole address space against canon's invariants.
 *
 * The audit walks every present entry, computes each leaf's effective
 * permissions (U/S and R/W ANDed down the levels, XD ORed), and checks:
 *   1. every upper-half leaf is supervisor;
 *   2. every lower-half leaf is user at every level, unless it came from
 *      vm_map_fixed() or lies in a vm_reserve() range (whose owner builds
 *      its own permissions);
 *   3. every leaf belongs to something the kernel knows: an image section
 *      or a vm mapping (a leftover boot identity map fails here);
 *   4. no leaf maps a paging-structure page (they live in the self map only);
 *   5. no physical frame is mapped twice;
 *   1a. every entry above an upper-half leaf has U/S=0 as well;
 *   6. image sections have their permissions: kernel text read-only and
 *      executable, kernel data and read-only data not executable, user text
 *      read-only, user data not executable (where CPUID has NX); in effect,
 *      and in the leaf entry itself (R/W=0 for read-only sections, XD=1 for
 *      the rest when NXE=1);
 *   7. the self-referencing entry points at CR3's table and is supervisor
 *      and not executable.
 * Each violation is printed with its address; the caller reports the count.
 */
#ifndef CANON_AUDIT_H
#define CANON_AUDIT_H

#include "types.h"

struct audit_result {
	unsigned leaves;     /* present leaf entries */
	unsigned tables;     /* paging-structure pages */
	unsigned violations; /* broken invariants, each printed */
	unsigned fixed;      /* vm_map_fixed mappings listed */
	u64 first_violation, last_violation; /* addresses, when there are violations */
	u64 mapped_bytes;
};

/* Run every check; quiet unless something is wrong. */
struct audit_result page_table_audit(void);

/* Print the address space as ranges with the same permissions and owner. */
void page_table_print_map(void);

#endif
