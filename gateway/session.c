/* session.c — tmux verbs on a (host, user) pair, via its transport. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <stdio.h>
#include "gateway/log.h"
#include "gateway/access.h"
#include "gateway/session.h"
#include "gateway/ttl.h"
#include "gateway/xmalloc.h"

const char *
session_status_name(enum host_status s)
{
	switch (s) {
	case HOST_OK: return "ok";
	case HOST_FORBIDDEN: return "forbidden";
	case HOST_UNREACHABLE: return "unreachable";
	case HOST_TIMEOUT: return "timeout";
	case HOST_ERROR: return "error";
	}
	return "error";
}

/* What a list-sessions run says about one pair. */
static void
listing_from(struct listing *l, struct transport_result *r)
{
	char	err[128];

	memset(&l->sessions, 0, sizeof(l->sessions));
	l->error = NULL;
	l->status = r->status;
	if (r->status != HOST_OK) {
		l->error = r->message;
		r->message = NULL;
	} else if (r->tmux_code != 0) {
		/* No server running is a fact (no sessions), not an error. */
		if (tmux_classify(r->err) != TMUX_NO_SERVER) {
			l->status = HOST_ERROR;
			l->error = xstrdup(r->err[0] != '\0' ? r->err :
			    "tmux failed");
		}
	} else if (tmux_parse_sessions(r->out, &l->sessions, err,
	    sizeof(err)) == -1) {
		l->status = HOST_ERROR;
		l->error = xstrdup(err);
	}
	transport_result_free(r);
}

/* List every pair of L at once: one slow host does not hold up the rest. */
static void
list_many(const struct policy *p, struct listing *l, size_t n)
{
	struct transport_job	*jobs = xcalloc(n, sizeof(*jobs));
	size_t			 i;

	for (i = 0; i < n; i++) {
		jobs[i].host = policy_host_find(p, l[i].host);
		jobs[i].user = l[i].user;
		tmux_args_list(&jobs[i].args);
	}
	transport_run_many(p, jobs, n);
	for (i = 0; i < n; i++) {
		listing_from(&l[i], &jobs[i].r);
		argv_free(&jobs[i].args);
	}
	free(jobs);
}

/*
 * The time left of every session listed.  The listing stands without
 * it: a state that cannot be read shows no TTL, and reap, which acts on
 * the tags, says what is wrong with them.
 */
static void
ttl_annotate(const struct policy *p, struct listings *ls)
{
	struct ttl_tags		 tags;
	struct tmux_session	*s;
	char			 err[256];
	size_t			 i, j;

	if (ttl_load(policy_gateway(p)->state, &tags, err,
	    sizeof(err)) == -1) {
		debug("no session TTLs: %s", err);
		return;
	}
	for (i = 0; i < ls->n; i++)
		for (j = 0; j < ls->v[i].sessions.n; j++) {
			s = &ls->v[i].sessions.v[j];
			s->expires = ttl_expires(&tags, ls->v[i].host,
			    ls->v[i].user, s->name, s->created);
		}
	ttl_tags_free(&tags);
}

void
session_list(const struct policy *p, const struct policy_host *h,
    const char *user, struct listing *l)
{
	struct argv		args = { 0 };
	struct transport_result	r;

	tmux_args_list(&args);
	transport_run(p, h, user, &args, &r);
	argv_free(&args);
	listing_from(l, &r);
}

bool
session_granted(struct gw *gw, const char *host, const char *user)
{
	const struct grant	**g;
	size_t			  n;

	n = access_grants_on(gw, host, user, &g);
	free(g);
	return n > 0;
}

/* Where the identity may not list: only the sessions a grant names. */
static void
keep_granted(struct listing *l)
{
	struct tmux_session	*s;
	size_t			 i, j, keep;
	bool			 ok;

	for (i = keep = 0; i < l->sessions.n; i++) {
		s = &l->sessions.v[i];
		for (j = 0, ok = false; j < l->ngrants && !ok; j++)
			ok = l->grants[j]->session == NULL ||
			    strcmp(l->grants[j]->session, s->name) == 0;
		if (ok)
			l->sessions.v[keep++] = *s;
		else {
			free(s->name);
			free(s->owner);
		}
	}
	l->sessions.n = keep;
	l->sessions.hidden = 0;
}

