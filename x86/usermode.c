/*
 * usermode: ring 3 in the lower half, entered and left safely, and boxed in.
 *
 * Rules checked:
 *  - IRETQ and SYSRETQ enter CPL 3 (SDM Vol. 3A 6.14.3, 5.8.8); CPL is
 *    SS.DPL (SDM Vol. 3A 5.5), and CS.RPL is 3 in 64-bit mode.
 *  - The ways back: an exception through a DPL 3 gate (INT3, SDM Vol. 3A
 *    6.12.1.1), SYSCALL (SDM Vol. 3A 5.8.8), and INT n through a DPL 3 gate.
 *    INT n through a DPL 0 gate raises #GP with the IDT bit and the vector
 *    in the error code (SDM Vol. 3A 6.12.1.1, 6.13).
 *  - Privileged instructions at CPL 3 raise #GP(0) (SDM Vol. 3A 5.9), and
 *    port I/O does too when CPL > IOPL and the TSS has no I/O bitmap
 *    (SDM Vol. 1 19.5).
 *  - Supervisor pages (U/S=0 at some level) are out of reach of CPL 3:
 *    reads, writes and fetches raise #PF with P=1, U/S=1, and W/R or I/D
 *    as the access (SDM Vol. 3A 4.6.1, 4.7).  Every supervisor page the
 *    kernel has (image, stacks, GDT, IDT, TSS, page tables, heap) is probed.
 *  - A user stack overflow lands on its guard page; a freed user page is
 *    gone (#PF with P=0).
 * On hypervisors where SYSCALL or INT n from ring 3 misbehave, those cases
 * fail here and are listed in x86/errata.txt; nothing else depends on them.
 */
#include "cpu-features.h"
#include "descriptors.h"
#include "exceptions.h"
#include "image.h"
#include "layout.h"
#include "memory.h"
#include "page-table.h"
#include "printf.h"
#include "probe.h"
#include "processor.h"
#include "test-fixtures.h"
#include "report.h"
#include "user-access.h"
#include "user-library.h"
#include "vm.h"

#define DPL0_TEST_VECTOR 0x81
#define MAX_COLLECTED_PAGES 4096

/* ---- ring 3 code ---------------------------------------------------- */

/* Packs CS, SS and a checksum of the arguments into the return value. */
static u64 USER_CODE user_privilege_and_arguments(u64 a, u64 b, u64 c, u64 d)
{
	u16 cs, ss;

	asm volatile("mov %%cs, %0; mov %%ss, %1" : "=r"(cs), "=r"(ss));
	return (u64)cs << 48 | (u64)ss << 32 | (u32)(a + 2 * b + 3 * c + 4 * d);
}

static u64 USER_CODE user_return_argument(u64 a, u64 b, u64 c, u64 d)
{
	return a;
}

static u64 USER_CODE user_breakpoint(u64 a, u64 b, u64 c, u64 d)
{
	asm volatile("int3");
	return 0;
}

static u64 USER_CODE user_checks_in_ring_3(u64 a, u64 b, u64 c, u64 d)
{
	static u64 USER_DATA counter;

	counter += a;
	user_report(counter == a, USER_STRING("ring 3 reads and writes its own data"));
	user_report(user_string_length(USER_STRING("four")) == 4,
		    USER_STRING("ring 3 runs the user library"));
	user_print(USER_STRING("INFO: printed from ring 3\n"));
	return counter;
}

/*
 * One privileged instruction at CPL 3 each, with what its operands need:
 * RAX=0, ECX=IA32_EFER, EDX=0x80 (a port), RSI=RSP (readable memory).
 */
#define PRIVILEGED_SETUP "xor %eax, %eax\n\tmov $" PROBE_NUMBER(MSR_EFER) ", %ecx\n\t" \
			 "mov $0x80, %edx\n\tmov %rsp, %rsi"
