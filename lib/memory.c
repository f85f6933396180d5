/* memory.c: freestanding memory and string functions. */
#include "memory.h"

/*
 * memset and memcpy use string instructions, eight bytes at a time: on a
 * hypervisor that emulates the guest, every instruction (and every
 * iteration of a REP) costs about as much as a VM exit.
 */
void *memset(void *destination, int value, size_t length)
{
	void *d = destination;
	u64 pattern = 0x0101010101010101ULL * (u8)value;
	size_t words = length / 8, bytes = length % 8;

	asm volatile("rep stosq" : "+D"(d), "+c"(words) : "a"(pattern) : "memory");
	asm volatile("rep stosb" : "+D"(d), "+c"(bytes) : "a"(pattern) : "memory");
	return destination;
}

void *memcpy(void *destination, const void *source, size_t length)
{
	void *d = destination;
	const void *s = source;
	size_t words = length / 8, bytes = length % 8;

	asm volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(words) : : "memory");
	asm volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(bytes) : : "memory");
	return destination;
}

void *memmove(void *destination, const void *source, size_t length)
{
	u8 *d = destination;
	const u8 *s = source;

	if (d <= s || d >= s + length)
		return memcpy(destination, source, length);
	while (length--)
		d[length] = s[length];
	return destination;
}

int memcmp(const void *a, const void *b, size_t length)
{
	const u8 *x = a, *y = b;

	for (; length; length--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *string)
{
	size_t length = 0;

	while (string[length])
		length++;
	return length;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (u8)*a - (u8)*b;
}

int strncmp(const char *a, const char *b, size_t length)
{
	for (; length; length--, a++, b++) {
		if (*a != *b)
			return (u8)*a - (u8)*b;
		if (!*a)
			break;
	}
	return 0;
}

char *strchr(const char *string, int character)
{
	for (;; string++) {
		if (*string == (char)character)
			return (char *)string;
		if (!*string)
			return NULL;
	}
}

