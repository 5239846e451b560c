/*
 * test_identity.c — identity_parse_auth() on sshd's ExposeAuthInfo text,
 * and identity_client_addr() on SSH_CONNECTION.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/audit.h"
#include "gateway/exitcode.h"
#include "gateway/identity.h"
#include "gateway/str.h"
#include "policy/policy.h"
#include "tests/unit/unit.h"

/* Made with ssh-keygen -t ed25519 / -t rsa; fingerprints from ssh-keygen -l. */
#define K1_B64	"AAAAC3NzaC1lZDI1NTE5AAAAIIqepccp2ppozyUKkQU8pQ/WHhCQYbAoFkTX3SpHw0JQ"
#define K1_FP	"SHA256:lOArcPYSh15r1Eq2pEyaFar9qEmFxuZupdRKBexvGq8"
#define K2_B64	"AAAAC3NzaC1lZDI1NTE5AAAAIL3ybxUWaQaJ3gIDMucElGTKcR7jHzAbhtemiOeX9MDE"
#define K2_FP	"SHA256:ygfqZ4QC13IiZYeZvNktRcOLKQGYszDeJnfcvdwbnCg"
#define K3_B64	"AAAAC3NzaC1lZDI1NTE5AAAAIMnLoOu0A8kndS45eGGb/+7B4GI+qAoLTeGJwSp6q14n"
#define K3_FP	"SHA256:PZW6p17eOTAqzgG4PlPJY3qbqrvX/rHb9NJt3RNVlUo"
#define RSA_B64	"AAAAB3NzaC1yc2EAAAADAQABAAAAgQDe0GvMpJn05IpUBBJA3IKYIYDHPU94PnkU1g" \
		"vkSjqByK4SYfSfjZZjsRWX6O3Hc4vRD9Cb5XmUz2yl7m0geNKmu1ixFsCUQvNQ81P" \
		"fslDUqIaDktYfIAKMvgZSO6zfLiU61KAnW8wZWdhrRV8RMppHsvP1WcxH/wqJOVAE" \
		"TUosvQ=="
#define RSA_FP	"SHA256:iNFkObx/xrtnsfhsIzJBVkj/DnCuxpIUK8C+Jvtc9mc"

#define PK(b64)		"publickey ssh-ed25519 " b64 "\n"

static void
assert_fp(const struct auth_keys *k, size_t i, const char *want)
{
	char	fp[POLICY_FP_LEN];

	assert_true(i < k->n);
	assert_non_null(k->blob[i]);
	policy_key_fingerprint(k->blob[i], k->len[i], fp);
	assert_string_equal(fp, want);
}

/* An ed25519 blob: string "ssh-ed25519", string of 32 key bytes. */
static void
assert_ed25519_blob(const struct auth_keys *k, size_t i)
{
	static const unsigned char	hdr[] = "\0\0\0\x0bssh-ed25519\0\0\0\x20";

	assert_int_equal(k->len[i], 4 + 11 + 4 + 32);
	assert_memory_equal(k->blob[i], hdr, sizeof(hdr) - 1);
}

static void
expect_refused(const char *text, const char *want)
{
	struct auth_keys	k;
	char			err[256] = "";
	size_t			i;

	assert_int_equal(identity_parse_auth(text, &k, err, sizeof(err)), -1);
	assert_string_equal(err, want);
	/* Nothing is handed back on failure (and valgrind sees no leak). */
	assert_int_equal(k.n, 0);
	for (i = 0; i < IDENTITY_MAX_KEYS; i++)
		assert_null(k.blob[i]);
}

