/*
 * serve-auth.c — `muxgate serve`'s host key and login: public keys only,
 * each checked against the policy by identity_for_key(), the same check
 * as the ForceCommand path, and the SSH_USER_AUTH file sshd would write.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway/dirs.h"
#include "gateway/identity.h"
#include "gateway/log.h"
#include "gateway/serve-int.h"
#include "gateway/xmalloc.h"

/* ---- the host key ---- */

/* A new Ed25519 key, written to PATH with mode 0600. */
static int
host_key_new(const char *path, ssh_key *keyp, char *err, size_t errlen)
{
	ssh_key	key = NULL;

	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK ||
	    ssh_pki_export_privkey_file(key, NULL, NULL, NULL,
	    path) != SSH_OK) {
		snprintf(err, errlen, "cannot write a new host key to %s",
		    path);
		ssh_key_free(key);
		return -1;
	}
	if (chmod(path, 0600) == -1) {
		snprintf(err, errlen, "chmod %s: %s", path, strerror(errno));
		ssh_key_free(key);
		return -1;
	}
	log_info("generated host key %s", path);
	*keyp = key;
	return 0;
}

/* A key that others can read or write is refused, as sshd refuses it. */
static int
host_key_read(const char *path, const struct stat *st, ssh_key *keyp,
    char *err, size_t errlen)
{
	if (!S_ISREG(st->st_mode) || (st->st_mode & 077) != 0 ||
	    (st->st_uid != 0 && st->st_uid != geteuid())) {
		snprintf(err, errlen, "refusing host key %s: it must be a file "
		    "of this user or root, mode 0600", path);
		return -1;
	}
	if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL,
	    keyp) != SSH_OK) {
		snprintf(err, errlen, "cannot read host key %s", path);
		return -1;
	}
	return 0;
}

static void
host_key_log(ssh_key key)
{
	ssh_key		 pub = NULL;
	unsigned char	*hash = NULL;
	size_t		 hlen;
	char		*fp;

	if (ssh_pki_export_privkey_to_pubkey(key, &pub) == SSH_OK &&
	    ssh_get_publickey_hash(pub, SSH_PUBLICKEY_HASH_SHA256, &hash,
	    &hlen) == 0) {
		fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash,
		    hlen);
		log_info("host key %s %s",
		    ssh_key_type_to_char(ssh_key_type(key)),
		    fp != NULL ? fp : "?");
		ssh_string_free_char(fp);
		ssh_clean_pubkey_hash(&hash);
	}
	ssh_key_free(pub);
}

/*
 * Check the host key, making an Ed25519 one on first start; the listener
 * reads it again itself.  -1 with ERR set when it cannot be had.
 */
int
serve_host_key(const char *path, char *err, size_t errlen)
{
	struct stat	st;
	ssh_key		key = NULL;

	if (lstat(path, &st) == -1) {
		if (errno != ENOENT) {
			snprintf(err, errlen, "host key %s: %s", path,
			    strerror(errno));
			return -1;
		}
		if (host_key_new(path, &key, err, errlen) == -1)
			return -1;
	} else if (host_key_read(path, &st, &key, err, errlen) == -1)
		return -1;
	host_key_log(key);
	ssh_key_free(key);
	return 0;
}

/* ---- the login ---- */

