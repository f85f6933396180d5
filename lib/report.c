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

/*
 * The errata list: entries "[~]pattern[*]=outcome[/outcome...][+condition...]",
 * split once, each kept as pointers into the command line.
 */
#define MAX_ERRATA 128
#define OBSERVED_BUFFER 64

struct erratum {
	const char *slug;      /* not NUL-terminated: length bytes */
	size_t length;
	bool prefix;           /* a trailing '*': any continuation matches */
	bool intermittent;     /* a leading '~' */
	const char *outcomes;  /* "gp-0/pf-0x1": outcomes_length bytes */
	size_t outcomes_length;
	bool applies;          /* every condition holds on this CPU */
	bool used;             /* matched at least one check */
	unsigned position;     /* 1-based, in the list as the runner gave it */
};

static struct erratum errata[MAX_ERRATA];
static unsigned errata_count;

/* What the next check observed, in words, or how to put it in words. */
static char observed_words[OBSERVED_BUFFER];
static void (*observed_describer)(char *buffer, size_t size);

/* The length of the run of text before any of the stop characters. */
static size_t span_until(const char *text, size_t length, const char *stops)
{
	size_t i = 0;

	while (i < length && !strchr(stops, text[i]))
		i++;
	return i;
}

/* Do all the "+condition" words in text[0..length) hold? */
static bool conditions_hold(const char *text, size_t length,
			    bool (*condition_holds)(const char *word, size_t length))
{
	while (length && *text == '+') {
		size_t word = span_until(text + 1, length - 1, "+");

		if (!condition_holds || !condition_holds(text + 1, word))
			return false;
		text += word + 1;
		length -= word + 1;
	}
	return true;
}

static void parse_erratum(struct erratum *entry, const char *text, size_t length,
			  bool (*condition_holds)(const char *word, size_t length))
{
	size_t pattern, outcomes;

	entry->intermittent = length && *text == '~';
	text += entry->intermittent;
	length -= entry->intermittent;
	pattern = span_until(text, length, "=+");
	entry->prefix = pattern && text[pattern - 1] == '*';
	entry->slug = text;
	entry->length = pattern - entry->prefix;
	text += pattern;
	length -= pattern;
	outcomes = 0;
	if (length && *text == '=') {
		outcomes = span_until(text + 1, length - 1, "+");
		text++;
		length--;
	}
	entry->outcomes = text;
	entry->outcomes_length = outcomes;
	text += outcomes;
	length -= outcomes;
	entry->applies = conditions_hold(text, length, condition_holds);
	entry->used = false;
}

void report_set_errata(const char *list,
		       bool (*condition_holds)(const char *word, size_t length))
{
	unsigned position = 0;

	errata_count = 0;
	while (list && *list) {
		const char *end = strchr(list, ',');
		size_t length = end ? (size_t)(end - list) : strlen(list);

		position++;
		if (errata_count == MAX_ERRATA) {
			report_info("errata: entry %u and later ignored (at most %u)", position,
				    MAX_ERRATA);
			return;
		}
		parse_erratum(&errata[errata_count], list, length, condition_holds);
		errata[errata_count].position = position;
		if (errata[errata_count].length)
			errata_count++;
		list = end ? end + 1 : NULL;
	}
}

static bool pattern_matches(const struct erratum *entry, const char *slug, size_t length)
{
	return entry->slug[0] == slug[0] && entry->length <= length &&
	       (entry->prefix || entry->length == length) &&
	       !memcmp(entry->slug, slug, entry->length);
}

/* Is the observed outcome's slug one of the entry's "a/b/c"? */
static bool outcome_listed(const struct erratum *entry, const char *observed)
{
	size_t observed_length = strlen(observed);
	const char *outcome = entry->outcomes;
	size_t left = entry->outcomes_length;

	while (left) {
		size_t length = span_until(outcome, left, "/");

		if (length == observed_length && !memcmp(outcome, observed, length))
			return true;
		outcome += length + (length < left);
		left -= length + (length < left);
	}
	return false;
}

/* What the errata list says about one check. */
struct listing {
	const struct erratum *first; /* the first entry that names it, or NULL */
	bool outcome_listed;         /* some entry records what was observed */
	char observed[OBSERVED_BUFFER];
};

void report_observed(const char *words)
{
	size_t i = 0;

	for (; words[i] && i + 1 < sizeof(observed_words); i++)
		observed_words[i] = words[i];
	observed_words[i] = '\0';
	observed_describer = NULL;
}

void report_observed_by(void (*describe)(char *buffer, size_t size))
{
	observed_words[0] = '\0';
	observed_describer = describe;
}

