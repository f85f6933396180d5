/*
 * paging-permissions: every combination of paging bits, control bits, CPL
 * and access type, checked against a reference model of the manuals.
 *
 * The protections interact: U/S, R/W and XD at every level, CR0.WP,
 * CR4.SMEP, CR4.SMAP with EFLAGS.AC, protection keys, EFER.NXE, CPL, the
 * access type, the page size, and the accessed and dirty flags that an
 * allowed access must set and a faulting one must not.  Hypervisors that
 * shadow the guest's page tables get combinations wrong that no hand-picked
 * case (smep, smap, wp-nx) reaches.  Each combination is one access whose
 * outcome, error code, CR2 and A/D flags at every level are compared with
 * lib/x86/paging-model.c, which is checked on its own first.
 *
 * Rules: Intel SDM Vol. 3A 4.5 (entry formats, reserved bits), 4.6 and
 * 4.6.1 (access rights), 4.6.2 (protection keys), 4.7 (page-fault error
 * code), 4.8 (accessed and dirty flags), 4.10 (TLBs and paging-structure
 * caches, for the sequences), 6.15 (interrupt 14); AMD APM Vol. 2 5.3 to
 * 5.6 and 8.4.2.  MOV to CR4 setting PKE or PKS without PKU or PKS in CPUID
 * raises #GP(0) (SDM Vol. 3A 2.5, Vol. 2B MOV to control registers).
 *
 * Vendors (CPUID's vendor string picks the model's rules): I/D of a fault
 * while EFER.NXE=0 is undefined on AMD; bit 8 of a PML5E or PML4E is
 * reserved on AMD and ignored on Intel; A in a faulting walk's entries
 * follows SDM 6.15 on Intel and APM 5.4.1 on AMD; undoing R/W, U/S or XD
 * needs no INVLPG on AMD only.  Run both with -cpu max,vendor=GenuineIntel.
 *
 * The matrix.  A boot fixes the paging mode (4 or 5 levels), EFER.NXE (the
 * kernel's own pages are NX, so NXE=0 needs a CPU without NX; then XD is a
 * reserved bit and the same blocks check that) and the vendor.  A cell is
 * the access (read, write, fetch) x CPL 0 or 3 x CR0.WP x CR4.SMEP x, at
 * CPL 0, SMAP=0 / SMAP=1 AC=0 / SMAP=1 AC=1, at CPL 3 SMAP=0/1.  Each block
 * below is crossed in full with every cell (paging-permissions/blocks.c):
 *  - permissions: P, R/W, U/S, XD of every entry from the top level to the
 *    leaf (PTE, 2 MiB PDE, 1 GiB PDPTE), A=1 D=0 before;
 *  - accessed and dirty: A before at each level x D before x the leaf's
 *    P, R/W, U/S, XD x its parent P=0, plain or R/W=0 U/S=0 XD=1; the
 *    allowed accesses, the protection and the not-present faults whose
 *    walk sets an A flag, and the faults that set none are reported apart;
 *  - reserved bits: bit MAXPHYADDR in any entry, PS and bit 8 in a PML5E or
 *    PML4E, bit 13 in a large leaf, each x the other entries P=0, plain or
 *    R/W=0 U/S=0 XD=1;
 *  - protection keys: the leaf's key (none, WD, AD, both) x its R/W, U/S,
 *    XD x its parent's U/S and R/W, with CR4.PKE and CR4.PKS crossed too.
 * Pruned as meaningless, and only these: the entries below one with P=0
 * (never read: they keep one value); EFLAGS.AC with CR4.SMAP=0 or at CPL 3
 * (AC matters to paging only for supervisor accesses under SMAP); PKRU and
 * IA32_PKRS other than one value (keys 1-3 take every AD/WD pair); D in
 * non-leaf entries except in the A/D blocks (ignored there: it must stay).
 * Not crossed with each other, for time: A/D and keys are crossed with the
 * leaf and its parent, not with every level's rights.  Then the sequences
 * of paging-permissions/shadow-cases.c, each step against the model.
 *
 * What kvm-unit-tests' x86/access.c checks that this does not: forced
 * emulation; its bit 36 (here: bit MAXPHYADDR, the lowest reserved address
 * bit); a 2 MiB leaf turned into a table pointer under a cached translation;
 * one page table reached through two entries with different U/S, which maps
 * frames at two addresses, which canon's layout forbids.  PS=1 in a PDPTE
 * without 1-GByte pages, where an implementation that ignored the rule
 * would reach memory the test does not own.
 *
 * Cannot test: implicit supervisor accesses (smap.c has them), CPL 1 and 2,
 * 32-bit and PAE paging, shadow stacks, PCID and global pages; reserved
 * address bits when MAXPHYADDR is 52; a leaf's A on a faulting access,
 * which both manuals leave open.
 *
 * Output: one PASS or FAIL per block and cell with its count, never one
 * line per combination; a failing cell prints its first failure in full
 * and what all its failures share.  Arguments: "sample" runs a seeded
 * sample of each cell ("sample=N" walks, "seed=N" replays; the seed is
 * printed), for hypervisors that emulate every instruction; "force" runs
 * SMEP and SMAP cells that CPUID lacks (they must then fail).
 */
