/*
 * cmdline.h: the boot command line (multiboot or PVH "-append") split into
 * argc/argv for the test's main().  Words the framework itself consumes
 * ("la57", "errata=...", the boot options of protections.h) are removed;
 * argv[0] is the image's name.
 */
#ifndef CANON_CMDLINE_H
#define CANON_CMDLINE_H

#include "types.h"

#define MAX_ARGUMENTS 64

/* Splits line in place on blanks; double quotes group words. */
int command_line_split(char *line, char **argv, int max_arguments);
/* True when one of words[0..count) is word exactly. */
bool words_have(int count, char **words, const char *word);
/* True when argv, after argv[0] (the image's name), holds word exactly. */
static inline bool argv_has(int argc, char **argv, const char *word)
{
	return argc > 1 && words_have(argc - 1, argv + 1, word);
}

#endif
