/*
 * seal.c — sealed recordings, docs/recording-format.md: auditor keys
 * (X25519, crypto_box_seal), a header line that anyone can read and that
 * is the additional data of every frame, and frames of
 * crypto_secretstream_xchacha20poly1305.
 *
 * Every secret (auditor secret keys, stream keys and stream states, the
 * text of key files, decrypted frames) lives in sodium_malloc'd memory:
 * locked, guarded, and wiped by sodium_free.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <json-c/json.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway/seal.h"
#include "util/b64.h"
#include "util/fdio.h"
#include "gateway/str.h"
#include "gateway/xmalloc.h"

#define PUB_PREFIX	"muxgate-auditor-pub "
#define KEY_PREFIX	"muxgate-auditor-key "
#define PREFIX_LEN	(sizeof(PUB_PREFIX) - 1)
/* Standard base64 with padding of 32 bytes. */
#define KEY_B64_LEN	44
#define KEYFILE_LEN	(PREFIX_LEN + KEY_B64_LEN + 1)
/* A key file longer than this is not one; read no further. */
#define KEYFILE_READ	256
#define FP_PREFIX	"BLAKE2B:"
#define FP_PREFIX_LEN	(sizeof(FP_PREFIX) - 1)
#define BOX_BYTES	(crypto_secretstream_xchacha20poly1305_KEYBYTES + \
			    crypto_box_SEALBYTES)
#define STREAM_HDR_BYTES crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define ABYTES		crypto_secretstream_xchacha20poly1305_ABYTES
#define TAG_MESSAGE	crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
#define TAG_FINAL	crypto_secretstream_xchacha20poly1305_TAG_FINAL
/* Format 1 authenticated the whole header line with every frame. */
#define SEAL_V1		SEAL_FORMAT_OLDEST
#define SEAL_AD_BYTES	crypto_generichash_BYTES
/* The header is three levels deep; nothing honest is deeper than this. */
#define JSON_DEPTH	16

struct seal_secret {
	unsigned char	sk[crypto_box_SECRETKEYBYTES];
	unsigned char	pk[crypto_box_PUBLICKEYBYTES];
};

/* The secret part of a writer or reader, in sodium_malloc'd memory. */
struct stream_secret {
	unsigned char	key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	crypto_secretstream_xchacha20poly1305_state st;
};

static int
sodium_ready(char *err, size_t errlen)
{
	/* Idempotent; needed before any libsodium call. */
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium cannot be initialized");
		return -1;
	}
	return 0;
}

/*
 * Does S (SLEN bytes) decode as VARIANT (libsodium's, as it encodes) to
 * exactly BINLEN bytes?  Through the strict decoder: libsodium's takes
 * other bytes for '/', and a header would then have more than one text.
 */
static int
b64_exact(const char *s, size_t slen, unsigned char *bin, size_t binlen,
    int variant)
{
	size_t	n = 0;

	if (b64_decode(s, slen, bin, binlen, &n, variant ==
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING ? B64_NOPAD : 0) != 0)
		return -1;
	return n == binlen ? 0 : -1;
}

void
seal_fingerprint(const struct seal_pub *pub, char fp[SEAL_FP_LEN])
{
	unsigned char	h[crypto_generichash_BYTES];

	/* Only a hash of public data: no sodium_init() failure to report. */
	if (sodium_init() < 0)
		abort();
	crypto_generichash(h, sizeof(h), pub->pk, sizeof(pub->pk), NULL, 0);
	memcpy(fp, FP_PREFIX, FP_PREFIX_LEN);
	sodium_bin2base64(fp + FP_PREFIX_LEN, SEAL_FP_LEN - FP_PREFIX_LEN, h,
	    sizeof(h), sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

/* ---- key files ---- */

/* PREFIX, base64 of 32 bytes, '\n': the whole of a key file. */
static int
keyfile_parse(const char *text, size_t len, const char *prefix,
    unsigned char bin[SEAL_KEY_BYTES], const char *what, char *err,
    size_t errlen)
{
	const char	*other;

	if (len == KEYFILE_LEN && text[len - 1] == '\n' &&
	    memcmp(text, prefix, PREFIX_LEN) == 0) {
		if (b64_exact(text + PREFIX_LEN, KEY_B64_LEN, bin,
		    SEAL_KEY_BYTES, sodium_base64_VARIANT_ORIGINAL) == 0)
			return 0;
		snprintf(err, errlen, "bad base64 in the %s", what);
		return -1;
	}
	other = strcmp(prefix, PUB_PREFIX) == 0 ? KEY_PREFIX : PUB_PREFIX;
	if (len >= PREFIX_LEN && memcmp(text, other, PREFIX_LEN) == 0)
		snprintf(err, errlen, "not an auditor %s: a %s",
		    what, strcmp(prefix, PUB_PREFIX) == 0 ? "secret key" :
		    "public key");
	else
		snprintf(err, errlen, "not an auditor %s (one line "
		    "\"%sBASE64\")", what, prefix);
	return -1;
}

int
seal_pub_parse(const char *text, size_t len, struct seal_pub *pub,
    char *err, size_t errlen)
{
	if (sodium_ready(err, errlen) == -1)
		return -1;
	return keyfile_parse(text, len, PUB_PREFIX, pub->pk, "public key",
	    err, errlen);
}

struct seal_secret *
seal_secret_parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct seal_secret	*s;

	if (sodium_ready(err, errlen) == -1)
		return NULL;
	if ((s = sodium_malloc(sizeof(*s))) == NULL) {
		snprintf(err, errlen, "cannot allocate locked memory");
		return NULL;
	}
	if (keyfile_parse(text, len, KEY_PREFIX, s->sk, "secret key", err,
	    errlen) == -1)
		goto bad;
	if (crypto_scalarmult_base(s->pk, s->sk) != 0) {
		snprintf(err, errlen, "not a usable secret key");
		goto bad;
	}
	return s;
bad:
	sodium_free(s);
	return NULL;
}

void
seal_secret_pub(const struct seal_secret *s, struct seal_pub *pub)
{
	memcpy(pub->pk, s->pk, sizeof(pub->pk));
}

void
seal_secret_free(struct seal_secret *s)
{
	if (s != NULL)
		sodium_free(s);
}

/*
 * Read all of FD into BUF (CAP bytes); -1 if it holds more, or on a
 * read error.
 */
static ssize_t
read_small(int fd, char *buf, size_t cap, const char *path, char *err,
    size_t errlen)
{
	size_t	n = 0;
	ssize_t	r;

	for (;;) {
		if (n == cap) {
			snprintf(err, errlen, "%s: too long for a key file",
			    path);
			return -1;
		}
		if ((r = read(fd, buf + n, cap - n)) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "read %s: %s", path,
			    strerror(errno));
			return -1;
		}
		if (r == 0)
			return (ssize_t)n;
		n += (size_t)r;
	}
}

