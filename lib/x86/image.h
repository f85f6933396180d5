/*
 * image.h: the bounds of the image's sections, from flat.lds.S.  Kernel
 * bounds are upper-half addresses; user bounds are lower-half addresses;
 * *_physical_* symbols are absolute physical addresses.
 */
#ifndef CANON_IMAGE_H
#define CANON_IMAGE_H

#include "types.h"

extern char kernel_text_start[], kernel_text_end[];
extern char kernel_rodata_start[], kernel_rodata_end[];
extern char kernel_data_start[], kernel_data_end[];
extern char kernel_bss_start[], kernel_bss_end[];
extern char user_text_start[], user_text_end[];
extern char user_rodata_start[], user_rodata_end[];
extern char user_data_start[], user_data_end[];
extern char image_load_physical_start[], image_physical_end[];
extern char boot_physical_start[], boot_physical_end[];

/* Link-time addresses as numbers (they are not all reachable from C). */
#define IMAGE_ADDRESS(symbol) ((u64)(symbol))

#endif
