/*
 * quote.h — the one place that turns strings into text another program
 * parses: the remote command line (OpenSSH hands it to the remote user's
 * login shell as one string), the values of the generated ssh_config, and
 * the options of the authorized_keys lines `muxgate keys` prints.
 * quote.c explains the forms.
 */
#ifndef MUXGATE_QUOTE_H
#define MUXGATE_QUOTE_H

#include "gateway/str.h"

/* Append S to B as one POSIX shell word: "..." or '...' with ' as '\''. */
void	quote_word(struct buf *b, const char *s);
/* The words of ARGV as one POSIX shell command line (caller frees). */
char	*quote_argv(const struct argv *);
/*
 * ARGV as the command string for ssh: it runs exactly ARGV whichever of
 * sh, bash, dash, ksh, zsh, csh, tcsh or fish the remote user's login
 * shell is (caller frees).  Needs /bin/sh; and awk when a word is not
 * printable ASCII, holds one of ' \ ! " $ ` or the line is long.
 */
char	*quote_remote(const struct argv *);
/* The first byte of S that ssh_config cannot take in "..." (quote,
 * backslash, whitespace, control character, %), or NULL. */
const char *quote_ssh_config_unsafe(const char *s);
/* Append S to B as a double-quoted ssh_config value; -1 (B unchanged) if
 * quote_ssh_config_unsafe(S) finds a byte that would need escaping. */
int	quote_ssh_config(struct buf *b, const char *s)
	    __attribute__((warn_unused_result));

/*
 * Append S to B as the double-quoted value of an authorized_keys option
 * (command="...", from="..."): '"' becomes \", as sshd reads it back.
 * -1 (B unchanged) when S has a backslash or a control character, which
 * sshd's reading cannot give back exactly.
 */
int	quote_key_option(struct buf *b, const char *s)
	    __attribute__((warn_unused_result));

#endif
