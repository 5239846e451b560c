/*
 * logindefs.c — UMASK from login.defs(5), as login(1) and pam_umask(8)
 * read it.  Only the key we need, parsed strictly: a value we do not
 * understand gives the default, never whatever strtoul made of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway/log.h"
#include "gateway/logindefs.h"
#include "gateway/str.h"

/* login.defs is a few KiB; anything far larger is not one. */
#define LOGINDEFS_MAX_SIZE	(1024 * 1024)

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/*
 * VALUE (LEN bytes, blanks trimmed) as an octal umask.  Strictly octal,
 * unlike shadow's base-0 reading, where "22" would be decimal: the
 * leading 0 is optional, as for pam_umask.
 */
static int
parse_octal(const char *v, size_t len, mode_t *out, const char **errstr)
{
	mode_t	m = 0;
	size_t	i;

	if (len == 0) {
		*errstr = "empty UMASK";
		return -1;
	}
	if (len > 4) {
		*errstr = "UMASK longer than 4 octal digits";
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '7') {
			*errstr = "UMASK is not an octal number";
			return -1;
		}
		m = (m << 3) | (mode_t)(v[i] - '0');
	}
	if (m > 0777) {
		*errstr = "UMASK larger than 0777";
		return -1;
	}
	*out = m;
	return 0;
}

int
logindefs_parse_umask(const char *text, mode_t *out, const char **errstr)
{
	const char	*line, *next, *end, *p, *v;
	size_t		 len;

	for (line = text; *line != '\0'; line = next) {
		if ((end = strchr(line, '\n')) == NULL)
			end = line + strlen(line);
		next = *end == '\0' ? end : end + 1;
		/* A comment runs from '#' to the end of the line. */
		if ((p = memchr(line, '#', (size_t)(end - line))) != NULL)
			end = p;
		for (p = line; p < end && is_blank(*p); p++)
			;
		if ((size_t)(end - p) < 5 || strncmp(p, "UMASK", 5) != 0 ||
		    (p + 5 < end && !is_blank(p[5])))
			continue;
		for (v = p + 5; v < end && is_blank(*v); v++)
			;
		for (len = (size_t)(end - v); len > 0 && is_blank(v[len - 1]);
		    len--)
			;
		/* The first UMASK line wins, as in pam_umask. */
		return parse_octal(v, len, out, errstr);
	}
	return 1;
}

/* Read PATH, a regular file of sane size, into B; -1 with *ERRSTR. */
static int
read_file(const char *path, struct buf *b, const char **errstr)
{
	struct stat	st;
	char		tmp[4096];
	ssize_t		n;
	int		fd, r = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		*errstr = strerror(errno);
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		*errstr = strerror(errno);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		*errstr = "not a regular file";
		goto out;
	}
	for (;;) {
		if ((n = read(fd, tmp, sizeof(tmp))) == -1) {
			if (errno == EINTR)
				continue;
			*errstr = strerror(errno);
			goto out;
		}
		if (n == 0)
			break;
		if (b->len + (size_t)n > LOGINDEFS_MAX_SIZE) {
			*errstr = "too large";
			goto out;
		}
		buf_add(b, tmp, (size_t)n);
	}
	buf_adds(b, "");	/* an empty file is an empty string */
	r = 0;
out:
	(void)close(fd);
	return r;
}

mode_t
logindefs_umask(const char *path)
{
	struct buf	 b = { 0 };
	const char	*errstr = NULL;
	mode_t		 m = LOGINDEFS_UMASK;

	if (read_file(path, &b, &errstr) == -1)
		debug("%s: %s: umask %04o", path, errstr, (unsigned)m);
	else {
		switch (logindefs_parse_umask(b.data, &m, &errstr)) {
		case 0:
			break;
		case 1:
			debug("%s: no UMASK: umask %04o", path, (unsigned)m);
			break;
		default:
			m = LOGINDEFS_UMASK;
			debug("%s: %s: umask %04o", path, errstr, (unsigned)m);
		}
	}
	buf_free(&b);
	return m;
}
