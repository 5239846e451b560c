/*
 * access.c — the shell's decisions, with the identity's grants
 * (access.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/access.h"
#include "gateway/log.h"
#include "gateway/monotime.h"
#include "gateway/state.h"
#include "gateway/xmalloc.h"

/* How long a reading of the grants is used for. */
#define FRESH_MS	1000

struct access_cache {
	long long		 read_at;	/* monotime_ms(), 0: never */
	struct grant_list	 list;
	struct policy_grant	*inforce;
	size_t			 ninforce;
	bool			 failed;	/* the state could not be read */
	bool			 warned;
	char			 err[256];
};

static void
cache_clear(struct access_cache *c)
{
	grant_list_free(&c->list);
	free(c->inforce);
	c->inforce = NULL;
	c->ninforce = 0;
	c->read_at = 0;
	c->failed = false;
}

static struct access_cache *
cache(struct gw *gw)
{
	struct access_cache	*c;
	struct state		*st;
	long long		 now = monotime_ms();

	if (gw->access == NULL)
		gw->access = xcalloc(1, sizeof(struct access_cache));
	c = gw->access;
	if (c->read_at != 0 && now - c->read_at < FRESH_MS)
		return c;
	cache_clear(c);
	c->read_at = now;
	if ((st = state_open(policy_gateway(gw->policy)->state, c->err,
	    sizeof(c->err))) == NULL ||
	    grants_of(st, policy_identity_name(gw->id), &c->list, c->err,
	    sizeof(c->err)) == -1)
		c->failed = true;
	state_close(st);
	grant_in_force(&c->list, (long long)time(NULL), &c->inforce,
	    &c->ninforce);
	return c;
}

static void
warn_failed(struct gw *gw, struct access_cache *c)
{
	if ((!c->failed && c->list.nbad == 0) || c->warned ||
	    !policy_identity_may_request(gw->id))
		return;
	c->warned = true;
	if (c->failed)
		error_msg("warning: grants cannot be read, only the policy "
		    "counts: %s", c->err);
	else
		error_msg("warning: a grant cannot be read and does not count: "
		    "%s", c->list.bad[0]);
}

void
access_decide(struct gw *gw, enum policy_action a, const char *host,
    const char *user, const char *session, struct policy_verdict *v)
{
	struct access_cache	*c;

	policy_decide(gw->policy, gw->id, a, host, user, v);
	if (v->allow || v->why != POLICY_WHY_DEFAULT ||
	    !policy_identity_may_request(gw->id))
		return;
	c = cache(gw);
	warn_failed(gw, c);
	policy_decide_grants(gw->policy, gw->id, a, host, user, session,
	    c->inforce, c->ninforce, v);
}

unsigned
access_actions(struct gw *gw, const char *host, const char *user)
{
	struct policy_verdict	v;
	unsigned		set = 0;
	size_t			i;

	for (i = 0; i < POLICY_NACTIONS; i++) {
		access_decide(gw, policy_action_at(i), host, user, NULL, &v);
		if (v.allow)
			set |= policy_action_at(i);
	}
	return set;
}

size_t
access_grants_on(struct gw *gw, const char *host, const char *user,
    const struct grant ***out)
{
	struct access_cache	*c;
	struct policy_verdict	 v;
	const struct grant	*g;
	size_t			 i, n = 0;

	*out = NULL;
	if (!policy_identity_may_request(gw->id))
		return 0;
	c = cache(gw);
	*out = xcalloc(c->list.n + 1, sizeof(**out));
	for (i = 0; i < c->list.n; i++) {
		g = &c->list.v[i];
		if (strcmp(g->host, host) != 0 || strcmp(g->user, user) != 0 ||
		    grant_status_at(g, (long long)time(NULL)) != GRANT_ACTIVE)
			continue;
		/* Only what the policy lets it allow now. */
		policy_decide_grants(gw->policy, gw->id, g->action, host, user,
		    g->session, c->inforce, c->ninforce, &v);
		if (v.allow)
			(*out)[n++] = g;
	}
	if (n == 0) {
		free(*out);
		*out = NULL;
	}
	return n;
}

const struct grant *
access_grant(struct gw *gw, const char *id)
{
	struct access_cache	*c = cache(gw);
	size_t			 i;

	for (i = 0; i < c->list.n; i++)
		if (strcmp(c->list.v[i].id, id) == 0)
			return &c->list.v[i];
	return NULL;
}

void
access_forget(struct gw *gw)
{
	if (gw->access != NULL)
		((struct access_cache *)gw->access)->read_at = 0;
}

void
access_free(struct gw *gw)
{
	if (gw->access == NULL)
		return;
	cache_clear(gw->access);
	free(gw->access);
	gw->access = NULL;
}
