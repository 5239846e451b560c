/*
 * verify.c — `muxgate verify [--audit-log FILE] RECORDING...`: is each
 * recording what the audit trail says was written?
 *
 * Every attach's USER_START, checkpoint and USER_END records carry the
 * length of its recording at that moment and the BLAKE2b of every byte
 * written to it so far.  A file is "intact" when its length and hash are
 * those of its USER_END; "truncated at T" when it is shorter, every
 * record it reaches matches it, and no record says it went on past its
 * end (or the relay never wrote a USER_END: it was killed); "modified"
 * when any record it reaches does not match, or it is longer than its
 * USER_END says; "unanchored" when no record names its attach.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include <sodium.h>

#include "gateway/exitcode.h"
#include "gateway/log.h"
#include "gateway/output.h"
#include "gateway/seal.h"
#include "gateway/spawn.h"
#include "gateway/str.h"
#include "gateway/trail.h"
#include "gateway/verify.h"
#include "gateway/xmalloc.h"

#define HEADER_MAX	65536
#define AUSEARCH_TIMEOUT_MS 120000

static const char *const ausearch_paths[] = { "/usr/sbin/ausearch",
    "/sbin/ausearch", NULL };

struct anchors {
	struct trail_rec	*v;
	size_t			 n;
};

/* What one recording's header says about it. */
struct header {
	char		attach[17];
	long long	timestamp;
	bool		sealed;
};

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: muxgate verify [--key KEY] [--audit-log FILE] "
	    "RECORDING...\n");
}

/*
 * A sealed recording read through with an auditor's KEY: how its frames
 * end (complete, truncated, modified) and the time of its last whole
 * event.  -1 when the key cannot open it (WHY says so).
 */
static int
sealed_read(const char *path, const struct seal_secret *key,
    enum seal_status *end, double *last, char *why, size_t whylen)
{
	struct seal_reader	*rd = NULL;
	const unsigned char	*plain;
	const char		*p;
	FILE			*fp;
	size_t			 len, i;
	bool			 at_line = true;

	*last = 0;
	if ((fp = fopen(path, "re")) == NULL) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	*end = seal_reader_open(fp, key, &rd, why, whylen);
	if (*end == SEAL_TRUNCATED || *end == SEAL_MODIFIED) {
		fclose(fp);
		return 0;
	}
	if (*end != SEAL_OK) {
		if (*end == SEAL_NOT_RECIPIENT)
			snprintf(why, whylen, "not sealed to this key");
		fclose(fp);
		return -1;
	}
	/* Each event line starts "[SECONDS,": keep the last one's time. */
	while ((*end = seal_reader_next(rd, &plain, &len, why, whylen)) ==
	    SEAL_OK)
		for (i = 0; i < len; i++) {
			if (at_line && plain[i] == '[' && i + 1 < len) {
				p = (const char *)plain + i + 1;
				*last = strtod(p, NULL);
			}
			at_line = plain[i] == '\n';
		}
	seal_reader_free(rd);
	fclose(fp);
	return 0;
}

static void
anchors_add_line(struct anchors *a, const char *line)
{
	struct trail_rec	r;

	if (trail_parse(line, &r) != 1)
		return;
	a->v = xreallocarray(a->v, a->n + 1, sizeof(*a->v));
	a->v[a->n++] = r;
}

static void
anchors_add_text(struct anchors *a, char *text)
{
	char	*line, *next;

	for (line = text; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		anchors_add_line(a, line);
	}
}

/* An audit log file (auditd's format, or syslog lines). */
static int
trail_from_file(const char *path, struct anchors *a)
{
	FILE	*fp;
	char	*line = NULL;
	size_t	 cap = 0;

	if ((fp = fopen(path, "re")) == NULL) {
		error_msg("%s: %s", path, strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, fp) != -1)
		anchors_add_line(a, line);
	free(line);
	if (ferror(fp)) {
		error_msg("%s: %s", path, strerror(errno));
		fclose(fp);
		return -1;
	}
	fclose(fp);
	return 0;
}

/*
 * The system's audit log, through ausearch, from a minute before SINCE
 * (the earliest recording's start) on.  ausearch reads -ts in the
 * locale's date format: the C locale's, set for this process.
 */
