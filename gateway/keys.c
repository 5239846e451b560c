/*
 * keys.c — `muxgate keys`: the policy as the only list of keys that may
 * log in to the gateway account.
 *
 *	muxgate keys [-f CONFIG] USER TYPE KEY	sshd's AuthorizedKeysCommand
 *	muxgate keys --all [-f CONFIG]		the whole authorized_keys file
 *	muxgate keys --index [-f CONFIG]	compile CONFIG.keys
 *
 * sshd runs the first form for every key a client offers, as an
 * unprivileged AuthorizedKeysCommandUser, and reads authorized_keys lines
 * from its output: one line for a key of a usable identity when USER is
 * the gateway account, nothing (and exit 0) otherwise.  Anything that
 * keeps it from knowing (an unreadable or invalid policy) is an error
 * line and exit 1, which sshd takes as no key: it fails closed.
 *
 * Parsing a large policy on every attempt costs tens of milliseconds;
 * the index CONFIG.keys (keyindex.h), written by --index, answers in a
 * few.  It is used only when it was compiled from exactly the bytes the
 * policy file holds now, so a stale index costs time, never a wrong
 * answer.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gateway/exitcode.h"
#include "gateway/keyindex.h"
#include "gateway/keys.h"
#include "gateway/log.h"
#include "gateway/output.h"
#include "gateway/quote.h"
#include "gateway/shell.h"
#include "gateway/str.h"
#include "gateway/xmalloc.h"
#include "policy/policy.h"
#include "util/fdio.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: muxgate keys [-f CONFIG] USER TYPE KEY\n"
	    "       muxgate keys --all [-f CONFIG]\n"
	    "       muxgate keys --index [-f CONFIG]\n");
}

/* The path of this program, for command=: what sshd ran. */
static char *
self_path(void)
{
	char	buf[PATH_MAX];
	ssize_t	n;

	if ((n = readlink("/proc/self/exe", buf, sizeof(buf) - 1)) <= 0 ||
	    (size_t)n >= sizeof(buf) - 1) {
		error_r(errno, "keys: cannot find this program's path");
		return NULL;
	}
	buf[n] = '\0';
	if (strstr(buf, " (deleted)") != NULL) {
		error_msg("keys: this program was replaced while it ran");
		return NULL;
	}
	return xstrdup(buf);
}

static bool
usable_now(const struct keys_entry *e)
{
	return !e->disabled && (e->expires == 0 || time(NULL) < e->expires);
}

/* ---- the index ---- */

static char *
index_path(const char *config)
{
	char	*p;

	xasprintf(&p, "%s%s", config, KEYINDEX_SUFFIX);
	return p;
}

/* What a lookup in the index needs, and what it found. */
struct lookup {
	const char		*config;
	uid_t			 trusted;
	int			 policy_fd;
	struct keyindex_stamp	 stamp;		/* of the policy file */
	struct policy_file	 file;		/* the policy's bytes, once read */
	bool			 have_file;
	const unsigned char	*sha;		/* of the key */
	char			*account, *name, *from;
	struct keys_entry	 e;
};

/* Read the policy's bytes once, from the descriptor that was checked. */
static int
lookup_read(struct lookup *l, char *err, size_t errlen)
{
	if (l->have_file)
		return 0;
	if (policy_file_read_fd(l->policy_fd, l->config, &l->file, err,
	    errlen) == -1)
		return -1;
	l->have_file = true;
	return 0;
}

/* Does index X stand for the policy as it is now? */
static bool
index_current(struct lookup *l, const struct keyindex *x, const char *path)
{
	unsigned char	hash[KEYINDEX_HASH_BYTES];
	char		err[512];

	if (keyindex_stamp_matches(x, &l->stamp))
		return true;
	if (lookup_read(l, err, sizeof(err)) == -1) {
		error_msg("keys: %s", err);
		return false;
	}
	crypto_generichash(hash, sizeof(hash), l->file.data, l->file.len,
	    NULL, 0);
	if (keyindex_fresh(x, hash))
		return true;
	error_msg("keys: index %s is out of date (run muxgate keys --index); "
	    "reading the policy", path);
	return false;
}

/*
 * Look the key up in the index beside the policy: 1 found, 0 not in it,
 * -1 when the index cannot answer (missing, unsafe, malformed, stale).
 * What is found is copied out: the index is unmapped on return.
 */
