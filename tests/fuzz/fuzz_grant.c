/*
 * fuzz_grant.c — a grant's entry (grant_decode) on arbitrary bytes: it
 * never crashes, and what it accepts is consistent and encodes back to
 * bytes it accepts again, to the same grant.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/grant.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct grant	 g, again;
	char		 err[256], *text, *text2;

	if (grant_decode("0123456789abcdef", data, size, &g, err,
	    sizeof(err)) == -1) {
		if (g.requester != NULL || err[0] == '\0')
			abort();
		return 0;
	}
	if (g.duration == 0 || (g.starts != 0 &&
	    g.ends != g.starts + (long long)g.duration))
		abort();
	text = grant_encode(&g);
	if (grant_decode("0123456789abcdef", (const unsigned char *)text,
	    strlen(text), &again, err, sizeof(err)) == -1)
		abort();
	text2 = grant_encode(&again);
	if (strcmp(text, text2) != 0)
		abort();
	free(text);
	free(text2);
	grant_free(&g);
	grant_free(&again);
	return 0;
}