#include "cmdline.h"
#include "cpu-features.h"
#include "exceptions.h"
#include "layout.h"
#include "memory.h"
#include "page-table.h"
#include "printf.h"
#include "probe.h"
#include "processor.h"
#include "report.h"
#include "vm.h"
#include "paging-permissions/matrix.h"

#define DEFAULT_SAMPLES_PER_CELL 48
#define APIC_BASE_MSR 0x1b
#define APIC_SPURIOUS 0x0f0
#define APIC_TIMER_VECTOR_ENTRY 0x320
#define APIC_TIMER_INITIAL_COUNT 0x380
#define APIC_TIMER_CURRENT_COUNT 0x390
#define APIC_TIMER_DIVIDE 0x3e0
#define APIC_TIMER_DIVIDE_BY_128 0xa
#define APIC_LVT_MASKED BIT(16)

/* What the command line asked for. */
static struct {
	bool sample, force;
	u64 seed, samples_per_cell;
} options = { .samples_per_cell = DEFAULT_SAMPLES_PER_CELL };

/* ---- the cells ---------------------------------------------------------- */

/* CR4.SMAP and EFLAGS.AC: AC matters to paging only for supervisor accesses under SMAP. */
static const struct { bool smap, alignment_check; } smap_states[] = {
	{ .smap = true, .alignment_check = false },
	{ .smap = true, .alignment_check = true },
	{ .smap = false, .alignment_check = false },
};
/* CPL x access type x CR0.WP x CR4.SMEP x SMAP states x CR4.PKE x CR4.PKS */
#define CELL_NUMBERS (2 * 3 * 2 * 2 * ARRAY_SIZE(smap_states) * 2 * 2)

/*
 * Cell number as mixed-radix digits, CR4.PKS lowest; false for a cell that
 * is pruned (AC at CPL 3) or needs what the CPU lacks (or, for PKE and PKS,
 * what the block does not cross).
 */
static bool cell_of(const struct block *block, unsigned number, struct cell *cell)
{
	unsigned smap_state;

	*cell = (struct cell){ .pks = number % 2, .pke = number / 2 % 2 };
	number /= 4;
	smap_state = number % ARRAY_SIZE(smap_states);
	number /= ARRAY_SIZE(smap_states);
	cell->smep = !(number % 2);
	cell->write_protect = !(number / 2 % 2);
	cell->type = (enum paging_access_type)(number / 4 % 3);
	cell->cpl = number / 12 ? 3 : 0;
	cell->smap = smap_states[smap_state].smap;
	cell->alignment_check = smap_states[smap_state].alignment_check;
	if (cell->cpl == 3 && cell->alignment_check)
		return false;
	if ((cell->smep && !has_smep) || (cell->smap && !has_smap))
		return false;
	return !(cell->pke && !(block->keys && has_pku)) && !(cell->pks && !(block->keys && has_pks));
}

/* ---- sampling ----------------------------------------------------------- */

static u64 random_state; /* never 0: xorshift would stay there */

/* xorshift64*: the same seed gives the same sample. */
static u64 next_random(void)
{
	random_state |= !random_state;
	random_state ^= random_state >> 12;
	random_state ^= random_state << 25;
	random_state ^= random_state >> 27;
	return random_state * 0x2545f4914f6cdd1dULL;
}

