/*
 * access-flag.c: smap's cases beyond single data accesses (SDM Vol. 3A 4.6,
 * 4.6.1; Vol. 2B REP, POPF, SYSCALL, STAC, CLAC; AMD APM Vol. 2 5.6): a
 * REP MOVSB that crosses into a user page faults at the first user byte
 * with RCX and RSI at that element; SMAP leaves fetches and CPL 3 alone;
 * EFLAGS.AC is set and cleared by POPF, does not leak into ring 3 through
 * IRETQ or SYSRETQ, and is saved and cleared by SYSCALL; and, on request,
 * STAC and CLAC.
 */
#include "smap.h"
#include "descriptors.h"
#include "exceptions.h"
#include "layout.h"
#include "page-table.h"
#include "probe.h"
#include "processor.h"
#include "report.h"
#include "test-fixtures.h"
#include "user.h"

/* ---- string copies, fetches and CPL 3 --------------------------------- */

struct string_copy {
	struct exception_info outcome;
	u64 rcx, rsi;
};

/* REP MOVSB of RDX bytes from RSI to RDI; returns RSI, for a copy that completes. */
PROBE(copy_string, KERNEL, "mov %rdx, %rcx", "rep movsb", "mov %rsi, %rax");

/* REP MOVSB; on a fault, RCX and RSI as the fault left them. */
static struct string_copy rep_movsb(u64 destination, u64 source, u64 count, bool ac)
{
	struct probe_options options = { .cpl = 0, .alignment_check = ac };
	struct probe_result result = run_probe_with(&options, PROBE_OF(copy_string), destination,
						    source, count, 0);
	struct string_copy copy = { .outcome = result.outcome, .rcx = 0, .rsi = result.value };

	if (result.outcome.raised) {
		copy.rcx = result.frame.rcx;
		copy.rsi = result.frame.rsi;
	}
	return copy;
}

static bool check_string_copy(const char *name, struct exception_info expected,
			      const struct string_copy *copy, u64 rcx, u64 rsi)
{
	bool pass = outcome_matches(name, expected, copy->outcome);

	if (pass && (copy->rcx != rcx || copy->rsi != rsi)) {
		report_info("%s: RCX %#lx RSI %#lx, expected RCX %#lx RSI %#lx", name, copy->rcx,
			    copy->rsi, rcx, rsi);
		pass = false;
	}
	return report(pass, "%s", name);
}

