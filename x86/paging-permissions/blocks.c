/*
 * blocks.c: the blocks of the matrix.  Each block crosses a set of walk
 * dimensions in full, and the main loop crosses each block with every cell
 * (access type, CPL, CR0.WP, CR4.SMEP, CR4.SMAP with EFLAGS.AC, and for the
 * key block CR4.PKE and CR4.PKS).  A block numbers its walks 0..count-1 as
 * mixed-radix digits, so that a sample can draw any of them directly;
 * decode() turns a number into a walk, or refuses one the architecture
 * makes meaningless (see the story in x86/paging-permissions.c).
 *
 * Digits for one entry's permissions: 0 is P=0 (with R/W, U/S and XD set,
 * which the processor must ignore, SDM 4.5); 1..8 are P=1 with R/W, U/S and
 * XD taken from the bits of digit - 1.
 */
#include "matrix.h"
#include "page-table.h"

#define PERMISSION_DIGITS 9
#define PERMISSIVE_DIGIT 4 /* P=1 R/W=1 U/S=1 XD=0 */
#define RESTRICTIVE_DIGIT 5 /* P=1 R/W=0 U/S=0 XD=1 */

static const u64 not_present_flags = PAGE_WRITABLE | PAGE_USER | PAGE_NO_EXECUTE;

static u64 permission_flags(unsigned digit)
{
	return digit ? leaf_flags(digit - 1) : not_present_flags;
}

/*
 * Outside the accessed-and-dirty blocks every present entry starts with
 * A=1 and D=0, so that what a block checks does not hang on the accessed
 * flags of faulting walks, where implementations differ most (the model's
 * vendor notes); D still has to be set by an allowed write.
 */
static u64 accessed_flags(unsigned digit)
{
	return permission_flags(digit) | (digit ? ENTRY_ACCESSED : 0);
}

static u64 power(u64 base, int exponent)
{
	u64 result = 1;

	while (exponent-- > 0)
		result *= base;
	return result;
}

/* Leaf levels the fixture has a target for, smallest page first. */
static int leaf_level_at(unsigned position)
{
	for (int level = 1; level <= 3; level++)
		if (targets[level] && !position--)
			return level;
	return 0;
}

static int levels_in_walk(int leaf_level)
{
	return top_level() - leaf_level + 1;
}

/*
 * Split index over the leaf levels, walk_count(leaf level) indexes each;
 * returns the leaf level, or 0 past the end.
 */
static int split_by_leaf(u64 *index, u64 (*walk_count)(int leaf_level))
{
	for (unsigned position = 0;; position++) {
		int leaf_level = leaf_level_at(position);

		if (!leaf_level || *index < walk_count(leaf_level))
			return leaf_level;
		*index -= walk_count(leaf_level);
	}
}

static u64 count_over_leaves(u64 (*walk_count)(int leaf_level))
{
	u64 total = 0;

	for (unsigned position = 0; leaf_level_at(position); position++)
		total += walk_count(leaf_level_at(position));
	return total;
}

/*
 * Digits top level first.  Below an entry with P=0 nothing is read, so only
 * one value (digit `filler`) is kept for each lower entry; false otherwise.
 */
static bool fill_permissions(struct walk *walk, u64 digits, unsigned filler)
{
	bool reached = true;

	for (int level = walk->leaf_level; level <= top_level(); level++) {
		unsigned digit = (unsigned)(digits % PERMISSION_DIGITS);

		walk->flags[level] = accessed_flags(digit);
		digits /= PERMISSION_DIGITS;
	}
	for (int level = top_level(); level >= walk->leaf_level; level--) {
		if (!reached && walk->flags[level] != accessed_flags(filler))
			return false;
		reached &= !!(walk->flags[level] & PAGE_PRESENT);
	}
	return true;
}

/* ---- permissions: P, R/W, U/S, XD at every level ---- */

static u64 permission_walks(int leaf_level)
{
	return power(PERMISSION_DIGITS, levels_in_walk(leaf_level));
}

static u64 permissions_count(void)
{
	return count_over_leaves(permission_walks);
}

