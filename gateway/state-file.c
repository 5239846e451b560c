/*
 * state-file.c — the state (state.h) in files under gateway.state, for
 * the muxgate processes of one gateway.  No daemon and no memory: every
 * call opens what it needs, so a process sees the others' writes at
 * once, and a restart of anything loses nothing.
 *
 * Layout, under STATE (gateway.state, 0700, ours):
 *
 *   state.key        32 random bytes, the MAC key of every entry file;
 *                    0600, made once by the first open (linked into
 *                    place whole, so a concurrent first open reads it
 *                    complete or not at all)
 *   kv/              0700: one file per entry, and the backend's own
 *   kv/grant.7f3a    the entry of key "grant/7f3a": the key with '/'
 *                    turned into '.', a byte no key has, so the store is
 *                    flat and no key can reach outside kv/
 *   kv/.lock         flock()ed: exclusively by every write, and tried
 *                    shared by a poll, which reads counters only when
 *                    no write is under way (and calls one a change)
 *   kv/.gen.grant    the counter of the keys under "grant/": an entry
 *                    named ".gen/grant", empty, whose version is the
 *                    largest any such key has had.  A write takes its
 *                    version from it (one more), and makes it durable
 *                    before the change, so that a version is never
 *                    reused, even by a key deleted and made again.
 *                    state_changed() reads it.
 *   kv/.tmp-HEX      an entry being written, only while the lock is
 *                    held: anything of the kind the lock finds is left
 *                    by a crash, and state_sweep() removes it
 *
 * Names that begin with '.' are the backend's (no key does); names that
 * are not keys with '/' turned into '.' are nobody's, and ignored.
 *
 * An entry file, exactly:
 *
 *   muxgate-state 1 NAME VERSION EXPIRES LEN\n
 *   VALUE
 *   \nmac HEX\n
 *
 * NAME is the key (or ".gen/SEGMENT"), the one its file name encodes;
 * VERSION (at least 1), EXPIRES (seconds since the epoch, 0 for never)
 * and LEN (at most STATE_VALUE_MAX) are decimal without leading zeros;
 * VALUE is LEN bytes of anything; HEX is 64 lowercase hex digits, the
 * BLAKE2b-256 of everything before the trailer (the header line and the
 * value) keyed with state.key.  Anything else, one byte more or less
 * included, is refused: "corrupt entry NAME: why".  So is a file that
 * is not a regular file of ours, closed to others, with one link: a
 * symbolic link, a hard link or a file carried over from another key.
 *
 * Writes: the lock, the current entry read (and checked), the version
 * compared, then a temporary file written and fsync()ed, renamed over
 * the entry, and the directory fsync()ed.  Reads take no lock: a file is
 * only ever replaced whole, by rename().
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway/dirs.h"
#include "gateway/state-int.h"
#include "gateway/str.h"
#include "gateway/xmalloc.h"
#include "util/fdio.h"
#include "util/num.h"

#define KEY_FILE	"state.key"
#define KV_DIR		"kv"
#define LOCK_FILE	".lock"
#define GEN_NAME	".gen/"
#define TMP_PREFIX	".tmp-"

#define MAGIC		"muxgate-state 1 "
#define MAGIC_LEN	(sizeof(MAGIC) - 1)
#define TRAILER_TAG	"\nmac "
#define TAG_LEN		(sizeof(TRAILER_TAG) - 1)
#define MAC_BYTES	crypto_generichash_BYTES
#define TRAILER_LEN	(TAG_LEN + 2 * MAC_BYTES + 1)
/* The magic, a name, three numbers, their blanks and '\n', with room. */
#define HEADER_MAX	512
#define FILE_MAX	(HEADER_MAX + STATE_VALUE_MAX + TRAILER_LEN)
/* A name: a key, or ".gen/" and a key's first segment. */
#define NAME_MAX_LEN	(sizeof(GEN_NAME) - 1 + STATE_KEY_MAX)

struct fstate {
	char		*kv;		/* STATE/kv, for messages */
	int		 dfd;		/* STATE/kv */
	unsigned char	*mackey;	/* sodium_malloc'd */
	uid_t		 owner;		/* of every file and directory */
	bool		 readonly;	/* state_open_reader() */
};

static int
corrupt(char *err, size_t errlen, const char *name, const char *why)
{
	snprintf(err, errlen, "corrupt entry %s: %s", name, why);
	return -1;
}

/* ---- the entry file, pure ---- */

