/* report.c: PASS/FAIL/SKIP lines, prefixes, errata and the summary. */
#include "report.h"
#include "memory.h"
#include "printf.h"

#define PREFIX_BUFFER 256
#define LINE_BUFFER 512

static char prefixes[PREFIX_BUFFER];
static unsigned tests, failures, expected_failures, skipped;
static const char *errata_list;

void report_prefix_push(const char *prefix)
{
	size_t length = strlen(prefixes);

	snprintf(prefixes + length, sizeof(prefixes) - length, "%s: ", prefix);
}

void report_prefix_pushf(const char *format, ...)
{
	char prefix[128];
	va_list arguments;

	va_start(arguments, format);
	vsnprintf(prefix, sizeof(prefix), format, arguments);
	va_end(arguments);
	report_prefix_push(prefix);
}

void report_prefix_pop(void)
{
	size_t length = strlen(prefixes);

	if (length < 2)
		return;
	length -= 2; /* the ": " of the last prefix */
	while (length && !(prefixes[length - 1] == ' ' && prefixes[length - 2] == ':'))
		length--;
	prefixes[length] = '\0';
}

char *report_slug(const char *text, char *output, size_t size)
{
	size_t length = 0;
	bool pending_separator = false;

	for (; *text && length + 2 < size; text++) {
		char c = *text;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (pending_separator && length)
				output[length++] = '-';
			pending_separator = false;
			output[length++] = c;
		} else {
			pending_separator = true;
		}
	}
	output[length] = '\0';
	return output;
}

void report_set_errata(const char *list)
{
	errata_list = list;
}

/* Does slug match one comma-separated entry of the errata list? */
static bool is_erratum(const char *slug)
{
	const char *entry = errata_list;

	while (entry && *entry) {
		const char *end = strchr(entry, ',');
		size_t length = end ? (size_t)(end - entry) : strlen(entry);

		if (length && entry[length - 1] == '*') {
			if (!strncmp(slug, entry, length - 1))
				return true;
		} else if (length == strlen(slug) && !strncmp(slug, entry, length)) {
			return true;
		}
		entry = end ? end + 1 : NULL;
	}
	return false;
}

/* One line, formatted once and written once: output is costly under emulation. */
static void print_line(const char *kind, const char *message)
{
	char line[PREFIX_BUFFER + LINE_BUFFER + 16];
	int length = snprintf(line, sizeof(line), "%s: %s%s\n", kind, prefixes, message);

	if ((size_t)length >= sizeof(line)) {
		length = sizeof(line) - 1;
		line[length - 1] = '\n';
	}
	print_bytes(line, (size_t)length);
}

static void record(bool pass, bool expected_to_fail, const char *message)
{
	tests++;
	if (expected_to_fail) {
		if (pass)
			failures++;
		else
			expected_failures++;
		print_line(pass ? "XPASS" : "XFAIL", message);
		return;
	}
	if (!pass)
		failures++;
	print_line(pass ? "PASS" : "FAIL", message);
}

/* Is the check named message (under the current prefixes) a listed erratum? */
static bool is_listed_erratum(const char *message)
{
	char name[LINE_BUFFER + PREFIX_BUFFER];
	char slug[LINE_BUFFER + PREFIX_BUFFER];

	if (!errata_list)
		return false;
	snprintf(name, sizeof(name), "%s%s", prefixes, message);
	return is_erratum(report_slug(name, slug, sizeof(slug)));
}

static void record_checked(bool pass, const char *format, va_list arguments)
{
	char message[LINE_BUFFER];

	vsnprintf(message, sizeof(message), format, arguments);
	record(pass, is_listed_erratum(message), message);
}

bool report(bool pass, const char *format, ...)
{
	va_list arguments;

	va_start(arguments, format);
	record_checked(pass, format, arguments);
	va_end(arguments);
	return pass;
}

void report_pass(const char *format, ...)
{
	va_list arguments;

	va_start(arguments, format);
	record_checked(true, format, arguments);
	va_end(arguments);
}

void report_fail(const char *format, ...)
{
	va_list arguments;

	va_start(arguments, format);
	record_checked(false, format, arguments);
	va_end(arguments);
}

void report_xfail(bool expected_to_fail, bool pass, const char *format, ...)
{
	char message[LINE_BUFFER];
	va_list arguments;

	va_start(arguments, format);
	vsnprintf(message, sizeof(message), format, arguments);
	va_end(arguments);
	record(pass, expected_to_fail || is_listed_erratum(message), message);
}

void report_skip(const char *format, ...)
{
	char message[LINE_BUFFER];
	va_list arguments;

	va_start(arguments, format);
	vsnprintf(message, sizeof(message), format, arguments);
	va_end(arguments);
	tests++;
	skipped++;
	print_line("SKIP", message);
}

void report_info(const char *format, ...)
{
	char message[LINE_BUFFER];
	va_list arguments;

	va_start(arguments, format);
	vsnprintf(message, sizeof(message), format, arguments);
	va_end(arguments);
	print_line("INFO", message);
}

unsigned report_tests(void)
{
	return tests;
}

unsigned report_failures(void)
{
	return failures;
}

int report_summary(void)
{
	printf("SUMMARY: %u tests, %u unexpected failures", tests, failures);
	if (expected_failures)
		printf(", %u expected failures", expected_failures);
	printf(", %u skipped\n", skipped);
	if (failures)
		return 1;
	return skipped == tests ? 77 : 0;
}
