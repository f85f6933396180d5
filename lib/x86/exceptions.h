/*
 * exceptions.h: exceptions as values.
 *
 * An instruction that may fault runs through one fix-up table entry.  If it
 * raises an exception, the handler records it and resumes after the
 * instruction, and the caller gets a struct exception_info back: "no
 * exception", or the vector, error code, CR2 (for #PF) and RIP.  Tests
 * compare that value with the one they expected and print both in words.
 *
 * Any exception with no fix-up entry and no armed recovery point is fatal:
 * the handler prints the vector, the decoded error code, every register, CR0
 * to CR4 and a symbolized backtrace, then fails the test.
 */
#ifndef CANON_EXCEPTIONS_H
#define CANON_EXCEPTIONS_H

#include "types.h"

#define DE_VECTOR 0
#define DB_VECTOR 1
#define NMI_VECTOR 2
#define BP_VECTOR 3
#define OF_VECTOR 4
#define BR_VECTOR 5
#define UD_VECTOR 6
#define NM_VECTOR 7
#define DF_VECTOR 8
#define TS_VECTOR 10
#define NP_VECTOR 11
#define SS_VECTOR 12
#define GP_VECTOR 13
#define PF_VECTOR 14
#define MF_VECTOR 16
#define AC_VECTOR 17
#define MC_VECTOR 18
#define XM_VECTOR 19
#define VE_VECTOR 20
#define CP_VECTOR 21

/* Error code of a fault caused by a descriptor-table reference (SDM 6.13). */
#define ERROR_CODE_EXTERNAL 0x1
#define ERROR_CODE_IDT 0x2
#define ERROR_CODE_LDT 0x4
#define IDT_VECTOR_ERROR_CODE(vector) (((vector) << 3) | ERROR_CODE_IDT)

/* The registers the entry stubs save, in memory order (interrupt-entry.S). */
struct interrupt_frame {
	u64 rax, rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15;
	u64 vector, error_code;
	u64 rip, cs, rflags, rsp, ss;
};

/* The CPL of the interrupted code: SS.DPL, which equals SS.RPL (SDM 5.5). */
static inline unsigned frame_privilege_level(const struct interrupt_frame *frame)
{
	return frame->ss & 3;
}

/* In an expected outcome: the CPL it is raised at does not matter. */
#define CPL_ANY 0xff

struct exception_info {
	bool raised;
	u8 vector;
	u32 error_code;
	u64 address;     /* CR2, for #PF */
	u64 rip;         /* where it was raised */
	u8 cpl;          /* the CPL it was raised at; CPL_ANY in an expectation */
	u16 cs, ss;      /* the interrupted code's selectors */
	u64 instruction; /* a probe's own instruction: rip should equal it */
};

/* What the fix-up path writes into %rdi: raised, vector and error code. */
#define EXCEPTION_RAISED (1ULL << 63)
#define EXCEPTION_CODE(vector, error_code) \
	(EXCEPTION_RAISED | ((u64)(vector) << 32) | (u32)(error_code))

/*
 * EXCEPTION_FIXUP("1b", "2b") registers the instruction at label 1: if it
 * raises an exception, the handler puts EXCEPTION_CODE() in %rdi and resumes
 * at label 2.  It expands to
 *     .pushsection .exception_fixup, "a"; .balign 8; .quad 1b, 2b; .popsection
 */
#define EXCEPTION_FIXUP(instruction, resume)                                   \
	".pushsection .exception_fixup, \"a\"\n\t.balign 8\n\t.quad " instruction \
	", " resume "\n\t.popsection\n\t"

static inline __attribute__((always_inline)) struct exception_info
exception_decode(u64 code)
{
	struct exception_info info = { .cpl = CPL_ANY };

	if (code & EXCEPTION_RAISED) {
		info.raised = true;
		info.vector = (u8)(code >> 32);
		info.error_code = (u32)code;
	}
	return info;
}

static inline struct exception_info no_exception(void)
{
	return (struct exception_info){ .cpl = CPL_ANY };
}

static inline struct exception_info exception(unsigned vector, u32 error_code)
{
	return (struct exception_info){ .raised = true, .vector = (u8)vector,
					.error_code = error_code, .cpl = CPL_ANY };
}