static void
mac_of(unsigned char mac[MAC_BYTES], const unsigned char *p, size_t len,
    const unsigned char mackey[STATE_MAC_KEY_BYTES])
{
	crypto_generichash(mac, MAC_BYTES, p, len, mackey,
	    STATE_MAC_KEY_BYTES);
}

void
state_file_format(struct buf *out,
    const unsigned char mackey[STATE_MAC_KEY_BYTES], const char *name,
    uint64_t version, long long expires, const void *value, size_t len)
{
	unsigned char	mac[MAC_BYTES];
	char		hex[2 * MAC_BYTES + 1];
	size_t		start = out->len;

	buf_printf(out, MAGIC "%s %llu %lld %zu\n", name,
	    (unsigned long long)version, expires, len);
	buf_add(out, value, len);
	mac_of(mac, (unsigned char *)out->data + start, out->len - start,
	    mackey);
	sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
	buf_adds(out, TRAILER_TAG);
	buf_adds(out, hex);
	buf_addc(out, '\n');
}

/* The next blank-separated field of *P, NUL-terminated; NULL if none. */
static char *
field(char **p)
{
	char	*f = *p, *sp;

	if (f == NULL || *f == '\0' || *f == ' ')
		return NULL;
	if ((sp = strchr(f, ' ')) != NULL) {
		*sp = '\0';
		*p = sp + 1;
	} else
		*p = NULL;
	return f;
}

/* S as a decimal from MIN to MAX, written as we write it (no "007"). */
static int
number(const char *s, long long min, long long max, long long *out)
{
	const char	*errstr;

	if (s == NULL || (s[0] == '0' && s[1] != '\0'))
		return -1;
	return num_parse(s, min, max, out, &errstr);
}

/* The header line HDR (its '\n' replaced by a NUL) into OUT and *VLEN. */
static int
header_parse(char *hdr, const char *name, struct state_entry *out,
    size_t *vlen, char *err, size_t errlen)
{
	char		*p = hdr + MAGIC_LEN, *inner;
	long long	 version, expires, len;

	if (strncmp(hdr, MAGIC, MAGIC_LEN) != 0)
		return corrupt(err, errlen, name, "not a state entry of "
		    "version 1");
	if ((inner = field(&p)) == NULL || strcmp(inner, name) != 0)
		/* Whatever it names is not printed: it is anybody's text. */
		return corrupt(err, errlen, name, "it names another entry");
	if (number(field(&p), 1, INT64_MAX, &version) == -1)
		return corrupt(err, errlen, name, "bad version");
	if (number(field(&p), 0, INT64_MAX, &expires) == -1)
		return corrupt(err, errlen, name, "bad expiry");
	if (number(field(&p), 0, STATE_VALUE_MAX, &len) == -1)
		return corrupt(err, errlen, name, "bad length");
	if (p != NULL)
		return corrupt(err, errlen, name, "extra fields");
	out->version = (uint64_t)version;
	out->expires = expires;
	*vlen = (size_t)len;
	return 0;
}

int
state_file_parse(const unsigned char *buf, size_t len,
    const unsigned char mackey[STATE_MAC_KEY_BYTES], const char *name,
    struct state_entry *out, char *err, size_t errlen)
{
	unsigned char	 mac[MAC_BYTES];
	char		 hdr[HEADER_MAX], hex[2 * MAC_BYTES + 1];
	const unsigned char *nl, *trailer;
	size_t		 hlen, vlen;

	memset(out, 0, sizeof(*out));
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium cannot be initialized");
		return -1;
	}
	if (len == 0)
		return corrupt(err, errlen, name, "empty");
	nl = memchr(buf, '\n', len < HEADER_MAX ? len : HEADER_MAX);
	if (nl == NULL)
		return corrupt(err, errlen, name, "no header line");
	hlen = (size_t)(nl - buf) + 1;
	if (memchr(buf, '\0', hlen) != NULL)
		return corrupt(err, errlen, name, "a NUL in the header");
	memcpy(hdr, buf, hlen - 1);
	hdr[hlen - 1] = '\0';
	if (header_parse(hdr, name, out, &vlen, err, errlen) == -1)
		goto bad;
	if (len != hlen + vlen + TRAILER_LEN) {
		corrupt(err, errlen, name, len < hlen + vlen + TRAILER_LEN ?
		    "truncated" : "bytes after its end");
		goto bad;
	}
	trailer = buf + hlen + vlen;
	mac_of(mac, buf, hlen + vlen, mackey);
	sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
	if (memcmp(trailer, TRAILER_TAG, TAG_LEN) != 0 ||
	    trailer[TRAILER_LEN - 1] != '\n') {
		corrupt(err, errlen, name, "no MAC line");
		goto bad;
	}
	if (sodium_memcmp(trailer + TAG_LEN, hex, 2 * MAC_BYTES) != 0) {
		corrupt(err, errlen, name, "bad MAC (changed, or written "
		    "with another state.key)");
		goto bad;
	}
	out->value = xmalloc(vlen + 1);
	memcpy(out->value, buf + hlen, vlen);
	out->value[vlen] = '\0';
	out->len = vlen;
	return 0;
