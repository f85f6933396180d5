/*
 * umip: user-mode instruction prevention (CR4.UMIP).
 *
 * Rules checked (Intel SDM Vol. 3A 2.5 "Control Registers", CR4.UMIP;
 * SDM Vol. 2B SGDT, SIDT, SLDT, SMSW, STR: "#GP(0) if CR4.UMIP = 1 and
 * CPL > 0"; AMD APM Vol. 2 3.1.3 CR4 and APM Vol. 3 for the same five
 * instructions):
 *  - With CR4.UMIP=1, SGDT, SIDT, SLDT, SMSW and STR at CPL 3 raise #GP(0)
 *    with RIP at the instruction, and a memory destination is left as it
 *    was.  Each is checked with every operand form it has: SGDT and SIDT
 *    store to memory; SLDT, STR and SMSW store to a register or to memory.
 *  - With CR4.UMIP=0 they succeed at CPL 3 and store the real value:
 *    GDTR, IDTR, the LDTR and TR selectors, and the low word of CR0.
 *  - At CPL 0 they succeed whatever CR4.UMIP is.
 *  - UMIP covers those five and nothing else: LAR, LSL, VERR and VERW,
 *    which also read descriptor information, still work at CPL 3.
 *
 * Vendors: Intel and AMD state the same UMIP rule.  They differ in what LAR
 * loads: bits 19:16 are undefined on Intel and the descriptor's on AMD, so
 * the LAR case compares them on AMD only, by CPUID's vendor.  Only the low
 * word of a register destination is compared for SLDT, STR and SMSW,
 * because that is all the instructions define for every register size
 * (SDM Vol. 2B: the upper bits depend on the operand size and, for SMSW,
 * are not defined for every size).
 *
 * Cannot test: CPL 1 and 2 (canon has no ring 1 or 2 segments), and UMIP
 * outside 64-bit mode.
 *
 * Arguments: "force" runs the cases even when CPUID lacks UMIP; the #GP
 * cases must then fail.
 */
#include "cmdline.h"
#include "cpu-features.h"
#include "descriptors.h"
#include "exceptions.h"
#include "layout.h"
#include "memory.h"
#include "printf.h"
#include "processor.h"
#include "probe.h"
#include "protections.h"
#include "report.h"
#include "user-access.h"
#include "user.h"
#include "vm.h"

#define SENTINEL 0xa5
#define STORE_BYTES 10 /* the largest store: SGDT and SIDT */

/*
 * Each instruction twice: NAME runs at CPL 0, user_NAME at CPL 3.  Both
 * take the memory destination in RDI and return RAX, cleared first, so
 * that a register destination comes back as the result.
 */
PROBE(sgdt, BOTH, "xor %eax, %eax", "sgdt (%rdi)", "");
PROBE(sidt, BOTH, "xor %eax, %eax", "sidt (%rdi)", "");
PROBE(sldt_register, BOTH, "xor %eax, %eax", "sldt %eax", "");
PROBE(sldt_memory, BOTH, "xor %eax, %eax", "sldt (%rdi)", "");
PROBE(str_register, BOTH, "xor %eax, %eax", "str %eax", "");
PROBE(str_memory, BOTH, "xor %eax, %eax", "str (%rdi)", "");
PROBE(smsw_register, BOTH, "xor %eax, %eax", "smsw %eax", "");
PROBE(smsw_memory, BOTH, "xor %eax, %eax", "smsw (%rdi)", "");

/* A probe at both CPLs, for a table. */
#define PROBES(name) .kernel = PROBE_INITIALIZER(name), .user = PROBE_INITIALIZER(user_##name)

/* What the instruction stores: the register it reads, in words. */
enum source { GDTR, IDTR, LDTR, TR, MSW };

static const struct umip_case {
	const char *name; /* "SLDT to a register" */
	enum source source;
	bool to_memory;
	struct probe kernel, user;
} cases[] = {
	{ .name = "SGDT", .source = GDTR, .to_memory = true, PROBES(sgdt) },
	{ .name = "SIDT", .source = IDTR, .to_memory = true, PROBES(sidt) },
	{ .name = "SLDT to a register", .source = LDTR, PROBES(sldt_register) },
	{ .name = "SLDT to memory", .source = LDTR, .to_memory = true, PROBES(sldt_memory) },
	{ .name = "STR to a register", .source = TR, PROBES(str_register) },
	{ .name = "STR to memory", .source = TR, .to_memory = true, PROBES(str_memory) },
	{ .name = "SMSW to a register", .source = MSW, PROBES(smsw_register) },
	{ .name = "SMSW to memory", .source = MSW, .to_memory = true, PROBES(smsw_memory) },
};

static const char *const source_names[] = {
	[GDTR] = "GDTR", [IDTR] = "IDTR", [LDTR] = "LDTR", [TR] = "TR",
	[MSW] = "the machine status word",
};

/* A small supervisor LDT, so that SLDT has a selector other than 0 to store. */
static u64 local_descriptor_table[2] __attribute__((aligned(16)));

/* ---- results ------------------------------------------------------------ */

struct stored {
	u8 bytes[STORE_BYTES];
};

