/*
 * test_policy.c — the policy loader and its strict schema.
 *
 * A policy is written to a temporary file (policy_load does not check
 * permissions, so /tmp is fine), loaded, and the file removed at once.
 * Every schema error is checked for its exact "FILE:LINE:COLUMN: " prefix,
 * its message, and that no policy came back.
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

/* ed25519 / ecdsa / rsa public keys made once with ssh-keygen. */
#define KEY_ED "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFOvKhZR3zQS+irBnskz5oRn6gZSUk261xOMxQe3sizO"
#define FP_ED "SHA256:5I6mWTM+C9/rbqKDwonFPqSnHhAJV81nElYKhq20Olw"
#define KEY_ECDSA "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBLPInQtxtOYuClRhjUohaG22Yb0bb6jSaHARCRNUgg+iL24zr9s2DrCRfW1L0Tp+R+bKfU/1nUjpM2EaJ/vI/5E="
#define FP_RSA "SHA256:57x4prS22g4rZ1NI8zdwR9Cfd3D1qZjPUIMmCpV0Gls"
#define KEY_ED2 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOD4kGRMDi7zovH1SETglPS" \
	"ZJ65+9+Y2Yz/6hSMBX0rt"
#define FP_ED2 "SHA256:EQfvUFBDW63txndxQc0MqL3luin1AfI53xYGg3X13iU"
/* The ed25519 key's data under the wrong type. */
#define KEY_ED_AS_RSA "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIFOvKhZR3zQS+irBnskz5oRn6gZSUk261xOMxQe3sizO"

/*
 * Three valid sections of four lines each.  Tests put the fixed sections
 * first and the section under test last, so its lines are numbered from
 * 9 (two sections before it) or 13 (all three before it).
 */
#define HOSTS_OK \
	"hosts:\n" \
	"  h1:\n" \
	"    local: true\n" \
	"    tmux_users: [deploy]\n"
#define ROLES_OK \
	"roles:\n" \
	"  r:\n" \
	"    allow:\n" \
	"      - {hosts: \"*\", tmux_users: \"*\", actions: [list]}\n"
#define IDENTS_OK \
	"identities:\n" \
	"  alice:\n" \
	"    keys: [\"" FP_ED "\"]\n" \
	"    roles: [r]\n"
#define BASE HOSTS_OK ROLES_OK IDENTS_OK

struct loaded {
	char			 path[64];
	struct policy		*p;
	struct policy_errors	 errs;
};

static void
load_text(struct loaded *l, const char *text)
{
	size_t	len = strlen(text);
	int	fd;

	snprintf(l->path, sizeof(l->path), "/tmp/mgt-unit-policy-XXXXXX.yaml");
	fd = mkstemps(l->path, 5);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
	memset(&l->errs, 0, sizeof(l->errs));
	l->p = policy_load(l->path, &l->errs);
	unlink(l->path);
}

static void
loaded_free(struct loaded *l)
{
	policy_free(l->p);
	policy_errors_free(&l->errs);
}

/*
 * TEXT must fail to load with an error "PATH:LINE:COL: ..." containing
 * SUB; with ONLY, that must be the one error reported.
 */
static void
expect_error(const char *text, unsigned line, unsigned col, const char *sub,
    bool only, const char *file, int srcline)
{
	struct loaded	 l;
	char		 prefix[128];
	size_t		 i, plen;
	bool		 found = false, ok;

	load_text(&l, text);
	plen = (size_t)snprintf(prefix, sizeof(prefix), "%s:%u:%u: ", l.path,
	    line, col);
	for (i = 0; i < l.errs.n; i++)
		if (strncmp(l.errs.msgs[i], prefix, plen) == 0 &&
		    strstr(l.errs.msgs[i] + plen, sub) != NULL)
			found = true;
	ok = l.p == NULL && found && (!only || l.errs.n == 1);
	if (!ok) {
		print_error("expected %s...%s...%s\n", prefix, sub,
		    only ? " as the only error" : "");
		print_error("got a %s policy and %zu error(s):\n",
		    l.p != NULL ? "non-NULL" : "NULL", l.errs.n);
		for (i = 0; i < l.errs.n; i++)
			print_error("  %s\n", l.errs.msgs[i]);
	}
	loaded_free(&l);
	if (!ok)
		_fail(file, srcline);
}

/* The only error of TEXT is at LINE:COL and contains SUB. */
#define ERR1(text, line, col, sub) \
	expect_error(text, line, col, sub, true, __FILE__, __LINE__)
/* One of TEXT's errors is at LINE:COL and contains SUB. */
#define ERRN(text, line, col, sub) \
	expect_error(text, line, col, sub, false, __FILE__, __LINE__)

/*
 * TEXT must fail to load with exactly the errors WANT, in that order, each
 * "LINE:COLUMN: message" after the file's name.
 */
static void
expect_errors(const char *text, const char *const *want, size_t nwant,
    const char *file, int srcline)
{
	struct loaded	 l;
	char		 full[1024];
	size_t		 i;
	bool		 ok;

	load_text(&l, text);
	ok = l.p == NULL && l.errs.n == nwant;
	for (i = 0; ok && i < nwant; i++) {
		snprintf(full, sizeof(full), "%s:%s", l.path, want[i]);
		ok = strcmp(l.errs.msgs[i], full) == 0;
	}
	if (!ok) {
		print_error("expected %zu error(s):\n", nwant);
		for (i = 0; i < nwant; i++)
			print_error("  %s\n", want[i]);
		print_error("got a %s policy and %zu error(s):\n",
		    l.p != NULL ? "non-NULL" : "NULL", l.errs.n);
		for (i = 0; i < l.errs.n; i++)
			print_error("  %s\n", l.errs.msgs[i]);
	}
	loaded_free(&l);
	if (!ok)
		_fail(file, srcline);
}
#define ERRS(text, ...) do {						\
	const char *const want_[] = { __VA_ARGS__ };			\
	expect_errors(text, want_, sizeof(want_) / sizeof(want_[0]),	\
	    __FILE__, __LINE__);					\
} while (0)

