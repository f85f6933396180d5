/*
 * matrix.h: what the parts of x86/paging-permissions share.
 *
 *   fixture.c       the targets (one per leaf size, plus neighbours) under a
 *                   top-level entry of the test's own; the accesses at CPL 0
 *                   and 3; one combination written, run and read back
 *   blocks.c        the blocks of the matrix: which walks each one crosses
 *   tally.c         per-cell counts, the first failure in full, and the
 *                   dimensions every failure of a cell shares
 *   model-checks.c  hand-worked combinations asserted against the model
 *   shadow-cases.c  the sequences a shadow-paging hypervisor gets wrong
 */
#ifndef PAGING_PERMISSIONS_MATRIX_H
#define PAGING_PERMISSIONS_MATRIX_H

#include "types.h"
#include "exceptions.h"
#include "paging-model.h"

#define ENTRY_ACCESSED (1ULL << 5)
#define ENTRY_DIRTY (1ULL << 6)
#define ENTRY_KEY(key) ((u64)(key) << 59)
#define ENTRY_KEY_MASK ENTRY_KEY(0xf)

/*
 * One way through the paging structures to a target: the flags of each
 * entry from the top level down to the leaf (P, R/W, U/S, A, D, XD, a
 * reserved bit, the key).  The fixture adds each entry's address, and PS
 * for a 2 MiB or 1 GiB leaf.
 */
struct walk {
	int leaf_level; /* 1 (4 KiB page), 2 (2 MiB) or 3 (1 GiB) */
	u64 flags[6];   /* indexed by level; levels below leaf_level unused */
};

/* The state of one cell: the access and the controls it runs under. */
struct cell {
	enum paging_access_type type;
	int cpl;
	bool write_protect, smep, smap, alignment_check, pke, pks;
};

/* What the CPU did with one combination. */
struct observation {
	struct exception_info outcome; /* raised, vector, error code, CR2 */
	bool value_ok;                 /* a read or fetch got the target's bytes */
	u64 before[6], after[6];       /* the entries as written, and as left */
};

/* One combination, as the tally keeps its first failure. */
struct combination {
	struct walk walk;
	struct cell cell;
	struct paging_outcome expected;
	struct observation observed;
};

/* ---- fixture.c ---- */
struct target;
extern struct target *targets[4];      /* by leaf level; NULL where there is none */
extern struct target *neighbours[8];   /* PTEs next to the 4 KiB target's */
extern struct paging_controls base_controls;
extern bool has_smep, has_smap, has_pku, has_pks; /* what CPUID has (or "force" says) */

/* Reserve the range, map the targets; a SKIP says which leaf size has none. */
void fixture_set_up(void);
int top_level(void);
u64 target_address(const struct target *target);
/* The entries of walk for target, as written: flags | address | PS. */
void compose_entries(const struct target *target, const struct walk *walk, u64 entries[6]);
void write_entries(const struct target *target, int leaf_level, const u64 entries[6]);
/* Read them back; true when an upper entry had to be put back (see fixture.c). */
bool read_entries(const struct target *target, int leaf_level, u64 entries[6]);
/* P=1 R/W=1 U/S=1 XD=0 plus extra at every level of a walk to leaf_level. */
struct walk plain_walk(int leaf_level, u64 extra);
/* P=1, and R/W, U/S and XD from bits 0, 1 and 2. */
u64 leaf_flags(unsigned bits);
/* WP=1, SMEP and SMAP as CPUID has them (SMEP off for a CPL 0 fetch), AC=1 at CPL 0. */
struct cell default_cell(enum paging_access_type type, int cpl);
/* Switch CR0.WP, CR4.SMEP/SMAP/PKE/PKS as cell says; false if CPUID lacks one. */
bool apply_cell(const struct cell *cell);
void restore_controls(void);
struct paging_controls cell_controls(const struct cell *cell);
/* One access as cell says (AC, CPL, type) to target; no entry is touched. */
struct exception_info access_target(const struct target *target, const struct cell *cell,
				    bool *value_ok);
/* The model's verdict on entries for cell, into record (as a walk, for printing). */
void predict_entries(const struct target *target, int leaf_level, const u64 entries[6],
		     const struct cell *cell, struct combination *record);
/* The entries of walk for target, and the model's verdict for cell, into record. */
void predict_combination(const struct target *target, const struct walk *walk,
			 const struct cell *cell, struct combination *record);
/*
 * Write record's entries, INVLPG, access, read the entries back, and
 * compare with the prediction: true when everything matched.
 */
bool run_combination(const struct target *target, struct combination *record);
/*
 * How an observation differs from the model's outcome, one bit each:
 * bits 0-5 are the error code's own (P to PK), then these.  0: it agrees.
 */
enum mismatch { FAULT_OR_NOT = 6, ADDRESS_OR_RIP, ACCESSED_FLAG, DIRTY_FLAG,
		OTHER_ENTRY_BITS, WRONG_BYTES, OTHER_ERROR_CODE_BITS, MISMATCHES };
u32 outcome_mismatches(const struct paging_outcome *expected, const struct observation *observed,
		       int leaf_level);
static inline bool outcome_agrees(const struct paging_outcome *expected,
				  const struct observation *observed, int leaf_level)
{
	return !outcome_mismatches(expected, observed, leaf_level);
}

/* ---- blocks.c ---- */
/*
 * Which combinations a block keeps, by the model's verdict.  Faults are
 * kept apart by kind, since the SDM says when A is set only for a
 * protection violation (the #PF has P=1), and by whether the walk sets an
 * A flag before it faults: a cell of walks that set none cannot tell an
 * implementation that sets A from one that does not, so those walks form
 * a block of their own, which checks that nothing else changes.
 */
enum outcome_filter {
	EVERY_ACCESS,
	ALLOWED_ACCESSES,
	PROTECTION_FAULTS_SETTING_ACCESSED,
	NOT_PRESENT_FAULTS_SETTING_ACCESSED,
	FAULTS_SETTING_NO_FLAG,
};

struct block {
	const char *name;
	u64 (*count)(void);                       /* indexes, pruned ones included */
	bool (*decode)(u64 index, struct walk *walk); /* false: pruned or not here */
	bool keys;                                /* crosses CR4.PKE and PKS too */
	enum outcome_filter only;
};
extern const struct block blocks[];
extern const unsigned block_count;

/* ---- tally.c ---- */
struct tally {
	u64 combinations, failures;
	u64 shared_set, shared_clear; /* features set, and clear, in every failure */
	u64 always_set, always_clear; /* ... and in every combination of the cell */
	u32 verdicts;                 /* the model's verdicts seen, and in failures */
	u32 failure_verdicts, mismatches_all, mismatches_any;
	int highest_leaf;             /* the walks of all failures reach this level */
	struct combination first;
};
void tally_reset(struct tally *tally);
void tally_add(struct tally *tally, const struct combination *combination, bool pass);
/* "read at CPL 0, WP=1 SMEP=1 SMAP=1 AC=0" */
const char *describe_cell(const struct cell *cell, char *buffer, size_t size);
/* "read", "write", "fetch", by enum paging_access_type. */
extern const char *const access_names[3];
/* PASS or FAIL for the cell; on a failure, the first in full and what all share. */
void tally_report(const struct tally *tally, const char *name);

/* ---- model-checks.c, shadow-cases.c ---- */
void check_model(void);
void run_shadow_cases(void);

#endif