/* The bytes the instruction must store, taken from the kernel's own view. */
static struct stored expected_store(enum source source)
{
	struct stored result;
	struct descriptor_table_register table;
	u16 word = 0;

	memset(&result, SENTINEL, sizeof(result));
	switch (source) {
	case GDTR:
	case IDTR:
		table = source == GDTR ? read_gdtr() : read_idtr();
		memcpy(result.bytes, &table, STORE_BYTES);
		return result;
	case LDTR:
		word = SPARE_SELECTOR;
		break;
	case TR:
		word = read_task_register();
		break;
	case MSW:
		word = (u16)read_cr0();
		break;
	}
	memcpy(result.bytes, &word, sizeof(word));
	return result;
}

/* For a register destination: the returned RAX's low word, sentinel above. */
static struct stored register_store(u64 rax)
{
	struct stored result;
	u16 word = (u16)rax;

	memset(&result, SENTINEL, sizeof(result));
	memcpy(result.bytes, &word, sizeof(word));
	return result;
}

static bool same_store(const struct stored *a, const struct stored *b)
{
	return !memcmp(a->bytes, b->bytes, STORE_BYTES);
}

static void report_store_mismatch(const char *name, const struct stored *got,
				  const struct stored *wanted)
{
	const u8 *g = got->bytes, *w = wanted->bytes;

	report_info("%s: stored %02x%02x %02x%02x%02x%02x%02x%02x%02x%02x, expected "
		    "%02x%02x %02x%02x%02x%02x%02x%02x%02x%02x", name,
		    g[1], g[0], g[9], g[8], g[7], g[6], g[5], g[4], g[3], g[2],
		    w[1], w[0], w[9], w[8], w[7], w[6], w[5], w[4], w[3], w[2]);
}

/* ---- one instruction, three ways ---------------------------------------- */

static u64 destination_page;

static struct stored run_at_cpl3(const struct umip_case *c, struct exception_info *outcome)
{
	struct stored memory;
	struct probe_result result;

	memset(&memory, SENTINEL, sizeof(memory));
	if (!copy_to_user(destination_page, &memory, sizeof(memory)))
		fatal("cannot reset the destination page");
	result = run_probe(c->user, 3, destination_page, 0, 0, 0);
	*outcome = result.outcome;
	if (!c->to_memory && !outcome->raised)
		return register_store(result.value);
	if (!copy_from_user(&memory, destination_page, sizeof(memory)))
		fatal("cannot read the destination page");
	return memory;
}

static struct stored run_at_cpl0(const struct umip_case *c, struct exception_info *outcome)
{
	struct stored memory;
	struct probe_result result;

	memset(&memory, SENTINEL, sizeof(memory));
	result = run_probe(c->kernel, 0, (u64)&memory, 0, 0, 0);
	*outcome = result.outcome;
	return c->to_memory || outcome->raised ? memory : register_store(result.value);
}

/* CPL 3, CR4.UMIP=1: #GP(0) at the instruction, memory untouched. */
static void check_prevented(const struct umip_case *c)
{
	char name[96];
	struct exception_info outcome;
	struct stored untouched, stored = run_at_cpl3(c, &outcome);
	bool pass;

	snprintf(name, sizeof(name), "%s at CPL 3 with UMIP=1 raises #GP(0)", c->name);
	memset(&untouched, SENTINEL, sizeof(untouched));
	pass = outcome_matches(name, fault_at(GP_VECTOR, 0, (u64)c->user.instruction), outcome);
	if (pass && c->to_memory && !same_store(&stored, &untouched)) {
		report_store_mismatch(name, &stored, &untouched);
		pass = false;
	}
	report(pass, "%s", name);
}

/* No exception, and the right value stored. */
static void check_allowed(const struct umip_case *c, bool at_cpl3)
{
	u64 cr4 = read_cr4();
	char name[96];
	struct exception_info outcome;
	struct stored stored, wanted = expected_store(c->source);
	bool pass;

	snprintf(name, sizeof(name), "%s at CPL %d with UMIP=%d stores %s", c->name,
		 at_cpl3 ? 3 : 0, at_cpl3 ? 0 : 1, source_names[c->source]);
	if (at_cpl3)
		write_cr4(cr4 & ~(u64)CR4_UMIP);
	stored = at_cpl3 ? run_at_cpl3(c, &outcome) : run_at_cpl0(c, &outcome);
	write_cr4(cr4);
	pass = outcome_matches(name, no_exception(), outcome);
	if (pass && !same_store(&stored, &wanted)) {
		report_store_mismatch(name, &stored, &wanted);
		pass = false;
	}
	report(pass, "%s", name);
}

/* ---- what UMIP leaves alone -------------------------------------------- */

/*
 * Each returns ZF in bit 63 of RAX and what it loaded below: LAR and LSL
 * leave the destination alone when ZF=0, so the value alone cannot tell.
 */
