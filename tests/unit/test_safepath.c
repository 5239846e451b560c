/*
 * test_safepath.c — policy_check_path(), the StrictModes rule for the
 * policy file, and policy_load_checked(), which applies it to the file it
 * then parses.
 *
 * Safe paths need a root-owned base: each test works in a fresh directory
 * made with mkdtemp under /var/lib (root-owned, 0755, and so are / and
 * /var) and removed afterwards.  /tmp and /var/tmp are world-writable, so
 * nothing under them can pass.  Tests that need the safe base or chown(2)
 * are skipped when not running as root; the ones that only need an unsafe
 * component run everywhere.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "policy/policy.h"

#define SAFE_PARENT	"/var/lib"
#define OTHER_UID	((uid_t)4242)
/* The attacker of the race tests: nobody, on Debian and most others. */
#define ATTACKER_UID	((uid_t)65534)

/* Policies told apart by their one identity. */
#define POLICY_OF(who) \
	"hosts:\n" \
	"  h1:\n" \
	"    local: true\n" \
	"    tmux_users: [deploy]\n" \
	"roles:\n" \
	"  r:\n" \
	"    allow:\n" \
	"      - {hosts: \"*\", tmux_users: \"*\", actions: [list]}\n" \
	"identities:\n" \
	"  " who ":\n" \
	"    keys: [\"SHA256:5I6mWTM+C9/rbqKDwonFPqSnHhAJV81nElYKhq20Olw\"]\n" \
	"    roles: [r]\n"
#define SAFE_POLICY	POLICY_OF("alice")
#define EVIL_POLICY	POLICY_OF("mallory")

struct fx {
	char	dir[256];		/* a fresh directory, resolved */
	bool	safe;			/* dir and all above it are safe */
	uid_t	me;
};

/* Is PATH a directory owned by root and writable by nobody else? */
static bool
root_dir_safe(const char *path)
{
	struct stat	st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
	    st.st_uid == 0 && (st.st_mode & 022) == 0;
}

