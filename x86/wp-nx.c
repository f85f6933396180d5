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
 *  - XD does not stop data reads.
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
 * only when the guest booted on a CPU without NX (e.g. QEMU -cpu max,-nx),
 * and SKIP otherwise.
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
#include "printf.h"
#include "processor.h"
#include "protection-checks.h"
#include "protections.h"
#include "report.h"
#include "user-access.h"
#include "user.h"
#include "vm.h"

#define FETCH_FAULT (PAGE_FAULT_PRESENT | PAGE_FAULT_FETCH)
#define WRITE_FAULT (PAGE_FAULT_PRESENT | PAGE_FAULT_WRITE)
#define CODE_MAGIC 0x0e7ecu
#define DATA_MAGIC 0x77e5ull
#define DATA_OFFSET 0x1f0 /* so that CR2 is not page-aligned */
#define RET_INSTRUCTION 0xc3

/* mov $CODE_MAGIC, %eax; ret */
static const u8 magic_function[] = { 0xb8, CODE_MAGIC & 0xff, CODE_MAGIC >> 8, 0, 0, 0xc3 };
static const u8 nop = 0x90;

static u64 supervisor_code;  /* supervisor, not executable: magic_function */
static u64 user_code;        /* user, not executable: magic_function */
static u64 user_executable;  /* user, executable: magic_function */
static u64 supervisor_data;  /* supervisor, read-only: DATA_MAGIC at DATA_OFFSET */
static u64 user_read_only;   /* user, read-only */
static u64 user_writable;    /* user, writable */
static u64 two_pages;        /* supervisor, executable then NX */

/* Ring 3 calls the target and returns what it returned. */
static u64 USER_CODE user_call(u64 target, u64 b, u64 c, u64 d)
{
	return ((u64(*)(void))target)();
}

USER_PROBE(user_store, "", "mov %rsi, (%rdi)");
USER_PROBE(user_load, "", "mov (%rdi), %rax");

/* ---- the cases: each returns pass, after explaining a failure ---------- */

/* A CPL 0 call that must fault with error_code at target, or return CODE_MAGIC. */
static bool expect_call(const char *name, u64 target, bool faults, u32 error_code, u64 rip,
			u64 cr2)
{
	u64 value = 0;
	struct exception_info observed = call_or_fault(target, 0, &value);
	struct exception_info expected = faults ? page_fault_at(error_code, cr2, rip) :
						  no_exception();

	if (!outcome_matches(name, expected, observed))
		return false;
	if (!faults && value != CODE_MAGIC) {
		report_info("%s: the code returned %#lx", name, value);
		return false;
	}
	return true;
}

static bool nx_supervisor_page(const char *name, int executable)
{
	bool pass;

	if (executable)
		vm_protect((void *)supervisor_code, PAGE_SIZE, VM_SUPERVISOR | VM_WRITE | VM_EXECUTE);
	pass = expect_call(name, supervisor_code, !executable, FETCH_FAULT, supervisor_code,
			   supervisor_code);
	vm_protect((void *)supervisor_code, PAGE_SIZE, VM_SUPERVISOR | VM_WRITE);
	return pass;
}

static bool nx_user_page_at_cpl3(const char *name, int executable)
{
	struct user_result result;
	struct exception_info expected = no_exception();
	bool pass;

	if (executable)
		vm_protect((void *)user_code, PAGE_SIZE, VM_USER | VM_WRITE | VM_EXECUTE);
	result = run_user(user_call, user_code, 0, 0, 0);
	vm_protect((void *)user_code, PAGE_SIZE, VM_USER | VM_WRITE);
	if (!executable)
		expected = page_fault_at(FETCH_FAULT | PAGE_FAULT_USER, user_code, user_code);
	pass = outcome_matches(name, expected, user_outcome(&result));
	if (pass && executable && result.value != CODE_MAGIC) {
		report_info("%s: the code returned %#lx", name, result.value);
		pass = false;
	}
	return pass;
}

/* XD=1 in one entry only, on an executable user page, at CPL 0 with SMEP off. */
static bool nx_at_level(const char *name, int level)
{
	u64 cr4 = read_cr4();
	struct entry_edit edit;
	bool pass;

	write_cr4(cr4 & ~(u64)CR4_SMEP);
	entry_edit(&edit, user_executable, level, 0, PAGE_NO_EXECUTE);
	pass = expect_call(name, user_executable, true, FETCH_FAULT, user_executable,
			   user_executable);
	entry_restore(&edit);
	write_cr4(cr4);
	return pass;
}

