/*
 * transport.h — how tmux is reached on a host.  One interface with two
 * implementations: local (tmux directly, or `sudo -n -u USER --` for
 * other users) and ssh (the same argv on a remote host through the
 * OpenSSH client).  Listing one host is the n = 1 case of listing many:
 * both go through transport_run_many().
 */
#ifndef MUXGATE_TRANSPORT_H
#define MUXGATE_TRANSPORT_H

#include <stdbool.h>
#include "gateway/spawn.h"
#include "gateway/str.h"
#include "policy/policy.h"

enum host_status {
	HOST_OK,		/* tmux ran: see tmux_code */
	HOST_FORBIDDEN,		/* sudo refused */
	HOST_UNREACHABLE,	/* connection refused, DNS, host key: see message */
	HOST_TIMEOUT,
	HOST_ERROR,
};

struct transport_result {
	enum host_status status;
	int		 tmux_code;	/* tmux's exit code when HOST_OK */
	char		*out;		/* tmux's stdout */
	char		*err;		/* tmux's stderr, first line */
	char		*message;	/* why, when not HOST_OK */
};
void	transport_result_free(struct transport_result *);

struct transport {
	const char	*name;
	/*
	 * The argv that runs tmux ARGS as USER on HOST (on a terminal when
	 * TTY, for attaching) and how long it may take.  -1 with R's status
	 * and message set when it cannot be run.
	 */
	int		(*command)(const struct policy *,
			    const struct policy_host *, const char *user,
			    const struct argv *args, bool tty, struct argv *full,
			    int *timeout_ms, struct transport_result *r);
	/* What the command's outcome means for the host. */
	void		(*outcome)(const struct policy *,
			    const struct policy_host *, const char *user,
			    const struct spawn_result *, struct transport_result *r);
	/* USER's home directory on HOST for new sessions, or NULL. */
	char		*(*home)(const struct policy_host *, const char *user);
};

const struct transport *transport_for(const struct policy_host *);
extern const struct transport transport_local;
extern const struct transport transport_ssh;

/*
 * Every function below takes the policy the host belongs to: the ssh
 * transport reads its settings (known hosts, identity file, timeouts,
 * jump hosts) from there, never from state of its own.
 */

/* Run tmux ARGS as USER on HOST and collect what it printed. */
void	transport_run(const struct policy *, const struct policy_host *,
	    const char *user, const struct argv *args,
	    struct transport_result *);

/*
 * Run tmux ARGS as USER on HOST on a new pseudo-terminal of size WS (for
 * attaching), in a process group of its own.  Returns 0 with PTY set, or
 * -1 with R's status and message saying why nothing was started.
 */
struct winsize;
struct transport_pty {
	pid_t	pid;
	int	master;		/* non-blocking, close-on-exec */
};
int	transport_run_pty(const struct policy *, const struct policy_host *,
	    const char *user, const struct argv *args, const struct winsize *ws,
	    struct transport_pty *pty, struct transport_result *r)
	    __attribute__((warn_unused_result));
/* End it: hang up, then kill its group, and reap.  Returns the wait status. */
int	transport_pty_end(struct transport_pty *);

struct transport_job {
	const struct policy_host *host;		/* in */
	const char		*user;		/* in */
	struct argv		 args;		/* in: tmux arguments */
	struct transport_result	 r;		/* out */
};
/* Run every job at once; each has its own deadline. */
void	transport_run_many(const struct policy *, struct transport_job *,
	    size_t);

/* Shared by the transports: the first line of S (caller frees). */
char	*transport_first_line(const char *);
/* Did sudo itself refuse (as opposed to tmux failing under sudo)? */
/*
 * The tmux local hosts run (and the sudoers rule must name): the first
 * executable of /usr/local/bin/tmux, /usr/bin/tmux, /bin/tmux, or NULL.
 */
const char *transport_tmux_path(void);
bool	transport_sudo_refused(const struct spawn_result *);

#endif
