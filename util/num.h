/*
 * num.h — the one decimal number parser, for the gateway and the policy
 * library alike.
 */
#ifndef MUXGATE_NUM_H
#define MUXGATE_NUM_H

/*
 * All of S as a decimal number from MIN to MAX, in the manner of
 * OpenBSD's strtonum(3) but stricter: ASCII digits only, so no sign, no
 * blank and no empty string (leading zeros are decimal, not octal).
 * Returns 0 with the value in *OUT and *ERRSTR NULL, or -1 with *ERRSTR
 * set to "invalid", "too small" or "too large" and *OUT untouched.
 */
int	num_parse(const char *s, long long min, long long max, long long *out,
	    const char **errstr) __attribute__((warn_unused_result));
/*
 * The same for the digits that start S, which something of the caller's
 * may follow (a unit, a separator): *END is set to the first byte after
 * them.
 */
int	num_parse_prefix(const char *s, long long min, long long max,
	    long long *out, const char **end, const char **errstr)
	    __attribute__((warn_unused_result));

#endif