bad:
	memset(out, 0, sizeof(*out));
	return -1;
}

/* ---- names ---- */

/* The file of NAME: '/' becomes '.', which no key has. */
static void
file_name(char fname[NAME_MAX_LEN + 1], const char *name)
{
	size_t	i;

	for (i = 0; name[i] != '\0' && i < NAME_MAX_LEN; i++)
		fname[i] = name[i] == '/' ? '.' : name[i];
	fname[i] = '\0';
}

/* The counter's name of KEY (or a prefix): ".gen/" and its first segment. */
static void
gen_name(char name[NAME_MAX_LEN + 1], const char *key)
{
	size_t	seg = strcspn(key, "/");

	/* Keys are checked: the segment fits, and the snprintf cannot fail. */
	(void)snprintf(name, NAME_MAX_LEN + 1, "%s%.*s", GEN_NAME, (int)seg,
	    key);
}

static bool
expired(const struct state_entry *e, long long now)
{
	return e->expires != 0 && e->expires <= now;
}

/* ---- files ---- */

/* A directory of OWNER that nobody else can write. */
static int
dir_check(int fd, uid_t owner, const char *path, char *err, size_t errlen)
{
	struct stat	st;

	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != owner ||
	    (st.st_mode & 022) != 0) {
		snprintf(err, errlen, "refusing %s: not a directory of uid %u "
		    "closed to others", path, (unsigned)owner);
		return -1;
	}
	return 0;
}

static int
dir_open(int at, const char *name, uid_t owner, const char *path, char *err,
    size_t errlen)
{
	int	fd;

	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", path, errno == ELOOP ||
		    errno == ENOTDIR ? "not a directory" : strerror(errno));
		return -1;
	}
	if (dir_check(fd, owner, path, err, errlen) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Take the store's lock (LOCK_EX, or LOCK_SH, either with LOCK_NB): its
 * fd, -1 (ERR set), or -2 if LOCK_NB found it held.
 */
static int
lock_take(struct fstate *fs, int how, char *err, size_t errlen)
{
	int	fd;

	/* A reader never makes a file that would not be the owner's. */
	fd = openat(fs->dfd, LOCK_FILE, (fs->readonly ? O_RDONLY :
	    O_RDWR | O_CREAT) | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1) {
		snprintf(err, errlen, "%s/%s: %s", fs->kv, LOCK_FILE,
		    strerror(errno));
		return -1;
	}
	while (flock(fd, how) == -1) {
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK) {
			close(fd);
			return -2;
		}
		snprintf(err, errlen, "lock %s/%s: %s", fs->kv, LOCK_FILE,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* All of FD, which fstat() said is SIZE bytes, into a new *BUF. */
static int
read_all(int fd, size_t size, unsigned char **bufp, const char *name,
    char *err, size_t errlen)
{
	unsigned char	*buf = xmalloc(size + 1);
	size_t		 n = 0;
	ssize_t		 r;

	/* One byte more than SIZE: a file that grows was changed in place. */
	while (n < size + 1) {
		if ((r = read(fd, buf + n, size + 1 - n)) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "read entry %s: %s", name,
			    strerror(errno));
			free(buf);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n != size) {
		free(buf);
		return corrupt(err, errlen, name, "changed while read");
	}
	*bufp = buf;
	return 0;
}

/* A file that only this backend could have made; its size in *SIZE. */
static int
entry_stat_ok(int fd, uid_t owner, const char *name, size_t *size, char *err,
    size_t errlen)
{
	struct stat	st;
	char		why[64];

	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "entry %s: %s", name, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode))
		return corrupt(err, errlen, name, "not a regular file");
	if (st.st_uid != owner) {
		snprintf(why, sizeof(why), "owned by uid %u",
		    (unsigned)st.st_uid);
		return corrupt(err, errlen, name, why);
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(why, sizeof(why), "mode %04o, open to others",
		    (unsigned)(st.st_mode & 07777));
		return corrupt(err, errlen, name, why);
	}
	if (st.st_nlink != 1)
		return corrupt(err, errlen, name, "more than one link");
	if (st.st_size > (off_t)FILE_MAX)
		return corrupt(err, errlen, name, "too large");
	*size = (size_t)st.st_size;
	return 0;
}

/*
 * NAME's entry, expired or not, into OUT: STATE_OK, STATE_ABSENT (no
 * file), or STATE_ERROR.
 */
static enum state_status
entry_read(struct fstate *fs, const char *name, struct state_entry *out,
    char *err, size_t errlen)
{
	char		 fname[NAME_MAX_LEN + 1];
	unsigned char	*buf = NULL;
	size_t		 size;
	int		 fd, r;

	memset(out, 0, sizeof(*out));
	file_name(fname, name);
	/* O_NONBLOCK: a FIFO put there must not hang us before fstat. */
	fd = openat(fs->dfd, fname, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT)
			return STATE_ABSENT;
		if (errno == ELOOP)
			corrupt(err, errlen, name, "a symbolic link");
		else
			snprintf(err, errlen, "entry %s: %s", name,
			    strerror(errno));
		return STATE_ERROR;
	}
	if (entry_stat_ok(fd, fs->owner, name, &size, err, errlen) == -1 ||
	    read_all(fd, size, &buf, name, err, errlen) == -1) {
		close(fd);
		return STATE_ERROR;
	}
	close(fd);
	r = state_file_parse(buf, size, fs->mackey, name, out, err,
	    errlen);
	free(buf);
	return r == 0 ? STATE_OK : STATE_ERROR;
}