/* The pending observation in words ("" when the check gave none). */
static void take_observation(char *buffer, size_t size)
{
	if (observed_describer)
		observed_describer(buffer, size);
	else
		snprintf(buffer, size, "%s", observed_words);
}

/*
 * Which entries name the check called message under the prefixes; each one
 * that does is used.  The observation is put in words only for a listed
 * check that failed: formatting is costly under emulation.
 */
static void find_listing(const char *message, bool pass, struct listing *listing)
{
	char name[LINE_BUFFER + PREFIX_BUFFER], slug[LINE_BUFFER + PREFIX_BUFFER];
	char observed_slug[OBSERVED_BUFFER];
	size_t length;

	listing->first = NULL;
	listing->outcome_listed = false;
	listing->observed[0] = '\0';
	if (!errata_count)
		return;
	snprintf(name, sizeof(name), "%s%s", prefixes, message);
	length = strlen(report_slug(name, slug, sizeof(slug)));
	for (unsigned i = 0; i < errata_count; i++) {
		if (!errata[i].applies || !pattern_matches(&errata[i], slug, length))
			continue;
		errata[i].used = true;
		if (!listing->first) {
			listing->first = &errata[i];
			if (!pass)
				take_observation(listing->observed, sizeof(listing->observed));
			report_slug(listing->observed, observed_slug, sizeof(observed_slug));
		}
		if (!pass && outcome_listed(&errata[i], observed_slug))
			listing->outcome_listed = true;
	}
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
 * A listed case is XFAIL when it fails the way its entry records and XPASS
 * (an unexpected failure) when it passes, so that a fixed implementation
 * gets noticed; a failure of another kind is a FAIL that says so.  An
 * intermittent entry's pass is a plain PASS: it does both on one host.
 */
static void record(bool pass, const char *message)
{
	struct listing listing;

	find_listing(message, pass, &listing);
	observed_words[0] = '\0';
	observed_describer = NULL;
	tests++;
	if (!listing.first || (pass && listing.first->intermittent)) {
		failures += !pass;
		print_line(pass ? "PASS" : "FAIL", message);
	} else if (pass) {
		failures++;
		print_line("XPASS", message);
	} else if (listing.outcome_listed) {
		expected_failures++;
		print_line("XFAIL", message);
	} else {
		char line[LINE_BUFFER], listed[OBSERVED_BUFFER];
		size_t length = listing.first->outcomes_length;

		failures++;
		if (length >= sizeof(listed))
			length = sizeof(listed) - 1;
		memcpy(listed, listing.first->outcomes, length);
		listed[length] = '\0';
		snprintf(line, sizeof(line),
			 "%s (listed as an erratum, but failed differently: got %s, listed %s)",
			 message, listing.observed[0] ? listing.observed : "no recorded outcome",
			 length ? listed : "no outcome");
		print_line("FAIL", line);
	}
}

static void record_checked(bool pass, const char *format, va_list arguments)
{
	char message[LINE_BUFFER];

	vsnprintf(message, sizeof(message), format, arguments);
	record(pass, message);
}

bool report(bool pass, const char *format, ...)
{
	va_list arguments;

	va_start(arguments, format);
	record_checked(pass, format, arguments);
	va_end(arguments);
	return pass;
}

void report_fail(const char *format, ...)
{
	va_list arguments;

	va_start(arguments, format);
	record_checked(false, format, arguments);
	va_end(arguments);
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

/* "ERRATA: used=1,3 unused=2": 1-based positions of the entries whose conditions hold. */
static void print_errata_use(void)
{
	char line[16 + 8 * MAX_ERRATA];
	size_t length = 0;

	for (int used = 1; used >= 0; used--) {
		bool first = true;

		length += (size_t)snprintf(line + length, sizeof(line) - length, "%s",
					   used ? "ERRATA: used=" : " unused=");
		for (unsigned i = 0; i < errata_count; i++) {
			if (!errata[i].applies || errata[i].used != used)
				continue;
			length += (size_t)snprintf(line + length, sizeof(line) - length, "%s%u",
						   first ? "" : ",", errata[i].position);
			first = false;
		}
	}
	snprintf(line + length, sizeof(line) - length, "\n");
	print_string(line);
}

int report_summary(void)
{
	if (errata_count)
		print_errata_use();
	printf("SUMMARY: %u tests, %u unexpected failures", tests, failures);
	if (expected_failures)
		printf(", %u expected failures", expected_failures);
	printf(", %u skipped\n", skipped);
	if (failures)
		return 1;
	return skipped == tests ? 77 : 0;
}
