/*
 * test_output.c — out_escape() (terminal-safe text), out_utf8_clean() and
 * the JSON strings made from untrusted text.
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
#include <json-c/json.h>

#include "gateway/output.h"

/*
 * An independent strict UTF-8 check (RFC 3629, table 4 ranges).  Returns
 * the number of code points, or -1.  Each code point goes to CP[] when
 * CP is not NULL (at most CPMAX).
 */
static long
utf8_check(const char *str, uint32_t *cp, size_t cpmax)
{
	const unsigned char	*s = (const unsigned char *)str;
	long			 n = 0;
	uint32_t		 c;
	unsigned char		 lo, hi;
	int			 more, i;

	while (*s != '\0') {
		lo = 0x80;
		hi = 0xbf;
		if (s[0] < 0x80) {
			c = s[0];
			more = 0;
		} else if (s[0] >= 0xc2 && s[0] <= 0xdf) {
			c = s[0] & 0x1f;
			more = 1;
		} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
			c = s[0] & 0x0f;
			more = 2;
			if (s[0] == 0xe0)
				lo = 0xa0;
			if (s[0] == 0xed)
				hi = 0x9f;
		} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
			c = s[0] & 0x07;
			more = 3;
			if (s[0] == 0xf0)
				lo = 0x90;
			if (s[0] == 0xf4)
				hi = 0x8f;
		} else
			return -1;
		for (i = 1; i <= more; i++) {
			if (s[i] < (i == 1 ? lo : 0x80) ||
			    s[i] > (i == 1 ? hi : 0xbf))
				return -1;
			c = (c << 6) | (s[i] & 0x3f);
		}
		if (cp != NULL && (size_t)n < cpmax)
			cp[n] = c;
		n++;
		s += more + 1;
	}
	return n;
}

/* Nothing a terminal would act on may appear in escaped text. */
static void
assert_terminal_safe(const char *in, const char *out)
{
	static uint32_t	 cps[1 << 14];
	long		 n, i;
	uint32_t	 c;

	n = utf8_check(out, cps, sizeof(cps) / sizeof(cps[0]));
	if (n < 0)
		fail_msg("escaped output is not valid UTF-8 (input %zu bytes)",
		    strlen(in));
	assert_true((size_t)n <= sizeof(cps) / sizeof(cps[0]));
	for (i = 0; i < n; i++) {
		c = cps[i];
		if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) ||
		    (c >= 0x202a && c <= 0x202e) ||
		    (c >= 0x2066 && c <= 0x2069) || c == 0x200e ||
		    c == 0x200f || c == 0x061c)
			fail_msg("code point U+%04X left in escaped output",
			    (unsigned)c);
	}
}

static void
expect_escape(const char *in, const char *want)
{
	char	*out = out_escape(in);

	assert_non_null(out);
	if (strcmp(out, want) != 0)
		fail_msg("out_escape: got '%s', expected '%s'", out, want);
	assert_terminal_safe(in, out);
	free(out);
}

static void
test_escape_ascii_controls(void **state)
{
	(void)state;
	expect_escape("", "");
	expect_escape("plain text 123 ~!@#$%^&*()", "plain text 123 ~!@#$%^&*()");
	expect_escape("\x1b", "\\033");
	expect_escape("x\x1b]0;pwn\x07y", "x\\033]0;pwn\\007y");
	expect_escape("\x1b[2J\x1b[H", "\\033[2J\\033[H");
	expect_escape("a\tb", "a\\tb");
	expect_escape("a\nb", "a\\nb");
	expect_escape("a\rb", "a\\rb");
	expect_escape("\x7f", "\\177");
	expect_escape("\x01\x08\x0b\x0c\x1f", "\\001\\010\\013\\014\\037");
}

static void
test_escape_c1_controls(void **state)
{
	(void)state;
	expect_escape("\xc2\x80", "\\302\\200");
	expect_escape("\xc2\x9b" "31m", "\\302\\233" "31m");	/* CSI */
	expect_escape("\xc2\x9d" "0;x", "\\302\\235" "0;x");	/* OSC */
	expect_escape("\xc2\x9f", "\\302\\237");
	/* The first code point after the C1 range is printable. */
	expect_escape("\xc2\xa0", "\xc2\xa0");
	/* A raw C1 byte alone is invalid UTF-8: escaped too. */
	expect_escape("\x9b", "\\233");
	expect_escape("\x85", "\\205");
}