/* The next walk of the cell: in order, or drawn at random; false when done. */
static bool next_walk(const struct block *block, u64 count, u64 *position, struct walk *walk)
{
	if (!options.sample) {
		while (*position < count)
			if (block->decode((*position)++, walk))
				return true;
		return false;
	}
	if (*position >= options.samples_per_cell)
		return false;
	(*position)++;
	while (!block->decode(next_random() % count, walk))
		;
	return true;
}

/* Does the model have the walk set an accessed flag that was clear? */
static bool walk_sets_accessed(const struct combination *combination)
{
	for (int level = 1; level <= 5; level++)
		if (combination->expected.accessed[level] == FLAG_SET &&
		    !(combination->walk.flags[level] & ENTRY_ACCESSED))
			return true;
	return false;
}

/* Does a block keep a combination, by what the model expects of it? */
static bool block_keeps(enum outcome_filter filter, const struct combination *combination)
{
	const struct paging_outcome *expected = &combination->expected;
	bool protection = expected->fault && (expected->error_code & PAGE_FAULT_PRESENT);
	bool sets = walk_sets_accessed(combination);

	switch (filter) {
	case ALLOWED_ACCESSES:
		return !expected->fault;
	case PROTECTION_FAULTS_SETTING_ACCESSED:
		return protection && sets;
	case NOT_PRESENT_FAULTS_SETTING_ACCESSED:
		return expected->fault && !protection && sets;
	case FAULTS_SETTING_NO_FLAG:
		return expected->fault && !sets;
	default:
		return true;
	}
}

static u64 run_cell(const struct block *block, u64 count, const struct cell *cell)
{
	static bool refusal_said;
	struct combination combination;
	struct tally tally;
	struct walk walk;
	char name[96];
	u64 position = 0;

	tally_reset(&tally);
	if (!apply_cell(cell) && !refusal_said) {
		report_info("force: CPUID lacks a control some cells set; the CPU runs them without it");
		refusal_said = true;
	}
	while (next_walk(block, count, &position, &walk)) {
		const struct target *target = targets[walk.leaf_level];

		predict_combination(target, &walk, cell, &combination);
		if (!block_keeps(block->only, &combination))
			continue;
		tally_add(&tally, &combination, run_combination(target, &combination));
	}
	restore_controls();
	/* A cell the block's filter leaves empty checks nothing. */
	if (tally.combinations)
		tally_report(&tally, describe_cell(cell, name, sizeof(name)));
	return tally.combinations;
}

static u64 run_block(const struct block *block)
{
	u64 count = block->count(), combinations = 0;
	struct cell cell;

	report_prefix_push(block->name);
	for (unsigned number = 0; number < CELL_NUMBERS; number++)
		if (cell_of(block, number, &cell))
			combinations += run_cell(block, count, &cell);
	report_prefix_pop();
	return combinations;
}

/* ---- time, from the local APIC timer ------------------------------------ */

static volatile u32 *apic;

static void start_clock(void)
{
	apic = vm_map_physical(read_msr(APIC_BASE_MSR) & PAGE_ADDRESS_MASK, PAGE_SIZE,
			       VM_SUPERVISOR | VM_WRITE);
	if (!apic)
		return;
	apic[APIC_SPURIOUS / 4] = 0x1ff; /* software-enabled; IF stays 0 */
	apic[APIC_TIMER_DIVIDE / 4] = APIC_TIMER_DIVIDE_BY_128;
	apic[APIC_TIMER_VECTOR_ENTRY / 4] = APIC_LVT_MASKED;
	apic[APIC_TIMER_INITIAL_COUNT / 4] = ~0u;
}

/*
 * Milliseconds since start_clock(): QEMU and KVM tick the timer at 1 GHz
 * before the divider (Bochs in its own emulated time), so the one-shot
 * count lasts 2^32 * 128 ns, about 550 s; 0 once it has run out.
 */
static u64 elapsed_milliseconds(void)
{
	u32 left = apic ? apic[APIC_TIMER_CURRENT_COUNT / 4] : 0;

	return left ? (u64)(~0u - left) * 128 / 1000000 : 0;
}

/* ---- main --------------------------------------------------------------- */

static u64 number_argument(int argc, char **argv, const char *name, u64 otherwise)
{
	size_t length = strlen(name);

	for (int i = 1; i < argc; i++) {
		u64 value = 0;

		if (strncmp(argv[i], name, length) || argv[i][length] != '=')
			continue;
		for (const char *digit = argv[i] + length + 1; *digit >= '0' && *digit <= '9'; digit++)
			value = value * 10 + (u64)(*digit - '0');
		return value;
	}
	return otherwise;
}

