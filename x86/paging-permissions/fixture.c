/*
 * fixture.c: the targets of x86/paging-permissions, and one combination run
 * on the CPU.
 *
 * vm_reserve() picks a lower-half range as large as one top-level entry
 * maps, so every entry of every target's walk belongs to this test: no code,
 * stack or data of the kernel or of ring 3 is reached through them, and any
 * bit of them may change.  Inside that range, as inside any allocation, the
 * test lays out its own targets: a 4 KiB page, a 2 MiB page and (where
 * CPUID has 1-GByte pages and RAM has an aligned gigabyte) a 1 GiB page,
 * each on its own path below the shared top-level entry, with table indexes
 * that are never 0 so that an implementation using the wrong index shows.
 * Each target's frame is mapped there and nowhere else, and holds
 * "mov $magic, %eax; ret" at the byte the accesses use.
 *
 * The entries are reached through the self-referencing slot, and that path
 * runs through the target's own upper entries: the PTE's address is
 * translated through the PML4E, PDPTE and PDE under test, as if they were
 * entries one level lower (and the walk sets their A and D flags).  So
 * entries are written from the leaf up, while every entry above still holds
 * a usable table pointer, and read from the top down, each upper entry
 * that is not one put back to a plain pointer (P=1 R/W=1 U/S=1, and the
 * next table's self-map address invalidated) once it has been read.
 * Whatever the self map does to an entry (A and D) happens before that
 * entry is written or after it is read.
 */
#include "matrix.h"
#include "cpu-features.h"
#include "layout.h"
#include "memory.h"
#include "page-table.h"
#include "processor.h"
#include "paging-edits.h"
#include "probe.h"
#include "report.h"
#include "vm.h"
#include "alloc/physical.h"

#define PROBE_BYTE 0xb8 /* mov $imm32, %eax: the first byte of each target's code */
/* PKRU and IA32_PKRS: key 1 write-disabled, key 2 access-disabled, key 3 both. */
#define PROTECTION_KEY_RIGHTS 0xd8u

struct target {
	int leaf_level;
	u64 address;             /* the byte accessed; never page-aligned */
	volatile u64 *entry[6];  /* its entries, through the self map */
	u64 next[6];             /* what each entry points at: a table, or the frame */
	u32 magic;               /* what the code at address returns */
};

/*
 * Where each target sits below the reservation's top-level entry: index[L]
 * is its entry's index in its level-L table (index[4] only under 5-level
 * paging, where the PML4 is below the reservation's PML5E; a neighbour's
 * PTE index replaces index[1]), and offset is the accessed byte's offset in
 * its page.
 */
static const struct layout {
	int leaf_level;
	unsigned index[5];
	u64 offset;
} layouts[] = {
	{ .leaf_level = 1, .index = { [1] = 11, [2] = 9, [3] = 7, [4] = 3 }, .offset = 0x7c8 },
	{ .leaf_level = 2, .index = { [2] = 7, [3] = 6, [4] = 3 }, .offset = 0x15a7c8 },
	{ .leaf_level = 3, .index = { [3] = 5, [4] = 3 }, .offset = 0x2b4d67c8 },
};
#define NEIGHBOUR_FIRST_INDEX 16

static struct target target_storage[3], neighbour_storage[8];
struct target *targets[4], *neighbours[8];
struct paging_controls base_controls;
bool has_smep, has_smap, has_pku, has_pks;
static u64 reservation, saved_cr0, saved_cr4;

int top_level(void)
{
	return paging_levels();
}

u64 target_address(const struct target *target)
{
	return target->address;
}

static u64 linear_address(const struct layout *layout, unsigned pte_index)
{
	u64 address = reservation + layout->offset;

	for (int level = 1; level <= 4; level++) {
		unsigned index = level == 1 && layout->leaf_level == 1 ? pte_index : layout->index[level];

		if (level < top_level())
			address += (u64)index << (12 + 9 * (level - 1));
	}
	return address;
}

