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
#include "util/utf8.h"

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
	int			 r;

	while (i < n) {
		/* A sequence cut by the end of the string is invalid too. */
		r = utf8_decode(s + i, n - i, &cp);
		len = r > 0 ? (size_t)r : 1;
		if (r <= 0 || unsafe_codepoint(cp)) {
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
	size_t			 n = strlen(str), i = 0;
	struct buf		 b = { 0 };
	uint32_t		 cp;
	int			 r;

	while (i < n) {
		if ((r = utf8_decode(s + i, n - i, &cp)) <= 0) {
			buf_adds(&b, "\xef\xbf\xbd");
			r = 1;
		} else
			buf_add(&b, s + i, (size_t)r);
		i += (size_t)r;
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
