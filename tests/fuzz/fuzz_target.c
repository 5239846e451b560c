/* fuzz_target.c — USER@HOST:SESSION parsing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct target	 t;
	char		*s, err[256];

	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	if (target_parse(s, TARGET_HOST | TARGET_USER_HOST | TARGET_SESSION,
	    &t, err, sizeof(err)) == 0) {
		if (t.host == NULL || (t.kind != TARGET_HOST && t.user == NULL))
			abort();
		target_free(&t);
	}
	free(s);
	return 0;
}
