/*
 * fuzz_state.c — an entry file of the state's file backend
 * (gateway/state-file.c) read from any bytes, with a fixed MAC key and
 * the name the seeds carry.  Nothing may crash; what is accepted must
 * be exactly what the writer writes for what was read (so a file is
 * read one way only); and the input taken as a value must come back
 * whole through the writer and the reader.
 *
 * Built with -DFUZZ_STATE_CORPUS instead, it is a program that writes
 * the seed corpus (valid entries under the fixed key) into a directory:
 *     cc -std=c11 -D_GNU_SOURCE -DFUZZ_STATE_CORPUS -I. -o /tmp/state-corpus \
 *         tests/fuzz/fuzz_state.c gateway/state.c gateway/state-file.c \
 *         gateway/dirs.c gateway/str.c gateway/xmalloc.c gateway/log.c \
 *         gateway/output.c util/num.c util/utf8.c util/fdio.c \
 *         $(pkg-config --cflags --libs libsodium json-c)
 *     /tmp/state-corpus tests/fuzz/corpus/state
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/state-int.h"
#include "gateway/str.h"

/* The fuzzer's own MAC key: a test key, never used for anything else. */
static const unsigned char KEY[STATE_MAC_KEY_BYTES] = {
	0x6d, 0x75, 0x78, 0x67, 0x61, 0x74, 0x65, 0x2d,
	0x66, 0x75, 0x7a, 0x7a, 0x2d, 0x73, 0x74, 0x61,
	0x74, 0x65, 0x2d, 0x6b, 0x65, 0x79, 0x2d, 0x30,
	0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38,
};
static const char NAME[] = "grant/7f3a9c2e1b4d5a60";

#ifndef FUZZ_STATE_CORPUS

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What was accepted is what the writer makes of it, byte for byte. */
static void
canonical(const uint8_t *data, size_t size, const struct state_entry *e)
{
	struct buf	out = { NULL, 0, 0 };

	if (e->len > STATE_VALUE_MAX || e->version == 0 || e->expires < 0 ||
	    e->value == NULL || e->value[e->len] != '\0')
		abort();
	state_file_format(&out, KEY, NAME, e->version, e->expires, e->value,
	    e->len);
	if (out.len != size || memcmp(out.data, data, size) != 0)
		abort();
	buf_free(&out);
}

/* DATA as a value: written and read back unchanged. */
static void
round_trip(const uint8_t *data, size_t size)
{
	struct state_entry	 e;
	struct buf		 out = { NULL, 0, 0 };
	char			 err[256];

	if (size > STATE_VALUE_MAX)
		return;
	state_file_format(&out, KEY, NAME, size + 1, (long long)size, data,
	    size);
	if (state_file_parse((unsigned char *)out.data, out.len, KEY, NAME,
	    &e, err, sizeof(err)) != 0 || e.len != size ||
	    e.version != size + 1 || e.expires != (long long)size ||
	    (size > 0 && memcmp(e.value, data, size) != 0))
		abort();
	state_entry_free(&e);
	/* The same bytes under another name are another entry's: refused. */
	if (state_file_parse((unsigned char *)out.data, out.len, KEY,
	    "grant/other", &e, err, sizeof(err)) != -1 || e.value != NULL)
		abort();
	buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state_entry	e;
	char			err[256];

	err[0] = '\0';
	if (state_file_parse(data, size, KEY, NAME, &e, err,
	    sizeof(err)) == 0) {
		canonical(data, size, &e);
		state_entry_free(&e);
	} else if (err[0] == '\0' || e.value != NULL || e.len != 0)
		abort();
	round_trip(data, size);
	return 0;
}

#else /* FUZZ_STATE_CORPUS */

static void
write_seed(const char *dir, const char *file, uint64_t version,
    long long expires, const void *value, size_t len)
{
	struct buf	 out = { NULL, 0, 0 };
	char		 path[4096];
	FILE		*fp;

	state_file_format(&out, KEY, NAME, version, expires, value, len);
	snprintf(path, sizeof(path), "%s/%s", dir, file);
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
	static const char grant[] = "{\"identity\":\"alice\",\"host\":"
	    "\"bastion\",\"user\":\"deploy\",\"state\":\"pending\"}";
	static const unsigned char bytes[] = { 0, '\n', 0xff, ' ', 'm', 'a',
	    'c', ' ', '\n', 0x80 };

	if (argc != 2) {
		fprintf(stderr, "usage: state-corpus DIR\n");
		return 2;
	}
	write_seed(argv[1], "grant", 7, 1795465478, grant, sizeof(grant) - 1);
	write_seed(argv[1], "empty", 1, 0, "", 0);
	write_seed(argv[1], "binary", 9223372036854775807LL, 0, bytes,
	    sizeof(bytes));
	return 0;
}

#endif /* FUZZ_STATE_CORPUS */
