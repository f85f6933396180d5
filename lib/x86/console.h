/* console.h: the COM1 16550 UART, where every line of output goes. */
#ifndef CANON_CONSOLE_H
#define CANON_CONSOLE_H

#include "types.h"

void console_init(void);
void console_write(const char *bytes, size_t length);

#endif
