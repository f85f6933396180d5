/*
 * implicit.c: smap's implicit supervisor accesses (SDM Vol. 3A 4.6, 4.6.1,
 * 4.7; AMD APM Vol. 2 5.6): descriptor-table and TSS reads are supervisor
 * accesses at any CPL, so with CR4.SMAP=1 they fault on user pages whatever
 * EFLAGS.AC is, with U/S=0 in the error code.  The tables are laid across a
 * supervisor page and a user page (smap.c's page pairs) so that what the CPU
 * needs to deliver the #PF stays supervisor.
 */
#include "smap.h"
#include "descriptors.h"
#include "exceptions.h"
#include "layout.h"
#include "page-table.h"
#include "probe.h"
#include "processor.h"
#include "report.h"
#include "test-fixtures.h"
#include "user-access.h"
#include "vm.h"

/* A DPL 3 data descriptor with the accessed bit set (nothing to write back). */
#define USER_DATA_DESCRIPTOR (FLAT_DATA_DESCRIPTOR(3) | DESCRIPTOR_ACCESSED)
#define LDT_INDEX 5
#define LDT_SELECTOR ((LDT_INDEX << 3) | SELECTOR_TABLE_LDT | 3)
/* Offsets of the TSS fields the cases put at the start of the user page. */
#define TSS_SPARE_IST_OFFSET (TSS_IST1 + 8 * (IST_SPARE - 1))
#define TSS_IO_MAP_BASE_OFFSET 102

PROBE(undefined_opcode, BOTH, "", "ud2", "");
PROBE(user_port_read, USER, "mov %edi, %edx", "inb %dx, %al", "");

/* A segment load (MOV to FS) at CPL 0 or 3, optionally with AC=1. */
static struct exception_info segment_load(unsigned cpl, u16 selector, bool ac)
{
	struct probe_options options = { .cpl = cpl, .alignment_check = ac };
	struct probe probe = cpl ? PROBE_OF(user_load_fs) : PROBE_OF(load_fs);

	return run_probe_with(&options, probe, selector, 0, 0, 0).outcome;
}

/* The #PF a descriptor read in a user page raises, at the load itself. */
static struct exception_info read_fault_at(u64 address, struct exception_info observed)
{
	return page_fault_at(READ_FAULT, address, observed.instruction);
}

static const struct segment_load_case {
	const char *name;
	unsigned cpl;
	bool ac, smap_off;
} ldt_cases[] = {
	{ .name = "LDT in a user page: CPL 0 segment load, AC=0, raises #PF(P)", .cpl = 0 },
	{ .name = "LDT in a user page: CPL 0 segment load, AC=1, raises #PF(P)", .cpl = 0,
	  .ac = true },
	{ .name = "LDT in a user page: CPL 3 segment load raises #PF(P), U/S=0", .cpl = 3 },
	{ .name = "LDT in a user page: CPL 3 segment load, AC=1, raises #PF(P)", .cpl = 3,
	  .ac = true },
	{ .name = "SMAP=0: CPL 0 segment load from an LDT in a user page succeeds", .cpl = 0,
	  .smap_off = true },
};

void check_ldt_in_user_page(void)
{
	u64 ldt = (u64)vm_alloc(PAGE_SIZE, VM_USER | VM_WRITE);
	u64 descriptor = ldt + LDT_INDEX * 8, cr4 = read_cr4(), user_data = USER_DATA_DESCRIPTOR;

	if (!ldt || !copy_to_user(descriptor, &user_data, 8))
		fatal("cannot build the LDT");
	gdt_set_system_descriptor(SPARE_SELECTOR, SYSTEM_DESCRIPTOR_LDT, ldt, 8 * (LDT_INDEX + 1) - 1);
	load_ldtr(SPARE_SELECTOR);
	for (unsigned i = 0; i < ARRAY_SIZE(ldt_cases); i++) {
		const struct segment_load_case *c = &ldt_cases[i];
		struct exception_info observed;

		if (c->smap_off)
			write_cr4(cr4 & ~(u64)CR4_SMAP);
		observed = segment_load(c->cpl, LDT_SELECTOR, c->ac);
		write_cr4(cr4);
		check_outcome(c->name, c->smap_off ? no_exception() : read_fault_at(descriptor, observed),
			      observed);
	}
	load_ldtr(0);
	gdt_clear_system_descriptor(SPARE_SELECTOR);
	vm_free((void *)ldt);
}

/* The GDT's first GDT_ENTRIES entries in the supervisor page, one more in the user page. */
void check_gdt_across_pages(void)
{
	struct page_pair *pair = &pages.pair;
	struct descriptor_table_register original = read_gdtr();
	u64 base = pair->user_page - sizeof(global_descriptor_table), user_data = USER_DATA_DESCRIPTOR;
	u16 selector = (u16)(sizeof(global_descriptor_table) | 3);
	struct exception_info cpl0, cpl3;

	page_pair_write(pair, -(s64)sizeof(global_descriptor_table), global_descriptor_table,
			sizeof(global_descriptor_table));
	page_pair_write(pair, 0, &user_data, 8);
	load_gdtr(base, sizeof(global_descriptor_table) + 8 - 1);
	cpl0 = segment_load(0, selector, true);
	cpl3 = segment_load(3, selector, false);
	load_gdtr(original.base, original.limit);
	check_outcome("GDT entry in a user page: CPL 0 segment load, AC=1, raises #PF(P)",
		      read_fault_at(pair->user_page, cpl0), cpl0);
	check_outcome("GDT entry in a user page: CPL 3 segment load raises #PF(P), U/S=0",
		      read_fault_at(pair->user_page, cpl3), cpl3);
}

