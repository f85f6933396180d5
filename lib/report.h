/*
 * report.h: the kvm-unit-tests report API.
 *
 * Each check prints one line, "PASS: ", "FAIL: ", "SKIP: ", "XFAIL: " or
 * "XPASS: ", then the prefixes joined by ": ", then the message.  The last
 * line is "SUMMARY: N tests, M unexpected failures[, X expected
 * failures], K skipped".
 *
 * Errata: the runner passes "errata=ENTRY,..." on the command line for the
 * cases an implementation is known to get wrong (x86/errata.txt).  An entry
 * is "[~]pattern[*]=outcome[/outcome...][+condition...]":
 *  - pattern: a check's slug (its printed name with the prefixes,
 *    lowercased, every run of characters other than a-z and 0-9 collapsed
 *    to '-'); a trailing '*' matches any rest;
 *  - outcome: the slug of what that implementation does there ("gp-0" for
 *    #GP(0), "none" for no exception, "zf-0" for ZF=0);
 *  - condition: a word the architecture code evaluates from CPUID ("intel",
 *    "amd"); the entry applies only when all hold.
 * A listed check is XFAIL when it fails with a listed outcome, a FAIL
 * ("failed differently") when it fails another way, and XPASS (an
 * unexpected failure) when it passes; a leading '~' marks an intermittent
 * erratum, whose pass is a plain PASS.  The expectation itself never
 * changes.  Before its SUMMARY the guest prints "ERRATA: used=1,3 unused=2",
 * the positions of the applicable entries that did and did not name a check,
 * so that the runner can report stale entries.
 */
#ifndef CANON_REPORT_H
#define CANON_REPORT_H

#include "types.h"

void report_prefix_push(const char *prefix);
void report_prefix_pop(void);

bool report(bool pass, const char *format, ...) PRINTF_FORMAT(2, 3);
void report_fail(const char *format, ...) PRINTF_FORMAT(1, 2);
void report_skip(const char *format, ...) PRINTF_FORMAT(1, 2);
void report_info(const char *format, ...) PRINTF_FORMAT(1, 2);

/*
 * Install the errata list; the string must stay alive.  condition_holds
 * says whether a "+condition" word holds (NULL: none does).
 */
void report_set_errata(const char *list,
		       bool (*condition_holds)(const char *word, size_t length));

/*
 * What the next check observed, for the errata list: report_observed("ZF=0")
 * copies the words; report_observed_by(describe) has them written only when
 * a listed check fails (formatting is costly under emulation).  The next
 * report consumes either.  outcome_matches() (exceptions.h) sets it.
 */
void report_observed(const char *words);
void report_observed_by(void (*describe)(char *buffer, size_t size));
/* Reduce text to its slug form; returns output. */
char *report_slug(const char *text, char *output, size_t size);

/* Prints the SUMMARY line; returns the exit code: 0, 1 (failure) or 77. */
int report_summary(void);

#endif
