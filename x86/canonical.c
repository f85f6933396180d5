/*
 * canonical: every use of a linear address checks that it is canonical.
 *
 * In 64-bit mode a linear address is canonical when bits 63 down to the
 * most significant translated bit all agree: bit 47 under 4-level paging,
 * bit 56 under 5-level paging (SDM Vol. 1 3.3.7.1; SDM Vol. 3A 4.5; AMD APM
 * Vol. 1 2.2.1 and Vol. 2 5.3.1).  The addresses below are built from the
 * mode the CPU is in (linear_address_bits()), so one image tests both.
 *
 * Rules checked, each at CPL 0 and, where the instruction is legal there,
 * at CPL 3:
 *  - A data access to a non-canonical address raises #GP(0); through the
 *    stack segment (PUSH, POP, an operand based on RSP or RBP) it raises
 *    #SS(0) (SDM Vol. 3A 6.15, interrupts 12 and 13; every instruction's
 *    "64-Bit Mode Exceptions"; APM Vol. 2 8.2.13, 8.2.14).  No #PF, so CR2
 *    keeps its value, and nothing is written.  An access that starts
 *    canonical and ends in the hole, or the other way round, faults the
 *    same way; when its canonical bytes would also raise #PF (the last
 *    lower page is a user page, so SMAP refuses it at CPL 0; the first
 *    upper page is not present), that #PF, with CR2 at the first such
 *    byte, is right too: both are faults of one instruction, and the SDM
 *    leaves their order to the implementation (Vol. 3A 6.9, Table 6-2).
 *  - A near JMP, CALL or RET to a non-canonical target raises #GP(0) at the
 *    branch: RIP is the branch, CALL has pushed nothing and RET has popped
 *    nothing (SDM Vol. 2A JMP, CALL and Vol. 2B RET, whose operations check
 *    the new RIP before anything changes; APM Vol. 3, same instructions).
 *  - Running off the end of the lower half: the instruction after the last
 *    canonical byte is in the hole, so its fetch raises #GP(0) reported at
 *    that instruction, RIP = 2^(N-1); an instruction whose first byte is
 *    the last canonical byte faults with RIP at its first byte (a fault
 *    reports the faulting instruction, SDM Vol. 3A 6.5).
 *  - IRETQ to a non-canonical RIP raises #GP(0) at the IRETQ, before
 *    anything is popped, whether it returns to CPL 0 or CPL 3 (SDM Vol. 2A
 *    IRET: its operation checks the return RIP for both returns; APM Vol. 3
 *    IRET).
 *  - SYSRETQ with a non-canonical RCX: Intel checks RCX first and raises
 *    #GP(0) at CPL 0 (SDM Vol. 2B SYSRET, Vol. 3A 5.8.8); AMD does not check
 *    it, so SYSRET completes and the fetch at CPL 3 raises #GP(0) with
 *    RIP = RCX (APM Vol. 3 SYSRET lists no such check).
 *  - WRMSR of a non-canonical value raises #GP(0) and the MSR keeps its old
 *    value, for FS_BASE, GS_BASE, KERNEL_GS_BASE, LSTAR, SYSENTER_ESP and
 *    SYSENTER_EIP on Intel (SDM Vol. 2D WRMSR lists those; it does not list
 *    IA32_CSTAR, so CSTAR's non-canonical cases are not checked on Intel),
 *    and for FS_BASE, GS_BASE, KERNEL_GS_BASE, LSTAR and CSTAR on AMD (APM
 *    Vol. 3 WRMSR).  AMD runs SYSENTER in legacy mode only (APM Vol. 2
 *    6.1.2) and does not check those two MSRs: no fault, and bits 31:0 read
 *    back (AMD keeps only those).
 *  - WRFSBASE and WRGSBASE of a non-canonical value raise #GP(0) (SDM Vol.
 *    2D WRFSBASE; APM Vol. 3 WRFSBASE), with CR4.FSGSBASE set for the case.
 *  - LGDT and LIDT of a non-canonical base raise #GP(0) and leave GDTR/IDTR
 *    as they were (APM Vol. 3 LGDT, LIDT list a non-canonical new base as a
 *    #GP cause); LTR and LLDT of a 16-byte descriptor whose base is
 *    non-canonical raise #GP(selector), leave TR/LDTR as they were and do
 *    not set the busy bit (APM Vol. 3 LTR, LLDT; the SDM's pages do not
 *    list this case, KVM's emulator models it with the same error code).
 *  - INVLPG of a non-canonical address is a no-op, not a fault (SDM Vol. 2A
 *    INVLPG); INVPCID type 0 with a non-canonical address raises #GP(0)
 *    (SDM Vol. 2A INVPCID), where CPUID has INVPCID.
 *  - The 57-bit rule.  On an Intel CPU that supports 5-level paging
 *    (CPUID.(EAX=7,ECX=0):ECX[16], the bit the rule names), loads other
 *    than memory accesses and RIP loads check the value against the
 *    widest supported linear address, 57 bits, whatever CR4.LA57 is
 *    (Intel's 5-level paging white paper, document 335252, 2.5.2
 *    "Canonicality Checking on Other Loads"; the SDM took it in as "CPU
 *    canonical" against "paging canonical", Vol. 3A "Canonicality
 *    Checking").  The loads this test expects to follow it: WRMSR to the
 *    MSRs above, LGDT, LIDT, LTR, LLDT (their bases, like the MSRs' values,
 *    are held for later) and INVPCID.  WRFSBASE and WRGSBASE are not on
 *    any list found (the SDM's WRFSBASE page checks "canonical" only), so
 *    they keep the paging mode's rule.  Linux KVM's
 *    is_noncanonical_msr_address() and kvm-unit-tests' la57 test model the
 *    same loads.  The APM states no such rule, so on AMD the values it
 *    would decide (57-bit canonical, 48-bit not) are counted in a SKIP line,
 *    as they are wherever CPUID's LA57 bit and CPUID.80000008H:EAX[15:8]
 *    disagree about 57 bits (some hypervisors clear the first only).
 * Vendors come from CPUID's vendor string; a CPU that is neither Intel nor
 * AMD SKIPs the vendor-specific cases.
 * The addresses (names in canonical/canonical.h's table): each boundary of the paging
 * mode in use (low-end, hole-start, hole-end, high-start, and a kernel
 * variable with only bit N-1 flipped), the same for the other mode
 * (suffixed -57 or -48), and a user variable with only bit 63 flipped.
 * Canonical addresses in the same tables are controls: they reach paging
 * and raise #PF (not-present, or SMEP/SMAP) with CR2 = the address, or
 * succeed.  Every case checks vector, error code, the RIP and CPL the
 * exception is taken at, CR2, and what the instruction must not have
 * changed (destination register, RSP, memory, MSR, descriptor registers).
 *
 * Cannot test: INVPCID where CPUID lacks it (SKIP); the rule for a linear
 * address with LAM (not enabled here).  Both vendors' rules run on any host
 * under TCG, whose vendor the cfg chooses.
 * "la57" on the command line runs the whole table under 5-level paging.
 *
 * This file holds the addresses, the case runner and main(); the uses are
 * in canonical/data.c, canonical/branches.c and canonical/registers.c.
 */
