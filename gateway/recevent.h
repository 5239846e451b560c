/*
 * recevent.h — reading a recording (docs/recording-format.md): its lines,
 * plain or from a sealed file's authenticated frames, its asciicast v2
 * header, and one event line as time, type and data.  No output and no
 * clock: `muxgate replay` and `export` report what goes wrong.
 */
#ifndef MUXGATE_RECEVENT_H
#define MUXGATE_RECEVENT_H

#include <stdio.h>
#include "gateway/seal.h"

/* The lines of one recording, as a plain file or a sealed stream. */
struct recreader;

/*
 * Lines from FP, a plain asciicast file, when RD is NULL; else from RD,
 * a sealed recording opened on FP, whose header's asciicast header is the
 * first line.  Neither is taken: the caller frees them after the reader.
 */
struct recreader *recreader_new(FILE *fp, struct seal_reader *rd);
/*
 * The next line, with its '\n' when it has one, and its length in *LEN
 * (it may hold NUL bytes); owned by the reader until the next call.
 * NULL at the end.
 */
const char	*recreader_line(struct recreader *, size_t *len);
/*
 * For a sealed recording, once recreader_line() returned NULL: how its
 * frames ended (SEAL_COMPLETE, SEAL_TRUNCATED, SEAL_MODIFIED or
 * SEAL_ERROR) and why, or SEAL_OK while they have not.  A plain file's is
 * always SEAL_COMPLETE.
 */
enum seal_status recreader_end(const struct recreader *, const char **why);
void		 recreader_free(struct recreader *);

/*
 * Is LINE (a NUL-terminated first line) an asciicast v2 header, with
 * "version" the number 2?  0, or -1 with *ERRSTR "not an asciicast
 * header" (not JSON) or "not an asciicast v2 recording".
 */
int	recevent_header(const char *line, const char **errstr)
	    __attribute__((warn_unused_result));

/* One event: [TIME, "TYPE", "DATA"]. */
struct recevent {
	double		 at;	/* a JSON number of seconds, finite, >= 0 */
	const char	*type;	/* "o", "i", "m", "r", or what else it says */
	const char	*data;	/* LEN bytes, then a NUL; may hold NULs */
	size_t		 len;
	void		*json;	/* owns TYPE and DATA */
};

/*
 * Parse one event line (NUL-terminated).  0 with EV filled, to be freed
 * with recevent_free(), or -1 with *ERRSTR "malformed event" or "bad
 * time" and nothing to free.
 */
int	recevent_parse(const char *line, struct recevent *ev,
	    const char **errstr) __attribute__((warn_unused_result));
void	recevent_free(struct recevent *);
/*
 * A resize event's data, "COLSxROWS" (each from 1 to 65535), as the relay
 * records a window change.  0 with *COLS and *ROWS, or -1.
 */
int	recevent_resize(const char *data, size_t len, unsigned *cols,
	    unsigned *rows) __attribute__((warn_unused_result));

#endif