static int
index_lookup(struct lookup *l)
{
	struct keyindex	*x = NULL;
	struct stat	 st;
	void		*map = MAP_FAILED;
	char		*path = index_path(l->config), err[512];
	int		 fd, r = -1;

	if (lstat(path, &st) == -1 && errno == ENOENT) {
		debug("no index %s", path);
		free(path);
		return -1;
	}
	if ((fd = policy_open_checked(path, l->trusted, err,
	    sizeof(err))) == -1) {
		error_msg("keys: index unusable (%s); reading the policy", err);
		free(path);
		return -1;
	}
	if (fstat(fd, &st) == -1 || st.st_size == 0 ||
	    (map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd,
	    0)) == MAP_FAILED)
		error_msg("keys: index %s unusable (cannot map it); reading the "
		    "policy", path);
	else if ((x = keyindex_open(map, (size_t)st.st_size, err,
	    sizeof(err))) == NULL)
		error_msg("keys: index %s unusable (%s); reading the policy",
		    path, err);
	else if (index_current(l, x, path)) {
		if ((r = keyindex_find(x, l->sha, &l->e)) == -1)
			error_msg("keys: index %s unusable (a bad entry); "
			    "reading the policy", path);
		else {
			l->account = xstrdup(keyindex_account(x));
			if (r == 1) {
				l->e.name = l->name = xstrdup(l->e.name);
				if (l->e.from != NULL)
					l->e.from = l->from =
					    xstrdup(l->e.from);
			}
		}
	}
	keyindex_free(x);
	if (map != MAP_FAILED)
		(void)munmap(map, (size_t)st.st_size);
	(void)close(fd);
	free(path);
	return r;
}

/* ---- keys USER TYPE KEY ---- */

/* Load F; on failure, one line with the first error. */
static struct policy *
load(const struct policy_file *f)
{
	struct policy_errors	 errs = { NULL, 0, 0 };
	struct policy		*p;

	if ((p = policy_file_load(f, &errs)) == NULL)
		error_msg("keys: %s%s", errs.n > 0 ? errs.msgs[0] : f->path,
		    errs.n > 1 ? " (and more: muxgate check)" : "");
	policy_errors_free(&errs);
	return p;
}

/* Without a usable index: parse the policy and look the key up in it. */
static int
policy_lookup(struct lookup *l, const unsigned char *blob, size_t len,
    struct buf *scratch)
{
	const struct policy_identity	*id;
	struct policy			*p;
	char				 err[512];

	if (lookup_read(l, err, sizeof(err)) == -1) {
		error_msg("keys: %s", err);
		return -1;
	}
	if ((p = load(&l->file)) == NULL)
		return -1;
	l->account = xstrdup(policy_gateway(p)->account);
	if ((id = policy_identity_by_key(p, blob, len)) != NULL) {
		keys_entry_of(id, &l->e, scratch);
		l->e.name = l->name = xstrdup(l->e.name);
		if (l->e.from != NULL)
			l->e.from = l->from = xstrdup(l->e.from);
	}
	policy_free(p);
	return id != NULL;
}

static int
keys_lookup(const char *config, const char *user, const char *type,
    const char *key)
{
	struct lookup	 l;
	struct passwd	*pw;
	struct stat	 st;
	struct buf	 scratch = { NULL, 0, 0 }, out = { NULL, 0, 0 };
	unsigned char	 sha[KEYINDEX_KEY_BYTES], *blob;
	char		*line, *exe = NULL, err[512];
	const char	*errstr;
	size_t		 len;
	int		 found, code = MG_FAIL;

	xasprintf(&line, "%s %s", type, key);
	if (policy_key_parse(line, &blob, &len, &errstr) == -1) {
		free(line);
		error_msg("keys: the key: %s", errstr);
		return MG_USAGE;
	}
	free(line);
	crypto_hash_sha256(sha, blob, len);
	memset(&l, 0, sizeof(l));
	l.config = config;
	l.sha = sha;
	/* As the shell would trust it, running as USER. */
	l.trusted = (pw = getpwnam(user)) != NULL ? pw->pw_uid : 0;
	if ((l.policy_fd = policy_open_checked(config, l.trusted, err,
	    sizeof(err))) == -1) {
		error_msg("keys: %s", err);
		free(blob);
		return MG_FAIL;
	}
	if (fstat(l.policy_fd, &st) == -1) {
		error_r(errno, "keys: %s", config);
		goto out;
	}
	keyindex_stamp_of(&st, &l.stamp);
	if ((found = index_lookup(&l)) == -1 &&
	    (found = policy_lookup(&l, blob, len, &scratch)) == -1)
		goto out;
	code = MG_OK;
	if (strcmp(user, l.account) != 0 || !found || !usable_now(&l.e))
		goto out;
	if ((exe = self_path()) == NULL)
		code = MG_FAIL;
	else if (keys_line(&out, exe, config, &l.e, blob, len, err,
	    sizeof(err)) == -1) {
		error_msg("keys: %s", err);
		code = MG_FAIL;
	} else if (fd_write_all(STDOUT_FILENO, out.data, out.len) == -1) {
		error_r(errno, "keys: write");
		code = MG_FAIL;
	}
out:
	(void)close(l.policy_fd);
	policy_file_free(&l.file);
	buf_free(&scratch);
	buf_free(&out);
	free(blob);
	free(exe);
	free(l.account);
	free(l.name);
	free(l.from);
	return code;
}

