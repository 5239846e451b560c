/*
 * safepath.c — the StrictModes rule for the policy file: the file and
 * every directory above it belong to root or the gateway's user and are
 * writable by nobody else.  Otherwise whoever can write there can grant
 * themselves access.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "policy/policy-int.h"

static int
check_one(const char *path, const struct stat *st, uid_t trusted, char *err,
    size_t errlen)
{
	if (st->st_uid != 0 && st->st_uid != trusted) {
		snprintf(err, errlen, "bad ownership of %s: owned by uid %u, "
		    "not root or uid %u", path, (unsigned)st->st_uid,
		    (unsigned)trusted);
		return -1;
	}
	if ((st->st_mode & 022) != 0) {
		snprintf(err, errlen, "bad permissions on %s: writable by %s",
		    path, (st->st_mode & 002) ? "everyone" : "its group");
		return -1;
	}
	return 0;
}

int
policy_check_path(const char *path, uid_t trusted, char *err, size_t errlen)
{
	char		*real, *slash;
	struct stat	 st;
	int		 r = -1;

	if ((real = realpath(path, NULL)) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (stat(real, &st) == -1) {
		snprintf(err, errlen, "%s: %s", real, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", real);
		goto out;
	}
	if (check_one(real, &st, trusted, err, errlen) == -1)
		goto out;
	/* Walk up: /a/b/c.yaml -> /a/b -> /a -> / */
	for (;;) {
		if ((slash = strrchr(real, '/')) == NULL)
			break;
		if (slash == real)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(real, &st) == -1) {
			snprintf(err, errlen, "%s: %s", real, strerror(errno));
			goto out;
		}
		if (check_one(real, &st, trusted, err, errlen) == -1)
			goto out;
		if (strcmp(real, "/") == 0)
			break;
	}
	r = 0;
out:
	free(real);
	return r;
}
