/*
 * replay.c — `muxgate replay FILE [--speed N] [--idle-limit S]` plays a
 * recording with its timing; `--cat` writes the output stream at once.
 * Only "o" events reach the terminal; "i" (keystrokes) and "r" (resizes)
 * are for auditors reading the file.  The output passes through the
 * watcher's terminal filter (termfilter.h) on its way, one stream from
 * the first event to the last: a recording holds what the session sent,
 * which may be aimed at whoever looks at it.  `muxgate export` gives the
 * file itself.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gateway/exitcode.h"
#include "gateway/log.h"
#include "gateway/recevent.h"
#include "gateway/replay.h"
#include "gateway/seal.h"
#include "gateway/str.h"
#include "gateway/termfilter.h"
#include "gateway/xmalloc.h"
#include "util/fdio.h"

struct replay_opts {
	bool		 cat;
	bool		 export;	/* the asciicast file itself, to stdout */
	double		 speed;
	double		 idle_limit;	/* 0: no limit */
	const char	*key;		/* an auditor.key, for sealed files */
};

/*
 * Where the lines of a recording come from: a plain asciicast file, or
 * a sealed one opened with an auditor's key (seal.h), whose frames are
 * only ever read as far as they authenticate (recevent.h).
 */
struct source {
	const char		*path;
	FILE			*fp;
	struct seal_secret	*key;
	struct seal_reader	*rd;
	struct recreader	*lines;
};

/* The terminal side of a replay: the filter and its output buffer. */
struct screen {
	struct termfilter	*tf;
	unsigned char		*buf;
	size_t			 cap;
};

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: muxgate replay [--key KEY] [--speed N] "
	    "[--idle-limit S] FILE\n       muxgate replay [--key KEY] --cat "
	    "FILE\n       muxgate export [--key KEY] FILE\n");
}

/* Open PATH; a sealed file needs, and is opened with, O->key. */
static int
source_open(struct source *s, const char *path, const struct replay_opts *o)
{
	char		 err[512], *first = NULL;
	size_t		 cap = 0;
	ssize_t		 n;
	enum seal_kind	 kind;

	memset(s, 0, sizeof(*s));
	s->path = path;
	if ((s->fp = fopen(path, "re")) == NULL) {
		error_msg("%s: %s", path, strerror(errno));
		return -1;
	}
	n = getline(&first, &cap, s->fp);
	kind = n > 0 ? seal_kind_of(first, (size_t)n) : SEAL_KIND_OTHER;
	free(first);
	rewind(s->fp);
	if (kind != SEAL_KIND_SEALED) {
		s->lines = recreader_new(s->fp, NULL);
		return 0;
	}
	if (o->key == NULL) {
		error_msg("%s: a sealed recording: give an auditor's key with "
		    "--key", path);
		return -1;
	}
	if ((s->key = seal_secret_load(o->key, err, sizeof(err))) == NULL) {
		error_msg("%s: %s", o->key, err);
		return -1;
	}
	switch (seal_reader_open(s->fp, s->key, &s->rd, err, sizeof(err))) {
	case SEAL_OK:
		s->lines = recreader_new(s->fp, s->rd);
		return 0;
	case SEAL_NOT_RECIPIENT:
		error_msg("%s: not sealed to the key in %s", path, o->key);
		return -1;
	default:
		error_msg("%s: %s", path, err);
		return -1;
	}
}

static void
source_close(struct source *s)
{
	recreader_free(s->lines);
	seal_reader_free(s->rd);
	seal_secret_free(s->key);
	if (s->fp != NULL)
		fclose(s->fp);
}

