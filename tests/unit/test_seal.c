/*
 * test_seal.c — sealed recordings (docs/recording-format.md): key files,
 * round trips, and every change the format says a reader detects.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "tests/unit/unit.h"
#include "gateway/seal.h"
#include "gateway/str.h"
#include "gateway/xmalloc.h"

#define CAST "{\"version\":2,\"width\":80,\"height\":24,\"timestamp\":" \
	"1795465478,\"env\":{\"TERM\":\"xterm\"},\"title\":" \
	"\"deploy@bastion:build\",\"muxgate\":{\"attach_id\":" \
	"\"138dea378966e5bf\",\"identity\":\"alice\",\"key\":null," \
	"\"host\":\"bastion\",\"tmux_user\":\"deploy\",\"session\":" \
	"\"build\",\"mode\":\"attach\",\"client\":null}}"

static const char *const EVENTS[] = {
	"[0.010769, \"o\", \"$ \"]\n",
	"[1.028878, \"i\", \"e\"]\n[1.030221, \"o\", \"e\"]\n",
	"[4.181260, \"o\", \"[terminated]\\r\\n\"]\n",
};
#define NEVENTS	(sizeof(EVENTS) / sizeof(EVENTS[0]))

static char			 tmpdir[] = "/tmp/mgt-unit-seal-XXXXXX";
static struct seal_pub		 pub[3];
static struct seal_secret	*sec[3];
static char			 fps[3][SEAL_FP_LEN];

/* ---- sealing and reading in memory ---- */

static char *
path_in(const char *sub)
{
	char	*p;

	xasprintf(&p, "%s/%s", tmpdir, sub);
	return p;
}

static int
setup(void **state)
{
	char	 err[256], *d, *f;
	int	 i;

	if (mkdtemp(tmpdir) == NULL)
		return -1;
	for (i = 0; i < 3; i++) {
		xasprintf(&d, "%s/k%d", tmpdir, i);
		if (seal_keygen(d, fps[i], err, sizeof(err)) == -1) {
			print_error("keygen: %s\n", err);
			return -1;
		}
		xasprintf(&f, "%s/%s", d, SEAL_PUB_FILE);
		if (seal_pub_load(f, &pub[i], err, sizeof(err)) == -1)
			return -1;
		free(f);
		xasprintf(&f, "%s/%s", d, SEAL_KEY_FILE);
		if ((sec[i] = seal_secret_load(f, err, sizeof(err))) == NULL)
			return -1;
		free(f);
		free(d);
	}
	return 0;
}

static int
teardown(void **state)
{
	int	i;

	for (i = 0; i < 3; i++)
		seal_secret_free(sec[i]);
	return unit_rmtree(tmpdir);
}

/* A sealed file of EVENTS to the first N keys, closed if FINAL. */
static void
seal_file(struct buf *out, size_t n, bool final)
{
	struct seal_writer	*w;
	char			 err[256];
	size_t			 i;

	w = seal_writer_new(CAST, strlen(CAST), pub, n, out, err, sizeof(err));
	assert_non_null(w);
	for (i = 0; i < NEVENTS; i++)
		assert_int_equal(seal_writer_frame(w, EVENTS[i],
		    strlen(EVENTS[i]), false, out), 0);
	if (final)
		assert_int_equal(seal_writer_frame(w, NULL, 0, true, out), 0);
	seal_writer_free(w);
}

static char *
all_events(void)
{
	struct buf	b = { NULL, 0, 0 };
	size_t		i;

	for (i = 0; i < NEVENTS; i++)
		buf_adds(&b, EVENTS[i]);
	return buf_take(&b);
}

static FILE *
mem_file(const void *p, size_t len)
{
	FILE	*fp;

	/* fmemopen() of nothing is not portable. */
	fp = len == 0 ? fopen("/dev/null", "r") :
	    fmemopen((void *)(uintptr_t)p, len, "r");
	assert_non_null(fp);
	return fp;
}

struct result {
	enum seal_status	 st;
	struct buf		 plain;
	size_t			 frames;
	bool			 verified;
	char			*cast;
	char			 err[256];
};

/* Read P (LEN bytes) with KEY to its last status. */
static void
read_all(const void *p, size_t len, const struct seal_secret *key,
    struct result *res)
{
	struct seal_reader	*r;
	const unsigned char	*plain;
	size_t			 plen;
	FILE			*fp = mem_file(p, len);

	memset(res, 0, sizeof(*res));
	res->st = seal_reader_open(fp, key, &r, res->err, sizeof(res->err));
	if (res->st == SEAL_OK) {
		res->cast = xstrdup(seal_reader_cast(r, NULL));
		while ((res->st = seal_reader_next(r, &plain, &plen, res->err,
		    sizeof(res->err))) == SEAL_OK) {
			buf_add(&res->plain, plain, plen);
			res->frames++;
		}
		res->verified = seal_reader_verified(r);
		seal_reader_free(r);
	} else
		assert_null(r);
	fclose(fp);
}

static void
result_free(struct result *res)
{
	buf_free(&res->plain);
	free(res->cast);
}

/* Is what was read a prefix of the events? */
static void
assert_prefix(const struct result *res)
{
	char	*all = all_events();

	assert_true(res->plain.len <= strlen(all));
	if (res->plain.len > 0)
		assert_memory_equal(res->plain.data, all, res->plain.len);
	free(all);
}

/* Offsets of the frames of a sealed file in B; returns how many. */
static size_t
frame_offsets(const struct buf *b, size_t *off, size_t max)
{
	const unsigned char	*p = (const unsigned char *)b->data;
	size_t			 i = 0, n = 0;

	while (i < b->len && p[i] != '\n')
		i++;
	for (i++; i + 4 <= b->len && n < max; n++) {
		off[n] = i;
		i += 4 + ((size_t)p[i] << 24 | (size_t)p[i + 1] << 16 |
		    (size_t)p[i + 2] << 8 | p[i + 3]);
	}
	return n;
}

