/*
 * grant.h — just-in-time grants: what one is (grant.c: its JSON, its
 * status at a given time) and where grants are kept (grant-store.c: the
 * shared state, state.h).
 *
 * A grant is a request by an identity for one action on USER@HOST, or on
 * one session there, for a duration.  It is pending until an approver
 * approves or denies it (or active at once under a rule without
 * approvers); active from its approval for its duration; then expired.
 * Its requester or an approver may revoke it.  Whether it counts is the
 * policy's decision (policy_decide_grants): a grant whose request rule
 * has left the policy allows nothing.
 *
 * Store layout (keys of the state; HEX is the requester's name in
 * lower-case hex, since a key holds no '.' or capital letters):
 *
 *   grant/HEX/ID        the grant, as grant_encode() writes it
 *   grant-id/ID         HEX: which identity's grant ID is
 *   grant-pending/ID    HEX, while the grant is pending
 *
 * The grant's own entry is the truth: the other two are indexes, and an
 * index entry without its grant is ignored.  Every change of a grant is
 * a compare-and-set of that entry against the version read, so of two
 * approvals of one request exactly one succeeds.
 */
#ifndef MUXGATE_GRANT_H
#define MUXGATE_GRANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "policy/policy.h"

struct state;

#define GRANT_ID_LEN		16
#define GRANT_REASON_MAX	512
#define GRANT_DURATION_MAX	(400LL * 24 * 3600)
/* A request nobody decides within this lapses. */
#define GRANT_PENDING_FOR	(24 * 3600)
/* An ended grant stays this long, for grants and for the trail. */
#define GRANT_KEEP		(7 * 24 * 3600)

enum grant_status {
	GRANT_PENDING,
	GRANT_ACTIVE,
	GRANT_DENIED,
	GRANT_REVOKED,
	GRANT_EXPIRED,		/* its time ran out, or the request lapsed */
};

struct grant {
	char			 id[GRANT_ID_LEN + 1];
	char			*requester;
	enum policy_action	 action;
	char			*host;
	char			*user;
	char			*session;	/* NULL: any session */
	unsigned		 duration;	/* seconds */
	char			*reason;	/* the requester's, or NULL */
	enum grant_status	 status;	/* as stored */
	char			*approver;	/* NULL: pending, or none needed */
	char			*by;		/* who denied or revoked it */
	char			*note;		/* their reason, or NULL */
	long long		 requested;	/* seconds since the epoch */
	long long		 starts;	/* once active, else 0 */
	long long		 ends;		/* starts + duration, or 0 */
	long long		 decided;	/* last change of status, or 0 */
	uint64_t		 version;	/* of the entry it was read from */
};

struct grant_list {
	struct grant	*v;
	size_t		 n;
	/*
	 * The entries a listing could not read, left out: "corrupt entry
	 * KEY: WHY" or "grant ID: WHY", one each.
	 */
	char		**bad;
	size_t		  nbad;
};

const char	*grant_status_name(enum grant_status);
/* The status at NOW: a pending request lapses, an active grant expires. */
enum grant_status grant_status_at(const struct grant *, long long now);
/* When a pending request lapses. */
long long	 grant_lapses(const struct grant *);
/* 16 lower-case hex digits. */
bool		 grant_valid_id(const char *);
/* A session a grant may name: 1 to 256 bytes of printable UTF-8. */
bool		 grant_valid_session(const char *);
/* The free text of --reason: printable, at most GRANT_REASON_MAX bytes. */
bool		 grant_valid_reason(const char *, const char **why);

/* The entry's value (caller frees). */
char		*grant_encode(const struct grant *);
/*
 * Parse the entry of grant ID into G: every field present, of its type,
 * valid (names, action, times), else -1 with ERR.  G is then empty.
 */
int		 grant_decode(const char *id, const unsigned char *value,
		    size_t len, struct grant *g, char *err, size_t errlen)
		    __attribute__((warn_unused_result));
void		 grant_free(struct grant *);
void		 grant_list_free(struct grant_list *);

/*
 * The grants of LIST in force at NOW, for policy_decide_grants(): *OUT
 * (caller frees the array; its strings are LIST's) and *N.
 */
void		 grant_in_force(const struct grant_list *, long long now,
		    struct policy_grant **out, size_t *n);

/* ---- the store (grant-store.c) ---- */

/*
 * Store new grant G (its id is made here): 0, or -1 with ERR.  G's
 * version is set.
 */
int		 grants_add(struct state *, struct grant *g, char *err,
		    size_t errlen) __attribute__((warn_unused_result));
/*
 * IDENTITY's grants, by id.  0, or -1 with ERR (LIST empty) when the
 * state cannot be listed.  An entry that cannot be read or decoded is
 * left out and named in LIST->bad: one bad file hides no other grant
 * (and a grant left out allows nothing).
 */
int		 grants_of(struct state *, const char *identity,
		    struct grant_list *, char *err, size_t errlen)
		    __attribute__((warn_unused_result));
/* Every pending request, as grants_of() lists and leaves out. */
int		 grants_pending(struct state *, struct grant_list *,
		    char *err, size_t errlen)
		    __attribute__((warn_unused_result));
/*
 * The grant ID into G: STATE_OK, STATE_ABSENT (no such grant) or
 * STATE_ERROR.
 */
int		 grants_find(struct state *, const char *id, struct grant *g,
		    char *err, size_t errlen)
		    __attribute__((warn_unused_result));
/*
 * Write G over the version it was read at: STATE_OK (G's version
 * updated), STATE_CONFLICT (someone changed it first: nothing written)
 * or STATE_ERROR.  A grant that is no longer pending leaves the pending
 * index.
 */
int		 grants_update(struct state *, struct grant *g, char *err,
		    size_t errlen) __attribute__((warn_unused_result));

/*
 * muxgate reap: mark expired every grant still written pending or
 * active whose time is up at NOW, calling RETIRED for each one written
 * so (a grant decided meanwhile is left alone); how many in *N.  An
 * entry that cannot be read or decoded is left alone, and REFUSED
 * called with a message naming it; every other is still done.  0, or -1
 * with ERR when the state cannot be listed or the last grant that could
 * not be written.
 */
int		 grants_retire(struct state *, long long now,
		    void (*retired)(const struct grant *, void *),
		    void (*refused)(const char *why, void *), void *arg,
		    size_t *n, char *err, size_t errlen)
		    __attribute__((warn_unused_result));

#endif
