/*
 * probe.h: run one instruction, and get back what it raised.
 *
 * A probe is a short assembly function around the instruction under test,
 * with a label on that instruction so that a test knows the RIP a fault
 * there must report.  PROBE(name, where, setup, instruction, after) writes
 *     u64 name(u64 a, u64 b, u64 c, u64 d)     a..d in RDI, RSI, RDX, RCX
 *     name: setup; name_instruction: instruction; after; ret
 * where is KERNEL (in .text, for CPL 0), USER (in .user.text, for CPL 3)
 * or BOTH (name in .text and user_name in .user.text).  For example
 *     PROBE(read_quad, BOTH, "", "mov (%rdi), %rax", "");
 * expands to two top-level asm blocks,
 *     .pushsection .text; read_quad: read_quad_instruction: mov (%rdi), %rax; ret
 *     .pushsection .user.text; user_read_quad: user_read_quad_instruction: ...
 * and declarations of read_quad, read_quad_instruction, user_read_quad and
 * user_read_quad_instruction.
 *
 * run_probe(PROBE_OF(name), cpl, a, b, c, d) runs it at CPL 0 or CPL 3.  A
 * fault anywhere in it ends the run (at CPL 0 the stack is put back, at
 * CPL 3 run_user() returns), and the result holds one outcome (struct
 * exception_info: vector, error code, CR2, RIP, CPL), the probe's value when
 * it returned, and every register the fault left.  Tests compare the
 * outcome with outcome_matches() or check_outcome() (exceptions.h).
 */
#ifndef CANON_PROBE_H
#define CANON_PROBE_H

#include "types.h"
#include "exceptions.h"

typedef u64 (*probe_function)(u64 a, u64 b, u64 c, u64 d);

struct probe {
	probe_function function;
	const char *instruction; /* where a fault of the instruction is reported */
};

/* The declarations a probe defined elsewhere needs. */
#define PROBE_DECLARATION(name) \
	u64 name(u64 a, u64 b, u64 c, u64 d); \
	extern char name##_instruction[]

#define PROBE(name, where, setup, instruction, after) \
	PROBE_##where(name, setup, instruction, after)

#define PROBE_IN_(section, name, setup, instruction, after)                            \
	PROBE_DECLARATION(name);                                                        \
	asm(".pushsection " section "\n\t.balign 16\n\t.globl " #name ", " #name         \
	    "_instruction\n" #name ":\n\t" setup "\n" #name "_instruction:\n\t"          \
	    instruction "\n\t" after "\n\tret\n\t.popsection")
#define PROBE_KERNEL(name, setup, instruction, after) \
	PROBE_IN_(".text", name, setup, instruction, after)
#define PROBE_USER(name, setup, instruction, after) \
	PROBE_IN_(".user.text, \"ax\"", name, setup, instruction, after)
#define PROBE_BOTH(name, setup, instruction, after)       \
	PROBE_KERNEL(name, setup, instruction, after);    \
	PROBE_USER(user_##name, setup, instruction, after)

/* The struct probe of a probe defined above: as a value, and in a table. */
#define PROBE_OF(name) ((struct probe)PROBE_INITIALIZER(name))
#define PROBE_INITIALIZER(name) { name, name##_instruction }

/* A value made a string for a probe's assembly: "$" PROBE_NUMBER(TSS_RSP0). */
#define PROBE_NUMBER_(value) #value
#define PROBE_NUMBER(value) PROBE_NUMBER_(value)

struct probe_options {
	unsigned cpl;            /* 0 or 3 */
	bool alignment_check;    /* EFLAGS.AC=1 while it runs (SMAP's override) */
	unsigned user_entry;     /* at CPL 3: USER_ENTRY_IRETQ or _SYSRETQ (user.h) */
	/*
	 * At CPL 0: the probe may enter ring 3 itself (IRETQ, SYSRETQ), so a
	 * fault at CPL 3 also ends the run and comes back to the caller.
	 */
	bool may_enter_ring3;
};

struct probe_result {
	struct exception_info outcome; /* .instruction is the probe's label */
	u64 value;                     /* RAX, when it returned */
	struct interrupt_frame frame;  /* the registers a fault left, when it faulted */
};

struct probe_result run_probe_with(const struct probe_options *options, struct probe probe,
				   u64 a, u64 b, u64 c, u64 d);

static inline struct probe_result run_probe(struct probe probe, unsigned cpl, u64 a, u64 b,
					    u64 c, u64 d)
{
	struct probe_options options = { .cpl = cpl };

	return run_probe_with(&options, probe, a, b, c, d);
}

/*
 * Probes several tests share (probe.c); those marked BOTH have a user_
 * twin for CPL 3.  Arguments in RDI, RSI, RDX:
 *   call_target, jump_to, return_to (BOTH)  branch to RDI; RSI = RSP just before
 *   iretq_to_kernel        IRETQ to CPL 0 at RDI; RSI = RSP before, RDX = RSP at IRETQ
 *   load_quad (BOTH)       RAX = RSI, then RAX = (RDI)
 *   store_quad, byte_store (BOTH)  (RDI) = RSI, or its low byte
 *   load_quad_through_rbp (BOTH)  RAX = RSI, then RAX = (RBP) with RBP = RDI (through SS)
 *   push_quad (BOTH)       RSP = RDI, PUSH RSI (the store goes to RDI - 8)
 *   load_fs (BOTH)         FS = DI (a descriptor read), then FS = 0 again
 *   task_register_load, ldt_register_load (BOTH)  LTR DI, LLDT DI
 *   invalidate_page_at     INVLPG (RDI)
 *   cr4_write              MOV RDI to CR4
 *   msr_write              WRMSR of MSR EDI, value RSI
 */
PROBE_DECLARATION(call_target);
PROBE_DECLARATION(user_call_target);
PROBE_DECLARATION(jump_to);
PROBE_DECLARATION(user_jump_to);
PROBE_DECLARATION(return_to);
PROBE_DECLARATION(user_return_to);
PROBE_DECLARATION(iretq_to_kernel);
PROBE_DECLARATION(load_quad);
PROBE_DECLARATION(user_load_quad);
PROBE_DECLARATION(store_quad);
PROBE_DECLARATION(user_store_quad);
PROBE_DECLARATION(byte_store);
PROBE_DECLARATION(user_byte_store);
PROBE_DECLARATION(load_quad_through_rbp);
PROBE_DECLARATION(user_load_quad_through_rbp);
PROBE_DECLARATION(push_quad);
PROBE_DECLARATION(user_push_quad);
PROBE_DECLARATION(load_fs);
PROBE_DECLARATION(user_load_fs);
PROBE_DECLARATION(task_register_load);
PROBE_DECLARATION(user_task_register_load);
PROBE_DECLARATION(ldt_register_load);
PROBE_DECLARATION(user_ldt_register_load);
PROBE_DECLARATION(invalidate_page_at);
PROBE_DECLARATION(cr4_write);
PROBE_DECLARATION(msr_write);

/* Single accesses at CPL 0, for the many tests that need only these. */
struct exception_info read_u64_or_fault(u64 address, u64 *value);
struct exception_info write_u8_or_fault(u64 address, u8 value);
struct exception_info write_u64_or_fault(u64 address, u64 value);
struct exception_info write_msr_or_fault(u32 index, u64 value);
/* CALL target at CPL 0: a fetch fault is reported at the target. */
struct exception_info call_at_cpl0(u64 target, u64 *value);

#endif
