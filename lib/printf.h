/*
 * printf.h: formatted output.  Conversions: %d %i %u %x %X %o %c %s %p %%,
 * with the l, ll and z length modifiers, a field width (or *), zero
 * padding, '-' to left-justify and '#' for a 0x prefix.
 */
#ifndef CANON_PRINTF_H
#define CANON_PRINTF_H

#include "types.h"

int printf(const char *format, ...) PRINTF_FORMAT(1, 2);
int vprintf(const char *format, va_list arguments);
int snprintf(char *buffer, size_t size, const char *format, ...) PRINTF_FORMAT(3, 4);
int vsnprintf(char *buffer, size_t size, const char *format, va_list arguments);
void print_string(const char *string);
void print_bytes(const char *bytes, size_t length);

/*
 * Building a string by plain copying, for code that runs once per check:
 * under a hypervisor that emulates every instruction an snprintf costs
 * about half a millisecond.  The text stays NUL-terminated and cut to size.
 */
struct text {
	char *buffer;
	size_t size, length;
};
void text_append(struct text *text, const char *words);
/* "0" or "0x" and the hex digits, as %#x writes them. */
void text_append_hex(struct text *text, u64 value);

/* Where printf's bytes go; set once by the architecture's console. */
void printf_set_output(void (*write)(const char *bytes, size_t length));

#endif
