/*
 * quote.c — the one place that turns strings into text another program
 * parses: the remote command line that OpenSSH hands to the remote
 * user's login shell, the values of the generated ssh_config, and the
 * options of authorized_keys lines (quote_key_option).
 *
 * POSIX words (quote_word, quote_argv).  A word made only of "plain"
 * bytes (printable ASCII and tab, but none of ' \ ! " $ `) is written in
 * double quotes, where sh gives none of them a meaning.  Any other word
 * is written in single quotes, inside which nothing is special, not even
 * a newline; a single quote itself ends the quoting, is given as \' and
 * quoting resumes.  So every byte string except one holding NUL (which
 * no argv can carry) round-trips through sh -c.
 *
 * The remote command (quote_remote).  sshd runs the command string with
 * the remote user's login shell, `SHELL -c STRING`, and login shells do
 * not agree on quoting: fish reads \\ and \' inside single quotes, csh
 * and tcsh refuse a newline inside them and expand ! even there.  So the
 * string sent is always
 *
 *	exec /bin/sh -c 'SCRIPT'
 *
 * (followed, in the second form below, by plain words of hex digits)
 * where SCRIPT holds printable ASCII and tabs only, and none of ', \ or
 * ! (nor a newline).  Every shell muxgate supports as a login shell (sh,
 * dash, bash, ksh, zsh, csh, tcsh, fish) reads that line the same way:
 * run /bin/sh with SCRIPT as its script argument.  SCRIPT is POSIX sh,
 * read by /bin/sh alone:
 *
 * - when the POSIX command line L = quote_argv(ARGV) holds nothing but
 *   printable ASCII and tabs, none of them ' \ or !, and is not long
 *   (the usual case: tmux verbs, user and session names, formats), the
 *   string is
 *
 *	exec /bin/sh -c 'exec L'
 *
 * - otherwise L travels hex-encoded, in words of at most 4096 digits
 *   after the script (csh refuses words of about 8 KB), and the script
 *   decodes it with awk, which needs no escape character to write a byte
 *   (printf "%c" with a number), then evaluates it:
 *
 *	exec /bin/sh -c 'c=$(LC_ALL=C awk "BEGIN{...}" %c 0123456789abcdef
 *	    "$@")||exit 127;eval "exec $c"' sh HEX HEX...
 *
 *   The command substitution cannot lose trailing newlines of L, which
 *   ends in a closing quote.  LC_ALL=C makes awk write bytes, not
 *   characters.  If awk is missing or fails, nothing runs (exit 127).
 *
 * Neither the login shell's nor sh's quoting is trusted with anything but
 * plain bytes, and the unit tests run the result through every one of
 * those shells that is installed.
 *
 * ssh_config values (quote_ssh_config).  ssh_config has its own quoting
 * and expands % tokens in paths, user and host names.  A value is written
 * in double quotes only when nothing in it would need escaping: no quote,
 * backslash, whitespace, control character or %.  Anything else is
 * refused, not escaped: the policy schema refuses such values first.
 */
#include <stdlib.h>
#include <string.h>

#include "gateway/quote.h"

#define HEXDIGITS	"0123456789abcdef"
/* csh refuses a word of about 8 KB ("Word too long"): stay well below. */
#define CHUNK		4096

/*
 * Printable ASCII or tab, and nothing sh reads inside "..." (nor any
 * login shell inside '...').
 */
static int
plain_byte(unsigned char c)
{
	if (c == '\t')
		return 1;
	if (c < 0x20 || c > 0x7e)
		return 0;
	return strchr("'\\!\"$`", c) == NULL;
}

static int
plain(const char *s)
{
	for (; *s != '\0'; s++)
		if (!plain_byte((unsigned char)*s))
			return 0;
	return 1;
}

/* What the login shells all read the same way inside '...'. */
static int
outer_safe(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != '\t' && (*s < 0x20 || *s > 0x7e ||
		    strchr("'\\!", *s) != NULL))
			return 0;
	return 1;
}

void
quote_word(struct buf *b, const char *s)
{
	const char	*q;

	if (plain(s)) {
		buf_addc(b, '"');
		buf_adds(b, s);
		buf_addc(b, '"');
		return;
	}
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

char *
quote_remote(const struct argv *a)
{
	struct buf	 b = { 0 };
	char		*line;
	size_t		 i;

	line = quote_argv(a);
	if (outer_safe(line) && strlen(line) <= CHUNK) {
		buf_printf(&b, "exec /bin/sh -c 'exec %s'", line);
		free(line);
		return buf_take(&b);
	}
	/* awk's index() counts from 1: byte = hi * 16 + lo - 17. */
	buf_adds(&b, "exec /bin/sh -c 'c=$(LC_ALL=C awk \"BEGIN{"
	    "for(j=3;j<ARGC;j++)s=s ARGV[j];"
	    "for(i=1;i<length(s);i+=2)printf ARGV[1],"
	    "index(ARGV[2],substr(s,i,1))*16+"
	    "index(ARGV[2],substr(s,i+1,1))-17}\" "
	    "%c " HEXDIGITS " \"$@\")||exit 127;eval \"exec $c\"' sh");
	for (i = 0; line[i] != '\0'; i++) {
		if (i % (CHUNK / 2) == 0)
			buf_addc(&b, ' ');
		buf_addc(&b, HEXDIGITS[(unsigned char)line[i] >> 4]);
		buf_addc(&b, HEXDIGITS[(unsigned char)line[i] & 0xf]);
	}
	free(line);
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

/*
 * sshd's opt_dequote() turns \" into " and keeps every other byte: a
 * backslash before the closing quote would swallow it, and a newline would
 * end the authorized_keys line.  Neither is needed in a path or address.
 */
int
quote_key_option(struct buf *b, const char *s)
{
	const char	*p;

	for (p = s; *p != '\0'; p++)
		if (*p == '\\' || (unsigned char)*p < 0x20 || *p == 0x7f)
			return -1;
	buf_addc(b, '"');
	for (p = s; *p != '\0'; p++) {
		if (*p == '"')
			buf_addc(b, '\\');
		buf_addc(b, *p);
	}
	buf_addc(b, '"');
	return 0;
}
