/*
 * registers.c: canonical's loads of registers that hold a linear address
 * for later (SDM Vol. 2D WRMSR, WRFSBASE; Vol. 2A LGDT, LIDT, LTR, LLDT,
 * INVLPG, INVPCID; APM Vol. 3, same instructions): a non-canonical value
 * raises #GP(0), or #GP(selector) for LTR and LLDT, and changes nothing.
 *
 * The 57-bit rule (the comment at the top of canonical.c gives its
 * sources): on an Intel CPU that supports 5-level paging, the loads below
 * marked follows_57_bit_rule accept a value canonical at 57 bits even
 * under 4-level paging.  WRFSBASE and WRGSBASE are on no list and keep the
 * paging mode's rule.  The APM states no such rule, so on AMD the values it
 * would decide are counted and SKIPped, as they are where CPUID's two
 * width leaves disagree.
 */
#include "canonical.h"
#include "exceptions.h"
#include "page-table.h"
#include "processor.h"
#include "report.h"

/* WRFSBASE and WRGSBASE of RDI, at both CPLs (CR4.FSGSBASE set for the case). */
PROBE(write_fs_base, BOTH, "", "wrfsbase %rdi", "");
PROBE(write_gs_base, BOTH, "", "wrgsbase %rdi", "");
/*
 * LGDT/LIDT of base RDI, limit RSI; then store what was loaded to (RDX) and
 * put the original (RCX) back at once, so a wrongly accepted base is never
 * used.
 */
PROBE(load_gdt, KERNEL, "sub $16, %rsp\n\tmov %rsi, (%rsp)\n\tmov %rdi, 2(%rsp)", "lgdt (%rsp)",
      "sgdt (%rdx)\n\tlgdt (%rcx)\n\tadd $16, %rsp");
PROBE(load_idt, KERNEL, "sub $16, %rsp\n\tmov %rsi, (%rsp)\n\tmov %rdi, 2(%rsp)", "lidt (%rsp)",
      "sidt (%rdx)\n\tlidt (%rcx)\n\tadd $16, %rsp");
/* INVPCID type 0 (one address, PCID 0) with the address RDI. */
PROBE(invalidate_pcid, KERNEL, "sub $16, %rsp\n\tmovq $0, (%rsp)\n\tmov %rdi, 8(%rsp)\n\t"
      "xor %eax, %eax", "invpcid (%rsp), %rax", "add $16, %rsp");

unsigned undecided_cases[RULES];

/*
 * Under 4-level paging, a value canonical at 57 bits but not at 48 is
 * accepted by loads that follow the 57-bit rule, on an Intel CPU that
 * supports 5-level paging; AMD states no such rule.
 */
static enum rule register_rule(u64 value, bool follows_57_bit_rule)
{
	if (is_canonical(value))
		return RULE_CANONICAL;
	if (!follows_57_bit_rule || !canonical_at(value, 57))
		return RULE_NONCANONICAL;
	if (leaves_disagree)
		return UNDECIDED_LEAVES_DISAGREE;
	if (!supports_5_level)
		return RULE_NONCANONICAL;
	if (vendor == VENDOR_AMD)
		return UNDECIDED_APM_SILENT;
	return vendor == VENDOR_INTEL ? RULE_CANONICAL : UNDECIDED_VENDOR;
}

static bool msr_is_sysenter(u32 index)
{
	return index == MSR_SYSENTER_ESP || index == MSR_SYSENTER_EIP;
}

/* The vendors' own MSR rules on top of register_rule(). */
static enum rule msr_rule(const struct use *use, enum rule rule)
{
	if (msr_is_sysenter(use->msr) && vendor == VENDOR_AMD)
		return RULE_CANONICAL; /* AMD keeps bits 31:0 and never faults */
	if (msr_is_sysenter(use->msr) && vendor == VENDOR_OTHER)
		return UNDECIDED_VENDOR;
	if (use->msr == MSR_CSTAR && vendor == VENDOR_INTEL && rule != RULE_CANONICAL)
		return UNDECIDED_CSTAR_NOT_LISTED;
	return rule;
}

