/* str.h — a growable byte buffer and argv vectors. */
#ifndef MUXGATE_STR_H
#define MUXGATE_STR_H

#include <stddef.h>


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
/*
 * Grow the buffer by N bytes and return where they start, for a writer
 * that fills them in place (no copy through a buffer of its own); their
 * contents are undefined until it does.
 */
void	*buf_extend(struct buf *, size_t n);
/* Hand the string over to the caller (who frees it); the buffer empties. */
char	*buf_take(struct buf *);
void	 buf_free(struct buf *);

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
