/*
 * recordings.c — `muxgate recordings [-f CONFIG | --dir DIR] [--identity
 * NAME] [--host H] [--user U] [--session S] [--since TIME] [--until TIME]
 * [--json]`: find recordings by what their headers say, without playing
 * them.  Lists the .cast and .sealed files of RECORDINGS/IDENTITY/ of
 * gateway.recordings, or of DIR, an auditor's copy laid out the same
 * way; one line (or JSON object) each, sorted by start time, then path.
 *
 * Only the first line of each file is read, and for a plain recording
 * the start of its last line (recinfo.h): listing ten thousand must take
 * well under a second.  Everything shown comes from the files and is
 * escaped.  A file that cannot be read is listed with why, whatever the
 * filters (nobody can tell whether it would match), and makes the exit
 * status 1.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>

#include "gateway/exitcode.h"
#include "gateway/log.h"
#include "gateway/output.h"
#include "gateway/recdir.h"
#include "gateway/recinfo.h"
#include "gateway/recordings.h"
#include "gateway/shell.h"
#include "gateway/str.h"
#include "gateway/utc.h"
#include "gateway/xmalloc.h"
#include "policy/policy.h"

struct rec {
	char		*path;
	struct recinfo	 ri;
	char		*error;		/* NULL, or why it could not be read */
};

struct filter {
	const char	*identity;
	const char	*host;
	const char	*user;
	const char	*session;
	bool		 has_since, has_until;
	long long	 since;		/* started at or after */
	long long	 until;		/* started before */
};

struct list {
	struct rec	*v;
	size_t		 n, cap;
	struct filter	 f;
	int		 code;
};

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: muxgate recordings [-f CONFIG | --dir DIR] "
	    "[--identity NAME] [--host H] [--user U]\n"
	    "                          [--session S] [--since TIME] "
	    "[--until TIME] [--json]\n");
}

static bool
wanted(const struct filter *f, const struct recinfo *ri)
{
	return (f->identity == NULL || strcmp(f->identity, ri->identity) == 0) &&
	    (f->host == NULL || strcmp(f->host, ri->host) == 0) &&
	    (f->user == NULL || strcmp(f->user, ri->tmux_user) == 0) &&
	    (f->session == NULL || strcmp(f->session, ri->session) == 0) &&
	    (!f->has_since || ri->start >= f->since) &&
	    (!f->has_until || ri->start < f->until);
}

static struct rec *
add(struct list *l)
{
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 256 : l->cap * 2;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	return &l->v[l->n++];
}

/* An entry NAME of the identity directory DIR, open as DFD. */
static int
list_file(void *arg, int dfd, const char *dir, const char *name)
{
	struct list		*l = arg;
	struct recinfo		 ri;
	struct rec		*r;
	enum recdir_kind	 kind;
	const char		*why;
	char			*path;

	/* Not a recording, such as an auditor's checksum file. */
	if (!recdir_name(name, NULL, &kind))
		return 0;
	xasprintf(&path, "%s/%s", dir, name);
	if (recinfo_read(&ri, dfd, name, kind == RECDIR_SEALED, &why) == -1) {
		error_msg("recordings: %s: %s", path, why);
		l->code = MG_FAIL;
		r = add(l);
		r->error = xstrdup(why);
	} else if (wanted(&l->f, &ri))
		r = add(l);
	else {
		recinfo_free(&ri);
		free(path);
		return 0;
	}
	r->path = path;
	r->ri = ri;
	return 0;
}

/* An entry of the recordings directory that is not a directory. */
static void
list_other(void *arg, const char *path, const struct stat *st)
{
	struct list	*l = arg;

	/* It could stand for an identity directory: say it is not read. */
	if (S_ISLNK(st->st_mode)) {
		error_msg("recordings: refusing %s: a symbolic link", path);
		l->code = MG_FAIL;
	}
}

static void
list_refuse(void *arg, const char *path, const char *why)
{
	struct list	*l = arg;

	error_msg("recordings: refusing %s: %s", path, why);
	l->code = MG_FAIL;
}

static int
by_start(const void *a, const void *b)
{
	const struct rec	*x = a, *y = b;

	/* Those that could not be read have no start: last. */
	if ((x->error != NULL) != (y->error != NULL))
		return x->error != NULL ? 1 : -1;
	if (x->error == NULL && x->ri.start != y->ri.start)
		return x->ri.start < y->ri.start ? -1 : 1;
	return strcmp(x->path, y->path);
}

/* ROOT into L; MISSING_OK: a root that does not exist holds nothing. */
static int
collect(struct list *l, const char *root, bool missing_ok)
{
	const struct recdir_ops	 ops = {
		.file = list_file,
		.other = list_other,
		.refuse = list_refuse,
		.arg = l,
	};
	char			 err[512];

	switch (recdir_walk(root, &ops, err, sizeof(err))) {
	case RECDIR_OK:
		break;
	case RECDIR_MISSING:
		if (missing_ok)
			break;
		error_msg("recordings: %s: no such directory", root);
		return MG_FAIL;
	default:
		error_msg("recordings: %s", err);
		return MG_FAIL;
	}
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(l->v[0]), by_start);
	return MG_OK;
}