static int
auth_pubkey(ssh_session session, const char *user, struct ssh_key_struct *pubkey,
    char state, void *userdata)
{
	struct conn			*c = userdata;
	const struct policy_identity	*id;
	unsigned char			*blob = NULL;
	size_t				 bloblen;
	char				*b64 = NULL, *line = NULL, why[256];
	const char			*reason, *errstr;
	enum audit_kind			 kind;

	if (c->ssh_user == NULL)
		c->ssh_user = xstrdup(user);
	if ((state != SSH_PUBLICKEY_STATE_NONE &&
	    state != SSH_PUBLICKEY_STATE_VALID) ||
	    ssh_pki_export_pubkey_base64(pubkey, &b64) != SSH_OK)
		goto deny;
	xasprintf(&line, "%s %s", ssh_key_type_to_char(ssh_key_type(pubkey)),
	    b64);
	ssh_string_free_char(b64);
	if (policy_key_parse(line, &blob, &bloblen, &errstr) == -1)
		goto deny;
	id = identity_for_key(c->policy, blob, bloblen, c->peer, why,
	    sizeof(why), &reason, &kind);
	if (id == NULL) {
		/* OpenSSH never signs with a key refused at the query. */
		log_info("%s port %u: refused key for user %s: %s", c->peer,
		    c->peer_port, user, why);
		goto deny;
	}
	if (state == SSH_PUBLICKEY_STATE_NONE) {
		/* A probe: yes, now prove you hold it. */
		free(blob);
		free(line);
		return SSH_AUTH_SUCCESS;
	}
	policy_key_fingerprint(blob, bloblen, c->fp);
	free(blob);
	free(c->key_line);
	c->key_line = line;
	c->id = id;
	c->authenticated = true;
	log_info("%s port %u: accepted publickey %s for user %s: identity %s",
	    c->peer, c->peer_port, c->fp, user, policy_identity_name(id));
	return SSH_AUTH_SUCCESS;
deny:
	free(blob);
	free(line);
	c->tries++;
	return SSH_AUTH_DENIED;
}

static ssh_channel
channel_open(ssh_session session, void *userdata)
{
	struct conn	*c = userdata;

	if (c->channel != NULL || !c->authenticated)
		return NULL;	/* one session per connection */
	c->channel = ssh_channel_new(session);
	return c->channel;
}

void
serve_auth_init(struct conn *c)
{
	memset(&c->scb, 0, sizeof(c->scb));
	c->scb.userdata = c;
	c->scb.auth_pubkey_function = auth_pubkey;
	c->scb.channel_open_request_session_function = channel_open;
	ssh_callbacks_init(&c->scb);
	ssh_set_server_callbacks(c->session, &c->scb);
	ssh_set_auth_methods(c->session, SSH_AUTH_METHOD_PUBLICKEY);
}

int
serve_auth_wait(struct conn *c, ssh_event event)
{
	unsigned	max = policy_gateway(c->policy)->serve_max_auth_tries;

	while (!c->authenticated || c->channel == NULL) {
		if (c->tries >= max) {
			log_info("%s port %u: too many authentication failures",
			    c->peer, c->peer_port);
			return -1;
		}
		if (serve_conn_stop)
			return -1;
		if (ssh_event_dopoll(event, 1000) == SSH_ERROR ||
		    (ssh_get_status(c->session) & (SSH_CLOSED |
		    SSH_CLOSED_ERROR)) != 0) {
			log_info("%s port %u: connection closed before login",
			    c->peer, c->peer_port);
			return -1;
		}
	}
	return 0;
}

/* What sshd tells a ForceCommand or login shell: the key that logged in. */
int
serve_auth_file(struct conn *c, char *err, size_t errlen)
{
	const char	*state = policy_gateway(c->policy)->state;
	char		*line;
	int		 fd;
	ssize_t		 len;

	if (dirs_private(state, err, errlen) == -1)
		return -1;
	xasprintf(&c->auth_file, "%s/auth-XXXXXX", state);
	if ((fd = mkstemp(c->auth_file)) == -1) {
		snprintf(err, errlen, "%s: %s", c->auth_file, strerror(errno));
		free(c->auth_file);
		c->auth_file = NULL;
		return -1;
	}
	len = xasprintf(&line, "publickey %s\n", c->key_line);
	if (write(fd, line, (size_t)len) != len || close(fd) == -1) {
		snprintf(err, errlen, "%s: %s", c->auth_file, strerror(errno));
		free(line);
		return -1;
	}
	free(line);
	return 0;
}

void
serve_auth_free(struct conn *c)
{
	if (c->auth_file != NULL) {
		(void)unlink(c->auth_file);
		free(c->auth_file);
		c->auth_file = NULL;
	}
	free(c->key_line);
	c->key_line = NULL;
	free(c->ssh_user);
	c->ssh_user = NULL;
}
