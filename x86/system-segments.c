/*
 * system-segments: LTR and LLDT against the SDM's checks of the descriptor
 * they load.
 *
 * Rules checked (SDM Vol. 2A LTR and LLDT, 64-bit mode exceptions; SDM Vol. 3A
 * 3.5.2 and 7.2.3: in IA-32e mode an LDT or TSS descriptor is 16 bytes, two
 * GDT entries):
 *  - LTR loads an available TSS and marks it busy; LLDT loads an LDT, and a
 *    null selector leaves LDTR null without a fault.
 *  - #GP(0): a null selector for LTR, and either instruction at CPL 3.
 *  - #GP(selector): a descriptor of the wrong type (a busy TSS, an LDT for
 *    LTR, a TSS for LLDT, a code or data segment), a selector with TI=1, or
 *    a selector beyond the GDT limit; for LTR only, also a non-zero type
 *    field in the upper 8 bytes of the 16-byte descriptor (LLDT's exception
 *    list has no such line, so it is not tested).
 *  - A descriptor whose upper half lies past the GDT limit is beyond the
 *    limit.  The instruction pages compare only the selector's offset with
 *    the limit, but in IA-32e mode the descriptor is both entries (3.5.2),
 *    and reading its upper half past the limit is a table access outside the
 *    table; QEMU's TCG reads the rule this way too, and kvm_pvm
 *    on an AMD host does not (an erratum).  No manual states it outright.
 *  - #NP(selector) for a descriptor that is not present.
 *  - A load that faults changes nothing: TR, LDTR, and the descriptor's busy
 *    bit stay as they were.
 * AMD's APM Vol. 3 (LTR, LLDT) gives the same exceptions for long mode; the
 * test expects the same on both vendors.
 */
#include "descriptors.h"
#include "exceptions.h"
#include "memory.h"
#include "processor.h"
#include "report.h"
#include "user.h"

#define TEST_SELECTOR SPARE_SELECTOR   /* GDT entries 8 and 9 */
#define TEST_INDEX (TEST_SELECTOR / 8)
#define SELECTOR_LOCAL 0x4             /* TI: the selector names the LDT */
#define DESCRIPTOR_PRESENT (1ULL << 47)
#define DESCRIPTOR_TYPE_SHIFT 40
#define TSS_BUSY 0xb
#define DATA_SEGMENT 0x00cf92000000ffffULL
/* The upper 8 bytes: base 63:32, then a type field (bits 44:40) that must be 0. */
#define UPPER_HALF_TYPE (1ULL << 40)

enum instruction { LOAD_TR, LOAD_LDTR };

enum descriptor { AVAILABLE_TSS, BUSY_TSS, LDT, DATA, NONE };

struct system_segment_case {
	const char *name;
	enum instruction instruction;
	enum descriptor descriptor;
	u16 selector;
	bool not_present;
	bool upper_half_type;  /* a non-zero type in the upper 8 bytes */
	u16 gdt_limit;         /* 0: the GDT's own limit */
	struct exception_info expected;
};

#define GP(code) { .raised = true, .vector = GP_VECTOR, .error_code = (code) }
#define NP(code) { .raised = true, .vector = NP_VECTOR, .error_code = (code) }

