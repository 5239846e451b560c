/*
 * fuzz_termfilter.c — the terminal filter on arbitrary bytes.  The first
 * byte picks the mode (watch or writer) and seeds where the rest is cut.
 * Checked: the output is the same fed whole, cut at those points and fed
 * a byte at a time; filtering it again changes nothing; no call writes
 * more than TERMFILTER_OUT_MAX; and a checker written apart from the
 * filter finds in it nothing the mode forbids.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/termfilter.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct out {
	unsigned char	*p;
	size_t		 len;
};

/* Fed in pieces: LEN[i] bytes each, LEN ending with 0 (then the rest). */
static struct out
filter(enum termfilter_mode mode, const uint8_t *in, size_t n,
    const size_t *len)
{
	struct termfilter	*tf = termfilter_new(mode);
	struct out		 o;
	size_t			 off = 0, k, w;

	o.p = malloc(TERMFILTER_OUT_MAX(n));
	o.len = 0;
	while (off < n) {
		k = *len != 0 ? *len++ : n - off;
		if (k > n - off)
			k = n - off;
		w = termfilter_feed(tf, in + off, k, o.p + o.len);
		if (w > TERMFILTER_OUT_MAX(k))
			abort();
		o.len += w;
		off += k;
	}
	w = termfilter_end(tf, o.p + o.len);
	if (w > TERMFILTER_SLACK)
		abort();
	o.len += w;
	termfilter_free(tf);
	return o;
}

static void
same(const struct out *a, const struct out *b)
{
	if (a->len != b->len || memcmp(a->p, b->p, a->len) != 0)
		abort();
}

/* Valid UTF-8 with no C1 control, no ENQ (watch), no ESC ESC. */
static void
check_text(const unsigned char *p, size_t n, bool watch)
{
	uint32_t	cp;
	size_t		i;
	int		r;

	for (i = 0; i < n; i += (size_t)r) {
		if ((r = utf8_decode(p + i, n - i, &cp)) <= 0)
			abort();
		if ((cp >= 0x80 && cp <= 0x9f) || (watch && cp == 0x05))
			abort();
		if (cp == 0x1b && i + 1 < n && p[i + 1] == 0x1b)
			abort();
	}
}

static bool
num_is(const unsigned char *p, size_t n, size_t *i, unsigned long *v)
{
	bool	any = false;

	*v = 0;
	while (*i < n && p[*i] >= '0' && p[*i] <= '9') {
		if (*v < 1000000)
			*v = *v * 10 + (unsigned long)(p[*i] - '0');
		(*i)++;
		any = true;
	}
	return any;
}

/* A string's body from I to its BEL (an OSC) or ST; false if none. */
static bool
string_end(const unsigned char *p, size_t n, size_t *i, bool osc,
    bool *query)
{
	*query = false;
	for (; *i < n; (*i)++) {
		if (p[*i] == '?')
			*query = true;
		if (osc && p[*i] == 0x07)
			return true;
		if (p[*i] == 0x1b)
			return *i + 1 < n && p[++(*i)] == '\\';
		if (osc && (p[*i] < 0x20 || p[*i] == 0x7f))
			return false;
	}
	return false;
}

static bool
osc_ok(unsigned long v, bool query)
{
	switch (v) {
	case 0: case 1: case 2: case 8: case 104: case 110: case 111: case 112:
		return true;
	case 4: case 10: case 11: case 12:
		return !query;
	}
	return false;
}

/* A CSI from I (after ESC [) to its final byte; false if forbidden. */
static bool
csi_ok(const unsigned char *p, size_t n, size_t *i)
{
	unsigned char	pre = 0, in = 0, f;
	unsigned long	p1;
	size_t		j;

	if (*i < n && p[*i] >= 0x3c && p[*i] <= 0x3f)
		pre = p[(*i)++];
	j = *i;
	(void)num_is(p, n, &j, &p1);
	for (; *i < n && p[*i] >= 0x20 && p[*i] <= 0x3f; (*i)++) {
		if (p[*i] < 0x30 && in != 0)
			return false;	/* a second intermediate */
		if (p[*i] < 0x30)
			in = p[*i];
	}
	if (*i >= n || p[*i] < 0x40 || p[*i] > 0x7e)
		return false;
	f = p[*i];
	if (f == 'c' || f == 'n' || (f == 'p' && in == '$') ||
	    (f == 'q' && pre == '>'))
		return false;
	if (f == 't' && (pre != 0 || in != 0 || (p1 != 22 && p1 != 23)))
		return false;
	return true;
}

