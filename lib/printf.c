/* printf.c: a small printf for the kernel, checked by the compiler. */
#include "printf.h"
#include "memory.h"

struct output {
	char *buffer;
	size_t size;
	size_t length; /* bytes produced, even past size */
};

struct conversion {
	unsigned width;
	bool left_justify;
	bool zero_pad;
	bool alternate;
	int length_modifier; /* 0, 1 (l) or 2 (ll / z) */
};

/*
 * printf knows no device: the architecture's console registers where the
 * bytes go (printf_set_output), and until it has, they are dropped.
 */
static void (*output_bytes)(const char *bytes, size_t length);

void printf_set_output(void (*write)(const char *bytes, size_t length))
{
	output_bytes = write;
}

static void emit(struct output *out, char c)
{
	if (out->length + 1 < out->size)
		out->buffer[out->length] = c;
	out->length++;
}

/* A run of literal text: one copy instead of a call per byte. */
static void emit_run(struct output *out, const char *text, size_t length)
{
	if (out->length < out->size) {
		size_t room = out->size - 1 - out->length;

		memcpy(out->buffer + out->length, text, length < room ? length : room);
	}
	out->length += length;
}

static void emit_padding(struct output *out, char c, int count)
{
	while (count-- > 0)
		emit(out, c);
}

static void emit_field(struct output *out, const struct conversion *conversion,
		       const char *prefix, const char *digits, size_t digit_count)
{
	size_t prefix_length = strlen(prefix);
	int padding = (int)conversion->width - (int)(prefix_length + digit_count);

	if (!conversion->left_justify && !conversion->zero_pad)
		emit_padding(out, ' ', padding);
	while (*prefix)
		emit(out, *prefix++);
	if (!conversion->left_justify && conversion->zero_pad)
		emit_padding(out, '0', padding);
	emit_run(out, digits, digit_count);
	if (conversion->left_justify)
		emit_padding(out, ' ', padding);
}

static void emit_number(struct output *out, const struct conversion *conversion, u64 value,
			unsigned base, bool negative, bool uppercase, const char *prefix)
{
	const char *symbols = uppercase ? "0123456789ABCDEF" : "0123456789abcdef";
	char digits[24];
	size_t count = 0;
	char reversed[24];

	do {
		reversed[count++] = symbols[value % base];
		value /= base;
	} while (value);
	for (size_t i = 0; i < count; i++)
		digits[i] = reversed[count - 1 - i];
	emit_field(out, conversion, negative ? "-" : prefix, digits, count);
}

static const char *parse_conversion(const char *format, struct conversion *conversion,
				    va_list *arguments)
{
	*conversion = (struct conversion){ 0 };
	for (;; format++) {
		if (*format == '-')
			conversion->left_justify = true;
		else if (*format == '0')
			conversion->zero_pad = true;
		else if (*format == '#')
			conversion->alternate = true;
		else
			break;
	}
	if (*format == '*') {
		conversion->width = (unsigned)va_arg(*arguments, int);
		format++;
	}
	while (*format >= '0' && *format <= '9')
		conversion->width = conversion->width * 10 + (unsigned)(*format++ - '0');
	while (*format == 'l') {
		conversion->length_modifier++;
		format++;
	}
	if (*format == 'z') {
		conversion->length_modifier = 2;
		format++;
	}
	return format;
}

static u64 take_unsigned(const struct conversion *conversion, va_list *arguments)
{
	if (conversion->length_modifier >= 2)
		return va_arg(*arguments, unsigned long long);
	if (conversion->length_modifier == 1)
		return va_arg(*arguments, unsigned long);
	return va_arg(*arguments, unsigned int);
}

static s64 take_signed(const struct conversion *conversion, va_list *arguments)
{
	if (conversion->length_modifier >= 2)
		return va_arg(*arguments, long long);
	if (conversion->length_modifier == 1)
		return va_arg(*arguments, long);
	return va_arg(*arguments, int);
}

