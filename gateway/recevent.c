/*
 * recevent.c — a recording's lines, header and events (recevent.h), as
 * `muxgate replay` and `export` read them.  Whoever can write into the
 * recordings directory, or hand an auditor a file, controls every byte:
 * nothing here trusts a length, a type or a number it reads.
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <json-c/json.h>

#include "gateway/recevent.h"
#include "gateway/str.h"
#include "gateway/xmalloc.h"
#include "util/num.h"

struct recreader {
	FILE			*fp;
	struct seal_reader	*rd;		/* NULL: a plain file */
	enum seal_status	 end;		/* sealed: how the frames ended */
	bool			 header_done;
	struct buf		 pending;	/* sealed: plaintext not yet read */
	size_t			 pos;
	char			*line;
	size_t			 cap;
	char			 why[512];
};

struct recreader *
recreader_new(FILE *fp, struct seal_reader *rd)
{
	struct recreader	*r;

	r = xcalloc(1, sizeof(*r));
	r->fp = fp;
	r->rd = rd;
	r->end = rd == NULL ? SEAL_COMPLETE : SEAL_OK;
	return r;
}

void
recreader_free(struct recreader *r)
{
	if (r == NULL)
		return;
	buf_free(&r->pending);
	free(r->line);
	free(r);
}

enum seal_status
recreader_end(const struct recreader *r, const char **why)
{
	*why = r->why;
	return r->end;
}

/* Pull frames until a whole line is pending or the frames end. */
static void
pull(struct recreader *r)
{
	const unsigned char	*plain;
	size_t			 len;

	while (r->end == SEAL_OK && (r->pos >= r->pending.len ||
	    memchr(r->pending.data + r->pos, '\n', r->pending.len - r->pos) ==
	    NULL)) {
		/* Keep only what is unread, then pull the next frame. */
		if (r->pos > 0) {
			memmove(r->pending.data, r->pending.data + r->pos,
			    r->pending.len - r->pos);
			r->pending.len -= r->pos;
			r->pos = 0;
		}
		r->end = seal_reader_next(r->rd, &plain, &len, r->why,
		    sizeof(r->why));
		if (r->end == SEAL_OK && len > 0)
			buf_add(&r->pending, plain, len);
	}
}

/* The next line of a sealed recording's plaintext. */
static const char *
sealed_line(struct recreader *r, size_t *lenp)
{
	const char	*start, *nl;
	size_t		 len;

	pull(r);
	if (r->pos >= r->pending.len)
		return NULL;
	start = r->pending.data + r->pos;
	nl = memchr(start, '\n', r->pending.len - r->pos);
	len = nl != NULL ? (size_t)(nl - start) + 1 : r->pending.len - r->pos;
	if (len + 1 > r->cap) {
		r->cap = len + 1;
		r->line = xreallocarray(r->line, r->cap, 1);
	}
	memcpy(r->line, start, len);
	r->line[len] = '\0';
	r->pos += len;
	*lenp = len;
	return r->line;
}

const char *
recreader_line(struct recreader *r, size_t *lenp)
{
	const char	*cast;
	ssize_t		 n;
	size_t		 len;

	*lenp = 0;
	if (r->rd == NULL) {
		if ((n = getline(&r->line, &r->cap, r->fp)) <= 0)
			return NULL;
		*lenp = (size_t)n;
		return r->line;
	}
	if (!r->header_done) {
		r->header_done = true;
		cast = seal_reader_cast(r->rd, &len);
		buf_add(&r->pending, cast, len);
		buf_addc(&r->pending, '\n');
	}
	return sealed_line(r, lenp);
}

int
recevent_header(const char *line, const char **errstr)
{
	struct json_object	*h, *v;
	bool			 ok;

	if ((h = json_tokener_parse(line)) == NULL) {
		*errstr = "not an asciicast header";
		return -1;
	}
	/* The number 2, as `muxgate recordings` reads it: not "2" or 2.5. */
	ok = json_object_object_get_ex(h, "version", &v) &&
	    json_object_is_type(v, json_type_int) &&
	    json_object_get_int64(v) == 2;
	json_object_put(h);
	if (!ok) {
		*errstr = "not an asciicast v2 recording";
		return -1;
	}
	return 0;
}

int
recevent_parse(const char *line, struct recevent *ev, const char **errstr)
{
	struct json_object	*e, *t, *type, *data;

	memset(ev, 0, sizeof(*ev));
	if ((e = json_tokener_parse(line)) == NULL ||
	    !json_object_is_type(e, json_type_array) ||
	    json_object_array_length(e) != 3)
		goto malformed;
	t = json_object_array_get_idx(e, 0);
	type = json_object_array_get_idx(e, 1);
	data = json_object_array_get_idx(e, 2);
	if (!json_object_is_type(type, json_type_string) ||
	    !json_object_is_type(data, json_type_string))
		goto malformed;
	/* A number: json-c would read "1.5", null or true as one too. */
	if (!json_object_is_type(t, json_type_double) &&
	    !json_object_is_type(t, json_type_int))
		goto bad_time;
	ev->at = json_object_get_double(t);
	if (!isfinite(ev->at) || ev->at < 0)
		goto bad_time;
	ev->type = json_object_get_string(type);
	ev->data = json_object_get_string(data);
	ev->len = (size_t)json_object_get_string_len(data);
	ev->json = e;
	return 0;
malformed:
	*errstr = "malformed event";
	json_object_put(e);
	return -1;
bad_time:
	*errstr = "bad time";
	json_object_put(e);
	return -1;
}

void
recevent_free(struct recevent *ev)
{
	json_object_put(ev->json);
	memset(ev, 0, sizeof(*ev));
}

int
recevent_resize(const char *data, size_t len, unsigned *cols,
    unsigned *rows)
{
	char		 text[32];
	const char	*end, *errstr;
	long long	 c, r;

	/* "65535x65535" is the longest; a NUL inside is not a number. */
	if (len >= sizeof(text) || memchr(data, '\0', len) != NULL)
		return -1;
	memcpy(text, data, len);
	text[len] = '\0';
	if (num_parse_prefix(text, 1, 65535, &c, &end, &errstr) == -1 ||
	    *end != 'x' || num_parse(end + 1, 1, 65535, &r, &errstr) == -1)
		return -1;
	*cols = (unsigned)c;
	*rows = (unsigned)r;
	return 0;
}
