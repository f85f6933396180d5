/*
 * model-checks.c: the reference model checked on its own, before the CPU
 * is asked anything.  Each case is worked out by hand from one sentence of
 * a manual, which its name quotes or paraphrases, and asserts the model's
 * fault, error code and the flags the case is about.
 */
#include "matrix.h"
#include "page-table.h"
#include "report.h"

#define P PAGE_PRESENT
#define RW PAGE_WRITABLE
#define US PAGE_USER
#define XD PAGE_NO_EXECUTE
#define A ENTRY_ACCESSED
#define PS PAGE_LARGE
/* A plain upper entry and a user leaf, A=1 D=0 (addresses are irrelevant to the model). */
#define TABLE (P | RW | US | A)
#define USER_LEAF (P | RW | US | A)

/* Flag expectations a case checks: 0 leaves the level unchecked. */
enum checked_flag { UNCHECKED, MUST_BE_CLEAR, MUST_BE_SET, MAY_BE_EITHER };

static const struct model_case {
	const char *name;
	enum cpu_vendor vendor;
	bool no_execute, write_protect, smep, smap, alignment_check, pke;
	u32 pkru;
	int cpl;
	enum paging_access_type type;
	u64 entries[5]; /* [level], 4-level paging */
	bool fault;
	u32 error_code, undefined_bits;
	enum checked_flag accessed[5], dirty[5];
} cases[] = {
	{ .name = "SDM 4.6.1: data may be read (explicitly) from any supervisor-mode address",
	  .vendor = VENDOR_INTEL, .no_execute = true, .write_protect = true, .smap = true,
	  .type = PAGING_READ, .entries = { [4] = TABLE, [3] = TABLE, [2] = TABLE, [1] = P },
	  .accessed = { [1] = MUST_BE_SET }, .dirty = { [1] = MUST_BE_CLEAR } },
	{ .name = "SDM 4.6.1: with CR4.SMAP=1 and EFLAGS.AC=0, no explicit supervisor read of a user-mode address",
	  .vendor = VENDOR_INTEL, .no_execute = true, .smap = true, .type = PAGING_READ,
	  .entries = { [4] = TABLE, [3] = TABLE, [2] = TABLE, [1] = USER_LEAF },
	  .fault = true, .error_code = 0x1 },
	{ .name = "SDM 4.6.1: with CR4.SMAP=1 and EFLAGS.AC=1, explicit supervisor reads of user-mode addresses are allowed",
	  .vendor = VENDOR_INTEL, .no_execute = true, .smap = true, .alignment_check = true,
	  .type = PAGING_READ, .entries = { [4] = TABLE, [3] = TABLE, [2] = TABLE, [1] = USER_LEAF } },
	{ .name = "SDM 4.6.1: if CR0.WP=0, data may be written to any supervisor-mode address; SDM 4.8: the write sets D",
	  .vendor = VENDOR_INTEL, .no_execute = true, .type = PAGING_WRITE,
	  .entries = { [4] = TABLE, [3] = P | US | A, [2] = TABLE, [1] = P },
	  .accessed = { [1] = MUST_BE_SET, [3] = MUST_BE_SET }, .dirty = { [1] = MUST_BE_SET } },
	{ .name = "SDM 4.6.1: if CR0.WP=1, no supervisor write with R/W=0 in any entry; SDM 6.15: the upper entries' A is set",
	  .vendor = VENDOR_INTEL, .no_execute = true, .write_protect = true, .type = PAGING_WRITE,
	  .entries = { [4] = P | RW | US, [3] = P | US | A, [2] = TABLE, [1] = P },
	  .fault = true, .error_code = 0x3,
	  .accessed = { [4] = MUST_BE_SET, [1] = MAY_BE_EITHER }, .dirty = { [1] = MUST_BE_CLEAR } },
	{ .name = "SDM 4.6: an address is supervisor-mode if U/S=0 in any entry; user-mode reads of it fault",
	  .vendor = VENDOR_INTEL, .no_execute = true, .cpl = 3, .type = PAGING_READ,
	  .entries = { [4] = P | RW | A, [3] = TABLE, [2] = TABLE, [1] = USER_LEAF },
	  .fault = true, .error_code = 0x5 },
	{ .name = "SDM 4.6.1: with CR4.SMEP=1 no supervisor fetch from a user-mode address; 4.7: I/D=1",
	  .vendor = VENDOR_INTEL, .no_execute = true, .smep = true, .type = PAGING_FETCH,
	  .entries = { [4] = TABLE, [3] = TABLE, [2] = TABLE, [1] = USER_LEAF },
	  .fault = true, .error_code = 0x11 },
	{ .name = "SDM 4.7: I/D is 0 when CR4.SMEP=0 and EFER.NXE=0 (Intel)",
	  .vendor = VENDOR_INTEL, .cpl = 3, .type = PAGING_FETCH,
	  .entries = { [4] = TABLE, [3] = TABLE, [2] = TABLE, [1] = P | A },
	  .fault = true, .error_code = 0x5 },
	{ .name = "APM 8.4.2: I/D is defined only when EFER.NXE=1 (AMD)",
	  .vendor = VENDOR_AMD, .smep = true, .cpl = 3, .type = PAGING_FETCH,
	  .entries = { [4] = TABLE, [3] = TABLE, [2] = TABLE, [1] = P | A },
	  .fault = true, .error_code = 0x5, .undefined_bits = 0x10 },
	{ .name = "SDM 4.7: P=0 in an entry the walk uses gives P=0; entries below it are not touched",
	  .vendor = VENDOR_INTEL, .no_execute = true, .cpl = 3, .type = PAGING_WRITE,
	  .entries = { [4] = P | RW | US, [3] = TABLE, [2] = RW | US, [1] = P | RW | US },
	  .fault = true, .error_code = 0x6,
	  .accessed = { [4] = MAY_BE_EITHER, [1] = MUST_BE_CLEAR } },
	{ .name = "APM 5.4.1: A is set when the table it points to is read, also on the way to a fault (AMD)",
	  .vendor = VENDOR_AMD, .no_execute = true, .cpl = 3, .type = PAGING_WRITE,
	  .entries = { [4] = P | RW | US, [3] = TABLE, [2] = RW | US, [1] = P | RW | US },
	  .fault = true, .error_code = 0x6, .accessed = { [4] = MUST_BE_SET, [2] = MUST_BE_CLEAR } },
	{ .name = "SDM 4.5: bits 51:MAXPHYADDR are reserved; SDM 4.7: RSVD=1 and P=1",
	  .vendor = VENDOR_INTEL, .no_execute = true, .type = PAGING_READ,
	  .entries = { [4] = TABLE, [3] = TABLE, [2] = TABLE, [1] = P | BIT(45) },
	  .fault = true, .error_code = 0x9 },
	{ .name = "SDM 4.5: with EFER.NXE=0, bit 63 (XD) is reserved",
	  .vendor = VENDOR_INTEL, .cpl = 3, .type = PAGING_READ,
	  .entries = { [4] = TABLE | XD, [3] = TABLE, [2] = TABLE, [1] = USER_LEAF },
	  .fault = true, .error_code = 0xd },
	{ .name = "SDM 4.5: PS (bit 7) of a PML4E is reserved",
	  .vendor = VENDOR_INTEL, .no_execute = true, .type = PAGING_WRITE,
	  .entries = { [4] = TABLE | PS, [3] = TABLE, [2] = TABLE, [1] = P | RW },
	  .fault = true, .error_code = 0xb },
	{ .name = "APM 5.3.3: bit 8 of a PML4E is MBZ (AMD)",
	  .vendor = VENDOR_AMD, .no_execute = true, .type = PAGING_READ,
	  .entries = { [4] = TABLE | BIT(8), [3] = TABLE, [2] = TABLE, [1] = P },
	  .fault = true, .error_code = 0x9 },
	{ .name = "SDM 4.5, table 4-15: bit 8 of a PML4E is ignored (Intel)",
	  .vendor = VENDOR_INTEL, .no_execute = true, .type = PAGING_READ,
	  .entries = { [4] = TABLE | BIT(8), [3] = TABLE, [2] = TABLE, [1] = P } },
	{ .name = "SDM 4.6.2: PKRU.WD does not stop supervisor writes while CR0.WP=0",
	  .vendor = VENDOR_INTEL, .no_execute = true, .smap = true, .alignment_check = true,
	  .pke = true, .pkru = 0x8, .type = PAGING_WRITE,
	  .entries = { [4] = TABLE, [3] = TABLE, [2] = TABLE, [1] = USER_LEAF | ENTRY_KEY(1) } },
	{ .name = "SDM 4.7: PK is set when PKRU forbids the access, even if R/W=0 forbids it too",
	  .vendor = VENDOR_INTEL, .no_execute = true, .pke = true, .pkru = 0x8, .cpl = 3,
	  .type = PAGING_WRITE,
	  .entries = { [4] = TABLE, [3] = TABLE, [2] = TABLE, [1] = P | US | A | ENTRY_KEY(1) },
	  .fault = true, .error_code = 0x27 },
	{ .name = "SDM 4.6.2: protection keys do not apply to instruction fetches",
	  .vendor = VENDOR_INTEL, .no_execute = true, .pke = true, .pkru = 0x30, .cpl = 3,
	  .type = PAGING_FETCH,
	  .entries = { [4] = TABLE, [3] = TABLE, [2] = TABLE, [1] = USER_LEAF | ENTRY_KEY(2) } },
	{ .name = "SDM 4.5: a PDE with PS=1 maps a 2-MByte page; bits 20:13 of it are reserved",
	  .vendor = VENDOR_INTEL, .no_execute = true, .type = PAGING_READ,
	  .entries = { [4] = TABLE, [3] = TABLE, [2] = P | PS | BIT(13) },
	  .fault = true, .error_code = 0x9 },
};

