/*
 * shadow-cases.c: the sequences that hypervisors shadowing the guest's page
 * tables (kvm_pvm here; KVM without EPT or NPT) get wrong.  The matrix
 * writes every combination fresh and flushes it; these leave a translation
 * cached, or a neighbour prefetched, between steps.  Every step is one
 * access checked against the model, on the entries as the previous step
 * left them (A and D included).
 *
 *  - repeated access: a first access sets A (and D), the second runs
 *    without INVLPG on what the first left (SDM 4.8, 4.10.2);
 *  - tightened: R/W, U/S, XD, P or a reserved bit changed in one entry after
 *    an allowed access, INVLPG, the access again (SDM 4.10.4.1: INVLPG drops
 *    the page's TLB entries and every paging-structure cache entry).  Not
 *    checked without INVLPG: SDM 4.10.4.2 and APM 5.5.3 allow either result;
 *  - loosened without INVLPG: after a fault, P=0 made 1 (SDM 4.10.4.3: no
 *    TLB or paging-structure cache entry is made from an entry with P=0;
 *    APM 5.4.1); on AMD also R/W, U/S or XD loosened (APM 5.5.3, "the
 *    hardware will automatically detect the changes"), which Intel may
 *    answer with a spurious #PF (SDM 4.10.4.3), so not checked there;
 *  - CR0.WP toggled while a read-only translation is cached: MOV to CR0
 *    that keeps CR0.PG invalidates nothing (SDM 4.10.4.1, APM 5.5.3), and
 *    the TLB holds the entries' R/W, not a verdict (SDM 4.10.2.2), so WP
 *    applies at once; then ring 3 and SMEP on the same page;
 *  - a 2 MiB leaf with R/W=0 written at CPL 0 with WP=0: D is set in the
 *    PDE and the byte lands (SDM 4.6.1, 4.8);
 *  - prefetched neighbours: eight adjacent PTEs in states a shadow pager
 *    must not prefetch as valid (P=0, a reserved bit) or must prefetch with
 *    their own rights; after one is touched, each is accessed and its error
 *    code checked (SDM 4.7).
 */
#include "matrix.h"
#include "memory.h"
#include "page-table.h"
#include "printf.h"
#include "processor.h"
#include "report.h"

/* A target's walk between the steps of a sequence, as the CPU left it. */
struct sequence {
	const struct target *target;
	int leaf_level;
	u64 entries[6];
	bool rewrite;    /* memory differs from entries: a read-back or a change */
	struct tally *tally;
};

static void sequence_start(struct sequence *sequence, const struct target *target,
			   const struct walk *walk, struct tally *tally)
{
	*sequence = (struct sequence){ .target = target, .leaf_level = walk->leaf_level,
				       .tally = tally };
	compose_entries(target, walk, sequence->entries);
	write_entries(target, walk->leaf_level, sequence->entries);
	invalidate_page(target_address(target));
}

/*
 * One access on the entries as they stand.  They are written back only if
 * the memory differs (the last read-back put back an upper entry, see
 * fixture.c, or the case changed one): a shadow pager may drop what it
 * cached on any write, and the sequence is about what it cached.  Writing
 * back what the CPU last used needs no invalidation.  INVLPG when asked.
 */
static bool sequence_step(struct sequence *sequence, const struct cell *cell, bool invalidate)
{
	struct combination record;
	bool pass;

	predict_entries(sequence->target, sequence->leaf_level, sequence->entries, cell, &record);
	apply_cell(cell);
	if (sequence->rewrite)
		write_entries(sequence->target, sequence->leaf_level, sequence->entries);
	if (invalidate)
		invalidate_page(target_address(sequence->target));
	record.observed.outcome = access_target(sequence->target, cell, &record.observed.value_ok);
	sequence->rewrite = read_entries(sequence->target, sequence->leaf_level, record.observed.after);
	pass = outcome_agrees(&record.expected, &record.observed, sequence->leaf_level);
	tally_add(sequence->tally, &record, pass);
	memcpy(sequence->entries, record.observed.after, sizeof(sequence->entries));
	return pass;
}

