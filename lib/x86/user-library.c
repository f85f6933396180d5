/* user-library.c: ring 3's side of the system calls. */
#include "user-library.h"

size_t USER_CODE user_string_length(const char *text)
{
	size_t length = 0;

	while (text[length])
		length++;
	return length;
}

void USER_CODE user_print(const char *text)
{
	user_system_call(SYSTEM_CALL_PRINT, (u64)text, user_string_length(text), 0);
}

bool USER_CODE user_report(bool pass, const char *name)
{
	user_system_call(SYSTEM_CALL_REPORT, pass, (u64)name, user_string_length(name));
	return pass;
}