/* The expectation of a register load; false (counted) when it is undecided. */
static bool expect_register_rule(struct case_state *state, u32 error_code)
{
	const struct use *use = state->use;
	enum rule rule = register_rule(state->address, use->follows_57_bit_rule);

	if (use->msr)
		rule = msr_rule(use, rule);
	if (rule != RULE_CANONICAL && rule != RULE_NONCANONICAL) {
		undecided_cases[rule]++;
		return false;
	}
	expect(state, rule == RULE_CANONICAL ? no_exception() :
		      at_cpl(fault_at(GP_VECTOR, error_code, state->instruction), state->cpl));
	return true;
}

/* WRMSR: MSR index, then the value; WRFSBASE/WRGSBASE: the value. */
static bool prepare_msr(struct case_state *state)
{
	bool wrmsr = state->use->kernel.function == msr_write;

	state->arguments[0] = wrmsr ? state->use->msr : state->address;
	state->arguments[1] = state->address;
	state->old_value = read_msr(state->use->msr);
	return expect_register_rule(state, 0);
}

/* A faulting load keeps the MSR; AMD's SYSENTER MSRs keep bits 31:0 only. */
static bool msr_state_agrees(struct case_state *state, const struct probe_result *result,
			     const char **what)
{
	u64 value = read_msr(state->use->msr);
	bool ok;

	*what = "the MSR";
	if (result->outcome.raised)
		ok = value == state->old_value;
	else if (msr_is_sysenter(state->use->msr) && vendor == VENDOR_AMD)
		ok = (u32)value == (u32)state->address;
	else
		ok = value == state->address;
	write_msr(state->use->msr, state->old_value);
	return ok;
}

static bool prepare_table_base(struct case_state *state)
{
	state->original = state->use->table_is_idt ? read_idtr() : read_gdtr();
	state->arguments[0] = state->address;
	state->arguments[1] = state->original.limit;
	state->arguments[2] = (u64)&state->loaded;
	state->arguments[3] = (u64)&state->original;
	return expect_register_rule(state, 0);
}

static bool table_base_state_agrees(struct case_state *state, const struct probe_result *result,
				    const char **what)
{
	bool idt = state->use->table_is_idt;

	*what = idt ? "IDTR" : "GDTR";
	if (result->outcome.raised)
		return (idt ? read_idtr() : read_gdtr()).base == state->original.base;
	return state->loaded.base == state->address;
}

/* A 16-byte TSS or LDT descriptor with the base under test, at SPARE_SELECTOR. */
static bool prepare_system_segment(struct case_state *state)
{
	unsigned type = state->use->descriptor_type;

	gdt_set_system_descriptor(SPARE_SELECTOR, type, state->address,
				  type == SYSTEM_DESCRIPTOR_LDT ? 0xfff : TSS_SIZE - 1);
	state->arguments[0] = SPARE_SELECTOR;
	if (expect_register_rule(state, SPARE_SELECTOR))
		return true;
	gdt_clear_system_descriptor(SPARE_SELECTOR);
	return false;
}

/* A faulting load leaves TR or LDTR and the busy bit; a good one loads them. */
static bool system_segment_state_agrees(struct case_state *state,
					const struct probe_result *result, const char **what)
{
	bool raised = result->outcome.raised, ok;

	if (state->use->descriptor_type == SYSTEM_DESCRIPTOR_LDT) {
		*what = "LDTR";
		ok = read_ldtr() == (raised ? 0 : SPARE_SELECTOR);
		load_ldtr(0);
	} else {
		*what = "TR or the busy bit";
		ok = read_task_register() == (raised ? TSS_SELECTOR : SPARE_SELECTOR) &&
		     descriptor_type(global_descriptor_table[SPARE_SELECTOR / 8]) ==
			     (raised ? SYSTEM_DESCRIPTOR_TSS_AVAILABLE : SYSTEM_DESCRIPTOR_TSS_BUSY);
		if (read_task_register() != TSS_SELECTOR)
			restore_task_register();
	}
	gdt_clear_system_descriptor(SPARE_SELECTOR);
	return ok;
}

/* INVLPG is a no-op for any address; INVPCID checks it. */
static bool prepare_invalidation(struct case_state *state)
{
	state->arguments[0] = state->address;
	if (state->use->kernel.function == invalidate_page_at) {
		expect(state, no_exception());
		return true;
	}
	return expect_register_rule(state, 0);
}

static bool nothing_to_agree(struct case_state *state, const struct probe_result *result,
			     const char **what)
{
	*what = "nothing";
	return true;
}