/* Map one frame run at the target, and record its walk; false if no frame. */
static bool build_target(struct target *target, const struct layout *layout, unsigned pte_index)
{
	u64 size = page_size_at_level(layout->leaf_level);
	u64 frame = physical_alloc(size / PAGE_SIZE, size, 0);
	u8 code[6] = { PROBE_BYTE };

	if (frame == PHYSICAL_ALLOCATION_FAILED)
		return false;
	target->leaf_level = layout->leaf_level;
	target->address = linear_address(layout, pte_index);
	target->magic = 0x5eed0000u | (u32)(pte_index << 4) | (u32)layout->leaf_level;
	if (!page_table_map(ALIGN_DOWN(target->address, size), frame, size, PAGE_WRITABLE))
		fatal("cannot map a target at %#lx", target->address);
	for (int level = top_level(); level >= target->leaf_level; level--) {
		target->entry[level] = page_table_entry_pointer(level, target->address);
		target->next[level] = *target->entry[level] & PAGE_ADDRESS_MASK;
	}
	memcpy(code + 1, &target->magic, 4);
	code[5] = 0xc3; /* ret */
	memcpy((void *)target->address, code, sizeof(code)); /* a supervisor page for now */
	invalidate_page(target->address);
	return true;
}

void fixture_set_up(void)
{
	u64 top = page_size_at_level(top_level());

	reservation = (u64)vm_reserve(top, top, VM_USER, "paging-permissions: a top-level entry");
	if (!reservation)
		fatal("cannot reserve a top-level entry's range");
	for (unsigned i = 0; i < ARRAY_SIZE(layouts); i++) {
		static const char *const sizes[] = { [1] = "4 KiB", [2] = "2 MiB", [3] = "1 GiB" };
		const char *size = sizes[layouts[i].leaf_level];

		if (layouts[i].leaf_level == 3 && !base_controls.huge_pages) {
			report_skip("1 GiB leaves: Page1GB not in CPUID.80000001H:EDX[26]");
			continue;
		}
		if (!build_target(&target_storage[i], &layouts[i], layouts[i].index[1]))
			report_skip("%s leaves: no free %s-aligned %s of RAM (boot with more memory: -m 3G)",
				    size, size, size);
		else
			targets[layouts[i].leaf_level] = &target_storage[i];
	}
	for (unsigned i = 0; i < ARRAY_SIZE(neighbours); i++) {
		if (!build_target(&neighbour_storage[i], &layouts[0], NEIGHBOUR_FIRST_INDEX + i))
			fatal("cannot map the neighbour pages");
		neighbours[i] = &neighbour_storage[i];
	}
	saved_cr0 = read_cr0();
	saved_cr4 = read_cr4();
}

void compose_entries(const struct target *target, const struct walk *walk, u64 entries[6])
{
	memset(entries, 0, 6 * sizeof(u64));
	for (int level = top_level(); level >= walk->leaf_level; level--)
		entries[level] = target->next[level] | walk->flags[level] |
				 (level == walk->leaf_level && level > 1 ? PAGE_LARGE : 0);
}

static u64 table_pointer(const struct target *target, int level)
{
	return target->next[level] | PAGE_PRESENT | PAGE_WRITABLE | PAGE_USER;
}

/* Leaf first: each write's self-map path is still plain table pointers. */
void write_entries(const struct target *target, int leaf_level, const u64 entries[6])
{
	for (int level = leaf_level; level <= top_level(); level++)
		*target->entry[level] = entries[level];
}

/*
 * An upper entry the self map can walk through to reach the next table
 * for a write: present, writable, pointing at it, and nothing that the
 * entry would mean one level lower (PS, G, a protection key for CR4.PKS)
 * or that is reserved there.
 */
static bool usable_as_table_pointer(const struct target *target, int level, u64 entry)
{
	u64 needed = PAGE_PRESENT | PAGE_WRITABLE;

	return (entry & (needed | PAGE_LARGE | PAGE_GLOBAL)) == needed &&
	       (entry & PAGE_ADDRESS_MASK) == target->next[level] && !(entry & ENTRY_KEY_MASK) &&
	       (base_controls.no_execute || !(entry & PAGE_NO_EXECUTE));
}

/* Top first, each upper entry made a usable table pointer once read. */
bool read_entries(const struct target *target, int leaf_level, u64 entries[6])
{
	bool changed = false;

	memset(entries, 0, 6 * sizeof(u64));
	for (int level = top_level(); level >= leaf_level; level--) {
		entries[level] = *target->entry[level];
		if (level > leaf_level && !usable_as_table_pointer(target, level, entries[level])) {
			*target->entry[level] = table_pointer(target, level);
			invalidate_page((u64)target->entry[level - 1]);
			changed = true;
		}
	}
	return changed;
}

struct walk plain_walk(int leaf_level, u64 extra)
{
	struct walk walk = { .leaf_level = leaf_level };