/* "1:02:03", or "-". */
static char *
duration_text(double d)
{
	char		*s;
	long long	 t = (long long)d;

	if (d < 0)
		return xstrdup("-");
	xasprintf(&s, "%lld:%02lld:%02lld", t / 3600, t / 60 % 60, t % 60);
	return s;
}

enum { C_START, C_DURATION, C_SIZE, C_SEALED, C_IDENTITY, C_MODE, C_USER,
    C_HOST, C_SESSION, C_ATTACH, C_PATH, C_ERROR, NCOLS };
static const char *const heads[NCOLS] = { "START", "DURATION", "SIZE",
    "SEALED", "IDENTITY", "MODE", "USER", "HOST", "SESSION", "ATTACH",
    "PATH", "ERROR" };

/* The cells of R, each escaped and allocated. */
static void
cells(const struct rec *r, char *c[NCOLS])
{
	char	when[UTC_ISO_LEN];
	bool	ok = r->error == NULL;
	int	i;

	for (i = 0; i < NCOLS; i++)
		c[i] = NULL;
	if (ok) {
		utc_format(r->ri.start, when);
		c[C_START] = xstrdup(when);
		c[C_DURATION] = duration_text(r->ri.duration);
		c[C_SEALED] = xstrdup(r->ri.sealed ? "yes" : "no");
		c[C_IDENTITY] = out_escape(r->ri.identity);
		c[C_MODE] = out_escape(r->ri.mode);
		c[C_USER] = out_escape(r->ri.tmux_user);
		c[C_HOST] = out_escape(r->ri.host);
		c[C_SESSION] = out_escape(r->ri.session);
		c[C_ATTACH] = out_escape(r->ri.attach_id);
	} else
		c[C_ERROR] = out_escape(r->error);
	if (r->ri.size >= 0)
		xasprintf(&c[C_SIZE], "%lld", r->ri.size);
	c[C_PATH] = out_escape(r->path);
	for (i = 0; i < NCOLS; i++)
		if (c[i] == NULL)
			c[i] = xstrdup(i == C_ERROR ? "" : "-");
}

/* Terminal columns of escaped text: one per character. */
static size_t
width(const char *s)
{
	size_t	n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static void
print_row(char *const c[NCOLS], const size_t w[NCOLS], int ncols)
{
	static const char	 blanks[] = "                                ";
	struct buf		 line = { 0 };
	size_t			 pad, n;
	int			 i, last = ncols - 1;
	bool			 right;

	/* No blanks at the end of a line without an error. */
	if (c[last][0] == '\0')
		last--;
	for (i = 0; i <= last; i++) {
		pad = i == last ? 0 : w[i] - width(c[i]);
		right = i == C_DURATION || i == C_SIZE;
		if (!right)
			buf_adds(&line, c[i]);
		for (; pad > 0; pad -= n)
			buf_add(&line, blanks, n = pad < sizeof(blanks) - 1 ?
			    pad : sizeof(blanks) - 1);
		if (right)
			buf_adds(&line, c[i]);
		buf_adds(&line, i == last ? "\n" : "  ");
	}
	out_printf("%s", line.data);
	buf_free(&line);
}

/* One line each, in columns; ERROR only when some file had one. */
static int
print_text(const struct list *l)
{
	char	*(*rows)[NCOLS];
	size_t	 w[NCOLS], i, n;
	int	 j, ncols = NCOLS - 1, code = MG_OK;

	if (l->n == 0)
		return MG_OK;
	rows = xreallocarray(NULL, l->n, sizeof(*rows));
	for (j = 0; j < NCOLS; j++)
		w[j] = strlen(heads[j]);
	for (i = 0; i < l->n; i++) {
		cells(&l->v[i], rows[i]);
		if (l->v[i].error != NULL)
			ncols = NCOLS;
		for (j = 0; j < NCOLS; j++)
			if ((n = width(rows[i][j])) > w[j])
				w[j] = n;
	}
	print_row((char *const *)heads, w, ncols);
	for (i = 0; i < l->n; i++) {
		print_row(rows[i], w, ncols);
		for (j = 0; j < NCOLS; j++)
			free(rows[i][j]);
	}
	free(rows);
	if (fflush(stdout) == EOF || ferror(stdout))
		code = MG_FAIL;
	return code;
}

static struct json_object *
rec_json(const struct rec *r)
{
	struct json_object	*o = json_object_new_object();
	const struct recinfo	*ri = &r->ri;
	char			 when[UTC_ISO_LEN], secs[64];
	bool			 ok = r->error == NULL;

	json_object_object_add(o, "path", out_json_string(r->path));
	json_object_object_add(o, "identity", out_json_string(ri->identity));
	json_object_object_add(o, "host", out_json_string(ri->host));
	json_object_object_add(o, "tmux_user", out_json_string(ri->tmux_user));
	json_object_object_add(o, "session", out_json_string(ri->session));
	json_object_object_add(o, "mode", out_json_string(ri->mode));
	json_object_object_add(o, "attach_id", out_json_string(ri->attach_id));
	if (ok)
		utc_format(ri->start, when);
	json_object_object_add(o, "start", ok ? out_json_string(when) : NULL);
	json_object_object_add(o, "timestamp", ok ?
	    json_object_new_int64(ri->start) : NULL);
	/* As record.c writes times: six decimals, not 4.1812599999999998. */
	if (ok && ri->duration >= 0 &&
	    snprintf(secs, sizeof(secs), "%.6f", ri->duration) <
	    (int)sizeof(secs))
		json_object_object_add(o, "duration",
		    json_object_new_double_s(ri->duration, secs));
	else
		json_object_object_add(o, "duration", NULL);
	json_object_object_add(o, "size", ri->size >= 0 ?
	    json_object_new_int64(ri->size) : NULL);
	json_object_object_add(o, "sealed", ok ?
	    json_object_new_boolean(ri->sealed) : NULL);
	if (!ok)
		json_object_object_add(o, "error", out_json_string(r->error));
	return o;
}

static int
print_json(const struct list *l)
{
	struct json_object	*doc, *arr;
	size_t			 i;
	int			 code = MG_OK;

	doc = json_object_new_object();
	arr = json_object_new_array_ext((int)l->n);
	for (i = 0; i < l->n; i++)
		json_object_array_add(arr, rec_json(&l->v[i]));
	json_object_object_add(doc, "recordings", arr);
	if (out_json_print(doc) == -1)
		code = MG_FAIL;
	json_object_put(doc);
	return code;
}

static void
list_free(struct list *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].error);
		recinfo_free(&l->v[i].ri);
	}
	free(l->v);
}

