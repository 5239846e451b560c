/*
 * test_quote.c — quoting: hostile words survive /bin/sh unchanged, and
 * the remote command runs exactly its argv under every login shell that
 * is installed (sh, dash, bash, ksh, zsh, csh, tcsh, fish); ssh_config
 * values that would need escaping are refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gateway/quote.h"
#include "tests/unit/unit.h"

/* This binary run with DUMP_FLAG prints its other arguments, NUL-ended. */
#define DUMP_FLAG	"--dump-argv"

static const char *const hostile[] = {
	"", "plain", "two words", "it's", "'", "''", "\"", "a\"b'c",
	"$(touch /tmp/mgt-quote-pwned)", "`touch /tmp/mgt-quote-pwned`",
	"; touch /tmp/mgt-quote-pwned", "a\nb", "\n", "*", "~", "$HOME",
	"a\\b", "\\", "-n", "--", "a;", "!", "{a,b}", "\t", "\xe6\x97\xa5",
	"'\\''", "x'\"$(id)\"'y",
	/* fish reads these inside single quotes, csh refuses or expands */
	"a\\\\b", "\\'", "it\\'s", "!!", "!$", "x!y", "!-1", "a\\\nb",
	"^x^y", "%s%n", "%1", "#not a comment", "a#b", "$(", "${x", "\"$@\"",
	"{}", "{a..c}", "[ab]", "?", "**", "~root", "a&b", "a|b", "<x", ">x",
	"(x)", "\r\n", "\x01\x02\x7f", "\xff\xfe", "\xe2\x80\xa8",
	"\xf0\x9f\x92\xa9", "exec", "-c", "set x", "$#", "$?", "$$",
	"\\101", "\\0", "%c", "0123456789abcdef", "c=x", "; exit 3",
	"' ; touch /tmp/mgt-quote-pwned ; '",
	"\" ; touch /tmp/mgt-quote-pwned ; \"",
};

