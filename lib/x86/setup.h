/*
 * setup.h: what the kernel does between the 64-bit entry and the test's
 * main(), and the state it leaves behind for tests to read.
 */
#ifndef CANON_SETUP_H
#define CANON_SETUP_H

#include "types.h"
#include "boot-handoff.h"

/* The test program's entry point; its return value is the exit code. */
int main(int argc, char **argv);

/* Called once by kernel_entry64 (cstart64.S). */
void NORETURN kernel_setup(struct boot_handoff *handoff);

/* Is word one the framework consumes (la57, errata=..., nosmap ...), not the test's? */
bool is_framework_argument(const char *word);

/* "multiboot" or "PVH". */
const char *loader_name(void);

/* Stack tops, for tests that inspect the layout. */
extern u64 kernel_stack_top, ring0_stack_top;

#endif