/* --since and --until: TIME into *T, or a usage error. */
static int
time_option(const char *opt, const char *s, long long *t, bool *set)
{
	if (utc_parse(s, (long long)time(NULL), t) == -1) {
		error_msg("recordings: bad %s %s (use YYYY-MM-DD, "
		    "YYYY-MM-DDTHH:MM:SSZ, or a time ago such as 7d or 12h)",
		    opt, s);
		return -1;
	}
	*set = true;
	return 0;
}

/* The recordings directory: DIR, or the policy's. */
static int
list_all(struct list *l, const char *config, const char *dir)
{
	struct policy	*pol;
	int		 code;

	if (dir != NULL)
		return collect(l, dir, false);
	if ((pol = recdir_policy(config)) == NULL)
		return MG_FAIL;
	/* No attach yet: the gateway has not made it. */
	code = collect(l, policy_gateway(pol)->recordings, true);
	policy_free(pol);
	return code;
}

int
recordings_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "dir", required_argument, NULL, 'd' },
		{ "identity", required_argument, NULL, 'i' },
		{ "host", required_argument, NULL, 'H' },
		{ "user", required_argument, NULL, 'u' },
		{ "session", required_argument, NULL, 's' },
		{ "since", required_argument, NULL, 'S' },
		{ "until", required_argument, NULL, 'U' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct list	 l;
	const char	*config = NULL, *dir = NULL;
	bool		 json = false;
	int		 ch, code;

	memset(&l, 0, sizeof(l));
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":f:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f': config = optarg; break;
		case 'd': dir = optarg; break;
		case 'i': l.f.identity = optarg; break;
		case 'H': l.f.host = optarg; break;
		case 'u': l.f.user = optarg; break;
		case 's': l.f.session = optarg; break;
		case 'S':
			if (time_option("--since", optarg, &l.f.since,
			    &l.f.has_since) == -1)
				return MG_USAGE;
			break;
		case 'U':
			if (time_option("--until", optarg, &l.f.until,
			    &l.f.has_until) == -1)
				return MG_USAGE;
			break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return MG_OK;
		case ':':
			error_msg("recordings: %s needs a value",
			    argv[optind - 1]);
			usage(stderr);
			return MG_USAGE;
		default:
			error_msg("recordings: bad option %s", argv[optind - 1]);
			usage(stderr);
			return MG_USAGE;
		}
	}
	if (optind != argc) {
		error_msg("recordings: unexpected argument %s", argv[optind]);
		usage(stderr);
		return MG_USAGE;
	}
	if (config != NULL && dir != NULL) {
		error_msg("recordings: -f and --dir exclude each other");
		usage(stderr);
		return MG_USAGE;
	}
	code = list_all(&l, config != NULL ? config : MUXGATE_DEFAULT_CONFIG,
	    dir);
	if (code == MG_OK || l.n > 0) {
		if ((json ? print_json(&l) : print_text(&l)) != MG_OK)
			code = MG_FAIL;
	}
	if (l.code != MG_OK)
		code = l.code;
	list_free(&l);
	return code;
}