static const struct system_segment_case cases[] = {
	{ "LTR of an available TSS loads TR", LOAD_TR, AVAILABLE_TSS, TEST_SELECTOR,
	  .expected = { 0 } },
	{ "LTR of a busy TSS raises #GP(sel)", LOAD_TR, BUSY_TSS, TEST_SELECTOR,
	  .expected = GP(TEST_SELECTOR) },
	{ "LTR of a TSS not present raises #NP(sel)", LOAD_TR, AVAILABLE_TSS, TEST_SELECTOR,
	  .not_present = true, .expected = NP(TEST_SELECTOR) },
	{ "LTR of an LDT descriptor raises #GP(sel)", LOAD_TR, LDT, TEST_SELECTOR,
	  .expected = GP(TEST_SELECTOR) },
	{ "LTR of a data segment raises #GP(sel)", LOAD_TR, DATA, TEST_SELECTOR,
	  .expected = GP(TEST_SELECTOR) },
	{ "LTR with TI=1 raises #GP(sel)", LOAD_TR, AVAILABLE_TSS,
	  TEST_SELECTOR | SELECTOR_LOCAL, .expected = GP(TEST_SELECTOR | SELECTOR_LOCAL) },
	{ "LTR of a null selector raises #GP(0)", LOAD_TR, NONE, 0, .expected = GP(0) },
	{ "LTR beyond the GDT limit raises #GP(sel)", LOAD_TR, AVAILABLE_TSS, TEST_SELECTOR,
	  .gdt_limit = TEST_SELECTOR - 1, .expected = GP(TEST_SELECTOR) },
	{ "LTR of a TSS half past the GDT limit raises #GP(sel)", LOAD_TR, AVAILABLE_TSS,
	  TEST_SELECTOR, .gdt_limit = TEST_SELECTOR + 7, .expected = GP(TEST_SELECTOR) },
	{ "LTR of a TSS with an upper-half type raises #GP(sel)", LOAD_TR, AVAILABLE_TSS,
	  TEST_SELECTOR, .upper_half_type = true, .expected = GP(TEST_SELECTOR) },
	{ "LLDT of an LDT loads LDTR", LOAD_LDTR, LDT, TEST_SELECTOR, .expected = { 0 } },
	{ "LLDT of a null selector loads a null LDTR", LOAD_LDTR, NONE, 0, .expected = { 0 } },
	{ "LLDT of a TSS descriptor raises #GP(sel)", LOAD_LDTR, AVAILABLE_TSS, TEST_SELECTOR,
	  .expected = GP(TEST_SELECTOR) },
	{ "LLDT of a data segment raises #GP(sel)", LOAD_LDTR, DATA, TEST_SELECTOR,
	  .expected = GP(TEST_SELECTOR) },
	{ "LLDT of an LDT not present raises #NP(sel)", LOAD_LDTR, LDT, TEST_SELECTOR,
	  .not_present = true, .expected = NP(TEST_SELECTOR) },
	{ "LLDT with TI=1 raises #GP(sel)", LOAD_LDTR, LDT, TEST_SELECTOR | SELECTOR_LOCAL,
	  .expected = GP(TEST_SELECTOR | SELECTOR_LOCAL) },
	{ "LLDT beyond the GDT limit raises #GP(sel)", LOAD_LDTR, LDT, TEST_SELECTOR,
	  .gdt_limit = TEST_SELECTOR - 1, .expected = GP(TEST_SELECTOR) },
	{ "LLDT of an LDT half past the GDT limit raises #GP(sel)", LOAD_LDTR, LDT,
	  TEST_SELECTOR, .gdt_limit = TEST_SELECTOR + 7, .expected = GP(TEST_SELECTOR) },
};

static struct exception_info load_or_fault(enum instruction instruction, u16 selector)
{
	u64 code = 0, at;

	if (instruction == LOAD_TR)
		asm volatile("lea 1f(%%rip), %[at]\n1: ltr %[selector]\n2:\n"
			     EXCEPTION_FIXUP("1b", "2b")
			     : "+D"(code), [at] "=&r"(at) : [selector] "r"(selector) : "memory");
	else
		asm volatile("lea 1f(%%rip), %[at]\n1: lldt %[selector]\n2:\n"
			     EXCEPTION_FIXUP("1b", "2b")
			     : "+D"(code), [at] "=&r"(at) : [selector] "r"(selector) : "memory");
	return exception_from_probe(code, at);
}

static u16 read_ldtr(void)
{
	u16 selector;

	asm volatile("sldt %0" : "=r"(selector));
	return selector;
}

static void load_gdt_limit(u16 limit)
{
	struct descriptor_table_register gdtr = read_gdtr();

	gdtr.limit = limit;
	asm volatile("lgdt %0" : : "m"(gdtr) : "memory");
}

