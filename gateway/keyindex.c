/*
 * keyindex.c — the compiled key index (keyindex.h).
 *
 * Layout, every integer little-endian:
 *
 *	offset	size
 *	0	8	magic "MGKEYIDX"
 *	8	4	layout version, 1
 *	12	32	the muxgate version that wrote it, NUL-padded
 *	44	32	BLAKE2b-256 of the policy file's bytes
 *	76	4	NIDENTS
 *	80	4	NKEYS
 *	84	4	STRSIZE, the size of the string area
 *	88	4	the gateway account (an offset into the string area)
 *	92	4	1 when the stamp below may stand for the policy's
 *			bytes, else 0 (the hash must be compared)
 *	96	8	the policy file's st_dev,
 *	104	8	st_ino,
 *	112	8	st_size,
 *	120	8	st_mtim seconds, 128 4 its nanoseconds,
 *	132	4	st_ctim nanoseconds, 136 8 its seconds
 *	144		NIDENTS identities of 24 bytes: name (offset), from
 *			(offset, or 0xffffffff for none), expires (8 bytes,
 *			seconds since the epoch, 0 for never), flags (bit 0:
 *			disabled; no other bit set), 4 zero bytes
 *	...		NKEYS keys of 36 bytes: the SHA-256 of the key's wire
 *			blob, then the identity (an index into the above);
 *			sorted by the SHA-256, no two alike
 *	...		STRSIZE bytes of NUL-terminated strings
 *
 * and nothing after.  keyindex_open() checks the header and that the
 * sizes add up; keyindex_find() checks every field of what it answers
 * with (a name that is not a policy name, a from: entry with a character
 * an address cannot have, an offset outside the strings or a string
 * without its NUL, an identity out of range): such an index is refused,
 * never half-used.  Checking only what is used keeps a lookup to a few
 * pages of a large index.  Keys out of order can only make a key not
 * found: the search compares whole SHA-256 values.
 *
 * The stamp.  Reading and hashing a large policy on every lookup would
 * cost more than the index saves, so --index also records the policy
 * file's identity and times.  Any change to a file moves its ctime to
 * the clock's current tick, and the kernel's clock only moves forward
 * between ticks: once the clock has passed the recorded ctime, no later
 * change can leave it as it was.  keys_stamp_settled() says whether that
 * is so; an index written before it was records the stamp as not valid,
 * and its readers compare the content hash instead.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "gateway/keyindex.h"
#include "gateway/quote.h"
#include "gateway/str.h"
#include "gateway/xmalloc.h"
#include "policy/policy.h"
#include "util/b64.h"

#define MAGIC		"MGKEYIDX"
#define LAYOUT		1
#define VERSION_LEN	32
#define HDR_BYTES	144
#define IDENT_BYTES	24
#define KEY_BYTES	(KEYINDEX_KEY_BYTES + 4)
#define NO_STRING	0xffffffffU
#define FLAG_DISABLED	1U
/* Far above any policy that loads (4 MiB); keeps the sizes in range. */
#define MAX_ENTRIES	(1U << 24)

struct keyindex {
	const unsigned char	*hdr;
	const unsigned char	*hash;
	const unsigned char	*idents;
	const unsigned char	*keys;
	const char		*strings;
	uint32_t		 nidents, nkeys, strsize;
	const char		*account;
};

