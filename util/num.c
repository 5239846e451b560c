/* num.c — bounded decimal numbers (see num.h). */
#include <stdbool.h>
#include <stddef.h>

#include "util/ascii.h"
#include "util/num.h"

/*
 * Read the digits at S and point *END past them.  NULL when they are a
 * number from MIN to MAX (into *OUT), else why not.  Digits beyond MAX
 * are still skipped, so that a caller can tell "1x" (invalid) from a
 * number too large whatever its length: nothing overflows.
 */
static const char *
scan(const char *s, long long min, long long max, long long *out,
    const char **end)
{
	unsigned long long	 v = 0, lim, d;
	const char		*cp;
	bool			 big = false;

	lim = max < 0 ? 0 : (unsigned long long)max;
	for (cp = s; ascii_digit(*cp); cp++) {
		d = (unsigned long long)(*cp - '0');
		if (big || v > lim / 10 || (v == lim / 10 && d > lim % 10))
			big = true;
		else
			v = v * 10 + d;
	}
	*end = cp;
	if (cp == s)
		return "invalid";
	/* V <= LIM <= LLONG_MAX: the casts keep the value. */
	if (big || (long long)v > max)
		return "too large";
	if ((long long)v < min)
		return "too small";
	*out = (long long)v;
	return NULL;
}

int
num_parse_prefix(const char *s, long long min, long long max,
    long long *out, const char **end, const char **errstr)
{
	return (*errstr = scan(s, min, max, out, end)) == NULL ? 0 : -1;
}

int
num_parse(const char *s, long long min, long long max, long long *out,
    const char **errstr)
{
	const char	*end;
	long long	 v = 0;

	*errstr = scan(s, min, max, &v, &end);
	if (*end != '\0')
		*errstr = "invalid";
	if (*errstr != NULL)
		return -1;
	*out = v;
	return 0;
}
