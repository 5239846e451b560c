/*
 * test_decide.c — policy_decide() and policy_allowed_actions().
 *
 * One policy is loaded for the whole group; each identity in it holds a
 * small combination of roles built for one rule of the decision.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/policy.h"
#include "tests/unit/unit.h"

/* Distinct fingerprints: "SHA256:" and 43 base64 characters. */
#define FP(c) "[\"SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" c "\"]"
#define ID(name, c, roles) \
	"  " name ":\n    keys: " FP(c) "\n    roles: " roles "\n"

static const char policy_text[] =
	"hosts:\n"
	"  bastion:\n"
	"    local: true\n"
	"    tmux_users: [deploy, build]\n"
	"  web1:\n"
	"    address: web1.example\n"
	"    ssh_user: mg\n"
	"    tmux_users: [deploy, app]\n"
	"    labels: {env: prod, tier: web}\n"
	"  web2:\n"
	"    address: web2.example\n"
	"    ssh_user: mg\n"
	"    tmux_users: [deploy, app]\n"
	"    labels: {env: staging, tier: web}\n"
	"  web10:\n"
	"    address: web10.example\n"
	"    ssh_user: mg\n"
	"    tmux_users: [deploy, app]\n"
	"    labels: {env: prod}\n"
	"  db1:\n"
	"    address: db1.example\n"
	"    ssh_user: mg\n"
	"    tmux_users: [postgres, deploy]\n"
	"    labels: {env: prod, tier: db}\n"
	"roles:\n"
	"  viewer:\n"
	"    allow:\n"
	"      - {hosts: \"*\", tmux_users: \"*\", actions: [list, watch]}\n"
	"  webops:\n"
	"    allow:\n"
	"      - {hosts: [\"web*\"], tmux_users: [deploy], actions: [attach]}\n"
	"      - {hosts: [\"web?\"], tmux_users: [app], actions: [kill]}\n"
	"  prodweb:\n"
	"    allow:\n"
	"      - hosts: {env: prod, tier: web}\n"
	"        tmux_users: \"*\"\n"
	"        actions: [create]\n"
	"  noprod:\n"
	"    deny:\n"
	"      - {hosts: {env: prod}, tmux_users: \"*\", actions: [create]}\n"
	"  attacher:\n"
	"    allow:\n"
	"      - {hosts: [web1], tmux_users: \"*\", actions: [attach]}\n"
	"  nowatch:\n"
	"    deny:\n"
	"      - {hosts: [bastion], tmux_users: [build], actions: [list]}\n"
	"      - {hosts: [web1], tmux_users: \"*\", actions: [watch]}\n"
	"  noattach:\n"
	"    deny:\n"
	"      - {hosts: [web1], tmux_users: \"*\", actions: [attach]}\n"
	"  killown:\n"
	"    allow:\n"
	"      - {hosts: \"*\", tmux_users: \"*\", actions: [kill-own]}\n"
	"  nokill:\n"
	"    deny:\n"
	"      - {hosts: [\"web*\"], tmux_users: \"*\", actions: [kill]}\n"
	"  nokillown:\n"
	"    deny:\n"
	"      - {hosts: \"*\", tmux_users: [app], actions: [kill-own]}\n"
	"  multi:\n"
	"    allow:\n"
	"      - {hosts: [db1], tmux_users: \"*\", actions: [list]}\n"
	"      - {hosts: [bastion], tmux_users: [deploy], actions: [create]}\n"
	"      - {hosts: [bastion], tmux_users: \"*\", actions: [create, list]}\n"
	"    deny:\n"
	"      - {hosts: [db1], tmux_users: [deploy], actions: [watch]}\n"
	"      - {hosts: [db1], tmux_users: [postgres], actions: [list]}\n"
	"  nothing: {}\n"
	"  contractor:\n"
	"    request:\n"
	"      - {hosts: [web1], tmux_users: [deploy], actions: [attach],\n"
	"         max_duration: 4h, approvers: [viewer]}\n"
	"      - {hosts: [bastion], tmux_users: [build], actions: [create],\n"
	"         max_duration: 1h, approvers: none, reason: optional,\n"
	"         max_session_ttl: 30m}\n"
	"  ttlcreate:\n"
	"    allow:\n"
	"      - {hosts: [bastion], tmux_users: \"*\", actions: [create],\n"
	"         max_session_ttl: 2h}\n"
	"identities:\n"
	ID("viewer", "a", "[viewer]")
	ID("webops", "b", "[webops]")
	ID("prodweb", "c", "[prodweb]")
	ID("denyafter", "d", "[prodweb, noprod]")
	ID("denyfirst", "e", "[noprod, prodweb]")
	ID("attacher", "f", "[attacher]")
	ID("nowatch", "g", "[attacher, nowatch]")
	ID("noattach", "h", "[attacher, noattach]")
	ID("killown", "i", "[killown]")
	ID("nokill", "j", "[webops, nokill]")
	ID("nokillown", "k", "[webops, killown, nokillown]")
	ID("multi", "l", "[multi]")
	ID("nothing", "m", "[nothing]")
	ID("both", "n", "[multi, viewer]")
	ID("contractor", "o", "[contractor]")
	ID("boxed", "p", "[contractor, noattach]")
	ID("ttl", "q", "[ttlcreate]");