static bool permissions_decode(u64 index, struct walk *walk)
{
	*walk = (struct walk){ .leaf_level = split_by_leaf(&index, permission_walks) };
	return walk->leaf_level && fill_permissions(walk, index, 0);
}

/*
 * ---- accessed and dirty: A before the access at each level, D before
 * the access at every level (only the leaf's is the dirty flag; the others
 * are ignored and must stay), crossed with the leaf's permissions and three
 * states of its parent (P=0, permissive, R/W=0 U/S=0 XD=1) ----
 */
#define PARENT_STATES 3
static const unsigned parent_digits[PARENT_STATES] = { 0, PERMISSIVE_DIGIT, RESTRICTIVE_DIGIT };

static u64 accessed_dirty_walks(int leaf_level)
{
	return power(2, levels_in_walk(leaf_level)) * 2 * PERMISSION_DIGITS * PARENT_STATES;
}

static u64 accessed_dirty_count(void)
{
	return count_over_leaves(accessed_dirty_walks);
}

static bool accessed_dirty_decode(u64 index, struct walk *walk)
{
	unsigned leaf_digit, parent_digit;
	bool dirty;

	*walk = (struct walk){ .leaf_level = split_by_leaf(&index, accessed_dirty_walks) };
	if (!walk->leaf_level)
		return false;
	leaf_digit = (unsigned)(index % PERMISSION_DIGITS);
	index /= PERMISSION_DIGITS;
	parent_digit = parent_digits[index % PARENT_STATES];
	index /= PARENT_STATES;
	dirty = index & 1;
	index >>= 1;
	if (!parent_digit && leaf_digit != PERMISSIVE_DIGIT)
		return false; /* the leaf is not read */
	for (int level = top_level(); level >= walk->leaf_level; level--) {
		unsigned digit = level == walk->leaf_level ? leaf_digit :
				 level == walk->leaf_level + 1 ? parent_digit : PERMISSIVE_DIGIT;

		walk->flags[level] = permission_flags(digit) | (index >> (level - walk->leaf_level) & 1 ?
								 ENTRY_ACCESSED : 0) |
				     (dirty ? ENTRY_DIRTY : 0);
	}
	return true;
}

/*
 * ---- reserved bits: one reserved bit at one level, the other entries
 * P=0, permissive, or R/W=0 U/S=0 XD=1.  count() lists the positions that
 * decode() then uses, so a block's count() runs before its decode() ----
 */
struct reserved_position {
	int leaf_level, level;
	u64 bit;
};
static struct reserved_position reserved_positions[40];
static unsigned reserved_position_count;

/* Bits that some rule of SDM 4.5 (or APM 5.3.3) reserves at level. */
static unsigned candidate_bits(int level, int leaf_level, u64 bits[4])
{
	unsigned count = 0;

	if (base_controls.physical_address_bits < 52)
		bits[count++] = BIT(base_controls.physical_address_bits); /* above MAXPHYADDR */
	if (level >= 4)
		bits[count++] = PAGE_LARGE; /* PS in a PML5E or PML4E */
	if (level >= 4)
		bits[count++] = BIT(8); /* reserved on AMD, ignored on Intel */
	if (level == leaf_level && level > 1)
		bits[count++] = BIT(13); /* the low end of a large page's reserved bits */
	return count;
}

/* Bit 8 of a PML5E or PML4E has a block of its own: its rule is the vendor's. */
static void list_reserved_positions(bool top_bit_8)
{
	u64 bits[4];

	reserved_position_count = 0;
	for (unsigned position = 0; leaf_level_at(position); position++) {
		int leaf_level = leaf_level_at(position);

		for (int level = top_level(); level >= leaf_level; level--) {
			unsigned count = candidate_bits(level, leaf_level, bits);

			for (unsigned i = 0; i < count; i++)
				if ((bits[i] == BIT(8)) == top_bit_8)
					reserved_positions[reserved_position_count++] =
						(struct reserved_position){ leaf_level, level, bits[i] };
		}
	}
}

static u64 reserved_walks(const struct reserved_position *position)
{
	return power(PARENT_STATES, levels_in_walk(position->leaf_level) - 1);
}

