/*
 * reap.c — `muxgate reap [-f CONFIG]`: what is due in the shared state
 * (state.h), done by a timer every minute as the gateway account.  One
 * run is the steps of steps[] in order, then state_sweep(); a step that
 * fails is reported and the next still runs, and the exit status says
 * that something failed.  Nothing is done without a policy that loads,
 * nor, with gateway.audit_required, without an audit log to write to.
 *
 * Grants (grant.h) whose time is up, and requests nobody decided in
 * time, are written expired, each with a muxgate-grant-expire record.
 *
 * Expired session TTLs (ttl.h): each tag whose time is up names a host,
 * a tmux user and a session; the session is looked up through the
 * host's transport and killed only if it is the one tagged (tmux's
 * creation time matches; the kill names tmux's id of the session, see
 * session_kill_created()), with one audit record per kill.  A session
 * that has gone, or been made again under its name, only loses the tag.
 * A tag that does not decode is refused, never acted on, and left for
 * an administrator to look at; an unreachable host is reported and its
 * tags kept for the next run.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/audit.h"
#include "gateway/exitcode.h"
#include "gateway/grant.h"
#include "gateway/log.h"
#include "gateway/output.h"
#include "gateway/reap.h"
#include "gateway/recdir.h"
#include "gateway/session.h"
#include "gateway/shell.h"
#include "gateway/state.h"
#include "gateway/str.h"
#include "gateway/ttl.h"
#include "gateway/xmalloc.h"
#include "policy/policy.h"

struct reap {
	struct policy	*pol;
	struct state	*st;
	long long	 now;
	int		 code;
	bool		 stop;		/* an action could not be audited */
	/* The pairs USER@HOST that could not be listed this run, and why. */
	struct argv	 down;
	struct argv	 down_why;
	/* The state's errors reported so far: each is said once. */
	struct argv	 said;
};

static void	reap_ttls(struct reap *);
static void	reap_grants(struct reap *);

/*
 * What one run does, in this order.  Each step reports its own failures
 * (error_msg, r->code) and returns; r->stop ends the run.
 */
static const struct reap_step {
	const char	*name;
	void		(*run)(struct reap *);
} steps[] = {
	{ "session TTLs", reap_ttls },
	{ "grants", reap_grants },
};

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: muxgate reap [-f CONFIG]\n");
}

static void
fail(struct reap *r)
{
	r->code = MG_FAIL;
}

/*
 * "reap: WHAT: ERR", unless ERR was said already this run: a corrupt
 * entry is refused by its step, and found again by the sweep.
 */
static void
state_error(struct reap *r, const char *what, const char *err)
{
	int	i;

	fail(r);
	for (i = 0; i < r->said.n; i++)
		if (strcmp(r->said.v[i], err) == 0)
			return;
	argv_add(&r->said, err);
	error_msg("reap: %s: %s", what, err);
}

/*
 * Why the pair USER@HOST could not be listed earlier in this run, or
 * NULL: one unreachable host costs one connection timeout per run.
 */
static const char *
down_why(const struct reap *r, const char *user, const char *host)
{
	char	*pair;
	int	 i;

	xasprintf(&pair, "%s@%s", user, host);
	for (i = 0; i < r->down.n; i++)
		if (strcmp(r->down.v[i], pair) == 0)
			break;
	free(pair);
	return i < r->down.n ? r->down_why.v[i] : NULL;
}

/*
 * The tag IT, of T, is not needed any more: WHY says why (NULL: the
 * session was reaped, which was said).
 */
static void
drop(struct reap *r, const struct state_item *it, const struct ttl_tag *t,
    const char *why)
{
	char	err[512];

	switch (state_delete_if(r->st, it->key, it->entry.version, err,
	    sizeof(err))) {
	case STATE_OK:
		if (why != NULL)
			out_printf("dropped the ttl of %s@%s:%s: %s\n",
			    t->user, t->host, t->session, why);
		break;
	case STATE_ABSENT:
	case STATE_CONFLICT:
		break;		/* another reap, or a new session's tag */
	default:
		error_msg("reap: %s", err);
		fail(r);
	}
}

