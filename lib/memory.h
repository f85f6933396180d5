/* memory.h: the few string and memory functions the kernel needs. */
#ifndef CANON_MEMORY_H
#define CANON_MEMORY_H

#include "types.h"

void *memset(void *destination, int value, size_t length);
void *memcpy(void *destination, const void *source, size_t length);
void *memmove(void *destination, const void *source, size_t length);
int memcmp(const void *a, const void *b, size_t length);
size_t strlen(const char *string);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t length);
char *strchr(const char *string, int character);

#endif