#include "cpu-features.h"
#include "exceptions.h"
#include "layout.h"
#include "memory.h"
#include "page-table.h"
#include "printf.h"
#include "processor.h"
#include "report.h"
#include "test-fixtures.h"
#include "user-access.h"
#include "user.h"
#include "vm.h"
#include "canonical/canonical.h"

/* ---- addresses ------------------------------------------------------ */

static char kind_names[ADDRESS_KINDS][16];

/* If a CPU ignored the sign bits, these flips would reach real variables. */
static u64 kernel_variable;
static u64 USER_DATA user_variable;

u64 last_page, user_stack_top, boot_cr4;
bool supports_5_level, leaves_disagree;
static int enumerated_width;
enum cpu_vendor vendor;

static u64 first_noncanonical(int bits)
{
	return BIT(bits - 1);
}

static int other_mode_bits(void)
{
	return linear_address_bits() == 48 ? 57 : 48;
}

u64 lower_half_end(void)
{
	return first_noncanonical(linear_address_bits());
}

bool canonical_at(u64 address, int bits)
{
	int shift = 64 - bits;

	return (u64)((s64)(address << shift) >> shift) == address;
}

static u64 kind_address(enum address_kind kind)
{
	int bits = kind < OTHER_LOW_END ? linear_address_bits() : other_mode_bits();

	switch (kind) {
	case LOW_END:
	case OTHER_LOW_END:
		return first_noncanonical(bits) - 1;
	case HOLE_START:
	case OTHER_HOLE_START:
		return first_noncanonical(bits);
	case HOLE_END:
	case OTHER_HOLE_END:
		return -first_noncanonical(bits) - 1;
	case HIGH_START:
	case OTHER_HIGH_START:
		return -first_noncanonical(bits);
	case TOP_BIT_FLIPPED:
	case OTHER_TOP_BIT_FLIPPED:
		return (u64)&kernel_variable ^ BIT(bits - 1);
	case BIT63_FLIPPED:
	default:
		return (u64)&user_variable ^ BIT(63);
	}
}

