/*
 * test_target.c — target_parse() for HOST, USER@HOST, USER@HOST:SESSION,
 * and target_valid_new_name().
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

#include "gateway/target.h"

#define ALL	(TARGET_HOST | TARGET_USER_HOST | TARGET_SESSION)

/* Parse S, which must succeed, and check the parts (NULL: absent). */
static void
expect_ok(const char *s, unsigned kinds, enum target_kind kind,
    const char *user, const char *host, const char *session)
{
	struct target	t;
	char		err[256] = "";

	assert_int_equal(target_parse(s, kinds, &t, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(t.kind, kind);
	if (user == NULL)
		assert_null(t.user);
	else
		assert_string_equal(t.user, user);
	assert_non_null(t.host);
	assert_string_equal(t.host, host);
	if (session == NULL)
		assert_null(t.session);
	else
		assert_string_equal(t.session, session);
	target_free(&t);
	assert_null(t.user);
	assert_null(t.host);
	assert_null(t.session);
}

/* Parse S, which must fail; T is left empty; ERR contains WANT. */
static void
expect_bad(const char *s, unsigned kinds, const char *want)
{
	struct target	t;
	char		err[512] = "";

	assert_int_equal(target_parse(s, kinds, &t, err, sizeof(err)), -1);
	assert_null(t.user);
	assert_null(t.host);
	assert_null(t.session);
	assert_true(err[0] != '\0');
	assert_null(strchr(err, '\n'));
	if (want != NULL && strstr(err, want) == NULL)
		fail_msg("'%s': error '%s' lacks '%s'", s, err, want);
	target_free(&t);	/* harmless on an empty target */
}

static void
test_host(void **state)
{
	(void)state;
	expect_ok("bastion", ALL, TARGET_HOST, NULL, "bastion", NULL);
	expect_ok("web-1.example_x", TARGET_HOST, TARGET_HOST, NULL,
	    "web-1.example_x", NULL);
	expect_bad("bastion", TARGET_USER_HOST | TARGET_SESSION,
	    "bad target 'bastion': expected USER@HOST or USER@HOST:SESSION");
	expect_bad("bastion", TARGET_SESSION,
	    "bad target 'bastion': expected USER@HOST:SESSION");
}

static void
test_user_host(void **state)
{
	(void)state;
	expect_ok("deploy@bastion", ALL, TARGET_USER_HOST, "deploy",
	    "bastion", NULL);
	expect_ok("deploy@bastion", TARGET_USER_HOST, TARGET_USER_HOST,
	    "deploy", "bastion", NULL);
	expect_ok("_svc.x-1@h", TARGET_USER_HOST, TARGET_USER_HOST,
	    "_svc.x-1", "h", NULL);
	expect_bad("deploy@bastion", TARGET_HOST, "expected USER@HOST");
	expect_bad("deploy@bastion", TARGET_SESSION,
	    "bad target 'deploy@bastion': expected USER@HOST:SESSION");
}

static void
test_session(void **state)
{
	(void)state;
	expect_ok("deploy@bastion:build", ALL, TARGET_SESSION, "deploy",
	    "bastion", "build");
	expect_ok("deploy@bastion:build", TARGET_SESSION, TARGET_SESSION,
	    "deploy", "bastion", "build");
	expect_ok("deploy@bastion:0", TARGET_SESSION, TARGET_SESSION,
	    "deploy", "bastion", "0");
	expect_bad("deploy@bastion:build", TARGET_USER_HOST,
	    "bad target 'deploy@bastion:build': expected USER@HOST");
	expect_bad("deploy@bastion:build", TARGET_HOST, "bad target");
	/* ':' before '@' is never a target. */
	expect_bad("bastion:build", ALL, "bad target 'bastion:build'");
	expect_bad("a:b@c", ALL, "bad target");
	expect_bad("a:b@c:d", ALL, "bad target");
}

static void
test_session_names_kept(void **state)
{
	(void)state;
	/* Whatever tmux allows in a name comes back verbatim. */
	expect_ok("d@h:my session", TARGET_SESSION, TARGET_SESSION, "d", "h",
	    "my session");
	expect_ok("d@h:it's \"quoted\"", TARGET_SESSION, TARGET_SESSION, "d",
	    "h", "it's \"quoted\"");
	expect_ok("d@h:caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac", TARGET_SESSION,
	    TARGET_SESSION, "d", "h", "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac");
	expect_ok("d@h:a@b", TARGET_SESSION, TARGET_SESSION, "d", "h", "a@b");
	expect_ok("d@h:-x", TARGET_SESSION, TARGET_SESSION, "d", "h", "-x");
	expect_ok("d@h:;", TARGET_SESSION, TARGET_SESSION, "d", "h", ";");
}

static void
test_session_colon_dot_refused(void **state)
{
	(void)state;
	expect_bad("d@h:a:b", TARGET_SESSION, "session names never contain "
	    "':' or '.'");
	expect_bad("d@h:a.b", TARGET_SESSION, "session names never contain "
	    "':' or '.'");
	expect_bad("d@h:.", ALL, "':' or '.'");
	expect_bad("d@h::", ALL, "':' or '.'");
	expect_bad("d@h:build:0.1", ALL, "':' or '.'");
}

/*
 * tmux 3.3a reads "-t =$1" as the session whose id is $1, whatever its
 * name: a session someone named "$1" would hand muxgate another one.
 */
static void
test_session_id_like_names_refused(void **state)
{
	static const char *const bad[] = {
		"$1", "@2", "%3", "=$1", "$0", "$", "@", "%", "=", "==x",
		"=build", "$build", "@build", "%build",
	};
	static const char	 why[] = "session names starting with '$', "
	    "'@', '%' or '=' are refused";
	char			 s[64];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(s, sizeof(s), "deploy@bastion:%s", bad[i]);
		expect_bad(s, TARGET_SESSION, why);
		expect_bad(s, ALL, why);
		assert_false(target_valid_new_name(bad[i]));
	}
	/* Elsewhere in a name they are plain characters. */
	expect_ok("d@h:a$1", TARGET_SESSION, TARGET_SESSION, "d", "h", "a$1");
	expect_ok("d@h:x@2", TARGET_SESSION, TARGET_SESSION, "d", "h", "x@2");
	expect_ok("d@h:1%3", TARGET_SESSION, TARGET_SESSION, "d", "h", "1%3");
	expect_ok("d@h:a=$1", TARGET_SESSION, TARGET_SESSION, "d", "h",
	    "a=$1");
	expect_ok("d@h: $1", TARGET_SESSION, TARGET_SESSION, "d", "h", " $1");
}

static void
test_session_length(void **state)
{
	char	s[300];

	(void)state;
	memcpy(s, "d@h:", sizeof("d@h:"));
	memset(s + 4, 'x', 256);
	s[4 + 256] = '\0';
	expect_ok(s, TARGET_SESSION, TARGET_SESSION, "d", "h", s + 4);
	s[4 + 256] = 'x';
	s[4 + 257] = '\0';
	expect_bad(s, TARGET_SESSION, "bad session name");
}

static void
test_empty_parts(void **state)
{
	(void)state;
	expect_bad("", ALL, "bad host name");
	expect_bad("@", ALL, "bad");
	expect_bad("@bastion", ALL, "bad user name in target '@bastion'");
	expect_bad("deploy@", ALL, "bad host name in target 'deploy@'");
	expect_bad("deploy@:s", ALL, "bad host name");
	expect_bad("@bastion:s", ALL, "bad user name");
	expect_bad("deploy@bastion:", ALL, "bad session name in target "
	    "'deploy@bastion:'");
	expect_bad("deploy@bastion:", TARGET_SESSION, "bad session name");
}

static void
test_bad_host_chars(void **state)
{
	static const char *const bad[] = {
		"bas tion", "bas/tion", "bas;tion", "-bastion", ".bastion",
		"bast\xc3\xadon", "bas$tion", "bas\ttion", "bas@", "b*",
	};
	char	s[128];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(s, sizeof(s), "deploy@%s", bad[i]);
		if (strchr(bad[i], '@') != NULL)
			expect_bad(s, ALL, NULL);
		else
			expect_bad(s, ALL, "bad host name");
		if (strchr(bad[i], '@') == NULL)
			expect_bad(bad[i], ALL, "bad host name");
	}
	/* Host names are at most 64 characters. */
	memset(s, 'h', 64);
	s[64] = '\0';
	expect_ok(s, TARGET_HOST, TARGET_HOST, NULL, s, NULL);
	s[64] = 'h';
	s[65] = '\0';
	expect_bad(s, TARGET_HOST, "bad host name");
}

