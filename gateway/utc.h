/*
 * utc.h — points in time as muxgate shows and reads them on the command
 * line: UTC, ISO 8601, to the second.
 */
#ifndef MUXGATE_UTC_H
#define MUXGATE_UTC_H

#include <stddef.h>

/* "YYYY-MM-DDTHH:MM:SSZ" and its NUL */
#define UTC_ISO_LEN	21

/* The latest time shown: 9999-12-31T23:59:59Z. */
#define UTC_MAX		253402300799LL

/* T (seconds since the epoch, 0 to UTC_MAX) as "2026-11-23T20:24:38Z". */
void	utc_format(long long t, char buf[UTC_ISO_LEN]);

/*
 * A point in time given as "YYYY-MM-DD" (its midnight, UTC),
 * "YYYY-MM-DDTHH:MM:SSZ", or a duration before NOW in the policy's
 * syntax ("90d", "12h", "30m", "45s"; policy_parse_duration()).  0 and
 * *T set, or -1.
 */
int	utc_parse(const char *s, long long now, long long *t)
	    __attribute__((warn_unused_result));

#endif
