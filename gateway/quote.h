/*
 * quote.h — the one place that turns strings into shell text.  OpenSSH
 * hands a remote command to the remote user's shell as one string, so
 * every word crossing it is quoted here, and only transport-ssh.c calls
 * this.
 */
#ifndef MUXGATE_QUOTE_H
#define MUXGATE_QUOTE_H

#include "gateway/str.h"

/* Append S to B as one POSIX shell word: '...' with ' as '\''. */
void	quote_word(struct buf *b, const char *s);
/* The words of ARGV as one shell command line (caller frees). */
char	*quote_argv(const struct argv *);

#endif