void check_rep_movsb_reading_across(bool ac)
{
	static u8 buffer[16];
	static const u8 counting[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	u64 user_page = pages.pair.user_page, source = user_page - 8;
	struct string_copy copy;

	page_pair_write(&pages.pair, -8, counting, sizeof(counting));
	copy = rep_movsb((u64)buffer, source, sizeof(buffer), ac);
	if (ac)
		check_string_copy("REP MOVSB reading across into a user page with AC=1 completes",
				  no_exception(), &copy, 0, source + sizeof(buffer));
	else
		check_string_copy("REP MOVSB reading across into a user page raises #PF(P)",
				  page_fault_at(READ_FAULT, user_page, copy.outcome.instruction),
				  &copy, 8, user_page);
}

void check_rep_movsb_writing_across(void)
{
	static const u8 buffer[16];
	u64 user_page = pages.pair.user_page;
	struct string_copy copy = rep_movsb(user_page - 8, (u64)buffer, 16, false);

	check_string_copy("REP MOVSB writing across into a user page raises #PF(P|W)",
			  page_fault_at(WRITE_FAULT, user_page, copy.outcome.instruction),
			  &copy, 8, (u64)buffer + 8);
}

void check_fetch_not_affected(void)
{
	u64 cr4 = read_cr4(), value = 0;
	struct exception_info observed;
	const char *name = "SMEP=0: SMAP does not stop a CPL 0 fetch from a user page";

	write_cr4(cr4 & ~(u64)CR4_SMEP);
	observed = call_at_cpl0(pages.code_page, &value);
	write_cr4(cr4);
	report(outcome_matches(name, no_exception(), observed) && value == MAGIC_FUNCTION_RESULT,
	       "%s", name);
}

static u64 USER_CODE user_write_then_read(u64 address, u64 value, u64 c, u64 d)
{
	*(volatile u64 *)address = value;
	return *(volatile u64 *)address;
}

void check_cpl3_not_affected(void)
{
	struct user_result result =
		run_user(user_write_then_read, pages.data_page + DATA_OFFSET, DATA_MAGIC, 0, 0);
	const char *name = "CPL 3 writes and reads a user page under SMAP";

	report(outcome_matches(name, no_exception(), user_outcome(&result)) &&
	       result.value == DATA_MAGIC, "%s", name);
}

/* ---- EFLAGS.AC: POPF, IRETQ, SYSRETQ, SYSCALL -------------------------- */

static u64 USER_CODE user_rflags(u64 a, u64 b, u64 c, u64 d)
{
	u64 flags;

	asm volatile("pushfq; popq %0" : "=r"(flags));
	return flags;
}

static u64 USER_CODE user_popf_sets_ac(u64 a, u64 b, u64 c, u64 d)
{
	u64 flags;

	asm volatile("pushfq; orq %1, (%%rsp); popfq; pushfq; popq %0"
		     : "=r"(flags)
		     : "i"(RFLAGS_ALIGNMENT_CHECK)
		     : "cc", "memory");
	return flags;
}

static u64 USER_CODE user_nothing(u64 a, u64 b, u64 c, u64 d)
{
	return 0;
}

void check_popf_at_cpl0(void)
{
	u64 flags = set_alignment_check(true);
	u64 with_ac = read_rflags();

	set_alignment_check(false);
	report(with_ac & RFLAGS_ALIGNMENT_CHECK, "POPF at CPL 0 sets EFLAGS.AC");
	report(!(read_rflags() & RFLAGS_ALIGNMENT_CHECK), "POPF at CPL 0 clears EFLAGS.AC");
	write_rflags(flags);
}

void check_ac_does_not_reach_ring3(const char *name, unsigned entry)
{
	struct user_options options = { .entry = entry };
	u64 flags = set_alignment_check(true);
	struct user_result result = run_user_with(&options, user_rflags, 0, 0, 0, 0);

	write_rflags(flags);
	report(outcome_matches(name, no_exception(), user_outcome(&result)) &&
	       !(result.value & RFLAGS_ALIGNMENT_CHECK), "%s", name);
}

void check_popf_at_cpl3(void)
{
	struct user_result result = run_user(user_popf_sets_ac, 0, 0, 0, 0);
	const char *name = "POPF at CPL 3 sets EFLAGS.AC";

	report(outcome_matches(name, no_exception(), user_outcome(&result)) &&
	       (result.value & RFLAGS_ALIGNMENT_CHECK), "%s", name);
}

/*
 * LSTAR while the SYSCALL case runs: it notes RFLAGS as SYSCALL left it,
 * and R11 (the RFLAGS that SYSCALL saved), then goes on into canon's own
 * entry.  SYSCALL does not switch stacks, so PUSHF runs on TSS.RSP0's
 * stack, which the entry takes over right after.
 */
u64 observed_syscall_rflags, observed_syscall_r11, observer_user_rsp;
void syscall_observer(void);
asm(".pushsection .text\n"
    "syscall_observer:\n\t"
    "mov %rsp, observer_user_rsp(%rip)\n\t"
    "mov task_state + " PROBE_NUMBER(TSS_RSP0) "(%rip), %rsp\n\t"
    "pushfq\n\t"
    "popq observed_syscall_rflags(%rip)\n\t"
    "mov %r11, observed_syscall_r11(%rip)\n\t"
    "mov observer_user_rsp(%rip), %rsp\n\t"
    "jmp syscall_entry\n"
    ".popsection");

void check_syscall_clears_ac(void)
{
	struct user_options options = { .exit = USER_EXIT_SYSCALL, .rflags = RFLAGS_ALIGNMENT_CHECK };
	u64 lstar = read_msr(MSR_LSTAR);
	struct user_result result;
	const char *saved = "SYSCALL saves EFLAGS.AC=1 in R11";
	const char *cleared = "SYSCALL's SFMASK clears EFLAGS.AC";
	bool came_back;

	observed_syscall_rflags = observed_syscall_r11 = ~0ull;
	write_msr(MSR_LSTAR, (u64)syscall_observer);
	result = run_user_with(&options, user_nothing, 0, 0, 0, 0);
	write_msr(MSR_LSTAR, lstar);
	came_back = !result.faulted && result.way_back == USER_EXIT_SYSCALL;
	if (!came_back)
		outcome_matches(saved, no_exception(), user_outcome(&result));
	else
		report_observed(observed_syscall_r11 & RFLAGS_ALIGNMENT_CHECK ? "R11.AC=1" : "R11.AC=0");
	report(came_back && (observed_syscall_r11 & RFLAGS_ALIGNMENT_CHECK), "%s", saved);
	if (!came_back)
		outcome_matches(cleared, no_exception(), user_outcome(&result));
	else
		report_observed(observed_syscall_rflags & RFLAGS_ALIGNMENT_CHECK ? "AC=1" : "AC=0");
	report(came_back && !(observed_syscall_rflags & RFLAGS_ALIGNMENT_CHECK), "%s", cleared);
}


/* ---- STAC and CLAC (only with "stac") ---------------------------------- */

/* Each returns RFLAGS as the instruction left it; CLAC runs with AC set first. */
PROBE(stac, BOTH, "", "stac", "pushfq\n\tpop %rax");
PROBE(clac, BOTH, "", "clac", "pushfq\n\tpop %rax");
/* A read of (RDI) right after STAC, and right after STAC and CLAC. */
PROBE(read_after_stac, KERNEL, "stac", "mov (%rdi), %rax", "");
PROBE(read_after_clac, KERNEL, "stac\n\tclac", "mov (%rdi), %rax", "");

/* An instruction that must complete, and leave EFLAGS.AC as given. */
static void check_flag_change(const char *name, struct probe probe, bool ac_before,
			      bool ac_after)
{
	struct probe_options options = { .cpl = 0, .alignment_check = ac_before };
	struct probe_result result = run_probe_with(&options, probe, 0, 0, 0, 0);
	bool ac = result.value & RFLAGS_ALIGNMENT_CHECK;

	report(outcome_matches(name, no_exception(), result.outcome) && ac == ac_after, "%s",
	       name);
}

void check_stac_and_clac(void)
{
	u64 cr4 = read_cr4(), data = pages.data_page + DATA_OFFSET;
	struct exception_info observed;

	check_flag_change("STAC at CPL 0 sets EFLAGS.AC", PROBE_OF(stac), false, true);
	check_outcome("after STAC, a CPL 0 read of a user page succeeds", no_exception(),
		      run_probe(PROBE_OF(read_after_stac), 0, data, 0, 0, 0).outcome);
	check_flag_change("CLAC at CPL 0 clears EFLAGS.AC", PROBE_OF(clac), true, false);
	observed = run_probe(PROBE_OF(read_after_clac), 0, data, 0, 0, 0).outcome;
	check_outcome("after CLAC, a CPL 0 read of a user page raises #PF(P)",
		      page_fault_at(READ_FAULT, data, observed.instruction), observed);
	write_cr4(cr4 & ~(u64)CR4_SMAP);
	check_flag_change("STAC with CR4.SMAP=0 still sets EFLAGS.AC", PROBE_OF(stac), false, true);
	write_cr4(cr4);
	check_outcome("STAC at CPL 3 raises #UD", fault_at(UD_VECTOR, 0, (u64)user_stac_instruction),
		      run_probe(PROBE_OF(user_stac), 3, 0, 0, 0, 0).outcome);
	check_outcome("CLAC at CPL 3 raises #UD", fault_at(UD_VECTOR, 0, (u64)user_clac_instruction),
		      run_probe(PROBE_OF(user_clac), 3, 0, 0, 0, 0).outcome);
}
