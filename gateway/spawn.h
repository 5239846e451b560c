/*
 * spawn.h — the only place muxgate starts a process.  Children get an
 * argv from absolute paths (never a shell), a scrubbed environment, only
 * the descriptors they need, their own process group, and are reaped.
 */
#ifndef MUXGATE_SPAWN_H
#define MUXGATE_SPAWN_H

#include <stdbool.h>
#include "gateway/str.h"

struct spawn_result {
	bool		 exited;	/* exited normally: see code */
	int		 code;
	int		 signo;		/* killed by this signal, or 0 */
	bool		 timed_out;	/* killed by us at the deadline */
	struct buf	 out;
	struct buf	 err;
};

#define SPAWN_MAX_OUTPUT (8 * 1024 * 1024)

/*
 * Run ARGV (ARGV->v[0] an absolute path) with stdin from /dev/null,
 * collecting stdout and stderr, for at most TIMEOUT_MS.  Returns 0 when
 * the child ran (see R), -1 when it could not be started (ERR says why).
 */
int	spawn_capture(const struct argv *, int timeout_ms,
	    struct spawn_result *r, char *err, size_t errlen)
	    __attribute__((warn_unused_result));
void	spawn_result_free(struct spawn_result *);

/*
 * Run ARGV on the caller's terminal as the foreground process group and
 * wait for it.  Returns the exit status as spawn_capture would store it,
 * or -1 when it could not be started.
 */
int	spawn_foreground(const struct argv *, struct spawn_result *r,
	    char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