/* Text built piece by piece (caller frees). */
static char *
text_printf(char *old, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static char *
text_printf(char *old, const char *fmt, ...)
{
	va_list	 ap;
	char	*add, *r;

	va_start(ap, fmt);
	assert_true(vasprintf(&add, fmt, ap) != -1);
	va_end(ap);
	assert_true(asprintf(&r, "%s%s", old != NULL ? old : "", add) != -1);
	free(add);
	free(old);
	return r;
}

static void
expect_ok(const char *text, const char *file, int srcline)
{
	struct loaded	l;
	size_t		i;
	bool		ok;

	load_text(&l, text);
	ok = l.p != NULL && l.errs.n == 0;
	if (!ok)
		for (i = 0; i < l.errs.n; i++)
			print_error("  %s\n", l.errs.msgs[i]);
	loaded_free(&l);
	if (!ok)
		_fail(file, srcline);
}
#define OK(text) expect_ok(text, __FILE__, __LINE__)

/* ------------------------------------------------------------------ */

static const char full_policy[] =
	"# a full policy\n"
	"gateway:\n"
	"  recordings: /srv/muxgate/rec\n"
	"  state: /run/mg\n"
	"  audit: syslog\n"
	"  audit_required: true\n"
	"  allow_clipboard: true\n"
	"  limits:\n"
	"    attaches_per_identity: 3\n"
	"    attaches_total: 12\n"
	"    attach_lifetime: 2h\n"
	"    idle_timeout: 15m\n"
	"  escape_key: \"^A\"\n"
	"hosts:\n"
	"  bastion:\n"
	"    local: true\n"
	"    tmux_users: [deploy, build]\n"
	"    labels: {env: prod, tier: bastion}\n"
	"  web1:\n"
	"    address: web1.example.com\n"
	"    port: 2222\n"
	"    ssh_user: muxgate\n"
	"    tmux_users:\n"
	"      - deploy\n"
	"    labels:\n"
	"      env: prod\n"
	"  web2:\n"
	"    local: false\n"
	"    address: 192.0.2.10\n"
	"    ssh_user: mg\n"
	"    jump: web1\n"
	"    tmux_users: [app]\n"
	"roles:\n"
	"  oncall:\n"
	"    allow:\n"
	"      - hosts: \"*\"\n"
	"        tmux_users: \"*\"\n"
	"        actions: [list, watch]\n"
	"    deny:\n"
	"      - hosts: [web2]\n"
	"        tmux_users: [app]\n"
	"        actions: [kill]\n"
	"  dev:\n"
	"    allow:\n"
	"      - hosts: {env: prod}\n"
	"        tmux_users: [deploy]\n"
	"        actions: [attach, create, kill-own]\n"
	"      - hosts: [\"web*\"]\n"
	"        tmux_users: [app]\n"
	"        actions: [list]\n"
	"  empty: {}\n"
	"identities:\n"
	"  alice:\n"
	"    keys:\n"
	"      - " KEY_ED " alice@laptop\n"
	"      - \"" FP_RSA "\"\n"
	"    roles: [oncall, dev]\n"
	"    from: [10.0.0.0/8, \"2001:db8::/32\", 192.0.2.1]\n"
	"    expires: 2030-01-31\n"
	"    disabled: false\n"
	"  bob:\n"
	"    keys: [\"" KEY_ECDSA "\"]\n"
	"    roles: [dev]\n"
	"    disabled: true\n"
	"    expires: 2030-06-15T12:00:00Z\n";

static void
test_full_policy(void **state)
{
	struct loaded			 l;
	const struct policy_gateway	*gw;
	const struct policy_host	*h;
	const struct policy_identity	*id;

	load_text(&l, full_policy);
	assert_int_equal(l.errs.n, 0);
	assert_non_null(l.p);

	gw = policy_gateway(l.p);
	assert_string_equal(gw->recordings, "/srv/muxgate/rec");
	assert_string_equal(gw->state, "/run/mg");
	assert_int_equal(gw->audit, POLICY_AUDIT_SYSLOG);
	assert_true(gw->audit_required);
	assert_true(gw->allow_clipboard);
	assert_int_equal(gw->attaches_per_identity, 3);
	assert_int_equal(gw->attaches_total, 12);
	assert_int_equal(gw->attach_lifetime, 7200);
	assert_int_equal(gw->idle_timeout, 900);
	assert_int_equal(gw->escape_key, 0x01);

	/* Hosts, in file order. */
	assert_int_equal(policy_host_count(l.p), 3);
	assert_string_equal(policy_host_name(policy_host_at(l.p, 0)), "bastion");
	assert_string_equal(policy_host_name(policy_host_at(l.p, 1)), "web1");
	assert_string_equal(policy_host_name(policy_host_at(l.p, 2)), "web2");
	assert_null(policy_host_at(l.p, 3));
	assert_null(policy_host_find(l.p, "web3"));
	assert_null(policy_host_find(l.p, "web"));

	h = policy_host_find(l.p, "bastion");
	assert_ptr_equal(h, policy_host_at(l.p, 0));
	assert_true(policy_host_local(h));
	assert_null(policy_host_address(h));
	assert_null(policy_host_ssh_user(h));
	assert_int_equal(policy_host_port(h), 22);
	assert_int_equal(policy_host_user_count(h), 2);
	assert_string_equal(policy_host_user_at(h, 0), "deploy");
	assert_string_equal(policy_host_user_at(h, 1), "build");
	assert_null(policy_host_user_at(h, 2));
	assert_true(policy_host_has_user(h, "build"));
	assert_false(policy_host_has_user(h, "app"));
	assert_false(policy_host_has_user(h, "deplo"));
	assert_string_equal(policy_host_label(h, "env"), "prod");
	assert_string_equal(policy_host_label(h, "tier"), "bastion");
	assert_null(policy_host_label(h, "zone"));

	h = policy_host_find(l.p, "web1");
	assert_false(policy_host_local(h));
	assert_string_equal(policy_host_address(h), "web1.example.com");
	assert_int_equal(policy_host_port(h), 2222);
	assert_string_equal(policy_host_ssh_user(h), "muxgate");
	assert_int_equal(policy_host_user_count(h), 1);
	assert_string_equal(policy_host_user_at(h, 0), "deploy");
	assert_string_equal(policy_host_label(h, "env"), "prod");

	h = policy_host_find(l.p, "web2");
	assert_false(policy_host_local(h));
	assert_string_equal(policy_host_address(h), "192.0.2.10");
	assert_int_equal(policy_host_port(h), 22);	/* default */
	assert_string_equal(policy_host_ssh_user(h), "mg");
	assert_null(policy_host_label(h, "env"));

	/* Identities. */
	assert_int_equal(policy_identity_count(l.p), 2);
	assert_null(policy_identity_at(l.p, 2));
	assert_null(policy_identity_find(l.p, "carol"));
	id = policy_identity_find(l.p, "alice");
	assert_ptr_equal(id, policy_identity_at(l.p, 0));
	assert_string_equal(policy_identity_name(id), "alice");
	assert_int_equal(policy_identity_role_count(id), 2);
	assert_string_equal(policy_identity_role_at(id, 0), "oncall");
	assert_string_equal(policy_identity_role_at(id, 1), "dev");
	assert_null(policy_identity_role_at(id, 2));
	assert_false(policy_identity_disabled(id));
	/* 2030-01-31 = through the end of that day: 2030-02-01T00:00:00Z. */
	assert_int_equal(policy_identity_expires(id), 1896134400);

	id = policy_identity_find(l.p, "bob");
	assert_string_equal(policy_identity_name(id), "bob");
	assert_int_equal(policy_identity_role_count(id), 1);
	assert_string_equal(policy_identity_role_at(id, 0), "dev");
	assert_true(policy_identity_disabled(id));
	assert_int_equal(policy_identity_expires(id), 1907755200);

	loaded_free(&l);
}

static void
test_defaults(void **state)
{
	struct loaded			 l;
	const struct policy_gateway	*gw;
	const struct policy_identity	*id;

	load_text(&l, BASE);
	assert_int_equal(l.errs.n, 0);
	assert_non_null(l.p);
	gw = policy_gateway(l.p);
	assert_string_equal(gw->account, "gateway");
	assert_string_equal(gw->recordings, "/var/lib/muxgate/recordings");
	assert_string_equal(gw->state, "/run/muxgate");
	assert_int_equal(gw->audit, POLICY_AUDIT_AUDITD);
	assert_false(gw->audit_required);
	assert_false(gw->allow_clipboard);
	assert_int_equal(gw->attaches_per_identity, 5);
	assert_int_equal(gw->attaches_total, 30);
	assert_int_equal(gw->attach_lifetime, 6 * 3600);
	assert_int_equal(gw->idle_timeout, 0);
	assert_int_equal(gw->escape_key, 0x1d);
	assert_int_equal(gw->serve_startups_begin, 10);
	assert_int_equal(gw->serve_startups_rate, 30);
	assert_int_equal(gw->serve_startups_full, 100);
	assert_int_equal(gw->serve_per_source_startups, 5);
	assert_int_equal(gw->serve_banner_timeout, 5);
	id = policy_identity_find(l.p, "alice");
	assert_non_null(id);
	assert_false(policy_identity_disabled(id));
	assert_int_equal(policy_identity_expires(id), 0);
	loaded_free(&l);

	/* A partial gateway: section leaves the rest at the defaults. */
	load_text(&l, BASE
	    "gateway:\n"
	    "  audit: none\n"
	    "  limits:\n"
	    "    idle_timeout: 30s\n"
	    "    attach_lifetime: \"0\"\n");
	assert_int_equal(l.errs.n, 0);
	assert_non_null(l.p);
	gw = policy_gateway(l.p);
	assert_int_equal(gw->audit, POLICY_AUDIT_NONE);
	assert_int_equal(gw->idle_timeout, 30);
	assert_int_equal(gw->attach_lifetime, 0);
	assert_int_equal(gw->attaches_per_identity, 5);
	assert_int_equal(gw->attaches_total, 30);
	assert_string_equal(gw->recordings, "/var/lib/muxgate/recordings");
	assert_int_equal(gw->escape_key, 0x1d);
	loaded_free(&l);
}

static void
test_escape_keys(void **state)
{
	static const struct {
		const char	*yaml;
		unsigned char	 key;
	} t[] = {
		{ "\"^]\"", 0x1d }, { "\"^A\"", 0x01 }, { "\"^a\"", 0x01 },
		{ "\"^z\"", 0x1a }, { "\"^?\"", 0x7f }, { "\"^@\"", 0x00 },
		{ "\"^_\"", 0x1f }, { "^B", 0x02 },
	};
	struct loaded	l;
	char		text[512];
	size_t		i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(text, sizeof(text), BASE "gateway:\n  escape_key: %s\n",
		    t[i].yaml);
		load_text(&l, text);
		assert_int_equal(l.errs.n, 0);
		assert_non_null(l.p);
		assert_int_equal(policy_gateway(l.p)->escape_key, t[i].key);
		loaded_free(&l);
	}
}

/* Explicit document markers are fine as long as there is one document. */
static void
test_document_markers(void **state)
{
	OK("---\n" BASE "...\n");
	OK("%YAML 1.1\n---\n" BASE);
	OK("# only comments before\n\n" BASE "# and after\n");
}

/* ---- files and YAML ---- */

static void
test_missing_file(void **state)
{
	struct policy_errors	errs = { NULL, 0, 0 };
	struct policy		*p;

	p = policy_load("/nonexistent/muxgate-unit/policy.yaml", &errs);
	assert_null(p);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.msgs[0], "/nonexistent/muxgate-unit/policy.yaml:"
	    "0:0: cannot open: No such file or directory");
	policy_errors_free(&errs);
	assert_null(errs.msgs);
	assert_int_equal(errs.n, 0);

	p = policy_load("/tmp", &errs);
	assert_null(p);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.msgs[0], "/tmp:0:0: not a regular file");
	policy_errors_free(&errs);
}

/* The whole file is read into memory, so its size is bounded: 4 MiB. */
#define MAX_POLICY (4 * 1024 * 1024)

static void
write_padded(char *path, size_t total)
{
	char	pad[4096];
	size_t	left = total - strlen(BASE), n;
	int	fd;

	memset(pad, '#', sizeof(pad));
	fd = mkstemps(path, 5);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, BASE, strlen(BASE)), (ssize_t)strlen(BASE));
	while (left > 0) {
		n = left < sizeof(pad) ? left : sizeof(pad);
		assert_int_equal(write(fd, pad, n), (ssize_t)n);
		left -= n;
	}
	assert_int_equal(close(fd), 0);
}

static void
test_size_limit(void **state)
{
	char			 path[] = "/tmp/mgt-unit-policy-XXXXXX.yaml";
	char			 big[] = "/tmp/mgt-unit-policy-XXXXXX.yaml";
	char			 want[128];
	struct policy_errors	 errs = { NULL, 0, 0 };
	struct policy		*p;

	/* One comment line up to the limit exactly: loads. */
	write_padded(path, MAX_POLICY);
	p = policy_load(path, &errs);
	unlink(path);
	assert_non_null(p);
	assert_int_equal(errs.n, 0);
	policy_free(p);
	write_padded(big, MAX_POLICY + 1);
	p = policy_load(big, &errs);
	unlink(big);
	assert_null(p);
	assert_int_equal(errs.n, 1);
	snprintf(want, sizeof(want), "%s:0:0: larger than %d bytes", big,
	    MAX_POLICY);
	assert_string_equal(errs.msgs[0], want);
	policy_errors_free(&errs);
}

static void
test_yaml_syntax(void **state)
{
	/* An unclosed flow sequence: found at the start of the next line. */
	ERR1(BASE "gateway: [a, b\n", 14, 1,
	    "YAML syntax error: did not find expected ',' or ']' while "
	    "parsing a flow sequence");
	/* A tab cannot indent. */
	ERR1("hosts:\n\th1: {}\n", 2, 1,
	    "YAML syntax error: found character that cannot start any token");
	ERR1(BASE "gateway: *nope\n", 13, 10,
	    "YAML syntax error: found undefined alias");
	/* Bad indentation inside a block mapping. */
	ERR1("hosts:\n  h1:\n    local: true\n   tmux_users: [a]\n", 4, 4,
	    "YAML syntax error: did not find expected key");
}

/*
 * Anchors and aliases as libyaml's own loader took them: an alias is the
 * node of its anchor; an anchor defined twice, or an alias before or
 * without its anchor, is an error, in a second document too.
 */
static void
test_yaml_anchors(void **state)
{
	struct loaded	l;

	load_text(&l, HOSTS_OK
	    "roles:\n"
	    "  r: &rule\n"
	    "    allow:\n"
	    "      - {hosts: \"*\", tmux_users: &all \"*\", actions: [list]}\n"
	    "  s:\n"
	    "    deny: [{hosts: [h1], tmux_users: *all, actions: [kill]}]\n"
	    "  t: *rule\n"
	    "identities:\n"
	    "  alice:\n"
	    "    keys: [\"" FP_ED "\"]\n"
	    "    roles: [t, s]\n");
	assert_int_equal(l.errs.n, 0);
	assert_non_null(l.p);
	assert_int_equal(policy_allowed_actions(l.p, policy_identity_find(l.p,
	    "alice"), "h1", "deploy"), POLICY_LIST);
	loaded_free(&l);

	ERR1(BASE "gateway: {a: &x 1, b: &x 2}\n", 13, 23, "YAML syntax "
	    "error: second occurrence found duplicate anchor; first "
	    "occurrence");
	ERR1(BASE "gateway: {a: *x, b: &x 2}\n", 13, 14,
	    "YAML syntax error: found undefined alias");
	/* In a second document: the problem only, as before. */
	ERR1(BASE "---\na: &x 1\nb: &x 2\n", 15, 4,
	    "YAML syntax error: second occurrence");
	ERR1(BASE "---\na: *x\n", 14, 4,
	    "YAML syntax error: found undefined alias");
	/* Each document has its own anchors. */
	ERR1("gateway: &x {}\n" HOSTS_OK ROLES_OK IDENTS_OK "---\na: *x\n",
	    15, 4, "YAML syntax error: found undefined alias");
}

