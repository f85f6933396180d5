/*
 * machine.h: leaving the guest.
 *
 * exit_test() writes the code to QEMU's isa-debug-exit device (port 0xf4),
 * which makes QEMU exit with status (code << 1) | 1: 1 for a pass, 3 for a
 * failure, 155 for "everything skipped".  With no exit device (plain
 * "qemu -kernel"), the guest powers the machine off through ACPI instead
 * (acpi.h), so it never hangs and never loops through resets.
 */
#ifndef CANON_MACHINE_H
#define CANON_MACHINE_H

#include "types.h"

#define DEBUG_EXIT_PORT 0xf4

void NORETURN exit_test(int code);

#endif
