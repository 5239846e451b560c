/*
 * test_recdir.c — names of recordings, and the walk of the recordings
 * directory: nothing followed, directories others can write refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "gateway/recdir.h"
#include "gateway/str.h"

#define ID	"0123456789abcdef"

static char	root[128];

static int
setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/mgt-recdir-XXXXXX");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int
teardown(void **state)
{
	return unit_rmtree(root) == 0 ? 0 : -1;
}

static void
test_names(void **state)
{
	enum recdir_kind	kind;
	char			id[RECDIR_ID_LEN + 1];

	assert_true(recdir_name("20261123-202438-" ID ".cast", id, &kind));
	assert_string_equal(id, ID);
	assert_int_equal(kind, RECDIR_CAST);
	assert_true(recdir_name("20261123-202438-" ID ".sealed", id, &kind));
	assert_int_equal(kind, RECDIR_SEALED);
	assert_true(recdir_name("20261123-202438-" ID ".cast", NULL, NULL));

	assert_false(recdir_name("", id, &kind));
	assert_false(recdir_name("20261123-202438-" ID, id, &kind));
	assert_false(recdir_name("20261123-202438-" ID ".cast.tmp", id, &kind));
	assert_false(recdir_name("20261123-202438-" ID ".casT", id, &kind));
	assert_false(recdir_name("20261123-202438-0123456789ABCDEF.cast", id,
	    &kind));
	assert_false(recdir_name("20261123-202438-0123456789abcde.cast", id,
	    &kind));
	assert_false(recdir_name("20261123_202438-" ID ".cast", id, &kind));
	assert_false(recdir_name("2026112a-202438-" ID ".cast", id, &kind));
	assert_false(recdir_name("20261123-202438_" ID ".cast", id, &kind));
	assert_false(recdir_name("../20261123-2024-" ID ".cast", id, &kind));
}

struct seen {
	struct buf	files;		/* "DIR/NAME\n" each */
	struct buf	others;
	struct buf	refused;	/* "PATH: WHY\n" each */
	int		stop_after;	/* 0: never */
};

static int
on_file(void *arg, int dfd, const char *dir, const char *name)
{
	struct seen	*s = arg;
	struct stat	 st;

	/* DFD is the directory DIR. */
	assert_int_equal(fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	buf_printf(&s->files, "%s/%s\n", dir + strlen(root), name);
	return --s->stop_after == 0 ? -1 : 0;
}

static void
on_other(void *arg, const char *path, const struct stat *st)
{
	struct seen	*s = arg;

	buf_printf(&s->others, "%s %s\n", path + strlen(root),
	    S_ISLNK(st->st_mode) ? "link" : "other");
}

static void
on_refuse(void *arg, const char *path, const char *why)
{
	struct seen	*s = arg;

	buf_printf(&s->refused, "%s: %s\n", path + strlen(root), why);
}

static int
walk(struct seen *s, char *err, size_t errlen)
{
	const struct recdir_ops	ops = { on_file, on_other, on_refuse, s };

	return recdir_walk(root, &ops, err, errlen);
}

static void
seen_free(struct seen *s)
{
	buf_free(&s->files);
	buf_free(&s->others);
	buf_free(&s->refused);
}

static void
mk(const char *rel, mode_t mode)
{
	char	path[256];
	int	fd;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (mode & S_IFDIR) {
		assert_int_equal(mkdir(path, 0700), 0);
		assert_int_equal(chmod(path, mode & 07777), 0);
	} else {
		assert_true((fd = open(path, O_WRONLY | O_CREAT | O_EXCL,
		    0600)) != -1);
		close(fd);
	}
}

static void
test_walk(void **state)
{
	struct seen	s = { 0 };
	char		err[256], path[256], link[256];

	mk("alice", S_IFDIR | 0700);
	mk("alice/20261123-202438-" ID ".cast", 0);
	mk("bob", S_IFDIR | 0700);
	mk("notes.txt", 0);
	snprintf(path, sizeof(path), "%s/alice", root);
	snprintf(link, sizeof(link), "%s/mallory", root);
	assert_int_equal(symlink(path, link), 0);
	mk("eve", S_IFDIR | 0770);
	mk("eve/20261123-202438-" ID ".cast", 0);

	assert_int_equal(walk(&s, err, sizeof(err)), RECDIR_OK);
	assert_string_equal(s.files.data,
	    "/alice/20261123-202438-" ID ".cast\n");
	/* readdir's order */
	assert_true(strcmp(s.others.data, "/notes.txt other\n/mallory link\n")
	    == 0 || strcmp(s.others.data,
	    "/mallory link\n/notes.txt other\n") == 0);
	assert_string_equal(s.refused.data,
	    "/eve: writable by group or others\n");
	seen_free(&s);
}

static int
lines(const char *s)
{
	int	n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

static void
test_walk_stops(void **state)
{
	struct seen	s = { .stop_after = 1 };
	char		err[256];

	mk("alice", S_IFDIR | 0700);
	mk("alice/a", 0);
	mk("alice/b", 0);
	mk("bob", S_IFDIR | 0700);
	mk("bob/c", 0);
	assert_int_equal(walk(&s, err, sizeof(err)), RECDIR_OK);
	/* One file, then nothing: not the other directory either. */
	assert_non_null(s.files.data);
	assert_int_equal(lines(s.files.data), 1);
	seen_free(&s);
}

static void
test_walk_root(void **state)
{
	struct seen	s = { 0 };
	char		err[256], saved[128], link[128];

	/* Refused: writable by others, even with the sticky bit. */
	assert_int_equal(chmod(root, 01777), 0);
	assert_int_equal(walk(&s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "writable by group or others"));
	assert_int_equal(chmod(root, 0700), 0);

	/* A symbolic link is not followed. */
	snprintf(link, sizeof(link), "%.100s.link", root);
	assert_int_equal(symlink(root, link), 0);
	memcpy(saved, root, sizeof(saved));
	snprintf(root, sizeof(root), "%.100s", link);
	assert_int_equal(walk(&s, err, sizeof(err)), -1);
	memcpy(root, saved, sizeof(root));
	assert_int_equal(unlink(link), 0);

	/* Missing: nothing recorded yet, not an error. */
	snprintf(root, sizeof(root), "%.100s/none", saved);
	assert_int_equal(walk(&s, err, sizeof(err)), RECDIR_MISSING);
	memcpy(root, saved, sizeof(root));
	assert_null(s.files.data);
	assert_null(s.refused.data);
	seen_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_walk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_walk_stops, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_walk_root, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
