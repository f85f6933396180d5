/*
 * acpi.c: enough ACPI to power off (ACPI 6.4: 5.2 for the tables, 7.4.2
 * for \_S5, 4.8.3.2 and 4.8.3.7 for the registers written).
 *
 * At boot, acpi_init() finds the RSDP (the PVH start_info carries it;
 * otherwise it searches 0xE0000-0xFFFFF and the EBDA), follows the XSDT or
 * RSDT to the FADT, reads SLP_TYPa and SLP_TYPb from the DSDT's \_S5
 * package, and keeps the writes that enter S5: SLP_TYP | SLP_EN to PM1a_CNT
 * and PM1b_CNT, or to the sleep control register on hardware-reduced
 * machines (microvm).  Firmware tables are mapped read-only, supervisor and
 * NX, and unmapped once read; only a register in memory space stays mapped,
 * for acpi_power_off().
 */
#include "acpi.h"
#include "boot-handoff.h"
#include "layout.h"
#include "memory.h"
#include "processor.h"
#include "vm.h"

/* Where a legacy BIOS leaves the RSDP (5.2.5.1). */
#define BIOS_DATA_AREA_EBDA_SEGMENT 0x40e /* the EBDA's real-mode segment */
#define EBDA_SEARCH_LENGTH 1024
#define BIOS_E_SEGMENT 0xe0000
#define BIOS_F_SEGMENT 0xf0000
#define BIOS_SEGMENT_LENGTH 0x10000
#define RSDP_ALIGNMENT 16

#define ADDRESS_SPACE_MEMORY 0
#define ADDRESS_SPACE_IO 1
#define FADT_HARDWARE_REDUCED_ACPI BIT(20)
#define PM1_CONTROL_SLEEP_TYPE_SHIFT 10
#define PM1_CONTROL_SLEEP_ENABLE BIT(13)
#define SLEEP_CONTROL_SLEEP_TYPE_SHIFT 2
#define SLEEP_CONTROL_SLEEP_ENABLE BIT(5)

/* The AML (20.2) that \_S5's package is written in. */
#define AML_ZERO 0x00
#define AML_ONE 0x01
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_PACKAGE 0x12

/* 5.2.5.3: Root System Description Pointer. */
struct rsdp {
	char signature[8]; /* "RSD PTR " */
	u8 checksum;       /* of the ACPI 1.0 part, up to length */
	char oem_id[6];
	u8 revision;       /* 2 and later: the fields from length on exist */
	u32 rsdt_address;
	u32 length;
	u64 xsdt_address;
	u8 extended_checksum;
	u8 reserved[3];
} __attribute__((packed));

#define RSDP_VERSION_1_LENGTH __builtin_offsetof(struct rsdp, length)

/* 5.2.6: the header every system description table starts with. */
struct sdt_header {
	char signature[4];
	u32 length; /* of the whole table, header included */
	u8 revision;
	u8 checksum;
	char oem_id[6];
	char oem_table_id[8];
	u32 oem_revision;
	u32 creator_id;
	u32 creator_revision;
} __attribute__((packed));

/* 5.2.3.2: Generic Address Structure. */
struct generic_address {
	u8 address_space_id; /* ADDRESS_SPACE_* */
	u8 register_bit_width;
	u8 register_bit_offset;
	u8 access_size;
	u64 address;
} __attribute__((packed));

/* 5.2.9: Fixed ACPI Description Table (signature "FACP"), revision 6. */
struct fadt {
	struct sdt_header header;
	u32 firmware_control;
	u32 dsdt;
	u8 reserved_model; /* INT_MODEL in ACPI 1.0 */
	u8 preferred_pm_profile;
	u16 sci_interrupt;
	u32 smi_command_port;
	u8 acpi_enable;
	u8 acpi_disable;
	u8 s4bios_request;
	u8 pstate_control;
	u32 pm1a_event_block;
	u32 pm1b_event_block;
	u32 pm1a_control_block; /* an I/O port; 0: none */
	u32 pm1b_control_block;
	u32 pm2_control_block;
	u32 pm_timer_block;
	u32 gpe0_block;
	u32 gpe1_block;
	u8 pm1_event_length;
	u8 pm1_control_length;
	u8 pm2_control_length;
	u8 pm_timer_length;
	u8 gpe0_block_length;
	u8 gpe1_block_length;
	u8 gpe1_base;
	u8 cstate_control;
	u16 level2_latency;
	u16 level3_latency;
	u16 flush_size;
	u16 flush_stride;
	u8 duty_offset;
	u8 duty_width;
	u8 day_alarm;
	u8 month_alarm;
	u8 century;
	u16 ia_pc_boot_architecture;
	u8 reserved;
	u32 flags; /* FADT_* */
	struct generic_address reset_register;
	u8 reset_value;
	u16 arm_boot_architecture;
	u8 minor_version;
	u64 x_firmware_control;
	u64 x_dsdt; /* when nonzero, it replaces dsdt */
	struct generic_address x_pm1a_event_block;
	struct generic_address x_pm1b_event_block;
	struct generic_address x_pm1a_control_block; /* when nonzero, it replaces pm1a_... */
	struct generic_address x_pm1b_control_block;
	struct generic_address x_pm2_control_block;
	struct generic_address x_pm_timer_block;
	struct generic_address x_gpe0_block;
	struct generic_address x_gpe1_block;
	struct generic_address sleep_control_register; /* hardware-reduced ACPI */
	struct generic_address sleep_status_register;
	u64 hypervisor_vendor_identity;
} __attribute__((packed));

