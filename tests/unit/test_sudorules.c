/*
 * test_sudorules.c — the judge of `sudo -l -U USER` output, fed with
 * outputs of sudo 1.9 captured on a test machine (tests/unit/data/sudo-l/,
 * made from temporary sudoers rules for the accounts mgt-lpa, mgt-lpb,
 * mgt-lpc) and with hostile ones.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/sudorules.h"
#include "gateway/xmalloc.h"

#define DATA	"tests/unit/data/sudo-l/"

static const char *const tmux_users[] = { "mgt-lpb", "mgt-lpc" };
static const struct sudorules_want want = { "/usr/bin/tmux", tmux_users, 2 };

static char *
slurp(const char *name)
{
	char	 path[256];
	FILE	*f;
	char	*data;
	long	 len;

	snprintf(path, sizeof(path), DATA "%s", name);
	if ((f = fopen(path, "r")) == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len > 0);
	rewind(f);
	data = xmalloc((size_t)len + 1);
	assert_int_equal(fread(data, 1, (size_t)len, f), (size_t)len);
	data[len] = '\0';
	fclose(f);
	return data;
}

/* The findings for TEXT, as one string of lines. */
static size_t
judge(const char *text, const struct sudorules_want *w, struct argv *f)
{
	memset(f, 0, sizeof(*f));
	return sudorules_judge(text, w, f);
}

static void
expect(const char *text, const struct sudorules_want *w, const char **lines,
    size_t n)
{
	struct argv	f;
	size_t		i;

	assert_int_equal(judge(text, w, &f), n);
	assert_int_equal(f.n, (int)n);
	for (i = 0; i < n; i++)
		assert_string_equal(f.v[i], lines[i]);
	argv_free(&f);
}

static void
expect_file(const char *name, const struct sudorules_want *w,
    const char **lines, size_t n)
{
	char	*text = slurp(name);

	expect(text, w, lines, n);
	free(text);
}

/* mgt-lpa ALL=(mgt-lpb) NOPASSWD: /usr/bin/tmux: exactly what is needed. */
static void
test_real_clean_rule(void **state)
{
	struct argv	 f;
	char		*text;

	expect_file("mgt-lpa.txt", &want, NULL, 0);
	/* The same rule for a tmux user (no rights wanted) is a finding. */
	text = slurp("mgt-lpa.txt");
	assert_int_equal(judge(text, NULL, &f), 1);
	assert_string_equal(f.v[0], "(mgt-lpb) NOPASSWD: /usr/bin/tmux");
	argv_free(&f);
	free(text);
}

static void
test_real_all(void **state)
{
	const char	*w[] = { "(ALL) ALL: as any user (ALL)" };
	const char	*t[] = { "(ALL) ALL" };

	expect_file("mgt-lpb.txt", &want, w, 1);
	expect_file("mgt-lpb.txt", NULL, t, 1);
}

/* Root, a group and arguments; and a rule sudo wrapped over two lines. */
static void
test_real_root_group_args_wrapped(void **state)
{
	const char	*w[] = {
		"(root) NOPASSWD: /usr/bin/tmux, /usr/bin/id: as root",
		"(mgt-lpa, mgt-lpb : mgt-lpb) SETENV: /usr/bin/tmux -L x: with "
		    "a runas group",
		"(mgt-lpa, mgt-lpb, mgt-lpc, mgt-lpa, mgt-lpb, mgt-lpc, mgt-lpa, "
		    "mgt-lpb) NOPASSWD: /usr/bin/tmux, /usr/bin/tmux new-session "
		    "-d: as a user that is not a local tmux user",
	};
	static const char *const more[] = { "mgt-lpa", "mgt-lpb", "mgt-lpc" };
	const struct sudorules_want	 all = { "/usr/bin/tmux", more, 3 };
	const char	*w2[] = {
		"(root) NOPASSWD: /usr/bin/tmux, /usr/bin/id: as root",
		"(mgt-lpa, mgt-lpb : mgt-lpb) SETENV: /usr/bin/tmux -L x: with "
		    "a runas group",
		"(mgt-lpa, mgt-lpb, mgt-lpc, mgt-lpa, mgt-lpb, mgt-lpc, mgt-lpa, "
		    "mgt-lpb) NOPASSWD: /usr/bin/tmux, /usr/bin/tmux new-session "
		    "-d: a command other than tmux without arguments",
	};

	expect_file("mgt-lpc.txt", &want, w, 3);
	expect_file("mgt-lpc.txt", &all, w2, 3);
}

static void
test_real_not_allowed(void **state)
{
	expect_file("nobody.txt", &want, NULL, 0);
	expect_file("nobody.txt", NULL, NULL, 0);
}

/* Aliases come out expanded; tags in any order; a %group runas. */
static void
test_real_aliases_tags_groups(void **state)
{
	const char	*w[] = { "(%mgt-lpb) /usr/bin/tmux: as a group, "
	    "netgroup, uid or negation" };
	const char	*b[] = { "(mgt-lpc) NOPASSWD: ALL, !/usr/bin/id: any "
	    "command (ALL)" };
	const char	*c[] = {
		"(root) /usr/bin/tmux: as root",
		"(mgt-lpb) NOPASSWD: sudoedit /etc/motd: a command other than "
		    "tmux without arguments",
	};

	expect_file("mgt-lpa-2.txt", &want, w, 1);
	expect_file("mgt-lpb-2.txt", &want, b, 1);
	expect_file("mgt-lpc-2.txt", &want, c, 2);
}

static const char head[] = "User x may run the following commands on h:\n";