/* DATA as NAME's file, whole or not at all, and durable. */
static int
file_write(struct fstate *fs, const char *name, const struct buf *data,
    char *err, size_t errlen)
{
	unsigned char	rnd[8];
	char		tmp[sizeof(TMP_PREFIX) + 2 * sizeof(rnd)];
	char		fname[NAME_MAX_LEN + 1];
	int		fd;

	randombytes_buf(rnd, sizeof(rnd));
	memcpy(tmp, TMP_PREFIX, sizeof(TMP_PREFIX) - 1);
	sodium_bin2hex(tmp + sizeof(TMP_PREFIX) - 1, 2 * sizeof(rnd) + 1, rnd,
	    sizeof(rnd));
	file_name(fname, name);
	fd = openat(fs->dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1) {
		snprintf(err, errlen, "%s/%s: %s", fs->kv, tmp, strerror(errno));
		return -1;
	}
	if (fd_write_all(fd, data->data, data->len) == -1 || fsync(fd) == -1) {
		snprintf(err, errlen, "write entry %s: %s", name,
		    strerror(errno));
		(void)close(fd);
		goto bad;
	}
	if (close(fd) == -1 || renameat(fs->dfd, tmp, fs->dfd, fname) == -1) {
		snprintf(err, errlen, "write entry %s: %s", name,
		    strerror(errno));
		goto bad;
	}
	if (fsync(fs->dfd) == -1) {
		snprintf(err, errlen, "fsync %s: %s", fs->kv, strerror(errno));
		return -1;
	}
	return 0;
bad:
	(void)unlinkat(fs->dfd, tmp, 0);
	return -1;
}

static int
entry_write(struct fstate *fs, const char *name, uint64_t version,
    long long expires, const void *value, size_t len, char *err,
    size_t errlen)
{
	struct buf	data = { NULL, 0, 0 };
	int		r;

	state_file_format(&data, fs->mackey, name, version, expires, value,
	    len);
	r = file_write(fs, name, &data, err, errlen);
	buf_free(&data);
	return r;
}

/* ---- the counters of versions and changes ---- */

/* The counter NAME (".gen/SEGMENT"); 0 when there is none yet. */
static int
gen_read(struct fstate *fs, const char *name, uint64_t *gen, char *err,
    size_t errlen)
{
	struct state_entry	e;

	switch (entry_read(fs, name, &e, err, errlen)) {
	case STATE_ABSENT:
		*gen = 0;
		return 0;
	case STATE_OK:
		*gen = e.version;
		state_entry_free(&e);
		return 0;
	default:
		return -1;
	}
}

/*
 * The next version for KEY, above its counter and above LEAST (the
 * version KEY has now), made durable in the counter before the caller
 * makes any change with it.  Under the lock.
 */
