/*
 * tally.c: one cell's result.  A cell counts its combinations; for its
 * failures it keeps the first in full and the dimensions that every failure
 * shares, which usually names the rule an implementation gets wrong.
 */
#include "matrix.h"
#include "page-table.h"
#include "printf.h"
#include "paging-edits.h"
#include "report.h"

/* Per level (1..5), FEATURES_PER_LEVEL bits; then the leaf level, one-hot. */
enum feature { FEATURE_P, FEATURE_RW, FEATURE_US, FEATURE_XD, FEATURE_A, FEATURE_D,
	       FEATURE_RESERVED, FEATURE_KEY_LOW, FEATURE_KEY_HIGH, FEATURES_PER_LEVEL };
#define LEAF_FEATURE(level) (5 * FEATURES_PER_LEVEL + (level) - 1)

static const char *const feature_names[FEATURES_PER_LEVEL] = {
	[FEATURE_P] = "P", [FEATURE_RW] = "R/W", [FEATURE_US] = "U/S", [FEATURE_XD] = "XD",
	[FEATURE_A] = "A", [FEATURE_D] = "D", [FEATURE_RESERVED] = "a reserved bit",
	[FEATURE_KEY_LOW] = "key bit 0", [FEATURE_KEY_HIGH] = "key bit 1",
};

/* The model's verdict. */
enum verdict { ALLOWED, NOT_PRESENT, RESERVED_BIT, PROTECTION, VERDICTS };
static const char *const verdict_names[VERDICTS] = {
	[ALLOWED] = "allows the access", [NOT_PRESENT] = "expects P=0 to stop the walk",
	[RESERVED_BIT] = "expects a reserved-bit fault", [PROTECTION] = "expects a protection fault",
};
/* How an observation differs, as the words an erratum's outcome names (differs=P+A). */
static const char *const mismatch_names[MISMATCHES] = {
	"P", "W/R", "U/S", "RSVD", "I/D", "PK", [FAULT_OR_NOT] = "fault",
	[ADDRESS_OR_RIP] = "CR2-or-RIP", [ACCESSED_FLAG] = "A", [DIRTY_FLAG] = "D",
	[OTHER_ENTRY_BITS] = "other-bits", [WRONG_BYTES] = "bytes",
	[OTHER_ERROR_CODE_BITS] = "error-code",
};

static enum verdict verdict_of(const struct paging_outcome *expected)
{
	if (!expected->fault)
		return ALLOWED;
	if (!(expected->error_code & PAGE_FAULT_PRESENT))
		return NOT_PRESENT;
	return expected->error_code & PAGE_FAULT_RESERVED ? RESERVED_BIT : PROTECTION;
}

static const u64 ordinary_bits = PAGE_PRESENT | PAGE_WRITABLE | PAGE_USER | ENTRY_ACCESSED |
				 ENTRY_DIRTY | PAGE_NO_EXECUTE | ENTRY_KEY_MASK;

static u64 walk_features(const struct walk *walk)
{
	u64 features = BIT(LEAF_FEATURE(walk->leaf_level));

	for (int level = walk->leaf_level; level <= top_level(); level++) {
		u64 flags = walk->flags[level];
		bool values[FEATURES_PER_LEVEL] = {
			[FEATURE_P] = flags & PAGE_PRESENT, [FEATURE_RW] = flags & PAGE_WRITABLE,
			[FEATURE_US] = flags & PAGE_USER, [FEATURE_XD] = flags & PAGE_NO_EXECUTE,
			[FEATURE_A] = flags & ENTRY_ACCESSED, [FEATURE_D] = flags & ENTRY_DIRTY,
			[FEATURE_RESERVED] = flags & ~ordinary_bits,
			[FEATURE_KEY_LOW] = flags & ENTRY_KEY(1), [FEATURE_KEY_HIGH] = flags & ENTRY_KEY(2),
		};

		for (int i = 0; i < FEATURES_PER_LEVEL; i++)
			if (values[i])
				features |= BIT((level - 1) * FEATURES_PER_LEVEL + i);
	}
	return features;
}

void tally_reset(struct tally *tally)
{
	*tally = (struct tally){ .shared_set = ~0ULL, .shared_clear = ~0ULL,
				 .always_set = ~0ULL, .always_clear = ~0ULL, .mismatches_all = ~0u };
}

void tally_add(struct tally *tally, const struct combination *combination, bool pass)
{
	u64 features = walk_features(&combination->walk);

	u32 mismatches;

	tally->combinations++;
	tally->always_set &= features;
	tally->always_clear &= ~features;
	tally->verdicts |= BIT(verdict_of(&combination->expected));
	if (pass)
		return;
	if (!tally->failures++)
		tally->first = *combination;
	mismatches = outcome_mismatches(&combination->expected, &combination->observed,
					 combination->walk.leaf_level);
	tally->mismatches_all &= mismatches;
	tally->mismatches_any |= mismatches;
	tally->failure_verdicts |= BIT(verdict_of(&combination->expected));
	tally->shared_set &= features;
	tally->shared_clear &= ~features;
	if (combination->walk.leaf_level > tally->highest_leaf)
		tally->highest_leaf = combination->walk.leaf_level;
}

const char *const access_names[3] = {
	[PAGING_READ] = "read", [PAGING_WRITE] = "write", [PAGING_FETCH] = "fetch",
};

