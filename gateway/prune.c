/*
 * prune.c — `muxgate prune --older-than DURATION [--dry-run] [-f CONFIG]`:
 * retention for recordings.  Removes whole recordings, never a part of
 * one, from gateway.recordings: the files RECORDINGS/IDENTITY/
 * YYYYMMDD-HHMMSS-ATTACHID.cast (record.h) last changed more than
 * DURATION ago.  A recording whose attach is still live (its slot file
 * is locked, slots.h) is kept however old it is: an idle attach writes
 * nothing for hours.  Nothing is followed: a symbolic link, or anything
 * else that is not a regular file named like a recording, is refused.
 *
 * Every directory is opened with O_NOFOLLOW and every file is looked at
 * and removed relative to its directory's descriptor, so that a name
 * replaced meanwhile cannot send the removal somewhere else.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gateway/audit.h"
#include "gateway/exitcode.h"
#include "gateway/log.h"
#include "gateway/output.h"
#include "gateway/prune.h"
#include "gateway/shell.h"
#include "gateway/slots.h"
#include "gateway/str.h"
#include "gateway/xmalloc.h"
#include "policy/policy.h"

#define ATTACH_ID_LEN	16
/* YYYYMMDD-HHMMSS-ATTACHID.cast */
#define RECORDING_NAME_LEN (8 + 1 + 6 + 1 + ATTACH_ID_LEN + 5)
/* A hundred years: more is a typo, and would overflow time_t arithmetic. */

struct prune {
	time_t		 cutoff;	/* older than this goes */
	bool		 dry_run;
	struct viewers	 live;
	int		 code;
	bool		 stop;		/* a removal could not be audited */
};

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: muxgate prune --older-than DURATION "
	    "[--dry-run] [-f CONFIG]\n");
}

/* Is NAME YYYYMMDD-HHMMSS-ATTACHID.cast?  Its attach id goes to ID. */
static bool
recording_name(const char *name, char id[ATTACH_ID_LEN + 1])
{
	size_t	i;

	if (strlen(name) != RECORDING_NAME_LEN)
		return false;
	for (i = 0; i < 15; i++) {
		if (i == 8) {
			if (name[i] != '-')
				return false;
		} else if (name[i] < '0' || name[i] > '9')
			return false;
	}
	if (name[15] != '-')
		return false;
	for (i = 16; i < 16 + ATTACH_ID_LEN; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		    (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	if (strcmp(name + 16 + ATTACH_ID_LEN, ".cast") != 0)
		return false;
	memcpy(id, name + 16, ATTACH_ID_LEN);
	id[ATTACH_ID_LEN] = '\0';
	return true;
}

static bool
is_live(const struct prune *p, const char *id)
{
	size_t	i;

	for (i = 0; i < p->live.n; i++)
		if (strcmp(p->live.v[i].attach_id, id) == 0)
			return true;
	return false;
}

static void
refuse(struct prune *p, const char *path, const char *why)
{
	char	*e = out_escape(path);

	error_msg("prune: refusing %s: %s", e, why);
	free(e);
	p->code = MG_FAIL;
}

static void
audit_removal(struct prune *p, const char *path, const char *shown)
{
	struct audit_rec	r;

	audit_rec_init(&r, AUDIT_KIND_COMMAND, "muxgate-prune", true);
	r.recording = path;
	if (audit_emit(&r) == -1) {
		/* audit_emit said why; nothing more goes unrecorded. */
		error_msg("prune: %s was removed without an audit record; "
		    "stopping", shown);
		p->code = MG_FAIL;
		p->stop = true;
	}
}

/* One entry NAME of the identity directory DIR, open as DFD. */
static void
prune_file(struct prune *p, int dfd, const char *dir, const char *name)
{
	struct stat	 st;
	char		 id[ATTACH_ID_LEN + 1];
	char		*path, *shown = NULL;

	xasprintf(&path, "%s/%s", dir, name);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		/* Gone meanwhile (a concurrent prune): nothing to do. */
		if (errno != ENOENT) {
			refuse(p, path, strerror(errno));
		}
		goto out;
	}
	if (st.st_mtime >= p->cutoff)
		goto out;
	if (S_ISLNK(st.st_mode)) {
		refuse(p, path, "a symbolic link");
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		refuse(p, path, "not a regular file");
		goto out;
	}
	if (!recording_name(name, id)) {
		refuse(p, path, "not named like a recording");
		goto out;
	}
	shown = out_escape(path);
	if (is_live(p, id)) {
		out_printf("kept %s: attach %s is live\n", shown, id);
		goto out;
	}
	if (p->dry_run) {
		out_printf("would remove %s\n", shown);
		goto out;
	}
	if (unlinkat(dfd, name, 0) == -1) {
		if (errno != ENOENT) {
			error_msg("prune: cannot remove %s: %s", shown,
			    strerror(errno));
			p->code = MG_FAIL;
		}
		goto out;
	}
	out_printf("removed %s\n", shown);
	audit_removal(p, path, shown);
out:
	free(shown);
	free(path);
}

/* RECORDINGS/NAME, an identity directory. */
static void
prune_identity(struct prune *p, int rfd, const char *root, const char *name)
{
	struct dirent	*de;
	struct stat	 st;
	char		*dir;
	DIR		*d = NULL;
	int		 fd;

	xasprintf(&dir, "%s/%s", root, name);
	if (fstatat(rfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno != ENOENT)
			refuse(p, dir, strerror(errno));
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		/* Recordings live one level down: nothing else belongs here. */
		if (st.st_mtime < p->cutoff)
			refuse(p, dir, S_ISLNK(st.st_mode) ?
			    "a symbolic link" : "not an identity directory");
		goto out;
	}
	fd = openat(rfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		refuse(p, dir, strerror(errno));
		if (fd != -1)
			close(fd);
		goto out;
	}
	while (!p->stop && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		prune_file(p, dirfd(d), dir, de->d_name);
	}
out:
	if (d != NULL)
		closedir(d);
	free(dir);
}

static int
prune_root(struct prune *p, const char *root)
{
	struct dirent	*de;
	DIR		*d;
	int		 fd;

	fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT)
		return MG_OK;		/* no attach ever: nothing to prune */
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		char *e = out_escape(root);
		error_msg("prune: %s: %s", e, strerror(errno));
		free(e);
		if (fd != -1)
			close(fd);
		return MG_FAIL;
	}
	while (!p->stop && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		prune_identity(p, dirfd(d), root, de->d_name);
	}
	closedir(d);
	return p->code;
}

