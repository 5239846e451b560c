/*
 * termfilter_speed.c — what the terminal filter (gateway/termfilter.c)
 * costs on its own, in CPU time: MB/s (10^6 bytes of input a second) of
 * termfilter_feed() in each mode on four streams, next to memcpy() of
 * the same bytes, and the time of one call for a keystroke's echo.
 * Built and run by tests/bench/termfilter-speed.
 *
 * The streams (1 MB each, fed in reads of 4 KiB, as the relay reads a
 * pseudo-terminal):
 *   tmux      what tmux writes while `cat` scrolls base64 text in a pane:
 *             cursor moves, erases, a colour now and then, the status line;
 *   text      plain ASCII lines;
 *   utf8      text with two- and three-byte characters (the slow path);
 *   sgr       a colour change every four characters (ls --color, htop).
 * Each figure is the median of RUNS runs of at least SECONDS of CPU time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/termfilter.h"

#define RUNS	3
#define SECONDS	0.25
#define SIZE	(1000 * 1000)
#define READ	4096

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t
add(char *buf, size_t n, const char *s)
{
	size_t	len = strlen(s);

	if (n + len > SIZE)
		return n;
	memcpy(buf + n, s, len);
	return n + len;
}

static char *
stream(const char *kind)
{
	char		*buf = calloc(1, SIZE), line[256];
	size_t		 n = 0, i;
	unsigned	 r = 12345, row = 0;

	while (n + sizeof(line) < SIZE) {
		for (i = 0; i < 76; i++) {
			r = r * 1103515245u + 12345u;
			line[i] = b64[(r >> 16) % 64];
		}
		line[76] = '\0';
		if (strcmp(kind, "tmux") == 0) {
			char	pos[32];

			snprintf(pos, sizeof(pos), "\033[%u;1H", row % 39 + 1);
			n = add(buf, n, pos);
			if (row % 10 == 0)
				n = add(buf, n, "\033[32m");
			n = add(buf, n, line);
			n = add(buf, n, row % 10 == 0 ? "\033[39m\033[K" :
			    "\033[K");
			if (row % 39 == 38)
				n = add(buf, n, "\033[40;1H\033[30m\033[42m[build] "
				    "0:bash*    \"bastion\" 19:04 23-Nov-26"
				    "\033(B\033[m\033[?12l\033[?25h");
		} else if (strcmp(kind, "utf8") == 0) {
			for (i = 0; i < 76; i += 4)
				memcpy(line + i, i % 8 ? "\xc3\xa9" "a" "b" :
				    "\xe2\x82\xac" "c", 4);
			n = add(buf, n, line);
			n = add(buf, n, "\r\n");
		} else if (strcmp(kind, "sgr") == 0) {
			for (i = 0; i < 76; i += 4) {
				char	sgr[16];

				snprintf(sgr, sizeof(sgr), "\033[38;5;%um",
				    (unsigned)(i * 3 + row) % 256);
				n = add(buf, n, sgr);
				memcpy(sgr, line + i, 4);
				sgr[4] = '\0';
				n = add(buf, n, sgr);
			}
			n = add(buf, n, "\033[m\r\n");
		} else {
			n = add(buf, n, line);
			n = add(buf, n, "\r\n");
		}
		row++;
	}
	while (n < SIZE)
		buf[n++] = ' ';
	return buf;
}

/* MB/s of MODE (-1: memcpy) over BUF, fed in reads of READ bytes. */
static double
speed(int mode, const char *buf, char *out)
{
	struct termfilter	*tf = NULL;
	unsigned long long	 bytes = 0;
	double			 t0 = now(), t;
	size_t			 off;

	if (mode >= 0)
		tf = termfilter_new((enum termfilter_mode)mode);
	do {
		for (off = 0; off < SIZE; off += READ) {
			if (tf != NULL)
				(void)termfilter_feed(tf, buf + off, READ, out);
			else
				memcpy(out, buf + off, READ);
			/* Keep the copy from being optimized away. */
			__asm__ volatile("" : : "r"(out) : "memory");
		}
		bytes += SIZE;
	} while ((t = now() - t0) < SECONDS);
	termfilter_free(tf);
	return (double)bytes / 1e6 / t;
}

/* Nanoseconds of one termfilter_feed() of ECHO in MODE. */
static double
per_call(int mode, const char *echo, char *out)
{
	struct termfilter	*tf = termfilter_new((enum termfilter_mode)mode);
	unsigned long long	 calls = 0;
	double			 t0 = now(), t;
	size_t			 len = strlen(echo), i;

	do {
		for (i = 0; i < 10000; i++) {
			(void)termfilter_feed(tf, echo, len, out);
			__asm__ volatile("" : : "r"(out) : "memory");
		}
		calls += 10000;
	} while ((t = now() - t0) < SECONDS);
	termfilter_free(tf);
	return t * 1e9 / (double)calls;
}

static double
median(double (*f)(int, const char *, char *), int mode, const char *arg,
    char *out)
{
	double	v[RUNS];
	int	i;

	for (i = 0; i < RUNS; i++)
		v[i] = f(mode, arg, out);
	qsort(v, RUNS, sizeof(v[0]), cmp);
	return v[RUNS / 2];
}

int
main(void)
{
	static const char *const kinds[] = { "tmux", "text", "utf8", "sgr" };
	static const char *const echoes[] = {
		"x", "\033[?25lx\033[12;6H\033[?25h",
	};
	char	*out = malloc(TERMFILTER_OUT_MAX(READ) + 64);
	size_t	 k;

	printf("%-6s %12s %12s %12s %12s   MB/s of input, CPU time\n",
	    "stream", "memcpy", "none", "writer", "watch");
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		char	*buf = stream(kinds[k]);

		printf("%-6s %12.0f %12.0f %12.0f %12.0f\n", kinds[k],
		    median(speed, -1, buf, out),
		    median(speed, TERMFILTER_NONE, buf, out),
		    median(speed, TERMFILTER_WRITER, buf, out),
		    median(speed, TERMFILTER_WATCH, buf, out));
		free(buf);
	}
	printf("one keystroke's echo, ns per termfilter_feed():\n");
	for (k = 0; k < sizeof(echoes) / sizeof(echoes[0]); k++)
		printf("  %2zu bytes   writer %6.1f   watch %6.1f\n",
		    strlen(echoes[k]),
		    median(per_call, TERMFILTER_WRITER, echoes[k], out),
		    median(per_call, TERMFILTER_WATCH, echoes[k], out));
	free(out);
	return 0;
}