static void
test_empty_policy(void **state)
{
	ERR1("", 1, 1, "empty policy");
	ERR1("# nothing here\n\n", 1, 1, "empty policy");
}

static void
test_multiple_documents(void **state)
{
	ERR1(BASE "---\nhosts: {}\n", 13, 1,
	    "more than one YAML document in the policy");
	ERR1("---\n" BASE "---\n" BASE, 14, 1,
	    "more than one YAML document in the policy");
	/* A second document that is only a marker is a document too. */
	ERR1(BASE "...\n---\n", 14, 1,
	    "more than one YAML document in the policy");
	/* A syntax error in the second document. */
	ERR1(BASE "---\nhosts: [\n", 15, 1, "YAML syntax error:");
}

/* ---- top level ---- */

static void
test_top_level(void **state)
{
	ERR1("- hosts\n- roles\n", 1, 1,
	    "policy: expected a mapping, found a list");
	ERR1("just a string\n", 1, 1,
	    "policy: expected a mapping, found a scalar");
	ERR1(BASE "users: [alice]\n", 13, 1, "policy: unknown key 'users'");
	ERR1(BASE "Hosts: {}\n", 13, 1, "policy: unknown key 'Hosts'");
	ERR1(BASE "? [a, b]\n: 1\n", 13, 3, "policy: keys must be strings");
	ERR1(BASE "hosts:\n  h2:\n    local: true\n    tmux_users: [x]\n",
	    13, 1, "policy: duplicate key 'hosts'");
	ERR1(BASE "identities: {}\n", 13, 1,
	    "policy: duplicate key 'identities'");
	ERR1(ROLES_OK IDENTS_OK, 1, 1,
	    "policy: missing required key 'hosts'");
	ERR1(HOSTS_OK ROLES_OK, 1, 1,
	    "policy: missing required key 'identities'");
	/* Without roles the identity's role is undefined as well. */
	ERRN(HOSTS_OK IDENTS_OK, 1, 1, "policy: missing required key 'roles'");
	ERRN(HOSTS_OK IDENTS_OK, 8, 12, "roles: undefined role 'r'");
	/* Each section has the wrong type. */
	ERR1("hosts: [h1]\n" ROLES_OK IDENTS_OK, 1, 8,
	    "hosts: expected a mapping, found a list");
	ERRN(HOSTS_OK IDENTS_OK "roles: r\n", 9, 8,
	    "roles: expected a mapping, found a scalar");
	ERR1(HOSTS_OK ROLES_OK "identities: [alice]\n", 9, 13,
	    "identities: expected a mapping, found a list");
	ERR1(HOSTS_OK ROLES_OK "identities:\n", 9, 12,
	    "identities: expected a mapping, found a scalar");
}

/* Every error of a file is reported, in file order within a section. */
static void
test_all_errors_reported(void **state)
{
	struct loaded	l;
	char		want[256];

	load_text(&l,
	    "gateway:\n"
	    "  audit: loud\n"
	    "  colour: red\n"
	    HOSTS_OK ROLES_OK
	    "identities:\n"
	    "  alice:\n"
	    "    keys: [\"" FP_ED "\"]\n"
	    "    roles: [r, nope]\n");
	assert_null(l.p);
	assert_int_equal(l.errs.n, 3);
	snprintf(want, sizeof(want), "%s:2:10: gateway.audit: expected "
	    "auditd, syslog or none, found 'loud'", l.path);
	assert_string_equal(l.errs.msgs[0], want);
	snprintf(want, sizeof(want), "%s:3:3: gateway: unknown key 'colour'",
	    l.path);
	assert_string_equal(l.errs.msgs[1], want);
	snprintf(want, sizeof(want), "%s:15:12: roles: undefined role 'nope'",
	    l.path);
	assert_string_equal(l.errs.msgs[2], want);
	loaded_free(&l);
}

/* Errors found with no list to put them in still refuse the policy. */
static void
test_no_error_list(void **state)
{
	char	path[] = "/tmp/mgt-unit-policy-XXXXXX.yaml";
	const char text[] = BASE "gateway:\n  audit: loud\n";
	struct policy	*p;
	int	fd;

	fd = mkstemps(path, 5);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(close(fd), 0);
	p = policy_load(path, NULL);
	unlink(path);
	assert_null(p);
	policy_free(p);
	assert_null(policy_load("/nonexistent/muxgate-unit/x.yaml", NULL));
}

/* An error list that already holds messages: a valid file still loads. */
static void
test_reused_error_list(void **state)
{
	struct loaded	 l;
	struct policy	*p;

	load_text(&l, "hosts: [\n");
	assert_null(l.p);
	assert_int_equal(l.errs.n, 1);
	snprintf(l.path, sizeof(l.path), "/tmp/mgt-unit-policy-XXXXXX.yaml");
	{
		int fd = mkstemps(l.path, 5);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, BASE, strlen(BASE)),
		    (ssize_t)strlen(BASE));
		assert_int_equal(close(fd), 0);
	}
	p = policy_load(l.path, &l.errs);
	unlink(l.path);
	assert_non_null(p);
	assert_int_equal(l.errs.n, 1);
	policy_free(p);
	loaded_free(&l);
}

/* ---- gateway: (lines 1-12 are BASE, "gateway:" is line 13) ---- */

static void
test_gateway_keys(void **state)
{
	ERR1(BASE "gateway: [audit]\n", 13, 10,
	    "gateway: expected a mapping, found a list");
	ERR1(BASE "gateway:\n  colour: red\n", 14, 3,
	    "gateway: unknown key 'colour'");
	ERR1(BASE "gateway:\n  audit: none\n  audit: syslog\n", 15, 3,
	    "gateway: duplicate key 'audit'");
	ERR1(BASE "gateway:\n  limits: 5\n", 14, 11,
	    "gateway.limits: expected a mapping, found a scalar");
	ERR1(BASE "gateway:\n  limits:\n    attaches: 3\n", 15, 5,
	    "gateway.limits: unknown key 'attaches'");
	ERR1(BASE "gateway:\n  limits:\n    idle_timeout: 5m\n"
	    "    idle_timeout: 6m\n", 16, 5,
	    "gateway.limits: duplicate key 'idle_timeout'");
}

static void
test_gateway_values(void **state)
{
	ERR1(BASE "gateway:\n  audit: loud\n", 14, 10,
	    "gateway.audit: expected auditd, syslog or none, found 'loud'");
	ERR1(BASE "gateway:\n  audit: [syslog]\n", 14, 10,
	    "gateway.audit: expected a string, found a list");
	ERR1(BASE "gateway:\n  audit_required: \"true\"\n", 14, 19,
	    "gateway.audit_required: expected true or false, found a quoted "
	    "string");
	ERR1(BASE "gateway:\n  audit_required: 'false'\n", 14, 19,
	    "gateway.audit_required: expected true or false, found a quoted "
	    "string");
	ERR1(BASE "gateway:\n  audit_required: yes\n", 14, 19,
	    "gateway.audit_required: expected true or false, found 'yes'");
	ERR1(BASE "gateway:\n  audit_required: [true]\n", 14, 19,
	    "gateway.audit_required: expected true or false, found a list");
	ERR1(BASE "gateway:\n  allow_clipboard: yes\n", 14, 20,
	    "gateway.allow_clipboard: expected true or false, found 'yes'");
	ERR1(BASE "gateway:\n  allow_clipboard: \"true\"\n", 14, 20,
	    "gateway.allow_clipboard: expected true or false, found a quoted "
	    "string");
	ERR1(BASE "gateway:\n  recordings: var/rec\n", 14, 15,
	    "gateway.recordings: expected an absolute path, found 'var/rec'");
	ERR1(BASE "gateway:\n  state: /run/../etc\n", 14, 10,
	    "gateway.state: expected an absolute path, found '/run/../etc'");
	ERR1(BASE "gateway:\n  state: {a: b}\n", 14, 10,
	    "gateway.state: expected a string, found a mapping");
}

/* gateway.account: a user name, "gateway" when not given. */
static void
test_gateway_account(void **state)
{
	static const char *const bad[] = { "-gw", ".gw", "gate way", "gw:x",
	    "gw/x", "", "abcdefghijklmnopqrstuvwxyz0123456", "gat\u00e9",
	};
	struct loaded	l;
	char		text[1024], want[256];
	size_t		i;

	load_text(&l, BASE);
	assert_non_null(l.p);
	assert_string_equal(policy_gateway(l.p)->account, "gateway");
	loaded_free(&l);
	load_text(&l, BASE "gateway:\n  account: mux_gw-1.a\n");
	assert_int_equal(l.errs.n, 0);
	assert_non_null(l.p);
	assert_string_equal(policy_gateway(l.p)->account, "mux_gw-1.a");
	loaded_free(&l);
	/* 32 characters is the longest user name. */
	OK(BASE "gateway:\n  account: abcdefghijklmnopqrstuvwxyz012345\n");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), BASE "gateway:\n"
		    "  account: \"%s\"\n", bad[i]);
		snprintf(want, sizeof(want), "gateway.account: bad user name "
		    "'%s'", bad[i]);
		ERR1(text, 14, 12, want);
	}
	ERR1(BASE "gateway:\n  account: [gateway]\n", 14, 12,
	    "gateway.account: expected a string, found a list");
	ERR1(BASE "gateway:\n  account: gw\n  account: gw\n", 15, 3,
	    "gateway: duplicate key 'account'");
}