#define WRMSR(register_name, index)                                                      \
	{ .name = "wrmsr " register_name, AT_CPL0_ONLY(msr_write), .msr = index,             \
	  .prepare = prepare_msr, .state_agrees = msr_state_agrees,                          \
	  .follows_57_bit_rule = true, .kinds = BOTH_MODES }
#define WRITE_BASE(instruction, probe, index)                                            \
	{ .name = instruction, AT_BOTH_CPLS(probe), .msr = index, .prepare = prepare_msr,    \
	  .state_agrees = msr_state_agrees, .feature = FEATURE_FSGSBASE,                     \
	  .needs_feature = true, .kinds = BOTH_MODES }
#define TABLE_BASE(instruction, probe, idt)                                              \
	{ .name = instruction, AT_CPL0_ONLY(probe), .table_is_idt = idt,                     \
	  .prepare = prepare_table_base, .state_agrees = table_base_state_agrees,            \
	  .follows_57_bit_rule = true, .kinds = BOTH_MODES }
#define SYSTEM_SEGMENT(instruction, probe, type)                                         \
	{ .name = instruction, AT_CPL0_ONLY(probe), .descriptor_type = type,                 \
	  .prepare = prepare_system_segment, .state_agrees = system_segment_state_agrees,    \
	  .follows_57_bit_rule = true, .kinds = BOTH_MODES }

const struct use register_uses[] = {
	WRMSR("FS_BASE", MSR_FS_BASE),
	WRMSR("GS_BASE", MSR_GS_BASE),
	WRMSR("KERNEL_GS_BASE", MSR_KERNEL_GS_BASE),
	WRMSR("LSTAR", MSR_LSTAR),
	WRMSR("CSTAR", MSR_CSTAR),
	WRMSR("SYSENTER_ESP", MSR_SYSENTER_ESP),
	WRMSR("SYSENTER_EIP", MSR_SYSENTER_EIP),
	WRITE_BASE("wrfsbase", write_fs_base, MSR_FS_BASE),
	WRITE_BASE("wrgsbase", write_gs_base, MSR_GS_BASE),
	TABLE_BASE("lgdt", load_gdt, false),
	TABLE_BASE("lidt", load_idt, true),
	SYSTEM_SEGMENT("ltr", task_register_load, SYSTEM_DESCRIPTOR_TSS_AVAILABLE),
	SYSTEM_SEGMENT("lldt", ldt_register_load, SYSTEM_DESCRIPTOR_LDT),
	{ .name = "invlpg", AT_CPL0_ONLY(invalidate_page_at), .prepare = prepare_invalidation,
	  .state_agrees = nothing_to_agree, .kinds = BOTH_MODES },
	{ .name = "invpcid", AT_CPL0_ONLY(invalidate_pcid), .prepare = prepare_invalidation,
	  .state_agrees = nothing_to_agree, .follows_57_bit_rule = true,
	  .feature = FEATURE_INVPCID, .needs_feature = true, .kinds = BOTH_MODES },
};
const unsigned register_use_count = ARRAY_SIZE(register_uses);

/* One SKIP line per reason an expectation was left open. */
void report_undecided_cases(void)
{
	static const char *const reasons[RULES] = {
		[UNDECIDED_APM_SILENT] = "register loads of values canonical at 57 bits but not "
					 "at 48: the AMD APM gives no rule for them under "
					 "4-level paging",
		[UNDECIDED_LEAVES_DISAGREE] = "register loads of values canonical at 57 bits but "
					      "not at 48: CPUID.(EAX=7,ECX=0):ECX[16] (LA57) "
					      "and CPUID.80000008H:EAX[15:8] disagree, and the "
					      "rule depends on which is right",
		[UNDECIDED_CSTAR_NOT_LISTED] = "WRMSR of non-canonical values to IA32_CSTAR: the "
					       "SDM's WRMSR page does not list that MSR among "
					       "those it checks",
		[UNDECIDED_VENDOR] = "vendor-specific cases: the CPU is neither Intel nor AMD",
	};

	for (unsigned rule = UNDECIDED_APM_SILENT; rule < RULES; rule++)
		if (undecided_cases[rule])
			report_skip("%u %s", undecided_cases[rule], reasons[rule]);
}
