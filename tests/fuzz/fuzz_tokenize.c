/* fuzz_tokenize.c — the SSH command tokenizer on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/tokenize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct argv	 words = { 0 };
	char		*line, err[256];
	int		 i;

	line = malloc(size + 1);
	memcpy(line, data, size);
	line[size] = '\0';
	if (tokenize(line, &words, err, sizeof(err)) == 0) {
		/* Whatever was accepted holds no control character. */
		for (i = 0; i < words.n; i++)
			for (const char *p = words.v[i]; *p != '\0'; p++)
				if ((unsigned char)*p < 0x20 && *p != '\t')
					abort();
		argv_free(&words);
	} else if (words.n != 0)
		abort();
	free(line);
	return 0;
}