static u64 count_reserved_positions(bool top_bit_8)
{
	u64 total = 0;

	list_reserved_positions(top_bit_8);
	for (unsigned i = 0; i < reserved_position_count; i++)
		total += reserved_walks(&reserved_positions[i]);
	return total;
}

static u64 reserved_count(void)
{
	return count_reserved_positions(false);
}

static u64 top_bit_8_count(void)
{
	return count_reserved_positions(true);
}

static bool reserved_decode(u64 index, struct walk *walk)
{
	const struct reserved_position *position = reserved_positions;
	bool reached = true;

	while (position < reserved_positions + reserved_position_count &&
	       index >= reserved_walks(position))
		index -= reserved_walks(position++);
	if (position == reserved_positions + reserved_position_count)
		return false;
	*walk = (struct walk){ .leaf_level = position->leaf_level };
	for (int level = top_level(); level >= walk->leaf_level; level--) {
		unsigned digit = PERMISSIVE_DIGIT;

		if (level != position->level) {
			digit = parent_digits[index % PARENT_STATES];
			index /= PARENT_STATES;
		}
		if (!reached && digit != PERMISSIVE_DIGIT)
			return false; /* below P=0: not read */
		walk->flags[level] = accessed_flags(digit) |
				     (level == position->level ? position->bit : 0);
		reached &= digit != 0;
	}
	return true;
}

/*
 * ---- protection keys: the leaf's key (0: no restriction, 1: WD, 2: AD,
 * 3: both, in PKRU and IA32_PKRS), crossed with the leaf's permissions and
 * its parent's U/S and R/W.  Bits 62:59 of non-leaf entries are ignored;
 * they hold another key, so that a walk taking the key from there shows ----
 */
#define KEYS 4

static u64 key_walks(int leaf_level)
{
	return KEYS * 8 * 4;
}

static u64 keys_count(void)
{
	return count_over_leaves(key_walks);
}

static bool keys_decode(u64 index, struct walk *walk)
{
	unsigned key, leaf_bits, parent_bits;

	*walk = (struct walk){ .leaf_level = split_by_leaf(&index, key_walks) };
	if (!walk->leaf_level)
		return false;
	key = (unsigned)(index % KEYS);
	leaf_bits = (unsigned)(index / KEYS % 8);
	parent_bits = (unsigned)(index / KEYS / 8);
	for (int level = top_level(); level >= walk->leaf_level; level--)
		walk->flags[level] = accessed_flags(PERMISSIVE_DIGIT) | ENTRY_KEY(KEYS - 1 - key);
	walk->flags[walk->leaf_level] = accessed_flags(leaf_bits + 1) | ENTRY_KEY(key);
	walk->flags[walk->leaf_level + 1] = PAGE_PRESENT | ENTRY_ACCESSED |
					    PAGE_WRITABLE * (parent_bits & 1) |
					    PAGE_USER * (parent_bits >> 1) | ENTRY_KEY(KEYS - 1 - key);
	return true;
}

const struct block blocks[] = {
	{ .name = "permissions", .count = permissions_count, .decode = permissions_decode },
	{ .name = "accessed and dirty", .count = accessed_dirty_count,
	  .decode = accessed_dirty_decode, .only = ALLOWED_ACCESSES },
	{ .name = "accessed set by a protection fault", .count = accessed_dirty_count,
	  .decode = accessed_dirty_decode, .only = PROTECTION_FAULTS_SETTING_ACCESSED },
	{ .name = "accessed set by a not-present fault", .count = accessed_dirty_count,
	  .decode = accessed_dirty_decode, .only = NOT_PRESENT_FAULTS_SETTING_ACCESSED },
	{ .name = "accessed and dirty left alone by a fault", .count = accessed_dirty_count,
	  .decode = accessed_dirty_decode, .only = FAULTS_SETTING_NO_FLAG },
	{ .name = "reserved bits", .count = reserved_count, .decode = reserved_decode },
	{ .name = "bit 8 of a PML5E or PML4E",
	  .count = top_bit_8_count, .decode = reserved_decode },
	{ .name = "protection keys", .count = keys_count, .decode = keys_decode, .keys = true },
};
const unsigned block_count = ARRAY_SIZE(blocks);
