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
 * error code, that CR2 is unchanged, and, for data accesses at CPL 0, that
 * RIP is the access itself.  A fetch violation's RIP is not checked: the
 * rule says the fetch faults, and this file does not guess whether the
 * branch or its target is reported.
 *
 * Without LASS in CPUID the test SKIPs naming the bit.  The argument
 * "force" runs the cases anyway: CR4.LASS is then not set (bit 27 is
 * reserved), paging rules (SMEP, SMAP, U/S) apply instead, and the cases
 * must FAIL.  Neither QEMU 7.2's TCG nor kvm_pvm implements LASS; Bochs
 * 2.8 and later does, in its arrow_lake model (docs/host-findings.md).
 */
#include "cmdline.h"
#include "cpu-features.h"
#include "descriptors.h"
#include "exceptions.h"
#include "layout.h"
#include "memory.h"
#include "page-table.h"
#include "printf.h"
#include "processor.h"
#include "report.h"
#include "user-access.h"
#include "user-library.h"
#include "vm.h"

#define CR2_SENTINEL 0x00000000c2c2c000ULL
#define LDT_DATA_SELECTOR 0x7 /* index 0, TI = 1 (LDT), RPL 3 */
#define DATA_SEGMENT_DPL3 0x00cff2000000ffffULL /* present, DPL 3, read/write */

static u64 kernel_data = 0x1a55;
static u64 USER_DATA user_data = 0x2a55;

/* ---- ring 3 probes: each returns the exception code it caught ------- */

static u64 USER_CODE user_read(u64 address, u64 b, u64 c, u64 d)
{
	return user_read_u64_or_fault(address);
}

static u64 USER_CODE user_write(u64 address, u64 b, u64 c, u64 d)
{
	return user_write_u64_or_fault(address, 0);
}

static u64 USER_CODE user_fetch(u64 address, u64 b, u64 c, u64 d)
{
	return user_call_or_fault(address);
}

/* PUSH with RSP = address + 8: the store goes through SS. */
static u64 USER_CODE user_push(u64 address, u64 b, u64 c, u64 d)
{
	u64 code = 0;

	asm volatile("mov %%rsp, %%r11\n\tlea 8(%[address]), %%rsp\n"
		     "1: push %%rax\n2:\n\tmov %%r11, %%rsp\n" EXCEPTION_FIXUP("1b", "2b")
		     : "+D"(code)
		     : [address] "r"(address)
		     : "r11", "memory");
	return code;
}

/* A load based on RBP: it goes through SS. */
static u64 USER_CODE user_read_rbp(u64 address, u64 b, u64 c, u64 d)
{
	u64 code = 0;

	asm volatile("push %%rbp\n\tmov %[address], %%rbp\n"
		     "1: mov (%%rbp), %%rax\n2:\n\tpop %%rbp\n" EXCEPTION_FIXUP("1b", "2b")
		     : "+D"(code)
		     : [address] "r"(address)
		     : "rax", "memory");
	return code;
}

/* MOV to FS of an LDT selector: the descriptor read is a supervisor access. */
static u64 USER_CODE user_load_ldt_segment(u64 selector, u64 b, u64 c, u64 d)
{
	u64 code = 0;

	asm volatile("1: mov %w[selector], %%fs\n2:\n\tmov %w[null], %%fs\n"
		     EXCEPTION_FIXUP("1b", "2b")
		     : "+D"(code)
		     : [selector] "r"(selector), [null] "r"(0)
		     : "memory");
	return code;
}

static u64 USER_CODE user_nothing(u64 a, u64 b, u64 c, u64 d)
{
	return a;
}

/* ---- CPL 0 probes --------------------------------------------------- */

static struct exception_info load_ldt_segment(u64 selector)
{
	u64 code = 0, instruction;

	asm volatile("lea 1f(%%rip), %[at]\n1: mov %w[selector], %%fs\n2:\n\t"
		     "mov %w[null], %%fs\n" EXCEPTION_FIXUP("1b", "2b")
		     : "+D"(code), [at] "=&r"(instruction)
		     : [selector] "r"(selector), [null] "r"(0)
		     : "memory");
	return exception_from_probe(code, instruction);
}

static struct exception_info invalidate_page_or_fault(u64 address)
{
	u64 code = 0, instruction;

	asm volatile("lea 1f(%%rip), %[at]\n1: invlpg (%[address])\n2:\n"
		     EXCEPTION_FIXUP("1b", "2b")
		     : "+D"(code), [at] "=&r"(instruction)
		     : [address] "r"(address)
		     : "memory");
	return exception_from_probe(code, instruction);
}

