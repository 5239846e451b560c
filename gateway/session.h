/*
 * session.h — tmux sessions on (host, user) pairs, through the host's
 * transport.  Listing a scope, finding, creating, killing, attaching.
 */
#ifndef MUXGATE_SESSION_H
#define MUXGATE_SESSION_H

#include "gateway/gw.h"
#include "gateway/slots.h"
#include "gateway/tmux.h"
#include "gateway/transport.h"

struct listing {
	const char		*host;		/* owned by the policy */
	const char		*user;
	unsigned		 actions;	/* granted to the identity */
	enum host_status	 status;
	char			*error;		/* when status is not ok */
	struct tmux_sessions	 sessions;
};

struct listings {
	struct listing	*v;
	size_t		 n;
	struct viewers	 viewers;	/* live attaches through muxgate */
};

/* List one (host, user) pair. */
void	session_list(const struct policy_host *, const char *user,
	    struct listing *);
/*
 * List, all at once, every pair where the identity has one of the actions
 * in NEED, optionally only HOST and USER (NULL for any).
 */
void	session_list_scope(struct gw *, const char *host, const char *user,
	    unsigned need, struct listings *);
void	listings_free(struct listings *);

/* Each returns an exit code (exitcode.h) and reports its own errors. */
int	session_create(const struct policy_host *, const char *user,
	    const char *name, const char *owner, int cmdc, char **cmdv);
int	session_kill(const struct policy_host *, const char *user,
	    const char *name);

#endif
