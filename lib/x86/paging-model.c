/*
 * paging-model.c: the reference model of paging-model.h.  Each rule cites
 * the section it follows; the walk, the access rights, the protection keys,
 * the error code and the accessed and dirty flags are one function each.
 */
#include "paging-model.h"
#include "page-table.h"

#define ENTRY_ACCESSED_BIT 5
#define ENTRY_DIRTY_BIT 6
#define LARGE_PAGE_RESERVED_LOW 13 /* bits 20:13 (2 MiB) or 29:13 (1 GiB), SDM 4.5 */
#define PROTECTION_KEY_MASK 0xf

static u64 bit_range(int high, int low)
{
	return high < low ? 0 : ((~0ULL >> (63 - high)) & ~((1ULL << low) - 1));
}

/* Does entry map a page at level (PS=1 in a PDPTE or PDE, or a PTE)? */
static bool paging_entry_is_leaf(int level, u64 entry)
{
	return level == 1 || ((level == 2 || level == 3) && (entry & PAGE_LARGE));
}

/*
 * SDM 4.5, tables 4-14 to 4-20; APM 5.3.3 to 5.3.5 and 5.4.1.
 *  - Every entry: bits 51:MAXPHYADDR, and bit 63 (XD) while IA32_EFER.NXE=0.
 *  - PML5E and PML4E: bit 7 (PS) is reserved; AMD also reserves their bit
 *    8 (bits 8:7 are "MBZ", APM figures 5-20, 5-21), which Intel ignores.
 *  - PDPTE with PS=1: bits 29:13, or bit 7 itself where 1-GByte pages are
 *    not supported; PDE with PS=1: bits 20:13.
 */
static u64 paging_reserved_bits(const struct paging_controls *controls, int level, u64 entry)
{
	u64 reserved = bit_range(51, controls->physical_address_bits);

	if (!controls->no_execute)
		reserved |= PAGE_NO_EXECUTE;
	if (level >= 4)
		reserved |= PAGE_LARGE;
	if (level >= 4 && controls->vendor == VENDOR_AMD)
		reserved |= BIT(8);
	if (level == 3 && (entry & PAGE_LARGE))
		reserved |= controls->huge_pages ? bit_range(29, LARGE_PAGE_RESERVED_LOW) : PAGE_LARGE;
	if (level == 2 && (entry & PAGE_LARGE))
		reserved |= bit_range(20, LARGE_PAGE_RESERVED_LOW);
	return reserved;
}

/* What the walk found: where it stopped and the rights it collected. */
struct walk_result {
	int stop_level, leaf_level;
	bool not_present, reserved;
	bool user, writable, execute_disable; /* ANDed, ANDed and ORed over the levels used */
};

/*
 * SDM 4.5: the walk reads one entry per level from the top; it ends at an
 * entry with P=0 (no translation, 4.7: P=0 in the error code), at one that
 * sets a reserved bit (no translation, RSVD=1), or at the leaf.  SDM 4.6:
 * the access rights are those of every entry used: U/S and R/W must be 1
 * in all of them, XD (with NXE=1) 0 in all of them.
 */
static struct walk_result walk(const struct paging_controls *controls, const u64 entries[6])
{
	struct walk_result result = { .user = true, .writable = true };

	for (int level = controls->levels; level >= 1; level--) {
		u64 entry = entries[level];

		result.stop_level = level;
		if (!(entry & PAGE_PRESENT)) {
			result.not_present = true;
			return result;
		}
		if (entry & paging_reserved_bits(controls, level, entry)) {
			result.reserved = true;
			return result;
		}
		result.user &= !!(entry & PAGE_USER);
		result.writable &= !!(entry & PAGE_WRITABLE);
		if (controls->no_execute)
			result.execute_disable |= !!(entry & PAGE_NO_EXECUTE);
		if (paging_entry_is_leaf(level, entry)) {
			result.leaf_level = level;
			return result;
		}
	}
	return result; /* not reached: the PTE is always a leaf */
}

/*
 * SDM 4.6.1 ("Determination of Access Rights"); APM 5.6.  A user-mode
 * address has U/S=1 in every entry; every other address is supervisor-mode.
 * Returns the rule that forbids the access, or NULL.
 */