static void name_kinds(void)
{
	static const char *const boundaries[] = { "low-end", "hole-start", "hole-end",
						  "high-start" };
	int other = other_mode_bits();

	for (unsigned i = 0; i < ARRAY_SIZE(boundaries); i++) {
		snprintf(kind_names[LOW_END + i], sizeof(kind_names[0]), "%s", boundaries[i]);
		snprintf(kind_names[OTHER_LOW_END + i], sizeof(kind_names[0]), "%s-%d",
			 boundaries[i], other);
	}
	snprintf(kind_names[TOP_BIT_FLIPPED], sizeof(kind_names[0]), "top-flip");
	snprintf(kind_names[OTHER_TOP_BIT_FLIPPED], sizeof(kind_names[0]), "bit%d-flip", other - 1);
	snprintf(kind_names[BIT63_FLIPPED], sizeof(kind_names[0]), "bit63-flip");
}

/*
 * Read once: CPUID is slow under a hypervisor that exits on it.  Whether
 * the CPU supports 5-level paging is CPUID.(EAX=7,ECX=0):ECX[16] (LA57),
 * the bit the SDM's rule names; CPUID.80000008H:EAX[15:8] should agree.
 */
static void read_cpu_facts(void)
{
	supports_5_level = cpu_has(FEATURE_LA57);
	enumerated_width = enumerated_linear_address_width();
	leaves_disagree = linear_width_leaves_disagree();
	vendor = cpu_vendor();
}

/* ---- one case ------------------------------------------------------- */

void expect(struct case_state *state, struct exception_info outcome)
{
	if (state->expected_count < ARRAY_SIZE(state->expected))
		state->expected[state->expected_count++] = outcome;
}

/*
 * The expectation as a case name says it: "ok", "#GP(0)" at the
 * instruction, "at target #PF" at a branch's target, "past target #GP(0)"
 * further on (the NOP slide off the end of the lower half), and " or #PF"
 * for an alternative.  Built by copying: it runs for every case.
 */
static void name_outcome(struct text *text, struct exception_info outcome,
			 const struct case_state *state)
{
	if (!outcome.raised) {
		text_append(text, "ok");
		return;
	}
	if (outcome.rip != state->instruction)
		text_append(text, outcome.rip == state->address ? "at target " : "past target ");
	text_append(text, exception_mnemonic(outcome.vector));
	if (outcome.vector == PF_VECTOR)
		return;
	text_append(text, "(");
	text_append_hex(text, outcome.error_code);
	text_append(text, ")");
}

static void name_case(char *name, size_t size, const struct case_state *state,
		      enum address_kind kind)
{
	struct text text = { name, size, 0 };

	text_append(&text, state->use->name);
	text_append(&text, " ");
	name_outcome(&text, state->expected[0], state);
	if (state->expected_count > 1) {
		text_append(&text, " or ");
		name_outcome(&text, state->expected[1], state);
	}
	if (state->use->user.function)
		text_append(&text, state->cpl ? " cpl3" : " cpl0");
	text_append(&text, " ");
	text_append(&text, kind_names[kind]);
}

/* Fault delivery at CPL 0 must not use an RSP the case made unusable. */
static void use_spare_stack(bool spare)
{
	idt_set_gate(GP_VECTOR, 0, spare ? IST_SPARE : 0);
	idt_set_gate(SS_VECTOR, 0, spare ? IST_SPARE : 0);
	idt_set_gate(PF_VECTOR, 0, spare ? IST_SPARE : 0);
}

/* Runs the case's probe with what it needs around it; CR2 starts at the sentinel. */
static struct probe_result run(const struct case_state *state)
{
	const struct use *use = state->use;
	struct probe_options options = { .cpl = state->cpl, .may_enter_ring3 = use->may_enter_ring3 };
	bool spare = use->needs_spare_stack && state->cpl == 0;
	bool fsgsbase = use->needs_feature && use->feature == FEATURE_FSGSBASE;
	struct probe_result result;

