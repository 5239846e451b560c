/*
 * identity.c — map the connection to a policy identity.  With OpenSSH's
 * ExposeAuthInfo, SSH_USER_AUTH names a file listing the methods that
 * authenticated the connection; its "publickey" lines are the keys.
 * Never a default: no match is a refusal.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gateway/audit.h"
#include "gateway/exitcode.h"
#include "gateway/identity.h"
#include "gateway/log.h"
#include "gateway/str.h"
#include "gateway/xmalloc.h"

#define AUTH_INFO_MAX 65536

/* A refusal: one line, and the exit code for "permission denied". */
#define refuse(...) (error_msg(__VA_ARGS__), MG_DENIED)

/* An identity's audit record; -1 if it had to be written and was not. */
static int
audit_identity(struct gw *gw, enum audit_kind kind, const char *op, bool ok,
    const char *fp, const char *reason)
{
	struct audit_rec	r;

	audit_rec_init(&r, kind, op, ok);
	r.identity = gw->id != NULL ? policy_identity_name(gw->id) : NULL;
	r.key = fp != NULL ? fp : (gw->have_key ? gw->key_fp : NULL);
	r.reason = reason;
	return audit_emit(&r);
}

static int
audit_login(struct gw *gw, enum audit_kind kind, bool ok, const char *fp,
    const char *reason)
{
	return audit_identity(gw, kind, "muxgate-login", ok, fp, reason);
}

int
identity_parse_auth(const char *text, struct auth_keys *k, char *err,
    size_t errlen)
{
	char		*copy, *line, *save = NULL;
	const char	*errstr;

	memset(k, 0, sizeof(*k));
	copy = xstrdup(text);
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "publickey ", 10) != 0)
			continue;
		if (k->n == IDENTITY_MAX_KEYS) {
			snprintf(err, errlen, "too many keys in auth info");
			goto fail;
		}
		if (policy_key_parse(line + 10, &k->blob[k->n], &k->len[k->n],
		    &errstr) == -1) {
			snprintf(err, errlen, "bad key in auth info: %s", errstr);
			goto fail;
		}
		k->n++;
	}
	free(copy);
	return 0;
fail:
	free(copy);
	identity_keys_free(k);
	return -1;
}

void
identity_keys_free(struct auth_keys *k)
{
	size_t	i;

	for (i = 0; i < k->n; i++)
		free(k->blob[i]);
	memset(k, 0, sizeof(*k));
}

char *
identity_client_addr(const char *conn)
{
	size_t	n;

	if (conn == NULL || *conn == '\0')
		return NULL;
	n = strcspn(conn, " ");
	if (n == 0 || n > 64)
		return NULL;
	return xstrndup(conn, n);
}

static int
read_auth_file(const char *path, struct buf *b, char *err, size_t errlen)
{
	char	tmp[4096];
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = read(fd, tmp, sizeof(tmp))) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		if (b->len + (size_t)n > AUTH_INFO_MAX) {
			snprintf(err, errlen, "%s: too large", path);
			close(fd);
			return -1;
		}
		buf_add(b, tmp, (size_t)n);
	}
	close(fd);
	return 0;
}

/* The keys that authenticated this connection, if sshd told us. */
static int
auth_keys(struct auth_keys *k, bool *told, char *err, size_t errlen)
{
	const char	*path = getenv("SSH_USER_AUTH");
	struct buf	 b = { 0 };
	int		 r;

	memset(k, 0, sizeof(*k));
	*told = path != NULL && *path != '\0';
	if (!*told)
		return 0;
	if (read_auth_file(path, &b, err, errlen) == -1) {
		buf_free(&b);
		return -1;
	}
	r = identity_parse_auth(b.data != NULL ? b.data : "", k, err, errlen);
	buf_free(&b);
	return r;
}

/* Why policy_identity_usable() refused, as one audit keyword. */
static const char *
account_reason(const struct policy_identity *id)
{
	if (policy_identity_disabled(id))
		return "disabled";
	if (policy_identity_expires(id) != 0 &&
	    time(NULL) >= policy_identity_expires(id))
		return "expired";
	return "source-address";
}

const struct policy_identity *
identity_for_key(const struct policy *p, const unsigned char *blob,
    size_t len, const char *addr, char *why, size_t whylen,
    const char **reason, enum audit_kind *kind)
{
	const struct policy_identity	*id;
	char				 fp[POLICY_FP_LEN];

	if ((id = policy_identity_by_key(p, blob, len)) == NULL) {
		policy_key_fingerprint(blob, len, fp);
		snprintf(why, whylen, "unknown key %s", fp);
		*reason = "unknown-key";
		*kind = AUDIT_KIND_LOGIN;
		return NULL;
	}
	if (policy_identity_usable(id, time(NULL), addr, why, whylen) == -1) {
		*reason = account_reason(id);
		*kind = AUDIT_KIND_ACCOUNT;
		return NULL;
	}
	return id;
}

