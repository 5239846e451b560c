/*
 * utf8.h — the one UTF-8 decoder: terminal escaping, JSON, recordings
 * and the line editor all take text apart with it.
 */
#ifndef MUXGATE_UTF8_H
#define MUXGATE_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define UTF8_BAD	0	/* not (the start of) a valid sequence */
#define UTF8_SHORT	(-1)	/* the valid start of a longer sequence */

/*
 * Decode the UTF-8 sequence at S, of which N bytes are there.  Returns
 * its length, 1 to 4, with the code point in *CP; UTF8_BAD when S does
 * not start a valid sequence (a continuation byte, an overlong form, a
 * surrogate, anything above U+10FFFF: RFC 3629); or UTF8_SHORT when the
 * N bytes are the valid start of a longer one, and then a caller with
 * more bytes to come waits for them, one at the end of its text takes it
 * as UTF8_BAD.  Each byte is checked as it comes, so an invalid start is
 * UTF8_BAD, never UTF8_SHORT.  *CP is set only for a whole sequence.
 */
int	utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

#endif
