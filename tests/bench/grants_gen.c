/*
 * grants_gen.c — fill a gateway.state with grants for the benchmarks
 * (tests/bench/grants, tests/bench/run relay G), through the gateway's
 * own store: grants_add() and grants_update() of gateway/grant-store.c
 * over gateway/state.c, so every entry, index and counter is written and
 * MACed exactly as muxgate writes it.  Built by tests/bench/grantsgen.py
 * against the objects of `make muxgate`.
 *
 *   grants_gen STATE              one grant per line of stdin, its id and
 *                                 kind per line of stdout
 *   grants_gen STATE --recheck ID --runs N
 *                                 time what an attach allowed by grant ID
 *                                 does every second (gateway/attach.c
 *                                 grant_ended): state_changed("grant")
 *                                 with nothing changed, and the same with
 *                                 a change, which adds grants_find(ID)
 *
 * A line of stdin, blank-separated:
 *
 *   REQUESTER ACTION HOST USER SESSION DURATION AGO AFTER KIND BY
 *
 * SESSION is "-" for any session; DURATION the grant's, in seconds; AGO
 * how long ago it was requested; AFTER how long after the request it was
 * decided (approved, denied); BY the approver (or who denied or revoked
 * it), "-" for none.  KIND is what happened to it, in the order the
 * commands would do it:
 *
 *   pending   requested (grants_add), nobody decided yet
 *   lapsed    the same, requested more than a day ago: now expired
 *   self      active at once, under a rule without approvers
 *             (grants_add of an active grant, as `request` writes it)
 *   active    requested, then approved by BY AFTER seconds later
 *             (grants_update, as `approve` writes it)
 *   expired   the same, its duration since run out (muxgate leaves such
 *             a grant as it is: its status is worked out when read)
 *   denied    requested, then denied by BY
 *   revoked   requested, approved by BY, then revoked by the requester
 *             half-way through its duration, or now if that is earlier
 *
 * A line "sweep" runs state_sweep() (see sweep() below) and writes
 * "swept N".
 *
 * The times must make sense (ends after now for active, before for
 * expired, and no entry older than the store keeps it): the caller's
 * job; a grant the store refuses stops everything (exit 1).
 *
 * fsync() is replaced below by a no-op: the scratch store of a
 * benchmark needs no durability, and 10,000 grants take some 40,000
 * writes to the store of four fsync()s each.  The bytes written are the
 * gateway's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gateway/grant.h"
#include "gateway/state.h"
#include "gateway/xmalloc.h"

int
fsync(int fd)
{
	(void)fd;
	return 0;
}

static void
die(const char *what, const char *err)
{
	fprintf(stderr, "grants_gen: %s: %s\n", what, err);
	exit(1);
}

static long long
num(const char *s, const char *what)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < 0)
		die(what, "not a number");
	return v;
}

static char *
opt(const char *s)
{
	return strcmp(s, "-") == 0 ? NULL : xstrdup(s);
}

static void
update(struct state *st, struct grant *g)
{
	char	err[256];

	if (grants_update(st, g, err, sizeof(err)) != STATE_OK)
		die("grants_update", err);
}

/*
 * "sweep": state_sweep() at NOW.  A grant requested more than a day ago
 * was given a pending index entry that expired at once, and
 * grants_update() leaves an expired entry to the sweep: the commands,
 * deciding within the day, would have deleted it.
 */
static void
sweep(struct state *st, long long now)
{
	size_t	n;
	char	err[256];

	if (state_sweep(st, now, &n, err, sizeof(err)) == -1)
		die("state_sweep", err);
	printf("swept %zu\n", n);
}

