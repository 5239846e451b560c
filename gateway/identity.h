/* identity.h — who is behind this connection. */
#ifndef MUXGATE_IDENTITY_H
#define MUXGATE_IDENTITY_H

#include <stddef.h>
#include "gateway/audit.h"
#include "gateway/gw.h"

#define IDENTITY_MAX_KEYS 16

struct auth_keys {
	unsigned char	*blob[IDENTITY_MAX_KEYS];
	size_t		 len[IDENTITY_MAX_KEYS];
	size_t		 n;
};

/*
 * Parse the text of sshd's ExposeAuthInfo file: every "publickey TYPE
 * BASE64" line gives a key; other methods are ignored.  Returns 0 or -1
 * with ERR set.
 */
int	identity_parse_auth(const char *text, struct auth_keys *, char *err,
	    size_t errlen) __attribute__((warn_unused_result));
void	identity_keys_free(struct auth_keys *);
/* The client address, the first field of SSH_CONNECTION, or NULL. */
char	*identity_client_addr(const char *ssh_connection);
/*
 * The key check of both ways in (sshd's ForceCommand and muxgate serve):
 * the identity holding the key BLOB, if it may log in now from ADDR
 * (NULL if unknown).  NULL with WHY set, *REASON an audit keyword and
 * *KIND the audit record type when it may not.
 */
const struct policy_identity *identity_for_key(const struct policy *,
	    const unsigned char *blob, size_t len, const char *addr, char *why,
	    size_t whylen, const char **reason, enum audit_kind *kind);
/*
 * Set GW->id from FORCED (--identity) or the authenticating key, and check
 * the identity may log in now from here.  Returns an exit code; on
 * refusal the reason is already reported.
 */
int	identity_resolve(struct gw *, const char *forced);
/*
 * Before each command: may the identity GW logged in as still use the
 * gateway under policy P (it still exists, its key still names it, it is
 * neither disabled nor expired, and from: still admits the client)?
 * MG_OK with *OUT the identity in P, or MG_DENIED, reported and audited.
 */
/*
 * The checks of identity_recheck(), silently: 0 with *OUT, or -1 with
 * WHY and the audit keyword in *REASON.  For a relay, which must not
 * print while the terminal is raw.
 */
int	identity_still(const struct gw *, const struct policy *p,
	    const struct policy_identity **out, char *why, size_t whylen,
	    const char **reason);
int	identity_recheck(struct gw *, const struct policy *p,
	    const struct policy_identity **out);

#endif