static void format_one(struct output *out, char specifier, struct conversion *conversion,
		       va_list *arguments)
{
	switch (specifier) {
	case 'd':
	case 'i': {
		s64 value = take_signed(conversion, arguments);
		u64 magnitude = value < 0 ? -(u64)value : (u64)value;

		emit_number(out, conversion, magnitude, 10, value < 0, false, "");
		break;
	}
	case 'u':
		emit_number(out, conversion, take_unsigned(conversion, arguments), 10, false, false, "");
		break;
	case 'x':
	case 'X': {
		u64 value = take_unsigned(conversion, arguments);

		/* As in C: '#' prefixes 0x to a nonzero value only. */
		emit_number(out, conversion, value, 16, false, specifier == 'X',
			    conversion->alternate && value ? "0x" : "");
		break;
	}
	case 'o':
		emit_number(out, conversion, take_unsigned(conversion, arguments), 8, false, false,
			    conversion->alternate ? "0" : "");
		break;
	case 'p':
		emit_number(out, conversion, (u64)va_arg(*arguments, void *), 16, false, false, "0x");
		break;
	case 'c': {
		char c = (char)va_arg(*arguments, int);

		emit_field(out, conversion, "", &c, 1);
		break;
	}
	case 's': {
		const char *string = va_arg(*arguments, const char *);

		if (!string)
			string = "(null)";
		conversion->zero_pad = false;
		emit_field(out, conversion, "", string, strlen(string));
		break;
	}
	case '%':
		emit(out, '%');
		break;
	default: /* unknown: print it as written, so the mistake is visible */
		emit(out, '%');
		emit(out, specifier);
		break;
	}
}

int vsnprintf(char *buffer, size_t size, const char *format, va_list arguments)
{
	struct output out = { .buffer = buffer, .size = size };
	va_list copy;

	va_copy(copy, arguments);
	while (*format) {
		struct conversion conversion;

		if (*format != '%') {
			const char *percent = strchr(format, '%');
			size_t run = percent ? (size_t)(percent - format) : strlen(format);

			emit_run(&out, format, run);
			format += run;
			continue;
		}
		format = parse_conversion(format + 1, &conversion, &copy);
		if (!*format)
			break;
		format_one(&out, *format++, &conversion, &copy);
	}
	va_end(copy);
	if (size)
		buffer[out.length < size ? out.length : size - 1] = '\0';
	return (int)out.length;
}

int snprintf(char *buffer, size_t size, const char *format, ...)
{
	va_list arguments;
	int length;

	va_start(arguments, format);
	length = vsnprintf(buffer, size, format, arguments);
	va_end(arguments);
	return length;
}

int vprintf(const char *format, va_list arguments)
{
	char buffer[512];
	int length = vsnprintf(buffer, sizeof(buffer), format, arguments);
	size_t written = (size_t)length < sizeof(buffer) ? (size_t)length : sizeof(buffer) - 1;

	if (output_bytes)
		output_bytes(buffer, written);
	return length;
}

int printf(const char *format, ...)
{
	va_list arguments;
	int length;

	va_start(arguments, format);
	length = vprintf(format, arguments);
	va_end(arguments);
	return length;
}

void print_bytes(const char *bytes, size_t length)
{
	if (output_bytes)
		output_bytes(bytes, length);
}

void print_string(const char *string)
{
	print_bytes(string, strlen(string));
}

void text_append(struct text *text, const char *words)
{
	while (*words && text->length + 1 < text->size)
		text->buffer[text->length++] = *words++;
	if (text->size)
		text->buffer[text->length] = '\0';
}

void text_append_hex(struct text *text, u64 value)
{
	char digits[20];
	int count = 0;

	if (!value) {
		text_append(text, "0");
		return;
	}
	while (value) {
		digits[count++] = "0123456789abcdef"[value & 0xf];
		value >>= 4;
	}
	text_append(text, "0x");
	while (count--)
		text_append(text, (char[2]){ digits[count], '\0' });
}
