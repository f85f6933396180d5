/* types.h: the fixed-width types every file uses (compiler headers only). */
#ifndef CANON_TYPES_H
#define CANON_TYPES_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

#define ARRAY_SIZE(array) (sizeof(array) / sizeof((array)[0]))
#define ALIGN_UP(value, alignment) (((value) + (alignment) - 1) & ~((alignment) - 1))
#define ALIGN_DOWN(value, alignment) ((value) & ~((alignment) - 1))
#define BIT(n) (1ULL << (n))

#define NORETURN __attribute__((noreturn))
#define PRINTF_FORMAT(format_index, first_argument) \
	__attribute__((format(printf, format_index, first_argument)))

#endif
