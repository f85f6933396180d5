/* boot-memory.h: feeding the loader's memory map to the page allocator. */
#ifndef CANON_BOOT_MEMORY_H
#define CANON_BOOT_MEMORY_H

#include "boot-handoff.h"

/*
 * Adds every RAM range of the multiboot or PVH memory map (above 1 MiB) to
 * the physical allocator, then reserves the image and every byte the loader
 * left for us.
 */
void boot_memory_init(const struct boot_handoff *handoff);

#endif