static const char *access_rights_violation(const struct paging_controls *controls,
					   const struct walk_result *walk,
					   const struct paging_request *request)
{
	bool supervisor = request->cpl < 3;
	bool smap_blocks = supervisor && walk->user && controls->smap && !controls->alignment_check;

	switch (request->type) {
	case PAGING_READ:
		if (!supervisor && !walk->user)
			return "user-mode read of a supervisor-mode address";
		if (smap_blocks)
			return "SMAP: supervisor read of a user-mode address with EFLAGS.AC=0";
		return NULL;
	case PAGING_WRITE:
		if (!supervisor && !walk->user)
			return "user-mode write to a supervisor-mode address";
		if (!supervisor && !walk->writable)
			return "user-mode write with R/W=0 in some entry";
		if (smap_blocks)
			return "SMAP: supervisor write to a user-mode address with EFLAGS.AC=0";
		if (supervisor && !walk->writable && controls->write_protect)
			return "CR0.WP=1: supervisor write with R/W=0 in some entry";
		return NULL;
	case PAGING_FETCH:
		if (!supervisor && !walk->user)
			return "user-mode fetch from a supervisor-mode address";
		if (walk->execute_disable)
			return "fetch with XD=1 in some entry (EFER.NXE=1)";
		if (supervisor && walk->user && controls->smep)
			return "SMEP: supervisor fetch from a user-mode address";
		return NULL;
	}
	return NULL;
}

/*
 * SDM 4.6.2 and 4.6.1: with CR4.PKE=1, every data access to a user-mode
 * address (at any CPL) is checked against PKRU for the leaf's key (bits
 * 62:59); with CR4.PKS=1, a supervisor-mode data access to a
 * supervisor-mode address is checked against IA32_PKRS (a user-mode access
 * to such an address is refused anyway).  AD=1 forbids the access; WD=1
 * forbids user-mode writes, and supervisor-mode writes when CR0.WP=1.
 * Fetches are never checked.  SDM 4.7: the PK flag is set whenever these
 * conditions hold, whatever else the access broke.
 */
static bool protection_key_violation(const struct paging_controls *controls, u64 leaf,
				     const struct walk_result *walk,
				     const struct paging_request *request)
{
	unsigned key = (unsigned)(leaf >> PAGE_PROTECTION_KEY_SHIFT) & PROTECTION_KEY_MASK;
	u32 rights;

	if (request->type == PAGING_FETCH)
		return false;
	if (walk->user && controls->pke)
		rights = controls->pkru;
	else if (!walk->user && controls->pks && request->cpl < 3)
		rights = controls->pkrs;
	else
		return false;
	if (rights >> (2 * key) & 1)
		return true; /* access disable */
	return (rights >> (2 * key + 1) & 1) && request->type == PAGING_WRITE &&
	       (request->cpl == 3 || controls->write_protect);
}

/*
 * SDM 4.7: W/R, U/S and I/D describe the access, whatever stopped it.
 * I/D: Intel sets it for a fetch when CR4.SMEP=1 or EFER.NXE=1; AMD
 * defines it only when EFER.NXE=1 (APM 8.4.2), and then it is the fetch.
 */
static void describe_access(const struct paging_controls *controls,
			    const struct paging_request *request, struct paging_outcome *outcome)
{
	bool fetch = request->type == PAGING_FETCH;

	if (request->type == PAGING_WRITE)
		outcome->error_code |= PAGE_FAULT_WRITE;
	if (request->cpl == 3)
		outcome->error_code |= PAGE_FAULT_USER;
	if (controls->vendor == VENDOR_AMD && !controls->no_execute)
		outcome->undefined_bits |= PAGE_FAULT_FETCH;
	else if (fetch && (controls->smep || controls->no_execute))
		outcome->error_code |= PAGE_FAULT_FETCH;
}

static enum flag_expectation flag_before(u64 entry, int bit)
{
	return entry >> bit & 1 ? FLAG_SET : FLAG_CLEAR;
}

