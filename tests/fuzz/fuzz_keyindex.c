/*
 * fuzz_keyindex.c — the compiled key index of `muxgate keys`
 * (gateway/keyindex.c) read from any bytes: opened, looked up with keys
 * taken from the input itself and with fixed ones, and every answer
 * turned into an authorized_keys line.  Nothing may crash, and every
 * line must stay one line with its options intact.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/keyindex.h"
#include "gateway/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An ed25519 key blob: type, then 32 bytes. */
static const unsigned char blob[] = {
	0, 0, 0, 11, 's', 's', 'h', '-', 'e', 'd', '2', '5', '5', '1', '9',
	0, 0, 0, 32, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
};

static void
answer(const struct keyindex *x, const unsigned char *sha)
{
	struct keys_entry	 e;
	struct buf		 out = { NULL, 0, 0 };
	char			 err[256];

	if (keyindex_find(x, sha, &e) != 1)
		return;
	if (keys_line(&out, "/usr/bin/muxgate", "/etc/muxgate/gateway.yaml",
	    &e, blob, sizeof(blob), err, sizeof(err)) == 0 &&
	    (strchr(out.data, '\n') != out.data + out.len - 1 ||
	    strstr(out.data, "\",command=") != NULL))
		abort();
	buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct keyindex	*x;
	unsigned char	 sha[KEYINDEX_KEY_BYTES];
	unsigned char	 hash[KEYINDEX_HASH_BYTES] = { 0 };
	char		 err[256];
	size_t		 off;

	if ((x = keyindex_open(data, size, err, sizeof(err))) == NULL)
		return 0;
	(void)keyindex_fresh(x, hash);
	(void)keyindex_account(x);
	memset(sha, 0, sizeof(sha));
	answer(x, sha);
	memset(sha, 0xff, sizeof(sha));
	answer(x, sha);
	/* Every 32 bytes of the input as a key: hits whatever it holds. */
	for (off = 0; off + sizeof(sha) <= size; off += 4)
		answer(x, data + off);
	keyindex_free(x);
	return 0;
}
