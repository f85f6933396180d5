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
#include "probe.h"
#include "processor.h"
#include "report.h"

#define TEST_SELECTOR SPARE_SELECTOR   /* GDT entries 8 and 9 */
#define TEST_INDEX (TEST_SELECTOR / 8)
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

#define NO_EXCEPTION { .cpl = CPL_ANY }
#define GP(code) { .raised = true, .vector = GP_VECTOR, .error_code = (code), .cpl = CPL_ANY }
#define NP(code) { .raised = true, .vector = NP_VECTOR, .error_code = (code), .cpl = CPL_ANY }

/* A case of LTR or LLDT of the test selector, whose descriptor is given. */
#define LTR_OF(descriptor_, ...) \
	.instruction = LOAD_TR, .descriptor = descriptor_, .selector = TEST_SELECTOR, __VA_ARGS__
#define LLDT_OF(descriptor_, ...) \
	.instruction = LOAD_LDTR, .descriptor = descriptor_, .selector = TEST_SELECTOR, __VA_ARGS__
#define LOCAL_SELECTOR (TEST_SELECTOR | SELECTOR_TABLE_LDT)

static const struct system_segment_case cases[] = {
	{ .name = "LTR of an available TSS loads TR", LTR_OF(AVAILABLE_TSS, .expected = NO_EXCEPTION) },
	{ .name = "LTR of a busy TSS raises #GP(sel)", LTR_OF(BUSY_TSS, .expected = GP(TEST_SELECTOR)) },
	{ .name = "LTR of a TSS not present raises #NP(sel)",
	  LTR_OF(AVAILABLE_TSS, .not_present = true, .expected = NP(TEST_SELECTOR)) },
	{ .name = "LTR of an LDT descriptor raises #GP(sel)", LTR_OF(LDT, .expected = GP(TEST_SELECTOR)) },
	{ .name = "LTR of a data segment raises #GP(sel)", LTR_OF(DATA, .expected = GP(TEST_SELECTOR)) },
	{ .name = "LTR with TI=1 raises #GP(sel)", .instruction = LOAD_TR, .descriptor = AVAILABLE_TSS,
	  .selector = LOCAL_SELECTOR, .expected = GP(LOCAL_SELECTOR) },
	{ .name = "LTR of a null selector raises #GP(0)", .instruction = LOAD_TR, .descriptor = NONE,
	  .selector = 0, .expected = GP(0) },
	{ .name = "LTR beyond the GDT limit raises #GP(sel)",
	  LTR_OF(AVAILABLE_TSS, .gdt_limit = TEST_SELECTOR - 1, .expected = GP(TEST_SELECTOR)) },
	{ .name = "LTR of a TSS half past the GDT limit raises #GP(sel)",
	  LTR_OF(AVAILABLE_TSS, .gdt_limit = TEST_SELECTOR + 7, .expected = GP(TEST_SELECTOR)) },
	{ .name = "LTR of a TSS with an upper-half type raises #GP(sel)",
	  LTR_OF(AVAILABLE_TSS, .upper_half_type = true, .expected = GP(TEST_SELECTOR)) },
	{ .name = "LLDT of an LDT loads LDTR", LLDT_OF(LDT, .expected = NO_EXCEPTION) },
	{ .name = "LLDT of a null selector loads a null LDTR", .instruction = LOAD_LDTR,
	  .descriptor = NONE, .selector = 0, .expected = NO_EXCEPTION },
	{ .name = "LLDT of a TSS descriptor raises #GP(sel)",
	  LLDT_OF(AVAILABLE_TSS, .expected = GP(TEST_SELECTOR)) },
	{ .name = "LLDT of a data segment raises #GP(sel)", LLDT_OF(DATA, .expected = GP(TEST_SELECTOR)) },
	{ .name = "LLDT of an LDT not present raises #NP(sel)",
	  LLDT_OF(LDT, .not_present = true, .expected = NP(TEST_SELECTOR)) },
	{ .name = "LLDT with TI=1 raises #GP(sel)", .instruction = LOAD_LDTR, .descriptor = LDT,
	  .selector = LOCAL_SELECTOR, .expected = GP(LOCAL_SELECTOR) },
	{ .name = "LLDT beyond the GDT limit raises #GP(sel)",
	  LLDT_OF(LDT, .gdt_limit = TEST_SELECTOR - 1, .expected = GP(TEST_SELECTOR)) },
	{ .name = "LLDT of an LDT half past the GDT limit raises #GP(sel)",
	  LLDT_OF(LDT, .gdt_limit = TEST_SELECTOR + 7, .expected = GP(TEST_SELECTOR)) },
};

