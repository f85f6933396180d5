/*
 * write-protect.c: the CR0.WP cases of wp-nx (SDM Vol. 3A 2.5 CR0.WP, 4.6
 * "Access Rights"; AMD APM Vol. 2 5.6): with WP=1 a CPL 0 write to a
 * read-only page faults, with WP=0 it succeeds; R/W=0 in any one entry
 * makes the page read-only; CPL 3 writes to read-only pages always fault.
 */
#include "wp-nx.h"
#include "exceptions.h"
#include "page-table.h"
#include "paging-edits.h"
#include "probe.h"
#include "processor.h"
#include "report.h"
#include "test-fixtures.h"
#include "user-access.h"

/* CPL 0 write to the read-only supervisor page, with CR0.WP as the case says. */
bool write_read_only_supervisor(const struct wp_nx_case *c)
{
	u64 cr0 = read_cr0(), address = pages.supervisor_data + DATA_OFFSET, value = 0;
	struct exception_info observed, expected = no_exception();

	if (!c->write_protect)
		write_cr0(cr0 & ~(u64)CR0_WRITE_PROTECT);
	observed = write_u64_or_fault(address, DATA_MAGIC + c->write_protect);
	write_cr0(cr0);
	if (c->write_protect)
		expected = page_fault_at(WRITE_FAULT, address, observed.instruction);
	if (!outcome_matches(c->name, expected, observed))
		return false;
	read_u64_or_fault(address, &value);
	if (!c->write_protect && value != DATA_MAGIC) {
		report_info("%s: memory holds %#lx after the write", c->name, value);
		return false;
	}
	return true;
}

/* CPL 3 write to a read-only user page: always a fault. */
bool write_read_only_user(const struct wp_nx_case *c)
{
	u64 cr0 = read_cr0(), address = pages.user_read_only + DATA_OFFSET;
	struct probe_result result;

	if (!c->write_protect)
		write_cr0(cr0 & ~(u64)CR0_WRITE_PROTECT);
	result = run_probe(PROBE_OF(user_store_quad), 3, address, DATA_MAGIC, 0, 0);
	write_cr0(cr0);
	return outcome_matches(c->name,
			       page_fault_at(WRITE_FAULT | PAGE_FAULT_USER, address,
					     result.outcome.instruction),
			       result.outcome);
}

/*
 * R/W=0 in one non-leaf entry of a writable user page; a CPL 0 write with
 * EFLAGS.AC=1 (so that SMAP stays out of it).
 */
bool write_read_only_at_level(const struct wp_nx_case *c)
{
	u64 cr0 = read_cr0(), address = pages.user_writable + DATA_OFFSET, value = 0;
	u64 written = DATA_MAGIC + (u64)c->level * 2 + c->write_protect;
	struct probe_options options = { .cpl = 0, .alignment_check = true };
	struct exception_info expected = no_exception();
	struct probe_result result;
	struct entry_edit edit;

	entry_edit(&edit, address, c->level, PAGE_WRITABLE, 0);
	if (!c->write_protect)
		write_cr0(cr0 & ~(u64)CR0_WRITE_PROTECT);
	result = run_probe_with(&options, PROBE_OF(store_quad), address, written, 0, 0);
	write_cr0(cr0);
	entry_restore(&edit);
	if (c->write_protect)
		expected = page_fault_at(WRITE_FAULT, address, result.outcome.instruction);
	if (!outcome_matches(c->name, expected, result.outcome))
		return false;
	if (!copy_from_user(&value, address, sizeof(value)))
		fatal("cannot read back the user page");
	if (!c->write_protect && value != written) {
		report_info("%s: memory holds %#lx, wrote %#lx", c->name, value, written);
		return false;
	}
	return true;
}
