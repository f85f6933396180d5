/*
 * wp-nx: CR0.WP, the execute-disable bit (XD, "NX"), and bit 63 as a
 * reserved bit when EFER.NXE=0.
 *
 * These rules get an image of their own because they depend on neither
 * SMEP, SMAP nor UMIP: on a CPU without those, smep, smap and umip must
 * SKIP as a whole, and these rules must still run.
 *
 * Rules checked (Intel SDM Vol. 3A 4.6 "Access Rights" and 4.6.1, 4.5
 * (reserved bits of the paging-structure entries), 4.7 "Page-Fault
 * Exceptions", 2.5 CR0.WP; AMD APM Vol. 2 5.6 page-protection checks,
 * 5.3 long-mode page translation, 8.4.2 page-fault error code):
 *  - With EFER.NXE=1, an instruction fetch from a page with XD=1 in any
 *    paging-structure entry raises #PF with P=1 and I/D=1 (and U/S=1 at
 *    CPL 3), CR2 and RIP at the address fetched; at CPL 0 and at CPL 3.
 *    Once XD is clear, the same fetch succeeds.  XD=1 in only the PTE,
 *    PDE, PDPTE, PML4E or PML5E is enough (checked at CPL 0 on a user page
 *    with SMEP off, so that SMEP cannot be the cause).
 *  - Code that runs off an executable page into an NX page faults on the
 *    first byte of the NX page; an instruction straddling the boundary
 *    faults with RIP at its first byte and CR2 at the NX page.
 *  - XD does not stop data reads.  The kernel's own .data and .bss are not
 *    executable, and its .text is not writable (with WP=1).
 *  - CR0.WP=1: a CPL 0 write to a read-only supervisor page raises #PF
 *    with P=1, W/R=1; with CR0.WP=0 it succeeds.  R/W=0 in only one
 *    non-leaf entry (PDE and up) is enough to make the page read-only
 *    for CPL 0 when WP=1, and does not stop it when WP=0.  CPL 3 writes to
 *    a read-only user page fault (P=1, W/R=1, U/S=1) whatever WP is.
 *  - With EFER.NXE=0 (a CPU without NX), bit 63 of every paging-structure
 *    entry is reserved (SDM 4.5, AMD APM 5.3): a translation through an
 *    entry with it set raises #PF with P=1 and RSVD=1 (W/R and U/S as the
 *    access), from the PTE up to the top level.  EFER.NXE cannot be set:
 *    WRMSR raises #GP(0).
 *
 * Vendors: the I/D bit of a fetch fault with EFER.NXE=0.  Intel sets it
 * when CR4.SMEP=1 (SDM 4.7: I/D=1 for a fetch if SMEP=1, or PAE and NXE);
 * AMD defines I/D only when EFER.NXE=1 (APM 8.4.2), so on AMD that one
 * case checks every error-code bit except I/D.  Everything else is the
 * same on both.
 *
 * Booting: the NX cases need EFER.NXE=1 (canon's default wherever CPUID
 * has NX).  The reserved-bit cases need EFER.NXE=0, which the kernel cannot
 * switch off while running (its own stack and data are NX), so they run
 * only when the guest booted without NX (QEMU -cpu max,-nx, or "nonx"),
 * and SKIP otherwise.  First of all, CR0.WP and EFER.NXE must be as CPUID
 * says: with "nowp" or "nonx" the test fails.
 *
 * The cases live in wp-nx/no-execute.c and wp-nx/write-protect.c; this
 * file holds the table, the pages they share and main().
 *
 * Cannot test: implicit supervisor writes under WP (the accessed bit of a
 * descriptor), because the CR2 such a write reports is not pinned down.
 *
 * Arguments: "force" runs the NX cases even when CPUID lacks NX; they
 * must then fail.
 */
#include "cmdline.h"
#include "cpu-features.h"
#include "exceptions.h"
#include "layout.h"
#include "memory.h"
#include "page-table.h"
#include "processor.h"
#include "protections.h"
#include "report.h"
#include "test-fixtures.h"
#include "user-access.h"
#include "vm.h"
#include "wp-nx/wp-nx.h"

