/*
 * probe.c: running a probe at CPL 0 or CPL 3, and the single accesses
 * most tests need, written as probes too.
 */
#include "probe.h"
#include "processor.h"
#include "user.h"

/*
 * The shared probes (probe.h).  The branches note RSP just before the
 * branch in RSI, and a load starts with RAX = RSI, so that a test can see
 * what a faulting branch pushed or popped and whether a faulting load wrote.
 */
PROBE(call_target, BOTH, "mov %rsp, %rsi", "call *%rdi", "");
PROBE(jump_to, BOTH, "mov %rsp, %rsi", "jmp *%rdi", "");
PROBE(return_to, BOTH, "push %rdi\n\tmov %rsp, %rsi", "ret", "");
/* IRETQ to CPL 0 at RDI on this stack; RSI = RSP before, RDX = RSP at the IRETQ. */
PROBE(iretq_to_kernel, KERNEL,
      "mov %rsp, %rsi\n\tmov %ss, %eax\n\tpush %rax\n\tpush %rsi\n\tpushfq\n\t"
      "mov %cs, %eax\n\tpush %rax\n\tpush %rdi\n\tmov %rsp, %rdx",
      "iretq", "");
PROBE(load_quad, BOTH, "mov %rsi, %rax", "mov (%rdi), %rax", "");
PROBE(store_quad, BOTH, "", "mov %rsi, (%rdi)", "");
PROBE(load_quad_through_rbp, BOTH, "push %rbp\n\tmov %rdi, %rbp\n\tmov %rsi, %rax",
      "mov (%rbp), %rax", "pop %rbp");
PROBE(push_quad, BOTH, "mov %rsp, %r11\n\tmov %rdi, %rsp", "push %rsi", "mov %r11, %rsp");
PROBE(load_fs, BOTH, "", "mov %di, %fs", "xor %eax, %eax\n\tmov %eax, %fs");
PROBE(task_register_load, BOTH, "", "ltr %di", "");
PROBE(ldt_register_load, BOTH, "", "lldt %di", "");
PROBE(invalidate_page_at, KERNEL, "", "invlpg (%rdi)", "");
PROBE(cr4_write, KERNEL, "", "mov %rdi, %cr4", "");
/* WRMSR: index in EDI, value in RSI. */
PROBE(msr_write, KERNEL,
      "mov %edi, %ecx\n\tmov %esi, %eax\n\tmov %rsi, %rdx\n\tshr $32, %rdx", "wrmsr", "");
PROBE(byte_store, BOTH, "", "movb %sil, (%rdi)", "");

struct probe_call {
	probe_function function;
	u64 arguments[4];
};

/* call_or_fault() passes one argument: this one unpacks four. */
static u64 call_probe(u64 argument)
{
	const struct probe_call *call = (const struct probe_call *)argument;

	return call->function(call->arguments[0], call->arguments[1], call->arguments[2],
			      call->arguments[3]);
}

static struct probe_result run_at_cpl0(const struct probe_options *options,
				       const struct probe_call *call)
{
	struct probe_result result = { 0 };
	u64 flags = set_alignment_check(options->alignment_check);

	recovery_from_ring3 = options->may_enter_ring3;
	result.outcome = call_or_fault((u64)call_probe, (u64)call, &result.value);
	recovery_from_ring3 = false;
	write_rflags(flags);
	return result;
}

static struct probe_result run_at_cpl3(const struct probe_options *options,
				       const struct probe_call *call)
{
	struct user_options user = { .entry = options->user_entry,
				     .rflags = options->alignment_check ? RFLAGS_ALIGNMENT_CHECK : 0 };
	struct user_result run = run_user_with(&user, call->function, call->arguments[0],
					       call->arguments[1], call->arguments[2],
					       call->arguments[3]);
	struct probe_result result = { .outcome = user_outcome(&run), .value = run.value };

	return result;
}

struct probe_result run_probe_with(const struct probe_options *options, struct probe probe,
				   u64 a, u64 b, u64 c, u64 d)
{
	struct probe_call call = { probe.function, { a, b, c, d } };
	struct probe_result result = options->cpl ? run_at_cpl3(options, &call) :
						    run_at_cpl0(options, &call);

	if (result.outcome.raised)
		result.frame = last_exception_frame;
	result.outcome.instruction = (u64)probe.instruction;
	return result;
}

static struct exception_info at_cpl0(struct probe probe, u64 a, u64 b, u64 *value)
{
	struct probe_result result = run_probe(probe, 0, a, b, 0, 0);

	if (value)
		*value = result.value;
	return result.outcome;
}

struct exception_info read_u64_or_fault(u64 address, u64 *value)
{
	return at_cpl0(PROBE_OF(load_quad), address, 0, value);
}

struct exception_info write_u8_or_fault(u64 address, u8 value)
{
	return at_cpl0(PROBE_OF(byte_store), address, value, NULL);
}

struct exception_info write_u64_or_fault(u64 address, u64 value)
{
	return at_cpl0(PROBE_OF(store_quad), address, value, NULL);
}

struct exception_info write_msr_or_fault(u32 index, u64 value)
{
	return at_cpl0(PROBE_OF(msr_write), index, value, NULL);
}

struct exception_info call_at_cpl0(u64 target, u64 *value)
{
	return at_cpl0(PROBE_OF(call_target), target, 0, value);
}
