/*
 * recinfo.c — a recording's header and duration, from its first line and
 * its last: listing ten thousand recordings must not read them whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>

#include "gateway/recinfo.h"
#include "gateway/seal.h"
#include "gateway/utc.h"
#include "gateway/xmalloc.h"

/* Reads of the file's first and last lines, in bytes. */
#define CHUNK		4096
/*
 * How far back from the end the last complete line is looked for.  An
 * event is at most one 64 KiB read of the relay (relay.c), six bytes
 * per byte when escaped: a longer line is not an event muxgate wrote.
 */
#define TAIL_MAX	(1024 * 1024)

/* The strings of the "muxgate" object, and what a bad one is called. */
static const struct {
	const char	*key;
	size_t		 off;
	const char	*bad;
} fields[] = {
	{ "attach_id", offsetof(struct recinfo, attach_id),
	    "bad or missing muxgate.attach_id in the header" },
	{ "identity", offsetof(struct recinfo, identity),
	    "bad or missing muxgate.identity in the header" },
	{ "host", offsetof(struct recinfo, host),
	    "bad or missing muxgate.host in the header" },
	{ "tmux_user", offsetof(struct recinfo, tmux_user),
	    "bad or missing muxgate.tmux_user in the header" },
	{ "session", offsetof(struct recinfo, session),
	    "bad or missing muxgate.session in the header" },
	{ "mode", offsetof(struct recinfo, mode),
	    "bad or missing muxgate.mode in the header" },
};
#define NFIELDS	(sizeof(fields) / sizeof(fields[0]))

static char **
field(struct recinfo *ri, size_t i)
{
	return (char **)((char *)ri + fields[i].off);
}

static bool
int_member(struct json_object *o, const char *key, long long min,
    long long max, long long *out)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return *out >= min && *out <= max;
}

/* A string without NUL: "a\u0000b" would show as "a". */
static const char *
string_member(struct json_object *o, const char *key)
{
	struct json_object	*v;
	const char		*s;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return NULL;
	return s;
}

/* The asciicast header object H into RI; all of it or nothing. */
static int
header_object(struct recinfo *ri, struct json_object *h, const char **errstr)
{
	struct json_object	*mg;
	const char		*s[NFIELDS];
	long long		 version, start;
	size_t			 i;

	if (!json_object_is_type(h, json_type_object) ||
	    !int_member(h, "version", 2, 2, &version)) {
		*errstr = "not an asciicast v2 header";
		return -1;
	}
	if (!int_member(h, "timestamp", 0, UTC_MAX, &start)) {
		*errstr = "bad or missing timestamp in the header";
		return -1;
	}
	if (!json_object_object_get_ex(h, "muxgate", &mg) ||
	    !json_object_is_type(mg, json_type_object)) {
		*errstr = "no muxgate object in the header";
		return -1;
	}
	for (i = 0; i < NFIELDS; i++) {
		if ((s[i] = string_member(mg, fields[i].key)) == NULL) {
			*errstr = fields[i].bad;
			return -1;
		}
	}
	for (i = 0; i < NFIELDS; i++) {
		free(*field(ri, i));
		*field(ri, i) = xstrdup(s[i]);
	}
	ri->start = start;
	return 0;
}

int
recinfo_header(struct recinfo *ri, const char *line, size_t len, bool sealed,
    const char **errstr)
{
	struct json_tokener	*tok = NULL;
	struct json_object	*top = NULL, *h = NULL;
	long long		 one;
	int			 r = -1;

	*errstr = "the first line is not one JSON object";
	if (len == 0 || len > RECINFO_LINE_MAX ||
	    memchr(line, '\0', len) != NULL)
		goto out;
	tok = json_tokener_new();
	top = json_tokener_parse_ex(tok, line, (int)len);
	if (top == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(top, json_type_object))
		goto out;
	h = top;
	if (sealed && (!int_member(top, "muxgate_sealed", SEAL_FORMAT_OLDEST,
	    SEAL_FORMAT, &one) ||
	    !json_object_object_get_ex(top, "cast", &h))) {
		*errstr = "not a sealed recording header";
		goto out;
	}
	if ((r = header_object(ri, h, errstr)) == 0)
		ri->sealed = sealed;
out:
	json_object_put(top);
	if (tok != NULL)
		json_tokener_free(tok);
	return r;
}

int
recinfo_event_time(const char *line, size_t len, double *t)
{
	char	num[40], *end;
	size_t	i = 0, n = 0;

	if (len == 0 || line[i++] != '[')
		return -1;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	/* A JSON number that is not negative: digits first. */
	if (i == len || line[i] < '0' || line[i] > '9')
		return -1;
	while (i < len && n < sizeof(num) - 1 && line[i] != '\0' &&
	    strchr("0123456789.eE+-", line[i]) != NULL)
		num[n++] = line[i++];
	num[n] = '\0';
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len || line[i] != ',')
		return -1;
	errno = 0;
	*t = strtod(num, &end);
	if (errno != 0 || *end != '\0' || !isfinite(*t) || *t < 0)
		return -1;
	return 0;
}

