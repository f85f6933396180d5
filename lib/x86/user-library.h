/*
 * user-library.h: what ring 3 code can call.  Everything here runs at CPL 3
 * and reaches the kernel only through the INT3 system call, which works on
 * every hypervisor, so a test can run several checks inside ring 3.
 */
#ifndef CANON_USER_LIBRARY_H
#define CANON_USER_LIBRARY_H

#include "user.h"

/* Print text (a user string) on the console. */
void user_print(const char *text);
/* One check, reported by the kernel under its current prefixes. */
bool user_report(bool pass, const char *name);
size_t user_string_length(const char *text);

/*
 * One-instruction probes for user code: the raw exception code (0, or
 * EXCEPTION_CODE(vector, error code)).  CR2 and RIP stay in the kernel's
 * last_exception, which ring 3 cannot read.
 */
static inline __attribute__((always_inline)) u64 user_read_u64_or_fault(u64 address)
{
	u64 code = 0, value;

	asm volatile("1: movq (%[address]), %[value]\n2:\n" EXCEPTION_FIXUP("1b", "2b")
		     : [value] "=r"(value), "+D"(code)
		     : [address] "r"(address)
		     : "memory");
	return code;
}

static inline __attribute__((always_inline)) u64 user_write_u64_or_fault(u64 address, u64 value)
{
	u64 code = 0;

	asm volatile("1: movq %[value], (%[address])\n2:\n" EXCEPTION_FIXUP("1b", "2b")
		     : "+D"(code)
		     : [address] "r"(address), [value] "r"(value)
		     : "memory");
	return code;
}

#endif
