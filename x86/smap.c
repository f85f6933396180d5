/*
 * smap: supervisor-mode access prevention (CR4.SMAP), and CR0.WP with it.
 *
 * Rules checked (Intel SDM Vol. 3A 4.6 "Access Rights", 4.6.1
 * "Determination of Access Rights", 4.7 "Page-Fault Exceptions"; AMD APM
 * Vol. 2 5.6 page-protection checks, 8.4.2 page-fault error code):
 *  - Explicit supervisor data accesses to a user-mode address (U/S=1 in
 *    every paging-structure entry) with CR4.SMAP=1: a read or write with
 *    EFLAGS.AC=0 raises #PF with P=1, U/S=0, W/R as the access and RSVD,
 *    I/D, PK clear; with AC=1 it succeeds.  With CR4.SMAP=0 it succeeds.
 *  - U/S=0 in any one paging-structure entry makes the page a supervisor
 *    page, which CPL 0 may read with AC=0.
 *  - The SDM's table for supervisor writes to read-only user pages: with
 *    CR0.WP=0, SMAP=1 and AC=1 the write succeeds; with AC=0 it faults;
 *    with WP=1 it faults whatever AC is; with SMAP=0 it succeeds when WP=0
 *    and faults when WP=1.
 *  - An access that starts in a supervisor page and crosses into a user
 *    page faults on the first user byte (CR2), also for REP MOVSB.  A
 *    faulting REP MOVSB leaves RCX and RSI at the faulting element (SDM
 *    Vol. 2B REP: "the source and destination registers point to the next
 *    string elements ... ECX has the value it held following the last
 *    successful iteration").
 *  - SMAP does not apply to instruction fetches (with SMEP off) or to CPL 3
 *    accesses.
 *  - Implicit supervisor accesses (SDM 4.6: descriptor-table and TSS
 *    accesses, at any CPL) to user-mode addresses fault whatever AC is, and
 *    the error code has U/S=0 even at CPL 3 (SDM 4.7).  Checked with an LDT
 *    in a user page (a segment load at CPL 0 with AC=0 and AC=1, at CPL 3
 *    with AC=0 and AC=1, and succeeding with SMAP=0), and with GDT, IDT and
 *    TSS copies laid across a supervisor page and a user page so that the
 *    entries the CPU needs to deliver the resulting #PF stay supervisor:
 *    a segment load from the GDT's user part (CPL 0 with AC=1, CPL 3);
 *    #UD delivered through a gate in the IDT's user part (CPL 0 with AC=0
 *    and AC=1, CPL 3), where the #PF is delivered normally because #UD is
 *    benign (SDM Vol. 3A 6.15, interrupt 8, table 6-5); a #PF whose own
 *    gate is in the user part, which must become #DF on its IST stack
 *    (table 6-5: #PF during #PF delivery), with CR2 holding the second
 *    fault's address (SDM 6.15, interrupt 14); a #GP whose IST slot is in
 *    the TSS's user part (contributory then #PF: delivered serially); and
 *    IN at CPL 3 reading the I/O-map base from the TSS's user part (SDM
 *    Vol. 1 19.5).  INT n would reach the IDT like #UD does, but kvm_pvm
 *    cannot emulate INT n at CPL 0 at all (the VM stops), so the IDT cases
 *    use an exception.
 *  - EFLAGS.AC: POPF at CPL 0 sets and clears it; what the kernel sets
 *    does not reach ring 3 through IRETQ or SYSRETQ (they load RFLAGS from
 *    the frame and from R11); POPF at CPL 3 sets it (SDM Vol. 2B POPF);
 *    SYSCALL saves it in R11 and clears it through IA32_FMASK (SDM Vol. 2B
 *    SYSCALL; canon's FMASK includes AC).
 *  - With "stac": STAC and CLAC at CPL 0 set and clear AC (whatever
 *    CR4.SMAP is) and open and close SMAP; at CPL 3 they raise #UD (SDM
 *    Vol. 2B STAC, CLAC).  These run last and only on request, because
 *    some hypervisors cannot emulate the two instructions at all.
 *
 * Vendors: Intel and AMD state the same rules for everything above, so no
 * case depends on the vendor.
 *
 * Cannot test: a whole GDT, IDT or TSS in a user page.  Delivering the #PF
 * would read the same table again (the #PF gate, the code segment of the
 * handler, TSS.RSP0 or the IST slot), fault again, escalate to #DF and
 * then to a triple fault: a shutdown, not a result.  Only the splits
 * above can be caught cleanly.  Implicit writes (the accessed bit) cannot
 * be told apart from the implicit read that comes first.
 *
 * Lower-half supervisor pages exist only inside these cases: one page of a
 * fresh pair of adjacent user pages, with U/S cleared in its PTE.
 *
 * Arguments: "force" runs the cases even when CPUID lacks SMAP (they must
 * then fail); "stac" adds the STAC and CLAC cases at the end.
 *
 * The cases live in this file (single data accesses), smap/access-flag.c
 * (string copies, fetches, CPL 3, EFLAGS.AC, STAC/CLAC) and smap/implicit.c
 * (descriptor-table and TSS reads).
 */
