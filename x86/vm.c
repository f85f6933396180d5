/*
 * vm: the allocators pick addresses, and the page tables stay consistent.
 *
 * Rules checked:
 *  - canon's layout (lib/x86/layout.h): VM_USER memory lands in the lower
 *    half with U/S=1 at every level, VM_SUPERVISOR memory in the upper half
 *    with U/S=0 (SDM Vol. 3A 4.6.1: a page is user-accessible only if U/S=1
 *    at every level).
 *  - Guard pages and freed memory are not present: accesses raise #PF with
 *    P=0 (SDM Vol. 3A 4.7).
 *  - Changing a present entry needs INVLPG (SDM Vol. 3A 4.10.4.1): after
 *    vm_protect() makes a page writable the write succeeds, and after it
 *    makes a page read-only a write faults, even with the old translation
 *    cached in the TLB.
 *  - 2 MiB and 1 GiB pages (PS=1 in a PDE or PDPTE, SDM Vol. 3A 4.5.4); the
 *    1 GiB case needs CPUID.80000001H:EDX[26] and a 1 GiB-aligned free run.
 *  - The allocators themselves: alignment, guards between neighbours,
 *    reuse and merging of freed ranges, double frees refused, free counts;
 *    vm_reserve() ranges (a whole top-level entry's worth of user addresses,
 *    under 4- and 5-level paging) are aligned, in their half, and unmapped.
 *  - The page-table audit passes after many allocations, and fails when a
 *    kernel page is made user-accessible on purpose.
 * Argument "map" prints the address space; "huge" runs the 1 GiB case, which
 * zeroes 1 GiB (fast under TCG, minutes on hypervisors that emulate the guest).
 */
#include "audit.h"
#include "cmdline.h"
#include "cpu-features.h"
#include "exceptions.h"
#include "image.h"
#include "layout.h"
#include "memory.h"
#include "page-table.h"
#include "printf.h"
#include "probe.h"
#include "processor.h"
#include "report.h"
#include "user-access.h"
#include "vm.h"
#include "alloc/physical.h"
#include "alloc/virtual-range.h"
#include "protections.h"

#define MANY_ALLOCATIONS 48

/* A #PF with error_code at address, raised by the probe's own instruction. */
static bool expect_fault(const char *name, struct exception_info observed, u32 error_code,
			 u64 address)
{
	return check_outcome(name, page_fault_at(error_code, address, observed.instruction),
			     observed);
}

static bool user_at_every_level(u64 address)
{
	struct page_walk walk;

	page_table_walk(address, &walk);
	for (int level = paging_levels(); level >= walk.leaf_level; level--)
		if (!(walk.entries[level] & PAGE_USER))
			return false;
	return walk.present;
}

static void check_halves(void)
{
	u64 supervisor = (u64)vm_alloc(PAGE_SIZE, VM_SUPERVISOR | VM_WRITE);
	u64 user = (u64)vm_alloc(PAGE_SIZE, VM_USER | VM_WRITE);
	u64 words[2] = { 1, 1 };
	struct page_walk walk;

	page_table_walk(supervisor, &walk);
	report(supervisor && !is_lower_half(supervisor) && walk.present &&
	       !(walk.effective_flags & PAGE_USER), "supervisor memory is supervisor, upper half");
	report(user && is_lower_half(user) && user_at_every_level(user),
	       "user memory is user at every level, lower half");
	report(copy_from_user(words, user, sizeof(words)) && !words[0] && !words[1] &&
	       !*(u64 *)supervisor, "fresh memory is zeroed");
	report(!vm_alloc(PAGE_SIZE, VM_USER | VM_SUPERVISOR) && !vm_alloc(PAGE_SIZE, VM_WRITE),
	       "an allocation must say user or supervisor");
	vm_free((void *)supervisor);
	vm_free((void *)user);
}

