/*
 * test_limits.c — policy files that try to make loading slow or large:
 * each is generated here, in a private directory, loaded, and must be
 * refused by its bound with one error at the right FILE:LINE:COLUMN (or
 * load, for the large legitimate ones), and quickly: an alarm ends the
 * run if loading one takes minutes, as an unbounded walk would.  Under
 * valgrind the largest legitimate files are made smaller.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <valgrind/valgrind.h>

#include "policy/policy.h"

#define FP_ED "SHA256:5I6mWTM+C9/rbqKDwonFPqSnHhAJV81nElYKhq20Olw"
#define KEY_ED "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFOvKhZR3zQS+irBnsk" \
	"z5oRn6gZSUk261xOMxQe3sizO"

/* Lines 1 to 5: a host and a role; what a test adds starts on line 6. */
#define HOSTS_ROLES \
	"hosts: {h1: {local: true, tmux_users: [deploy]}}\n" \
	"roles:\n" \
	"  r:\n" \
	"    allow:\n" \
	"      - {hosts: \"*\", tmux_users: \"*\", actions: [list]}\n"

static char	dir[64];
static char	path[128];

/* A growing text (a bomb is built piece by piece). */
struct text {
	char	*s;
	size_t	 len;
	size_t	 cap;
};

static void
add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
add(struct text *t, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if ((size_t)n < t->cap - t->len)
			break;
		t->cap = (t->cap + (size_t)n + 1) * 2;
		assert_non_null(t->s = realloc(t->s, t->cap));
	}
	t->len += (size_t)n;
}

/* N copies of S. */
static void
add_n(struct text *t, const char *s, size_t n)
{
	while (n-- > 0)
		add(t, "%s", s);
}

static int
setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/mgt-unit-limits-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/policy.yaml", dir);
	return 0;
}

static int
teardown(void **state)
{
	unlink(path);
	rmdir(dir);
	return 0;
}

/* Each test in seconds, or the run ends: a regression is a hang. */
static int
arm(void **state)
{
	alarm(RUNNING_ON_VALGRIND ? 600 : 60);
	return 0;
}

static int
disarm(void **state)
{
	alarm(0);
	return 0;
}

