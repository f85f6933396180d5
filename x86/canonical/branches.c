/*
 * branches.c: canonical's branches and returns (SDM Vol. 2A JMP, CALL, IRET,
 * Vol. 2B RET, SYSRET, Vol. 3A 5.8.8, 6.5, 6.15; APM Vol. 3, same
 * instructions): a near branch or IRETQ to a non-canonical RIP raises #GP(0)
 * at the branch with nothing pushed or popped; SYSRETQ with a non-canonical
 * RCX faults at CPL 0 on Intel and at CPL 3 at RCX on AMD; code that runs
 * off the end of the lower half faults on the first non-canonical fetch.
 */
#include "canonical.h"
#include "exceptions.h"
#include "layout.h"
#include "page-table.h"
#include "processor.h"
#include "report.h"
#include "test-fixtures.h"
#include "user-access.h"
#include "user.h"

#define TWO_BYTE_ESCAPE 0x0f /* first byte of a two-byte opcode */

/* IRETQ to RDI at CPL 3 on stack RSI; RDX = RSP at the IRETQ. */
PROBE(iretq_to_user, KERNEL,
      "pushq $" PROBE_NUMBER(USER_DATA_SELECTOR) "\n\tpush %rsi\n\tpushq $2\n\t"
      "pushq $" PROBE_NUMBER(USER_CODE_SELECTOR) "\n\tpush %rdi\n\tmov %rsp, %rdx",
      "iretq", "");
/* SYSRETQ to RCX = RDI with RFLAGS = 2 and the user stack RSI; RDX = kernel RSP. */
PROBE(sysret, KERNEL, "mov %rdi, %rcx\n\tmov $2, %r11d\n\tmov %rsp, %rdx\n\tmov %rsi, %rsp",
      "sysretq", "");

/*
 * What fetching at a canonical target does: #PF at the target, or (the
 * last lower page) a slide over NOPs into the hole.
 */
struct exception_info fetch_outcome(u64 target, unsigned cpl)
{
	u32 access = PAGE_FAULT_FETCH | (cpl == 3 ? PAGE_FAULT_USER : 0);
	struct page_walk walk;
	bool user;

	page_table_walk(target, &walk);
	user = walk.effective_flags & PAGE_USER;
	if (!walk.present)
		return at_cpl(page_fault_at(access, target, target), cpl);
	if ((cpl == 3 && !user) || (cpl == 0 && user && (boot_cr4 & CR4_SMEP)) ||
	    (walk.effective_flags & PAGE_NO_EXECUTE))
		return at_cpl(page_fault_at(PAGE_FAULT_PRESENT | access, target, target), cpl);
	if (ALIGN_DOWN(target, PAGE_SIZE) == last_page)
		return at_cpl(fault_at(GP_VECTOR, 0, lower_half_end()), cpl);
	return no_exception();
}

/* A branch checks its target: #GP(0) at the branch itself, at its CPL. */
static bool prepare_branch(struct case_state *state)
{
	state->arguments[0] = state->address;
	if (!is_canonical(state->address))
		expect(state, at_cpl(fault_at(GP_VECTOR, 0, state->instruction), state->cpl));
	else
		expect(state, fetch_outcome(state->address, state->cpl));
	return true;
}

/* IRETQ to CPL 3 and SYSRETQ run on the user stack. */
static bool prepare_return_to_user(struct case_state *state)
{
	bool is_sysret = state->use->kernel.function == sysret;

	state->arguments[0] = state->address;
	state->arguments[1] = user_stack_top;
	if (is_canonical(state->address))
		expect(state, fetch_outcome(state->address, 3));
	else if (!is_sysret || vendor == VENDOR_INTEL)
		expect(state, at_cpl(fault_at(GP_VECTOR, 0, state->instruction), 0));
	else if (vendor == VENDOR_AMD)
		expect(state, at_cpl(fault_at(GP_VECTOR, 0, state->address), 3));
	else
		undecided_cases[UNDECIDED_VENDOR]++;
	return state->expected_count > 0;
}

/*
 * At the branch nothing is pushed or popped: RSP is what it was before
 * (RSI), or for IRETQ what it was at the IRETQ (RDX).  Past it, CALL has
 * pushed, RET and IRETQ popped, IRETQ and SYSRETQ loaded the user stack.
 */