	for (int level = top_level(); level >= leaf_level; level--)
		walk.flags[level] = PAGE_PRESENT | PAGE_WRITABLE | PAGE_USER | extra;
	return walk;
}

u64 leaf_flags(unsigned bits)
{
	return PAGE_PRESENT | (bits & 1 ? PAGE_WRITABLE : 0) | (bits & 2 ? PAGE_USER : 0) |
	       (bits & 4 ? PAGE_NO_EXECUTE : 0);
}

struct cell default_cell(enum paging_access_type type, int cpl)
{
	return (struct cell){ .type = type, .cpl = cpl, .write_protect = true,
			      .smep = has_smep && !(cpl == 0 && type == PAGING_FETCH),
			      .smap = has_smap, .alignment_check = cpl == 0 && has_smap };
}

/*
 * The CR4 bits a cell asks for that CPUID has.  A bit it lacks is never
 * written ("force" cells then run without it, and must fail): MOV to CR4
 * should raise #GP(0), but QEMU 7.2 TCG re-executes that MOV forever.
 */
static u64 settable_cr4_bits(const struct cell *cell)
{
	static const struct { enum cpu_feature feature; u64 bit; } controls[] = {
		{ FEATURE_SMEP, CR4_SMEP }, { FEATURE_SMAP, CR4_SMAP },
		{ FEATURE_PKU, CR4_PKE }, { FEATURE_PKS, CR4_PKS },
	};
	bool wanted[] = { cell->smep, cell->smap, cell->pke, cell->pks };
	u64 bits = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(controls); i++)
		if (wanted[i] && cpu_has(controls[i].feature))
			bits |= controls[i].bit;
	return bits;
}

bool apply_cell(const struct cell *cell)
{
	static u64 settable_cache[2][2][2][2];
	u64 *settable = &settable_cache[cell->smep][cell->smap][cell->pke][cell->pks];
	u64 cr4;

	if (!*settable)
		*settable = settable_cr4_bits(cell) | BIT(63); /* bit 63: cached */
	cr4 = (saved_cr4 & ~(u64)(CR4_SMEP | CR4_SMAP | CR4_PKE | CR4_PKS)) | (*settable & ~BIT(63));
	write_cr0(cell->write_protect ? saved_cr0 | CR0_WRITE_PROTECT :
					saved_cr0 & ~(u64)CR0_WRITE_PROTECT);
	/* An unchanged CR4 is not written: some of its changes flush the TLB. */
	if (cr4 != read_cr4())
		write_cr4(cr4);
	if (cr4 & CR4_PKE)
		write_pkru(PROTECTION_KEY_RIGHTS);
	if (cr4 & CR4_PKS)
		write_msr(MSR_PKRS, PROTECTION_KEY_RIGHTS);
	return (cr4 & (CR4_SMEP | CR4_SMAP | CR4_PKE | CR4_PKS)) ==
	       ((cell->smep ? CR4_SMEP : 0) | (cell->smap ? CR4_SMAP : 0) |
		(cell->pke ? CR4_PKE : 0) | (cell->pks ? CR4_PKS : 0));
}

void restore_controls(void)
{
	write_cr0(saved_cr0);
	write_cr4(saved_cr4);
}

struct paging_controls cell_controls(const struct cell *cell)
{
	struct paging_controls controls = base_controls;

	controls.write_protect = cell->write_protect;
	controls.smep = cell->smep;
	controls.smap = cell->smap;
	controls.alignment_check = cell->alignment_check && cell->cpl < 3;
	controls.pke = cell->pke;
	controls.pks = cell->pks;
	controls.pkru = controls.pkrs = PROTECTION_KEY_RIGHTS;
	return controls;
}

/* The accesses (CALL: call_target, probe.h), RDI the address; a read returns its byte. */
PROBE(byte_read, BOTH, "xor %eax, %eax", "movb (%rdi), %al", "");
PROBE(byte_write, BOTH, "", "movb $" PROBE_NUMBER(PROBE_BYTE) ", (%rdi)", "");

/*
 * The access the cell asks for, at its CPL and with its EFLAGS.AC; a fetch
 * calls a RET (or the target's own magic value) and faults at the target.
 */