PROBE(user_hlt, USER, PRIVILEGED_SETUP, "hlt", "");
PROBE(user_cli, USER, PRIVILEGED_SETUP, "cli", "");
PROBE(user_sti, USER, PRIVILEGED_SETUP, "sti", "");
PROBE(user_read_cr0, USER, PRIVILEGED_SETUP, "mov %cr0, %rsi", "");
PROBE(user_write_cr0, USER, PRIVILEGED_SETUP, "mov %rax, %cr0", "");
PROBE(user_read_cr3, USER, PRIVILEGED_SETUP, "mov %cr3, %rsi", "");
PROBE(user_write_cr3, USER, PRIVILEGED_SETUP, "mov %rax, %cr3", "");
PROBE(user_rdmsr, USER, PRIVILEGED_SETUP, "rdmsr", "");
PROBE(user_wrmsr, USER, PRIVILEGED_SETUP, "wrmsr", "");
PROBE(user_lgdt, USER, PRIVILEGED_SETUP, "lgdt (%rsi)", "");
PROBE(user_lidt, USER, PRIVILEGED_SETUP, "lidt (%rsi)", "");
PROBE(user_invlpg, USER, PRIVILEGED_SETUP, "invlpg (%rsi)", "");
PROBE(user_in, USER, PRIVILEGED_SETUP, "inb %dx, %al", "");
PROBE(user_out, USER, PRIVILEGED_SETUP, "outb %al, %dx", "");
PROBE(user_int_dpl0_gate, USER, "", "int $" PROBE_NUMBER(DPL0_TEST_VECTOR), "");

/* Reads, writes and fetches each listed page; codes go to results[3 * i]. */
static u64 USER_CODE user_probe_pages(u64 list, u64 count, u64 results, u64 d)
{
	const u64 *addresses = (const u64 *)list;
	u64 *codes = (u64 *)results;

	for (u64 i = 0; i < count; i++) {
		codes[3 * i] = user_read_u64_or_fault(addresses[i]);
		codes[3 * i + 1] = user_write_u64_or_fault(addresses[i], 0);
		codes[3 * i + 2] = user_call_or_fault(addresses[i]);
	}
	return count;
}

static u64 USER_CODE user_recurse(u64 depth, u64 b, u64 c, u64 d)
{
	volatile u64 frame[64];

	frame[0] = depth;
	if (depth > 1000000)
		return frame[0];
	return user_recurse(depth + 1, b, c, d) + frame[0];
}

static u64 USER_CODE user_touch(u64 address, u64 b, u64 c, u64 d)
{
	return *(volatile u64 *)address;
}

/* ---- cases ---------------------------------------------------------- */

/* A run that must fault with fault's vector and error code, or return value. */
static bool expect_result(const char *name, const struct user_result *result, bool faulted,
			  u64 value, struct exception_info fault)
{
	char observed[160];
	bool pass = faulted ? exception_equal(fault, user_outcome(result)) :
			      !result->faulted && result->value == value;

	if (!pass)
		report_info("%s: %s", name, describe_user_result(result, observed, sizeof(observed)));
	report_observed_exception(user_outcome(result));
	return report(pass, "%s", name);
}

/* A probe at CPL 3 that must raise expected at its instruction. */
static bool expect_probe(const char *name, struct exception_info expected, struct probe probe)
{
	char description[96];
	struct probe_result result = run_probe(probe, 3, 0, 0, 0, 0);

	expected.rip = (u64)probe.instruction;
	return report(outcome_matches(name, at_cpl(expected, 3), result.outcome), "%s raises %s",
		      name, describe_exception(expected, description, sizeof(description)));
}

/*
 * CPL 3, the arguments, and the selectors ring 3 reads back: MOV from CS and
 * SS returns what IRETQ popped or SYSRETQ loaded from STAR (SDM Vol. 3A 3.4.3).
 */
