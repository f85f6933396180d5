/*
 * descriptors.h: the GDT, IDT and TSS.  The selectors are fixed so that
 * SYSCALL and SYSRET find their segments where STAR says (SDM Vol. 3A 5.8.8):
 * SYSCALL loads CS from STAR[47:32] and SS from STAR[47:32] + 8; SYSRET to
 * 64-bit mode loads CS from STAR[63:48] + 16 and SS from STAR[63:48] + 8.
 */
#ifndef CANON_DESCRIPTORS_H
#define CANON_DESCRIPTORS_H

#define KERNEL_CODE_SELECTOR 0x08
#define KERNEL_DATA_SELECTOR 0x10
#define USER_CODE32_SELECTOR 0x1b /* 0x18 | RPL 3: only for SYSRET's layout */
#define USER_DATA_SELECTOR 0x23   /* 0x20 | RPL 3 */
#define USER_CODE_SELECTOR 0x2b   /* 0x28 | RPL 3 */
#define TSS_SELECTOR 0x30         /* 16-byte system descriptor: 0x30 and 0x38 */
#define SPARE_SELECTOR 0x40       /* two 16-byte slots that tests may fill */
#define GDT_ENTRIES 12

/* Interrupt-stack-table slots (TSS.IST1..3) for the vectors that need them. */
#define IST_DOUBLE_FAULT 1
#define IST_NMI 2
#define IST_MACHINE_CHECK 3
/*
 * A stack for tests that make RSP unusable on purpose (a non-canonical RSP,
 * SYSRET's #GP on the user stack): they point #GP or #SS here while they run.
 */
#define IST_SPARE 4

#define TSS_SIZE 104
#define TSS_RSP0 4
#define TSS_IST1 36

#define IDT_ENTRIES 256
#define INTERRUPT_ENTRY_STRIDE 16
#define SYSTEM_DESCRIPTOR_LDT 2
#define SYSTEM_DESCRIPTOR_TSS_AVAILABLE 9
#define GATE_INTERRUPT_64 0xe
/* Bytes 4-5 of a gate: present (bit 15), DPL (bits 14:13), type (11:8), IST (2:0). */
#define GATE_PRESENT 0x8000
#define GATE_DPL_SHIFT 13
#define GATE_TRAP_64 0xf

#ifndef __ASSEMBLER__
#include "types.h"

struct task_state_segment {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7]; /* IST1..IST7 */
	u64 reserved2;
	u16 reserved3;
	u16 io_map_base;
} __attribute__((packed));

_Static_assert(sizeof(struct task_state_segment) == TSS_SIZE, "tss layout");
_Static_assert(__builtin_offsetof(struct task_state_segment, ist) == TSS_IST1, "tss layout");

extern u64 global_descriptor_table[GDT_ENTRIES];
extern struct task_state_segment task_state;

/* Entry stubs for all 256 vectors (interrupt-entry.S), 16 bytes apart. */
extern char interrupt_entry_points[];

/* Install vector's gate: present, the given DPL and IST slot (0: none). */
void idt_set_gate(unsigned vector, unsigned dpl, unsigned ist);
/* Mark vector's gate not present. */
void idt_clear_gate(unsigned vector);

/* Point the TSS at stacks: rsp0 for entries from ring 3, and IST slots. */
void tss_set_ring0_stack(u64 top);
void tss_set_interrupt_stack(unsigned slot, u64 top);

/* Write a 16-byte system descriptor (TSS or LDT) into the GDT at selector. */
void gdt_set_system_descriptor(unsigned selector, unsigned type, u64 base, u32 limit);
void gdt_clear_system_descriptor(unsigned selector);

/* The encoders that boot uses too (descriptor-encoding.S). */
void idt_write_gate(unsigned vector, u64 handler, unsigned attributes);
void gdt_write_system_descriptor(unsigned selector, unsigned type, u64 base, u32 limit);
#endif

#endif
