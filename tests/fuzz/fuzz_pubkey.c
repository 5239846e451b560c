/*
 * fuzz_pubkey.c — the public key parser (policy/key.c) on any line:
 * policy_key_parse() as the policy's `keys:` entries, `muxgate keys`
 * (sshd's AuthorizedKeysCommand, "%t %k") and muxgate serve feed it,
 * then the fingerprint.  A line it accepts must hold the canonical
 * base64 of the blob it returns, which starts with the line's key type,
 * and the fingerprint must be the one computed here apart from key.c
 * (libsodium's SHA-256 and base64).  A `keys:` entry "SHA256:..." goes
 * to valid_fp() instead, as schema.c does.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy-int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "SHA256:" and the unpadded base64 of the blob's SHA-256, by libsodium. */
static void
expected_fp(const unsigned char *blob, size_t len, char *out, size_t outlen)
{
	unsigned char	hash[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(hash, blob, len);
	memcpy(out, "SHA256:", 7);
	sodium_bin2base64(out + 7, outlen - 7, hash, sizeof(hash),
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

static void
check_fp(const unsigned char *blob, size_t len)
{
	char	fp[POLICY_FP_LEN], want[POLICY_FP_LEN + 8];

	policy_key_fingerprint(blob, len, fp);
	expected_fp(blob, len, want, sizeof(want));
	if (strcmp(fp, want) != 0 || strlen(fp) != POLICY_FP_LEN - 1 ||
	    !valid_fp(fp))
		abort();
}

/* What was accepted is exactly "TYPE" " "+ canonical-base64 [" " ...]. */
static void
check_accepted(const char *line, const unsigned char *blob, size_t len)
{
	const char	*sp, *b64;
	size_t		 typelen, b64len, enclen;
	uint32_t	 n;
	char		*enc;

	sp = strchr(line, ' ');
	typelen = (size_t)(sp - line);
	if (len < 4 + typelen)
		abort();
	n = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 |
	    (uint32_t)blob[2] << 8 | blob[3];
	if (n != typelen || memcmp(blob + 4, line, typelen) != 0)
		abort();
	for (b64 = sp; *b64 == ' '; b64++)
		;
	b64len = strcspn(b64, " ");
	enclen = sodium_base64_ENCODED_LEN(len,
	    sodium_base64_VARIANT_ORIGINAL);
	enc = malloc(enclen);
	if (enc == NULL)
		abort();
	sodium_bin2base64(enc, enclen, blob, len,
	    sodium_base64_VARIANT_ORIGINAL);
	if (strlen(enc) != b64len || memcmp(enc, b64, b64len) != 0)
		abort();
	free(enc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char	*blob = (unsigned char *)1;
	const char	*errstr = NULL;
	size_t		 len = 1;
	char		*line;

	if (sodium_init() < 0)
		abort();
	if ((line = malloc(size + 1)) == NULL)
		abort();
	memcpy(line, data, size);
	line[size] = '\0';
	if (policy_key_parse(line, &blob, &len, &errstr) == 0) {
		if (blob == NULL || len == 0)
			abort();
		check_accepted(line, blob, len);
		check_fp(blob, len);
		free(blob);
	} else if (blob != NULL || len != 0 || errstr == NULL ||
	    errstr[0] == '\0')
		abort();
	/* A fingerprint entry must look like what fingerprinting makes. */
	if (valid_fp(line) && (strncmp(line, "SHA256:", 7) != 0 ||
	    strlen(line) != POLICY_FP_LEN - 1))
		abort();
	/* Any bytes at all may be a key blob (sshd hands us its bytes). */
	check_fp(data, size);
	free(line);
	return 0;
}
