/* utf8.c — the UTF-8 decoder (see utf8.h). */
#include "util/utf8.h"

int
utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char	 lo = 0x80, hi = 0xbf;	/* the second byte's range */
	uint32_t	 c;
	size_t		 len, i;

	if (n == 0)
		return UTF8_SHORT;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	/* 80 to C1 (continuations, overlong leads) and F5 to FF start nothing. */
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return UTF8_BAD;
	c = s[0] & (0x7f >> len);
	/*
	 * The second byte's range rules out overlong forms (E0, F0),
	 * surrogates (ED) and code points above U+10FFFF (F4).
	 */
	switch (s[0]) {
	case 0xe0: lo = 0xa0; break;
	case 0xed: hi = 0x9f; break;
	case 0xf0: lo = 0x90; break;
	case 0xf4: hi = 0x8f; break;
	}
	for (i = 1; i < len; i++) {
		if (i == n)
			return UTF8_SHORT;
		if (s[i] < lo || s[i] > hi)
			return UTF8_BAD;
		lo = 0x80;
		hi = 0xbf;
		c = (c << 6) | (s[i] & 0x3f);
	}
	*cp = c;
	return (int)len;
}
