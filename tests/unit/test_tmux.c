/*
 * test_tmux.c — tmux argument vectors, list-sessions parsing and the
 * classification of tmux's error messages.
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

#include "gateway/str.h"
#include "gateway/tmux.h"

/* A's words must be exactly the NULL-ended WANT. */
static void
expect_argv(const struct argv *a, const char *const *want)
{
	int	i, n;

	for (n = 0; want[n] != NULL; n++)
		;
	for (i = 0; i < a->n && i < n; i++)
		if (strcmp(a->v[i], want[i]) != 0)
			fail_msg("argv[%d] is '%s', expected '%s'", i,
			    a->v[i], want[i]);
	assert_int_equal(a->n, n);
	assert_null(a->v[n]);
}

/*
 * How tmux itself splits an argument list into commands (cmd-parse.c,
 * cmd_parse_from_arguments): an argument ending in ';' ends a command,
 * unless the ';' follows a '\', in which case "\;" becomes ';'.
 * Returns the number of commands; the words of command I go to CMDS[I].
 */
static int
tmux_split(const struct argv *a, struct argv cmds[8])
{
	int	 i, n = 0;
	char	*copy;
	size_t	 len;

	memset(cmds, 0, 8 * sizeof(*cmds));
	for (i = 0; i < a->n; i++) {
		copy = strdup(a->v[i]);
		assert_non_null(copy);
		len = strlen(copy);
		if (len != 0 && copy[len - 1] == ';') {
			copy[--len] = '\0';
			if (len > 0 && copy[len - 1] == '\\')
				copy[len - 1] = ';';
			else {
				if (len > 0)
					argv_add(&cmds[n], copy);
				free(copy);
				n++;
				assert_true(n < 8);
				continue;
			}
		}
		argv_add(&cmds[n], copy);
		free(copy);
	}
	if (cmds[n].n > 0)
		n++;
	return n;
}

static void
free_split(struct argv cmds[8])
{
	int	i;

	for (i = 0; i < 8; i++)
		argv_free(&cmds[i]);
}

/* reap's kill: which session the name is, then that id alone. */
static void
test_args_which_kill_id(void **state)
{
	struct argv	a = { 0 };

	(void)state;
	tmux_args_which(&a, "build;");
	expect_argv(&a, (const char *[]){
	    "display-message", "-p", "-t", "=build;:",
	    "#{session_id} #{session_created}", NULL });
	argv_free(&a);
	tmux_args_kill_id(&a, 0);
	expect_argv(&a, (const char *[]){ "kill-session", "-t", "$0", NULL });
	argv_free(&a);
	tmux_args_kill_id(&a, 4294967295u);
	expect_argv(&a, (const char *[]){ "kill-session", "-t", "$4294967295",
	    NULL });
	argv_free(&a);
}

