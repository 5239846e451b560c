/*
 * test_safepath.c — policy_check_path(), the StrictModes rule for the
 * policy file.
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
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/policy.h"

#define SAFE_PARENT	"/var/lib"
#define OTHER_UID	((uid_t)4242)

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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