/* ---- repeated access ---------------------------------------------------- */

/*
 * The leaf's A and D before the first access are crossed; the upper entries
 * start with A=1, as the accessed flags a faulting walk leaves have their
 * own block in the matrix.
 */
static void repeated_access(enum paging_access_type first, enum paging_access_type second)
{
	struct tally tally;
	struct sequence sequence;
	char name[64];

	tally_reset(&tally);
	for (int leaf = 1; leaf <= 3; leaf++)
		for (unsigned bits = 0; targets[leaf] && bits < 32; bits++)
			for (int cpl = 0; cpl <= 3; cpl += 3)
				for (int wp = 0; wp <= 1; wp++) {
					struct walk walk = plain_walk(leaf, ENTRY_ACCESSED);
					struct cell cell = default_cell(first, cpl);

					/* R/W, U/S, XD from bits 0-2, A from bit 3, D from bit 4 */
					walk.flags[leaf] = leaf_flags(bits & 7) |
							   (bits & 8 ? ENTRY_ACCESSED : 0) |
							   (bits & 16 ? ENTRY_DIRTY : 0);
					cell.write_protect = wp;
					sequence_start(&sequence, targets[leaf], &walk, &tally);
					sequence_step(&sequence, &cell, false);
					cell.type = second;
					sequence_step(&sequence, &cell, false);
				}
	restore_controls();
	snprintf(name, sizeof(name), "%s, then %s without INVLPG", access_names[first], access_names[second]);
	tally_report(&tally, name);
}

/* ---- tightened and loosened --------------------------------------------- */

static const struct change {
	const char *name;
	u64 clear, set; /* to tighten; undone to loosen */
} tightenings[] = {
	{ .name = "P=0", .clear = PAGE_PRESENT },
	{ .name = "R/W=0", .clear = PAGE_WRITABLE },
	{ .name = "U/S=0", .clear = PAGE_USER },
	{ .name = "XD=1", .set = PAGE_NO_EXECUTE },
	{ .name = "a reserved bit", .set = 0 /* BIT(MAXPHYADDR), filled in below */ },
};

/* The change at level of every leaf size, around one access of each cell. */
static void change_at_every_level(const struct change *change, bool tighten)
{
	struct tally tally;
	struct sequence sequence;
	char name[80];

	tally_reset(&tally);
	for (int leaf = 1; leaf <= 3; leaf++)
		for (int level = leaf; targets[leaf] && level <= top_level(); level++)
			for (int type = PAGING_READ; type <= PAGING_FETCH; type++)
				for (int cpl = 0; cpl <= 3; cpl += 3) {
					struct walk walk = plain_walk(leaf, ENTRY_ACCESSED);
					struct cell cell = default_cell(type, cpl);
					u64 *changed = &sequence.entries[level];

					if (!tighten)
						walk.flags[level] = (walk.flags[level] & ~change->clear) | change->set;
					sequence_start(&sequence, targets[leaf], &walk, &tally);
					sequence_step(&sequence, &cell, false);
					*changed = tighten ? (*changed & ~change->clear) | change->set :
							     (*changed & ~change->set) | change->clear;
					sequence.rewrite = true;
					sequence_step(&sequence, &cell, tighten);
				}
	restore_controls();
	snprintf(name, sizeof(name), "%s %s", change->name,
		 tighten ? "after an allowed access, INVLPG, again" : "undone after a fault, no INVLPG");
	tally_report(&tally, name);
}

static void tightened_and_loosened(void)
{
	struct change reserved = tightenings[4];

	for (unsigned i = 0; i < ARRAY_SIZE(tightenings) - 1; i++)
		change_at_every_level(&tightenings[i], true);
	if (base_controls.physical_address_bits < 52) {
		reserved.set = BIT(base_controls.physical_address_bits);
		change_at_every_level(&reserved, true);
	}
	change_at_every_level(&tightenings[0], false);
	if (base_controls.vendor != VENDOR_AMD) {
		report_info("R/W, U/S and XD undone without INVLPG: not checked on Intel, "
			    "where SDM 4.10.4.3 allows a spurious #PF");
		return;
	}
	for (unsigned i = 1; i < 4; i++)
		change_at_every_level(&tightenings[i], false);
}