/* The offsets in the specification's FADT table. */
_Static_assert(__builtin_offsetof(struct fadt, pm1a_control_block) == 64, "FADT layout");
_Static_assert(__builtin_offsetof(struct fadt, flags) == 112, "FADT layout");
_Static_assert(__builtin_offsetof(struct fadt, x_dsdt) == 140, "FADT layout");
_Static_assert(__builtin_offsetof(struct fadt, x_pm1a_control_block) == 172, "FADT layout");
_Static_assert(__builtin_offsetof(struct fadt, sleep_control_register) == 244, "FADT layout");
_Static_assert(sizeof(struct fadt) == 276, "FADT layout");

/* The start of Xen's struct hvm_start_info, which the PVH loader leaves. */
struct pvh_start_info {
	u32 magic;
	u32 version;
	u32 flags;
	u32 module_count;
	u64 module_list_physical;
	u64 command_line_physical;
	u64 rsdp_physical; /* 0: no ACPI tables */
} __attribute__((packed));

/* One register write of the power-off, prepared by acpi_init(). */
struct register_write {
	u8 width;              /* bytes: 1 or 2; 0 when there is nothing to write */
	u16 port;              /* in I/O space, or */
	volatile void *mapped; /* in memory space, mapped by acpi_init() */
	u16 value;
};

/* PM1a_CNT and PM1b_CNT, or the sleep control register alone. */
static struct register_write power_off_writes[2];

/*
 * acpi_init() runs on every boot.  kvm_pvm (AMD EPYC host) charges about
 * 1,500 cycles for each instruction, and about as much for each iteration
 * of a REP string instruction, so REPNE SCAS (which stops after the first
 * element equal to RAX or AL) searches for less than half the cost of a
 * compare-and-branch loop.
 */
static const u64 *find_quadword(const u64 *from, const u64 *end, u64 value)
{
	u64 count = (u64)(end - from);
	bool equal;

	if (from >= end)
		return NULL;
	asm volatile("repne scasq" : "+D"(from), "+c"(count), "=@ccz"(equal) : "a"(value) : "memory");
	return equal ? from - 1 : NULL;
}

static const u8 *find_byte(const u8 *from, const u8 *end, u8 value)
{
	u64 count = (u64)(end - from);
	bool equal;

	if (from >= end)
		return NULL;
	asm volatile("repne scasb" : "+D"(from), "+c"(count), "=@ccz"(equal) : "a"(value) : "memory");
	return equal ? from - 1 : NULL;
}

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

/* The first RSDP in area: on a 16-byte boundary, its first 20 bytes summing to 0. */
static const u8 *find_rsdp_in(const u8 *area, u64 length)
{
	const u64 *end = (const u64 *)area + (length - RSDP_VERSION_1_LENGTH) / sizeof(u64) + 1;
	u64 signature;

	memcpy(&signature, "RSD PTR ", sizeof(signature));
	for (const u64 *at = (const u64 *)area; (at = find_quadword(at, end, signature)); at++)
		if (!(((const u8 *)at - area) % RSDP_ALIGNMENT) &&
		    checksum_ok((const u8 *)at, RSDP_VERSION_1_LENGTH))
			return (const u8 *)at;
	return NULL;
}

static bool search_for_rsdp(u64 start, u64 length, struct rsdp *rsdp)
{
	const u8 *area = vm_map_physical(start, length, VM_SUPERVISOR);
	const u8 *found = area ? find_rsdp_in(area, length) : NULL;

	if (found) {
		memcpy(rsdp, found, RSDP_VERSION_1_LENGTH);
		if (rsdp->revision >= 2 && found + sizeof(*rsdp) <= area + length)
			memcpy(rsdp, found, sizeof(*rsdp));
	}
	if (area)
		vm_free((void *)area);
	return found;
}

