/* report.c: PASS/FAIL/SKIP lines, prefixes, errata and the summary. */
#include "report.h"
#include "memory.h"
#include "printf.h"

#define PREFIX_BUFFER 256
#define LINE_BUFFER 512

static char prefixes[PREFIX_BUFFER];
static unsigned tests, failures, expected_failures, skipped;

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

/* What the errata list says about a check. */
enum erratum { NOT_LISTED, LISTED, LISTED_INTERMITTENT };

#define MAX_ERRATA 64

/* The errata list, split once: each check is compared against it. */
static struct {
	const char *slug;   /* not NUL-terminated: length bytes */
	size_t length;
	bool prefix;        /* a trailing '*': any continuation matches */
	bool intermittent;  /* a leading '~' */
} errata[MAX_ERRATA];
static unsigned errata_count;

void report_set_errata(const char *list)
{
	errata_count = 0;
	while (list && *list && errata_count < MAX_ERRATA) {
		const char *end = strchr(list, ',');
		size_t length = end ? (size_t)(end - list) : strlen(list);

		errata[errata_count].intermittent = *list == '~';
		list += errata[errata_count].intermittent;
		length -= errata[errata_count].intermittent;
		errata[errata_count].prefix = length && list[length - 1] == '*';
		errata[errata_count].slug = list;
		errata[errata_count].length = length - errata[errata_count].prefix;
		if (errata[errata_count].length)
			errata_count++;
		list = end ? end + 1 : NULL;
	}
}

static enum erratum find_erratum(const char *slug)
{
	size_t length = strlen(slug);

	for (unsigned i = 0; i < errata_count; i++) {
		if (errata[i].slug[0] != slug[0] || errata[i].length > length ||
		    (!errata[i].prefix && errata[i].length != length) ||
		    memcmp(errata[i].slug, slug, errata[i].length))
			continue;
		return errata[i].intermittent ? LISTED_INTERMITTENT : LISTED;
	}
	return NOT_LISTED;
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

/*
 * A listed case is XFAIL when it fails and XPASS (an unexpected failure)
 * when it passes, so that a fixed accelerator gets noticed.  An intermittent
 * one does both on the same host, so its pass is a plain PASS.
 */
static void record(bool pass, enum erratum erratum, const char *message)
{
	tests++;
	if (erratum == LISTED_INTERMITTENT && pass)
		erratum = NOT_LISTED;
	if (erratum != NOT_LISTED) {
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

/* What the errata list says of the check named message under the prefixes. */
static enum erratum listed_erratum(const char *message)
{
	char name[LINE_BUFFER + PREFIX_BUFFER];
	char slug[LINE_BUFFER + PREFIX_BUFFER];

	if (!errata_count)
		return NOT_LISTED;
	snprintf(name, sizeof(name), "%s%s", prefixes, message);
	return find_erratum(report_slug(name, slug, sizeof(slug)));
}

static void record_checked(bool pass, const char *format, va_list arguments)
{
	char message[LINE_BUFFER];

	vsnprintf(message, sizeof(message), format, arguments);
	record(pass, listed_erratum(message), message);
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
	record(pass, expected_to_fail ? LISTED : listed_erratum(message), message);
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
