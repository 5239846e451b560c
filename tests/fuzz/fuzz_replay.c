/*
 * fuzz_replay.c — one event line of a recording as `muxgate replay`
 * plays it: recevent_parse() takes [TIME, "TYPE", "DATA"] apart; an "o"
 * event's data goes through the watcher's terminal filter to the
 * auditor's terminal; an "r" event's "COLSxROWS" is read by
 * recevent_resize(), which the recorder also applies to the window
 * changes the client sends (record.c), so the input is given to it raw
 * as well.  The recording's lines come from fuzz_recording.c's reader;
 * this harness is the events alone, with a short input.
 *
 * Checked: an event has a finite time >= 0 and its data whole; a resize
 * is accepted exactly when a reading written here accepts it, to the
 * same size; the filter writes no more than it may.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/recevent.h"
#include "gateway/termfilter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 1 to 65535 in decimal at *P (leading zeros allowed); 0 if not. */
static unsigned long
dim(const char **p, const char *end)
{
	unsigned long	v = 0;
	const char	*s = *p;

	for (; *p < end && **p >= '0' && **p <= '9'; (*p)++)
		if (v <= 65535)
			v = v * 10 + (unsigned long)(**p - '0');
	return *p == s || v > 65535 ? 0 : v;
}

static void
check_resize(const char *data, size_t len)
{
	const char	*p = data, *end = data + len;
	unsigned	 cols = 0, rows = 0;
	unsigned long	 c, r = 0;
	int		 ok;

	c = dim(&p, end);
	ok = len < 32 && c != 0 && p < end && *p == 'x';
	if (ok) {
		p++;
		r = dim(&p, end);
		ok = r != 0 && p == end;
	}
	if (recevent_resize(data, len, &cols, &rows) != (ok ? 0 : -1))
		abort();
	if (ok && (cols != c || rows != r))
		abort();
}

static void
play(const struct recevent *ev)
{
	static struct termfilter	*tf;
	static unsigned char		*out;
	static size_t			 cap;
	size_t				 n;

	if (tf == NULL)
		tf = termfilter_new(TERMFILTER_WATCH);
	if (TERMFILTER_OUT_MAX(ev->len) > cap) {
		cap = TERMFILTER_OUT_MAX(ev->len);
		free(out);
		if ((out = malloc(cap)) == NULL)
			abort();
	}
	n = termfilter_feed(tf, ev->data, ev->len, out);
	if (n > TERMFILTER_OUT_MAX(ev->len))
		abort();
	/* One replay's stream at a time. */
	if (termfilter_end(tf, out) > TERMFILTER_SLACK)
		abort();
	termfilter_free(tf);
	tf = NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct recevent	 ev;
	const char	*errstr = NULL;
	char		*line;

	if ((line = malloc(size + 1)) == NULL)
		abort();
	memcpy(line, data, size);
	line[size] = '\0';
	check_resize((const char *)data, size);
	if (recevent_header(line, &errstr) == -1 && errstr == NULL)
		abort();
	errstr = NULL;
	if (recevent_parse(line, &ev, &errstr) == 0) {
		if (!isfinite(ev.at) || ev.at < 0 || ev.type == NULL ||
		    ev.data == NULL || ev.data[ev.len] != '\0')
			abort();
		if (strcmp(ev.type, "o") == 0)
			play(&ev);
		else if (strcmp(ev.type, "r") == 0)
			check_resize(ev.data, ev.len);
		recevent_free(&ev);
	} else if (errstr == NULL || ev.json != NULL)
		abort();
	free(line);
	return 0;
}
