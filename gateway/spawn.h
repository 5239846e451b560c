/*
 * spawn.h — the only place muxgate starts a process.  Children get an
 * argv from absolute paths (never a shell), a scrubbed environment, only
 * the descriptors they need, their own process group, the umask of a
 * login (UMASK of login.defs, else 022: not muxgate's 077), and are
 * reaped.
 */
#ifndef MUXGATE_SPAWN_H
#define MUXGATE_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>
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
 * Many at once: each job's child runs with its own deadline, all are
 * collected in one poll loop, and the whole takes as long as the slowest
 * deadline at most.  A job that could not start has ERR set.
 */
struct spawn_job {
	const struct argv	*argv;		/* in */
	int			 timeout_ms;	/* in */
	struct spawn_result	 r;		/* out */
	char			 err[256];	/* out: not started */
	/* private */
	pid_t			 pid;
	int			 outfd;
	int			 errfd;
	long long		 deadline;
	bool			 done;
};
void	spawn_many(struct spawn_job *, size_t);

/*
 * Start ARGV on a new pseudo-terminal of size WS, as the leader of a new
 * session (so the whole tree can be signalled as one group).  Returns 0
 * with *PID and the non-blocking, close-on-exec master in *MASTER.
 */
struct winsize;
int	spawn_pty(const struct argv *, const struct winsize *ws, pid_t *pid,
	    int *master, char *err, size_t errlen)
	    __attribute__((warn_unused_result));
/*
 * The one way muxgate opens a pseudo-terminal: a master and its slave,
 * both close-on-exec and neither anybody's controlling terminal yet, of
 * size WS.  For a terminal asked for before its child is started.
 */
int	spawn_openpty(const struct winsize *ws, int *master, int *slave,
	    char *err, size_t errlen) __attribute__((warn_unused_result));
/*
 * Start ARGV with exactly the environment ENV as the leader of a new
 * session: on the terminal SLAVE (made its controlling terminal; the
 * caller still closes it), or, with SLAVE -1, on three new pipes, whose
 * other ends come back in FDS: [0] writes to its stdin, [1] and [2] read
 * its stdout and stderr (close-on-exec, blocking).
 */
int	spawn_session(const struct argv *, const struct argv *env, int slave,
	    int fds[3], pid_t *pid, char *err, size_t errlen)
	    __attribute__((warn_unused_result));
/*
 * Whether PID has ended, without waiting: 1 with its wait status in
 * *STATUS (and reaped), 0 while it runs, -1 if it is not ours to wait for.
 */
int	spawn_exited(pid_t pid, int *status);
/*
 * The one way a session child is ended: hang up PID's process group, give
 * it GRACE_MS to go, then kill it; always reaps PID and kills whatever is
 * left of the group.  Returns the wait status (0 if PID was not ours).
 */
int	spawn_hangup(pid_t pid, int grace_ms);
/*
 * End a child started by spawn_pty: close MASTER, then spawn_hangup with
 * SPAWN_HANGUP_MS.  Returns the wait status.
 */
#define SPAWN_HANGUP_MS	1000
int	spawn_end(pid_t pid, int master);

#endif