static struct exception_info write_cr4_or_fault(u64 value)
{
	u64 code = 0;

	asm volatile("1: mov %[value], %%cr4\n2:\n" EXCEPTION_FIXUP("1b", "2b")
		     : "+D"(code)
		     : [value] "r"(value)
		     : "memory");
	return exception_from_code(code);
}

/* ---- cases ---------------------------------------------------------- */

enum access {
	READ,
	WRITE,
	FETCH,
	PUSH,       /* PUSH with RSP at the address */
	READ_RBP,   /* load based on RBP */
	LDT_LOAD,   /* segment load whose descriptor is in an LDT at the address */
	INVALIDATE, /* INVLPG */
};

enum target { KERNEL_DATA, KERNEL_TEXT, USER_DATA_TARGET, USER_TEXT };

struct lass_case {
	const char *name;
	unsigned cpl;
	enum access access;
	enum target target;
	bool alignment_check; /* EFLAGS.AC = 1 for the access (CPL 0) */
	bool smep_off, smap_off;
	unsigned expected_vector; /* 0: no exception */
};

static const struct lass_case cases[] = {
	/* Rule 1: CPL 3 stays out of the upper half. */
	{ "rule 1: cpl3 read of kernel data", 3, READ, KERNEL_DATA, false, false, false, GP_VECTOR },
	{ "rule 1: cpl3 write of kernel data", 3, WRITE, KERNEL_DATA, false, false, false, GP_VECTOR },
	{ "rule 1: cpl3 fetch of kernel text", 3, FETCH, KERNEL_TEXT, false, false, false, GP_VECTOR },
	{ "rule 1: cpl3 push to kernel data", 3, PUSH, KERNEL_DATA, false, false, false, SS_VECTOR },
	{ "rule 1: cpl3 rbp read of kernel data", 3, READ_RBP, KERNEL_DATA, false, false, false,
	  SS_VECTOR },
	{ "rule 1: cpl3 read of its own data", 3, READ, USER_DATA_TARGET, false, false, false, 0 },
	/* Rule 2: CPL 0 never runs lower-half code. */
	{ "rule 2: cpl0 fetch of user text", 0, FETCH, USER_TEXT, false, false, false, GP_VECTOR },
	{ "rule 2: cpl0 fetch of user text, SMEP off", 0, FETCH, USER_TEXT, false, true, false,
	  GP_VECTOR },
	/* Rule 3: CPL 0 data accesses to the lower half need AC (with SMAP on). */
	{ "rule 3: cpl0 read of user data, AC=0", 0, READ, USER_DATA_TARGET, false, false, false,
	  GP_VECTOR },
	{ "rule 3: cpl0 write of user data, AC=0", 0, WRITE, USER_DATA_TARGET, false, false, false,
	  GP_VECTOR },
	{ "rule 3: cpl0 read of user data, AC=1", 0, READ, USER_DATA_TARGET, true, false, false, 0 },
	{ "rule 3: cpl0 write of user data, AC=1", 0, WRITE, USER_DATA_TARGET, true, false, false,
	  0 },
	{ "rule 3: cpl0 read of user data, SMAP off", 0, READ, USER_DATA_TARGET, false, false, true,
	  0 },
	{ "rule 3: cpl0 LDT in user page, AC=0", 0, LDT_LOAD, USER_DATA_TARGET, false, false, false,
	  GP_VECTOR },
	{ "rule 3: cpl0 LDT in user page, AC=1", 0, LDT_LOAD, USER_DATA_TARGET, true, false, false,
	  GP_VECTOR },
	{ "rule 3: cpl3 LDT in user page", 3, LDT_LOAD, USER_DATA_TARGET, false, false, false,
	  GP_VECTOR },
	{ "rule 3: cpl0 read of kernel data", 0, READ, KERNEL_DATA, false, false, false, 0 },
	/* Rule 5: INVLPG of a lower-half address is no access. */
	{ "rule 5: cpl0 invlpg of user data", 0, INVALIDATE, USER_DATA_TARGET, false, false, false,
	  0 },
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

/* The exception the access raised, at CPL 3 through a ring-3 probe. */
static struct exception_info run_at_cpl3(const struct lass_case *c, u64 address)
{
	static const user_function probes[] = {
		[READ] = user_read, [WRITE] = user_write, [FETCH] = user_fetch, [PUSH] = user_push,
		[READ_RBP] = user_read_rbp, [LDT_LOAD] = user_load_ldt_segment,
	};
	struct user_result result;
	struct exception_info info;

	if (c->access == LDT_LOAD)
		address = LDT_DATA_SELECTOR;
	result = run_user(probes[c->access], address, 0, 0, 0);
	if (result.faulted)
		return result.fault; /* a fault no probe caught: wrong either way */
	info = exception_decode(result.value);
	info.rip = info.instruction = 0; /* ring 3 cannot see its RIP */
	return info;
}

static struct exception_info run_at_cpl0(const struct lass_case *c, u64 address)
{
	struct exception_info info = no_exception();
	u64 value, flags = read_rflags();

	if (c->alignment_check)
		write_rflags(flags | RFLAGS_ALIGNMENT_CHECK);
	switch (c->access) {
	case READ: info = read_u64_or_fault(address, &value); break;
	case WRITE: info = write_u64_or_fault(address, 0x5a); break;
	case LDT_LOAD: info = load_ldt_segment(LDT_DATA_SELECTOR); break;
	case INVALIDATE: info = invalidate_page_or_fault(address); break;
	case FETCH:
		info = call_or_fault(address, 0, &value);
		info.instruction = info.rip; /* not checked: see the top */
		break;
	default: break;
	}
	write_rflags(flags);
	return info;
}

static void run_case(const struct lass_case *c)
{
	u64 address = target_address(c->target), cr4 = read_cr4(), cr2;
	struct exception_info expected = c->expected_vector ? exception(c->expected_vector, 0) :
							      no_exception();
	struct exception_info observed;
	char want[96], got[128];
	bool pass;

	if (c->access == LDT_LOAD) {
		address = ldt_page;
		gdt_set_system_descriptor(SPARE_SELECTOR, SYSTEM_DESCRIPTOR_LDT, ldt_page, 7);
		asm volatile("lldt %w0" : : "r"(SPARE_SELECTOR) : "memory");
	}
	if (c->smep_off || c->smap_off)
		write_cr4(cr4 & ~(u64)((c->smep_off ? CR4_SMEP : 0) | (c->smap_off ? CR4_SMAP : 0)));
	write_cr2(CR2_SENTINEL);
	observed = c->cpl == 3 ? run_at_cpl3(c, address) : run_at_cpl0(c, address);
	cr2 = read_cr2();
	write_cr4(cr4);
	if (c->access == LDT_LOAD) {
		asm volatile("lldt %w0" : : "r"(0) : "memory");
		gdt_clear_system_descriptor(SPARE_SELECTOR);
	}
	pass = exception_equal(expected, observed) && cr2 == CR2_SENTINEL &&
	       (!observed.raised || observed.rip == observed.instruction);
	if (!pass)
		report_info("%s: expected %s, CR2 %#lx; got %s at RIP %#lx (access at %#lx), CR2 %#lx",
			    c->name, describe_exception(expected, want, sizeof(want)), (u64)CR2_SENTINEL,
			    describe_exception(observed, got, sizeof(got)), observed.rip,
			    observed.instruction, cr2);
	report(pass, "%s", c->name);
}

int main(int argc, char **argv)
{
	bool force = argv_has(argc, argv, "force");
	u64 descriptor = DATA_SEGMENT_DPL3;
	struct exception_info info;

	if (!cpu_has(FEATURE_LASS) && !force) {
		require_cpu_feature(FEATURE_LASS);
		return report_summary();
	}
	if (!cpu_has(FEATURE_LASS))
		report_info("LASS is not in CPUID; running anyway (force): the cases must fail");
	ldt_page = (u64)vm_alloc(PAGE_SIZE, VM_USER | VM_WRITE);
	if (!ldt_page || !copy_to_user(ldt_page, &descriptor, sizeof(descriptor)))
		fatal("cannot set up the LDT page");
	/*
	 * Without LASS, bit 27 is reserved and MOV to CR4 must raise #GP(0);
	 * QEMU 7.2's TCG hangs on it instead, so force mode does not try.
	 */
	if (cpu_has(FEATURE_LASS)) {
		info = write_cr4_or_fault(read_cr4() | CR4_LASS);
		report(!info.raised && (read_cr4() & CR4_LASS), "CR4.LASS (bit 27) can be set");
	} else {
		report_fail("CR4.LASS (bit 27) can be set: not tried, CPUID has no LASS");
	}
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);
	if (read_cr4() & CR4_LASS)
		write_cr4(read_cr4() & ~(u64)CR4_LASS);
	return report_summary();
}
