/* cpu-features.c: the table of where each CPUID feature bit lives. */
#include "cpu-features.h"
#include "processor.h"
#include "printf.h"
#include "report.h"
#include "memory.h"

enum cpuid_register { EAX, EBX, ECX, EDX };

static const struct {
	const char *name;
	u32 leaf, subleaf;
	enum cpuid_register reg;
	unsigned bit;
} features[FEATURE_COUNT] = {
	[FEATURE_SMEP] = { "SMEP", 7, 0, EBX, 7 },
	[FEATURE_SMAP] = { "SMAP", 7, 0, EBX, 20 },
	[FEATURE_UMIP] = { "UMIP", 7, 0, ECX, 2 },
	[FEATURE_LA57] = { "LA57", 7, 0, ECX, 16 },
	[FEATURE_PKU] = { "PKU", 7, 0, ECX, 3 },
	[FEATURE_PKS] = { "PKS", 7, 0, ECX, 31 },
	[FEATURE_FSGSBASE] = { "FSGSBASE", 7, 0, EBX, 0 },
	[FEATURE_INVPCID] = { "INVPCID", 7, 0, EBX, 10 },
	[FEATURE_PCID] = { "PCID", 1, 0, ECX, 17 },
	[FEATURE_LASS] = { "LASS", 7, 1, EAX, 6 },
	[FEATURE_NX] = { "NX", 0x80000001, 0, EDX, 20 },
	[FEATURE_PAGE_1GB] = { "Page1GB", 0x80000001, 0, EDX, 26 },
	[FEATURE_SYSCALL] = { "SYSCALL", 0x80000001, 0, EDX, 11 },
	[FEATURE_LONG_MODE] = { "LM", 0x80000001, 0, EDX, 29 },
	[FEATURE_RDTSCP] = { "RDTSCP", 0x80000001, 0, EDX, 27 },
	[FEATURE_HYPERVISOR] = { "HYPERVISOR", 1, 0, ECX, 31 },
};

static u32 max_leaf(u32 leaf)
{
	return cpuid(leaf & 0x80000000, 0).eax;
}

bool cpu_has(enum cpu_feature feature)
{
	struct cpuid_result r;
	u32 value;

	if (max_leaf(features[feature].leaf) < features[feature].leaf)
		return false;
	r = cpuid(features[feature].leaf, features[feature].subleaf);
	value = features[feature].reg == EAX ? r.eax :
		features[feature].reg == EBX ? r.ebx :
		features[feature].reg == ECX ? r.ecx : r.edx;
	return value & (1u << features[feature].bit);
}

const char *cpu_feature_name(enum cpu_feature feature)
{
	return features[feature].name;
}

const char *cpu_feature_location(enum cpu_feature feature, char *buffer, size_t size)
{
	static const char register_names[][4] = { "EAX", "EBX", "ECX", "EDX" };

	if (features[feature].leaf == 1 || features[feature].leaf >= 0x80000000)
		snprintf(buffer, size, "CPUID.%XH:%s[%u]", features[feature].leaf,
			 register_names[features[feature].reg], features[feature].bit);
	else
		snprintf(buffer, size, "CPUID.(EAX=%u,ECX=%u):%s[%u]", features[feature].leaf,
			 features[feature].subleaf, register_names[features[feature].reg],
			 features[feature].bit);
	return buffer;
}

bool require_cpu_feature(enum cpu_feature feature)
{
	char location[48];

	if (cpu_has(feature))
		return true;
	report_skip("%s not in %s", cpu_feature_name(feature),
		    cpu_feature_location(feature, location, sizeof(location)));
	return false;
}

int enumerated_linear_address_width(void)
{
	if (max_leaf(0x80000008) < 0x80000008)
		return 48;
	return (cpuid(0x80000008, 0).eax >> 8) & 0xff;
}

bool linear_width_leaves_disagree(void)
{
	return cpu_has(FEATURE_LA57) != (enumerated_linear_address_width() >= 57);
}

static void copy_register_bytes(char *destination, u32 value)
{
	memcpy(destination, &value, 4);
}

const char *cpu_vendor_string(void)
{
	static char vendor[13];
	struct cpuid_result r = cpuid(0, 0);

	copy_register_bytes(vendor, r.ebx);
	copy_register_bytes(vendor + 4, r.edx);
	copy_register_bytes(vendor + 8, r.ecx);
	vendor[12] = '\0';
	return vendor;
}

enum cpu_vendor cpu_vendor(void)
{
	const char *vendor = cpu_vendor_string();

	if (!strcmp(vendor, "GenuineIntel"))
		return VENDOR_INTEL;
	/* Hygon's CPUs follow AMD's architecture manual. */
	if (!strcmp(vendor, "AuthenticAMD") || !strcmp(vendor, "HygonGenuine"))
		return VENDOR_AMD;
	return VENDOR_OTHER;
}

const char *hypervisor_signature(void)
{
	static char signature[13];
	struct cpuid_result r;

	if (!cpu_has(FEATURE_HYPERVISOR))
		return "";
	r = cpuid(0x40000000, 0);
	copy_register_bytes(signature, r.ebx);
	copy_register_bytes(signature + 4, r.ecx);
	copy_register_bytes(signature + 8, r.edx);
	signature[12] = '\0';
	return signature;
}