static int
trail_from_ausearch(long long since, struct anchors *a)
{
	const char *const	*p;
	struct argv		 argv = { 0 };
	struct spawn_result	 sr;
	char			 day[32], tod[32], err[256];
	time_t			 t = (time_t)(since - 60);
	struct tm		 tm;
	int			 ret = -1;

	for (p = ausearch_paths; *p != NULL && access(*p, X_OK) != 0; p++)
		;
	if (*p == NULL) {
		error_msg("ausearch not found (package auditd): use "
		    "--audit-log FILE");
		return -1;
	}
	(void)setenv("LC_ALL", "C", 1);
	localtime_r(&t, &tm);
	/* The C locale's %x: two digits of year are what ausearch reads. */
	(void)snprintf(day, sizeof(day), "%02d/%02d/%02d", tm.tm_mon + 1,
	    tm.tm_mday, tm.tm_year % 100);
	strftime(tod, sizeof(tod), "%H:%M:%S", &tm);
	argv_add(&argv, *p);
	argv_add(&argv, "--raw");
	argv_add(&argv, "-m");
	argv_add(&argv, "USER_START,TRUSTED_APP,USER_END");
	argv_add(&argv, "-ts");
	argv_add(&argv, day);
	argv_add(&argv, tod);
	memset(&sr, 0, sizeof(sr));
	if (spawn_capture(&argv, AUSEARCH_TIMEOUT_MS, &sr, err,
	    sizeof(err)) == -1)
		error_msg("ausearch: %s", err);
	else if (sr.timed_out || !sr.exited)
		error_msg("ausearch did not finish");
	else if (sr.code != 0 && sr.code != 1)	/* 1: nothing matched */
		error_msg("ausearch: %s", sr.err.data != NULL ? sr.err.data :
		    "failed");
	else if (sr.out.len >= SPAWN_MAX_OUTPUT)
		error_msg("the audit trail since then is too large to read "
		    "through ausearch: use --audit-log FILE");
	else {
		if (sr.out.data != NULL)
			anchors_add_text(a, sr.out.data);
		ret = 0;
	}
	spawn_result_free(&sr);
	argv_free(&argv);
	return ret;
}

/* The first line of PATH: a plain recording's header, or a sealed one's. */
static int
read_header(const char *path, struct header *h, char *why, size_t whylen)
{
	struct json_object	*o = NULL, *cast, *mg, *v;
	FILE			*fp;
	char			*line = NULL;
	size_t			 cap = 0;
	ssize_t			 n;
	int			 ret = -1;

	memset(h, 0, sizeof(*h));
	if ((fp = fopen(path, "re")) == NULL) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	n = getline(&line, &cap, fp);
	fclose(fp);
	if (n <= 0 || n > HEADER_MAX || (o = json_tokener_parse(line)) == NULL ||
	    !json_object_is_type(o, json_type_object)) {
		snprintf(why, whylen, "no recording header on its first line");
		goto out;
	}
	cast = o;
	if (json_object_object_get_ex(o, "muxgate_sealed", NULL)) {
		h->sealed = true;
		if (!json_object_object_get_ex(o, "cast", &cast))
			cast = NULL;
	}
	if (cast == NULL || !json_object_object_get_ex(cast, "muxgate", &mg) ||
	    !json_object_object_get_ex(mg, "attach_id", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) != 16) {
		snprintf(why, whylen, "the header names no attach");
		goto out;
	}
	memcpy(h->attach, json_object_get_string(v), 16);
	if (json_object_object_get_ex(cast, "timestamp", &v))
		h->timestamp = json_object_get_int64(v);
	ret = 0;
out:
	json_object_put(o);
	free(line);
	return ret;
}

static int
by_bytes(const void *a, const void *b)
{
	const struct trail_rec	*x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? -1 : 1;
	return (int)x->kind - (int)y->kind;
}

/* The records of ATTACH, by length. */
static size_t
select_anchors(const struct anchors *all, const char *attach,
    struct trail_rec **out)
{
	size_t	i, n = 0;

