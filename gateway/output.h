/* output.h — everything untrusted passes through here before a terminal. */
#ifndef MUXGATE_OUTPUT_H
#define MUXGATE_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;

/*
 * Terminal-safe copy of S (caller frees): control characters, DEL, C1
 * controls, bidirectional overrides and invalid UTF-8 become visible
 * octal escapes such as \033; printable UTF-8 is kept.
 */
char	*out_escape(const char *s);
/* Valid UTF-8 copy of S for JSON (caller frees): bad bytes become U+FFFD. */
char	*out_utf8_clean(const char *s);
/* A JSON string made from untrusted text. */
struct json_object *out_json_string(const char *s);
/* Print one JSON document and a newline on stdout; -1 on write error. */
int	 out_json_print(struct json_object *) __attribute__((warn_unused_result));
/* Printf to stdout; every %s argument must already be escaped. */
void	 out_printf(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif
