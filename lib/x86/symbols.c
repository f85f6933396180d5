/* symbols.c: address-to-name lookup and frame-pointer backtraces. */
#include "symbols.h"
#include "page-table.h"
#include "printf.h"

#define MAX_BACKTRACE_FRAMES 24

const char *symbol_lookup(u64 address, u64 *offset)
{
	u64 low = 0, high = kernel_symbol_count;

	/* The table is sorted by address: find the last entry <= address. */
	while (low < high) {
		u64 middle = (low + high) / 2;

		if (kernel_symbol_table[middle].address <= address)
			low = middle + 1;
		else
			high = middle;
	}
	if (!low)
		return NULL;
	*offset = address - kernel_symbol_table[low - 1].address;
	return kernel_symbol_table[low - 1].name;
}

void print_symbolized(u64 address)
{
	u64 offset;
	const char *name = symbol_lookup(address, &offset);

	if (name)
		printf("%#lx <%s+%#lx>", address, name, offset);
	else
		printf("%#lx <?>", address);
}

/* A frame pointer is followed only while it points at mapped kernel stack. */
static bool frame_pointer_is_valid(u64 rbp)
{
	struct page_walk walk;

	if (!rbp || rbp % 8 || is_lower_half(rbp) || !is_canonical(rbp))
		return false;
	page_table_walk(rbp, &walk);
	if (!walk.present)
		return false;
	page_table_walk(rbp + 8, &walk);
	return walk.present;
}

void print_backtrace(u64 rip, u64 rbp)
{
	printf("Backtrace:\n  #0  ");
	print_symbolized(rip);
	printf("\n");
	for (int depth = 1; depth < MAX_BACKTRACE_FRAMES && frame_pointer_is_valid(rbp); depth++) {
		const u64 *frame = (const u64 *)rbp;

		if (!frame[1])
			break;
		/* The return address points after the call; name the call itself. */
		printf("  #%-2d ", depth);
		print_symbolized(frame[1] - 1);
		printf("\n");
		if (frame[0] <= rbp)
			break; /* stacks grow down: a caller's frame is above */
		rbp = frame[0];
	}
}