static void write_descriptor(const struct system_segment_case *c)
{
	u64 *slot = &global_descriptor_table[TEST_INDEX];

	gdt_clear_system_descriptor(TEST_SELECTOR);
	if (c->descriptor == AVAILABLE_TSS || c->descriptor == BUSY_TSS)
		gdt_set_system_descriptor(TEST_SELECTOR, c->descriptor == BUSY_TSS ? TSS_BUSY :
				SYSTEM_DESCRIPTOR_TSS_AVAILABLE, (u64)&task_state, TSS_SIZE - 1);
	else if (c->descriptor == LDT)
		gdt_set_system_descriptor(TEST_SELECTOR, SYSTEM_DESCRIPTOR_LDT, 0, 0);
	else if (c->descriptor == DATA)
		slot[0] = DATA_SEGMENT;
	if (c->not_present)
		slot[0] &= ~DESCRIPTOR_PRESENT;
	if (c->upper_half_type)
		slot[1] |= UPPER_HALF_TYPE;
}

/* The TSS setup made: its descriptor was marked busy by boot's LTR. */
static void restore_task_register(void)
{
	gdt_set_system_descriptor(TSS_SELECTOR, SYSTEM_DESCRIPTOR_TSS_AVAILABLE,
				  (u64)&task_state, TSS_SIZE - 1);
	asm volatile("ltr %0" : : "r"((u16)TSS_SELECTOR) : "memory");
}

static void run_case(const struct system_segment_case *c)
{
	u16 gdt_limit = read_gdtr().limit, tr = read_task_register(), ldtr = read_ldtr();
	struct exception_info expected = c->expected, observed;
	u64 before[2], after[2];
	bool loaded, unchanged;

	write_descriptor(c);
	memcpy(before, &global_descriptor_table[TEST_INDEX], sizeof(before));
	if (c->gdt_limit)
		load_gdt_limit(c->gdt_limit);
	observed = load_or_fault(c->instruction, c->selector);
	load_gdt_limit(gdt_limit);
	memcpy(after, &global_descriptor_table[TEST_INDEX], sizeof(after));
	if (expected.raised)
		expected.rip = observed.instruction;
	loaded = c->instruction == LOAD_TR ?
		 read_task_register() == c->selector &&
		 (after[0] >> DESCRIPTOR_TYPE_SHIFT & 0xf) == TSS_BUSY :
		 read_ldtr() == c->selector;
	unchanged = read_task_register() == tr && read_ldtr() == ldtr && !memcmp(before, after,
										 sizeof(before));
	if (expected.raised && !unchanged)
		report_info("%s: the faulting load changed TR, LDTR or the descriptor", c->name);
	if (!expected.raised && !loaded)
		report_info("%s: TR %#x, LDTR %#x", c->name, read_task_register(), read_ldtr());
	report(outcome_matches(c->name, expected, observed) &&
	       (expected.raised ? unchanged : loaded), "%s", c->name);
	if (read_task_register() != tr)
		restore_task_register();
	asm volatile("lldt %0" : : "r"(ldtr) : "memory");
	gdt_clear_system_descriptor(TEST_SELECTOR);
}

/* Ring 3: both instructions are privileged. */
static u64 USER_CODE user_load_task_register(u64 a, u64 b, u64 c, u64 d)
{
	u64 code = 0;

	asm volatile("1: ltr %w1\n2:\n" EXCEPTION_FIXUP("1b", "2b") : "+D"(code) : "r"(a));
	return code;
}

static u64 USER_CODE user_load_ldt_register(u64 a, u64 b, u64 c, u64 d)
{
	u64 code = 0;

	asm volatile("1: lldt %w1\n2:\n" EXCEPTION_FIXUP("1b", "2b") : "+D"(code) : "r"(a));
	return code;
}

static void check_at_cpl3(const char *name, user_function probe)
{
	struct user_result result = run_user(probe, TSS_SELECTOR, 0, 0, 0);
	struct exception_info observed = result.faulted ? result.fault :
							  exception_decode(result.value);

	report(outcome_matches(name, exception(GP_VECTOR, 0), observed), "%s", name);
}

int main(int argc, char **argv)
{
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);
	check_at_cpl3("LTR at CPL 3 raises #GP(0)", user_load_task_register);
	check_at_cpl3("LLDT at CPL 3 raises #GP(0)", user_load_ldt_register);
	return report_summary();
}
