/*
 * record.h — one attach, one asciicast v2 file: a JSON header line, then
 * [seconds, "o"|"i"|"r", data] events.  Buffered, written out at least
 * once a second by the relay and on close, so that a killed relay loses
 * at most the last second and leaves a file that still replays.
 */
#ifndef MUXGATE_RECORD_H
#define MUXGATE_RECORD_H

#include <stdbool.h>
#include <stddef.h>

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
};

struct recorder;

/*
 * Create ROOT/IDENTITY/YYYYMMDD-HHMMSS-ATTACHID.cast (directories 0700,
 * created if missing, refused if others may write them; file 0600) and
 * write the header.  MAX is the size at which the recording stops.
 */
struct recorder	*record_open(const char *root, const struct record_meta *,
		    unsigned long long max, char *err, size_t errlen);
/* The path of the file (owned by the recorder). */
const char	*record_path(const struct recorder *);
/* Append an event; -1 when the recording failed or reached its limit. */
int		 record_event(struct recorder *, unsigned long long usec,
		    char type, const void *data, size_t len)
		    __attribute__((warn_unused_result));
int		 record_flush(struct recorder *)
		    __attribute__((warn_unused_result));
/* Why the last call failed. */
const char	*record_error(const struct recorder *);
unsigned long long record_size(const struct recorder *);
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
