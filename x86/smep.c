/*
 * smep: supervisor-mode execution prevention (CR4.SMEP).
 *
 * Rules checked (Intel SDM Vol. 3A 4.6 "Access Rights" and 4.6.1,
 * 4.7 "Page-Fault Exceptions"; AMD APM Vol. 2 5.6 page-protection checks
 * and 8.4.2 page-fault error code):
 *  - With CR4.SMEP=1, a CPL 0 instruction fetch from a user-mode address
 *    raises #PF with P=1, I/D=1 and W/R, U/S, RSVD, PK all 0 (error code
 *    0x11).  CR2 is the address fetched and RIP is the instruction that
 *    could not be fetched.  It does not matter how the fetch was reached
 *    (CALL, JMP, RET or IRETQ), or whether the target is the user image or
 *    a fresh user page.
 *  - A page is a user-mode address only if U/S=1 in every paging-structure
 *    entry that maps it (SDM 4.6).  U/S=0 in any one of the PTE, PDE,
 *    PDPTE, PML4E or PML5E makes it a supervisor page, and CPL 0 may run it.
 *  - Fetches that cross from a supervisor page into a user page: code that
 *    runs off the end of the supervisor page faults on the first user byte
 *    (CR2 = RIP = that byte).  An instruction whose bytes straddle the
 *    boundary faults with RIP at its first byte, in the supervisor page,
 *    and CR2 at the first user byte.
 *  - SMEP depends on nothing else.  CR0.WP=0 and EFLAGS.AC=1 do not open
 *    it, and it does not apply to CPL 3 fetches from user pages.
 *  - With CR4.SMEP=0 the same fetches succeed.
 *
 * Vendors: Intel and AMD state the same rules, so no case depends on the
 * vendor.  The NX (XD) rules are in x86/wp-nx.c, because they do not depend
 * on SMEP: x86/smep.flat must SKIP entirely on a CPU without SMEP.
 *
 * Cannot test: SMEP at CPL 1 and 2, because canon has no ring 1 or 2
 * segments.  A fetch from a user page that is also NX, because that is an
 * NX fault too (the error code is the same).
 *
 * Supervisor pages in the lower half exist here only for the length of one
 * case: the test clears U/S in the entries of fresh user pages and restores
 * them.  Tests never choose addresses; vm_alloc() does.
 *
 * Arguments: "force" runs the cases even when CPUID lacks SMEP; they must
 * then fail.
 */
#include "cmdline.h"
#include "cpu-features.h"
#include "exceptions.h"
#include "layout.h"
#include "page-table.h"
#include "paging-edits.h"
#include "probe.h"
#include "processor.h"
#include "protections.h"
#include "report.h"
#include "test-fixtures.h"
#include "user-access.h"
#include "user.h"
#include "vm.h"

/* The targets a case fetches from. */
enum target {
	USER_PAGE,    /* a fresh user page holding magic_function */
	USER_IMAGE,   /* a function in the image's .user.text */
	RUNS_OFF,     /* nop as the supervisor page's last byte, then the user page */
	STRADDLES,    /* a 5-byte MOV: 2 bytes supervisor, 3 bytes user */
};

/* How the CPU gets there. */
enum way { BY_CALL, BY_JMP, BY_RET, BY_IRETQ, BY_CALL_AT_CPL3, WAYS };

/* What the case changes around the fetch. */
enum condition {
	AS_SET_UP,       /* SMEP, WP on, AC clear */
	SMEP_OFF,
	WP_OFF,
	AC_SET,
	SUPERVISOR_PTE,   /* U/S=0 in the PTE only (level 1) ... */
	SUPERVISOR_PDE,
	SUPERVISOR_PDPTE,
	SUPERVISOR_PML4E,
	SUPERVISOR_PML5E, /* ... up to the PML5E (level 5) */
};

#define FAULT(name_, target_, way_, condition_)                                          \
	{ .name = name_, .target = target_, .way = way_, .condition = condition_,         \
	  .faults = true }
#define RUNS(name_, target_, way_, condition_)                                           \
	{ .name = name_, .target = target_, .way = way_, .condition = condition_,         \
	  .faults = false }

