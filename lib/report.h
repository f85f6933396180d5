/*
 * report.h: the kvm-unit-tests report API.
 *
 * Each check prints one line, "PASS: ", "FAIL: ", "SKIP: ", "XFAIL: " or
 * "XPASS: ", then the prefixes joined by ": ", then the message.  The last
 * line is "SUMMARY: N tests, M unexpected failures[, X expected
 * failures], K skipped".
 *
 * Errata: the runner passes "errata=name,name*,..." on the command line for
 * cases that this accelerator is known to get wrong.  A check whose printed
 * name, reduced to a slug (lowercase letters and digits, everything else
 * collapsed to '-'), matches an entry is reported as XFAIL when it fails and
 * XPASS when it passes; a trailing '*' matches any suffix.  An entry that
 * starts with '~' is intermittent (the accelerator gets it wrong on some
 * boots only): XFAIL when it fails, PASS when it passes.  The expectation
 * itself never changes.
 */
#ifndef CANON_REPORT_H
#define CANON_REPORT_H

#include "types.h"

void report_prefix_push(const char *prefix);
void report_prefix_pushf(const char *format, ...) PRINTF_FORMAT(1, 2);
void report_prefix_pop(void);

bool report(bool pass, const char *format, ...) PRINTF_FORMAT(2, 3);
void report_pass(const char *format, ...) PRINTF_FORMAT(1, 2);
void report_fail(const char *format, ...) PRINTF_FORMAT(1, 2);
void report_xfail(bool expected_to_fail, bool pass, const char *format, ...)
	PRINTF_FORMAT(3, 4);
void report_skip(const char *format, ...) PRINTF_FORMAT(1, 2);
void report_info(const char *format, ...) PRINTF_FORMAT(1, 2);

/* Install the errata list ("a,b*,c"); the string must stay alive. */
void report_set_errata(const char *list);
/* Reduce text to its slug form; returns output. */
char *report_slug(const char *text, char *output, size_t size);

/* Prints the SUMMARY line; returns the exit code: 0, 1 (failure) or 77. */
int report_summary(void);

#endif
