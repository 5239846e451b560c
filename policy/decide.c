/*
 * decide.c — the one policy decision function, and the request rules
 * behind just-in-time grants.  Pure: no I/O, no clock (identity expiry
 * is policy_identity_usable()'s job, at login; a grant's end is its
 * store's).
 *
 * What an allow rule grants: attach also grants watch, kill also grants
 * kill-own.  What a deny rule covers: deny watch also covers attach (an
 * attach shows the screen too), deny kill and deny kill-own each cover
 * both (no killing at all).
 */
#include <string.h>

#include "policy/policy-int.h"

static const struct {
	enum policy_action	 action;
	const char		*name;
	unsigned		 grants;	/* as an allow rule */
	unsigned		 covers;	/* as a deny rule */
} actions[POLICY_NACTIONS] = {
	{ POLICY_LIST, "list", POLICY_LIST, POLICY_LIST },
	{ POLICY_WATCH, "watch", POLICY_WATCH, POLICY_WATCH | POLICY_ATTACH },
	{ POLICY_ATTACH, "attach", POLICY_ATTACH | POLICY_WATCH, POLICY_ATTACH },
	{ POLICY_CREATE, "create", POLICY_CREATE, POLICY_CREATE },
	{ POLICY_KILL, "kill", POLICY_KILL | POLICY_KILL_OWN,
	    POLICY_KILL | POLICY_KILL_OWN },
	{ POLICY_KILL_OWN, "kill-own", POLICY_KILL_OWN,
	    POLICY_KILL | POLICY_KILL_OWN },
	{ POLICY_TERMINATE, "terminate", POLICY_TERMINATE, POLICY_TERMINATE },
};

const char *
policy_action_name(enum policy_action a)
{
	size_t	i;

	for (i = 0; i < POLICY_NACTIONS; i++)
		if (actions[i].action == a)
			return actions[i].name;
	return "?";
}

int
policy_action_parse(const char *s, enum policy_action *out)
{
	size_t	i;

	for (i = 0; i < POLICY_NACTIONS; i++)
		if (strcmp(actions[i].name, s) == 0) {
			*out = actions[i].action;
			return 0;
		}
	return -1;
}

enum policy_action
policy_action_at(size_t i)
{
	return actions[i < POLICY_NACTIONS ? i : 0].action;
}

/* Expand a rule's listed actions into what it grants or covers. */
static unsigned
expand(unsigned listed, bool deny)
{
	unsigned	out = 0;
	size_t		i;

	for (i = 0; i < POLICY_NACTIONS; i++)
		if (listed & actions[i].action)
			out |= deny ? actions[i].covers : actions[i].grants;
	return out;
}

static bool
rule_matches(const struct rule *r, bool deny, enum policy_action a,
    const struct policy_host *h, const char *user)
{
	return (expand(r->actions, deny) & a) != 0 && match_host(r, h) &&
	    match_user(r, user);
}

/* A request rule of ID's roles offering A on H and USER, or NULL. */
static const struct rule *
request_rule(const struct policy_identity *id, enum policy_action a,
    const struct policy_host *h, const char *user, const struct role **rolep,
    size_t *index)
{
	const struct role	*role;
	size_t			 i, j;

	for (i = 0; i < id->roles.n; i++) {
		if ((role = id->role_ptrs[i]) == NULL)
			continue;
		for (j = 0; j < role->nrequest; j++)
			if (rule_matches(&role->request[j], false, a, h, user)) {
				*rolep = role;
				*index = j;
				return &role->request[j];
			}
	}
	return NULL;
}

/* Does grant G cover A on USER@H:SESSION, and may ID still have it? */
static const struct rule *
grant_covers(const struct policy_identity *id, const struct policy_grant *g,
    enum policy_action a, const struct policy_host *h, const char *user,
    const char *session, const struct role **rolep, size_t *index)
{
	if ((expand(g->action, false) & a) == 0 ||
	    strcmp(g->host, h->name) != 0 || strcmp(g->user, user) != 0)
		return NULL;
	if (g->session != NULL &&
	    (session == NULL || strcmp(g->session, session) != 0))
		return NULL;
	return request_rule(id, g->action, h, user, rolep, index);
}