static const struct smep_case {
	const char *name;
	enum target target;
	enum way way;
	enum condition condition;
	bool faults; /* #PF(P|I) at the fetch, or the code runs and returns */
} cases[] = {
	FAULT("CPL 0 CALL to a user page raises #PF(P|I)", USER_PAGE, BY_CALL, AS_SET_UP),
	FAULT("CPL 0 JMP to a user page raises #PF(P|I)", USER_PAGE, BY_JMP, AS_SET_UP),
	FAULT("CPL 0 RET to a user page raises #PF(P|I)", USER_PAGE, BY_RET, AS_SET_UP),
	FAULT("CPL 0 IRETQ to a user page raises #PF(P|I)", USER_PAGE, BY_IRETQ, AS_SET_UP),
	FAULT("CPL 0 CALL into .user.text raises #PF(P|I)", USER_IMAGE, BY_CALL, AS_SET_UP),
	FAULT("running off a supervisor page into a user page raises #PF(P|I)", RUNS_OFF,
	      BY_CALL, AS_SET_UP),
	FAULT("an instruction straddling into a user page raises #PF(P|I)", STRADDLES, BY_CALL,
	      AS_SET_UP),
	FAULT("CR0.WP=0 does not open SMEP", USER_PAGE, BY_CALL, WP_OFF),
	FAULT("EFLAGS.AC=1 does not open SMEP", USER_PAGE, BY_CALL, AC_SET),
	RUNS("CPL 3 CALL to a user page is not affected by SMEP", USER_PAGE, BY_CALL_AT_CPL3,
	     AS_SET_UP),
	RUNS("U/S=0 in the PTE only: CPL 0 may run the page", USER_PAGE, BY_CALL, SUPERVISOR_PTE),
	RUNS("U/S=0 in the PDE only: CPL 0 may run the page", USER_PAGE, BY_CALL, SUPERVISOR_PDE),
	RUNS("U/S=0 in the PDPTE only: CPL 0 may run the page", USER_PAGE, BY_CALL,
	     SUPERVISOR_PDPTE),
	RUNS("U/S=0 in the PML4E only: CPL 0 may run the page", USER_PAGE, BY_CALL,
	     SUPERVISOR_PML4E),
	RUNS("U/S=0 in the PML5E only: CPL 0 may run the page", USER_PAGE, BY_CALL,
	     SUPERVISOR_PML5E),
	RUNS("SMEP=0: CPL 0 CALL to a user page returns", USER_PAGE, BY_CALL, SMEP_OFF),
	RUNS("SMEP=0: CPL 0 JMP to a user page returns", USER_PAGE, BY_JMP, SMEP_OFF),
	RUNS("SMEP=0: CPL 0 RET to a user page returns", USER_PAGE, BY_RET, SMEP_OFF),
	RUNS("SMEP=0: CPL 0 IRETQ to a user page returns", USER_PAGE, BY_IRETQ, SMEP_OFF),
	RUNS("SMEP=0: running off into a user page returns", RUNS_OFF, BY_CALL, SMEP_OFF),
	RUNS("SMEP=0: straddling into a user page returns", STRADDLES, BY_CALL, SMEP_OFF),
};

/* ---- code the cases run ---------------------------------------------- */

/* magic_function's twin in the user image. */
static u64 USER_CODE user_image_function(u64 a, u64 b, u64 c, u64 d)
{
	return MAGIC_FUNCTION_RESULT;
}

static const u8 nop = NOP_INSTRUCTION;
static u64 user_page;
static struct page_pair pair;

/* Lays out the pair for target; returns the address to fetch from first. */
static u64 prepare_target(enum target target)
{
	switch (target) {
	case USER_PAGE:
		return user_page;
	case USER_IMAGE:
		return (u64)user_image_function;
	case RUNS_OFF:
		page_pair_write(&pair, -1, &nop, 1);
		page_pair_write(&pair, 0, magic_function, sizeof(magic_function));
		return pair.user_page - 1;
	case STRADDLES:
		page_pair_write(&pair, -2, magic_function, sizeof(magic_function));
		return pair.user_page - 2;
	}
	return 0;
}

