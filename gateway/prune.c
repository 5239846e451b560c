/*
 * prune.c — `muxgate prune --older-than DURATION [--dry-run] [-f CONFIG]`:
 * retention for recordings.  Removes whole recordings, never a part of
 * one, from gateway.recordings: the files RECORDINGS/IDENTITY/
 * YYYYMMDD-HHMMSS-ATTACHID.cast or .sealed (record.h) last changed more than
 * DURATION ago.  A recording whose attach is still live (its slot file
 * is locked, slots.h) is kept however old it is: an idle attach writes
 * nothing for hours.  Nothing is followed: a symbolic link, or anything
 * else that is not a regular file named like a recording, is refused.
 *
 * Every directory is opened with O_NOFOLLOW and every file is looked at
 * and removed relative to its directory's descriptor, so that a name
 * replaced meanwhile cannot send the removal somewhere else.
 */
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
#include "gateway/recdir.h"
#include "gateway/shell.h"
#include "gateway/slots.h"
#include "gateway/str.h"
#include "gateway/xmalloc.h"
#include "policy/policy.h"

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
static int
prune_file(void *arg, int dfd, const char *dir, const char *name)
{
	struct prune		*p = arg;
	struct stat		 st;
	enum recdir_kind	 kind;
	char			 id[RECDIR_ID_LEN + 1];
	char			*path, *shown = NULL;

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
	/* Plain and sealed recordings alike: retention is about age. */
	if (!recdir_name(name, id, &kind)) {
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
	return p->stop ? -1 : 0;
}

/* An entry of RECORDINGS that is not a directory. */
static void
prune_other(void *arg, const char *path, const struct stat *st)
{
	struct prune	*p = arg;

	/* Recordings live one level down: nothing else belongs here. */
	if (st->st_mtime < p->cutoff)
		refuse(p, path, S_ISLNK(st->st_mode) ?
		    "a symbolic link" : "not an identity directory");
}

static void
prune_refuse(void *arg, const char *path, const char *why)
{
	refuse(arg, path, why);
}

static int
prune_root(struct prune *p, const char *root)
{
	const struct recdir_ops	 ops = {
		.file = prune_file,
		.other = prune_other,
		.refuse = prune_refuse,
		.arg = p,
	};
	char			 err[512];

	switch (recdir_walk(root, &ops, err, sizeof(err))) {
	case RECDIR_OK:
		return p->code;
	case RECDIR_MISSING:
		return MG_OK;		/* no attach ever: nothing to prune */
	default:
		error_msg("prune: %s", err);
		return MG_FAIL;
	}
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
	if ((pol = recdir_policy(config)) == NULL)
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