static void check_privilege_and_arguments(void)
{
	static const char *const entries[] = { "IRETQ", "SYSRETQ" };

	for (unsigned entry = USER_ENTRY_IRETQ; entry <= USER_ENTRY_SYSRETQ; entry++) {
		struct user_options options = { .entry = entry };
		struct user_result result =
			run_user_with(&options, user_privilege_and_arguments, 1, 2, 3, 4);
		u16 cs = (u16)(result.value >> 48), ss = (u16)(result.value >> 32);

		report_prefix_push(entries[entry]);
		report(!result.faulted && (cs & 3) == 3 && (ss & 3) == 3,
		       "user code runs at CPL 3 (CS.RPL and SS.RPL are 3)");
		if (!result.faulted && (cs != USER_CODE_SELECTOR || ss != USER_DATA_SELECTOR)) {
			char words[32];

			report_info("read CS %#x and SS %#x", cs, ss);
			snprintf(words, sizeof(words), "CS=%#x SS=%#x", cs, ss);
			report_observed(words);
		} else {
			report_observed_exception(user_outcome(&result));
		}
		report(!result.faulted && cs == USER_CODE_SELECTOR && ss == USER_DATA_SELECTOR,
		       "ring 3 reads back CS %#x and SS %#x", USER_CODE_SELECTOR,
		       USER_DATA_SELECTOR);
		report(!result.faulted && (u32)result.value == 1 + 4 + 9 + 16,
		       "user code sees its arguments");
		report_prefix_pop();
	}
}

static const struct {
	const char *name;
	unsigned entry, exit;
} ways[] = {
	{ "IRETQ in, INT3 back", USER_ENTRY_IRETQ, USER_EXIT_EXCEPTION },
	{ "IRETQ in, SYSCALL back", USER_ENTRY_IRETQ, USER_EXIT_SYSCALL },
	{ "IRETQ in, INT 0x80 back", USER_ENTRY_IRETQ, USER_EXIT_INTERRUPT },
	{ "SYSRETQ in, INT3 back", USER_ENTRY_SYSRETQ, USER_EXIT_EXCEPTION },
	{ "SYSRETQ in, SYSCALL back", USER_ENTRY_SYSRETQ, USER_EXIT_SYSCALL },
	{ "SYSRETQ in, INT 0x80 back", USER_ENTRY_SYSRETQ, USER_EXIT_INTERRUPT },
};

static void check_ways_in_and_back(void)
{
	for (unsigned i = 0; i < ARRAY_SIZE(ways); i++) {
		struct user_options options = { .entry = ways[i].entry, .exit = ways[i].exit };
		u64 magic = 0x5eed0000 + i;
		struct user_result result = run_user_with(&options, user_return_argument, magic, 0, 0, 0);
		char observed[160];
		bool pass = !result.faulted && result.value == magic && result.way_back == ways[i].exit;

		if (!pass)
			report_info("%s: %s", ways[i].name,
				    describe_user_result(&result, observed, sizeof(observed)));
		report_observed_exception(user_outcome(&result));
		report(pass, "%s", ways[i].name);
	}
}

static void check_breakpoint_and_gates(void)
{
	struct user_result result = run_user(user_breakpoint, 0, 0, 0, 0);

	report(result.faulted && result.fault.vector == BP_VECTOR &&
	       result.fault.cs == USER_CODE_SELECTOR && is_user_image_address(result.fault.rip),
	       "INT3 at CPL 3 reaches the kernel as #BP from CS %#x", result.fault.cs);
	idt_set_gate(DPL0_TEST_VECTOR, 0, 0);
	expect_probe("INT 0x81 through a DPL 0 gate",
		     exception(GP_VECTOR, IDT_VECTOR_ERROR_CODE(DPL0_TEST_VECTOR)),
		     PROBE_OF(user_int_dpl0_gate));
	idt_clear_gate(DPL0_TEST_VECTOR);
}

