/*
 * test_log.c — every sink writes one escaped line; the _f variants name
 * the function, the _r variants append the errno text; the timestamped
 * sink writes what `muxgate serve`'s log readers (tests/e2e/serve_util.py)
 * look for.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gateway/log.h"

static FILE	*capture_fp;
static int	 saved_stderr = -1;

/* stderr into a temporary file until captured() */
static void
capture(void)
{
	assert_non_null(capture_fp = tmpfile());
	fflush(stderr);
	assert_true((saved_stderr = dup(STDERR_FILENO)) != -1);
	assert_int_equal(dup2(fileno(capture_fp), STDERR_FILENO),
	    STDERR_FILENO);
}

/* What was written since capture(); caller frees. */
static char *
captured(void)
{
	char	*text;
	long	 len;

	fflush(stderr);
	assert_int_equal(dup2(saved_stderr, STDERR_FILENO), STDERR_FILENO);
	close(saved_stderr);
	saved_stderr = -1;
	assert_int_equal(fseek(capture_fp, 0, SEEK_END), 0);
	assert_true((len = ftell(capture_fp)) >= 0);
	rewind(capture_fp);
	assert_non_null(text = calloc(1, (size_t)len + 1));
	assert_int_equal(fread(text, 1, (size_t)len, capture_fp), (size_t)len);
	fclose(capture_fp);
	capture_fp = NULL;
	return text;
}

static void
expect(char *got, const char *want)
{
	assert_string_equal(got, want);
	free(got);
}

static void
test_stderr_escaped(void **state)
{
	capture();
	error_msg("a\nb\x1b[31m %s", "c\td");
	expect(captured(), "muxgate: a\\nb\\033[31m c\\td\n");
}

static void
test_f_and_r(void **state)
{
	capture();
	error_f("open %s", "x");
	error_r(ENOENT, "open %s", "y");
	error_fr(EACCES, "open %s", "z");
	error_fr(0, "no errno");
	expect(captured(),
	    "muxgate: test_f_and_r: open x\n"
	    "muxgate: open y: No such file or directory\n"
	    "muxgate: test_f_and_r: open z: Permission denied\n"
	    "muxgate: test_f_and_r: no errno\n");
}

static void
test_timestamped(void **state)
{
	char	*got, *line, *nl, want[64];
	int	 y, mo, d, h, mi, s, n = 0;

	log_set_sink(LOG_SINK_STDERR_TIMESTAMPED, "muxgate serve");
	capture();
	log_info("listening on %s", "127.0.0.1:22\r");
	error_fr(EPIPE, "notify");
	got = captured();
	log_set_sink(LOG_SINK_STDERR, NULL);
	assert_int_equal(sscanf(got, "%4d-%2d-%2dT%2d:%2d:%2d %n", &y, &mo, &d,
	    &h, &mi, &s, &n), 6);
	assert_int_equal(n, 20);
	snprintf(want, sizeof(want), "muxgate serve[%ld]: ", (long)getpid());
	assert_memory_equal(got + n, want, strlen(want));
	line = got + n + strlen(want);
	assert_non_null(nl = strchr(line, '\n'));
	*nl = '\0';
	assert_string_equal(line, "listening on 127.0.0.1:22\\r");
	/* the second line: the same shape */
	assert_int_equal(strncmp(nl + 1 + n, want, strlen(want)), 0);
	assert_string_equal(nl + 1 + n + strlen(want),
	    "test_timestamped: notify: Broken pipe\n");
	free(got);
}

static void
test_fatal(void **state)
{
	int	 status;
	pid_t	 pid;
	char	*got;

	fflush(NULL);
	capture();
	if ((pid = fork()) == 0)
		fatal_fr(ENOENT, "gone %d", 1);
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	got = captured();
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	expect(got, "muxgate: test_fatal: gone 1: No such file or "
	    "directory\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stderr_escaped),
		cmocka_unit_test(test_f_and_r),
		cmocka_unit_test(test_timestamped),
		cmocka_unit_test(test_fatal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