static bool branch_state_agrees(struct case_state *state, const struct probe_result *result,
				const char **what)
{
	const struct interrupt_frame *frame = &result->frame;
	bool at_instruction = result->outcome.rip == state->instruction;
	probe_function function = state->use->kernel.function;

	*what = "RSP";
	if (!result->outcome.raised)
		return true;
	if (function == call_target)
		return frame->rsp == frame->rsi - (at_instruction ? 0 : 8);
	if (function == return_to)
		return frame->rsp == frame->rsi + (at_instruction ? 0 : 8);
	if (function == iretq_to_kernel)
		return frame->rsp == (at_instruction ? frame->rdx : frame->rsi);
	if (function == iretq_to_user)
		return frame->rsp == (at_instruction ? frame->rdx : user_stack_top);
	if (function == sysret)
		return frame->rsp == user_stack_top;
	return true;
}

#define BRANCH(...) .prepare = prepare_branch, .state_agrees = branch_state_agrees, __VA_ARGS__
#define TO_USER(...) .prepare = prepare_return_to_user, .state_agrees = branch_state_agrees, \
		     .may_enter_ring3 = true, __VA_ARGS__

const struct use branch_uses[] = {
	{ .name = "jmp", AT_BOTH_CPLS(jump_to), BRANCH(.kinds = BOTH_MODES) },
	{ .name = "call", AT_BOTH_CPLS(call_target), BRANCH(.kinds = THIS_MODE) },
	{ .name = "ret", AT_BOTH_CPLS(return_to), BRANCH(.kinds = THIS_MODE) },
	{ .name = "iretq to cpl0", AT_CPL0_ONLY(iretq_to_kernel), BRANCH(.kinds = THIS_MODE) },
	{ .name = "iretq to cpl3", AT_CPL0_ONLY(iretq_to_user), TO_USER(.kinds = THIS_MODE) },
	/* Intel's #GP comes at CPL 0 with the user RSP: a spare stack takes it. */
	{ .name = "sysretq", AT_CPL0_ONLY(sysret),
	  TO_USER(.needs_spare_stack = true, .kinds = THIS_MODE) },
};
const unsigned branch_use_count = ARRAY_SIZE(branch_uses);

/* ---- running off the end of the lower half -------------------------- */

/* Calls the last lower page's last byte at cpl (SMEP off at CPL 0: it is user). */
static struct exception_info call_last_byte(u64 entry, unsigned cpl)
{
	struct probe_result result;

	write_cr2(CR2_SENTINEL);
	write_cr4(boot_cr4 & ~(u64)(cpl ? 0 : CR4_SMEP));
	result = run_probe(cpl ? PROBE_OF(user_call_target) : PROBE_OF(call_target), cpl, entry,
			   0, 0, 0);
	write_cr4(boot_cr4);
	return result.outcome;
}

/*
 * The last lower page holds NOPs.  Entered at its last byte, the CPU runs
 * that NOP and fetches the next instruction from the hole.  With a
 * two-byte opcode's first byte there instead, the instruction itself
 * straddles the boundary.
 */
void check_running_off_the_end(void)
{
	static const struct {
		const char *name;
		u8 last_byte;
		unsigned cpl;
	} cases[] = {
		{ .name = "run off the end cpl3: #GP(0) at hole start", .last_byte = NOP_INSTRUCTION,
		  .cpl = 3 },
		{ .name = "run off the end cpl0: #GP(0) at hole start", .last_byte = NOP_INSTRUCTION,
		  .cpl = 0 },
		{ .name = "straddle the end cpl3: #GP(0) at last byte", .last_byte = TWO_BYTE_ESCAPE,
		  .cpl = 3 },
		{ .name = "straddle the end cpl0: #GP(0) at last byte", .last_byte = TWO_BYTE_ESCAPE,
		  .cpl = 0 },
	};
	u64 entry = last_page + PAGE_SIZE - 1;

	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		u64 rip = cases[i].last_byte == NOP_INSTRUCTION ? lower_half_end() : entry;
		struct exception_info observed;
		bool cr2_kept;

		copy_to_user(entry, &cases[i].last_byte, 1);
		observed = call_last_byte(entry, cases[i].cpl);
		cr2_kept = read_cr2() == CR2_SENTINEL;
		if (!cr2_kept)
			report_info("%s: CR2 changed to %#lx", cases[i].name, read_cr2());
		report(outcome_matches(cases[i].name, at_cpl(fault_at(GP_VECTOR, 0, rip), cases[i].cpl),
				       observed) && cr2_kept,
		       "%s", cases[i].name);
	}
}