static void
test_gateway_numbers(void **state)
{
#define LIM BASE "gateway:\n  limits:\n"
	ERR1(LIM "    attaches_total: many\n", 15, 21,
	    "gateway.limits.attaches_total: expected a number from 1 to "
	    "100000, found 'many'");
	ERR1(LIM "    attaches_total: \"12\"\n", 15, 21,
	    "gateway.limits.attaches_total: expected a number, found a "
	    "quoted string");
	ERR1(LIM "    attaches_total: 100001\n", 15, 21,
	    "gateway.limits.attaches_total: expected a number from 1 to "
	    "100000, found '100001'");
	ERR1(LIM "    attaches_total: 99999999999999999999999\n", 15, 21,
	    "found '99999999999999999999999'");
	ERR1(LIM "    attaches_per_identity: 0\n", 15, 28,
	    "gateway.limits.attaches_per_identity: expected a number from 1 "
	    "to 10000, found '0'");
	ERR1(LIM "    attaches_per_identity: -1\n", 15, 28,
	    "found '-1'");
	ERR1(LIM "    attaches_per_identity: 2.5\n", 15, 28,
	    "found '2.5'");
	ERR1(LIM "    attaches_per_identity: 0x10\n", 15, 28,
	    "found '0x10'");
	ERR1(LIM "    attaches_per_identity: []\n", 15, 28,
	    "gateway.limits.attaches_per_identity: expected a number, found "
	    "a list");
	OK(LIM "    attaches_per_identity: 10000\n    attaches_total: 1\n");
	ERR1(LIM "    recording_min_free: 100%\n", 15, 25,
	    "gateway.limits.recording_min_free: expected a percentage from 0% "
	    "to 99%, found '100%'");
	ERR1(LIM "    recording_min_free: 5\n", 15, 25, "found '5'");
	ERR1(LIM "    recording_min_free: 0005%\n", 15, 25, "found '0005%'");
	ERR1(LIM "    recording_min_free: +5%\n", 15, 25, "found '+5%'");
	ERR1(LIM "    recording_min_free: -1%\n", 15, 25, "found '-1%'");
	ERR1(LIM "    recording_min_free: 5%%\n", 15, 25, "found '5%%'");
	ERR1(LIM "    recording_min_free: \"%\"\n", 15, 25, "found '%'");
	OK(LIM "    recording_min_free: 099%\n");
	OK(LIM "    recording_min_free: 0%\n");
#undef LIM
}

/* gateway.recording: mask_input and secret_prompts. */
static void
test_gateway_recording(void **state)
{
#define REC BASE "gateway:\n  recording:\n"
	struct loaded			 l;
	const struct policy_gateway	*gw;

	load_text(&l, BASE);
	assert_non_null(l.p);
	gw = policy_gateway(l.p);
	assert_int_equal(gw->mask_input, POLICY_MASK_PROMPTS);
	assert_int_equal(gw->nsecret_prompts, 4);
	assert_ptr_equal(gw->secret_prompts, policy_default_secret_prompts);
	/* A newline in the brackets, not a backslash and an n. */
	assert_string_equal(gw->secret_prompts[0],
	    "[Pp]assword[^:\n]{0,40}: ?$");
	assert_string_equal(gw->secret_prompts[1],
	    "[Pp]assphrase[^:\n]{0,40}: ?$");
	assert_string_equal(gw->secret_prompts[2], "PIN: ?$");
	assert_string_equal(gw->secret_prompts[3], "Verification code: ?$");
	loaded_free(&l);

	load_text(&l, REC "    mask_input: all\n"
	    "    secret_prompts:\n"
	    "      - \"^Token> $\"\n"
	    "      - '[Pp]assword[^:]*: ?$'\n"
	    "      - \"(a{40}){40}\"\n"
	    "      - '[\\1]x'\n");
	assert_int_equal(l.errs.n, 0);
	gw = policy_gateway(l.p);
	assert_int_equal(gw->mask_input, POLICY_MASK_ALL);
	assert_int_equal(gw->nsecret_prompts, 4);
	assert_string_equal(gw->secret_prompts[0], "^Token> $");
	assert_string_equal(gw->secret_prompts[1], "[Pp]assword[^:]*: ?$");
	assert_string_equal(gw->secret_prompts[3], "[\\1]x");
	loaded_free(&l);

	load_text(&l, REC "    mask_input: none\n    secret_prompts: []\n");
	assert_int_equal(l.errs.n, 0);
	gw = policy_gateway(l.p);
	assert_int_equal(gw->mask_input, POLICY_MASK_NONE);
	assert_int_equal(gw->nsecret_prompts, 0);
	loaded_free(&l);
	OK(REC "    mask_input: prompts\n");
	OK(BASE "gateway:\n  recording: {}\n");

	ERR1(REC "    mask_input: some\n", 15, 17,
	    "gateway.recording.mask_input: expected prompts, all or none, "
	    "found 'some'");
	ERR1(REC "    mask_input: [all]\n", 15, 17,
	    "gateway.recording.mask_input: expected a string, found a list");
	ERR1(REC "    mask: all\n", 15, 5,
	    "gateway.recording: unknown key 'mask'");
	ERR1(BASE "gateway:\n  recording: all\n", 14, 14,
	    "gateway.recording: expected a mapping, found a scalar");
	ERR1(REC "    secret_prompts: \"PIN: $\"\n", 15, 21,
	    "gateway.recording.secret_prompts: expected a list, found a "
	    "scalar");
	ERR1(REC "    secret_prompts:\n      - \"(unclosed\"\n", 16, 9,
	    "gateway.recording.secret_prompts: bad regular expression "
	    "'(unclosed': ");
	ERR1(REC "    secret_prompts:\n      - \"PIN: $\"\n      - \"\"\n",
	    17, 9, "bad regular expression '': an empty pattern matches "
	    "every line");
	ERR1(REC "    secret_prompts: [\"(a)\\\\1: $\"]\n", 15, 22,
	    "'(a)\\1: $': back-references (\\1 to \\9) are not allowed");
	ERR1(REC "    secret_prompts: [\"((a{40}){40}){40}\"]\n", 15, 22,
	    "'((a{40}){40}){40}': too large");
	ERR1(REC "    secret_prompts: [\"a{5000}\"]\n", 15, 22,
	    "'a{5000}': too large");
	ERR1(REC "    secret_prompts: [\"(a{1000}){1000}\"]\n", 15, 22,
	    "too large");
	/* regcomp copies what "+" repeats: 2^48 copies (a fuzzer's find). */
	ERR1(REC "    secret_prompts: [\"(a{80})s: ++++++++++++++++++++++++"
	    "++++++++++++++++++++++++x\"]\n", 15, 22, "too large");
	ERR1(REC "    secret_prompts: [\"(a+)+++++++++++++\"]\n", 15, 22,
	    "too large");
	OK(REC "    secret_prompts: [\"[Pp]assword+: +$\", \"(ab+)+c+\"]\n");
	ERR1(REC "    secret_prompts: [\"PIN: $\", \"PIN: $\"]\n", 15, 32,
	    "gateway.recording.secret_prompts: 'PIN: $' listed twice");
	ERR1(REC "    secret_prompts: [[a]]\n", 15, 22,
	    "gateway.recording.secret_prompts: expected a string, found a "
	    "list");
	/* Every bad entry is reported, the good ones kept. */
	ERRN(REC "    secret_prompts: [\"(\", \"ok: $\", \"[\"]\n", 15, 22,
	    "gateway.recording.secret_prompts: bad regular expression '(': ");
	ERRN(REC "    secret_prompts: [\"(\", \"ok: $\", \"[\"]\n", 15, 36,
	    "gateway.recording.secret_prompts: bad regular expression '[': ");
#undef REC
}

static void
test_gateway_durations(void **state)
{
#define LIM BASE "gateway:\n  limits:\n"
	ERR1(LIM "    attach_lifetime: 10\n", 15, 22,
	    "gateway.limits.attach_lifetime: bad duration '10' (use 30s, 5m, "
	    "6h, 7d or 0)");
	ERR1(LIM "    attach_lifetime: 5x\n", 15, 22,
	    "gateway.limits.attach_lifetime: bad duration '5x'");
	ERR1(LIM "    idle_timeout: 5 m\n", 15, 19,
	    "gateway.limits.idle_timeout: bad duration '5 m'");
	ERR1(LIM "    idle_timeout: 3651d\n", 15, 19,
	    "gateway.limits.idle_timeout: bad duration '3651d'");
	ERR1(LIM "    idle_timeout: -5m\n", 15, 19,
	    "gateway.limits.idle_timeout: bad duration '-5m'");
	ERR1(LIM "    idle_timeout: [5m]\n", 15, 19,
	    "gateway.limits.idle_timeout: expected a string, found a list");
	OK(LIM "    idle_timeout: 3650d\n    attach_lifetime: 0s\n");
#undef LIM
}

static void
test_gateway_escape_key(void **state)
{
#define EK BASE "gateway:\n  escape_key: "
	ERR1(EK "\"^\"\n", 14, 15, "gateway.escape_key: expected a control "
	    "key such as \"^]\", found '^'");
	ERR1(EK "x\n", 14, 15, "gateway.escape_key: expected a control key "
	    "such as \"^]\", found 'x'");
	ERR1(EK "\"^1\"\n", 14, 15, "found '^1'");
	ERR1(EK "\"^]]\"\n", 14, 15, "found '^]]'");
	ERR1(EK "\"^`\"\n", 14, 15, "found '^`'");
	ERR1(EK "\"]\"\n", 14, 15, "found ']'");
	ERR1(EK "[\"^]\"]\n", 14, 15,
	    "gateway.escape_key: expected a string, found a list");
#undef EK
}

/* gateway.serve: the startup limits (line 15 is the setting). */
static void
test_gateway_serve_startups(void **state)
{
#define SV BASE "gateway:\n  serve:\n"
	struct loaded			 l;
	const struct policy_gateway	*gw;

	ERR1(SV "    max_startups: 10:30\n", 15, 19,
	    "gateway.serve.max_startups: expected N or START:RATE:FULL such as "
	    "10:30:100, found '10:30': FULL must be a number from 1 to 10000, "
	    "and last");
	ERR1(SV "    max_startups: 0\n", 15, 19,
	    "found '0': START must be a number from 1 to 10000");
	ERR1(SV "    max_startups: 10:0:100\n", 15, 19,
	    "found '10:0:100': RATE must be a percentage from 1 to 100");
	ERR1(SV "    max_startups: 10:101:100\n", 15, 19,
	    "RATE must be a percentage from 1 to 100");
	ERR1(SV "    max_startups: 20:30:10\n", 15, 19,
	    "found '20:30:10': START may not be larger than FULL");
	ERR1(SV "    max_startups: 10:30:10001\n", 15, 19,
	    "FULL must be a number from 1 to 10000");
	ERR1(SV "    max_startups: \"10:30:100:5\"\n", 15, 19,
	    "FULL must be a number from 1 to 10000, and last");
	ERR1(SV "    max_startups: [10, 30, 100]\n", 15, 19,
	    "gateway.serve.max_startups: expected a string, found a list");
	ERR1(SV "    per_source_max_startups: 0\n", 15, 30,
	    "gateway.serve.per_source_max_startups: expected a number from 1 "
	    "to 10000, found '0'");
	ERR1(SV "    per_source_max_startups: 3:30:10\n", 15, 30,
	    "found '3:30:10'");
	ERR1(SV "    banner_timeout: 0\n", 15, 21,
	    "gateway.serve.banner_timeout: expected 1s to 5m");
	ERR1(SV "    banner_timeout: 6m\n", 15, 21,
	    "gateway.serve.banner_timeout: expected 1s to 5m");
	ERR1(SV "    banner_timeout: 5\n", 15, 21,
	    "gateway.serve.banner_timeout: bad duration '5'");
	ERR1(SV "    max_startup: 10\n", 15, 5,
	    "gateway.serve: unknown key 'max_startup'");

	/* N alone is the hard cap it always was: N:100:N. */
	load_text(&l, SV "    max_startups: 3\n");
	assert_non_null(l.p);
	gw = policy_gateway(l.p);
	assert_int_equal(gw->serve_startups_begin, 3);
	assert_int_equal(gw->serve_startups_rate, 100);
	assert_int_equal(gw->serve_startups_full, 3);
	loaded_free(&l);

	load_text(&l, SV "    max_startups: 20:50:60\n"
	    "    per_source_max_startups: 2\n    banner_timeout: 2s\n");
	assert_non_null(l.p);
	gw = policy_gateway(l.p);
	assert_int_equal(gw->serve_startups_begin, 20);
	assert_int_equal(gw->serve_startups_rate, 50);
	assert_int_equal(gw->serve_startups_full, 60);
	assert_int_equal(gw->serve_per_source_startups, 2);
	assert_int_equal(gw->serve_banner_timeout, 2);
	loaded_free(&l);
	OK(SV "    max_startups: \"10:30:100\"\n");
#undef SV
}