static struct policy *P;

static int
group_setup(void **state)
{
	P = unit_policy(policy_text);
	return P == NULL ? -1 : 0;
}

static int
group_teardown(void **state)
{
	policy_free(P);
	P = NULL;
	return 0;
}

static const struct policy_identity *
ident(const char *name)
{
	const struct policy_identity	*id;

	id = policy_identity_find(P, name);
	assert_non_null(id);
	return id;
}

static const char *
why_name(enum policy_why w)
{
	switch (w) {
	case POLICY_WHY_ALLOW_RULE: return "allow-rule";
	case POLICY_WHY_DENY_RULE: return "deny-rule";
	case POLICY_WHY_DEFAULT: return "default";
	case POLICY_WHY_NO_HOST: return "no-host";
	case POLICY_WHY_NO_USER: return "no-user";
	case POLICY_WHY_GRANT: return "grant";
	}
	return "?";
}

/*
 * Decide ACTION for identity NAME on USER@HOST and compare every field of
 * the verdict.  ROLE is NULL for verdicts that name no rule.
 */
static void
expect_verdict(const char *name, enum policy_action a, const char *user,
    const char *host, bool allow, enum policy_why why, const char *role,
    size_t index, const char *file, int line)
{
	struct policy_verdict	v;
	bool			ok;

	memset(&v, 0xa5, sizeof(v));
	policy_decide(P, ident(name), a, host, user, &v);
	ok = v.allow == allow && v.why == why;
	if (role == NULL)
		ok = ok && v.role == NULL;
	else
		ok = ok && v.role != NULL && strcmp(v.role, role) == 0 &&
		    v.index == index;
	if (!ok) {
		print_error("%s %s %s@%s: expected %s %s %s[%zu], got %s %s "
		    "%s[%zu]\n", name, policy_action_name(a), user, host,
		    allow ? "allow" : "deny", why_name(why),
		    role != NULL ? role : "-", index,
		    v.allow ? "allow" : "deny", why_name(v.why),
		    v.role != NULL ? v.role : "-", v.index);
		_fail(file, line);
	}
}

#define ALLOW(name, a, user, host, role, index) \
	expect_verdict(name, a, user, host, true, POLICY_WHY_ALLOW_RULE, \
	    role, index, __FILE__, __LINE__)
#define DENY(name, a, user, host, role, index) \
	expect_verdict(name, a, user, host, false, POLICY_WHY_DENY_RULE, \
	    role, index, __FILE__, __LINE__)
#define DEFAULT(name, a, user, host) \
	expect_verdict(name, a, user, host, false, POLICY_WHY_DEFAULT, \
	    NULL, 0, __FILE__, __LINE__)
#define NOHOST(name, a, user, host) \
	expect_verdict(name, a, user, host, false, POLICY_WHY_NO_HOST, \
	    NULL, 0, __FILE__, __LINE__)