/* Code at the end of the executable page running into the NX page after it. */
static bool nx_crossing(const char *name, int straddles)
{
	u64 boundary = two_pages + PAGE_SIZE;

	if (straddles) {
		memcpy((void *)(boundary - 2), magic_function, sizeof(magic_function));
		return expect_call(name, boundary - 2, true, FETCH_FAULT, boundary - 2, boundary);
	}
	memcpy((void *)(boundary - 1), &nop, 1);
	memcpy((void *)boundary, magic_function, sizeof(magic_function));
	return expect_call(name, boundary - 1, true, FETCH_FAULT, boundary, boundary);
}

static bool nx_page_readable(const char *name, int unused)
{
	u64 value = 0;
	struct exception_info observed = read_u64_or_fault(supervisor_code, &value);
	u64 expected_value = 0;

	memcpy(&expected_value, magic_function, sizeof(magic_function));
	if (!outcome_matches(name, no_exception(), observed))
		return false;
	if (value != expected_value)
		report_info("%s: read %#lx, expected %#lx", name, value, expected_value);
	return value == expected_value;
}

/* CPL 0 write to the read-only supervisor page, with CR0.WP as given. */
static bool write_read_only_supervisor(const char *name, int write_protect)
{
	u64 cr0 = read_cr0(), address = supervisor_data + DATA_OFFSET, value = 0;
	struct exception_info observed, expected = no_exception();

	if (!write_protect)
		write_cr0(cr0 & ~(u64)CR0_WRITE_PROTECT);
	observed = write_u64_or_fault(address, DATA_MAGIC + (u64)write_protect);
	write_cr0(cr0);
	if (write_protect)
		expected = page_fault_at(WRITE_FAULT, address, observed.instruction);
	if (!outcome_matches(name, expected, observed))
		return false;
	read_u64_or_fault(address, &value);
	if (!write_protect && value != DATA_MAGIC) {
		report_info("%s: memory holds %#lx after the write", name, value);
		return false;
	}
	return true;
}

/* CPL 3 write to a read-only user page: always a fault. */
static bool write_read_only_user(const char *name, int write_protect)
{
	u64 cr0 = read_cr0(), address = user_read_only + DATA_OFFSET;
	struct user_result result;

	if (!write_protect)
		write_cr0(cr0 & ~(u64)CR0_WRITE_PROTECT);
	result = run_user(user_store, address, DATA_MAGIC, 0, 0);
	write_cr0(cr0);
	return outcome_matches(name,
			       page_fault_at(WRITE_FAULT | PAGE_FAULT_USER, address,
					     (u64)user_store_instruction),
			       user_outcome(&result));
}

/*
 * R/W=0 in one non-leaf entry of a writable user page; a CPL 0 write with
 * EFLAGS.AC=1 (so that SMAP stays out of it).  parameter: level * 2 + WP.
 */
static bool write_read_only_at_level(const char *name, int parameter)
{
	int level = parameter / 2, write_protect = parameter % 2;
	u64 cr0 = read_cr0(), address = user_writable + DATA_OFFSET, flags, value = 0;
	u64 written = DATA_MAGIC + (u64)parameter;
	struct exception_info observed, expected = no_exception();
	struct entry_edit edit;

	entry_edit(&edit, address, level, PAGE_WRITABLE, 0);
	if (!write_protect)
		write_cr0(cr0 & ~(u64)CR0_WRITE_PROTECT);
	flags = set_alignment_check(true);
	observed = write_u64_or_fault(address, written);
	write_rflags(flags);
	write_cr0(cr0);
	entry_restore(&edit);
	if (write_protect)
		expected = page_fault_at(WRITE_FAULT, address, observed.instruction);
	if (!outcome_matches(name, expected, observed))
		return false;
	if (!copy_from_user(&value, address, sizeof(value)))
		fatal("cannot read back the user page");
	if (!write_protect && value != written) {
		report_info("%s: memory holds %#lx, wrote %#lx", name, value, written);
		return false;
	}
	return true;
}

/* EFER.NXE=0: bit 63 set in the entry at level; parameter: level * 4 + access. */
enum reserved_access { RESERVED_READ, RESERVED_WRITE, RESERVED_FETCH, RESERVED_USER_READ };

static u32 reserved_fetch_error_code(u32 *ignored)
{
	return PAGE_FAULT_PRESENT | PAGE_FAULT_RESERVED | fetch_fault_flag(ignored);
}