static int
setup(void **state)
{
	struct fx	*fx;
	char		 tmpl[PATH_MAX], *real;
	bool		 root;

	if ((fx = calloc(1, sizeof(*fx))) == NULL)
		return -1;
	fx->me = geteuid();
	root = fx->me == 0 && root_dir_safe("/") && root_dir_safe("/var") &&
	    root_dir_safe(SAFE_PARENT);
	snprintf(tmpl, sizeof(tmpl), "%s/mgt-unit-safepath-XXXXXX",
	    root ? SAFE_PARENT : "/tmp");
	if (mkdtemp(tmpl) == NULL || chmod(tmpl, 0755) == -1) {
		free(fx);
		return -1;
	}
	if ((real = realpath(tmpl, NULL)) == NULL) {
		rmdir(tmpl);
		free(fx);
		return -1;
	}
	if (strlen(real) >= sizeof(fx->dir)) {
		free(real);
		rmdir(tmpl);
		free(fx);
		return -1;
	}
	memcpy(fx->dir, real, strlen(real) + 1);
	free(real);
	fx->safe = root;
	*state = fx;
	return 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int
teardown(void **state)
{
	struct fx	*fx = *state;
	int		 r;

	r = nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return r == 0 ? 0 : -1;
}

/* FX->dir/NAME as a directory with MODE. */
static void
make_dir(const struct fx *fx, const char *name, mode_t mode, char *out,
    size_t outlen)
{
	snprintf(out, outlen, "%s/%s", fx->dir, name);
	assert_int_equal(mkdir(out, 0700), 0);
	assert_int_equal(chmod(out, mode), 0);
}

/* FX->dir/NAME as a small file with MODE. */
static void
make_file(const struct fx *fx, const char *name, mode_t mode, char *out,
    size_t outlen)
{
	int	fd;

	snprintf(out, outlen, "%s/%s", fx->dir, name);
	fd = open(out, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hosts: {}\n", 10), 10);
	assert_int_equal(close(fd), 0);
	assert_int_equal(chmod(out, mode), 0);
}

static void
need_safe_base(const struct fx *fx)
{
	if (!fx->safe) {
		print_message("      skipped: needs root and a root-owned "
		    SAFE_PARENT "\n");
		skip();
	}
}

static void
need_root(const struct fx *fx)
{
	if (fx->me != 0) {
		print_message("      skipped: chown needs root\n");
		skip();
	}
}

/* chown(2), skipping the test where ids cannot be mapped (user namespaces). */
static void
do_chown(const char *path, uid_t uid, gid_t gid)
{
	if (chown(path, uid, gid) == -1) {
		if (errno == EPERM || errno == EINVAL) {
			print_message("      skipped: chown %s: %s\n", path,
			    strerror(errno));
			skip();
		}
		fail_msg("chown %s: %s", path, strerror(errno));
	}
}

/* Check PATH and expect refusal with exactly WANT. */
static void
expect_refused(const char *path, uid_t trusted, const char *want)
{
	char	err[PATH_MAX + 128];

	memset(err, 0, sizeof(err));
	assert_int_equal(policy_check_path(path, trusted, err, sizeof(err)), -1);
	assert_string_equal(err, want);
}

static void
expect_safe(const char *path, uid_t trusted)
{
	char	err[PATH_MAX + 128];

	memcpy(err, "untouched", sizeof("untouched"));
	if (policy_check_path(path, trusted, err, sizeof(err)) != 0)
		fail_msg("%s refused: %s", path, err);
}


/* FX->dir/NAME holding TEXT, mode 0644. */
static void
write_policy(const struct fx *fx, const char *name, const char *text,
    char *out, size_t outlen)
{
	size_t	len = strlen(text);
	int	fd;

	snprintf(out, outlen, "%s/%s", fx->dir, name);
	fd = open(out, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
	assert_int_equal(chmod(out, 0644), 0);
}

/* policy_load_checked() refuses PATH, with exactly WANT unless NULL. */
static void
expect_load_refused(const char *path, uid_t trusted, const char *want)
{
	char			 err[PATH_MAX + 128];
	struct policy_errors	 errs = { NULL, 0, 0 };
	struct policy		*p;

	memcpy(err, "untouched", sizeof("untouched"));
	p = policy_load_checked(path, trusted, err, sizeof(err), &errs);
	policy_free(p);
	assert_null(p);
	assert_int_equal(errs.n, 0);
	assert_true(err[0] != '\0' && strcmp(err, "untouched") != 0);
	if (want != NULL)
		assert_string_equal(err, want);
}

/* policy_load_checked() loads PATH, and it holds identity WHO. */
static void
expect_load_ok(const char *path, uid_t trusted, const char *who)
{
	char			 err[PATH_MAX + 128];
	struct policy_errors	 errs = { NULL, 0, 0 };
	struct policy		*p;

	memcpy(err, "untouched", sizeof("untouched"));
	p = policy_load_checked(path, trusted, err, sizeof(err), &errs);
	if (p == NULL)
		fail_msg("%s not loaded: %s%s", path, err,
		    errs.n > 0 ? errs.msgs[0] : "");
	assert_string_equal(err, "");
	assert_int_equal(errs.n, 0);
	assert_non_null(policy_identity_find(p, who));
	assert_int_equal(policy_identity_count(p), 1);
	policy_free(p);
}

/* ------------------------------------------------------------------ */

static void
test_good_file(void **state)
{
	struct fx	*fx = *state;
	char		 file[PATH_MAX], sub[PATH_MAX], rel[PATH_MAX * 2];

	need_safe_base(fx);
	make_file(fx, "gateway.yaml", 0644, file, sizeof(file));
	expect_safe(file, 0);
	expect_safe(file, 1000);
	assert_int_equal(chmod(file, 0600), 0);
	expect_safe(file, 0);
	assert_int_equal(chmod(file, 0444), 0);
	expect_safe(file, 0);
	/* Through "." and ".." and a safe subdirectory. */
	make_dir(fx, "conf.d", 0750, sub, sizeof(sub));
	snprintf(rel, sizeof(rel), "%s/./conf.d/../gateway.yaml", fx->dir);
	expect_safe(rel, 0);
}

/* A directory of the trusted (gateway) user is as good as root's. */
static void
test_trusted_uid(void **state)
{
	struct fx	*fx = *state;
	char		 dir[PATH_MAX], file[PATH_MAX], want[PATH_MAX * 2];

	need_safe_base(fx);
	need_root(fx);
	make_dir(fx, "gw", 0755, dir, sizeof(dir));
	do_chown(dir, OTHER_UID, OTHER_UID);
	make_file(fx, "gw/gateway.yaml", 0640, file, sizeof(file));
	do_chown(file, OTHER_UID, 0);
	expect_safe(file, OTHER_UID);
	/* For another trusted uid the file is the first thing refused. */
	snprintf(want, sizeof(want), "bad ownership of %s: owned by uid %u, "
	    "not root or uid %u", file, (unsigned)OTHER_UID, 1000u);
	expect_refused(file, 1000, want);
}

static void
test_world_writable_dir(void **state)
{
	struct fx	*fx = *state;
	char		 dir[PATH_MAX], file[PATH_MAX], want[PATH_MAX * 2];

	/* Needs no safe base: the file is ours, its directory the first
	 * bad component. */
	make_dir(fx, "shared", 0777, dir, sizeof(dir));
	make_file(fx, "shared/gateway.yaml", 0644, file, sizeof(file));
	snprintf(want, sizeof(want), "bad permissions on %s: writable by "
	    "everyone", dir);
	expect_refused(file, fx->me, want);
	/* The sticky bit does not make it safe. */
	assert_int_equal(chmod(dir, 01777), 0);
	expect_refused(file, fx->me, want);
}

static void
test_under_tmp(void **state)
{
	struct fx	*fx = *state;
	char		 file[] = "/tmp/mgt-unit-safepath-XXXXXX";
	int		 fd;
	struct stat	 st;

	if (!root_dir_safe("/") || stat("/tmp", &st) == -1 ||
	    st.st_uid != 0 || (st.st_mode & 002) == 0) {
		print_message("      skipped: /tmp is not world-writable here\n");
		skip();
	}
	fd = mkstemp(file);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(file, 0644), 0);
	{
		char	err[PATH_MAX + 128];
		int	r;

		r = policy_check_path(file, fx->me, err, sizeof(err));
		unlink(file);
		assert_int_equal(r, -1);
		assert_string_equal(err, "bad permissions on /tmp: writable by "
		    "everyone");
	}
}

static void
test_group_writable_file(void **state)
{
	struct fx	*fx = *state;
	char		 file[PATH_MAX], want[PATH_MAX * 2];

	make_file(fx, "gateway.yaml", 0664, file, sizeof(file));
	snprintf(want, sizeof(want), "bad permissions on %s: writable by its "
	    "group", file);
	expect_refused(file, fx->me, want);
	assert_int_equal(chmod(file, 0620), 0);
	expect_refused(file, fx->me, want);
	/* Writable by others, or by both: "everyone". */
	snprintf(want, sizeof(want), "bad permissions on %s: writable by "
	    "everyone", file);
	assert_int_equal(chmod(file, 0646), 0);
	expect_refused(file, fx->me, want);
	assert_int_equal(chmod(file, 0666), 0);
	expect_refused(file, fx->me, want);
}

static void
test_group_writable_dir(void **state)
{
	struct fx	*fx = *state;
	char		 dir[PATH_MAX], file[PATH_MAX], want[PATH_MAX * 2];

	make_dir(fx, "conf", 0775, dir, sizeof(dir));
	make_file(fx, "conf/gateway.yaml", 0644, file, sizeof(file));
	snprintf(want, sizeof(want), "bad permissions on %s: writable by its "
	    "group", dir);
	expect_refused(file, fx->me, want);
	/* The nearest bad directory is named first. */
	assert_int_equal(chmod(dir, 0755), 0);
	make_dir(fx, "conf/deeper", 0757, dir, sizeof(dir));
	make_file(fx, "conf/deeper/gateway.yaml", 0644, file, sizeof(file));
	snprintf(want, sizeof(want), "bad permissions on %s: writable by "
	    "everyone", dir);
	expect_refused(file, fx->me, want);
}

/* The whole walk up to / is checked, not just the file's directory. */
static void
test_unsafe_ancestor(void **state)
{
	struct fx	*fx = *state;
	char		 top[PATH_MAX], mid[PATH_MAX], file[PATH_MAX];
	char		 want[PATH_MAX * 2];

	make_dir(fx, "a", 0777, top, sizeof(top));
	make_dir(fx, "a/b", 0755, mid, sizeof(mid));
	make_dir(fx, "a/b/c", 0755, mid, sizeof(mid));
	make_file(fx, "a/b/c/gateway.yaml", 0644, file, sizeof(file));
	snprintf(want, sizeof(want), "bad permissions on %s: writable by "
	    "everyone", top);
	expect_refused(file, fx->me, want);
}

static void
test_other_owner_file(void **state)
{
	struct fx	*fx = *state;
	char		 file[PATH_MAX], want[PATH_MAX * 2];

	need_safe_base(fx);
	need_root(fx);
	make_file(fx, "gateway.yaml", 0644, file, sizeof(file));
	do_chown(file, OTHER_UID, 0);
	snprintf(want, sizeof(want), "bad ownership of %s: owned by uid %u, "
	    "not root or uid 0", file, (unsigned)OTHER_UID);
	expect_refused(file, 0, want);
	/* Only the uid counts: a root group does not help, 0600 neither. */
	assert_int_equal(chmod(file, 0600), 0);
	expect_refused(file, 0, want);
}

static void
test_other_owner_dir(void **state)
{
	struct fx	*fx = *state;
	char		 dir[PATH_MAX], file[PATH_MAX], want[PATH_MAX * 2];

	need_safe_base(fx);
	need_root(fx);
	make_dir(fx, "theirs", 0755, dir, sizeof(dir));
	do_chown(dir, OTHER_UID, OTHER_UID);
	make_file(fx, "theirs/gateway.yaml", 0644, file, sizeof(file));
	snprintf(want, sizeof(want), "bad ownership of %s: owned by uid %u, "
	    "not root or uid 0", dir, (unsigned)OTHER_UID);
	expect_refused(file, 0, want);
	/* Ownership is reported before permissions on the same component. */
	assert_int_equal(chmod(dir, 0777), 0);
	expect_refused(file, 0, want);
}

/* A symlink is judged by where it leads. */
static void
test_symlink(void **state)
{
	struct fx	*fx = *state;
	char		 dir[PATH_MAX], file[PATH_MAX], lnk[PATH_MAX];
	char		 want[PATH_MAX * 2];

	make_dir(fx, "shared", 0777, dir, sizeof(dir));
	make_file(fx, "shared/real.yaml", 0644, file, sizeof(file));
	snprintf(lnk, sizeof(lnk), "%s/gateway.yaml", fx->dir);
	assert_int_equal(symlink(file, lnk), 0);
	snprintf(want, sizeof(want), "bad permissions on %s: writable by "
	    "everyone", dir);
	expect_refused(lnk, fx->me, want);
	if (fx->safe) {
		/* And a link to a safe file is fine. */
		assert_int_equal(chmod(dir, 0755), 0);
		expect_safe(lnk, 0);
	}
}

static void
test_missing_and_not_regular(void **state)
{
	struct fx	*fx = *state;
	char		 path[PATH_MAX], want[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/nope.yaml", fx->dir);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	expect_refused(path, fx->me, want);
	snprintf(want, sizeof(want), "%s: not a regular file", fx->dir);
	expect_refused(fx->dir, fx->me, want);
	make_dir(fx, "d.yaml", 0755, path, sizeof(path));
	snprintf(want, sizeof(want), "%s: not a regular file", path);
	expect_refused(path, fx->me, want);
	expect_refused("/dev/null", 0, "/dev/null: not a regular file");
}


/* ---- policy_load_checked(): one open for the check and the read ---- */

static void
test_load_checked_good(void **state)
{
	struct fx		*fx = *state;
	char			 file[PATH_MAX], bad[PATH_MAX];
	char			 want[PATH_MAX * 2], err[PATH_MAX + 128];
	struct policy_errors	 errs = { NULL, 0, 0 };
	struct policy		*p;

	need_safe_base(fx);
	write_policy(fx, "gateway.yaml", SAFE_POLICY, file, sizeof(file));
	expect_load_ok(file, 0, "alice");
	/* An invalid policy is not a refusal: ERR is "", ERRS says where. */
	write_policy(fx, "bad.yaml", "hosts: [\n", bad, sizeof(bad));
	memcpy(err, "untouched", sizeof("untouched"));
	p = policy_load_checked(bad, 0, err, sizeof(err), &errs);
	assert_null(p);
	assert_string_equal(err, "");
	assert_int_equal(errs.n, 1);
	snprintf(want, sizeof(want), "%s:2:1: ", bad);
	assert_memory_equal(errs.msgs[0], want, strlen(want));
	policy_errors_free(&errs);
	/* And a refusal parses nothing. */
	assert_int_equal(chmod(file, 0664), 0);
	snprintf(want, sizeof(want), "bad permissions on %s: writable by its "
	    "group", file);
	expect_load_refused(file, 0, want);
}

/* policy_load_gateway(): the same check for the effective user, and why. */
static void
test_load_gateway(void **state)
{
	struct fx		*fx = *state;
	char			 file[PATH_MAX], bad[PATH_MAX];
	char			 want[PATH_MAX * 2];
	struct policy_failure	 f;
	struct policy		*p;

	need_safe_base(fx);
	write_policy(fx, "gateway.yaml", SAFE_POLICY, file, sizeof(file));
	p = policy_load_gateway(file, &f);
	assert_non_null(p);
	assert_non_null(policy_identity_find(p, "alice"));
	assert_false(f.refused);
	assert_int_equal(f.errs.n, 0);
	policy_free(p);
	policy_failure_free(&f);
	/* Invalid: every error, and the first as the reason. */
	write_policy(fx, "bad.yaml", SAFE_POLICY "colour: blue\nflavour: sour\n",
	    bad, sizeof(bad));
	assert_null(policy_load_gateway(bad, &f));
	assert_false(f.refused);
	assert_int_equal(f.errs.n, 2);
	assert_string_equal(f.reason, f.errs.msgs[0]);
	assert_non_null(strstr(f.errs.msgs[1], "flavour"));
	policy_failure_free(&f);
	assert_int_equal(f.errs.n, 0);
	/* Refused: the reason alone, and nothing parsed. */
	assert_int_equal(chmod(file, 0664), 0);
	assert_null(policy_load_gateway(file, &f));
	assert_true(f.refused);
	assert_int_equal(f.errs.n, 0);
	snprintf(want, sizeof(want), "bad permissions on %s: writable by its "
	    "group", file);
	assert_string_equal(f.reason, want);
	policy_failure_free(&f);
	policy_failure_free(NULL);
}

/*
 * A symlink is only as safe as the directory holding it: whoever may
 * write there can point it elsewhere at any time, whatever it points to
 * now.
 */
static void
test_symlink_in_writable_dir(void **state)
{
	struct fx	*fx = *state;
	char		 file[PATH_MAX], dir[PATH_MAX], up[PATH_MAX];
	char		 lnk[PATH_MAX * 2], via[PATH_MAX * 2];
	char		 want[PATH_MAX * 2];

	need_safe_base(fx);
	write_policy(fx, "gateway.yaml", SAFE_POLICY, file, sizeof(file));
	make_dir(fx, "shared", 0777, dir, sizeof(dir));
	snprintf(lnk, sizeof(lnk), "%s/gateway.yaml", dir);
	assert_int_equal(symlink(file, lnk), 0);
	snprintf(want, sizeof(want), "bad permissions on %s: writable by "
	    "everyone", dir);
	expect_refused(lnk, 0, want);
	expect_load_refused(lnk, 0, want);
	/* The sticky bit does not help: the link may be the attacker's. */
	assert_int_equal(chmod(dir, 01777), 0);
	expect_load_refused(lnk, 0, want);
	/* Reached through a safe link of its own. */
	snprintf(up, sizeof(up), "%s/policy.yaml", fx->dir);
	assert_int_equal(symlink("shared/gateway.yaml", up), 0);
	expect_load_refused(up, 0, want);
	/* A symlink to a directory, in the writable one, on the way. */
	snprintf(lnk, sizeof(lnk), "%s/conf", dir);
	assert_int_equal(symlink(fx->dir, lnk), 0);
	snprintf(via, sizeof(via), "%s/conf/gateway.yaml", dir);
	expect_load_refused(via, 0, want);
	snprintf(want, sizeof(want), "bad permissions on %s: writable by its "
	    "group", dir);
	assert_int_equal(chmod(dir, 0775), 0);
	expect_load_refused(up, 0, want);
	/* Safe once nobody else may write the link's directory. */
	assert_int_equal(chmod(dir, 0755), 0);
	expect_safe(up, 0);
	expect_load_ok(up, 0, "alice");
	expect_load_ok(via, 0, "alice");
	/* A link's directory owned by someone else is refused too. */
	need_root(fx);
	do_chown(dir, OTHER_UID, OTHER_UID);
	snprintf(want, sizeof(want), "bad ownership of %s: owned by uid %u, "
	    "not root or uid 0", dir, (unsigned)OTHER_UID);
	expect_load_refused(up, 0, want);
	expect_load_refused(via, 0, want);
}

/* A safe link to a file whose own directory is writable: refused. */
static void
test_symlink_target_dir_writable(void **state)
{
	struct fx	*fx = *state;
	char		 dir[PATH_MAX], file[PATH_MAX], lnk[PATH_MAX];
	char		 want[PATH_MAX * 2];

	need_safe_base(fx);
	make_dir(fx, "shared", 0757, dir, sizeof(dir));
	write_policy(fx, "shared/gateway.yaml", SAFE_POLICY, file,
	    sizeof(file));
	snprintf(lnk, sizeof(lnk), "%s/gateway.yaml", fx->dir);
	assert_int_equal(symlink("shared/gateway.yaml", lnk), 0);
	snprintf(want, sizeof(want), "bad permissions on %s: writable by "
	    "everyone", dir);
	expect_refused(lnk, 0, want);
	expect_load_refused(lnk, 0, want);
	assert_int_equal(chmod(dir, 0755), 0);
	expect_load_ok(lnk, 0, "alice");
}

/* A FIFO is refused at once: opening it must not wait for a writer. */
static void
test_fifo_refused(void **state)
{
	struct fx		*fx = *state;
	char			 path[PATH_MAX], want[PATH_MAX * 2];
	struct policy_errors	 errs = { NULL, 0, 0 };
	struct policy		*p;

	snprintf(path, sizeof(path), "%s/gateway.yaml", fx->dir);
	assert_int_equal(mkfifo(path, 0644), 0);
	/* If an open blocks, SIGALRM ends the test program: a failure. */
	alarm(20);
	snprintf(want, sizeof(want), "%s: not a regular file", path);
	expect_refused(path, fx->me, want);
	expect_load_refused(path, fx->me, want);
	p = policy_load(path, &errs);
	alarm(0);
	assert_null(p);
	assert_int_equal(errs.n, 1);
	snprintf(want, sizeof(want), "%s:0:0: not a regular file", path);
	assert_string_equal(errs.msgs[0], want);
	policy_errors_free(&errs);
}

/*
 * The attack: the policy path is a symlink in a directory the attacker
 * may write (mode LINKDIR_MODE, owner LINKDIR_UID), and the attacker
 * flips it between the real policy and their own while the gateway loads
 * it, RACE_LOADS times.  With DIRLINK the flipped link is a directory on
 * the way rather than the file.  No load may ever return the attacker's
 * policy: each one is refused or gives the real policy.
 */
#ifndef RACE_LOADS
#define RACE_LOADS 300
#endif

struct race_counts {
	unsigned	refused;
	unsigned	safe;
	unsigned	evil;		/* the attacker's policy loaded */
	unsigned	other;		/* loaded, neither: never */
	unsigned	invalid;	/* not refused, yet not loaded */
	unsigned	saw_evil;	/* the link led to the attacker */
};

/*
 * The attacker: drop to ATTACKER_UID, then flip LNK between A and B until
 * killed, or until the test program dies (a crash or a failed assertion
 * must not leave it flipping).  PR_SET_PDEATHSIG comes after setuid(2),
 * which clears it.
 */
static void __attribute__((noreturn))
flipper(const char *lnk, const char *tmp, const char *a, const char *b,
    pid_t parent, int ready)
{
	unsigned long	i;

	if (setgroups(0, NULL) == -1 || setgid(ATTACKER_UID) == -1 ||
	    setuid(ATTACKER_UID) == -1 ||
	    prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent ||
	    write(ready, "x", 1) != 1)
		_exit(1);
	(void)close(ready);
	for (i = 0;; i++) {
		(void)unlink(tmp);
		if (symlink(i % 2 ? a : b, tmp) == -1 || rename(tmp, lnk) == -1)
			_exit(1);
	}
}

static void
race_load(const char *path, const char *lnk, const char *evil,
    struct race_counts *c)
{
	char			 err[PATH_MAX + 128], buf[PATH_MAX];
	struct policy_errors	 errs = { NULL, 0, 0 };
	struct policy		*p;
	ssize_t			 n;

	err[0] = '\0';
	p = policy_load_checked(path, 0, err, sizeof(err), &errs);
	if (p == NULL && err[0] != '\0')
		c->refused++;
	else if (p == NULL)
		c->invalid++;
	else if (policy_identity_find(p, "mallory") != NULL)
		c->evil++;
	else if (policy_identity_find(p, "alice") != NULL)
		c->safe++;
	else
		c->other++;
	policy_free(p);
	policy_errors_free(&errs);
	if ((n = readlink(lnk, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		if (strcmp(buf, evil) == 0)
			c->saw_evil++;
	}
}

static void
race(struct fx *fx, mode_t linkdir_mode, uid_t linkdir_uid, bool dirlink)
{
	char			 safe[PATH_MAX], evil[PATH_MAX];
	char			 edir[PATH_MAX], ldir[PATH_MAX];
	char			 lnk[PATH_MAX * 2];
	char			 tmp[PATH_MAX * 2], path[PATH_MAX * 3], c1;
	const char		*a, *b;
	struct race_counts	 c;
	int			 fds[2], status;
	pid_t			 pid, parent;
	unsigned		 i;

	need_safe_base(fx);
	need_root(fx);
	memset(&c, 0, sizeof(c));
	/* The real policy, and the attacker's in a directory of theirs. */
	write_policy(fx, "gateway.yaml", SAFE_POLICY, safe, sizeof(safe));
	make_dir(fx, "evil", 0755, edir, sizeof(edir));
	do_chown(edir, ATTACKER_UID, ATTACKER_UID);
	write_policy(fx, "evil/gateway.yaml", EVIL_POLICY, evil, sizeof(evil));
	do_chown(evil, ATTACKER_UID, ATTACKER_UID);
	make_dir(fx, "links", linkdir_mode, ldir, sizeof(ldir));
	do_chown(ldir, linkdir_uid, linkdir_uid);
	if (dirlink) {
		/* links/conf -> FX->dir or evil/: links/conf/gateway.yaml */
		snprintf(lnk, sizeof(lnk), "%s/conf", ldir);
		snprintf(path, sizeof(path), "%s/gateway.yaml", lnk);
		a = edir;
		b = fx->dir;
	} else {
		snprintf(lnk, sizeof(lnk), "%s/gateway.yaml", ldir);
		snprintf(path, sizeof(path), "%s", lnk);
		a = evil;
		b = safe;
	}
	snprintf(tmp, sizeof(tmp), "%s/.flip", ldir);
	assert_int_equal(symlink(b, lnk), 0);
	assert_int_equal(lchown(lnk, ATTACKER_UID, ATTACKER_UID), 0);
	assert_int_equal(pipe(fds), 0);
	parent = getpid();
	if ((pid = fork()) == 0) {
		(void)close(fds[0]);
		flipper(lnk, tmp, a, b, parent, fds[1]);
	}
	assert_true(pid > 0);
	(void)close(fds[1]);
	if (read(fds[0], &c1, 1) != 1) {
		(void)close(fds[0]);
		(void)waitpid(pid, &status, 0);
		print_message("      skipped: cannot run as uid %u\n",
		    (unsigned)ATTACKER_UID);
		skip();
	}
	(void)close(fds[0]);
	/*
	 * On a busy machine the attacker may not have run yet, or be
	 * descheduled for all the loads: go on (up to ten times as many)
	 * until the link was seen leading to the attacker's side.
	 */
	for (i = 0; i < RACE_LOADS ||
	    (c.saw_evil == 0 && i < 10 * RACE_LOADS); i++)
		race_load(path, lnk, a, &c);
	/* Still flipping at the end?  Then it flipped throughout. */
	assert_int_equal(waitpid(pid, &status, WNOHANG), 0);
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	print_message("      %u loads: %u refused, %u real policy, %u "
	    "attacker's; link seen on the attacker's side %u times\n",
	    i, c.refused, c.safe, c.evil, c.saw_evil);
	assert_int_equal(c.evil, 0);
	assert_int_equal(c.other, 0);
	assert_int_equal(c.invalid, 0);
	assert_int_equal(c.refused + c.safe, i);
	/* Otherwise the test showed nothing: the attacker never got a turn. */
	assert_true(c.saw_evil > 0);
}

static void
test_race_link_in_world_writable_dir(void **state)
{
	race(*state, 0777, 0, false);
}

static void
test_race_link_in_foreign_dir(void **state)
{
	race(*state, 0755, ATTACKER_UID, false);
}

static void
test_race_dir_link_in_world_writable_dir(void **state)
{
	race(*state, 0777, 0, true);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trusted_uid, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_world_writable_dir, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_under_tmp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_writable_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_group_writable_dir, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unsafe_ancestor, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_other_owner_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_other_owner_dir, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_and_not_regular,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_checked_good, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_gateway, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_symlink_in_writable_dir,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_symlink_target_dir_writable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_race_link_in_world_writable_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_race_link_in_foreign_dir,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_race_dir_link_in_world_writable_dir, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