#define ZF_TO_BIT_63 "setz %dl\n\tmovzbq %dl, %rdx\n\tshl $63, %rdx\n\tor %rdx, %rax"
#define RESULT_ZF ((u64)1 << 63)
PROBE(user_lar, USER, "xor %eax, %eax", "lar %edi, %eax", ZF_TO_BIT_63);
PROBE(user_lsl, USER, "xor %eax, %eax", "lsl %edi, %eax", ZF_TO_BIT_63);
PROBE(user_verr, USER, "xor %eax, %eax", "verr %di", ZF_TO_BIT_63);
PROBE(user_verw, USER, "xor %eax, %eax", "verw %di", ZF_TO_BIT_63);

/*
 * LAR with a 32-bit destination loads the descriptor's second dword ANDed
 * with a mask: 00FxFF00H on Intel, whose bits 19:16 are undefined (SDM Vol.
 * 2A LAR), so they are not compared; 00FFFF00H on AMD, which loads them
 * from the descriptor (APM Vol. 3 LAR).
 */
#define LAR_INTEL_MASK 0x00f0ff00
#define LAR_AMD_MASK 0x00ffff00
#define LAR_INTEL_UNDEFINED ((u64)0x000f0000)

static u64 lar_expected(u64 descriptor)
{
	u32 mask = cpu_vendor() == VENDOR_AMD ? LAR_AMD_MASK : LAR_INTEL_MASK;

	return (descriptor >> 32) & mask;
}

static u64 lar_defined_bits(void)
{
	return cpu_vendor() == VENDOR_AMD ? ~(u64)0 : ~LAR_INTEL_UNDEFINED;
}

/* ZF=0, or the value that was wrong, in the errata list's words ("LAR=0xc0f200"). */
static void observe_result(const char *instruction, u64 value)
{
	char words[32];

	if (value & RESULT_ZF)
		snprintf(words, sizeof(words), "%s=%#lx", instruction, value & ~RESULT_ZF);
	else
		snprintf(words, sizeof(words), "ZF=0");
	report_observed(words);
}

static void check_not_covered(void)
{
	u64 descriptor = global_descriptor_table[USER_DATA_SELECTOR / 8];
	const struct {
		const char *name, *instruction;
		struct probe probe;
		u64 expected;      /* ZF and the value, in the probe's form */
		u64 defined_bits;  /* the bits the manual defines */
	} others[] = {
		/* Access rights: descriptor bits 8-23 of its high dword, as stored. */
		{ .name = "LAR at CPL 3 with UMIP=1 works", .instruction = "LAR",
		  .probe = PROBE_INITIALIZER(user_lar),
		  .expected = RESULT_ZF | lar_expected(descriptor),
		  .defined_bits = lar_defined_bits() },
		/* 4 GiB, G=1: the limit scaled to bytes. */
		{ .name = "LSL at CPL 3 with UMIP=1 works", .instruction = "LSL",
		  .probe = PROBE_INITIALIZER(user_lsl), .expected = RESULT_ZF | 0xffffffff,
		  .defined_bits = ~(u64)0 },
		/* ZF=1: readable, writable; nothing loaded. */
		{ .name = "VERR at CPL 3 with UMIP=1 works", .instruction = "VERR",
		  .probe = PROBE_INITIALIZER(user_verr), .expected = RESULT_ZF,
		  .defined_bits = ~(u64)0 },
		{ .name = "VERW at CPL 3 with UMIP=1 works", .instruction = "VERW",
		  .probe = PROBE_INITIALIZER(user_verw), .expected = RESULT_ZF,
		  .defined_bits = ~(u64)0 },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(others); i++) {
		struct probe_result result =
			run_probe(others[i].probe, 3, USER_DATA_SELECTOR, 0, 0, 0);
		bool pass = outcome_matches(others[i].name, no_exception(), result.outcome);
		u64 value = result.value & others[i].defined_bits;

		if (pass && value != others[i].expected) {
			report_info("%s: ZF=%d, loaded %#lx; expected ZF=1, %#lx%s", others[i].name,
				    !!(value & RESULT_ZF), value & ~RESULT_ZF,
				    others[i].expected & ~RESULT_ZF,
				    others[i].defined_bits == ~(u64)0 ? "" : " (bits 19:16 undefined)");
			observe_result(others[i].instruction, value);
			pass = false;
		}
		report(pass, "%s", others[i].name);
	}
}

int main(int argc, char **argv)
{
	if (!require_cpu_feature(FEATURE_UMIP) && !argv_has(argc, argv, "force"))
		return report_summary();
	check_protections(PROTECTION_UMIP);
	destination_page = (u64)vm_alloc(PAGE_SIZE, VM_USER | VM_WRITE);
	if (!destination_page)
		fatal("cannot allocate the destination page");
	gdt_set_system_descriptor(SPARE_SELECTOR, SYSTEM_DESCRIPTOR_LDT,
				  (u64)local_descriptor_table, sizeof(local_descriptor_table) - 1);
	load_ldtr(SPARE_SELECTOR);

	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++)
		check_prevented(&cases[i]);
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++)
		check_allowed(&cases[i], true);
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++)
		check_allowed(&cases[i], false);
	check_not_covered();

	load_ldtr(0);
	gdt_clear_system_descriptor(SPARE_SELECTOR);
	vm_free((void *)destination_page);
	return report_summary();
}
