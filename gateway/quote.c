/*
 * quote.c — the one place that turns strings into text another program
 * parses: POSIX shell words for the remote command line, and the values
 * of the generated ssh_config.
 *
 * POSIX shell quoting.  Inside single quotes nothing is special, not
 * even a newline; a single quote itself ends the quoting, is given as \'
 * and quoting resumes.  So every byte string except one holding NUL
 * (which no argv can carry) round-trips through sh -c.
 *
 * ssh_config values (quote_ssh_config).  ssh_config has its own quoting
 * and expands % tokens in paths, user and host names.  A value is written
 * in double quotes only when nothing in it would need escaping: no quote,
 * backslash, whitespace, control character or %.  Anything else is
 * refused, not escaped: the policy schema refuses such values first.
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

const char *
quote_ssh_config_unsafe(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s == 0x7f ||
		    strchr("\"'\\%", *s) != NULL)
			return s;
	return NULL;
}

int
quote_ssh_config(struct buf *b, const char *s)
{
	if (quote_ssh_config_unsafe(s) != NULL)
		return -1;
	buf_addc(b, '"');
	buf_adds(b, s);
	buf_addc(b, '"');
	return 0;
}
