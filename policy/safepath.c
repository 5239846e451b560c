/*
 * safepath.c — the StrictModes rule for the policy file: the file and
 * every directory above it belong to root or the gateway's user and are
 * writable by nobody else.  Otherwise whoever can write there can grant
 * themselves access.
 *
 * The rule is applied to an open descriptor, and the caller reads that
 * same descriptor: checking a name and then opening it again lets whoever
 * can change what the name leads to (a symlink in a directory they may
 * write) show the check one file and the reader another.  As OpenSSH's
 * safe_path_fd() does, the file is judged by fstat(2) on the descriptor
 * and its directories by the path the descriptor was opened as.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/policy-int.h"

/* Symbolic links followed in one lookup, as the kernel's MAXSYMLINKS. */
#define SAFEPATH_MAXLINKS 40

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

static int
check_dir(const char *dir, uid_t trusted, char *err, size_t errlen)
{
	struct stat	st;

	if (stat(dir, &st) == -1) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	return check_one(dir, &st, trusted, err, errlen);
}

/* Cut the last component off an absolute path: /a/b -> /a, /a -> /. */
static void
cut_last(char *path)
{
	char	*slash;

	if ((slash = strrchr(path, '/')) == NULL)
		return;
	if (slash == path)
		slash[1] = '\0';
	else
		*slash = '\0';
}

static char *
join(const char *dir, const char *name)
{
	char	*r;

	if (asprintf(&r, "%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/",
	    name) == -1)
		abort();
	return r;
}

/*
 * The absolute name FD was opened as (caller frees), and that it still
 * names the file of ST.  /proc/self/fd says where the descriptor is; without
 * /proc, realpath(3) of PATH is only trusted if it leads to the same file.
 */
static char *
fd_realpath(int fd, const char *path, const struct stat *st, char *err,
    size_t errlen)
{
	char		 proc[64], buf[PATH_MAX], *real = NULL;
	struct stat	 now;
	ssize_t		 n;
	int		 r;

	r = snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (r < 0 || (size_t)r >= sizeof(proc))
		abort();
	if ((n = readlink(proc, buf, sizeof(buf))) > 0 &&
	    (size_t)n < sizeof(buf) && buf[0] == '/') {
		buf[n] = '\0';
		real = pstrdup(buf);
	} else if ((real = realpath(path, NULL)) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (stat(real, &now) == -1 || now.st_dev != st->st_dev ||
	    now.st_ino != st->st_ino) {
		snprintf(err, errlen, "%s: changed while being checked", path);
		free(real);
		return NULL;
	}
	return real;
}

/* Walk up from the file: /a/b/c.yaml -> /a/b -> /a -> /. */
static int
check_above(const char *real, uid_t trusted, char *err, size_t errlen)
{
	char	*dir;
	int	 r = -1;

	dir = pstrdup(real);
	do {
		cut_last(dir);
		if (check_dir(dir, trusted, err, errlen) == -1)
			goto out;
	} while (strcmp(dir, "/") != 0);
	r = 0;
out:
	free(dir);
	return r;
}

/*
 * Look PATH up again the way the kernel did, one name at a time, and check
 * every directory a name is looked up in: whoever may write one of them
 * can swap the entry, and a symlink is only as safe as the directory that
 * holds it (and the directories on the way to that one).  The walk must end
 * at the file of ST.
 */
static int
check_lookup(const char *path, const struct stat *st, uid_t trusted,
    char *err, size_t errlen)
{
	char		*cur = NULL, *rest = NULL, *child = NULL;
	char		*cwd = NULL, *target = NULL, *p, *name, *tmp;
	struct stat	 lst;
	unsigned	 links = 0;
	ssize_t		 n;
	int		 r = -1;

	if (path[0] == '/')
		rest = pstrdup(path);
	else {
		if ((cwd = getcwd(NULL, 0)) == NULL) {
			snprintf(err, errlen, "%s: current directory: %s",
			    path, strerror(errno));
			goto out;
		}
		rest = join(cwd, path);
	}
	cur = pstrdup("/");
	p = rest;
	for (;;) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		name = p;
		p += strcspn(p, "/");
		if (*p == '/')
			*p++ = '\0';
		if (strcmp(name, ".") == 0)
			continue;
		if (strcmp(name, "..") == 0) {
			cut_last(cur);
			continue;
		}
		if (check_dir(cur, trusted, err, errlen) == -1)
			goto out;
		free(child);
		child = join(cur, name);
		if (lstat(child, &lst) == -1) {
			snprintf(err, errlen, "%s: %s", child, strerror(errno));
			goto out;
		}
		if (S_ISLNK(lst.st_mode)) {
			if (++links > SAFEPATH_MAXLINKS) {
				snprintf(err, errlen, "%s: %s", path,
				    strerror(ELOOP));
				goto out;
			}
			free(target);
			target = pcalloc(1, PATH_MAX);
			if ((n = readlink(child, target, PATH_MAX)) <= 0 ||
			    n >= PATH_MAX) {
				snprintf(err, errlen, "%s: %s", child,
				    n == -1 ? strerror(errno) :
				    "bad symbolic link");
				goto out;
			}
			target[n] = '\0';
			if (target[0] == '/') {
				free(cur);
				cur = pstrdup("/");
			}
			if (asprintf(&tmp, "%s/%s", target, p) == -1)
				abort();
			free(rest);
			rest = p = tmp;
			continue;
		}
		if (S_ISDIR(lst.st_mode)) {
			free(cur);
			cur = child;
			child = NULL;
			continue;
		}
		/* The file: nothing may follow it. */
		if (p[strspn(p, "/")] != '\0') {
			snprintf(err, errlen, "%s: %s", child,
			    strerror(ENOTDIR));
			goto out;
		}
		if (lst.st_dev != st->st_dev || lst.st_ino != st->st_ino) {
			snprintf(err, errlen, "%s: changed while being checked",
			    path);
			goto out;
		}
		r = 0;
		goto out;
	}
	/* The path named a directory: the caller never opens one. */
	snprintf(err, errlen, "%s: not a regular file", path);
out:
	free(cur);
	free(rest);
	free(child);
	free(cwd);
	free(target);
	return r;
}

static int
clear_nonblock(int fd, const char *path, char *err, size_t errlen)
{
	int	flags;

	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
safepath_open(const char *path, uid_t trusted, char *err, size_t errlen)
{
	struct stat	 st;
	char		*real = NULL;
	int		 fd, r = -1;

	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if ((real = fd_realpath(fd, path, &st, err, errlen)) == NULL)
		goto out;
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", real);
		goto out;
	}
	if (check_one(real, &st, trusted, err, errlen) == -1 ||
	    check_above(real, trusted, err, errlen) == -1 ||
	    check_lookup(path, &st, trusted, err, errlen) == -1 ||
	    clear_nonblock(fd, path, err, errlen) == -1)
		goto out;
	r = 0;
out:
	free(real);
	if (r == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

int
policy_check_path(const char *path, uid_t trusted, char *err, size_t errlen)
{
	int	fd;

	if ((fd = safepath_open(path, trusted, err, errlen)) == -1)
		return -1;
	if (close(fd) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}
