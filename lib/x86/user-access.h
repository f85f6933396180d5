/*
 * user-access.h: the only way kernel code touches user memory.
 *
 * SMAP (CR4.SMAP) stays on for every test.  These helpers check that the
 * whole range is mapped user-accessible (and writable, for writes), then
 * set EFLAGS.AC for the copy alone.  They set AC with POPF, not STAC/CLAC:
 * POPF at CPL 0 may change AC (SDM Vol. 2B, POPF), and some hypervisors
 * cannot emulate STAC and CLAC.  Kernel code never dereferences a user
 * address anywhere else.
 */
#ifndef CANON_USER_ACCESS_H
#define CANON_USER_ACCESS_H

#include "types.h"

/* Copy length bytes; false, and nothing copied, if any byte is not user memory. */
bool copy_from_user(void *destination, u64 user_source, size_t length);
bool copy_to_user(u64 user_destination, const void *source, size_t length);

#endif
