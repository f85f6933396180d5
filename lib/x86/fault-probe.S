/*
 * fault-probe.S: call_or_fault_code(function, argument, result), the
 * recovery point for faults that no fix-up entry can name in advance (an
 * instruction fetch faults at the target, not at the call).  The handler
 * restores RIP and RSP from exception_recovery and puts the exception code
 * in %rdi; the callee-saved registers are reloaded from this frame.
 */
	.text
	.globl call_or_fault_code
call_or_fault_code:
	push %rbp
	mov %rsp, %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	push %rdx                       /* result pointer; RSP is 16-byte aligned */
	mov %rsp, exception_recovery + 8(%rip)
	lea 1f(%rip), %rax
	mov %rax, exception_recovery(%rip)
	mov %rdi, %rax
	mov %rsi, %rdi
	call *%rax
	movq $0, exception_recovery(%rip)
	xor %edi, %edi                  /* returned: no exception */
1:	pop %rdx
	test %rdi, %rdi
	jnz 2f
	test %rdx, %rdx
	jz 2f
	mov %rax, (%rdx)
2:	mov %rdi, %rax
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret

/* run_on_stack(top, function, argument): switch stacks and never return. */
	.globl run_on_stack
run_on_stack:
	mov %rdi, %rsp
	xor %ebp, %ebp
	mov %rdx, %rdi
	call *%rsi
	ud2
