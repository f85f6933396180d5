/*
 * selftest: the framework checks itself from the inside.
 *
 * Rules checked:
 *  - canon's layout (lib/x86/layout.h): the code, stack, GDT, IDT, TSS and
 *    page tables in use are all in the upper canonical half, and nothing is
 *    mapped in the lower half but the user image and what tests allocate.
 *    The boot stub's identity mapping is gone.
 *  - Exception delivery (SDM Vol. 3A 6.4, 6.15): #UD, #GP(0), #PF and #DE
 *    arrive with the right vector and error code; #PF's error code has P,
 *    W/R and U/S as SDM Vol. 3A 4.7 defines them (U/S from a ring-3 read),
 *    and CR2 holds the linear address.  A fault leaves RIP at the
 *    instruction.
 *  - The five protections (SMEP, SMAP, UMIP, CR0.WP, NX) are on exactly as
 *    CPUID says, unless a boot option took one away (protections.h).
 *  - printf and the command line, which every other test depends on.
 *
 * Arguments that make it fail on purpose, to prove the runner notices:
 *   fail            a check that fails (its outcome: no exception)
 *   fault           an unexpected #PF: register dump and backtrace
 *   stack-overflow  a kernel stack overflow, caught on the #DF stack
 *   clac            runs CLAC (some hypervisors cannot emulate it)
 */
#include "cmdline.h"
#include "descriptors.h"
#include "exceptions.h"
#include "image.h"
#include "layout.h"
#include "memory.h"
#include "page-table.h"
#include "printf.h"
#include "probe.h"
#include "processor.h"
#include "protections.h"
#include "report.h"
#include "setup.h"
#include "vm.h"

static bool upper(u64 address)
{
	return !is_lower_half(address) && is_canonical(address);
}

static u64 current_rip(void)
{
	u64 rip;

	asm volatile("lea 0(%%rip), %0" : "=r"(rip));
	return rip;
}

/* The TSS base, read back from the descriptor TR selects. */
static u64 task_register_base(void)
{
	const u64 *descriptor = &global_descriptor_table[read_task_register() / 8];

	return (descriptor[0] >> 16 & 0xffffff) | (descriptor[0] >> 56 & 0xff) << 24 |
	       descriptor[1] << 32;
}

static void check_layout(void)
{
	struct page_walk walk;

	report(upper(current_rip()), "RIP is in the upper half");
	report(upper(read_rsp()), "RSP is in the upper half");
	report(upper(read_gdtr().base), "GDTR base is in the upper half");
	report(upper(read_idtr().base), "IDTR base is in the upper half");
	report(upper(task_register_base()), "TR base is in the upper half");
	page_table_walk(page_table_self_address(), &walk);
	report(upper(page_table_self_address()) && walk.present &&
	       walk.physical == (read_cr3() & PAGE_ADDRESS_MASK) &&
	       !(walk.effective_flags & PAGE_USER),
	       "CR3's table is reached through the supervisor self map");
}

struct lower_half_scan {
	unsigned unexplained;
	u64 first_unexplained;
};

/* A lower-half leaf is explained by the user image or a vm mapping. */
static void scan_lower_leaf(u64 address, u64 size, const struct page_walk *walk, void *context)
{
	struct lower_half_scan *scan = context;
	bool user_image = address >= IMAGE_ADDRESS(user_text_start) &&
			  address < IMAGE_ADDRESS(user_data_end);

	if (user_image || vm_find_mapping(address))
		return;
	if (!scan->unexplained++)
		scan->first_unexplained = address;
}

static void check_lower_half(void)
{
	struct lower_half_scan scan = { 0 };
	struct page_walk walk;

	page_table_for_each_leaf_in(LOWER_HALF, scan_lower_leaf, &scan);
	report(!scan.unexplained, "lower half maps only the user image and allocations");
	if (scan.unexplained)
		report_info("%u unexplained lower-half pages, the first at %#lx", scan.unexplained,
			    scan.first_unexplained);
	page_table_walk(IMAGE_ADDRESS(boot_physical_start), &walk);
	report(!walk.present, "the boot identity mapping is gone");
}

/* A probe's fault, expected at the probe's own instruction. */
static bool expect_exception(const char *name, struct exception_info expected,
			     struct exception_info observed)
{
	expected.rip = observed.instruction;
	return check_outcome(name, expected, observed);
}

PROBE(undefined_opcode, KERNEL, "", "ud2", "");
/* 1 / 0: EDX:EAX = 1, divided by ECX = 0. */
PROBE(divide_by_zero, KERNEL, "xor %edx, %edx\n\tmov $1, %eax\n\txor %ecx, %ecx", "divl %ecx",
      "");

/* A #PF from CPL 3 has U/S=1 in its error code (SDM Vol. 3A 4.7). */
static void check_user_page_fault(u64 supervisor_address)
{
	struct exception_info observed =
		run_probe(PROBE_OF(user_load_quad), 3, supervisor_address, 0, 0, 0).outcome;

	check_outcome("CPL 3 read of a supervisor page raises #PF(P|U)",
		      at_cpl(page_fault_at(PAGE_FAULT_PRESENT | PAGE_FAULT_USER, supervisor_address,
					   (u64)user_load_quad_instruction), 3),
		      observed);
}

