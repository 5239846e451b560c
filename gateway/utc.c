/* utc.c — ISO 8601 times in UTC, written and read. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gateway/utc.h"
#include "policy/policy.h"

void
utc_format(long long t, char buf[UTC_ISO_LEN])
{
	struct tm	tm;
	time_t		tt = (time_t)t;

	if (t < 0 || t > UTC_MAX || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, UTC_ISO_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(buf, UTC_ISO_LEN, "-");
}

/* N digits at S, as a number in [MIN, MAX]. */
static bool
digits(const char *s, int n, int min, int max, int *out)
{
	int	i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return v >= min && v <= max;
}

/* "YYYY-MM-DD", or with "THH:MM:SSZ" after it when TIME. */
static int
iso(const char *s, bool time_too, long long *t)
{
	struct tm	tm, back;
	time_t		tt;
	int		y, mo, d, h = 0, mi = 0, sec = 0;

	if (!digits(s, 4, 1970, 9999, &y) || s[4] != '-' ||
	    !digits(s + 5, 2, 1, 12, &mo) || s[7] != '-' ||
	    !digits(s + 8, 2, 1, 31, &d))
		return -1;
	if (time_too && (s[10] != 'T' || !digits(s + 11, 2, 0, 23, &h) ||
	    s[13] != ':' || !digits(s + 14, 2, 0, 59, &mi) || s[16] != ':' ||
	    !digits(s + 17, 2, 0, 59, &sec) || s[19] != 'Z'))
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if ((tt = timegm(&tm)) == (time_t)-1 || gmtime_r(&tt, &back) == NULL)
		return -1;
	/* timegm() takes 2026-02-30 for March 2nd: not a date. */
	if (back.tm_mday != d || back.tm_mon != mo - 1)
		return -1;
	*t = (long long)tt;
	return 0;
}

int
utc_parse(const char *s, long long now, long long *t)
{
	unsigned	secs;
	size_t		len = strlen(s);

	if (len >= 5 && s[4] == '-') {
		if (len == 10)
			return iso(s, false, t);
		if (len == 20)
			return iso(s, true, t);
		return -1;
	}
	if (policy_parse_duration(s, &secs) == -1)
		return -1;
	*t = now - (long long)secs;
	return 0;
}