static struct exception_info access_once(const struct target *target, const struct cell *cell,
					 bool *value_ok)
{
	static const struct probe kernel[] = {
		[PAGING_READ] = PROBE_INITIALIZER(byte_read),
		[PAGING_WRITE] = PROBE_INITIALIZER(byte_write),
		[PAGING_FETCH] = PROBE_INITIALIZER(call_target),
	};
	static const struct probe user[] = {
		[PAGING_READ] = PROBE_INITIALIZER(user_byte_read),
		[PAGING_WRITE] = PROBE_INITIALIZER(user_byte_write),
		[PAGING_FETCH] = PROBE_INITIALIZER(user_call_target),
	};
	struct probe_options options = { .cpl = cell->cpl,
					 .alignment_check = cell->alignment_check && cell->cpl < 3 };
	struct probe_result result = run_probe_with(&options, cell->cpl ? user[cell->type] :
									   kernel[cell->type],
						    target->address, 0, 0, 0);

	if (cell->type == PAGING_FETCH)
		result.outcome.instruction = target->address;
	if (!result.outcome.raised && cell->type == PAGING_READ)
		*value_ok = (u8)result.value == PROBE_BYTE;
	if (!result.outcome.raised && cell->type == PAGING_FETCH && cell->cpl == 0)
		*value_ok = (u32)result.value == target->magic;
	return result.outcome;
}

struct exception_info access_target(const struct target *target, const struct cell *cell,
				    bool *value_ok)
{
	*value_ok = true;
	return access_once(target, cell, value_ok);
}

static bool flag_wrong(enum flag_expectation expected, u64 entry, u64 flag)
{
	return expected != FLAG_EITHER && (expected == FLAG_SET) != !!(entry & flag);
}

u32 outcome_mismatches(const struct paging_outcome *expected, const struct observation *observed,
		       int leaf_level)
{
	const struct exception_info *outcome = &observed->outcome;
	u32 found = 0, error_bits;

	if (expected->fault != outcome->raised || (outcome->raised && outcome->vector != PF_VECTOR)) {
		found |= BIT(FAULT_OR_NOT);
	} else if (expected->fault) {
		error_bits = (outcome->error_code ^ expected->error_code) & ~expected->undefined_bits;
		found |= (error_bits & 0x3f) | (error_bits & ~0x3fu ? BIT(OTHER_ERROR_CODE_BITS) : 0);
		if (outcome->address != expected->cr2 || outcome->rip != outcome->instruction)
			found |= BIT(ADDRESS_OR_RIP);
	}
	if (!observed->value_ok)
		found |= BIT(WRONG_BYTES);
	for (int level = top_level(); level >= leaf_level; level--) {
		u64 after = observed->after[level];

		if ((observed->before[level] ^ after) & ~(ENTRY_ACCESSED | ENTRY_DIRTY))
			found |= BIT(OTHER_ENTRY_BITS);
		if (flag_wrong(expected->accessed[level], after, ENTRY_ACCESSED))
			found |= BIT(ACCESSED_FLAG);
		if (flag_wrong(expected->dirty[level], after, ENTRY_DIRTY))
			found |= BIT(DIRTY_FLAG);
	}
	return found;
}

void predict_entries(const struct target *target, int leaf_level, const u64 entries[6],
		     const struct cell *cell, struct combination *record)
{
	struct paging_controls controls = cell_controls(cell);
	struct paging_request request = { .address = target->address, .type = cell->type,
					  .cpl = cell->cpl };

	record->walk = (struct walk){ .leaf_level = leaf_level };
	for (int level = top_level(); level >= leaf_level; level--)
		record->walk.flags[level] = (entries[level] ^ target->next[level]) &
					    ~(level == leaf_level && level > 1 ? PAGE_LARGE : 0);
	record->cell = *cell;
	memcpy(record->observed.before, entries, sizeof(record->observed.before));
	paging_model(&controls, record->observed.before, &request, &record->expected);
}

void predict_combination(const struct target *target, const struct walk *walk,
			 const struct cell *cell, struct combination *record)
{
	u64 entries[6];

	compose_entries(target, walk, entries);
	predict_entries(target, walk->leaf_level, entries, cell, record);
}

bool run_combination(const struct target *target, struct combination *record)
{
	struct observation *observed = &record->observed;
	int leaf_level = record->walk.leaf_level;

	write_entries(target, leaf_level, observed->before);
	invalidate_page(target->address);
	observed->outcome = access_target(target, &record->cell, &observed->value_ok);
	read_entries(target, leaf_level, observed->after);
	return outcome_agrees(&record->expected, observed, leaf_level);
}