static void check_guards_and_freed_memory(void)
{
	u64 first = (u64)vm_alloc(PAGE_SIZE, VM_SUPERVISOR | VM_WRITE);
	u64 second = (u64)vm_alloc(PAGE_SIZE, VM_SUPERVISOR | VM_WRITE);
	u64 value;

	expect_fault("the guard page below an allocation faults", read_u64_or_fault(first - 8, &value),
		     0, first - 8);
	report(second >= first + PAGE_SIZE + GUARD_SIZE, "neighbours are a guard page apart");
	expect_fault("the byte after an allocation faults",
		     write_u8_or_fault(first + PAGE_SIZE, 1), PAGE_FAULT_WRITE, first + PAGE_SIZE);
	vm_free((void *)second);
	expect_fault("freed memory faults with P=0", read_u64_or_fault(second, &value), 0, second);
	vm_free((void *)first);
}

static void check_protection_changes(void)
{
	u64 page = (u64)vm_alloc(PAGE_SIZE, VM_SUPERVISOR);
	u64 value;

	expect_fault("a write to a read-only page faults", write_u64_or_fault(page, 1),
		     PAGE_FAULT_PRESENT | PAGE_FAULT_WRITE, page);
	report(vm_protect((void *)page, PAGE_SIZE, VM_SUPERVISOR | VM_WRITE) &&
	       !write_u64_or_fault(page, 2).raised, "the write succeeds after vm_protect");
	/* The TLB now holds a writable, dirty translation; INVLPG must drop it. */
	report(!read_u64_or_fault(page, &value).raised && value == 2, "the page holds the write");
	vm_protect((void *)page, PAGE_SIZE, VM_SUPERVISOR);
	expect_fault("a write faults again once read-only", write_u64_or_fault(page, 3),
		     PAGE_FAULT_PRESENT | PAGE_FAULT_WRITE, page);
	report(!vm_protect((void *)page, PAGE_SIZE, VM_USER | VM_WRITE),
	       "vm_protect cannot move memory between halves");
	vm_free((void *)page);
}

static void check_large_page(const char *name, u64 size, int level)
{
	u64 base = (u64)vm_alloc(size, VM_SUPERVISOR | VM_WRITE | VM_LARGE_PAGES);
	struct page_walk walk;
	u64 last = base + size - 8, value = 0;

	if (!base) {
		report_skip("%s: no %lu MiB aligned run of free RAM (%lu MiB free)", name, size >> 20,
			    physical_free_frames() * PAGE_SIZE >> 20);
		return;
	}
	page_table_walk(base, &walk);
	report(walk.present && walk.leaf_level == level &&
	       (walk.entries[level] & PAGE_LARGE) && !(walk.physical % size),
	       "%s: one level-%d leaf, aligned frame", name, level);
	report(!write_u64_or_fault(last, 0x1234).raised && !read_u64_or_fault(last, &value).raised &&
	       value == 0x1234, "%s: its last word is reachable", name);
	vm_free((void *)base);
	page_table_walk(base, &walk);
	report(!walk.present, "%s: gone after vm_free", name);
}

static void check_reuse(void)
{
	u64 free_before = physical_free_frames();
	void *first = vm_alloc(3 * PAGE_SIZE, VM_USER | VM_WRITE);
	void *again;

	report(physical_free_frames() == free_before - 3, "an allocation takes its frames");
	vm_free(first);
	report(physical_free_frames() == free_before, "vm_free gives the frames back");
	again = vm_alloc(3 * PAGE_SIZE, VM_USER | VM_WRITE);
	report(again == first, "a freed range is reused");
	vm_free(again);
}

/* ---- the physical allocator on its own ---------------------------------- */

#define SINGLE_FRAMES 240
#define RUNS_PER_SIZE 4
static const u64 run_sizes[] = { 2, 3, 5, 8, 16 };
#define ALLOCATIONS (SINGLE_FRAMES + RUNS_PER_SIZE * ARRAY_SIZE(run_sizes) + 1)

struct frame_run {
	u64 start, count;
};

/* One bit per frame this check was handed; a second claim is an overlap. */
static u64 claimed_frames[PHYSICAL_MEMORY_LIMIT / PAGE_SIZE / 64];

