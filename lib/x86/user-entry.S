/*
 * user-entry.S: the way into ring 3 and the ways back.
 *
 * Kernel side: user_enter() saves the callee-saved registers and RSP, loads
 * the arguments and enters ring 3 with IRETQ or SYSRETQ; user_leave() is
 * called by the kernel once the user function is done (from any kernel
 * stack) and returns from user_enter().  syscall_entry is LSTAR: it moves
 * to TSS.RSP0 and builds an interrupt frame, so SYSCALL joins the common
 * exception path.
 *
 * User side (.user.text): user_trampoline calls the function and comes back
 * by the way chosen in RBX; user_system_call is the INT3 system call that
 * works on every hypervisor; user_call_or_fault calls an address and
 * survives a fault there (the kernel resumes it at user_call_probe_return).
 */
#include "descriptors.h"
#include "processor.h"
#include "user.h"

#define LAUNCH_RIP 0
#define LAUNCH_RSP 8
#define LAUNCH_RFLAGS 16
#define LAUNCH_ARGUMENTS 24
#define LAUNCH_FUNCTION 56
#define LAUNCH_EXIT 64
#define LAUNCH_ENTRY 72

	.text
	.globl user_enter
user_enter:
	push %rbp
	mov %rsp, %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, user_kernel_rsp(%rip)
	mov %rdi, %rax
	mov LAUNCH_FUNCTION(%rax), %r12
	mov LAUNCH_EXIT(%rax), %rbx
	mov LAUNCH_ARGUMENTS + 0(%rax), %rdi
	mov LAUNCH_ARGUMENTS + 8(%rax), %rsi
	mov LAUNCH_ARGUMENTS + 16(%rax), %rdx
	mov LAUNCH_ARGUMENTS + 24(%rax), %r13
	/* Nothing of the kernel's leaks into ring 3 through a register. */
	xor %ebp, %ebp
	xor %r8d, %r8d
	xor %r9d, %r9d
	xor %r10d, %r10d
	xor %r14d, %r14d
	xor %r15d, %r15d
	cmpq $USER_ENTRY_SYSRETQ, LAUNCH_ENTRY(%rax)
	je 1f
	pushq $USER_DATA_SELECTOR
	pushq LAUNCH_RSP(%rax)
	pushq LAUNCH_RFLAGS(%rax)
	pushq $USER_CODE_SELECTOR
	pushq LAUNCH_RIP(%rax)
	xor %eax, %eax
	xor %ecx, %ecx
	xor %r11d, %r11d
	iretq
	/* SYSRETQ takes RIP from RCX and RFLAGS from R11 (SDM Vol. 3A 5.8.8). */
1:	mov LAUNCH_RIP(%rax), %rcx
	mov LAUNCH_RFLAGS(%rax), %r11
	mov LAUNCH_RSP(%rax), %rsp
	xor %eax, %eax
	sysretq

	.globl user_leave
user_leave:
	mov user_kernel_rsp(%rip), %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret

/*
 * SYSCALL leaves RSP as ring 3 had it.  One CPU and no GS: the user RSP goes
 * to a variable, and the frame is built on TSS.RSP0 like an exception's.
 */
	.globl syscall_entry
syscall_entry:
	mov %rsp, syscall_user_rsp(%rip)
	mov task_state + TSS_RSP0(%rip), %rsp
	pushq $USER_DATA_SELECTOR
	pushq syscall_user_rsp(%rip)
	push %r11
	pushq $USER_CODE_SELECTOR
	push %rcx
	pushq $0
	pushq $SYSCALL_FRAME_VECTOR
	jmp interrupt_common

	.bss
	.balign 8
user_kernel_rsp:
	.quad 0
syscall_user_rsp:
	.quad 0

	.section .user.text, "ax"
/* Entered at CPL 3: arguments in RDI, RSI, RDX, R13; function in R12; way back in RBX. */
	.globl user_trampoline
user_trampoline:
	mov %r13, %rcx
	call *%r12
	mov %rax, %rsi
	mov $SYSTEM_CALL_EXIT, %edi
	cmp $USER_EXIT_SYSCALL, %rbx
	je 1f
	cmp $USER_EXIT_INTERRUPT, %rbx
	je 2f
	call user_system_call
	ud2
1:	syscall
	ud2
2:	int $USER_INTERRUPT_VECTOR
	ud2

/* u64 user_system_call(number, a, b, c): INT3 at a known address. */
	.globl user_system_call
user_system_call:
	mov %rcx, %r10
	.globl user_system_call_breakpoint
user_system_call_breakpoint:
	int3
	ret

/*
 * u64 user_call_or_fault(target): 0, or the exception code of a fault that
 * no fix-up entry claims.  The kernel recognises such a fault by the return
 * address on top of the user stack and resumes at user_call_probe_resume
 * with the code in RDI.
 */
	.globl user_call_or_fault
user_call_or_fault:
	mov %rdi, %rax
	call *%rax
	.globl user_call_probe_return
user_call_probe_return:
	xor %edi, %edi
	.globl user_call_probe_resume
user_call_probe_resume:
	mov %rdi, %rax
	ret
