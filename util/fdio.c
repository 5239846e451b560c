/* fdio.c — whole writes (see fdio.h). */
#include <errno.h>
#include <unistd.h>

#include "util/fdio.h"

int
fd_write_all(int fd, const void *buf, size_t n)
{
	const char	*p = buf;
	ssize_t		 w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}
