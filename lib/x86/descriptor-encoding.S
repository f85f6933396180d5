/*
 * descriptor-encoding.S: the only code that knows how IDT gates and 16-byte
 * system descriptors are laid out (SDM Vol. 3A 3.5 and 6.14.1).  The 64-bit
 * entry uses it before any C runs; C reaches it through descriptors.h.
 */
#include "descriptors.h"

	.text
/* idt_write_gate(vector, handler, attributes): attributes as in byte 4-5. */
	.globl idt_write_gate
idt_write_gate:
	mov %edi, %edi
	shl $4, %rdi
	lea interrupt_descriptor_table(%rip), %rax
	add %rdi, %rax
	mov %si, (%rax)                 /* offset 15:0 */
	movw $KERNEL_CODE_SELECTOR, 2(%rax)
	mov %dx, 4(%rax)                /* IST, type, DPL, present */
	shr $16, %rsi
	mov %si, 6(%rax)                /* offset 31:16 */
	shr $16, %rsi
	mov %esi, 8(%rax)               /* offset 63:32 */
	movl $0, 12(%rax)
	ret

/*
 * gdt_write_system_descriptor(selector, type, base, limit): a present,
 * byte-granular 16-byte descriptor; type 2 is an LDT, 9 an available TSS.
 */
	.globl gdt_write_system_descriptor
gdt_write_system_descriptor:
	lea global_descriptor_table(%rip), %rax
	and $~7, %edi
	add %rdi, %rax
	mov %cx, (%rax)                 /* limit 15:0 */
	mov %dx, 2(%rax)                /* base 15:0 */
	shr $16, %rdx
	mov %dl, 4(%rax)                /* base 23:16 */
	or $0x80, %sil                  /* present, DPL 0 */
	mov %sil, 5(%rax)
	shr $16, %ecx
	and $0xf, %cl
	mov %cl, 6(%rax)                /* limit 19:16, byte granular */
	mov %dh, 7(%rax)                /* base 31:24 */
	shr $16, %rdx
	mov %edx, 8(%rax)               /* base 63:32 */
	movl $0, 12(%rax)
	ret

/*
 * Installs vectors 0-31 (the #BP gate at DPL 3, so that INT3 works from
 * ring 3; #DF, NMI and #MC on their own stacks), the TSS, and loads TR and
 * IDTR.  Preserves the callee-saved registers.
 */
	.globl load_interrupt_descriptors
load_interrupt_descriptors:
	push %rbx
	xor %ebx, %ebx
1:	mov %ebx, %edi
	mov %ebx, %esi
	shl $4, %esi                    /* INTERRUPT_ENTRY_STRIDE is 16 */
	lea interrupt_entry_points(%rip), %rax
	add %rax, %rsi
	mov $(GATE_PRESENT | GATE_INTERRUPT_64 << 8), %edx
	cmp $3, %ebx
	jne 2f
	or $(3 << GATE_DPL_SHIFT), %edx
2:	cmp $8, %ebx
	jne 3f
	or $IST_DOUBLE_FAULT, %edx
3:	cmp $2, %ebx
	jne 4f
	or $IST_NMI, %edx
4:	cmp $18, %ebx
	jne 5f
	or $IST_MACHINE_CHECK, %edx
5:	call idt_write_gate
	inc %ebx
	cmp $32, %ebx
	jb 1b

	mov $TSS_SELECTOR, %edi
	mov $9, %esi
	lea task_state(%rip), %rdx
	mov $TSS_SIZE - 1, %ecx
	call gdt_write_system_descriptor
	mov $TSS_SELECTOR, %eax
	ltr %ax
	lidt interrupt_descriptor_table_register(%rip)
	pop %rbx
	ret