/* ---- CR0.WP toggled, then CPL 3 and SMEP, on one cached translation ----- */

static const struct toggle_step {
	enum paging_access_type type;
	int cpl;
	bool write_protect, smep;
} toggle_steps[] = {
	{ .type = PAGING_WRITE, .cpl = 0, .write_protect = false },
	{ .type = PAGING_WRITE, .cpl = 0, .write_protect = true },
	{ .type = PAGING_WRITE, .cpl = 0, .write_protect = false },
	{ .type = PAGING_READ, .cpl = 3, .write_protect = false },
	{ .type = PAGING_WRITE, .cpl = 3, .write_protect = false },
	{ .type = PAGING_FETCH, .cpl = 0, .write_protect = false, .smep = true },
	{ .type = PAGING_FETCH, .cpl = 3, .write_protect = true },
	{ .type = PAGING_WRITE, .cpl = 0, .write_protect = true },
};

static void write_protect_toggled(void)
{
	struct tally tally;
	struct sequence sequence;

	tally_reset(&tally);
	for (int leaf = 1; leaf <= 3; leaf++)
		for (unsigned variant = 0; targets[leaf] && variant < 4; variant++) {
			struct walk walk = plain_walk(leaf, ENTRY_ACCESSED);

			/* R/W=0; U/S from bit 0, D from bit 1 */
			walk.flags[leaf] = leaf_flags(variant & 1 ? 2 : 0) | ENTRY_ACCESSED |
					   (variant & 2 ? ENTRY_DIRTY : 0);
			sequence_start(&sequence, targets[leaf], &walk, &tally);
			for (unsigned i = 0; i < ARRAY_SIZE(toggle_steps); i++) {
				struct cell cell = default_cell(toggle_steps[i].type, toggle_steps[i].cpl);

				cell.write_protect = toggle_steps[i].write_protect;
				cell.smep = toggle_steps[i].smep && has_smep;
				sequence_step(&sequence, &cell, false);
			}
		}
	restore_controls();
	tally_report(&tally, "CR0.WP toggled under a cached read-only translation, then CPL 3 and SMEP");
}

/* ---- a 2 MiB leaf with R/W=0 written at CPL 0 with CR0.WP=0 ------------- */

static const struct toggle_step large_page_steps[] = {
	{ .type = PAGING_WRITE, .cpl = 0, .write_protect = false },
	{ .type = PAGING_READ, .cpl = 0, .write_protect = true }, /* reads back the byte written */
	{ .type = PAGING_READ, .cpl = 3, .write_protect = true },
	{ .type = PAGING_WRITE, .cpl = 3, .write_protect = false },
	{ .type = PAGING_WRITE, .cpl = 0, .write_protect = true },
};

static void large_page_written_without_write_protect(void)
{
	struct tally tally;
	struct sequence sequence;

	if (!targets[2])
		return;
	tally_reset(&tally);
	for (unsigned variant = 0; variant < 4; variant++) {
		struct walk walk = plain_walk(2, ENTRY_ACCESSED);

		/* The byte the write must put back is cleared through a writable mapping first. */
		walk.flags[2] = leaf_flags(1) | ENTRY_ACCESSED;
		sequence_start(&sequence, targets[2], &walk, &tally);
		*(volatile u8 *)target_address(targets[2]) = 0;
		/* R/W=0, D=0; U/S from bit 0, A from bit 1 */
		walk.flags[2] = leaf_flags(variant & 1 ? 2 : 0) | (variant & 2 ? ENTRY_ACCESSED : 0);
		sequence_start(&sequence, targets[2], &walk, &tally);
		for (unsigned i = 0; i < ARRAY_SIZE(large_page_steps); i++) {
			struct cell cell = default_cell(large_page_steps[i].type, large_page_steps[i].cpl);

			cell.write_protect = large_page_steps[i].write_protect;
			sequence_step(&sequence, &cell, false);
		}
	}
	restore_controls();
	tally_report(&tally, "2 MiB leaf with R/W=0 written at CPL 0 with WP=0, then read back");
}