static void
write_file(const char *s, size_t len)
{
	int	fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static struct policy *
load_text(struct text *t, struct policy_errors *errs)
{
	struct policy	*p;

	write_file(t->s, t->len);
	free(t->s);
	memset(t, 0, sizeof(*t));
	memset(errs, 0, sizeof(*errs));
	p = policy_load(path, errs);
	return p;
}

/* T is refused with exactly one error: "PATH:LINE:COL: WANT". */
static void
refused(struct text *t, unsigned line, unsigned col, const char *want)
{
	struct policy_errors	 errs;
	struct policy		*p;
	char			*full;

	p = load_text(t, &errs);
	assert_true(asprintf(&full, "%s:%u:%u: %s", path, line, col,
	    want) != -1);
	if (p != NULL || errs.n != 1 || strcmp(errs.msgs[0], full) != 0) {
		print_error("want: %s\n", full);
		for (size_t i = 0; i < errs.n; i++)
			print_error("got:  %.300s\n", errs.msgs[i]);
		fail();
	}
	free(full);
	policy_errors_free(&errs);
}

/* T loads; the policy is returned (caller frees). */
static struct policy *
loads(struct text *t)
{
	struct policy_errors	 errs;
	struct policy		*p;

	p = load_text(t, &errs);
	if (p == NULL) {
		for (size_t i = 0; i < errs.n && i < 5; i++)
			print_error("got:  %.300s\n", errs.msgs[i]);
		fail();
	}
	policy_errors_free(&errs);
	return p;
}

#define ALIASES "aliases stand for more than 16777216 bytes of the policy " \
	"in all (each node counts 32 and each scalar its length too)"

/*
 * Billion laughs: nine levels of nine aliases of the level before.  The
 * weights are 67 (["lol"]), 635, 5747, 51755, 465827, 4192475, ...: the
 * aliases of levels 1 to 5 add 4,716,279, and the third alias of level
 * 6, on line 7 at column 20, passes 16 MiB.
 */
static void
test_laughs_lists(void **state)
{
	struct text	t = { 0 };
	int		i;

	add(&t, "a0: &a0 [\"lol\"]\n");
	for (i = 1; i <= 9; i++) {
		add(&t, "a%d: &a%d [*a%d", i, i, i - 1);
		for (int j = 1; j < 9; j++)
			add(&t, ", *a%d", i - 1);
		add(&t, "]\n");
	}
	refused(&t, 7, 20, ALIASES);
}

/* The same with mappings, one pair a line: {a: lol}, then 9 pairs each. */
static void
test_laughs_maps(void **state)
{
	struct text	t = { 0 };
	int		i, j;

	add(&t, "m0: &m0 {a: lol}\n");
	for (i = 1; i <= 9; i++) {
		add(&t, "m%d: &m%d\n", i, i);
		for (j = 0; j < 9; j++)
			add(&t, "  k%d: *m%d\n", j, i - 1);
	}
	/*
	 * Weights 100 ({a: lol}: 32 + 33 + 35), then 32 + 9 * (34 + w):
	 * 1238, 11480, 103658, 933260, 8399678; levels 1 to 5 add 9,447,624
	 * and the first alias of level 6 (line 53) passes 16 MiB.
	 */
	refused(&t, 53, 7, ALIASES);
}

/*
 * Aliases as mapping keys, and as merge keys ("<<", which the schema
 * does not honour: it is a key like any other): counted the same, and
 * refused at the first alias of level 6, as lists are.
 */
static void
test_laughs_keys(void **state)
{
	struct text	t = { 0 };
	int		i, j;

	add(&t, "k0: &k0 [\"lol\", \"lol\"]\n");
	for (i = 1; i <= 9; i++) {
		add(&t, "k%d: &k%d {", i, i);
		for (j = 0; j < 9; j++)
			add(&t, "%s? *k%d : %d", j > 0 ? ", " : "", i - 1, j);
		add(&t, "}\n");
	}
	refused(&t, 7, 12, ALIASES);

	add(&t, "b0: &b0 {x: lol}\n");
	for (i = 1; i <= 9; i++) {
		add(&t, "b%d: &b%d [", i, i);
		for (j = 0; j < 9; j++)
			add(&t, "%s{<<: *b%d}", j > 0 ? ", " : "", i - 1);
		add(&t, "]\n");
	}
	refused(&t, 7, 15, ALIASES);

	/* A merge key is refused as an unknown key, not merged. */
	add(&t, HOSTS_ROLES "identities:\n"
	    "  bob: &base {keys: [\"SHA256:%043d\"], roles: [r]}\n"
	    "  alice: {<<: *base, keys: [\"" FP_ED "\"], roles: [r]}\n", 0);
	refused(&t, 8, 11, "identities: unknown key '<<'");
}

/*
 * Where the schema multiplies: every identity an alias of one whose keys
 * are 20,000 aliases of one key.  Unbounded, that is four billion keys
 * parsed (and as many errors); here each alias of the identity stands
 * for 2,240,170 (20,000 keys of 32 + 80), and so do the keys' own
 * aliases and the list's: the alias of i6, on line 15, passes 16 MiB.
 */
static void
test_laughs_identities(void **state)
{
	struct text	t = { 0 };
	size_t		i;

	add(&t, HOSTS_ROLES "k: &k \"%s\"\nks: &ks [*k", KEY_ED);
	add_n(&t, ", *k", 19999);
	add(&t, "]\nidentities:\n  i0: &i {keys: *ks, roles: [r]}\n");
	for (i = 1; i < 200000; i++)
		add(&t, "  i%zu: *i\n", i);
	refused(&t, 15, 7, ALIASES);
}

/* An alias inside the very list or mapping it names. */
static void
test_alias_recursive(void **state)
{
	struct text	t = { 0 };

	add(&t, "a: &a [x, *a]\n");
	refused(&t, 1, 11, "alias of a list or mapping that contains it");
	add(&t, "a: &a\n  b: *a\n");
	refused(&t, 2, 6, "alias of a list or mapping that contains it");
}

/*
 * Legitimate anchors: one list of hosts in several rules, one list of
 * roles for every identity (20,000 of them, 400 under valgrind).
 */
static void
test_anchors_legitimate(void **state)
{
	struct text	 t = { 0 };
	struct policy	*p;
	size_t		 i, n = RUNNING_ON_VALGRIND ? 400 : 20000;
	char		 name[32];

	add(&t, "hosts:\n");
	for (i = 0; i < 10; i++)
		add(&t, "  web%zu: {local: true, tmux_users: [deploy]}\n", i);
	add(&t, "roles:\n  r0: {allow: [{hosts: &webs [");
	for (i = 0; i < 10; i++)
		add(&t, "%sweb%zu", i > 0 ? ", " : "", i);
	add(&t, "], tmux_users: [deploy], actions: [list]}]}\n");
	for (i = 1; i < 8; i++)
		add(&t, "  r%zu: {allow: [{hosts: *webs, tmux_users: [deploy], "
		    "actions: [list]}], deny: [{hosts: *webs, tmux_users: "
		    "[root], actions: [attach]}]}\n", i);
	add(&t, "identities:\n");
	for (i = 0; i < n; i++)
		add(&t, "  i%zu: {keys: [\"SHA256:%043zu\"], roles: %s}\n", i,
		    i, i == 0 ? "&std [r0, r1, r2, r3]" : "*std");
	p = loads(&t);
	assert_int_equal(policy_identity_count(p), n);
	snprintf(name, sizeof(name), "i%zu", n - 1);
	assert_non_null(policy_identity_find(p, name));
	policy_free(p);
}

/*
 * Many anchors and aliases, found through a hash table: each tmux user
 * of a host anchored, and a rule naming them all through aliases.
 */
static void
test_anchors_many(void **state)
{
	struct text	 t = { 0 };
	struct policy	*p;
	size_t		 i, n = RUNNING_ON_VALGRIND ? 2000 : 100000;

	add(&t, "hosts: {h1: {local: true, tmux_users: [");
	for (i = 0; i < n; i++)
		add(&t, "%s&a%zu u%zu", i > 0 ? ", " : "", i, i);
	add(&t, "]}}\nroles:\n  r: {allow: [{hosts: \"*\", actions: [list], "
	    "tmux_users: [");
	for (i = 0; i < n; i++)
		add(&t, "%s*a%zu", i > 0 ? ", " : "", n - 1 - i);
	add(&t, "]}]}\nidentities: {}\n");
	p = loads(&t);
	policy_free(p);

	/* A duplicate anchor is still found. */
	add(&t, "x: [");
	for (i = 0; i < n; i++)
		add(&t, "%s&a%zu u", i > 0 ? ", " : "", i);
	add(&t, "]\ny: &a%zu z\n", n / 2);
	refused(&t, 2, 4, "YAML syntax error: second occurrence found "
	    "duplicate anchor; first occurrence");
}

/* Nesting: refused at the 65th level, in flow and block style alike. */
static void
test_depth(void **state)
{
	struct text	t = { 0 };
	size_t		i;

	add_n(&t, "[", 10000);
	add_n(&t, "]", 10000);
	refused(&t, 1, 65, "lists and mappings nested deeper than 64 levels");

	add_n(&t, "{a: ", 10000);
	add(&t, "x");
	add_n(&t, "}", 10000);
	refused(&t, 1, 257, "lists and mappings nested deeper than 64 "
	    "levels");

	/* As deep as fits: 2,800 levels are 3.9 MB of indentation. */
	for (i = 0; i < 2800; i++)
		add(&t, "%*sa:\n", (int)i, "");
	add(&t, "%*sb: x\n", 2800, "");
	refused(&t, 65, 65, "lists and mappings nested deeper than 64 "
	    "levels");

	for (i = 0; i < 2800; i++)
		add(&t, "%*s-\n", (int)i, "");
	add(&t, "%*sx\n", 2800, "");
	refused(&t, 65, 65, "lists and mappings nested deeper than 64 "
	    "levels");

	/* 64 levels are parsed: the schema has its say. */
	add_n(&t, "[", 64);
	add_n(&t, "]", 64);
	refused(&t, 1, 1, "policy: expected a mapping, found a list");
}

/*
 * A file of 100 MB (sparse) is refused before anything is read: the
 * bytes read(2) by this process stay under a megabyte.
 */
static unsigned long long
bytes_read(void)
{
	unsigned long long	 v = 0;
	char			 line[128];
	FILE			*f;

	assert_non_null(f = fopen("/proc/self/io", "r"));
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "rchar: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

static void
test_size(void **state)
{
	struct policy_errors	 errs = { NULL, 0, 0 };
	struct policy		*p;
	unsigned long long	 before;
	char			*want;
	int			 fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hosts: {}\n", 10), 10);
	assert_int_equal(ftruncate(fd, 100 * 1024 * 1024), 0);
	assert_int_equal(close(fd), 0);
	before = bytes_read();
	p = policy_load(path, &errs);
	assert_true(bytes_read() - before < 1024 * 1024);
	assert_null(p);
	assert_true(asprintf(&want, "%s:0:0: larger than 4194304 bytes",
	    path) != -1);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.msgs[0], want);
	free(want);
	policy_errors_free(&errs);

	/* One byte over, written out. */
	{
		struct text	t = { 0 };

		add(&t, "# ");
		add_n(&t, "x", POLICY_MAX_SIZE - 2);
		add(&t, "\n");
		refused(&t, 0, 0, "larger than 4194304 bytes");
	}
}

/* Scalars: at most 64 KiB, as a value, a key or a line of 4 MB. */
static void
test_scalars(void **state)
{
	struct text	t = { 0 };

	add(&t, HOSTS_ROLES "identities:\n  alice:\n    keys: [\"");
	add_n(&t, "A", 1024 * 1024);
	add(&t, "\"]\n    roles: [r]\n");
	refused(&t, 8, 12, "scalar longer than 65536 bytes");

	add(&t, HOSTS_ROLES "identities:\n  ? ");
	add_n(&t, "a", 1024 * 1024);
	add(&t, "\n  : {keys: [x], roles: [r]}\n");
	refused(&t, 7, 5, "scalar longer than 65536 bytes");

	add(&t, "hosts: ");
	add_n(&t, "h", POLICY_MAX_SIZE - 100);
	add(&t, "\n");
	refused(&t, 1, 8, "scalar longer than 65536 bytes");

	/* 65,536 bytes are a scalar. */
	add(&t, "x: \"");
	add_n(&t, "b", POLICY_MAX_SCALAR);
	add(&t, "\"\n" HOSTS_ROLES "identities: {}\n");
	refused(&t, 1, 1, "policy: unknown key 'x'");
}

/*
 * A long value in an error is cut in the middle: its start, how much was
 * left out, and the end of the message, which holds the hint.
 */
static void
test_error_value_cut(void **state)
{
	struct text	 t = { 0 };
	char		*want;

	add(&t, HOSTS_ROLES "identities:\n  alice:\n    keys: [\"" FP_ED
	    "\"]\n    roles: [r]\n    expires: \"");
	add_n(&t, "9", 60000);
	add(&t, "\"\n");
	/*
	 * "expires: bad date '" is 19 bytes: 221 nines, the cut, then the
	 * last of them and the hint (240 bytes).
	 */
	{
		struct text	w = { 0 };

		add(&w, "expires: bad date '");
		add_n(&w, "9", 221);
		add(&w, "[... %d bytes ...]", 60000 + 19 + 2 + 36 - 480);
		add_n(&w, "9", 240 - 38);
		add(&w, "' (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)");
		want = w.s;
	}
	refused(&t, 10, 14, want);
	free(want);
}

/* At most POLICY_MAX_ERRORS errors listed, then one line saying so. */
static void
test_error_count(void **state)
{
	struct policy_errors	 errs;
	struct policy		*p;
	struct text		 t = { 0 };
	char			*want;

	add(&t, HOSTS_ROLES "identities: {}\ngateway:\n  recording_recipients: [");
	for (int i = 0; i < 100000; i++)
		add(&t, "%sx%d", i > 0 ? ", " : "", i);
	add(&t, "]\n");
	p = load_text(&t, &errs);
	assert_null(p);
	assert_int_equal(errs.n, POLICY_MAX_ERRORS + 1);
	assert_int_equal(errs.total, 100000);
	assert_true(asprintf(&want, "%s:0:0: more errors not shown (at most "
	    "100 are listed)", path) != -1);
	assert_string_equal(errs.msgs[POLICY_MAX_ERRORS], want);
	free(want);
	policy_errors_free(&errs);
}

/*
 * 100,000 identities do not fit in 4 MiB (refused at once); 48,000, as
 * many as fit with a fingerprint each, load (2,000 under valgrind).
 */
static void
identities(struct text *t, size_t n)
{
	size_t	i;

	add(t, HOSTS_ROLES "identities:\n");
	for (i = 0; i < n; i++)
		add(t, "  i%zu: {keys: [\"SHA256:%043zu\"], roles: [r]}\n", i,
		    i);
}

static void
test_identities(void **state)
{
	struct text	 t = { 0 };
	struct policy	*p;
	size_t		 n = RUNNING_ON_VALGRIND ? 2000 : 48000;

	identities(&t, 100000);
	refused(&t, 0, 0, "larger than 4194304 bytes");
	identities(&t, n);
	assert_true(t.len <= POLICY_MAX_SIZE);
	p = loads(&t);
	assert_int_equal(policy_identity_count(p), n);
	assert_non_null(policy_identity_find(p, "i0"));
	policy_free(p);
}

/*
 * Request rules name approver roles: checked against a sorted index, so
 * that 20,000 roles each named once take no longer than listing them.
 */
static void
test_approvers(void **state)
{
	struct text	 t = { 0 };
	struct policy	*p;
	size_t		 i, n = RUNNING_ON_VALGRIND ? 1000 : 20000;

	add(&t, "hosts: {h1: {local: true, tmux_users: [deploy]}}\nroles:\n");
	for (i = 0; i < n; i++)
		add(&t, "  r%zu: {}\n", i);
	add(&t, "  q: {request: [{hosts: \"*\", tmux_users: \"*\", actions: "
	    "[list], max_duration: 1h, approvers: [");
	for (i = 0; i < n; i++)
		add(&t, "%sr%zu", i > 0 ? ", " : "", n - 1 - i);
	add(&t, "]}]}\nidentities: {}\n");
	p = loads(&t);
	policy_free(p);

	add(&t, "hosts: {h1: {local: true, tmux_users: [deploy]}}\nroles:\n"
	    "  r1: {}\n  q: {request: [{hosts: \"*\", tmux_users: \"*\", "
	    "actions: [list], max_duration: 1h, approvers: [r1, r2]}]}\n"
	    "identities: {}\n");
	refused(&t, 4, 93, "approvers: undefined role 'r2'");
}

/* secret_prompts: at most 64 patterns, each compiled to be checked. */
static void
test_prompts(void **state)
{
	struct text	 t = { 0 };
	struct policy	*p;
	int		 i;

	add(&t, HOSTS_ROLES "identities: {}\ngateway:\n  recording:\n"
	    "    secret_prompts: [");
	for (i = 0; i < POLICY_MAX_PROMPTS; i++)
		add(&t, "%s\"(a{60}){60}b%d\"", i > 0 ? ", " : "", i);
	add(&t, "]\n");
	p = loads(&t);
	policy_free(p);

	add(&t, HOSTS_ROLES "identities: {}\ngateway:\n  recording:\n"
	    "    secret_prompts: [");
	for (i = 0; i < 100000; i++)
		add(&t, "%s\"(a{60}){60}b%d\"", i > 0 ? ", " : "", i);
	add(&t, "]\n");
	refused(&t, 9, 21, "gateway.recording.secret_prompts: more than 64 "
	    "patterns");
}

#define T(f) cmocka_unit_test_setup_teardown(f, arm, disarm)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_laughs_lists),
		T(test_laughs_maps),
		T(test_laughs_keys),
		T(test_laughs_identities),
		T(test_alias_recursive),
		T(test_anchors_legitimate),
		T(test_anchors_many),
		T(test_depth),
		T(test_size),
		T(test_scalars),
		T(test_error_value_cut),
		T(test_error_count),
		T(test_identities),
		T(test_approvers),
		T(test_prompts),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