static void
set_be32(struct buf *b, size_t off, uint32_t v)
{
	b->data[off] = (char)(v >> 24);
	b->data[off + 1] = (char)(v >> 16);
	b->data[off + 2] = (char)(v >> 8);
	b->data[off + 3] = (char)v;
}

/* ---- round trips ---- */

static void
test_roundtrip_one_recipient(void **state)
{
	struct buf	 b = { NULL, 0, 0 };
	struct result	 res;
	char		*all = all_events();

	seal_file(&b, 1, true);
	read_all(b.data, b.len, sec[0], &res);
	assert_int_equal(res.st, SEAL_COMPLETE);
	assert_int_equal(res.frames, NEVENTS + 1);
	assert_true(res.verified);
	assert_int_equal(res.plain.len, strlen(all));
	assert_memory_equal(res.plain.data, all, strlen(all));
	assert_string_equal(res.cast, CAST);
	result_free(&res);
	free(all);
	buf_free(&b);
}

static void
test_roundtrip_two_recipients_each_alone(void **state)
{
	struct buf	 b = { NULL, 0, 0 };
	struct result	 res;
	char		*all = all_events();
	int		 k;

	seal_file(&b, 2, true);
	for (k = 0; k < 2; k++) {
		read_all(b.data, b.len, sec[k], &res);
		assert_int_equal(res.st, SEAL_COMPLETE);
		assert_int_equal(res.plain.len, strlen(all));
		assert_memory_equal(res.plain.data, all, strlen(all));
		result_free(&res);
	}
	free(all);
	buf_free(&b);
}

/*
 * A version 1 file, written here as that version did: the whole header
 * line (no '\n') is every frame's additional data.
 */
