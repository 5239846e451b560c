/*
 * tokenize.c — the SSH command and the prompt are split here, by rules
 * small enough to state in one comment (see tokenize.h).  Someone who
 * types shell syntax is told plainly that this is not a shell, instead of
 * having their metacharacters taken literally.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "gateway/tokenize.h"

static const char shell_chars[] = "$`;|&<>()*?[]{}~!\\";

int
tokenize(const char *line, struct argv *out, char *err, size_t errlen)
{
	struct buf	 word = { 0 };
	bool		 inword = false;
	char		 quote = '\0';
	size_t		 i, len = strlen(line);
	unsigned char	 c;

	memset(out, 0, sizeof(*out));
	if (len > TOKENIZE_MAX_LINE) {
		snprintf(err, errlen, "command longer than %d bytes",
		    TOKENIZE_MAX_LINE);
		return -1;
	}
	for (i = 0; i < len; i++) {
		c = (unsigned char)line[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			snprintf(err, errlen, "control character 0x%02x in "
			    "command", c);
			goto fail;
		}
		if (quote != '\0') {
			if (c == (unsigned char)quote)
				quote = '\0';
			else
				buf_addc(&word, (char)c);
			continue;
		}
		if (c == ' ' || c == '\t') {
			if (inword) {
				argv_add(out, word.data != NULL ? word.data : "");
				buf_free(&word);
				inword = false;
			}
			continue;
		}
		if (c == '\'' || c == '"') {
			quote = (char)c;
			inword = true;
			continue;
		}
		if (strchr(shell_chars, c) != NULL) {
			snprintf(err, errlen, "'%c' is not allowed here: this "
			    "is not a shell (quote it if you mean it literally)",
			    c);
			goto fail;
		}
		buf_addc(&word, (char)c);
		inword = true;
	}
	if (quote != '\0') {
		snprintf(err, errlen, "unclosed %s quote",
		    quote == '\'' ? "single" : "double");
		goto fail;
	}
	if (inword)
		argv_add(out, word.data != NULL ? word.data : "");
	buf_free(&word);
	return 0;
fail:
	buf_free(&word);
	argv_free(out);
	return -1;
}

int
tokenize_read_line(FILE *fp, char *line, size_t size, size_t *len)
{
	size_t	n = 0;
	int	c;

	while (n < size - 1 && (c = getc(fp)) != EOF) {
		if (c == '\n') {
			line[n] = '\0';
			*len = n;
			return 1;
		}
		line[n++] = (char)c;
	}
	line[n] = '\0';
	*len = n;
	if (n == size - 1)
		return -1;
	return n > 0 ? 1 : 0;
}