#include "cmdline.h"
#include "cpu-features.h"
#include "descriptors.h"
#include "exceptions.h"
#include "layout.h"
#include "memory.h"
#include "page-table.h"
#include "processor.h"
#include "paging-edits.h"
#include "probe.h"
#include "protections.h"
#include "report.h"
#include "test-fixtures.h"
#include "user-access.h"
#include "user.h"
#include "vm.h"
#include "smap/smap.h"

#define CROSSING_VALUE 0x1122334455667788ull

struct smap_pages pages;

/* ---- explicit data accesses at CPL 0 ---------------------------------- */

enum page_kind { DATA_PAGE, READ_ONLY_PAGE, CROSSING };
enum access { READ, WRITE };

static const struct data_case {
	const char *name;
	enum access access;
	enum page_kind page;
	bool ac, smap_off, wp_off;
	int supervisor_level; /* U/S=0 in this entry only; 0 for none */
	u32 error_code;       /* the #PF expected, or 0 for success */
} data_cases[] = {
	{ .name = "CPL 0 read of a user page with AC=0 raises #PF(P)",
	  .access = READ, .page = DATA_PAGE, .error_code = READ_FAULT },
	{ .name = "CPL 0 write to a user page with AC=0 raises #PF(P|W)",
	  .access = WRITE, .page = DATA_PAGE, .error_code = WRITE_FAULT },
	{ .name = "CPL 0 read of a user page with AC=1 succeeds",
	  .access = READ, .page = DATA_PAGE, .ac = true },
	{ .name = "CPL 0 write to a user page with AC=1 succeeds",
	  .access = WRITE, .page = DATA_PAGE, .ac = true },
	{ .name = "SMAP=0: CPL 0 read of a user page with AC=0 succeeds",
	  .access = READ, .page = DATA_PAGE, .smap_off = true },
	{ .name = "SMAP=0: CPL 0 write to a user page with AC=0 succeeds",
	  .access = WRITE, .page = DATA_PAGE, .smap_off = true },
	{ .name = "U/S=0 in the PTE only: CPL 0 read with AC=0 succeeds",
	  .access = READ, .page = DATA_PAGE, .supervisor_level = 1 },
	{ .name = "U/S=0 in the PDE only: CPL 0 read with AC=0 succeeds",
	  .access = READ, .page = DATA_PAGE, .supervisor_level = 2 },
	{ .name = "U/S=0 in the PDPTE only: CPL 0 read with AC=0 succeeds",
	  .access = READ, .page = DATA_PAGE, .supervisor_level = 3 },
	{ .name = "U/S=0 in the PML4E only: CPL 0 read with AC=0 succeeds",
	  .access = READ, .page = DATA_PAGE, .supervisor_level = 4 },
	{ .name = "U/S=0 in the PML5E only: CPL 0 read with AC=0 succeeds",
	  .access = READ, .page = DATA_PAGE, .supervisor_level = 5 },
	{ .name = "CPL 0 read of a read-only user page with AC=1 succeeds",
	  .access = READ, .page = READ_ONLY_PAGE, .ac = true },
	{ .name = "WP=1 AC=0: write to a read-only user page raises #PF(P|W)",
	  .access = WRITE, .page = READ_ONLY_PAGE, .error_code = WRITE_FAULT },
	{ .name = "WP=1 AC=1: write to a read-only user page raises #PF(P|W)",
	  .access = WRITE, .page = READ_ONLY_PAGE, .ac = true, .error_code = WRITE_FAULT },
	{ .name = "WP=0 AC=0: write to a read-only user page raises #PF(P|W)",
	  .access = WRITE, .page = READ_ONLY_PAGE, .wp_off = true, .error_code = WRITE_FAULT },
	{ .name = "WP=0 AC=1: write to a read-only user page succeeds",
	  .access = WRITE, .page = READ_ONLY_PAGE, .ac = true, .wp_off = true },
	{ .name = "WP=1 SMAP=0: write to a read-only user page raises #PF(P|W)",
	  .access = WRITE, .page = READ_ONLY_PAGE, .smap_off = true, .error_code = WRITE_FAULT },
	{ .name = "WP=0 SMAP=0: write to a read-only user page succeeds",
	  .access = WRITE, .page = READ_ONLY_PAGE, .smap_off = true, .wp_off = true },
	{ .name = "a read crossing from a supervisor into a user page raises #PF(P)",
	  .access = READ, .page = CROSSING, .error_code = READ_FAULT },
	{ .name = "a read crossing into a user page with AC=1 succeeds",
	  .access = READ, .page = CROSSING, .ac = true },
};

static u64 data_address(enum page_kind page)
{
	switch (page) {
	case DATA_PAGE:
		return pages.data_page + DATA_OFFSET;
	case READ_ONLY_PAGE:
		return pages.read_only_page + DATA_OFFSET;
	case CROSSING:
		return pages.pair.user_page - 4;
	}
	return 0;
}