/*
 * The accessed flag of an entry the walk used, when the access faults:
 *  - Intel, SDM Vol. 3A 6.15 (interrupt 14, note to the error-code figure):
 *    on a page-level protection violation the accessed flag of the entries
 *    that reference tables is set, and the leaf's is model specific; for a
 *    walk that ends at P=0 or a reserved bit the SDM says nothing.
 *  - AMD, APM Vol. 2 5.4.1: A is set "the first time the table or physical
 *    page is either read from or written to", so it is set in every entry
 *    whose table the walk read; the leaf of a translation that is valid
 *    but forbids the access may still get A from a speculative load (5.4.2,
 *    5.5.3); an entry with a reserved bit is never part of a valid
 *    translation and its table is not read, so its A stays.
 */
static enum flag_expectation accessed_after_fault(const struct paging_controls *controls,
						  const struct walk_result *walk, int level)
{
	bool table_read = level > walk->stop_level;
	bool protection_violation = !walk->not_present && !walk->reserved;

	if (controls->vendor == VENDOR_AMD)
		return table_read ? FLAG_SET : protection_violation ? FLAG_EITHER : FLAG_CLEAR;
	return protection_violation && table_read ? FLAG_SET : FLAG_EITHER;
}

/*
 * SDM 4.8: the processor sets the accessed flag of every entry it uses for
 * a translation, and the dirty flag of the leaf when it writes through it;
 * it never clears either.  Entries below where the walk stopped, and an
 * entry with P=0 (SDM 4.5: its other bits are ignored; APM 5.4.2: never
 * A or D for P=0), are not touched.
 * A fault writes nothing, so no D changes; A as accessed_after_fault().
 * Bit 6 of a non-leaf entry is ignored: it stays too.
 */
static void expect_flags(const struct paging_controls *controls, const u64 entries[6],
			 const struct walk_result *walk, const struct paging_request *request,
			 struct paging_outcome *outcome)
{
	for (int level = 1; level <= controls->levels; level++) {
		enum flag_expectation after;

		outcome->accessed[level] = flag_before(entries[level], ENTRY_ACCESSED_BIT);
		outcome->dirty[level] = flag_before(entries[level], ENTRY_DIRTY_BIT);
		if (level < walk->stop_level || (level == walk->stop_level && walk->not_present))
			continue;
		if (!outcome->fault) {
			outcome->accessed[level] = FLAG_SET;
			if (level == walk->leaf_level && request->type == PAGING_WRITE)
				outcome->dirty[level] = FLAG_SET;
			continue;
		}
		after = accessed_after_fault(controls, walk, level);
		if (outcome->accessed[level] == FLAG_CLEAR)
			outcome->accessed[level] = after;
	}
}

void paging_model(const struct paging_controls *controls, const u64 entries[6],
		  const struct paging_request *request, struct paging_outcome *outcome)
{
	struct walk_result result = walk(controls, entries);

	*outcome = (struct paging_outcome){ .cr2 = request->address,
					    .stop_level = result.stop_level };
	describe_access(controls, request, outcome);
	if (result.not_present) {
		outcome->fault = true;
		outcome->rule = "P=0 in an entry the walk reads";
	} else if (result.reserved) {
		outcome->fault = true;
		outcome->error_code |= PAGE_FAULT_PRESENT | PAGE_FAULT_RESERVED;
		outcome->rule = "a reserved bit set in an entry the walk reads";
	} else {
		outcome->leaf_level = result.leaf_level;
		outcome->rule = access_rights_violation(controls, &result, request);
		if (protection_key_violation(controls, entries[result.leaf_level], &result, request)) {
			outcome->error_code |= PAGE_FAULT_PROTECTION_KEY;
			if (!outcome->rule)
				outcome->rule = "protection key: AD=1, or WD=1 for this write";
		}
		outcome->fault = outcome->rule != NULL;
		if (outcome->fault)
			outcome->error_code |= PAGE_FAULT_PRESENT;
	}
	if (!outcome->fault) {
		outcome->error_code = outcome->undefined_bits = 0;
		outcome->cr2 = 0;
		outcome->rule = "allowed";
	}
	expect_flags(controls, entries, &result, request, outcome);
}