static int
gen_next(struct fstate *fs, const char *key, uint64_t least, uint64_t *v,
    char *err, size_t errlen)
{
	char		name[NAME_MAX_LEN + 1];
	uint64_t	gen;

	gen_name(name, key);
	if (gen_read(fs, name, &gen, err, errlen) == -1)
		return -1;
	if (least > gen)
		gen = least;
	if (gen >= INT64_MAX) {
		snprintf(err, errlen, "state %s: out of versions", key);
		return -1;
	}
	*v = gen + 1;
	return entry_write(fs, name, *v, 0, NULL, 0, err, errlen);
}

/* ---- the backend ---- */

/* STATE/state.key: 0 and the key, 1 if there is none, -1 if unusable. */
static int
mackey_read(int sfd, uid_t owner, const char *state, unsigned char *key,
    char *err, size_t errlen)
{
	struct stat	st;
	ssize_t		n;
	int		fd;

	fd = openat(sfd, KEY_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT)
		return 1;
	if (fd == -1 || fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s/%s: %s", state, KEY_FILE,
		    errno == ELOOP ? "a symbolic link" : strerror(errno));
		goto bad;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != owner ||
	    (st.st_mode & 077) != 0 || st.st_size != STATE_MAC_KEY_BYTES) {
		snprintf(err, errlen, "refusing %s/%s: not a file of %d bytes "
		    "of uid %u closed to others (mode 0600)", state, KEY_FILE,
		    STATE_MAC_KEY_BYTES, (unsigned)owner);
		goto bad;
	}
	do
		n = pread(fd, key, STATE_MAC_KEY_BYTES, 0);
	while (n == -1 && errno == EINTR);
	if (n != STATE_MAC_KEY_BYTES) {
		snprintf(err, errlen, "read %s/%s: %s", state, KEY_FILE,
		    n == -1 ? strerror(errno) : "short read");
		goto bad;
	}
	close(fd);
	return 0;
bad:
	if (fd != -1)
		close(fd);
	return -1;
}

/*
 * A new state.key, linked into place only once written: of two first
 * opens at once, one links its key and the other finds it there.
 */
static int
mackey_make(int sfd, const char *state, char *err, size_t errlen)
{
	unsigned char	key[STATE_MAC_KEY_BYTES], rnd[8];
	char		tmp[sizeof(KEY_FILE) + 1 + 2 * sizeof(rnd)];
	int		fd, r = -1;

	/* "state.key-" and 16 hex digits: no other open's name. */
	randombytes_buf(rnd, sizeof(rnd));
	memcpy(tmp, KEY_FILE "-", sizeof(KEY_FILE));
	sodium_bin2hex(tmp + sizeof(KEY_FILE), 2 * sizeof(rnd) + 1, rnd,
	    sizeof(rnd));
	fd = openat(sfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1) {
		snprintf(err, errlen, "%s/%s: %s", state, tmp, strerror(errno));
		return -1;
	}
	randombytes_buf(key, sizeof(key));
	if (fd_write_all(fd, key, sizeof(key)) == -1 || fsync(fd) == -1) {
		snprintf(err, errlen, "write %s/%s: %s", state, tmp,
		    strerror(errno));
		(void)close(fd);
		goto out;
	}
	if (close(fd) == -1) {
		snprintf(err, errlen, "close %s/%s: %s", state, tmp,
		    strerror(errno));
		goto out;
	}
	if (linkat(sfd, tmp, sfd, KEY_FILE, 0) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "%s/%s: %s", state, KEY_FILE,
		    strerror(errno));
		goto out;
	}
	r = 0;
out:
	sodium_memzero(key, sizeof(key));
	(void)unlinkat(sfd, tmp, 0);
	if (r == 0 && fsync(sfd) == -1) {
		snprintf(err, errlen, "fsync %s: %s", state, strerror(errno));
		r = -1;
	}
	return r;
}

static int
mackey_load(int sfd, const char *state, unsigned char *key, char *err,
    size_t errlen)
{
	int	r;

	if ((r = mackey_read(sfd, geteuid(), state, key, err, errlen)) != 1)
		return r;
	if (mackey_make(sfd, state, err, errlen) == -1)
		return -1;
	if ((r = mackey_read(sfd, geteuid(), state, key, err, errlen)) == 1)
		snprintf(err, errlen, "%s/%s: gone as soon as made", state,
		    KEY_FILE);
	return r == 0 ? 0 : -1;
}

