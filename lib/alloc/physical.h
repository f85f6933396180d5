/*
 * physical.h: the physical page allocator.
 *
 * It knows RAM as ranges of page frames, fed from the loader's memory map,
 * and hands out runs of frames with a requested alignment: single pages,
 * and 2 MiB or 1 GiB aligned runs for large pages.  It knows nothing of
 * page tables; zeroing is done through a function the architecture
 * installs, because reaching a frame needs a mapping.
 */
#ifndef CANON_PHYSICAL_H
#define CANON_PHYSICAL_H

#include "types.h"

#define PHYSICAL_ALLOCATION_FAILED (~0ULL)
#define PHYSICAL_ZERO (1 << 0) /* zero the run before returning it */

/* Declare [start, end) as RAM; partial pages at either end are dropped. */
void physical_add_ram(u64 start, u64 end);
/* Keep [start, end) from ever being handed out (image, loader data, ...). */
void physical_reserve(u64 start, u64 end);
/* Install the function that zeroes count frames starting at address. */
void physical_set_zero_function(void (*zero)(u64 address, u64 count));

/* A run of count frames aligned to alignment bytes, or ..._FAILED. */
u64 physical_alloc(u64 count, u64 alignment, unsigned flags);
/* Return a run; false (and nothing changes) if any frame was not handed out. */
bool physical_free(u64 address, u64 count);
/* True when the frame at address is RAM that this allocator manages. */
bool physical_is_ram(u64 address);

u64 physical_free_frames(void);
/* Highest RAM address + 1. */
u64 physical_ram_end(void);

#endif
