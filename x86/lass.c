/*
 * lass: Linear-Address-Space Separation keeps each half of the address
 * space to its own privilege level, before paging is consulted.
 *
 * Enumeration and control: CPUID.(EAX=7,ECX=1):EAX[6] says the CPU has
 * LASS; CR4.LASS (bit 27) turns it on.  The rules, from the SDM's LASS
 * section (Vol. 3A, "Linear-Address-Space Separation"; first published in
 * Intel's ISE, document 319433), for 64-bit mode:
 *  1. A user-mode access (CPL 3, and not an implicit supervisor access) to
 *     a linear address whose bit 63 is 1 (the upper half) is a LASS
 *     violation.
 *  2. A supervisor-mode instruction fetch from an address whose bit 63 is
 *     0 (the lower half) is a LASS violation, whatever CR4.SMEP says.
 *  3. A supervisor-mode data access to the lower half is a LASS violation
 *     when CR4.SMAP = 1, except an explicit access with EFLAGS.AC = 1.
 *     Implicit supervisor accesses (descriptor-table reads, even on behalf
 *     of CPL 3) are violations whatever AC says.  With CR4.SMAP = 0 there
 *     is no data rule.
 *  4. A violation raises #GP(0), or #SS(0) when the access uses SS (PUSH,
 *     an operand based on RSP or RBP).  It happens instead of paging, so it
 *     is never a #PF and CR2 keeps its value.
 *  5. INVLPG is not a memory access: it is exempt.
 * Every case below names its rule number.  Each checks the vector, the
 * error code, that CR2 is unchanged and the RIP: the access itself, or for
 * a fetch the address fetched (the SDM reports a LASS fetch violation at
 * the target, like any fault on an instruction fetch).  Rule 3 is applied
 * from CR4.SMAP as the case runs: without SMAP those cases expect no
 * exception.
 *
 * Without LASS in CPUID the test SKIPs naming the bit.  The argument
 * "force" runs the cases anyway: CR4.LASS is then not set (bit 27 is
 * reserved), paging rules (SMEP, SMAP, U/S) apply instead, and every case
 * that only LASS makes fault must FAIL.  Neither QEMU 7.2's TCG nor kvm_pvm implements LASS; Bochs
 * 2.8 and later does, in its arrow_lake model (docs/host-findings.md).
 */
#include "cmdline.h"
#include "cpu-features.h"
#include "descriptors.h"
#include "exceptions.h"
#include "layout.h"
#include "memory.h"
#include "page-table.h"
#include "probe.h"
#include "processor.h"
#include "report.h"
#include "test-fixtures.h"
#include "user-access.h"
#include "user.h"
#include "vm.h"

/* LDT entry 0, RPL 3: the descriptor read is an implicit supervisor access. */
#define LDT_DATA_SELECTOR (SELECTOR_TABLE_LDT | 3)

static u64 kernel_data = 0x1a55;
static u64 USER_DATA user_data = 0x2a55;

static u64 USER_CODE user_nothing(u64 a, u64 b, u64 c, u64 d)
{
	return a;
}

enum access {
	READ,
	WRITE,
	FETCH,
	PUSH,       /* PUSH with RSP at the address */
	READ_RBP,   /* load based on RBP */
	LDT_LOAD,   /* segment load whose descriptor is in an LDT at the address */
	INVALIDATE, /* INVLPG */
	ACCESSES
};

enum target { KERNEL_DATA, KERNEL_TEXT, USER_DATA_TARGET, USER_TEXT };

struct lass_case {
	const char *name;
	unsigned rule;
	unsigned cpl;
	enum access access;
	enum target target;
	bool alignment_check; /* EFLAGS.AC = 1 for the access (CPL 0) */
	bool smep_off, smap_off;
	unsigned vector;      /* the violation's #GP or #SS; 0: no exception */
};

#define CASE(rule_, cpl_, access_, target_, ...)                                         \
	.rule = rule_, .cpl = cpl_, .access = access_, .target = target_, __VA_ARGS__