static void
test_parse_which(void **state)
{
	static const char *const bad[] = {
		"", "\n", "$3 1732300000", "3 1732300000\n",
		"$3  1732300000\n", "$3\t1732300000\n", "$ 1732300000\n",
		"$3 \n", "$-3 1732300000\n", "$+3 1732300000\n",
		"$3 0\n", "$3 -1\n", "$3 17323x\n", "$4294967296 1\n",
		"$3 1732300000\n$4 1\n", "$3 1732300000 \n",
		"$3 99999999999999999999\n", "@3 1732300000\n",
		"$3 1732300000\r\n", "$3 1\n\n",
		"$1 100000000000000000000000000000000000000000000000000000000\n",
	};
	unsigned	id;
	long long	created;
	size_t		i;

	(void)state;
	assert_int_equal(tmux_parse_which("$3 1732300000\n", &id, &created), 0);
	assert_int_equal(id, 3);
	assert_int_equal(created, 1732300000);
	assert_int_equal(tmux_parse_which("$4294967295 1\n", &id, &created), 0);
	assert_int_equal(id, 4294967295u);
	assert_int_equal(created, 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (tmux_parse_which(bad[i], &id, &created) != -1)
			fail_msg("'%s' accepted", bad[i]);
}

static void
test_args_list(void **state)
{
	struct argv	a = { 0 };

	(void)state;
	tmux_args_list(&a);
	assert_int_equal(a.n, 4);
	/* UTF-8 forced so that tmux keeps the tabs between fields. */
	assert_string_equal(a.v[0], "-u");
	assert_string_equal(a.v[1], "list-sessions");
	assert_string_equal(a.v[2], "-F");
	/* Numbers first, the owner filtered, the name last. */
	assert_non_null(strstr(a.v[3], "#{session_created}\t"));
	assert_non_null(strstr(a.v[3], "@muxgate-owner"));
	assert_non_null(strstr(a.v[3], "[^A-Za-z0-9_.-]"));
	assert_int_equal(strlen(a.v[3]) - strlen("#{session_name}"),
	    (size_t)(strstr(a.v[3], "#{session_name}") - a.v[3]));
	assert_null(a.v[4]);
	argv_free(&a);
}

static void
test_args_new_plain(void **state)
{
	struct argv	a = { 0 };

	(void)state;
	tmux_args_new(&a, "build", NULL, "alice", 1732300000, 0, NULL);
	expect_argv(&a, (const char *[]){
	    "new-session", "-d", "-s", "build",
	    ";", "set-option", "-t", "=build:", "@muxgate-owner", "alice",
	    ";", "set-option", "-t", "=build:", "@muxgate-created",
	    "1732300000", NULL });
	argv_free(&a);
}

static void
test_args_new_command(void **state)
{
	struct argv	 a = { 0 };
	char		*cmd[] = { "/usr/bin/tail", "-f", "/dev/null", NULL };

	(void)state;
	tmux_args_new(&a, "t1", "/home/deploy", "bob", 5, 3, cmd);
	expect_argv(&a, (const char *[]){
	    "new-session", "-d", "-s", "t1", "-c", "/home/deploy",
	    "--", "/usr/bin/env", "--", "/usr/bin/tail", "-f", "/dev/null",
	    ";", "set-option", "-t", "=t1:", "@muxgate-owner", "bob",
	    ";", "set-option", "-t", "=t1:", "@muxgate-created", "5", NULL });
	argv_free(&a);

	/* A one-word command still reaches tmux as two or more words. */
	cmd[1] = NULL;
	tmux_args_new(&a, "t2", NULL, "bob", 0, 1, cmd);
	expect_argv(&a, (const char *[]){
	    "new-session", "-d", "-s", "t2",
	    "--", "/usr/bin/env", "--", "/usr/bin/tail",
	    ";", "set-option", "-t", "=t2:", "@muxgate-owner", "bob",
	    ";", "set-option", "-t", "=t2:", "@muxgate-created", "0", NULL });
	argv_free(&a);
}

static void
test_args_new_splits_into_three_commands(void **state)
{
	struct argv	 a = { 0 }, cmds[8];
	char		*cmd[] = { "/bin/echo", "a;", ";", "b\\;", "c", NULL };

	(void)state;
	tmux_args_new(&a, "s", NULL, "alice", 7, 5, cmd);
	assert_int_equal(tmux_split(&a, cmds), 3);
	/* The user's ';' arguments stay inside the first command, intact. */
	expect_argv(&cmds[0], (const char *[]){ "new-session", "-d", "-s",
	    "s", "--", "/usr/bin/env", "--", "/bin/echo", "a;", ";", "b\\;",
	    "c", NULL });
	expect_argv(&cmds[1], (const char *[]){ "set-option", "-t", "=s:",
	    "@muxgate-owner", "alice", NULL });
	expect_argv(&cmds[2], (const char *[]){ "set-option", "-t", "=s:",
	    "@muxgate-created", "7", NULL });
	free_split(cmds);
	argv_free(&a);
}

static void
test_trailing_semicolon_escaped(void **state)
{
	struct argv	 a = { 0 };
	char		*cmd[] = { "x;", ";", "a;b", "\\;", "", ";;", NULL };
	int		 i, sep = 0;

	(void)state;
	tmux_args_new(&a, "n", "/tmp/d;", "o;", 1, 6, cmd);
	expect_argv(&a, (const char *[]){
	    "new-session", "-d", "-s", "n", "-c", "/tmp/d\\;",
	    "--", "/usr/bin/env", "--",
	    "x\\;", "\\;", "a;b", "\\\\;", "", ";\\;",
	    ";", "set-option", "-t", "=n:", "@muxgate-owner", "o\\;",
	    ";", "set-option", "-t", "=n:", "@muxgate-created", "1", NULL });
	/* Only our two separators end in an unescaped ';'. */
	for (i = 0; i < a.n; i++) {
		size_t	len = strlen(a.v[i]);

		if (len > 0 && a.v[i][len - 1] == ';' &&
		    (len == 1 || a.v[i][len - 2] != '\\'))
			sep++;
	}
	assert_int_equal(sep, 2);
	argv_free(&a);

	/*
	 * A name ending in ';': escaped for -s; the set-option targets end
	 * in ':' and are passed as they are.
	 */
	tmux_args_new(&a, "x;", NULL, "o", 2, 0, NULL);
	expect_argv(&a, (const char *[]){
	    "new-session", "-d", "-s", "x\\;",
	    ";", "set-option", "-t", "=x;:", "@muxgate-owner", "o",
	    ";", "set-option", "-t", "=x;:", "@muxgate-created", "2", NULL });
	argv_free(&a);

	/* A name ending in ';' in a target is escaped as well. */
	tmux_args_kill(&a, "x;");
	expect_argv(&a, (const char *[]){ "kill-session", "-t", "=x\\;",
	    NULL });
	argv_free(&a);
	tmux_args_attach(&a, "x;", false);
	expect_argv(&a, (const char *[]){ "attach-session", "-t", "=x\\;",
	    NULL });
	argv_free(&a);
}

static void
test_escaping_round_trips(void **state)
{
	static const char *const words[] = {
		"a;", ";", "\\;", "\\\\;", "x\\", "a;b", ";a", "", " ;",
		"\xc3\xa9;",
	};
	struct argv	 a = { 0 }, cmds[8];
	char		*cmd[16];
	size_t		 i, n = sizeof(words) / sizeof(words[0]);

	(void)state;
	for (i = 0; i < n; i++)
		cmd[i] = (char *)words[i];
	tmux_args_new(&a, "s", NULL, "o", 1, (int)n, cmd);
	assert_int_equal(tmux_split(&a, cmds), 3);
	/* After tmux's own unescaping the command is what the user typed. */
	assert_int_equal(cmds[0].n, 7 + (int)n);
	for (i = 0; i < n; i++)
		assert_string_equal(cmds[0].v[7 + i], words[i]);
	free_split(cmds);
	argv_free(&a);
}

static void
test_args_kill_attach(void **state)
{
	struct argv	a = { 0 };

	(void)state;
	tmux_args_kill(&a, "build");
	expect_argv(&a, (const char *[]){ "kill-session", "-t", "=build",
	    NULL });
	argv_free(&a);

	tmux_args_attach(&a, "build", false);
	expect_argv(&a, (const char *[]){ "attach-session", "-t", "=build",
	    NULL });
	argv_free(&a);

	tmux_args_attach(&a, "build", true);
	expect_argv(&a, (const char *[]){ "attach-session", "-r", "-f",
	    "read-only,ignore-size", "-t", "=build", NULL });
	argv_free(&a);

	/* Names that look like options or formats stay one exact target. */
	tmux_args_attach(&a, "-x #{pane_pid}", true);
	expect_argv(&a, (const char *[]){ "attach-session", "-r", "-f",
	    "read-only,ignore-size", "-t", "=-x #{pane_pid}", NULL });
	argv_free(&a);
}

static void
test_args_append(void **state)
{
	struct argv	a = { 0 };

	(void)state;
	/* The verbs append after whatever is already there (the binary). */
	argv_add(&a, "/usr/bin/tmux");
	tmux_args_kill(&a, "k");
	expect_argv(&a, (const char *[]){ "/usr/bin/tmux", "kill-session",
	    "-t", "=k", NULL });
	argv_free(&a);
}

static void
test_parse_good(void **state)
{
	struct tmux_sessions		 s;
	const struct tmux_session	*t;
	char				 err[256] = "";

	(void)state;
	assert_int_equal(tmux_parse_sessions(
	    "1732300000\t1732300100\t2\t1\talice\tbuild\n"
	    "1732300500\t1732300600\t1\t0\t\tfoobar\n"
	    "1700000000\t1700000001\t10\t3\tbob\ta b\tc\t\td\n",
	    &s, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(s.n, 3);

	assert_string_equal(s.v[0].name, "build");
	assert_int_equal(s.v[0].created, 1732300000);
	assert_int_equal(s.v[0].activity, 1732300100);
	assert_int_equal(s.v[0].windows, 2);
	assert_int_equal(s.v[0].attached, 1);
	assert_string_equal(s.v[0].owner, "alice");

	assert_string_equal(s.v[1].name, "foobar");
	assert_null(s.v[1].owner);
	assert_int_equal(s.v[1].attached, 0);

	/* The name is the last field and keeps its tabs. */
	assert_string_equal(s.v[2].name, "a b\tc\t\td");
	assert_string_equal(s.v[2].owner, "bob");
	assert_int_equal(s.v[2].windows, 10);
	assert_int_equal(s.v[2].attached, 3);

	assert_non_null(t = tmux_sessions_find(&s, "a b\tc\t\td"));
	assert_ptr_equal(t, &s.v[2]);
	tmux_sessions_free(&s);
	assert_null(s.v);
	assert_int_equal(s.n, 0);
}

static void
test_parse_no_trailing_newline(void **state)
{
	struct tmux_sessions	s;
	char			err[256];

	(void)state;
	assert_int_equal(tmux_parse_sessions("1\t2\t3\t4\t\tx", &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0].name, "x");
	assert_int_equal(s.v[0].created, 1);
	assert_int_equal(s.v[0].activity, 2);
	tmux_sessions_free(&s);
}

static void
test_parse_name_with_escapes(void **state)
{
	struct tmux_sessions	s;
	char			err[256];

	(void)state;
	/* Untrusted bytes in the name are kept for out_escape to handle. */
	assert_int_equal(tmux_parse_sessions(
	    "1\t2\t1\t0\t\tx\x1b]0;pwn\x07y\n", &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0].name, "x\x1b]0;pwn\x07y");
	tmux_sessions_free(&s);
}

static void
test_parse_empty(void **state)
{
	struct tmux_sessions	s;
	char			err[256] = "";

	(void)state;
	assert_int_equal(tmux_parse_sessions("", &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 0);
	assert_null(tmux_sessions_find(&s, "x"));
	tmux_sessions_free(&s);
	assert_int_equal(tmux_parse_sessions("\n\n", &s, err, sizeof(err)),
	    0);
	assert_int_equal(s.n, 0);
	tmux_sessions_free(&s);
	assert_string_equal(err, "");
}

static void
expect_parse_bad(const char *text, const char *want)
{
	struct tmux_sessions	s;
	char			err[256] = "";

	assert_int_equal(tmux_parse_sessions(text, &s, err, sizeof(err)), -1);
	assert_int_equal(s.n, 0);
	assert_null(s.v);
	if (strcmp(err, want) != 0)
		fail_msg("for %s: error '%s', expected '%s'", text, err, want);
}

static void
test_parse_malformed(void **state)
{
	static const char	line1[] = "unexpected tmux output on line 1";
	static const char	good[] =
	    "1732300000\t1732300100\t2\t1\talice\tbuild\n"
	    "1732300500\t1732300600\t1\t0\tbob\tother\n";
	char			text[512];

	(void)state;
	expect_parse_bad("garbage", line1);
	expect_parse_bad("no server running on /tmp/tmux-0/default\n", line1);
	/* Missing fields. */
	expect_parse_bad("1\t2\t3\t4\talice", line1);
	expect_parse_bad("1\t2\t3\t4", line1);
	expect_parse_bad("1\t2\t3\t4\talice\t", line1);	/* empty name */
	/* Non-numeric, negative, partly numeric, empty numbers. */
	expect_parse_bad("x\t2\t3\t4\t\tname", line1);
	expect_parse_bad("1\tx\t3\t4\t\tname", line1);
	expect_parse_bad("1\t2\tx\t4\t\tname", line1);
	expect_parse_bad("1\t2\t3\tx\t\tname", line1);
	expect_parse_bad("-1\t2\t3\t4\t\tname", line1);
	expect_parse_bad("1\t2\t-3\t4\t\tname", line1);
	expect_parse_bad("1\t2\t 3\t4\t\tname", line1);
	expect_parse_bad("1\t2\t3a\t4\t\tname", line1);
	expect_parse_bad("1\t\t3\t4\t\tname", line1);
	expect_parse_bad("+1\t2\t3\t4\t\tname", line1);
	/* Numbers beyond long long are refused, not clamped. */
	expect_parse_bad("99999999999999999999\t2\t3\t4\t\tname", line1);
	expect_parse_bad("1\t9223372036854775808\t3\t4\t\tname", line1);
	/* Absurd counts. */
	expect_parse_bad("1\t2\t1000001\t4\t\tname", line1);
	expect_parse_bad("1\t2\t3\t1000001\t\tname", line1);

	/* Bad lines after good ones: an error and nothing leaked. */
	snprintf(text, sizeof(text), "%sbroken\n", good);
	expect_parse_bad(text, "unexpected tmux output on line 3");
	snprintf(text, sizeof(text), "%s1\t2\t3\t4\t\t\n%s", good, good);
	expect_parse_bad(text, "unexpected tmux output on line 3");
	snprintf(text, sizeof(text), "%s1\t2\tmany\t4\t\tx\n", good);
	expect_parse_bad(text, "unexpected tmux output on line 3");
}

static void
test_find_exact(void **state)
{
	struct tmux_sessions		s;
	const struct tmux_session	*t;
	char				err[256];

	(void)state;
	assert_int_equal(tmux_parse_sessions(
	    "1\t1\t1\t0\t\tfoobar\n"
	    "2\t2\t1\t0\t\tfo\n"
	    "3\t3\t1\t0\t\tfoo\n"
	    "4\t4\t1\t0\t\tFOO\n", &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 4);
	assert_non_null(t = tmux_sessions_find(&s, "foo"));
	assert_string_equal(t->name, "foo");
	assert_int_equal(t->created, 3);
	assert_non_null(t = tmux_sessions_find(&s, "foobar"));
	assert_int_equal(t->created, 1);
	assert_non_null(t = tmux_sessions_find(&s, "FOO"));
	assert_int_equal(t->created, 4);
	assert_null(tmux_sessions_find(&s, "f"));
	assert_null(tmux_sessions_find(&s, "fooba"));
	assert_null(tmux_sessions_find(&s, "foobarx"));
	assert_null(tmux_sessions_find(&s, "Foo"));
	assert_null(tmux_sessions_find(&s, ""));
	tmux_sessions_free(&s);

	/* Without foo itself, foobar is not found for foo. */
	assert_int_equal(tmux_parse_sessions("1\t1\t1\t0\t\tfoobar\n", &s,
	    err, sizeof(err)), 0);
	assert_null(tmux_sessions_find(&s, "foo"));
	tmux_sessions_free(&s);
}

/*
 * Sessions made outside muxgate whose names tmux would read as an id
 * ("=$1" is the session with id $1 on tmux 3.3a) are left out, counted,
 * and never found.
 */
static void
test_parse_skips_id_like_names(void **state)
{
	struct tmux_sessions	s;
	char			err[256] = "";

	(void)state;
	assert_int_equal(tmux_parse_sessions(
	    "1\t1\t1\t0\t\tvictim\n"
	    "2\t2\t1\t0\tmallory\t$1\n"
	    "3\t3\t1\t0\t\t@2\n"
	    "4\t4\t1\t0\t\t%3\n"
	    "5\t5\t1\t0\t\t=$1\n"
	    "6\t6\t1\t0\t\tok$1\n", &s, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(s.n, 2);
	assert_int_equal(s.hidden, 4);
	assert_string_equal(s.v[0].name, "victim");
	assert_string_equal(s.v[1].name, "ok$1");
	assert_int_equal(s.v[1].created, 6);
	assert_null(tmux_sessions_find(&s, "$1"));
	assert_null(tmux_sessions_find(&s, "@2"));
	assert_null(tmux_sessions_find(&s, "%3"));
	assert_null(tmux_sessions_find(&s, "=$1"));
	assert_non_null(tmux_sessions_find(&s, "ok$1"));
	tmux_sessions_free(&s);
	assert_int_equal(s.hidden, 0);

	/* Only such sessions: none listed, all counted. */
	assert_int_equal(tmux_parse_sessions("1\t1\t1\t0\t\t$0\n", &s,
	    err, sizeof(err)), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.hidden, 1);
	tmux_sessions_free(&s);
}

static void
test_name_addressable(void **state)
{
	(void)state;
	assert_false(tmux_name_addressable("$1"));
	assert_false(tmux_name_addressable("@2"));
	assert_false(tmux_name_addressable("%3"));
	assert_false(tmux_name_addressable("=$1"));
	assert_false(tmux_name_addressable("="));
	assert_false(tmux_name_addressable(""));
	assert_true(tmux_name_addressable("build"));
	assert_true(tmux_name_addressable("a$1"));
	assert_true(tmux_name_addressable("-x"));
}

static void
test_classify(void **state)
{
	(void)state;
	assert_int_equal(tmux_classify(
	    "no server running on /tmp/tmux-0/default\n"), TMUX_NO_SERVER);
	assert_int_equal(tmux_classify(
	    "no server running on /tmp/tmux-1001/default"), TMUX_NO_SERVER);
	assert_int_equal(tmux_classify("error connecting to "
	    "/tmp/tmux-1001/default (No such file or directory)\n"),
	    TMUX_NO_SERVER);
	assert_int_equal(tmux_classify("error connecting to "
	    "/tmp/tmux-1001/default (Connection refused)\n"), TMUX_NO_SERVER);
	assert_int_equal(tmux_classify("can't find session: foo\n"),
	    TMUX_NO_SESSION);
	assert_int_equal(tmux_classify("can't find session: =foo"),
	    TMUX_NO_SESSION);
	assert_int_equal(tmux_classify("duplicate session: foo\n"),
	    TMUX_DUPLICATE);

	/* Anything else is a real failure. */
	assert_int_equal(tmux_classify("error connecting to "
	    "/tmp/tmux-1001/default (Permission denied)\n"), TMUX_OTHER);
	assert_int_equal(tmux_classify("sudo: a password is required\n"),
	    TMUX_OTHER);
	assert_int_equal(tmux_classify("unknown command: foo\n"), TMUX_OTHER);
	assert_int_equal(tmux_classify("open terminal failed: not a "
	    "terminal\n"), TMUX_OTHER);
	assert_int_equal(tmux_classify(""), TMUX_OTHER);
	assert_int_equal(tmux_classify(NULL), TMUX_OTHER);
	/* The phrase must start the message, not appear in a name. */
	assert_int_equal(tmux_classify("unknown option: can't find session"),
	    TMUX_OTHER);
	assert_int_equal(tmux_classify("x no server running"), TMUX_OTHER);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args_list),
		cmocka_unit_test(test_args_which_kill_id),
		cmocka_unit_test(test_parse_which),
		cmocka_unit_test(test_args_new_plain),
		cmocka_unit_test(test_args_new_command),
		cmocka_unit_test(test_args_new_splits_into_three_commands),
		cmocka_unit_test(test_trailing_semicolon_escaped),
		cmocka_unit_test(test_escaping_round_trips),
		cmocka_unit_test(test_args_kill_attach),
		cmocka_unit_test(test_args_append),
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_no_trailing_newline),
		cmocka_unit_test(test_parse_name_with_escapes),
		cmocka_unit_test(test_parse_empty),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_find_exact),
		cmocka_unit_test(test_parse_skips_id_like_names),
		cmocka_unit_test(test_name_addressable),
		cmocka_unit_test(test_classify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