/*
 * Without PKU or PKS the key block runs with that control off, said once;
 * and MOV to CR4 setting the bit must raise #GP(0) (SDM Vol. 2B MOV).
 */
static void check_absent_key_feature(enum cpu_feature feature, u64 bit, const char *bit_name)
{
	struct exception_info observed;
	char location[48];

	if (cpu_has(feature))
		return;
	cpu_feature_location(feature, location, sizeof(location));
	report_skip("protection keys with CR4.%s=1: %s not in %s", bit_name,
		    cpu_feature_name(feature), location);
	observed = run_probe(PROBE_OF(cr4_write), 0, read_cr4() | bit, 0, 0, 0).outcome;
	if (!observed.raised)
		report_info("CR4 reads %#lx after the MOV", read_cr4());
	restore_controls();
	report(outcome_matches("CR4", fault_at(GP_VECTOR, 0, observed.instruction), observed),
	       "MOV to CR4 setting %s without %s in %s raises #GP(0)", bit_name,
	       cpu_feature_name(feature), location);
}

/* The cells that need a feature CPUID lacks are not run: say which. */
static void skip_cells_without(bool present, enum cpu_feature feature, const char *cells)
{
	char location[48];

	if (present)
		return;
	cpu_feature_location(feature, location, sizeof(location));
	report_skip("%s: %s not in %s", cells, cpu_feature_name(feature), location);
}

static void read_processor(void)
{
	has_smep = cpu_has(FEATURE_SMEP);
	has_smap = cpu_has(FEATURE_SMAP);
	has_pku = cpu_has(FEATURE_PKU);
	has_pks = cpu_has(FEATURE_PKS);
	base_controls = (struct paging_controls){
		.levels = paging_levels(),
		.vendor = cpu_vendor(),
		.physical_address_bits = (int)(cpuid(0x80000008, 0).eax & 0xff),
		.huge_pages = cpu_has(FEATURE_PAGE_1GB),
		.no_execute = read_msr(MSR_EFER) & EFER_NO_EXECUTE_ENABLE,
	};
}

int main(int argc, char **argv)
{
	u64 combinations = 0, milliseconds;

	options.force = argv_has(argc, argv, "force");
	options.samples_per_cell = number_argument(argc, argv, "sample", DEFAULT_SAMPLES_PER_CELL);
	options.seed = number_argument(argc, argv, "seed", 0);
	options.sample = argv_has(argc, argv, "sample") || number_argument(argc, argv, "sample", 0) ||
			 options.seed;
	read_processor();
	if (options.force)
		has_smep = has_smap = true;
	fixture_set_up();
	if (options.sample) {
		if (!options.seed)
			asm volatile("rdtsc; shl $32, %%rdx; or %%rdx, %%rax" : "=a"(options.seed) : : "rdx");
		random_state = options.seed;
		report_info("a sample of %lu walks per cell, seed=%lu (replay it with seed=%lu)",
			    options.samples_per_cell, options.seed, options.seed);
	}
	check_model();
	/* A boot without NX checks other rules under the same names: say so in every name. */
	if (!base_controls.no_execute)
		report_prefix_push("EFER.NXE=0");
	skip_cells_without(has_smep, FEATURE_SMEP, "every cell with CR4.SMEP=1");
	skip_cells_without(has_smap, FEATURE_SMAP, "every cell with CR4.SMAP=1");
	check_absent_key_feature(FEATURE_PKU, CR4_PKE, "PKE");
	check_absent_key_feature(FEATURE_PKS, CR4_PKS, "PKS");
	start_clock();
	for (unsigned i = 0; i < block_count; i++)
		combinations += run_block(&blocks[i]);
	milliseconds = elapsed_milliseconds();
	if (milliseconds)
		report_info("%lu combinations in %lu.%03lu s (%lu a second)", combinations,
			    milliseconds / 1000, milliseconds % 1000, combinations * 1000 / milliseconds);
	else
		report_info("%lu combinations (no time: no APIC timer, or it ran out after 550 s)",
			    combinations);
	run_shadow_cases();
	return report_summary();
}