static const struct lass_case cases[] = {
	{ .name = "rule 1: cpl3 read of kernel data", CASE(1, 3, READ, KERNEL_DATA, .vector = GP_VECTOR) },
	{ .name = "rule 1: cpl3 write of kernel data",
	  CASE(1, 3, WRITE, KERNEL_DATA, .vector = GP_VECTOR) },
	{ .name = "rule 1: cpl3 fetch of kernel text",
	  CASE(1, 3, FETCH, KERNEL_TEXT, .vector = GP_VECTOR) },
	{ .name = "rule 1: cpl3 push to kernel data", CASE(1, 3, PUSH, KERNEL_DATA, .vector = SS_VECTOR) },
	{ .name = "rule 1: cpl3 rbp read of kernel data",
	  CASE(1, 3, READ_RBP, KERNEL_DATA, .vector = SS_VECTOR) },
	{ .name = "rule 1: cpl3 read of its own data", CASE(1, 3, READ, USER_DATA_TARGET) },
	{ .name = "rule 2: cpl0 fetch of user text", CASE(2, 0, FETCH, USER_TEXT, .vector = GP_VECTOR) },
	{ .name = "rule 2: cpl0 fetch of user text, SMEP off",
	  CASE(2, 0, FETCH, USER_TEXT, .smep_off = true, .vector = GP_VECTOR) },
	{ .name = "rule 3: cpl0 read of user data, AC=0",
	  CASE(3, 0, READ, USER_DATA_TARGET, .vector = GP_VECTOR) },
	{ .name = "rule 3: cpl0 write of user data, AC=0",
	  CASE(3, 0, WRITE, USER_DATA_TARGET, .vector = GP_VECTOR) },
	{ .name = "rule 3: cpl0 read of user data, AC=1",
	  CASE(3, 0, READ, USER_DATA_TARGET, .alignment_check = true) },
	{ .name = "rule 3: cpl0 write of user data, AC=1",
	  CASE(3, 0, WRITE, USER_DATA_TARGET, .alignment_check = true) },
	{ .name = "rule 3: cpl0 read of user data, SMAP off",
	  CASE(3, 0, READ, USER_DATA_TARGET, .smap_off = true) },
	{ .name = "rule 3: cpl0 LDT in user page, AC=0",
	  CASE(3, 0, LDT_LOAD, USER_DATA_TARGET, .vector = GP_VECTOR) },
	{ .name = "rule 3: cpl0 LDT in user page, AC=1",
	  CASE(3, 0, LDT_LOAD, USER_DATA_TARGET, .alignment_check = true, .vector = GP_VECTOR) },
	{ .name = "rule 3: cpl3 LDT in user page", CASE(3, 3, LDT_LOAD, USER_DATA_TARGET,
						  .vector = GP_VECTOR) },
	{ .name = "rule 3: cpl0 read of kernel data", CASE(3, 0, READ, KERNEL_DATA) },
	{ .name = "rule 5: cpl0 invlpg of user data", CASE(5, 0, INVALIDATE, USER_DATA_TARGET) },
};

static u64 ldt_page; /* a user page holding one DPL 3 data descriptor */

static u64 target_address(enum target target)
{
	switch (target) {
	case KERNEL_DATA: return (u64)&kernel_data;
	case KERNEL_TEXT: return (u64)target_address;
	case USER_DATA_TARGET: return (u64)&user_data;
	case USER_TEXT:
	default: return (u64)user_nothing;
	}
}

/* The access, at the case's CPL, through its probe. */
static struct probe_result run_access(const struct lass_case *c, u64 address)
{
	static const struct probe kernel[ACCESSES] = {
		[READ] = PROBE_INITIALIZER(load_quad), [WRITE] = PROBE_INITIALIZER(store_quad),
		[FETCH] = PROBE_INITIALIZER(call_target),
		[LDT_LOAD] = PROBE_INITIALIZER(load_fs),
		[INVALIDATE] = PROBE_INITIALIZER(invalidate_page_at),
	};
	static const struct probe user[ACCESSES] = {
		[READ] = PROBE_INITIALIZER(user_load_quad),
		[WRITE] = PROBE_INITIALIZER(user_store_quad),
		[FETCH] = PROBE_INITIALIZER(user_call_target),
		[PUSH] = PROBE_INITIALIZER(user_push_quad),
		[READ_RBP] = PROBE_INITIALIZER(user_load_quad_through_rbp),
		[LDT_LOAD] = PROBE_INITIALIZER(user_load_fs),
	};
	struct probe_options options = { .cpl = c->cpl, .alignment_check = c->alignment_check };