static bool read_rsdp(u64 physical, struct rsdp *rsdp)
{
	return physical && copy_from_physical(rsdp, physical, RSDP_VERSION_1_LENGTH) &&
	       (rsdp->revision < 2 || copy_from_physical(rsdp, physical, sizeof(*rsdp)));
}

/*
 * A PVH loader hands the RSDP over (QEMU's own PVH loader searches the BIOS
 * areas for it), so 0 there means no ACPI, and the runner's microvm with
 * acpi=off pays nothing.  Otherwise the areas of 5.2.5.1, the F segment
 * first: SeaBIOS, qboot and Bochs's BIOS all put the RSDP there, and each
 * area searched costs a mapping.
 */
static bool find_rsdp(struct rsdp *rsdp)
{
	u16 ebda_segment = 0;

	memset(rsdp, 0, sizeof(*rsdp));
	if (boot_handoff.loader == LOADER_PVH)
		return read_rsdp(((const struct pvh_start_info *)boot_handoff.info)->rsdp_physical,
				 rsdp);
	if (search_for_rsdp(BIOS_F_SEGMENT, BIOS_SEGMENT_LENGTH, rsdp))
		return true;
	copy_from_physical(&ebda_segment, BIOS_DATA_AREA_EBDA_SEGMENT, sizeof(ebda_segment));
	return (ebda_segment &&
		search_for_rsdp((u64)ebda_segment << 4, EBDA_SEARCH_LENGTH, rsdp)) ||
	       search_for_rsdp(BIOS_E_SEGMENT, BIOS_SEGMENT_LENGTH, rsdp);
}

/*
 * Maps the whole table at physical, read-only.  The first mapping runs to
 * the end of the page, which holds most tables entire, so that learning the
 * length seldom costs a second mapping.  Undo with unmap_table().
 */
static const struct sdt_header *map_table(u64 physical)
{
	u64 first = PAGE_SIZE - physical % PAGE_SIZE;
	const struct sdt_header *table;
	u32 length;

	if (first < sizeof(*table))
		first = sizeof(*table);
	table = physical ? vm_map_physical(physical, first, VM_SUPERVISOR) : NULL;
	if (!table || (table->length >= sizeof(*table) && table->length <= first))
		return table;
	length = table->length;
	vm_free((void *)table);
	return length >= sizeof(*table) ? vm_map_physical(physical, length, VM_SUPERVISOR) : NULL;
}

static void unmap_table(const struct sdt_header *table)
{
	vm_free((void *)table);
}

/* Maps the table with signature among the root table's entries (4 or 8 bytes each). */
static const struct sdt_header *find_table(u64 root_physical, unsigned entry_size,
					   const char *signature)
{
	const struct sdt_header *root = map_table(root_physical), *table = NULL;

	if (!root)
		return NULL;
	for (u64 offset = sizeof(*root); offset + entry_size <= root->length; offset += entry_size) {
		u64 entry = 0;

		memcpy(&entry, (const u8 *)root + offset, entry_size);
		table = map_table(entry);
		if (table && !memcmp(table->signature, signature, sizeof(table->signature)))
			break;
		if (table)
			unmap_table(table);
		table = NULL;
	}
	unmap_table(root);
	return table;
}

/* Copies the FADT; fields past the end of an older, shorter FADT read 0. */
static bool read_fadt(struct fadt *fadt)
{
	struct rsdp rsdp;
	const struct sdt_header *table;

	if (!find_rsdp(&rsdp))
		return false;
	if (rsdp.xsdt_address)
		table = find_table(rsdp.xsdt_address, 8, "FACP");
	else
		table = find_table(rsdp.rsdt_address, 4, "FACP");
	if (!table)
		return false;
	memset(fadt, 0, sizeof(*fadt));
	memcpy(fadt, table, table->length < sizeof(*fadt) ? table->length : sizeof(*fadt));
	unmap_table(table);
	return true;
}

/* An integer constant in AML (20.2.3); returns its length, 0 if it is not one. */
static unsigned read_aml_integer(const u8 *aml, const u8 *end, u8 *value)
{
	if (aml < end && (*aml == AML_ZERO || *aml == AML_ONE)) {
		*value = *aml;
		return 1;
	}
	if (aml + 2 <= end && *aml == AML_BYTE_PREFIX) {
		*value = aml[1];
		return 2;
	}
	if (aml + 3 <= end && *aml == AML_WORD_PREFIX) {
		*value = aml[1]; /* SLP_TYP has 3 bits: the high byte is 0 */
		return 3;
	}
	return 0;
}

