/*
 * test_keyindex.c — the compiled key index of `muxgate keys`: what it
 * answers for every kind of key entry, that it is refused rather than
 * half-used when any byte of it is wrong, and the authorized_keys lines
 * made from it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/keyindex.h"
#include "gateway/str.h"
#include "gateway/xmalloc.h"
#include "policy/policy.h"
#include "tests/unit/unit.h"

/* Made with ssh-keygen -t ed25519; fingerprints from ssh-keygen -l. */
#define K1_B64	"AAAAC3NzaC1lZDI1NTE5AAAAIIqepccp2ppozyUKkQU8pQ/WHhCQYbAoFkTX3SpHw0JQ"
#define K2_B64	"AAAAC3NzaC1lZDI1NTE5AAAAIL3ybxUWaQaJ3gIDMucElGTKcR7jHzAbhtemiOeX9MDE"
#define K3_B64	"AAAAC3NzaC1lZDI1NTE5AAAAIMnLoOu0A8kndS45eGGb/+7B4GI+qAoLTeGJwSp6q14n"
#define K3_FP	"SHA256:PZW6p17eOTAqzgG4PlPJY3qbqrvX/rHb9NJt3RNVlUo"
#define K4_B64	"AAAAC3NzaC1lZDI1NTE5AAAAIPXiCLA5nBfOZX86S9pWF4PBLXR5dXl9spoE8Hturu3k"

#define POLICY \
	"gateway: {audit: none, account: mgt-gw}\n" \
	"hosts: {bastion: {local: true, tmux_users: [deploy]}}\n" \
	"roles: {op: {allow: [{hosts: [bastion], tmux_users: [deploy], " \
	"actions: [list]}]}}\n" \
	"identities:\n" \
	"  alice: {keys: [\"ssh-ed25519 " K1_B64 " alice@x\", \"" K3_FP "\"], " \
	"roles: [op]}\n" \
	"  bob: {keys: [\"ssh-ed25519 " K2_B64 "\"], roles: [op], " \
	"disabled: true, from: [192.0.2.0/24, \"2001:db8::/32\"]}\n" \
	"  carol: {keys: [\"ssh-ed25519 " K4_B64 "\"], roles: [op], " \
	"expires: \"2031-02-03T04:05:06Z\"}\n"

static struct policy	*pol;
static unsigned char	 phash[KEYINDEX_HASH_BYTES];
static const struct keyindex_stamp stamp = {
	.dev = 2049, .ino = 1234567, .size = 4096,
	.mtime_sec = 1790000000, .mtime_nsec = 123456789,
	.ctime_sec = 1790000001, .ctime_nsec = 987654321,
};

static int
setup(void **state)
{
	if (sodium_init() < 0 || (pol = unit_policy(POLICY)) == NULL)
		return -1;
	crypto_generichash(phash, sizeof(phash),
	    (const unsigned char *)POLICY, strlen(POLICY), NULL, 0);
	return 0;
}

static int
teardown(void **state)
{
	policy_free(pol);
	return 0;
}

