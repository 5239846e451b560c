/* tokenize.h — split a command line into words.  Not a shell. */
#ifndef MUXGATE_TOKENIZE_H
#define MUXGATE_TOKENIZE_H

#include <stddef.h>
#include <stdio.h>
#include "gateway/str.h"

#define TOKENIZE_MAX_LINE 4096

/*
 * Whitespace (space, tab) separates words; '...' and "..." group and
 * nothing inside them is special.  Outside quotes the shell characters
 * $ ` ; | & < > ( ) * ? [ ] { } ~ ! and backslash are refused, as are
 * control characters and lines over TOKENIZE_MAX_LINE bytes.  Returns 0,
 * or -1 with one line of explanation in ERR (and OUT left empty).
 */
int	tokenize(const char *line, struct argv *out, char *err, size_t errlen)
	    __attribute__((warn_unused_result));

/*
 * One line of FP into LINE (SIZE bytes, at least 2), without its newline,
 * and its length into *LEN.  A NUL byte is part of the line (*LEN counts
 * past it), for the caller to refuse: a line must never be cut short
 * unseen.  Returns 1, 0 at the end of input, or -1 once SIZE - 1 bytes
 * were read without a newline; it never reads further than that.
 */
int	tokenize_read_line(FILE *fp, char *line, size_t size, size_t *len)
	    __attribute__((warn_unused_result));

#endif
