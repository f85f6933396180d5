/*
 * user.h: running code at CPL 3 in the lower half, and coming back.
 *
 * User functions live in the image's user sections, which the boot stub maps
 * at their lower-half link address with U/S=1 (and nowhere else):
 *
 *     static u64 USER_CODE count_to(u64 limit, u64 b, u64 c, u64 d) { ... }
 *     static u64 USER_DATA counter;
 *     const char *text = USER_STRING("printed from ring 3");
 *
 * A user function must not touch kernel memory: no string literals (use
 * USER_STRING), no switch tables (the build uses -fno-jump-tables) and no
 * calls to kernel functions.  The build checks the user sections'
 * relocations and refuses an image that breaks this.
 *
 * run_user() enters ring 3 with IRETQ (or SYSRETQ), on a user stack from
 * vm_alloc(VM_USER) with a guard page below, and returns the function's
 * value, or the fault that ended it.  The way back is an exception by
 * default (INT3 through the DPL 3 #BP gate), because that works on every
 * hypervisor; SYSCALL and INT 0x80 are the other two ways, chosen in
 * struct user_options.  Exceptions from ring 3 run on TSS.RSP0; canon does
 * not use GS, so there is no SWAPGS.
 */
#ifndef CANON_USER_H
#define CANON_USER_H

#define USER_CODE __attribute__((section(".user.text"), noinline))
#define USER_DATA __attribute__((section(".user.data")))
#define USER_READ_ONLY __attribute__((section(".user.rodata")))
/* A string literal placed in user read-only data. */
#define USER_STRING(text)                                             \
	({                                                            \
		static const char user_string_[] USER_READ_ONLY = text; \
		user_string_;                                         \
	})

/* The DPL 3 gate for the INT n way back. */
#define USER_INTERRUPT_VECTOR 0x80
/* What syscall_entry puts in the frame's vector field: not a real vector. */
#define SYSCALL_FRAME_VECTOR 0x100

/* Ways in and ways back (numbers, so that user-entry.S can use them). */
#define USER_ENTRY_IRETQ 0
#define USER_ENTRY_SYSRETQ 1
#define USER_EXIT_EXCEPTION 0 /* INT3 through the DPL 3 #BP gate */
#define USER_EXIT_SYSCALL 1
#define USER_EXIT_INTERRUPT 2 /* INT 0x80 through a DPL 3 gate */

/* System calls: number in RDI, arguments in RSI, RDX and R10. */
#define SYSTEM_CALL_EXIT 0   /* (value): ends run_user() */
#define SYSTEM_CALL_PRINT 1  /* (string, length) */
#define SYSTEM_CALL_REPORT 2 /* (pass, name, length): one check, in the kernel's log */

#ifndef __ASSEMBLER__
#include "types.h"
#include "exceptions.h"

typedef u64 (*user_function)(u64 a, u64 b, u64 c, u64 d);

struct user_options {
	unsigned entry; /* USER_ENTRY_* */
	unsigned exit;  /* USER_EXIT_* */
	u64 stack_top;   /* 0: the default user stack */
	u64 rflags;      /* extra RFLAGS bits for ring 3 (AC, IOPL, ...) */
};

struct user_result {
	bool faulted;               /* an exception ended the function */
	u64 value;                  /* its return value, when it returned */
	struct exception_info fault; /* vector, error code, CR2, user RIP, CS, SS */
	unsigned way_back;          /* USER_EXIT_*: how it came back, when it returned */
	u16 exit_cs, exit_ss;       /* selectors of the code that came back */
};

/* Sets up STAR/LSTAR/SFMASK and the INT 0x80 gate; called by setup. */
void user_mode_init(void);

struct user_result run_user_with(const struct user_options *options, user_function function,
				 u64 a, u64 b, u64 c, u64 d);

static inline struct user_result run_user(user_function function, u64 a, u64 b, u64 c, u64 d)
{
	return run_user_with(NULL, function, a, b, c, d);
}

/* What ended a ring-3 run, as an outcome: its fault, or no exception. */
static inline struct exception_info user_outcome(const struct user_result *result)
{
	return result->faulted ? result->fault : no_exception();
}

/* "returned 5 through INT3", or "#PF(...) at RIP ..." */
const char *describe_user_result(const struct user_result *result, char *buffer, size_t size);

/* The user image's bounds, for tests that walk the address space. */
bool is_user_image_address(u64 address);

/* Labels in the user trampoline (user-entry.S). */
extern char user_trampoline[], user_system_call_breakpoint[];
extern char user_call_probe_return[], user_call_probe_resume[];
u64 user_system_call(u64 number, u64 a, u64 b, u64 c);
u64 user_call_or_fault(u64 target);
#endif

#endif