/* ---- keys --all ---- */

static void
all_identity(struct buf *out, const char *exe, const char *config,
    const struct policy_identity *id, struct buf *scratch)
{
	struct keys_entry	 e;
	const unsigned char	*blob;
	char			 err[512];
	size_t			 k, len;

	keys_entry_of(id, &e, scratch);
	if (e.disabled) {
		buf_printf(out, "# %s: disabled\n", e.name);
		return;
	}
	if (!usable_now(&e)) {
		buf_printf(out, "# %s: expired\n", e.name);
		return;
	}
	for (k = 0; k < policy_identity_key_count(id); k++) {
		if ((blob = policy_identity_key_blob(id, k, &len)) == NULL)
			buf_printf(out, "# %s: %s is listed by fingerprint "
			    "only: sshd needs the whole key\n", e.name,
			    policy_identity_key_fp(id, k));
		else if (keys_line(out, exe, config, &e, blob, len, err,
		    sizeof(err)) == -1) {
			error_msg("keys: %s", err);
			buf_printf(out, "# %s: %s left out (see the error)\n",
			    e.name, policy_identity_key_fp(id, k));
		}
	}
}

static int
keys_all(const char *config)
{
	struct policy_file	 f;
	struct policy		*p;
	struct buf		 out = { NULL, 0, 0 }, scratch = { NULL, 0, 0 };
	char			 err[512], *exe;
	size_t			 i;
	int			 code = MG_FAIL;

	if (policy_file_read(config, geteuid(), &f, err, sizeof(err)) == -1) {
		error_msg("keys: %s", err);
		return MG_FAIL;
	}
	if ((p = load(&f)) == NULL || (exe = self_path()) == NULL)
		goto out;
	buf_printf(&out, "# authorized_keys of %s, from %s (muxgate keys "
	    "--all)\n", policy_gateway(p)->account, config);
	for (i = 0; i < policy_identity_count(p); i++)
		all_identity(&out, exe, config, policy_identity_at(p, i),
		    &scratch);
	free(exe);
	if (fd_write_all(STDOUT_FILENO, out.data, out.len) == 0)
		code = MG_OK;
	else
		error_r(errno, "keys: write");
out:
	policy_free(p);
	policy_file_free(&f);
	buf_free(&out);
	buf_free(&scratch);
	return code;
}

/* ---- keys --index ---- */

/* DATA into PATH, whole or not at all: a temporary file, renamed. */
static int
write_atomically(const char *path, const void *data, size_t len)
{
	char	*tmp, *dir, *dcopy;
	int	 fd, dfd, r = -1;

	xasprintf(&tmp, "%s.XXXXXX", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		error_r(errno, "keys: %s", tmp);
		free(tmp);
		return -1;
	}
	/* Readable by the AuthorizedKeysCommandUser, as the policy is. */
	if (fchmod(fd, 0644) == -1 || fd_write_all(fd, data, len) == -1 ||
	    fsync(fd) == -1) {
		error_r(errno, "keys: %s", tmp);
		(void)close(fd);
		goto out;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1) {
		error_r(errno, "keys: %s", path);
		goto out;
	}
	dcopy = xstrdup(path);
	dir = dirname(dcopy);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		(void)close(dfd);
	}
	free(dcopy);
	r = 0;
out:
	if (r == -1)
		(void)unlink(tmp);
	free(tmp);
	return r;
}

/* FD's stamp now; -1 (reported) if fstat fails. */
static int
stamp_now(int fd, const char *path, struct keyindex_stamp *s)
{
	struct stat	st;

	if (fstat(fd, &st) == -1) {
		error_r(errno, "keys: %s", path);
		return -1;
	}
	keyindex_stamp_of(&st, s);
	return 0;
}

