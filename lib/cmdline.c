/* cmdline.c: command-line splitting and lookup. */
#include "cmdline.h"
#include "memory.h"

int command_line_split(char *line, char **argv, int max_arguments)
{
	int argc = 0;

	while (*line && argc < max_arguments) {
		char *out;

		while (*line == ' ' || *line == '\t')
			line++;
		if (!*line)
			break;
		argv[argc++] = out = line;
		for (bool quoted = false; *line && (quoted || (*line != ' ' && *line != '\t'));
		     line++) {
			if (*line == '"')
				quoted = !quoted;
			else
				*out++ = *line;
		}
		if (*line)
			line++;
		*out = '\0';
	}
	return argc;
}

bool words_have(int count, char **words, const char *word)
{
	for (int i = 0; i < count; i++)
		if (!strcmp(words[i], word))
			return true;
	return false;
}

