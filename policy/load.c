/* load.c — read a policy file; durations, dates, names. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include "policy/policy-int.h"
#include "util/ascii.h"
#include "util/num.h"

static void
policy_defaults(struct policy *p)
{
	p->gw.recordings = "/var/lib/muxgate/recordings";
	p->gw.state = "/run/muxgate";
	p->gw.audit = POLICY_AUDIT_AUDITD;
	p->gw.audit_required = false;
	p->gw.attaches_per_identity = 5;
	p->gw.attaches_total = 30;
	p->gw.attach_lifetime = 6 * 3600;
	p->gw.idle_timeout = 0;
	p->gw.menu_idle_timeout = 15 * 60;
	p->gw.recording_checkpoint = 60;
	p->gw.recording_max = 1ULL << 30;
	p->gw.recording_min_free = 5;
	p->gw.recording_required = true;
	p->gw.mask_input = POLICY_MASK_PROMPTS;
	p->gw.secret_prompts = policy_default_secret_prompts;
	p->gw.nsecret_prompts = policy_ndefault_secret_prompts;
	p->gw.allow_clipboard = false;
	p->gw.escape_key = 0x1d;	/* ^] */
	p->gw.account = "gateway";
	p->gw.ssh_identity_file = "/etc/muxgate/ssh/id_ed25519";
	p->gw.ssh_known_hosts = "/etc/muxgate/ssh/known_hosts";
	p->gw.ssh_connect_timeout = 5;
	p->gw.serve_listen = "127.0.0.1:2222";
	p->gw.serve_host_key = "/etc/muxgate/ssh_host_ed25519_key";
	p->gw.serve_login_grace = 30;
	p->gw.serve_max_auth_tries = 6;
	p->gw.serve_startups_begin = 10;	/* sshd's 10:30:100 */
	p->gw.serve_startups_rate = 30;
	p->gw.serve_startups_full = 100;
	p->gw.serve_per_source_startups = 5;
	p->gw.serve_banner_timeout = 5;
}

/*
 * policy_load() and policy_load_checked() read the file as the parser
 * asks for it, in its chunks: reading all of it into memory first (as
 * policy_file_read() must, for callers that look at the bytes) cost a
 * tenth of the time a policy of 20,000 identities (3 MB) takes to load.
 * At most POLICY_MAX_SIZE bytes: the file may have grown since fstat(2).
 */
struct reader {
	int	fd;
	size_t	total;
	int	error;		/* of a failed read(2), or 0 */
	bool	too_large;
};

static int
read_chunk(void *arg, unsigned char *buf, size_t size, size_t *done)
{
	struct reader	*r = arg;
	ssize_t		 n;

	*done = 0;
	while ((n = read(r->fd, buf, size)) == -1 && errno == EINTR)
		;
	if (n == -1) {
		r->error = errno;
		return 0;
	}
	if ((size_t)n > POLICY_MAX_SIZE - r->total) {
		r->too_large = true;
		return 0;
	}
	r->total += (size_t)n;
	*done = (size_t)n;
	return 1;
}

/*
 * Parse FD into T.  A file that cannot be read to its end, or is too
 * large, is that error, not what the parser made of being cut off.
 */
static int
parse_fd(int fd, const char *path, size_t size, struct tree *t,
    struct policy_errors *errs)
{
	struct reader	r = { fd, 0, 0, false };
	size_t		nerrs = errs->n;

	if (tree_load(path, read_chunk, &r, size, t, errs) == 0)
		return 0;
	if (r.error != 0 || r.too_large)
		perr_truncate(errs, nerrs);
	if (r.error != 0)
		perr_add(errs, path, 0, 0, "cannot read: %s",
		    strerror(r.error));
	else if (r.too_large)
		perr_add(errs, path, 0, 0, "larger than %d bytes",
		    POLICY_MAX_SIZE);
	return -1;
}

/*
 * Read all of FD into *BUF (caller frees), at most POLICY_MAX_SIZE bytes.
 * The size fstat(2) gave, HINT, is where the buffer starts: the file may
 * still grow while it is read.
 */
