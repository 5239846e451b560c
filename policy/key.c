/* key.c — OpenSSH public keys: parsing, SHA256 fingerprints, lookup. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy-int.h"
#include "util/b64.h"

#define KEY_MAX_B64 16384

static void
key_init(void)
{
	/* Idempotent; needed before any libsodium call. */
	if (sodium_init() < 0)
		abort();
}

/*
 * Base64 by hand, both ways (decoding in util/b64.c): libsodium's coder
 * is constant-time, which public keys do not need, and in a policy of
 * 20,000 keys it was more of the time than hashing them.
 */
static const char b64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void
policy_key_fingerprint(const unsigned char *blob, size_t bloblen,
    char fp[POLICY_FP_LEN])
{
	unsigned char	 hash[crypto_hash_sha256_BYTES];
	uint32_t	 v;
	size_t		 i;
	char		*o;

	key_init();
	crypto_hash_sha256(hash, blob, bloblen);
	/* "SHA256:", then the 32 bytes as 43 digits, without padding. */
	memcpy(fp, "SHA256:", 7);
	o = fp + 7;
	for (i = 0; i + 3 <= sizeof(hash); i += 3) {
		v = (uint32_t)hash[i] << 16 | (uint32_t)hash[i + 1] << 8 |
		    hash[i + 2];
		*o++ = b64_chars[v >> 18];
		*o++ = b64_chars[v >> 12 & 0x3f];
		*o++ = b64_chars[v >> 6 & 0x3f];
		*o++ = b64_chars[v & 0x3f];
	}
	v = (uint32_t)hash[30] << 16 | (uint32_t)hash[31] << 8;
	*o++ = b64_chars[v >> 18];
	*o++ = b64_chars[v >> 12 & 0x3f];
	*o++ = b64_chars[v >> 6 & 0x3f];
	*o = '\0';
}

/* The blob starts with a length-prefixed copy of the key type. */
static int
blob_type_is(const unsigned char *blob, size_t len, const char *type,
    size_t typelen)
{
	uint32_t	n;

	if (len < 4)
		return 0;
	n = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 |
	    (uint32_t)blob[2] << 8 | blob[3];
	return n == typelen && len - 4 >= n && memcmp(blob + 4, type, n) == 0;
}

/*
 * The plain key types are length-prefixed strings and nothing else (RFC
 * 4253 6.6, RFC 5656 3.1, OpenSSH's PROTOCOL.u2f): the type, then so
 * many more, which fill the blob exactly.  A truncated or padded copy is
 * refused here rather than never matching; other types (certificates,
 * whose fields are not all strings) are known by their type alone.
 */
static const struct plain_type {
	const char	*type;
	unsigned	 fields;	/* after the type */
	uint32_t	 keylen;	/* of the first, or 0: any */
} plain_types[] = {
	{ "ssh-ed25519",			1, 32 },
	{ "sk-ssh-ed25519@openssh.com",		2, 32 },
	{ "ssh-rsa",				2, 0 },	/* e, n */
	{ "ssh-dss",				4, 0 },	/* p, q, g, y */
	{ "ecdsa-sha2-nistp256",		2, 0 },	/* curve, point */
	{ "ecdsa-sha2-nistp384",		2, 0 },
	{ "ecdsa-sha2-nistp521",		2, 0 },
	{ "sk-ecdsa-sha2-nistp256@openssh.com",	3, 0 },	/* + application */
};

static int
blob_well_formed(const unsigned char *blob, size_t len, const char *type,
    size_t typelen)
{
	const struct plain_type	*t = NULL;
	size_t			 i, off;
	uint32_t		 n;

	for (i = 0; i < sizeof(plain_types) / sizeof(plain_types[0]); i++)
		if (strlen(plain_types[i].type) == typelen &&
		    memcmp(plain_types[i].type, type, typelen) == 0)
			t = &plain_types[i];
	if (t == NULL)
		return 1;
	off = 4 + typelen;	/* blob_type_is() checked the type */
	for (i = 0; i < t->fields; i++) {
		if (len - off < 4)
			return 0;
		n = (uint32_t)blob[off] << 24 | (uint32_t)blob[off + 1] << 16 |
		    (uint32_t)blob[off + 2] << 8 | blob[off + 3];
		off += 4;
		if (len - off < n || (i == 0 && t->keylen != 0 &&
		    n != t->keylen))
			return 0;
		off += n;
	}
	return off == len;
}

int
policy_key_parse(const char *line, unsigned char **blobp, size_t *lenp,
    const char **errstr)
{
	const char	*sp, *b64, *end;
	size_t		 typelen, b64len, maxlen, len;
	unsigned char	*blob = NULL;

	*blobp = NULL;
	*lenp = 0;
	if ((sp = strchr(line, ' ')) == NULL) {
		*errstr = "expected \"TYPE BASE64 [COMMENT]\" or \"SHA256:...\"";
		return -1;
	}
	typelen = (size_t)(sp - line);
	if (typelen == 0 || typelen > 64) {
		*errstr = "bad key type";
		return -1;
	}
	b64 = sp + 1;
	while (*b64 == ' ')
		b64++;
	for (end = b64; *end != '\0' && *end != ' '; end++)
		;
	b64len = (size_t)(end - b64);
	if (b64len == 0 || b64len > KEY_MAX_B64) {
		*errstr = "missing or oversized key data";
		return -1;
	}
	maxlen = B64_DECODED_MAX(b64len);
	blob = malloc(maxlen);
	if (blob == NULL)
		abort();
	if (b64_decode(b64, b64len, blob, maxlen, &len, 0) == -1) {
		free(blob);
		*errstr = "key data is not valid base64";
		return -1;
	}
	if (!blob_type_is(blob, len, line, typelen)) {
		free(blob);
		*errstr = "key data does not match its key type";
		return -1;
	}
	if (!blob_well_formed(blob, len, line, typelen)) {
		free(blob);
		*errstr = "key data is truncated or malformed";
		return -1;
	}
	*blobp = blob;
	*lenp = len;
	return 0;
}

/*
 * By fingerprint through the index, for both kinds of entry.  A full key
 * still decides by its bytes: two keys with one fingerprint would be a
 * SHA-256 collision, and then the presented key must be the one listed.
 * Equal fingerprints are neighbours in the index; in a valid policy they
 * all belong to one identity.
 */
const struct policy_identity *
policy_identity_by_key(const struct policy *p, const unsigned char *blob,
    size_t bloblen)
{
	char			 fp[POLICY_FP_LEN];
	const struct key_ref	*r;
	const struct key_entry	*k;
	size_t			 n;

	policy_key_fingerprint(blob, bloblen, fp);
	for (r = index_key(p, fp, &n); n > 0; r++, n--) {
		k = r->key;
		if (k->kind == KEY_FINGERPRINT)
			return r->id;
		if (k->bloblen == bloblen &&
		    sodium_memcmp(k->blob, blob, bloblen) == 0)
			return r->id;
	}
	return NULL;
}

size_t
policy_identity_key_count(const struct policy_identity *id)
{
	return id->nkeys;
}

const char *
policy_identity_key_fp(const struct policy_identity *id, size_t i)
{
	return i < id->nkeys ? id->keys[i].fp : NULL;
}

const unsigned char *
policy_identity_key_blob(const struct policy_identity *id, size_t i,
    size_t *len)
{
	*len = 0;
	if (i >= id->nkeys || id->keys[i].kind != KEY_BLOB)
		return NULL;
	*len = id->keys[i].bloblen;
	return id->keys[i].blob;
}