static void
test_single_key(void **state)
{
	struct auth_keys	k;
	char			err[256] = "";

	(void)state;
	assert_int_equal(identity_parse_auth(PK(K1_B64), &k, err,
	    sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(k.n, 1);
	assert_ed25519_blob(&k, 0);
	assert_fp(&k, 0, K1_FP);
	identity_keys_free(&k);
	assert_int_equal(k.n, 0);
	assert_null(k.blob[0]);

	/* Without the final newline. */
	assert_int_equal(identity_parse_auth("publickey ssh-ed25519 " K2_B64,
	    &k, err, sizeof(err)), 0);
	assert_int_equal(k.n, 1);
	assert_fp(&k, 0, K2_FP);
	identity_keys_free(&k);
}

static void
test_several_methods(void **state)
{
	struct auth_keys	k;
	char			err[256];

	(void)state;
	/* As sshd writes it with AuthenticationMethods chains. */
	assert_int_equal(identity_parse_auth(
	    "password\n"
	    PK(K1_B64)
	    "keyboard-interactive\n"
	    "publickey ssh-rsa " RSA_B64 "\n"
	    "\n"
	    "hostbased ssh-ed25519 " K3_B64 "\n"
	    "gssapi-with-mic\n"
	    PK(K2_B64), &k, err, sizeof(err)), 0);
	assert_int_equal(k.n, 3);
	assert_fp(&k, 0, K1_FP);
	assert_fp(&k, 1, RSA_FP);
	assert_fp(&k, 2, K2_FP);
	assert_ed25519_blob(&k, 0);
	assert_ed25519_blob(&k, 2);
	identity_keys_free(&k);
}

static void
test_no_publickey(void **state)
{
	struct auth_keys	k;
	char			err[256] = "";

	(void)state;
	assert_int_equal(identity_parse_auth("", &k, err, sizeof(err)), 0);
	assert_int_equal(k.n, 0);
	identity_keys_free(&k);
	assert_int_equal(identity_parse_auth("password\nkeyboard-interactive\n",
	    &k, err, sizeof(err)), 0);
	assert_int_equal(k.n, 0);
	identity_keys_free(&k);
	/* Only a line starting "publickey " names a key. */
	assert_int_equal(identity_parse_auth(
	    " publickey ssh-ed25519 " K1_B64 "\n"
	    "publickeyx ssh-ed25519 " K1_B64 "\n"
	    "Publickey ssh-ed25519 " K1_B64 "\n"
	    "publickey\n", &k, err, sizeof(err)), 0);
	assert_int_equal(k.n, 0);
	identity_keys_free(&k);
	assert_string_equal(err, "");
}

static void
test_bad_base64(void **state)
{
	(void)state;
	expect_refused("publickey ssh-ed25519 AAAA!!!!\n",
	    "bad key in auth info: key data is not valid base64");
	/* A good key before the bad one is not kept either. */
	expect_refused(PK(K1_B64) "password\n"
	    "publickey ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI$$$\n",
	    "bad key in auth info: key data is not valid base64");
	/* Truncated base64 (a character short of a quantum). */
	expect_refused("publickey ssh-ed25519 "
	    "AAAAC3NzaC1lZDI1NTE5AAAAIIqepccp2ppozyUKkQU8pQ/WHhCQYbAoFkTX3SpHw0J\n",
	    "bad key in auth info: key data is not valid base64");
	expect_refused("publickey ssh-ed25519\n",
	    "bad key in auth info: expected \"TYPE BASE64 [COMMENT]\" or "
	    "\"SHA256:...\"");
	expect_refused("publickey ssh-ed25519 \n",
	    "bad key in auth info: missing or oversized key data");
}

static void
test_type_mismatch(void **state)
{
	(void)state;
	expect_refused("publickey ssh-rsa " K1_B64 "\n",
	    "bad key in auth info: key data does not match its key type");
	expect_refused("publickey ssh-ed25519 " RSA_B64 "\n",
	    "bad key in auth info: key data does not match its key type");
	expect_refused(PK(K2_B64) "publickey ecdsa-sha2-nistp256 " K3_B64 "\n",
	    "bad key in auth info: key data does not match its key type");
	/* Too short to hold a type at all ("AAA=" is 2 bytes). */
	expect_refused("publickey ssh-ed25519 AAA=\n",
	    "bad key in auth info: key data does not match its key type");
}

static void
test_key_limit(void **state)
{
	struct auth_keys	 k;
	struct buf		 b = { 0 };
	char			 err[256] = "";
	size_t			 i;

	(void)state;
	assert_int_equal(IDENTITY_MAX_KEYS, 16);
	for (i = 0; i < IDENTITY_MAX_KEYS; i++) {
		buf_adds(&b, i % 2 == 0 ? "password\n" : "");
		buf_adds(&b, i % 3 == 0 ? PK(K1_B64) : i % 3 == 1 ?
		    PK(K2_B64) : PK(K3_B64));
	}
	/* Exactly the maximum is accepted. */
	assert_int_equal(identity_parse_auth(b.data, &k, err, sizeof(err)), 0);
	assert_int_equal(k.n, IDENTITY_MAX_KEYS);
	for (i = 0; i < IDENTITY_MAX_KEYS; i++)
		assert_fp(&k, i, i % 3 == 0 ? K1_FP : i % 3 == 1 ? K2_FP :
		    K3_FP);
	identity_keys_free(&k);
	/* Other methods after the last key do not count. */
	buf_adds(&b, "keyboard-interactive\n");
	assert_int_equal(identity_parse_auth(b.data, &k, err, sizeof(err)), 0);
	assert_int_equal(k.n, IDENTITY_MAX_KEYS);
	identity_keys_free(&k);
	/* One more key is refused, and the 16 parsed are freed. */
	buf_adds(&b, PK(K1_B64));
	expect_refused(b.data, "too many keys in auth info");
	/* So is a bad 17th line: the limit comes first. */
	buf_free(&b);
	for (i = 0; i < IDENTITY_MAX_KEYS; i++)
		buf_adds(&b, PK(K3_B64));
	buf_adds(&b, "publickey ssh-ed25519 !!!!\n");
	expect_refused(b.data, "too many keys in auth info");
	buf_free(&b);
}

static void
expect_addr(const char *conn, const char *want)
{
	char	*addr = identity_client_addr(conn);

	if (want == NULL) {
		if (addr != NULL)
			fail_msg("'%s' gave '%s', expected NULL",
			    conn != NULL ? conn : "(null)", addr);
		return;
	}
	assert_non_null(addr);
	assert_string_equal(addr, want);
	free(addr);
}

static void
test_client_addr(void **state)
{
	char	long_addr[80];

	(void)state;
	expect_addr("192.0.2.1 5555 127.0.0.1 22", "192.0.2.1");
	expect_addr("::1 5555 ::1 22", "::1");
	expect_addr("2001:db8::7 40000 2001:db8::1 22", "2001:db8::7");
	expect_addr("fe80::1%eth0 40000 fe80::2%eth0 22", "fe80::1%eth0");
	expect_addr("198.51.100.9", "198.51.100.9");
	expect_addr("", NULL);
	expect_addr(NULL, NULL);
	expect_addr(" 192.0.2.1 5555 127.0.0.1 22", NULL);
	/* At most 64 characters of address. */
	memset(long_addr, '1', 64);
	memcpy(long_addr + 64, " 1 2 3", sizeof(" 1 2 3"));
	expect_addr(long_addr, "1111111111111111111111111111111111111111111111"
	    "111111111111111111");
	memset(long_addr, '1', 65);
	memcpy(long_addr + 65, " 1 2 3", sizeof(" 1 2 3"));
	expect_addr(long_addr, NULL);
}

/* ---- identity_recheck(): the checks before every command ---- */

#define RECHECK_POLICY(alice_extra, k1_owner) \
	"gateway: {audit: none}\n" \
	"hosts: {bastion: {local: true, tmux_users: [deploy]}}\n" \
	"roles: {op: {allow: [{hosts: [bastion], tmux_users: [deploy], " \
	"actions: [list]}]}}\n" \
	"identities:\n" \
	"  alice: {keys: [" k1_owner "], roles: [op]" alice_extra "}\n" \
	"  bob: {keys: [\"ssh-ed25519 " K2_B64 "\"], roles: [op]}\n"

#define K1_LINE	"\"ssh-ed25519 " K1_B64 "\""

/* A shell logged in as alice with key K1 (or by --identity). */
static void
logged_in(struct gw *gw, struct policy *p, bool forced)
{
	struct auth_keys	k;
	char			err[256];

	memset(gw, 0, sizeof(*gw));
	gw->policy = p;
	assert_non_null(gw->id = policy_identity_find(p, "alice"));
	if (forced)
		return;
	assert_int_equal(identity_parse_auth(PK(K1_B64), &k, err,
	    sizeof(err)), 0);
	policy_key_fingerprint(k.blob[0], k.len[0], gw->key_fp);
	gw->have_key = true;
	gw->key = k.blob[0];
	gw->key_len = k.len[0];
	k.blob[0] = NULL;
	k.n = 0;
}

static int
recheck(struct gw *gw, const char *text)
{
	struct policy			*p;
	const struct policy_identity	*id = (void *)1;
	int				 r;

	assert_non_null(p = unit_policy(text));
	r = identity_recheck(gw, p, &id);
	if (r == MG_OK) {
		assert_non_null(id);
		assert_string_equal(policy_identity_name(id), "alice");
	} else
		assert_null(id);
	policy_free(p);
	return r;
}

static void
test_recheck(void **state)
{
	struct policy	*p;
	struct gw	 gw;
	bool		 forced;

	audit_configure(POLICY_AUDIT_NONE, false);
	unsetenv("SSH_CONNECTION");
	assert_non_null(p = unit_policy(RECHECK_POLICY("", K1_LINE)));
	for (forced = false; ; forced = true) {
		logged_in(&gw, p, forced);
		assert_int_equal(recheck(&gw, RECHECK_POLICY("", K1_LINE)),
		    MG_OK);
		assert_int_equal(recheck(&gw, RECHECK_POLICY(
		    ", disabled: true", K1_LINE)), MG_DENIED);
		assert_int_equal(recheck(&gw, RECHECK_POLICY(
		    ", expires: \"2020-01-01\"", K1_LINE)), MG_DENIED);
		assert_int_equal(recheck(&gw, RECHECK_POLICY(
		    ", expires: \"2999-01-01\"", K1_LINE)), MG_OK);
		setenv("SSH_CONNECTION", "198.51.100.7 5555 127.0.0.1 22", 1);
		assert_int_equal(recheck(&gw, RECHECK_POLICY(
		    ", from: [192.0.2.0/24]", K1_LINE)), MG_DENIED);
		assert_int_equal(recheck(&gw, RECHECK_POLICY(
		    ", from: [198.51.100.0/24]", K1_LINE)), MG_OK);
		unsetenv("SSH_CONNECTION");
		/* The key gone from alice: a key login ends, --identity not. */
		assert_int_equal(recheck(&gw, RECHECK_POLICY("",
		    "\"" K3_FP "\"")), forced ? MG_OK : MG_DENIED);
		free(gw.key);
		if (forced)
			break;
	}
	policy_free(p);
}

/* The key that logged in now names another identity: not alice any more. */
static void
test_recheck_key_moved(void **state)
{
	struct policy	*p;
	struct gw	 gw;

	audit_configure(POLICY_AUDIT_NONE, false);
	assert_non_null(p = unit_policy(RECHECK_POLICY("", K1_LINE)));
	logged_in(&gw, p, false);
	assert_int_equal(recheck(&gw,
	    "gateway: {audit: none}\n"
	    "hosts: {bastion: {local: true, tmux_users: [deploy]}}\n"
	    "roles: {op: {allow: [{hosts: [bastion], tmux_users: [deploy], "
	    "actions: [list]}]}}\n"
	    "identities:\n"
	    "  alice: {keys: [\"" K3_FP "\"], roles: [op]}\n"
	    "  bob: {keys: [" K1_LINE "], roles: [op]}\n"), MG_DENIED);
	/* And alice renamed away: gone. */
	assert_int_equal(recheck(&gw,
	    "gateway: {audit: none}\n"
	    "hosts: {bastion: {local: true, tmux_users: [deploy]}}\n"
	    "roles: {op: {allow: [{hosts: [bastion], tmux_users: [deploy], "
	    "actions: [list]}]}}\n"
	    "identities:\n"
	    "  alicia: {keys: [" K1_LINE "], roles: [op]}\n"), MG_DENIED);
	free(gw.key);
	policy_free(p);
}

/* ---- identity_resolve() with --identity: the key must agree ---- */

static char	last_reason[64];

static int
reason_hook(const struct audit_rec *r, const char *text)
{
	(void)snprintf(last_reason, sizeof(last_reason), "%s",
	    r->reason != NULL ? r->reason : "");
	return 0;
}

/* Resolve --identity FORCED on a connection that AUTH (or nothing) authenticated. */
static int
resolve_forced(struct policy *p, const char *auth, const char *forced,
    struct gw *gw)
{
	char	path[] = "/tmp/mgt-unit-auth-XXXXXX";
	int	fd, r;

	memset(gw, 0, sizeof(*gw));
	gw->policy = p;
	last_reason[0] = '\0';
	if (auth != NULL) {
		assert_true((fd = mkstemp(path)) != -1);
		assert_int_equal(write(fd, auth, strlen(auth)),
		    (ssize_t)strlen(auth));
		close(fd);
		setenv("SSH_USER_AUTH", path, 1);
	} else
		unsetenv("SSH_USER_AUTH");
	r = identity_resolve(gw, forced);
	if (auth != NULL)
		unlink(path);
	unsetenv("SSH_USER_AUTH");
	return r;
}

static void
test_forced_identity_must_match_key(void **state)
{
	struct policy	*p;
	struct gw	 gw;

	audit_configure(POLICY_AUDIT_NONE, false);
	audit_set_hook(reason_hook);
	unsetenv("SSH_CONNECTION");
	assert_non_null(p = unit_policy(RECHECK_POLICY("", K1_LINE)));
	/* bob's key with a line that says alice: refused, and said why. */
	assert_int_equal(resolve_forced(p, PK(K2_B64), "alice", &gw),
	    MG_DENIED);
	assert_null(gw.id);
	assert_string_equal(last_reason, "identity-mismatch");
	free(gw.key);
	/* A key the policy does not hold is no key of alice's either. */
	assert_int_equal(resolve_forced(p, PK(K3_B64), "alice", &gw),
	    MG_DENIED);
	assert_string_equal(last_reason, "unknown-key");
	free(gw.key);
	/* The right key: in, and the key is remembered for rechecks. */
	assert_int_equal(resolve_forced(p, PK(K1_B64), "alice", &gw), MG_OK);
	assert_string_equal(policy_identity_name(gw.id), "alice");
	assert_non_null(gw.key);
	assert_string_equal(gw.key_fp, K1_FP);
	free(gw.key);
	assert_int_equal(resolve_forced(p, PK(K2_B64), "bob", &gw), MG_OK);
	free(gw.key);
	/* No key exposed: --identity alone decides, as before. */
	assert_int_equal(resolve_forced(p, NULL, "alice", &gw), MG_OK);
	assert_null(gw.key);
	audit_set_hook(NULL);
	policy_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_key),
		cmocka_unit_test(test_several_methods),
		cmocka_unit_test(test_no_publickey),
		cmocka_unit_test(test_bad_base64),
		cmocka_unit_test(test_type_mismatch),
		cmocka_unit_test(test_key_limit),
		cmocka_unit_test(test_client_addr),
		cmocka_unit_test(test_recheck),
		cmocka_unit_test(test_recheck_key_moved),
		cmocka_unit_test(test_forced_identity_must_match_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