/* Marks the run; false if a frame was already claimed or is not free RAM. */
static bool claim(struct frame_run run)
{
	u64 image_start = IMAGE_ADDRESS(image_load_physical_start);
	u64 image_end = IMAGE_ADDRESS(image_physical_end);

	if (run.start == PHYSICAL_ALLOCATION_FAILED ||
	    run.start + run.count * PAGE_SIZE > PHYSICAL_MEMORY_LIMIT)
		return false;
	if (run.start < image_end && run.start + run.count * PAGE_SIZE > image_start)
		return false;
	for (u64 frame = run.start / PAGE_SIZE; frame < run.start / PAGE_SIZE + run.count; frame++) {
		u64 bit = 1ULL << (frame % 64);

		if ((claimed_frames[frame / 64] & bit) || !physical_is_ram(frame * PAGE_SIZE))
			return false;
		claimed_frames[frame / 64] |= bit;
	}
	return true;
}

/* A frame the page tables use (a leaf's frames or a table) must not be claimed. */
static void find_claimed_leaf(u64 address, u64 size, const struct page_walk *walk, void *context)
{
	u64 *clashes = context;

	for (u64 frame = walk->physical / PAGE_SIZE; frame < (walk->physical + size) / PAGE_SIZE &&
	     frame < PHYSICAL_MEMORY_LIMIT / PAGE_SIZE; frame++)
		*clashes += !!(claimed_frames[frame / 64] & (1ULL << (frame % 64)));
}

static void find_claimed_table(int level, u64 physical, u64 address, void *context)
{
	u64 *clashes = context;
	u64 frame = physical / PAGE_SIZE;

	*clashes += !!(claimed_frames[frame / 64] & (1ULL << (frame % 64)));
}

/*
 * Hundreds of single frames and runs of several sizes (and one 2 MiB
 * aligned run): no two overlap, none is outside free RAM, in the image or
 * in use by the page tables, the free count drops by exactly what was
 * taken, every free succeeds, and the count comes back.
 */
static void check_many_physical_allocations(void)
{
	static struct frame_run runs[ALLOCATIONS];
	u64 free_before = physical_free_frames(), taken = 0, clashes = 0;
	unsigned count = 0, refused = 0, failed_frees = 0;

	memset(claimed_frames, 0, sizeof(claimed_frames));
	for (unsigned i = 0; i < SINGLE_FRAMES; i++)
		runs[count++] = (struct frame_run){ physical_alloc(1, PAGE_SIZE, 0), 1 };
	for (unsigned i = 0; i < RUNS_PER_SIZE * ARRAY_SIZE(run_sizes); i++) {
		u64 size = run_sizes[i % ARRAY_SIZE(run_sizes)];

		runs[count++] = (struct frame_run){ physical_alloc(size, PAGE_SIZE, 0), size };
	}
	runs[count++] = (struct frame_run){ physical_alloc(LARGE_PAGE_SIZE / PAGE_SIZE,
							   LARGE_PAGE_SIZE, 0),
					    LARGE_PAGE_SIZE / PAGE_SIZE };
	for (unsigned i = 0; i < count; i++) {
		refused += !claim(runs[i]);
		taken += runs[i].count;
	}
	page_table_for_each_leaf(find_claimed_leaf, &clashes);
	page_table_for_each_table(find_claimed_table, &clashes);
	report(!refused && !clashes, "%u physical allocations: no overlap, all free RAM "
	       "outside the image and the page tables", count);
	report(physical_free_frames() == free_before - taken,
	       "the free count drops by the %lu frames taken", taken);
	for (unsigned i = 0; i < count; i++)
		failed_frees += !physical_free(runs[i].start, runs[i].count);
	report(!failed_frees && physical_free_frames() == free_before,
	       "every run frees, and the free count comes back");
}

static void check_physical_allocator(void)
{
	u64 run = physical_alloc(LARGE_PAGE_SIZE / PAGE_SIZE, LARGE_PAGE_SIZE, 0);
	u64 frame = physical_alloc(1, PAGE_SIZE, 0);

	report(run != PHYSICAL_ALLOCATION_FAILED && !(run % LARGE_PAGE_SIZE),
	       "a 2 MiB run is 2 MiB aligned");
	report(physical_free(frame, 1) && !physical_free(frame, 1), "a double free is refused");
	report(!physical_free(IMAGE_ADDRESS(image_load_physical_start), 1),
	       "the image's frames cannot be freed");
	physical_free(run, LARGE_PAGE_SIZE / PAGE_SIZE);
}