static bool reserved_bit(const char *name, int parameter)
{
	int level = parameter / 4;
	enum reserved_access access = parameter % 4;
	u64 target = access == RESERVED_FETCH ? user_executable : user_writable + DATA_OFFSET;
	u64 value, flags, cr4 = read_cr4();
	u32 error_code = PAGE_FAULT_PRESENT | PAGE_FAULT_RESERVED, ignored = 0;
	struct exception_info observed;
	struct user_result result;
	struct entry_edit edit;
	u64 rip;

	if (access == RESERVED_FETCH) {
		write_cr4(cr4 & ~(u64)CR4_SMEP); /* the page is a user page */
		error_code = reserved_fetch_error_code(&ignored);
	}
	entry_edit(&edit, target, level, 0, PAGE_NO_EXECUTE);
	flags = set_alignment_check(true);
	switch (access) {
	case RESERVED_READ:
		observed = read_u64_or_fault(target, &value);
		break;
	case RESERVED_WRITE:
		observed = write_u64_or_fault(target, 0);
		error_code |= PAGE_FAULT_WRITE;
		break;
	case RESERVED_FETCH:
		observed = call_or_fault(target, 0, &value);
		observed.instruction = target;
		break;
	case RESERVED_USER_READ:
		result = run_user(user_load, target, 0, 0, 0);
		observed = user_outcome(&result);
		observed.instruction = (u64)user_load_instruction;
		error_code |= PAGE_FAULT_USER;
		break;
	}
	write_rflags(flags);
	entry_restore(&edit);
	write_cr4(cr4);
	rip = observed.instruction;
	if (ignored && observed.raised)
		observed.error_code &= ~ignored;
	return outcome_matches(name, page_fault_at(error_code, target, rip), observed);
}

/* WRMSR with the instruction's address, so that RIP can be checked. */
static struct exception_info write_msr_at(u32 index, u64 value)
{
	u64 code = 0, instruction;

	asm volatile("lea 1f(%%rip), %[at]\n1: wrmsr\n2:\n" EXCEPTION_FIXUP("1b", "2b")
		     : "+D"(code), [at] "=&r"(instruction)
		     : "c"(index), "a"((u32)value), "d"((u32)(value >> 32))
		     : "memory");
	return exception_from_probe(code, instruction);
}

/*
 * The kernel image itself: its writable data is not executable and its
 * text is read-only, whatever the page tables of a test's own pages say.
 * A RET in .data and one in .bss; the write puts back the byte it read.
 */
static u8 data_return = RET_INSTRUCTION;
static u8 bss_return;

static bool kernel_data_not_executable(const char *name, int in_bss)
{
	u64 target = in_bss ? (u64)&bss_return : (u64)&data_return;

	bss_return = RET_INSTRUCTION;
	return expect_call(name, target, true, FETCH_FAULT, target, target);
}

static bool kernel_text_read_only(const char *name, int unused)
{
	u64 target = (u64)&kernel_text_read_only;
	u8 byte = *(volatile u8 *)target;
	struct exception_info observed = write_u8_or_fault(target, byte);

	return outcome_matches(name, page_fault_at(WRITE_FAULT, target, observed.instruction),
			       observed);
}

static bool no_execute_enable_refused(const char *name, int unused)
{
	u64 efer = read_msr(MSR_EFER);
	struct exception_info observed = write_msr_at(MSR_EFER, efer | EFER_NO_EXECUTE_ENABLE);

	write_msr(MSR_EFER, efer);
	return outcome_matches(name, fault_at(GP_VECTOR, 0, observed.instruction), observed);
}

/* ---- the table ---------------------------------------------------------- */

enum needs {
	ALWAYS,
	NX_ON,          /* EFER.NXE=1 */
	NX_OFF,         /* EFER.NXE=0 */
	NX_ABSENT,      /* CPUID has no NX */
};

#define LEVELS(row) row(1, "PTE"), row(2, "PDE"), row(3, "PDPTE"), row(4, "PML4E"), row(5, "PML5E")
#define NON_LEAF_LEVELS(row) row(2, "PDE"), row(3, "PDPTE"), row(4, "PML4E"), row(5, "PML5E")

#define NX_LEVEL_ROW(level, entry)                                                  \
	{ "XD=1 in the " entry " only: CPL 0 fetch raises #PF(P|I)", nx_at_level, level, \
	  NX_ON, level }
#define WP1_LEVEL_ROW(level, entry)                                                 \
	{ "R/W=0 in the " entry " only: CPL 0 write with WP=1 raises #PF(P|W)",        \
	  write_read_only_at_level, level * 2 + 1, ALWAYS, level }
#define WP0_LEVEL_ROW(level, entry)                                                 \
	{ "R/W=0 in the " entry " only: CPL 0 write with WP=0 succeeds",               \
	  write_read_only_at_level, level * 2, ALWAYS, level }
#define RESERVED_LEVEL_ROW(level, entry)                                            \
	{ "NXE=0: bit 63 in the " entry " makes a CPL 0 read raise #PF(P|RSVD)",      \
	  reserved_bit, level * 4 + RESERVED_READ, NX_OFF, level }

