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

struct grant;
struct listing {
	const char		*host;		/* owned by the policy */
	const char		*user;
	unsigned		 actions;	/* granted to the identity */
	/* Grants in force here (access.h), or NULL; shown with sessions. */
	const struct grant	**grants;
	size_t			 ngrants;
	enum host_status	 status;
	char			*error;		/* when status is not ok */
	struct tmux_sessions	 sessions;
};

struct listings {
	struct listing	*v;
	size_t		 n;
	struct viewers	 viewers;	/* live attaches through muxgate */
};

/* The word for a host's status in listings: "ok", "unreachable", ... */
const char	*session_status_name(enum host_status);

/* List one (host, user) pair. */
void	session_list(const struct policy *, const struct policy_host *,
	    const char *user, struct listing *);
/*
 * List, all at once, every pair where the identity has one of the actions
 * in NEED, optionally only HOST and USER (NULL for any).  A pair where
 * the identity holds a grant in force is listed too when NEED has list;
 * where the identity may not list, only the sessions its grants name
 * (all of them for a grant of USER@HOST) are kept.  Each session's
 * expires is set from the TTL tags (ttl.h).
 */
/* Does the identity hold a grant in force on USER@HOST? */
bool	session_granted(struct gw *, const char *host, const char *user);
void	session_list_scope(struct gw *, const char *host, const char *user,
	    unsigned need, struct listings *);
void	listings_free(struct listings *);

/*
 * Find session NAME of USER on HOST.  SESSION_FOUND with *OWNER set to
 * the identity that created it (caller frees; NULL when none is
 * recorded); otherwise WHY says what is wrong, as one line.
 */
enum session_found {
	SESSION_FOUND,
	SESSION_MISSING,	/* no such session (or no tmux server) */
	SESSION_HOST_ERROR,	/* the host could not be asked */
};
enum session_found session_find(const struct policy *,
	    const struct policy_host *, const char *user, const char *name,
	    char **owner, char *why, size_t whylen);

/*
 * Session NAME of USER on HOST as session_find() finds it, with its
 * creation time as tmux reports it (#{session_created}) in *CREATED.
 */
enum session_found session_created(const struct policy *,
	    const struct policy_host *, const char *user, const char *name,
	    long long *created, char *why, size_t whylen);

/*
 * The tmux verbs.  Each returns SESSION_OK, or another outcome with WHY
 * set to one line for the user.
 */
enum session_outcome {
	SESSION_OK,
	SESSION_EXISTS,		/* create: the name is taken */
	SESSION_GONE,		/* kill: it was not there (any more) */
	SESSION_FAILED,		/* the host or tmux failed */
};
enum session_outcome session_create(const struct policy *,
	    const struct policy_host *, const char *user, const char *name,
	    const char *owner, int cmdc, char **cmdv, char *why, size_t whylen);
enum session_outcome session_kill(const struct policy *,
	    const struct policy_host *, const char *user, const char *name,
	    char *why, size_t whylen);
/*
 * Kill session NAME only if it is still the one tmux made at CREATED
 * (#{session_created}); SESSION_GONE when it ended or is another now,
 * with WHY saying which ("the session has ended", "the session of that
 * name is a newer one").
 */
enum session_outcome session_kill_created(const struct policy *,
	    const struct policy_host *, const char *user, const char *name,
	    long long created, char *why, size_t whylen);

#endif
