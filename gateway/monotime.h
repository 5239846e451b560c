/* monotime.h — the monotonic clock, for deadlines and durations. */
#ifndef MUXGATE_MONOTIME_H
#define MUXGATE_MONOTIME_H

#include <time.h>

/* Milliseconds and microseconds since an arbitrary point; never goes back. */
static inline long long
monotime_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline unsigned long long
monotime_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000;
}

#endif