/* All of LEN bytes at OFF: NULL, or why not. */
static const char *
pread_all(int fd, char *buf, size_t len, off_t off)
{
	ssize_t	n;
	size_t	got = 0;

	while (got < len) {
		n = pread(fd, buf + got, len - got, off + (off_t)got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return strerror(errno);
		if (n == 0)
			return "cut short while it was read";
		got += (size_t)n;
	}
	return NULL;
}

/*
 * The start of a file, as read for its first line: most recordings are
 * small enough that it holds their last line too.
 */
struct head {
	char	*buf;
	size_t	 len;		/* bytes of the file in BUF */
	size_t	 line;		/* the first line's length; BUF[LINE] is NUL */
};

/* The first line of FD (SIZE bytes) into H (caller frees H->buf). */
static int
first_line(int fd, off_t size, struct head *h, const char **errstr)
{
	char	*nl;
	size_t	 want;

	for (;;) {
		want = h->len + CHUNK;
		if (want > RECINFO_LINE_MAX + 1)
			want = RECINFO_LINE_MAX + 1;
		if ((off_t)want > size)
			want = (size_t)size;
		if (want == h->len) {
			*errstr = h->len == 0 ? "empty file" :
			    h->len > RECINFO_LINE_MAX ?
			    "the first line is longer than 65536 bytes" :
			    "no complete first line";
			return -1;
		}
		h->buf = xreallocarray(h->buf, want + 1, 1);
		if ((*errstr = pread_all(fd, h->buf + h->len, want - h->len,
		    (off_t)h->len)) != NULL)
			return -1;
		nl = memchr(h->buf + h->len, '\n', want - h->len);
		h->len = want;
		if (nl != NULL) {
			*nl = '\0';
			h->line = (size_t)(nl - h->buf);
			return 0;
		}
	}
}

/*
 * The time of the line [START, END) of FD, an event; P holds its first
 * AVAIL bytes.  The start of the line is enough.
 */
static double
line_time(int fd, const char *p, size_t avail, off_t start, off_t end)
{
	char	buf[64];
	size_t	n = (size_t)(end - start);
	double	t;

	if (avail < n && avail < sizeof(buf)) {
		if (n > sizeof(buf))
			n = sizeof(buf);
		if (pread_all(fd, buf, n, start) != NULL)
			return -1;
		p = buf;
	} else if (avail < n)
		n = avail;
	return recinfo_event_time(p, n, &t) == -1 ? -1 : t;
}

/*
 * The time of the last complete event of FD (SIZE bytes, its start in
 * H): the line that ends with the last newline of the file (whatever
 * follows it is an event cut short by a killed writer), found backwards
 * from the end.  -1 when there is none after the first line, or it is
 * not within TAIL_MAX bytes of the end.
 */
static double
last_event_time(int fd, off_t size, const struct head *h)
{
	char		 chunk[CHUNK];
	const char	*buf;
	off_t		 from = (off_t)h->line + 1, pos = size, lo, end = -1;
	size_t		 i;

	while (pos > from && size - pos < TAIL_MAX) {
		lo = pos - CHUNK < from ? from : pos - CHUNK;
		if ((size_t)pos <= h->len)
			buf = h->buf + lo;
		else if (pread_all(fd, chunk, (size_t)(pos - lo), lo) == NULL)
			buf = chunk;
		else
			return -1;
		for (i = (size_t)(pos - lo); i-- > 0; ) {
			if (buf[i] != '\n')
				continue;
			if (end != -1)
				return line_time(fd, buf + i + 1,
				    (size_t)(pos - lo) - i - 1, lo + (off_t)i + 1,
				    end);
			end = lo + (off_t)i;
		}
		if (lo == from && end != -1)
			return line_time(fd, buf, (size_t)(pos - lo), from, end);
		pos = lo;
	}
	return -1;
}

int
recinfo_read(struct recinfo *ri, int dfd, const char *name, bool sealed,
    const char **errstr)
{
	struct head	 h = { NULL, 0, 0 };
	struct stat	 st;
	int		 fd = -1, r = -1;

	memset(ri, 0, sizeof(*ri));
	ri->duration = -1;
	ri->size = -1;
	/*
	 * Opened before it is looked at, one system call fewer per file:
	 * O_NONBLOCK keeps a FIFO from holding the open up, a socket does
	 * not open, and only root can make a device node.
	 */
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1) {
		*errstr = errno == ELOOP ? "a symbolic link" :
		    errno == ENXIO ? "not a regular file" : strerror(errno);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		*errstr = "not a regular file";
		goto out;
	}
	ri->size = (long long)st.st_size;
	if (first_line(fd, st.st_size, &h, errstr) == -1 ||
	    recinfo_header(ri, h.buf, h.line, sealed, errstr) == -1)
		goto out;
	if (!sealed)
		ri->duration = last_event_time(fd, st.st_size, &h);
	r = 0;
out:
	free(h.buf);
	if (fd != -1)
		close(fd);
	return r;
}

void
recinfo_free(struct recinfo *ri)
{
	size_t	i;

	for (i = 0; i < NFIELDS; i++) {
		free(*field(ri, i));
		*field(ri, i) = NULL;
	}
}