static void
test_bad_user_chars(void **state)
{
	static const char *const bad[] = {
		"de ploy", "de/ploy", "-deploy", ".deploy", "d\xc3\xa9ploy",
		"de;ploy", "de$ploy", "root\\",
	};
	char	s[128];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(s, sizeof(s), "%s@bastion", bad[i]);
		expect_bad(s, ALL, "bad user name");
		snprintf(s, sizeof(s), "%s@bastion:s", bad[i]);
		expect_bad(s, ALL, "bad user name");
	}
	/* User names are at most 32 characters. */
	memset(s, 'u', 32);
	memcpy(s + 32, "@h", sizeof("@h"));
	expect_ok(s, TARGET_USER_HOST, TARGET_USER_HOST,
	    "uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu", "h", NULL);
	memset(s, 'u', 33);
	memcpy(s + 33, "@h", sizeof("@h"));
	expect_bad(s, TARGET_USER_HOST, "bad user name");
}

static void
test_new_name(void **state)
{
	char	s[80];

	(void)state;
	assert_true(target_valid_new_name("a"));
	assert_true(target_valid_new_name("build"));
	assert_true(target_valid_new_name("Build_2-x"));
	assert_true(target_valid_new_name("-"));
	assert_true(target_valid_new_name("_"));
	assert_true(target_valid_new_name("0123456789"));

	memset(s, 'n', 64);
	s[64] = '\0';
	assert_true(target_valid_new_name(s));
	s[64] = 'n';
	s[65] = '\0';
	assert_false(target_valid_new_name(s));

	assert_false(target_valid_new_name(""));
	assert_false(target_valid_new_name("a b"));
	assert_false(target_valid_new_name("a.b"));
	assert_false(target_valid_new_name("a:b"));
	assert_false(target_valid_new_name("a;"));
	assert_false(target_valid_new_name("a/b"));
	assert_false(target_valid_new_name("a\tb"));
	assert_false(target_valid_new_name("a\x1b"));
	assert_false(target_valid_new_name("caf\xc3\xa9"));
	assert_false(target_valid_new_name("\xe6\x97\xa5"));
	/* A non-ASCII byte whose low 7 bits are a letter. */
	assert_false(target_valid_new_name("\xe1"));
	assert_false(target_valid_new_name("=x"));
}

static void
test_every_ascii_in_new_name(void **state)
{
	char	s[2] = "";
	int	c;
	bool	want;

	(void)state;
	for (c = 1; c < 256; c++) {
		s[0] = (char)c;
		want = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-';
		if (target_valid_new_name(s) != want)
			fail_msg("byte 0x%02x: expected %s", c,
			    want ? "valid" : "invalid");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host),
		cmocka_unit_test(test_user_host),
		cmocka_unit_test(test_session),
		cmocka_unit_test(test_session_names_kept),
		cmocka_unit_test(test_session_colon_dot_refused),
		cmocka_unit_test(test_session_id_like_names_refused),
		cmocka_unit_test(test_session_length),
		cmocka_unit_test(test_empty_parts),
		cmocka_unit_test(test_bad_host_chars),
		cmocka_unit_test(test_bad_user_chars),
		cmocka_unit_test(test_new_name),
		cmocka_unit_test(test_every_ascii_in_new_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
