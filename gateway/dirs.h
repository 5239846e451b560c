/* dirs.h — the gateway's own private directories (state, recordings). */
#ifndef MUXGATE_DIRS_H
#define MUXGATE_DIRS_H

#include <stddef.h>

/*
 * Create DIR with mode 0700 if it is missing; refuse it (-1, ERR set)
 * unless it is a directory of this user that nobody else can write.
 */
int	dirs_private(const char *dir, char *err, size_t errlen)
	    __attribute__((warn_unused_result));

#endif