static const struct wp_nx_case {
	const char *name;
	bool (*run)(const char *name, int parameter);
	int parameter;
	enum needs needs;
	int level; /* the paging level the case edits, 0 for none */
} cases[] = {
	{ "CPL 0 CALL into the kernel's .data raises #PF(P|I)", kernel_data_not_executable, 0,
	  NX_ON, 0 },
	{ "CPL 0 CALL into the kernel's .bss raises #PF(P|I)", kernel_data_not_executable, 1,
	  NX_ON, 0 },
	{ "WP=1: CPL 0 write to the kernel's .text raises #PF(P|W)", kernel_text_read_only, 0,
	  ALWAYS, 0 },
	{ "CPL 0 CALL to an NX supervisor page raises #PF(P|I)", nx_supervisor_page, 0, NX_ON, 0 },
	{ "CPL 0 CALL to the page once executable returns", nx_supervisor_page, 1, NX_ON, 0 },
	{ "CPL 3 CALL to an NX user page raises #PF(P|U|I)", nx_user_page_at_cpl3, 0, NX_ON, 0 },
	{ "CPL 3 CALL to the page once executable returns", nx_user_page_at_cpl3, 1, NX_ON, 0 },
	LEVELS(NX_LEVEL_ROW),
	{ "running off an executable page into an NX page raises #PF(P|I)", nx_crossing, 0,
	  NX_ON, 0 },
	{ "an instruction straddling into an NX page raises #PF(P|I)", nx_crossing, 1, NX_ON, 0 },
	{ "XD does not stop a CPL 0 data read", nx_page_readable, 0, NX_ON, 0 },
	{ "WP=1: CPL 0 write to a read-only supervisor page raises #PF(P|W)",
	  write_read_only_supervisor, 1, ALWAYS, 0 },
	{ "WP=0: CPL 0 write to a read-only supervisor page succeeds",
	  write_read_only_supervisor, 0, ALWAYS, 0 },
	{ "WP=1: CPL 3 write to a read-only user page raises #PF(P|W|U)", write_read_only_user,
	  1, ALWAYS, 0 },
	{ "WP=0: CPL 3 write to a read-only user page raises #PF(P|W|U)", write_read_only_user,
	  0, ALWAYS, 0 },
	NON_LEAF_LEVELS(WP1_LEVEL_ROW),
	NON_LEAF_LEVELS(WP0_LEVEL_ROW),
	{ "NXE=0: bit 63 in the PTE makes a CPL 0 write raise #PF(P|W|RSVD)", reserved_bit,
	  4 + RESERVED_WRITE, NX_OFF, 1 },
	{ "NXE=0: bit 63 in the PTE makes a CPL 0 fetch raise #PF(P|RSVD)", reserved_bit,
	  4 + RESERVED_FETCH, NX_OFF, 1 },
	{ "NXE=0: bit 63 in the PTE makes a CPL 3 read raise #PF(P|U|RSVD)", reserved_bit,
	  4 + RESERVED_USER_READ, NX_OFF, 1 },
	LEVELS(RESERVED_LEVEL_ROW),
	{ "NXE=0: WRMSR setting EFER.NXE without NX raises #GP(0)", no_execute_enable_refused,
	  0, NX_ABSENT, 0 },
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
	report(c->run(c->name, c->parameter), "%s", c->name);
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
	supervisor_code = page_with(VM_SUPERVISOR, magic_function, sizeof(magic_function), 0);
	user_code = page_with(VM_USER, magic_function, sizeof(magic_function), 0);
	user_executable = page_with(VM_USER | VM_EXECUTE, magic_function, sizeof(magic_function), 0);
	supervisor_data = page_with(VM_SUPERVISOR, &(u64){ 0 }, 8, DATA_OFFSET);
	vm_protect((void *)supervisor_data, PAGE_SIZE, VM_SUPERVISOR);
	user_read_only = page_with(VM_USER, &(u64){ 0 }, 8, DATA_OFFSET);
	vm_protect((void *)user_read_only, PAGE_SIZE, VM_USER);
	user_writable = page_with(VM_USER, &(u64){ 0 }, 8, DATA_OFFSET);
	two_pages = (u64)vm_alloc(2 * PAGE_SIZE, VM_SUPERVISOR | VM_WRITE | VM_EXECUTE);
	if (!two_pages)
		fatal("cannot allocate two pages");
	vm_protect((void *)(two_pages + PAGE_SIZE), PAGE_SIZE, VM_SUPERVISOR | VM_WRITE);
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
	set_up();
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(&cases[i], no_execute_enabled, force);
	return report_summary();
}
