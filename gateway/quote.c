/*
 * quote.c — POSIX shell quoting.  Inside single quotes nothing is
 * special, not even a newline; a single quote itself ends the quoting,
 * is given as \' and quoting resumes.  So every byte string except one
 * holding NUL (which no argv can carry) round-trips through sh -c.
 */
#include <string.h>

#include "gateway/quote.h"

void
quote_word(struct buf *b, const char *s)
{
	const char	*q;

	buf_addc(b, '\'');
	while ((q = strchr(s, '\'')) != NULL) {
		buf_add(b, s, (size_t)(q - s));
		buf_add(b, "'\\''", 4);
		s = q + 1;
	}
	buf_adds(b, s);
	buf_addc(b, '\'');
}

char *
quote_argv(const struct argv *a)
{
	struct buf	b = { 0 };
	int		i;

	for (i = 0; i < a->n; i++) {
		if (i > 0)
			buf_addc(&b, ' ');
		quote_word(&b, a->v[i]);
	}
	return buf_take(&b);
}
