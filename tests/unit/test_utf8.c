/*
 * test_utf8.c — utf8_decode(): every code point, every two- and
 * three-byte sequence, and the four-byte ones around their edges,
 * against an encoder written from RFC 3629's table: a sequence is valid
 * exactly when it is the encoding of some scalar value, and a short one
 * is UTF8_SHORT exactly when some valid sequence starts with it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"

/* The encoding of CP into S; its length. */
static size_t
encode(uint32_t cp, unsigned char s[4])
{
	if (cp < 0x80) {
		s[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		s[0] = (unsigned char)(0xc0 | cp >> 6);
		s[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		s[0] = (unsigned char)(0xe0 | cp >> 12);
		s[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		s[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	s[0] = (unsigned char)(0xf0 | cp >> 18);
	s[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	s[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	s[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

static bool
scalar(uint32_t cp)
{
	return cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff);
}

/* Sequences up to three bytes, as a number: bit set when valid. */
struct oracle {
	unsigned char	*whole;		/* 1 << 24 bits: valid sequences */
	unsigned char	*start;		/* 1 << 24 bits: their proper prefixes */
};

static uint32_t
key(const unsigned char *s, size_t n)
{
	uint32_t	k = 0;
	size_t		i;

	for (i = 0; i < n; i++)
		k = k << 8 | s[i];
	/* A length marker above the bytes keeps "\0" apart from "". */
	return k | (uint32_t)1 << (8 * n);
}

static void
bit_set(unsigned char *map, uint32_t k)
{
	map[k >> 3] |= (unsigned char)(1 << (k & 7));
}

static bool
bit_get(const unsigned char *map, uint32_t k)
{
	return (map[k >> 3] >> (k & 7)) & 1;
}

static int
oracle_setup(void **state)
{
	struct oracle	*o = calloc(1, sizeof(*o));
	unsigned char	 s[4];
	uint32_t	 cp;
	size_t		 n, i;

	assert_non_null(o);
	/* Keys of up to three bytes, with their marker, fit in 25 bits. */
	o->whole = calloc(1, (size_t)1 << 22);
	o->start = calloc(1, (size_t)1 << 22);
	assert_non_null(o->whole);
	assert_non_null(o->start);
	for (cp = 0; cp <= 0x10ffff; cp++) {
		if (!scalar(cp))
			continue;
		n = encode(cp, s);
		if (n <= 3)
			bit_set(o->whole, key(s, n));
		for (i = 1; i < n && i <= 3; i++)
			bit_set(o->start, key(s, i));
	}
	*state = o;
	return 0;
}

static int
oracle_teardown(void **state)
{
	struct oracle	*o = *state;

	free(o->whole);
	free(o->start);
	free(o);
	return 0;
}

/* What utf8_decode() must say of S[0..N), N <= 3. */
static int
expected(const struct oracle *o, const unsigned char *s, size_t n)
{
	size_t	i;

	/* UTF-8 is prefix-free: at most one length can fit. */
	for (i = n; i > 0; i--)
		if (bit_get(o->whole, key(s, i)))
			return (int)i;
	return bit_get(o->start, key(s, n)) ? UTF8_SHORT : UTF8_BAD;
}

static void
check(const struct oracle *o, const unsigned char *s, size_t n)
{
	uint32_t	cp = 0xfffffff;
	int		r, want = expected(o, s, n);

	r = utf8_decode(s, n, &cp);
	if (r != want)
		fail_msg("%02x %02x %02x (%zu bytes): %d, not %d", s[0],
		    n > 1 ? s[1] : 0, n > 2 ? s[2] : 0, n, r, want);
	if (r > 0) {
		unsigned char	again[4];

		assert_int_equal(encode(cp, again), (size_t)r);
		assert_memory_equal(again, s, (size_t)r);
	} else
		assert_int_equal(cp, 0xfffffff);
}

static void
test_every_code_point(void **state)
{
	unsigned char	s[4];
	uint32_t	cp, got;
	size_t		n;

	for (cp = 0; cp <= 0x10ffff; cp++) {
		n = encode(cp, s);
		got = 0xfffffff;
		if (!scalar(cp)) {
			/* A surrogate, encoded as if it were one. */
			assert_int_equal(utf8_decode(s, n, &got), UTF8_BAD);
			continue;
		}
		assert_int_equal(utf8_decode(s, n, &got), (int)n);
		assert_int_equal(got, cp);
	}
}

static void
test_every_short_sequence(void **state)
{
	const struct oracle	*o = *state;
	unsigned char		 s[3];
	unsigned		 a, b, c;

	for (a = 0; a < 256; a++) {
		s[0] = (unsigned char)a;
		check(o, s, 1);
		for (b = 0; b < 256; b++) {
			s[1] = (unsigned char)b;
			check(o, s, 2);
			/* Three bytes only where the first two can be a start. */
			if (a < 0xe0)
				continue;
			for (c = 0; c < 256; c++) {
				s[2] = (unsigned char)c;
				check(o, s, 3);
			}
		}
	}
}

static void
test_four_bytes(void **state)
{
	static const unsigned char edges[] = { 0x00, 0x7f, 0x80, 0x8f, 0x90,
	    0x9f, 0xa0, 0xbf, 0xc0, 0xff };
	unsigned char	s[4];
	uint32_t	cp;
	unsigned	a, i, j, k;
	int		r, want;

	for (a = 0xf0; a <= 0xff; a++)
		for (i = 0; i < sizeof(edges); i++)
			for (j = 0; j < sizeof(edges); j++)
				for (k = 0; k < sizeof(edges); k++) {
					s[0] = (unsigned char)a;
					s[1] = edges[i];
					s[2] = edges[j];
					s[3] = edges[k];
					/* Valid: F0 90-BF, F1-F3 80-BF, F4 80-8F. */
					want = a <= 0xf4 &&
					    s[1] >= (a == 0xf0 ? 0x90 : 0x80) &&
					    s[1] <= (a == 0xf4 ? 0x8f : 0xbf) &&
					    s[2] >= 0x80 && s[2] <= 0xbf &&
					    s[3] >= 0x80 && s[3] <= 0xbf ?
					    4 : UTF8_BAD;
					r = utf8_decode(s, 4, &cp);
					assert_int_equal(r, want);
				}
}

static void
test_named_cases(void **state)
{
	static const struct {
		const char	*s;
		int		 want;
		uint32_t	 cp;
	} cases[] = {
		{ "A", 1, 0x41 },
		{ "\xc3\xa9", 2, 0xe9 },
		{ "\xe2\x82\xac", 3, 0x20ac },
		{ "\xf0\x9f\x98\x80", 4, 0x1f600 },
		{ "\xf4\x8f\xbf\xbf", 4, 0x10ffff },
		{ "\xef\xbf\xbd", 3, 0xfffd },
		{ "\xc2\x85", 2, 0x85 },		/* NEL: valid, if unsafe */
		/* overlong forms of '/' and of U+0000 */
		{ "\xc0\xaf", UTF8_BAD, 0 },
		{ "\xe0\x80\xaf", UTF8_BAD, 0 },
		{ "\xf0\x80\x80\xaf", UTF8_BAD, 0 },
		{ "\xc1\xbf", UTF8_BAD, 0 },
		{ "\xe0\x9f\xbf", UTF8_BAD, 0 },
		{ "\xf0\x8f\xbf\xbf", UTF8_BAD, 0 },
		/* surrogates, alone and paired */
		{ "\xed\xa0\x80", UTF8_BAD, 0 },
		{ "\xed\xbf\xbf", UTF8_BAD, 0 },
		{ "\xed\xa0\xbd\xed\xb8\x80", UTF8_BAD, 0 },
		{ "\xed\x9f\xbf", 3, 0xd7ff },
		{ "\xee\x80\x80", 3, 0xe000 },
		/* beyond U+10FFFF, and lead bytes that never start anything */
		{ "\xf4\x90\x80\x80", UTF8_BAD, 0 },
		{ "\xf5\x80\x80\x80", UTF8_BAD, 0 },
		{ "\xf8\x88\x80\x80\x80", UTF8_BAD, 0 },
		{ "\xfe", UTF8_BAD, 0 },
		{ "\xff", UTF8_BAD, 0 },
		/* continuation bytes alone, and a broken sequence */
		{ "\x80", UTF8_BAD, 0 },
		{ "\xbf", UTF8_BAD, 0 },
		{ "\xc3(", UTF8_BAD, 0 },
		{ "\xe2\x28\xa1", UTF8_BAD, 0 },
		{ "\xe2\x82(", UTF8_BAD, 0 },
	};
	size_t		i;
	uint32_t	cp;
	int		r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cp = 0;
		r = utf8_decode((const unsigned char *)cases[i].s,
		    strlen(cases[i].s), &cp);
		if (r != cases[i].want)
			fail_msg("case %zu: %d, not %d", i, r, cases[i].want);
		if (r > 0)
			assert_int_equal(cp, cases[i].cp);
	}
}

static void
test_truncated(void **state)
{
	static const char *const whole[] = { "\xc3\xa9", "\xe2\x82\xac",
	    "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf", "\xe0\xa0\x80",
	    "\xed\x9f\xbf", "\xf0\x90\x80\x80" };
	static const char *const broken[] = { "\xe0\x80", "\xed\xa0",
	    "\xf0\x80", "\xf4\x90", "\xf0\x8f\xbf" };
	const unsigned char	*s;
	uint32_t		 cp;
	size_t			 i, n, len;

	/* Every proper start of a valid sequence waits for the rest. */
	for (i = 0; i < sizeof(whole) / sizeof(whole[0]); i++) {
		s = (const unsigned char *)whole[i];
		len = strlen(whole[i]);
		for (n = 1; n < len; n++)
			assert_int_equal(utf8_decode(s, n, &cp), UTF8_SHORT);
		assert_int_equal(utf8_decode(s, len, &cp), (int)len);
	}
	/* A start no valid sequence has is bad at once, not short. */
	for (i = 0; i < sizeof(broken) / sizeof(broken[0]); i++)
		assert_int_equal(utf8_decode((const unsigned char *)broken[i],
		    strlen(broken[i]), &cp), UTF8_BAD);
	/* Nothing there yet. */
	assert_int_equal(utf8_decode((const unsigned char *)"", 0, &cp),
	    UTF8_SHORT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_code_point),
		cmocka_unit_test_setup_teardown(test_every_short_sequence,
		    oracle_setup, oracle_teardown),
		cmocka_unit_test(test_four_bytes),
		cmocka_unit_test(test_named_cases),
		cmocka_unit_test(test_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