static void
audit_kill(struct reap *r, const struct ttl_tag *t)
{
	struct audit_rec	a;

	audit_rec_init(&a, AUDIT_KIND_COMMAND, "muxgate-reap", true);
	a.host = t->host;
	a.tmux_user = t->user;
	a.session = t->session;
	a.owner = t->by;
	a.ttl = t->ttl;
	if (audit_emit(&a) == -1) {
		/* audit_emit said why; nothing more goes unrecorded. */
		error_msg("reap: %s@%s:%s was killed without an audit record; "
		    "stopping", t->user, t->host, t->session);
		fail(r);
		r->stop = true;
	}
}

/* Kill the session of T, found on H as the one tagged. */
static void
kill_tagged(struct reap *r, const struct state_item *it,
    const struct policy_host *h, const struct ttl_tag *t)
{
	char	why[512], d[32];

	/* By tmux's id: a session made again under the name survives. */
	switch (session_kill_created(r->pol, h, t->user, t->session,
	    t->created, why, sizeof(why))) {
	case SESSION_OK:
		ttl_duration_text(t->ttl, d, sizeof(d));
		out_printf("reaped %s@%s:%s (created by %s, ttl %s)\n",
		    t->user, t->host, t->session, t->by, d);
		audit_kill(r, t);
		break;
	case SESSION_GONE:
		/* Ended, or made again, since the look: nothing killed. */
		drop(r, it, t, why);
		return;
	default:
		error_msg("reap: %s@%s:%s not reaped: %s", t->user, t->host,
		    t->session, why);
		fail(r);
		return;
	}
	drop(r, it, t, NULL);
}

static void
reap_tag(struct reap *r, const struct state_item *it)
{
	const struct policy_host	*h;
	struct ttl_tag			 t;
	const char			*known;
	char				 why[512];
	long long			 created;

	if (ttl_decode(it->key, it->entry.value, it->entry.len, &t, why,
	    sizeof(why)) == -1) {
		error_msg("reap: refused: %s", why);
		fail(r);
		return;
	}
	if (t.expires > r->now)
		goto out;
	if ((h = policy_host_find(r->pol, t.host)) == NULL ||
	    !policy_host_has_user(h, t.user)) {
		drop(r, it, &t, "the policy no longer has that host and tmux "
		    "user");
		goto out;
	}
	if ((known = down_why(r, t.user, t.host)) != NULL) {
		error_msg("reap: %s@%s:%s not reaped: %s", t.user, t.host,
		    t.session, known);
		fail(r);
		goto out;
	}
	switch (session_created(r->pol, h, t.user, t.session, &created, why,
	    sizeof(why))) {
	case SESSION_HOST_ERROR:
		error_msg("reap: %s@%s:%s not reaped: %s", t.user, t.host,
		    t.session, why);
		argv_addf(&r->down, "%s@%s", t.user, t.host);
		argv_add(&r->down_why, why);
		fail(r);
		break;
	case SESSION_MISSING:
		drop(r, it, &t, "the session has ended");
		break;
	case SESSION_FOUND:
		if (created != t.created)
			drop(r, it, &t, "the session of that name is a newer "
			    "one");
		else
			kill_tagged(r, it, h, &t);
		break;
	}
out:
	ttl_tag_free(&t);
}

static void
reap_ttls(struct reap *r)
{
	struct state_items	items;
	char			err[512];
	size_t			i;

	if (state_list(r->st, TTL_PREFIX, &items, err, sizeof(err)) == -1) {
		state_error(r, "refused", err);
		return;
	}
	/* Each entry the state refuses is said; the others are reaped. */
	for (i = 0; i < items.nbad; i++)
		state_error(r, "refused", items.bad[i]);
	for (i = 0; i < items.n && !r->stop; i++)
		reap_tag(r, &items.v[i]);
	state_items_free(&items);
}

