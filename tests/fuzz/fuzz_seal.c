/*
 * fuzz_seal.c — a sealed recording (gateway/seal.c) read with a fixed
 * auditor key: any bytes at all as the file, and their first line to the
 * key-less peek.  The reader must not crash, allocate without bound or
 * hang, and may return plaintext only once a frame authenticated.
 *
 * Built with -DFUZZ_SEAL_CORPUS instead, it is a program that writes the
 * seed corpus (valid files sealed to the fixed key) into a directory:
 *     cc -std=c11 -D_GNU_SOURCE -DFUZZ_SEAL_CORPUS -I. -o /tmp/seal-corpus \
 *         tests/fuzz/fuzz_seal.c \
 *         gateway/seal.c gateway/str.c gateway/xmalloc.c util/fdio.c \
 *         $(pkg-config --cflags --libs libsodium json-c)
 *     /tmp/seal-corpus tests/fuzz/corpus/seal
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/seal.h"
#include "gateway/str.h"
#include "tests/fuzz/testkey.h"

#ifndef FUZZ_SEAL_CORPUS

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
read_frames(struct seal_reader *r)
{
	const unsigned char	*p;
	enum seal_status	 st;
	size_t			 n, i, total = 0;
	unsigned		 sum = 0;
	char			 err[256];

	while ((st = seal_reader_next(r, &p, &n, err, sizeof(err))) ==
	    SEAL_OK) {
		if (n > SEAL_FRAME_MAX || (n > 0 && p == NULL))
			abort();
		/* Touch every byte, for the sanitizers. */
		for (i = 0; i < n; i++)
			sum += p[i];
		total += n;
	}
	if (st != SEAL_COMPLETE && st != SEAL_TRUNCATED &&
	    st != SEAL_MODIFIED && st != SEAL_ERROR)
		abort();
	if (total > 0 && !seal_reader_verified(r))
		abort();
	/* The end is the end: the same outcome again. */
	if (seal_reader_next(r, &p, &n, err, sizeof(err)) != st || n != 0)
		abort();
	(void)sum;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seal_reader	*r = NULL;
	enum seal_status	 st;
	enum seal_kind		 kind;
	const uint8_t		*nl;
	const char		*cast;
	size_t			 len;
	char			 err[256];
	FILE			*fp;

	err[0] = '\0';
	nl = memchr(data, '\n', size);
	kind = seal_kind_of((const char *)data,
	    nl != NULL ? (size_t)(nl - data) + 1 : size);
	if (size == 0)
		return 0;
	if ((fp = fmemopen((void *)(uintptr_t)data, size, "r")) == NULL)
		abort();
	st = seal_reader_open(fp, test_key(), &r, err, sizeof(err));
	if (st == SEAL_OK) {
		/* What the reader opens, the peek calls sealed. */
		if (kind != SEAL_KIND_SEALED || r == NULL)
			abort();
		cast = seal_reader_cast(r, &len);
		if (strlen(cast) != len || cast[0] != '{')
			abort();
		read_frames(r);
		seal_reader_free(r);
	} else if (r != NULL || err[0] == '\0')
		abort();
	fclose(fp);
	return 0;
}

#else /* FUZZ_SEAL_CORPUS */

/* A second recipient, whose secret key nobody has. */
static const char OTHER_PUB[] =
    "muxgate-auditor-pub WNvoU/k9b+o/um1BlpvN1RcvBth52SYfyWUSYBgXtEE=\n";

#define CAST "{\"version\":2,\"width\":80,\"height\":24,\"timestamp\":" \
	"1795465478,\"env\":{\"TERM\":\"xterm\"},\"title\":" \
	"\"deploy@bastion:build\",\"muxgate\":{\"attach_id\":" \
	"\"138dea378966e5bf\",\"identity\":\"alice\",\"key\":null," \
	"\"host\":\"bastion\",\"tmux_user\":\"deploy\",\"session\":" \
	"\"build\",\"mode\":\"attach\",\"client\":null}}"

static void
write_seed(const char *dir, const char *name, size_t nkeys, bool final)
{
	static const char *const events[] = {
		"[0.010769, \"o\", \"$ \"]\n",
		"[1.028878, \"i\", \"e\"]\n[1.030221, \"o\", \"e\"]\n",
		"[2.825772, \"r\", \"44x3\"]\n",
	};
	struct seal_pub		 keys[2];
	struct seal_writer	*w;
	struct buf		 out = { NULL, 0, 0 };
	char			 path[4096], err[256];
	size_t			 i;
	FILE			*fp;

	seal_secret_pub(test_key(), &keys[0]);
	if (seal_pub_parse(OTHER_PUB, sizeof(OTHER_PUB) - 1, &keys[1], err,
	    sizeof(err)) == -1 ||
	    (w = seal_writer_new(CAST, strlen(CAST), keys, nkeys, &out, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "seal-corpus: %s\n", err);
		exit(1);
	}
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		if (seal_writer_frame(w, events[i], strlen(events[i]), false,
		    &out) == -1)
			exit(1);
	if (final && seal_writer_frame(w, "", 0, true, &out) == -1)
		exit(1);
	seal_writer_free(w);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "w")) == NULL ||
	    fwrite(out.data, 1, out.len, fp) != out.len || fclose(fp) != 0) {
		perror(path);
		exit(1);
	}
	buf_free(&out);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: seal-corpus DIR\n");
		return 2;
	}
	write_seed(argv[1], "complete-1", 1, true);
	write_seed(argv[1], "complete-2", 2, true);
	write_seed(argv[1], "unclosed-2", 2, false);
	return 0;
}

#endif /* FUZZ_SEAL_CORPUS */