static const struct {
	const char *name;
	struct probe probe;
} privileged[] = {
	{ .name = "HLT at CPL 3", .probe = PROBE_INITIALIZER(user_hlt) },
	{ .name = "CLI at CPL 3", .probe = PROBE_INITIALIZER(user_cli) },
	{ .name = "STI at CPL 3", .probe = PROBE_INITIALIZER(user_sti) },
	{ .name = "MOV from CR0 at CPL 3", .probe = PROBE_INITIALIZER(user_read_cr0) },
	{ .name = "MOV to CR0 at CPL 3", .probe = PROBE_INITIALIZER(user_write_cr0) },
	{ .name = "MOV from CR3 at CPL 3", .probe = PROBE_INITIALIZER(user_read_cr3) },
	{ .name = "MOV to CR3 at CPL 3", .probe = PROBE_INITIALIZER(user_write_cr3) },
	{ .name = "RDMSR at CPL 3", .probe = PROBE_INITIALIZER(user_rdmsr) },
	{ .name = "WRMSR at CPL 3", .probe = PROBE_INITIALIZER(user_wrmsr) },
	{ .name = "LGDT at CPL 3", .probe = PROBE_INITIALIZER(user_lgdt) },
	{ .name = "LIDT at CPL 3", .probe = PROBE_INITIALIZER(user_lidt) },
	{ .name = "INVLPG at CPL 3", .probe = PROBE_INITIALIZER(user_invlpg) },
	{ .name = "IN at CPL 3 with IOPL 0", .probe = PROBE_INITIALIZER(user_in) },
	{ .name = "OUT at CPL 3 with IOPL 0", .probe = PROBE_INITIALIZER(user_out) },
};

static void check_privileged_instructions(void)
{
	for (unsigned i = 0; i < ARRAY_SIZE(privileged); i++)
		expect_probe(privileged[i].name, exception(GP_VECTOR, 0), privileged[i].probe);
}

/* ---- the box: every supervisor page, probed from ring 3 ------------- */

struct page_list {
	u64 addresses[MAX_COLLECTED_PAGES];
	unsigned count, left_out;
};

static void add_page(struct page_list *list, u64 address)
{
	if (list->count < MAX_COLLECTED_PAGES)
		list->addresses[list->count++] = address;
	else
		list->left_out++;
}

static void collect_supervisor_leaf(u64 address, u64 size, const struct page_walk *walk,
				    void *context)
{
	add_page(context, address);
}

static void collect_table(int level, u64 physical, u64 address, void *context)
{
	add_page(context, address);
}

/*
 * Pages whose probe result does not match; the first is described.
 * Fetches compare the I/D bit only where the vendor defines it.
 */
static unsigned count_mismatches(const u64 *codes, unsigned count, unsigned kind, u32 error_code,
				 u32 undefined_bits, const u64 *targets)
{
	unsigned mismatches = 0;

	for (unsigned i = 0; i < count; i++) {
		struct exception_info observed = exception_decode(codes[3 * i + kind]);
		char text[96];

		observed.error_code &= ~undefined_bits;
		if (exception_equal(exception(PF_VECTOR, error_code), observed))
			continue;
		if (!mismatches++)
			report_info("first mismatch at %#lx: %s", targets[i],
				    describe_exception(observed, text, sizeof(text)));
	}
	return mismatches;
}

/*
 * Every supervisor page (every upper-half leaf page and every paging-
 * structure page, as the page tables list them) is read, written and
 * fetched from ring 3, and each access must raise #PF with P and U/S.
 */
