/*
 * state-int.h — what a backend of state.h implements, and the file
 * backend's own parser and writer, exposed for its fuzzer and tests.
 * Callers of the state use state.h only.
 *
 * state.c checks every argument (keys, prefixes, value lengths) and
 * reads the clock before a backend is called; a backend gets them
 * valid, and "now" from state.c, so that every backend expires alike.
 */
#ifndef MUXGATE_STATE_INT_H
#define MUXGATE_STATE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/state.h"

struct buf;

struct state_backend {
	const char	*name;
	/* A new handle on the state at WHERE, or NULL. */
	void		*(*open)(const char *where, char *err, size_t errlen);
	/* state_open_reader(): an existing state, never written. */
	void		*(*open_reader)(const char *where, char *err,
			    size_t errlen);
	void		 (*close)(void *);
	enum state_status (*get)(void *, const char *key, long long now,
			    struct state_entry *, char *err, size_t errlen);
	enum state_status (*put_if)(void *, const char *key,
			    const void *value, size_t len, long long expires,
			    uint64_t expected, long long now, uint64_t *version,
			    char *err, size_t errlen);
	enum state_status (*delete_if)(void *, const char *key,
			    uint64_t expected, long long now, char *err,
			    size_t errlen);
	/* PREFIX is "" or a key; ITEMS unsorted. */
	int		 (*list)(void *, const char *prefix, long long now,
			    struct state_items *, char *err, size_t errlen);
	/*
	 * A number that grows whenever something under PREFIX ("" or a
	 * key) is written or deleted, read only once the change can be:
	 * 0 and *GEN, 1 if a write is under way (*GEN unknown; the caller
	 * must count it a change), or -1.  It must not wait for writers.
	 */
	int		 (*generation)(void *, const char *prefix,
			    uint64_t *gen, char *err, size_t errlen);
	int		 (*sweep)(void *, long long now, size_t *removed,
			    char *err, size_t errlen);
};

extern const struct state_backend state_backend_file;

/* ---- the file backend's entry files (layout: state-file.c) ---- */

#define STATE_MAC_KEY_BYTES	32

/*
 * The bytes of an entry file, BUF (LEN bytes), that must carry the name
 * NAME (a key, or one of the backend's own names), authenticated with
 * MACKEY.  0 with OUT filled (free it with state_entry_free), or -1 with
 * ERR saying what is wrong (OUT is then empty).  Pure.
 */
int	state_file_parse(const unsigned char *buf, size_t len,
	    const unsigned char mackey[STATE_MAC_KEY_BYTES], const char *name,
	    struct state_entry *out, char *err, size_t errlen)
	    __attribute__((warn_unused_result));
/* The entry file of NAME, appended to OUT: what state_file_parse reads. */
void	state_file_format(struct buf *out,
	    const unsigned char mackey[STATE_MAC_KEY_BYTES], const char *name,
	    uint64_t version, long long expires, const void *value,
	    size_t len);

#endif
