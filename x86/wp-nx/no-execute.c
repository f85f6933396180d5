/*
 * no-execute.c: the XD ("NX") cases of wp-nx (SDM Vol. 3A 4.6, 4.6.1, 4.7;
 * AMD APM Vol. 2 5.6, 8.4.2): a fetch from a page with XD=1 in any entry
 * raises #PF(P|I) at CPL 0 and 3, crossing fetches fault at the first NX
 * byte, XD does not stop reads, the kernel image's data is not executable
 * and its text not writable; and, with EFER.NXE=0, bit 63 as a reserved
 * bit (SDM 4.5, APM 5.3) and WRMSR refusing NXE without NX in CPUID.
 */
#include "wp-nx.h"
#include "cpu-features.h"
#include "exceptions.h"
#include "layout.h"
#include "memory.h"
#include "page-table.h"
#include "paging-edits.h"
#include "probe.h"
#include "processor.h"
#include "report.h"
#include "test-fixtures.h"
#include "vm.h"

static const u8 nop = NOP_INSTRUCTION;

/* A CPL 0 call that must fault with error_code at target, or run magic_function. */
static bool expect_call(const char *name, u64 target, bool faults, u32 error_code, u64 rip,
			u64 cr2)
{
	u64 value = 0;
	struct exception_info observed = call_at_cpl0(target, &value);
	struct exception_info expected = faults ? page_fault_at(error_code, cr2, rip) :
						  no_exception();

	if (!outcome_matches(name, expected, observed))
		return false;
	if (!faults && value != MAGIC_FUNCTION_RESULT) {
		report_info("%s: the code returned %#lx", name, value);
		return false;
	}
	return true;
}

bool nx_supervisor_page(const struct wp_nx_case *c)
{
	u64 page = pages.supervisor_code;
	bool pass;

	if (c->executable)
		vm_protect((void *)page, PAGE_SIZE, VM_SUPERVISOR | VM_WRITE | VM_EXECUTE);
	pass = expect_call(c->name, page, !c->executable, FETCH_FAULT, page, page);
	vm_protect((void *)page, PAGE_SIZE, VM_SUPERVISOR | VM_WRITE);
	return pass;
}

bool nx_user_page_at_cpl3(const struct wp_nx_case *c)
{
	u64 page = pages.user_code;
	struct exception_info expected = no_exception();
	struct probe_result result;
	bool pass;

	if (c->executable)
		vm_protect((void *)page, PAGE_SIZE, VM_USER | VM_WRITE | VM_EXECUTE);
	result = run_probe(PROBE_OF(user_call_target), 3, page, 0, 0, 0);
	vm_protect((void *)page, PAGE_SIZE, VM_USER | VM_WRITE);
	if (!c->executable)
		expected = page_fault_at(FETCH_FAULT | PAGE_FAULT_USER, page, page);
	pass = outcome_matches(c->name, expected, result.outcome);
	if (pass && c->executable && result.value != MAGIC_FUNCTION_RESULT) {
		report_info("%s: the code returned %#lx", c->name, result.value);
		pass = false;
	}
	return pass;
}

/* XD=1 in one entry only, on an executable user page, at CPL 0 with SMEP off. */
bool nx_at_level(const struct wp_nx_case *c)
{
	u64 cr4 = read_cr4(), page = pages.user_executable;
	struct entry_edit edit;
	bool pass;

	write_cr4(cr4 & ~(u64)CR4_SMEP);
	entry_edit(&edit, page, c->level, 0, PAGE_NO_EXECUTE);
	pass = expect_call(c->name, page, true, FETCH_FAULT, page, page);
	entry_restore(&edit);
	write_cr4(cr4);
	return pass;
}

