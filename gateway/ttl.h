/*
 * ttl.h — session TTL tags in the shared state (state.h): `new --ttl`
 * and a rule's max_session_ttl write one, `muxgate reap` kills the
 * sessions whose time is up, `ls` shows the time left.
 *
 * A tag is the entry "ttl/HASH", HASH being 64 lowercase hex digits of
 * the BLAKE2b-256 of "HOST\0USER\0SESSION": the names hex-encoded would
 * not fit in a key (STATE_KEY_MAX) at their longest.  Its value is one
 * JSON object, exactly as ttl_encode() writes it:
 *
 *	{"host":H,"user":U,"session":S,"created":C,"ttl":T,"expires":E,"by":I}
 *
 * C is the session's own creation time as tmux reports it
 * (#{session_created}), so that a session made again under the same name
 * is not the tagged one; T the TTL in seconds; E = C + T; I the identity
 * that created it.  The entry itself expires TTL_KEEP after E, so that
 * a reap that could not reach the host in time still finds it.
 */
#ifndef MUXGATE_TTL_H
#define MUXGATE_TTL_H

#include <stdbool.h>
#include <stddef.h>

struct state;

#define TTL_PREFIX	"ttl"
#define TTL_KEY_LEN	(sizeof(TTL_PREFIX "/") - 1 + 64)
/* How long a tag outlives its expiry, for reap to act on it. */
#define TTL_KEEP	(7 * 86400)

struct ttl_tag {
	char		*host;
	char		*user;
	char		*session;
	char		*by;		/* the identity that created it */
	long long	 created;	/* #{session_created} */
	long long	 expires;	/* created + ttl */
	unsigned	 ttl;		/* seconds, more than 0 */
};

/* The key of the tag of HOST, USER, SESSION into KEY. */
void	ttl_key(const char *host, const char *user, const char *session,
	    char key[TTL_KEY_LEN + 1]);
/* T's value, as it is stored (caller frees).  T must be valid. */
char	*ttl_encode(const struct ttl_tag *t);
/*
 * The tag stored as KEY with VALUE (LEN bytes) into T (free it with
 * ttl_tag_free), or -1 with ERR when it is not exactly what ttl_encode()
 * writes for a valid tag under that key: not trusted, never acted on.
 */
int	ttl_decode(const char *key, const unsigned char *value, size_t len,
	    struct ttl_tag *t, char *err, size_t errlen)
	    __attribute__((warn_unused_result));
void	ttl_tag_free(struct ttl_tag *);

/*
 * Write T (replacing any older tag of the same session).  0, or -1 with
 * ERR.
 */
int	ttl_write(struct state *, const struct ttl_tag *t, char *err,
	    size_t errlen) __attribute__((warn_unused_result));

/*
 * Remove the tag of HOST, USER, SESSION, if there is one: a new session
 * of that name has been made without a TTL.  0, or -1 with ERR.
 */
int	ttl_clear(struct state *, const char *host, const char *user,
	    const char *session, char *err, size_t errlen)
	    __attribute__((warn_unused_result));

/* Every valid tag, for listings. */
struct ttl_tags {
	struct ttl_tag	*v;
	size_t		 n;
};
/*
 * The tags in the state at DIR (gateway.state); entries that do not
 * decode are left out.  0, or -1 with ERR (TAGS is then empty).
 */
int	ttl_load(const char *dir, struct ttl_tags *tags, char *err,
	    size_t errlen) __attribute__((warn_unused_result));
void	ttl_tags_free(struct ttl_tags *);
/*
 * When the session HOST, USER, SESSION created at CREATED is to be
 * killed: its tag's expiry, or 0 when it has no tag (a tag of an earlier
 * session of that name does not count).
 */
long long ttl_expires(const struct ttl_tags *, const char *host,
	    const char *user, const char *session, long long created);

/* SECS as the shortest exact duration: "90s", "5m", "36h", "7d". */
void	ttl_duration_text(unsigned secs, char *buf, size_t len);
/*
 * The time left, LEFT seconds, rounded down to its largest unit: "45s",
 * "4m", "3h", "2d"; "0s" when it is up.
 */
void	ttl_left_text(long long left, char *buf, size_t len);

#endif
