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
#include <sodium.h>
#include <json-c/json.h>

#include "gateway/dirs.h"
#include "gateway/output.h"
#include "gateway/recevent.h"
#include "gateway/record.h"
#include "gateway/seal.h"
#include "gateway/secretmask.h"
#include "gateway/str.h"
#include "gateway/xmalloc.h"
#include "util/utf8.h"

#define RECORD_BUFFER (64 * 1024)
/* Free space is checked after at most this much was written... */
#define SPACE_STEP_MAX (64 * 1024)
/* ...and no more often than this, however close the minimum is. */
#define SPACE_STEP_MIN (4 * 1024)

struct recorder {
	int			 fd;
	char			*path;
	char			*root;		/* gateway.recordings */
	struct buf		 buf;
	unsigned long long	 written;	/* bytes in the file */
	unsigned long long	 max;
	unsigned		 min_free;	/* percent, 0 = off */
	unsigned long long	 space_check_at; /* WRITTEN of the next check */
	unsigned char		 carry[2][4];	/* split UTF-8, per stream */
	size_t			 ncarry[2];
	char			 error[512];
	bool			 failed;
	bool			 broken;	/* a write failed: write no more */
	bool			 space_low;	/* below min_free */
	bool			 finished;	/* record_finish() ran */
	struct seal_writer	*seal;		/* NULL: a plain file */
	struct buf		 frame;		/* sealed: the frame to write */
	bool			 seal_header;	/* writing the header line */
	crypto_generichash_state hash;		/* of the WRITTEN bytes */
	struct secretmask	*mask;		/* which keystrokes to keep */
};

void
record_json_escape(struct buf *b, const unsigned char *s, size_t len,
    bool final, size_t *carry)
{
	static const char hex[] = "0123456789abcdef";
	size_t		i = 0, run = 0;
	unsigned char	c;
	char		esc[7];
	uint32_t	cp;
	int		n;

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
		n = utf8_decode(s + i, len - i, &cp);
		if (n == UTF8_SHORT && !final) {
			/* Valid so far but cut: keep it for the next chunk. */
			*carry = len - i;
			return;
		}
		if (n <= 0) {
			buf_add(b, "\xef\xbf\xbd", 3);
			i++;
			continue;
		}
		buf_add(b, s + i, (size_t)n);
		i += (size_t)n;
	}
	if (run > 0)
		buf_add(b, s + i - run, run);
}

