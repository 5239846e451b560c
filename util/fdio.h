/* fdio.h — whole writes to a blocking descriptor. */
#ifndef MUXGATE_FDIO_H
#define MUXGATE_FDIO_H

#include <stddef.h>

/*
 * Write all N bytes of BUF to FD, retrying short writes and EINTR.
 * 0, or -1 with errno set.  (A non-blocking descriptor needs its own
 * loop: EAGAIN is an error here.)
 */
int	fd_write_all(int fd, const void *buf, size_t n)
	    __attribute__((warn_unused_result));

#endif
