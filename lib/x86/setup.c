/*
 * setup.c: from the 64-bit entry to main().
 *
 * Order matters: the console first (so everything after can report), then
 * the page allocator fed from the loader's memory map, then the address
 * space, then guarded stacks (the boot stack in .bss has no guard page, so
 * setup leaves it as soon as it can), then the ACPI power-off registers
 * (found now, so that leaving the test maps nothing), then the command
 * line, whose boot options decide the CR4 protections.
 */
#include "setup.h"
#include "acpi.h"
#include "cmdline.h"
#include "console.h"
#include "cpu-features.h"
#include "descriptors.h"
#include "errata-conditions.h"
#include "exceptions.h"
#include "boot-memory.h"
#include "layout.h"
#include "machine.h"
#include "memory.h"
#include "page-table.h"
#include "printf.h"
#include "processor.h"
#include "protections.h"
#include "report.h"
#include "symbols.h"
#include "user.h"
#include "vm.h"
#include "alloc/physical.h"

/* Filled by the boot stub through its physical address (cstart64.S). */
struct boot_handoff boot_handoff;
u64 kernel_stack_top, ring0_stack_top;
static char command_line[HANDOFF_COMMAND_LINE_SIZE];
static char *arguments[MAX_ARGUMENTS];

void NORETURN run_on_stack(u64 top, void (*function)(struct boot_handoff *),
			   struct boot_handoff *argument);

const char *loader_name(void)
{
	return boot_handoff.loader == LOADER_PVH ? "PVH" : "multiboot";
}

static u64 required_stack(const char *name, size_t bytes)
{
	u64 top = vm_alloc_stack(name, bytes);

	if (!top)
		fatal("cannot allocate the %s stack", name);
	return top;
}

static void allocate_stacks(void)
{
	kernel_stack_top = required_stack("kernel", KERNEL_STACK_SIZE);
	ring0_stack_top = required_stack("ring 0 entry", KERNEL_STACK_SIZE);
	tss_set_ring0_stack(ring0_stack_top);
	tss_set_interrupt_stack(IST_DOUBLE_FAULT, required_stack("double fault",
								 INTERRUPT_STACK_SIZE));
	tss_set_interrupt_stack(IST_NMI, required_stack("NMI", INTERRUPT_STACK_SIZE));
	tss_set_interrupt_stack(IST_MACHINE_CHECK, required_stack("machine check",
								  INTERRUPT_STACK_SIZE));
	tss_set_interrupt_stack(IST_SPARE, required_stack("spare", INTERRUPT_STACK_SIZE));
}

/* Words the framework consumes are not the test's arguments. */
bool is_framework_argument(const char *word)
{
	return !strcmp(word, "la57") || !strncmp(word, "errata=", 7) ||
	       is_protection_option(word);
}

/* Splits the command line, applies the framework's words, and fills arguments. */
static int parse_arguments(const char *line)
{
	char *words[MAX_ARGUMENTS];
	int count, argc = 0;

	memcpy(command_line, line, sizeof(command_line));
	count = command_line_split(command_line, words, MAX_ARGUMENTS - 1);
	enable_protections(count, words);
	arguments[argc++] = (char *)image_name;
	for (int i = 0; i < count; i++) {
		if (!strncmp(words[i], "errata=", 7))
			report_set_errata(words[i] + 7, errata_condition_holds);
		if (!is_framework_argument(words[i]))
			arguments[argc++] = words[i];
	}
	arguments[argc] = NULL;
	return argc;
}

static void print_banner(void)
{
	const char *hypervisor = hypervisor_signature();

	printf("canon %s: %d-level paging, %s loader, %lu MiB free, %s%s%s\n", image_name,
	       paging_levels(), loader_name(), physical_free_frames() * PAGE_SIZE >> 20,
	       cpu_vendor_string(), *hypervisor ? " under " : "", hypervisor);
}

static void NORETURN continue_on_kernel_stack(struct boot_handoff *handoff)
{
	int argc;

	argc = parse_arguments(handoff->command_line);
	user_mode_init();
	print_banner();
	if (handoff->la57_requested && paging_levels() != 5) {
		require_cpu_feature(FEATURE_LA57);
		exit_test(report_summary());
	}
	exit_test(main(argc, arguments));
}

void kernel_setup(struct boot_handoff *handoff)
{
	console_init();
	page_table_init((int)handoff->paging_levels, handoff->no_execute_enabled);
	boot_memory_init(handoff);
	vm_init();
	allocate_stacks();
	acpi_init();
	run_on_stack(kernel_stack_top, continue_on_kernel_stack, handoff);
}
