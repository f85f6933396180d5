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
 *    Vol. 1 19.5).  INT n would reach the IDT like #UD does, but this
 *    project's KVM cannot emulate INT n at CPL 0 at all (the VM stops),
 *    so the IDT cases use an exception.
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
 */
#include "cmdline.h"
#include "cpu-features.h"
#include "descriptors.h"
#include "exceptions.h"
#include "layout.h"
#include "memory.h"
#include "page-table.h"
#include "processor.h"
#include "protection-checks.h"
#include "protections.h"
#include "report.h"
#include "user-access.h"
#include "user.h"
#include "vm.h"

#define READ_FAULT PAGE_FAULT_PRESENT
#define WRITE_FAULT (PAGE_FAULT_PRESENT | PAGE_FAULT_WRITE)
#define DATA_OFFSET 0x88 /* so that CR2 is not page-aligned */
#define DATA_MAGIC 0x5a5a0000c0ffee00ull
#define CROSSING_VALUE 0x1122334455667788ull
#define CODE_MAGIC 0x5a9u
/* A DPL 3 data descriptor with the accessed bit set (nothing to write back). */
#define USER_DATA_DESCRIPTOR 0x00cff3000000ffffull
#define LDT_INDEX 5
#define SELECTOR_TABLE_LDT 0x4 /* TI: the selector indexes the LDT */
#define LDT_SELECTOR ((LDT_INDEX << 3) | SELECTOR_TABLE_LDT | 3)
#define TSS_BUSY BIT(41)
/* Offsets of the TSS fields the cases put at the start of the user page. */
#define TSS_SPARE_IST_OFFSET (TSS_IST1 + 8 * (IST_SPARE - 1))
#define TSS_IO_MAP_BASE_OFFSET 102

/* ---- fixtures --------------------------------------------------------- */

static u64 data_page;      /* user, writable: DATA_MAGIC at DATA_OFFSET */
static u64 read_only_page; /* user, read-only: DATA_MAGIC at DATA_OFFSET */
static u64 code_page;      /* user, executable: mov $CODE_MAGIC, %eax; ret */
static struct page_pair pair;          /* supervisor page, then user page */
static struct page_pair reversed_pair; /* user page, then supervisor page */

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
	{ "CPL 0 read of a user page with AC=0 raises #PF(P)", READ, DATA_PAGE, false, false,
	  false, 0, READ_FAULT },
	{ "CPL 0 write to a user page with AC=0 raises #PF(P|W)", WRITE, DATA_PAGE, false,
	  false, false, 0, WRITE_FAULT },
	{ "CPL 0 read of a user page with AC=1 succeeds", READ, DATA_PAGE, true, false, false,
	  0, 0 },
	{ "CPL 0 write to a user page with AC=1 succeeds", WRITE, DATA_PAGE, true, false, false,
	  0, 0 },
	{ "SMAP=0: CPL 0 read of a user page with AC=0 succeeds", READ, DATA_PAGE, false, true,
	  false, 0, 0 },
	{ "SMAP=0: CPL 0 write to a user page with AC=0 succeeds", WRITE, DATA_PAGE, false,
	  true, false, 0, 0 },
	{ "U/S=0 in the PTE only: CPL 0 read with AC=0 succeeds", READ, DATA_PAGE, false,
	  false, false, 1, 0 },
	{ "U/S=0 in the PDE only: CPL 0 read with AC=0 succeeds", READ, DATA_PAGE, false,
	  false, false, 2, 0 },
	{ "U/S=0 in the PDPTE only: CPL 0 read with AC=0 succeeds", READ, DATA_PAGE, false,
	  false, false, 3, 0 },
	{ "U/S=0 in the PML4E only: CPL 0 read with AC=0 succeeds", READ, DATA_PAGE, false,
	  false, false, 4, 0 },
	{ "U/S=0 in the PML5E only: CPL 0 read with AC=0 succeeds", READ, DATA_PAGE, false,
	  false, false, 5, 0 },
	{ "CPL 0 read of a read-only user page with AC=1 succeeds", READ, READ_ONLY_PAGE, true,
	  false, false, 0, 0 },
	{ "WP=1 AC=0: write to a read-only user page raises #PF(P|W)", WRITE, READ_ONLY_PAGE,
	  false, false, false, 0, WRITE_FAULT },
	{ "WP=1 AC=1: write to a read-only user page raises #PF(P|W)", WRITE, READ_ONLY_PAGE,
	  true, false, false, 0, WRITE_FAULT },
	{ "WP=0 AC=0: write to a read-only user page raises #PF(P|W)", WRITE, READ_ONLY_PAGE,
	  false, false, true, 0, WRITE_FAULT },
	{ "WP=0 AC=1: write to a read-only user page succeeds", WRITE, READ_ONLY_PAGE, true,
	  false, true, 0, 0 },
	{ "WP=1 SMAP=0: write to a read-only user page raises #PF(P|W)", WRITE, READ_ONLY_PAGE,
	  false, true, false, 0, WRITE_FAULT },
	{ "WP=0 SMAP=0: write to a read-only user page succeeds", WRITE, READ_ONLY_PAGE, false,
	  true, true, 0, 0 },
	{ "a read crossing from a supervisor into a user page raises #PF(P)", READ, CROSSING,
	  false, false, false, 0, READ_FAULT },
	{ "a read crossing into a user page with AC=1 succeeds", READ, CROSSING, true, false,
	  false, 0, 0 },
};