/* ---- hosts: (ROLES_OK IDENTS_OK are lines 1-8, "hosts:" is line 9) ---- */

#define H ROLES_OK IDENTS_OK "hosts:\n"

static void
test_hosts_keys(void **state)
{
	ERR1(H "  h1:\n    local: true\n    tmux_users: [deploy]\n"
	    "    colour: red\n", 13, 5, "hosts: unknown key 'colour'");
	ERR1(H "  h1:\n    local: true\n    tmux_users: [deploy]\n"
	    "    local: false\n", 13, 5, "hosts: duplicate key 'local'");
	ERR1(H "  h1:\n    local: true\n    tmux_users: [deploy]\n"
	    "  h1:\n    local: true\n    tmux_users: [build]\n", 13, 3,
	    "hosts: duplicate key 'h1'");
	ERR1(H "  h1: local\n", 10, 7,
	    "hosts: expected a mapping, found a scalar");
	ERR1(H "  h1: [local]\n", 10, 7,
	    "hosts: expected a mapping, found a list");
	ERR1(H "  \"h 1\":\n    local: true\n    tmux_users: [deploy]\n", 10, 3,
	    "hosts: bad host name 'h 1'");
	ERR1(H "  \"-h\":\n    local: true\n    tmux_users: [deploy]\n", 10, 3,
	    "hosts: bad host name '-h'");
	ERR1(H "  h1:\n    local: true\n", 11, 5,
	    "hosts: missing required key 'tmux_users'");
}

static void
test_hosts_values(void **state)
{
#define R "  h1:\n    address: h1.example\n    ssh_user: mg\n"
	/* Line 11 address, 12 ssh_user, 13 the field under test. */
	ERR1(H R "    local: \"false\"\n    tmux_users: [deploy]\n", 13, 12,
	    "local: expected true or false, found a quoted string");
	ERR1(H R "    local: no\n    tmux_users: [deploy]\n", 13, 12,
	    "local: expected true or false, found 'no'");
	ERR1(H R "    port: \"22\"\n    tmux_users: [deploy]\n", 13, 11,
	    "port: expected a number, found a quoted string");
	ERR1(H R "    port: ssh\n    tmux_users: [deploy]\n", 13, 11,
	    "port: expected a number from 1 to 65535, found 'ssh'");
	ERR1(H R "    port: 0\n    tmux_users: [deploy]\n", 13, 11,
	    "port: expected a number from 1 to 65535, found '0'");
	ERR1(H R "    port: 65536\n    tmux_users: [deploy]\n", 13, 11,
	    "port: expected a number from 1 to 65535, found '65536'");
	ERR1(H R "    port: [22]\n    tmux_users: [deploy]\n", 13, 11,
	    "port: expected a number, found a list");
	ERR1(H R "    tmux_users: deploy\n", 13, 17,
	    "tmux_users: expected a list, found a scalar");
	ERR1(H R "    tmux_users: {deploy: 1}\n", 13, 17,
	    "tmux_users: expected a list, found a mapping");
	ERR1(H R "    tmux_users: []\n", 13, 17,
	    "tmux_users: the list is empty");
	ERR1(H R "    tmux_users: [deploy, \"bad user\"]\n", 13, 26,
	    "tmux_users: 'bad user' is not a user name");
	ERR1(H R "    tmux_users: [deploy, -x]\n", 13, 26,
	    "tmux_users: '-x' is not a user name");
	ERR1(H R "    tmux_users: [deploy, {a: b}]\n", 13, 26,
	    "tmux_users: expected a string, found a mapping");
	ERR1(H R "    tmux_users: [deploy, deploy]\n", 13, 26,
	    "tmux_users: 'deploy' listed twice");
	ERR1(H R "    tmux_users: [deploy]\n    labels: [prod]\n", 14, 13,
	    "labels: expected a mapping, found a list");
	ERR1(H R "    tmux_users: [deploy]\n    labels: {\"a b\": x}\n", 14, 14,
	    "labels: bad label name 'a b'");
	ERR1(H R "    tmux_users: [deploy]\n    labels: {env: [prod]}\n", 14, 19,
	    "labels: expected a string, found a list");
	ERR1(H R "    tmux_users: [deploy]\n    labels: {env: a, env: b}\n",
	    14, 22, "labels: duplicate key 'env'");
	ERR1(H R "    tmux_users: [deploy]\n    jump: [h0]\n", 14, 11,
	    "jump: expected a string, found a list");
#undef R
	/* An address that ssh would read as an option, or with a shell char. */
	ERRN(H "  h1:\n    address: \"-oProxyCommand=sh\"\n    ssh_user: mg\n"
	    "    tmux_users: [deploy]\n", 11, 14,
	    "address: '-oProxyCommand=sh' is not a host name or address");
	ERRN(H "  h1:\n    address: \"h1;reboot\"\n    ssh_user: mg\n"
	    "    tmux_users: [deploy]\n", 11, 14,
	    "address: 'h1;reboot' is not a host name or address");
	ERRN(H "  h1:\n    address: h1.example\n    ssh_user: \"root;id\"\n"
	    "    tmux_users: [deploy]\n", 12, 15,
	    "ssh_user: 'root;id' is not a user name");
}

/*
 * Every value written into the generated ssh_config is one double-quoted
 * value on its line: a quote, backslash, whitespace, control character or
 * % could end it, start another option or expand an ssh token.  Each
 * class is refused in each such field, with one FILE:LINE:COL error that
 * names the character, not the value.
 */
static const struct {
	const char	*yaml;		/* inside a YAML double-quoted string */
	const char	*what;
} ssh_bad[] = {
	{ "\\\"", "a double quote" },
	{ "'", "a single quote" },
	{ "\\\\", "a backslash" },
	{ " ", "a space" },
	{ "\\t", "a tab" },
	{ "\\n", "a newline" },
	{ "\\r", "a carriage return" },
	{ "\\e", "control character 0x1b" },
	{ "\\x01", "control character 0x01" },
	{ "\\x7f", "control character 0x7f" },
	{ "%", "'%'" },
	{ "%d", "'%'" },
};

static void
test_ssh_config_values(void **state)
{
	char	text[1024], want[128];
	size_t	i;

	for (i = 0; i < sizeof(ssh_bad) / sizeof(*ssh_bad); i++) {
		/* gateway.ssh.* on line 15, column 18 or 20. */
		snprintf(want, sizeof(want), "gateway.ssh.known_hosts: %s "
		    "(ssh_config values may not hold", ssh_bad[i].what);
		snprintf(text, sizeof(text), BASE "gateway:\n  ssh:\n"
		    "    known_hosts: \"/etc/mg/kh%sx\"\n", ssh_bad[i].yaml);
		ERR1(text, 15, 18, want);
		snprintf(want, sizeof(want), "gateway.ssh.identity_file: %s "
		    "(ssh_config", ssh_bad[i].what);
		snprintf(text, sizeof(text), BASE "gateway:\n  ssh:\n"
		    "    identity_file: \"/etc/mg/id%s\"\n", ssh_bad[i].yaml);
		ERR1(text, 15, 20, want);
		/* gateway.state is the ControlPath's directory. */
		snprintf(want, sizeof(want), "gateway.state: %s (ssh_config",
		    ssh_bad[i].what);
		snprintf(text, sizeof(text), BASE "gateway:\n"
		    "  state: \"/run/mg%s\"\n", ssh_bad[i].yaml);
		ERR1(text, 14, 10, want);
		/* A host's address (line 11) and ssh_user (line 12). */
		snprintf(want, sizeof(want), "address: %s (ssh_config",
		    ssh_bad[i].what);
		snprintf(text, sizeof(text), "hosts:\n  h1:\n"
		    "    address: \"h1%s.example\"\n    ssh_user: mg\n"
		    "    tmux_users: [deploy]\n" ROLES_OK IDENTS_OK,
		    ssh_bad[i].yaml);
		ERRN(text, 3, 14, want);
		snprintf(want, sizeof(want), "ssh_user: %s (ssh_config",
		    ssh_bad[i].what);
		snprintf(text, sizeof(text), "hosts:\n  h1:\n"
		    "    address: h1.example\n    ssh_user: \"mg%s\"\n"
		    "    tmux_users: [deploy]\n" ROLES_OK IDENTS_OK,
		    ssh_bad[i].yaml);
		ERRN(text, 4, 15, want);
		snprintf(want, sizeof(want), "jump: %s (ssh_config",
		    ssh_bad[i].what);
		snprintf(text, sizeof(text), "hosts:\n  h1:\n"
		    "    address: h1.example\n    ssh_user: mg\n"
		    "    jump: \"h0%s\"\n"
		    "    tmux_users: [deploy]\n" ROLES_OK IDENTS_OK,
		    ssh_bad[i].yaml);
		ERR1(text, 5, 11, want);
	}
	/* The reported attack: a known_hosts that goes on to a ProxyCommand. */
	ERR1(BASE "gateway:\n  ssh:\n    known_hosts: \"/x\\\"\\nProxyCommand "
	    "/bin/touch /tmp/mgt-pwned\\n#\"\n", 15, 18,
	    "gateway.ssh.known_hosts: a double quote (ssh_config values may "
	    "not hold quotes, backslashes, whitespace, control characters or "
	    "%)");
	/* What ssh_config takes in "..." is still accepted. */
	OK(BASE "gateway:\n  state: /run/mg-state_1.x\n  ssh:\n"
	    "    known_hosts: \"/etc/mg/known_hosts+\\u00e9,:@=~#\"\n"
	    "    identity_file: /etc/mg/id_ed25519\n");
}

