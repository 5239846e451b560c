/* record.c — the asciicast v2 writer. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "gateway/dirs.h"
#include "gateway/output.h"
#include "gateway/record.h"
#include "gateway/str.h"
#include "gateway/xmalloc.h"

#define RECORD_BUFFER (64 * 1024)

struct recorder {
	int			 fd;
	char			*path;
	struct buf		 buf;
	unsigned long long	 written;	/* bytes in the file */
	unsigned long long	 max;
	unsigned char		 carry[2][4];	/* split UTF-8, per stream */
	size_t			 ncarry[2];
	char			 error[256];
	bool			 failed;
};

/* Length of the UTF-8 sequence starting with C, or 0 if C cannot start one. */
static size_t
seq_len(unsigned char c)
{
	if (c < 0x80) return 1;
	if ((c & 0xe0) == 0xc0) return c >= 0xc2 ? 2 : 0;
	if ((c & 0xf0) == 0xe0) return 3;
	if ((c & 0xf8) == 0xf0) return c <= 0xf4 ? 4 : 0;
	return 0;
}

static bool
seq_valid(const unsigned char *s, size_t n)
{
	size_t	i;

	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return false;
	if (n == 3) {
		if (s[0] == 0xe0 && s[1] < 0xa0) return false;	/* overlong */
		if (s[0] == 0xed && s[1] >= 0xa0) return false;	/* surrogate */
	}
	if (n == 4) {
		if (s[0] == 0xf0 && s[1] < 0x90) return false;
		if (s[0] == 0xf4 && s[1] >= 0x90) return false;
	}
	return true;
}

void
record_json_escape(struct buf *b, const unsigned char *s, size_t len,
    bool final, size_t *carry)
{
	static const char hex[] = "0123456789abcdef";
	size_t		i = 0, run = 0, n;
	unsigned char	c;
	char		esc[7];

	*carry = 0;
	while (i < len) {
		c = s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			run++;
			i++;
			continue;
		}
		if (run > 0) {
			buf_add(b, s + i - run, run);
			run = 0;
		}
		if (c < 0x80) {
			switch (c) {
			case '"': buf_add(b, "\\\"", 2); break;
			case '\\': buf_add(b, "\\\\", 2); break;
			case '\n': buf_add(b, "\\n", 2); break;
			case '\r': buf_add(b, "\\r", 2); break;
			case '\t': buf_add(b, "\\t", 2); break;
			default:
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 15];
				buf_add(b, esc, 6);
			}
			i++;
			continue;
		}
		n = seq_len(c);
		if (n != 0 && i + n > len && !final) {
			/* Possibly valid but cut: keep it for the next chunk. */
			if (seq_valid(s + i, len - i)) {
				*carry = len - i;
				return;
			}
		}
		if (n == 0 || i + n > len || !seq_valid(s + i, n)) {
			buf_add(b, "\xef\xbf\xbd", 3);
			i++;
			continue;
		}
		buf_add(b, s + i, n);
		i += n;
	}
	if (run > 0)
		buf_add(b, s + i - run, run);
}

