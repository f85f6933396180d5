/* test-fixtures.c: the shared fixtures of test-fixtures.h. */
#include "test-fixtures.h"
#include "cpu-features.h"
#include "processor.h"

const u8 magic_function[MAGIC_FUNCTION_SIZE] = {
	0xb8, MAGIC_FUNCTION_RESULT & 0xff, (MAGIC_FUNCTION_RESULT >> 8) & 0xff, 0, 0,
	RET_INSTRUCTION,
};

u32 fetch_fault_flag(u32 *undefined)
{
	bool no_execute = read_msr(MSR_EFER) & EFER_NO_EXECUTE_ENABLE;
	bool smep = read_cr4() & CR4_SMEP;

	*undefined = 0;
	if (cpu_vendor() == VENDOR_AMD) {
		if (!no_execute)
			*undefined = PAGE_FAULT_FETCH;
		return no_execute ? PAGE_FAULT_FETCH : 0;
	}
	return no_execute || smep ? PAGE_FAULT_FETCH : 0;
}
