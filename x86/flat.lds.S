/*
 * flat.lds.S: how a test image is laid out (see lib/x86/layout.h).
 *
 * Physically the image is one contiguous run from KERNEL_LOAD_PHYSICAL:
 *   .boot (identity: the multiboot header, the 32-bit stub, the PVH note)
 *   .text .rodata .data     linked at KERNEL_IMAGE_BASE + physical
 *   .user.text .user.rodata .user.data   linked at USER_IMAGE_BASE
 *   .bss                    linked at KERNEL_IMAGE_BASE + physical
 *   .boot.bss               the stub's page-table pool and stack
 * File data ends after .user.data; everything after it is zeroed by the
 * loader (multiboot bss_end_addr, or the ELF segments' memory size).
 * Every boundary is page aligned, because the stub maps each range with its
 * own permissions.
 */
#include "layout.h"

OUTPUT_FORMAT("elf64-x86-64")
OUTPUT_ARCH(i386:x86-64)
ENTRY(multiboot_entry)

PHDRS
{
	boot PT_LOAD FLAGS(7);
	text PT_LOAD FLAGS(5);
	rodata PT_LOAD FLAGS(4);
	data PT_LOAD FLAGS(6);
	user_text PT_LOAD FLAGS(5);
	user_rodata PT_LOAD FLAGS(4);
	user_data PT_LOAD FLAGS(6);
	bss PT_LOAD FLAGS(6);
	boot_bss PT_LOAD FLAGS(6);
	note PT_NOTE;
}

SECTIONS
{
	. = KERNEL_LOAD_PHYSICAL;
	image_load_physical_start = .;
	boot_physical_start = .;
	.boot : {
		KEEP(*(.multiboot_header))
		*(.boot.text)
		*(.boot.data)
	} :boot
	.note.pvh : { KEEP(*(.note.pvh)) } :boot :note
	. = ALIGN(PAGE_SIZE);
	boot_physical_end = .;

	. += KERNEL_IMAGE_BASE;
	kernel_text_start = .;
	.text : AT(ADDR(.text) - KERNEL_IMAGE_BASE) {
		*(.text .text.*)
		. = ALIGN(PAGE_SIZE);
	} :text
	kernel_text_end = .;

	kernel_rodata_start = .;
	.rodata : AT(ADDR(.rodata) - KERNEL_IMAGE_BASE) {
		*(.rodata .rodata.*)
		. = ALIGN(8);
		exception_fixup_start = .;
		KEEP(*(.exception_fixup))
		exception_fixup_end = .;
		/* Last, so that its size never moves a code address. */
		KEEP(*(.kernel_symbols))
		. = ALIGN(PAGE_SIZE);
	} :rodata
	kernel_rodata_end = .;

	kernel_data_start = .;
	.data : AT(ADDR(.data) - KERNEL_IMAGE_BASE) {
		*(.data .data.*)
		. = ALIGN(PAGE_SIZE);
	} :data
	kernel_data_end = .;

	user_text_physical_start = . - KERNEL_IMAGE_BASE;
	.user.text USER_IMAGE_BASE : AT(user_text_physical_start) {
		user_text_start = .;
		*(.user.text .user.text.*)
		. = ALIGN(PAGE_SIZE);
	} :user_text
	user_text_end = .;
	user_text_physical_end = user_text_physical_start + SIZEOF(.user.text);

	user_rodata_start = .;
	.user.rodata : AT(user_text_physical_end) {
		*(.user.rodata .user.rodata.*)
		. = ALIGN(PAGE_SIZE);
	} :user_rodata
	user_rodata_end = .;
	user_rodata_physical_start = user_text_physical_end;
	user_rodata_physical_end = user_rodata_physical_start + SIZEOF(.user.rodata);

	user_data_start = .;
	.user.data : AT(user_rodata_physical_end) {
		*(.user.data .user.data.*)
		. = ALIGN(PAGE_SIZE);
	} :user_data
	user_data_end = .;
	user_data_physical_start = user_rodata_physical_end;
	user_data_physical_end = user_data_physical_start + SIZEOF(.user.data);
	image_load_physical_end = user_data_physical_end;

	.bss (user_data_physical_end + KERNEL_IMAGE_BASE) (NOLOAD) : AT(user_data_physical_end) {
		kernel_bss_start = .;
		*(.bss .bss.*)
		*(COMMON)
		. = ALIGN(PAGE_SIZE);
	} :bss
	kernel_bss_end = .;

	.boot.bss (kernel_bss_end - KERNEL_IMAGE_BASE) (NOLOAD) : AT(kernel_bss_end - KERNEL_IMAGE_BASE) {
		*(.boot.bss)
		. = ALIGN(PAGE_SIZE);
	} :boot_bss
	image_physical_end = .;

	kernel_text_physical_start = kernel_text_start - KERNEL_IMAGE_BASE;
	kernel_text_physical_end = kernel_text_end - KERNEL_IMAGE_BASE;
	kernel_rodata_physical_start = kernel_rodata_start - KERNEL_IMAGE_BASE;
	kernel_rodata_physical_end = kernel_rodata_end - KERNEL_IMAGE_BASE;
	kernel_data_physical_start = kernel_data_start - KERNEL_IMAGE_BASE;
	kernel_data_physical_end = kernel_data_end - KERNEL_IMAGE_BASE;
	kernel_bss_physical_start = kernel_bss_start - KERNEL_IMAGE_BASE;
	kernel_bss_physical_end = kernel_bss_end - KERNEL_IMAGE_BASE;
	boot_handoff_physical = boot_handoff - KERNEL_IMAGE_BASE;

	/DISCARD/ : {
		*(.eh_frame*) *(.note.GNU-stack) *(.note.gnu.property) *(.comment)
	}
}
