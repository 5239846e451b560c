/* b64.c — the one base64 decoder (b64.h). */
#include <stdint.h>

#include "util/b64.h"

/* Each byte's value as a base64 digit, or X when it is not one. */
#define X 0xff
static const unsigned char b64_values[256] = {
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, 62, X, X, X, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X, X, X, X, X, X,
	X, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X, X, X, X, X,
	X, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
	X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
};
#undef X

/*
 * By hand, not with libsodium: its decoder is constant-time, which
 * public keys and headers do not need (in a policy of 20,000 keys it was
 * more of the time than hashing them), and takes bytes it should not.
 */
int
b64_decode(const char *s, size_t len, unsigned char *out, size_t outcap,
    size_t *outlen, int flags)
{
	uint32_t	acc = 0;
	size_t		bits = 0, i, n = 0, pad;
	unsigned char	d;

	for (i = 0; i < len && (d = b64_values[(unsigned char)s[i]]) != 0xff;
	    i++) {
		acc = acc << 6 | d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == outcap)
				return -1;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	/* One digit alone, or bits of the last one unused but set. */
	if (bits > 4 || (acc & ((1U << bits) - 1)) != 0)
		return -1;
	if (!(flags & B64_NOPAD))
		for (pad = bits / 2; pad > 0; pad--, i++)
			if (i >= len || s[i] != '=')
				return -1;
	if (i != len)
		return -1;
	*outlen = n;
	return 0;
}
