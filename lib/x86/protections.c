/* protections.c: SMEP, SMAP, UMIP, CR0.WP and NX, as CPUID and the boot options say. */
#include "protections.h"
#include "cmdline.h"
#include "cpu-features.h"
#include "memory.h"
#include "printf.h"
#include "processor.h"
#include "report.h"

static const struct {
	enum protection protection;
	const char *control_bit;   /* where it is switched on */
	const char *option;        /* the boot option that takes it away */
	enum cpu_feature feature;  /* the CPUID bit that says it exists */
	bool always;               /* CR0.WP: every CPU has it */
} protections[] = {
	{ PROTECTION_SMEP, "CR4.SMEP", "nosmep", FEATURE_SMEP, false },
	{ PROTECTION_SMAP, "CR4.SMAP", "nosmap", FEATURE_SMAP, false },
	{ PROTECTION_UMIP, "CR4.UMIP", "noumip", FEATURE_UMIP, false },
	{ PROTECTION_WRITE_PROTECT, "CR0.WP", "nowp", FEATURE_COUNT, true },
	{ PROTECTION_NO_EXECUTE, "EFER.NXE", "nonx", FEATURE_NX, false },
};

static u64 control_register_bit(enum protection protection)
{
	switch (protection) {
	case PROTECTION_SMEP:
		return CR4_SMEP;
	case PROTECTION_SMAP:
		return CR4_SMAP;
	case PROTECTION_UMIP:
		return CR4_UMIP;
	default:
		return 0;
	}
}

static bool protection_on(enum protection protection)
{
	if (protection == PROTECTION_WRITE_PROTECT)
		return read_cr0() & CR0_WRITE_PROTECT;
	if (protection == PROTECTION_NO_EXECUTE)
		return read_msr(MSR_EFER) & EFER_NO_EXECUTE_ENABLE;
	return read_cr4() & control_register_bit(protection);
}

bool is_protection_option(const char *word)
{
	for (unsigned i = 0; i < ARRAY_SIZE(protections); i++)
		if (!strcmp(word, protections[i].option))
			return true;
	return false;
}

void enable_protections(int count, char **words)
{
	u64 cr4 = read_cr4();

	for (unsigned i = 0; i < ARRAY_SIZE(protections); i++) {
		u64 bit = control_register_bit(protections[i].protection);

		if (bit && cpu_has(protections[i].feature) &&
		    !words_have(count, words, protections[i].option))
			cr4 |= bit;
	}
	write_cr4(cr4);
}

void check_protections(unsigned mask)
{
	char location[48];

	for (unsigned i = 0; i < ARRAY_SIZE(protections); i++) {
		bool expected;

		if (!(mask & protections[i].protection))
			continue;
		if (protections[i].always) {
			report(protection_on(protections[i].protection), "%s is 1",
			       protections[i].control_bit);
			continue;
		}
		expected = cpu_has(protections[i].feature);
		cpu_feature_location(protections[i].feature, location, sizeof(location));
		report(protection_on(protections[i].protection) == expected, "%s is %d, as %s says",
		       protections[i].control_bit, expected, location);
	}
}
