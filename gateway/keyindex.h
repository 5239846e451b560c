/*
 * keyindex.h — the compiled key index that `muxgate keys` reads instead
 * of parsing the whole policy on every SSH authentication attempt.
 *
 * The index maps the SHA-256 of every key in the policy to what
 * authorized_keys needs of its identity (name, disabled, expiry, from:),
 * and names the gateway account.  It records the BLAKE2b-256 of the
 * policy file's bytes it was compiled from and the muxgate version that
 * compiled it: a reader uses it only when both match, so that an index
 * is never trusted once the policy (or the program) changed.  The byte
 * layout is in keyindex.c.  Library code: nothing is printed, errors go
 * into ERR.
 */
#ifndef MUXGATE_KEYINDEX_H
#define MUXGATE_KEYINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define KEYINDEX_HASH_BYTES	32	/* BLAKE2b-256 of the policy file */
#define KEYINDEX_KEY_BYTES	32	/* SHA-256 of a key's wire blob */
/* The file beside the policy: CONFIG + this suffix. */
#define KEYINDEX_SUFFIX		".keys"

struct buf;
struct policy;
struct stat;

/* What identifies the policy file as it was compiled (keyindex.c). */
struct keyindex_stamp {
	uint64_t	dev, ino, size;
	int64_t		mtime_sec, ctime_sec;
	uint32_t	mtime_nsec, ctime_nsec;
};
void	keyindex_stamp_of(const struct stat *, struct keyindex_stamp *);
bool	keyindex_stamp_equal(const struct keyindex_stamp *,
	    const struct keyindex_stamp *);
/*
 * Has the clock moved past the stamp's ctime, so that any later change
 * of the file will change its stamp?
 */
bool	keyindex_stamp_settled(const struct keyindex_stamp *);

/* What an authorized_keys line says of one identity. */
struct keys_entry {
	const char	*name;
	const char	*from;		/* "A,B,..." for from=, or NULL */
	time_t		 expires;	/* 0: never */
	bool		 disabled;
};

struct policy_identity;

/* The entry of an identity; its FROM is built into SCRATCH. */
void	keys_entry_of(const struct policy_identity *, struct keys_entry *,
	    struct buf *scratch);

/*
 * Append the authorized_keys line for the key BLOB (LEN bytes) of E to
 * OUT: restrict,pty,command="EXE shell -f CONFIG --identity NAME", then
 * from="..." and expiry-time="..." when E has them, the key, and
 * "muxgate:NAME" as its comment.  Names, key types and base64 are checked
 * to need no escaping; paths and addresses go through quote_key_option().
 * -1 with ERR (OUT unchanged) when a part cannot be written safely.
 */
int	keys_line(struct buf *out, const char *exe, const char *config,
	    const struct keys_entry *, const unsigned char *blob, size_t len,
	    char *err, size_t errlen);

/*
 * Compile P, loaded from a file whose bytes hash to POLICY_HASH, into
 * OUT; the number of keys into *NKEYS.  STAMP is the file's, when it is
 * settled (it then stands for the bytes), or NULL.  -1 with ERR when a
 * key entry of P cannot be indexed (it always can for a policy that
 * loaded).
 */
int	keyindex_build(const struct policy *,
	    const unsigned char policy_hash[KEYINDEX_HASH_BYTES],
	    const struct keyindex_stamp *, struct buf *out, size_t *nkeys,
	    char *err, size_t errlen);

struct keyindex;

/*
 * Check that LEN bytes at DATA are the header and sizes of an index
 * written by this version of muxgate; NULL with ERR otherwise.  The index
 * points into DATA, which must outlive it.
 */
struct keyindex	*keyindex_open(const unsigned char *data, size_t len,
		    char *err, size_t errlen);
void		 keyindex_free(struct keyindex *);
/* Was it compiled from a policy file whose bytes hash to POLICY_HASH? */
bool		 keyindex_fresh(const struct keyindex *,
		    const unsigned char policy_hash[KEYINDEX_HASH_BYTES]);
/* Was it compiled from the file of this stamp, recorded as settled? */
bool		 keyindex_stamp_matches(const struct keyindex *,
		    const struct keyindex_stamp *);
const char	*keyindex_account(const struct keyindex *);
/*
 * The identity holding the key of this SHA-256: 1, 0 when none holds it,
 * -1 when the entry found is not valid (the index must not be used).
 */
int		 keyindex_find(const struct keyindex *,
		    const unsigned char key[KEYINDEX_KEY_BYTES],
		    struct keys_entry *);

#endif