static u64 data_address(enum page_kind page)
{
	switch (page) {
	case DATA_PAGE:
		return data_page + DATA_OFFSET;
	case READ_ONLY_PAGE:
		return read_only_page + DATA_OFFSET;
	case CROSSING:
		return pair.user_page - 4;
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

static void run_data_case(const struct data_case *c, unsigned index)
{
	u64 address = data_address(c->page), cr0 = read_cr0(), cr4 = read_cr4();
	u64 written = DATA_MAGIC + index, value = 0, flags, content;
	struct exception_info expected = no_exception(), observed;
	struct entry_edit edit;
	bool pass;

	if (c->supervisor_level > paging_levels())
		return; /* no such level in this paging mode */
	if (c->page == CROSSING)
		page_pair_write(&pair, -4, &(u64){ CROSSING_VALUE }, sizeof(u64));
	if (c->smap_off)
		write_cr4(cr4 & ~(u64)CR4_SMAP);
	if (c->wp_off)
		write_cr0(cr0 & ~(u64)CR0_WRITE_PROTECT);
	if (c->supervisor_level)
		entry_edit(&edit, address, c->supervisor_level, PAGE_USER, 0);
	flags = set_alignment_check(c->ac);
	observed = c->access == READ ? read_u64_or_fault(address, &value) :
				       write_u64_or_fault(address, written);
	write_rflags(flags);
	if (c->supervisor_level)
		entry_restore(&edit);
	write_cr0(cr0);
	write_cr4(cr4);

	if (c->error_code)
		expected = page_fault_at(c->error_code, c->page == CROSSING ? pair.user_page : address,
					 observed.instruction);
	pass = outcome_matches(c->name, expected, observed);
	if (pass && !c->error_code) {
		content = current_content(c->page, address);
		if (c->access == READ && value != content)
			report_info("%s: read %#lx, memory holds %#lx", c->name, value, content);
		if (c->access == WRITE && content != written)
			report_info("%s: wrote %#lx, memory holds %#lx", c->name, written, content);
		pass = c->access == READ ? value == content : content == written;
	}
	report(pass, "%s", c->name);
}

/* ---- string copies, fetches and CPL 3 --------------------------------- */

struct string_copy {
	struct exception_info outcome;
	u64 rcx, rsi;
};

/* REP MOVSB; on a fault, RCX and RSI as the fault left them. */
static struct string_copy rep_movsb_or_fault(u64 destination, u64 source, u64 count)
{
	struct string_copy copy;
	u64 instruction;

	/* After a complete copy, RDI is cleared: no exception code. */
	asm volatile("lea 1f(%%rip), %[at]\n1: rep movsb\n\txor %%edi, %%edi\n2:\n"
		     EXCEPTION_FIXUP("1b", "2b")
		     : "+D"(destination), "+S"(source), "+c"(count), [at] "=&r"(instruction)
		     :
		     : "memory");
	copy.outcome = exception_from_code(destination);
	copy.outcome.instruction = instruction;
	copy.rcx = count;
	copy.rsi = source;
	return copy;
}

static bool check_string_copy(const char *name, struct exception_info expected,
			      const struct string_copy *copy, u64 rcx, u64 rsi)
{
	bool pass = outcome_matches(name, expected, copy->outcome);

	if (pass && (copy->rcx != rcx || copy->rsi != rsi)) {
		report_info("%s: RCX %#lx RSI %#lx, expected RCX %#lx RSI %#lx", name, copy->rcx,
			    copy->rsi, rcx, rsi);
		pass = false;
	}
	return report(pass, "%s", name);
}

static void check_rep_movsb_reading_across(bool ac)
{
	static u8 buffer[16];
	u64 source = pair.user_page - 8, flags;
	struct string_copy copy;

	page_pair_write(&pair, -8, (u8[16]){ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 },
			16);
	flags = set_alignment_check(ac);
	copy = rep_movsb_or_fault((u64)buffer, source, sizeof(buffer));
	write_rflags(flags);
	if (ac)
		check_string_copy("REP MOVSB reading across into a user page with AC=1 completes",
				  no_exception(), &copy, 0, source + sizeof(buffer));
	else
		check_string_copy("REP MOVSB reading across into a user page raises #PF(P)",
				  page_fault_at(READ_FAULT, pair.user_page, copy.outcome.instruction),
				  &copy, 8, pair.user_page);
}

static void check_rep_movsb_writing_across(void)
{
	static const u8 buffer[16];
	struct string_copy copy = rep_movsb_or_fault(pair.user_page - 8, (u64)buffer, 16);

	check_string_copy("REP MOVSB writing across into a user page raises #PF(P|W)",
			  page_fault_at(WRITE_FAULT, pair.user_page, copy.outcome.instruction),
			  &copy, 8, (u64)buffer + 8);
}

static void check_fetch_not_affected(void)
{
	u64 cr4 = read_cr4(), value = 0;
	struct exception_info observed;
	const char *name = "SMEP=0: SMAP does not stop a CPL 0 fetch from a user page";

	write_cr4(cr4 & ~(u64)CR4_SMEP);
	observed = call_or_fault(code_page, 0, &value);
	write_cr4(cr4);
	report(outcome_matches(name, no_exception(), observed) && value == CODE_MAGIC, "%s", name);
}

static u64 USER_CODE user_write_then_read(u64 address, u64 value, u64 c, u64 d)
{
	*(volatile u64 *)address = value;
	return *(volatile u64 *)address;
}

static void check_cpl3_not_affected(void)
{
	struct user_result result =
		run_user(user_write_then_read, data_page + DATA_OFFSET, DATA_MAGIC, 0, 0);
	const char *name = "CPL 3 writes and reads a user page under SMAP";

	report(outcome_matches(name, no_exception(), user_outcome(&result)) &&
	       result.value == DATA_MAGIC, "%s", name);
}

/* ---- EFLAGS.AC: POPF, IRETQ, SYSRETQ, SYSCALL -------------------------- */

static u64 USER_CODE user_rflags(u64 a, u64 b, u64 c, u64 d)
{
	u64 flags;

	asm volatile("pushfq; popq %0" : "=r"(flags));
	return flags;
}

static u64 USER_CODE user_popf_sets_ac(u64 a, u64 b, u64 c, u64 d)
{
	u64 flags;

	asm volatile("pushfq; orq %1, (%%rsp); popfq; pushfq; popq %0"
		     : "=r"(flags)
		     : "i"(RFLAGS_ALIGNMENT_CHECK)
		     : "cc", "memory");
	return flags;
}

static u64 USER_CODE user_nothing(u64 a, u64 b, u64 c, u64 d)
{
	return 0;
}

static void check_popf_at_cpl0(void)
{
	u64 flags = set_alignment_check(true);
	u64 with_ac = read_rflags();

	set_alignment_check(false);
	report(with_ac & RFLAGS_ALIGNMENT_CHECK, "POPF at CPL 0 sets EFLAGS.AC");
	report(!(read_rflags() & RFLAGS_ALIGNMENT_CHECK), "POPF at CPL 0 clears EFLAGS.AC");
	write_rflags(flags);
}

static void check_ac_does_not_reach_ring3(const char *name, unsigned entry)
{
	struct user_options options = { .entry = entry };
	u64 flags = set_alignment_check(true);
	struct user_result result = run_user_with(&options, user_rflags, 0, 0, 0, 0);

	write_rflags(flags);
	report(outcome_matches(name, no_exception(), user_outcome(&result)) &&
	       !(result.value & RFLAGS_ALIGNMENT_CHECK), "%s", name);
}

static void check_popf_at_cpl3(void)
{
	struct user_result result = run_user(user_popf_sets_ac, 0, 0, 0, 0);
	const char *name = "POPF at CPL 3 sets EFLAGS.AC";

	report(outcome_matches(name, no_exception(), user_outcome(&result)) &&
	       (result.value & RFLAGS_ALIGNMENT_CHECK), "%s", name);
}

/*
 * LSTAR while the SYSCALL case runs: it notes RFLAGS as SYSCALL left it,
 * and R11 (the RFLAGS that SYSCALL saved), then goes on into canon's own
 * entry.  SYSCALL does not switch stacks, so PUSHF runs on TSS.RSP0's
 * stack, which the entry takes over right after.
 */
u64 observed_syscall_rflags, observed_syscall_r11, observer_user_rsp;
void syscall_observer(void);
asm(".pushsection .text\n"
    "syscall_observer:\n\t"
    "mov %rsp, observer_user_rsp(%rip)\n\t"
    "mov task_state + " PROTECTION_STRINGIFY(TSS_RSP0) "(%rip), %rsp\n\t"
    "pushfq\n\t"
    "popq observed_syscall_rflags(%rip)\n\t"
    "mov %r11, observed_syscall_r11(%rip)\n\t"
    "mov observer_user_rsp(%rip), %rsp\n\t"
    "jmp syscall_entry\n"
    ".popsection");

static void check_syscall_clears_ac(void)
{
	struct user_options options = { .exit = USER_EXIT_SYSCALL, .rflags = RFLAGS_ALIGNMENT_CHECK };
	u64 lstar = read_msr(MSR_LSTAR);
	struct user_result result;
	const char *saved = "SYSCALL saves EFLAGS.AC=1 in R11";
	const char *cleared = "SYSCALL's SFMASK clears EFLAGS.AC";
	bool came_back;

	observed_syscall_rflags = observed_syscall_r11 = ~0ull;
	write_msr(MSR_LSTAR, (u64)syscall_observer);
	result = run_user_with(&options, user_nothing, 0, 0, 0, 0);
	write_msr(MSR_LSTAR, lstar);
	came_back = !result.faulted && result.way_back == USER_EXIT_SYSCALL;
	if (!came_back)
		outcome_matches(saved, no_exception(), user_outcome(&result));
	else
		report_observed(observed_syscall_r11 & RFLAGS_ALIGNMENT_CHECK ? "R11.AC=1" : "R11.AC=0");
	report(came_back && (observed_syscall_r11 & RFLAGS_ALIGNMENT_CHECK), "%s", saved);
	if (!came_back)
		outcome_matches(cleared, no_exception(), user_outcome(&result));
	else
		report_observed(observed_syscall_rflags & RFLAGS_ALIGNMENT_CHECK ? "AC=1" : "AC=0");
	report(came_back && !(observed_syscall_rflags & RFLAGS_ALIGNMENT_CHECK), "%s", cleared);
}

/* ---- implicit supervisor accesses ------------------------------------- */

/* MOV to FS, the segment load that reads a descriptor. */
static struct exception_info load_fs_or_fault(u16 selector)
{
	u64 code = 0, instruction;
	struct exception_info info;

	asm volatile("lea 1f(%%rip), %[at]\n1: mov %[selector], %%fs\n2:\n"
		     EXCEPTION_FIXUP("1b", "2b")
		     : "+D"(code), [at] "=&r"(instruction)
		     : [selector] "r"(selector)
		     : "memory");
	info = exception_from_probe(code, instruction);
	asm volatile("mov %0, %%fs" : : "r"(0));
	return info;
}

static struct exception_info undefined_opcode_or_fault(void)
{
	u64 code = 0, instruction;

	asm volatile("lea 1f(%%rip), %[at]\n1: ud2\n2:\n" EXCEPTION_FIXUP("1b", "2b")
		     : "+D"(code), [at] "=&r"(instruction)
		     :
		     : "memory");
	return exception_from_probe(code, instruction);
}

USER_PROBE(user_load_fs, "", "mov %di, %fs");
USER_PROBE(user_port_read, "mov %edi, %edx", "inb %dx, %al");
USER_PROBE(user_undefined_opcode, "", "ud2");
KERNEL_STUB(read_from, "mov (%rdi), %rax\n\tret");

static void load_gdt(u64 base, u16 limit)
{
	struct descriptor_table_register gdtr = { .limit = limit, .base = base };

	asm volatile("lgdt %0" : : "m"(gdtr) : "memory");
}

static void load_idt(u64 base, u16 limit)
{
	struct descriptor_table_register idtr = { .limit = limit, .base = base };

	asm volatile("lidt %0" : : "m"(idtr) : "memory");
}

static void load_task_register(u16 selector)
{
	asm volatile("ltr %0" : : "r"(selector) : "memory");
}

static void load_ldt(u16 selector)
{
	asm volatile("lldt %0" : : "r"(selector) : "memory");
}

/* A user-mode segment load at CPL 3, optionally with AC=1. */
static struct exception_info user_segment_load(u16 selector, bool ac)
{
	struct user_options options = { .rflags = ac ? RFLAGS_ALIGNMENT_CHECK : 0 };
	struct user_result result = run_user_with(&options, user_load_fs, selector, 0, 0, 0);

	return user_outcome(&result);
}

static void check_ldt_in_user_page(void)
{
	u64 ldt = (u64)vm_alloc(PAGE_SIZE, VM_USER | VM_WRITE);
	u64 descriptor = ldt + LDT_INDEX * 8, cr4 = read_cr4(), flags;
	struct exception_info observed;

	if (!ldt || !copy_to_user(descriptor, &(u64){ USER_DATA_DESCRIPTOR }, 8))
		fatal("cannot build the LDT");
	gdt_set_system_descriptor(SPARE_SELECTOR, SYSTEM_DESCRIPTOR_LDT, ldt, 8 * (LDT_INDEX + 1) - 1);
	load_ldt(SPARE_SELECTOR);

	observed = load_fs_or_fault(LDT_SELECTOR);
	check_outcome("LDT in a user page: CPL 0 segment load, AC=0, raises #PF(P)",
		      page_fault_at(READ_FAULT, descriptor, observed.instruction), observed);
	flags = set_alignment_check(true);
	observed = load_fs_or_fault(LDT_SELECTOR);
	write_rflags(flags);
	check_outcome("LDT in a user page: CPL 0 segment load, AC=1, raises #PF(P)",
		      page_fault_at(READ_FAULT, descriptor, observed.instruction), observed);
	check_outcome("LDT in a user page: CPL 3 segment load raises #PF(P), U/S=0",
		      page_fault_at(READ_FAULT, descriptor, (u64)user_load_fs_instruction),
		      user_segment_load(LDT_SELECTOR, false));
	check_outcome("LDT in a user page: CPL 3 segment load, AC=1, raises #PF(P)",
		      page_fault_at(READ_FAULT, descriptor, (u64)user_load_fs_instruction),
		      user_segment_load(LDT_SELECTOR, true));
	write_cr4(cr4 & ~(u64)CR4_SMAP);
	observed = load_fs_or_fault(LDT_SELECTOR);
	write_cr4(cr4);
	check_outcome("SMAP=0: CPL 0 segment load from an LDT in a user page succeeds",
		      no_exception(), observed);

	load_ldt(0);
	gdt_clear_system_descriptor(SPARE_SELECTOR);
	vm_free((void *)ldt);
}

/* The GDT's first GDT_ENTRIES entries in the supervisor page, one more in the user page. */
static void check_gdt_across_pages(void)
{
	struct descriptor_table_register original = read_gdtr();
	u64 base = pair.user_page - sizeof(global_descriptor_table), flags;
	u16 selector = (u16)(sizeof(global_descriptor_table) | 3);
	struct exception_info observed, cpl3;

	page_pair_write(&pair, -(s64)sizeof(global_descriptor_table), global_descriptor_table,
			sizeof(global_descriptor_table));
	page_pair_write(&pair, 0, &(u64){ USER_DATA_DESCRIPTOR }, 8);
	load_gdt(base, sizeof(global_descriptor_table) + 8 - 1);
	flags = set_alignment_check(true);
	observed = load_fs_or_fault(selector);
	write_rflags(flags);
	cpl3 = user_segment_load(selector, false);
	load_gdt(original.base, original.limit);

	check_outcome("GDT entry in a user page: CPL 0 segment load, AC=1, raises #PF(P)",
		      page_fault_at(READ_FAULT, pair.user_page, observed.instruction), observed);
	check_outcome("GDT entry in a user page: CPL 3 segment load raises #PF(P), U/S=0",
		      page_fault_at(READ_FAULT, pair.user_page, (u64)user_load_fs_instruction), cpl3);
}

/*
 * A copy of the IDT laid across pair so that gate first_vector is the first
 * on the pair's second page; returns the IDT's own base.
 */
static u64 install_idt_across_pages(struct page_pair *across, unsigned first_vector)
{
	u64 idt = read_idtr().base, split = first_vector * 16;

	page_pair_write(across, -(s64)split, (const void *)idt, split);
	page_pair_write(across, 0, (const void *)(idt + split), IDT_ENTRIES * 16 - split);
	load_idt(across->boundary - split, IDT_ENTRIES * 16 - 1);
	return idt;
}

/*
 * The #UD gate in a user page and every later gate (#PF, #DF) in a
 * supervisor page: #UD's delivery faults on its gate, and the #PF that
 * results is delivered normally (SDM table 6-5: #UD is benign).
 */
static void check_idt_gate_in_user_page(void)
{
	u64 gate = reversed_pair.boundary - 16, idt, flags;
	struct exception_info ac_clear, ac_set;
	struct user_result result;

	idt = install_idt_across_pages(&reversed_pair, UD_VECTOR + 1);
	ac_clear = undefined_opcode_or_fault();
	flags = set_alignment_check(true);
	ac_set = undefined_opcode_or_fault();
	write_rflags(flags);
	result = run_user(user_undefined_opcode, 0, 0, 0, 0);
	load_idt(idt, IDT_ENTRIES * 16 - 1);
	check_outcome("IDT gate in a user page: #UD at CPL 0, AC=0, raises #PF(P)",
		      page_fault_at(READ_FAULT, gate, ac_clear.instruction), ac_clear);
	check_outcome("IDT gate in a user page: #UD at CPL 0, AC=1, raises #PF(P)",
		      page_fault_at(READ_FAULT, gate, ac_set.instruction), ac_set);
	check_outcome("IDT gate in a user page: #UD at CPL 3 raises #PF(P), U/S=0",
		      page_fault_at(READ_FAULT, gate, (u64)user_undefined_opcode_instruction),
		      user_outcome(&result));
}

/*
 * The #PF gate itself in the user page: a SMAP fault's delivery faults
 * again, which makes #DF (SDM table 6-5: #PF during #PF delivery).  The
 * #DF gate and its IST slot are supervisor, so the #DF is caught; its RIP
 * is undefined (SDM 6.15, interrupt 8), so only vector, error code and
 * CR2 are checked.
 */
static void check_page_fault_gate_in_user_page(void)
{
	const char *name = "#PF gate in a user page: a #PF becomes #DF(0) on its IST stack";
	struct exception_info observed;
	u64 idt, value, cr2;
	bool pass;

	idt = install_idt_across_pages(&pair, PF_VECTOR);
	observed = call_or_fault((u64)read_from, data_page + DATA_OFFSET, &value);
	cr2 = read_cr2();
	load_idt(idt, IDT_ENTRIES * 16 - 1);
	pass = observed.raised && observed.vector == DF_VECTOR && observed.error_code == 0 &&
	       cr2 == pair.user_page;
	if (!pass) {
		char text[96];

		report_info("%s: expected #DF(0) with CR2 %#lx; got %s with CR2 %#lx", name,
			    pair.user_page, describe_exception(observed, text, sizeof(text)), cr2);
	}
	/* For the errata list: an outcome, and which fault CR2 describes. */
	if (exception_equal(exception(DF_VECTOR, 0), observed) && cr2 != pair.user_page)
		report_observed(cr2 == data_page + DATA_OFFSET ? "#DF(0) CR2=first-fault" :
								  "#DF(0) CR2=other");
	else
		report_observed_exception(observed);
	report(pass, "%s", name);
}

/* A copy of the TSS in TR whose bytes from offset split on are in the user page. */
static void install_tss_across_pages(u64 split)
{
	u64 base = pair.user_page - split;

	page_pair_write(&pair, -(s64)split, &task_state, split);
	page_pair_write(&pair, 0, (const u8 *)&task_state + split, TSS_SIZE - split);
	gdt_set_system_descriptor(SPARE_SELECTOR, SYSTEM_DESCRIPTOR_TSS_AVAILABLE, base,
				  TSS_SIZE - 1);
	load_task_register(SPARE_SELECTOR);
}

static void restore_task_register(void)
{
	global_descriptor_table[TSS_SELECTOR / 8] &= ~TSS_BUSY;
	load_task_register(TSS_SELECTOR);
	gdt_clear_system_descriptor(SPARE_SELECTOR);
}

static void check_ist_slot_in_user_page(void)
{
	u64 non_canonical = 1ull << (linear_address_bits() - 1), value;
	struct exception_info observed;

	install_tss_across_pages(TSS_SPARE_IST_OFFSET);
	idt_set_gate(GP_VECTOR, 0, IST_SPARE);
	observed = read_u64_or_fault(non_canonical, &value);
	idt_set_gate(GP_VECTOR, 0, 0);
	restore_task_register();
	check_outcome("TSS IST slot in a user page: #GP through it raises #PF(P)",
		      page_fault_at(READ_FAULT, pair.user_page, observed.instruction), observed);
}

static void check_io_map_base_in_user_page(void)
{
	struct user_result result;

	install_tss_across_pages(TSS_IO_MAP_BASE_OFFSET);
	result = run_user(user_port_read, 0x80, 0, 0, 0);
	restore_task_register();
	check_outcome("TSS I/O-map base in a user page: IN at CPL 3 raises #PF(P), U/S=0",
		      page_fault_at(READ_FAULT, pair.user_page, (u64)user_port_read_instruction),
		      user_outcome(&result));
}

/* ---- STAC and CLAC (only with "stac") ---------------------------------- */

static struct exception_info stac_or_fault(void)
{
	u64 code = 0, instruction;

	asm volatile("lea 1f(%%rip), %[at]\n1: stac\n2:\n" EXCEPTION_FIXUP("1b", "2b")
		     : "+D"(code), [at] "=&r"(instruction) : : "memory", "cc");
	return exception_from_probe(code, instruction);
}

static struct exception_info clac_or_fault(void)
{
	u64 code = 0, instruction;

	asm volatile("lea 1f(%%rip), %[at]\n1: clac\n2:\n" EXCEPTION_FIXUP("1b", "2b")
		     : "+D"(code), [at] "=&r"(instruction) : : "memory", "cc");
	return exception_from_probe(code, instruction);
}

USER_PROBE(user_stac, "", "stac");
USER_PROBE(user_clac, "", "clac");

static void check_stac_and_clac(void)
{
	u64 flags = read_rflags(), cr4 = read_cr4(), value;
	struct exception_info observed;
	struct user_result result;
	bool ac;

	observed = stac_or_fault();
	ac = read_rflags() & RFLAGS_ALIGNMENT_CHECK;
	report(outcome_matches("STAC at CPL 0", no_exception(), observed) && ac,
	       "STAC at CPL 0 sets EFLAGS.AC");
	observed = read_u64_or_fault(data_page + DATA_OFFSET, &value);
	check_outcome("after STAC, a CPL 0 read of a user page succeeds", no_exception(), observed);
	observed = clac_or_fault();
	ac = read_rflags() & RFLAGS_ALIGNMENT_CHECK;
	report(outcome_matches("CLAC at CPL 0", no_exception(), observed) && !ac,
	       "CLAC at CPL 0 clears EFLAGS.AC");
	observed = read_u64_or_fault(data_page + DATA_OFFSET, &value);
	write_rflags(flags);
	check_outcome("after CLAC, a CPL 0 read of a user page raises #PF(P)",
		      page_fault_at(READ_FAULT, data_page + DATA_OFFSET, observed.instruction),
		      observed);

	write_cr4(cr4 & ~(u64)CR4_SMAP);
	observed = stac_or_fault();
	ac = read_rflags() & RFLAGS_ALIGNMENT_CHECK;
	write_rflags(flags);
	write_cr4(cr4);
	report(outcome_matches("STAC with SMAP=0", no_exception(), observed) && ac,
	       "STAC with CR4.SMAP=0 still sets EFLAGS.AC");

	result = run_user(user_stac, 0, 0, 0, 0);
	check_outcome("STAC at CPL 3 raises #UD",
		      fault_at(UD_VECTOR, 0, (u64)user_stac_instruction), user_outcome(&result));
	result = run_user(user_clac, 0, 0, 0, 0);
	check_outcome("CLAC at CPL 3 raises #UD",
		      fault_at(UD_VECTOR, 0, (u64)user_clac_instruction), user_outcome(&result));
}

/* ---------------------------------------------------------------------- */

static const u8 magic_function[] = { 0xb8, CODE_MAGIC & 0xff, CODE_MAGIC >> 8, 0, 0, 0xc3 };

static u64 user_page_with(unsigned flags, const void *bytes, size_t length, u64 offset)
{
	u64 page = (u64)vm_alloc(PAGE_SIZE, VM_USER | VM_WRITE | flags);

	if (!page || !copy_to_user(page + offset, bytes, length))
		fatal("cannot set up a user page");
	return page;
}

static void set_up(void)
{
	data_page = user_page_with(0, &(u64){ DATA_MAGIC }, 8, DATA_OFFSET);
	read_only_page = user_page_with(0, &(u64){ DATA_MAGIC }, 8, DATA_OFFSET);
	vm_protect((void *)read_only_page, PAGE_SIZE, VM_USER);
	code_page = user_page_with(VM_EXECUTE, magic_function, sizeof(magic_function), 0);
	page_pair_alloc(&pair, 0, false);
	page_pair_alloc(&reversed_pair, 0, true);
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