static void
test_hosts_local_remote(void **state)
{
	ERR1(H "  h1:\n    local: true\n    address: h1.example\n"
	    "    tmux_users: [deploy]\n", 11, 5,
	    "host h1: a local host takes no address, ssh_user or jump");
	ERR1(H "  h1:\n    local: true\n    ssh_user: mg\n"
	    "    tmux_users: [deploy]\n", 11, 5,
	    "host h1: a local host takes no address, ssh_user or jump");
	ERR1(H "  h1:\n    tmux_users: [deploy]\n", 11, 5,
	    "host h1: needs 'local: true' or an address");
	ERR1(H "  h1:\n    local: false\n    tmux_users: [deploy]\n", 11, 5,
	    "host h1: needs 'local: true' or an address");
	ERR1(H "  h1:\n    address: h1.example\n    tmux_users: [deploy]\n", 11, 5,
	    "host h1: a remote host needs ssh_user");
	OK(H "  h1:\n    address: h1.example\n    ssh_user: mg\n"
	    "    tmux_users: [deploy]\n");
}

static void
test_hosts_jump(void **state)
{
#define J "  h0:\n    local: true\n    tmux_users: [deploy]\n" \
	"  hr:\n    address: hr.example\n    ssh_user: mg\n    tmux_users: [deploy]\n" \
	"  h1:\n    address: h1.example\n    ssh_user: mg\n    tmux_users: [deploy]\n"
	/* h1's fields start on line 18. */
	ERR1(H J "    jump: nope\n", 18, 5,
	    "host h1: jump 'nope' is not another remote host of the policy");
	ERR1(H J "    jump: h0\n", 18, 5,
	    "host h1: jump 'h0' is not another remote host of the policy");
	ERR1(H J "    jump: h1\n", 18, 5,
	    "host h1: jump 'h1' is not another remote host of the policy");
	OK(H J "    jump: hr\n");
#undef J
}

/* N hosts j000 -> j001 -> ..., the last jumping to LAST (or nowhere), then
 * jend -> j000.  Host j000 is on line 10, each host's mapping at column 9. */
static char *
jump_chain(size_t n, const char *last)
{
	char	*t;
	size_t	 i;

	t = text_printf(NULL, H);
	for (i = 0; i < n; i++) {
		t = text_printf(t, "  j%03zu: {address: j%03zu.example, "
		    "ssh_user: mg, tmux_users: [deploy]", i, i);
		if (i + 1 < n)
			t = text_printf(t, ", jump: j%03zu}\n", i + 1);
		else if (last != NULL)
			t = text_printf(t, ", jump: %s}\n", last);
		else
			t = text_printf(t, "}\n");
	}
	return text_printf(t, "  jend: {address: jend.example, ssh_user: mg, "
	    "tmux_users: [deploy], jump: j000}\n");
}

/*
 * A chain of 300 jump hosts, each followed once however many hosts lead
 * to it: fine when it ends, and a loop for every host on it, and for
 * every host that leads to it, when its last host jumps back into it
 * (the first POLICY_MAX_ERRORS of them listed, then that there are more).
 */
static void
test_hosts_jump_chain(void **state)
{
	char	*text, **want;
	size_t	 i, n = 300, nwant = POLICY_MAX_ERRORS + 1;

	text = jump_chain(n, NULL);
	OK(text);
	free(text);
	text = jump_chain(n, "j150");
	want = calloc(nwant, sizeof(*want));
	assert_non_null(want);
	for (i = 0; i < POLICY_MAX_ERRORS; i++)
		assert_true(asprintf(&want[i], "%zu:9: host j%03zu: jump hosts "
		    "form a loop", 10 + i, i) != -1);
	assert_true(asprintf(&want[POLICY_MAX_ERRORS], "0:0: more errors not "
	    "shown (at most %d are listed)", POLICY_MAX_ERRORS) != -1);
	expect_errors(text, (const char *const *)want, nwant, __FILE__,
	    __LINE__);
	for (i = 0; i < nwant; i++)
		free(want[i]);
	free(want);
	free(text);
}

#undef H

/* ---- roles: (HOSTS_OK IDENTS_OK are lines 1-8, "roles:" is line 9) ---- */

#define RL HOSTS_OK IDENTS_OK "roles:\n"
/* Lines 10-14: a role r with one allow rule, keys at column 9. */
#define RULE_R "  r:\n    allow:\n      - hosts: \"*\"\n"

static void
test_roles_keys(void **state)
{
	ERR1(RL "  r:\n    permit: []\n", 11, 5, "roles: unknown key 'permit'");
	ERR1(RL "  r: [allow]\n", 10, 6,
	    "roles: expected a mapping, found a list");
	ERR1(RL "  r: {}\n  r: {}\n", 11, 3, "roles: duplicate key 'r'");
	ERR1(RL "  r: {}\n  \"r r\": {}\n", 11, 3, "roles: bad role name 'r r'");
	ERR1(RL "  r:\n    allow: {hosts: \"*\"}\n", 11, 12,
	    "allow: expected a list of rules, found a mapping");
	ERR1(RL "  r:\n    deny: kill\n", 11, 11,
	    "deny: expected a list of rules, found a scalar");
	ERR1(RL "  r:\n    allow:\n      - list\n", 12, 9,
	    "allow: expected a mapping, found a scalar");
	ERR1(RL RULE_R "        tmux_users: \"*\"\n        actions: [list]\n"
	    "        users: [x]\n", 15, 9, "allow: unknown key 'users'");
	ERR1(RL "  r:\n    deny:\n      - hosts: \"*\"\n"
	    "        tmux_users: \"*\"\n        actions: [kill]\n"
	    "        why: because\n", 15, 9, "deny: unknown key 'why'");
	ERR1(RL RULE_R "        tmux_users: \"*\"\n        actions: [list]\n"
	    "        actions: [watch]\n", 15, 9,
	    "allow: duplicate key 'actions'");
	ERR1(RL RULE_R "        tmux_users: \"*\"\n", 12, 9,
	    "allow: missing required key 'actions'");
	ERR1(RL "  r:\n    deny:\n      - tmux_users: \"*\"\n"
	    "        actions: [kill]\n", 12, 9,
	    "deny: missing required key 'hosts'");
	ERR1(RL RULE_R "        actions: [kill]\n", 12, 9,
	    "allow: missing required key 'tmux_users'");
}

static void
test_roles_rules(void **state)
{
#define TU "        tmux_users: \"*\"\n"
	ERR1(RL RULE_R TU "        actions: list\n", 14, 18,
	    "actions: expected a list, found a scalar");
	ERR1(RL RULE_R TU "        actions: []\n", 14, 18,
	    "actions: the list is empty");
	ERR1(RL RULE_R TU "        actions: [list, delete]\n", 14, 25,
	    "actions: unknown action 'delete' (list, watch, attach, create, "
	    "kill, kill-own, terminate)");
	ERR1(RL RULE_R TU "        actions: [LIST]\n", 14, 19,
	    "actions: unknown action 'LIST'");
	ERR1(RL RULE_R TU "        actions: [[list]]\n", 14, 19,
	    "actions: expected a string, found a list");
	ERR1(RL RULE_R "        tmux_users: deploy\n        actions: [list]\n",
	    13, 21, "tmux_users: expected \"*\" or a list");
	ERR1(RL RULE_R "        tmux_users: [\"a b\"]\n        actions: [list]\n",
	    13, 22, "tmux_users: 'a b' is not a user name");
	ERR1(RL RULE_R "        tmux_users: []\n        actions: [list]\n",
	    13, 21, "tmux_users: the list is empty");
#define RH(hosts) RL "  r:\n    allow:\n      - hosts: " hosts "\n" TU \
	"        actions: [list]\n"
	ERR1(RH("[h1, nope]"), 12, 16, "hosts: undefined host 'nope'");
	ERR1(RH("h1"), 12, 16,
	    "hosts: expected \"*\", a list of hosts or a mapping of labels");
	ERR1(RH("[]"), 12, 16, "hosts: the list is empty");
	ERR1(RH("{}"), 12, 16, "hosts: the label mapping is empty");
	ERR1(RH("{env: [prod]}"), 12, 22,
	    "hosts: expected a string, found a list");
	ERR1(RH("{\"a b\": prod}"), 12, 17, "hosts: bad label name 'a b'");
	ERR1(RH("{env: a, env: b}"), 12, 25, "hosts: duplicate key 'env'");
	ERR1(RH("[h1, h1]"), 12, 21, "hosts: 'h1' listed twice");
	/* Globs need not match a host; names must. */
	OK(RH("[\"web*\", h1, \"h?\"]"));
	OK(RH("{env: prod}"));
#undef RH
#undef TU
}

#undef RULE_R
#undef RL

/* ---- identities: (HOSTS_OK ROLES_OK lines 1-8, line 9 "identities:") ---- */

#define ID HOSTS_OK ROLES_OK "identities:\n  alice:\n"
#define FPKEY "    keys: [\"" FP_ED "\"]\n"

static void
test_identities_keys(void **state)
{
	ERR1(ID FPKEY "    roles: [r]\n    shell: /bin/sh\n", 13, 5,
	    "identities: unknown key 'shell'");
	ERR1(ID FPKEY "    roles: [r]\n    roles: [r]\n", 13, 5,
	    "identities: duplicate key 'roles'");
	ERR1(ID FPKEY "    roles: [r]\n  alice:\n    keys: [\"" FP_RSA "\"]\n"
	    "    roles: [r]\n", 13, 3, "identities: duplicate key 'alice'");
	ERR1(HOSTS_OK ROLES_OK "identities:\n  alice: [r]\n", 10, 10,
	    "identities: expected a mapping, found a list");
	ERR1(HOSTS_OK ROLES_OK "identities:\n  \"al ice\":\n" FPKEY
	    "    roles: [r]\n", 10, 3, "identities: bad identity name 'al ice'");
	ERR1(ID "    roles: [r]\n", 11, 5,
	    "identities: missing required key 'keys'");
	ERR1(ID FPKEY, 11, 5, "identities: missing required key 'roles'");
}

static void
test_identities_values(void **state)
{
	/* Line 11 keys, 12 roles, 13 the field under test. */
#define I ID FPKEY "    roles: [r]\n"
	ERR1(ID FPKEY "    roles: [r, nope]\n", 12, 12,
	    "roles: undefined role 'nope'");
	ERR1(ID FPKEY "    roles: r\n", 12, 12,
	    "roles: expected a list, found a scalar");
	ERR1(ID FPKEY "    roles: [r, r]\n", 12, 16, "roles: 'r' listed twice");
	ERR1(I "    disabled: \"true\"\n", 13, 15,
	    "disabled: expected true or false, found a quoted string");
	ERR1(I "    disabled: 1\n", 13, 15,
	    "disabled: expected true or false, found '1'");
	ERR1(I "    expires: [2030-01-01]\n", 13, 14,
	    "expires: expected a string, found a list");
	ERR1(I "    from: 10.0.0.0/8\n", 13, 11,
	    "from: expected a list, found a scalar");
	ERR1(I "    from: []\n", 13, 11,
	    "from: the list is empty (leave 'from' out to allow every "
	    "address)");
#undef I
}

