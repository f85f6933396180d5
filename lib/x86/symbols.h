/*
 * symbols.h: the image's own symbol table, linked into the image by a
 * second link pass (scripts/symbols.sh), so backtraces name functions.
 */
#ifndef CANON_SYMBOLS_H
#define CANON_SYMBOLS_H

#include "types.h"

struct kernel_symbol {
	u64 address;
	const char *name;
};

extern const struct kernel_symbol kernel_symbol_table[];
extern const u64 kernel_symbol_count;
extern const char image_name[];

/* The function containing address, and the offset into it; NULL if none. */
const char *symbol_lookup(u64 address, u64 *offset);
/* Prints "0x... <name+0x12>". */
void print_symbolized(u64 address);
/* Prints the frame-pointer chain from rbp, starting with rip. */
void print_backtrace(u64 rip, u64 rbp);

#endif
