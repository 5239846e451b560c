/*
 * test_quote.c — quoting: hostile words survive /bin/sh unchanged, and
 * ssh_config values that would need escaping are refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gateway/quote.h"

static const char *const hostile[] = {
	"", "plain", "two words", "it's", "'", "''", "\"", "a\"b'c",
	"$(touch /tmp/mgt-quote-pwned)", "`touch /tmp/mgt-quote-pwned`",
	"; touch /tmp/mgt-quote-pwned", "a\nb", "\n", "*", "~", "$HOME",
	"a\\b", "\\", "-n", "--", "a;", "!", "{a,b}", "\t", "\xe6\x97\xa5",
	"'\\''", "x'\"$(id)\"'y",
};

static void
test_quote_word_simple(void **state)
{
	struct buf	b = { 0 };

	quote_word(&b, "it's");
	assert_string_equal(b.data, "'it'\\''s'");
	buf_free(&b);
	quote_word(&b, "");
	assert_string_equal(b.data, "''");
	buf_free(&b);
}

/*
 * Run sh -c 'printf "%s\0" "$@"' with the quoted words and read back what
 * the shell saw: it must be exactly the words.
 */
static void
test_round_trip_through_sh(void **state)
{
	struct argv	 a = { 0 };
	struct buf	 cmd = { 0 }, got = { 0 };
	char		*line, tmp[4096];
	int		 p[2], status;
	size_t		 i, off;
	ssize_t		 n;
	pid_t		 pid;

	for (i = 0; i < sizeof(hostile) / sizeof(*hostile); i++)
		argv_add(&a, hostile[i]);
	line = quote_argv(&a);
	buf_printf(&cmd, "printf '%%s\\0' %s", line);
	assert_int_equal(pipe(p), 0);
	if ((pid = fork()) == 0) {
		dup2(p[1], 1);
		close(p[0]);
		execl("/bin/sh", "sh", "-c", cmd.data, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	while ((n = read(p[0], tmp, sizeof(tmp))) > 0)
		buf_add(&got, tmp, (size_t)n);
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (i = 0, off = 0; i < sizeof(hostile) / sizeof(*hostile); i++) {
		assert_true(off < got.len);
		assert_string_equal(got.data + off, hostile[i]);
		off += strlen(hostile[i]) + 1;
	}
	assert_int_equal(off, got.len);
	assert_int_equal(access("/tmp/mgt-quote-pwned", F_OK), -1);
	free(line);
	buf_free(&cmd);
	buf_free(&got);
	argv_free(&a);
}

static void
test_ssh_config_values(void **state)
{
	static const char *const bad[] = { "/x\"y", "/x'y", "/x\\y", "/x y",
	    "/x\ty", "/x\ny", "/x\ry", "/x\x1b", "\x01", "/x\x7f", "/x%d",
	    "%", "/x\"\nProxyCommand /bin/touch /tmp/mgt-pwned\n#" };
	static const char space[] = "/a/b c";
	struct buf	 b = { 0 };
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		buf_adds(&b, "k ");
		assert_non_null(quote_ssh_config_unsafe(bad[i]));
		assert_int_equal(quote_ssh_config(&b, bad[i]), -1);
		assert_string_equal(b.data, "k ");	/* nothing written */
		buf_free(&b);
	}
	assert_ptr_equal(quote_ssh_config_unsafe(space), space + 4);
	assert_int_equal(quote_ssh_config(&b, "/etc/mg/known_hosts-\xc3\xa9"),
	    0);
	assert_string_equal(b.data, "\"/etc/mg/known_hosts-\xc3\xa9\"");
	buf_free(&b);
	assert_null(quote_ssh_config_unsafe("muxgate.h-1_x"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quote_word_simple),
		cmocka_unit_test(test_round_trip_through_sh),
		cmocka_unit_test(test_ssh_config_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