	if (c->access == LDT_LOAD)
		address = LDT_DATA_SELECTOR;
	if (c->access == PUSH)
		address += 8; /* RSP: the store goes to the address itself */
	return run_probe_with(&options, c->cpl ? user[c->access] : kernel[c->access], address, 0,
			      0, 0);
}

/*
 * The expected outcome: the row's violation at the access (a fetch at its
 * target), except that rule 3 needs CR4.SMAP = 1.
 */
static struct exception_info expected_outcome(const struct lass_case *c, u64 address,
					      const struct probe_result *result)
{
	struct exception_info expected;

	if (!c->vector || (c->rule == 3 && !(read_cr4() & CR4_SMAP)))
		return no_exception();
	expected = fault_at(c->vector, 0, c->access == FETCH ? address :
								  result->outcome.instruction);
	return at_cpl(expected, c->cpl);
}

static void set_up_case(const struct lass_case *c, u64 cr4)
{
	if (c->access == LDT_LOAD) {
		gdt_set_system_descriptor(SPARE_SELECTOR, SYSTEM_DESCRIPTOR_LDT, ldt_page, 7);
		load_ldtr(SPARE_SELECTOR);
	}
	write_cr4(cr4 & ~(u64)((c->smep_off ? CR4_SMEP : 0) | (c->smap_off ? CR4_SMAP : 0)));
	write_cr2(CR2_SENTINEL);
}

static void tear_down_case(const struct lass_case *c, u64 cr4)
{
	write_cr4(cr4);
	if (c->access == LDT_LOAD) {
		load_ldtr(0);
		gdt_clear_system_descriptor(SPARE_SELECTOR);
	}
}

static void run_case(const struct lass_case *c)
{
	u64 address = target_address(c->target), cr4 = read_cr4(), cr2;
	struct exception_info expected;
	struct probe_result result;
	bool pass;

	set_up_case(c, cr4);
	result = run_access(c, address);
	expected = expected_outcome(c, address, &result);
	cr2 = read_cr2();
	tear_down_case(c, cr4);
	pass = outcome_matches(c->name, expected, result.outcome);
	if (cr2 != CR2_SENTINEL)
		report_info("%s: CR2 changed to %#lx", c->name, cr2);
	report(pass && cr2 == CR2_SENTINEL, "%s", c->name);
}

/* CR4.LASS can be set where CPUID has LASS. */
static void check_control_bit(void)
{
	struct exception_info info;

	/*
	 * Without LASS, bit 27 is reserved and MOV to CR4 must raise #GP(0);
	 * QEMU 7.2's TCG hangs on it instead, so force mode does not try.
	 */
	if (!cpu_has(FEATURE_LASS)) {
		report_skip("CR4.LASS (bit 27) can be set: not tried, CPUID has no LASS");
		return;
	}
	info = run_probe(PROBE_OF(cr4_write), 0, read_cr4() | CR4_LASS, 0, 0, 0).outcome;
	report(!info.raised && (read_cr4() & CR4_LASS), "CR4.LASS (bit 27) can be set");
}

int main(int argc, char **argv)
{
	bool force = argv_has(argc, argv, "force");
	u64 descriptor = FLAT_DATA_DESCRIPTOR(3);

	if (!cpu_has(FEATURE_LASS) && !force) {
		require_cpu_feature(FEATURE_LASS);
		return report_summary();
	}
	if (!cpu_has(FEATURE_LASS))
		report_info("LASS is not in CPUID; running anyway (force): the cases only LASS makes fault must fail");
	ldt_page = (u64)vm_alloc(PAGE_SIZE, VM_USER | VM_WRITE);
	if (!ldt_page || !copy_to_user(ldt_page, &descriptor, sizeof(descriptor)))
		fatal("cannot set up the LDT page");
	check_control_bit();
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);
	if (read_cr4() & CR4_LASS)
		write_cr4(read_cr4() & ~(u64)CR4_LASS);
	return report_summary();
}