/* LTR and LLDT of the selector (task_register_load, ldt_register_load: probe.h). */
static struct exception_info load_system_register(enum instruction instruction, u16 selector)
{
	struct probe probe = instruction == LOAD_TR ? PROBE_OF(task_register_load) :
						      PROBE_OF(ldt_register_load);

	return run_probe(probe, 0, selector, 0, 0, 0).outcome;
}

static void write_descriptor(const struct system_segment_case *c)
{
	u64 *slot = &global_descriptor_table[TEST_INDEX];

	gdt_clear_system_descriptor(TEST_SELECTOR);
	if (c->descriptor == AVAILABLE_TSS || c->descriptor == BUSY_TSS)
		gdt_set_system_descriptor(TEST_SELECTOR, c->descriptor == BUSY_TSS ?
					  SYSTEM_DESCRIPTOR_TSS_BUSY : SYSTEM_DESCRIPTOR_TSS_AVAILABLE,
					  (u64)&task_state, TSS_SIZE - 1);
	else if (c->descriptor == LDT)
		gdt_set_system_descriptor(TEST_SELECTOR, SYSTEM_DESCRIPTOR_LDT, 0, 0);
	else if (c->descriptor == DATA)
		slot[0] = FLAT_DATA_DESCRIPTOR(0);
	if (c->not_present)
		slot[0] &= ~DESCRIPTOR_PRESENT;
	if (c->upper_half_type)
		slot[1] |= UPPER_HALF_TYPE;
}

static void run_case(const struct system_segment_case *c)
{
	struct descriptor_table_register gdtr = read_gdtr();
	u16 tr = read_task_register(), ldtr = read_ldtr();
	struct exception_info expected = c->expected, observed;
	u64 before[2], after[2];
	bool loaded, unchanged;

	write_descriptor(c);
	memcpy(before, &global_descriptor_table[TEST_INDEX], sizeof(before));
	if (c->gdt_limit)
		load_gdtr(gdtr.base, c->gdt_limit);
	observed = load_system_register(c->instruction, c->selector);
	load_gdtr(gdtr.base, gdtr.limit);
	memcpy(after, &global_descriptor_table[TEST_INDEX], sizeof(after));
	if (expected.raised)
		expected.rip = observed.instruction;
	loaded = c->instruction == LOAD_TR ?
		 read_task_register() == c->selector &&
		 descriptor_type(after[0]) == SYSTEM_DESCRIPTOR_TSS_BUSY :
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
	load_ldtr(ldtr);
	gdt_clear_system_descriptor(TEST_SELECTOR);
}

/* Ring 3: both instructions are privileged. */
static void check_at_cpl3(const char *name, struct probe probe)
{
	struct probe_result result = run_probe(probe, 3, TSS_SELECTOR, 0, 0, 0);

	check_outcome(name, at_cpl(fault_at(GP_VECTOR, 0, (u64)probe.instruction), 3),
		      result.outcome);
}

int main(int argc, char **argv)
{
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);
	check_at_cpl3("LTR at CPL 3 raises #GP(0)", PROBE_OF(user_task_register_load));
	check_at_cpl3("LLDT at CPL 3 raises #GP(0)", PROBE_OF(user_ldt_register_load));
	return report_summary();
}
