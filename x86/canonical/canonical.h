/*
 * canonical.h: what the parts of the canonical test share.
 *
 * canonical.c holds the addresses, the case runner and main(); each other
 * part holds the uses of one kind, as a table, with how to prepare a case
 * (its arguments and expected outcome) and what its instruction must not
 * have changed:
 *   data.c       loads and stores, through a general register or SS
 *   branches.c   JMP, CALL, RET, IRETQ, SYSRETQ, and running off the end
 *   registers.c  WRMSR, WRFSBASE/WRGSBASE, LGDT/LIDT, LTR/LLDT, INVLPG/INVPCID
 */
#ifndef CANON_CANONICAL_H
#define CANON_CANONICAL_H

#include "types.h"
#include "cpu-features.h"
#include "descriptors.h"
#include "probe.h"
#include "processor.h"

#define LOAD_SENTINEL 0x5e5e5e5e5e5e5e5eULL /* what a faulting load must leave in RAX */
#define STORE_VALUE 0xa5a5a5a5a5a5a5a5ULL

/*
 * The boundaries of the current paging mode (N = 48 or 57 bits) carry plain
 * names, so that a case has the same name, and the same expectation, under
 * either mode; the other mode's boundaries (M = 57 or 48) carry their width.
 * Under 4-level paging:
 *   low-end     0x00007fffffffffff  last lower canonical byte
 *   hole-start  0x0000800000000000  first non-canonical address
 *   hole-end    0xffff7fffffffffff  last non-canonical address
 *   high-start  0xffff800000000000  first upper canonical address
 *   top-flip    a kernel variable with only bit N-1 (47) flipped
 *   low-end-57 ... high-start-57, bit56-flip: 5-level's, all non-canonical
 *   bit63-flip  a user variable with only bit 63 flipped
 */
enum address_kind {
	LOW_END,
	HOLE_START,
	HOLE_END,
	HIGH_START,
	TOP_BIT_FLIPPED,
	OTHER_LOW_END,
	OTHER_HOLE_START,
	OTHER_HOLE_END,
	OTHER_HIGH_START,
	OTHER_TOP_BIT_FLIPPED,
	BIT63_FLIPPED,
	ADDRESS_KINDS
};

/*
 * Every use meets every boundary of the mode in use.  The other mode's
 * boundaries matter where the widths meet: plain loads, stores and jumps,
 * and registers (the 57-bit rule); the stack and the other branches add
 * nothing there but time.  A crossing access is one per direction.
 */
#define KIND(kind) (1u << (kind))
#define THIS_MODE (KIND(LOW_END) | KIND(HOLE_START) | KIND(HOLE_END) | KIND(HIGH_START) | \
		   KIND(TOP_BIT_FLIPPED) | KIND(BIT63_FLIPPED))
#define BOTH_MODES ((1u << ADDRESS_KINDS) - 1)

/* The probes of a use: both rings, or CPL 0 only (the user one is empty). */
#define AT_BOTH_CPLS(name) .kernel = PROBE_INITIALIZER(name), \
			   .user = PROBE_INITIALIZER(user_##name)
#define AT_CPL0_ONLY(name) .kernel = PROBE_INITIALIZER(name)

struct case_state;

struct use {
	const char *name;
	struct probe kernel, user;  /* user.function is NULL where it is privileged */
	/* Fills the arguments and the expectation; false: the rule is undecided. */
	bool (*prepare)(struct case_state *state);
	/* Whether what the instruction must (not) change is right; names it. */
	bool (*state_agrees)(struct case_state *state, const struct probe_result *result,
			     const char **what);
	unsigned size;              /* data: bytes accessed */
	s64 offset;                 /* data: the access is at address + offset */
	bool write;                 /* data: a store */
	bool through_stack_segment; /* data: RBP or RSP based, PUSH, POP */
	bool address_in_rsp;        /* data: RSP itself holds the address */
	u32 msr;                    /* the MSR a WRMSR or WRFSBASE/WRGSBASE loads */
	bool table_is_idt;          /* LGDT or LIDT */
	unsigned descriptor_type;   /* LTR or LLDT: TSS or LDT */
	bool follows_57_bit_rule;   /* see registers.c */
	bool may_enter_ring3;       /* IRETQ and SYSRETQ to CPL 3 */
	bool needs_spare_stack;     /* at CPL 0 it leaves RSP unusable */
	enum cpu_feature feature;   /* needed when needs_feature */
	bool needs_feature;
	u32 kinds;                  /* the address kinds it is crossed with */
};

struct case_state {
	const struct use *use;
	unsigned cpl;
	u64 address;        /* the address (or value) under test */
	u64 arguments[4];
	u64 instruction;    /* where the probe's instruction is */
	u64 old_value;      /* MSR or base before the case */
	struct descriptor_table_register original, loaded;
	struct exception_info expected[2]; /* the outcome, and an alternative */
	unsigned expected_count;
};

/*
 * What a case expects: canonical (the load succeeds), not canonical (#GP),
 * or one of the reasons an expectation cannot be decided, each reported in
 * one SKIP line at the end (registers.c).
 */
enum rule {
	RULE_CANONICAL,
	RULE_NONCANONICAL,
	UNDECIDED_APM_SILENT,       /* AMD states no 57-bit rule */
	UNDECIDED_LEAVES_DISAGREE,  /* the rule depends on which CPUID leaf is right */
	UNDECIDED_CSTAR_NOT_LISTED, /* the SDM's WRMSR page does not list IA32_CSTAR */
	UNDECIDED_VENDOR,           /* neither Intel nor AMD: no manual to follow */
	RULES
};
extern unsigned undecided_cases[RULES];

/* canonical.c: the layout and the CPU, read once. */
extern u64 last_page;       /* the last lower-half page: user, RWX, NOPs */
extern u64 user_stack_top;  /* a user stack for IRETQ and SYSRETQ to CPL 3 */
extern u64 boot_cr4;        /* CR4 as setup left it */
extern bool supports_5_level, leaves_disagree;
extern enum cpu_vendor vendor;

bool canonical_at(u64 address, int bits);
u64 lower_half_end(void);
/* The outcome a case expects, and an alternative one (at most two). */
void expect(struct case_state *state, struct exception_info outcome);

/* What a fetch at a canonical target does at CPL cpl (branches.c). */
struct exception_info fetch_outcome(u64 target, unsigned cpl);

/* The tables (data.c, branches.c, registers.c). */
extern const struct use data_uses[], branch_uses[], register_uses[];
extern const unsigned data_use_count, branch_use_count, register_use_count;

void check_running_off_the_end(void);   /* branches.c */
void report_undecided_cases(void);      /* registers.c */

#endif
