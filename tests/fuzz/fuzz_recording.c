/*
 * fuzz_recording.c — a recording file read as `muxgate replay` and
 * `export` read it (gateway/recevent.c): its first line tells plain from
 * sealed; a sealed file is opened with a fixed auditor key (the one of
 * fuzz_seal.c), and its lines are split out of the frames' plaintext;
 * the first line must be an asciicast v2 header and every other line an
 * event.  Whoever can write a file the auditor is handed controls every
 * byte.  fuzz_seal.c takes the sealed stream itself apart; this one
 * covers the plain path, the lines cut out of frames, and the parsing.
 *
 * Checked: a plain file's lines are exactly its bytes, in order; a sealed
 * file's lines are exactly its header's asciicast header, a newline, and
 * the plaintext of every frame that a reader of its own returns, and
 * they end the same way; each event parsed has a finite time >= 0 and
 * its whole data.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/recevent.h"
#include "gateway/seal.h"
#include "gateway/str.h"
#include "tests/fuzz/testkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What replay does with a line: the header, or an event. */
static void
parse_line(const char *line, size_t len, size_t lineno)
{
	struct recevent	 ev;
	const char	*errstr = NULL;

	/* A line holding a NUL is read up to it, as replay reads it. */
	if (lineno == 1) {
		if (recevent_header(line, &errstr) == -1 && errstr == NULL)
			abort();
		return;
	}
	if (recevent_parse(line, &ev, &errstr) == -1) {
		if (errstr == NULL || ev.json != NULL)
			abort();
		return;
	}
	if (!isfinite(ev.at) || ev.at < 0 || ev.type == NULL ||
	    ev.data == NULL || ev.data[ev.len] != '\0' || ev.len > len)
		abort();
	recevent_free(&ev);
}

/* Every line, into ALL; the last one's status. */
static enum seal_status
read_lines(struct recreader *r, struct buf *all)
{
	const char	*line, *why;
	size_t		 len, lineno = 0;
	enum seal_status st;

	while ((line = recreader_line(r, &len)) != NULL) {
		if (len == 0 || line[len] != '\0')
			abort();
		/* Only the last line may lack its newline. */
		if (all->len > 0 && all->data[all->len - 1] != '\n')
			abort();
		buf_add(all, line, len);
		parse_line(line, len, ++lineno);
	}
	st = recreader_end(r, &why);
	if (recreader_line(r, &len) != NULL || why == NULL)
		abort();
	return st;
}

/* The sealed file's plaintext as a reader of its own gives it. */
static enum seal_status
frames(const uint8_t *data, size_t size, struct buf *want)
{
	struct seal_reader	*rd = NULL;
	const unsigned char	*p;
	const char		*cast;
	enum seal_status	 st;
	size_t			 n;
	char			 err[256];
	FILE			*fp;

	if ((fp = fmemopen((void *)(uintptr_t)data, size, "r")) == NULL)
		abort();
	if (seal_reader_open(fp, test_key(), &rd, err, sizeof(err)) != SEAL_OK)
		abort();
	cast = seal_reader_cast(rd, &n);
	buf_add(want, cast, n);
	buf_addc(want, '\n');
	while ((st = seal_reader_next(rd, &p, &n, err, sizeof(err))) ==
	    SEAL_OK)
		buf_add(want, p, n);
	seal_reader_free(rd);
	fclose(fp);
	return st;
}

static void
sealed(const uint8_t *data, size_t size, FILE *fp)
{
	struct seal_reader	*rd = NULL;
	struct recreader	*r;
	struct buf		 all = { NULL, 0, 0 }, want = { NULL, 0, 0 };
	enum seal_status	 st;
	char			 err[256];

	if (seal_reader_open(fp, test_key(), &rd, err, sizeof(err)) !=
	    SEAL_OK)
		return;
	r = recreader_new(fp, rd);
	st = read_lines(r, &all);
	if (st != frames(data, size, &want) || st == SEAL_OK ||
	    all.len != want.len || memcmp(all.data, want.data, all.len) != 0)
		abort();
	recreader_free(r);
	seal_reader_free(rd);
	buf_free(&all);
	buf_free(&want);
}

static void
plain(const uint8_t *data, size_t size, FILE *fp)
{
	struct recreader	*r;
	struct buf		 all = { NULL, 0, 0 };

	r = recreader_new(fp, NULL);
	if (read_lines(r, &all) != SEAL_COMPLETE || all.len != size ||
	    (size > 0 && memcmp(all.data, data, size) != 0))
		abort();
	recreader_free(r);
	buf_free(&all);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t	*nl;
	FILE		*fp;

	if (size == 0)
		return 0;
	if ((fp = fmemopen((void *)(uintptr_t)data, size, "r")) == NULL)
		abort();
	nl = memchr(data, '\n', size);
	if (seal_kind_of((const char *)data, nl != NULL ?
	    (size_t)(nl - data) + 1 : size) == SEAL_KIND_SEALED)
		sealed(data, size, fp);
	else
		plain(data, size, fp);
	fclose(fp);
	return 0;
}
