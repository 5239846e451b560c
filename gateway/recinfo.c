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
	if (sealed && (!int_member(top, "muxgate_sealed", 1, 1, &one) ||
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
 * The first line of FD (SIZE bytes) into *LINE (caller frees), NUL in
 * place of its newline, its length in *LEN.
 */
static int
first_line(int fd, off_t size, char **line, size_t *len, const char **errstr)
{
	char	*buf = NULL, *nl;
	size_t	 have = 0, want;

	for (;;) {
		want = have + CHUNK;
		if (want > RECINFO_LINE_MAX + 1)
			want = RECINFO_LINE_MAX + 1;
		if ((off_t)want > size)
			want = (size_t)size;
		if (want == have) {
			*errstr = have == 0 ? "empty file" :
			    have > RECINFO_LINE_MAX ?
			    "the first line is longer than 65536 bytes" :
			    "no complete first line";
			free(buf);
			return -1;
		}
		buf = xreallocarray(buf, want + 1, 1);
		if ((*errstr = pread_all(fd, buf + have, want - have,
		    (off_t)have)) != NULL) {
			free(buf);
			return -1;
		}
		if ((nl = memchr(buf + have, '\n', want - have)) != NULL) {
			*nl = '\0';
			*line = buf;
			*len = (size_t)(nl - buf);
			return 0;
		}
		have = want;
	}
}

/*
 * Where the last complete line of FD (SIZE bytes) starts, at or after
 * FROM: that line ends with the last newline of the file; whatever
 * follows it is an event cut short by a killed writer.  -1 when there is
 * none after FROM, or it is not within TAIL_MAX bytes of the end.
 */
static int
last_line(int fd, off_t from, off_t size, off_t *start)
{
	char	buf[CHUNK];
	off_t	pos = size, lo;
	size_t	i;
	bool	end_seen = false;

	while (pos > from && size - pos < TAIL_MAX) {
		lo = pos - CHUNK < from ? from : pos - CHUNK;
		if (pread_all(fd, buf, (size_t)(pos - lo), lo) != NULL)
			return -1;
		for (i = (size_t)(pos - lo); i-- > 0; ) {
			if (buf[i] != '\n')
				continue;
			if (end_seen) {
				*start = lo + (off_t)i + 1;
				return 0;
			}
			end_seen = true;
		}
		pos = lo;
	}
	if (end_seen && pos == from) {
		*start = from;
		return 0;
	}
	return -1;
}

/* The time of the last complete event of FD after its first line. */
static double
last_event_time(int fd, off_t from, off_t size)
{
	char	buf[64];
	off_t	start;
	size_t	n;
	double	t;

	if (last_line(fd, from, size, &start) == -1)
		return -1;
	n = size - start < (off_t)sizeof(buf) ? (size_t)(size - start) :
	    sizeof(buf);
	if (pread_all(fd, buf, n, start) != NULL ||
	    recinfo_event_time(buf, n, &t) == -1)
		return -1;
	return t;
}

int
recinfo_read(struct recinfo *ri, int dfd, const char *name, bool sealed,
    const char **errstr)
{
	struct stat	 st;
	char		*line = NULL;
	size_t		 len;
	int		 fd = -1, r = -1;

	memset(ri, 0, sizeof(*ri));
	ri->duration = -1;
	ri->size = -1;
	/* Not even opened unless it is a plain file: no FIFO, no device. */
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		*errstr = strerror(errno);
		goto out;
	}
	if (S_ISLNK(st.st_mode)) {
		*errstr = "a symbolic link";
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		*errstr = "not a regular file";
		goto out;
	}
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1) {
		*errstr = errno == ELOOP ? "a symbolic link" : strerror(errno);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		*errstr = "not a regular file";
		goto out;
	}
	ri->size = (long long)st.st_size;
	if (first_line(fd, st.st_size, &line, &len, errstr) == -1 ||
	    recinfo_header(ri, line, len, sealed, errstr) == -1)
		goto out;
	if (!sealed)
		ri->duration = last_event_time(fd, (off_t)len + 1, st.st_size);
	r = 0;
out:
	free(line);
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