	*out = xcalloc(all->n + 1, sizeof(**out));
	for (i = 0; i < all->n; i++)
		if (strcmp(all->v[i].attach, attach) == 0)
			(*out)[n++] = all->v[i];
	qsort(*out, n, sizeof(**out), by_bytes);
	return n;
}

static bool
hash_is(const crypto_generichash_state *st, const char *hex)
{
	crypto_generichash_state	copy = *st;
	unsigned char			h[32];
	char				have[65];

	(void)crypto_generichash_final(&copy, h, sizeof(h));
	sodium_bin2hex(have, sizeof(have), h, sizeof(h));
	return strcmp(have, hex) == 0;
}

/*
 * Hash the file once, checking each anchor it reaches.  Returns the
 * file's length; *BAD is the first anchor that does not match, or NULL.
 */
static int
check_anchors(int fd, const struct trail_rec *v, size_t n,
    unsigned long long *size, const struct trail_rec **bad,
    const struct trail_rec **reached)
{
	crypto_generichash_state	 st;
	unsigned char			 buf[65536];
	unsigned long long		 off = 0;
	size_t				 i = 0, take;
	ssize_t				 got = 0, used;

	*bad = *reached = NULL;
	(void)crypto_generichash_init(&st, NULL, 0, 32);
	for (;;) {
		while (i < n && v[i].bytes == off) {
			if (!hash_is(&st, v[i].hash) && *bad == NULL)
				*bad = &v[i];
			*reached = &v[i];
			i++;
		}
		if ((got = read(fd, buf, sizeof(buf))) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (got == 0)
			break;
		/* Stop at the next anchor inside this block. */
		for (used = 0; used < got; used += (ssize_t)take) {
			take = (size_t)(got - used);
			if (i < n && v[i].bytes < off + take)
				take = (size_t)(v[i].bytes - off);
			(void)crypto_generichash_update(&st, buf + used, take);
			off += take;
			while (i < n && v[i].bytes == off) {
				if (!hash_is(&st, v[i].hash) && *bad == NULL)
					*bad = &v[i];
				*reached = &v[i];
				i++;
			}
		}
	}
	*size = off;
	return 0;
}

/* The time of the last whole event of a plain recording, in seconds. */
static double
last_event_time(int fd, unsigned long long size)
{
	char		 buf[65536], *end, *start;
	off_t		 from = size > sizeof(buf) - 1 ?
			    (off_t)(size - (sizeof(buf) - 1)) : 0;
	ssize_t		 n;

	if ((n = pread(fd, buf, sizeof(buf) - 1, from)) <= 0)
		return 0;
	buf[n] = '\0';
	/* Lines that end with a newline, from the last one back. */
	for (end = memrchr(buf, '\n', (size_t)n); end != NULL;
	    end = start > buf ? start - 1 : NULL) {
		*end = '\0';
		start = memrchr(buf, '\n', (size_t)(end - buf));
		start = start != NULL ? start + 1 : buf;
		/* The first line of the window may be the end of a line. */
		if (start == buf && from > 0)
			break;
		if (*start == '[')
			return strtod(start + 1, NULL);
	}
	return 0;
}

enum verdict { V_INTACT, V_TRUNCATED, V_MODIFIED, V_UNANCHORED, V_ERROR };

static enum verdict
judge(const char *path, const struct header *h, const struct trail_rec *v,
    size_t n, const struct seal_secret *key, char *detail, size_t dlen)
{
	const struct trail_rec	*bad, *reached, *end = NULL;
	unsigned long long	 size;
	enum seal_status	 sealed_end = SEAL_COMPLETE;
	double			 at, sealed_at = 0;
	size_t			 i;
	int			 fd;
	enum verdict		 verdict;

	if (n == 0)
		return V_UNANCHORED;
	for (i = 0; i < n; i++)
		if (v[i].kind == TRAIL_END)
			end = &v[i];
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    check_anchors(fd, v, n, &size, &bad, &reached) == -1) {
		snprintf(detail, dlen, "%s", strerror(errno));
		if (fd != -1)
			close(fd);
		return V_ERROR;
	}
	if (bad != NULL) {
		snprintf(detail, dlen, "its first %llu bytes are not what was "
		    "recorded", bad->bytes);
		verdict = V_MODIFIED;
	} else if (end != NULL && size > end->bytes) {
		snprintf(detail, dlen, "%llu bytes were added after its end",
		    size - end->bytes);
		verdict = V_MODIFIED;
	} else if (end != NULL && size == end->bytes)
		verdict = V_INTACT;
	else	/* Shorter than recorded, or its relay never ended it. */
		verdict = V_TRUNCATED;
	/* With the key, a sealed file's frames must hold too, to the last. */
	if (h->sealed && key != NULL && verdict != V_MODIFIED) {
		if (sealed_read(path, key, &sealed_end, &sealed_at, detail,
		    dlen) == -1) {
			close(fd);
			return V_ERROR;
		}
		if (sealed_end == SEAL_MODIFIED)
			verdict = V_MODIFIED;
		else if (sealed_end != SEAL_COMPLETE)
			verdict = V_TRUNCATED;
	}
	if (verdict == V_TRUNCATED) {
		at = !h->sealed ? last_event_time(fd, size) :
		    key != NULL ? sealed_at :
		    reached != NULL && reached->duration > 0 ?
		    (double)reached->duration : 0;
		snprintf(detail, dlen, "%.3fs%s", at, end == NULL ?
		    " (no end record: the relay was stopped, or the attach is "
		    "still running)" : "");
	}
	close(fd);
	return verdict;
}

