/*
 * test_logindefs.c — UMASK from login.defs: strict octal, first line
 * wins, bad values and unreadable files give 022; and spawned children
 * get that umask, not muxgate's own 077.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway/logindefs.h"
#include "gateway/spawn.h"
#include "tests/unit/unit.h"

static void
expect_umask(const char *text, mode_t want)
{
	const char	*errstr = NULL;
	mode_t		 m = 0777;

	if (logindefs_parse_umask(text, &m, &errstr) != 0)
		fail_msg("'%s': not parsed (%s)", text,
		    errstr != NULL ? errstr : "no UMASK");
	if (m != want)
		fail_msg("'%s': %04o, want %04o", text, (unsigned)m,
		    (unsigned)want);
}

static void
expect_bad(const char *text)
{
	const char	*errstr = NULL;
	mode_t		 m = 0123;

	if (logindefs_parse_umask(text, &m, &errstr) != -1)
		fail_msg("'%s': accepted as %04o", text, (unsigned)m);
	assert_non_null(errstr);
	assert_int_equal(m, 0123);	/* untouched */
}

static void
expect_none(const char *text)
{
	const char	*errstr = NULL;
	mode_t		 m = 0123;

	if (logindefs_parse_umask(text, &m, &errstr) != 1)
		fail_msg("'%s': should have no UMASK", text);
	assert_int_equal(m, 0123);
}

static void
test_parse_good(void **state)
{
	(void)state;
	expect_umask("UMASK 022\n", 022);
	expect_umask("UMASK\t\t027", 027);
	expect_umask("UMASK 0077\n", 077);
	expect_umask("UMASK 22\n", 022);	/* octal, not decimal 22 */
	expect_umask("UMASK 0\n", 0);
	expect_umask("UMASK 777\n", 0777);
	expect_umask("  \tUMASK 002  \t\r\n", 002);
	expect_umask("UMASK 007 # group-private\n", 007);
	expect_umask("# UMASK 077\nMAIL_DIR /var/mail\nUMASKX 077\n"
	    "UMASK 027\n", 027);
	/* The first wins, as in pam_umask. */
	expect_umask("UMASK 027\nUMASK 077\n", 027);
	/* The Debian file, abridged. */
	expect_umask("#\n# /etc/login.defs\n#\nMAIL_DIR\t/var/mail\n"
	    "#\tUMASK\t077\nUMASK\t\t022\nHOME_MODE\t0700\n"
	    "USERGROUPS_ENAB yes\n", 022);
}

static void
test_parse_bad(void **state)
{
	(void)state;
	expect_bad("UMASK\n");
	expect_bad("UMASK   # nothing\n");
	expect_bad("UMASK 008\n");
	expect_bad("UMASK 0x12\n");
	expect_bad("UMASK -022\n");
	expect_bad("UMASK +022\n");
	expect_bad("UMASK 1000\n");		/* > 0777 */
	expect_bad("UMASK 00022\n");		/* 5 digits */
	expect_bad("UMASK 022 077\n");
	expect_bad("UMASK 022x\n");
	expect_bad("UMASK u=rwx,g=rx,o=rx\n");
	expect_bad("UMASK \"022\"\n");
	/* A bad first UMASK is not rescued by a later good one. */
	expect_bad("UMASK bad\nUMASK 027\n");
}

static void
test_parse_none(void **state)
{
	(void)state;
	expect_none("");
	expect_none("\n\n");
	expect_none("# UMASK 022\n");
	expect_none("UMASKS 077\nXUMASK 077\numask 077\n");
	expect_none("MAIL_DIR /var/mail # UMASK 077\n");
}

/* Write TEXT to a temporary file; its path in PATH (PATHLEN bytes). */
static void
write_tmp(char *path, size_t pathlen, const char *text)
{
	FILE	*f;
	int	 fd;

	assert_true(snprintf(path, pathlen, "/tmp/mgt-logindefs-XXXXXX") <
	    (int)pathlen);
	assert_true((fd = mkstemp(path)) != -1);
	assert_non_null(f = fdopen(fd, "w"));
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void
test_file(void **state)
{
	char	path[64];

	(void)state;
	write_tmp(path, sizeof(path), "# test\nUMASK 027\n");
	assert_int_equal(logindefs_umask(path), 027);
	assert_int_equal(unlink(path), 0);

	write_tmp(path, sizeof(path), "UMASK 0x1ff\n");
	assert_int_equal(logindefs_umask(path), LOGINDEFS_UMASK);
	assert_int_equal(unlink(path), 0);

	write_tmp(path, sizeof(path), "");
	assert_int_equal(logindefs_umask(path), LOGINDEFS_UMASK);
	assert_int_equal(unlink(path), 0);

	assert_int_equal(logindefs_umask("/nonexistent/login.defs"),
	    LOGINDEFS_UMASK);
	assert_int_equal(logindefs_umask("/tmp"), LOGINDEFS_UMASK);
	assert_int_equal(LOGINDEFS_UMASK, 022);
}

/* A child runs with the system's login umask while ours stays 077. */
static void
test_spawn_gives_login_umask(void **state)
{
	struct argv		 a = { 0 };
	struct spawn_result	 r;
	char			 err[256], want[16];
	mode_t			 old;

	(void)state;
	old = umask(077);
	/* The child's umask as the kernel reports it: no shell needed. */
	argv_add(&a, "/usr/bin/grep");
	argv_add(&a, "-h");
	argv_add(&a, "^Umask:");
	argv_add(&a, "/proc/self/status");
	assert_int_equal(spawn_capture(&a, 5000, &r, err, sizeof(err)), 0);
	assert_true(r.exited);
	assert_int_equal(r.code, 0);
	assert_true(snprintf(want, sizeof(want), "Umask:\t%04o\n",
	    (unsigned)logindefs_umask(LOGINDEFS_PATH)) < (int)sizeof(want));
	assert_non_null(r.out.data);
	assert_string_equal(r.out.data, want);
	assert_int_equal(umask(old), 077);
	spawn_result_free(&r);
	argv_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_none),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_spawn_gives_login_umask),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