static void
test_escape_bidi(void **state)
{
	(void)state;
	expect_escape("abc\xe2\x80\xaetxt.exe", "abc\\342\\200\\256txt.exe");
	expect_escape("\xe2\x80\xaa", "\\342\\200\\252");	/* U+202A */
	expect_escape("\xe2\x81\xa6", "\\342\\201\\246");	/* U+2066 */
	expect_escape("\xe2\x81\xa9", "\\342\\201\\251");	/* U+2069 */
	expect_escape("\xe2\x80\x8e", "\\342\\200\\216");	/* U+200E */
	expect_escape("\xe2\x80\x8f", "\\342\\200\\217");	/* U+200F */
	expect_escape("\xd8\x9c", "\\330\\234");		/* U+061C */
	/* Neighbours that are not bidi controls are kept. */
	expect_escape("\xe2\x80\xaf", "\xe2\x80\xaf");		/* U+202F */
	expect_escape("\xe2\x80\x94", "\xe2\x80\x94");		/* em dash */
}

static void
test_escape_invalid_utf8(void **state)
{
	(void)state;
	expect_escape("\xff", "\\377");
	expect_escape("\xfe\xfe", "\\376\\376");
	expect_escape("a\xc3", "a\\303");			/* truncated */
	expect_escape("\xc3(", "\\303(");			/* bad follower */
	expect_escape("\xe6\x97" "a", "\\346\\227a");		/* truncated */
	expect_escape("\xe6\x97\xe6\x97\xa5",
	    "\\346\\227\xe6\x97\xa5");				/* then valid */
	expect_escape("\x80\xbf", "\\200\\277");		/* lone followers */
	expect_escape("\xf8\x88\x80\x80\x80", "\\370\\210\\200\\200\\200");
}

static void
test_escape_overlong_and_surrogates(void **state)
{
	(void)state;
	/* Overlong '/', NUL, ESC and U+FFFF. */
	expect_escape("\xc0\xaf", "\\300\\257");
	expect_escape("\xc0\x80", "\\300\\200");
	expect_escape("\xc0\x9b", "\\300\\233");
	expect_escape("\xe0\x80\xaf", "\\340\\200\\257");
	expect_escape("\xe0\x80\x9b", "\\340\\200\\233");
	expect_escape("\xf0\x80\x80\xaf", "\\360\\200\\200\\257");
	expect_escape("\xf0\x8f\xbf\xbf", "\\360\\217\\277\\277");
	expect_escape("\xc1\xbf", "\\301\\277");
	/* UTF-16 surrogates. */
	expect_escape("\xed\xa0\x80", "\\355\\240\\200");
	expect_escape("\xed\xbf\xbf", "\\355\\277\\277");
	expect_escape("\xed\xa0\xbd\xed\xb8\x80",
	    "\\355\\240\\275\\355\\270\\200");
	/* Above U+10FFFF. */
	expect_escape("\xf4\x90\x80\x80", "\\364\\220\\200\\200");
	expect_escape("\xf7\xbf\xbf\xbf", "\\367\\277\\277\\277");
	/* The edges that are valid. */
	expect_escape("\xed\x9f\xbf", "\xed\x9f\xbf");		/* U+D7FF */
	expect_escape("\xee\x80\x80", "\xee\x80\x80");		/* U+E000 */
	expect_escape("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf");	/* U+10FFFF */
	expect_escape("\xf0\x90\x80\x80", "\xf0\x90\x80\x80");	/* U+10000 */
}

static void
test_escape_printable_utf8_kept(void **state)
{
	(void)state;
	expect_escape("caf\xc3\xa9", "caf\xc3\xa9");
	expect_escape("\xe6\x97\xa5\xe6\x9c\xac", "\xe6\x97\xa5\xe6\x9c\xac");
	expect_escape("\xf0\x9f\x98\x80 ok", "\xf0\x9f\x98\x80 ok");
	expect_escape("\xd0\x9f\xd1\x80\xd0\xb8", "\xd0\x9f\xd1\x80\xd0\xb8");
	expect_escape("\xc3\xa9\x1b\xc3\xa9", "\xc3\xa9\\033\xc3\xa9");
}

static void
test_escape_every_single_byte(void **state)
{
	char	in[2] = "", *out;
	int	c;

	(void)state;
	for (c = 1; c < 256; c++) {
		in[0] = (char)c;
		out = out_escape(in);
		assert_terminal_safe(in, out);
		if (c >= 0x20 && c < 0x7f)
			assert_string_equal(out, in);
		else {
			/* Four visible characters or a C escape. */
			assert_true(out[0] == '\\');
			assert_true(strlen(out) == 4 || strlen(out) == 2);
		}
		free(out);
	}
}

