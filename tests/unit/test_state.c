/*
 * test_state.c — the shared state (gateway/state.h) on its file backend:
 * compare-and-set, lists, expiry, the change poll, keys, and entry files
 * refused when anything about them is not exactly what was written.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "gateway/state.h"

static char	dir[64];

static int
setup(void **state)
{
	struct state	*st;
	char		 err[256];

	snprintf(dir, sizeof(dir), "/tmp/mgt-state-XXXXXX");
	assert_non_null(mkdtemp(dir));
	st = state_open(dir, err, sizeof(err));
	if (st == NULL)
		print_error("%s\n", err);
	*state = st;
	return st == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	state_close(*state);
	return unit_rmtree(dir) == 0 ? 0 : -1;
}

/* The file behind KEY: the test looks at what callers never see. */
static void
entry_path(char *path, size_t len, const char *file)
{
	assert_true(snprintf(path, len, "%s/kv/%s", dir, file) < (int)len);
}

static size_t
slurp(const char *path, unsigned char *buf, size_t cap)
{
	ssize_t	n;
	int	fd;

	assert_true((fd = open(path, O_RDONLY)) != -1);
	n = read(fd, buf, cap);
	assert_true(n >= 0 && (size_t)n < cap);
	close(fd);
	return (size_t)n;
}

