/*
 * test_key.c — public keys, fingerprints, identity lookup by key and the
 * login-time checks of an identity (disabled, expires, from).
 *
 * The keys below were made once with ssh-keygen; the fingerprints are what
 * `ssh-keygen -lf` printed for them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>

#include "policy/policy.h"
#include "tests/unit/unit.h"

#define ED_B64 "AAAAC3NzaC1lZDI1NTE5AAAAIFOvKhZR3zQS+irBnskz5oRn6gZSUk261xOMxQe3sizO"
#define ED_LINE "ssh-ed25519 " ED_B64 " test-ed25519"
#define ED_FP "SHA256:5I6mWTM+C9/rbqKDwonFPqSnHhAJV81nElYKhq20Olw"

#define ED2_B64 "AAAAC3NzaC1lZDI1NTE5AAAAIOD4kGRMDi7zovH1SETglPSZJ65+9+Y2Yz/6hSMBX0rt"
#define ED2_LINE "ssh-ed25519 " ED2_B64 " other"
#define ED2_FP "SHA256:EQfvUFBDW63txndxQc0MqL3luin1AfI53xYGg3X13iU"

#define RSA_B64 "AAAAB3NzaC1yc2EAAAADAQABAAABAQCxPLWcPc5TfkeTd+zrfW01ASZCrfU0+DzUYE7J8dUv/qf6Y9JWy1G5khUU9z3YGWMADPj+1EfVrBy9I+XFgdTy0ESNT7Gd1A50rhj1pZEALd+8b9LnLvlxiIzzlrCW60mH5mk4UaB7LPf8wuV8meJZGXtb8BkhAlezVV6SOJf8T0JvA/64CyGXrb2ghb0cZYhSNLoSOIfM4vQJu96fniw1XcpzmL2yD6TJ7ZC8NA4GQRo82br9qU/furrCrS0ZnTtGaIvZawOMD5byjhr38ygCchzwmRIt73AVSfWRixfodEhJqSYJCzb3IoeQ5JyZ+mI7wN+l0kR8eHB/CZzBoR59"
#define RSA_LINE "ssh-rsa " RSA_B64 " test-rsa"
#define RSA_FP "SHA256:57x4prS22g4rZ1NI8zdwR9Cfd3D1qZjPUIMmCpV0Gls"

#define ECDSA_B64 "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBLPInQtxtOYuClRhjUohaG22Yb0bb6jSaHARCRNUgg+iL24zr9s2DrCRfW1L0Tp+R+bKfU/1nUjpM2EaJ/vI/5E="
#define ECDSA_LINE "ecdsa-sha2-nistp256 " ECDSA_B64 " test-ecdsa"
#define ECDSA_FP "SHA256:eX7e3kUf8Mz7LE0gUK33cvFlm8KMW3yM8ujXM3EdLgU"

/* Decode base64 without the library: the test's own view of a blob. */
static unsigned char *
b64_decode(const char *b64, size_t *len)
{
	size_t		 max = strlen(b64);
	unsigned char	*blob;

	assert_int_equal(sodium_init() < 0, 0);
	blob = malloc(max);
	assert_non_null(blob);
	assert_int_equal(sodium_base642bin(blob, max, b64, strlen(b64), NULL,
	    len, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	return blob;
}

/* ---- fingerprints ---- */

static void
check_fp(const char *b64, const char *want)
{
	unsigned char	*blob;
	size_t		 len;
	char		 fp[POLICY_FP_LEN];

	blob = b64_decode(b64, &len);
	memset(fp, 'x', sizeof(fp));
	policy_key_fingerprint(blob, len, fp);
	assert_string_equal(fp, want);
	assert_int_equal(strlen(fp), POLICY_FP_LEN - 1);
	free(blob);
}

static void
test_fingerprints(void **state)
{
	check_fp(ED_B64, ED_FP);
	check_fp(ED2_B64, ED2_FP);
	check_fp(RSA_B64, RSA_FP);
	check_fp(ECDSA_B64, ECDSA_FP);
}

/* ---- policy_key_parse ---- */

static void
check_parse_ok(const char *line, const char *b64)
{
	unsigned char	*blob = NULL, *want;
	size_t		 len = 0, wantlen;
	const char	*errstr = NULL;

	want = b64_decode(b64, &wantlen);
	assert_int_equal(policy_key_parse(line, &blob, &len, &errstr), 0);
	assert_non_null(blob);
	assert_int_equal(len, wantlen);
	assert_memory_equal(blob, want, wantlen);
	free(blob);
	free(want);
}

static void
test_key_parse_ok(void **state)
{
	check_parse_ok(ED_LINE, ED_B64);
	check_parse_ok("ssh-ed25519 " ED_B64, ED_B64);
	check_parse_ok("ssh-ed25519    " ED_B64 "   comment with  spaces",
	    ED_B64);
	check_parse_ok(RSA_LINE, RSA_B64);
	check_parse_ok(ECDSA_LINE, ECDSA_B64);
	check_parse_ok(ED2_LINE, ED2_B64);
}

static void
check_parse_err(const char *line, const char *want)
{
	unsigned char	*blob = (unsigned char *)"sentinel";
	size_t		 len = 99;
	const char	*errstr = NULL;

	if (policy_key_parse(line, &blob, &len, &errstr) != -1)
		fail_msg("key line '%.60s' accepted", line);
	assert_null(blob);
	assert_int_equal(len, 0);
	assert_non_null(errstr);
	assert_string_equal(errstr, want);
}

static void
test_key_parse_errors(void **state)
{
	char	*big;
	char	 longtype[80];

	check_parse_err("", "expected \"TYPE BASE64 [COMMENT]\" or "
	    "\"SHA256:...\"");
	check_parse_err("ssh-ed25519", "expected \"TYPE BASE64 [COMMENT]\" or "
	    "\"SHA256:...\"");
	check_parse_err("ssh-ed25519\t" ED_B64, "expected \"TYPE BASE64 "
	    "[COMMENT]\" or \"SHA256:...\"");
	check_parse_err(" " ED_B64, "bad key type");
	memset(longtype, 'a', 65);
	longtype[65] = ' ';
	memcpy(longtype + 66, "AAAA", 5);
	check_parse_err(longtype, "bad key type");
	check_parse_err("ssh-ed25519 ", "missing or oversized key data");
	check_parse_err("ssh-ed25519     ", "missing or oversized key data");
	big = malloc(12 + 16388 + 1);
	assert_non_null(big);
	memcpy(big, "ssh-ed25519 ", 12);
	memset(big + 12, 'A', 16388);
	big[12 + 16388] = '\0';
	check_parse_err(big, "missing or oversized key data");
	free(big);
	check_parse_err("ssh-ed25519 AAAA%%%%", "key data is not valid base64");
	check_parse_err("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFOvKhZR3zQS+irBns"
	    "kz5oRn6gZSUk261xOMxQe3siz", "key data is not valid base64");
	check_parse_err("ssh-ed25519 " ED_B64 "====",
	    "key data is not valid base64");
	/* The blob's own type must be the one in front of it. */
	check_parse_err("ssh-rsa " ED_B64, "key data does not match its key "
	    "type");
	check_parse_err("ssh-ed25519 " RSA_B64, "key data does not match its "
	    "key type");
	check_parse_err("ssh-ed2551 " ED_B64, "key data does not match its "
	    "key type");
	check_parse_err("ssh-ed25519x " ED_B64, "key data does not match its "
	    "key type");
	check_parse_err("ecdsa-sha2-nistp384 " ECDSA_B64, "key data does not "
	    "match its key type");
	/* Blobs too short for their type, or claiming a huge one. */
	check_parse_err("ssh-ed25519 AAA=", "key data does not match its key "
	    "type");
	check_parse_err("ssh-ed25519 AAAAAA==", "key data does not match its "
	    "key type");
	check_parse_err("ssh-ed25519 /////3NzaC1lZDI1NTE5", "key data does not "
	    "match its key type");
	check_parse_err("ssh-ed25519 AAAAC3NzaC1lZDI1NTE=", "key data does not "
	    "match its key type");
}

/* A blob of a plain type is its strings, exactly: no more, no less. */
static void
test_key_parse_structure(void **state)
{
	static const char *const b64s[] = { ED_B64, RSA_B64, ECDSA_B64 };
	static const char *const types[] = { "ssh-ed25519", "ssh-rsa",
	    "ecdsa-sha2-nistp256" };
	unsigned char	*blob, *copy, *got;
	char		*text, *line;
	const char	*errstr;
	size_t		 len, glen, cut, i, tl;

	(void)state;
	for (i = 0; i < 3; i++) {
		blob = b64_decode(b64s[i], &len);
		tl = strlen(types[i]);
		/* Every truncation after the type, and one byte more. */
		for (cut = 4 + tl; cut <= len + 1; cut++) {
			copy = calloc(1, cut + 1);
			assert_non_null(copy);
			memcpy(copy, blob, cut <= len ? cut : len);
			text = calloc(1, 4 * (cut + 2) / 3 + 4);
			assert_non_null(text);
			assert_non_null(sodium_bin2base64(text,
			    4 * (cut + 2) / 3 + 4, copy, cut,
			    sodium_base64_VARIANT_ORIGINAL));
			assert_int_not_equal(asprintf(&line, "%s %s", types[i],
			    text), -1);
			if (cut == len) {
				assert_int_equal(policy_key_parse(line, &got,
				    &glen, &errstr), 0);
				free(got);
			} else
				check_parse_err(line, "key data is truncated or "
				    "malformed");
			free(line);
			free(text);
			free(copy);
		}
		free(blob);
	}
	/* An Ed25519 key of 31 or 33 bytes, the blob otherwise whole. */
	check_parse_err("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAHwAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAA=", "key data is truncated or malformed");
	check_parse_err("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIQAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAA==", "key data is truncated or malformed");
	/* A type this does not know the fields of: its prefix suffices. */
	assert_int_equal(policy_key_parse("ssh-ed25519-cert-v01@openssh.com "
	    "AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAA", &got, &glen,
	    &errstr), 0);
	free(got);
}

/*
 * policy_key_parse() decodes base64 itself, and must take exactly what
 * sodium_base642bin() takes (original variant, padded, nothing ignored,
 * the whole field): compared on keys, on keys with a character changed,
 * dropped or added, and on short random strings.  Except for bytes from
 * 0x80 up: libsodium 1.0.18 reads each of those as '/', which is not
 * base64 and is refused here.
 */
static void
test_key_parse_base64(void **state)
{
	static const char	 chars[] = "AZaz09+/=-_.:!~\x01\x7f";
	unsigned char		 raw[51], want[80], *blob;
	char			 b64[96], line[128];
	const char		*errstr;
	size_t			 i, k, n, len, wantlen;
	int			 ours, theirs;

	assert_int_equal(sodium_init() < 0, 0);
	for (i = 0; i < 20000; i++) {
		if (i % 2 == 0) {
			/* An ed25519 blob of some length, then mutated. */
			memcpy(raw, "\0\0\0\x0bssh-ed25519\0\0\0\x20", 19);
			randombytes_buf(raw + 19, 32);
			sodium_bin2base64(b64, sizeof(b64), raw,
			    19 + randombytes_uniform(33),
			    sodium_base64_VARIANT_ORIGINAL);
			n = strlen(b64);
			for (k = randombytes_uniform(3); k > 0 && n > 1; k--) {
				size_t at = randombytes_uniform((uint32_t)n);
				switch (randombytes_uniform(3)) {
				case 0:
					b64[at] = chars[randombytes_uniform(
					    sizeof(chars) - 1)];
					break;
				case 1:
					memmove(b64 + at, b64 + at + 1, n - at);
					n--;
					break;
				default:
					memmove(b64 + at + 1, b64 + at,
					    n - at + 1);
					b64[at] = chars[randombytes_uniform(
					    sizeof(chars) - 1)];
					n++;
				}
			}
		} else {
			n = 1 + randombytes_uniform(12);
			for (k = 0; k < n; k++)
				b64[k] = chars[randombytes_uniform(
				    sizeof(chars) - 1)];
			b64[n] = '\0';
		}
		snprintf(line, sizeof(line), "ssh-ed25519 %s", b64);
		blob = NULL;
		errstr = NULL;
		ours = policy_key_parse(line, &blob, &len, &errstr);
		theirs = sodium_base642bin(want, sizeof(want), b64, n, NULL,
		    &wantlen, NULL, sodium_base64_VARIANT_ORIGINAL);
		if (theirs == 0 && (wantlen < 15 ||
		    memcmp(want, "\0\0\0\x0bssh-ed25519", 15) != 0)) {
			/* Base64, but not of an ed25519 key. */
			assert_int_equal(ours, -1);
			assert_string_equal(errstr,
			    "key data does not match its key type");
		} else if (theirs == 0 && wantlen == 51 &&
		    memcmp(want + 15, "\0\0\0\x20", 4) == 0) {
			assert_int_equal(ours, 0);
			assert_int_equal(len, wantlen);
			assert_memory_equal(blob, want, len);
		} else if (theirs == 0) {
			/* Base64 of an ed25519 blob cut short or padded. */
			assert_int_equal(ours, -1);
			assert_string_equal(errstr,
			    "key data is truncated or malformed");
		} else {
			if (ours != -1)
				fail_msg("'%s' accepted", b64);
			assert_string_equal(errstr, "key data is not valid "
			    "base64");
		}
		free(blob);
	}
	/* Bytes from 0x80 up are not base64, whatever libsodium says. */
	check_parse_err("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFOvKhZR3zQS+irBns"
	    "kz5oRn6gZSUk261xOMxQe3\xffizO", "key data is not valid base64");
	check_parse_err("ssh-ed25519 \x80" "AAA",
	    "key data is not valid base64");
}

/*
 * A policy of thousands of identities, found by name and by key through
 * the indexes: full keys, SHA256: entries, an identity with both, and
 * keys and names nobody has.
 */
#define MANY 3000

static unsigned char *
random_key(unsigned char raw[51])
{
	memcpy(raw, "\0\0\0\x0bssh-ed25519\0\0\0\x20", 19);
	randombytes_buf(raw + 19, 32);
	return raw;
}

static void
test_many_identities(void **state)
{
	static unsigned char		 raw[MANY][2][51];
	const struct policy_identity	*id;
	struct policy			*p;
	unsigned char			 other[51];
	char				 b64[96], fp[POLICY_FP_LEN], name[32];
	char				*text = NULL;
	size_t				 i, k, textlen;
	FILE				*f;

	assert_int_equal(sodium_init() < 0, 0);
	assert_non_null(f = open_memstream(&text, &textlen));
	fprintf(f, "hosts: {h1: {local: true, tmux_users: [deploy]}}\n"
	    "roles: {r: {allow: [{hosts: \"*\", tmux_users: \"*\", "
	    "actions: [list]}]}}\nidentities:\n");
	for (i = 0; i < MANY; i++) {
		/* Names out of order, so that the index must sort them. */
		fprintf(f, "  u%zu:\n    roles: [r]\n    keys:\n",
		    (i * 7919) % MANY);
		for (k = 0; k < (i % 3 == 2 ? 2 : 1); k++) {
			random_key(raw[i][k]);
			if ((i + k) % 2 == 0) {
				sodium_bin2base64(b64, sizeof(b64), raw[i][k],
				    51, sodium_base64_VARIANT_ORIGINAL);
				fprintf(f, "      - ssh-ed25519 %s c%zu\n", b64,
				    i);
			} else {
				policy_key_fingerprint(raw[i][k], 51, fp);
				fprintf(f, "      - \"%s\"\n", fp);
			}
		}
	}
	assert_int_equal(fclose(f), 0);
	p = unit_policy(text);
	free(text);
	assert_non_null(p);
	assert_int_equal(policy_identity_count(p), MANY);
	for (i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "u%zu", (i * 7919) % MANY);
		id = policy_identity_find(p, name);
		assert_ptr_equal(id, policy_identity_at(p, i));
		assert_string_equal(policy_identity_name(id), name);
		for (k = 0; k < (i % 3 == 2 ? 2 : 1); k++)
			assert_ptr_equal(policy_identity_by_key(p, raw[i][k],
			    51), id);
		/* The key with its last byte changed is nobody's. */
		memcpy(other, raw[i][0], 51);
		other[50] ^= 0x01;
		assert_null(policy_identity_by_key(p, other, 51));
	}
	assert_null(policy_identity_by_key(p, random_key(other), 51));
	assert_null(policy_identity_find(p, "u"));
	assert_null(policy_identity_find(p, "u3000"));
	assert_null(policy_identity_find(p, "u01"));
	assert_null(policy_identity_find(p, ""));
	assert_null(policy_identity_find(p, "zzz"));
	policy_free(p);
}

/* ---- lookups and usability: one policy for the rest ---- */

#define FAKE(c) "\"SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" c "\""

static const char policy_text[] =
	"hosts:\n"
	"  h1: {local: true, tmux_users: [deploy]}\n"
	"roles:\n"
	"  r: {allow: [{hosts: \"*\", tmux_users: \"*\", actions: [list]}]}\n"
	"identities:\n"
	"  alice:\n"
	"    keys: [\"" ED_LINE " alice@laptop\"]\n"
	"    roles: [r]\n"
	"  bob:\n"
	"    keys: [\"" RSA_FP "\"]\n"
	"    roles: [r]\n"
	"  carol:\n"
	"    keys:\n"
	"      - " FAKE("c") "\n"
	"      - \"" ECDSA_LINE "\"\n"
	"    roles: [r]\n"
	"  off:\n"
	"    keys: [" FAKE("d") "]\n"
	"    roles: [r]\n"
	"    disabled: true\n"
	"    expires: 2000-01-01\n"
	"  day:\n"
	"    keys: [" FAKE("e") "]\n"
	"    roles: [r]\n"
	"    expires: 2030-06-15\n"
	"  instant:\n"
	"    keys: [" FAKE("f") "]\n"
	"    roles: [r]\n"
	"    expires: 2030-06-15T12:00:00Z\n"
	"    disabled: false\n"
	"  nets:\n"
	"    keys: [" FAKE("g") "]\n"
	"    roles: [r]\n"
	"    from: [10.1.0.0/16, 192.0.2.7, \"2001:db8:1::/48\", 172.16.0.0/12]\n"
	"  v4all:\n"
	"    keys: [" FAKE("h") "]\n"
	"    roles: [r]\n"
	"    from: [0.0.0.0/0]\n"
	"  nearmiss:\n"
	"    keys: [\"SHA256:EQfvUFBDW63txndxQc0MqL3luin1AfI53xYGg3X13iV\"]\n"
	"    roles: [r]\n"
	"  v6only:\n"
	"    keys: [" FAKE("i") "]\n"
	"    roles: [r]\n"
	"    from: [\"::1\"]\n";

static struct policy *P;

static int
group_setup(void **state)
{
	P = unit_policy(policy_text);
	return P == NULL ? -1 : 0;
}

static int
group_teardown(void **state)
{
	policy_free(P);
	P = NULL;
	return 0;
}

static const struct policy_identity *
by_b64(const char *b64)
{
	const struct policy_identity	*id;
	unsigned char			*blob;
	size_t				 len;

	blob = b64_decode(b64, &len);
	id = policy_identity_by_key(P, blob, len);
	free(blob);
	return id;
}

static void
test_identity_by_key(void **state)
{
	const struct policy_identity	*id;
	unsigned char			*blob, *copy;
	size_t				 len;

	/* A full key entry. */
	id = by_b64(ED_B64);
	assert_non_null(id);
	assert_string_equal(policy_identity_name(id), "alice");
	assert_ptr_equal(id, policy_identity_find(P, "alice"));
	/* A SHA256: entry. */
	id = by_b64(RSA_B64);
	assert_non_null(id);
	assert_string_equal(policy_identity_name(id), "bob");
	/* A full key listed after a fingerprint of another key. */
	id = by_b64(ECDSA_B64);
	assert_non_null(id);
	assert_string_equal(policy_identity_name(id), "carol");
	/* Another key of the same type is nobody's, even though nearmiss
	 * lists its fingerprint with the last character changed. */
	assert_null(by_b64(ED2_B64));

	/* A prefix or an extension of a known blob is not that key. */
	blob = b64_decode(ED_B64, &len);
	assert_null(policy_identity_by_key(P, blob, len - 1));
	copy = malloc(len + 1);
	assert_non_null(copy);
	memcpy(copy, blob, len);
	copy[len] = 0;
	assert_null(policy_identity_by_key(P, copy, len + 1));
	/* One flipped bit in the key material. */
	memcpy(copy, blob, len);
	copy[len - 1] ^= 0x01;
	assert_null(policy_identity_by_key(P, copy, len));
	free(copy);
	free(blob);
	/* Same for a key known by fingerprint only. */
	blob = b64_decode(RSA_B64, &len);
	blob[len - 1] ^= 0x80;
	assert_null(policy_identity_by_key(P, blob, len));
	assert_null(policy_identity_by_key(P, blob, len - 1));
	free(blob);
	assert_null(policy_identity_by_key(P, (const unsigned char *)"", 0));
}

static const struct policy_identity *
ident(const char *name)
{
	const struct policy_identity	*id;

	id = policy_identity_find(P, name);
	assert_non_null(id);
	return id;
}

/* Usable at NOW from ADDR?  WANT_WHY, if set, must be the reason. */
static void
expect_usable(const char *name, time_t now, const char *addr, bool usable,
    const char *want_why, const char *file, int line)
{
	char	why[256];
	int	r;

	memcpy(why, "untouched", sizeof("untouched"));
	r = policy_identity_usable(ident(name), now, addr, why, sizeof(why));
	if ((r == 0) != usable || (r != 0 && r != -1) ||
	    (want_why != NULL && strcmp(why, want_why) != 0)) {
		print_error("%s at %lld from %s: expected %s%s%s, got %d (%s)\n",
		    name, (long long)now, addr != NULL ? addr : "NULL",
		    usable ? "usable" : "refused", want_why ? ": " : "",
		    want_why ? want_why : "", r, why);
		_fail(file, line);
	}
}
#define USABLE(name, now, addr) \
	expect_usable(name, now, addr, true, NULL, __FILE__, __LINE__)
#define REFUSED(name, now, addr, why) \
	expect_usable(name, now, addr, false, why, __FILE__, __LINE__)

/* date -u -d ... +%s */
#define T_2030_06_15_000000	((time_t)1907712000)
#define T_2030_06_15_120000	((time_t)1907755200)
#define T_2030_06_16_000000	((time_t)1907798400)
#define T_2026_01_01_000000	((time_t)1767225600)
#define T_2100_01_01_000000	((time_t)4102444800)

static void
test_usable_disabled(void **state)
{
	assert_true(policy_identity_disabled(ident("off")));
	/* Disabled is reported before its (long past) expiry. */
	REFUSED("off", T_2026_01_01_000000, "10.0.0.1",
	    "identity off is disabled");
	REFUSED("off", 1, NULL, "identity off is disabled");
	assert_false(policy_identity_disabled(ident("instant")));
	USABLE("alice", T_2026_01_01_000000, "10.0.0.1");
	USABLE("alice", T_2100_01_01_000000, NULL);
}

static void
test_usable_expires_date(void **state)
{
	/* "2030-06-15": through the end of that day, UTC. */
	assert_int_equal(policy_identity_expires(ident("day")),
	    T_2030_06_16_000000);
	USABLE("day", T_2026_01_01_000000, NULL);
	USABLE("day", T_2030_06_15_000000, NULL);
	USABLE("day", T_2030_06_15_120000, NULL);
	USABLE("day", T_2030_06_16_000000 - 1, NULL);
	REFUSED("day", T_2030_06_16_000000, NULL,
	    "identity day expired at 2030-06-16 00:00:00 UTC");
	REFUSED("day", T_2100_01_01_000000, "10.0.0.1",
	    "identity day expired at 2030-06-16 00:00:00 UTC");
	assert_int_equal(policy_identity_expires(ident("alice")), 0);
}

static void
test_usable_expires_instant(void **state)
{
	assert_int_equal(policy_identity_expires(ident("instant")),
	    T_2030_06_15_120000);
	USABLE("instant", T_2030_06_15_000000, NULL);
	USABLE("instant", T_2030_06_15_120000 - 1, NULL);
	REFUSED("instant", T_2030_06_15_120000, NULL,
	    "identity instant expired at 2030-06-15 12:00:00 UTC");
	REFUSED("instant", T_2030_06_16_000000, NULL,
	    "identity instant expired at 2030-06-15 12:00:00 UTC");
}

static void
test_usable_from(void **state)
{
	static const char *const good[] = {
		"10.1.0.0", "10.1.2.3", "10.1.255.255", "192.0.2.7",
		"172.16.0.0", "172.20.1.1", "172.31.255.255",
		"2001:db8:1::", "2001:db8:1::5", "2001:db8:1:ffff:ffff:ffff:ffff:ffff",
		"2001:DB8:1::5",
		/* IPv4 clients on a dual-stack socket */
		"::ffff:10.1.2.3", "::ffff:192.0.2.7", "::ffff:172.16.0.1",
	};
	static const char *const bad[] = {
		"10.2.0.1", "10.0.255.255", "11.1.2.3", "192.0.2.8",
		"192.0.2.6", "172.32.0.0", "172.15.255.255",
		"2001:db8:2::1", "2001:db8::1", "2001:db9:1::1", "::1",
		"::ffff:10.2.0.1", "::ffff:192.0.2.8",
		/* IPv4-compatible (not mapped) and NAT64 forms are not IPv4 */
		"::10.1.2.3", "64:ff9b::10.1.2.3",
		"", "not-an-address", "10.1.2.3/32", "10.1.2", " 10.1.2.3",
		"10.1.2.3 ", "fe80::1%lo",
	};
	char	want[128];
	size_t	i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		USABLE("nets", T_2026_01_01_000000, good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(want, sizeof(want), "identity nets may not connect "
		    "from %s", bad[i]);
		REFUSED("nets", T_2026_01_01_000000, bad[i], want);
	}
	/* from: set, address unknown: refused. */
	REFUSED("nets", T_2026_01_01_000000, NULL,
	    "identity nets may not connect from an unknown address");
	REFUSED("v4all", T_2026_01_01_000000, NULL,
	    "identity v4all may not connect from an unknown address");

	/* 0.0.0.0/0 is every IPv4 address, mapped or not, and no IPv6 one. */
	USABLE("v4all", T_2026_01_01_000000, "0.0.0.0");
	USABLE("v4all", T_2026_01_01_000000, "255.255.255.255");
	USABLE("v4all", T_2026_01_01_000000, "::ffff:203.0.113.9");
	REFUSED("v4all", T_2026_01_01_000000, "2001:db8::1",
	    "identity v4all may not connect from 2001:db8::1");
	/* A bare address is a /32 or /128. */
	USABLE("v6only", T_2026_01_01_000000, "::1");
	USABLE("v6only", T_2026_01_01_000000, "0:0:0:0:0:0:0:1");
	REFUSED("v6only", T_2026_01_01_000000, "::2",
	    "identity v6only may not connect from ::2");
	REFUSED("v6only", T_2026_01_01_000000, "127.0.0.1",
	    "identity v6only may not connect from 127.0.0.1");
	/* Without from:, any address or none. */
	USABLE("alice", T_2026_01_01_000000, "203.0.113.9");
	USABLE("alice", T_2026_01_01_000000, "2001:db8::1");
	USABLE("alice", T_2026_01_01_000000, NULL);
}

/* The reason is cut to fit, never written past WHYLEN. */
static void
test_usable_short_buffer(void **state)
{
	char	why[16];

	memset(why, 'Z', sizeof(why));
	assert_int_equal(policy_identity_usable(ident("off"), 0, NULL, why, 8),
	    -1);
	assert_string_equal(why, "identit");
	assert_int_equal(why[8], 'Z');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fingerprints),
		cmocka_unit_test(test_key_parse_ok),
		cmocka_unit_test(test_key_parse_errors),
		cmocka_unit_test(test_key_parse_structure),
		cmocka_unit_test(test_key_parse_base64),
		cmocka_unit_test(test_many_identities),
		cmocka_unit_test(test_identity_by_key),
		cmocka_unit_test(test_usable_disabled),
		cmocka_unit_test(test_usable_expires_date),
		cmocka_unit_test(test_usable_expires_instant),
		cmocka_unit_test(test_usable_from),
		cmocka_unit_test(test_usable_short_buffer),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