static bool flag_checks(enum checked_flag checked, enum flag_expectation model)
{
	static const enum flag_expectation wanted[] = {
		[MUST_BE_CLEAR] = FLAG_CLEAR, [MUST_BE_SET] = FLAG_SET, [MAY_BE_EITHER] = FLAG_EITHER,
	};

	return checked == UNCHECKED || wanted[checked] == model;
}

static bool model_case_holds(const struct model_case *c)
{
	struct paging_controls controls = {
		.levels = 4, .vendor = c->vendor, .physical_address_bits = 40,
		.huge_pages = true, .write_protect = c->write_protect, .smep = c->smep,
		.smap = c->smap, .pke = c->pke, .no_execute = c->no_execute,
		.alignment_check = c->alignment_check, .pkru = c->pkru,
	};
	struct paging_request request = { .address = 0x12345678, .type = c->type, .cpl = c->cpl };
	struct paging_outcome outcome;
	u64 entries[6] = { 0 };

	for (int level = 1; level <= 4; level++)
		entries[level] = c->entries[level];
	paging_model(&controls, entries, &request, &outcome);
	if (outcome.fault != c->fault || (c->fault && (outcome.error_code != c->error_code ||
						       outcome.undefined_bits != c->undefined_bits ||
						       outcome.cr2 != request.address))) {
		report_info("model: %s: got %s, error code %#x (undefined %#x), because: %s",
			    c->name, outcome.fault ? "#PF" : "no fault", outcome.error_code,
			    outcome.undefined_bits, outcome.rule);
		return false;
	}
	for (int level = 1; level <= 4; level++)
		if (!flag_checks(c->accessed[level], outcome.accessed[level]) ||
		    !flag_checks(c->dirty[level], outcome.dirty[level])) {
			report_info("model: %s: A or D of the %s", c->name, level == 1 ? "PTE" : "upper entry");
			return false;
		}
	return true;
}

void check_model(void)
{
	report_prefix_push("model");
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++)
		report(model_case_holds(&cases[i]), "%s", cases[i].name);
	report_prefix_pop();
}
