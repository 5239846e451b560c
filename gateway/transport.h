/*
 * transport.h — how tmux is reached on a host.  One interface: the local
 * transport (tmux directly, or through sudo for other users) today; the
 * SSH transport slots in behind the same two calls.
 */
#ifndef MUXGATE_TRANSPORT_H
#define MUXGATE_TRANSPORT_H

#include "gateway/str.h"
#include "policy/policy.h"

enum host_status {
	HOST_OK,		/* tmux ran: see tmux_code */
	HOST_FORBIDDEN,		/* sudo refused */
	HOST_UNREACHABLE,
	HOST_TIMEOUT,
	HOST_ERROR,
};
const char	*host_status_name(enum host_status);

struct transport_result {
	enum host_status status;
	int		 tmux_code;	/* tmux's exit code when HOST_OK */
	char		*out;		/* tmux's stdout */
	char		*err;		/* tmux's stderr, first line */
	char		*message;	/* why, when not HOST_OK */
};
void	transport_result_free(struct transport_result *);

#define TRANSPORT_TIMEOUT_MS 10000

struct transport {
	const char	*name;
	/* Run tmux ARGS as USER on HOST and collect its output. */
	void		(*run)(const struct policy_host *, const char *user,
			    const struct argv *args, struct transport_result *);
	/*
	 * The full argv that runs tmux ARGS as USER on HOST, for the relay
	 * to start on its terminal.  -1 with R's status and message set.
	 */
	int		(*command)(const struct policy_host *, const char *user,
			    const struct argv *args, struct argv *full,
			    struct transport_result *r);
	/* USER's home directory on HOST for new sessions, or NULL. */
	char		*(*home)(const struct policy_host *, const char *user);
};

const struct transport *transport_for(const struct policy_host *);
extern const struct transport transport_local;

#endif