#define NOUSER(name, a, user, host) \
	expect_verdict(name, a, user, host, false, POLICY_WHY_NO_USER, \
	    NULL, 0, __FILE__, __LINE__)

/* ------------------------------------------------------------------ */

static void
test_default_deny(void **state)
{
	size_t	i, h, u;
	const struct policy_host *host;

	/* A role without rules grants nothing anywhere. */
	for (h = 0; h < policy_host_count(P); h++) {
		host = policy_host_at(P, h);
		for (u = 0; u < policy_host_user_count(host); u++)
			for (i = 0; i < POLICY_NACTIONS; i++)
				DEFAULT("nothing", policy_action_at(i),
				    policy_host_user_at(host, u),
				    policy_host_name(host));
	}
	/* Actions no rule lists are denied by default. */
	DEFAULT("viewer", POLICY_CREATE, "deploy", "web1");
	DEFAULT("viewer", POLICY_ATTACH, "deploy", "web1");
	DEFAULT("viewer", POLICY_KILL, "deploy", "bastion");
	DEFAULT("viewer", POLICY_KILL_OWN, "deploy", "bastion");
	ALLOW("viewer", POLICY_LIST, "deploy", "web1", "viewer", 0);
}

static void
test_deny_wins_across_roles(void **state)
{
	/* prodweb alone may create on web1 ... */
	ALLOW("prodweb", POLICY_CREATE, "deploy", "web1", "prodweb", 0);
	/* ... but a deny of another role wins, whatever the role order. */
	DENY("denyafter", POLICY_CREATE, "deploy", "web1", "noprod", 0);
	DENY("denyfirst", POLICY_CREATE, "deploy", "web1", "noprod", 0);
	DENY("denyafter", POLICY_CREATE, "app", "web1", "noprod", 0);
	/* The deny covers env=prod only: web2 falls through to the allows. */
	DEFAULT("denyafter", POLICY_CREATE, "deploy", "web2");
	/* Within one role too: multi allows list on db1 but denies postgres. */
	DENY("multi", POLICY_LIST, "postgres", "db1", "multi", 1);
	ALLOW("multi", POLICY_LIST, "deploy", "db1", "multi", 0);
	/* And across roles: viewer allows watch, multi denies it. */
	DENY("both", POLICY_WATCH, "deploy", "db1", "multi", 0);
	DENY("both", POLICY_ATTACH, "deploy", "db1", "multi", 0);
	ALLOW("both", POLICY_WATCH, "postgres", "db1", "viewer", 0);
}

static void
test_labels_all_must_match(void **state)
{
	/* {env: prod, tier: web} */
	ALLOW("prodweb", POLICY_CREATE, "app", "web1", "prodweb", 0);
	DEFAULT("prodweb", POLICY_CREATE, "app", "web2");	/* env differs */
	DEFAULT("prodweb", POLICY_CREATE, "deploy", "db1");	/* tier differs */
	DEFAULT("prodweb", POLICY_CREATE, "app", "web10");	/* no tier */
	DEFAULT("prodweb", POLICY_CREATE, "deploy", "bastion"); /* no labels */
	/* A deny on {env: prod} covers every prod host, labelled otherwise
	 * or not. */
	DENY("denyafter", POLICY_CREATE, "deploy", "db1", "noprod", 0);
	DENY("denyafter", POLICY_CREATE, "app", "web10", "noprod", 0);
}

static void
test_globs(void **state)
{
	/* "web*" */
	ALLOW("webops", POLICY_ATTACH, "deploy", "web1", "webops", 0);
	ALLOW("webops", POLICY_ATTACH, "deploy", "web2", "webops", 0);
	ALLOW("webops", POLICY_ATTACH, "deploy", "web10", "webops", 0);
	DEFAULT("webops", POLICY_ATTACH, "deploy", "db1");
	DEFAULT("webops", POLICY_ATTACH, "deploy", "bastion");
	/* "web?" */
	ALLOW("webops", POLICY_KILL, "app", "web1", "webops", 1);
	ALLOW("webops", POLICY_KILL, "app", "web2", "webops", 1);
	DEFAULT("webops", POLICY_KILL, "app", "web10");
	/* The rule's user list still applies. */
	DEFAULT("webops", POLICY_ATTACH, "app", "web1");
	DEFAULT("webops", POLICY_KILL, "deploy", "web1");
}