/* Every key must lead to the same identity, or nobody is logged in. */
static int
match_keys(struct gw *gw, const struct auth_keys *k, const char *addr)
{
	const struct policy_identity	*id, *found = NULL;
	char				 fp[POLICY_FP_LEN], why[256];
	const char			*reason;
	enum audit_kind			 kind;
	size_t				 i;

	if (k->n == 0) {
		(void)audit_login(gw, AUDIT_KIND_LOGIN, false, NULL,
		    "no-public-key");
		return refuse("no identity: this connection was not "
		    "authenticated by a public key");
	}
	for (i = 0; i < k->n; i++) {
		policy_key_fingerprint(k->blob[i], k->len[i], fp);
		id = identity_for_key(gw->policy, k->blob[i], k->len[i], addr,
		    why, sizeof(why), &reason, &kind);
		if (id == NULL) {
			gw->id = policy_identity_by_key(gw->policy, k->blob[i],
			    k->len[i]);
			(void)audit_login(gw, kind, false, fp, reason);
			gw->id = NULL;
			return refuse("%s", why);
		}
		if (found != NULL && found != id) {
			(void)audit_login(gw, AUDIT_KIND_LOGIN, false, fp,
			    "ambiguous-keys");
			return refuse("keys of more than one identity "
			    "authenticated this connection");
		}
		found = id;
		if (!gw->have_key) {
			memcpy(gw->key_fp, fp, sizeof(fp));
			gw->have_key = true;
			gw->key = xmalloc(k->len[i]);
			memcpy(gw->key, k->blob[i], k->len[i]);
			gw->key_len = k->len[i];
		}
	}
	gw->id = found;
	return MG_OK;
}

/*
 * --identity NAME (an authorized_keys command=) on a connection whose keys
 * sshd exposed: they must lead to NAME.  Otherwise a line written for
 * alice's key but given to bob's would let bob in as alice.
 */
static int
match_forced(struct gw *gw, const struct auth_keys *k, const char *addr,
    const char *forced)
{
	int	code;

	if ((code = match_keys(gw, k, addr)) != MG_OK)
		return code;
	if (strcmp(policy_identity_name(gw->id), forced) == 0)
		return MG_OK;
	(void)audit_login(gw, AUDIT_KIND_LOGIN, false, NULL,
	    "identity-mismatch");
	gw->id = NULL;
	return refuse("key %s does not belong to identity %s", gw->key_fp,
	    forced);
}

int
identity_resolve(struct gw *gw, const char *forced)
{
	struct auth_keys	 k;
	bool			 told;
	char			 err[256], why[256];
	char			*addr;
	int			 code;

	addr = identity_client_addr(getenv("SSH_CONNECTION"));
	if (auth_keys(&k, &told, err, sizeof(err)) == -1) {
		(void)audit_login(gw, AUDIT_KIND_LOGIN, false, NULL,
		    "auth-info-unreadable");
		free(addr);
		return refuse("no identity: %s", err);
	}
	if (forced != NULL && k.n > 0)
		code = match_forced(gw, &k, addr, forced);
	else if (forced != NULL) {
		if ((gw->id = policy_identity_find(gw->policy, forced)) == NULL) {
			(void)audit_login(gw, AUDIT_KIND_LOGIN, false, NULL,
			    "unknown-identity");
			code = refuse("unknown identity %s", forced);
		} else if (policy_identity_usable(gw->id, time(NULL), addr, why,
		    sizeof(why)) == -1) {
			(void)audit_login(gw, AUDIT_KIND_ACCOUNT, false, NULL,
			    account_reason(gw->id));
			code = refuse("%s", why);
		} else
			code = MG_OK;
	} else if (!told) {
		(void)audit_login(gw, AUDIT_KIND_LOGIN, false, NULL,
		    "no-auth-info");
		code = refuse("no identity: SSH_USER_AUTH is not set (sshd "
		    "needs ExposeAuthInfo yes, or use --identity)");
	} else
		code = match_keys(gw, &k, addr);
	identity_keys_free(&k);
	free(addr);
	if (code == MG_OK &&
	    audit_login(gw, AUDIT_KIND_LOGIN, true, NULL, NULL) == -1)
		code = MG_FAIL;
	return code;
}

/* The identity the login established, found again in P. */
static const struct policy_identity *
find_again(const struct gw *gw, const struct policy *p, const char *name,
    char *why, size_t whylen, const char **reason)
{
	const struct policy_identity	*id;

	if (gw->key == NULL) {
		if ((id = policy_identity_find(p, name)) == NULL) {
			snprintf(why, whylen, "identity %s is no longer in the "
			    "policy", name);
			*reason = "identity-removed";
		}
		return id;
	}
	if ((id = policy_identity_by_key(p, gw->key, gw->key_len)) == NULL) {
		snprintf(why, whylen, "key %s is no longer in the policy",
		    gw->key_fp);
		*reason = "key-removed";
	} else if (strcmp(policy_identity_name(id), name) != 0) {
		snprintf(why, whylen, "key %s now belongs to another identity",
		    gw->key_fp);
		*reason = "key-moved";
		id = NULL;
	}
	return id;
}

int
identity_still(const struct gw *gw, const struct policy *p,
    const struct policy_identity **out, char *why, size_t whylen,
    const char **reason)
{
	const struct policy_identity	*id;
	char				*addr;

	/* GW->id stays valid: its policy is freed only after a success. */
	*reason = NULL;
	addr = identity_client_addr(getenv("SSH_CONNECTION"));
	if ((id = find_again(gw, p, policy_identity_name(gw->id), why,
	    whylen, reason)) != NULL &&
	    policy_identity_usable(id, time(NULL), addr, why, whylen) == -1)
		*reason = account_reason(id);
	free(addr);
	*out = *reason == NULL ? id : NULL;
	return *reason == NULL ? 0 : -1;
}

int
identity_recheck(struct gw *gw, const struct policy *p,
    const struct policy_identity **out)
{
	char		 why[256];
	const char	*reason;

	if (identity_still(gw, p, out, why, sizeof(why), &reason) == 0)
		return MG_OK;
	(void)audit_identity(gw, AUDIT_KIND_ACCOUNT, "muxgate-revoke", false,
	    NULL, reason);
	return refuse("access ended: %s", why);
}
