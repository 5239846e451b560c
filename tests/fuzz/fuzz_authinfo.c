/*
 * fuzz_authinfo.c — what sshd tells muxgate about a connection, which
 * the client shapes: the ExposeAuthInfo file that SSH_USER_AUTH names
 * (identity_parse_auth(): "publickey TYPE BASE64" lines among other
 * methods, the key bytes being the client's), and SSH_CONNECTION, whose
 * first field identity_client_addr() takes as the client address.  The
 * input's first line is SSH_CONNECTION and the whole of it the file
 * (sshd writes no "publickey" first line that is an address).  Each key
 * and the address then go where identity_resolve() sends them: the
 * lookup and the `from:` check of a fixed policy.
 *
 * Checked: a file is accepted with exactly one key per "publickey" line,
 * at most IDENTITY_MAX_KEYS, each one a blob of its line's key type; a
 * refusal says why; an address is the first field, 1 to 64 bytes, no
 * blank; only alice's key, from one of her networks, is alice.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/identity.h"
#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ALICE_KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFr2JpiNG1XkINAxcgoZuE8WwG7CjOnlR0Z0gandOlFW"

static const char POLICY[] =
    "gateway:\n"
    "  audit: none\n"
    "hosts:\n"
    "  bastion: {local: true, tmux_users: [deploy]}\n"
    "roles:\n"
    "  ops:\n"
    "    allow: [{hosts: [bastion], tmux_users: [deploy], actions: [list]}]\n"
    "identities:\n"
    "  alice:\n"
    "    keys: [\"" ALICE_KEY " alice@laptop\"]\n"
    "    roles: [ops]\n"
    "    from: [10.0.0.0/8, \"2001:db8::/32\", 192.0.2.7]\n"
    "  bob:\n"
    "    keys: [\"SHA256:JOcK2GjMLX8nY6/PDMsxvjnxJZlC1AHeZn5V4M+9xJY\"]\n"
    "    roles: [ops]\n";

static struct policy *
test_policy(void)
{
	static struct policy	*p;
	struct policy_errors	 errs = { 0 };
	char			 path[64];
	FILE			*fp;

	if (p != NULL)
		return p;
	snprintf(path, sizeof(path), "/tmp/mgt-fuzz-authinfo-%ld.yaml",
	    (long)getpid());
	if ((fp = fopen(path, "w")) == NULL ||
	    fwrite(POLICY, 1, sizeof(POLICY) - 1, fp) != sizeof(POLICY) - 1 ||
	    fclose(fp) != 0)
		abort();
	p = policy_load(path, &errs);
	unlink(path);
	if (p == NULL) {
		fprintf(stderr, "fuzz_authinfo: %s\n",
		    errs.n > 0 ? errs.msgs[0] : "no policy");
		abort();
	}
	return p;
}

/* The "publickey " lines of TEXT, counted apart from identity.c. */
static size_t
publickey_lines(const char *text)
{
	const char	*p = text;
	size_t		 n = 0;

	while (*p != '\0') {
		if (strncmp(p, "publickey ", 10) == 0)
			n++;
		p += strcspn(p, "\n");
		p += *p == '\n';
	}
	return n;
}

static void
check_addr(const char *conn)
{
	char	*addr = identity_client_addr(conn);
	size_t	 n;

	if (addr == NULL)
		return;
	n = strlen(addr);
	if (n == 0 || n > 64 || strchr(addr, ' ') != NULL ||
	    strncmp(addr, conn, n) != 0 || (conn[n] != '\0' && conn[n] != ' '))
		abort();
	free(addr);
}

static void
check_keys(const struct auth_keys *k, const char *conn)
{
	const struct policy_identity	*id;
	const char			*reason;
	enum audit_kind			 kind;
	unsigned char			*alice;
	size_t				 alen, i;
	char				*addr, why[256];

	if (policy_key_parse(ALICE_KEY, &alice, &alen, &reason) == -1)
		abort();
	addr = identity_client_addr(conn);
	for (i = 0; i < k->n; i++) {
		if (k->blob[i] == NULL || k->len[i] < 4)
			abort();
		why[0] = '\0';
		reason = NULL;
		id = identity_for_key(test_policy(), k->blob[i], k->len[i],
		    addr, why, sizeof(why), &reason, &kind);
		if (id == NULL && (why[0] == '\0' || reason == NULL))
			abort();
		if (id != NULL &&
		    strcmp(policy_identity_name(id), "alice") == 0 &&
		    (k->len[i] != alen ||
		    memcmp(k->blob[i], alice, alen) != 0 || addr == NULL))
			abort();
	}
	free(addr);
	free(alice);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_keys	 k;
	char			*text, *conn, err[256];
	size_t			 want, connlen;

	if ((text = malloc(size + 1)) == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	connlen = strcspn(text, "\n");
	if ((conn = strndup(text, connlen)) == NULL)
		abort();
	check_addr(conn);
	want = publickey_lines(text);
	err[0] = '\0';
	if (identity_parse_auth(text, &k, err, sizeof(err)) == 0) {
		if (k.n != want || k.n > IDENTITY_MAX_KEYS)
			abort();
		check_keys(&k, conn);
		identity_keys_free(&k);
	} else if (err[0] == '\0' || k.n != 0)
		abort();
	free(conn);
	free(text);
	return 0;
}