static struct policy *
load(const char *config)
{
	struct policy_errors	 errs = { 0 };
	struct policy		*pol;
	char			 err[512];
	size_t			 i;

	if (policy_check_path(config, geteuid(), err, sizeof(err)) == -1) {
		error_msg("%s: refused: %s", config, err);
		return NULL;
	}
	if ((pol = policy_load(config, &errs)) == NULL) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		policy_errors_free(&errs);
	}
	return pol;
}

int
prune_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "older-than", required_argument, NULL, 'o' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "config", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct policy_gateway	*g;
	struct prune			 p;
	struct policy			*pol;
	const char			*config = MUXGATE_DEFAULT_CONFIG;
	const char			*older = NULL;
	char				 err[512];
	unsigned			 secs;
	int				 ch, code;

	memset(&p, 0, sizeof(p));
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":f:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f': config = optarg; break;
		case 'o': older = optarg; break;
		case 'n': p.dry_run = true; break;
		case 'h': usage(stdout); return MG_OK;
		case ':':
			error_msg("prune: %s needs a value", argv[optind - 1]);
			usage(stderr);
			return MG_USAGE;
		default:
			error_msg("prune: bad option %s", argv[optind - 1]);
			usage(stderr);
			return MG_USAGE;
		}
	}
	if (optind != argc) {
		char *e = out_escape(argv[optind]);
		error_msg("prune: unexpected argument %s", e);
		free(e);
		usage(stderr);
		return MG_USAGE;
	}
	if (older == NULL) {
		error_msg("prune: --older-than is required");
		usage(stderr);
		return MG_USAGE;
	}
	/* The policy's durations: one syntax for every duration muxgate reads. */
	if (policy_parse_duration(older, &secs) == -1 || secs == 0) {
		char *e = out_escape(older);
		error_msg("prune: bad duration %s (use 30s, 5m, 6h or 90d; "
		    "more than 0, at most 10 years)", e);
		free(e);
		return MG_USAGE;
	}
	p.cutoff = time(NULL) - (time_t)secs;
	if ((pol = load(config)) == NULL)
		return MG_FAIL;
	g = policy_gateway(pol);
	audit_configure(g->audit, g->audit_required);
	if (slots_live(g->state, &p.live, err, sizeof(err)) == -1) {
		error_msg("prune: cannot tell which attaches are live: %s", err);
		policy_free(pol);
		return MG_FAIL;
	}
	code = prune_root(&p, g->recordings);
	if (fflush(stdout) == EOF && code == MG_OK)
		code = MG_FAIL;
	viewers_free(&p.live);
	policy_free(pol);
	return code;
}