static int
verify_one(const char *path, const struct anchors *all,
    const struct seal_secret *key)
{
	struct header		 h;
	struct trail_rec	*v;
	char			 why[512], *safe = out_escape(path);
	size_t			 n;
	int			 code = MG_FAIL;

	if (read_header(path, &h, why, sizeof(why)) == -1) {
		error_msg("%s: %s", path, why);
		free(safe);
		return MG_FAIL;
	}
	n = select_anchors(all, h.attach, &v);
	switch (judge(path, &h, v, n, key, why, sizeof(why))) {
	case V_INTACT:
		printf("%s: intact\n", safe);
		code = MG_OK;
		break;
	case V_TRUNCATED:
		printf("%s: truncated at %s\n", safe, why);
		break;
	case V_MODIFIED:
		printf("%s: modified: %s\n", safe, why);
		break;
	case V_UNANCHORED:
		printf("%s: unanchored: no audit record names attach %s\n",
		    safe, h.attach);
		break;
	case V_ERROR:
		error_msg("%s: %s", path, why);
		break;
	}
	fflush(stdout);
	free(v);
	free(safe);
	return code;
}

int
verify_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "audit-log", required_argument, NULL, 'l' },
		{ "key", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct anchors		 all = { NULL, 0 };
	struct header		 h;
	struct seal_secret	*key = NULL;
	const char		*log = NULL, *keyfile = NULL;
	char		 why[512];
	long long	 since = -1;
	int		 ch, i, code = MG_OK;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l': log = optarg; break;
		case 'k': keyfile = optarg; break;
		case 'h': usage(stdout); return MG_OK;
		case ':':
			error_msg("verify: %s needs a value", argv[optind - 1]);
			usage(stderr);
			return MG_USAGE;
		default:
			error_msg("verify: bad option %s", argv[optind - 1]);
			usage(stderr);
			return MG_USAGE;
		}
	}
	if (optind == argc) {
		error_msg("verify: no recording given");
		usage(stderr);
		return MG_USAGE;
	}
	if (keyfile != NULL &&
	    (key = seal_secret_load(keyfile, why, sizeof(why))) == NULL) {
		error_msg("%s: %s", keyfile, why);
		return MG_FAIL;
	}
	for (i = optind; i < argc; i++)
		if (read_header(argv[i], &h, why, sizeof(why)) == 0 &&
		    (since == -1 || h.timestamp < since))
			since = h.timestamp;
	if (log != NULL ? trail_from_file(log, &all) == -1 :
	    since != -1 && trail_from_ausearch(since, &all) == -1) {
		seal_secret_free(key);
		return MG_FAIL;
	}
	for (i = optind; i < argc; i++)
		if (verify_one(argv[i], &all, key) != MG_OK)
			code = MG_FAIL;
	free(all.v);
	seal_secret_free(key);
	return code;
}