/* The watcher's stream: only what TERMFILTER_WATCH lets through. */
static void
check_watch(const unsigned char *p, size_t n)
{
	unsigned long	v;
	size_t		i;
	bool		query;

	check_text(p, n, true);
	for (i = 0; i < n; i++) {
		if (p[i] != 0x1b)
			continue;
		if (++i >= n)
			abort();
		switch (p[i]) {
		case '[':
			i++;
			if (!csi_ok(p, n, &i))
				abort();
			break;
		case ']':
			i++;
			if (!num_is(p, n, &i, &v) ||
			    !string_end(p, n, &i, true, &query) ||
			    !osc_ok(v, query))
				abort();
			break;
		case 'P':
			if (n - i < 6 || (memcmp(p + i, "P=1s\033\\", 6) != 0 &&
			    memcmp(p + i, "P=2s\033\\", 6) != 0))
				abort();
			i += 5;
			break;
		case 'X': case '^': case '_': case '\\': case 'Z': case '%':
			abort();
		default:
			/* ESC ( % 5 is a character set, ESC % G is not. */
			while (i < n && p[i] >= 0x20 && p[i] < 0x30)
				i++;
			if (i >= n || p[i] < 0x30 || p[i] > 0x7e)
				abort();
		}
	}
}

/* A writer's stream: no OSC 52, nothing that could stand for one. */
static void
check_writer(const unsigned char *p, size_t n)
{
	unsigned long	v;
	size_t		i, j;

	check_text(p, n, false);
	for (i = 0; i + 1 < n; i++) {
		if (p[i] != 0x1b)
			continue;
		if (p[i + 1] == '%')
			abort();
		j = i + 2;
		if (p[i + 1] == ']' && num_is(p, n, &j, &v) &&
		    (v == 52 || v >= 65536))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum termfilter_mode	 mode;
	struct out		 whole, cut, bytes, again;
	size_t			 len[64], i, n;
	uint32_t		 seed;
	const uint8_t		*in;

	if (size < 1)
		return 0;
	mode = data[0] & 1 ? TERMFILTER_WRITER : TERMFILTER_WATCH;
	seed = data[0] * 2654435761u + (uint32_t)size;
	in = data + 1;
	n = size - 1;
	/* Cut points from the seed: pieces of 1 to 64 bytes, then the rest. */
	for (i = 0; i < 63; i++) {
		seed = seed * 1103515245u + 12345u;
		len[i] = 1 + (seed >> 16) % 64;
	}
	len[63] = 0;
	whole = filter(mode, in, n, (size_t[]){ 0 });
	cut = filter(mode, in, n, len);
	same(&whole, &cut);
	/* A byte at a time: every piece of length 1. */
	{
		struct termfilter	*tf = termfilter_new(mode);

		bytes.p = malloc(TERMFILTER_OUT_MAX(n));
		bytes.len = 0;
		for (i = 0; i < n; i++)
			bytes.len += termfilter_feed(tf, in + i, 1,
			    bytes.p + bytes.len);
		bytes.len += termfilter_end(tf, bytes.p + bytes.len);
		termfilter_free(tf);
	}
	same(&whole, &bytes);
	again = filter(mode, whole.p, whole.len, (size_t[]){ 0 });
	same(&whole, &again);
	if (mode == TERMFILTER_WATCH)
		check_watch(whole.p, whole.len);
	else
		check_writer(whole.p, whole.len);
	free(whole.p);
	free(cut.p);
	free(bytes.p);
	free(again.p);
	return 0;
}