/*
 * A copy of the IDT laid across a pair so that gate first_vector is the
 * first on the pair's second page; returns the IDT's own base.
 */
static u64 install_idt_across_pages(struct page_pair *across, unsigned first_vector)
{
	u64 idt = read_idtr().base, split = first_vector * 16;

	page_pair_write(across, -(s64)split, (const void *)idt, split);
	page_pair_write(across, 0, (const void *)(idt + split), IDT_ENTRIES * 16 - split);
	load_idtr(across->boundary - split, IDT_ENTRIES * 16 - 1);
	return idt;
}

/*
 * The #UD gate in a user page and every later gate (#PF, #DF) in a
 * supervisor page: #UD's delivery faults on its gate, and the #PF that
 * results is delivered normally (SDM table 6-5: #UD is benign).
 */
void check_idt_gate_in_user_page(void)
{
	static const struct probe_options at[] = {
		{ .cpl = 0 }, { .cpl = 0, .alignment_check = true }, { .cpl = 3 },
	};
	static const char *const names[] = {
		"IDT gate in a user page: #UD at CPL 0, AC=0, raises #PF(P)",
		"IDT gate in a user page: #UD at CPL 0, AC=1, raises #PF(P)",
		"IDT gate in a user page: #UD at CPL 3 raises #PF(P), U/S=0",
	};
	u64 gate = pages.reversed_pair.boundary - 16;
	u64 idt = install_idt_across_pages(&pages.reversed_pair, UD_VECTOR + 1);
	struct exception_info observed[ARRAY_SIZE(at)];

	for (unsigned i = 0; i < ARRAY_SIZE(at); i++)
		observed[i] = run_probe_with(&at[i], at[i].cpl ? PROBE_OF(user_undefined_opcode) :
								 PROBE_OF(undefined_opcode),
					     0, 0, 0, 0).outcome;
	load_idtr(idt, IDT_ENTRIES * 16 - 1);
	for (unsigned i = 0; i < ARRAY_SIZE(at); i++)
		check_outcome(names[i], read_fault_at(gate, observed[i]), observed[i]);
}

/* For the errata list: #DF(0), and which fault CR2 describes. */
static void observe_double_fault(struct exception_info observed, u64 cr2, u64 second_fault)
{
	if (exception_equal(exception(DF_VECTOR, 0), observed) && cr2 != second_fault)
		report_observed(cr2 == pages.data_page + DATA_OFFSET ? "#DF(0) CR2=first-fault" :
									"#DF(0) CR2=other");
	else
		report_observed_exception(observed);
}

/*
 * The #PF gate itself in the user page: a SMAP fault's delivery faults
 * again, which makes #DF (SDM table 6-5: #PF during #PF delivery).  The
 * #DF gate and its IST slot are supervisor, so the #DF is caught; its RIP
 * is undefined (SDM 6.15, interrupt 8), so only vector, error code and
 * CR2 are checked.
 */
void check_page_fault_gate_in_user_page(void)
{
	const char *name = "#PF gate in a user page: a #PF becomes #DF(0) on its IST stack";
	u64 second_fault = pages.pair.user_page, idt, value, cr2;
	struct exception_info observed;
	bool pass;

	idt = install_idt_across_pages(&pages.pair, PF_VECTOR);
	observed = read_u64_or_fault(pages.data_page + DATA_OFFSET, &value);
	cr2 = read_cr2();
	load_idtr(idt, IDT_ENTRIES * 16 - 1);
	pass = exception_equal(exception(DF_VECTOR, 0), observed) && cr2 == second_fault;
	if (!pass) {
		char text[96];

		report_info("%s: expected #DF(0) with CR2 %#lx; got %s with CR2 %#lx", name,
			    second_fault, describe_exception(observed, text, sizeof(text)), cr2);
	}
	observe_double_fault(observed, cr2, second_fault);
	report(pass, "%s", name);
}

/* A copy of the TSS in TR whose bytes from offset split on are in the user page. */
static void install_tss_across_pages(u64 split)
{
	u64 base = pages.pair.user_page - split;

	page_pair_write(&pages.pair, -(s64)split, &task_state, split);
	page_pair_write(&pages.pair, 0, (const u8 *)&task_state + split, TSS_SIZE - split);
	gdt_set_system_descriptor(SPARE_SELECTOR, SYSTEM_DESCRIPTOR_TSS_AVAILABLE, base,
				  TSS_SIZE - 1);
	load_task_register(SPARE_SELECTOR);
}

static void remove_tss_copy(void)
{
	restore_task_register();
	gdt_clear_system_descriptor(SPARE_SELECTOR);
}

void check_ist_slot_in_user_page(void)
{
	u64 non_canonical = 1ull << (linear_address_bits() - 1), value;
	struct exception_info observed;

	install_tss_across_pages(TSS_SPARE_IST_OFFSET);
	idt_set_gate(GP_VECTOR, 0, IST_SPARE);
	observed = read_u64_or_fault(non_canonical, &value);
	idt_set_gate(GP_VECTOR, 0, 0);
	remove_tss_copy();
	check_outcome("TSS IST slot in a user page: #GP through it raises #PF(P)",
		      read_fault_at(pages.pair.user_page, observed), observed);
}

void check_io_map_base_in_user_page(void)
{
	struct exception_info observed;

	install_tss_across_pages(TSS_IO_MAP_BASE_OFFSET);
	observed = run_probe(PROBE_OF(user_port_read), 3, 0x80, 0, 0, 0).outcome;
	remove_tss_copy();
	check_outcome("TSS I/O-map base in a user page: IN at CPL 3 raises #PF(P), U/S=0",
		      read_fault_at(pages.pair.user_page, observed), observed);
}