/* ---- prefetched neighbours ---------------------------------------------- */

static u64 neighbour_flags(unsigned index)
{
	static const u64 states[8] = {
		PAGE_PRESENT | PAGE_WRITABLE | PAGE_USER | ENTRY_ACCESSED,
		PAGE_WRITABLE | PAGE_USER | ENTRY_ACCESSED,              /* P=0 */
		0,                                                       /* a reserved bit */
		PAGE_PRESENT | PAGE_USER | ENTRY_ACCESSED,               /* R/W=0 */
		PAGE_PRESENT | PAGE_WRITABLE | ENTRY_ACCESSED,           /* U/S=0 */
		PAGE_PRESENT | PAGE_WRITABLE | PAGE_USER | PAGE_NO_EXECUTE | ENTRY_ACCESSED,
		PAGE_PRESENT | PAGE_WRITABLE | PAGE_USER,                /* A=0, D=0 */
		PAGE_PRESENT | PAGE_NO_EXECUTE,                          /* R/W=0 U/S=0 XD=1, A=0 */
	};

	if (index == 2)
		return states[0] | (base_controls.physical_address_bits < 52 ?
				    BIT(base_controls.physical_address_bits) : PAGE_NO_EXECUTE);
	return states[index];
}

static const struct toggle_step neighbour_probes[] = {
	{ .type = PAGING_READ, .cpl = 3 }, { .type = PAGING_WRITE, .cpl = 3 },
	{ .type = PAGING_FETCH, .cpl = 3 }, { .type = PAGING_WRITE, .cpl = 0, .write_protect = true },
	{ .type = PAGING_FETCH, .cpl = 0 },
};

/* Neighbour 0 touched first, by first; then every probe on each other one. */
static void prefetched_neighbours_after(const struct toggle_step *first)
{
	struct sequence sequences[ARRAY_SIZE(neighbours)];
	struct tally tally;
	struct cell cell = default_cell(first->type, first->cpl);
	char name[96];

	tally_reset(&tally);
	for (unsigned k = 0; k < ARRAY_SIZE(neighbours); k++) {
		struct walk walk = plain_walk(1, ENTRY_ACCESSED);

		walk.flags[1] = neighbour_flags(k);
		sequence_start(&sequences[k], neighbours[k], &walk, &tally);
	}
	sequence_step(&sequences[0], &cell, false);
	for (unsigned p = 0; p < ARRAY_SIZE(neighbour_probes); p++)
		for (unsigned k = 1; k < ARRAY_SIZE(neighbours); k++) {
			cell = default_cell(neighbour_probes[p].type, neighbour_probes[p].cpl);
			sequence_step(&sequences[k], &cell, false);
		}
	restore_controls();
	snprintf(name, sizeof(name), "eight neighbouring PTEs, the first touched by a %s at CPL %d",
		 access_names[first->type], first->cpl);
	tally_report(&tally, name);
}

static void prefetched_neighbours(void)
{
	static const struct toggle_step first_touches[] = {
		{ .type = PAGING_READ, .cpl = 3 }, { .type = PAGING_WRITE, .cpl = 3 },
		{ .type = PAGING_READ, .cpl = 0 },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(first_touches); i++)
		prefetched_neighbours_after(&first_touches[i]);
}

void run_shadow_cases(void)
{
	report_prefix_push("shadow paging");
	for (int first = PAGING_READ; first <= PAGING_FETCH; first++)
		for (int second = PAGING_READ; second <= PAGING_FETCH; second++)
			repeated_access(first, second);
	tightened_and_loosened();
	write_protect_toggled();
	large_page_written_without_write_protect();
	prefetched_neighbours();
	report_prefix_pop();
}
