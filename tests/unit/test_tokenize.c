/*
 * test_tokenize.c — tokenize(): words, quotes, and everything refused
 * because this is not a shell.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/str.h"
#include "gateway/tokenize.h"

/* Tokenize LINE, which must succeed, and compare with the NULL-ended WANT. */
static void
expect_words(const char *line, const char *const *want)
{
	struct argv	a;
	char		err[256] = "";
	int		i, n;

	for (n = 0; want[n] != NULL; n++)
		;
	assert_int_equal(tokenize(line, &a, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(a.n, n);
	for (i = 0; i < n; i++)
		assert_string_equal(a.v[i], want[i]);
	if (n > 0)
		assert_null(a.v[n]);
	argv_free(&a);
}

/*
 * Tokenize LINE, which must fail: OUT is left empty, the message is one
 * line and, when WANT is not NULL, equals it.
 */
static void
expect_refused(const char *line, const char *want)
{
	struct argv	a;
	char		err[256] = "";

	a.v = (char **)0x1;	/* garbage: tokenize must reset it */
	a.n = 42;
	assert_int_equal(tokenize(line, &a, err, sizeof(err)), -1);
	assert_null(a.v);
	assert_int_equal(a.n, 0);
	assert_true(err[0] != '\0');
	assert_null(strchr(err, '\n'));
	if (want != NULL)
		assert_string_equal(err, want);
}

static void
test_words(void **state)
{
	(void)state;
	expect_words("ls", (const char *[]){ "ls", NULL });
	expect_words("ls deploy@bastion --json",
	    (const char *[]){ "ls", "deploy@bastion", "--json", NULL });
	expect_words("  ls   deploy@bastion  ",
	    (const char *[]){ "ls", "deploy@bastion", NULL });
	expect_words("new d@h:s -- /usr/bin/tail -f /dev/null",
	    (const char *[]){ "new", "d@h:s", "--", "/usr/bin/tail", "-f",
	    "/dev/null", NULL });
	/* Characters that look shell-ish but are not refused. */
	expect_words("a=b c,d e%f g+h /x.y:z#w @",
	    (const char *[]){ "a=b", "c,d", "e%f", "g+h", "/x.y:z#w", "@",
	    NULL });
}

/* Every other printable ASCII character is an ordinary word character. */
static void
test_other_printable_allowed(void **state)
{
	char	line[8];
	int	c;

	(void)state;
	for (c = 0x21; c < 0x7f; c++) {
		if (strchr("$`;|&<>()*?[]{}~!\\'\"", c) != NULL)
			continue;
		snprintf(line, sizeof(line), "a%cb", c);
		expect_words(line, (const char *[]){ line, NULL });
		snprintf(line, sizeof(line), "%c", c);
		expect_words(line, (const char *[]){ line, NULL });
	}
}

static void
test_empty_and_blank(void **state)
{
	(void)state;
	expect_words("", (const char *[]){ NULL });
	expect_words("   ", (const char *[]){ NULL });
	expect_words("\t \t", (const char *[]){ NULL });
}

static void
test_tabs_separate(void **state)
{
	(void)state;
	expect_words("ls\tdeploy@bastion",
	    (const char *[]){ "ls", "deploy@bastion", NULL });
	expect_words("\tls\t\t--json\t",
	    (const char *[]){ "ls", "--json", NULL });
	expect_words("a \t b", (const char *[]){ "a", "b", NULL });
}

static void
test_quotes_group(void **state)
{
	(void)state;
	expect_words("'a b'", (const char *[]){ "a b", NULL });
	expect_words("\"a b\"", (const char *[]){ "a b", NULL });
	expect_words("x 'a  b' \"c\td\" y",
	    (const char *[]){ "x", "a  b", "c\td", "y", NULL });
	/* Each quote kind holds the other literally. */
	expect_words("'\"' \"'\"", (const char *[]){ "\"", "'", NULL });
	expect_words("\"it's\"", (const char *[]){ "it's", NULL });
}

static void
test_adjacent_concatenation(void **state)
{
	(void)state;
	expect_words("ab\"c d\"e", (const char *[]){ "abc de", NULL });
	expect_words("'a'\"b\"c", (const char *[]){ "abc", NULL });
	expect_words("x'' y", (const char *[]){ "x", "y", NULL });
	expect_words("d@h:'my session'",
	    (const char *[]){ "d@h:my session", NULL });
}

static void
test_empty_quotes(void **state)
{
	(void)state;
	expect_words("''", (const char *[]){ "", NULL });
	expect_words("\"\"", (const char *[]){ "", NULL });
	expect_words("a '' b", (const char *[]){ "a", "", "b", NULL });
	expect_words("'' \"\"", (const char *[]){ "", "", NULL });
}

static void
test_nothing_special_inside_quotes(void **state)
{
	(void)state;
	/* No backslash escapes: the backslash is kept and ends nothing. */
	expect_words("'a\\'", (const char *[]){ "a\\", NULL });
	expect_words("\"a\\\"", (const char *[]){ "a\\", NULL });
	expect_words("'$HOME' \"$(id)\" 'a;b' \"x|y&z\"",
	    (const char *[]){ "$HOME", "$(id)", "a;b", "x|y&z", NULL });
	expect_words("'`id` <in >out *?[]{}~!'",
	    (const char *[]){ "`id` <in >out *?[]{}~!", NULL });
	/* The e2e command line from the spec's tokenizer rules. */
	expect_words("new d@h:s -- /usr/bin/tail -f /dev/null 'a\\' \"b;c\" "
	    "'\"'", (const char *[]){ "new", "d@h:s", "--", "/usr/bin/tail",
	    "-f", "/dev/null", "a\\", "b;c", "\"", NULL });
}

static void
test_every_shell_char_refused(void **state)
{
	static const char	 chars[] = "$`;|&<>()*?[]{}~!\\";
	char			 line[64], want[256], one[2] = "";
	size_t			 i;

	(void)state;
	for (i = 0; chars[i] != '\0'; i++) {
		snprintf(want, sizeof(want), "'%c' is not allowed here: this "
		    "is not a shell (quote it if you mean it literally)",
		    chars[i]);
		/* Alone, inside a word, at its start and at its end. */
		snprintf(line, sizeof(line), "%c", chars[i]);
		expect_refused(line, want);
		snprintf(line, sizeof(line), "ls a%cb", chars[i]);
		expect_refused(line, want);
		snprintf(line, sizeof(line), "ls %cx", chars[i]);
		expect_refused(line, want);
		snprintf(line, sizeof(line), "ls x%c", chars[i]);
		expect_refused(line, want);
		/* Just after a closed quote is outside it again. */
		snprintf(line, sizeof(line), "'ok'%c", chars[i]);
		expect_refused(line, want);
		/* Quoted, the same character is a literal. */
		one[0] = chars[i];
		snprintf(line, sizeof(line), "'%c'", chars[i]);
		expect_words(line, (const char *[]){ one, NULL });
		snprintf(line, sizeof(line), "\"%c\"", chars[i]);
		expect_words(line, (const char *[]){ one, NULL });
		snprintf(line, sizeof(line), "a'x%cy'b", chars[i]);
		snprintf(want, sizeof(want), "ax%cyb", chars[i]);
		expect_words(line, (const char *[]){ want, NULL });
	}
}

static void
test_typical_attacks_refused(void **state)
{
	(void)state;
	expect_refused("ls; id", NULL);
	expect_refused("whoami;touch /tmp/pwned", NULL);
	expect_refused("ls $(id)", NULL);
	expect_refused("ls `id`", NULL);
	expect_refused("ls && id", NULL);
	expect_refused("ls > /tmp/x", NULL);
	expect_refused("ls a\\ b", "'\\' is not allowed here: this is not a "
	    "shell (quote it if you mean it literally)");
	/* The first offending character is named. */
	expect_refused("ls $x; id", "'$' is not allowed here: this is not a "
	    "shell (quote it if you mean it literally)");
	/* Refusal after some words were already made: nothing kept. */
	expect_refused("a b c d e f g h i j k l m n o p ;", NULL);
}

static void
test_control_chars_refused(void **state)
{
	char	line[16];
	int	c;

	(void)state;
	expect_refused("ls\n", "control character 0x0a in command");
	expect_refused("ls\nid", "control character 0x0a in command");
	expect_refused("ls\r", "control character 0x0d in command");
	expect_refused("ls \x1b[2J", "control character 0x1b in command");
	expect_refused("ls \x7f", "control character 0x7f in command");
	/* Even inside quotes. */
	expect_refused("'a\nb'", "control character 0x0a in command");
	expect_refused("\"a\x1b]0;x\x07\"", "control character 0x1b in "
	    "command");
	expect_refused("'\x7f'", "control character 0x7f in command");
	/* Every control character but tab, outside and inside quotes. */
	for (c = 1; c < 0x20; c++) {
		if (c == '\t')
			continue;
		snprintf(line, sizeof(line), "a%cb", c);
		expect_refused(line, NULL);
		snprintf(line, sizeof(line), "'a%cb'", c);
		expect_refused(line, NULL);
		snprintf(line, sizeof(line), "\"%c\"", c);
		expect_refused(line, NULL);
	}
	/* Tab inside quotes is kept. */
	expect_words("'a\tb'", (const char *[]){ "a\tb", NULL });
}

static void
test_unclosed_quotes(void **state)
{
	(void)state;
	expect_refused("'abc", "unclosed single quote");
	expect_refused("\"abc", "unclosed double quote");
	expect_refused("ls '", "unclosed single quote");
	expect_refused("a \"b\" 'c", "unclosed single quote");
	expect_refused("\"it's", "unclosed double quote");
	expect_refused("'say \"hi\"", "unclosed single quote");
}

static void
test_line_length(void **state)
{
	char		*line;
	struct argv	 a;
	char		 err[256];

	(void)state;
	line = malloc(TOKENIZE_MAX_LINE + 2);
	assert_non_null(line);

	/* Exactly 4096 bytes: one word. */
	memset(line, 'a', TOKENIZE_MAX_LINE);
	line[TOKENIZE_MAX_LINE] = '\0';
	assert_int_equal(TOKENIZE_MAX_LINE, 4096);
	assert_int_equal(tokenize(line, &a, err, sizeof(err)), 0);
	assert_int_equal(a.n, 1);
	assert_int_equal(strlen(a.v[0]), 4096);
	argv_free(&a);

	/* 4096 bytes of words and blanks. */
	memset(line, ' ', TOKENIZE_MAX_LINE);
	line[0] = 'x';
	line[TOKENIZE_MAX_LINE - 1] = 'y';
	assert_int_equal(tokenize(line, &a, err, sizeof(err)), 0);
	assert_int_equal(a.n, 2);
	argv_free(&a);

	/* 4097 bytes: refused, even when it is all blank. */
	memset(line, 'a', TOKENIZE_MAX_LINE + 1);
	line[TOKENIZE_MAX_LINE + 1] = '\0';
	expect_refused(line, "command longer than 4096 bytes");
	memset(line, ' ', TOKENIZE_MAX_LINE + 1);
	expect_refused(line, "command longer than 4096 bytes");
	free(line);
}

static void
test_utf8_kept(void **state)
{
	(void)state;
	expect_words("ls d@h:caf\xc3\xa9",
	    (const char *[]){ "ls", "d@h:caf\xc3\xa9", NULL });
	expect_words("\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80",
	    (const char *[]){ "\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x98\x80",
	    NULL });
	expect_words("'\xc3\xa9 \xc3\xa8'",
	    (const char *[]){ "\xc3\xa9 \xc3\xa8", NULL });
}

static void
test_small_error_buffer(void **state)
{
	struct argv	a;
	char		err[8];

	(void)state;
	/* The message is truncated, never overflowed. */
	memset(err, 'Z', sizeof(err));
	assert_int_equal(tokenize("ls;", &a, err, sizeof(err)), -1);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_int_equal(a.n, 0);
	assert_null(a.v);
}

/* Read every line of the SIZE bytes at DATA; WANT: "1:len" or "0" or "-1". */
static void
expect_lines(const char *data, size_t size, size_t bufsize,
    const char *const *want)
{
	FILE	*fp;
	char	*line = malloc(bufsize), got[32];
	size_t	 n, i;
	int	 r;

	assert_non_null(line);
	assert_non_null(fp = fmemopen((void *)data, size, "r"));
	for (i = 0; want[i] != NULL; i++) {
		n = 12345;
		r = tokenize_read_line(fp, line, bufsize, &n);
		if (r == 1)
			snprintf(got, sizeof(got), "1:%zu", n);
		else
			snprintf(got, sizeof(got), "%d", r);
		assert_string_equal(got, want[i]);
		assert_true(n < bufsize);
		assert_int_equal(line[n], '\0');
	}
	fclose(fp);
	free(line);
}

static void
test_read_line(void **state)
{
	(void)state;
	expect_lines("ls\nwhoami\n", 10, 16,
	    (const char *[]){ "1:2", "1:6", "0", NULL });
	/* The last line needs no newline; an empty line is a line. */
	expect_lines("\nls", 3, 16, (const char *[]){ "1:0", "1:2", "0", NULL });
	expect_lines("", 0, 16, (const char *[]){ "0", "0", NULL });
}

static void
test_read_line_keeps_nul(void **state)
{
	FILE	*fp;
	char	 line[32];
	size_t	 n;

	(void)state;
	/* "whoami" must not come back alone: the caller sees the NUL. */
	assert_non_null(fp = fmemopen("whoami\0touch x\nls\n", 18, "r"));
	assert_int_equal(tokenize_read_line(fp, line, sizeof(line), &n), 1);
	assert_int_equal(n, 14);
	assert_memory_equal(line, "whoami\0touch x", 15);
	assert_int_equal(tokenize_read_line(fp, line, sizeof(line), &n), 1);
	assert_int_equal(n, 2);
	assert_string_equal(line, "ls");
	fclose(fp);
	expect_lines("\0\n", 2, 16, (const char *[]){ "1:1", "0", NULL });
}

static void
test_read_line_limit(void **state)
{
	FILE	*fp;
	char	 line[6];
	size_t	 n;

	(void)state;
	/* SIZE 6: four bytes and the newline fit, five bytes do not. */
	expect_lines("abcd\nx\n", 7, 6, (const char *[]){ "1:4", "1:1", "0",
	    NULL });
	expect_lines("abcd", 4, 6, (const char *[]){ "1:4", "0", NULL });
	assert_non_null(fp = fmemopen("abcdefgh\n", 9, "r"));
	assert_int_equal(tokenize_read_line(fp, line, sizeof(line), &n), -1);
	assert_int_equal(n, 5);
	/* Not one byte more than the limit was read. */
	assert_int_equal(getc(fp), 'f');
	fclose(fp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_other_printable_allowed),
		cmocka_unit_test(test_empty_and_blank),
		cmocka_unit_test(test_tabs_separate),
		cmocka_unit_test(test_quotes_group),
		cmocka_unit_test(test_adjacent_concatenation),
		cmocka_unit_test(test_empty_quotes),
		cmocka_unit_test(test_nothing_special_inside_quotes),
		cmocka_unit_test(test_every_shell_char_refused),
		cmocka_unit_test(test_typical_attacks_refused),
		cmocka_unit_test(test_control_chars_refused),
		cmocka_unit_test(test_unclosed_quotes),
		cmocka_unit_test(test_line_length),
		cmocka_unit_test(test_utf8_kept),
		cmocka_unit_test(test_small_error_buffer),
		cmocka_unit_test(test_read_line),
		cmocka_unit_test(test_read_line_keeps_nul),
		cmocka_unit_test(test_read_line_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
