/*
 * fuzz_recinfo.c — a recording's first line (plain and sealed) and the
 * start of its last event, as `muxgate recordings` reads any file named
 * like a recording; what it shows must come out escaped.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/output.h"
#include "gateway/recinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
shown(const char *s)
{
	char		*esc = out_escape(s);
	const char	*p;

	/* Nothing a terminal would act on survives escaping. */
	for (p = esc; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
	free(esc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct recinfo	 ri;
	const char	*errstr;
	double		 t;
	int		 sealed;

	for (sealed = 0; sealed <= 1; sealed++) {
		memset(&ri, 0, sizeof(ri));
		if (recinfo_header(&ri, (const char *)data, size, sealed,
		    &errstr) == 0) {
			shown(ri.identity);
			shown(ri.host);
			shown(ri.tmux_user);
			shown(ri.session);
			shown(ri.mode);
			shown(ri.attach_id);
		} else if (errstr == NULL)
			abort();
		recinfo_free(&ri);
	}
	if (recinfo_event_time((const char *)data, size, &t) == 0 && !(t >= 0))
		abort();
	return 0;
}
