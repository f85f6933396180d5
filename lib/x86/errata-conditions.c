/* errata-conditions.c: the errata list's condition words, from CPUID. */
#include "errata-conditions.h"
#include "cpu-features.h"
#include "memory.h"
#include "page-table.h"

static bool word_is(const char *word, size_t length, const char *name)
{
	return strlen(name) == length && !memcmp(word, name, length);
}

bool errata_condition_holds(const char *word, size_t length)
{
	if (word_is(word, length, "intel"))
		return cpu_vendor() == VENDOR_INTEL;
	if (word_is(word, length, "amd"))
		return cpu_vendor() == VENDOR_AMD;
	if (word_is(word, length, "4-level"))
		return paging_levels() == 4;
	if (word_is(word, length, "5-level"))
		return paging_levels() == 5;
	if (word_is(word, length, "linear-width-leaves-disagree"))
		return linear_width_leaves_disagree();
	return false;
}
