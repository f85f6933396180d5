/*
 * cpu-features.h: CPUID feature flags by name, where each one lives, and the
 * vendor.  A SKIP message names the exact bit, e.g.
 * "SMAP not in CPUID.(EAX=7,ECX=0):EBX[20]".
 */
#ifndef CANON_CPU_FEATURES_H
#define CANON_CPU_FEATURES_H

#include "types.h"

enum cpu_feature {
	FEATURE_SMEP,
	FEATURE_SMAP,
	FEATURE_UMIP,
	FEATURE_LA57,
	FEATURE_PKU,
	FEATURE_PKS,
	FEATURE_FSGSBASE,
	FEATURE_INVPCID,
	FEATURE_PCID,
	FEATURE_LASS,
	FEATURE_NX,
	FEATURE_PAGE_1GB,
	FEATURE_SYSCALL,
	FEATURE_LONG_MODE,
	FEATURE_RDTSCP,
	FEATURE_HYPERVISOR,
	FEATURE_COUNT
};

enum cpu_vendor { VENDOR_INTEL, VENDOR_AMD, VENDOR_OTHER };

bool cpu_has(enum cpu_feature feature);
/* "SMAP" */
const char *cpu_feature_name(enum cpu_feature feature);
/* "CPUID.(EAX=7,ECX=0):EBX[20]", written to buffer. */
const char *cpu_feature_location(enum cpu_feature feature, char *buffer, size_t size);
/* Reports SKIP "<name> not in <location>" and returns false when absent. */
bool require_cpu_feature(enum cpu_feature feature);

/*
 * The linear-address width CPUID.80000008H:EAX[15:8] enumerates (48 when
 * the leaf is absent).  Whether the CPU supports 5-level paging is
 * CPUID.(EAX=7,ECX=0):ECX[16] (SDM Vol. 3A 4.1.4); some hypervisors clear
 * that bit but leave 57 here, so the two can disagree.
 */
int enumerated_linear_address_width(void);
bool linear_width_leaves_disagree(void);

enum cpu_vendor cpu_vendor(void);
/* The 12-byte vendor string, e.g. "GenuineIntel". */
const char *cpu_vendor_string(void);
/* The hypervisor signature from CPUID leaf 0x40000000, or "" on bare metal. */
const char *hypervisor_signature(void);

#endif
