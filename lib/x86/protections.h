/*
 * protections.h: the five protections every test runs under, and the boot
 * options that take one away.
 *
 * SMEP, SMAP and UMIP (CR4), CR0.WP and NX (EFER.NXE) are on for every test
 * whenever CPUID has them.  A boot option in the style of Linux's takes one
 * away, so that a test can show it notices: "nosmep", "nosmap", "noumip"
 * (setup leaves the CR4 bit clear), "nowp" and "nonx" (the boot stub leaves
 * CR0.WP, or EFER.NXE and every XD bit, clear).  A test that relies on a
 * protection checks first that it is in the state CPUID says, so that with
 * the option it FAILs instead of passing without it.
 */
#ifndef CANON_PROTECTIONS_H
#define CANON_PROTECTIONS_H

#include "types.h"

enum protection {
	PROTECTION_SMEP = 1 << 0,
	PROTECTION_SMAP = 1 << 1,
	PROTECTION_UMIP = 1 << 2,
	PROTECTION_WRITE_PROTECT = 1 << 3, /* CR0.WP */
	PROTECTION_NO_EXECUTE = 1 << 4,    /* EFER.NXE */
};

/* Is word one of the boot options above? */
bool is_protection_option(const char *word);

/* Sets the CR4 protections CPUID has, less those the command line's words take away. */
void enable_protections(int count, char **words);

/*
 * One check per protection in mask: on exactly when CPUID has it (CR0.WP
 * always), e.g. "CR4.SMAP is 1, as CPUID.(EAX=7,ECX=0):EBX[20] says".
 */
void check_protections(unsigned mask);

#endif
