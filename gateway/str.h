/* str.h — a growable byte buffer and argv vectors. */
#ifndef MUXGATE_STR_H
#define MUXGATE_STR_H

#include <stddef.h>

#include "util/num.h"

struct buf {
	char	*data;		/* always NUL-terminated when non-NULL */
	size_t	 len;
	size_t	 cap;
};

void	 buf_add(struct buf *, const void *, size_t);
void	 buf_addc(struct buf *, char);
void	 buf_adds(struct buf *, const char *);
void	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Hand the string over to the caller (who frees it); the buffer empties. */
char	*buf_take(struct buf *);
void	 buf_free(struct buf *);

/* Numbers are read by num_parse() (util/num.h); this is its older name. */
static inline int __attribute__((warn_unused_result))
str_tonum(const char *s, long long min, long long max, long long *out,
    const char **errstr)
{
	return num_parse(s, min, max, out, errstr);
}

/* A NULL-terminated argument vector that owns its strings. */
struct argv {
	char	**v;
	int	  n;
};
void	 argv_add(struct argv *, const char *);
void	 argv_addf(struct argv *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 argv_free(struct argv *);

#endif