static void
test_star_hosts_and_users(void **state)
{
	const struct policy_host	*host;
	size_t				 h, u;

	for (h = 0; h < policy_host_count(P); h++) {
		host = policy_host_at(P, h);
		for (u = 0; u < policy_host_user_count(host); u++) {
			ALLOW("viewer", POLICY_LIST,
			    policy_host_user_at(host, u),
			    policy_host_name(host), "viewer", 0);
			ALLOW("viewer", POLICY_WATCH,
			    policy_host_user_at(host, u),
			    policy_host_name(host), "viewer", 0);
		}
	}
	/* "*" users means the host's tmux users, not any user at all. */
	NOUSER("viewer", POLICY_LIST, "app", "bastion");
	NOUSER("viewer", POLICY_LIST, "root", "web1");
	/* "*" hosts means the policy's hosts. */
	NOHOST("viewer", POLICY_LIST, "deploy", "web3");
}

static void
test_attach_implies_watch(void **state)
{
	ALLOW("attacher", POLICY_ATTACH, "deploy", "web1", "attacher", 0);
	ALLOW("attacher", POLICY_WATCH, "deploy", "web1", "attacher", 0);
	ALLOW("attacher", POLICY_WATCH, "app", "web1", "attacher", 0);
	DEFAULT("attacher", POLICY_WATCH, "deploy", "web2");
	DEFAULT("attacher", POLICY_LIST, "deploy", "web1");
	/* watch does not imply attach */
	DEFAULT("viewer", POLICY_ATTACH, "app", "web1");
}

static void
test_kill_implies_kill_own(void **state)
{
	ALLOW("webops", POLICY_KILL, "app", "web1", "webops", 1);
	ALLOW("webops", POLICY_KILL_OWN, "app", "web1", "webops", 1);
	/* kill-own does not imply kill */
	ALLOW("killown", POLICY_KILL_OWN, "deploy", "bastion", "killown", 0);
	DEFAULT("killown", POLICY_KILL, "deploy", "bastion");
}

static void
test_deny_watch_covers_attach(void **state)
{
	DENY("nowatch", POLICY_WATCH, "deploy", "web1", "nowatch", 1);
	DENY("nowatch", POLICY_ATTACH, "deploy", "web1", "nowatch", 1);
	/* deny attach leaves watch, which the allow attach grants */
	DENY("noattach", POLICY_ATTACH, "deploy", "web1", "noattach", 0);
	ALLOW("noattach", POLICY_WATCH, "deploy", "web1", "attacher", 0);
}

static void
test_deny_kill_covers_kill_own(void **state)
{
	DENY("nokill", POLICY_KILL, "app", "web1", "nokill", 0);
	DENY("nokill", POLICY_KILL_OWN, "app", "web1", "nokill", 0);
	/* ... and deny kill-own covers kill */
	DENY("nokillown", POLICY_KILL_OWN, "app", "web1", "nokillown", 0);
	DENY("nokillown", POLICY_KILL, "app", "web1", "nokillown", 0);
	/* Only for the rule's users: deploy may still kill-own. */
	ALLOW("nokillown", POLICY_KILL_OWN, "deploy", "web1", "killown", 0);
	DEFAULT("nokillown", POLICY_KILL, "deploy", "web1");
	/* Elsewhere too: the deny is for app, and db1 has no app user. */
	ALLOW("nokillown", POLICY_KILL_OWN, "postgres", "db1", "killown", 0);
}