static int
read_all(int fd, const char *path, size_t hint, unsigned char **bufp,
    size_t *lenp, struct policy_errors *errs)
{
	unsigned char	*buf;
	size_t		 len = 0, cap;
	ssize_t		 n;

	cap = hint < POLICY_MAX_SIZE ? hint + 1 : POLICY_MAX_SIZE + 1;
	buf = preallocarray(NULL, cap, 1);
	for (;;) {
		if (len == cap) {
			if (cap > POLICY_MAX_SIZE) {
				perr_add(errs, path, 0, 0, "larger than %d "
				    "bytes", POLICY_MAX_SIZE);
				free(buf);
				return -1;
			}
			cap = cap > (POLICY_MAX_SIZE + 1) / 2 ?
			    POLICY_MAX_SIZE + 1 : cap * 2;
			buf = preallocarray(buf, cap, 1);
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			perr_add(errs, path, 0, 0, "cannot read: %s",
			    strerror(errno));
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*bufp = buf;
	*lenp = len;
	return 0;
}

/* LEN bytes of BUF, handed to the parser as read_chunk() hands it a file. */
struct bytes {
	const unsigned char	*buf;
	size_t			 len;
	size_t			 off;
};

static int
read_bytes(void *arg, unsigned char *out, size_t size, size_t *done)
{
	struct bytes	*b = arg;
	size_t		 n = b->len - b->off;

	if (n > size)
		n = size;

	memcpy(out, b->buf + b->off, n);
	b->off += n;
	*done = n;
	return 1;
}

/*
 * The policy of T, parsed from PATH (T is freed), or NULL when ERRS got
 * an error past the NERRS it had: a policy with errors is never returned.
 */
static struct policy *
load_tree(const char *path, struct tree *t, struct policy_errors *errs,
    size_t nerrs)
{
	struct policy	*p;

	p = pcalloc(1, sizeof(*p));
	p->path = pstrdup(path);
	policy_defaults(p);
	schema_build(p, t, errs);
	tree_free(t);
	if (errs->total > nerrs) {
		policy_free(p);
		return NULL;
	}
	index_identities(p);
	return p;
}

/* Parse LEN bytes of BUF as the policy file PATH. */
static struct policy *
load_bytes(const char *path, const unsigned char *buf, size_t len,
    struct policy_errors *errs)
{
	struct policy		*p = NULL;
	struct tree		 tree;
	struct policy_errors	 local = { NULL, 0, 0 };
	struct bytes		 b = { buf, len, 0 };
	size_t			 nerrs;

	/* Count errors even when the caller wants no list. */
	if (errs == NULL)
		errs = &local;
	nerrs = errs->total;
	if (tree_load(path, read_bytes, &b, len, &tree, errs) == 0)
		p = load_tree(path, &tree, errs, nerrs);
	policy_errors_free(&local);
	return p;
}

/* Parse the open regular file FD, named PATH in errors; FD is closed. */
static struct policy *
load_fd(int fd, const char *path, struct policy_errors *errs)
{
	struct policy		*p = NULL;
	struct tree		 tree;
	struct stat		 st;
	struct policy_errors	 local = { NULL, 0, 0 };
	size_t			 nerrs;

	/* Count errors even when the caller wants no list. */
	if (errs == NULL)
		errs = &local;
	nerrs = errs->total;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		perr_add(errs, path, 0, 0, "not a regular file");
		goto out;
	}
	if (st.st_size > POLICY_MAX_SIZE) {
		perr_add(errs, path, 0, 0, "larger than %d bytes",
		    POLICY_MAX_SIZE);
		goto out;
	}
	if (parse_fd(fd, path, (size_t)st.st_size, &tree, errs) == 0)
		p = load_tree(path, &tree, errs, nerrs);
out:
	/* Read-only: a failed close(2) loses nothing. */
	(void)close(fd);
	policy_errors_free(&local);
	return p;
}

struct policy *
policy_load(const char *path, struct policy_errors *errs)
{
	struct stat	st;
	int		fd, flags;

	/* O_NONBLOCK: a FIFO is refused below, not waited on. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1) {
		perr_add(errs, path, 0, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		perr_add(errs, path, 0, 0, "not a regular file");
		(void)close(fd);
		return NULL;
	}
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == -1) {
		perr_add(errs, path, 0, 0, "cannot open: %s", strerror(errno));
		(void)close(fd);
		return NULL;
	}
	return load_fd(fd, path, errs);
}

struct policy *
policy_load_checked(const char *path, uid_t trusted, char *err,
    size_t errlen, struct policy_errors *errs)
{
	int	fd;

	if (errlen > 0)
		err[0] = '\0';
	if ((fd = safepath_open(path, trusted, err, errlen)) == -1)
		return NULL;
	return load_fd(fd, path, errs);
}

struct policy *
policy_load_gateway(const char *path, struct policy_failure *f)
{
	struct policy	*p;

	memset(f, 0, sizeof(*f));
	if ((p = policy_load_checked(path, geteuid(), f->reason,
	    sizeof(f->reason), &f->errs)) != NULL)
		return p;
	f->refused = f->reason[0] != '\0';
	if (!f->refused)
		(void)snprintf(f->reason, sizeof(f->reason), "%s",
		    f->errs.n > 0 ? f->errs.msgs[0] : path);
	return NULL;
}

void
policy_failure_free(struct policy_failure *f)
{
	if (f == NULL)
		return;
	policy_errors_free(&f->errs);
	memset(f, 0, sizeof(*f));
}

static void
rule_free(struct rule *r)
{
	size_t	i;

	strlist_free(&r->hosts);
	strlist_free(&r->users);
	strlist_free(&r->approvers);
	for (i = 0; i < r->nlabels; i++) {
		free(r->labels[i].key);
		free(r->labels[i].value);
	}
	free(r->labels);
}

void
policy_free(struct policy *p)
{
	size_t	i, j;

	if (p == NULL)
		return;
	for (i = 0; i < p->nhosts; i++) {
		struct policy_host *h = &p->hosts[i];
		free(h->name);
		free(h->address);
		free(h->ssh_user);
		free(h->jump);
		strlist_free(&h->users);
		for (j = 0; j < h->nlabels; j++) {
			free(h->labels[j].key);
			free(h->labels[j].value);
		}
		free(h->labels);
	}
	free(p->hosts);
	for (i = 0; i < p->nroles; i++) {
		struct role *r = &p->roles[i];
		for (j = 0; j < r->nallow; j++)
			rule_free(&r->allow[j]);
		for (j = 0; j < r->ndeny; j++)
			rule_free(&r->deny[j]);
		for (j = 0; j < r->nrequest; j++)
			rule_free(&r->request[j]);
		free(r->allow);
		free(r->deny);
		free(r->request);
		free(r->name);
	}
	free(p->roles);
	for (i = 0; i < p->nidents; i++) {
		struct policy_identity *id = &p->idents[i];
		for (j = 0; j < id->nkeys; j++)
			free(id->keys[j].blob);
		free(id->keys);
		free(id->name);
		strlist_free(&id->roles);
		free(id->role_ptrs);
		free(id->from);
		strlist_free(&id->from_text);
	}
	free(p->idents);
	free(p->host_index);
	free(p->ident_index);
	free(p->key_index);
	free(p->recordings);
	free(p->state);
	strlist_free(&p->recipients);
	strlist_free(&p->prompts);
	free(p->ssh_identity_file);
	free(p->ssh_known_hosts);
	free(p->serve_listen);
	free(p->serve_host_key);
	free(p->account);
	free(p->path);
	free(p);
}

/* Cap at ten years: anything longer is a typo, not a policy. */
#define DURATION_CAP (3650LL * 86400)

int
policy_parse_duration(const char *s, unsigned *out)
{
	long long	 v, mul;
	const char	*end, *errstr;

	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	if (num_parse_prefix(s, 0, DURATION_CAP, &v, &end, &errstr) == -1 ||
	    end[0] == '\0' || end[1] != '\0')
		return -1;
	switch (*end) {
	case 's': mul = 1; break;
	case 'm': mul = 60; break;
	case 'h': mul = 3600; break;
	case 'd': mul = 86400; break;
	default: return -1;
	}
	if (v > DURATION_CAP / mul)
		return -1;
	*out = (unsigned)(v * mul);
	return 0;
}

/* A petabyte: more is a typo, and the product cannot overflow. */
#define SIZE_CAP (1LL << 50)

int
policy_parse_size(const char *s, unsigned long long *out)
{
	long long	 v, mul = 1;
	const char	*end, *errstr;

	if (num_parse_prefix(s, 1, SIZE_CAP, &v, &end, &errstr) == -1)
		return -1;
	switch (*end) {
	case '\0': break;
	case 'K': mul = 1LL << 10; end++; break;
	case 'M': mul = 1LL << 20; end++; break;
	case 'G': mul = 1LL << 30; end++; break;
	case 'T': mul = 1LL << 40; end++; break;
	default: return -1;
	}
	if (*end != '\0' || v > SIZE_CAP / mul)
		return -1;
	*out = (unsigned long long)(v * mul);
	return 0;
}

/* One field of max_startups: digits only, from MIN to MAX. */
static const char *
startups_field(const char *s, unsigned min, unsigned max, unsigned *out)
{
	long long	 v;
	const char	*end, *errstr;

	if (num_parse_prefix(s, min, max, &v, &end, &errstr) == -1)
		return NULL;
	*out = (unsigned)v;
	return end;
}

int
policy_parse_startups(const char *s, unsigned *start, unsigned *rate,
    unsigned *full, const char **errstr)
{
	unsigned	 b, r, f;
	const char	*cp;

	if ((cp = startups_field(s, 1, 10000, &b)) == NULL) {
		*errstr = "START must be a number from 1 to 10000";
		return -1;
	}
	if (*cp == '\0') {
		*start = *full = b;
		*rate = 100;
		return 0;
	}
	if (*cp != ':' || (cp = startups_field(cp + 1, 1, 100, &r)) == NULL) {
		*errstr = "RATE must be a percentage from 1 to 100";
		return -1;
	}
	if (*cp != ':' || (cp = startups_field(cp + 1, 1, 10000, &f)) == NULL ||
	    *cp != '\0') {
		*errstr = "FULL must be a number from 1 to 10000, and last";
		return -1;
	}
	if (b > f) {
		*errstr = "START may not be larger than FULL";
		return -1;
	}
	*start = b;
	*rate = r;
	*full = f;
	return 0;
}

int
policy_parse_listen(const char *s, char *addr, size_t addrlen, unsigned *port)
{
	const char	*colon, *a = s, *errstr;
	size_t		 alen;
	long long	 v;
	char		 buf[64];
	unsigned char	 tmp[16];

	if ((colon = strrchr(s, ':')) == NULL || colon == s)
		return -1;
	alen = (size_t)(colon - s);
	if (s[0] == '[') {
		if (alen < 3 || s[alen - 1] != ']')
			return -1;
		a = s + 1;
		alen -= 2;
	}
	if (alen >= sizeof(buf))
		return -1;
	memcpy(buf, a, alen);
	buf[alen] = '\0';
	/* IPv6 in brackets, IPv4 without: "::1:22" would be a guess. */
	if (inet_pton(a == s ? AF_INET : AF_INET6, buf, tmp) != 1)
		return -1;
	if (num_parse(colon + 1, 1, 65535, &v, &errstr) == -1)
		return -1;
	if (addr != NULL) {
		if (alen >= addrlen)
			return -1;
		memcpy(addr, buf, alen + 1);
	}
	if (port != NULL)
		*port = (unsigned)v;
	return 0;
}

/*
 * "YYYY-MM-DD" means the identity may be used through the end of that
 * day, UTC; "YYYY-MM-DDTHH:MM:SSZ" is an exact instant.  A date that
 * timegm() would move (2025-02-30 is 2025-03-02 to it) is refused, and
 * so is anything up to the epoch: an expiry of 0 means "never".
 */
static bool
tm_same(const struct tm *a, const struct tm *b)
{
	return a->tm_year == b->tm_year && a->tm_mon == b->tm_mon &&
	    a->tm_mday == b->tm_mday && a->tm_hour == b->tm_hour &&
	    a->tm_min == b->tm_min && a->tm_sec == b->tm_sec;
}

/* S is SHAPE exactly, where each 'd' of SHAPE is a digit. */
static bool
digits_shape(const char *s, const char *shape)
{
	for (; *shape != '\0'; s++, shape++)
		if (*shape == 'd' ? !(*s >= '0' && *s <= '9') : *s != *shape)
			return false;
	return *s == '\0';
}

int
parse_expiry(const char *s, time_t *out)
{
	struct tm	 tm, want;
	const char	*end;
	time_t		 t;

	/*
	 * The shape first, character by character: strptime(3) alone would
	 * take " 2030-01-01", "2030-1-1" or "+2030-01-01".
	 */
	if (!digits_shape(s, "dddd-dd-dd") &&
	    !digits_shape(s, "dddd-dd-ddTdd:dd:ddZ"))
		return -1;
	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%d", &tm)) == NULL)
		return -1;
	if (*end == '\0') {
		want = tm;
		if ((t = timegm(&tm)) == -1 || !tm_same(&tm, &want) ||
		    t + 86400 <= 0)
			return -1;
		*out = t + 86400;
		return 0;
	}
	if ((end = strptime(end, "T%H:%M:%SZ", &tm)) == NULL || *end != '\0')
		return -1;
	want = tm;
	if ((t = timegm(&tm)) == -1 || !tm_same(&tm, &want) || t <= 0)
		return -1;
	*out = t;
	return 0;
}

static bool
valid_chars(const char *s, size_t max, const char *extra, bool first_dot)
{
	size_t	i;

	if (s[0] == '\0' || strlen(s) > max)
		return false;
	if (!first_dot && (s[0] == '.' || s[0] == '-'))
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		if (ascii_alnum(s[i]) || s[i] == '_')
			continue;
		if (strchr(extra, s[i]) == NULL)
			return false;
	}
	return true;
}

bool
policy_valid_name(const char *s)
{
	return valid_chars(s, 64, ".-", false);
}

bool
policy_valid_user(const char *s)
{
	return valid_chars(s, 32, ".-", false);
}

int
policy_open_checked(const char *path, uid_t trusted, char *err, size_t errlen)
{
	return safepath_open(path, trusted, err, errlen);
}

int
policy_file_read_fd(int fd, const char *path, struct policy_file *f,
    char *err, size_t errlen)
{
	struct policy_errors	 errs = { NULL, 0, 0 };
	struct stat		 st;
	int			 r = -1;

	memset(f, 0, sizeof(*f));
	if (fstat(fd, &st) == -1)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	else if (st.st_size > POLICY_MAX_SIZE)
		snprintf(err, errlen, "%s: larger than %d bytes", path,
		    POLICY_MAX_SIZE);
	else if (read_all(fd, path, (size_t)st.st_size, &f->data, &f->len,
	    &errs) == -1)
		snprintf(err, errlen, "%s", errs.n > 0 ? errs.msgs[0] : path);
	else {
		f->path = pstrdup(path);
		r = 0;
	}
	policy_errors_free(&errs);
	return r;
}

int
policy_file_read(const char *path, uid_t trusted, struct policy_file *f,
    char *err, size_t errlen)
{
	int	fd, r;

	memset(f, 0, sizeof(*f));
	if ((fd = safepath_open(path, trusted, err, errlen)) == -1)
		return -1;
	r = policy_file_read_fd(fd, path, f, err, errlen);
	(void)close(fd);
	return r;
}

struct policy *
policy_file_load(const struct policy_file *f, struct policy_errors *errs)
{
	return load_bytes(f->path, f->data, f->len, errs);
}

void
policy_file_free(struct policy_file *f)
{
	free(f->path);
	free(f->data);
	memset(f, 0, sizeof(*f));
}