	if (fsgsbase)
		write_cr4(boot_cr4 | CR4_FSGSBASE); /* WRFSBASE needs it */
	if (spare)
		use_spare_stack(true);
	write_cr2(CR2_SENTINEL);
	result = run_probe_with(&options, state->cpl ? use->user : use->kernel, state->arguments[0],
				state->arguments[1], state->arguments[2], state->arguments[3]);
	if (spare)
		use_spare_stack(false);
	if (fsgsbase)
		write_cr4(boot_cr4);
	return result;
}

static void run_case(const struct use *use, enum address_kind kind, unsigned cpl)
{
	struct case_state state = { .use = use, .cpl = cpl, .address = kind_address(kind) };
	struct probe_result result;
	const char *what = "";
	char name[96];
	bool same, cr2_kept, state_ok;

	state.instruction = (u64)(cpl ? use->user : use->kernel).instruction;
	if (!use->prepare(&state))
		return;
	name_case(name, sizeof(name), &state, kind);
	result = run(&state);
	/* A #PF sets CR2 (compared as its address); nothing else may. */
	cr2_kept = (result.outcome.raised && result.outcome.vector == PF_VECTOR) ||
		   read_cr2() == CR2_SENTINEL;
	state_ok = use->state_agrees(&state, &result, &what);
	same = outcome_matches_one_of(name, state.expected, state.expected_count, result.outcome);
	if (same && !cr2_kept)
		report_info("%s: CR2 changed to %#lx", name, read_cr2());
	else if (same && !state_ok)
		report_info("%s: %s changed", name, what);
	report(same && cr2_kept && state_ok, "%s", name);
}

static void run_use(const struct use *use)
{
	if (use->needs_feature && !require_cpu_feature(use->feature))
		return;
	for (unsigned kind = 0; kind < ADDRESS_KINDS; kind++) {
		if (!(use->kinds & KIND(kind)))
			continue;
		run_case(use, kind, 0);
		if (use->user.function)
			run_case(use, kind, 3);
	}
}

/* ---- main ----------------------------------------------------------- */

static void set_up_test(void)
{
	u64 end = lower_half_end();
	static u8 nops[PAGE_SIZE];

	boot_cr4 = read_cr4();
	read_cpu_facts();
	name_kinds();
	/*
	 * vm_map_fixed: the one page this test needs at an exact address, the
	 * last page below the hole, so that code can run off its end.
	 */
	last_page = (u64)vm_map_fixed(end - PAGE_SIZE, PAGE_SIZE,
				      VM_USER | VM_WRITE | VM_EXECUTE,
				      "canonical: last lower-half page, code runs off its end");
	if (!last_page)
		fatal("cannot map the last lower-half page at %#lx", end - PAGE_SIZE);
	memset(nops, NOP_INSTRUCTION, sizeof(nops));
	copy_to_user(last_page, nops, sizeof(nops));
	user_stack_top = (u64)vm_alloc(PAGE_SIZE, VM_USER | VM_WRITE) + PAGE_SIZE;
	/* The first ring-3 run allocates its stack; do it before CR2 matters. */
	run_probe(PROBE_OF(user_load_quad), 3, (u64)&user_variable, 0, 0, 0);
}

static void run_table(const struct use *uses, unsigned count)
{
	for (unsigned i = 0; i < count; i++)
		run_use(&uses[i]);
}

int main(int argc, char **argv)
{
	set_up_test();
	report_info("%d-bit linear addresses (%d-level paging), vendor %s; "
		    "LA57 in CPUID.(EAX=7,ECX=0):ECX[16]: %d, CPUID.80000008H:EAX[15:8]: %d",
		    linear_address_bits(), paging_levels(), cpu_vendor_string(), supports_5_level,
		    enumerated_width);
	if (leaves_disagree)
		report_info("the two CPUID leaves disagree about 57-bit linear addresses");
	for (unsigned kind = 0; kind < ADDRESS_KINDS; kind++)
		report_info("%-14s %#018lx %s", kind_names[kind], kind_address(kind),
			    is_canonical(kind_address(kind)) ? "canonical" : "non-canonical");
	run_table(data_uses, data_use_count);
	run_table(branch_uses, branch_use_count);
	run_table(register_uses, register_use_count);
	check_running_off_the_end();
	report_undecided_cases();
	return report_summary();
}