static void
test_identities_bad_dates(void **state)
{
	static const char *const bad[] = {
		"2025-13-01", "2025-00-10", "2025-01-32", "tomorrow",
		"2025-02-30", "2025-04-31", "2023-02-29",
		"2025-01-01T25:00:00Z", "2025-01-01T10:00:00",
		"2025-01-01T10:00Z", "\"2025-01-01 10:00:00\"", "2025-01-01x",
		"1969-12-31", "1970-01-01T00:00:00Z", "\"\"",
		"\" 2030-01-01\"", "2030-1-1", "\"+2030-01-01\"",
		"\"2030-01-01 \"", "2030-01-01t10:00:00Z",
		"\"2030-01-01T10:00:00z\"", "02030-01-01",
		"2030-01-01T1:00:00Z",
	};
	static const char *const good[] = {
		"2024-02-29", "2030-12-31", "\"2030-12-31\"",
		"2030-06-15T23:59:59Z",
	};
	char	text[1024], sub[256];
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), ID FPKEY "    roles: [r]\n"
		    "    expires: %s\n", bad[i]);
		snprintf(sub, sizeof(sub), "expires: bad date '%.*s' "
		    "(YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)",
		    bad[i][0] == '"' ? (int)strlen(bad[i]) - 2 :
		    (int)strlen(bad[i]), bad[i][0] == '"' ? bad[i] + 1 : bad[i]);
		ERR1(text, 13, 14, sub);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), ID FPKEY "    roles: [r]\n"
		    "    expires: %s\n", good[i]);
		OK(text);
	}
}

static void
test_identities_bad_cidrs(void **state)
{
	static const char *const bad[] = {
		"10.0.0.0/33", "10.0.0.256", "10.0.0.0/", "10.0.0.0/-1",
		"10.0.0.0/8x", "::1/129", "2001:db8::/", "example.com",
		"10.0.0", "fe80::1%eth0", "10.0.0.0/+8",
	};
	char	text[1024], sub[256];
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), ID FPKEY "    roles: [r]\n"
		    "    from: [10.1.0.0/16, \"%s\"]\n", bad[i]);
		snprintf(sub, sizeof(sub), "from: bad address or CIDR '%s'",
		    bad[i]);
		ERR1(text, 13, 25, sub);
	}
	OK(ID FPKEY "    roles: [r]\n    from: [10.0.0.0/8, 192.0.2.1, "
	    "\"::1\", \"2001:db8::/32\", \"::ffff:10.0.0.0/104\", 0.0.0.0/0]\n");
}

static void
test_identities_bad_keys(void **state)
{
#define K(key) ID "    keys: [" key "]\n    roles: [r]\n"
	ERR1(K("\"ssh-ed25519 AAAA%%%%\""), 11, 12,
	    "keys: key data is not valid base64");
	ERR1(K("\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFOvKhZR3zQS+irBnskz5oRn"
	    "6gZSUk261xOMxQe3siz\""), 11, 12,
	    "keys: key data is not valid base64");
	ERR1(K("\"" KEY_ED_AS_RSA "\""), 11, 12,
	    "keys: key data does not match its key type");
	ERR1(K("\"ssh-ed25519\""), 11, 12,
	    "keys: expected \"TYPE BASE64 [COMMENT]\" or \"SHA256:...\"");
	ERR1(K("\"ssh-ed25519 \""), 11, 12,
	    "keys: missing or oversized key data");
	ERR1(K("\" AAAAC3NzaC1lZDI1NTE5\""), 11, 12, "keys: bad key type");
	ERR1(K("\"SHA256:abc\""), 11, 12, "keys: bad fingerprint 'SHA256:abc'");
	ERR1(K("\"SHA256:5I6mWTM-C9/rbqKDwonFPqSnHhAJV81nElYKhq20Olw\""), 11, 12,
	    "keys: bad fingerprint 'SHA256:5I6mWTM-C9/rbqKDwonFPqSnHhAJV81nElYKhq20Olw'");
	ERR1(K("\"" FP_ED "=\""), 11, 12,
	    "keys: bad fingerprint '" FP_ED "='");
	ERR1(K("\"" FP_ED "\", {a: b}"), 11, 66,
	    "keys: expected a string, found a mapping");
#undef K
	ERR1(ID "    keys: []\n    roles: [r]\n", 11, 11,
	    "keys: the list is empty");
	ERR1(ID "    keys: \"" FP_ED "\"\n    roles: [r]\n", 11, 11,
	    "keys: expected a list, found a scalar");
}

static void
test_identities_shared_key(void **state)
{
#define TWO(a, b) HOSTS_OK ROLES_OK "identities:\n" \
	"  alice:\n    keys: [\"" a "\"]\n    roles: [r]\n" \
	"  bob:\n    keys: [\"" b "\"]\n    roles: [r]\n"
	/* As a full key in one identity and a fingerprint in another. */
	ERR1(TWO(KEY_ED " alice@laptop", FP_ED), 14, 5,
	    "identity bob: key " FP_ED " already belongs to identity alice");
	/* The same key with different comments. */
	ERR1(TWO(KEY_ED " one", KEY_ED " two"), 14, 5,
	    "identity bob: key " FP_ED " already belongs to identity alice");
	ERR1(TWO(FP_ED, FP_ED), 14, 5,
	    "identity bob: key " FP_ED " already belongs to identity alice");
	OK(TWO(KEY_ED, FP_RSA));
#undef TWO
}

/*
 * A key of several identities: each later one is reported once, against
 * the first, at its own mapping, in the order of the file (by identity,
 * then by its keys), whatever order the fingerprints sort in.
 */
static void
test_identities_shared_key_order(void **state)
{
#define IDENT(name, keys) "  " name ":\n    keys: [" keys "]\n    roles: [r]\n"
	/* Identities on lines 10, 13, 16 and 19; their fields from column 5. */
	ERRS(HOSTS_OK ROLES_OK "identities:\n"
	    IDENT("alice", "\"" KEY_ED "\"")
	    IDENT("bob", "\"" KEY_ED2 "\", \"" FP_ED "\"")
	    IDENT("carol", "\"" FP_ED2 "\", \"" KEY_ED " a\", \"" KEY_ED " b\"")
	    IDENT("dave", "\"" FP_ED "\""),
	    "14:5: identity bob: key " FP_ED " already belongs to "
	    "identity alice",
	    "17:5: identity carol: key " FP_ED2 " already belongs to "
	    "identity bob",
	    "17:5: identity carol: key " FP_ED " already belongs to "
	    "identity alice",
	    "20:5: identity dave: key " FP_ED " already belongs to "
	    "identity alice");
	/* One key in three identities: two errors, both against the first. */
	ERRS(HOSTS_OK ROLES_OK "identities:\n"
	    IDENT("zed", "\"" FP_ED "\"")
	    IDENT("amy", "\"" KEY_ED "\"")
	    IDENT("bo", "\"" KEY_ED "\", \"" FP_RSA "\""),
	    "14:5: identity amy: key " FP_ED " already belongs to identity zed",
	    "17:5: identity bo: key " FP_ED " already belongs to identity zed");
	/* Listed twice by one identity only: not an error. */
	OK(HOSTS_OK ROLES_OK "identities:\n"
	    IDENT("alice", "\"" KEY_ED "\", \"" FP_ED "\"")
	    IDENT("bob", "\"" FP_ED2 "\""));
#undef IDENT
}

/*
 * Mappings and lists of 16 entries or more find their repeats through a
 * hash set, smaller ones by comparing: the same errors either way, at the
 * repeated entry, in file order.
 */
static void
test_large_duplicates(void **state)
{
	char	*text = NULL, want[3][128];
	size_t	 i;

	/* 40 identities (3 lines each from line 10), two names repeated. */
	text = text_printf(text, HOSTS_OK ROLES_OK "identities:\n");
	for (i = 0; i < 42; i++)
		text = text_printf(text, "  id%03zu:\n    keys: [\"SHA256:"
		    "%043zu\"]\n    roles: [r]\n", i == 20 ? 5 : i == 41 ? 17 :
		    i, i);
	snprintf(want[0], sizeof(want[0]), "%d:3: identities: duplicate key "
	    "'id005'", 10 + 20 * 3);
	snprintf(want[1], sizeof(want[1]), "%d:3: identities: duplicate key "
	    "'id017'", 10 + 41 * 3);
	ERRS(text, want[0], want[1]);
	free(text);

	/* A host's 20 tmux users (lines 13-32) and 20 labels (34-53). */
	text = text_printf(NULL, ROLES_OK IDENTS_OK "hosts:\n  h1:\n"
	    "    local: true\n    tmux_users:\n");
	for (i = 0; i < 20; i++)
		text = text_printf(text, "      - u%zu\n", i == 12 ? 3 : i);
	text = text_printf(text, "    labels:\n");
	for (i = 0; i < 20; i++)
		text = text_printf(text, "      k%zu: v\n", i == 19 ? 7 : i);
	ERRS(text, "25:9: tmux_users: 'u3' listed twice",
	    "53:7: labels: duplicate key 'k7'");
	free(text);
}

#undef FPKEY
#undef ID

/* ---- helpers exported by the library ---- */

static void
test_parse_duration(void **state)
{
	static const struct {
		const char	*s;
		unsigned	 v;
	} good[] = {
		{ "0", 0 }, { "0s", 0 }, { "30s", 30 }, { "5m", 300 },
		{ "6h", 21600 }, { "7d", 604800 }, { "3650d", 315360000 },
		{ "315360000s", 315360000 }, { "05m", 300 },
	};
	static const char *const bad[] = {
		"", "10", "s", "5x", "5mm", "-5m", "+5m", " 5m", "5 m", "5M",
		"3651d", "315360001s", "87601h", "1.5h", "99999999999999999999s",
		"0x10s",
	};
	unsigned	v;
	size_t		i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = 12345;
		assert_int_equal(policy_parse_duration(good[i].s, &v), 0);
		assert_int_equal(v, good[i].v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 12345;
		if (policy_parse_duration(bad[i], &v) != -1)
			fail_msg("duration '%s' accepted", bad[i]);
		assert_int_equal(v, 12345);
	}
}

static void
test_parse_size(void **state)
{
	static const struct {
		const char		*s;
		unsigned long long	 v;
	} good[] = {
		{ "1", 1 }, { "4096", 4096 }, { "512K", 512ULL << 10 },
		{ "100M", 100ULL << 20 }, { "1G", 1ULL << 30 },
		{ "1T", 1ULL << 40 }, { "1024T", 1ULL << 50 },
		{ "1125899906842624", 1ULL << 50 }, { "007K", 7ULL << 10 },
	};
	static const char *const bad[] = {
		"", "0", "0K", "K", "1k", "1KB", "1 K", " 1K", "1K ", "+1K",
		"-1K", "1.5G", "0x10", "1025T", "1125899906842625",
		"99999999999999999999", "18446744073709551617K", "1e9",
	};
	unsigned long long	v;
	size_t			i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = 12345;
		if (policy_parse_size(good[i].s, &v) != 0)
			fail_msg("size '%s' refused", good[i].s);
		assert_true(v == good[i].v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 12345;
		if (policy_parse_size(bad[i], &v) != -1)
			fail_msg("size '%s' accepted", bad[i]);
		assert_true(v == 12345);
	}
}

