/* console.c: COM1 at 115200 8N1, polled. */
#include "console.h"
#include "processor.h"
#include "printf.h"

#define COM1 0x3f8
#define TRANSMIT 0
#define INTERRUPT_ENABLE 1
#define DIVISOR_LOW 0
#define DIVISOR_HIGH 1
#define FIFO_CONTROL 2
#define LINE_CONTROL 3
#define MODEM_CONTROL 4
#define LINE_STATUS 5
#define LINE_STATUS_TRANSMIT_EMPTY 0x20 /* THRE: room for the next bytes */
#define LINE_STATUS_TRANSMITTER_IDLE 0x40 /* TEMT: FIFO and shift register empty */
#define FLUSH_POLLS 1000000
#define LINE_CONTROL_DIVISOR_LATCH 0x80
#define LINE_CONTROL_8N1 0x03
#define FIFO_SIZE 16

void console_init(void)
{
	outb(COM1 + INTERRUPT_ENABLE, 0);
	outb(COM1 + LINE_CONTROL, LINE_CONTROL_DIVISOR_LATCH);
	outb(COM1 + DIVISOR_LOW, 1); /* 115200 baud */
	outb(COM1 + DIVISOR_HIGH, 0);
	outb(COM1 + LINE_CONTROL, LINE_CONTROL_8N1);
	outb(COM1 + FIFO_CONTROL, 0xc7); /* enable and clear the FIFOs */
	outb(COM1 + MODEM_CONTROL, 0x03); /* DTR, RTS */
	printf_set_output(console_write);
}

/*
 * A 16550A with its FIFO enabled takes 16 bytes whenever THRE is set, so the
 * line status is read once per 16 bytes, and each chunk goes out with one
 * REP OUTSB.  On hypervisors that exit on every port access this is the
 * cheapest correct way to print.
 */
void console_write(const char *bytes, size_t length)
{
	while (length) {
		size_t chunk = length < FIFO_SIZE ? length : FIFO_SIZE;

		while (!(inb(COM1 + LINE_STATUS) & LINE_STATUS_TRANSMIT_EMPTY))
			;
		length -= chunk;
		asm volatile("rep outsb" : "+S"(bytes), "+c"(chunk) : "d"(COM1 + TRANSMIT) : "memory");
	}
}

/*
 * A UART that models the line (Bochs's) is still sending the last FIFO
 * load when the guest powers off, and that output is lost; QEMU's reports
 * TEMT at once.  Bounded: a machine without a UART must still power off.
 */
void console_flush(void)
{
	for (unsigned i = 0; i < FLUSH_POLLS; i++)
		if (inb(COM1 + LINE_STATUS) & LINE_STATUS_TRANSMITTER_IDLE)
			return;
}