/* A grant entry that cannot be read: said, and the run fails. */
static void
refused_grant(const char *why, void *arg)
{
	state_error(arg, "refused", why);
}

/* One grant written expired: its record. */
static void
audit_expiry(const struct grant *g, void *arg)
{
	struct reap		*r = arg;
	struct audit_rec	 a;

	if (r->stop)
		return;
	audit_rec_init(&a, AUDIT_KIND_COMMAND, "muxgate-grant-expire", true);
	a.host = g->host;
	a.tmux_user = g->user;
	a.session = g->session;
	a.grant = g->id;
	a.grant_action = policy_action_name(g->action);
	a.requester = g->requester;
	a.approver = g->approver;
	a.grant_for = g->duration;
	a.note = g->reason;
	if (audit_emit(&a) == -1) {
		error_msg("reap: grant %s expired without an audit record; "
		    "stopping", g->id);
		fail(r);
		r->stop = true;
	}
}

/*
 * Grants whose time is up, or requests that lapsed, written expired
 * with one record each.  They allowed nothing since their end already
 * (every decision compares the end with the clock): this is the trail,
 * and what grants shows.
 */
static void
reap_grants(struct reap *r)
{
	char	err[512];
	size_t	n;

	if (grants_retire(r->st, r->now, audit_expiry, refused_grant, r, &n,
	    err, sizeof(err)) == -1)
		state_error(r, "grants", err);
	if (n > 0)
		out_printf("retired %zu expired grant%s\n", n, n == 1 ? "" :
		    "s");
}

static int
reap_run(struct reap *r)
{
	const struct policy_gateway	*g = policy_gateway(r->pol);
	char				 err[512];
	size_t				 i, removed;

	audit_configure(g->audit, g->audit_required);
	/* Nothing is done that could not be written down. */
	if (audit_ready(err, sizeof(err)) == -1) {
		error_msg("reap: refused: audit_required is set and %s", err);
		return MG_FAIL;
	}
	if ((r->st = state_open(g->state, err, sizeof(err))) == NULL) {
		error_msg("reap: %s", err);
		return MG_FAIL;
	}
	for (i = 0; i < sizeof(steps) / sizeof(*steps) && !r->stop; i++) {
		r->now = (long long)time(NULL);
		debug("step %s", steps[i].name);
		steps[i].run(r);
	}
	if (state_sweep(r->st, (long long)time(NULL), &removed, err,
	    sizeof(err)) == -1)
		state_error(r, "sweep", err);
	state_close(r->st);
	return r->code;
}

int
reap_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*config = MUXGATE_DEFAULT_CONFIG;
	struct reap	 r;
	char		*e;
	int		 ch, code;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":f:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f': config = optarg; break;
		case 'h': usage(stdout); return MG_OK;
		case ':':
			error_msg("reap: %s needs a value", argv[optind - 1]);
			usage(stderr);
			return MG_USAGE;
		default:
			e = out_escape(argv[optind - 1]);
			error_msg("reap: bad option %s", e);
			free(e);
			usage(stderr);
			return MG_USAGE;
		}
	}
	if (optind != argc) {
		e = out_escape(argv[optind]);
		error_msg("reap: unexpected argument %s", e);
		free(e);
		usage(stderr);
		return MG_USAGE;
	}
	memset(&r, 0, sizeof(r));
	/* Fail closed: no policy, nothing killed. */
	if ((r.pol = recdir_policy(config)) == NULL)
		return MG_FAIL;
	code = reap_run(&r);
	if (fflush(stdout) == EOF && code == MG_OK)
		code = MG_FAIL;
	argv_free(&r.down);
	argv_free(&r.down_why);
	argv_free(&r.said);
	policy_free(r.pol);
	return code;
}