static void check_exceptions(void)
{
	u64 value;
	u8 *read_only = vm_alloc(PAGE_SIZE, VM_SUPERVISOR | VM_WRITE);
	u8 *unmapped = vm_alloc(PAGE_SIZE, VM_SUPERVISOR | VM_WRITE);
	u64 non_canonical = 1ULL << (linear_address_bits() - 1);

	vm_protect(read_only, PAGE_SIZE, VM_SUPERVISOR);
	vm_free(unmapped);
	expect_exception("ud2 raises #UD", exception(UD_VECTOR, 0),
			 run_probe(PROBE_OF(undefined_opcode), 0, 0, 0, 0, 0).outcome);
	expect_exception("non-canonical read raises #GP(0)", exception(GP_VECTOR, 0),
			 read_u64_or_fault(non_canonical, &value));
	expect_exception("read of an unmapped page raises #PF(0)",
			 page_fault_at(0, (u64)unmapped, 0), read_u64_or_fault((u64)unmapped, &value));
	expect_exception("write to a read-only page raises #PF(P|W)",
			 page_fault_at(PAGE_FAULT_PRESENT | PAGE_FAULT_WRITE, (u64)read_only + 8, 0),
			 write_u64_or_fault((u64)read_only + 8, 1));
	expect_exception("divide by zero raises #DE", exception(DE_VECTOR, 0),
			 run_probe(PROBE_OF(divide_by_zero), 0, 0, 0, 0, 0).outcome);
	check_user_page_fault((u64)read_only + 8);
	vm_free(read_only);
}

static void check_printf(void)
{
	char buffer[128], pointer[24], expected_pointer[24];
	int length;

	snprintf(buffer, sizeof(buffer), "%d|%i|%u|%x|%lx|%llx|%s|%c|%5d|%-5d|%05x|%#x", -42, 7,
		 4000000000u, 0xbeef, 0xfeedfacecafeUL, 0x123456789abcdefULL, "str", 'c', 12, 34,
		 0xab, 0x1f);
	snprintf(pointer, sizeof(pointer), "%p", (void *)buffer);
	snprintf(expected_pointer, sizeof(expected_pointer), "0x%lx", (u64)buffer);
	report(!strcmp(buffer, "-42|7|4000000000|beef|feedfacecafe|123456789abcdef|str|c|   12|34   "
			       "|000ab|0x1f") &&
	       !strcmp(pointer, expected_pointer),
	       "snprintf formats every conversion");
	length = snprintf(buffer, 6, "%s", "truncated");
	report(length == 9 && !strcmp(buffer, "trunc"), "snprintf truncates and returns the length");
}

/* argv must be the command line's words, minus the ones the framework takes. */
static void check_arguments(int argc, char **argv)
{
	char line[HANDOFF_COMMAND_LINE_SIZE];
	char *words[MAX_ARGUMENTS];
	int count, expected = 1;
	bool same = argc >= 1 && !strcmp(argv[0], "selftest");

	memcpy(line, boot_handoff.command_line, sizeof(line));
	count = command_line_split(line, words, MAX_ARGUMENTS);
	for (int i = 0; i < count; i++) {
		if (is_framework_argument(words[i]))
			continue;
		same = same && expected < argc && !strcmp(argv[expected], words[i]);
		expected++;
	}
	report(same && argc == expected && !argv[argc], "argv holds the command line's %d words",
	       argc - 1);
}

static void NORETURN __attribute__((noinline)) deliberate_page_fault(void)
{
	volatile u64 *unmapped = vm_alloc(PAGE_SIZE, VM_SUPERVISOR | VM_WRITE);

	vm_free((void *)unmapped);
	*unmapped = 1; /* no fix-up: the handler must dump and fail */
	__builtin_unreachable();
}

/* Each call takes half a kilobyte; the bound is far beyond any stack. */
static unsigned __attribute__((noinline)) overflow_the_stack(unsigned depth)
{
	volatile u8 frame[512];

	frame[0] = (u8)depth;
	if (depth > 1000000)
		return frame[0];
	return overflow_the_stack(depth + 1) + frame[0];
}

/*
 * A check that really fails: it expects #PF from a read of a mapped kernel
 * variable, which raises nothing.  Its observed outcome is "none", which
 * the errata sections of the cfg use.
 */
static void deliberately_failing_check(void)
{
	static u64 mapped;
	u64 value;
	struct exception_info observed = read_u64_or_fault((u64)&mapped, &value);

	check_outcome("deliberately failing check: a read of a mapped page raises #PF",
		      page_fault_at(0, (u64)&mapped, observed.instruction), observed);
}

/* CLAC after POPF set EFLAGS.AC: AC must read back 0. */
static void check_clac(void)
{
	write_rflags(read_rflags() | RFLAGS_ALIGNMENT_CHECK);
	asm volatile("clac" ::: "memory");
	report(!(read_rflags() & RFLAGS_ALIGNMENT_CHECK), "CLAC at CPL 0 clears EFLAGS.AC");
}

static void run_deliberate_failures(int argc, char **argv)
{
	if (argv_has(argc, argv, "fail"))
		deliberately_failing_check();
	if (argv_has(argc, argv, "clac"))
		check_clac();
	if (argv_has(argc, argv, "fault"))
		deliberate_page_fault();
	if (argv_has(argc, argv, "stack-overflow"))
		report(overflow_the_stack(0) == 0, "unbounded recursion returned");
}

int main(int argc, char **argv)
{
	check_protections(PROTECTION_SMEP | PROTECTION_SMAP | PROTECTION_UMIP |
			  PROTECTION_WRITE_PROTECT | PROTECTION_NO_EXECUTE);
	check_layout();
	check_lower_half();
	check_exceptions();
	check_printf();
	check_arguments(argc, argv);
	run_deliberate_failures(argc, argv);
	return report_summary();
}