/*
 * Name(_S5, Package() { SLP_TYPa, SLP_TYPb, ... }) (7.4.2): after the name,
 * PackageOp, PkgLength (bits 7-6 of its lead byte count the bytes that
 * follow), NumElements, then the integers.  SLP_TYPb may be left out
 * (QEMU's microvm lists one value); it is then 0.
 */
static bool read_sleep_types(const u8 *package, const u8 *end, u8 sleep_types[2])
{
	unsigned element_count, length;

	if (package >= end || package + 2 + (*package >> 6) > end)
		return false;
	package += 1 + (*package >> 6);
	element_count = *package++;
	sleep_types[1] = 0;
	for (unsigned i = 0; i < 2 && i < element_count; i++, package += length)
		if (!(length = read_aml_integer(package, end, &sleep_types[i])))
			return false;
	return element_count > 0;
}

/*
 * The DSDT is mostly other AML, so this looks for the name itself: at each
 * '5' (QEMU's DSDTs hold 1 to 7 of them, and hundreds of '_'), whether
 * "_S5_" and PackageOp are there.
 */
static bool find_s5_sleep_types(u64 dsdt_physical, u8 sleep_types[2])
{
	const struct sdt_header *dsdt = map_table(dsdt_physical);
	const u8 *aml, *end, *at;
	bool found = false;

	if (!dsdt)
		return false;
	aml = (const u8 *)(dsdt + 1);
	end = (const u8 *)dsdt + dsdt->length;
	for (at = find_byte(aml + 2, end, '5'); at && end - at >= 3; at = find_byte(at + 1, end, '5'))
		if (!memcmp(at - 2, "_S5_", 4) && at[2] == AML_PACKAGE) {
			found = read_sleep_types(at + 3, end, sleep_types);
			break;
		}
	unmap_table(dsdt);
	return found;
}

/* Resolve where a register is now: a port, or a mapping kept for the exit path. */
static void prepare_write(struct register_write *write, const struct generic_address *where,
			  u8 width, u16 value)
{
	if (!where->address)
		return;
	if (where->address_space_id == ADDRESS_SPACE_IO && where->address <= 0xffff)
		write->port = (u16)where->address;
	else if (where->address_space_id == ADDRESS_SPACE_MEMORY)
		write->mapped = vm_map_physical(where->address, width, VM_SUPERVISOR | VM_WRITE);
	if (write->port || write->mapped) {
		write->width = width;
		write->value = value;
	}
}

/* X_PM1x_CNT_BLK, when the FADT has it, supersedes the 32-bit port (5.2.9). */
static void prepare_pm1_control_write(struct register_write *write,
				      const struct generic_address *extended, u32 port,
				      u8 sleep_type)
{
	struct generic_address where = { .address_space_id = ADDRESS_SPACE_IO, .address = port };

	if (extended->address)
		where = *extended;
	prepare_write(write, &where, 2,
		      (u16)(sleep_type << PM1_CONTROL_SLEEP_TYPE_SHIFT | PM1_CONTROL_SLEEP_ENABLE));
}

void acpi_init(void)
{
	struct fadt fadt;
	u8 sleep_types[2];

	if (!read_fadt(&fadt) ||
	    !find_s5_sleep_types(fadt.x_dsdt ? fadt.x_dsdt : fadt.dsdt, sleep_types))
		return;
	if (fadt.flags & FADT_HARDWARE_REDUCED_ACPI) {
		prepare_write(&power_off_writes[0], &fadt.sleep_control_register, 1,
			      (u8)(sleep_types[0] << SLEEP_CONTROL_SLEEP_TYPE_SHIFT |
				   SLEEP_CONTROL_SLEEP_ENABLE));
		return;
	}
	prepare_pm1_control_write(&power_off_writes[0], &fadt.x_pm1a_control_block,
				  fadt.pm1a_control_block, sleep_types[0]);
	prepare_pm1_control_write(&power_off_writes[1], &fadt.x_pm1b_control_block,
				  fadt.pm1b_control_block, sleep_types[1]);
}

static void perform_write(const struct register_write *write)
{
	if (write->port && write->width == 2)
		outw(write->port, write->value);
	else if (write->port && write->width == 1)
		outb(write->port, (u8)write->value);
	else if (write->mapped && write->width == 2)
		*(volatile u16 *)write->mapped = write->value;
	else if (write->mapped && write->width == 1)
		*(volatile u8 *)write->mapped = (u8)write->value;
}

void acpi_power_off(void)
{
	for (unsigned i = 0; i < ARRAY_SIZE(power_off_writes); i++)
		perform_write(&power_off_writes[i]);
}