void
session_list_scope(struct gw *gw, const char *host, const char *user,
    unsigned need, struct listings *out)
{
	const struct policy_host	*h;
	const struct grant		**grants;
	const char			*u;
	struct listing			*l;
	unsigned			 acts;
	size_t				 i, j, ngrants;

	memset(out, 0, sizeof(*out));
	slots_viewers(policy_gateway(gw->policy)->state, &out->viewers);
	for (i = 0; i < policy_host_count(gw->policy); i++) {
		h = policy_host_at(gw->policy, i);
		if (host != NULL && strcmp(host, policy_host_name(h)) != 0)
			continue;
		for (j = 0; j < policy_host_user_count(h); j++) {
			u = policy_host_user_at(h, j);
			if (user != NULL && strcmp(user, u) != 0)
				continue;
			acts = access_actions(gw, policy_host_name(h), u);
			ngrants = access_grants_on(gw, policy_host_name(h), u,
			    &grants);
			if ((acts & need) == 0 &&
			    !(ngrants > 0 && (need & POLICY_LIST))) {
				free(grants);
				continue;
			}
			out->v = xreallocarray(out->v, out->n + 1,
			    sizeof(*out->v));
			l = &out->v[out->n++];
			memset(l, 0, sizeof(*l));
			l->host = policy_host_name(h);
			l->user = u;
			l->actions = acts;
			l->grants = grants;
			l->ngrants = ngrants;
		}
	}
	if (out->n > 0) {
		list_many(gw->policy, out->v, out->n);
		ttl_annotate(gw->policy, out);
	}
	for (i = 0; i < out->n; i++)
		if (out->v[i].ngrants > 0 &&
		    !(out->v[i].actions & POLICY_LIST))
			keep_granted(&out->v[i]);
}

void
listings_free(struct listings *ls)
{
	size_t	i;

	for (i = 0; i < ls->n; i++) {
		free(ls->v[i].error);
		free(ls->v[i].grants);
		tmux_sessions_free(&ls->v[i].sessions);
	}
	free(ls->v);
	ls->v = NULL;
	ls->n = 0;
	viewers_free(&ls->viewers);
}

/* Session NAME in the listing of USER on H: FOUND with *S set, or why not. */
static enum session_found
lookup(const struct policy *p, const struct policy_host *h, const char *user,
    const char *name, struct listing *l, const struct tmux_session **s,
    char *why, size_t whylen)
{
	session_list(p, h, user, l);
	if (l->status != HOST_OK) {
		(void)snprintf(why, whylen, "%s@%s: %s (%s)", user,
		    policy_host_name(h), session_status_name(l->status),
		    l->error != NULL ? l->error : "");
		return SESSION_HOST_ERROR;
	}
	if ((*s = tmux_sessions_find(&l->sessions, name)) == NULL) {
		(void)snprintf(why, whylen, "no session %s@%s:%s", user,
		    policy_host_name(h), name);
		return SESSION_MISSING;
	}
	return SESSION_FOUND;
}

enum session_found
session_created(const struct policy *p, const struct policy_host *h,
    const char *user, const char *name, long long *created, char *why,
    size_t whylen)
{
	const struct tmux_session	*s = NULL;
	struct listing			 l;
	enum session_found		 found;

	*created = 0;
	if ((found = lookup(p, h, user, name, &l, &s, why, whylen)) ==
	    SESSION_FOUND)
		*created = s->created;
	free(l.error);
	tmux_sessions_free(&l.sessions);
	return found;
}

enum session_found
session_find(const struct policy *p, const struct policy_host *h,
    const char *user, const char *name, char **owner, char *why,
    size_t whylen)
{
	const struct tmux_session	*s = NULL;
	struct listing			 l;
	enum session_found		 found;

	*owner = NULL;
	if ((found = lookup(p, h, user, name, &l, &s, why, whylen)) ==
	    SESSION_FOUND && s->owner != NULL)
		*owner = xstrdup(s->owner);
	free(l.error);
	tmux_sessions_free(&l.sessions);
	return found;
}

