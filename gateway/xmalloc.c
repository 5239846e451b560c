/* xmalloc.c — die on out-of-memory rather than half-do anything. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/xmalloc.h"

static void __attribute__((noreturn))
oom(void)
{
	/* No allocation here: stderr is unbuffered enough for one line. */
	static const char msg[] = "muxgate: out of memory\n";
	fwrite(msg, 1, sizeof(msg) - 1, stderr);
	exit(1);
}

void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL)
		oom();
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size)) == NULL)
		oom();
	return p;
}

void *
xreallocarray(void *p, size_t n, size_t size)
{
	if ((p = reallocarray(p, n == 0 ? 1 : n, size == 0 ? 1 : size)) == NULL)
		oom();
	return p;
}

char *
xstrdup(const char *s)
{
	char	*r;

	if ((r = strdup(s)) == NULL)
		oom();
	return r;
}

char *
xstrndup(const char *s, size_t n)
{
	char	*r;

	if ((r = strndup(s, n)) == NULL)
		oom();
	return r;
}

int
xvasprintf(char **out, const char *fmt, va_list ap)
{
	int	n;

	if ((n = vasprintf(out, fmt, ap)) == -1)
		oom();
	return n;
}

int
xasprintf(char **out, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = xvasprintf(out, fmt, ap);
	va_end(ap);
	return n;
}
