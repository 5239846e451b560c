/*
 * test_num.c — num_parse() and num_parse_prefix(): the bounds, overflow,
 * and everything that is not a plain run of decimal digits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util/num.h"

/* S must parse, in [MIN, MAX], as WANT. */
static void
good(const char *s, long long min, long long max, long long want)
{
	long long	 v = -42;
	const char	*errstr = "unset";

	if (num_parse(s, min, max, &v, &errstr) != 0)
		fail_msg("'%s' in [%lld, %lld]: %s", s, min, max, errstr);
	assert_true(v == want);
	assert_null(errstr);
}

/* S must fail with WHY, leaving *OUT as it was. */
static void
bad(const char *s, long long min, long long max, const char *why)
{
	long long	 v = -42;
	const char	*errstr = NULL;

	if (num_parse(s, min, max, &v, &errstr) != -1)
		fail_msg("'%s' in [%lld, %lld] parsed as %lld", s, min, max, v);
	assert_non_null(errstr);
	if (strcmp(errstr, why) != 0)
		fail_msg("'%s': '%s', not '%s'", s, errstr, why);
	assert_true(v == -42);
}

static void
test_digits(void **state)
{
	good("0", 0, 10, 0);
	good("7", 0, 10, 7);
	good("10", 0, 10, 10);
	good("65535", 1, 65535, 65535);
	/* Leading zeros are decimal, never octal. */
	good("007", 0, 10, 7);
	good("010", 0, 100, 10);
	good("0000000000000000000000000000001", 0, 1, 1);
}

static void
test_bounds(void **state)
{
	good("1", 1, 5, 1);
	good("5", 1, 5, 5);
	bad("0", 1, 5, "too small");
	bad("6", 1, 5, "too large");
	good("3", 3, 3, 3);
	bad("2", 3, 3, "too small");
	bad("4", 3, 3, "too large");
	/* A negative MIN is no lower bound; a negative MAX takes nothing. */
	good("0", -10, 10, 0);
	bad("0", -10, -1, "too large");
	bad("5", -10, -1, "too large");
}

static void
test_overflow(void **state)
{
	char	buf[64];

	good("9223372036854775807", 0, LLONG_MAX, LLONG_MAX);
	bad("9223372036854775808", 0, LLONG_MAX, "too large");
	bad("18446744073709551615", 0, LLONG_MAX, "too large");
	bad("18446744073709551616", 0, LLONG_MAX, "too large");
	bad("99999999999999999999999999999999999999", 0, LLONG_MAX,
	    "too large");
	/* Just past a small MAX, and a long way past it. */
	bad("256", 0, 255, "too large");
	bad("2550", 0, 255, "too large");
	bad("4294967296", 0, UINT_MAX, "too large");
	good("4294967295", 0, UINT_MAX, UINT_MAX);
	(void)snprintf(buf, sizeof(buf), "%lld", LLONG_MAX - 1);
	good(buf, 0, LLONG_MAX - 1, LLONG_MAX - 1);
	bad("9223372036854775807", 0, LLONG_MAX - 1, "too large");
}

static void
test_not_a_number(void **state)
{
	static const char *const bads[] = {
		"", "+1", "-1", "-0", "+0", " 1", "1 ", "\t1", "1\n", "\n1",
		"1x", "x1", "0x10", "1e3", "1.0", ".5", "1,000", "1_000", "--1",
		"\xd9\xa1",		/* ARABIC-INDIC DIGIT ONE */
		"\xef\xbc\x91",		/* FULLWIDTH DIGIT ONE */
	};
	size_t	i;

	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++)
		bad(bads[i], LLONG_MIN, LLONG_MAX, "invalid");
	/* Trailing text is invalid before any range is looked at. */
	bad("99999999999999999999x", 0, 10, "invalid");
	bad("0x", 1, 10, "invalid");
}

static void
test_prefix(void **state)
{
	long long	 v = -42;
	const char	*end = NULL, *errstr = "unset", *s;

	s = "30s";
	assert_int_equal(num_parse_prefix(s, 0, 100, &v, &end, &errstr), 0);
	assert_true(v == 30);
	assert_ptr_equal(end, s + 2);
	assert_null(errstr);

	s = "10:30:100";
	assert_int_equal(num_parse_prefix(s, 1, 10000, &v, &end, &errstr), 0);
	assert_true(v == 10);
	assert_string_equal(end, ":30:100");

	s = "42";
	assert_int_equal(num_parse_prefix(s, 0, 100, &v, &end, &errstr), 0);
	assert_true(v == 42);
	assert_string_equal(end, "");

	v = -42;
	assert_int_equal(num_parse_prefix("s", 0, 100, &v, &end, &errstr), -1);
	assert_string_equal(errstr, "invalid");
	assert_int_equal(num_parse_prefix("", 0, 100, &v, &end, &errstr), -1);
	assert_string_equal(errstr, "invalid");
	assert_int_equal(num_parse_prefix("-5s", -10, 100, &v, &end, &errstr),
	    -1);
	assert_string_equal(errstr, "invalid");
	assert_int_equal(num_parse_prefix(" 5s", 0, 100, &v, &end, &errstr),
	    -1);
	assert_string_equal(errstr, "invalid");
	assert_int_equal(num_parse_prefix("101%", 0, 100, &v, &end, &errstr),
	    -1);
	assert_string_equal(errstr, "too large");
	assert_int_equal(num_parse_prefix("0G", 1, 100, &v, &end, &errstr), -1);
	assert_string_equal(errstr, "too small");
	assert_int_equal(num_parse_prefix("99999999999999999999999K", 0,
	    LLONG_MAX, &v, &end, &errstr), -1);
	assert_string_equal(errstr, "too large");
	assert_true(v == -42);
}

/* Every string of up to four characters from a small alphabet. */
static void
test_against_reference(void **state)
{
	static const char	 alpha[] = "09+- x";
	char			 s[5];
	size_t			 n = sizeof(alpha) - 1, len, i, k, total;
	long long		 v, want;
	const char		*errstr;
	bool			 digits;

	for (len = 0; len <= 4; len++) {
		total = 1;
		for (i = 0; i < len; i++)
			total *= n;
		for (k = 0; k < total; k++) {
			size_t	x = k;

			digits = len > 0;
			want = 0;
			for (i = 0; i < len; i++, x /= n) {
				s[i] = alpha[x % n];
				if (s[i] < '0' || s[i] > '9')
					digits = false;
				else
					want = want * 10 + (s[i] - '0');
			}
			s[len] = '\0';
			errstr = NULL;
			if (digits && want >= 5 && want <= 900) {
				good(s, 5, 900, want);
				continue;
			}
			assert_int_equal(num_parse(s, 5, 900, &v, &errstr), -1);
			assert_string_equal(errstr, !digits ? "invalid" :
			    want < 5 ? "too small" : "too large");
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digits),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_not_a_number),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_against_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