struct wp_nx_pages pages;

#define NX_AT(level_, entry)                                                              \
	{ .name = "XD=1 in the " entry " only: CPL 0 fetch raises #PF(P|I)",               \
	  .run = nx_at_level, .needs = NX_ON, .level = level_ }
#define READ_ONLY_AT(level_, entry, wp, outcome)                                          \
	{ .name = "R/W=0 in the " entry " only: CPL 0 write with WP=" #wp " " outcome,       \
	  .run = write_read_only_at_level, .needs = ALWAYS, .level = level_,                \
	  .write_protect = wp }
#define FAULTS "raises #PF(P|W)"
#define RESERVED_AT(level_, entry)                                                        \
	{ .name = "NXE=0: bit 63 in the " entry " makes a CPL 0 read raise #PF(P|RSVD)",      \
	  .run = reserved_bit, .needs = NX_OFF, .level = level_, .access = READ }

static const struct wp_nx_case cases[] = {
	{ .name = "CPL 0 CALL into the kernel's .data raises #PF(P|I)",
	  .run = kernel_data_not_executable, .needs = NX_ON },
	{ .name = "CPL 0 CALL into the kernel's .bss raises #PF(P|I)",
	  .run = kernel_data_not_executable, .needs = NX_ON, .in_bss = true },
	{ .name = "WP=1: CPL 0 write to the kernel's .text raises #PF(P|W)",
	  .run = kernel_text_read_only, .needs = ALWAYS },
	{ .name = "CPL 0 CALL to an NX supervisor page raises #PF(P|I)",
	  .run = nx_supervisor_page, .needs = NX_ON },
	{ .name = "CPL 0 CALL to the page once executable returns", .run = nx_supervisor_page,
	  .needs = NX_ON, .executable = true },
	{ .name = "CPL 3 CALL to an NX user page raises #PF(P|U|I)", .run = nx_user_page_at_cpl3,
	  .needs = NX_ON },
	{ .name = "CPL 3 CALL to the page once executable returns", .run = nx_user_page_at_cpl3,
	  .needs = NX_ON, .executable = true },
	NX_AT(1, "PTE"), NX_AT(2, "PDE"), NX_AT(3, "PDPTE"), NX_AT(4, "PML4E"), NX_AT(5, "PML5E"),
	{ .name = "running off an executable page into an NX page raises #PF(P|I)",
	  .run = nx_crossing, .needs = NX_ON },
	{ .name = "an instruction straddling into an NX page raises #PF(P|I)",
	  .run = nx_crossing, .needs = NX_ON, .straddles = true },
	{ .name = "XD does not stop a CPL 0 data read", .run = nx_page_readable, .needs = NX_ON },
	{ .name = "WP=1: CPL 0 write to a read-only supervisor page raises #PF(P|W)",
	  .run = write_read_only_supervisor, .needs = ALWAYS, .write_protect = true },
	{ .name = "WP=0: CPL 0 write to a read-only supervisor page succeeds",
	  .run = write_read_only_supervisor, .needs = ALWAYS },
	{ .name = "WP=1: CPL 3 write to a read-only user page raises #PF(P|W|U)",
	  .run = write_read_only_user, .needs = ALWAYS, .write_protect = true },
	{ .name = "WP=0: CPL 3 write to a read-only user page raises #PF(P|W|U)",
	  .run = write_read_only_user, .needs = ALWAYS },
	READ_ONLY_AT(2, "PDE", 1, FAULTS), READ_ONLY_AT(3, "PDPTE", 1, FAULTS),
	READ_ONLY_AT(4, "PML4E", 1, FAULTS), READ_ONLY_AT(5, "PML5E", 1, FAULTS),
	READ_ONLY_AT(2, "PDE", 0, "succeeds"), READ_ONLY_AT(3, "PDPTE", 0, "succeeds"),
	READ_ONLY_AT(4, "PML4E", 0, "succeeds"), READ_ONLY_AT(5, "PML5E", 0, "succeeds"),
	{ .name = "NXE=0: bit 63 in the PTE makes a CPL 0 write raise #PF(P|W|RSVD)",
	  .run = reserved_bit, .needs = NX_OFF, .level = 1, .access = WRITE },
	{ .name = "NXE=0: bit 63 in the PTE makes a CPL 0 fetch raise #PF(P|RSVD)",
	  .run = reserved_bit, .needs = NX_OFF, .level = 1, .access = FETCH },
	{ .name = "NXE=0: bit 63 in the PTE makes a CPL 3 read raise #PF(P|U|RSVD)",
	  .run = reserved_bit, .needs = NX_OFF, .level = 1, .access = USER_READ },
	RESERVED_AT(1, "PTE"), RESERVED_AT(2, "PDE"), RESERVED_AT(3, "PDPTE"),
	RESERVED_AT(4, "PML4E"), RESERVED_AT(5, "PML5E"),
	{ .name = "NXE=0: WRMSR setting EFER.NXE without NX raises #GP(0)",
	  .run = no_execute_enable_refused, .needs = NX_ABSENT },
};

