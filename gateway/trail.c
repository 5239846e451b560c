/* trail.c — muxgate's attach records, read back (see trail.h). */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "gateway/trail.h"
#include "util/num.h"

/*
 * The value of NAME=... in the msg part of LINE, into OUT: a "quoted"
 * value without its quotes, or a bare word (numbers, and hex, which is
 * how libaudit encodes a value it cannot quote; the values read here are
 * hex digits and numbers, which it always quotes or leaves bare).
 * Returns the length, or -1 if NAME is not there or does not fit.
 */
static int
field(const char *line, const char *name, char *out, size_t outlen)
{
	const char	*p = line, *v, *e;
	size_t		 nlen = strlen(name), len;

	while ((p = strstr(p, name)) != NULL) {
		/* A whole field name: after a space (or ' of msg='). */
		if ((p == line || p[-1] == ' ' || p[-1] == '\'') &&
		    p[nlen] == '=')
			break;
		p += nlen;
	}
	if (p == NULL)
		return -1;
	v = p + nlen + 1;
	if (*v == '"') {
		v++;
		if ((e = strchr(v, '"')) == NULL)
			return -1;
	} else
		e = v + strcspn(v, " '\n");
	len = (size_t)(e - v);
	if (len >= outlen)
		return -1;
	memcpy(out, v, len);
	out[len] = '\0';
	return (int)len;
}

static bool
hex_digits(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f')))
			return false;
	return s[n] == '\0';
}

int
trail_parse(const char *line, struct trail_rec *r)
{
	char		 v[128];
	const char	*errstr;
	long long	 n;

	memset(r, 0, sizeof(*r));
	r->duration = -1;
	if (field(line, "op", v, sizeof(v)) == -1)
		return 0;
	if (strcmp(v, "muxgate-attach-start") == 0)
		r->kind = TRAIL_START;
	else if (strcmp(v, "muxgate-attach-checkpoint") == 0)
		r->kind = TRAIL_CHECKPOINT;
	else if (strcmp(v, "muxgate-attach-end") == 0)
		r->kind = TRAIL_END;
	else
		return 0;
	if (field(line, "attach", r->attach, sizeof(r->attach)) != 16 ||
	    !hex_digits(r->attach, 16) ||
	    field(line, "rec_hash", r->hash, sizeof(r->hash)) != 64 ||
	    !hex_digits(r->hash, 64) ||
	    field(line, "rec_bytes", v, sizeof(v)) == -1 ||
	    num_parse(v, 0, LLONG_MAX, &n, &errstr) == -1)
		return 0;
	r->bytes = (unsigned long long)n;
	if (field(line, "duration", v, sizeof(v)) != -1 &&
	    num_parse(v, 0, LLONG_MAX, &n, &errstr) == 0)
		r->duration = n;
	r->success = field(line, "res", v, sizeof(v)) != -1 &&
	    strcmp(v, "success") == 0;
	return 1;
}