/* Replace the bytes of PATH in place: same inode, mode and owner. */
static void
spit(const char *path, const unsigned char *buf, size_t len)
{
	int	fd;

	assert_true((fd = open(path, O_WRONLY | O_TRUNC)) != -1);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static uint64_t
put(struct state *st, const char *key, const char *value,
    long long expires, uint64_t expected)
{
	uint64_t	v = 0;
	char		err[256];

	if (state_put_if(st, key, value, strlen(value), expires, expected,
	    &v, err, sizeof(err)) != STATE_OK)
		fail_msg("put %s: %s", key, err);
	return v;
}

static enum state_status
get(struct state *st, const char *key, struct state_entry *e, char *err,
    size_t errlen)
{
	return state_get(st, key, e, err, errlen);
}

static void
test_round_trip(void **state)
{
	struct state		*st = *state;
	struct state_entry	 e;
	uint64_t		 v1, v2;
	char			 err[256];

	assert_int_equal(get(st, "grant/7f3a9c2e1b4d5a60", &e, err,
	    sizeof(err)), STATE_ABSENT);
	assert_null(e.value);
	v1 = put(st, "grant/7f3a9c2e1b4d5a60", "{\"state\":\"pending\"}",
	    0, STATE_NEW);
	assert_true(v1 >= 1);
	assert_int_equal(get(st, "grant/7f3a9c2e1b4d5a60", &e, err,
	    sizeof(err)), STATE_OK);
	assert_int_equal(e.version, v1);
	assert_int_equal(e.expires, 0);
	assert_int_equal(e.len, strlen("{\"state\":\"pending\"}"));
	assert_string_equal((char *)e.value, "{\"state\":\"pending\"}");
	state_entry_free(&e);

	v2 = put(st, "grant/7f3a9c2e1b4d5a60", "", 1900000000, STATE_ANY);
	assert_true(v2 > v1);
	assert_int_equal(get(st, "grant/7f3a9c2e1b4d5a60", &e, err,
	    sizeof(err)), STATE_OK);
	assert_int_equal(e.len, 0);
	assert_string_equal((char *)e.value, "");
	assert_int_equal(e.expires, 1900000000);
	state_entry_free(&e);
}

static void
test_survives_reopen(void **state)
{
	struct state		*st = *state, *again;
	struct state_entry	 e;
	uint64_t		 v;
	char			 err[256];

	v = put(st, "ttl/bastion/deploy/6275696c64", "3600", 0, STATE_NEW);
	state_close(st);
	*state = NULL;
	assert_non_null(again = state_open(dir, err, sizeof(err)));
	*state = again;
	assert_int_equal(get(again, "ttl/bastion/deploy/6275696c64", &e, err,
	    sizeof(err)), STATE_OK);
	assert_int_equal(e.version, v);
	assert_string_equal((char *)e.value, "3600");
	state_entry_free(&e);
}

static void
test_compare_and_set(void **state)
{
	struct state	*st = *state;
	uint64_t	 v, v2, out = 0;
	char		 err[256];

	v = put(st, "grant/a", "one", 0, STATE_NEW);
	/* Create when it exists. */
	assert_int_equal(state_put_if(st, "grant/a", "x", 1, 0, STATE_NEW,
	    &out, err, sizeof(err)), STATE_CONFLICT);
	/* A version it never had, or not yet. */
	assert_int_equal(state_put_if(st, "grant/a", "x", 1, 0, v + 1, &out,
	    err, sizeof(err)), STATE_CONFLICT);
	assert_int_equal(out, 0);
	v2 = put(st, "grant/a", "two", 0, v);
	assert_true(v2 > v);
	/* A stale version loses. */
	assert_int_equal(state_put_if(st, "grant/a", "x", 1, 0, v, NULL, err,
	    sizeof(err)), STATE_CONFLICT);
	/* Updating a key that does not exist is a conflict, not a create. */
	assert_int_equal(state_put_if(st, "grant/b", "x", 1, 0, 1, NULL, err,
	    sizeof(err)), STATE_CONFLICT);
}

static void
test_delete_if(void **state)
{
	struct state		*st = *state;
	struct state_entry	 e;
	uint64_t		 v, v2;
	char			 err[256];

	v = put(st, "terminate/0123456789abcdef", "reason", 0, STATE_NEW);
	assert_int_equal(state_delete_if(st, "terminate/0123456789abcdef",
	    v + 1, err, sizeof(err)), STATE_CONFLICT);
	assert_int_equal(state_delete_if(st, "terminate/0123456789abcdef",
	    STATE_NEW, err, sizeof(err)), STATE_ERROR);
	assert_int_equal(state_delete_if(st, "terminate/0123456789abcdef", v,
	    err, sizeof(err)), STATE_OK);
	assert_int_equal(get(st, "terminate/0123456789abcdef", &e, err,
	    sizeof(err)), STATE_ABSENT);
	assert_int_equal(state_delete_if(st, "terminate/0123456789abcdef",
	    STATE_ANY, err, sizeof(err)), STATE_ABSENT);
	/* Made again, it never gets its old version back. */
	v2 = put(st, "terminate/0123456789abcdef", "again", 0, STATE_NEW);
	assert_true(v2 > v);
	assert_int_equal(state_delete_if(st, "terminate/0123456789abcdef",
	    v, err, sizeof(err)), STATE_CONFLICT);
	assert_int_equal(state_delete_if(st, "terminate/0123456789abcdef",
	    STATE_ANY, err, sizeof(err)), STATE_OK);
}

static void
expect_keys(struct state *st, const char *prefix, const char *const *keys,
    size_t n)
{
	struct state_items	items;
	char			err[256];
	size_t			i;

	if (state_list(st, prefix, &items, err, sizeof(err)) == -1)
		fail_msg("list %s: %s", prefix, err);
	if (items.n != n)
		fail_msg("list \"%s\": %zu keys, not %zu", prefix, items.n, n);
	for (i = 0; i < n; i++)
		assert_string_equal(items.v[i].key, keys[i]);
	state_items_free(&items);
}

static void
test_list_prefix(void **state)
{
	static const char *const all[] = { "grant", "grant/a", "grant/b",
	    "grants/c", "ttl/h/u/s", "ttl/h2/u/s" };
	static const char *const grant[] = { "grant", "grant/a", "grant/b" };
	static const char *const ttl_h[] = { "ttl/h/u/s" };
	struct state		*st = *state;
	struct state_items	 items;
	char			 err[256], path[128];
	size_t			 i;
	int			 fd;

	for (i = sizeof(all) / sizeof(all[0]); i-- > 0;)
		put(st, all[i], all[i], 0, STATE_NEW);
	/* Not a key of ours, whatever it holds: not listed. */
	entry_path(path, sizeof(path), "Stray.file");
	assert_true((fd = open(path, O_WRONLY | O_CREAT, 0600)) != -1);
	close(fd);

	expect_keys(st, "", all, 6);
	expect_keys(st, "grant", grant, 3);
	expect_keys(st, "grant/", grant, 3);
	expect_keys(st, "grant/a", grant + 1, 1);
	expect_keys(st, "gran", NULL, 0);
	expect_keys(st, "ttl/h", ttl_h, 1);
	expect_keys(st, "ttl/h/u/s/t", NULL, 0);
	expect_keys(st, "nothing", NULL, 0);

	assert_int_equal(state_list(st, "grant", &items, err, sizeof(err)), 0);
	assert_string_equal((char *)items.v[1].entry.value, "grant/a");
	state_items_free(&items);
	assert_int_equal(state_list(st, "../", &items, err, sizeof(err)), -1);
	assert_int_equal(state_list(st, "/", &items, err, sizeof(err)), -1);
	assert_int_equal(state_list(st, "grant//", &items, err, sizeof(err)),
	    -1);
	assert_int_equal(items.n, 0);
}

static void
test_expiry(void **state)
{
	struct state		*st = *state;
	struct state_entry	 e;
	long long		 now = (long long)time(NULL);
	uint64_t		 old, v;
	size_t			 removed;
	char			 err[256], path[128];

	old = put(st, "grant/gone", "x", now - 10, STATE_NEW);
	put(st, "grant/later", "y", now + 3600, STATE_NEW);
	put(st, "grant/never", "z", 0, STATE_NEW);
	assert_int_equal(get(st, "grant/gone", &e, err, sizeof(err)),
	    STATE_ABSENT);
	assert_int_equal(get(st, "grant/later", &e, err, sizeof(err)),
	    STATE_OK);
	state_entry_free(&e);
	expect_keys(st, "grant",
	    (const char *const[]){ "grant/later", "grant/never" }, 2);
	/* Expired is absent to compare-and-set too. */
	assert_int_equal(state_put_if(st, "grant/gone", "x", 1, 0, old, NULL,
	    err, sizeof(err)), STATE_CONFLICT);
	assert_int_equal(state_delete_if(st, "grant/gone", STATE_ANY, err,
	    sizeof(err)), STATE_ABSENT);

	assert_int_equal(state_sweep(st, now, &removed, err, sizeof(err)), 0);
	assert_int_equal(removed, 1);
	entry_path(path, sizeof(path), "grant.gone");
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(state_sweep(st, now + 7200, &removed, err,
	    sizeof(err)), 0);
	assert_int_equal(removed, 1);
	expect_keys(st, "", (const char *const[]){ "grant/never" }, 1);

	/* Swept, its version is still never reused. */
	v = put(st, "grant/gone", "back", 0, STATE_NEW);
	assert_true(v > old);
}

static void
test_changed(void **state)
{
	struct state	*st = *state, *other;
	uint64_t	 grant = 0, ttl = 0, all = 0, v;
	long long	 now = (long long)time(NULL);
	char		 err[256], path[128];
	int		 fd;

	assert_int_equal(state_changed(st, "grant/", &grant, err,
	    sizeof(err)), 0);
	assert_int_equal(state_changed(st, "", &all, err, sizeof(err)), 0);
	v = put(st, "grant/a", "x", 0, STATE_NEW);
	assert_int_equal(state_changed(st, "grant/", &grant, err,
	    sizeof(err)), 1);
	assert_int_equal(state_changed(st, "grant/", &grant, err,
	    sizeof(err)), 0);
	assert_int_equal(state_changed(st, "ttl", &ttl, err, sizeof(err)), 0);
	assert_int_equal(state_changed(st, "", &all, err, sizeof(err)), 1);

	/* Another namespace is not a change here. */
	put(st, "ttl/h/u/s", "x", 0, STATE_NEW);
	assert_int_equal(state_changed(st, "grant", &grant, err,
	    sizeof(err)), 0);
	assert_int_equal(state_changed(st, "ttl/h", &ttl, err, sizeof(err)), 1);
	assert_int_equal(state_changed(st, "", &all, err, sizeof(err)), 1);

	/* A refused write changes nothing; a delete does. */
	assert_int_equal(state_put_if(st, "grant/a", "y", 1, 0, STATE_NEW,
	    NULL, err, sizeof(err)), STATE_CONFLICT);
	assert_int_equal(state_changed(st, "grant", &grant, err,
	    sizeof(err)), 0);
	assert_int_equal(state_delete_if(st, "grant/a", v, err, sizeof(err)),
	    STATE_OK);
	assert_int_equal(state_changed(st, "grant", &grant, err,
	    sizeof(err)), 1);

	/* Expiry is a change once swept. */
	put(st, "grant/b", "x", now - 1, STATE_NEW);
	assert_int_equal(state_changed(st, "grant", &grant, err,
	    sizeof(err)), 1);
	assert_int_equal(state_sweep(st, now, NULL, err, sizeof(err)), 0);
	assert_int_equal(state_changed(st, "grant", &grant, err,
	    sizeof(err)), 1);
	assert_int_equal(state_changed(st, "grant", &grant, err,
	    sizeof(err)), 0);
	assert_int_equal(state_changed(st, "../x", &grant, err,
	    sizeof(err)), -1);

	/*
	 * A write under way (its lock held) is a change, and the poll does
	 * not wait for it; once done, the count says what really changed.
	 */
	entry_path(path, sizeof(path), ".lock");
	assert_true((fd = open(path, O_RDWR)) != -1);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	assert_int_equal(state_changed(st, "grant", &grant, err,
	    sizeof(err)), 1);
	close(fd);
	assert_int_equal(state_changed(st, "grant", &grant, err,
	    sizeof(err)), 0);

	/* Another handle's write (another process's, as far as files go). */
	assert_non_null(other = state_open(dir, err, sizeof(err)));
	put(other, "grant/c", "x", 0, STATE_NEW);
	state_close(other);
	assert_int_equal(state_changed(st, "grant", &grant, err,
	    sizeof(err)), 1);
}

static void
test_key_validation(void **state)
{
	static const char *const bad[] = { "", "../x", "a//b", ".hidden",
	    "a/.hidden", "Grant/a", "grant/A", "a/", "/a", "/", "a.b", "a b",
	    "a\nb", "é", "a/../b", "a\\b" };
	static const char *const good[] = { "a", "grant/7f3a9c2e1b4d5a60",
	    "terminate/0123456789abcdef", "ttl/bastion/deploy/6275696c64",
	    "a-b_c/0/-/_" };
	struct state		*st = *state;
	struct state_entry	 e;
	struct state_items	 items;
	char			 err[256], longest[STATE_KEY_MAX + 2];
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(state_key_valid(bad[i]));
		assert_int_equal(state_get(st, bad[i], &e, err, sizeof(err)),
		    STATE_ERROR);
		assert_int_equal(state_put_if(st, bad[i], "x", 1, 0, STATE_ANY,
		    NULL, err, sizeof(err)), STATE_ERROR);
		assert_int_equal(state_delete_if(st, bad[i], STATE_ANY, err,
		    sizeof(err)), STATE_ERROR);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(state_key_valid(good[i]));
	memset(longest, 'a', sizeof(longest));
	longest[STATE_KEY_MAX] = '\0';
	assert_true(state_key_valid(longest));
	put(st, longest, "x", 0, STATE_NEW);
	longest[STATE_KEY_MAX] = 'a';
	longest[STATE_KEY_MAX + 1] = '\0';
	assert_false(state_key_valid(longest));
	assert_int_equal(state_put_if(st, longest, "x", 1, 0, STATE_ANY, NULL,
	    err, sizeof(err)), STATE_ERROR);
	/* Nothing was written for any refused key. */
	assert_int_equal(state_list(st, "", &items, err, sizeof(err)), 0);
	assert_int_equal(items.n, 1);
	state_items_free(&items);
}

static void
expect_corrupt(struct state *st, const char *key)
{
	struct state_entry	e;
	char			err[256], want[128];

	err[0] = '\0';
	assert_int_equal(state_get(st, key, &e, err, sizeof(err)),
	    STATE_ERROR);
	assert_null(e.value);
	snprintf(want, sizeof(want), "corrupt entry %s: ", key);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("not refused as corrupt: %s", err);
}

static void
test_every_change_refused(void **state)
{
	static const unsigned char masks[] = { 0x01, 0x20, 0x80, 0xff };
	struct state		*st = *state;
	struct state_entry	 e;
	unsigned char		 orig[512], buf[513];
	char			 path[128], err[256];
	size_t			 len, i, m;

	put(st, "grant/x", "{\"identity\":\"alice\"}\n", 1900000000,
	    STATE_NEW);
	entry_path(path, sizeof(path), "grant.x");
	len = slurp(path, orig, sizeof(orig));
	for (i = 0; i < len; i++)
		for (m = 0; m < sizeof(masks); m++) {
			memcpy(buf, orig, len);
			buf[i] ^= masks[m];
			spit(path, buf, len);
			expect_corrupt(st, "grant/x");
		}
	for (i = 0; i < len; i++) {
		spit(path, orig, i);
		expect_corrupt(st, "grant/x");
	}
	memcpy(buf, orig, len);
	buf[len] = '\n';
	spit(path, buf, len + 1);
	expect_corrupt(st, "grant/x");
	/* A corrupt entry is not written over, nor deleted. */
	assert_int_equal(state_put_if(st, "grant/x", "y", 1, 0, STATE_ANY,
	    NULL, err, sizeof(err)), STATE_ERROR);
	assert_int_equal(state_delete_if(st, "grant/x", STATE_ANY, err,
	    sizeof(err)), STATE_ERROR);

	spit(path, orig, len);
	assert_int_equal(state_get(st, "grant/x", &e, err, sizeof(err)),
	    STATE_OK);
	state_entry_free(&e);
}

/*
 * A listing with an entry edited by hand: the others are listed, and
 * that one is named, with why, not listed.
 */
static void
test_list_skips_corrupt(void **state)
{
	struct state		*st = *state;
	struct state_items	 items;
	unsigned char		 buf[512];
	char			 path[128], err[256];
	size_t			 len;

	put(st, "ttl/a", "1", 0, STATE_NEW);
	put(st, "ttl/b", "2", 0, STATE_NEW);
	put(st, "ttl/c", "3", 0, STATE_NEW);
	entry_path(path, sizeof(path), "ttl.b");
	len = slurp(path, buf, sizeof(buf));
	buf[len - 2] ^= 0x01;
	spit(path, buf, len);
	assert_int_equal(state_list(st, "ttl", &items, err, sizeof(err)), 0);
	assert_int_equal(items.n, 2);
	assert_string_equal(items.v[0].key, "ttl/a");
	assert_string_equal(items.v[1].key, "ttl/c");
	assert_int_equal(items.nbad, 1);
	assert_non_null(strstr(items.bad[0], "corrupt entry ttl/b: "));
	state_items_free(&items);
}

static void
test_moved_entry_refused(void **state)
{
	struct state	*st = *state;
	unsigned char	 buf[512];
	char		 a[128], b[128];
	size_t		 len;

	/* A valid entry of one key copied over another: it names the first. */
	put(st, "grant/one", "allow", 0, STATE_NEW);
	put(st, "grant/two", "deny", 0, STATE_NEW);
	entry_path(a, sizeof(a), "grant.one");
	entry_path(b, sizeof(b), "grant.two");
	len = slurp(a, buf, sizeof(buf));
	spit(b, buf, len);
	expect_corrupt(st, "grant/two");
	/* Mode, and links: only what the backend itself writes is read. */
	assert_int_equal(chmod(a, 0644), 0);
	expect_corrupt(st, "grant/one");
	assert_int_equal(chmod(a, 0600), 0);
	entry_path(b, sizeof(b), "elsewhere");
	assert_int_equal(link(a, b), 0);
	expect_corrupt(st, "grant/one");
	assert_int_equal(unlink(b), 0);
	entry_path(b, sizeof(b), "grant.fifo");
	assert_int_equal(mkfifo(b, 0600), 0);
	expect_corrupt(st, "grant/fifo");
}

static void
test_symlink_refused(void **state)
{
	struct state		*st = *state;
	struct state_items	 items;
	struct stat		 sb;
	unsigned char		 buf[512];
	char			 path[128], outside[128], err[256];
	size_t			 len;

	put(st, "grant/y", "allow", 0, STATE_NEW);
	entry_path(path, sizeof(path), "grant.y");
	snprintf(outside, sizeof(outside), "%s/outside", dir);
	assert_int_equal(rename(path, outside), 0);
	assert_int_equal(symlink(outside, path), 0);
	expect_corrupt(st, "grant/y");
	/* A listing leaves it out, and names it. */
	assert_int_equal(state_list(st, "grant", &items, err, sizeof(err)), 0);
	assert_int_equal(items.n, 0);
	assert_int_equal(items.nbad, 1);
	assert_string_equal(items.bad[0], "corrupt entry grant/y: a symbolic "
	    "link");
	state_items_free(&items);
	assert_int_equal(state_put_if(st, "grant/y", "z", 1, 0, STATE_ANY,
	    NULL, err, sizeof(err)), STATE_ERROR);
	/* Neither the link nor its target was written over. */
	assert_int_equal(lstat(path, &sb), 0);
	assert_true(S_ISLNK(sb.st_mode));
	len = slurp(outside, buf, sizeof(buf));
	assert_non_null(memmem(buf, len, "allow", 5));
}

static void
test_state_key_refused(void **state)
{
	struct state	*st = *state;
	unsigned char	 other[32];
	char		 path[128], err[256];
	int		 fd;

	put(st, "grant/k", "x", 0, STATE_NEW);
	state_close(st);
	*state = NULL;
	snprintf(path, sizeof(path), "%s/state.key", dir);
	assert_int_equal(chmod(path, 0640), 0);
	err[0] = '\0';
	assert_null(state_open(dir, err, sizeof(err)));
	assert_non_null(strstr(err, "state.key"));
	assert_int_equal(chmod(path, 0600), 0);

	/* Another key: every entry made with the old one is refused. */
	memset(other, 0x5a, sizeof(other));
	assert_true((fd = open(path, O_WRONLY | O_TRUNC)) != -1);
	assert_int_equal(write(fd, other, sizeof(other)), sizeof(other));
	/* One byte short is no key at all. */
	assert_int_equal(ftruncate(fd, sizeof(other) - 1), 0);
	close(fd);
	assert_null(state_open(dir, err, sizeof(err)));
	assert_true((fd = open(path, O_WRONLY | O_TRUNC)) != -1);
	assert_int_equal(write(fd, other, sizeof(other)), sizeof(other));
	close(fd);
	assert_non_null(st = state_open(dir, err, sizeof(err)));
	*state = st;
	expect_corrupt(st, "grant/k");
}

static void
test_state_dir_refused(void **state)
{
	char	sub[128], link_[128], err[256];

	assert_int_equal(chmod(dir, 0770), 0);
	assert_null(state_open(dir, err, sizeof(err)));
	assert_int_equal(chmod(dir, 0700), 0);
	snprintf(sub, sizeof(sub), "%s/kv", dir);
	assert_int_equal(chmod(sub, 0722), 0);
	assert_null(state_open(dir, err, sizeof(err)));
	assert_int_equal(chmod(sub, 0700), 0);
	snprintf(link_, sizeof(link_), "%s/link", dir);
	assert_int_equal(symlink(dir, link_), 0);
	assert_null(state_open(link_, err, sizeof(err)));
	assert_null(state_open("relative/state", err, sizeof(err)));
}

static void
test_value_max(void **state)
{
	struct state		*st = *state;
	struct state_entry	 e;
	unsigned char		*big;
	size_t			 i;
	char			 err[256];

	big = malloc(STATE_VALUE_MAX + 1);
	assert_non_null(big);
	for (i = 0; i < STATE_VALUE_MAX + 1; i++)
		big[i] = (unsigned char)(i * 7 + (i >> 8));
	assert_int_equal(state_put_if(st, "big", big, STATE_VALUE_MAX, 0,
	    STATE_NEW, NULL, err, sizeof(err)), STATE_OK);
	assert_int_equal(get(st, "big", &e, err, sizeof(err)), STATE_OK);
	assert_int_equal(e.len, STATE_VALUE_MAX);
	assert_memory_equal(e.value, big, STATE_VALUE_MAX);
	state_entry_free(&e);
	assert_int_equal(state_put_if(st, "big", big, STATE_VALUE_MAX + 1, 0,
	    STATE_ANY, NULL, err, sizeof(err)), STATE_ERROR);
	assert_int_equal(state_put_if(st, "bigger", big, STATE_VALUE_MAX + 1,
	    0, STATE_ANY, NULL, err, sizeof(err)), STATE_ERROR);
	assert_int_equal(get(st, "bigger", &e, err, sizeof(err)),
	    STATE_ABSENT);
	free(big);
}

static void
test_sweep_leftovers(void **state)
{
	struct state	*st = *state;
	size_t		 removed;
	char		 path[128], err[256];
	int		 fd;

	/* What a writer killed between write and rename leaves. */
	entry_path(path, sizeof(path), ".tmp-00112233aabbccdd");
	assert_true((fd = open(path, O_WRONLY | O_CREAT, 0600)) != -1);
	close(fd);
	put(st, "grant/kept", "x", 0, STATE_NEW);
	assert_int_equal(state_sweep(st, (long long)time(NULL), &removed, err,
	    sizeof(err)), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(access(path, F_OK), -1);
	expect_keys(st, "", (const char *const[]){ "grant/kept" }, 1);
}

/*
 * One racer: its own state, the start signal, one compare-and-set.
 * Exit 0 if it won, 1 on a conflict, 2 on an error.
 */
static void
racer(int go, const char *key, uint64_t expected, const char *value)
{
	struct state	*st;
	char		 err[256], c;
	int		 code = 2;

	if ((st = state_open(dir, err, sizeof(err))) != NULL &&
	    read(go, &c, 1) == 0) {
		switch (state_put_if(st, key, value, strlen(value), 0,
		    expected, NULL, err, sizeof(err))) {
		case STATE_OK:
			code = 0;
			break;
		case STATE_CONFLICT:
			code = 1;
			break;
		default:
			break;
		}
	}
	state_close(st);
	_exit(code);
}

static void
test_two_processes_race(void **state)
{
	struct state		*st = *state;
	struct state_entry	 e;
	uint64_t		 expected;
	pid_t			 pid[2];
	char			 err[256], key[32];
	int			 round, i, go[2], status, won, lost;

	for (round = 0; round < 300; round++) {
		/* Odd rounds update one key; even ones create a new key. */
		if (round % 2 == 1) {
			snprintf(key, sizeof(key), "race/shared");
			assert_int_equal(get(st, key, &e, err, sizeof(err)),
			    round == 1 ? STATE_ABSENT : STATE_OK);
			expected = e.version;
			state_entry_free(&e);
		} else {
			snprintf(key, sizeof(key), "race/new-%d", round);
			expected = STATE_NEW;
		}
		assert_int_equal(pipe(go), 0);
		for (i = 0; i < 2; i++) {
			if ((pid[i] = fork()) == 0) {
				close(go[1]);
				racer(go[0], key, expected, i ? "b" : "a");
			}
			assert_true(pid[i] > 0);
		}
		close(go[0]);
		close(go[1]);	/* both start */
		won = lost = 0;
		for (i = 0; i < 2; i++) {
			assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
			assert_true(WIFEXITED(status));
			won += WEXITSTATUS(status) == 0;
			lost += WEXITSTATUS(status) == 1;
		}
		if (won != 1 || lost != 1)
			fail_msg("round %d: %d won, %d lost", round, won, lost);
		assert_int_equal(get(st, key, &e, err, sizeof(err)), STATE_OK);
		assert_true(e.version > (expected == STATE_NEW ? 0 : expected));
		state_entry_free(&e);
	}
}

/* A reader sees the writer's entries and can change nothing. */
static void
test_reader(void **state)
{
	struct state		*st = *state, *r;
	struct state_entry	 e;
	struct state_items	 items;
	uint64_t		 v, cookie = 0;
	size_t			 removed = 1;
	char			 err[256], path[128];

	v = put(st, "grant/616c696365/0123456789abcdef", "{}", 0, STATE_NEW);
	assert_non_null(r = state_open_reader(dir, err, sizeof(err)));
	assert_int_equal(state_get(r, "grant/616c696365/0123456789abcdef", &e,
	    err, sizeof(err)), STATE_OK);
	assert_int_equal(e.version, v);
	state_entry_free(&e);
	assert_int_equal(state_list(r, "grant", &items, err, sizeof(err)), 0);
	assert_int_equal(items.n, 1);
	state_items_free(&items);
	assert_int_equal(state_changed(r, "grant", &cookie, err, sizeof(err)),
	    1);
	assert_int_equal(state_put_if(r, "grant/x", "1", 1, 0, STATE_ANY, NULL,
	    err, sizeof(err)), STATE_ERROR);
	assert_non_null(strstr(err, "read-only"));
	assert_int_equal(state_delete_if(r, "grant/616c696365/0123456789abcdef",
	    STATE_ANY, err, sizeof(err)), STATE_ERROR);
	assert_int_equal(state_sweep(r, 0, &removed, err, sizeof(err)), -1);
	assert_int_equal(removed, 0);
	state_close(r);
	/* Nothing is made: a reader of a missing state fails. */
	snprintf(path, sizeof(path), "%s/none", dir);
	assert_null(state_open_reader(path, err, sizeof(err)));
	assert_int_equal(access(path, F_OK), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_survives_reopen, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_compare_and_set, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_delete_if, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_list_prefix, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_validation, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_every_change_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_skips_corrupt, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_moved_entry_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_state_key_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_state_dir_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_value_max, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sweep_leftovers, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reader, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_processes_race, setup,
		    teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
