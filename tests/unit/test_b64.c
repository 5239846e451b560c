/*
 * test_b64.c — util/b64.c, the one base64 decoder: every byte value in
 * every kind of position, the padding rules and every length, checked
 * against libsodium's encoder and, below 0x80, its decoder (which takes
 * the bytes from 0x80 up for '/', and which b64_decode() must refuse).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util/b64.h"

static bool
is_digit(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* libsodium's answer, for bytes where it is right. */
static int
theirs(const char *s, size_t len, unsigned char *out, size_t cap,
    size_t *outlen, int flags)
{
	const char	*end = NULL;

	if (sodium_base642bin(out, cap, s, len, NULL, outlen, &end,
	    (flags & B64_NOPAD) ? sodium_base64_VARIANT_ORIGINAL_NO_PADDING :
	    sodium_base64_VARIANT_ORIGINAL) != 0 || end != s + len)
		return -1;
	return 0;
}

/*
 * TEXT with byte B at position I: b64_decode() agrees with libsodium on
 * every byte below 0x80, and refuses every one from 0x80 up.
 */
static void
check_byte(const char *text, int flags, size_t i, int b)
{
	unsigned char	mine[64], want[64];
	char		s[64];
	size_t		len = strlen(text), n1 = 0, n2 = 0;
	int		r1, r2;

	memcpy(s, text, len);
	s[i] = (char)b;
	r1 = b64_decode(s, len, mine, sizeof(mine), &n1, flags);
	if (b >= 0x80) {
		if (r1 != -1)
			fail_msg("byte 0x%02x at %zu of %s taken", b, i, text);
		return;
	}
	r2 = theirs(s, len, want, sizeof(want), &n2, flags);
	if (r1 != r2)
		fail_msg("byte 0x%02x at %zu of %s: %d, libsodium %d", b, i,
		    text, r1, r2);
	if (r1 == 0) {
		assert_int_equal(n1, n2);
		assert_memory_equal(mine, want, n1);
	}
}

/*
 * Every byte in every kind of position: each digit of a whole group, the
 * digits before "==" and "=" (whose unused bits must be 0), and the
 * padding itself; padded and not.
 */
static void
test_every_byte(void **state)
{
	static const struct {
		const char	*text;
		int		 flags;
	} cases[] = {
		{ "QUJD", 0 },			/* ABC */
		{ "QUJDRA==", 0 },		/* ABCD */
		{ "QUJDREU=", 0 },		/* ABCDE */
		{ "QUJDRA", B64_NOPAD },
		{ "QUJDREU", B64_NOPAD },
	};
	size_t	c, i;
	int	b;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
		for (i = 0; i < strlen(cases[c].text); i++)
			for (b = 0; b < 256; b++)
				check_byte(cases[c].text, cases[c].flags, i, b);
}

/* The classes by hand, so that libsodium is not the only judge. */
static void
test_classes(void **state)
{
	unsigned char	out[8];
	size_t		n;
	char		s[5];
	int		b;

	for (b = 0; b < 256; b++) {
		snprintf(s, sizeof(s), "QUJD");
		s[1] = (char)b;
		assert_int_equal(b64_decode(s, 4, out, sizeof(out), &n, 0),
		    is_digit(b) ? 0 : -1);
		/* "QQ==": the second digit's low four bits must be 0. */
		snprintf(s, sizeof(s), "QQ==");
		s[1] = (char)b;
		assert_int_equal(b64_decode(s, 4, out, sizeof(out), &n, 0),
		    b == 'A' || b == 'Q' || b == 'g' || b == 'w' ? 0 : -1);
	}
	/* 0x80 to 0xff are '/' to libsodium 1.0.18, nothing here. */
	assert_int_equal(b64_decode("QUJ/", 4, out, sizeof(out), &n, 0), 0);
	assert_int_equal(b64_decode("QUJ\x80", 4, out, sizeof(out), &n, 0), -1);
	assert_int_equal(b64_decode("QUJ\xff", 4, out, sizeof(out), &n, 0), -1);
}

static void
test_padding(void **state)
{
	static const char *const bad[] = {
		"QQ=", "QQ", "Q===", "Q", "====", "=", "QQ==QQ==", "QQ== ",
		" QQ==", "QQ\n==", "QUI", "QUI==", "QUJD=", "QUJD==", "QR==",
		"QUJ=", "QQ=A", "Q-_A", "QUJD\n",
	};
	static const char *const bad_nopad[] = {
		"QQ==", "QUI=", "Q", "QR", "QUJ", "QUJD=", "QQ ",
	};
	unsigned char	out[16];
	size_t		i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (b64_decode(bad[i], strlen(bad[i]), out, sizeof(out), &n,
		    0) != -1)
			fail_msg("'%s' taken", bad[i]);
	for (i = 0; i < sizeof(bad_nopad) / sizeof(bad_nopad[0]); i++)
		if (b64_decode(bad_nopad[i], strlen(bad_nopad[i]), out,
		    sizeof(out), &n, B64_NOPAD) != -1)
			fail_msg("'%s' taken unpadded", bad_nopad[i]);
	assert_int_equal(b64_decode("QQ==", 4, out, sizeof(out), &n, 0), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0], 'A');
	assert_int_equal(b64_decode("QUI", 3, out, sizeof(out), &n,
	    B64_NOPAD), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(out, "AB", 2);
	assert_int_equal(b64_decode("", 0, out, sizeof(out), &n, 0), 0);
	assert_int_equal(n, 0);
	/* A NUL inside the length is a byte like any other, not an end. */
	assert_int_equal(b64_decode("QQ==\0", 5, out, sizeof(out), &n, 0), -1);
}

/*
 * Every length from 0 to 64 bytes round trips through libsodium's
 * encoder, both variants, and needs all of its room: one byte less and
 * it is refused.
 */
static void
test_lengths(void **state)
{
	unsigned char	bin[64], out[64];
	char		text[128];
	size_t		len, n;
	int		v;

	assert_true(sodium_init() >= 0);
	randombytes_buf(bin, sizeof(bin));
	for (len = 0; len <= sizeof(bin); len++)
		for (v = 0; v < 2; v++) {
			sodium_bin2base64(text, sizeof(text), bin, len, v == 0 ?
			    sodium_base64_VARIANT_ORIGINAL :
			    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
			assert_int_equal(b64_decode(text, strlen(text), out,
			    len, &n, v == 0 ? 0 : B64_NOPAD), 0);
			assert_int_equal(n, len);
			assert_memory_equal(out, bin, len);
			assert_true(B64_DECODED_MAX(strlen(text)) >= len);
			if (len > 0)
				assert_int_equal(b64_decode(text, strlen(text),
				    out, len - 1, &n, v == 0 ? 0 : B64_NOPAD),
				    -1);
			/* The other variant's text is refused, but for 3k. */
			if (len % 3 != 0)
				assert_int_equal(b64_decode(text, strlen(text),
				    out, len, &n, v == 0 ? B64_NOPAD : 0), -1);
		}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_padding),
		cmocka_unit_test(test_lengths),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