static void
test_host_not_in_policy(void **state)
{
	size_t	i;

	for (i = 0; i < POLICY_NACTIONS; i++) {
		NOHOST("viewer", policy_action_at(i), "deploy", "nowhere");
		NOHOST("nothing", policy_action_at(i), "deploy", "nowhere");
	}
	NOHOST("viewer", POLICY_LIST, "deploy", "");
	NOHOST("viewer", POLICY_LIST, "deploy", "WEB1");
	/* A glob is a pattern in a rule, never a host in a request. */
	NOHOST("webops", POLICY_ATTACH, "deploy", "web*");
}

static void
test_user_not_tmux_user(void **state)
{
	/* Checked before any rule, allow or deny. */
	NOUSER("viewer", POLICY_LIST, "postgres", "web1");
	NOUSER("nokill", POLICY_KILL, "postgres", "web1");
	NOUSER("nothing", POLICY_LIST, "postgres", "web1");
	NOUSER("viewer", POLICY_LIST, "", "web1");
	NOUSER("viewer", POLICY_LIST, "Deploy", "web1");
	NOUSER("viewer", POLICY_LIST, "*", "web1");
}

static void
test_rule_index_reported(void **state)
{
	ALLOW("multi", POLICY_LIST, "deploy", "db1", "multi", 0);
	ALLOW("multi", POLICY_CREATE, "deploy", "bastion", "multi", 1);
	/* rule 1 is for deploy only: build is matched by rule 2 */
	ALLOW("multi", POLICY_CREATE, "build", "bastion", "multi", 2);
	ALLOW("multi", POLICY_LIST, "build", "bastion", "multi", 2);
	DENY("multi", POLICY_WATCH, "deploy", "db1", "multi", 0);
	DENY("multi", POLICY_LIST, "postgres", "db1", "multi", 1);
	/* With two roles, the first role (in identity order) that allows. */
	ALLOW("both", POLICY_LIST, "deploy", "bastion", "multi", 2);
	ALLOW("both", POLICY_WATCH, "deploy", "bastion", "viewer", 0);
}

static void
test_allowed_actions(void **state)
{
	const struct policy_identity	*id;

	id = ident("viewer");
	assert_int_equal(policy_allowed_actions(P, id, "web1", "deploy"),
	    POLICY_LIST | POLICY_WATCH);
	assert_int_equal(policy_allowed_actions(P, id, "nowhere", "deploy"), 0);
	assert_int_equal(policy_allowed_actions(P, id, "web1", "postgres"), 0);

	assert_int_equal(policy_allowed_actions(P, ident("attacher"), "web1",
	    "app"), POLICY_WATCH | POLICY_ATTACH);
	assert_int_equal(policy_allowed_actions(P, ident("noattach"), "web1",
	    "app"), POLICY_WATCH);
	assert_int_equal(policy_allowed_actions(P, ident("nowatch"), "web1",
	    "app"), 0);
	assert_int_equal(policy_allowed_actions(P, ident("webops"), "web1",
	    "app"), POLICY_KILL | POLICY_KILL_OWN);
	assert_int_equal(policy_allowed_actions(P, ident("webops"), "web1",
	    "deploy"), POLICY_ATTACH | POLICY_WATCH);
	assert_int_equal(policy_allowed_actions(P, ident("nokill"), "web1",
	    "app"), 0);
	assert_int_equal(policy_allowed_actions(P, ident("nokill"), "web1",
	    "deploy"), POLICY_ATTACH | POLICY_WATCH);
	assert_int_equal(policy_allowed_actions(P, ident("multi"), "bastion",
	    "build"), POLICY_LIST | POLICY_CREATE);
	assert_int_equal(policy_allowed_actions(P, ident("multi"), "db1",
	    "postgres"), 0);
	assert_int_equal(policy_allowed_actions(P, ident("both"), "db1",
	    "deploy"), POLICY_LIST);
	assert_int_equal(policy_allowed_actions(P, ident("denyafter"), "web1",
	    "deploy"), 0);
	assert_int_equal(policy_allowed_actions(P, ident("nothing"), "bastion",
	    "deploy"), 0);
}