static void
seal_file_v1(struct buf *out)
{
	crypto_secretstream_xchacha20poly1305_state	st;
	unsigned char	key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	unsigned char	shdr[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
	unsigned char	box[sizeof(key) + crypto_box_SEALBYTES], *f;
	char		b64box[sodium_base64_ENCODED_LEN(sizeof(box),
			    sodium_base64_VARIANT_ORIGINAL)];
	char		b64st[sodium_base64_ENCODED_LEN(sizeof(shdr),
			    sodium_base64_VARIANT_ORIGINAL)];
	size_t		i, n, linelen;
	unsigned char	tag;

	crypto_secretstream_xchacha20poly1305_keygen(key);
	assert_int_equal(crypto_secretstream_xchacha20poly1305_init_push(&st,
	    shdr, key), 0);
	assert_int_equal(crypto_box_seal(box, key, sizeof(key), pub[0].pk), 0);
	sodium_bin2base64(b64box, sizeof(b64box), box, sizeof(box),
	    sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(b64st, sizeof(b64st), shdr, sizeof(shdr),
	    sodium_base64_VARIANT_ORIGINAL);
	buf_printf(out, "{\"muxgate_sealed\":1,\"cast\":%s,\"recipients\":"
	    "[{\"key\":\"%s\",\"box\":\"%s\"}],\"stream\":\"%s\"}", CAST,
	    fps[0], b64box, b64st);
	linelen = out->len;
	buf_addc(out, '\n');
	for (i = 0; i <= NEVENTS; i++) {
		n = i < NEVENTS ? strlen(EVENTS[i]) : 0;
		tag = i < NEVENTS ?
		    crypto_secretstream_xchacha20poly1305_TAG_MESSAGE :
		    crypto_secretstream_xchacha20poly1305_TAG_FINAL;
		f = (unsigned char *)buf_extend(out, 4 +
		    crypto_secretstream_xchacha20poly1305_ABYTES + n);
		/* Frames are appended: the line is where it was. */
		set_be32(out, (size_t)((char *)f - out->data),
		    (uint32_t)(crypto_secretstream_xchacha20poly1305_ABYTES +
		    n));
		assert_int_equal(crypto_secretstream_xchacha20poly1305_push(
		    &st, f + 4, NULL, (const unsigned char *)(i < NEVENTS ?
		    EVENTS[i] : ""), n, (const unsigned char *)out->data,
		    linelen, tag), 0);
	}
	sodium_memzero(key, sizeof(key));
}

static void
test_version_1_still_read(void **state)
{
	struct buf	 b = { NULL, 0, 0 };
	struct result	 res;
	char		*all = all_events();

	seal_file_v1(&b);
	read_all(b.data, b.len, sec[0], &res);
	assert_int_equal(res.st, SEAL_COMPLETE);
	assert_int_equal(res.plain.len, strlen(all));
	assert_memory_equal(res.plain.data, all, strlen(all));
	assert_string_equal(res.cast, CAST);
	result_free(&res);
	/* A changed byte of a version 1 header fails its frames too. */
	b.data[strstr(b.data, "alice") - b.data] = 'A';
	read_all(b.data, b.len, sec[0], &res);
	assert_int_equal(res.st, SEAL_MODIFIED);
	result_free(&res);
	free(all);
	buf_free(&b);
}

/* Calling a version 2 file version 1 changes its header: modified. */
static void
test_version_downgrade_is_modified(void **state)
{
	struct buf	 b = { NULL, 0, 0 };
	struct result	 res;
	char		*v;

	seal_file(&b, 1, true);
	v = strstr(b.data, "\"muxgate_sealed\":2");
	assert_non_null(v);
	v[strlen("\"muxgate_sealed\":")] = '1';
	read_all(b.data, b.len, sec[0], &res);
	assert_int_equal(res.st, SEAL_MODIFIED);
	assert_false(res.verified);
	assert_int_equal(res.plain.len, 0);
	result_free(&res);
	buf_free(&b);
}

static void
test_header_line_is_the_format(void **state)
{
	struct buf		 b = { NULL, 0, 0 };
	struct seal_writer	*w;
	char			 err[256], *want;
	const char		*nl;

	w = seal_writer_new(CAST, strlen(CAST), pub, 2, &b, err, sizeof(err));
	assert_non_null(w);
	nl = memchr(b.data, '\n', b.len);
	assert_non_null(nl);
	assert_int_equal((size_t)(nl - b.data) + 1, b.len);
	xasprintf(&want, "{\"muxgate_sealed\":2,\"cast\":%s,\"recipients\":"
	    "[{\"key\":\"%s\",\"box\":\"", CAST, fps[0]);
	assert_int_equal(strncmp(b.data, want, strlen(want)), 0);
	assert_non_null(strstr(b.data, fps[1]));
	assert_non_null(strstr(b.data, "],\"stream\":\""));
	free(want);
	seal_writer_free(w);
	buf_free(&b);
}

static void
test_cast_kept_byte_for_byte(void **state)
{
	static const char	 cast[] = "{ \"version\": 2,\t\"title\": "
				    "\"caf\\u00e9 \\\"q\\\" }\", \"w\": [1.50, {}] }";
	struct seal_writer	*w;
	struct buf		 b = { NULL, 0, 0 };
	struct result		 res;
	struct seal_peek	 p;
	char			 err[256];

	w = seal_writer_new(cast, strlen(cast), pub, 1, &b, err, sizeof(err));
	assert_non_null(w);
	assert_int_equal(seal_writer_frame(w, "x", 1, true, &b), 0);
	seal_writer_free(w);
	read_all(b.data, b.len, sec[0], &res);
	assert_int_equal(res.st, SEAL_COMPLETE);
	assert_string_equal(res.cast, cast);
	result_free(&res);
	assert_int_equal(seal_peek(b.data, (size_t)((char *)memchr(b.data,
	    '\n', b.len) - b.data), &p, err, sizeof(err)), 0);
	assert_string_equal(p.cast, cast);
	seal_peek_free(&p);
	buf_free(&b);
}

static void
test_big_plaintext_split_into_frames(void **state)
{
	struct seal_writer	*w;
	struct buf		 b = { NULL, 0, 0 };
	struct result		 res;
	size_t			 off[4], len = SEAL_FRAME_MAX + 10;
	char			*big = xmalloc(len), err[256];

	memset(big, 'x', len);
	w = seal_writer_new(CAST, strlen(CAST), pub, 1, &b, err, sizeof(err));
	assert_non_null(w);
	assert_int_equal(seal_writer_frame(w, big, len, true, &b), 0);
	seal_writer_free(w);
	assert_int_equal(frame_offsets(&b, off, 4), 2);
	read_all(b.data, b.len, sec[0], &res);
	assert_int_equal(res.st, SEAL_COMPLETE);
	assert_int_equal(res.frames, 2);
	assert_int_equal(res.plain.len, len);
	assert_memory_equal(res.plain.data, big, len);
	result_free(&res);
	free(big);
	buf_free(&b);
}

static void
test_writer_closed_after_final(void **state)
{
	struct seal_writer	*w;
	struct buf		 b = { NULL, 0, 0 };
	char			 err[256];
	size_t			 len;

	w = seal_writer_new(CAST, strlen(CAST), pub, 1, &b, err, sizeof(err));
	assert_non_null(w);
	len = b.len;
	/* Nothing to seal, not the end: nothing written. */
	assert_int_equal(seal_writer_frame(w, "", 0, false, &b), 0);
	assert_int_equal(b.len, len);
	assert_int_equal(seal_writer_frame(w, "x", 1, true, &b), 0);
	assert_int_equal(b.len, len + 4 + 17 + 1);
	assert_int_equal(seal_writer_frame(w, "y", 1, false, &b), -1);
	assert_int_equal(seal_writer_frame(w, NULL, 0, true, &b), -1);
	assert_int_equal(b.len, len + 4 + 17 + 1);
	seal_writer_free(w);
	buf_free(&b);
}

static void
test_writer_refuses(void **state)
{
	struct buf		 b = { NULL, 0, 0 };
	struct seal_pub		 zero;
	struct buf		 big = { NULL, 0, 0 };
	char			 err[256];
	static const char *const bad[] = {
		"", "[2]", "{\"version\":1}", "{\"width\":80}",
		"{\"version\":2", "{\"version\":2}\n", "{'version':2}",
		"{\"version\":2} {}", "{\"version\":\"2\"}",
		"{\"version\":2,\"t\":\"\x01\"}",
	};
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_null(seal_writer_new(bad[i], strlen(bad[i]), pub, 1, &b,
		    err, sizeof(err)));
		assert_int_equal(b.len, 0);
	}
	assert_null(seal_writer_new(CAST, strlen(CAST), pub, 0, &b, err,
	    sizeof(err)));
	assert_string_equal(err, "no recipient");
	/* A low-order point: nothing can be sealed to it. */
	memset(&zero, 0, sizeof(zero));
	assert_null(seal_writer_new(CAST, strlen(CAST), &zero, 1, &b, err,
	    sizeof(err)));
	assert_non_null(strstr(err, "not a usable public key"));
	/* A header line over the limit. */
	buf_adds(&big, "{\"version\":2,\"title\":\"");
	for (i = 0; i < SEAL_HEADER_MAX; i++)
		buf_addc(&big, 'a');
	buf_adds(&big, "\"}");
	assert_null(seal_writer_new(big.data, big.len, pub, 1, &b, err,
	    sizeof(err)));
	assert_int_equal(b.len, 0);
	buf_free(&big);
	buf_free(&b);
}

/* ---- keys that cannot read ---- */

static void
test_wrong_key_is_not_a_recipient(void **state)
{
	struct buf	b = { NULL, 0, 0 };
	struct result	res;

	seal_file(&b, 2, true);
	read_all(b.data, b.len, sec[2], &res);
	assert_int_equal(res.st, SEAL_NOT_RECIPIENT);
	assert_non_null(strstr(res.err, fps[2]));
	assert_int_equal(res.plain.len, 0);
	result_free(&res);
	buf_free(&b);
}

static void
test_named_but_box_does_not_open(void **state)
{
	struct buf	 b = { NULL, 0, 0 };
	struct result	 res;
	char		*at;

	/* Sealed to key 0, but its entry claims key 1. */
	seal_file(&b, 1, true);
	at = strstr(b.data, fps[0]);
	assert_non_null(at);
	memcpy(at, fps[1], SEAL_FP_LEN - 1);
	read_all(b.data, b.len, sec[1], &res);
	assert_int_equal(res.st, SEAL_NOT_RECIPIENT);
	assert_non_null(strstr(res.err, "does not open"));
	result_free(&res);
	/* And for key 0, the header was changed. */
	read_all(b.data, b.len, sec[0], &res);
	assert_int_equal(res.st, SEAL_NOT_RECIPIENT);
	result_free(&res);
	buf_free(&b);
}

/* ---- changes ---- */

static void
test_flipped_identity_in_header(void **state)
{
	struct buf	 b = { NULL, 0, 0 };
	struct result	 res;
	char		*at;

	seal_file(&b, 1, true);
	at = strstr(b.data, "\"alice\"");
	assert_non_null(at);
	at[5] = 'f';	/* alicf */
	read_all(b.data, b.len, sec[0], &res);
	assert_int_equal(res.st, SEAL_MODIFIED);
	assert_int_equal(res.plain.len, 0);
	assert_false(res.verified);
	/* The claim is there to read, but it never verified. */
	assert_non_null(strstr(res.cast, "alicf"));
	result_free(&res);
	buf_free(&b);
}

static void
test_every_flipped_byte(void **state)
{
	struct buf	 b = { NULL, 0, 0 };
	struct result	 res;
	size_t		 off[8], nf, i, f, hdrlen;
	bool		 in_length;

	seal_file(&b, 2, true);
	nf = frame_offsets(&b, off, 8);
	assert_int_equal(nf, NEVENTS + 1);
	hdrlen = off[0];
	for (i = 0; i < b.len; i++) {
		b.data[i] ^= 0x01;
		read_all(b.data, b.len, sec[0], &res);
		assert_int_not_equal(res.st, SEAL_COMPLETE);
		assert_prefix(&res);
		in_length = false;
		for (f = 0; f < nf; f++)
			if (i >= off[f] && i < off[f] + 4)
				in_length = true;
		if (i < hdrlen) {
			/* Nothing of a frame under a changed header. */
			assert_int_equal(res.plain.len, 0);
			assert_true(res.st == SEAL_MODIFIED ||
			    res.st == SEAL_NOT_SEALED ||
			    res.st == SEAL_NOT_RECIPIENT);
		} else if (!in_length)
			assert_int_equal(res.st, SEAL_MODIFIED);
		else
			/* A length pointing past the end reads as a cut. */
			assert_true(res.st == SEAL_MODIFIED ||
			    res.st == SEAL_TRUNCATED);
		result_free(&res);
		b.data[i] ^= 0x01;
	}
	buf_free(&b);
}

/* B without the frame at OFF[I]. */
static void
cut_frame(struct buf *b, const size_t *off, size_t nf, size_t i)
{
	size_t	end = i + 1 < nf ? off[i + 1] : b->len;

	memmove(b->data + off[i], b->data + end, b->len - end);
	b->len -= end - off[i];
}

static void
test_removed_frame(void **state)
{
	struct buf	b = { NULL, 0, 0 };
	struct result	res;
	size_t		off[8], nf;

	seal_file(&b, 1, true);
	nf = frame_offsets(&b, off, 8);
	cut_frame(&b, off, nf, 1);
	read_all(b.data, b.len, sec[0], &res);
	assert_int_equal(res.st, SEAL_MODIFIED);
	assert_int_equal(res.frames, 1);
	assert_int_equal(res.plain.len, strlen(EVENTS[0]));
	assert_prefix(&res);
	result_free(&res);
	buf_free(&b);
}

static void
test_removed_final_frame_is_truncated(void **state)
{
	struct buf	b = { NULL, 0, 0 };
	struct result	res;
	size_t		off[8], nf;

	seal_file(&b, 1, true);
	nf = frame_offsets(&b, off, 8);
	cut_frame(&b, off, nf, nf - 1);
	read_all(b.data, b.len, sec[0], &res);
	assert_int_equal(res.st, SEAL_TRUNCATED);
	assert_int_equal(res.frames, NEVENTS);
	result_free(&res);
	buf_free(&b);
}

static void
test_swapped_frames(void **state)
{
	struct buf	 b = { NULL, 0, 0 }, s = { NULL, 0, 0 };
	struct result	 res;
	size_t		 off[8];

	seal_file(&b, 1, true);
	assert_int_equal(frame_offsets(&b, off, 8), NEVENTS + 1);
	buf_add(&s, b.data, off[0]);
	buf_add(&s, b.data + off[1], off[2] - off[1]);
	buf_add(&s, b.data + off[0], off[1] - off[0]);
	buf_add(&s, b.data + off[2], b.len - off[2]);
	assert_int_equal(s.len, b.len);
	read_all(s.data, s.len, sec[0], &res);
	assert_int_equal(res.st, SEAL_MODIFIED);
	assert_int_equal(res.plain.len, 0);
	result_free(&res);
	buf_free(&s);
	buf_free(&b);
}

static void
test_inserted_frame(void **state)
{
	struct buf	 b = { NULL, 0, 0 }, s = { NULL, 0, 0 };
	struct result	 res;
	size_t		 off[8];

	/* Frame 1 again after itself. */
	seal_file(&b, 1, true);
	assert_int_equal(frame_offsets(&b, off, 8), NEVENTS + 1);
	buf_add(&s, b.data, off[1]);
	buf_add(&s, b.data + off[0], b.len - off[0]);
	read_all(s.data, s.len, sec[0], &res);
	assert_int_equal(res.st, SEAL_MODIFIED);
	assert_int_equal(res.plain.len, strlen(EVENTS[0]));
	result_free(&res);
	buf_free(&s);
	buf_free(&b);
}

static void
test_appended_after_final(void **state)
{
	struct buf	 b = { NULL, 0, 0 };
	struct result	 res;
	size_t		 off[8], len;
	char		*all = all_events();

	seal_file(&b, 1, true);
	assert_int_equal(frame_offsets(&b, off, 8), NEVENTS + 1);
	len = b.len;
	/* A whole frame, then a single byte. */
	buf_add(&b, b.data + off[0], off[1] - off[0]);
	read_all(b.data, b.len, sec[0], &res);
	assert_int_equal(res.st, SEAL_MODIFIED);
	assert_non_null(strstr(res.err, "after the final frame"));
	/* What came before it did authenticate. */
	assert_int_equal(res.plain.len, strlen(all));
	result_free(&res);
	b.len = len;
	buf_addc(&b, '\0');
	read_all(b.data, b.len, sec[0], &res);
	assert_int_equal(res.st, SEAL_MODIFIED);
	result_free(&res);
	free(all);
	buf_free(&b);
}

static void
test_truncated_at_every_offset(void **state)
{
	struct buf	b = { NULL, 0, 0 };
	struct result	res;
	size_t		i, prev = 0;

	seal_file(&b, 2, true);
	for (i = 0; i < b.len; i++) {
		read_all(b.data, i, sec[1], &res);
		assert_int_equal(res.st, SEAL_TRUNCATED);
		assert_prefix(&res);
		/* More of the file never gives less. */
		assert_true(res.plain.len >= prev);
		prev = res.plain.len;
		result_free(&res);
	}
	read_all(b.data, b.len, sec[1], &res);
	assert_int_equal(res.st, SEAL_COMPLETE);
	result_free(&res);
	buf_free(&b);
}

static void
test_unclosed_recording_is_truncated(void **state)
{
	struct buf	 b = { NULL, 0, 0 };
	struct result	 res;
	char		*all = all_events();

	seal_file(&b, 1, false);
	read_all(b.data, b.len, sec[0], &res);
	assert_int_equal(res.st, SEAL_TRUNCATED);
	assert_int_equal(res.plain.len, strlen(all));
	assert_true(res.verified);
	result_free(&res);
	free(all);
	buf_free(&b);
}

static void
test_length_out_of_range(void **state)
{
	static const uint32_t	 bad[] = { 0, 1, 16, 17 + SEAL_FRAME_MAX + 1,
					   0x7fffffff, 0xffffffff };
	struct buf		 b = { NULL, 0, 0 };
	struct result		 res;
	size_t			 off[8], i;

	seal_file(&b, 1, true);
	assert_int_equal(frame_offsets(&b, off, 8), NEVENTS + 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		set_be32(&b, off[1], bad[i]);
		read_all(b.data, b.len, sec[0], &res);
		assert_int_equal(res.st, SEAL_MODIFIED);
		assert_non_null(strstr(res.err, "out of range"));
		assert_int_equal(res.plain.len, strlen(EVENTS[0]));
		result_free(&res);
	}
	/* In range but shorter than the frame: it does not authenticate. */
	set_be32(&b, off[1], 17);
	read_all(b.data, b.len, sec[0], &res);
	assert_int_equal(res.st, SEAL_MODIFIED);
	result_free(&res);
	/* In range, past the end of the file: the cut cannot be told. */
	set_be32(&b, off[1], 17 + SEAL_FRAME_MAX);
	read_all(b.data, b.len, sec[0], &res);
	assert_int_equal(res.st, SEAL_TRUNCATED);
	assert_int_equal(res.plain.len, strlen(EVENTS[0]));
	result_free(&res);
	buf_free(&b);
}

/*
 * libsodium 1.0.18 decodes every byte from 0x80 up as '/': a key file or
 * a header with one in place of a '/' read as the same key or header.
 * Both go through the strict decoder (util/b64.c) and are refused.
 */
static void
test_high_bytes_are_not_slash(void **state)
{
	unsigned char	 bin[SEAL_KEY_BYTES];
	char		 text[128], err[256], *line;
	struct seal_pub	 p;
	struct seal_peek pk;
	unsigned char	 box[SEAL_KEY_BYTES + crypto_box_SEALBYTES];
	char		 b64box[sodium_base64_ENCODED_LEN(sizeof(box),
			    sodium_base64_VARIANT_ORIGINAL)];
	size_t		 at, len;
	int		 b;

	memset(bin, 0x5a, sizeof(bin));
	bin[0] = 0xfc;		/* the first digit is '/' */
	memcpy(text, "muxgate-auditor-pub ", 20);
	sodium_bin2base64(text + 20, sizeof(text) - 20, bin, sizeof(bin),
	    sodium_base64_VARIANT_ORIGINAL);
	assert_int_equal(text[20], '/');
	len = strlen(text);
	text[len++] = '\n';
	assert_int_equal(seal_pub_parse(text, len, &p, err, sizeof(err)), 0);
	assert_memory_equal(p.pk, bin, sizeof(bin));
	for (b = 0x80; b <= 0xff; b++) {
		text[20] = (char)b;
		assert_int_equal(seal_pub_parse(text, len, &p, err,
		    sizeof(err)), -1);
		assert_non_null(strstr(err, "bad base64"));
	}

	/*
	 * The header's "stream": "//" first, then U+0080 in UTF-8 in their
	 * place (valid JSON, and "//" again to libsodium).
	 */
	memset(box, 0, sizeof(box));
	sodium_bin2base64(b64box, sizeof(b64box), box, sizeof(box),
	    sodium_base64_VARIANT_ORIGINAL);
	xasprintf(&line, "{\"muxgate_sealed\":1,\"cast\":%s,\"recipients\":"
	    "[{\"key\":\"%s\",\"box\":\"%s\"}],\"stream\":\"//AAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAA\"}", CAST, fps[0], b64box);
	at = strlen(line) - 34;
	assert_memory_equal(line + at, "//", 2);
	if (seal_peek(line, strlen(line), &pk, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	seal_peek_free(&pk);
	line[at] = (char)0xc2;
	line[at + 1] = (char)0x80;
	assert_int_equal(seal_peek(line, strlen(line), &pk, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "header: bad \"stream\"");
	free(line);
}

/* ---- first lines ---- */

static void
test_not_sealed_first_lines(void **state)
{
	static const struct {
		const char		*text;
		enum seal_status	 st;
	} cases[] = {
		{ CAST "\n[0.1, \"o\", \"x\"]\n", SEAL_NOT_SEALED },
		{ "hello\n", SEAL_NOT_SEALED },
		{ "\x7f" "ELF\x02\x01\x01", SEAL_NOT_SEALED },
		{ "{\"muxgate_sealed\":3,\"cast\":{}}\n", SEAL_NOT_SEALED },
		{ "{\"muxgate_sealed\":2}\n", SEAL_MODIFIED },
		{ "{\"muxgate_sealed\":1}\n", SEAL_MODIFIED },
		{ "{\"muxgate_sealed\":1,\"cast\":" CAST ",\"recipients\":[],"
		  "\"stream\":\"\"}\n", SEAL_MODIFIED },
		{ "{\"muxgate_sealed\":1,\x01}\n", SEAL_MODIFIED },
		{ "", SEAL_TRUNCATED },
		{ "{\"muxgate_sea", SEAL_TRUNCATED },
	};
	struct result	res;
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		read_all(cases[i].text, strlen(cases[i].text), sec[0], &res);
		if (res.st != cases[i].st)
			print_error("case %zu: %d %s\n", i, res.st, res.err);
		assert_int_equal(res.st, cases[i].st);
		result_free(&res);
	}
}

static void
test_header_line_too_long(void **state)
{
	struct buf	b = { NULL, 0, 0 };
	struct result	res;
	size_t		i;

	buf_adds(&b, "{\"muxgate_sealed\":1,\"x\":\"");
	for (i = 0; i < SEAL_HEADER_MAX; i++)
		buf_addc(&b, 'a');
	read_all(b.data, b.len, sec[0], &res);
	assert_int_equal(res.st, SEAL_MODIFIED);
	assert_non_null(strstr(res.err, "longer than"));
	result_free(&res);
	memset(b.data, 'a', b.len);
	read_all(b.data, b.len, sec[0], &res);
	assert_int_equal(res.st, SEAL_NOT_SEALED);
	result_free(&res);
	buf_free(&b);
}

static void
test_repeated_or_escaped_members(void **state)
{
	struct buf	 b = { NULL, 0, 0 }, s = { NULL, 0, 0 };
	struct result	 res;
	struct seal_peek p;
	char		 err[256];
	const char	*nl, *at;

	seal_file(&b, 1, true);
	nl = memchr(b.data, '\n', b.len);
	/* A second "cast" that json-c alone would take instead. */
	buf_add(&s, b.data, (size_t)(nl - b.data) - 1);
	buf_adds(&s, ",\"cast\":{\"version\":2}}");
	assert_int_equal(seal_peek(s.data, s.len, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "members"));
	buf_free(&s);
	/* The same name spelled with an escape: json-c reads "cast". */
	at = strstr(b.data, "\"cast\"");
	buf_add(&s, b.data, (size_t)(at - b.data));
	buf_adds(&s, "\"cas\\u0074\"");
	buf_add(&s, at + 6, b.len - (size_t)(at + 6 - b.data));
	assert_int_equal(seal_peek(s.data, (size_t)(strchr(s.data, '\n') -
	    s.data), &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cas\\u0074"));
	read_all(s.data, s.len, sec[0], &res);
	assert_int_equal(res.st, SEAL_MODIFIED);
	assert_int_equal(res.plain.len, 0);
	result_free(&res);
	buf_free(&s);
	buf_free(&b);
}

static void
test_peek_and_kind(void **state)
{
	struct buf	 b = { NULL, 0, 0 };
	struct seal_peek p;
	char		 err[256];
	const char	*nl;

	seal_file(&b, 2, true);
	nl = memchr(b.data, '\n', b.len);
	assert_int_equal(seal_kind_of(b.data, (size_t)(nl - b.data) + 1),
	    SEAL_KIND_SEALED);
	assert_int_equal(seal_peek(b.data, (size_t)(nl - b.data), &p, err,
	    sizeof(err)), 0);
	assert_true(p.sealed);
	assert_string_equal(p.cast, CAST);
	assert_int_equal(p.nrecipients, 2);
	assert_string_equal(p.recipients[0], fps[0]);
	assert_string_equal(p.recipients[1], fps[1]);
	seal_peek_free(&p);

	assert_int_equal(seal_kind_of(CAST "\n", strlen(CAST) + 1),
	    SEAL_KIND_PLAIN);
	assert_int_equal(seal_peek(CAST, strlen(CAST), &p, err, sizeof(err)),
	    0);
	assert_false(p.sealed);
	assert_string_equal(p.cast, CAST);
	assert_int_equal(p.nrecipients, 0);
	seal_peek_free(&p);

	assert_int_equal(seal_kind_of("", 0), SEAL_KIND_OTHER);
	assert_int_equal(seal_kind_of("{}", 2), SEAL_KIND_OTHER);
	assert_int_equal(seal_kind_of("{\"version\":1}", 13), SEAL_KIND_OTHER);
	assert_int_equal(seal_kind_of("[0.1, \"o\", \"x\"]", 15),
	    SEAL_KIND_OTHER);
	assert_int_equal(seal_kind_of("{\"muxgate_sealed\":2,\"version\":2}",
	    32), SEAL_KIND_OTHER);
	/* A sealed header is the first line only. */
	assert_int_equal(seal_kind_of(b.data, b.len), SEAL_KIND_OTHER);
	buf_free(&b);
}

/* ---- key files ---- */

static void
test_fingerprint_known_answer(void **state)
{
	struct seal_pub	p;
	char		fp[SEAL_FP_LEN];
	int		i;

	/* Python: hashlib.blake2b(bytes(range(32)), digest_size=32) */
	for (i = 0; i < SEAL_KEY_BYTES; i++)
		p.pk[i] = (unsigned char)i;
	seal_fingerprint(&p, fp);
	assert_string_equal(fp,
	    "BLAKE2B:yy9RYPwffgWlXvSdNAtI2i5aeAmdUzkzUc1XndQlA9Y");
}

static void
test_keygen_files(void **state)
{
	struct seal_pub	 p;
	struct stat	 st;
	char		*d = path_in("k0"), *f, fp[SEAL_FP_LEN], err[256];
	mode_t		 old;

	assert_int_equal(stat(d, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	xasprintf(&f, "%s/%s", d, SEAL_KEY_FILE);
	assert_int_equal(lstat(f, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 65);
	free(f);
	xasprintf(&f, "%s/%s", d, SEAL_PUB_FILE);
	assert_int_equal(lstat(f, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	free(f);
	/* The secret's public half is the public file's key. */
	seal_secret_pub(sec[0], &p);
	assert_memory_equal(p.pk, pub[0].pk, SEAL_KEY_BYTES);
	seal_fingerprint(&pub[0], fp);
	assert_string_equal(fp, fps[0]);
	free(d);

	/* The modes do not depend on the umask. */
	old = umask(0);
	d = path_in("umask0");
	assert_int_equal(seal_keygen(d, fp, err, sizeof(err)), 0);
	umask(old);
	assert_int_equal(stat(d, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	free(d);
	d = path_in("umask0/" SEAL_KEY_FILE);
	assert_int_equal(stat(d, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	free(d);
}

static void
test_keygen_refuses_overwrite(void **state)
{
	struct stat	 st;
	char		*d = path_in("k0"), *f, fp[SEAL_FP_LEN], err[256];
	int		 fd;

	assert_int_equal(seal_keygen(d, fp, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "exists"));
	free(d);
	/* Only the public file there: it stays, no secret is left. */
	d = path_in("onlypub");
	assert_int_equal(mkdir(d, 0700), 0);
	xasprintf(&f, "%s/%s", d, SEAL_PUB_FILE);
	fd = open(f, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "mine\n", 5), 5);
	close(fd);
	assert_int_equal(seal_keygen(d, fp, err, sizeof(err)), -1);
	assert_non_null(strstr(err, SEAL_PUB_FILE));
	assert_int_equal(stat(f, &st), 0);
	assert_int_equal(st.st_size, 5);
	free(f);
	xasprintf(&f, "%s/%s", d, SEAL_KEY_FILE);
	assert_int_equal(lstat(f, &st), -1);
	free(f);
	free(d);
}

static void
test_keygen_refuses_unsafe_dir(void **state)
{
	char	*d, *l, fp[SEAL_FP_LEN], err[256];

	d = path_in("open");
	assert_int_equal(mkdir(d, 0700), 0);
	assert_int_equal(chmod(d, 0777), 0);
	assert_int_equal(seal_keygen(d, fp, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "group or others may write"));
	assert_int_equal(chmod(d, 0770), 0);
	assert_int_equal(seal_keygen(d, fp, err, sizeof(err)), -1);
	assert_int_equal(chmod(d, 0755), 0);
	assert_int_equal(seal_keygen(d, fp, err, sizeof(err)), 0);
	l = path_in("link");
	assert_int_equal(symlink(d, l), 0);
	assert_int_equal(seal_keygen(l, fp, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "symbolic link"));
	free(l);
	free(d);
	d = path_in("k0/" SEAL_PUB_FILE);
	assert_int_equal(seal_keygen(d, fp, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a directory"));
	free(d);
	d = path_in("no/such/parent");
	assert_int_equal(seal_keygen(d, fp, err, sizeof(err)), -1);
	free(d);
}

static void
test_secret_key_permissions(void **state)
{
	struct seal_secret	*s;
	char			*f = path_in("k1/" SEAL_KEY_FILE), *l, err[256];

	assert_int_equal(chmod(f, 0640), 0);
	assert_null(seal_secret_load(f, err, sizeof(err)));
	assert_non_null(strstr(err, "group or others"));
	assert_int_equal(chmod(f, 0604), 0);
	assert_null(seal_secret_load(f, err, sizeof(err)));
	assert_int_equal(chmod(f, 0602), 0);
	assert_null(seal_secret_load(f, err, sizeof(err)));
	assert_int_equal(chmod(f, 0400), 0);
	s = seal_secret_load(f, err, sizeof(err));
	assert_non_null(s);
	seal_secret_free(s);
	assert_int_equal(chmod(f, 0600), 0);
	l = path_in("keylink");
	assert_int_equal(symlink(f, l), 0);
	assert_null(seal_secret_load(l, err, sizeof(err)));
	assert_non_null(strstr(err, "symbolic link"));
	free(l);
	free(f);
	f = path_in("k1");
	assert_null(seal_secret_load(f, err, sizeof(err)));
	assert_non_null(strstr(err, "not a regular file"));
	free(f);
}

static void
test_malformed_key_files(void **state)
{
	static const char *const bad[] = {
		"",
		"muxgate-auditor-key AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
		"muxgate-auditor-key AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n",
		"muxgate-auditor-key AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",
		"muxgate-auditor-key AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=\n",
		"muxgate-auditor-key  AECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
		"muxgate-auditor-key AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\r",
		"muxgate-auditor-kex AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
		"muxgate-auditor-key AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd!h8=\n",
		"muxgate-auditor-key AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=x\n",
	};
	static const char good[] =
	    "muxgate-auditor-key AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n";
	static const char pubtext[] =
	    "muxgate-auditor-pub AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n";
	struct seal_secret	*s;
	struct seal_pub		 p;
	char			 err[256], *f, *text;
	size_t			 i;
	int			 fd;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = seal_secret_parse(bad[i], strlen(bad[i]), err, sizeof(err));
		if (s != NULL)
			print_error("case %zu parsed\n", i);
		assert_null(s);
		/* The same text as a public key file. */
		xasprintf(&text, "%s", bad[i]);
		if (strncmp(text, "muxgate-auditor-key", 19) == 0)
			memcpy(text + 16, "pub", 3);
		assert_int_equal(seal_pub_parse(text, strlen(text), &p, err,
		    sizeof(err)), -1);
		free(text);
	}
	s = seal_secret_parse(good, strlen(good), err, sizeof(err));
	assert_non_null(s);
	seal_secret_free(s);
	/* The other kind of file says so. */
	assert_null(seal_secret_parse(pubtext, strlen(pubtext), err,
	    sizeof(err)));
	assert_non_null(strstr(err, "a public key"));
	assert_int_equal(seal_pub_parse(good, strlen(good), &p, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "a secret key"));
	assert_int_equal(seal_pub_parse(pubtext, strlen(pubtext), &p, err,
	    sizeof(err)), 0);
	assert_int_equal(p.pk[31], 31);

	/* Files: too long, and missing. */
	f = path_in("long.key");
	fd = open(f, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	for (i = 0; i < 10; i++)
		assert_int_equal(write(fd, good, strlen(good)),
		    (ssize_t)strlen(good));
	close(fd);
	assert_null(seal_secret_load(f, err, sizeof(err)));
	assert_non_null(strstr(err, "too long"));
	assert_int_equal(seal_pub_load(f, &p, err, sizeof(err)), -1);
	free(f);
	f = path_in("missing.pub");
	assert_int_equal(seal_pub_load(f, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
	free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_one_recipient),
		cmocka_unit_test(test_roundtrip_two_recipients_each_alone),
		cmocka_unit_test(test_version_1_still_read),
		cmocka_unit_test(test_version_downgrade_is_modified),
		cmocka_unit_test(test_header_line_is_the_format),
		cmocka_unit_test(test_cast_kept_byte_for_byte),
		cmocka_unit_test(test_big_plaintext_split_into_frames),
		cmocka_unit_test(test_writer_closed_after_final),
		cmocka_unit_test(test_writer_refuses),
		cmocka_unit_test(test_wrong_key_is_not_a_recipient),
		cmocka_unit_test(test_named_but_box_does_not_open),
		cmocka_unit_test(test_flipped_identity_in_header),
		cmocka_unit_test(test_every_flipped_byte),
		cmocka_unit_test(test_removed_frame),
		cmocka_unit_test(test_removed_final_frame_is_truncated),
		cmocka_unit_test(test_swapped_frames),
		cmocka_unit_test(test_inserted_frame),
		cmocka_unit_test(test_appended_after_final),
		cmocka_unit_test(test_truncated_at_every_offset),
		cmocka_unit_test(test_unclosed_recording_is_truncated),
		cmocka_unit_test(test_length_out_of_range),
		cmocka_unit_test(test_not_sealed_first_lines),
		cmocka_unit_test(test_high_bytes_are_not_slash),
		cmocka_unit_test(test_header_line_too_long),
		cmocka_unit_test(test_repeated_or_escaped_members),
		cmocka_unit_test(test_peek_and_kind),
		cmocka_unit_test(test_fingerprint_known_answer),
		cmocka_unit_test(test_keygen_files),
		cmocka_unit_test(test_keygen_refuses_overwrite),
		cmocka_unit_test(test_keygen_refuses_unsafe_dir),
		cmocka_unit_test(test_secret_key_permissions),
		cmocka_unit_test(test_malformed_key_files),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
