/*
 * ascii.h — character classes that do not depend on the locale: names,
 * numbers and fingerprints are ASCII whatever LANG says, and <ctype.h>
 * would follow it (and wants an unsigned char).
 */
#ifndef MUXGATE_ASCII_H
#define MUXGATE_ASCII_H

#include <stdbool.h>

static inline bool
ascii_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline bool
ascii_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline bool
ascii_alnum(char c)
{
	return ascii_alpha(c) || ascii_digit(c);
}

#endif