static void check_supervisor_pages_out_of_reach(void)
{
	static struct page_list all;
	static u64 codes[3 * MAX_COLLECTED_PAGES];
	u64 user_list = (u64)vm_alloc(sizeof(all.addresses), VM_USER | VM_WRITE);
	u64 user_codes = (u64)vm_alloc(sizeof(codes), VM_USER | VM_WRITE);
	u32 undefined = 0, fetch = fetch_fault_flag(&undefined);
	struct user_result result;
	unsigned count;

	all.count = 0;
	all.left_out = 0;
	page_table_for_each_leaf_in(UPPER_HALF, collect_supervisor_leaf, &all);
	page_table_for_each_table(collect_table, &all);
	count = all.count;
	if (!copy_to_user(user_list, all.addresses, count * sizeof(u64)))
		fatal("cannot hand the page list to ring 3");
	result = run_user(user_probe_pages, user_list, count, user_codes, 0);
	if (result.faulted || !copy_from_user(codes, user_codes, 3 * count * sizeof(u64)))
		report_info("probe run: %s", describe_user_result(&result, (char[160]){ 0 }, 160));
	report_info("probed every supervisor page from ring 3: %u pages, %u accesses", count,
		    3 * count);
	report(!all.left_out, "the page list holds every supervisor page (%u left out)",
	       all.left_out);
	report(!result.faulted && count > 0 &&
	       !count_mismatches(codes, count, 0, PAGE_FAULT_PRESENT | PAGE_FAULT_USER, 0,
				 all.addresses),
	       "ring 3 reads of every supervisor page raise #PF(P|U)");
	report(!result.faulted && count > 0 &&
	       !count_mismatches(codes, count, 1,
				 PAGE_FAULT_PRESENT | PAGE_FAULT_WRITE | PAGE_FAULT_USER, 0,
				 all.addresses),
	       "ring 3 writes of every supervisor page raise #PF(P|W|U)");
	report(!result.faulted && count > 0 &&
	       !count_mismatches(codes, count, 2, PAGE_FAULT_PRESENT | PAGE_FAULT_USER | fetch,
				 undefined, all.addresses),
	       "ring 3 fetches from every supervisor page raise #PF(P|U|I)");
	vm_free((void *)user_list);
	vm_free((void *)user_codes);
}

static void check_user_stack_overflow(void)
{
	u64 bottom = (u64)vm_alloc(2 * PAGE_SIZE, VM_USER | VM_WRITE);
	struct user_options options = { .stack_top = bottom + 2 * PAGE_SIZE };
	struct user_result result = run_user_with(&options, user_recurse, 0, 0, 0, 0);
	struct exception_info guard_fault = exception(PF_VECTOR, PAGE_FAULT_WRITE | PAGE_FAULT_USER);

	expect_result("a user stack overflow faults on the guard page", &result, true, 0,
		      guard_fault);
	report(result.faulted && result.fault.address < bottom &&
	       result.fault.address >= bottom - GUARD_SIZE,
	       "the overflow's CR2 is in the guard page below the stack");
	result = run_user(user_return_argument, 7, 0, 0, 0);
	expect_result("ring 3 runs again after the overflow", &result, false, 7, no_exception());
	vm_free((void *)bottom);
}

static void check_freed_user_page(void)
{
	u64 page = (u64)vm_alloc(PAGE_SIZE, VM_USER | VM_WRITE);
	struct user_result result = run_user(user_touch, page, 0, 0, 0);

	expect_result("ring 3 reads its page", &result, false, 0, no_exception());
	vm_free((void *)page);
	result = run_user(user_touch, page, 0, 0, 0);
	expect_result("ring 3 read of a freed page raises #PF(U)", &result, true, 0,
		      exception(PF_VECTOR, PAGE_FAULT_USER));
	report(result.faulted && result.fault.address == page, "its CR2 is the freed address");
}

int main(int argc, char **argv)
{
	struct user_result result;

	check_privilege_and_arguments();
	check_ways_in_and_back();
	check_breakpoint_and_gates();
	check_privileged_instructions();
	result = run_user(user_checks_in_ring_3, 5, 0, 0, 0);
	expect_result("checks inside ring 3 come back", &result, false, 5, no_exception());
	check_supervisor_pages_out_of_reach();
	check_user_stack_overflow();
	check_freed_user_page();
	return report_summary();
}