/* One line of stdin into the store. */
static void
one(struct state *st, char *line, long long now, unsigned long lineno)
{
	struct grant	 g;
	char		*f[10], *save = NULL, *p, err[256], what[64];
	const char	*kind;
	long long	 ago, after;
	int		 n;

	if (strcmp(line, "sweep\n") == 0) {
		sweep(st, now);
		return;
	}
	for (n = 0, p = strtok_r(line, " \t\n", &save); p != NULL && n < 10;
	    p = strtok_r(NULL, " \t\n", &save))
		f[n++] = p;
	snprintf(what, sizeof(what), "line %lu", lineno);
	if (n != 10 || p != NULL)
		die(what, "expected 10 fields");
	memset(&g, 0, sizeof(g));
	g.requester = xstrdup(f[0]);
	if (policy_action_parse(f[1], &g.action) == -1)
		die(what, "unknown action");
	g.host = xstrdup(f[2]);
	g.user = xstrdup(f[3]);
	g.session = opt(f[4]);
	g.duration = (unsigned)num(f[5], what);
	ago = num(f[6], what);
	after = num(f[7], what);
	kind = f[8];
	g.reason = xstrdup("benchmark");
	g.requested = now - ago;
	if (strcmp(kind, "self") == 0) {
		g.status = GRANT_ACTIVE;
		g.starts = g.decided = g.requested;
		g.ends = g.starts + g.duration;
	} else
		g.status = GRANT_PENDING;
	if (grants_add(st, &g, err, sizeof(err)) == -1)
		die(what, err);
	if (strcmp(kind, "active") == 0 || strcmp(kind, "expired") == 0 ||
	    strcmp(kind, "revoked") == 0) {
		g.status = GRANT_ACTIVE;
		g.approver = opt(f[9]);
		g.starts = g.decided = g.requested + after;
		g.ends = g.starts + g.duration;
		update(st, &g);
		if (strcmp(kind, "revoked") == 0) {
			g.status = GRANT_REVOKED;
			g.by = xstrdup(g.requester);
			g.decided = g.starts + g.duration / 2;
			if (g.decided > now)
				g.decided = now;
			update(st, &g);
		}
	} else if (strcmp(kind, "denied") == 0) {
		g.status = GRANT_DENIED;
		g.by = opt(f[9]);
		g.note = xstrdup("not now");
		g.decided = g.requested + after;
		update(st, &g);
	} else if (strcmp(kind, "pending") != 0 &&
	    strcmp(kind, "lapsed") != 0 && strcmp(kind, "self") != 0)
		die(what, "unknown kind");
	printf("%s %s\n", g.id, kind);
	grant_free(&g);
}

static double
elapsed_us(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e6 +
	    (double)(b->tv_nsec - a->tv_nsec) / 1e3;
}

static int
dbl_cmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * What grant_ended() costs the relay once a second: with nothing
 * changed, state_changed() alone; after a change of any grant, also
 * grants_find() of the attach's grant.  Medians of RUNS calls, in
 * microseconds of wall time.
 */
static void
recheck(struct state *st, const char *id, int runs)
{
	struct timespec	 t0, t1;
	struct grant	 g;
	uint64_t	 cookie = 0;
	double		*quiet, *changed;
	char		 err[256];
	int		 i, r;

	quiet = xcalloc((size_t)runs, sizeof(*quiet));
	changed = xcalloc((size_t)runs, sizeof(*changed));
	if (state_changed(st, "grant", &cookie, err, sizeof(err)) == -1)
		die("state_changed", err);
	for (i = 0; i < runs; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		r = state_changed(st, "grant", &cookie, err, sizeof(err));
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (r != 0)
			die("state_changed", r == -1 ? err : "a change");
		quiet[i] = elapsed_us(&t0, &t1);
		/* A change: the counter's cookie forgotten, as after a write. */
		cookie = 0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		r = state_changed(st, "grant", &cookie, err, sizeof(err));
		if (r == 1 && grants_find(st, id, &g, err, sizeof(err)) !=
		    STATE_OK)
			die("grants_find", err);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (r != 1)
			die("state_changed", r == -1 ? err : "no change");
		if (grant_status_at(&g, (long long)time(NULL)) != GRANT_ACTIVE)
			die(id, "not active");
		grant_free(&g);
		changed[i] = elapsed_us(&t0, &t1);
	}
	qsort(quiet, (size_t)runs, sizeof(*quiet), dbl_cmp);
	qsort(changed, (size_t)runs, sizeof(*changed), dbl_cmp);
	printf("unchanged %.2f %.2f\nchanged %.2f %.2f\n", quiet[runs / 2],
	    quiet[runs * 9 / 10], changed[runs / 2], changed[runs * 9 / 10]);
	free(quiet);
	free(changed);
}

int
main(int argc, char **argv)
{
	struct state	*st;
	char		 err[256], *line = NULL;
	size_t		 cap = 0;
	unsigned long	 lineno = 0;
	long long	 now = (long long)time(NULL);

	if (argc != 2 && !(argc == 6 && strcmp(argv[2], "--recheck") == 0 &&
	    strcmp(argv[4], "--runs") == 0)) {
		fprintf(stderr, "usage: grants_gen STATE < LINES\n"
		    "       grants_gen STATE --recheck ID --runs N\n");
		return 2;
	}
	if ((st = state_open(argv[1], err, sizeof(err))) == NULL)
		die(argv[1], err);
	if (argc == 6)
		recheck(st, argv[3], (int)num(argv[5], "--runs") + 1);
	else
		while (getline(&line, &cap, stdin) != -1)
			one(st, line, now, ++lineno);
	free(line);
	state_close(st);
	if (fflush(stdout) == EOF)
		die("stdout", strerror(errno));
	return 0;
}