const char *describe_cell(const struct cell *cell, char *buffer, size_t size)
{
	char keys[24] = "";

	if (cell->pke || cell->pks)
		snprintf(keys, sizeof(keys), " PKE=%d PKS=%d", cell->pke, cell->pks);
	if (cell->cpl == 3)
		snprintf(buffer, size, "%s at CPL 3, WP=%d SMEP=%d SMAP=%d%s", access_names[cell->type],
			 cell->write_protect, cell->smep, cell->smap, keys);
	else
		snprintf(buffer, size, "%s at CPL 0, WP=%d SMEP=%d SMAP=%d AC=%d%s",
			 access_names[cell->type], cell->write_protect, cell->smep, cell->smap,
			 cell->alignment_check, keys);
	return buffer;
}

static char flag_letter(enum flag_expectation expectation)
{
	return expectation == FLAG_SET ? '1' : expectation == FLAG_CLEAR ? '0' : '*';
}

static void print_entry(const struct combination *combination, int level)
{
	u64 before = combination->observed.before[level], after = combination->observed.after[level];
	u64 odd = combination->walk.flags[level] & ~ordinary_bits;

	printf("    %-5s %016lx P=%d R/W=%d U/S=%d XD=%d A=%d D=%d key=%lu%s", paging_entry_name(level),
	       before, !!(before & PAGE_PRESENT), !!(before & PAGE_WRITABLE), !!(before & PAGE_USER),
	       !!(before & PAGE_NO_EXECUTE), !!(before & ENTRY_ACCESSED), !!(before & ENTRY_DIRTY),
	       (before >> 59) & 0xf, level == combination->walk.leaf_level && level > 1 ? " PS=1" : "");
	for (int bit = 7; odd && bit < 64; bit++)
		if (odd & BIT(bit))
			printf(" bit %d=1", bit);
	printf("\n          after %016lx A=%d D=%d, expected A=%c D=%c\n", after,
	       !!(after & ENTRY_ACCESSED), !!(after & ENTRY_DIRTY),
	       flag_letter(combination->expected.accessed[level]),
	       flag_letter(combination->expected.dirty[level]));
}

static void print_combination(const struct combination *combination)
{
	const struct paging_outcome *expected = &combination->expected;
	struct exception_info wanted = no_exception(), got = combination->observed.outcome;
	char cell[96], wanted_text[128], got_text[128];

	if (expected->fault) {
		wanted = page_fault_at(expected->error_code, expected->cr2, got.instruction);
		if (expected->undefined_bits)
			printf("    (error-code bits %#x undefined here)\n", expected->undefined_bits);
	}
	printf("    %s, leaf %s\n", describe_cell(&combination->cell, cell, sizeof(cell)),
	       paging_entry_name(combination->walk.leaf_level));
	for (int level = top_level(); level >= combination->walk.leaf_level; level--)
		print_entry(combination, level);
	printf("    expected %s (%s)\n", describe_exception(wanted, wanted_text, sizeof(wanted_text)),
	       expected->rule);
	printf("    observed %s%s, RIP %#lx (probe at %#lx)\n",
	       describe_exception(got, got_text, sizeof(got_text)),
	       combination->observed.value_ok ? "" : ", wrong bytes read or run", got.rip,
	       got.instruction);
}

/* "differs=P+A": every way the cell's failures differ, as an erratum names it. */
static const char *describe_differences(u32 mismatches, char *words, size_t size)
{
	size_t length = snprintf(words, size, "differs=");

	for (int i = 0; i < MISMATCHES && length < size; i++)
		if (mismatches & BIT(i))
			length += snprintf(words + length, size - length, "%s+", mismatch_names[i]);
	words[length - 1] = '\0';
	return words;
}

/* What every failure has, and some passing combination of the cell has not. */
static void print_shared(const struct tally *tally)
{
	u64 set = tally->shared_set & ~tally->always_set;
	u64 clear = tally->shared_clear & ~tally->always_clear;
	char any[96], all[96];

	printf("    shared by all %lu failures, not by the whole cell:", tally->failures);
	if (!(set | clear))
		printf(" nothing");
	for (int leaf = 1; leaf <= 3; leaf++)
		if (set & BIT(LEAF_FEATURE(leaf)))
			printf(" leaf %s;", paging_entry_name(leaf));
	for (int level = top_level(); level >= tally->highest_leaf; level--) {
		for (int i = 0; i < FEATURES_PER_LEVEL; i++) {
			unsigned bit = (level - 1) * FEATURES_PER_LEVEL + i;

			if ((set | clear) & BIT(bit))
				printf(" %s.%s=%d", paging_entry_name(level), feature_names[i],
				       !!(set & BIT(bit)));
		}
	}
	printf("\n");
	for (int i = 0; i < VERDICTS; i++)
		if (tally->failure_verdicts == BIT(i) && tally->verdicts != BIT(i))
			printf("    in all of them the model %s\n", verdict_names[i]);
	/* Error-code bits by name; fault or not; CR2 or RIP; A, D or other bits of an entry; bytes. */
	printf("    how they differ from it: %s", describe_differences(tally->mismatches_any, any,
								   sizeof(any)));
	if (tally->mismatches_all && tally->mismatches_all != tally->mismatches_any)
		printf(" (every one: %s)", describe_differences(tally->mismatches_all, all,
								sizeof(all)) + 8);
	printf("\n");
}

void tally_report(const struct tally *tally, const char *name)
{
	char words[96];

	if (tally->failures) {
		report_info("%s: %lu of %lu combinations disagree with the model; the first:", name,
			    tally->failures, tally->combinations);
		print_combination(&tally->first);
		print_shared(tally);
		/* For the errata list: what the failures have in common with the model's verdict. */
		report_observed(describe_differences(tally->mismatches_any, words, sizeof(words)));
	}
	report(!tally->failures, "%s (%lu combinations)", name, tally->combinations);
}
