/*
 * exceptions.c: the one C handler behind every vector.
 *
 * Order of decisions for each exception:
 *  1. a fix-up entry for the faulting (or, for traps, the just-executed)
 *     instruction: record, put the code in %rdi, resume after it;
 *  2. a registered handler for the vector (INT n gates), or for CPL 3;
 *  3. an armed call_or_fault() recovery point at CPL 0;
 *  4. otherwise: fatal, with a full dump.  A #DF whose CR2 lies in a stack's
 *     guard page is reported as the stack overflow it is.
 */
#include "exceptions.h"
#include "descriptors.h"
#include "page-table.h"
#include "processor.h"
#include "printf.h"
#include "report.h"
#include "symbols.h"
#include "machine.h"
#include "vm.h"

struct exception_fixup {
	u64 instruction;
	u64 resume;
};

extern const struct exception_fixup exception_fixup_start[], exception_fixup_end[];

struct exception_info last_exception;
struct interrupt_frame last_exception_frame;
bool recovery_from_ring3;

/* Armed by call_or_fault (fault-probe.S): where to go back to at CPL 0. */
struct {
	u64 rip, rsp;
} exception_recovery;

static interrupt_handler vector_handlers[256];
static interrupt_handler user_handler;

static const char *const mnemonics[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#CSO", "#TS",
	"#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
	"#22", "#23", "#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31",
};

static const char *const names[32] = {
	"divide error", "debug", "non-maskable interrupt", "breakpoint", "overflow",
	"BOUND range exceeded", "invalid opcode", "device not available", "double fault",
	"coprocessor segment overrun", "invalid TSS", "segment not present",
	"stack-segment fault", "general protection", "page fault", "reserved",
	"x87 floating-point error", "alignment check", "machine check",
	"SIMD floating-point exception", "virtualization exception",
	"control protection", "reserved", "reserved", "reserved", "reserved", "reserved",
	"reserved", "hypervisor injection", "VMM communication", "security exception",
	"reserved",
};

const char *exception_mnemonic(unsigned vector)
{
	return vector < 32 ? mnemonics[vector] : "INT n";
}

const char *exception_name(unsigned vector)
{
	return vector < 32 ? names[vector] : "software or external interrupt";
}

static bool vector_has_error_code(unsigned vector)
{
	return vector == DF_VECTOR || (vector >= TS_VECTOR && vector <= PF_VECTOR) ||
	       vector == AC_VECTOR || vector == CP_VECTOR || vector == 29 || vector == 30;
}

const char *describe_page_fault_error(u32 error_code, char *buffer, size_t size)
{
	snprintf(buffer, size, "%s %s %s%s%s%s%s",
		 error_code & PAGE_FAULT_PRESENT ? "present" : "not-present",
		 error_code & PAGE_FAULT_FETCH ? "fetch" :
		 error_code & PAGE_FAULT_WRITE ? "write" : "read",
		 error_code & PAGE_FAULT_USER ? "user" : "supervisor",
		 error_code & PAGE_FAULT_RESERVED ? " reserved-bit" : "",
		 error_code & PAGE_FAULT_PROTECTION_KEY ? " protection-key" : "",
		 error_code & PAGE_FAULT_SHADOW_STACK ? " shadow-stack" : "",
		 error_code & ~0x7fu ? " other-bits" : "");
	return buffer;
}

const char *describe_exception(struct exception_info info, char *buffer, size_t size)
{
	char decoded[96];

	if (!info.raised)
		snprintf(buffer, size, "no exception");
	else if (info.vector == PF_VECTOR)
		snprintf(buffer, size, "#PF(%#x: %s) at %#lx", info.error_code,
			 describe_page_fault_error(info.error_code, decoded, sizeof(decoded)),
			 info.address);
	else if (info.vector >= 32)
		snprintf(buffer, size, "vector %u", info.vector);
	else if (vector_has_error_code(info.vector))
		snprintf(buffer, size, "%s(%#x)", mnemonics[info.vector], info.error_code);
	else
		snprintf(buffer, size, "%s", mnemonics[info.vector]);
	return buffer;
}

bool exception_equal(struct exception_info expected, struct exception_info observed)
{
	if (expected.raised != observed.raised)
		return false;
	return !expected.raised ||
	       (expected.vector == observed.vector && expected.error_code == observed.error_code);
}