/* The virtual-range allocator alone, on an imaginary region. */
static void check_virtual_range_allocator(void)
{
	static struct virtual_range_allocator ranges;
	/* Numbers for the allocator alone: nothing here is ever mapped. */
	const u64 start = 0x100000, end = 0x900000;
	u64 a, b, c;

	virtual_range_init(&ranges, "test", start, end, PAGE_SIZE);
	a = virtual_range_alloc(&ranges, PAGE_SIZE, PAGE_SIZE);
	b = virtual_range_alloc(&ranges, PAGE_SIZE, 0x100000);
	c = virtual_range_alloc(&ranges, 2 * PAGE_SIZE, PAGE_SIZE);
	/* c fits in the gap before the aligned b: first fit takes it. */
	report(a == start + PAGE_SIZE && b % 0x100000 == 0 && c == a + 2 * PAGE_SIZE,
	       "ranges: first fit, alignment and a guard below each");
	report(virtual_range_free(&ranges, b, PAGE_SIZE) && !virtual_range_free(&ranges, b, PAGE_SIZE),
	       "ranges: a double free is refused");
	virtual_range_free(&ranges, a, PAGE_SIZE);
	virtual_range_free(&ranges, c, 2 * PAGE_SIZE);
	report(ranges.free_count == 1 && virtual_range_free_bytes(&ranges) == end - start,
	       "ranges: freed neighbours merge back into one");
	report(!virtual_range_alloc(&ranges, end, PAGE_SIZE), "ranges: too large fails");
}

static void check_fixed_mapping(void)
{
	/* Exactness is the point: the last page below the non-canonical hole. */
	u64 last_page = (1ULL << (linear_address_bits() - 1)) - PAGE_SIZE;
	u64 mapped = (u64)vm_map_fixed(last_page, PAGE_SIZE, VM_USER | VM_WRITE,
				       "vm test: the last lower-half page");
	const struct vm_mapping *mapping = vm_find_mapping(last_page);

	report(mapped == last_page && user_at_every_level(last_page) && mapping &&
	       mapping->kind == MAPPING_FIXED, "vm_map_fixed maps exactly the page asked for");
	report(!vm_map_fixed(last_page, PAGE_SIZE, VM_USER, "twice"),
	       "vm_map_fixed refuses a mapped address");
	report(!vm_map_fixed(IMAGE_ADDRESS(kernel_data_start), PAGE_SIZE, VM_USER, "user up high"),
	       "vm_map_fixed refuses user memory in the upper half");
	vm_free((void *)mapped);
}

/* vm_reserve: an aligned range in the right half, with nothing mapped in it. */
static void check_reservation(void)
{
	u64 top = page_size_at_level(paging_levels());
	u64 user = (u64)vm_reserve(top, top, VM_USER, "vm test: a top-level entry of its own");
	u64 supervisor = (u64)vm_reserve(HUGE_PAGE_SIZE, HUGE_PAGE_SIZE, VM_SUPERVISOR,
					 "vm test: 1 GiB of supervisor addresses");
	const struct vm_mapping *mapping = vm_find_mapping(user + top / 2);
	struct page_walk walk;

	page_table_walk(user, &walk);
	report(user && is_lower_half(user) && !(user % top) && !walk.present && mapping &&
	       mapping->kind == MAPPING_RESERVED,
	       "vm_reserve: a whole top-level entry's range in the lower half, unmapped");
	page_table_walk(supervisor, &walk);
	report(supervisor && !is_lower_half(supervisor) && !(supervisor % HUGE_PAGE_SIZE) &&
	       !walk.present, "vm_reserve: an aligned supervisor range, unmapped");
	vm_free((void *)user);
	vm_free((void *)supervisor);
	report(!vm_find_mapping(user) && !vm_find_mapping(supervisor), "vm_free releases reservations");
}

