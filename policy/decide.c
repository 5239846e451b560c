/*
 * decide.c — the one policy decision function.  Pure: no I/O, no clock
 * (identity expiry is policy_identity_usable()'s job, at login).
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

void
policy_decide(const struct policy *p, const struct policy_identity *id,
    enum policy_action a, const char *host, const char *user,
    struct policy_verdict *v)
{
	const struct policy_host *h;
	const struct role	 *role;
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
				return;
			}
	}
	v->why = POLICY_WHY_DEFAULT;
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
