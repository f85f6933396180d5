/*
 * descriptors.c: the GDT, IDT and TSS themselves, and the C view of them.
 * The encodings live in descriptor-encoding.S, which boot uses too.
 */
#include "descriptors.h"
#include "processor.h"

/* Writable: LTR sets the busy bit in the TSS descriptor. */
u64 global_descriptor_table[GDT_ENTRIES] __attribute__((aligned(16))) = {
	[KERNEL_CODE_SELECTOR / 8] = FLAT_CODE64_DESCRIPTOR(0),
	[KERNEL_DATA_SELECTOR / 8] = FLAT_DATA_DESCRIPTOR(0),
	[USER_CODE32_SELECTOR / 8] = FLAT_CODE32_DESCRIPTOR(3),
	[USER_DATA_SELECTOR / 8] = FLAT_DATA_DESCRIPTOR(3),
	[USER_CODE_SELECTOR / 8] = FLAT_CODE64_DESCRIPTOR(3),
};

struct descriptor_table_register global_descriptor_table_register = {
	.limit = sizeof(global_descriptor_table) - 1,
	.base = (u64)global_descriptor_table,
};

u64 interrupt_descriptor_table[IDT_ENTRIES * 2] __attribute__((aligned(16)));

struct descriptor_table_register interrupt_descriptor_table_register = {
	.limit = sizeof(interrupt_descriptor_table) - 1,
	.base = (u64)interrupt_descriptor_table,
};

/* No I/O permission bitmap: every port is refused at CPL 3 when IOPL is 0. */
struct task_state_segment task_state __attribute__((aligned(16))) = {
	.io_map_base = TSS_SIZE,
};

void idt_set_gate(unsigned vector, unsigned dpl, unsigned ist)
{
	u64 handler = (u64)interrupt_entry_points + vector * INTERRUPT_ENTRY_STRIDE;

	idt_write_gate(vector, handler,
		       GATE_PRESENT | GATE_INTERRUPT_64 << 8 | dpl << GATE_DPL_SHIFT | ist);
}

void idt_clear_gate(unsigned vector)
{
	interrupt_descriptor_table[vector * 2] = 0;
	interrupt_descriptor_table[vector * 2 + 1] = 0;
}

void tss_set_ring0_stack(u64 top)
{
	task_state.rsp[0] = top;
}

void tss_set_interrupt_stack(unsigned slot, u64 top)
{
	task_state.ist[slot - 1] = top;
}

void gdt_set_system_descriptor(unsigned selector, unsigned type, u64 base, u32 limit)
{
	gdt_write_system_descriptor(selector, type, base, limit);
}

void gdt_clear_system_descriptor(unsigned selector)
{
	global_descriptor_table[selector / 8] = 0;
	global_descriptor_table[selector / 8 + 1] = 0;
}

void restore_task_register(void)
{
	global_descriptor_table[TSS_SELECTOR / 8] &= ~DESCRIPTOR_TYPE_MASK;
	global_descriptor_table[TSS_SELECTOR / 8] |=
		(u64)SYSTEM_DESCRIPTOR_TSS_AVAILABLE << DESCRIPTOR_TYPE_SHIFT;
	load_task_register(TSS_SELECTOR);
}