static void
pause_for(double seconds)
{
	struct timespec	ts;

	if (seconds <= 0)
		return;
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int
check_header(const char *path, const char *line)
{
	const char	*errstr;

	if (recevent_header(line, &errstr) == -1) {
		error_msg("%s:1: %s", path, errstr);
		return -1;
	}
	return 0;
}

/* Bytes of the session's output to the terminal, filtered. */
static int
screen_write(struct screen *sc, const void *p, size_t n)
{
	size_t	len;

	if (TERMFILTER_OUT_MAX(n) > sc->cap) {
		sc->cap = TERMFILTER_OUT_MAX(n);
		sc->buf = xreallocarray(sc->buf, sc->cap, 1);
	}
	len = termfilter_feed(sc->tf, p, n, sc->buf);
	if (fd_write_all(STDOUT_FILENO, sc->buf, len) == -1) {
		error_msg("write: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* The end of the output: what the filter holds is not a whole sequence. */
static void
screen_end(struct screen *sc)
{
	unsigned char	end[TERMFILTER_SLACK];
	size_t		len;

	if (sc->tf == NULL)
		return;
	len = termfilter_end(sc->tf, end);
	if (len > 0 && fd_write_all(STDOUT_FILENO, end, len) == -1)
		error_msg("write: %s", strerror(errno));
	termfilter_free(sc->tf);
	free(sc->buf);
}

/* One event line: [t, "o", "data"]. */
static int
event(const char *path, size_t lineno, const char *line,
    const struct replay_opts *o, struct screen *sc, double *prev)
{
	struct recevent	 ev;
	const char	*errstr;
	double		 gap;
	int		 r = 0;

	if (recevent_parse(line, &ev, &errstr) == -1) {
		error_msg("%s:%zu: %s", path, lineno, errstr);
		return -1;
	}
	if (strcmp(ev.type, "o") == 0) {
		if (!o->cat) {
			gap = (ev.at - *prev) / o->speed;
			if (o->idle_limit > 0 && gap > o->idle_limit)
				gap = o->idle_limit;
			pause_for(gap);
		}
		r = screen_write(sc, ev.data, ev.len);
		*prev = ev.at;
	}
	recevent_free(&ev);
	return r;
}

/* The recording as it is: header and events, to stdout. */
static int
export_line(const char *path, const char *line, size_t len)
{
	if (fd_write_all(STDOUT_FILENO, line, len) == -1) {
		error_msg("write: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int
play(const char *path, const struct replay_opts *o)
{
	struct source	 s;
	struct screen	 sc = { NULL, NULL, 0 };
	const char	*line, *why;
	size_t		 lineno = 0, n;
	double		 prev = 0;
	enum seal_status end;
	int		 code = MG_OK, r;

	if (source_open(&s, path, o) == -1) {
		source_close(&s);
		return MG_FAIL;
	}
	if (!o->export)
		sc.tf = termfilter_new(TERMFILTER_WATCH);
	while ((line = recreader_line(s.lines, &n)) != NULL) {
		lineno++;
		if (n > 0 && line[n - 1] != '\n' && lineno > 1) {
			/* A last line cut short by a killed writer. */
			error_msg("%s:%zu: incomplete last event ignored", path,
			    lineno);
			break;
		}
		if (lineno == 1)
			r = check_header(path, line);
		else if (o->export)
			r = 0;
		else
			r = event(path, lineno, line, o, &sc, &prev);
		if (r == 0 && o->export)
			r = export_line(path, line, n);
		if (r == -1) {
			code = MG_FAIL;
			break;
		}
	}
	screen_end(&sc);
	if (lineno == 0) {
		error_msg("%s: empty recording", path);
		code = MG_FAIL;
	}
	/* Sealed: a cut file plays as far as it goes; a changed one fails. */
	end = recreader_end(s.lines, &why);
	if (s.rd != NULL && end == SEAL_TRUNCATED && code == MG_OK)
		error_msg("%s: truncated: %s; everything before it is "
		    "authentic", path, why);
	else if (s.rd != NULL && end != SEAL_COMPLETE &&
	    end != SEAL_TRUNCATED) {
		if (end != SEAL_OK)
			error_msg("%s: %s", path, why);
		code = MG_FAIL;
	}
	source_close(&s);
	return code;
}

/*
 * The options of replay, or of export (NAME), which takes only --key:
 * MG_OK with O filled (*HELP: --help was answered, nothing else to do),
 * or MG_USAGE, said.
 */
static int
options(const char *name, int argc, char **argv, struct replay_opts *o,
    bool *help)
{
	static const struct option replay_opts[] = {
		{ "cat", no_argument, NULL, 'c' },
		{ "speed", required_argument, NULL, 's' },
		{ "idle-limit", required_argument, NULL, 'i' },
		{ "key", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static const struct option export_opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char	*end;
	int	 ch;

	*help = false;
	optind = 1;
	opterr = 0;
	/* Options may follow the file: "replay FILE --speed 2". */
	while ((ch = getopt_long(argc, argv, ":h", o->export ? export_opts :
	    replay_opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
			*help = true;
			return MG_OK;
		case 'c':
			o->cat = true;
			break;
		case 'k':
			o->key = optarg;
			break;
		case 's':
			o->speed = strtod(optarg, &end);
			if (*end != '\0' || !(o->speed > 0) || o->speed > 1000) {
				error_msg("%s: bad --speed %s", name, optarg);
				return MG_USAGE;
			}
			break;
		case 'i':
			o->idle_limit = strtod(optarg, &end);
			if (*end != '\0' || !(o->idle_limit > 0)) {
				error_msg("%s: bad --idle-limit %s", name, optarg);
				return MG_USAGE;
			}
			break;
		case ':':
			error_msg("%s: %s needs a value", name, argv[optind - 1]);
			usage(stderr);
			return MG_USAGE;
		default:
			error_msg("%s: bad option %s", name, argv[optind - 1]);
			usage(stderr);
			return MG_USAGE;
		}
	}
	if (argc - optind != 1) {
		if (argc == optind)
			error_msg("%s: no recording given", name);
		else
			error_msg("%s: one recording at a time, not also %s",
			    name, argv[optind + 1]);
		usage(stderr);
		return MG_USAGE;
	}
	return MG_OK;
}

int
replay_main(int argc, char **argv)
{
	struct replay_opts	o = { false, false, 1.0, 0, NULL };
	int			code;
	bool			help;

	if ((code = options("replay", argc, argv, &o, &help)) != MG_OK || help)
		return code;
	return play(argv[optind], &o);
}

int
export_main(int argc, char **argv)
{
	struct replay_opts	o = { true, true, 1.0, 0, NULL };
	int			code;
	bool			help;

	if ((code = options("export", argc, argv, &o, &help)) != MG_OK || help)
		return code;
	return play(argv[optind], &o);
}
