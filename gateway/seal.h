/*
 * seal.h — sealed recordings (docs/recording-format.md): auditor key
 * files, a writer that turns an asciicast header and its event bytes
 * into a sealed file, and a reader that gives them back only as far as
 * they authenticate.  Library code: nothing is printed, errors go into
 * ERR (ERRLEN bytes).
 */
#ifndef MUXGATE_SEAL_H
#define MUXGATE_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define SEAL_KEY_BYTES		32
/* "BLAKE2B:" and 43 characters of unpadded base64, and a NUL. */
#define SEAL_FP_LEN		(8 + 43 + 1)
/* The largest plaintext of one frame. */
#define SEAL_FRAME_MAX		1048576
/* The longest header line, its final '\n' included. */
#define SEAL_HEADER_MAX		65536

/*
 * The format versions ("muxgate_sealed"): SEAL_FORMAT is written, every
 * one from SEAL_FORMAT_OLDEST up is read (docs/recording-format.md).
 */
#define SEAL_FORMAT_OLDEST	1
#define SEAL_FORMAT		2

#define SEAL_PUB_FILE		"auditor.pub"
#define SEAL_KEY_FILE		"auditor.key"

struct buf;

/* An auditor's public key: not secret. */
struct seal_pub {
	unsigned char	pk[SEAL_KEY_BYTES];
};

/* An auditor's secret key, in locked memory, wiped when freed. */
struct seal_secret;

/* A key's fingerprint, "BLAKE2B:..." */
void	seal_fingerprint(const struct seal_pub *, char fp[SEAL_FP_LEN]);

/*
 * Make a new key pair in DIR: created (0700) if it is missing, refused
 * if it is not a directory, is a symbolic link, group or others may
 * write it, or it belongs to neither this user nor root.  DIR/auditor.key
 * (0600) and DIR/auditor.pub (0644) are created new; if either exists,
 * nothing is written.  The fingerprint goes to FP.
 */
int	seal_keygen(const char *dir, char fp[SEAL_FP_LEN], char *err,
	    size_t errlen) __attribute__((warn_unused_result));

/* The contents of an auditor.pub file, exactly (TEXT need not end in NUL). */
int	seal_pub_parse(const char *text, size_t len, struct seal_pub *,
	    char *err, size_t errlen) __attribute__((warn_unused_result));
int	seal_pub_load(const char *path, struct seal_pub *, char *err,
	    size_t errlen) __attribute__((warn_unused_result));

/* The contents of an auditor.key file, exactly.  NULL on failure. */
struct seal_secret *seal_secret_parse(const char *text, size_t len,
	    char *err, size_t errlen);
/*
 * Read an auditor.key file (never through a symbolic link), refused if
 * group or others have any access to it.  NULL on failure.
 */
struct seal_secret *seal_secret_load(const char *path, char *err,
	    size_t errlen);
/* The public half. */
void	seal_secret_pub(const struct seal_secret *, struct seal_pub *);
/* Wipe and free; NULL is fine. */
void	seal_secret_free(struct seal_secret *);

/* ---- writing ---- */

struct seal_writer;

/*
 * Start a sealed recording to N recipients.  CAST (CASTLEN bytes) is the
 * asciicast header object exactly as a plain recording's first line has
 * it, without the '\n'.  The header line, '\n' included, is appended to
 * OUT.  A new stream key is made and kept only in locked memory.  NULL
 * on failure (OUT is then unchanged).
 */
struct seal_writer *seal_writer_new(const char *cast, size_t castlen,
	    const struct seal_pub *recipients, size_t n, struct buf *out,
	    char *err, size_t errlen);
/*
 * Append LEN bytes of event lines, sealed, to OUT: one frame, or one per
 * SEAL_FRAME_MAX bytes of a longer PLAIN.  FINAL closes the recording:
 * its last frame is tagged final (it may be empty), and nothing can be
 * appended after it.  An empty, not final PLAIN appends nothing.  Nothing
 * is allocated but OUT's growth.  -1 only after the final frame.
 */
int	seal_writer_frame(struct seal_writer *, const void *plain,
	    size_t len, bool final, struct buf *out)
	    __attribute__((warn_unused_result));
/* Wipe the stream key and free; NULL is fine. */
void	seal_writer_free(struct seal_writer *);

/* ---- reading ---- */

enum seal_status {
	SEAL_OK,		/* opened; or next: one frame's plaintext */
	/* The outcomes of the format's table; the last status of a file. */
	SEAL_COMPLETE,		/* a final frame, then the end */
	SEAL_TRUNCATED,		/* cut short; all returned is authentic */
	SEAL_MODIFIED,		/* a frame or the header was changed */
	/* Only from seal_reader_open. */
	SEAL_NOT_RECIPIENT,	/* not sealed to this key */
	SEAL_NOT_SEALED,	/* not a sealed recording of version 1 */
	SEAL_ERROR,		/* reading failed (errno) */
};

struct seal_reader;

/*
 * Read the header line of FP and open the stream with KEY.  SEAL_OK: *RP
 * is the reader, and the frames come from seal_reader_next().  Anything
 * else: *RP is NULL and ERR says why.  A file that ends inside its
 * header line is SEAL_TRUNCATED.  KEY must outlive the reader.
 */
enum seal_status seal_reader_open(FILE *fp, const struct seal_secret *key,
	    struct seal_reader **rp, char *err, size_t errlen)
	    __attribute__((warn_unused_result));
/*
 * The asciicast header, the exact text of the header line's "cast"
 * object (NUL-terminated; LEN may be NULL).  It is only a claim until
 * seal_reader_verified() is true.
 */
const char *seal_reader_cast(const struct seal_reader *, size_t *len);
/* Has a frame authenticated, and with it the whole header line? */
bool	seal_reader_verified(const struct seal_reader *);
/*
 * The next frame.  SEAL_OK: *PLAIN and *LEN are its plaintext, owned by
 * the reader until the next call (the final frame's may be empty).
 * Otherwise the outcome (SEAL_COMPLETE, SEAL_TRUNCATED, SEAL_MODIFIED) or
 * SEAL_ERROR, with ERR saying where; it is returned again by every later
 * call.  Plaintext is returned only once its frame has authenticated.
 */
enum seal_status seal_reader_next(struct seal_reader *,
	    const unsigned char **plain, size_t *len, char *err, size_t errlen)
	    __attribute__((warn_unused_result));
/* Wipe and free; NULL is fine. */
void	seal_reader_free(struct seal_reader *);

/* ---- without a key ---- */

enum seal_kind {
	SEAL_KIND_OTHER,	/* neither */
	SEAL_KIND_PLAIN,	/* an asciicast v2 header: a .cast file */
	SEAL_KIND_SEALED,	/* a sealed header of version 1: .sealed */
};

/* What kind of recording a first line (with or without '\n') begins. */
enum seal_kind seal_kind_of(const char *line, size_t len);

struct seal_peek {
	bool	  sealed;
	char	 *cast;		/* the asciicast header's exact text */
	size_t	  nrecipients;	/* sealed only: who can read it */
	char	(*recipients)[SEAL_FP_LEN];
};

/*
 * The asciicast header of a first line, plain or sealed, unverified:
 * for listing recordings.  Free it with seal_peek_free().
 */
int	seal_peek(const char *line, size_t len, struct seal_peek *, char *err,
	    size_t errlen) __attribute__((warn_unused_result));
void	seal_peek_free(struct seal_peek *);

#endif
