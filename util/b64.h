/*
 * b64.h — the one base64 decoder, for the policy library and the gateway
 * alike: strict, so that one text decodes to one value and one value has
 * one text.
 */
#ifndef MUXGATE_B64_H
#define MUXGATE_B64_H

#include <stddef.h>

/* Unpadded: no '=' may complete the last group. */
#define B64_NOPAD	0x1

/* The most bytes LEN digits can decode to. */
#define B64_DECODED_MAX(len)	((len) / 4 * 3 + 3)

/*
 * All LEN bytes of S, standard base64 (A-Z a-z 0-9 + /), into OUT, which
 * has room for OUTCAP bytes; 0 with their number in *OUTLEN, or -1.
 * The unused bits of the last digit must be 0.  Without B64_NOPAD a last
 * group of two or three digits is completed by exactly "==" or "=";
 * with it, by nothing.  Nothing else is taken: no whitespace, no second
 * padding, no URL-safe digit and no byte from 0x80 up (libsodium 1.0.18's
 * sodium_base642bin() reads each of those as '/').
 */
int	b64_decode(const char *s, size_t len, unsigned char *out,
	    size_t outcap, size_t *outlen, int flags)
	    __attribute__((warn_unused_result));

#endif