static void run_case(const struct wp_nx_case *c, bool no_execute_enabled, bool force)
{
	if (c->level > paging_levels())
		return; /* no such level in this paging mode */
	if (c->needs == NX_ON && !no_execute_enabled && !force)
		return; /* reported once, by main */
	if (c->needs == NX_OFF && no_execute_enabled)
		return; /* reported once, by main */
	if (c->needs == NX_ABSENT && cpu_has(FEATURE_NX))
		return; /* the rule is about CPUs without NX */
	report(c->run(c), "%s", c->name);
}

static u64 page_with(unsigned flags, const void *bytes, size_t length, u64 offset)
{
	u64 page = (u64)vm_alloc(PAGE_SIZE, flags | VM_WRITE);

	if (!page)
		fatal("cannot allocate a page");
	if (flags & VM_USER) {
		if (!copy_to_user(page + offset, bytes, length))
			fatal("cannot fill a user page");
	} else {
		memcpy((void *)(page + offset), bytes, length);
	}
	return page;
}

static void set_up(void)
{
	const u64 zero = 0;

	pages.supervisor_code = page_with(VM_SUPERVISOR, magic_function, sizeof(magic_function), 0);
	pages.user_code = page_with(VM_USER, magic_function, sizeof(magic_function), 0);
	pages.user_executable = page_with(VM_USER | VM_EXECUTE, magic_function,
					  sizeof(magic_function), 0);
	pages.supervisor_data = page_with(VM_SUPERVISOR, &zero, 8, DATA_OFFSET);
	vm_protect((void *)pages.supervisor_data, PAGE_SIZE, VM_SUPERVISOR);
	pages.user_read_only = page_with(VM_USER, &zero, 8, DATA_OFFSET);
	vm_protect((void *)pages.user_read_only, PAGE_SIZE, VM_USER);
	pages.user_writable = page_with(VM_USER, &zero, 8, DATA_OFFSET);
	pages.two_pages = (u64)vm_alloc(2 * PAGE_SIZE, VM_SUPERVISOR | VM_WRITE | VM_EXECUTE);
	if (!pages.two_pages)
		fatal("cannot allocate two pages");
	vm_protect((void *)(pages.two_pages + PAGE_SIZE), PAGE_SIZE, VM_SUPERVISOR | VM_WRITE);
}

int main(int argc, char **argv)
{
	bool no_execute_enabled = read_msr(MSR_EFER) & EFER_NO_EXECUTE_ENABLE;
	bool force = argv_has(argc, argv, "force");

	check_protections(PROTECTION_WRITE_PROTECT | PROTECTION_NO_EXECUTE);
	if (!require_cpu_feature(FEATURE_NX) && force)
		report_info("force: running the NX cases without NX");
	if (no_execute_enabled)
		report_skip("bit 63 as a reserved bit: EFER.NXE=1 (boot without NX to check it)");
	else if (cpu_has(FEATURE_NX) && !force)
		report_skip("the NX cases: EFER.NXE=0 although CPUID has NX (booted with nonx?)");
	set_up();
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(&cases[i], no_execute_enabled, force);
	return report_summary();
}