static int
open_regular(const char *path, int flags, struct stat *st, char *err,
    size_t errlen)
{
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | flags)) == -1) {
		snprintf(err, errlen, "%s: %s", path, errno == ELOOP &&
		    (flags & O_NOFOLLOW) ? "a symbolic link" : strerror(errno));
		return -1;
	}
	if (fstat(fd, st) == -1 || !S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	return fd;
}

int
seal_pub_load(const char *path, struct seal_pub *pub, char *err,
    size_t errlen)
{
	struct stat	 st;
	char		 text[KEYFILE_READ], why[256];
	ssize_t		 n;
	int		 fd;

	if ((fd = open_regular(path, 0, &st, err, errlen)) == -1)
		return -1;
	n = read_small(fd, text, sizeof(text), path, err, errlen);
	close(fd);
	if (n == -1)
		return -1;
	if (seal_pub_parse(text, (size_t)n, pub, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	return 0;
}

struct seal_secret *
seal_secret_load(const char *path, char *err, size_t errlen)
{
	struct seal_secret	*s = NULL;
	struct stat		 st;
	char			*text = NULL, why[256];
	ssize_t			 n;
	int			 fd;

	if (sodium_ready(err, errlen) == -1)
		return NULL;
	if ((fd = open_regular(path, O_NOFOLLOW, &st, err, errlen)) == -1)
		return NULL;
	/* As ssh does: a key others can read may already be theirs. */
	if ((st.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s: group or others have access to it "
		    "(mode %04o, should be 0600)", path,
		    (unsigned)(st.st_mode & 07777));
		goto out;
	}
	/* Not stdio: its buffer would keep a copy of the key. */
	if ((text = sodium_malloc(KEYFILE_READ)) == NULL) {
		snprintf(err, errlen, "cannot allocate locked memory");
		goto out;
	}
	if ((n = read_small(fd, text, KEYFILE_READ, path, err, errlen)) == -1)
		goto out;
	why[0] = '\0';
	if ((s = seal_secret_parse(text, (size_t)n, why, sizeof(why))) == NULL)
		snprintf(err, errlen, "%s: %s", path, why);
out:
	if (text != NULL)
		sodium_free(text);
	close(fd);
	return s;
}

/* PREFIX, base64 of KEY, '\n' into LINE (KEYFILE_LEN + 1 bytes). */
static void
keyfile_line(char *line, const char *prefix, const unsigned char *key)
{
	memcpy(line, prefix, PREFIX_LEN);
	sodium_bin2base64(line + PREFIX_LEN, KEY_B64_LEN + 1, key,
	    SEAL_KEY_BYTES, sodium_base64_VARIANT_ORIGINAL);
	line[KEYFILE_LEN - 1] = '\n';
	line[KEYFILE_LEN] = '\0';
}

/* Write, set the mode whatever the umask, and make it durable. */
static int
keyfile_write(int fd, const char *line, mode_t mode, const char *dir,
    const char *name, char *err, size_t errlen)
{
	if (fd_write_all(fd, line, KEYFILE_LEN) == -1 ||
	    fchmod(fd, mode) == -1 || fsync(fd) == -1) {
		snprintf(err, errlen, "write %s/%s: %s", dir, name,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* The directory a key pair goes to: ours or root's, closed to others. */
static int
keydir_open(const char *dir, char *err, size_t errlen)
{
	struct stat	st;
	int		dfd, e;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		/* A link to a directory fails with ENOTDIR or ELOOP. */
		e = errno;
		snprintf(err, errlen, "%s: %s", dir,
		    lstat(dir, &st) == 0 && S_ISLNK(st.st_mode) ?
		    "a symbolic link" : e == ENOTDIR ? "not a directory" :
		    strerror(e));
		return -1;
	}
	if (fstat(dfd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto bad;
	}
	if ((st.st_mode & 022) != 0) {
		snprintf(err, errlen, "refusing %s: group or others may write "
		    "it (mode %04o)", dir, (unsigned)(st.st_mode & 07777));
		goto bad;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		snprintf(err, errlen, "refusing %s: owned by uid %u, neither "
		    "this user nor root", dir, (unsigned)st.st_uid);
		goto bad;
	}
	return dfd;
bad:
	close(dfd);
	return -1;
}

static int
keyfile_create(int dfd, const char *dir, const char *name, mode_t mode,
    char *err, size_t errlen)
{
	int	fd;

	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, mode);
	if (fd == -1)
		snprintf(err, errlen, "%s/%s: %s", dir, name, errno == EEXIST ?
		    "exists; not overwriting it" : strerror(errno));
	return fd;
}

int
seal_keygen(const char *dir, char fp[SEAL_FP_LEN], char *err, size_t errlen)
{
	struct {
		struct seal_secret	key;
		char			line[KEYFILE_LEN + 1];
	}		*sec = NULL;
	struct seal_pub	 pub;
	char		 publine[KEYFILE_LEN + 1];
	bool		 madek = false, madep = false;
	int		 dfd, kfd = -1, pfd = -1, rk, rp, r = -1;

	if (sodium_ready(err, errlen) == -1)
		return -1;
	if ((dfd = keydir_open(dir, err, errlen)) == -1)
		return -1;
	/* Both names are taken before anything is written: all or nothing. */
	if ((kfd = keyfile_create(dfd, dir, SEAL_KEY_FILE, 0600, err,
	    errlen)) == -1)
		goto out;
	madek = true;
	if ((pfd = keyfile_create(dfd, dir, SEAL_PUB_FILE, 0644, err,
	    errlen)) == -1)
		goto out;
	madep = true;
	if ((sec = sodium_malloc(sizeof(*sec))) == NULL) {
		snprintf(err, errlen, "cannot allocate locked memory");
		goto out;
	}
	if (crypto_box_keypair(sec->key.pk, sec->key.sk) != 0) {
		snprintf(err, errlen, "cannot make a key pair");
		goto out;
	}
	keyfile_line(sec->line, KEY_PREFIX, sec->key.sk);
	keyfile_line(publine, PUB_PREFIX, sec->key.pk);
	if (keyfile_write(kfd, sec->line, 0600, dir, SEAL_KEY_FILE, err,
	    errlen) == -1 || keyfile_write(pfd, publine, 0644, dir,
	    SEAL_PUB_FILE, err, errlen) == -1)
		goto out;
	rk = close(kfd);
	rp = close(pfd);
	kfd = pfd = -1;
	if (rk == -1 || rp == -1) {
		snprintf(err, errlen, "close: %s", strerror(errno));
		goto out;
	}
	if (fsync(dfd) == -1) {
		snprintf(err, errlen, "fsync %s: %s", dir, strerror(errno));
		goto out;
	}
	seal_secret_pub(&sec->key, &pub);
	seal_fingerprint(&pub, fp);
	r = 0;
out:
	if (kfd != -1)
		close(kfd);
	if (pfd != -1)
		close(pfd);
	/* Only what this call created: an existing file is not ours. */
	if (r == -1 && madek)
		unlinkat(dfd, SEAL_KEY_FILE, 0);
	if (r == -1 && madep)
		unlinkat(dfd, SEAL_PUB_FILE, 0);
	if (sec != NULL)
		sodium_free(sec);
	close(dfd);
	return r;
}

/* ---- the header line ---- */

/*
 * A strict JSON recognizer (RFC 8259's grammar; json-c checks the
 * UTF-8), so that the exact text of a member can be cut out of the line:
 * json-c gives values but not where they were, and takes more than JSON
 * (single-quoted strings), which would put the cut in the wrong place.
 */
struct jscan {
	const char	*s;
	size_t		 len;
	size_t		 i;
	int		 depth;
};

/* Where a member's key (with its quotes) and its value are. */
struct member {
	size_t	key, keylen;
	size_t	val, vallen;
};

static int	js_value(struct jscan *);

static bool
js_is(const struct jscan *j, char c)
{
	return j->i < j->len && j->s[j->i] == c;
}

static void
js_ws(struct jscan *j)
{
	while (js_is(j, ' ') || js_is(j, '\t') || js_is(j, '\r') ||
	    js_is(j, '\n'))
		j->i++;
}

static bool
js_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

static int
js_string(struct jscan *j)
{
	unsigned char	c;
	int		k;

	if (!js_is(j, '"'))
		return -1;
	for (j->i++; j->i < j->len; j->i++) {
		c = (unsigned char)j->s[j->i];
		if (c == '"') {
			j->i++;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c != '\\')
			continue;
		if (++j->i >= j->len)
			return -1;
		c = (unsigned char)j->s[j->i];
		if (c == 'u') {
			for (k = 0; k < 4; k++)
				if (++j->i >= j->len || !js_hex(j->s[j->i]))
					return -1;
		} else if (c == '\0' || strchr("\"\\/bfnrt", c) == NULL)
			return -1;
	}
	return -1;
}

static int
js_digits(struct jscan *j)
{
	size_t	start = j->i;

	while (j->i < j->len && j->s[j->i] >= '0' && j->s[j->i] <= '9')
		j->i++;
	return j->i > start ? 0 : -1;
}

static int
js_number(struct jscan *j)
{
	if (js_is(j, '-'))
		j->i++;
	if (js_is(j, '0'))
		j->i++;
	else if (js_digits(j) == -1)
		return -1;
	if (js_is(j, '.')) {
		j->i++;
		if (js_digits(j) == -1)
			return -1;
	}
	if (js_is(j, 'e') || js_is(j, 'E')) {
		j->i++;
		if (js_is(j, '+') || js_is(j, '-'))
			j->i++;
		if (js_digits(j) == -1)
			return -1;
	}
	return 0;
}

static int
js_literal(struct jscan *j, const char *word)
{
	size_t	n = strlen(word);

	if (j->len - j->i < n || memcmp(j->s + j->i, word, n) != 0)
		return -1;
	j->i += n;
	return 0;
}

/* At '{': an object.  With M, its members are counted in *N, and the
 * first MAX noted. */
static int
js_object(struct jscan *j, struct member *m, size_t max, size_t *n)
{
	struct member	cur;

	j->i++;
	js_ws(j);
	if (js_is(j, '}')) {
		j->i++;
		return 0;
	}
	for (;;) {
		js_ws(j);
		cur.key = j->i;
		if (js_string(j) == -1)
			return -1;
		cur.keylen = j->i - cur.key;
		js_ws(j);
		if (!js_is(j, ':'))
			return -1;
		j->i++;
		js_ws(j);
		cur.val = j->i;
		if (js_value(j) == -1)
			return -1;
		cur.vallen = j->i - cur.val;
		if (m != NULL) {
			if (*n < max)
				m[*n] = cur;
			(*n)++;
		}
		js_ws(j);
		if (js_is(j, ',')) {
			j->i++;
			continue;
		}
		if (js_is(j, '}')) {
			j->i++;
			return 0;
		}
		return -1;
	}
}

static int
js_array(struct jscan *j)
{
	j->i++;
	js_ws(j);
	if (js_is(j, ']')) {
		j->i++;
		return 0;
	}
	for (;;) {
		js_ws(j);
		if (js_value(j) == -1)
			return -1;
		js_ws(j);
		if (js_is(j, ',')) {
			j->i++;
			continue;
		}
		if (js_is(j, ']')) {
			j->i++;
			return 0;
		}
		return -1;
	}
}

static int
js_value(struct jscan *j)
{
	int	r;

	if (j->i >= j->len)
		return -1;
	switch (j->s[j->i]) {
	case '{':
	case '[':
		/* Bounded recursion: nothing honest is this deep. */
		if (++j->depth > JSON_DEPTH)
			return -1;
		r = j->s[j->i] == '{' ? js_object(j, NULL, 0, NULL) :
		    js_array(j);
		j->depth--;
		return r;
	case '"':
		return js_string(j);
	case 't':
		return js_literal(j, "true");
	case 'f':
		return js_literal(j, "false");
	case 'n':
		return js_literal(j, "null");
	default:
		return js_number(j);
	}
}

/*
 * LINE (LEN bytes) as one JSON object: no control characters but
 * blanks, strict JSON, then json-c's parse of it.  With M, the top-level
 * members are counted in *N and the first MAX noted.  NULL if it is not
 * such an object.
 */
static struct json_object *
json_line(const char *line, size_t len, struct member *m, size_t max,
    size_t *n)
{
	struct jscan		 j = { line, len, 0, 1 };
	struct json_tokener	*tok;
	struct json_object	*o;
	size_t			 i;

	if (n != NULL)
		*n = 0;
	if (len >= SEAL_HEADER_MAX)
		return NULL;
	for (i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20 && line[i] != '\t' &&
		    line[i] != '\r')
			return NULL;
	js_ws(&j);
	if (!js_is(&j, '{') || js_object(&j, m, max, n) == -1)
		return NULL;
	js_ws(&j);
	if (j.i != len)
		return NULL;
	if ((tok = json_tokener_new()) == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, line, (int)len);
	if (o != NULL && (json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* An asciicast v2 header object? */
static bool
cast_ok(struct json_object *c)
{
	struct json_object	*v;

	return json_object_is_type(c, json_type_object) &&
	    json_object_object_get_ex(c, "version", &v) &&
	    json_object_is_type(v, json_type_int) &&
	    json_object_get_int64(v) == 2;
}

struct hdr_rec {
	char		fp[SEAL_FP_LEN];
	unsigned char	box[BOX_BYTES];
};

/* A header line, parsed; CAST is an offset into the line. */
struct hdr {
	int		 version;	/* "muxgate_sealed" */
	size_t		 cast, castlen;
	unsigned char	 stream[STREAM_HDR_BYTES];
	struct hdr_rec	*rec;
	size_t		 nrec;
};

static const char *const hdr_members[] = {
	"muxgate_sealed", "cast", "recipients", "stream"
};
#define HDR_MEMBERS	(sizeof(hdr_members) / sizeof(hdr_members[0]))

static void
hdr_free(struct hdr *h)
{
	free(h->rec);
	h->rec = NULL;
	h->nrec = 0;
}

/*
 * A first line that is not a valid header: one that names the member
 * only a sealed header has was a sealed header once, and was changed.
 */
static enum seal_status
hdr_bad(const char *line, size_t len)
{
	return memmem(line, len, "\"muxgate_sealed\"", 16) != NULL ?
	    SEAL_MODIFIED : SEAL_NOT_SEALED;
}

static int
hdr_recipients(struct json_object *a, struct hdr *h, char *err,
    size_t errlen)
{
	struct json_object	*e, *k, *b;
	unsigned char		 pk[SEAL_KEY_BYTES];
	size_t			 i, n;

	if (!json_object_is_type(a, json_type_array) ||
	    (n = json_object_array_length(a)) == 0) {
		snprintf(err, errlen, "header: \"recipients\" is not a "
		    "non-empty array");
		return -1;
	}
	h->rec = xcalloc(n, sizeof(*h->rec));
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(a, i);
		if (!json_object_is_type(e, json_type_object) ||
		    json_object_object_length(e) != 2 ||
		    !json_object_object_get_ex(e, "key", &k) ||
		    !json_object_object_get_ex(e, "box", &b) ||
		    !json_object_is_type(k, json_type_string) ||
		    !json_object_is_type(b, json_type_string)) {
			snprintf(err, errlen, "header: recipient %zu is not "
			    "{\"key\": ..., \"box\": ...}", i + 1);
			return -1;
		}
		if ((size_t)json_object_get_string_len(k) != SEAL_FP_LEN - 1 ||
		    memcmp(json_object_get_string(k), FP_PREFIX,
		    FP_PREFIX_LEN) != 0 ||
		    b64_exact(json_object_get_string(k) + FP_PREFIX_LEN,
		    SEAL_FP_LEN - 1 - FP_PREFIX_LEN, pk, sizeof(pk),
		    sodium_base64_VARIANT_ORIGINAL_NO_PADDING) == -1) {
			snprintf(err, errlen, "header: recipient %zu: bad key "
			    "fingerprint", i + 1);
			return -1;
		}
		memcpy(h->rec[i].fp, json_object_get_string(k), SEAL_FP_LEN);
		if (b64_exact(json_object_get_string(b),
		    (size_t)json_object_get_string_len(b), h->rec[i].box,
		    BOX_BYTES, sodium_base64_VARIANT_ORIGINAL) == -1) {
			snprintf(err, errlen, "header: recipient %zu: bad box",
			    i + 1);
			return -1;
		}
	}
	h->nrec = n;
	return 0;
}

/*
 * LINE (LEN bytes, no '\n') as a version 1 or 2 header: SEAL_OK,
 * SEAL_NOT_SEALED (not a sealed header, or another version) or
 * SEAL_MODIFIED (a sealed header that is not valid).
 */
static enum seal_status
hdr_parse(const char *line, size_t len, struct hdr *h, char *err,
    size_t errlen)
{
	struct member		 m[HDR_MEMBERS + 1];
	struct json_object	*root, *v;
	enum seal_status	 st = SEAL_MODIFIED;
	bool			 seen[HDR_MEMBERS] = { false };
	size_t			 n, i, k;

	memset(h, 0, sizeof(*h));
	if ((root = json_line(line, len, m, HDR_MEMBERS + 1, &n)) == NULL) {
		snprintf(err, errlen, "the first line is not one JSON object");
		return hdr_bad(line, len);
	}
	if (!json_object_object_get_ex(root, "muxgate_sealed", &v)) {
		snprintf(err, errlen, "not a sealed recording");
		st = SEAL_NOT_SEALED;
		goto out;
	}
	if (!json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < SEAL_FORMAT_OLDEST ||
	    json_object_get_int64(v) > SEAL_FORMAT) {
		snprintf(err, errlen, "sealed format %.20s is not supported "
		    "(only %d to %d)", json_object_to_json_string(v),
		    SEAL_FORMAT_OLDEST, SEAL_FORMAT);
		st = SEAL_NOT_SEALED;
		goto out;
	}
	h->version = (int)json_object_get_int64(v);
	if (n != HDR_MEMBERS) {
		snprintf(err, errlen, "header: %zu members, not %zu", n,
		    HDR_MEMBERS);
		goto out;
	}
	/* json-c keeps one of two members of the same name: refuse them. */
	for (i = 0; i < n; i++) {
		for (k = 0; k < HDR_MEMBERS; k++)
			if (m[i].keylen == strlen(hdr_members[k]) + 2 &&
			    memcmp(line + m[i].key + 1, hdr_members[k],
			    m[i].keylen - 2) == 0)
				break;
		if (k == HDR_MEMBERS || seen[k]) {
			snprintf(err, errlen, "header: unexpected or repeated "
			    "member %.*s", (int)(m[i].keylen > 40 ? 40 :
			    m[i].keylen), line + m[i].key);
			goto out;
		}
		seen[k] = true;
		if (k == 1) {
			h->cast = m[i].val;
			h->castlen = m[i].vallen;
		}
	}
	if (!json_object_object_get_ex(root, "cast", &v) || !cast_ok(v)) {
		snprintf(err, errlen, "header: \"cast\" is not an asciicast v2 "
		    "header");
		goto out;
	}
	if (!json_object_object_get_ex(root, "recipients", &v) ||
	    hdr_recipients(v, h, err, errlen) == -1)
		goto out;
	if (!json_object_object_get_ex(root, "stream", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    b64_exact(json_object_get_string(v),
	    (size_t)json_object_get_string_len(v), h->stream,
	    sizeof(h->stream), sodium_base64_VARIANT_ORIGINAL) == -1) {
		snprintf(err, errlen, "header: bad \"stream\"");
		goto out;
	}
	st = SEAL_OK;
out:
	json_object_put(root);
	if (st != SEAL_OK)
		hdr_free(h);
	return st;
}

/*
 * Version 2's additional data: the unkeyed BLAKE2b-256 of the header line
 * (no '\n').  Version 1 authenticated the whole line with every frame,
 * which cost a Poly1305 pass over some 600 bytes per keystroke.
 */
static void
header_ad(unsigned char ad[SEAL_AD_BYTES], const char *line, size_t len)
{
	crypto_generichash(ad, SEAL_AD_BYTES, (const unsigned char *)line,
	    len, NULL, 0);
}

/* ---- writing ---- */

struct seal_writer {
	struct stream_secret	*sec;
	unsigned char		 ad[SEAL_AD_BYTES];	/* hash of the header */
	bool			 closed;
};

/* The header line, without '\n', sealing SEC's key to the recipients. */
static int
writer_line(struct buf *line, const char *cast, size_t castlen,
    const struct seal_pub *recipients, size_t n,
    const struct stream_secret *sec, const unsigned char *shdr, char *err,
    size_t errlen)
{
	unsigned char	box[BOX_BYTES];
	char		fp[SEAL_FP_LEN];
	char		b64[sodium_base64_ENCODED_LEN(BOX_BYTES,
			    sodium_base64_VARIANT_ORIGINAL)];
	size_t		i;

	buf_printf(line, "{\"muxgate_sealed\":%d,\"cast\":", SEAL_FORMAT);
	buf_add(line, cast, castlen);
	buf_adds(line, ",\"recipients\":[");
	for (i = 0; i < n; i++) {
		if (crypto_box_seal(box, sec->key, sizeof(sec->key),
		    recipients[i].pk) != 0) {
			snprintf(err, errlen, "recipient %zu: not a usable "
			    "public key", i + 1);
			return -1;
		}
		seal_fingerprint(&recipients[i], fp);
		sodium_bin2base64(b64, sizeof(b64), box, sizeof(box),
		    sodium_base64_VARIANT_ORIGINAL);
		buf_printf(line, "%s{\"key\":\"%s\",\"box\":\"%s\"}",
		    i == 0 ? "" : ",", fp, b64);
	}
	sodium_bin2base64(b64, sizeof(b64), shdr, STREAM_HDR_BYTES,
	    sodium_base64_VARIANT_ORIGINAL);
	buf_printf(line, "],\"stream\":\"%s\"}", b64);
	if (line->len > SEAL_HEADER_MAX - 1) {
		snprintf(err, errlen, "the header line would be %zu bytes, "
		    "more than %d", line->len + 1, SEAL_HEADER_MAX);
		return -1;
	}
	return 0;
}

struct seal_writer *
seal_writer_new(const char *cast, size_t castlen,
    const struct seal_pub *recipients, size_t n, struct buf *out, char *err,
    size_t errlen)
{
	struct seal_writer	*w = NULL;
	struct stream_secret	*sec = NULL;
	struct json_object	*c = NULL;
	struct buf		 line = { NULL, 0, 0 };
	unsigned char		 shdr[STREAM_HDR_BYTES];

	if (sodium_ready(err, errlen) == -1)
		return NULL;
	if (n == 0) {
		snprintf(err, errlen, "no recipient");
		goto out;
	}
	if ((c = json_line(cast, castlen, NULL, 0, NULL)) == NULL ||
	    !cast_ok(c)) {
		snprintf(err, errlen, "not an asciicast v2 header on one line");
		goto out;
	}
	if ((sec = sodium_malloc(sizeof(*sec))) == NULL) {
		snprintf(err, errlen, "cannot allocate locked memory");
		goto out;
	}
	crypto_secretstream_xchacha20poly1305_keygen(sec->key);
	if (crypto_secretstream_xchacha20poly1305_init_push(&sec->st, shdr,
	    sec->key) != 0) {
		snprintf(err, errlen, "cannot start the stream");
		goto out;
	}
	if (writer_line(&line, cast, castlen, recipients, n, sec, shdr, err,
	    errlen) == -1)
		goto out;
	/* The boxes and the state hold it now: no copy is left around. */
	sodium_memzero(sec->key, sizeof(sec->key));
	w = xcalloc(1, sizeof(*w));
	w->sec = sec;
	sec = NULL;
	header_ad(w->ad, line.data, line.len);
	buf_add(out, line.data, line.len);
	buf_addc(out, '\n');
out:
	json_object_put(c);
	buf_free(&line);
	if (sec != NULL)
		sodium_free(sec);
	return w;
}

static void
put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

int
seal_writer_frame(struct seal_writer *w, const void *plain, size_t len,
    bool final, struct buf *out)
{
	const unsigned char	*p = plain;
	unsigned char		*f;
	size_t			 n;
	unsigned char		 tag;

	if (w->closed)
		return -1;
	if (len == 0 && !final)
		return 0;
	do {
		n = len < SEAL_FRAME_MAX ? len : SEAL_FRAME_MAX;
		tag = final && n == len ? TAG_FINAL : TAG_MESSAGE;
		f = buf_extend(out, 4 + ABYTES + n);
		put_be32(f, (uint32_t)(ABYTES + n));
		/* Cannot fail: N is far below the stream's limit. */
		(void)crypto_secretstream_xchacha20poly1305_push(&w->sec->st,
		    f + 4, NULL, p, n, w->ad, sizeof(w->ad), tag);
		p += n;
		len -= n;
	} while (len > 0);
	if (final)
		w->closed = true;
	return 0;
}

void
seal_writer_free(struct seal_writer *w)
{
	if (w == NULL)
		return;
	sodium_free(w->sec);
	free(w);
}

/* ---- reading ---- */

struct seal_reader {
	FILE			*fp;
	char			*line;	/* header line, no '\n' */
	size_t			 linelen;
	const unsigned char	*ad;	/* each frame's additional data */
	size_t			 adlen;
	unsigned char		 adhash[SEAL_AD_BYTES];
	char			*cast;
	size_t			 castlen;
	struct stream_secret	*sec;
	unsigned char		*cbuf;	/* a frame's ciphertext */
	size_t			 ccap;
	unsigned char		*pbuf;	/* plaintext, locked */
	size_t			 pcap;
	unsigned long long	 frames;
	unsigned long long	 offset;	/* of the next frame */
	bool			 verified;
	bool			 final;
	enum seal_status	 end;	/* SEAL_OK until the end */
	char			 why[160];
};

/* EOF inside the header line: a writer stopped, or not a header at all. */
static enum seal_status
line_cut(const char *line, size_t n, char *err, size_t errlen)
{
	size_t	i;

	for (i = 0; i < n && (line[i] == ' ' || line[i] == '\t' ||
	    line[i] == '\r'); i++)
		;
	if (i < n && line[i] != '{') {
		snprintf(err, errlen, "the first line is not one JSON object");
		return hdr_bad(line, n);
	}
	for (; i < n; i++)
		if ((unsigned char)line[i] < 0x20 && line[i] != '\t' &&
		    line[i] != '\r') {
			snprintf(err, errlen, "the first line is not text");
			return hdr_bad(line, n);
		}
	snprintf(err, errlen, n == 0 ? "the file is empty" :
	    "the file ends inside its header line");
	return SEAL_TRUNCATED;
}

/* The first line of FP, without its '\n', into LINE (SEAL_HEADER_MAX). */
static enum seal_status
read_line(FILE *fp, char *line, size_t *lenp, char *err, size_t errlen)
{
	size_t	n = 0;
	int	c;

	while (n < SEAL_HEADER_MAX) {
		if ((c = getc(fp)) == EOF) {
			if (ferror(fp)) {
				snprintf(err, errlen, "read: %s",
				    strerror(errno));
				return SEAL_ERROR;
			}
			return line_cut(line, n, err, errlen);
		}
		if (c == '\n') {
			*lenp = n;
			return SEAL_OK;
		}
		line[n++] = (char)c;
	}
	snprintf(err, errlen, "the first line is longer than %d bytes",
	    SEAL_HEADER_MAX);
	return hdr_bad(line, n);
}

/* Open the box of KEY's fingerprint into R's stream key. */
static enum seal_status
open_box(struct seal_reader *r, const struct hdr *h,
    const struct seal_secret *key, char *err, size_t errlen)
{
	struct seal_pub	pub;
	char		fp[SEAL_FP_LEN];
	bool		named = false;
	size_t		i;

	seal_secret_pub(key, &pub);
	seal_fingerprint(&pub, fp);
	for (i = 0; i < h->nrec; i++) {
		if (strcmp(h->rec[i].fp, fp) != 0)
			continue;
		named = true;
		if (crypto_box_seal_open(r->sec->key, h->rec[i].box, BOX_BYTES,
		    key->pk, key->sk) == 0)
			return SEAL_OK;
	}
	if (named)
		snprintf(err, errlen, "the stream key sealed to %s does not "
		    "open with this secret key", fp);
	else
		snprintf(err, errlen, "not sealed to %s (sealed to %zu other "
		    "key%s)", fp, h->nrec, h->nrec == 1 ? "" : "s");
	return SEAL_NOT_RECIPIENT;
}

enum seal_status
seal_reader_open(FILE *fp, const struct seal_secret *key,
    struct seal_reader **rp, char *err, size_t errlen)
{
	struct seal_reader	*r;
	struct hdr		 h = { 0, 0, 0, { 0 }, NULL, 0 };
	enum seal_status	 st;

	*rp = NULL;
	if (sodium_ready(err, errlen) == -1)
		return SEAL_ERROR;
	r = xcalloc(1, sizeof(*r));
	r->fp = fp;
	r->line = xmalloc(SEAL_HEADER_MAX);
	if ((st = read_line(fp, r->line, &r->linelen, err, errlen)) != SEAL_OK)
		goto out;
	r->line = xreallocarray(r->line, r->linelen + 1, 1);
	r->line[r->linelen] = '\0';
	if ((st = hdr_parse(r->line, r->linelen, &h, err, errlen)) != SEAL_OK)
		goto out;
	if ((r->sec = sodium_malloc(sizeof(*r->sec))) == NULL) {
		snprintf(err, errlen, "cannot allocate locked memory");
		st = SEAL_ERROR;
		goto out;
	}
	if ((st = open_box(r, &h, key, err, errlen)) != SEAL_OK)
		goto out;
	if (crypto_secretstream_xchacha20poly1305_init_pull(&r->sec->st,
	    h.stream, r->sec->key) != 0) {
		snprintf(err, errlen, "header: bad \"stream\"");
		st = SEAL_MODIFIED;
		goto out;
	}
	sodium_memzero(r->sec->key, sizeof(r->sec->key));
	if (h.version == SEAL_V1) {
		r->ad = (const unsigned char *)r->line;
		r->adlen = r->linelen;
	} else {
		header_ad(r->adhash, r->line, r->linelen);
		r->ad = r->adhash;
		r->adlen = sizeof(r->adhash);
	}
	r->cast = xstrndup(r->line + h.cast, h.castlen);
	r->castlen = h.castlen;
	r->offset = r->linelen + 1;
	r->end = SEAL_OK;
	*rp = r;
	r = NULL;
out:
	hdr_free(&h);
	seal_reader_free(r);
	return st;
}

const char *
seal_reader_cast(const struct seal_reader *r, size_t *len)
{
	if (len != NULL)
		*len = r->castlen;
	return r->cast;
}

bool
seal_reader_verified(const struct seal_reader *r)
{
	return r->verified;
}

static enum seal_status
reader_end(struct seal_reader *r, enum seal_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum seal_status
reader_end(struct seal_reader *r, enum seal_status st, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	r->end = st;
	return st;
}

/* Room for a plaintext of N bytes, in locked memory. */
static int
reader_room(struct seal_reader *r, size_t n)
{
	size_t	cap;

	if (n <= r->pcap && r->pbuf != NULL)
		return 0;
	cap = r->pcap == 0 ? 65536 : r->pcap;
	while (cap < n)
		cap *= 2;
	if (r->pbuf != NULL)
		sodium_free(r->pbuf);
	r->pcap = 0;
	if ((r->pbuf = sodium_malloc(cap)) == NULL)
		return -1;
	r->pcap = cap;
	return 0;
}

/* The next frame; on its end, the outcome (without its message). */
static enum seal_status
reader_frame(struct seal_reader *r, const unsigned char **plain, size_t *len)
{
	unsigned char		 lb[4], tag;
	unsigned long long	 mlen, n = r->frames + 1;
	size_t			 got;
	uint32_t		 clen;

	if (r->final) {
		if (getc(r->fp) != EOF)
			return reader_end(r, SEAL_MODIFIED, "data after the "
			    "final frame, at byte %llu", r->offset);
		if (ferror(r->fp))
			return reader_end(r, SEAL_ERROR, "read: %s",
			    strerror(errno));
		return reader_end(r, SEAL_COMPLETE, "complete: %llu frame%s",
		    r->frames, r->frames == 1 ? "" : "s");
	}
	got = fread(lb, 1, sizeof(lb), r->fp);
	if (got < sizeof(lb)) {
		if (ferror(r->fp))
			return reader_end(r, SEAL_ERROR, "read: %s",
			    strerror(errno));
		if (got == 0)
			return reader_end(r, SEAL_TRUNCATED, "the file ends "
			    "after frame %llu, without a final frame",
			    r->frames);
		return reader_end(r, SEAL_TRUNCATED, "the file ends inside "
		    "the length of frame %llu", n);
	}
	clen = (uint32_t)lb[0] << 24 | (uint32_t)lb[1] << 16 |
	    (uint32_t)lb[2] << 8 | lb[3];
	if (clen < ABYTES || clen > ABYTES + SEAL_FRAME_MAX)
		return reader_end(r, SEAL_MODIFIED, "frame %llu at byte %llu: "
		    "length %lu out of range", n, r->offset,
		    (unsigned long)clen);
	if (clen > r->ccap) {
		r->cbuf = xreallocarray(r->cbuf, clen, 1);
		r->ccap = clen;
	}
	if ((got = fread(r->cbuf, 1, clen, r->fp)) < clen) {
		if (ferror(r->fp))
			return reader_end(r, SEAL_ERROR, "read: %s",
			    strerror(errno));
		return reader_end(r, SEAL_TRUNCATED, "the file ends inside "
		    "frame %llu", n);
	}
	if (reader_room(r, clen - ABYTES) == -1)
		return reader_end(r, SEAL_ERROR, "cannot allocate locked "
		    "memory");
	if (crypto_secretstream_xchacha20poly1305_pull(&r->sec->st, r->pbuf,
	    &mlen, &tag, r->cbuf, clen, r->ad, r->adlen) != 0)
		return reader_end(r, SEAL_MODIFIED, "frame %llu at byte %llu "
		    "does not authenticate", n, r->offset);
	if (tag != TAG_MESSAGE && tag != TAG_FINAL) {
		sodium_memzero(r->pbuf, (size_t)mlen);
		return reader_end(r, SEAL_MODIFIED, "frame %llu at byte %llu: "
		    "unexpected tag %u", n, r->offset, (unsigned)tag);
	}
	r->final = tag == TAG_FINAL;
	r->verified = true;
	r->frames = n;
	r->offset += 4 + clen;
	*plain = r->pbuf;
	*len = (size_t)mlen;
	return SEAL_OK;
}

enum seal_status
seal_reader_next(struct seal_reader *r, const unsigned char **plain,
    size_t *len, char *err, size_t errlen)
{
	enum seal_status	st = r->end;

	*plain = NULL;
	*len = 0;
	if (st == SEAL_OK)
		st = reader_frame(r, plain, len);
	if (st != SEAL_OK)
		snprintf(err, errlen, "%s", r->why);
	return st;
}

void
seal_reader_free(struct seal_reader *r)
{
	if (r == NULL)
		return;
	if (r->sec != NULL)
		sodium_free(r->sec);
	if (r->pbuf != NULL)
		sodium_free(r->pbuf);
	free(r->cbuf);
	free(r->cast);
	free(r->line);
	free(r);
}

/* ---- without a key ---- */

int
seal_peek(const char *line, size_t len, struct seal_peek *p, char *err,
    size_t errlen)
{
	struct hdr		 h;
	struct json_object	*o;
	enum seal_status	 st;
	bool			 ok;
	size_t			 i;

	memset(p, 0, sizeof(*p));
	if (len > 0 && line[len - 1] == '\n')
		len--;
	st = hdr_parse(line, len, &h, err, errlen);
	if (st == SEAL_OK) {
		p->sealed = true;
		p->cast = xstrndup(line + h.cast, h.castlen);
		p->nrecipients = h.nrec;
		p->recipients = xcalloc(h.nrec, sizeof(*p->recipients));
		for (i = 0; i < h.nrec; i++)
			memcpy(p->recipients[i], h.rec[i].fp, SEAL_FP_LEN);
		hdr_free(&h);
		return 0;
	}
	if (st != SEAL_NOT_SEALED)
		return -1;
	if ((o = json_line(line, len, NULL, 0, NULL)) == NULL)
		return -1;
	if (json_object_object_get_ex(o, "muxgate_sealed", NULL)) {
		/* Another version: hdr_parse said so. */
		json_object_put(o);
		return -1;
	}
	ok = cast_ok(o);
	json_object_put(o);
	if (!ok) {
		snprintf(err, errlen, "not an asciicast v2 header");
		return -1;
	}
	p->cast = xstrndup(line, len);
	return 0;
}

void
seal_peek_free(struct seal_peek *p)
{
	free(p->cast);
	free(p->recipients);
	memset(p, 0, sizeof(*p));
}

enum seal_kind
seal_kind_of(const char *line, size_t len)
{
	struct seal_peek	p;
	enum seal_kind		k;
	char			err[128];

	if (seal_peek(line, len, &p, err, sizeof(err)) == -1)
		return SEAL_KIND_OTHER;
	k = p.sealed ? SEAL_KIND_SEALED : SEAL_KIND_PLAIN;
	seal_peek_free(&p);
	return k;
}
