/*
 * recdir.c — reading the recordings directory without following
 * anything, for prune (which removes from it) and recordings (which lists
 * it).  Every name is looked up relative to an open directory, so that a
 * name replaced meanwhile cannot lead elsewhere.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway/log.h"
#include "gateway/recdir.h"
#include "gateway/xmalloc.h"
#include "policy/policy.h"

/* YYYYMMDD-HHMMSS- */
#define STAMP_LEN	16

bool
recdir_name(const char *name, char id[RECDIR_ID_LEN + 1],
    enum recdir_kind *kind)
{
	const char	*ext;
	size_t		 i;

	for (i = 0; i < STAMP_LEN; i++) {
		if (i == 8 || i == 15) {
			if (name[i] != '-')
				return false;
		} else if (name[i] < '0' || name[i] > '9')
			return false;
	}
	for (i = STAMP_LEN; i < STAMP_LEN + RECDIR_ID_LEN; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		    (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	ext = name + STAMP_LEN + RECDIR_ID_LEN;
	if (strcmp(ext, ".cast") == 0) {
		if (kind != NULL)
			*kind = RECDIR_CAST;
	} else if (strcmp(ext, ".sealed") == 0) {
		if (kind != NULL)
			*kind = RECDIR_SEALED;
	} else
		return false;
	if (id != NULL) {
		memcpy(id, name + STAMP_LEN, RECDIR_ID_LEN);
		id[RECDIR_ID_LEN] = '\0';
	}
	return true;
}

struct policy *
recdir_policy(const char *config)
{
	struct policy_errors	 errs = { 0 };
	struct policy		*pol;
	char			 err[512];
	size_t			 i;

	/* One open: the file checked is the file read. */
	if ((pol = policy_load_checked(config, geteuid(), err, sizeof(err),
	    &errs)) == NULL && err[0] != '\0')
		error_msg("%s: refused: %s", config, err);
	else if (pol == NULL) {
		/* Each is FILE:LINE:COL: MESSAGE, as muxgate check prints. */
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
	}
	policy_errors_free(&errs);
	return pol;
}

/*
 * FD is a directory opened with O_NOFOLLOW; is it one that only its
 * owner (and root) can add files to?
 */
static const char *
unsafe_dir(int fd)
{
	struct stat	st;

	if (fstat(fd, &st) == -1)
		return strerror(errno);
	if (!S_ISDIR(st.st_mode))
		return "not a directory";
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return "writable by group or others";
	return NULL;
}

static bool
dots(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

/* ROOT/NAME, where RFD is ROOT; -1 when the walk is to end. */
static int
walk_identity(const struct recdir_ops *ops, int rfd, const char *root,
    const char *name)
{
	struct dirent	*de;
	struct stat	 st;
	const char	*why;
	char		*dir;
	DIR		*d = NULL;
	int		 fd = -1, r = 0;

	xasprintf(&dir, "%s/%s", root, name);
	if (fstatat(rfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		/* Gone meanwhile (a concurrent prune): nothing to walk. */
		if (errno != ENOENT)
			ops->refuse(ops->arg, dir, strerror(errno));
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (ops->other != NULL)
			ops->other(ops->arg, dir, &st);
		goto out;
	}
	fd = openat(rfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		ops->refuse(ops->arg, dir, strerror(errno));
		goto out;
	}
	if ((why = unsafe_dir(fd)) != NULL) {
		ops->refuse(ops->arg, dir, why);
		goto out;
	}
	if ((d = fdopendir(fd)) == NULL) {
		ops->refuse(ops->arg, dir, strerror(errno));
		goto out;
	}
	fd = -1;		/* the DIR has it */
	while (r == 0 && (de = readdir(d)) != NULL)
		if (!dots(de->d_name))
			r = ops->file(ops->arg, dirfd(d), dir, de->d_name);
out:
	if (d != NULL)
		closedir(d);
	if (fd != -1)
		close(fd);
	free(dir);
	return r;
}

int
recdir_walk(const char *root, const struct recdir_ops *ops, char *err,
    size_t errlen)
{
	struct dirent	*de;
	const char	*why;
	DIR		*d;
	int		 fd;

	fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT)
		return RECDIR_MISSING;
	if (fd == -1) {
		(void)snprintf(err, errlen, "%s: %s", root, strerror(errno));
		return -1;
	}
	if ((why = unsafe_dir(fd)) != NULL) {
		(void)snprintf(err, errlen, "refusing %s: %s", root, why);
		close(fd);
		return -1;
	}
	if ((d = fdopendir(fd)) == NULL) {
		(void)snprintf(err, errlen, "%s: %s", root, strerror(errno));
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL)
		if (!dots(de->d_name) &&
		    walk_identity(ops, dirfd(d), root, de->d_name) == -1)
			break;
	closedir(d);
	return RECDIR_OK;
}
