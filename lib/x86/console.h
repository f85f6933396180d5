/* console.h: the COM1 16550 UART, where every line of output goes. */
#ifndef CANON_CONSOLE_H
#define CANON_CONSOLE_H

#include "types.h"

void console_init(void);
void console_write(const char *bytes, size_t length);
/* Wait until the UART has sent every byte: before the machine powers off. */
void console_flush(void);

#endif
