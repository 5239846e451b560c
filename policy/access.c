/* access.c — read-only accessors and the login-time identity checks. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "policy/policy-int.h"

const struct policy_gateway *
policy_gateway(const struct policy *p)
{
	return &p->gw;
}

size_t
policy_host_count(const struct policy *p)
{
	return p->nhosts;
}

const struct policy_host *
policy_host_at(const struct policy *p, size_t i)
{
	return i < p->nhosts ? &p->hosts[i] : NULL;
}

const struct policy_host *
policy_host_find(const struct policy *p, const char *name)
{
	return index_host(p, name);
}

const char *policy_host_name(const struct policy_host *h) { return h->name; }
bool policy_host_local(const struct policy_host *h) { return h->local; }
const char *policy_host_address(const struct policy_host *h) { return h->address; }
unsigned policy_host_port(const struct policy_host *h) { return h->port; }
const char *policy_host_ssh_user(const struct policy_host *h) { return h->ssh_user; }
const char *policy_host_jump(const struct policy_host *h) { return h->jump; }
size_t policy_host_user_count(const struct policy_host *h) { return h->users.n; }

const char *
policy_host_user_at(const struct policy_host *h, size_t i)
{
	return i < h->users.n ? h->users.v[i] : NULL;
}

bool
policy_host_has_user(const struct policy_host *h, const char *user)
{
	return strlist_has(&h->users, user);
}

const char *
policy_host_label(const struct policy_host *h, const char *key)
{
	size_t	i;

	for (i = 0; i < h->nlabels; i++)
		if (strcmp(h->labels[i].key, key) == 0)
			return h->labels[i].value;
	return NULL;
}

size_t
policy_identity_count(const struct policy *p)
{
	return p->nidents;
}

const struct policy_identity *
policy_identity_at(const struct policy *p, size_t i)
{
	return i < p->nidents ? &p->idents[i] : NULL;
}

const struct policy_identity *
policy_identity_find(const struct policy *p, const char *name)
{
	return index_identity(p, name);
}

const char *policy_identity_name(const struct policy_identity *id) { return id->name; }
size_t policy_identity_role_count(const struct policy_identity *id) { return id->roles.n; }

const char *
policy_identity_role_at(const struct policy_identity *id, size_t i)
{
	return i < id->roles.n ? id->roles.v[i] : NULL;
}

bool policy_identity_disabled(const struct policy_identity *id) { return id->disabled; }
time_t policy_identity_expires(const struct policy_identity *id) { return id->expires; }
size_t policy_identity_from_count(const struct policy_identity *id) { return id->from_text.n; }

const char *
policy_identity_from_at(const struct policy_identity *id, size_t i)
{
	return i < id->from_text.n ? id->from_text.v[i] : NULL;
}

int
policy_identity_usable(const struct policy_identity *id, time_t now,
    const char *addr, char *why, size_t whylen)
{
	struct tm	tm;
	char		when[32];

	if (id->disabled) {
		snprintf(why, whylen, "identity %s is disabled", id->name);
		return -1;
	}
	if (id->expires != 0 && now >= id->expires) {
		gmtime_r(&id->expires, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
		snprintf(why, whylen, "identity %s expired at %s", id->name,
		    when);
		return -1;
	}
	if (id->nfrom > 0 && !cidr_match_str(id->from, id->nfrom, addr)) {
		snprintf(why, whylen, "identity %s may not connect from %s",
		    id->name, addr != NULL ? addr : "an unknown address");
		return -1;
	}
	return 0;
}
