/*
 * acpi.c: enough ACPI to power off (ACPI 6.4, 4.8.3 and 7.4.2).
 *
 * Find the RSDP (the PVH start_info carries it; otherwise search the EBDA
 * and 0xE0000-0xFFFFF), follow the XSDT or RSDT to the FADT, read SLP_TYPa
 * from the DSDT's \_S5 package, and write SLP_TYP | SLP_EN to PM1a_CNT, or
 * to the sleep control register on hardware-reduced machines (microvm).
 * Firmware tables are mapped read-only, supervisor and NX, one at a time.
 */
#include "machine.h"
#include "boot-handoff.h"
#include "memory.h"
#include "processor.h"
#include "vm.h"

#define PM1_CONTROL_SLEEP_ENABLE (1 << 13)
#define PM1_CONTROL_SLEEP_TYPE_SHIFT 10
#define SLEEP_CONTROL_SLEEP_ENABLE (1 << 5)
#define SLEEP_CONTROL_SLEEP_TYPE_SHIFT 2
#define FADT_HARDWARE_REDUCED (1 << 20)
#define ADDRESS_SPACE_MEMORY 0
#define ADDRESS_SPACE_IO 1

struct table_header {
	char signature[4];
	u32 length;
	u8 revision, checksum;
	char oem[6], oem_table[8];
	u32 oem_revision, creator, creator_revision;
} __attribute__((packed));

struct generic_address {
	u8 space, bit_width, bit_offset, access_size;
	u64 address;
} __attribute__((packed));

/* Copy firmware memory out through a temporary read-only mapping. */
static bool copy_from_physical(void *destination, u64 physical, u64 length)
{
	const void *mapped = vm_map_physical(physical, length, VM_SUPERVISOR);

	if (!mapped)
		return false;
	memcpy(destination, mapped, length);
	vm_free((void *)mapped);
	return true;
}

static bool checksum_ok(const u8 *bytes, u64 length)
{
	u8 sum = 0;

	while (length--)
		sum += *bytes++;
	return sum == 0;
}

static u64 scan_for_rsdp(u64 start, u64 length)
{
	const u8 *area = vm_map_physical(start, length, VM_SUPERVISOR);
	u64 found = 0;

	for (u64 offset = 0; area && offset + 20 <= length && !found; offset += 16)
		if (!memcmp(area + offset, "RSD PTR ", 8) && checksum_ok(area + offset, 20))
			found = start + offset;
	if (area)
		vm_free((void *)area);
	return found;
}

static u64 find_rsdp(void)
{
	u16 ebda_segment = 0;
	u64 found;

	if (boot_handoff.loader == LOADER_PVH) {
		u64 rsdp;

		memcpy(&rsdp, boot_handoff.info + 32, sizeof(rsdp)); /* rsdp_paddr */
		if (rsdp)
			return rsdp;
	}
	copy_from_physical(&ebda_segment, 0x40e, 2); /* the EBDA's real-mode segment */
	if (ebda_segment && (found = scan_for_rsdp((u64)ebda_segment << 4, 1024)))
		return found;
	return scan_for_rsdp(0xe0000, 0x20000);
}

static bool read_table_header(u64 physical, struct table_header *header)
{
	return copy_from_physical(header, physical, sizeof(*header)) &&
	       header->length >= sizeof(*header);
}

/* Copies the FADT (up to sizeof fadt bytes) into fadt; false if none. */
static bool find_fadt(u64 rsdp_physical, u8 *fadt, u64 size)
{
	u8 rsdp[36] = { 0 };
	u64 root_physical = 0;
	unsigned entry_size = 4;
	struct table_header root, table;

	if (!copy_from_physical(rsdp, rsdp_physical, 20))
		return false;
	if (rsdp[15] >= 2 && !copy_from_physical(rsdp, rsdp_physical, 36))
		return false;
	if (rsdp[15] >= 2)
		memcpy(&root_physical, rsdp + 24, 8); /* XSDT */
	if (root_physical)
		entry_size = 8;
	else
		memcpy(&root_physical, rsdp + 16, 4); /* RSDT */
	if (!read_table_header(root_physical, &root))
		return false;
	for (u64 offset = sizeof(root); offset + entry_size <= root.length; offset += entry_size) {
		u64 entry = 0;

		copy_from_physical(&entry, root_physical + offset, entry_size);
		if (read_table_header(entry, &table) && !memcmp(table.signature, "FACP", 4)) {
			memset(fadt, 0, size);
			return copy_from_physical(fadt, entry, table.length < size ? table.length : size);
		}
	}
	return false;
}

/* One integer element of an AML package: ZeroOp, OneOp or BytePrefix n. */
static void aml_small_integer(const u8 *aml, u8 *value)
{
	if (*aml == 0x0a)
		*value = aml[1];
	else
		*value = *aml == 0x01 ? 1 : 0;
}

/* \_S5 is Name(_S5, Package(){ SLP_TYPa, SLP_TYPb, ... }) in the DSDT. */
static bool find_s5_sleep_type(u64 dsdt_physical, u8 *sleep_type)
{
	struct table_header header;
	const u8 *aml;
	bool found = false;

	if (!read_table_header(dsdt_physical, &header))
		return false;
	aml = vm_map_physical(dsdt_physical, header.length, VM_SUPERVISOR);
	for (u64 i = sizeof(header); aml && i + 8 < header.length && !found; i++) {
		if (memcmp(aml + i, "_S5_", 4) || aml[i + 4] != 0x12)
			continue;
		const u8 *package = aml + i + 5;
		package += 1 + (*package >> 6); /* PkgLength: lead byte + extra bytes */
		package++;                      /* NumElements */
		aml_small_integer(package, sleep_type);
		found = true;
	}
	if (aml)
		vm_free((void *)aml);
	return found;
}

static void write_generic_address(const struct generic_address *target, u8 value)
{
	if (target->space == ADDRESS_SPACE_IO)
		outb((u16)target->address, value);
	else if (target->space == ADDRESS_SPACE_MEMORY) {
		volatile u8 *register_byte = vm_map_physical(target->address, 1,
							     VM_SUPERVISOR | VM_WRITE);
		if (register_byte)
			*register_byte = value;
	}
}

void acpi_power_off(void)
{
	u8 fadt[276];
	u64 rsdp = find_rsdp();
	u8 sleep_type = 0;
	u32 dsdt32 = 0, flags = 0, pm1a_control = 0, length = 0;
	u64 dsdt = 0;

	if (!rsdp || !find_fadt(rsdp, fadt, sizeof(fadt)))
		return;
	memcpy(&length, fadt + 4, 4);
	memcpy(&dsdt32, fadt + 40, 4);
	memcpy(&pm1a_control, fadt + 64, 4);
	memcpy(&flags, fadt + 112, 4);
	if (length >= 148)
		memcpy(&dsdt, fadt + 140, 8);
	if (!dsdt)
		dsdt = dsdt32;
	if (dsdt)
		find_s5_sleep_type(dsdt, &sleep_type);
	if ((flags & FADT_HARDWARE_REDUCED) && length >= 256)
		write_generic_address((const struct generic_address *)(fadt + 244),
				      (u8)(sleep_type << SLEEP_CONTROL_SLEEP_TYPE_SHIFT |
					   SLEEP_CONTROL_SLEEP_ENABLE));
	else if (pm1a_control)
		outw((u16)pm1a_control, (u16)(sleep_type << PM1_CONTROL_SLEEP_TYPE_SHIFT |
					       PM1_CONTROL_SLEEP_ENABLE));
}