static char *
header_json(const struct record_meta *m)
{
	struct json_object	*h, *env, *mg;
	char			*title, *s;

	h = json_object_new_object();
	json_object_object_add(h, "version", json_object_new_int(2));
	json_object_object_add(h, "width", json_object_new_int((int)m->cols));
	json_object_object_add(h, "height", json_object_new_int((int)m->rows));
	json_object_object_add(h, "timestamp",
	    json_object_new_int64(m->timestamp));
	env = json_object_new_object();
	json_object_object_add(env, "TERM", out_json_string(m->term));
	json_object_object_add(h, "env", env);
	xasprintf(&title, "%s@%s:%s", m->tmux_user, m->host, m->session);
	json_object_object_add(h, "title", out_json_string(title));
	free(title);
	mg = json_object_new_object();
	json_object_object_add(mg, "attach_id", out_json_string(m->attach_id));
	json_object_object_add(mg, "identity", out_json_string(m->identity));
	json_object_object_add(mg, "key", out_json_string(m->key));
	json_object_object_add(mg, "host", out_json_string(m->host));
	json_object_object_add(mg, "tmux_user", out_json_string(m->tmux_user));
	json_object_object_add(mg, "session", out_json_string(m->session));
	json_object_object_add(mg, "mode", out_json_string(m->mode));
	json_object_object_add(mg, "client", out_json_string(m->client));
	json_object_object_add(h, "muxgate", mg);
	s = xstrdup(json_object_to_json_string_ext(h, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(h);
	return s;
}

struct recorder *
record_open(const char *root, const struct record_meta *m,
    unsigned long long max, char *err, size_t errlen)
{
	struct recorder	*r;
	char		*dir, *path, when[32], *hdr;
	time_t		 t = (time_t)m->timestamp;
	struct tm	 tm;
	int		 fd;

	if (dirs_private(root, err, errlen) == -1)
		return NULL;
	xasprintf(&dir, "%s/%s", root, m->identity);
	if (dirs_private(dir, err, errlen) == -1) {
		free(dir);
		return NULL;
	}
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y%m%d-%H%M%S", &tm);
	xasprintf(&path, "%s/%s-%s.cast", dir, when, m->attach_id);
	free(dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1) {
		snprintf(err, errlen, "cannot create %s: %s", path,
		    strerror(errno));
		free(path);
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	r->fd = fd;
	r->path = path;
	r->max = max;
	hdr = header_json(m);
	buf_adds(&r->buf, hdr);
	buf_addc(&r->buf, '\n');
	free(hdr);
	if (record_flush(r) == -1) {
		snprintf(err, errlen, "%s", r->error);
		(void)record_close(r);
		return NULL;
	}
	return r;
}

const char *
record_path(const struct recorder *r)
{
	return r->path;
}

const char *
record_error(const struct recorder *r)
{
	return r->error;
}

unsigned long long
record_size(const struct recorder *r)
{
	return r->written + r->buf.len;
}

/* WHAT is "cannot write recording" or the like; DETAIL may be NULL. */
static int
fail(struct recorder *r, const char *what, const char *detail)
{
	if (!r->failed)
		snprintf(r->error, sizeof(r->error), "%s %s%s%s", what, r->path,
		    detail != NULL ? ": " : "", detail != NULL ? detail : "");
	r->failed = true;
	return -1;
}

/*
 * "[SECONDS.MICROS, \"T\", \"" without printf: this runs for every chunk
 * the relay passes, keystrokes included.
 */
static void
event_head(struct buf *b, unsigned long long usec, char type)
{
	char			 s[48], *e = s + sizeof(s), *p = e;
	unsigned long long	 sec = usec / 1000000;
	unsigned		 frac = (unsigned)(usec % 1000000), i;

	*--p = '"'; *--p = ' '; *--p = ',';
	*--p = '"'; *--p = type; *--p = '"'; *--p = ' '; *--p = ',';
	for (i = 0; i < 6; i++, frac /= 10)
		*--p = (char)('0' + frac % 10);
	*--p = '.';
	do
		*--p = (char)('0' + sec % 10);
	while ((sec /= 10) != 0);
	*--p = '[';
	buf_add(b, p, (size_t)(e - p));
}

int
record_event(struct recorder *r, unsigned long long usec, char type,
    const void *data, size_t len)
{
	unsigned char	*joined = NULL;
	const unsigned char *p = data;
	size_t		 stream = type == 'i', carry, n = len;

	if (r->failed)
		return -1;
	if (type != 'r' && r->ncarry[stream] > 0) {
		joined = xmalloc(r->ncarry[stream] + len);
		memcpy(joined, r->carry[stream], r->ncarry[stream]);
		memcpy(joined + r->ncarry[stream], data, len);
		p = joined;
		n = r->ncarry[stream] + len;
		r->ncarry[stream] = 0;
	}
	event_head(&r->buf, usec, type);
	record_json_escape(&r->buf, p, n, type == 'r', &carry);
	buf_add(&r->buf, "\"]\n", 3);
	if (carry > 0) {
		memcpy(r->carry[stream], p + n - carry, carry);
		r->ncarry[stream] = carry;
	}
	free(joined);
	if (record_size(r) > r->max)
		return fail(r, "size limit (gateway.limits.recording_max) "
		    "reached by recording", NULL);
	if (r->buf.len >= RECORD_BUFFER)
		return record_flush(r);
	return 0;
}

int
record_flush(struct recorder *r)
{
	size_t	off = 0;
	ssize_t	n;

	while (off < r->buf.len) {
		n = write(r->fd, r->buf.data + off, r->buf.len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			r->buf.len = 0;
			return fail(r, "cannot write recording",
			    strerror(errno));
		}
		off += (size_t)n;
		r->written += (size_t)n;
	}
	r->buf.len = 0;
	return r->failed ? -1 : 0;
}

int
record_close(struct recorder *r)
{
	int	ret = 0;

	if (r == NULL)
		return 0;
	if (r->buf.len > 0 && record_flush(r) == -1)
		ret = -1;
	if (close(r->fd) == -1)
		ret = -1;
	buf_free(&r->buf);
	free(r->path);
	free(r);
	return ret;
}

int
record_space_ok(const char *root, unsigned min_free, char *err, size_t errlen)
{
	struct statvfs	sv;
	double		pct;

	if (min_free == 0)
		return 0;
	if (statvfs(root, &sv) == -1) {
		if (errno == ENOENT)
			return 0;	/* created on first use, then checked */
		snprintf(err, errlen, "%s: %s", root, strerror(errno));
		return -1;
	}
	if (sv.f_blocks == 0)
		return 0;
	pct = 100.0 * (double)sv.f_bavail / (double)sv.f_blocks;
	if (pct < (double)min_free) {
		snprintf(err, errlen, "the recordings file system %s has %.1f%% "
		    "free, below the %u%% minimum", root, pct, min_free);
		return -1;
	}
	return 0;
}
