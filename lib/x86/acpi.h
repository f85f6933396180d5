/*
 * acpi.h: powering the machine off through ACPI S5, for machines without
 * an exit device (plain "qemu -kernel", Bochs).
 *
 * acpi_init() runs once in setup, while mapping firmware tables is still
 * ordinary work: it follows the tables to the S5 register writes and keeps
 * only those (ports, or mapped registers, and the values).  acpi_power_off()
 * does those writes and nothing else, so the exit path, which may run from
 * an exception handler, never maps or allocates.
 */
#ifndef CANON_ACPI_H
#define CANON_ACPI_H

void acpi_init(void);

/* Enter S5 as acpi_init() prepared it; returns only if it found no way. */
void acpi_power_off(void);

#endif