/* What memory holds at address, read another way than the case did. */
static u64 current_content(enum page_kind page, u64 address)
{
	u64 value = 0;

	if (page == CROSSING)
		return CROSSING_VALUE;
	if (!copy_from_user(&value, address, sizeof(value)))
		fatal("cannot read back %#lx", address);
	return value;
}

/* The access, with the case's page, CR0.WP, CR4.SMAP and EFLAGS.AC. */
static struct probe_result access_as_the_case_says(const struct data_case *c, u64 address,
						   u64 written)
{
	struct probe_options options = { .cpl = 0, .alignment_check = c->ac };
	u64 cr0 = read_cr0(), cr4 = read_cr4();
	struct probe_result result;
	struct entry_edit edit;

	if (c->smap_off)
		write_cr4(cr4 & ~(u64)CR4_SMAP);
	if (c->wp_off)
		write_cr0(cr0 & ~(u64)CR0_WRITE_PROTECT);
	if (c->supervisor_level)
		entry_edit(&edit, address, c->supervisor_level, PAGE_USER, 0);
	result = run_probe_with(&options, c->access == READ ? PROBE_OF(load_quad) :
							       PROBE_OF(store_quad),
				address, written, 0, 0);
	if (c->supervisor_level)
		entry_restore(&edit);
	write_cr0(cr0);
	write_cr4(cr4);
	return result;
}

/* After an access that succeeded: memory holds what was written, or was read. */
static bool memory_agrees(const struct data_case *c, u64 address, u64 value, u64 written)
{
	u64 content = current_content(c->page, address);

	if (c->access == READ && value != content)
		report_info("%s: read %#lx, memory holds %#lx", c->name, value, content);
	if (c->access == WRITE && content != written)
		report_info("%s: wrote %#lx, memory holds %#lx", c->name, written, content);
	return c->access == READ ? value == content : content == written;
}

static void run_data_case(const struct data_case *c, unsigned index)
{
	u64 address = data_address(c->page), written = DATA_MAGIC + index;
	struct exception_info expected = no_exception();
	struct probe_result result;
	bool pass;

	if (c->supervisor_level > paging_levels())
		return; /* no such level in this paging mode */
	if (c->page == CROSSING)
		page_pair_write(&pages.pair, -4, &(u64){ CROSSING_VALUE }, sizeof(u64));
	result = access_as_the_case_says(c, address, written);
	if (c->error_code)
		expected = page_fault_at(c->error_code,
					 c->page == CROSSING ? pages.pair.user_page : address,
					 result.outcome.instruction);
	pass = outcome_matches(c->name, expected, result.outcome);
	if (pass && !c->error_code)
		pass = memory_agrees(c, address, result.value, written);
	report(pass, "%s", c->name);
}

/* ---------------------------------------------------------------------- */

static u64 user_page_with(unsigned flags, const void *bytes, size_t length, u64 offset)
{
	u64 page = (u64)vm_alloc(PAGE_SIZE, VM_USER | VM_WRITE | flags);

	if (!page || !copy_to_user(page + offset, bytes, length))
		fatal("cannot set up a user page");
	return page;
}

static void set_up(void)
{
	pages.data_page = user_page_with(0, &(u64){ DATA_MAGIC }, 8, DATA_OFFSET);
	pages.read_only_page = user_page_with(0, &(u64){ DATA_MAGIC }, 8, DATA_OFFSET);
	vm_protect((void *)pages.read_only_page, PAGE_SIZE, VM_USER);
	pages.code_page = user_page_with(VM_EXECUTE, magic_function, sizeof(magic_function), 0);
	page_pair_alloc(&pages.pair, 0, false);
	page_pair_alloc(&pages.reversed_pair, 0, true);
}

int main(int argc, char **argv)
{
	if (!require_cpu_feature(FEATURE_SMAP) && !argv_has(argc, argv, "force"))
		return report_summary();
	check_protections(PROTECTION_SMAP);
	set_up();
	for (unsigned i = 0; i < ARRAY_SIZE(data_cases); i++)
		run_data_case(&data_cases[i], i);
	check_rep_movsb_reading_across(false);
	check_rep_movsb_reading_across(true);
	check_rep_movsb_writing_across();
	check_fetch_not_affected();
	check_cpl3_not_affected();
	check_popf_at_cpl0();
	check_ac_does_not_reach_ring3("AC set at CPL 0 does not reach ring 3 through IRETQ",
				      USER_ENTRY_IRETQ);
	check_ac_does_not_reach_ring3("AC set at CPL 0 does not reach ring 3 through SYSRETQ",
				      USER_ENTRY_SYSRETQ);
	check_popf_at_cpl3();
	check_syscall_clears_ac();
	check_ldt_in_user_page();
	check_gdt_across_pages();
	check_idt_gate_in_user_page();
	check_page_fault_gate_in_user_page();
	check_ist_slot_in_user_page();
	check_io_map_base_in_user_page();
	if (argv_has(argc, argv, "stac"))
		check_stac_and_clac();
	return report_summary();
}