static void
test_parse_listen(void **state)
{
	static const struct {
		const char	*s, *addr;
		unsigned	 port;
	} good[] = {
		{ "127.0.0.1:22", "127.0.0.1", 22 },
		{ "0.0.0.0:65535", "0.0.0.0", 65535 },
		{ "[::1]:2222", "::1", 2222 },
		{ "[::]:1", "::", 1 },
		{ "127.0.0.1:022", "127.0.0.1", 22 },
		{ "[::ffff:127.0.0.1]:22", "::ffff:127.0.0.1", 22 },
	};
	static const char *const bad[] = {
		"", "127.0.0.1", "127.0.0.1:", ":22", "127.0.0.1:0",
		"127.0.0.1:65536", "127.0.0.1:+22", "127.0.0.1:-22",
		"127.0.0.1: 22", "127.0.0.1:22 ", "127.0.0.1:0x16",
		"127.0.0.1:99999999999999999999", "[::1]22", "gateway:22",
		"[::1:22", "[127.0.0.1]:22", "::1:22", "[::ffff:1.2.3.4",
		"[]:22",
	};
	char		addr[64];
	unsigned	port;
	size_t		i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		port = 0;
		if (policy_parse_listen(good[i].s, addr, sizeof(addr), &port) != 0)
			fail_msg("listen '%s' refused", good[i].s);
		assert_string_equal(addr, good[i].addr);
		assert_int_equal(port, good[i].port);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		port = 12345;
		if (policy_parse_listen(bad[i], addr, sizeof(addr), &port) != -1)
			fail_msg("listen '%s' accepted", bad[i]);
		assert_int_equal(port, 12345);
	}
}

static void
test_parse_startups(void **state)
{
	static const struct {
		const char	*s;
		unsigned	 b, r, f;
	} good[] = {
		{ "10", 10, 100, 10 }, { "1", 1, 100, 1 },
		{ "10000", 10000, 100, 10000 }, { "10:30:100", 10, 30, 100 },
		{ "1:1:1", 1, 1, 1 }, { "5:100:5", 5, 100, 5 },
		{ "010:030:0100", 10, 30, 100 }, { "1:100:10000", 1, 100, 10000 },
	};
	static const char *const bad[] = {
		"", "0", "10001", "-1", "+10", " 10", "10 ", "1e3", "0x10", "10:",
		"10:30", "10:30:", "10::100", ":30:100", "10:30:100:", "10:0:100",
		"10:101:100", "10:30:0", "20:30:10", "10:30:10001", "10:-30:100",
		"10:30:100 ", "10;30;100", "10:30:100:200", "99999999999999999999",
		"10:99999999999999999999:100", "ten",
	};
	unsigned	 b, r, f;
	const char	*why;
	size_t		 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		b = r = f = 0;
		if (policy_parse_startups(good[i].s, &b, &r, &f, &why) != 0)
			fail_msg("startups '%s' refused: %s", good[i].s, why);
		assert_int_equal(b, good[i].b);
		assert_int_equal(r, good[i].r);
		assert_int_equal(f, good[i].f);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = r = f = 12345;
		why = NULL;
		if (policy_parse_startups(bad[i], &b, &r, &f, &why) != -1)
			fail_msg("startups '%s' accepted", bad[i]);
		assert_non_null(why);
		assert_int_equal(b, 12345);
		assert_int_equal(r, 12345);
		assert_int_equal(f, 12345);
	}
}

static void
test_valid_names(void **state)
{
	char	long_name[80];

	assert_true(policy_valid_name("web1"));
	assert_true(policy_valid_name("web-1.prod_eu"));
	assert_true(policy_valid_name("_x"));
	assert_false(policy_valid_name(""));
	assert_false(policy_valid_name("-web"));
	assert_false(policy_valid_name(".web"));
	assert_false(policy_valid_name("web 1"));
	assert_false(policy_valid_name("web/1"));
	assert_false(policy_valid_name("web@1"));
	assert_false(policy_valid_name("wéb"));
	memset(long_name, 'a', 64);
	long_name[64] = '\0';
	assert_true(policy_valid_name(long_name));
	long_name[64] = 'a';
	long_name[65] = '\0';
	assert_false(policy_valid_name(long_name));

	assert_true(policy_valid_user("deploy"));
	assert_true(policy_valid_user("_apt"));
	assert_true(policy_valid_user("a.b-c_d"));
	assert_false(policy_valid_user(""));
	assert_false(policy_valid_user("-x"));
	assert_false(policy_valid_user(".x"));
	assert_false(policy_valid_user("a b"));
	assert_false(policy_valid_user("root;id"));
	assert_false(policy_valid_user("a:b"));
	memset(long_name, 'u', 32);
	long_name[32] = '\0';
	assert_true(policy_valid_user(long_name));
	long_name[32] = 'u';
	long_name[33] = '\0';
	assert_false(policy_valid_user(long_name));
}

/* request: rules and max_session_ttl. */
#define REQ_HEAD HOSTS_OK IDENTS_OK \
	"roles:\n" \
	"  lead: {}\n" \
	"  r:\n"
static void
test_request_rules(void **state)
{
	/* Lines 9- are the roles. */
	OK(REQ_HEAD "    request:\n"
	    "      - {hosts: [h1], tmux_users: [deploy], actions: [attach],\n"
	    "         max_duration: 4h, approvers: [lead]}\n"
	    "      - {hosts: \"*\", tmux_users: \"*\", actions: [create],\n"
	    "         max_duration: 1h, approvers: none, reason: optional,\n"
	    "         max_session_ttl: 30m}\n");
	ERR1(REQ_HEAD "    request:\n"
	    "      - {hosts: [h1], tmux_users: [deploy], actions: [attach],\n"
	    "         approvers: [lead]}\n", 13, 9,
	    "request: missing required key 'max_duration'");
	ERR1(REQ_HEAD "    request:\n"
	    "      - {hosts: [h1], tmux_users: [deploy], actions: [attach],\n"
	    "         max_duration: 1h}\n", 13, 9,
	    "request: missing required key 'approvers'");
	ERR1(REQ_HEAD "    request:\n"
	    "      - {hosts: [h1], tmux_users: [deploy], actions: [attach],\n"
	    "         max_duration: 0, approvers: none}\n", 14, 24,
	    "max_duration: must be from 1s to 366d");
	ERR1(REQ_HEAD "    request:\n"
	    "      - {hosts: [h1], tmux_users: [deploy], actions: [attach],\n"
	    "         max_duration: 1h, approvers: [nobody]}\n", 14, 39,
	    "approvers: undefined role 'nobody'");
	ERR1(REQ_HEAD "    request:\n"
	    "      - {hosts: [h1], tmux_users: [deploy], actions: [attach],\n"
	    "         max_duration: 1h, approvers: []}\n", 14, 39,
	    "approvers: the list is empty");
	ERR1(REQ_HEAD "    request:\n"
	    "      - {hosts: [h1], tmux_users: [deploy], actions: [attach],\n"
	    "         max_duration: 1h, approvers: nobody}\n", 14, 39,
	    "approvers: expected none or a list of roles");
	ERR1(REQ_HEAD "    request:\n"
	    "      - {hosts: [h1], tmux_users: [deploy], actions: [attach],\n"
	    "         max_duration: 1h, approvers: none, reason: maybe}\n",
	    14, 53, "reason: expected required or optional, found 'maybe'");
	/* max_session_ttl: only where sessions are created. */
	ERR1(REQ_HEAD "    request:\n"
	    "      - {hosts: [h1], tmux_users: [deploy], actions: [attach],\n"
	    "         max_duration: 1h, approvers: none,\n"
	    "         max_session_ttl: 1h}\n", 15, 27,
	    "max_session_ttl: the rule does not grant create");
	ERR1(HOSTS_OK IDENTS_OK "roles:\n  r:\n    allow:\n"
	    "      - {hosts: [h1], tmux_users: \"*\", actions: [create],\n"
	    "         max_session_ttl: 0}\n", 13, 27,
	    "max_session_ttl: must be more than 0");
	OK(HOSTS_OK IDENTS_OK "roles:\n  r:\n    allow:\n"
	    "      - {hosts: [h1], tmux_users: \"*\", actions: [create],\n"
	    "         max_session_ttl: 2h}\n");
	/* Deny rules take neither; allow rules take no request keys. */
	ERR1(HOSTS_OK IDENTS_OK "roles:\n  r:\n    deny:\n"
	    "      - {hosts: [h1], tmux_users: \"*\", actions: [create],\n"
	    "         max_session_ttl: 2h}\n", 13, 10, "max_session_ttl");
	ERR1(HOSTS_OK IDENTS_OK "roles:\n  r:\n    allow:\n"
	    "      - {hosts: [h1], tmux_users: \"*\", actions: [list],\n"
	    "         approvers: none}\n", 13, 10, "approvers");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_policy),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_escape_keys),
		cmocka_unit_test(test_document_markers),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_yaml_syntax),
		cmocka_unit_test(test_yaml_anchors),
		cmocka_unit_test(test_empty_policy),
		cmocka_unit_test(test_multiple_documents),
		cmocka_unit_test(test_top_level),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_no_error_list),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_reused_error_list),
		cmocka_unit_test(test_gateway_keys),
		cmocka_unit_test(test_gateway_values),
		cmocka_unit_test(test_gateway_account),
		cmocka_unit_test(test_ssh_config_values),
		cmocka_unit_test(test_gateway_numbers),
		cmocka_unit_test(test_gateway_recording),
		cmocka_unit_test(test_gateway_durations),
		cmocka_unit_test(test_gateway_escape_key),
		cmocka_unit_test(test_gateway_serve_startups),
		cmocka_unit_test(test_hosts_keys),
		cmocka_unit_test(test_hosts_values),
		cmocka_unit_test(test_hosts_local_remote),
		cmocka_unit_test(test_hosts_jump),
		cmocka_unit_test(test_hosts_jump_chain),
		cmocka_unit_test(test_roles_keys),
		cmocka_unit_test(test_roles_rules),
		cmocka_unit_test(test_identities_keys),
		cmocka_unit_test(test_identities_values),
		cmocka_unit_test(test_identities_bad_dates),
		cmocka_unit_test(test_identities_bad_cidrs),
		cmocka_unit_test(test_identities_bad_keys),
		cmocka_unit_test(test_identities_shared_key),
		cmocka_unit_test(test_identities_shared_key_order),
		cmocka_unit_test(test_large_duplicates),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_listen),
		cmocka_unit_test(test_parse_startups),
		cmocka_unit_test(test_valid_names),
		cmocka_unit_test(test_request_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
