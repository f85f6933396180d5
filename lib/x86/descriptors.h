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
#define SYSTEM_DESCRIPTOR_TSS_BUSY 0xb

/* A segment selector's fields (SDM Vol. 3A 3.4.2): RPL in 1:0, TI, index. */
#define SELECTOR_TABLE_LDT 0x4 /* TI=1: the index is into the LDT */
#define GATE_INTERRUPT_64 0xe
/* Bytes 4-5 of a gate: present (bit 15), DPL (bits 14:13), type (11:8), IST (2:0). */
#define GATE_PRESENT 0x8000
#define GATE_DPL_SHIFT 13
#define GATE_TRAP_64 0xf

#ifndef __ASSEMBLER__
#include "types.h"

/*
 * The fields of an 8-byte segment descriptor (SDM Vol. 3A 3.4.5): type in
 * bits 43:40, S (code or data, not system) 44, DPL 46:45, P 47, L 53,
 * D/B 54, G 55, and the base and limit spread around them.
 */
#define DESCRIPTOR_TYPE_SHIFT 40
#define DESCRIPTOR_TYPE_MASK (0xfULL << DESCRIPTOR_TYPE_SHIFT)
#define DESCRIPTOR_ACCESSED (1ULL << 40)
#define DESCRIPTOR_CODE_OR_DATA (1ULL << 44)
#define DESCRIPTOR_DPL_SHIFT 45
#define DESCRIPTOR_PRESENT (1ULL << 47)
#define DESCRIPTOR_LONG_MODE (1ULL << 53)
#define DESCRIPTOR_DEFAULT_SIZE (1ULL << 54)
#define DESCRIPTOR_GRANULARITY (1ULL << 55)
/* Base 0, limit 0xfffff with G=1: all 4 GiB. */
#define DESCRIPTOR_FLAT_LIMIT 0x000f00000000ffffULL
#define DESCRIPTOR_TYPE_DATA_READ_WRITE (0x2ULL << DESCRIPTOR_TYPE_SHIFT)
#define DESCRIPTOR_TYPE_CODE_EXECUTE_READ (0xaULL << DESCRIPTOR_TYPE_SHIFT)

/* Flat descriptors, as constants for static tables. */
#define FLAT_DATA_DESCRIPTOR(dpl)                                                     \
	(DESCRIPTOR_FLAT_LIMIT | DESCRIPTOR_GRANULARITY | DESCRIPTOR_DEFAULT_SIZE |     \
	 DESCRIPTOR_PRESENT | ((u64)(dpl) << DESCRIPTOR_DPL_SHIFT) |                   \
	 DESCRIPTOR_CODE_OR_DATA | DESCRIPTOR_TYPE_DATA_READ_WRITE)
#define FLAT_CODE64_DESCRIPTOR(dpl)                                                   \
	(DESCRIPTOR_FLAT_LIMIT | DESCRIPTOR_GRANULARITY | DESCRIPTOR_LONG_MODE |        \
	 DESCRIPTOR_PRESENT | ((u64)(dpl) << DESCRIPTOR_DPL_SHIFT) |                   \
	 DESCRIPTOR_CODE_OR_DATA | DESCRIPTOR_TYPE_CODE_EXECUTE_READ)
#define FLAT_CODE32_DESCRIPTOR(dpl)                                                   \
	(DESCRIPTOR_FLAT_LIMIT | DESCRIPTOR_GRANULARITY | DESCRIPTOR_DEFAULT_SIZE |     \
	 DESCRIPTOR_PRESENT | ((u64)(dpl) << DESCRIPTOR_DPL_SHIFT) |                   \
	 DESCRIPTOR_CODE_OR_DATA | DESCRIPTOR_TYPE_CODE_EXECUTE_READ)

static inline unsigned descriptor_type(u64 descriptor)
{
	return (unsigned)((descriptor & DESCRIPTOR_TYPE_MASK) >> DESCRIPTOR_TYPE_SHIFT);
}

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

/*
 * The descriptor-table registers and the segment registers that hold
 * system descriptors, loaded and read with the SDM's instructions.
 */
static inline void load_gdtr(u64 base, u16 limit)
{
	struct { u16 limit; u64 base; } __attribute__((packed)) gdtr = { limit, base };

	asm volatile("lgdt %0" : : "m"(gdtr) : "memory");
}

static inline void load_idtr(u64 base, u16 limit)
{
	struct { u16 limit; u64 base; } __attribute__((packed)) idtr = { limit, base };

	asm volatile("lidt %0" : : "m"(idtr) : "memory");
}

static inline void load_ldtr(u16 selector)
{
	asm volatile("lldt %0" : : "r"(selector) : "memory");
}

static inline u16 read_ldtr(void)
{
	u16 selector;

	asm volatile("sldt %0" : "=r"(selector));
	return selector;
}

static inline void load_task_register(u16 selector)
{
	asm volatile("ltr %0" : : "r"(selector) : "memory");
}

/*
 * Put TR back on the boot TSS after a test loaded another: LTR refuses a
 * busy TSS, so the boot descriptor is made available again first.
 */
void restore_task_register(void);

/* The encoders that boot uses too (descriptor-encoding.S). */
void idt_write_gate(unsigned vector, u64 handler, unsigned attributes);
void gdt_write_system_descriptor(unsigned selector, unsigned type, u64 base, u32 limit);
#endif

#endif