/* The wire blob and SHA-256 of a base64 key. */
static size_t
key_of(const char *b64, unsigned char *blob, size_t cap,
    unsigned char sha[KEYINDEX_KEY_BYTES])
{
	size_t	len;

	assert_int_equal(sodium_base642bin(blob, cap, b64, strlen(b64), NULL,
	    &len, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	crypto_hash_sha256(sha, blob, len);
	return len;
}

static struct buf
built(void)
{
	struct buf	b = { NULL, 0, 0 };
	char		err[256];
	size_t		nkeys;

	assert_int_equal(keyindex_build(pol, phash, &stamp, &b, &nkeys, err,
	    sizeof(err)), 0);
	assert_int_equal(nkeys, 4);
	return b;
}

static void
test_answers(void **state)
{
	struct buf		 b = built();
	struct keyindex		*x;
	struct keys_entry	 e;
	unsigned char		 blob[128], sha[KEYINDEX_KEY_BYTES], other[32];
	char			 err[256];

	assert_non_null(x = keyindex_open((unsigned char *)b.data, b.len, err,
	    sizeof(err)));
	assert_true(keyindex_fresh(x, phash));
	memcpy(other, phash, sizeof(other));
	other[31] ^= 1;
	assert_false(keyindex_fresh(x, other));
	assert_string_equal(keyindex_account(x), "mgt-gw");

	key_of(K1_B64, blob, sizeof(blob), sha);
	assert_int_equal(keyindex_find(x, sha, &e), 1);
	assert_string_equal(e.name, "alice");
	assert_null(e.from);
	assert_false(e.disabled);
	assert_int_equal(e.expires, 0);
	/* Listed by fingerprint only: found by the key's SHA-256 all the same. */
	key_of(K3_B64, blob, sizeof(blob), sha);
	assert_int_equal(keyindex_find(x, sha, &e), 1);
	assert_string_equal(e.name, "alice");
	key_of(K2_B64, blob, sizeof(blob), sha);
	assert_int_equal(keyindex_find(x, sha, &e), 1);
	assert_string_equal(e.name, "bob");
	assert_true(e.disabled);
	assert_string_equal(e.from, "192.0.2.0/24,2001:db8::/32");
	key_of(K4_B64, blob, sizeof(blob), sha);
	assert_int_equal(keyindex_find(x, sha, &e), 1);
	assert_string_equal(e.name, "carol");
	assert_int_equal(e.expires, 1927857906);
	sha[0] ^= 0x80;
	assert_int_equal(keyindex_find(x, sha, &e), 0);
	keyindex_free(x);
	buf_free(&b);
}

/* Cut anywhere: refused. */
static void
test_truncated_refused(void **state)
{
	struct buf	b = built();
	char		err[256];
	size_t		n;

	for (n = 0; n < b.len; n++)
		assert_null(keyindex_open((unsigned char *)b.data, n, err,
		    sizeof(err)));
	buf_add(&b, "", 1);
	assert_null(keyindex_open((unsigned char *)b.data, b.len, err,
	    sizeof(err)));
	buf_free(&b);
}

/*
 * Any one byte changed: refused, or (a byte of a hash, an expiry, a
 * string's text that stays valid) still a consistent index whose answers
 * are all well-formed.  Never a crash: valgrind runs this too.
 */
static void
test_every_byte_changed(void **state)
{
	struct buf		 b = built();
	struct keyindex		*x;
	struct keys_entry	 e;
	unsigned char		 blob[128], sha[KEYINDEX_KEY_BYTES];
	const char *const	 keys[] = { K1_B64, K2_B64, K3_B64, K4_B64 };
	char			 err[256];
	size_t			 i, k;
	int			 bit;

	for (i = 0; i < b.len; i++)
		for (bit = 0; bit < 8; bit += 7) {
			b.data[i] ^= (char)(1 << bit);
			x = keyindex_open((unsigned char *)b.data, b.len, err,
			    sizeof(err));
			for (k = 0; x != NULL && k < 4; k++) {
				key_of(keys[k], blob, sizeof(blob), sha);
				if (keyindex_find(x, sha, &e) == 1) {
					assert_true(policy_valid_name(e.name));
					assert_true(e.expires >= 0);
				}
			}
			keyindex_free(x);
			b.data[i] ^= (char)(1 << bit);
		}
	buf_free(&b);
}

/*
 * Overwrite the LEN bytes at OFF of a fresh index: is it refused when
 * opened (-1), is the entry of K1 refused when looked up (-2), or does
 * the lookup answer (its result)?
 */
static int
outcome_with(size_t off, const void *bytes, size_t len)
{
	struct buf		 b = built();
	struct keyindex		*x;
	struct keys_entry	 e;
	unsigned char		 blob[128], sha[KEYINDEX_KEY_BYTES];
	char			 err[256];
	int			 r = -1;

	memcpy(b.data + off, bytes, len);
	if ((x = keyindex_open((unsigned char *)b.data, b.len, err,
	    sizeof(err))) != NULL) {
		key_of(K1_B64, blob, sizeof(blob), sha);
		r = keyindex_find(x, sha, &e);
		if (r == -1)
			r = -2;
	}
	keyindex_free(x);
	buf_free(&b);
	return r;
}

static void
test_refusals(void **state)
{
	struct buf	 b = built();
	const char	*s;
	size_t		 off;
	char		 tmp[36 * 4];

	assert_int_equal(outcome_with(0, "", 0), 1);
	/* Magic, layout, version, stamp flag: the index is refused. */
	assert_int_equal(outcome_with(0, "X", 1), -1);
	assert_int_equal(outcome_with(8, "\x02", 1), -1);
	assert_int_equal(outcome_with(12, "9", 1), -1);
	assert_int_equal(outcome_with(92, "\x02", 1), -1);
	/* Counts that do not add up to the size. */
	assert_int_equal(outcome_with(76, "\x04", 1), -1);
	assert_int_equal(outcome_with(80, "\x05", 1), -1);
	assert_int_equal(outcome_with(84, "\xff", 1), -1);
	/* The gateway account must be a user name. */
	s = memmem(b.data, b.len, "mgt-gw", 7);
	assert_non_null(s);
	assert_int_equal(outcome_with((size_t)(s - b.data), "mg t", 4), -1);
	/*
	 * A name or a from= that authorized_keys would read differently:
	 * the entry is refused when it is the answer.
	 */
	s = memmem(b.data, b.len, "alice", 6);
	assert_non_null(s);
	assert_int_equal(outcome_with((size_t)(s - b.data), "al\"ce", 5), -2);
	assert_int_equal(outcome_with((size_t)(s - b.data), "al\nce", 5), -2);
	/* An identity out of range (K1 is alice's, identity 0). */
	off = 144 + 3 * 24;
	{
		unsigned char	blob[128], sha[KEYINDEX_KEY_BYTES];
		size_t		k;

		key_of(K1_B64, blob, sizeof(blob), sha);
		for (k = 0; k < 4; k++)
			if (memcmp(b.data + off + k * 36, sha, 32) == 0)
				break;
		assert_true(k < 4);
		assert_int_equal(outcome_with(off + k * 36 + 32, "\x07", 1), -2);
	}
	/* Keys out of order: never a wrong answer, at worst no answer. */
	memcpy(tmp, b.data + off, sizeof(tmp));
	{
		char	rev[36 * 4];
		int	k, r;

		for (k = 0; k < 4; k++)
			memcpy(rev + k * 36, tmp + (3 - k) * 36, 36);
		r = outcome_with(off, rev, sizeof(rev));
		assert_true(r == 0 || r == 1);
	}
	buf_free(&b);
}

static void
test_from_refused(void **state)
{
	struct buf		 b = built();
	struct keyindex		*x;
	struct keys_entry	 e;
	unsigned char		 blob[128], sha[KEYINDEX_KEY_BYTES];
	char			 err[256], *s;

	s = memmem(b.data, b.len, "192.0.2.0/24", 12);
	assert_non_null(s);
	memcpy(s, "192\",0", 6);
	assert_non_null(x = keyindex_open((unsigned char *)b.data, b.len, err,
	    sizeof(err)));
	key_of(K2_B64, blob, sizeof(blob), sha);
	assert_int_equal(keyindex_find(x, sha, &e), -1);
	keyindex_free(x);
	buf_free(&b);
}

static void
test_stamp(void **state)
{
	struct buf		 b = built(), n = { NULL, 0, 0 };
	struct keyindex		*x;
	struct keyindex_stamp	 t = stamp;
	char			 err[256];
	size_t			 nkeys;
	struct timespec		 now;

	assert_non_null(x = keyindex_open((unsigned char *)b.data, b.len, err,
	    sizeof(err)));
	assert_true(keyindex_stamp_matches(x, &stamp));
	t.ctime_nsec++;
	assert_false(keyindex_stamp_matches(x, &t));
	t = stamp;
	t.ino++;
	assert_false(keyindex_stamp_matches(x, &t));
	t = stamp;
	t.size--;
	assert_false(keyindex_stamp_matches(x, &t));
	t = stamp;
	t.mtime_sec++;
	assert_false(keyindex_stamp_matches(x, &t));
	keyindex_free(x);
	/* Built without a stamp: nothing matches it. */
	assert_int_equal(keyindex_build(pol, phash, NULL, &n, &nkeys, err,
	    sizeof(err)), 0);
	assert_non_null(x = keyindex_open((unsigned char *)n.data, n.len, err,
	    sizeof(err)));
	t = stamp;
	assert_false(keyindex_stamp_matches(x, &t));
	memset(&t, 0, sizeof(t));
	assert_false(keyindex_stamp_matches(x, &t));
	keyindex_free(x);
	/* Settled: the clock is past the ctime. */
	assert_true(keyindex_stamp_settled(&stamp));
	clock_gettime(CLOCK_REALTIME, &now);
	t = stamp;
	t.ctime_sec = now.tv_sec + 60;
	assert_false(keyindex_stamp_settled(&t));
	buf_free(&b);
	buf_free(&n);
}

/* ---- lines ---- */

static void
test_line(void **state)
{
	struct keys_entry	e = { "alice", NULL, 0, false };
	struct buf		out = { NULL, 0, 0 };
	unsigned char		blob[128], sha[KEYINDEX_KEY_BYTES];
	char			err[256];
	size_t			len = key_of(K1_B64, blob, sizeof(blob), sha);

	assert_int_equal(keys_line(&out, "/usr/bin/muxgate",
	    "/etc/muxgate/gateway.yaml", &e, blob, len, err, sizeof(err)), 0);
	assert_string_equal(out.data, "restrict,pty,command=\"\\\"/usr/bin/"
	    "muxgate\\\" \\\"shell\\\" \\\"-f\\\" \\\"/etc/muxgate/gateway.yaml\\\" "
	    "\\\"--identity\\\" \\\"alice\\\"\" ssh-ed25519 " K1_B64
	    " muxgate:alice\n");
	out.len = 0;
	e.from = "192.0.2.0/24,2001:db8::/32";
	e.expires = 1927857906;
	assert_int_equal(keys_line(&out, "/usr/bin/muxgate",
	    "/etc/muxgate/gateway.yaml", &e, blob, len, err, sizeof(err)), 0);
	assert_non_null(strstr(out.data, "\",from=\"192.0.2.0/24,2001:db8::/32\","
	    "expiry-time=\"20310203040506Z\" ssh-ed25519 "));
	buf_free(&out);
}

/* Paths with quotes stay one option; backslashes and newlines are refused. */
static void
test_line_hostile_paths(void **state)
{
	struct keys_entry	 e = { "alice", NULL, 0, false };
	struct buf		 out = { NULL, 0, 0 };
	unsigned char		 blob[128], sha[KEYINDEX_KEY_BYTES];
	char			 err[256];
	const char		*p;
	size_t			 len = key_of(K1_B64, blob, sizeof(blob), sha);
	size_t			 quotes = 0;

	assert_int_equal(keys_line(&out, "/usr/bin/muxgate",
	    "/etc/mux\",command=\"sh\" gate.yaml", &e, blob, len, err,
	    sizeof(err)), 0);
	/* Every '"' inside command="..." is escaped: two bare ones in all. */
	for (p = out.data; *p != '\0'; p++)
		if (*p == '"' && (p == out.data || p[-1] != '\\'))
			quotes++;
	assert_int_equal(quotes, 2);
	/* And one line. */
	assert_true(strchr(out.data, '\n') == out.data + out.len - 1);
	out.len = 0;
	assert_int_equal(keys_line(&out, "/usr/bin/muxgate",
	    "/etc/muxgate\\", &e, blob, len, err, sizeof(err)), -1);
	assert_int_equal(out.len, 0);
	assert_int_equal(keys_line(&out, "/usr/bin/muxgate",
	    "/etc/mux\ngate.yaml", &e, blob, len, err, sizeof(err)), -1);
	assert_int_equal(out.len, 0);
	buf_free(&out);
}

/* A blob whose type is not a plain word never reaches the line. */
static void
test_line_hostile_type(void **state)
{
	struct keys_entry	e = { "alice", NULL, 0, false };
	struct buf		out = { NULL, 0, 0 };
	unsigned char		blob[64] = { 0, 0, 0, 5, 'a', ' ', 'b', '\n', 'c' };
	char			err[256];

	assert_int_equal(keys_line(&out, "/usr/bin/muxgate", "/etc/g.yaml",
	    &e, blob, 9, err, sizeof(err)), -1);
	assert_int_equal(out.len, 0);
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_truncated_refused),
		cmocka_unit_test(test_every_byte_changed),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_from_refused),
		cmocka_unit_test(test_stamp),
		cmocka_unit_test(test_line),
		cmocka_unit_test(test_line_hostile_paths),
		cmocka_unit_test(test_line_hostile_type),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