static void
test_action_names(void **state)
{
	static const char *const names[POLICY_NACTIONS] = { "list", "watch",
	    "attach", "create", "kill", "kill-own", "terminate" };
	enum policy_action	a;
	size_t			i;
	unsigned		all = 0;

	for (i = 0; i < POLICY_NACTIONS; i++) {
		a = policy_action_at(i);
		assert_string_equal(policy_action_name(a), names[i]);
		assert_int_equal(policy_action_parse(names[i], &a), 0);
		assert_int_equal(a, policy_action_at(i));
		all |= a;
	}
	assert_int_equal(policy_action_at(0), POLICY_LIST);
	assert_int_equal(policy_action_at(5), POLICY_KILL_OWN);
	assert_int_equal(all, (1u << POLICY_NACTIONS) - 1);
	assert_string_equal(policy_action_name(0), "?");
	assert_string_equal(policy_action_name(POLICY_LIST | POLICY_WATCH),
	    "?");
	a = POLICY_LIST;
	assert_int_equal(policy_action_parse("Kill", &a), -1);
	assert_int_equal(policy_action_parse("kill_own", &a), -1);
	assert_int_equal(policy_action_parse("", &a), -1);
	assert_int_equal(policy_action_parse("killown", &a), -1);
	assert_int_equal(a, POLICY_LIST);
}

/* Grants: what they cover, and what they never override. */
static void
test_grants(void **state)
{
	const struct policy_grant g[] = {
		{ "g0", POLICY_ATTACH, "web1", "deploy", NULL },
		{ "g1", POLICY_ATTACH, "web1", "app", NULL },	/* no rule */
		{ "g2", POLICY_CREATE, "bastion", "build", "ci" },
	};
	const struct policy_identity	*c = ident("contractor");
	struct policy_verdict		 v;

	policy_decide_grants(P, c, POLICY_ATTACH, "web1", "deploy", "s", NULL,
	    0, &v);
	assert_false(v.allow);
	assert_int_equal(v.why, POLICY_WHY_DEFAULT);
	policy_decide_grants(P, c, POLICY_ATTACH, "web1", "deploy", "s", g, 3,
	    &v);
	assert_true(v.allow);
	assert_int_equal(v.why, POLICY_WHY_GRANT);
	assert_ptr_equal(v.grant, &g[0]);
	assert_string_equal(v.role, "contractor");
	assert_int_equal(v.index, 0);
	/* attach grants watch, as an allow rule does; not list or kill. */
	policy_decide_grants(P, c, POLICY_WATCH, "web1", "deploy", NULL, g, 3,
	    &v);
	assert_true(v.allow);
	policy_decide_grants(P, c, POLICY_LIST, "web1", "deploy", NULL, g, 3,
	    &v);
	assert_false(v.allow);
	policy_decide_grants(P, c, POLICY_KILL, "web1", "deploy", "s", g, 3,
	    &v);
	assert_false(v.allow);
	/* A grant whose request rule is not in the policy counts for nothing. */
	policy_decide_grants(P, c, POLICY_ATTACH, "web1", "app", "s", g, 3,
	    &v);
	assert_false(v.allow);
	assert_int_equal(v.why, POLICY_WHY_DEFAULT);
	/* Nor does another identity's rule make someone else's grant count. */
	policy_decide_grants(P, ident("nothing"), POLICY_ATTACH, "web1",
	    "deploy", "s", g, 3, &v);
	assert_false(v.allow);
	/* One session: that session only, never a request naming none. */
	policy_decide_grants(P, c, POLICY_CREATE, "bastion", "build", "ci", g,
	    3, &v);
	assert_true(v.allow);
	assert_ptr_equal(v.grant, &g[2]);
	assert_int_equal(v.index, 1);
	assert_int_equal(v.max_session_ttl, 30 * 60);
	policy_decide_grants(P, c, POLICY_CREATE, "bastion", "build", "cj", g,
	    3, &v);
	assert_false(v.allow);
	policy_decide_grants(P, c, POLICY_CREATE, "bastion", "build", NULL, g,
	    3, &v);
	assert_false(v.allow);
	/* Deny rules win over grants. */
	policy_decide_grants(P, ident("boxed"), POLICY_ATTACH, "web1",
	    "deploy", "s", g, 3, &v);
	assert_false(v.allow);
	assert_int_equal(v.why, POLICY_WHY_DENY_RULE);
	/* Hosts and users outside the policy stay outside. */
	policy_decide_grants(P, c, POLICY_ATTACH, "web9", "deploy", "s", g, 3,
	    &v);
	assert_int_equal(v.why, POLICY_WHY_NO_HOST);
	/* Without grants, policy_decide() is the same decision. */
	policy_decide(P, c, POLICY_ATTACH, "web1", "deploy", &v);
	assert_false(v.allow);
}

