/*
 * processor.h: named architectural bits (CR0, CR4, EFER, RFLAGS, MSRs, CPUID
 * feature flags) and one-instruction wrappers around the registers that hold
 * them.  Names follow the SDM.
 */
#ifndef CANON_PROCESSOR_H
#define CANON_PROCESSOR_H

#ifndef __ASSEMBLER__
#include "types.h"
#endif

#define CR0_PROTECTION_ENABLE (1 << 0)
#define CR0_MONITOR_COPROCESSOR (1 << 1)
#define CR0_TASK_SWITCHED (1 << 3)
#define CR0_NUMERIC_ERROR (1 << 5)
#define CR0_WRITE_PROTECT (1 << 16)
#define CR0_ALIGNMENT_MASK (1 << 18)
#define CR0_PAGING (1 << 31)

#define CR4_PAE (1 << 5)
#define CR4_PGE (1 << 7)
#define CR4_UMIP (1 << 11)
#define CR4_LA57 (1 << 12)
#define CR4_FSGSBASE (1 << 16)
#define CR4_PCIDE (1 << 17)
#define CR4_SMEP (1 << 20)
#define CR4_SMAP (1 << 21)
#define CR4_PKE (1 << 22)
#define CR4_PKS (1 << 24)
#define CR4_LASS (1 << 27)

#define RFLAGS_CARRY (1 << 0)
#define RFLAGS_RESERVED_ONE (1 << 1)
#define RFLAGS_TRAP (1 << 8)
#define RFLAGS_INTERRUPT (1 << 9)
#define RFLAGS_DIRECTION (1 << 10)
#define RFLAGS_IOPL_MASK (3 << 12)
#define RFLAGS_NESTED_TASK (1 << 14)
#define RFLAGS_ALIGNMENT_CHECK (1 << 18)

#define MSR_EFER 0xc0000080
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SFMASK 0xc0000084
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define MSR_PKRS 0x6e1 /* IA32_PKRS: protection keys for supervisor-mode pages */

#define EFER_SYSCALL_ENABLE (1 << 0)
#define EFER_LONG_MODE_ENABLE (1 << 8)
#define EFER_LONG_MODE_ACTIVE (1 << 10)
#define EFER_NO_EXECUTE_ENABLE (1 << 11)

#ifndef __ASSEMBLER__

static inline u64 read_cr0(void) { u64 v; asm volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline u64 read_cr2(void) { u64 v; asm volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline u64 read_cr3(void) { u64 v; asm volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline u64 read_cr4(void) { u64 v; asm volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void write_cr0(u64 v) { asm volatile("mov %0, %%cr0" : : "r"(v) : "memory"); }
static inline void write_cr2(u64 v) { asm volatile("mov %0, %%cr2" : : "r"(v) : "memory"); }
static inline void write_cr3(u64 v) { asm volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static inline void write_cr4(u64 v) { asm volatile("mov %0, %%cr4" : : "r"(v) : "memory"); }

static inline u64 read_msr(u32 index)
{
	u32 low, high;
	asm volatile("rdmsr" : "=a"(low), "=d"(high) : "c"(index));
	return ((u64)high << 32) | low;
}

static inline void write_msr(u32 index, u64 value)
{
	asm volatile("wrmsr" : : "c"(index), "a"((u32)value), "d"((u32)(value >> 32)) : "memory");
}

static inline u64 read_rflags(void)
{
	u64 v;
	asm volatile("pushfq; popq %0" : "=r"(v));
	return v;
}

/* POPF, not STAC/CLAC: some hypervisors cannot emulate those two. */
static inline void write_rflags(u64 v)
{
	asm volatile("pushq %0; popfq" : : "r"(v) : "memory", "cc");
}

/* Set or clear EFLAGS.AC (SMAP's override) with POPF; returns the old RFLAGS. */
static inline u64 set_alignment_check(bool on)
{
	u64 flags = read_rflags();

	write_rflags(on ? flags | RFLAGS_ALIGNMENT_CHECK : flags & ~(u64)RFLAGS_ALIGNMENT_CHECK);
	return flags;
}

/* PKRU (SDM Vol. 3A 4.6.2): WRPKRU needs ECX=0 and EDX=0, and raises #UD unless CR4.PKE=1. */
static inline void write_pkru(u32 value)
{
	asm volatile("wrpkru" : : "a"(value), "c"(0), "d"(0) : "memory");
}

static inline u64 read_rsp(void) { u64 v; asm volatile("mov %%rsp, %0" : "=r"(v)); return v; }

static inline void invalidate_page(u64 address)
{
	asm volatile("invlpg (%0)" : : "r"(address) : "memory");
}

static inline void outb(u16 port, u8 value) { asm volatile("outb %0, %1" : : "a"(value), "Nd"(port)); }
static inline void outw(u16 port, u16 value) { asm volatile("outw %0, %1" : : "a"(value), "Nd"(port)); }
static inline void outl(u16 port, u32 value) { asm volatile("outl %0, %1" : : "a"(value), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

struct cpuid_result {
	u32 eax, ebx, ecx, edx;
};

static inline struct cpuid_result cpuid(u32 leaf, u32 subleaf)
{
	struct cpuid_result r;
	asm volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
		     : "a"(leaf), "c"(subleaf));
	return r;
}

struct descriptor_table_register {
	u16 limit;
	u64 base;
} __attribute__((packed));

static inline struct descriptor_table_register read_gdtr(void)
{
	struct descriptor_table_register r;
	asm volatile("sgdt %0" : "=m"(r));
	return r;
}

static inline struct descriptor_table_register read_idtr(void)
{
	struct descriptor_table_register r;
	asm volatile("sidt %0" : "=m"(r));
	return r;
}

static inline u16 read_task_register(void)
{
	u16 v;
	asm volatile("str %0" : "=r"(v));
	return v;
}

#endif /* __ASSEMBLER__ */
#endif
