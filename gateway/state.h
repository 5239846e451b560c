/*
 * state.h — state shared by every muxgate process of a gateway, without
 * a daemon: grants, termination requests, session TTL tags.  A small
 * key-value store: get, compare-and-set, delete, list by prefix, a cheap
 * poll for changes, and entries that expire.  What holds it is a backend
 * (state-int.h); callers see only struct state.  Nothing lives in
 * memory: every call reads and writes the backend, so other processes'
 * writes are seen at once and everything survives restarts.
 *
 * Library code: nothing is printed, errors go into ERR (ERRLEN bytes).
 * An entry that does not read back exactly as it was written (corrupt,
 * truncated, edited by hand, a symbolic link) is an error, "corrupt
 * entry KEY: why", never a value.
 */
#ifndef MUXGATE_STATE_H
#define MUXGATE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest key, and the largest value. */
#define STATE_KEY_MAX		200
#define STATE_VALUE_MAX		65536

/* The expected version of state_put_if and state_delete_if: */
#define STATE_NEW		0		/* the key must be absent */
#define STATE_ANY		UINT64_MAX	/* whatever is there */

struct state;

enum state_status {
	STATE_ERROR = -1,	/* ERR says why */
	STATE_OK,		/* found; written; deleted */
	STATE_ABSENT,		/* no such key (or it has expired) */
	STATE_CONFLICT,		/* not the expected version: nothing done */
};

struct state_entry {
	/*
	 * Set by every write, larger than any version the key had before,
	 * even across a delete: a version is never reused for its key.
	 */
	uint64_t	 version;
	long long	 expires;	/* seconds since the epoch; 0: never */
	unsigned char	*value;		/* LEN bytes, then a NUL not counted */
	size_t		 len;
};

struct state_item {
	char			*key;
	struct state_entry	 entry;
};
struct state_items {
	struct state_item	*v;	/* sorted by key */
	size_t			 n;
	/*
	 * The entries that could not be read (refused: not written by
	 * this state, a link, too large; or unreadable): not in V, each
	 * named here with why, "corrupt entry KEY: WHY", in key order.
	 */
	char			**bad;
	size_t			  nbad;
};

/*
 * The state at WHERE.  For now that is only a directory (an absolute
 * path: gateway.state), for the file backend: created 0700 if missing,
 * refused unless it belongs to this user and nobody else can write it.
 * NULL on failure.  A struct state is not to be shared across fork():
 * the child opens its own.
 */
struct state	*state_open(const char *where, char *err, size_t errlen);
/*
 * The existing state at WHERE, to read only (every write is refused):
 * for its owner, or for root, who then trusts the files of the state's
 * owner (an administrator's muxgate check).  Nothing is created.
 */
struct state	*state_open_reader(const char *where, char *err,
		    size_t errlen);
/* NULL is fine. */
void		 state_close(struct state *);

/*
 * A key is 1 to STATE_KEY_MAX bytes: segments of [a-z0-9_-] separated
 * by single '/', none empty ("grant/7f3a9c2e1b4d5a60",
 * "ttl/bastion/deploy/6275696c64").  Anything else (a '.', uppercase, a
 * leading or trailing '/') is refused by every call.
 */
bool		 state_key_valid(const char *key);

/*
 * KEY's entry into OUT (free it with state_entry_free): STATE_OK,
 * STATE_ABSENT (OUT is then empty; so is an expired entry) or
 * STATE_ERROR.
 */
enum state_status state_get(struct state *, const char *key,
		    struct state_entry *out, char *err, size_t errlen)
		    __attribute__((warn_unused_result));
void		 state_entry_free(struct state_entry *);

/*
 * Compare-and-set, atomic against every other writer of the state:
 * write LEN (at most STATE_VALUE_MAX) bytes of VALUE as KEY if its
 * current version is EXPECTED (STATE_NEW: absent or expired; STATE_ANY:
 * anything).  EXPIRES is when the entry stops existing (0: never).
 * STATE_OK with the new version in *VERSION (unless NULL),
 * STATE_CONFLICT, or STATE_ERROR.
 */
enum state_status state_put_if(struct state *, const char *key,
		    const void *value, size_t len, long long expires,
		    uint64_t expected, uint64_t *version, char *err,
		    size_t errlen) __attribute__((warn_unused_result));
/*
 * Delete KEY if its version is EXPECTED (or STATE_ANY): STATE_OK,
 * STATE_ABSENT (nothing to delete), STATE_CONFLICT or STATE_ERROR.
 */
enum state_status state_delete_if(struct state *, const char *key,
		    uint64_t expected, char *err, size_t errlen)
		    __attribute__((warn_unused_result));

/*
 * The live entries under PREFIX: "" is every key; "a/b" (or "a/b/") is
 * "a/b" itself and the keys beginning "a/b/", not "a/bc".  An entry
 * that cannot be read is left out and named in ITEMS->bad, so that one
 * bad file hides nothing else.  0, or -1 with ERR set when the state
 * cannot be listed at all (then ITEMS is empty).  Free with
 * state_items_free.
 */
int		 state_list(struct state *, const char *prefix,
		    struct state_items *items, char *err, size_t errlen)
		    __attribute__((warn_unused_result));
void		 state_items_free(struct state_items *);

/*
 * Has anything under PREFIX been written or deleted since *COOKIE was
 * set?  Start with *COOKIE 0 (then anything ever written is a change);
 * each call brings it up to date.  1 (changed), 0 (not), -1 (ERR set).
 * Cheap enough to call every second, and it never waits for a writer.
 * It may report a change that is not one (elsewhere: the file backend
 * counts per first segment of the key; or a write under way, reported
 * again once done), never miss one: a change is reported once it can
 * be read.  An entry that merely expires is a change only when
 * state_sweep removes it.
 */
int		 state_changed(struct state *, const char *prefix,
		    uint64_t *cookie, char *err, size_t errlen)
		    __attribute__((warn_unused_result));

/*
 * Remove the entries that expired at NOW or before, and what crashed
 * writers left behind; the number removed in *REMOVED (unless NULL).
 * A corrupt entry is left where it is: -1 with ERR naming it, after
 * every other entry was swept.
 */
int		 state_sweep(struct state *, long long now, size_t *removed,
		    char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