static const char *
mask_name(enum secretmask_mode mode)
{
	switch (mode) {
	case SECRETMASK_PROMPTS: return "prompts";
	case SECRETMASK_ALL: return "all";
	case SECRETMASK_NONE: break;
	}
	return "none";
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
	json_object_object_add(mg, "mask_input",
	    json_object_new_string(mask_name(m->mask)));
	json_object_object_add(h, "muxgate", mg);
	s = xstrdup(json_object_to_json_string_ext(h, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(h);
	return s;
}

static int	write_out(struct recorder *);

/* A sealed recording's header line, made by seal_writer_new() in FRAME. */
static int
write_header(struct recorder *r)
{
	struct buf	keep = r->buf;
	int		ret;

	/* Sent through the plain path: it is not a frame. */
	r->buf = r->frame;
	memset(&r->frame, 0, sizeof(r->frame));
	r->seal_header = true;
	ret = write_out(r);
	r->seal_header = false;
	r->frame = r->buf;
	r->frame.len = 0;
	r->buf = keep;
	return ret;
}

struct recorder *
record_open(const char *root, const struct record_meta *m,
    unsigned long long max, char *err, size_t errlen)
{
	struct recorder	*r;
	char		*dir, *path, when[32], *hdr;
	time_t		 t = (time_t)m->timestamp;
	struct tm	 tm;
	struct secretmask *mask;
	int		 fd;

	if ((mask = secretmask_new(m->mask, m->secret_prompts,
	    m->nsecret_prompts, m->cols, m->rows, err, errlen)) == NULL)
		return NULL;
	if (dirs_private(root, err, errlen) == -1) {
		secretmask_free(mask);
		return NULL;
	}
	xasprintf(&dir, "%s/%s", root, m->identity);
	if (dirs_private(dir, err, errlen) == -1) {
		free(dir);
		secretmask_free(mask);
		return NULL;
	}
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y%m%d-%H%M%S", &tm);
	xasprintf(&path, "%s/%s-%s.%s", dir, when, m->attach_id,
	    m->nrecipients > 0 ? "sealed" : "cast");
	free(dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1) {
		snprintf(err, errlen, "cannot create %s: %s", path,
		    strerror(errno));
		free(path);
		secretmask_free(mask);
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	r->mask = mask;
	r->fd = fd;
	r->path = path;
	r->root = xstrdup(root);
	r->max = max;
	(void)crypto_generichash_init(&r->hash, NULL, 0, 32);
	hdr = header_json(m);
	if (m->nrecipients > 0) {
		/* The header line goes out as it is; frames follow. */
		r->seal = seal_writer_new(hdr, strlen(hdr), m->recipients,
		    m->nrecipients, &r->frame, err, errlen);
		free(hdr);
		if (r->seal == NULL || write_header(r) == -1) {
			if (r->seal != NULL)
				snprintf(err, errlen, "%s", r->error);
			(void)unlink(r->path);
			(void)record_close(r);
			return NULL;
		}
		return r;
	}
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

bool
record_space_low(const struct recorder *r)
{
	return r->space_low;
}

unsigned long long
record_size(const struct recorder *r)
{
	return r->written + r->buf.len;
}

void
record_set_min_free(struct recorder *r, unsigned min_free)
{
	r->min_free = min_free;
	r->space_check_at = r->written;
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
 * Is less than MIN_FREE percent of SV free?  *PCT is the share that is
 * free, *MARGIN how many bytes can still be written before it is below.
 */
static bool
space_below(const struct statvfs *sv, unsigned min_free, double *pct,
    unsigned long long *margin)
{
	unsigned long long	 avail, keep;

	*pct = 100.0;
	*margin = ~0ULL;
	if (sv->f_blocks == 0)
		return false;	/* no size to speak of, as in /proc */
	avail = (unsigned long long)sv->f_bavail * sv->f_frsize;
	keep = (unsigned long long)sv->f_blocks * sv->f_frsize / 100 *
	    min_free;
	/* Rounded down: never "5.0% free, below the 5% minimum". */
	*pct = (double)(1000ULL * sv->f_bavail / sv->f_blocks) / 10.0;
	*margin = avail > keep ? avail - keep : 0;
	return avail < keep;
}

/*
 * Is the recording's file system still at least MIN_FREE percent free?
 * One fstatvfs, and the next one after half of what is left above the
 * minimum has been written (between SPACE_STEP_MIN and SPACE_STEP_MAX),
 * so that a flood of output cannot jump past the minimum to a full disk
 * and a quiet attach costs nothing.  FORCE: check now.
 */
static int
space_check(struct recorder *r, bool force)
{
	struct statvfs		 sv;
	unsigned long long	 margin, step;
	double			 pct;

	if (r->min_free == 0 || (!force && r->written < r->space_check_at))
		return 0;
	if (fstatvfs(r->fd, &sv) == -1) {
		r->space_check_at = r->written + SPACE_STEP_MIN;
		return 0;	/* not knowing is no reason to end the attach */
	}
	if (space_below(&sv, r->min_free, &pct, &margin)) {
		if (!r->failed)
			snprintf(r->error, sizeof(r->error), "the recordings file "
			    "system %s has %.1f%% free, below the %u%% minimum "
			    "(gateway.limits.recording_min_free)", r->root, pct,
			    r->min_free);
		r->failed = true;
		r->space_low = true;
		return -1;
	}
	step = margin / 2;
	if (step > SPACE_STEP_MAX)
		step = SPACE_STEP_MAX;
	if (step < SPACE_STEP_MIN)
		step = SPACE_STEP_MIN;
	r->space_check_at = r->written + step;
	return 0;
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

/* 1 if the event just added crossed the size limit. */
static int
over_limit(struct recorder *r)
{
	if (record_size(r) > r->max) {
		(void)fail(r, "size limit (gateway.limits.recording_max) "
		    "reached by recording", NULL);
		return 1;
	}
	return 0;
}

/*
 * Add one event to the buffer; 1 if it crossed the size limit.  Output
 * and input each carry a UTF-8 character cut at the end of an event to
 * their next one.
 */
static int
append(struct recorder *r, unsigned long long usec, char type,
    const void *data, size_t len)
{
	unsigned char	*joined = NULL;
	const unsigned char *p = data;
	size_t		 stream = type == 'i', carry, n = len;
	bool		 carries = type == 'o' || type == 'i';

	if (carries && r->ncarry[stream] > 0) {
		joined = xmalloc(r->ncarry[stream] + len);
		memcpy(joined, r->carry[stream], r->ncarry[stream]);
		memcpy(joined + r->ncarry[stream], data, len);
		p = joined;
		n = r->ncarry[stream] + len;
		r->ncarry[stream] = 0;
	}
	event_head(&r->buf, usec, type);
	record_json_escape(&r->buf, p, n, !carries, &carry);
	buf_add(&r->buf, "\"]\n", 3);
	if (carry > 0) {
		memcpy(r->carry[stream], p + n - carry, carry);
		r->ncarry[stream] = carry;
	}
	free(joined);
	return over_limit(r);
}

/* A masked answer: an "m" event of N '*'. */
static int
append_stars(struct recorder *r, unsigned long long usec, size_t n)
{
	static const char	 stars[] = "****************************************"
	    "************************";
	size_t			 k;

	event_head(&r->buf, usec, 'm');
	for (; n > 0; n -= k) {
		k = n < sizeof(stars) - 1 ? n : sizeof(stars) - 1;
		buf_add(&r->buf, stars, k);
	}
	buf_add(&r->buf, "\"]\n", 3);
	return over_limit(r);
}

/*
 * One read of the user's keys, as the masking says: kept ("i"), masked
 * ("m") or left out, part by part.  Every part is recorded even when an
 * earlier one crossed the size limit: the read reaches the session
 * whole, so all of it is in the file.
 */
static int
append_input(struct recorder *r, unsigned long long usec,
    const unsigned char *p, size_t len)
{
	enum secretmask_kind	 kind;
	size_t			 n, stars;
	int			 rc = 0;

	while (len > 0) {
		n = secretmask_input(r->mask, p, len, &kind, &stars);
		if (kind == SECRETMASK_KEEP)
			rc |= append(r, usec, 'i', p, n);
		else if (kind == SECRETMASK_MASK && stars > 0)
			rc |= append_stars(r, usec, stars);
		p += n;
		len -= n;
	}
	return rc;
}

/* A resize, as the relay records it: the masking's screen too. */
static void
resize_mask(struct recorder *r, const char *data, size_t len)
{
	unsigned	cols, rows;

	if (recevent_resize(data, len, &cols, &rows) == 0)
		secretmask_resize(r->mask, cols, rows);
}

static int
append_event(struct recorder *r, unsigned long long usec, char type,
    const void *data, size_t len)
{
	switch (type) {
	case 'i':
		return append_input(r, usec, data, len);
	case 'o':
		secretmask_output(r->mask, data, len);
		break;
	case 'r':
		resize_mask(r, data, len);
		break;
	}
	return append(r, usec, type, data, len);
}

/*
 * Write the buffer out.  When a write fails (a full disk, an I/O error),
 * what is left is dropped, a partly written event is cut off the file so
 * that it ends with whole events, and nothing is written any more.
 */
/*
 * The bytes to write for what is buffered: the buffer itself, or for a
 * sealed recording one frame of it (FINAL: the last one).
 */
static struct buf *
outgoing(struct recorder *r, bool final)
{
	if (r->seal == NULL || r->seal_header)
		return &r->buf;
	r->frame.len = 0;
	if (r->buf.len > 0 || final) {
		if (seal_writer_frame(r->seal, r->buf.data, r->buf.len, final,
		    &r->frame) == -1)
			r->frame.len = 0;
	}
	r->buf.len = 0;
	return &r->frame;
}

/*
 * Write the buffer out.  When a write fails (a full disk, an I/O error),
 * what is left is dropped, a partly written event (or frame) is cut off
 * the file so that it ends with whole events (frames), and nothing is
 * written any more.
 */
static int
write_out_final(struct recorder *r, bool final)
{
	struct buf		*b = outgoing(r, final);
	size_t			 off = 0, whole;
	ssize_t			 n;
	int			 saved;
	const char		*nl;

	while (off < b->len) {
		n = write(r->fd, b->data + off, b->len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto bad;
		off += (size_t)n;
		r->written += (size_t)n;
	}
	(void)crypto_generichash_update(&r->hash,
	    (const unsigned char *)b->data, b->len);
	b->len = 0;
	return 0;
bad:
	saved = errno;
	if (r->seal != NULL)
		whole = 0;	/* a frame is whole or not there */
	else {
		nl = off > 0 ? memrchr(b->data, '\n', off) : NULL;
		whole = nl != NULL ? (size_t)(nl - b->data) + 1 : 0;
	}
	if (whole < off && ftruncate(r->fd, (off_t)(r->written - off + whole))
	    == 0) {
		r->written -= off - whole;
		off = whole;
	}
	/* The hash is of what the file holds, cut or not. */
	(void)crypto_generichash_update(&r->hash,
	    (const unsigned char *)b->data, off);
	b->len = 0;
	r->buf.len = 0;
	r->broken = true;
	return fail(r, "cannot write recording", strerror(saved));
}

static int
write_out(struct recorder *r)
{
	return write_out_final(r, false);
}

int
record_event(struct recorder *r, unsigned long long usec, char type,
    const void *data, size_t len)
{
	int	rc;

	if (r->failed)
		return -1;
	rc = append_event(r, usec, type, data, len);
	if (r->buf.len < RECORD_BUFFER)
		return rc;
	if (write_out(r) == -1)
		return -1;
	return space_check(r, false) == -1 ? 1 : rc;
}

int
record_event_written(struct recorder *r, unsigned long long usec,
    char type, const void *data, size_t len)
{
	int	rc;

	if (r->failed)
		return -1;
	rc = append_event(r, usec, type, data, len);
	if (write_out(r) == -1)
		return -1;
	if (space_check(r, false) == -1)
		return 1;
	return rc;
}

int
record_flush(struct recorder *r)
{
	if (r->broken)
		return -1;
	if (write_out(r) == -1)
		return -1;
	/* Called about once a second: also notices others filling the disk. */
	if (space_check(r, true) == -1)
		return -1;
	return r->failed ? -1 : 0;
}

void
record_digest(const struct recorder *r, struct record_digest *d)
{
	crypto_generichash_state	st = r->hash;
	unsigned char			h[32];

	(void)crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(d->hash, sizeof(d->hash), h, sizeof(h));
	d->bytes = r->written;
	sodium_memzero(&st, sizeof(st));
}

int
record_finish(struct recorder *r)
{
	if (r->finished)
		return r->broken ? -1 : 0;
	r->finished = true;
	/* A sealed recording ends with its final frame, even an empty one. */
	if (r->broken || ((r->buf.len > 0 || r->seal != NULL) &&
	    write_out_final(r, true) == -1))
		return -1;
	return 0;
}

int
record_close(struct recorder *r)
{
	int	ret = 0;

	if (r == NULL)
		return 0;
	if (r->broken || (r->buf.len > 0 && write_out(r) == -1))
		ret = -1;
	if (close(r->fd) == -1)
		ret = -1;
	seal_writer_free(r->seal);
	secretmask_free(r->mask);
	buf_free(&r->frame);
	buf_free(&r->buf);
	free(r->root);
	free(r->path);
	free(r);
	return ret;
}

int
record_space_ok(const char *root, unsigned min_free, char *err, size_t errlen)
{
	struct statvfs		 sv;
	unsigned long long	 margin;
	double			 pct;

	if (min_free == 0)
		return 0;
	if (statvfs(root, &sv) == -1) {
		if (errno == ENOENT)
			return 0;	/* created on first use, then checked */
		snprintf(err, errlen, "%s: %s", root, strerror(errno));
		return -1;
	}
	if (space_below(&sv, min_free, &pct, &margin)) {
		snprintf(err, errlen, "the recordings file system %s has %.1f%% "
		    "free, below the %u%% minimum", root, pct, min_free);
		return -1;
	}
	return 0;
}
