/*
 * test-fixtures.h: what several tests need and none owns: a function to
 * copy into a page and call, the #PF error codes of the protection faults,
 * and values that no real access produces.
 */
#ifndef CANON_TEST_FIXTURES_H
#define CANON_TEST_FIXTURES_H

#include "types.h"
#include "page-table.h"

/* Protection faults on a present page, by access (SDM Vol. 3A 4.7). */
#define READ_FAULT PAGE_FAULT_PRESENT
#define WRITE_FAULT (PAGE_FAULT_PRESENT | PAGE_FAULT_WRITE)
#define FETCH_FAULT (PAGE_FAULT_PRESENT | PAGE_FAULT_FETCH)

/* Canonical, never a faulting address: CR2 holds it until a #PF changes it. */
#define CR2_SENTINEL 0x00000000c2c2c000ULL

#define RET_INSTRUCTION 0xc3
#define NOP_INSTRUCTION 0x90

/*
 * The bytes of "mov $MAGIC_FUNCTION_RESULT, %eax; ret": copied into a page
 * and called, they show that the fetch happened and the code ran.
 */
#define MAGIC_FUNCTION_RESULT 0x0e7ecu
#define MAGIC_FUNCTION_SIZE 6
extern const u8 magic_function[MAGIC_FUNCTION_SIZE];

/*
 * The I/D bit of a fetch's #PF under the current CR4.SMEP and EFER.NXE:
 * Intel sets it when SMEP=1 or NXE=1 (SDM Vol. 3A 4.7); AMD defines it only
 * when NXE=1 (APM Vol. 2 8.4.2), so there *undefined gets it otherwise.
 */
u32 fetch_fault_flag(u32 *undefined);

#endif