/* Where the fault must be reported: RIP, and CR2. */
static void expected_fault_place(enum target target, u64 entry, u64 *rip, u64 *cr2)
{
	*rip = *cr2 = entry;
	if (target == RUNS_OFF)
		*rip = *cr2 = pair.user_page;
	if (target == STRADDLES)
		*cr2 = pair.user_page;
}

/* The fetch itself, by the case's way (each probe goes to its argument: probe.h). */
static struct probe_result fetch(enum way way, u64 target, bool alignment_check)
{
	const struct probe probes[WAYS] = {
		[BY_CALL] = PROBE_OF(call_target), [BY_JMP] = PROBE_OF(jump_to),
		[BY_RET] = PROBE_OF(return_to), [BY_IRETQ] = PROBE_OF(iretq_to_kernel),
		[BY_CALL_AT_CPL3] = PROBE_OF(user_call_target),
	};
	struct probe_options options = { .cpl = way == BY_CALL_AT_CPL3 ? 3 : 0,
					 .alignment_check = alignment_check };

	return run_probe_with(&options, probes[way], target, 0, 0, 0);
}

static bool is_supervisor_condition(enum condition condition)
{
	return condition >= SUPERVISOR_PTE && condition <= SUPERVISOR_PML5E;
}

/* The case's condition on (edit keeps what to put back), or back off. */
static void apply_condition(const struct smep_case *c, u64 target, struct entry_edit *edit,
			    bool on, u64 cr0, u64 cr4)
{
	int level = c->condition - SUPERVISOR_PTE + 1;

	if (!on) {
		if (is_supervisor_condition(c->condition))
			entry_restore(edit);
		write_cr0(cr0);
		write_cr4(cr4);
		return;
	}
	if (c->condition == SMEP_OFF)
		write_cr4(cr4 & ~(u64)CR4_SMEP);
	if (c->condition == WP_OFF)
		write_cr0(cr0 & ~(u64)CR0_WRITE_PROTECT);
	if (is_supervisor_condition(c->condition))
		entry_edit(edit, target, level, PAGE_USER, 0);
}

static void run_case(const struct smep_case *c)
{
	u64 cr0 = read_cr0(), cr4 = read_cr4();
	u64 target = prepare_target(c->target), rip, cr2;
	struct exception_info expected = no_exception();
	struct probe_result result;
	struct entry_edit edit;
	bool fault_ok, value_ok;

	if (is_supervisor_condition(c->condition) &&
	    (int)(c->condition - SUPERVISOR_PTE + 1) > paging_levels())
		return; /* no such level in this paging mode */
	apply_condition(c, target, &edit, true, cr0, cr4);
	result = fetch(c->way, target, c->condition == AC_SET);
	apply_condition(c, target, &edit, false, cr0, cr4);

	if (c->faults) {
		expected_fault_place(c->target, target, &rip, &cr2);
		expected = page_fault_at(FETCH_FAULT, cr2, rip);
	}
	fault_ok = outcome_matches(c->name, expected, result.outcome);
	value_ok = c->faults || result.value == MAGIC_FUNCTION_RESULT;
	if (fault_ok && !value_ok)
		report_info("%s: the code returned %#lx, not %#x", c->name, result.value,
			    MAGIC_FUNCTION_RESULT);
	report(fault_ok && value_ok, "%s", c->name);
}

int main(int argc, char **argv)
{
	if (!require_cpu_feature(FEATURE_SMEP) && !argv_has(argc, argv, "force"))
		return report_summary();
	check_protections(PROTECTION_SMEP);
	user_page = (u64)vm_alloc(PAGE_SIZE, VM_USER | VM_WRITE | VM_EXECUTE);
	if (!user_page || !copy_to_user(user_page, magic_function, sizeof(magic_function)))
		fatal("cannot set up the user code page");
	page_pair_alloc(&pair, VM_EXECUTE, false);
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);
	page_pair_free(&pair);
	vm_free((void *)user_page);
	return report_summary();
}