/* describe_exception() and where: "#GP(0), RIP 0x..., CPL 3". */
static const char *describe_outcome(struct exception_info info, char *buffer, size_t size)
{
	char exception_text[96];

	if (!info.raised)
		return describe_exception(info, buffer, size);
	snprintf(buffer, size, "%s, RIP %#lx%s%s",
		 describe_exception(info, exception_text, sizeof(exception_text)), info.rip,
		 info.cpl == CPL_ANY ? "" : ", CPL ", info.cpl == CPL_ANY ? "" :
							info.cpl ? "3" : "0");
	return buffer;
}

/* The outcome in the errata list's words: "none", "#UD", "#GP(0)", "#PF(0x15)" (report.h). */
static const char *exception_outcome_words(struct exception_info info, char *buffer,
					   size_t size)
{
	if (!info.raised)
		snprintf(buffer, size, "none");
	else if (info.vector < 32 && vector_has_error_code(info.vector))
		snprintf(buffer, size, "%s(%#x)", mnemonics[info.vector], info.error_code);
	else
		snprintf(buffer, size, "%s", exception_mnemonic(info.vector));
	return buffer;
}

/* The outcome outcome_matches() saw last, for the errata list. */
static struct exception_info observed_for_errata;

static void describe_observed_for_errata(char *buffer, size_t size)
{
	exception_outcome_words(observed_for_errata, buffer, size);
}

void report_observed_exception(struct exception_info observed)
{
	observed_for_errata = observed;
	report_observed_by(describe_observed_for_errata);
}

/* One expected outcome against what happened. */
static bool outcome_is(struct exception_info expected, struct exception_info observed)
{
	if (!exception_equal(expected, observed))
		return false;
	return !expected.raised ||
	       (observed.rip == expected.rip &&
		(expected.vector != PF_VECTOR || observed.address == expected.address) &&
		(expected.cpl == CPL_ANY || observed.cpl == expected.cpl));
}

bool outcome_matches_one_of(const char *name, const struct exception_info *expected,
			    unsigned count, struct exception_info observed)
{
	char wanted[2][128], got[128];

	report_observed_exception(observed);
	for (unsigned i = 0; i < count; i++)
		if (outcome_is(expected[i], observed))
			return true;
	report_info("%s: expected %s%s%s; got %s", name,
		    describe_outcome(expected[0], wanted[0], sizeof(wanted[0])),
		    count > 1 ? " or " : "",
		    count > 1 ? describe_outcome(expected[1], wanted[1], sizeof(wanted[1])) : "",
		    describe_outcome(observed, got, sizeof(got)));
	return false;
}

bool check_outcome(const char *name, struct exception_info expected,
		   struct exception_info observed)
{
	return report(outcome_matches(name, expected, observed), "%s", name);
}

struct exception_info exception_from_code(u64 code)
{
	struct exception_info info = exception_decode(code);

	if (info.raised) {
		info.address = last_exception.address;
		info.rip = last_exception.rip;
		info.cpl = last_exception.cpl;
		info.cs = last_exception.cs;
		info.ss = last_exception.ss;
	}
	return info;
}

void interrupt_set_handler(unsigned vector, interrupt_handler handler)
{
	vector_handlers[vector] = handler;
}

void interrupt_set_user_handler(interrupt_handler handler)
{
	user_handler = handler;
}

static bool is_trap(unsigned vector)
{
	/* RIP already points past the instruction that raised these. */
	return vector == BP_VECTOR || vector == OF_VECTOR || vector >= 32;
}

static bool apply_fixup(struct interrupt_frame *frame)
{
	for (const struct exception_fixup *fixup = exception_fixup_start;
	     fixup < exception_fixup_end; fixup++) {
		if (fixup->instruction == frame->rip ||
		    (is_trap((unsigned)frame->vector) && fixup->resume == frame->rip)) {
			frame->rdi = EXCEPTION_CODE(frame->vector, frame->error_code);
			frame->rip = fixup->resume;
			return true;
		}
	}
	return false;
}

/* Back to call_or_fault()'s caller; from CPL 3 only when a probe asked. */
static bool apply_recovery(struct interrupt_frame *frame)
{
	if (!exception_recovery.rip ||
	    (frame_privilege_level(frame) != 0 && !recovery_from_ring3))
		return false;
	if (frame_privilege_level(frame) != 0) {
		frame->cs = KERNEL_CODE_SELECTOR;
		frame->ss = KERNEL_DATA_SELECTOR;
		frame->rflags = RFLAGS_RESERVED_ONE;
	}
	frame->rdi = EXCEPTION_CODE(frame->vector, frame->error_code);
	frame->rip = exception_recovery.rip;
	frame->rsp = exception_recovery.rsp;
	exception_recovery.rip = 0;
	return true;
}