/* Code at the end of the executable page running into the NX page after it. */
bool nx_crossing(const struct wp_nx_case *c)
{
	u64 boundary = pages.two_pages + PAGE_SIZE;

	if (c->straddles) {
		memcpy((void *)(boundary - 2), magic_function, sizeof(magic_function));
		return expect_call(c->name, boundary - 2, true, FETCH_FAULT, boundary - 2, boundary);
	}
	memcpy((void *)(boundary - 1), &nop, 1);
	memcpy((void *)boundary, magic_function, sizeof(magic_function));
	return expect_call(c->name, boundary - 1, true, FETCH_FAULT, boundary, boundary);
}

bool nx_page_readable(const struct wp_nx_case *c)
{
	u64 value = 0, expected_value = 0;
	struct exception_info observed = read_u64_or_fault(pages.supervisor_code, &value);

	memcpy(&expected_value, magic_function, sizeof(magic_function));
	if (!outcome_matches(c->name, no_exception(), observed))
		return false;
	if (value != expected_value)
		report_info("%s: read %#lx, expected %#lx", c->name, value, expected_value);
	return value == expected_value;
}

/*
 * The kernel image itself: its writable data is not executable and its
 * text is read-only, whatever the page tables of a test's own pages say.
 * A RET in .data and one in .bss; the write puts back the byte it read.
 */
static u8 data_return = RET_INSTRUCTION;
static u8 bss_return;

bool kernel_data_not_executable(const struct wp_nx_case *c)
{
	u64 target = c->in_bss ? (u64)&bss_return : (u64)&data_return;

	bss_return = RET_INSTRUCTION;
	return expect_call(c->name, target, true, FETCH_FAULT, target, target);
}

bool kernel_text_read_only(const struct wp_nx_case *c)
{
	u64 target = (u64)&kernel_text_read_only;
	u8 byte = *(volatile u8 *)target;
	struct exception_info observed = write_u8_or_fault(target, byte);

	return outcome_matches(c->name, page_fault_at(WRITE_FAULT, target, observed.instruction),
			       observed);
}

/* EFER.NXE=0: bit 63 set in the case's entry, met by the case's access. */
bool reserved_bit(const struct wp_nx_case *c)
{
	static const struct {
		struct probe probe;
		unsigned cpl;
		u32 access_bits; /* W/R, U/S */
	} accesses[] = {
		[READ] = { PROBE_OF(load_quad), 0, 0 },
		[WRITE] = { PROBE_OF(store_quad), 0, PAGE_FAULT_WRITE },
		[FETCH] = { PROBE_OF(call_target), 0, 0 },
		[USER_READ] = { PROBE_OF(user_load_quad), 3, PAGE_FAULT_USER },
	};
	struct probe_options options = { .cpl = accesses[c->access].cpl, .alignment_check = true };
	u64 target = c->access == FETCH ? pages.user_executable : pages.user_writable + DATA_OFFSET;
	u32 error_code = PAGE_FAULT_PRESENT | PAGE_FAULT_RESERVED | accesses[c->access].access_bits;
	u32 ignored = 0;
	u64 cr4 = read_cr4();
	struct probe_result result;
	struct entry_edit edit;

	if (c->access == FETCH) {
		write_cr4(cr4 & ~(u64)CR4_SMEP); /* the page is a user page */
		error_code |= fetch_fault_flag(&ignored);
	}
	entry_edit(&edit, target, c->level, 0, PAGE_NO_EXECUTE);
	result = run_probe_with(&options, accesses[c->access].probe, target, 0, 0, 0);
	entry_restore(&edit);
	write_cr4(cr4);
	if (result.outcome.raised)
		result.outcome.error_code &= ~ignored;
	return outcome_matches(c->name,
			       page_fault_at(error_code, target,
					     c->access == FETCH ? target : result.outcome.instruction),
			       result.outcome);
}

bool no_execute_enable_refused(const struct wp_nx_case *c)
{
	u64 efer = read_msr(MSR_EFER);
	struct exception_info observed = write_msr_or_fault(MSR_EFER, efer | EFER_NO_EXECUTE_ENABLE);

	write_msr(MSR_EFER, efer);
	return outcome_matches(c->name, fault_at(GP_VECTOR, 0, observed.instruction), observed);
}
