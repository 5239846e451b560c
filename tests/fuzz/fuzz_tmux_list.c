/* fuzz_tmux_list.c — parsing tmux list-sessions output, and escaping it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/output.h"
#include "gateway/tmux.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tmux_sessions	 s;
	char			*text, err[128], *esc;
	size_t			 i;

	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	if (tmux_parse_sessions(text, &s, err, sizeof(err)) == 0) {
		for (i = 0; i < s.n; i++) {
			esc = out_escape(s.v[i].name);
			/* Nothing a terminal would act on survives escaping. */
			for (const char *p = esc; *p != '\0'; p++)
				if ((unsigned char)*p < 0x20 || *p == 0x7f)
					abort();
			free(esc);
		}
		tmux_sessions_free(&s);
	}
	free(text);
	return 0;
}