static void record(const struct interrupt_frame *frame)
{
	last_exception.raised = true;
	last_exception.vector = (u8)frame->vector;
	last_exception.error_code = (u32)frame->error_code;
	last_exception.address = frame->vector == PF_VECTOR ? read_cr2() : 0;
	last_exception.rip = frame->rip;
	last_exception.cpl = (u8)frame_privilege_level(frame);
	last_exception.cs = (u16)frame->cs;
	last_exception.ss = (u16)frame->ss;
	last_exception_frame = *frame;
}

/* The stack whose guard page a #DF's CR2 (or RSP) lies in, or NULL. */
static const char *overflowed_stack(const struct interrupt_frame *frame)
{
	const char *stack = vm_stack_guard_owner(read_cr2());

	return stack ? stack : vm_stack_guard_owner(frame->rsp);
}

void handle_interrupt(struct interrupt_frame *frame)
{
	unsigned vector = (unsigned)frame->vector;

	record(frame);
	if (apply_fixup(frame))
		return;
	if (vector < 256 && vector_handlers[vector] && vector_handlers[vector](frame))
		return;
	if (frame_privilege_level(frame) == 3 && user_handler && user_handler(frame))
		return;
	if (apply_recovery(frame))
		return;
	dump_interrupt_frame(frame);
	const char *stack = vector == DF_VECTOR ? overflowed_stack(frame) : NULL;
	if (stack)
		fatal("kernel stack overflow: the %s stack ran into its guard page at %#lx",
		      stack, read_cr2());
	char description[128];
	fatal("unexpected exception %s (%s) at RIP %#lx",
	      describe_exception(last_exception, description, sizeof(description)),
	      exception_name(vector), frame->rip);
}

static void print_register_row(const char *a, u64 va, const char *b, u64 vb, const char *c,
			       u64 vc)
{
	printf("  %-6s %016lx  %-6s %016lx  %-6s %016lx\n", a, va, b, vb, c, vc);
}

void dump_interrupt_frame(const struct interrupt_frame *frame)
{
	char text[160];
	u64 cr2 = read_cr2();
	const char *region = vm_describe_address(cr2, text, sizeof(text));

	printf("\nUnhandled %s (%s), vector %lu, error code %#lx\n",
	       exception_mnemonic((unsigned)frame->vector), exception_name((unsigned)frame->vector),
	       frame->vector, frame->error_code);
	if (frame->vector == PF_VECTOR) {
		char decoded[96];

		printf("  page fault: %s, at %#lx (%s)\n",
		       describe_page_fault_error((u32)frame->error_code, decoded, sizeof(decoded)),
		       cr2, region);
	}
	printf("  at ");
	print_symbolized(frame->rip);
	printf(", CPL %u\n", frame_privilege_level(frame));
	print_register_row("RIP", frame->rip, "RSP", frame->rsp, "RFLAGS", frame->rflags);
	print_register_row("CS", frame->cs, "SS", frame->ss, "ERROR", frame->error_code);
	print_register_row("CR0", read_cr0(), "CR2", cr2, "CR3", read_cr3());
	print_register_row("CR4", read_cr4(), "EFER", read_msr(MSR_EFER), "RBP", frame->rbp);
	print_register_row("RAX", frame->rax, "RBX", frame->rbx, "RCX", frame->rcx);
	print_register_row("RDX", frame->rdx, "RSI", frame->rsi, "RDI", frame->rdi);
	print_register_row("R8", frame->r8, "R9", frame->r9, "R10", frame->r10);
	print_register_row("R11", frame->r11, "R12", frame->r12, "R13", frame->r13);
	print_register_row("R14", frame->r14, "R15", frame->r15, "VECTOR", frame->vector);
	print_backtrace(frame->rip, frame->rbp);
}

void fatal(const char *format, ...)
{
	char message[256];
	va_list arguments;

	va_start(arguments, format);
	vsnprintf(message, sizeof(message), format, arguments);
	va_end(arguments);
	report_fail("%s", message);
	exit_test(report_summary());
}