/*
 * Read the policy FD into F, and say in *SETTLED whether its stamp,
 * *STAMP, stands for what was read: the file did not change while it
 * was read, and the clock has passed its ctime (waiting a few ticks
 * for that, as right after an edit), so that any later change will show
 * in the stamp.  Otherwise the index is written without a stamp and its
 * readers compare hashes.
 */
static int
read_settled(int fd, const char *config, struct policy_file *f,
    struct keyindex_stamp *stamp, bool *settled)
{
	const struct timespec	 tick = { 0, 2 * 1000 * 1000 };
	struct keyindex_stamp	 before, after;
	char			 err[512];
	int			 tries, waits;

	*settled = false;
	for (tries = 0; tries < 3; tries++) {
		policy_file_free(f);
		if (stamp_now(fd, config, &before) == -1)
			return -1;
		if (lseek(fd, 0, SEEK_SET) == -1 ||
		    policy_file_read_fd(fd, config, f, err, sizeof(err)) == -1) {
			error_msg("keys: %s", err[0] != '\0' ? err : config);
			return -1;
		}
		if (stamp_now(fd, config, stamp) == -1)
			return -1;
		if (!keyindex_stamp_equal(&before, stamp))
			continue;
		for (waits = 0; waits < 50 && !keyindex_stamp_settled(stamp);
		    waits++)
			(void)nanosleep(&tick, NULL);
		if (stamp_now(fd, config, &after) == -1)
			return -1;
		if (keyindex_stamp_equal(&after, stamp)) {
			*settled = keyindex_stamp_settled(stamp);
			return 0;
		}
	}
	return 0;
}

static int
keys_index(const char *config)
{
	struct policy_file	 f = { NULL, NULL, 0 };
	struct keyindex_stamp	 stamp;
	struct policy		*p = NULL;
	struct buf		 out = { NULL, 0, 0 };
	unsigned char		 hash[KEYINDEX_HASH_BYTES];
	char			 err[512], *path = index_path(config), *e;
	size_t			 nkeys;
	bool			 settled;
	int			 fd, code = MG_FAIL;

	if ((fd = policy_open_checked(config, geteuid(), err,
	    sizeof(err))) == -1) {
		error_msg("keys: %s", err);
		free(path);
		return MG_FAIL;
	}
	err[0] = '\0';
	if (read_settled(fd, config, &f, &stamp, &settled) == -1)
		goto out;
	crypto_generichash(hash, sizeof(hash), f.data, f.len, NULL, 0);
	if ((p = load(&f)) == NULL)
		goto out;
	if (keyindex_build(p, hash, settled ? &stamp : NULL, &out, &nkeys,
	    err, sizeof(err)) == -1) {
		error_msg("keys: %s", err);
		goto out;
	}
	if (write_atomically(path, out.data, out.len) == -1)
		goto out;
	e = out_escape(path);
	printf("%s: %zu identities, %zu keys\n", e,
	    policy_identity_count(p), nkeys);
	free(e);
	code = MG_OK;
out:
	(void)close(fd);
	policy_free(p);
	policy_file_free(&f);
	buf_free(&out);
	free(path);
	return code;
}

int
keys_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "index", no_argument, NULL, 'x' },
		{ "config", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*config = MUXGATE_DEFAULT_CONFIG;
	int		 ch, mode = 0;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:f:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f': config = optarg; break;
		case 'a':
		case 'x':
			if (mode != 0 && mode != ch) {
				error_msg("keys: --all and --index exclude "
				    "each other");
				usage(stderr);
				return MG_USAGE;
			}
			mode = ch;
			break;
		case 'h': usage(stdout); return MG_OK;
		case ':':
			error_msg("keys: %s needs a value", argv[optind - 1]);
			usage(stderr);
			return MG_USAGE;
		default:
			error_msg("keys: bad option %s", argv[optind - 1]);
			usage(stderr);
			return MG_USAGE;
		}
	}
	if (config[0] != '/') {
		error_msg("keys: the policy must be given by its absolute path "
		    "(it goes into command=)");
		return MG_USAGE;
	}
	if (mode == 0 && argc - optind != 3) {
		error_msg("keys: USER TYPE KEY expected (as sshd's %%u %%t %%k)");
		usage(stderr);
		return MG_USAGE;
	}
	if (mode != 0 && argc != optind) {
		error_msg("keys: unexpected argument after --%s",
		    mode == 'a' ? "all" : "index");
		usage(stderr);
		return MG_USAGE;
	}
	if (mode == 'a')
		return keys_all(config);
	if (mode == 'x')
		return keys_index(config);
	return keys_lookup(config, argv[optind], argv[optind + 1],
	    argv[optind + 2]);
}