/* xorshift: reproducible "random" strings. */
static uint32_t
next_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
random_string(uint32_t *seed, char *buf, size_t max)
{
	static const unsigned char	 interesting[] = {
		0x1b, 0x07, 0x7f, 0x9b, 0xc2, 0xe2, 0x80, 0xae, 0xed, 0xa0,
		0xf0, 0xf4, 0x90, 0xc0, 0xe0, 0xff, '\t', '\n', '\\', '"',
	};
	size_t				 len, i;
	uint32_t			 r;

	len = next_rand(seed) % max;
	for (i = 0; i < len; i++) {
		r = next_rand(seed);
		switch (r % 4) {
		case 0:
			buf[i] = (char)interesting[(r >> 8) %
			    sizeof(interesting)];
			break;
		case 1:
			buf[i] = (char)(0x20 + (r >> 8) % 0x5f);
			break;
		default:
			buf[i] = (char)(1 + (r >> 8) % 255);
		}
	}
	buf[len] = '\0';
}

static void
test_escape_random_strings(void **state)
{
	char		 buf[256], *out;
	uint32_t	 seed = 0x2545f491;
	int		 i;

	(void)state;
	for (i = 0; i < 20000; i++) {
		random_string(&seed, buf, sizeof(buf));
		out = out_escape(buf);
		assert_terminal_safe(buf, out);
		free(out);
	}
	/* Every valid two-byte sequence too. */
	for (i = 0; i < 65536; i++) {
		buf[0] = (char)(i >> 8);
		buf[1] = (char)(i & 0xff);
		buf[2] = '\0';
		if (buf[0] == '\0' || buf[1] == '\0')
			continue;
		out = out_escape(buf);
		assert_terminal_safe(buf, out);
		free(out);
	}
}

static void
expect_clean(const char *in, const char *want)
{
	char	*out = out_utf8_clean(in);

	assert_non_null(out);
	if (strcmp(out, want) != 0)
		fail_msg("out_utf8_clean: got '%s', expected '%s'", out, want);
	assert_true(utf8_check(out, NULL, 0) >= 0);
	free(out);
}

#define FFFD "\xef\xbf\xbd"