void
policy_decide_grants(const struct policy *p,
    const struct policy_identity *id, enum policy_action a, const char *host,
    const char *user, const char *session, const struct policy_grant *grants,
    size_t ngrants, struct policy_verdict *v)
{
	const struct policy_host *h;
	const struct role	 *role;
	const struct rule	 *r;
	size_t			  i, j;

	memset(v, 0, sizeof(*v));
	v->allow = false;
	if ((h = policy_host_find(p, host)) == NULL) {
		v->why = POLICY_WHY_NO_HOST;
		return;
	}
	if (!policy_host_has_user(h, user)) {
		v->why = POLICY_WHY_NO_USER;
		return;
	}
	/* Deny wins: look at every deny rule of every role first. */
	for (i = 0; i < id->roles.n; i++) {
		if ((role = id->role_ptrs[i]) == NULL)
			continue;
		for (j = 0; j < role->ndeny; j++)
			if (rule_matches(&role->deny[j], true, a, h, user)) {
				v->why = POLICY_WHY_DENY_RULE;
				v->role = role->name;
				v->index = j;
				return;
			}
	}
	for (i = 0; i < id->roles.n; i++) {
		if ((role = id->role_ptrs[i]) == NULL)
			continue;
		for (j = 0; j < role->nallow; j++)
			if (rule_matches(&role->allow[j], false, a, h, user)) {
				v->allow = true;
				v->why = POLICY_WHY_ALLOW_RULE;
				v->role = role->name;
				v->index = j;
				v->max_session_ttl = role->allow[j].max_session_ttl;
				return;
			}
	}
	for (i = 0; i < ngrants; i++)
		if ((r = grant_covers(id, &grants[i], a, h, user, session,
		    &role, &j)) != NULL) {
			v->allow = true;
			v->why = POLICY_WHY_GRANT;
			v->role = role->name;
			v->index = j;
			v->grant = &grants[i];
			v->max_session_ttl = r->max_session_ttl;
			return;
		}
	v->why = POLICY_WHY_DEFAULT;
}

void
policy_decide(const struct policy *p, const struct policy_identity *id,
    enum policy_action a, const char *host, const char *user,
    struct policy_verdict *v)
{
	policy_decide_grants(p, id, a, host, user, NULL, NULL, 0, v);
}

int
policy_request_find(const struct policy *p, const struct policy_identity *id,
    enum policy_action a, const char *host, const char *user,
    struct policy_request *out)
{
	const struct policy_host *h;
	const struct role	 *role;
	const struct rule	 *r;
	size_t			  index;

	memset(out, 0, sizeof(*out));
	if ((h = policy_host_find(p, host)) == NULL ||
	    !policy_host_has_user(h, user) ||
	    (r = request_rule(id, a, h, user, &role, &index)) == NULL)
		return -1;
	out->role = role->name;
	out->index = index;
	out->max_duration = r->max_duration;
	out->max_session_ttl = r->max_session_ttl;
	out->reason_required = r->reason_required;
	out->self_service = r->self_service;
	out->approvers = (const char *const *)r->approvers.v;
	out->napprovers = r->approvers.n;
	return 0;
}

bool
policy_may_approve(const struct policy_identity *approver,
    const struct policy_request *r)
{
	size_t	i, j;

	if (r->self_service)
		return false;
	for (i = 0; i < r->napprovers; i++)
		for (j = 0; j < approver->roles.n; j++)
			if (strcmp(r->approvers[i], approver->roles.v[j]) == 0)
				return true;
	return false;
}

bool
policy_identity_may_request(const struct policy_identity *id)
{
	size_t	i;

	for (i = 0; i < id->roles.n; i++)
		if (id->role_ptrs[i] != NULL && id->role_ptrs[i]->nrequest > 0)
			return true;
	return false;
}

bool
policy_identity_approves(const struct policy *p,
    const struct policy_identity *id)
{
	const struct role	*role;
	size_t			 i, j, k;

	for (i = 0; i < p->nroles; i++) {
		role = &p->roles[i];
		for (j = 0; j < role->nrequest; j++)
			for (k = 0; k < role->request[j].approvers.n; k++)
				if (strlist_has(&id->roles,
				    role->request[j].approvers.v[k]))
					return true;
	}
	return false;
}

unsigned
policy_allowed_actions(const struct policy *p,
    const struct policy_identity *id, const char *host, const char *user)
{
	struct policy_verdict	v;
	unsigned		set = 0;
	size_t			i;

	for (i = 0; i < POLICY_NACTIONS; i++) {
		policy_decide(p, id, actions[i].action, host, user, &v);
		if (v.allow)
			set |= actions[i].action;
	}
	return set;
}
