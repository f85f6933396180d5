/*
 * user.c: run_user() and everything ring 3 can raise.
 *
 * While a user function runs, every exception taken at CPL 3 comes here
 * (after the fix-up table, which user code may use too):
 *   - the system call INT3 at user_system_call_breakpoint, INT 0x80 and
 *     SYSCALL are system calls: exit, print or report;
 *   - a fault under user_call_or_fault() resumes that probe;
 *   - anything else ends the function, and run_user() returns the fault.
 * The kernel never crashes because of ring 3, and never needs GS.
 */
#include "user.h"
#include "descriptors.h"
#include "layout.h"
#include "image.h"
#include "memory.h"
#include "printf.h"
#include "processor.h"
#include "report.h"
#include "user-access.h"
#include "vm.h"

/* What user_enter() (user-entry.S) reads; the offsets are fixed there. */
struct user_launch {
	u64 rip, rsp, rflags;
	u64 arguments[4];
	u64 function;
	u64 exit;
	u64 entry;
};
_Static_assert(__builtin_offsetof(struct user_launch, function) == 56, "launch layout");
_Static_assert(__builtin_offsetof(struct user_launch, entry) == 72, "launch layout");

void user_enter(const struct user_launch *launch);
void NORETURN user_leave(void);
extern char syscall_entry[];

static struct user_result result;
static bool user_running;
static u64 default_stack_top;

static void NORETURN finish(void)
{
	user_running = false;
	user_leave();
}

/* A ring-3 string (address and length) into buffer, cut to fit; false if unreadable. */
static bool copy_user_string(char *buffer, size_t size, u64 text, u64 length)
{
	if (length >= size)
		length = size - 1;
	if (!copy_from_user(buffer, text, length))
		return false;
	buffer[length] = '\0';
	return true;
}

static void copy_and_print(u64 text, u64 length)
{
	char buffer[256];

	if (copy_user_string(buffer, sizeof(buffer), text, length))
		print_string(buffer);
	else
		report_fail("ring 3 printed from memory it cannot read: %#lx", text);
}

static void copy_and_report(bool pass, u64 name, u64 length)
{
	char buffer[200];

	if (copy_user_string(buffer, sizeof(buffer), name, length))
		report(pass, "%s", buffer);
	else
		report_fail("ring 3 reported a check whose name it cannot read: %#lx", name);
}

/* Returns to ring 3 (true), except for EXIT, which ends run_user(). */
static bool system_call(struct interrupt_frame *frame, unsigned way)
{
	switch (frame->rdi) {
	case SYSTEM_CALL_EXIT:
		result.value = frame->rsi;
		result.way_back = way;
		result.exit_cs = (u16)frame->cs;
		result.exit_ss = (u16)frame->ss;
		finish();
	case SYSTEM_CALL_PRINT:
		copy_and_print(frame->rsi, frame->rdx);
		break;
	case SYSTEM_CALL_REPORT:
		copy_and_report(frame->rsi != 0, frame->rdx, frame->r10);
		break;
	default:
		report_fail("unknown system call %lu from ring 3", frame->rdi);
		break;
	}
	frame->rax = 0;
	return true;
}

/* A fault under user_call_or_fault(): its return address tops the user stack. */
static bool resume_call_probe(struct interrupt_frame *frame)
{
	u64 return_address;

	if (!copy_from_user(&return_address, frame->rsp, sizeof(return_address)) ||
	    return_address != (u64)user_call_probe_return)
		return false;
	frame->rdi = EXCEPTION_CODE(frame->vector, frame->error_code);
	frame->rip = (u64)user_call_probe_resume;
	frame->rsp += sizeof(return_address);
	return true;
}

static bool user_interrupt(struct interrupt_frame *frame)
{
	if (!user_running)
		return false;
	if (frame->vector == BP_VECTOR && frame->rip == (u64)user_system_call_breakpoint + 1)
		return system_call(frame, USER_EXIT_EXCEPTION);
	if (frame->vector == SYSCALL_FRAME_VECTOR)
		return system_call(frame, USER_EXIT_SYSCALL);
	if (frame->vector == USER_INTERRUPT_VECTOR)
		return system_call(frame, USER_EXIT_INTERRUPT);
	if (resume_call_probe(frame))
		return true;
	result.faulted = true;
	result.fault = last_exception;
	finish();
}

void user_mode_init(void)
{
	write_msr(MSR_EFER, read_msr(MSR_EFER) | EFER_SYSCALL_ENABLE);
	/* SYSRET: CS = STAR[63:48] + 16, SS = + 8; SYSCALL: CS = STAR[47:32], SS = + 8. */
	write_msr(MSR_STAR, (u64)(USER_CODE32_SELECTOR & ~3) << 48 | (u64)KERNEL_CODE_SELECTOR << 32);
	write_msr(MSR_LSTAR, (u64)syscall_entry);
	write_msr(MSR_CSTAR, (u64)syscall_entry);
	write_msr(MSR_SFMASK, RFLAGS_INTERRUPT | RFLAGS_ALIGNMENT_CHECK | RFLAGS_DIRECTION |
				      RFLAGS_TRAP | RFLAGS_NESTED_TASK);
	idt_set_gate(USER_INTERRUPT_VECTOR, 3, 0);
	interrupt_set_user_handler(user_interrupt);
}

static u64 default_user_stack(void)
{
	if (!default_stack_top) {
		u64 bottom = (u64)vm_alloc(USER_STACK_SIZE, VM_USER | VM_WRITE);

		if (!bottom)
			fatal("cannot allocate the user stack");
		default_stack_top = bottom + USER_STACK_SIZE;
	}
	return default_stack_top;
}

struct user_result run_user_with(const struct user_options *options, user_function function,
				 u64 a, u64 b, u64 c, u64 d)
{
	static const struct user_options defaults;
	struct user_launch launch;

	if (!options)
		options = &defaults;
	launch = (struct user_launch){
		.rip = (u64)user_trampoline,
		.rsp = options->stack_top ? options->stack_top : default_user_stack(),
		.rflags = RFLAGS_RESERVED_ONE | options->rflags,
		.arguments = { a, b, c, d },
		.function = (u64)function,
		.exit = options->exit,
		.entry = options->entry,
	};
	memset(&result, 0, sizeof(result));
	user_running = true;
	user_enter(&launch);
	return result;
}

const char *describe_user_result(const struct user_result *outcome, char *buffer, size_t size)
{
	static const char *const ways[] = { "INT3", "SYSCALL", "INT 0x80" };
	char fault[128];

	if (outcome->faulted)
		snprintf(buffer, size, "%s at RIP %#lx (CS %#x SS %#x)",
			 describe_exception(outcome->fault, fault, sizeof(fault)), outcome->fault.rip,
			 outcome->fault.cs, outcome->fault.ss);
	else
		snprintf(buffer, size, "returned %#lx through %s", outcome->value,
			 ways[outcome->way_back]);
	return buffer;
}

bool is_user_image_address(u64 address)
{
	return address >= IMAGE_ADDRESS(user_text_start) && address < IMAGE_ADDRESS(user_data_end);
}