static void
put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t
get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
put_le64(unsigned char *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t
get_le64(const unsigned char *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

void
keys_entry_of(const struct policy_identity *id, struct keys_entry *e,
    struct buf *scratch)
{
	size_t	k, n;

	e->name = policy_identity_name(id);
	e->disabled = policy_identity_disabled(id);
	e->expires = policy_identity_expires(id);
	e->from = NULL;
	if ((n = policy_identity_from_count(id)) == 0)
		return;
	scratch->len = 0;
	for (k = 0; k < n; k++) {
		if (k > 0)
			buf_addc(scratch, ',');
		buf_adds(scratch, policy_identity_from_at(id, k));
	}
	e->from = scratch->data;
}

/* ---- one authorized_keys line ---- */

/* A key type as authorized_keys may carry it. */
#define KEY_TYPE_MAX	64

/* The key type a wire blob names, if it is one authorized_keys can carry. */
static int
blob_type(const unsigned char *blob, size_t len, char type[KEY_TYPE_MAX + 1])
{
	size_t	n, i;

	if (len < 4)
		return -1;
	n = (size_t)blob[0] << 24 | (size_t)blob[1] << 16 |
	    (size_t)blob[2] << 8 | blob[3];
	if (n == 0 || n > KEY_TYPE_MAX || n > len - 4)
		return -1;
	for (i = 0; i < n; i++) {
		type[i] = (char)blob[4 + i];
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789@.-_+", type[i]) == NULL || type[i] == '\0')
			return -1;
	}
	type[n] = '\0';
	return 0;
}

int
keys_line(struct buf *out, const char *exe, const char *config,
    const struct keys_entry *e, const unsigned char *blob, size_t len,
    char *err, size_t errlen)
{
	struct argv	 cmd = { NULL, 0 };
	struct tm	 tm;
	char		 type[KEY_TYPE_MAX + 1], when[32], *line, *b64;
	size_t		 b64len, start = out->len;
	int		 r = -1;

	if (blob_type(blob, len, type) == -1) {
		snprintf(err, errlen, "identity %s: a key of a type "
		    "authorized_keys cannot carry", e->name);
		return -1;
	}
	argv_add(&cmd, exe);
	argv_add(&cmd, "shell");
	argv_add(&cmd, "-f");
	argv_add(&cmd, config);
	argv_add(&cmd, "--identity");
	argv_add(&cmd, e->name);
	line = quote_argv(&cmd);
	buf_adds(out, "restrict,pty,command=");
	if (quote_key_option(out, line) == -1) {
		snprintf(err, errlen, "the program's or the policy's path "
		    "cannot go into command= (a backslash or control "
		    "character)");
		goto out;
	}
	if (e->from != NULL) {
		buf_adds(out, ",from=");
		if (quote_key_option(out, e->from) == -1) {
			snprintf(err, errlen, "identity %s: from: cannot go "
			    "into from=", e->name);
			goto out;
		}
	}
	if (e->expires != 0) {
		gmtime_r(&e->expires, &tm);
		strftime(when, sizeof(when), "%Y%m%d%H%M%SZ", &tm);
		buf_printf(out, ",expiry-time=\"%s\"", when);
	}
	b64len = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	b64 = xmalloc(b64len);
	sodium_bin2base64(b64, b64len, blob, len,
	    sodium_base64_VARIANT_ORIGINAL);
	buf_printf(out, " %s %s muxgate:%s\n", type, b64, e->name);
	free(b64);
	r = 0;
out:
	if (r == -1) {
		out->len = start;
		if (out->data != NULL)
			out->data[start] = '\0';
	}
	free(line);
	argv_free(&cmd);
	return r;
}

/* ---- writing ---- */

struct key_rec {
	unsigned char	sha[KEYINDEX_KEY_BYTES];
	uint32_t	ident;
};

static int
key_rec_cmp(const void *a, const void *b)
{
	return memcmp(((const struct key_rec *)a)->sha,
	    ((const struct key_rec *)b)->sha, KEYINDEX_KEY_BYTES);
}

/* "SHA256:" and unpadded base64 into the 32 bytes. */
static int
fp_bytes(const char *fp, unsigned char sha[KEYINDEX_KEY_BYTES])
{
	size_t	len;

	if (strncmp(fp, "SHA256:", 7) != 0 ||
	    b64_decode(fp + 7, strlen(fp + 7), sha, KEYINDEX_KEY_BYTES, &len,
	    B64_NOPAD) != 0 || len != KEYINDEX_KEY_BYTES)
		return -1;
	return 0;
}

/* Every key of P, sorted, into *RECSP; -1 with ERR if one cannot be. */
static int
collect_keys(const struct policy *p, struct key_rec **recsp, size_t *np,
    char *err, size_t errlen)
{
	const struct policy_identity	*id;
	struct key_rec			*recs = NULL;
	size_t				 i, k, n = 0, nid;

	nid = policy_identity_count(p);
	for (i = 0; i < nid; i++) {
		id = policy_identity_at(p, i);
		for (k = 0; k < policy_identity_key_count(id); k++) {
			recs = xreallocarray(recs, n + 1, sizeof(*recs));
			if (fp_bytes(policy_identity_key_fp(id, k),
			    recs[n].sha) == -1) {
				snprintf(err, errlen, "identity %s: key %zu: "
				    "bad fingerprint", policy_identity_name(id),
				    k + 1);
				free(recs);
				return -1;
			}
			recs[n++].ident = (uint32_t)i;
		}
	}
	if (n > 1)
		qsort(recs, n, sizeof(*recs), key_rec_cmp);
	for (i = 1; i < n; i++)
		if (memcmp(recs[i - 1].sha, recs[i].sha,
		    KEYINDEX_KEY_BYTES) == 0) {
			snprintf(err, errlen, "a key belongs to two identities");
			free(recs);
			return -1;
		}
	*recsp = recs;
	*np = n;
	return 0;
}

/* Append S and its NUL to the strings; its offset. */
static uint32_t
add_string(struct buf *strings, const char *s)
{
	uint32_t	off = (uint32_t)strings->len;

	buf_add(strings, s, strlen(s) + 1);
	return off;
}

void
keyindex_stamp_of(const struct stat *st, struct keyindex_stamp *s)
{
	s->dev = (uint64_t)st->st_dev;
	s->ino = (uint64_t)st->st_ino;
	s->size = (uint64_t)st->st_size;
	s->mtime_sec = (int64_t)st->st_mtim.tv_sec;
	s->mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
	s->ctime_sec = (int64_t)st->st_ctim.tv_sec;
	s->ctime_nsec = (uint32_t)st->st_ctim.tv_nsec;
}

bool
keyindex_stamp_equal(const struct keyindex_stamp *a,
    const struct keyindex_stamp *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec &&
	    a->ctime_sec == b->ctime_sec && a->ctime_nsec == b->ctime_nsec;
}

bool
keyindex_stamp_settled(const struct keyindex_stamp *s)
{
	struct timespec	now;

	if (clock_gettime(CLOCK_REALTIME_COARSE, &now) == -1)
		return false;
	return (int64_t)now.tv_sec > s->ctime_sec ||
	    ((int64_t)now.tv_sec == s->ctime_sec &&
	    (uint32_t)now.tv_nsec > s->ctime_nsec);
}

static void
put_stamp(unsigned char *h, const struct keyindex_stamp *s)
{
	put_le32(h + 92, s != NULL);
	if (s == NULL) {
		memset(h + 96, 0, HDR_BYTES - 96);
		return;
	}
	put_le64(h + 96, s->dev);
	put_le64(h + 104, s->ino);
	put_le64(h + 112, s->size);
	put_le64(h + 120, (uint64_t)s->mtime_sec);
	put_le32(h + 128, s->mtime_nsec);
	put_le32(h + 132, s->ctime_nsec);
	put_le64(h + 136, (uint64_t)s->ctime_sec);
}

int
keyindex_build(const struct policy *p,
    const unsigned char policy_hash[KEYINDEX_HASH_BYTES],
    const struct keyindex_stamp *stamp, struct buf *out, size_t *nkeysp,
    char *err, size_t errlen)
{
	struct buf		 strings = { NULL, 0, 0 }, from = { NULL, 0, 0 };
	struct keys_entry	 e;
	struct key_rec		*recs = NULL;
	unsigned char		*h, *q;
	size_t			 i, nkeys = 0, nid = policy_identity_count(p);
	size_t			 base = out->len;
	uint32_t		 account;

	if (collect_keys(p, &recs, &nkeys, err, errlen) == -1)
		return -1;
	if (nid >= MAX_ENTRIES || nkeys >= MAX_ENTRIES) {
		snprintf(err, errlen, "too many identities or keys to index");
		free(recs);
		return -1;
	}
	account = add_string(&strings, policy_gateway(p)->account);
	h = buf_extend(out, HDR_BYTES);
	memcpy(h, MAGIC, 8);
	put_le32(h + 8, LAYOUT);
	memset(h + 12, 0, VERSION_LEN);
	memcpy(h + 12, MUXGATE_VERSION, strlen(MUXGATE_VERSION) < VERSION_LEN ?
	    strlen(MUXGATE_VERSION) : VERSION_LEN - 1);
	memcpy(h + 44, policy_hash, KEYINDEX_HASH_BYTES);
	put_le32(h + 76, (uint32_t)nid);
	put_le32(h + 80, (uint32_t)nkeys);
	put_le32(h + 88, account);
	put_stamp(h, stamp);
	for (i = 0; i < nid; i++) {
		keys_entry_of(policy_identity_at(p, i), &e, &from);
		q = buf_extend(out, IDENT_BYTES);
		put_le32(q, add_string(&strings, e.name));
		put_le32(q + 4, e.from != NULL ? add_string(&strings, e.from) :
		    NO_STRING);
		put_le64(q + 8, (uint64_t)(e.expires > 0 ? e.expires : 0));
		put_le32(q + 16, e.disabled ? FLAG_DISABLED : 0);
		put_le32(q + 20, 0);
	}
	for (i = 0; i < nkeys; i++) {
		q = buf_extend(out, KEY_BYTES);
		memcpy(q, recs[i].sha, KEYINDEX_KEY_BYTES);
		put_le32(q + KEYINDEX_KEY_BYTES, recs[i].ident);
	}
	/* OUT may have moved since H was taken. */
	put_le32((unsigned char *)out->data + base + 84,
	    (uint32_t)strings.len);
	buf_add(out, strings.data, strings.len);
	buf_free(&strings);
	buf_free(&from);
	free(recs);
	*nkeysp = nkeys;
	return 0;
}

/* ---- reading ---- */

/* The string at OFF, or NULL when OFF is outside or it has no NUL. */
static const char *
string_at(const struct keyindex *x, uint32_t off)
{
	if (off >= x->strsize ||
	    memchr(x->strings + off, '\0', x->strsize - off) == NULL)
		return NULL;
	return x->strings + off;
}

/* A from= list as the policy allows it: addresses and CIDRs, commas. */
static bool
from_ok(const char *s)
{
	size_t	i;

	if (*s == '\0' || *s == ',' || s[strlen(s) - 1] == ',')
		return false;
	for (i = 0; s[i] != '\0'; i++)
		if (strchr("0123456789abcdefABCDEF.:/,", s[i]) == NULL ||
		    (s[i] == ',' && s[i + 1] == ','))
			return false;
	return true;
}

struct keyindex *
keyindex_open(const unsigned char *data, size_t len, char *err,
    size_t errlen)
{
	struct keyindex	*x;
	char		 version[VERSION_LEN];
	size_t		 want;

	if (len < HDR_BYTES || memcmp(data, MAGIC, 8) != 0) {
		snprintf(err, errlen, "not a muxgate key index");
		return NULL;
	}
	if (get_le32(data + 8) != LAYOUT) {
		snprintf(err, errlen, "layout %u, not %u", get_le32(data + 8),
		    LAYOUT);
		return NULL;
	}
	memset(version, 0, sizeof(version));
	strncpy(version, MUXGATE_VERSION, sizeof(version) - 1);
	if (memcmp(data + 12, version, VERSION_LEN) != 0) {
		snprintf(err, errlen, "written by another version of muxgate");
		return NULL;
	}
	if (get_le32(data + 92) > 1) {
		snprintf(err, errlen, "bad stamp flag");
		return NULL;
	}
	x = xcalloc(1, sizeof(*x));
	x->hdr = data;
	x->hash = data + 44;
	x->nidents = get_le32(data + 76);
	x->nkeys = get_le32(data + 80);
	x->strsize = get_le32(data + 84);
	want = HDR_BYTES + (size_t)x->nidents * IDENT_BYTES +
	    (size_t)x->nkeys * KEY_BYTES + x->strsize;
	if (x->nidents >= MAX_ENTRIES || x->nkeys >= MAX_ENTRIES ||
	    want != len) {
		snprintf(err, errlen, "%zu bytes, not the %zu its counts say",
		    len, want);
		goto bad;
	}
	x->idents = data + HDR_BYTES;
	x->keys = x->idents + (size_t)x->nidents * IDENT_BYTES;
	x->strings = (const char *)(x->keys + (size_t)x->nkeys * KEY_BYTES);
	if ((x->account = string_at(x, get_le32(data + 88))) == NULL ||
	    !policy_valid_user(x->account)) {
		snprintf(err, errlen, "bad gateway account");
		goto bad;
	}
	return x;
bad:
	free(x);
	return NULL;
}

bool
keyindex_stamp_matches(const struct keyindex *x,
    const struct keyindex_stamp *s)
{
	struct keyindex_stamp	r;
	const unsigned char	*h = x->hdr;

	if (get_le32(h + 92) != 1)
		return false;
	r.dev = get_le64(h + 96);
	r.ino = get_le64(h + 104);
	r.size = get_le64(h + 112);
	r.mtime_sec = (int64_t)get_le64(h + 120);
	r.mtime_nsec = get_le32(h + 128);
	r.ctime_nsec = get_le32(h + 132);
	r.ctime_sec = (int64_t)get_le64(h + 136);
	return keyindex_stamp_equal(&r, s);
}

/* Identity I as an entry: 0, or -1 when any field of it is not valid. */
static int
ident_entry(const struct keyindex *x, uint32_t i, struct keys_entry *e)
{
	const unsigned char	*q;
	uint32_t		 f;

	if (i >= x->nidents)
		return -1;
	q = x->idents + (size_t)i * IDENT_BYTES;
	if ((e->name = string_at(x, get_le32(q))) == NULL ||
	    !policy_valid_name(e->name))
		return -1;
	f = get_le32(q + 4);
	e->from = NULL;
	if (f != NO_STRING &&
	    ((e->from = string_at(x, f)) == NULL || !from_ok(e->from)))
		return -1;
	if (get_le64(q + 8) > (uint64_t)INT64_MAX ||
	    (get_le32(q + 16) & ~FLAG_DISABLED) != 0 ||
	    get_le32(q + 20) != 0)
		return -1;
	e->expires = (time_t)get_le64(q + 8);
	e->disabled = (get_le32(q + 16) & FLAG_DISABLED) != 0;
	return 0;
}

void
keyindex_free(struct keyindex *x)
{
	free(x);
}

bool
keyindex_fresh(const struct keyindex *x,
    const unsigned char policy_hash[KEYINDEX_HASH_BYTES])
{
	return memcmp(x->hash, policy_hash, KEYINDEX_HASH_BYTES) == 0;
}

const char *
keyindex_account(const struct keyindex *x)
{
	return x->account;
}

int
keyindex_find(const struct keyindex *x,
    const unsigned char key[KEYINDEX_KEY_BYTES], struct keys_entry *e)
{
	const unsigned char	*q;
	size_t			 lo = 0, hi = x->nkeys, mid;
	int			 c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		q = x->keys + mid * KEY_BYTES;
		if ((c = memcmp(key, q, KEYINDEX_KEY_BYTES)) == 0)
			return ident_entry(x, get_le32(q + KEYINDEX_KEY_BYTES),
			    e) == 0 ? 1 : -1;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}