static void
fs_close(void *h)
{
	struct fstate	*fs = h;

	if (fs == NULL)
		return;
	if (fs->dfd != -1)
		close(fs->dfd);
	if (fs->mackey != NULL)
		sodium_free(fs->mackey);
	free(fs->kv);
	free(fs);
}

static struct fstate *
fs_new(const char *state, char *err, size_t errlen)
{
	struct fstate	*fs;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium cannot be initialized");
		return NULL;
	}
	fs = xcalloc(1, sizeof(*fs));
	fs->dfd = -1;
	fs->owner = geteuid();
	xasprintf(&fs->kv, "%s/%s", state, KV_DIR);
	if ((fs->mackey = sodium_malloc(STATE_MAC_KEY_BYTES)) == NULL) {
		snprintf(err, errlen, "cannot allocate locked memory");
		fs_close(fs);
		return NULL;
	}
	return fs;
}

static void *
fs_open(const char *state, char *err, size_t errlen)
{
	struct fstate	*fs;
	int		 sfd = -1;

	if ((fs = fs_new(state, err, errlen)) == NULL)
		return NULL;
	/* dirs_private makes it; the fd is what is checked and used. */
	if (dirs_private(state, err, errlen) == -1 ||
	    (sfd = dir_open(AT_FDCWD, state, fs->owner, state, err,
	    errlen)) == -1)
		goto bad;
	if (mackey_load(sfd, state, fs->mackey, err, errlen) == -1)
		goto bad;
	if (mkdirat(sfd, KV_DIR, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", fs->kv,
		    strerror(errno));
		goto bad;
	}
	if ((fs->dfd = dir_open(sfd, KV_DIR, fs->owner, fs->kv, err,
	    errlen)) == -1)
		goto bad;
	close(sfd);
	return fs;
bad:
	if (sfd != -1)
		close(sfd);
	fs_close(fs);
	return NULL;
}

/*
 * Open an existing state to read it only: as its owner, or as root on
 * behalf of an administrator (muxgate check), who then trusts the files
 * of the directory's owner and makes none.
 */
static void *
fs_open_reader(const char *state, char *err, size_t errlen)
{
	struct fstate	*fs;
	struct stat	 st;
	int		 sfd = -1, r;

	if ((fs = fs_new(state, err, errlen)) == NULL)
		return NULL;
	fs->readonly = true;
	sfd = open(state, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd == -1 || fstat(sfd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", state, errno == ELOOP ||
		    errno == ENOTDIR ? "not a directory" : strerror(errno));
		goto bad;
	}
	if (geteuid() == 0)
		fs->owner = st.st_uid;
	if (dir_check(sfd, fs->owner, state, err, errlen) == -1)
		goto bad;
	if ((r = mackey_read(sfd, fs->owner, state, fs->mackey, err,
	    errlen)) != 0) {
		if (r == 1)
			snprintf(err, errlen, "%s/%s: %s", state, KEY_FILE,
			    strerror(ENOENT));
		goto bad;
	}
	if ((fs->dfd = dir_open(sfd, KV_DIR, fs->owner, fs->kv, err,
	    errlen)) == -1)
		goto bad;
	close(sfd);
	return fs;
bad:
	if (sfd != -1)
		close(sfd);
	fs_close(fs);
	return NULL;
}

static enum state_status
fs_get(void *h, const char *key, long long now, struct state_entry *out,
    char *err, size_t errlen)
{
	enum state_status	r;

	if ((r = entry_read(h, key, out, err, errlen)) == STATE_OK &&
	    expired(out, now)) {
		state_entry_free(out);
		return STATE_ABSENT;
	}
	return r;
}

/* Is CUR (as entry_read found it: R) the version EXPECTED? */
static bool
version_is(enum state_status r, const struct state_entry *cur,
    long long now, uint64_t expected)
{
	bool	live = r == STATE_OK && !expired(cur, now);

	if (expected == STATE_ANY)
		return true;
	if (expected == STATE_NEW)
		return !live;
	return live && cur->version == expected;
}