/* Many allocations of both kinds and sizes, half of them freed again. */
static void check_audit_after_many_allocations(void)
{
	void *allocations[MANY_ALLOCATIONS];
	struct audit_result audit;

	for (unsigned i = 0; i < MANY_ALLOCATIONS; i++)
		allocations[i] = vm_alloc((i % 3 + 1) * PAGE_SIZE,
					  (i % 2 ? VM_USER : VM_SUPERVISOR) |
					  (i % 4 < 2 ? VM_WRITE : VM_EXECUTE));
	for (unsigned i = 0; i < MANY_ALLOCATIONS; i += 2)
		vm_free(allocations[i]);
	audit = page_table_audit();
	report_info("audit: %u leaves, %u page tables, %lu KiB mapped, %u fixed mappings",
		    audit.leaves, audit.tables, audit.mapped_bytes >> 10, audit.fixed);
	report(audit.leaves > MANY_ALLOCATIONS && !audit.violations,
	       "the audit passes after %u allocations", MANY_ALLOCATIONS);
	for (unsigned i = 1; i < MANY_ALLOCATIONS; i += 2)
		vm_free(allocations[i]);
}

/*
 * Set U/S in the entries of one kernel heap page from level top down to
 * level bottom, run the audit, and put them back.  (Not an image page: most
 * of those are in use, and SMAP would fault on the kernel's own next access
 * to them.)
 */
static struct audit_result audit_with_user_entries(u64 target, int top, int bottom)
{
	struct page_walk walk;
	struct audit_result audit;
	u64 saved[6];

	page_table_walk(target, &walk);
	for (int level = top; level >= bottom; level--) {
		saved[level] = *walk.pointers[level];
		*walk.pointers[level] |= PAGE_USER;
	}
	flush_tlb();
	audit = page_table_audit();
	for (int level = top; level >= bottom; level--)
		*walk.pointers[level] = saved[level];
	flush_tlb();
	return audit;
}

/*
 * The audit must name what it was given: U/S=1 in one kernel page's PTE
 * only (still supervisor in effect), U/S=1 in the PDE above it (a 2 MiB
 * region of supervisor leaves), and the page user-accessible at every level.
 */
static void check_audit_catches_a_user_kernel_page(void)
{
	u64 target = (u64)vm_alloc(PAGE_SIZE, VM_SUPERVISOR | VM_WRITE);
	u64 region = ALIGN_DOWN(target, LARGE_PAGE_SIZE);
	struct audit_result audit;

	audit = audit_with_user_entries(target, 1, 1);
	report(audit.violations == 1 && audit.first_violation == target,
	       "the audit flags U/S=1 in a kernel page's PTE, at its address");
	audit = audit_with_user_entries(target, paging_levels(), 1);
	report(audit.violations && audit.first_violation <= target && target <= audit.last_violation,
	       "the audit flags a kernel page made user-accessible at every level");
	audit = audit_with_user_entries(target, 2, 2);
	if (audit.violations)
		report_info("audit: %u violations from %#lx to %#lx", audit.violations,
			    audit.first_violation, audit.last_violation);
	report(audit.violations && audit.first_violation >= region &&
	       audit.last_violation < region + LARGE_PAGE_SIZE,
	       "the audit flags a U/S=1 PDE above supervisor leaves, inside its 2 MiB");
	report(!page_table_audit().violations, "the audit passes again once it is undone");
	vm_free((void *)target);
}

int main(int argc, char **argv)
{
	check_protections(PROTECTION_NO_EXECUTE); /* the audit holds kernel data to XD=1 */
	check_halves();
	check_guards_and_freed_memory();
	check_protection_changes();
	check_large_page("2 MiB page", LARGE_PAGE_SIZE, 2);
	if (argv_has(argc, argv, "huge") && require_cpu_feature(FEATURE_PAGE_1GB))
		check_large_page("1 GiB page", HUGE_PAGE_SIZE, 3);
	check_reuse();
	check_physical_allocator();
	check_many_physical_allocations();
	check_virtual_range_allocator();
	check_fixed_mapping();
	check_reservation();
	check_audit_after_many_allocations();
	check_audit_catches_a_user_kernel_page();
	if (argv_has(argc, argv, "map"))
		page_table_print_map();
	return report_summary();
}