static void
test_utf8_clean(void **state)
{
	char		 buf[256], *out;
	uint32_t	 seed = 7;
	int		 i;

	(void)state;
	/* Valid input comes back unchanged, controls included. */
	expect_clean("", "");
	expect_clean("build", "build");
	expect_clean("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80",
	    "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80");
	expect_clean("x\x1b]0;pwn\x07y\x7f", "x\x1b]0;pwn\x07y\x7f");
	expect_clean("\xe2\x80\xae", "\xe2\x80\xae");
	expect_clean("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf");
	/* Every bad byte becomes one U+FFFD. */
	expect_clean("\xff", FFFD);
	expect_clean("a\xc3", "a" FFFD);
	expect_clean("\xc3(", FFFD "(");
	expect_clean("\xc0\xaf", FFFD FFFD);
	expect_clean("\xed\xa0\x80", FFFD FFFD FFFD);
	expect_clean("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD);
	expect_clean("\x80x\xfe", FFFD "x" FFFD);
	expect_clean("\xe6\x97\xe6\x97\xa5", FFFD FFFD "\xe6\x97\xa5");

	for (i = 0; i < 20000; i++) {
		random_string(&seed, buf, sizeof(buf));
		out = out_utf8_clean(buf);
		assert_true(utf8_check(out, NULL, 0) >= 0);
		/* Idempotent, and a no-op on valid input. */
		if (utf8_check(buf, NULL, 0) >= 0)
			assert_string_equal(out, buf);
		free(out);
	}
}

/* Parse TEXT as strict JSON that must be valid UTF-8. */
static struct json_object *
parse_strict(const char *text)
{
	struct json_tokener	*tok;
	struct json_object	*o;

	tok = json_tokener_new();
	assert_non_null(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, text, (int)strlen(text) + 1);
	if (json_tokener_get_error(tok) != json_tokener_success)
		fail_msg("not JSON (%s): %s", json_tokener_error_desc(
		    json_tokener_get_error(tok)), text);
	json_tokener_free(tok);
	return o;
}

/* Wrap S in an object, serialise, parse back and compare. */
static void
json_round_trip(const char *s)
{
	static const int	 flags[] = { JSON_C_TO_STRING_SPACED,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE };
	struct json_object	*o, *back, *v;
	const char		*text;
	char			*clean;
	size_t			 i, k;

	o = json_object_new_object();
	json_object_object_add(o, "name", out_json_string(s));
	clean = out_utf8_clean(s);
	for (k = 0; k < 3; k++) {
		text = k == 2 ? json_object_to_json_string(o) :
		    json_object_to_json_string_ext(o, flags[k]);
		assert_non_null(text);
		/* No raw control byte in the document itself. */
		for (i = 0; text[i] != '\0'; i++)
			if ((unsigned char)text[i] < 0x20 && text[i] != '\n')
				fail_msg("raw byte 0x%02x in JSON %s",
				    (unsigned char)text[i], text);
		back = parse_strict(text);
		assert_non_null(back);
		assert_true(json_object_object_get_ex(back, "name", &v));
		assert_true(json_object_is_type(v, json_type_string));
		/* The value is the input, only bad bytes replaced. */
		assert_int_equal(json_object_get_string_len(v), strlen(clean));
		assert_memory_equal(json_object_get_string(v), clean,
		    strlen(clean));
		json_object_put(back);
	}
	free(clean);
	json_object_put(o);
}

static void
test_json_hostile_strings(void **state)
{
	static const char *const hostile[] = {
		"",
		"plain",
		"\"",
		"\\",
		"\\\"",
		"\"}],\"x\":{\"",
		"a\"b\\c/d",
		"x\x1b]0;pwn\x07y",
		"ev\x1b]0;il\x07\x1b[2J\x7f",
		"\x01\x02\x03\x1f\t\n\r\b\f",
		"\xff\xfe",
		"\xc0\xaf\"\\",
		"\xed\xa0\x80",
		"\"\xc3",
		"\\\xe2\x80\xae\"",
		"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac",
		"\\u0000",
		"</script>",
	};
	char		 buf[256];
	uint32_t	 seed = 99;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
		json_round_trip(hostile[i]);
	for (i = 0; i < 3000; i++) {
		random_string(&seed, buf, sizeof(buf));
		json_round_trip(buf);
	}
}

static void
test_json_string_values(void **state)
{
	struct json_object	*o;

	(void)state;
	assert_null(out_json_string(NULL));

	o = out_json_string("a\xffz");
	assert_non_null(o);
	assert_true(json_object_is_type(o, json_type_string));
	assert_string_equal(json_object_get_string(o), "a" FFFD "z");
	json_object_put(o);

	o = out_json_string("q\"\\");
	assert_string_equal(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN), "\"q\\\"\\\\\"");
	json_object_put(o);

	o = out_json_string("\x1b");
	assert_string_equal(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN), "\"\\u001b\"");
	json_object_put(o);
}

/* out_json_print() writes one document and a newline on stdout. */
static void
test_json_print(void **state)
{
	struct json_object	*o, *back, *v;
	FILE			*f;
	char			 text[512];
	size_t			 n;
	int			 saved, r;

	(void)state;
	o = json_object_new_object();
	json_object_object_add(o, "name", out_json_string("a/b\x1b\xff\""));
	json_object_object_add(o, "owner", NULL);

	f = tmpfile();
	assert_non_null(f);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(f), STDOUT_FILENO) >= 0);
	r = out_json_print(o);
	fflush(stdout);
	assert_true(dup2(saved, STDOUT_FILENO) >= 0);
	close(saved);
	assert_int_equal(r, 0);

	rewind(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	assert_true(n > 0 && text[n - 1] == '\n');
	assert_ptr_equal(strchr(text, '\n'), text + n - 1);
	assert_null(strchr(text, '\x1b'));
	/* Plain and without escaped slashes, as documented. */
	assert_string_equal(text,
	    "{\"name\":\"a/b\\u001b" FFFD "\\\"\",\"owner\":null}\n");
	back = parse_strict(text);
	assert_true(json_object_object_get_ex(back, "owner", &v));
	assert_null(v);
	json_object_put(back);
	json_object_put(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_ascii_controls),
		cmocka_unit_test(test_escape_c1_controls),
		cmocka_unit_test(test_escape_bidi),
		cmocka_unit_test(test_escape_invalid_utf8),
		cmocka_unit_test(test_escape_overlong_and_surrogates),
		cmocka_unit_test(test_escape_printable_utf8_kept),
		cmocka_unit_test(test_escape_every_single_byte),
		cmocka_unit_test(test_escape_random_strings),
		cmocka_unit_test(test_utf8_clean),
		cmocka_unit_test(test_json_hostile_strings),
		cmocka_unit_test(test_json_string_values),
		cmocka_unit_test(test_json_print),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