static void
test_quote_word_simple(void **state)
{
	struct buf	b = { 0 };

	quote_word(&b, "it's");
	assert_string_equal(b.data, "'it'\\''s'");
	buf_free(&b);
	quote_word(&b, "");
	assert_string_equal(b.data, "\"\"");
	buf_free(&b);
	/* Plain words go in double quotes, where sh reads nothing. */
	quote_word(&b, "#{session_name}\t=a:");
	assert_string_equal(b.data, "\"#{session_name}\t=a:\"");
	buf_free(&b);
	quote_word(&b, "$HOME");
	assert_string_equal(b.data, "'$HOME'");
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

/* Read FD to its end into GOT. */
static void
read_all(int fd, struct buf *got)
{
	char	tmp[4096];
	ssize_t	n;

	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		buf_add(got, tmp, (size_t)n);
	assert_int_equal(n, 0);
}

/*
 * Run SHELL -c LINE as sshd runs a remote command with the user's login
 * shell, in a clean environment with HOME, and return its exit status;
 * its standard output goes to OUT, its errors nowhere with QUIET.
 */
static int
run_login_shell(const char *shell, const char *line, const char *home,
    struct buf *out, int quiet)
{
	char	*env[] = { NULL, "PATH=/usr/bin:/bin", "LANG=C.UTF-8",
	    "USER=nobody", NULL };
	char	 homevar[PATH_MAX + 8];
	int	 p[2], status, nul;
	pid_t	 pid;

	assert_true((size_t)snprintf(homevar, sizeof(homevar), "HOME=%s",
	    home) < sizeof(homevar));
	env[0] = homevar;
	assert_int_equal(pipe(p), 0);
	if ((pid = fork()) == 0) {
		if (dup2(p[1], 1) == -1 ||
		    (nul = open("/dev/null", O_RDWR)) == -1 ||
		    dup2(nul, 0) == -1 || (quiet && dup2(nul, 2) == -1))
			_exit(126);
		close(p[0]);
		close(p[1]);
		execle(shell, shell, "-c", line, (char *)NULL, env);
		_exit(127);
	}
	close(p[1]);
	read_all(p[0], out);
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static const char *const login_shells[] = {
	"/bin/sh", "/usr/bin/dash", "/usr/bin/bash", "/usr/bin/ksh",
	"/usr/bin/zsh", "/usr/bin/csh", "/usr/bin/tcsh", "/usr/bin/fish",
};

/*
 * The command string: exec /bin/sh -c '...' where the quoted part holds
 * printable ASCII and tabs only, and none of ' \ ! (nor newline), maybe
 * followed by " sh" and words of at most 4096 hex digits.
 */
static void
assert_outer_form(const char *line)
{
	static const char	 head[] = "exec /bin/sh -c '";
	const char		*p, *end;
	size_t			 n;

	assert_memory_equal(line, head, sizeof(head) - 1);
	p = line + sizeof(head) - 1;
	assert_non_null(end = strchr(p, '\''));
	for (; p < end; p++) {
		assert_true(*p == '\t' || (*p >= 0x20 && *p <= 0x7e));
		assert_null(strchr("\\!", *p));
	}
	p = end + 1;
	if (*p == '\0')
		return;
	assert_memory_equal(p, " sh ", 4);
	for (p += 3; *p == ' '; p += n) {
		p++;
		n = strspn(p, "0123456789abcdef");
		assert_true(n > 0 && n <= 4096);
	}
	assert_int_equal(*p, '\0');
}

/*
 * Run WORDS (after this binary and DUMP_FLAG) through quote_remote and
 * SHELL; the argv that arrives must be WORDS exactly.
 */
static void
round_trip_remote(const char *shell, const char *self, const char *home,
    const char *const *words, size_t n)
{
	struct argv	 a = { 0 };
	struct buf	 got = { 0 };
	char		*line;
	size_t		 i, off;
	int		 code;

	argv_add(&a, self);
	argv_add(&a, DUMP_FLAG);
	for (i = 0; i < n; i++)
		argv_add(&a, words[i]);
	line = quote_remote(&a);
	assert_outer_form(line);
	code = run_login_shell(shell, line, home, &got, 0);
	if (code != 0)
		print_error("%s -c %s: exit %d\n", shell, line, code);
	assert_int_equal(code, 0);
	for (i = 0, off = 0; i < n; i++) {
		if (off >= got.len || strcmp(got.data + off, words[i]) != 0) {
			print_error("%s: word %zu differs\n", shell, i);
			fail();
		}
		off += strlen(words[i]) + 1;
	}
	assert_int_equal(off, got.len);
	free(line);
	buf_free(&got);
	argv_free(&a);
}

static void
test_remote_through_login_shells(void **state)
{
	char		 self[PATH_MAX], home[] = "/tmp/mgt-unit-quote-XXXXXX";
	char		*longw;
	const char	*one[1], *plainw[] = { "sudo", "-n", "-u", "app", "--",
	    "tmux", "list-sessions", "-F", "#{session_name}\t#{s/[^a]//:@o}",
	    "-t", "=s1:", "" };
	size_t		 i, tested = 0;
	ssize_t		 n;

	assert_true((n = readlink("/proc/self/exe", self, sizeof(self) - 1))
	    > 0);
	self[n] = '\0';
	assert_non_null(mkdtemp(home));
	/* Every byte value but NUL, many times over: longer than any line. */
	longw = malloc(8192);
	assert_non_null(longw);
	for (i = 0; i < 8191; i++)
		longw[i] = (char)(1 + i % 255);
	longw[8191] = '\0';
	for (i = 0; i < sizeof(login_shells) / sizeof(*login_shells); i++) {
		if (access(login_shells[i], X_OK) == -1) {
			print_message("skipping %s: not installed\n",
			    login_shells[i]);
			continue;
		}
		tested++;
		round_trip_remote(login_shells[i], self, home, plainw,
		    sizeof(plainw) / sizeof(*plainw));
		round_trip_remote(login_shells[i], self, home, hostile,
		    sizeof(hostile) / sizeof(*hostile));
		one[0] = longw;
		round_trip_remote(login_shells[i], self, home, one, 1);
	}
	assert_true(tested > 0);	/* /bin/sh at least */
	assert_int_equal(access("/tmp/mgt-quote-pwned", F_OK), -1);
	free(longw);
	assert_int_equal(unit_rmtree(home), 0);
}

/*
 * Why quote_remote exists: a POSIX command line alone, as ssh used to
 * send it, does not survive fish (\\ inside '...') or csh (a newline).
 */
static void
test_posix_line_breaks_other_login_shells(void **state)
{
	static const struct {
		const char	*shell;
		const char	*word;
	} cases[] = {
		{ "/usr/bin/fish", "a\\\\b" },
		{ "/usr/bin/fish", "\\'" },
		{ "/usr/bin/csh", "a\nb" },
		{ "/usr/bin/tcsh", "a\nb" },
	};
	char		 self[PATH_MAX], home[] = "/tmp/mgt-unit-quote-XXXXXX";
	struct argv	 a = { 0 };
	struct buf	 got = { 0 };
	char		*line;
	size_t		 i;
	ssize_t		 n;
	int		 code;

	assert_true((n = readlink("/proc/self/exe", self, sizeof(self) - 1))
	    > 0);
	self[n] = '\0';
	assert_non_null(mkdtemp(home));
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		if (access(cases[i].shell, X_OK) == -1) {
			print_message("skipping %s: not installed\n",
			    cases[i].shell);
			continue;
		}
		argv_add(&a, self);
		argv_add(&a, DUMP_FLAG);
		argv_add(&a, cases[i].word);
		line = quote_argv(&a);
		code = run_login_shell(cases[i].shell, line, home, &got, 1);
		assert_false(code == 0 && got.len == strlen(cases[i].word) + 1 &&
		    memcmp(got.data, cases[i].word, got.len) == 0);
		free(line);
		buf_free(&got);
		argv_free(&a);
	}
	assert_int_equal(unit_rmtree(home), 0);
}

/* The usual tmux command line needs no decoding: no awk on the way. */
static void
test_remote_plain_form(void **state)
{
	struct argv	 a = { 0 };
	char		*line;

	argv_add(&a, "sudo");
	argv_add(&a, "-n");
	argv_add(&a, "-u");
	argv_add(&a, "app");
	argv_add(&a, "--");
	argv_add(&a, "tmux");
	argv_add(&a, "has-session");
	argv_add(&a, "-t");
	argv_add(&a, "=a b:");
	line = quote_remote(&a);
	assert_string_equal(line, "exec /bin/sh -c 'exec \"sudo\" \"-n\" "
	    "\"-u\" \"app\" \"--\" \"tmux\" \"has-session\" \"-t\" \"=a b:\"'");
	free(line);
	argv_add(&a, "it's");
	line = quote_remote(&a);
	assert_outer_form(line);
	assert_non_null(strstr(line, "awk"));
	assert_null(strstr(line, "it's"));
	free(line);
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

/* With DUMP_FLAG: the helper the remote round trips run. */
static int
dump_argv(int argc, char **argv)
{
	int	i;

	for (i = 2; i < argc; i++)
		if (fwrite(argv[i], 1, strlen(argv[i]) + 1, stdout) !=
		    strlen(argv[i]) + 1)
			return 1;
	return fflush(stdout) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quote_word_simple),
		cmocka_unit_test(test_round_trip_through_sh),
		cmocka_unit_test(test_remote_plain_form),
		cmocka_unit_test(test_remote_through_login_shells),
		cmocka_unit_test(test_posix_line_breaks_other_login_shells),
		cmocka_unit_test(test_ssh_config_values),
	};

	if (argc > 1 && strcmp(argv[1], DUMP_FLAG) == 0)
		return dump_argv(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
