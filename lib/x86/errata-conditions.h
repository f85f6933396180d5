/*
 * errata-conditions.h: what the condition words of an erratum mean.
 *
 * An entry of x86/errata.txt may hold only where the guest sees a given CPU:
 * the same QEMU or KVM can be right for an AMD guest and wrong for an Intel
 * one.  The runner cannot tell (it does not read the guest's CPUID), so the
 * guest decides, from CPUID and the paging mode it runs in:
 *   intel                          CPUID vendor "GenuineIntel"
 *   amd                            "AuthenticAMD" (or Hygon's, which follows AMD)
 *   4-level, 5-level               the paging mode of this boot
 *   linear-width-leaves-disagree   CPUID.(EAX=7,ECX=0):ECX[16] (LA57) and
 *                                  CPUID.80000008H:EAX[15:8] disagree about
 *                                  57-bit linear addresses
 */
#ifndef CANON_ERRATA_CONDITIONS_H
#define CANON_ERRATA_CONDITIONS_H

#include "types.h"

/* Does the condition word[0..length) hold on this CPU?  Unknown words do not. */
bool errata_condition_holds(const char *word, size_t length);

#endif