/*
 * A tmux verb on one pair; SESSION_OK, or R's failure said in WHY.  With
 * OUT, what tmux printed is kept there on SESSION_OK (the caller frees).
 */
static enum session_outcome
run_verb(const struct policy *p, const struct policy_host *h,
    const char *user, const char *name, const struct argv *args, char *why,
    size_t whylen, char **out)
{
	struct transport_result	 r;
	enum session_outcome	 o = SESSION_OK;

	if (out != NULL)
		*out = NULL;
	transport_run(p, h, user, args, &r);
	if (r.status != HOST_OK) {
		(void)snprintf(why, whylen, "%s@%s: %s: %s", user,
		    policy_host_name(h), session_status_name(r.status),
		    r.message != NULL ? r.message : "");
		o = SESSION_FAILED;
	} else if (r.tmux_code != 0) {
		switch (tmux_classify(r.err)) {
		case TMUX_DUPLICATE:
			o = SESSION_EXISTS;
			(void)snprintf(why, whylen, "%s@%s:%s: session exists",
			    user, policy_host_name(h), name);
			break;
		case TMUX_NO_SERVER:
		case TMUX_NO_SESSION:
			o = SESSION_GONE;
			(void)snprintf(why, whylen, "no session %s@%s:%s", user,
			    policy_host_name(h), name);
			break;
		default:
			o = SESSION_FAILED;
			(void)snprintf(why, whylen, "%s@%s:%s: %s", user,
			    policy_host_name(h), name, r.err);
		}
	} else if (out != NULL) {
		*out = r.out;
		r.out = NULL;
	}
	transport_result_free(&r);
	return o;
}

enum session_outcome
session_create(const struct policy *p, const struct policy_host *h,
    const char *user, const char *name, const char *owner, int cmdc,
    char **cmdv, char *why, size_t whylen)
{
	struct argv		 args = { 0 };
	enum session_outcome	 o;
	char			*home;

	home = transport_for(h)->home(h, user);
	tmux_args_new(&args, name, home, owner, (long long)time(NULL), cmdc,
	    cmdv);
	free(home);
	o = run_verb(p, h, user, name, &args, why, whylen, NULL);
	argv_free(&args);
	/* Only kill can find a session gone; for new it is tmux failing. */
	return o == SESSION_GONE ? SESSION_FAILED : o;
}

enum session_outcome
session_kill(const struct policy *p, const struct policy_host *h,
    const char *user, const char *name, char *why, size_t whylen)
{
	struct argv		 args = { 0 };
	enum session_outcome	 o;

	tmux_args_kill(&args, name);
	o = run_verb(p, h, user, name, &args, why, whylen, NULL);
	argv_free(&args);
	return o;
}

/*
 * Two tmux commands, and no moment between them where another session
 * of the name could be killed: the first asks which session NAME is (its
 * id, never reused while the server runs, and its creation time), the
 * second kills that id.  A session ended and made again under the name
 * in between has another id, and survives.
 */
enum session_outcome
session_kill_created(const struct policy *p, const struct policy_host *h,
    const char *user, const char *name, long long created, char *why,
    size_t whylen)
{
	struct argv		 args = { 0 };
	enum session_outcome	 o;
	char			*out;
	unsigned		 id;
	long long		 now_created;

	tmux_args_which(&args, name);
	o = run_verb(p, h, user, name, &args, why, whylen, &out);
	argv_free(&args);
	if (o == SESSION_GONE)
		(void)snprintf(why, whylen, "the session has ended");
	if (o != SESSION_OK)
		return o;
	if (tmux_parse_which(out, &id, &now_created) == -1) {
		(void)snprintf(why, whylen, "%s@%s:%s: unexpected tmux output",
		    user, policy_host_name(h), name);
		free(out);
		return SESSION_FAILED;
	}
	free(out);
	if (now_created != created) {
		(void)snprintf(why, whylen, "the session of that name is a "
		    "newer one");
		return SESSION_GONE;
	}
	tmux_args_kill_id(&args, id);
	o = run_verb(p, h, user, name, &args, why, whylen, NULL);
	argv_free(&args);
	if (o == SESSION_GONE)
		(void)snprintf(why, whylen, "the session has ended");
	return o;
}