static void
test_hostile(void **state)
{
	struct {
		const char	*rules;
		const char	*finding;	/* NULL: none */
	} t[] = {
		{ "    (mgt-lpb) /usr/bin/tmux\n", NULL },
		{ "    (mgt-lpb) /usr/bin/tmuxx\n", "(mgt-lpb) /usr/bin/tmuxx: "
		    "a command other than tmux without arguments" },
		{ "    (mgt-lpb) /usr/bin/tmux \n", "(mgt-lpb) /usr/bin/tmux : "
		    "a command other than tmux without arguments" },
		{ "    (mgt-lpb) /usr/bin/tmux, ALL\n", "(mgt-lpb) "
		    "/usr/bin/tmux, ALL: any command (ALL)" },
		{ "    (mgt-lpb) SETENV: /usr/bin/tmux\n", "(mgt-lpb) SETENV: "
		    "/usr/bin/tmux: SETENV: the caller may set the environment" },
		{ "    (mgt-lpb) NOPASSWD: SETENV: /usr/bin/tmux\n",
		    "(mgt-lpb) NOPASSWD: SETENV: /usr/bin/tmux: SETENV: the "
		    "caller may set the environment" },
		{ "    (mgt-lpb) BOGUS: /usr/bin/tmux\n", "(mgt-lpb) BOGUS: "
		    "/usr/bin/tmux: an unknown tag" },
		{ "    (mgt-lpb) CWD=* /usr/bin/tmux\n", "(mgt-lpb) CWD=* "
		    "/usr/bin/tmux: an option" },
		{ "    (mgt-lpb) !/usr/bin/tmux\n", "(mgt-lpb) !/usr/bin/tmux: "
		    "a command other than tmux without arguments" },
		{ "    (mgt-lpbx) /usr/bin/tmux\n", "(mgt-lpbx) /usr/bin/tmux: "
		    "as a user that is not a local tmux user" },
		{ "    (mgt-lp) /usr/bin/tmux\n", "(mgt-lp) /usr/bin/tmux: "
		    "as a user that is not a local tmux user" },
		{ "    (#0) /usr/bin/tmux\n", "(#0) /usr/bin/tmux: as a group, "
		    "netgroup, uid or negation" },
		{ "    (!root) /usr/bin/tmux\n", "(!root) /usr/bin/tmux: as a "
		    "group, netgroup, uid or negation" },
		{ "    (mgt-lpb, root) /usr/bin/tmux\n", "(mgt-lpb, root) "
		    "/usr/bin/tmux: as root" },
		{ "    () /usr/bin/tmux\n", "() /usr/bin/tmux: an empty runas "
		    "user" },
		{ "    (: mgt-lpb) /usr/bin/tmux\n", "(: mgt-lpb) /usr/bin/tmux: "
		    "with a runas group" },
		{ "    (mgt-lpb) mgt-lpc) /usr/bin/tmux\n", "(mgt-lpb) mgt-lpc) "
		    "/usr/bin/tmux: a command other than tmux without "
		    "arguments" },
		{ "    (mgt-lpb)/usr/bin/tmux\n", "(mgt-lpb)/usr/bin/tmux: not "
		    "understood" },
		{ "    (mgt-lpb /usr/bin/tmux\n", "(mgt-lpb /usr/bin/tmux: not "
		    "understood" },
		{ "    /usr/bin/tmux\n", "/usr/bin/tmux: not understood" },
		{ "\t(mgt-lpb) /usr/bin/tmux\n", "\t(mgt-lpb) /usr/bin/tmux: "
		    "not understood" },
		/* A continuation before any rule is not one. */
		{ "        ALL\n", "ALL: not understood" },
		/* A wrapped rule whose second line grants more. */
		{ "    (mgt-lpb)\n        NOPASSWD: /usr/bin/tmux, ALL\n",
		    "(mgt-lpb) NOPASSWD: /usr/bin/tmux, ALL: any command (ALL)" },
		{ "    (mgt-lpb) /usr/bin/tmux\nSudoers entry:\n",
		    "Sudoers entry:: not understood" },
	};
	struct buf	 text = { 0 };
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		buf_adds(&text, head);
		buf_adds(&text, t[i].rules);
		expect(text.data, &want, &t[i].finding, t[i].finding != NULL);
		buf_free(&text);
	}
}

/* Output without a list of rules is not "no rights". */
static void
test_not_a_listing(void **state)
{
	const char	*none[] = { "no list of rules in the output of sudo -l" };
	const char	*odd[] = { "sudo: unknown user mgt-lpd: not understood",
	    "no list of rules in the output of sudo -l" };
	const char	*defaults_only[] = { "no list of rules in the output "
	    "of sudo -l" };

	expect("", &want, none, 1);
	expect("\n\n", &want, none, 1);
	expect("sudo: unknown user mgt-lpd\n", &want, odd, 2);
	expect("Matching Defaults entries for x on h:\n    env_reset\n", &want,
	    defaults_only, 1);
	/* The last line without its newline still counts. */
	expect("User x may run the following commands on h:\n    (ALL) ALL",
	    NULL, (const char *[]){ "(ALL) ALL" }, 1);
	/* A header that says "not allowed" and then rules anyway. */
	expect("User x is not allowed to run sudo on h.\n    (ALL) ALL\n",
	    &want, (const char *[]){ "(ALL) ALL: not understood" }, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_clean_rule),
		cmocka_unit_test(test_real_all),
		cmocka_unit_test(test_real_root_group_args_wrapped),
		cmocka_unit_test(test_real_not_allowed),
		cmocka_unit_test(test_real_aliases_tags_groups),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_not_a_listing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
