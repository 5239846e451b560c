/*
 * seal_speed.c — how fast seal_writer_frame() seals, in MB/s (10^6
 * bytes of plaintext a second), for frames of 64 bytes, 4 KiB and 64
 * KiB: the sizes the recorder writes (a keystroke and its echo, a busy
 * flush, a full buffer).  Next to it,
 * crypto_secretstream_xchacha20poly1305_push() alone with no additional
 * data: what the cipher costs, without the 32-byte hash of the header
 * line that every frame authenticates (format 2).  Built and run by tests/bench/seal-speed.
 *
 * Each figure is the median of RUNS runs of at least SECONDS seconds of
 * CPU time (the two kinds interleaved), sealing into one output buffer that is emptied, not freed, between
 * frames, as the recorder's is.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/seal.h"
#include "gateway/str.h"

#define RUNS	5
#define SECONDS	1.0

#define CAST "{\"version\":2,\"width\":120,\"height\":40,\"timestamp\":" \
	"1795465478,\"env\":{\"TERM\":\"xterm-256color\"},\"title\":" \
	"\"deploy@bastion:build\",\"muxgate\":{\"attach_id\":" \
	"\"138dea378966e5bf\",\"identity\":\"alice\",\"key\":" \
	"\"SHA256:hfGSeqSXrjflvqg1+YfWcwAW8wppvrGxzTNIZ3lLGo0\"," \
	"\"host\":\"bastion\",\"tmux_user\":\"deploy\",\"session\":" \
	"\"build\",\"mode\":\"attach\",\"client\":\"198.51.100.7 50022\"}}"

static double
now(void)
{
	struct timespec	ts;

	/* CPU time: other load on the machine does not count. */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* MB/s of sealing FRAME-byte frames with W (or the bare cipher). */
static double
run(struct seal_writer *w, crypto_secretstream_xchacha20poly1305_state *st,
    const unsigned char *plain, size_t frame, struct buf *out)
{
	unsigned long long	bytes = 0;
	double			t0 = now(), t;
	int			i;

	do {
		for (i = 0; i < 256; i++) {
			out->len = 0;
			if (w != NULL) {
				if (seal_writer_frame(w, plain, frame, false,
				    out) == -1)
					exit(1);
			} else {
				(void)crypto_secretstream_xchacha20poly1305_push(
				    st, (unsigned char *)out->data, NULL, plain,
				    frame, NULL, 0, 0);
			}
			bytes += frame;
		}
	} while ((t = now() - t0) < SECONDS);
	return (double)bytes / t / 1e6;
}

/*
 * The median MB/s of W and of the bare cipher, their runs interleaved
 * so that drift of the machine hits both alike.
 */
static void
medians(struct seal_writer *w, crypto_secretstream_xchacha20poly1305_state *st,
    const unsigned char *plain, size_t frame, struct buf *out, double *ws,
    double *bs)
{
	double	r[RUNS], b[RUNS];
	int	i;

	for (i = 0; i < RUNS; i++) {
		r[i] = run(w, NULL, plain, frame, out);
		b[i] = run(NULL, st, plain, frame, out);
	}
	qsort(r, RUNS, sizeof(r[0]), cmp);
	qsort(b, RUNS, sizeof(b[0]), cmp);
	*ws = r[RUNS / 2];
	*bs = b[RUNS / 2];
}

int
main(void)
{
	static const size_t	 frames[] = { 64, 4096, 65536 };
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned char		 sk[crypto_box_SECRETKEYBYTES];
	unsigned char		 key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	unsigned char		 hdr[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
	unsigned char		*plain;
	struct seal_pub		 pub;
	struct seal_writer	*w;
	struct buf		 out = { NULL, 0, 0 };
	char			 err[256];
	size_t			 i, adlen;

	if (sodium_init() < 0)
		return 1;
	crypto_box_keypair(pub.pk, sk);
	if ((w = seal_writer_new(CAST, strlen(CAST), &pub, 1, &out, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "seal_speed: %s\n", err);
		return 1;
	}
	adlen = out.len - 1;
	crypto_secretstream_xchacha20poly1305_keygen(key);
	crypto_secretstream_xchacha20poly1305_init_push(&st, hdr, key);
	plain = malloc(frames[2]);
	randombytes_buf(plain, frames[2]);
	/* Room for the largest frame, once. */
	out.len = 0;
	if (seal_writer_frame(w, plain, frames[2], false, &out) == -1)
		return 1;

	printf("seal_writer_frame, 1 recipient, header line %zu bytes "
	    "(frames authenticate its\n32-byte BLAKE2b); median of %d runs of %.0f CPU s, MB = 10^6 "
	    "bytes of plaintext\n\n", adlen, RUNS, SECONDS);
	printf("%-10s  %18s  %22s  %8s\n", "frame", "seal_writer_frame",
	    "secretstream, no AD", "ratio");
	for (i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
		double	s, b;

		medians(w, &st, plain, frames[i], &out, &s, &b);

		printf("%-10s  %13.0f MB/s  %17.0f MB/s  %8.3f\n",
		    frames[i] == 64 ? "64 B" : frames[i] == 4096 ? "4 KiB" :
		    "64 KiB", s, b, s / b);
	}
	seal_writer_free(w);
	buf_free(&out);
	free(plain);
	sodium_memzero(sk, sizeof(sk));
	return 0;
}
