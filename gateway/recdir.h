/*
 * recdir.h — the recordings directory, RECORDINGS/IDENTITY/NAME
 * (record.h), as the commands that look after it (prune, recordings)
 * read it: the policy that names it, the names of the files in it, and
 * one walk through it that follows nothing.
 */
#ifndef MUXGATE_RECDIR_H
#define MUXGATE_RECDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

struct policy;

#define RECDIR_ID_LEN	16

enum recdir_kind {
	RECDIR_CAST,		/* YYYYMMDD-HHMMSS-ATTACHID.cast */
	RECDIR_SEALED,		/* YYYYMMDD-HHMMSS-ATTACHID.sealed */
};

/*
 * Is NAME named like a recording?  Its attach id goes to ID and its
 * kind to *KIND (either may be NULL).
 */
bool	recdir_name(const char *name, char id[RECDIR_ID_LEN + 1],
	    enum recdir_kind *kind);

/*
 * The policy CONFIG of a command run on the bastion by root or the
 * gateway account: its file checked as check does, loaded, and every
 * error reported.  NULL when it cannot be used.
 */
struct policy *recdir_policy(const char *config);

/* What recdir_walk() does with what it finds; ARG is the caller's. */
struct recdir_ops {
	/*
	 * An entry NAME of the identity directory DIR, open as DFD, not
	 * looked at yet.  Return -1 to end the walk, 0 to go on.
	 */
	int	(*file)(void *arg, int dfd, const char *dir, const char *name);
	/*
	 * An entry PATH of ROOT that is not a directory (ST, from lstat):
	 * no identity directory, so not walked.  NULL: ignored.
	 */
	void	(*other)(void *arg, const char *path, const struct stat *st);
	/* An identity directory PATH that is not walked, and why. */
	void	(*refuse)(void *arg, const char *path, const char *why);
	void	 *arg;
};

enum {
	RECDIR_OK = 0,
	RECDIR_MISSING = 1,	/* ROOT does not exist: nothing recorded yet */
};

/*
 * Walk ROOT: every identity directory in it, then every entry of each.
 * Nothing is followed: every directory is opened with O_NOFOLLOW and
 * relative to its parent's descriptor, and a directory that its group or
 * others can write is refused, for anyone could have put files in it.
 * RECDIR_OK or RECDIR_MISSING, or -1 with ERR set when ROOT itself
 * cannot be read or is refused.
 */
int	recdir_walk(const char *root, const struct recdir_ops *, char *err,
	    size_t errlen) __attribute__((warn_unused_result));

#endif