static enum state_status
fs_put_if(void *h, const char *key, const void *value, size_t len,
    long long expires, uint64_t expected, long long now, uint64_t *version,
    char *err, size_t errlen)
{
	struct fstate		*fs = h;
	struct state_entry	 cur;
	enum state_status	 r;
	uint64_t		 v;
	int			 lfd;

	if ((lfd = lock_take(fs, LOCK_EX, err, errlen)) == -1)
		return STATE_ERROR;
	if ((r = entry_read(fs, key, &cur, err, errlen)) == STATE_ERROR)
		goto out;
	if (!version_is(r, &cur, now, expected)) {
		r = STATE_CONFLICT;
		goto out;
	}
	/* An expired entry's version counts too: it is never reused. */
	if (gen_next(fs, key, cur.version, &v, err, errlen) == -1 ||
	    entry_write(fs, key, v, expires, value, len, err, errlen) == -1) {
		r = STATE_ERROR;
		goto out;
	}
	if (version != NULL)
		*version = v;
	r = STATE_OK;
out:
	state_entry_free(&cur);
	close(lfd);
	return r;
}

/* Remove KEY's file, its version first counted; under the lock. */
static int
entry_remove(struct fstate *fs, const char *key, uint64_t version,
    char *err, size_t errlen)
{
	char		fname[NAME_MAX_LEN + 1];
	uint64_t	v;

	if (gen_next(fs, key, version, &v, err, errlen) == -1)
		return -1;
	file_name(fname, key);
	if (unlinkat(fs->dfd, fname, 0) == -1 && errno != ENOENT) {
		snprintf(err, errlen, "remove entry %s: %s", key,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static enum state_status
fs_delete_if(void *h, const char *key, uint64_t expected, long long now,
    char *err, size_t errlen)
{
	struct fstate		*fs = h;
	struct state_entry	 cur;
	enum state_status	 r;
	int			 lfd;

	if ((lfd = lock_take(fs, LOCK_EX, err, errlen)) == -1)
		return STATE_ERROR;
	if ((r = entry_read(fs, key, &cur, err, errlen)) != STATE_OK)
		goto out;
	if (expired(&cur, now))
		r = STATE_ABSENT;	/* state_sweep's to remove */
	else if (!version_is(r, &cur, now, expected))
		r = STATE_CONFLICT;
	else if (entry_remove(fs, key, cur.version, err, errlen) == -1)
		r = STATE_ERROR;
	else if (fsync(fs->dfd) == -1) {
		snprintf(err, errlen, "fsync %s: %s", fs->kv, strerror(errno));
		r = STATE_ERROR;
	}
out:
	state_entry_free(&cur);
	close(lfd);
	return r;
}

/* A new directory stream of the store, its own offset. */
static DIR *
kv_opendir(struct fstate *fs, char *err, size_t errlen)
{
	DIR	*d;
	int	 fd;

	fd = openat(fs->dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		snprintf(err, errlen, "%s: %s", fs->kv, strerror(errno));
		if (fd != -1)
			close(fd);
		return NULL;
	}
	return d;
}

/* The key a file name encodes, into KEY; false if it is none. */
static bool
key_of(const char *fname, char key[STATE_KEY_MAX + 1])
{
	size_t	i;

	for (i = 0; fname[i] != '\0'; i++) {
		if (i == STATE_KEY_MAX)
			return false;
		key[i] = fname[i] == '.' ? '/' : fname[i];
	}
	key[i] = '\0';
	return state_key_valid(key);
}

/*
 * Is file FNAME the entry of a key under PREFIX, PREFIX given as a file
 * name (FPREFIX, LEN bytes)?  A key and its file name differ only by
 * '/' and '.', byte for byte, so the file name answers before it is
 * turned into a key: a listing reads every name of kv/, and most are
 * not under the prefix.
 */
static bool
under(const char *fname, const char *fprefix, size_t len)
{
	return len == 0 || (strncmp(fname, fprefix, len) == 0 &&
	    (fname[len] == '\0' || fname[len] == '.'));
}

static int
fs_list(void *h, const char *prefix, long long now,
    struct state_items *items, char *err, size_t errlen)
{
	struct fstate		*fs = h;
	struct state_entry	 e;
	struct dirent		*de;
	enum state_status	 r;
	char			 key[STATE_KEY_MAX + 1], why[512];
	char			 fprefix[NAME_MAX_LEN + 1];
	size_t			 len;
	DIR			*d;

	file_name(fprefix, prefix);
	len = strlen(fprefix);
	if ((d = kv_opendir(fs, err, errlen)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !under(de->d_name, fprefix, len) ||
		    !key_of(de->d_name, key))
			continue;
		if ((r = entry_read(fs, key, &e, why, sizeof(why))) ==
		    STATE_ABSENT)
			continue;	/* deleted since readdir saw it */
		if (r == STATE_ERROR) {
			items->bad = xreallocarray(items->bad, items->nbad + 1,
			    sizeof(*items->bad));
			items->bad[items->nbad++] = xstrdup(why);
			continue;
		}
		if (expired(&e, now)) {
			state_entry_free(&e);
			continue;
		}
		items->v = xreallocarray(items->v, items->n + 1,
		    sizeof(*items->v));
		items->v[items->n].key = xstrdup(key);
		items->v[items->n++].entry = e;
	}
	closedir(d);
	return 0;
}

/* The sum of every counter: it grows with any of them. */
static int
gen_sum(struct fstate *fs, uint64_t *sum, char *err, size_t errlen)
{
	struct dirent	*de;
	uint64_t	 gen;
	char		 key[STATE_KEY_MAX + 1], name[NAME_MAX_LEN + 1];
	DIR		*d;
	int		 rc = 0;

	*sum = 0;
	if ((d = kv_opendir(fs, err, errlen)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, ".gen.", 5) != 0 ||
		    !key_of(de->d_name + 5, key) || strchr(key, '/') != NULL)
			continue;
		gen_name(name, key);
		if (gen_read(fs, name, &gen, err, errlen) == -1) {
			rc = -1;
			break;
		}
		*sum += gen;
	}
	closedir(d);
	return rc;
}

static int
fs_generation(void *h, const char *prefix, uint64_t *gen, char *err,
    size_t errlen)
{
	struct fstate	*fs = h;
	char		 name[NAME_MAX_LEN + 1];
	int		 lfd, r;

	/*
	 * A writer counts before it changes, and holds the lock till done:
	 * the counter is read only when no write is under way.  Waiting
	 * for one could stall a relay behind a slow fsync(); "busy" costs
	 * the caller a list at most, and the next poll sees the count.
	 */
	if ((lfd = lock_take(fs, LOCK_SH | LOCK_NB, err, errlen)) < 0)
		return lfd == -2 ? 1 : -1;
	if (prefix[0] == '\0')
		r = gen_sum(fs, gen, err, errlen);
	else {
		gen_name(name, prefix);
		r = gen_read(fs, name, gen, err, errlen);
	}
	close(lfd);
	return r;
}

/* One name of the store: swept (1), kept (0), or corrupt (-1). */
static int
sweep_one(struct fstate *fs, const char *fname, long long now, char *err,
    size_t errlen)
{
	struct state_entry	e;
	enum state_status	r;
	char			key[STATE_KEY_MAX + 1];
	int			rc = 0;

	if (strncmp(fname, TMP_PREFIX, sizeof(TMP_PREFIX) - 1) == 0) {
		/* Under the lock, nobody is writing it: a crash left it. */
		return unlinkat(fs->dfd, fname, 0) == 0 ? 1 : 0;
	}
	if (fname[0] == '.' || !key_of(fname, key))
		return 0;
	if ((r = entry_read(fs, key, &e, err, errlen)) != STATE_OK)
		return r == STATE_ERROR ? -1 : 0;
	if (expired(&e, now))
		rc = entry_remove(fs, key, e.version, err, errlen) == -1 ?
		    -1 : 1;
	state_entry_free(&e);
	return rc;
}

static int
fs_sweep(void *h, long long now, size_t *removed, char *err, size_t errlen)
{
	struct fstate	*fs = h;
	struct dirent	*de;
	char		 why[512];
	DIR		*d;
	int		 lfd, r, rc = 0;

	*removed = 0;
	if ((lfd = lock_take(fs, LOCK_EX, err, errlen)) == -1)
		return -1;
	if ((d = kv_opendir(fs, err, errlen)) == NULL) {
		close(lfd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if ((r = sweep_one(fs, de->d_name, now, why,
		    sizeof(why))) == 1)
			(*removed)++;
		else if (r == -1 && rc == 0) {
			/* The first error is the one reported; go on. */
			snprintf(err, errlen, "%s", why);
			rc = -1;
		}
	}
	closedir(d);
	if (*removed > 0 && fsync(fs->dfd) == -1 && rc == 0) {
		snprintf(err, errlen, "fsync %s: %s", fs->kv, strerror(errno));
		rc = -1;
	}
	close(lfd);
	return rc;
}

const struct state_backend state_backend_file = {
	.name = "file",
	.open = fs_open,
	.open_reader = fs_open_reader,
	.close = fs_close,
	.get = fs_get,
	.put_if = fs_put_if,
	.delete_if = fs_delete_if,
	.list = fs_list,
	.generation = fs_generation,
	.sweep = fs_sweep,
};