static void
test_request_rules(void **state)
{
	const struct policy_identity	*c = ident("contractor");
	struct policy_request		 r;
	struct policy_verdict		 v;

	assert_int_equal(policy_request_find(P, c, POLICY_ATTACH, "web1",
	    "deploy", &r), 0);
	assert_string_equal(r.role, "contractor");
	assert_int_equal(r.index, 0);
	assert_int_equal(r.max_duration, 4 * 3600);
	assert_true(r.reason_required);		/* the default */
	assert_false(r.self_service);
	assert_int_equal(r.napprovers, 1);
	assert_string_equal(r.approvers[0], "viewer");
	assert_true(policy_may_approve(ident("viewer"), &r));
	assert_true(policy_may_approve(ident("both"), &r));
	assert_false(policy_may_approve(ident("webops"), &r));
	assert_false(policy_may_approve(c, &r));
	/* watch is offered with attach */
	assert_int_equal(policy_request_find(P, c, POLICY_WATCH, "web1",
	    "deploy", &r), 0);
	assert_int_equal(policy_request_find(P, c, POLICY_KILL, "web1",
	    "deploy", &r), -1);
	assert_int_equal(policy_request_find(P, c, POLICY_ATTACH, "web1",
	    "app", &r), -1);
	assert_int_equal(policy_request_find(P, c, POLICY_ATTACH, "nohost",
	    "deploy", &r), -1);
	assert_int_equal(policy_request_find(P, ident("viewer"), POLICY_ATTACH,
	    "web1", "deploy", &r), -1);
	assert_int_equal(policy_request_find(P, c, POLICY_CREATE, "bastion",
	    "build", &r), 0);
	assert_true(r.self_service);
	assert_false(r.reason_required);
	assert_int_equal(r.max_session_ttl, 30 * 60);
	assert_false(policy_may_approve(ident("viewer"), &r));
	assert_true(policy_identity_may_request(c));
	assert_false(policy_identity_may_request(ident("viewer")));
	assert_true(policy_identity_approves(P, ident("viewer")));
	assert_false(policy_identity_approves(P, c));
	/* max_session_ttl of an allow rule comes with its verdict. */
	policy_decide(P, ident("ttl"), POLICY_CREATE, "bastion", "deploy", &v);
	assert_true(v.allow);
	assert_int_equal(v.max_session_ttl, 2 * 3600);
	policy_decide(P, ident("multi"), POLICY_CREATE, "bastion", "deploy",
	    &v);
	assert_true(v.allow);
	assert_int_equal(v.max_session_ttl, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_deny),
		cmocka_unit_test(test_deny_wins_across_roles),
		cmocka_unit_test(test_labels_all_must_match),
		cmocka_unit_test(test_globs),
		cmocka_unit_test(test_star_hosts_and_users),
		cmocka_unit_test(test_attach_implies_watch),
		cmocka_unit_test(test_kill_implies_kill_own),
		cmocka_unit_test(test_deny_watch_covers_attach),
		cmocka_unit_test(test_deny_kill_covers_kill_own),
		cmocka_unit_test(test_host_not_in_policy),
		cmocka_unit_test(test_user_not_tmux_user),
		cmocka_unit_test(test_rule_index_reported),
		cmocka_unit_test(test_allowed_actions),
		cmocka_unit_test(test_action_names),
		cmocka_unit_test(test_grants),
		cmocka_unit_test(test_request_rules),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
