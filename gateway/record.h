/*
 * record.h — one attach, one asciicast v2 file: a JSON header line, then
 * [seconds, "o"|"i"|"m"|"r", data] events.  Buffered, written out at
 * least once a second by the relay and on close, so that a killed relay
 * loses at most the last second and leaves a file that still replays; or
 * written at once, for keystrokes that must be recorded before they are
 * sent.  Keystrokes go through secretmask.h first: the answers to
 * password prompts become "m" events of '*', and with SECRETMASK_ALL no
 * keystroke is written at all.
 */
#ifndef MUXGATE_RECORD_H
#define MUXGATE_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include "gateway/secretmask.h"

struct record_meta {
	const char	*attach_id;
	const char	*identity;
	const char	*key;		/* fingerprint or NULL */
	const char	*host;
	const char	*tmux_user;
	const char	*session;
	const char	*mode;		/* "attach" or "watch" */
	const char	*client;	/* "ADDR PORT" or NULL */
	const char	*term;
	unsigned	 cols;
	unsigned	 rows;
	long long	 timestamp;
	/*
	 * Auditors to seal the recording to (seal.h), or none for a plain
	 * asciicast file.  Sealed: YYYYMMDD-HHMMSS-ATTACHID.sealed, in the
	 * format of docs/recording-format.md; the events are the same.
	 */
	const struct seal_pub *recipients;
	size_t		 nrecipients;
	/*
	 * Which keystrokes are recorded (gateway.recording): with
	 * SECRETMASK_PROMPTS, the answers to the prompts SECRET_PROMPTS
	 * match are masked.  Zero (SECRETMASK_NONE): all of them.
	 */
	enum secretmask_mode	 mask;
	const char *const	*secret_prompts;
	size_t			 nsecret_prompts;
};

struct recorder;
struct seal_pub;

/*
 * Create ROOT/IDENTITY/YYYYMMDD-HHMMSS-ATTACHID.cast, or .sealed (directories 0700,
 * created if missing, refused if others may write them; file 0600) and
 * write the header.  MAX is the size at which the recording stops.
 * Refused, before any file is made, when a secret prompt does not
 * compile.
 */
struct recorder	*record_open(const char *root, const struct record_meta *,
		    unsigned long long max, char *err, size_t errlen);
/* The path of the file (owned by the recorder). */
const char	*record_path(const struct recorder *);
/*
 * Keep MIN_FREE percent of the recording's file system free (0: no
 * check).  Checked with one fstatvfs() as the file grows, more often as
 * the free space nears the minimum, and by every record_flush(); below
 * the minimum, the recording has failed (record_error() says so).
 */
void		 record_set_min_free(struct recorder *, unsigned min_free);
/*
 * Append an event, buffered.  0: recorded; 1: recorded, but it is the
 * last (the size limit or the free space minimum was reached with it);
 * -1: not recorded, the recording has failed (now or before).  After a
 * failed write nothing more is written, and the file ends with the last
 * whole event that was written.  TYPE is 'o' (output, which the masking
 * of keystrokes reads too), 'i' (input: one read of the user's keys,
 * recorded as secretmask.h says, as one event or several) or 'r' (a
 * resize, "COLSxROWS").
 */
int		 record_event(struct recorder *, unsigned long long usec,
		    char type, const void *data, size_t len)
		    __attribute__((warn_unused_result));
/*
 * The same, but the event, and every event before it, is in the file
 * (write(2) succeeded) when this returns 0 or 1: for keystrokes, which
 * may reach the session only once they are recorded.  -1: the event is
 * not in the file.
 */
int		 record_event_written(struct recorder *, unsigned long long usec,
		    char type, const void *data, size_t len)
		    __attribute__((warn_unused_result));
/* Write out what is buffered, and check the free space. */
int		 record_flush(struct recorder *)
		    __attribute__((warn_unused_result));
/* Why the last call failed. */
const char	*record_error(const struct recorder *);
/* Did it fail because the file system fell below the free minimum? */
bool		 record_space_low(const struct recorder *);
unsigned long long record_size(const struct recorder *);
/*
 * What the file holds so far, as the audit trail anchors it: the length
 * and the BLAKE2b-256 (crypto_generichash, no key) of every byte written
 * to it, in order, header included; HASH is lower-case hex.  Bytes still
 * buffered are not in it: record_flush() first.
 */
struct record_digest {
	char			hash[65];
	unsigned long long	bytes;
};
void		 record_digest(const struct recorder *, struct record_digest *);
/*
 * Write out everything (the recording is complete: nothing more will be
 * appended).  0, or -1 if the last bytes could not be written.
 */
int		 record_finish(struct recorder *)
		    __attribute__((warn_unused_result));
/* Flush and close; -1 if the last bytes could not be written. */
int		 record_close(struct recorder *);

/*
 * Append S (LEN bytes, any bytes at all) to B as the inside of a JSON
 * string.  Invalid UTF-8 becomes U+FFFD; an incomplete sequence at the
 * end is left out and its length returned in *CARRY so that the caller
 * can prepend it to the next chunk.
 */
struct buf;
void		 record_json_escape(struct buf *b, const unsigned char *s,
		    size_t len, bool final, size_t *carry);

/* Is the file system of ROOT at least MIN_FREE percent free? */
int		 record_space_ok(const char *root, unsigned min_free,
		    char *err, size_t errlen)
		    __attribute__((warn_unused_result));

#endif
