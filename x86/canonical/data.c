/*
 * data.c: canonical's data accesses (SDM Vol. 3A 3.4.4, 6.9, 6.15 interrupts
 * 12 and 13; APM Vol. 2 8.2.13, 8.2.14): a load or store with a
 * non-canonical byte raises #GP(0), or #SS(0) through SS, writes nothing and
 * leaves CR2 alone; when its canonical bytes would raise #PF as well, that
 * #PF is right too (both faults of one instruction: SDM 6.9 leaves their
 * order to the implementation).
 */
#include "canonical.h"
#include "exceptions.h"
#include "layout.h"
#include "page-table.h"
#include "processor.h"
#include "test-fixtures.h"
#include "user-access.h"

/* Loads start with RAX = RSI (LOAD_SENTINEL), so a faulting load shows it wrote nothing. */
PROBE(read_byte, BOTH, "mov %rsi, %rax", "movzbq (%rdi), %rax", "");
/* RSP = RDI for one stack access; R11 keeps the real RSP. */
PROBE(read_through_rsp, BOTH, "mov %rsp, %r11\n\tmov %rdi, %rsp\n\tmov %rsi, %rax", "mov (%rsp), %rax",
      "mov %r11, %rsp");
PROBE(pop, BOTH, "mov %rsp, %r11\n\tmov %rdi, %rsp\n\tmov %rsi, %rax", "pop %rax",
      "mov %r11, %rsp");

/*
 * What paging does to the canonical bytes [first, last] of an access: #PF
 * at the first page that refuses it, or nothing (SDM Vol. 3A 4.6, 4.7:
 * SMAP with EFLAGS.AC = 0, which every case here has).
 */
static struct exception_info paging_outcome(u64 first, u64 last, bool write, unsigned cpl,
					    u64 rip)
{
	u32 access = (write ? PAGE_FAULT_WRITE : 0) | (cpl == 3 ? PAGE_FAULT_USER : 0);

	for (u64 page = ALIGN_DOWN(first, PAGE_SIZE);; page += PAGE_SIZE) {
		u64 byte = page > first ? page : first;
		struct page_walk walk;
		bool user;

		if (is_canonical(byte)) {
			page_table_walk(byte, &walk);
			user = walk.effective_flags & PAGE_USER;
			if (!walk.present)
				return at_cpl(page_fault_at(access, byte, rip), cpl);
			if ((cpl == 3 && !user) || (cpl == 0 && user && (boot_cr4 & CR4_SMAP)) ||
			    (write && !(walk.effective_flags & PAGE_WRITABLE)))
				return at_cpl(page_fault_at(PAGE_FAULT_PRESENT | access, byte, rip),
					      cpl);
		}
		if (page == ALIGN_DOWN(last, PAGE_SIZE))
			return no_exception();
	}
}

/* The first byte a case touches. */
static u64 accessed_address(const struct case_state *state)
{
	return state->address + state->use->offset;
}

static bool prepare_data(struct case_state *state)
{
	const struct use *use = state->use;
	u64 first = accessed_address(state), last = first + use->size - 1;
	struct exception_info paging = paging_outcome(first, last, use->write, state->cpl,
						      state->instruction);

	state->arguments[0] = use->address_in_rsp ? state->address : first;
	state->arguments[1] = use->write ? STORE_VALUE : LOAD_SENTINEL;
	if (is_canonical(first) && is_canonical(last)) {
		expect(state, paging);
		return true;
	}
	expect(state, at_cpl(fault_at(use->through_stack_segment ? SS_VECTOR : GP_VECTOR, 0,
				      state->instruction), state->cpl));
	if (paging.raised)
		expect(state, paging);
	return true;
}

/*
 * Are the bytes of the last lower page that the case may have written
 * what they must be (value's bytes, or the NOPs)?  Puts the NOPs back.
 */
static bool last_page_bytes_are(u64 address, unsigned size, u64 value, bool written)
{
	static const u8 nop = NOP_INSTRUCTION;
	bool same = true;

	for (unsigned i = 0; i < size; i++) {
		u64 byte = address + i;
		u8 found;

		if (ALIGN_DOWN(byte, PAGE_SIZE) != last_page)
			continue;
		if (!copy_from_user(&found, byte, 1))
			return false;
		same = same && found == (written ? (u8)(value >> (8 * i)) : NOP_INSTRUCTION);
		if (found != NOP_INSTRUCTION)
			copy_to_user(byte, &nop, 1);
	}
	return same;
}

/* A store wrote only if it did not fault; a faulting load left RAX; RSP stayed. */
static bool data_state_agrees(struct case_state *state, const struct probe_result *result,
			      const char **what)
{
	const struct use *use = state->use;
	bool raised = result->outcome.raised, ok = true;

	*what = use->write ? "memory" : "RAX or RSP";
	if (use->write)
		ok = last_page_bytes_are(accessed_address(state), use->size, STORE_VALUE, !raised);
	if (raised && !use->write)
		ok = result->frame.rax == LOAD_SENTINEL;
	if (raised && use->address_in_rsp)
		ok = ok && result->frame.rsp == state->address;
	return ok;
}

#define DATA(...) .prepare = prepare_data, .state_agrees = data_state_agrees, __VA_ARGS__

const struct use data_uses[] = {
	{ .name = "read", AT_BOTH_CPLS(read_byte), DATA(.size = 1, .kinds = BOTH_MODES) },
	{ .name = "write", AT_BOTH_CPLS(byte_store),
	  DATA(.size = 1, .write = true, .kinds = BOTH_MODES) },
	/* 8 bytes at 4 below the hole, and at 4 below its end. */
	{ .name = "read8 into hole", AT_BOTH_CPLS(load_quad),
	  DATA(.size = 8, .offset = -4, .kinds = KIND(HOLE_START)) },
	{ .name = "read8 out of hole", AT_BOTH_CPLS(load_quad),
	  DATA(.size = 8, .offset = -4, .kinds = KIND(HIGH_START)) },
	{ .name = "write8 into hole", AT_BOTH_CPLS(store_quad),
	  DATA(.size = 8, .offset = -4, .write = true, .kinds = KIND(HOLE_START)) },
	{ .name = "write8 out of hole", AT_BOTH_CPLS(store_quad),
	  DATA(.size = 8, .offset = -4, .write = true, .kinds = KIND(HIGH_START)) },
	{ .name = "read rbp", AT_BOTH_CPLS(load_quad_through_rbp),
	  DATA(.size = 8, .through_stack_segment = true, .kinds = THIS_MODE) },
	{ .name = "read rsp", AT_BOTH_CPLS(read_through_rsp),
	  DATA(.size = 8, .through_stack_segment = true, .address_in_rsp = true,
	       .needs_spare_stack = true, .kinds = THIS_MODE) },
	{ .name = "pop", AT_BOTH_CPLS(pop),
	  DATA(.size = 8, .through_stack_segment = true, .address_in_rsp = true,
	       .needs_spare_stack = true, .kinds = THIS_MODE) },
	/* PUSH stores below RSP. */
	{ .name = "push", AT_BOTH_CPLS(push_quad),
	  DATA(.size = 8, .offset = -8, .write = true, .through_stack_segment = true,
	       .address_in_rsp = true, .needs_spare_stack = true, .kinds = THIS_MODE) },
};
const unsigned data_use_count = ARRAY_SIZE(data_uses);