/* A #PF a test expects: error code, CR2 and the faulting instruction's RIP. */
static inline struct exception_info page_fault_at(u32 error_code, u64 cr2, u64 rip)
{
	struct exception_info info = exception(PF_VECTOR, error_code);

	info.address = cr2;
	info.rip = rip;
	return info;
}

/* Any other exception a test expects, raised by the instruction at rip. */
static inline struct exception_info fault_at(unsigned vector, u32 error_code, u64 rip)
{
	struct exception_info info = exception(vector, error_code);

	info.rip = rip;
	return info;
}

/* The same exception at the same CPL, raised at expected.rip. */
static inline struct exception_info at_cpl(struct exception_info expected, unsigned cpl)
{
	expected.cpl = (u8)cpl;
	return expected;
}

/*
 * True when observed is one of the expected outcomes: both "no exception",
 * or the same vector and error code, RIP equal to expected.rip, for #PF CR2
 * equal to expected.address, and the same CPL unless the expectation says
 * CPL_ANY.  On a mismatch, prints "name: expected A or B; got C".  The
 * observed outcome goes to the next report, for the errata list.  Most
 * checks have one expected outcome; some rules allow two (canonical).
 */
bool outcome_matches_one_of(const char *name, const struct exception_info *expected,
			    unsigned count, struct exception_info observed);
static inline bool outcome_matches(const char *name, struct exception_info expected,
				   struct exception_info observed)
{
	return outcome_matches_one_of(name, &expected, 1, observed);
}
/* Tell the report API what the next check observed (outcome_matches() does). */
void report_observed_exception(struct exception_info observed);
/* outcome_matches(), reported as one check called name. */
bool check_outcome(const char *name, struct exception_info expected,
		   struct exception_info observed);

/* The last exception any handler saw, with CR2 and RIP, and its frame. */
extern struct exception_info last_exception;
extern struct interrupt_frame last_exception_frame;

/* decode code, adding the address and RIP that the handler recorded. */
struct exception_info exception_from_code(u64 code);


/* Same raised flag, vector and error code. */
bool exception_equal(struct exception_info expected, struct exception_info observed);

/* "#GP", and "general protection". */
const char *exception_mnemonic(unsigned vector);
const char *exception_name(unsigned vector);
/* "no exception", "#GP(0)", "#PF(0x15: present fetch user) at 0x...". */
const char *describe_exception(struct exception_info info, char *buffer, size_t size);
/* "present write user ..." for a #PF error code. */
const char *describe_page_fault_error(u32 error_code, char *buffer, size_t size);

/*
 * Call function(argument) from CPL 0.  If anything it runs raises an
 * exception that no fix-up entry claims (an instruction fetch from a
 * forbidden page, say), the stack and RIP are put back as they were before
 * the call and the exception is returned.  Callee-saved registers survive.
 * *result gets function's return value when it returns normally.
 */
u64 call_or_fault_code(u64 function, u64 argument, u64 *result); /* fault-probe.S */
static inline struct exception_info call_or_fault(u64 function, u64 argument, u64 *result)
{
	return exception_from_code(call_or_fault_code(function, argument, result));
}

/*
 * While set, a fault at CPL 3 also goes back to call_or_fault()'s caller
 * (for probes that enter ring 3 themselves, with IRETQ or SYSRETQ).
 */
extern bool recovery_from_ring3;

/* The handler the entry stubs call (interrupt-entry.S). */
void handle_interrupt(struct interrupt_frame *frame);

/*
 * Handlers for vectors the kernel owns beyond exceptions (INT n gates), and
 * for everything raised at CPL 3: return true when the frame was handled.
 */
typedef bool (*interrupt_handler)(struct interrupt_frame *frame);
void interrupt_set_handler(unsigned vector, interrupt_handler handler);
void interrupt_set_user_handler(interrupt_handler handler);

/* Print registers, control registers and backtrace for frame. */
void dump_interrupt_frame(const struct interrupt_frame *frame);

/* Fail the test: print the reason, the summary, and leave. */
void NORETURN fatal(const char *format, ...) PRINTF_FORMAT(1, 2);

#endif
