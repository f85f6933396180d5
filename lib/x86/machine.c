/* machine.c: exit device first, ACPI power-off second, halt last. */
#include "machine.h"
#include "acpi.h"
#include "console.h"
#include "processor.h"
#include "printf.h"

/* QEMU acts on a power-off request after the write returns: give it time. */
static void wait_for_power_off(void)
{
	for (unsigned i = 0; i < 1000000; i++)
		asm volatile("pause");
}

void exit_test(int code)
{
	console_flush();
	outl(DEBUG_EXIT_PORT, (u32)code);
	acpi_power_off();
	wait_for_power_off();
	printf("canon: no exit device and no ACPI power-off; halting\n");
	for (;;)
		asm volatile("cli; hlt");
}
