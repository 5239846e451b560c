/* errors.c — error lists and the allocation helpers of the policy library. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "policy/policy-int.h"

/*
 * The policy library has no log and no exit: running out of memory while
 * loading a policy is reported as abort(), which a caller cannot recover
 * from meaningfully either.
 */
void *
pcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size)) == NULL)
		abort();
	return p;
}

/*
 * Fault in the whole pages of [P, P+LEN) in one system call, for a large
 * array about to be filled: one page fault per 4 KiB page is the largest
 * cost of loading a big policy on a virtual machine (about 7 us each,
 * ~1,700 of them for the tree of 20,000 identities).  Best effort:
 * before Linux 5.14 (no MADV_POPULATE_WRITE), the pages fault as they
 * are touched.
 */
void
pprefault(void *p, size_t len)
{
	uintptr_t	pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t	a = ((uintptr_t)p + pg - 1) & ~(pg - 1);
	uintptr_t	e = ((uintptr_t)p + len) & ~(pg - 1);

#ifdef MADV_POPULATE_WRITE
	if (e > a)
		(void)madvise((void *)a, e - a, MADV_POPULATE_WRITE);
#else
	(void)a;
	(void)e;
#endif
}

void *
preallocarray(void *p, size_t n, size_t size)
{
	if ((p = reallocarray(p, n == 0 ? 1 : n, size == 0 ? 1 : size)) == NULL)
		abort();
	return p;
}

/*
 * Make room for element N of an array that holds N: lists grow one
 * element at a time, and a policy of 20,000 identities must not copy its
 * identities 20,000 times.  The capacity is not stored: it is the
 * smallest power of two not below N (1 for 0), so the array is full, and
 * doubles, exactly when N is 0 or a power of two.  That holds only for
 * arrays grown by nothing else, one element at a time.
 */
void *
pgrowarray(void *p, size_t n, size_t size)
{
	if (n != 0 && (n & (n - 1)) != 0)
		return p;
	if (n > SIZE_MAX / 2)
		abort();
	return preallocarray(p, n == 0 ? 1 : n * 2, size);
}

char *
pstrdup(const char *s)
{
	char	*r;

	if ((r = strdup(s)) == NULL)
		abort();
	return r;
}

void
strlist_add(struct strlist *l, const char *s)
{
	l->v = pgrowarray(l->v, l->n, sizeof(*l->v));
	l->v[l->n++] = pstrdup(s);
}

void
strlist_free(struct strlist *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

bool
strlist_has(const struct strlist *l, const char *s)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

/*
 * A message longer than this keeps its start and its end, where the
 * hints are, and loses its middle: a value the policy quotes may be a
 * scalar of POLICY_MAX_SCALAR bytes, and an error line is read by people.
 */
#define PERR_MSG_MAX	512
#define PERR_MSG_KEEP	240

/* Back from S + I to the start of a UTF-8 character. */
static size_t
char_start(const char *s, size_t i)
{
	while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
		i--;
	return i;
}

/* MSG (freed), at most about PERR_MSG_MAX bytes of it. */
static char *
perr_shorten(char *msg)
{
	size_t	 len = strlen(msg), head, tail;
	char	*r = NULL;

	if (len <= PERR_MSG_MAX)
		return msg;
	head = char_start(msg, PERR_MSG_KEEP);
	tail = char_start(msg, len - PERR_MSG_KEEP);
	if (asprintf(&r, "%.*s[... %zu bytes ...]%s", (int)head, msg,
	    tail - head, msg + tail) == -1)
		abort();
	free(msg);
	return r;
}

/*
 * At most POLICY_MAX_ERRORS messages, then one that says so: a file of
 * four megabytes of mistakes would otherwise make a million of them.
 */
void
perr_add(struct policy_errors *e, const char *file, size_t line, size_t col,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*msg = NULL, *full = NULL;

	if (e == NULL)
		return;
	e->total++;
	if (e->n > POLICY_MAX_ERRORS)
		return;
	if (e->n == POLICY_MAX_ERRORS) {
		if (asprintf(&full, "%s:0:0: more errors not shown (at most "
		    "%d are listed)", file, POLICY_MAX_ERRORS) == -1)
			abort();
	} else {
		va_start(ap, fmt);
		if (vasprintf(&msg, fmt, ap) == -1)
			abort();
		va_end(ap);
		msg = perr_shorten(msg);
		if (asprintf(&full, "%s:%zu:%zu: %s", file, line, col,
		    msg) == -1)
			abort();
		free(msg);
	}
	e->msgs = pgrowarray(e->msgs, e->n, sizeof(*e->msgs));
	e->msgs[e->n++] = full;
}

/* Drop the messages from the Nth on, when all were listed. */
void
perr_truncate(struct policy_errors *e, size_t n)
{
	while (e != NULL && e->n > n) {
		free(e->msgs[--e->n]);
		e->total--;
	}
}

void
policy_errors_free(struct policy_errors *e)
{
	size_t	i;

	if (e == NULL)
		return;
	for (i = 0; i < e->n; i++)
		free(e->msgs[i]);
	free(e->msgs);
	e->msgs = NULL;
	e->n = 0;
	e->total = 0;
}
