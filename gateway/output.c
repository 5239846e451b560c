/* output.c — escaping for terminals, clean UTF-8 for JSON. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "gateway/output.h"
#include "gateway/str.h"
#include "gateway/xmalloc.h"

/*
 * Decode one UTF-8 sequence at S (up to N bytes).  Returns its length and
 * sets *CP, or 0 for an invalid or overlong sequence.
 */
static size_t
utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t		len, i;
	uint32_t	c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2; c = s[0] & 0x1f; min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3; c = s[0] & 0x0f; min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4; c = s[0] & 0x07; min = 0x10000;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

static bool
unsafe_codepoint(uint32_t c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) ||
	    (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) ||
	    c == 0x200e || c == 0x200f || c == 0x061c;
}

char *
out_escape(const char *str)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 n = strlen(str), i = 0, len, k;
	struct buf		 b = { 0 };
	uint32_t		 cp;

	while (i < n) {
		len = utf8_decode(s + i, n - i, &cp);
		if (len == 0 || unsafe_codepoint(cp)) {
			if (len == 0)
				len = 1;
			for (k = 0; k < len; k++) {
				switch (s[i + k]) {
				case '\t': buf_adds(&b, "\\t"); break;
				case '\n': buf_adds(&b, "\\n"); break;
				case '\r': buf_adds(&b, "\\r"); break;
				default:
					buf_printf(&b, "\\%03o", s[i + k]);
				}
			}
		} else
			buf_add(&b, s + i, len);
		i += len;
	}
	return buf_take(&b);
}

char *
out_utf8_clean(const char *str)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 n = strlen(str), i = 0, len;
	struct buf		 b = { 0 };
	uint32_t		 cp;

	while (i < n) {
		if ((len = utf8_decode(s + i, n - i, &cp)) == 0) {
			buf_adds(&b, "\xef\xbf\xbd");
			len = 1;
		} else
			buf_add(&b, s + i, len);
		i += len;
	}
	return buf_take(&b);
}

struct json_object *
out_json_string(const char *s)
{
	struct json_object	*o;
	char			*clean;

	if (s == NULL)
		return NULL;
	clean = out_utf8_clean(s);
	o = json_object_new_string(clean);
	free(clean);
	return o;
}

int
out_json_print(struct json_object *o)
{
	const char	*s;

	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (printf("%s\n", s) < 0 || fflush(stdout) == EOF)
		return -1;
	return 0;
}

void
out_printf(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}
