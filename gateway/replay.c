/*
 * replay.c — `muxgate replay FILE [--speed N] [--idle-limit S]` plays a
 * recording with its timing; `--cat` writes the output stream at once.
 * Only "o" events reach the terminal; "i" (keystrokes) and "r" (resizes)
 * are for auditors reading the file.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "gateway/exitcode.h"
#include "gateway/log.h"
#include "gateway/replay.h"

struct replay_opts {
	bool	cat;
	double	speed;
	double	idle_limit;	/* 0: no limit */
};

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: muxgate replay [--speed N] [--idle-limit S] "
	    "FILE\n       muxgate replay --cat FILE\n");
}

static int
write_all(const char *p, size_t n)
{
	ssize_t	w;

	while (n > 0) {
		if ((w = write(STDOUT_FILENO, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
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
	struct json_object	*h, *v;
	int			 ok;

	if ((h = json_tokener_parse(line)) == NULL) {
		error_msg("%s:1: not an asciicast header", path);
		return -1;
	}
	ok = json_object_object_get_ex(h, "version", &v) &&
	    json_object_get_int(v) == 2;
	json_object_put(h);
	if (!ok) {
		error_msg("%s:1: not an asciicast v2 recording", path);
		return -1;
	}
	return 0;
}

/* One event line: [t, "o", "data"]. */
static int
event(const char *path, size_t lineno, const char *line,
    const struct replay_opts *o, double *prev)
{
	struct json_object	*e, *t, *type, *data;
	double			 at, gap;
	int			 r = -1;

	if ((e = json_tokener_parse(line)) == NULL ||
	    !json_object_is_type(e, json_type_array) ||
	    json_object_array_length(e) != 3) {
		error_msg("%s:%zu: malformed event", path, lineno);
		goto out;
	}
	t = json_object_array_get_idx(e, 0);
	type = json_object_array_get_idx(e, 1);
	data = json_object_array_get_idx(e, 2);
	if (!json_object_is_type(type, json_type_string) ||
	    !json_object_is_type(data, json_type_string)) {
		error_msg("%s:%zu: malformed event", path, lineno);
		goto out;
	}
	at = json_object_get_double(t);
	if (!isfinite(at) || at < 0) {
		error_msg("%s:%zu: bad time", path, lineno);
		goto out;
	}
	if (strcmp(json_object_get_string(type), "o") == 0) {
		if (!o->cat) {
			gap = (at - *prev) / o->speed;
			if (o->idle_limit > 0 && gap > o->idle_limit)
				gap = o->idle_limit;
			pause_for(gap);
		}
		if (write_all(json_object_get_string(data),
		    (size_t)json_object_get_string_len(data)) == -1) {
			error_msg("write: %s", strerror(errno));
			goto out;
		}
		*prev = at;
	}
	r = 0;
out:
	json_object_put(e);
	return r;
}

static int
play(const char *path, const struct replay_opts *o)
{
	FILE	*fp;
	char	*line = NULL;
	size_t	 cap = 0, lineno = 0;
	ssize_t	 n;
	double	 prev = 0;
	int	 code = MG_OK;

	if ((fp = fopen(path, "re")) == NULL) {
		error_msg("%s: %s", path, strerror(errno));
		return MG_FAIL;
	}
	while ((n = getline(&line, &cap, fp)) != -1) {
		lineno++;
		if (n > 0 && line[n - 1] != '\n' && lineno > 1) {
			/* A last line cut short by a killed writer. */
			error_msg("%s:%zu: incomplete last event ignored", path,
			    lineno);
			break;
		}
		if (lineno == 1 ? check_header(path, line) == -1 :
		    event(path, lineno, line, o, &prev) == -1) {
			code = MG_FAIL;
			break;
		}
	}
	if (lineno == 0) {
		error_msg("%s: empty recording", path);
		code = MG_FAIL;
	}
	free(line);
	fclose(fp);
	return code;
}

int
replay_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "cat", no_argument, NULL, 'c' },
		{ "speed", required_argument, NULL, 's' },
		{ "idle-limit", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct replay_opts	 o = { false, 1.0, 0 };
	char			*end;
	int			 ch;

	optind = 1;
	opterr = 0;
	/* Options may follow the file: "replay FILE --speed 2". */
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
			return MG_OK;
		case 'c':
			o.cat = true;
			break;
		case 's':
			o.speed = strtod(optarg, &end);
			if (*end != '\0' || !(o.speed > 0) || o.speed > 1000) {
				error_msg("replay: bad --speed %s", optarg);
				return MG_USAGE;
			}
			break;
		case 'i':
			o.idle_limit = strtod(optarg, &end);
			if (*end != '\0' || !(o.idle_limit > 0)) {
				error_msg("replay: bad --idle-limit %s", optarg);
				return MG_USAGE;
			}
			break;
		case ':':
			error_msg("replay: %s needs a value", argv[optind - 1]);
			usage(stderr);
			return MG_USAGE;
		default:
			error_msg("replay: bad option %s", argv[optind - 1]);
			usage(stderr);
			return MG_USAGE;
		}
	}
	if (argc - optind != 1) {
		if (argc == optind)
			error_msg("replay: no recording given");
		else
			error_msg("replay: one recording at a time, not also %s",
			    argv[optind + 1]);
		usage(stderr);
		return MG_USAGE;
	}
	return play(argv[optind], &o);
}
