/*
 * interrupt-entry.S: one entry stub per vector, and the common path that
 * saves every general register into a struct interrupt_frame
 * (exceptions.h) for handle_interrupt().
 *
 * The CPU pushes an error code for vectors 8, 10-14, 17, 21, 29 and 30
 * (SDM Vol. 3A 6.13); every other stub pushes a zero in its place so that
 * all frames look alike.
 */
#include "processor.h"
#include "descriptors.h"

.macro entry_stub vector
	.balign INTERRUPT_ENTRY_STRIDE
	.if (\vector == 8) || (\vector >= 10 && \vector <= 14) || (\vector == 17) || \
	    (\vector == 21) || (\vector == 29) || (\vector == 30)
	.else
	pushq $0
	.endif
	pushq $\vector
	jmp interrupt_common
.endm

	.text
	.balign INTERRUPT_ENTRY_STRIDE
	.globl interrupt_entry_points
interrupt_entry_points:
	vector = 0
	.rept 256
	entry_stub vector
	vector = vector + 1
	.endr

	.globl interrupt_common
interrupt_common:
	push %r15
	push %r14
	push %r13
	push %r12
	push %r11
	push %r10
	push %r9
	push %r8
	push %rbp
	push %rdi
	push %rsi
	push %rdx
	push %rcx
	push %rbx
	push %rax
	/*
	 * Delivery does not clear AC or DF (SDM Vol. 3A 6.12.1.3), and ring 3
	 * may have set either.  POPF, not CLAC, because some hypervisors do not
	 * emulate CLAC.  IF stays clear: canon runs with interrupts off.
	 */
	pushq $RFLAGS_RESERVED_ONE
	popfq
	mov %rsp, %rdi
	call handle_interrupt
	.globl interrupt_return
interrupt_return:
	pop %rax
	pop %rbx
	pop %rcx
	pop %rdx
	pop %rsi
	pop %rdi
	pop %rbp
	pop %r8
	pop %r9
	pop %r10
	pop %r11
	pop %r12
	pop %r13
	pop %r14
	pop %r15
	add $16, %rsp                   /* vector and error code */
	iretq
