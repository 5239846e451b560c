/*
 * audit.h — one trail for every muxgate decision: the Linux audit log
 * (libaudit), or syslog with the same fields, or nothing where the policy
 * says so.  Every value from a user, a key or tmux is encoded by libaudit
 * (audit_encode_nv_string), so no session name can forge a field.
 */
#ifndef MUXGATE_AUDIT_H
#define MUXGATE_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include "policy/policy.h"

enum audit_kind {
	AUDIT_KIND_LOGIN,	/* USER_AUTH: key -> identity */
	AUDIT_KIND_ACCOUNT,	/* USER_ACCT: disabled, expired, from: */
	AUDIT_KIND_COMMAND,	/* USER_CMD: one per command attempt */
	AUDIT_KIND_START,	/* USER_START: an attach began */
	AUDIT_KIND_END,		/* USER_END: an attach ended */
	AUDIT_KIND_CHECKPOINT,	/* TRUSTED_APP: a long attach's recording so far */
	AUDIT_KIND_POLICY,	/* USER_ERR: the policy could not be used */
};

struct audit_rec {
	enum audit_kind	 kind;
	const char	*op;		/* "muxgate-..." */
	bool		 success;
	const char	*identity;
	const char	*key;
	const char	*host;
	const char	*tmux_user;
	const char	*session;
	const char	*owner;		/* reap: the identity that created it */
	const char	*attach;
	const char	*mode;
	const char	*reason;
	const char	*ref;		/* USER_ERR: the user's reference */
	const char	*recording;
	const char	*rec_hash;	/* the recording's BLAKE2b so far, hex */
	long long	 bytes_in;	/* -1: not part of the record */
	long long	 bytes_out;
	long long	 duration;
	long long	 rec_bytes;	/* the recording's length so far */
	/* Just-in-time grants: the grant an action was allowed by, or ... */
	const char	*grant;		/* its id */
	/* ... what a request, approval, denial, revocation or expiry was. */
	const char	*grant_action;
	const char	*requester;
	const char	*approver;
	long long	 grant_for;	/* its duration, seconds */
	const char	*note;		/* the free text given with it */
	long long	 ttl;		/* a session's TTL, seconds */
};

/* Fill R with "nothing set": numbers -1, strings NULL. */
void	audit_rec_init(struct audit_rec *r, enum audit_kind, const char *op,
	    bool success);
/*
 * Choose where records go.  Before a policy is loaded the default is the
 * audit log if it can be written, else syslog, and nothing is required.
 */
void	audit_configure(enum policy_audit, bool required);
/*
 * Write one record.  Returns 0, or -1 when it could not be written and
 * records are required; the caller must then refuse the action (the
 * reason was reported on stderr; records of refusals may ignore it).
 * With records not required, a record
 * that cannot reach the audit log goes to syslog instead.
 */
int	audit_emit(const struct audit_rec *);
/*
 * Can a record be written now, if records are required?  Returns 0 when
 * they are not required or can be (as far as can be told without writing
 * one: the audit socket opens and an audit daemon runs), -1 with WHY
 * otherwise.  Asked before an action, so that nothing happens that could
 * not be written down.
 */
int	audit_ready(char *why, size_t whylen);
/*
 * For tests: every record goes to HOOK (as audit_format's text) instead
 * of anywhere else, and HOOK's return is audit_emit's; NULL undoes it.
 */
void	audit_set_hook(int (*hook)(const struct audit_rec *, const char *));
/*
 * For `muxgate check`: where would the records of a gateway with MODE
 * and REQUIRED go, on this machine, now?  Returns AUDIT_REACH_OK (the
 * audit log, syslog, or none wanted), AUDIT_REACH_NOTHING (every record
 * would be lost) or AUDIT_REACH_REFUSED (audit_required would refuse
 * every login); WHY says why for the last two.
 */
enum audit_reach { AUDIT_REACH_OK, AUDIT_REACH_NOTHING, AUDIT_REACH_REFUSED };
enum audit_reach audit_probe(enum policy_audit, bool required, char *why,
	    size_t whylen);
/* The text of the fields of R, as sent (caller frees); for tests. */
char	*audit_format(const struct audit_rec *);

#endif
