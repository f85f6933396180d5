/*
 * paging-model.h: what the manuals say one access through 4-level or
 * 5-level paging must do, as a function that touches no hardware.
 *
 * paging_model() takes one combination -- the paging-structure entries the
 * walk would read, the processor state the rules depend on, and the access
 * (read, write or fetch, at CPL 0 or 3) -- and returns the expected outcome:
 * no fault, or #PF with its exact error code (P, W/R, U/S, RSVD, I/D, PK) and
 * CR2, plus what the accessed and dirty flags of every entry must hold
 * afterwards.  Written from:
 *   Intel SDM Vol. 3A 4.5 (entry formats, reserved bits), 4.6 and 4.6.1
 *   (access rights), 4.6.2 (protection keys), 4.7 (page-fault error code),
 *   4.8 (accessed and dirty flags);
 *   AMD APM Vol. 2 5.3.3 to 5.3.5 (long-mode entry formats), 5.4.1 and
 *   5.4.2 (accessed and dirty bits), 5.6 (page-protection checks, memory
 *   protection keys), 8.4.2 (error code).
 *
 * Vendor differences (paging_controls.vendor, from CPUID's vendor string):
 *  - I/D of a fetch fault while EFER.NXE=0: Intel sets it when CR4.SMEP=1
 *    (SDM 4.7); AMD defines I/D only when EFER.NXE=1 (APM 8.4.2), so there
 *    the bit is "undefined" and either value passes.
 *  - Bit 8 of a PML5E or PML4E: Intel ignores it (SDM 4.5, tables 4-14 and
 *    4-15); AMD reserves it (APM 5.3.3, bits 8:7 are MBZ), so it is a
 *    reserved-bit fault on AMD only.
 *  - The accessed flags a faulting walk leaves: Intel sets those of the
 *    entries that reference tables on a protection violation and leaves
 *    the leaf's model specific (SDM 6.15, interrupt 14), and says nothing
 *    for a walk that ends at P=0 or a reserved bit; AMD sets A in every
 *    entry whose table was read (APM 5.4.1), may set it in a leaf that
 *    forbids the access (speculation, 5.4.2), and not in an entry with a
 *    reserved bit.
 *
 * Where a manual leaves the choice to the processor, the model accepts
 * either value (FLAG_EITHER, undefined_bits) and says so above.
 */
#ifndef CANON_PAGING_MODEL_H
#define CANON_PAGING_MODEL_H

#include "types.h"
#include "cpu-features.h"

enum paging_access_type { PAGING_READ, PAGING_WRITE, PAGING_FETCH };

/* The processor state the rules depend on. */
struct paging_controls {
	int levels;                 /* 4 or 5 (CR4.LA57) */
	enum cpu_vendor vendor;
	int physical_address_bits;  /* MAXPHYADDR, CPUID.80000008H:EAX[7:0] */
	bool huge_pages;            /* 1-GByte pages, CPUID.80000001H:EDX[26] */
	bool write_protect;         /* CR0.WP */
	bool smep, smap, pke, pks;  /* CR4 */
	bool no_execute;            /* IA32_EFER.NXE */
	bool alignment_check;       /* EFLAGS.AC */
	u32 pkru, pkrs;             /* PKRU and IA32_PKRS */
};

struct paging_request {
	u64 address;
	enum paging_access_type type;
	int cpl;                    /* 0 or 3: every access here is explicit */
};

/* What an accessed or dirty flag must hold after the access. */
enum flag_expectation { FLAG_CLEAR, FLAG_SET, FLAG_EITHER };

struct paging_outcome {
	bool fault;
	u32 error_code;
	u32 undefined_bits;     /* error-code bits the manual leaves undefined here */
	u64 cr2;
	int leaf_level;         /* the entry that maps the page, 0 if the walk stopped */
	int stop_level;         /* the entry that ended the walk: the leaf, P=0 or reserved */
	/* Indexed by level (1: PTE ... 5: PML5E); levels the walk never reached keep their value. */
	enum flag_expectation accessed[6];
	enum flag_expectation dirty[6]; /* bit 6 of every entry, which only a leaf uses */
	const char *rule;       /* the rule that decided, in words */
};

/*
 * entries[level] for level = controls->levels down to 1; the walk reads them
 * from the top and stops at the leaf (PS=1 in a PDPTE or PDE, or the PTE),
 * at an entry with P=0, or at one with a reserved bit set.
 */
void paging_model(const struct paging_controls *controls, const u64 entries[6],
		  const struct paging_request *request, struct paging_outcome *outcome);

#endif
