/*
 * test_ttl.c — session TTL tags (gateway/ttl.h): keys, the value written
 * and read back, every kind of value refused, tags in a real state
 * directory as listings read them, and the durations shown.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/state.h"
#include "gateway/ttl.h"
#include "tests/unit/unit.h"

static const struct ttl_tag sample = {
	.host = "bastion", .user = "deploy", .session = "build",
	.by = "alice", .created = 1732300000, .ttl = 300,
	.expires = 1732300300,
};

#define SAMPLE_JSON "{\"host\":\"bastion\",\"user\":\"deploy\"," \
	"\"session\":\"build\",\"created\":1732300000,\"ttl\":300," \
	"\"expires\":1732300300,\"by\":\"alice\"}"

static void
test_key(void **state)
{
	char	a[TTL_KEY_LEN + 1], b[TTL_KEY_LEN + 1];
	size_t	i;

	ttl_key("bastion", "deploy", "build", a);
	assert_int_equal(strlen(a), TTL_KEY_LEN);
	assert_memory_equal(a, "ttl/", 4);
	for (i = 4; i < TTL_KEY_LEN; i++)
		assert_non_null(strchr("0123456789abcdef", a[i]));
	assert_true(state_key_valid(a));
	ttl_key("bastion", "deploy", "build", b);
	assert_string_equal(a, b);
	/* Where one name ends and the next begins is part of the key. */
	ttl_key("bastio", "ndeploy", "build", b);
	assert_string_not_equal(a, b);
	ttl_key("bastion", "deplo", "ybuild", b);
	assert_string_not_equal(a, b);
	ttl_key("bastion", "deploy", "Build", b);
	assert_string_not_equal(a, b);
}

/* The longest names there are still make a key the state takes. */
static void
test_key_longest_names(void **state)
{
	char	host[65], user[33], session[65], key[TTL_KEY_LEN + 1];

	memset(host, 'h', 64);
	host[64] = '\0';
	memset(user, 'u', 32);
	user[32] = '\0';
	memset(session, 's', 64);
	session[64] = '\0';
	ttl_key(host, user, session, key);
	assert_true(state_key_valid(key));
	assert_true(strlen(key) <= STATE_KEY_MAX);
}

static void
test_encode_decode(void **state)
{
	struct ttl_tag	t;
	char		key[TTL_KEY_LEN + 1], err[256], *text;

	text = ttl_encode(&sample);
	assert_string_equal(text, SAMPLE_JSON);
	ttl_key("bastion", "deploy", "build", key);
	assert_int_equal(ttl_decode(key, (unsigned char *)text, strlen(text),
	    &t, err, sizeof(err)), 0);
	assert_string_equal(t.host, "bastion");
	assert_string_equal(t.user, "deploy");
	assert_string_equal(t.session, "build");
	assert_string_equal(t.by, "alice");
	assert_int_equal(t.created, 1732300000);
	assert_int_equal(t.ttl, 300);
	assert_int_equal(t.expires, 1732300300);
	ttl_tag_free(&t);
	free(text);
}

/* Anything but exactly what ttl_encode() writes, under its own key. */
static void
test_decode_refuses(void **state)
{
	static const struct {
		const char	*value;
		const char	*why;
	} bad[] = {
		{ "", "not JSON" },
		{ "[]", "not a JSON object" },
		{ "{\"host\":\"bastion\"}", "bad user" },
		{ SAMPLE_JSON " ", "not as muxgate writes it" },
		{ SAMPLE_JSON "{}", "not as muxgate writes it" },
		{ "{ \"host\":\"bastion\",\"user\":\"deploy\",\"session\":"
		    "\"build\",\"created\":1732300000,\"ttl\":300,\"expires\":"
		    "1732300300,\"by\":\"alice\"}", "not as muxgate writes it" },
		/* A field twice: json-c keeps the last; the bytes differ. */
		{ "{\"host\":\"web\",\"host\":\"bastion\",\"user\":\"deploy\","
		    "\"session\":\"build\",\"created\":1732300000,\"ttl\":300,"
		    "\"expires\":1732300300,\"by\":\"alice\"}",
		    "not as muxgate writes it" },
		{ "{\"host\":\"bastion\",\"user\":\"deploy\",\"session\":"
		    "\"build\",\"created\":1732300000,\"ttl\":300,\"expires\":"
		    "1732300300,\"by\":\"alice\",\"x\":1}",
		    "not as muxgate writes it" },
		{ "{\"host\":\"bastion\",\"user\":\"deploy\",\"session\":"
		    "\"build\",\"created\":1732300000,\"ttl\":300,\"expires\":"
		    "1732399999,\"by\":\"alice\"}",
		    "expires is not created + ttl" },
		{ "{\"host\":\"bastion\",\"user\":\"deploy\",\"session\":"
		    "\"build\",\"created\":1732300000,\"ttl\":0,\"expires\":"
		    "1732300000,\"by\":\"alice\"}", "bad ttl" },
		{ "{\"host\":\"bastion\",\"user\":\"deploy\",\"session\":"
		    "\"build\",\"created\":1732300000,\"ttl\":\"300\",\"expires\":"
		    "1732300300,\"by\":\"alice\"}", "bad ttl" },
		{ "{\"host\":\"bastion\",\"user\":\"deploy\",\"session\":"
		    "\"build\",\"created\":-5,\"ttl\":300,\"expires\":295,"
		    "\"by\":\"alice\"}", "bad created" },
		{ "{\"host\":\"bastion\",\"user\":\"deploy\",\"session\":"
		    "\"build\",\"created\":1732300000,\"ttl\":999999999999,"
		    "\"expires\":1733299999999,\"by\":\"alice\"}", "bad ttl" },
		{ "{\"host\":\"bas/tion\",\"user\":\"deploy\",\"session\":"
		    "\"build\",\"created\":1732300000,\"ttl\":300,\"expires\":"
		    "1732300300,\"by\":\"alice\"}", "bad host" },
		{ "{\"host\":\"bastion\",\"user\":\"-deploy\",\"session\":"
		    "\"build\",\"created\":1732300000,\"ttl\":300,\"expires\":"
		    "1732300300,\"by\":\"alice\"}", "bad user" },
		{ "{\"host\":\"bastion\",\"user\":\"deploy\",\"session\":"
		    "\"$1\",\"created\":1732300000,\"ttl\":300,\"expires\":"
		    "1732300300,\"by\":\"alice\"}", "bad session" },
		{ "{\"host\":\"bastion\",\"user\":\"deploy\",\"session\":"
		    "\"a:b\",\"created\":1732300000,\"ttl\":300,\"expires\":"
		    "1732300300,\"by\":\"alice\"}", "bad session" },
		{ "{\"host\":\"bastion\",\"user\":\"deploy\",\"session\":"
		    "\"build\",\"created\":1732300000,\"ttl\":300,\"expires\":"
		    "1732300300,\"by\":\"al ice\"}", "bad identity" },
		{ "{\"host\":\"bastion\",\"user\":\"deploy\",\"session\":"
		    "\"build\",\"created\":1732300000,\"ttl\":300,\"expires\":"
		    "1732300300}", "bad identity" },
	};
	struct ttl_tag	t;
	char		key[TTL_KEY_LEN + 1], err[256], want[256];
	size_t		i;

	ttl_key("bastion", "deploy", "build", key);
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		print_message("%s\n", bad[i].value);
		assert_int_equal(ttl_decode(key, (const unsigned char *)
		    bad[i].value, strlen(bad[i].value), &t, err, sizeof(err)),
		    -1);
		(void)snprintf(want, sizeof(want), "bad ttl entry %s: %s", key,
		    bad[i].why);
		assert_string_equal(err, want);
		assert_null(t.host);
	}
	/* A NUL inside: the bytes after it must not go unseen. */
	assert_int_equal(ttl_decode(key, (const unsigned char *)
	    SAMPLE_JSON "\0x", sizeof(SAMPLE_JSON "\0x") - 1, &t, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "a NUL byte"));
	/* A valid tag, of another session, under this one's key. */
	ttl_key("bastion", "deploy", "other", key);
	assert_int_equal(ttl_decode(key, (const unsigned char *)SAMPLE_JSON,
	    strlen(SAMPLE_JSON), &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "under another session's key"));
}

/* Tags written to a real state and read back as ls reads them. */
static void
test_write_load(void **state)
{
	char			 dir[] = "/tmp/mgt-unit-ttl-XXXXXX", err[256];
	char			 key[TTL_KEY_LEN + 1];
	struct state		*st;
	struct ttl_tags		 tags;
	struct ttl_tag		 t = sample;
	struct state_entry	 e;
	const char		*junk = "{\"host\":\"bastion\"}";

	assert_non_null(mkdtemp(dir));
	st = state_open(dir, err, sizeof(err));
	assert_non_null(st);
	t.created = (long long)time(NULL);
	t.expires = t.created + t.ttl;
	assert_int_equal(ttl_write(st, &t, err, sizeof(err)), 0);
	ttl_key(t.host, t.user, t.session, key);
	assert_int_equal(state_get(st, key, &e, err, sizeof(err)), STATE_OK);
	/* Kept well after its expiry, for a reap that comes late. */
	assert_int_equal(e.expires, t.expires + TTL_KEEP);
	state_entry_free(&e);
	/* A later session of the same name replaces the tag. */
	t.created += 10;
	t.expires += 10;
	assert_int_equal(ttl_write(st, &t, err, sizeof(err)), 0);
	/* Something under ttl/ that is not a tag is left out. */
	assert_int_equal(state_put_if(st, "ttl/junk", junk, strlen(junk), 0,
	    STATE_NEW, NULL, err, sizeof(err)), STATE_OK);
	state_close(st);

	assert_int_equal(ttl_load(dir, &tags, err, sizeof(err)), 0);
	assert_int_equal(tags.n, 1);
	assert_int_equal(ttl_expires(&tags, "bastion", "deploy", "build",
	    t.created), t.expires);
	/* The earlier session, another name, host or user: no TTL. */
	assert_int_equal(ttl_expires(&tags, "bastion", "deploy", "build",
	    t.created - 10), 0);
	assert_int_equal(ttl_expires(&tags, "bastion", "deploy", "buil",
	    t.created), 0);
	assert_int_equal(ttl_expires(&tags, "web", "deploy", "build",
	    t.created), 0);
	assert_int_equal(ttl_expires(&tags, "bastion", "build", "build",
	    t.created), 0);
	ttl_tags_free(&tags);
	assert_int_equal(unit_rmtree(dir), 0);
}

static void
test_load_without_state(void **state)
{
	struct ttl_tags	tags;
	char		err[256];

	assert_int_equal(ttl_load("relative/dir", &tags, err, sizeof(err)),
	    -1);
	assert_int_equal(tags.n, 0);
	assert_non_null(strstr(err, "not an absolute path"));
}

static void
test_texts(void **state)
{
	static const struct {
		long long	 secs;
		const char	*exact, *left;
	} rows[] = {
		{ 1, "1s", "1s" },
		{ 45, "45s", "45s" },
		{ 90, "90s", "1m" },
		{ 250, "250s", "4m" },
		{ 300, "5m", "5m" },
		{ 3600, "1h", "1h" },
		{ 3 * 3600 + 5, "10805s", "3h" },
		{ 129600, "36h", "1d" },
		{ 604800, "7d", "7d" },
		{ 0, "0s", "0s" },
	};
	char	buf[32];
	size_t	i;

	for (i = 0; i < sizeof(rows) / sizeof(*rows); i++) {
		ttl_duration_text((unsigned)rows[i].secs, buf, sizeof(buf));
		assert_string_equal(buf, rows[i].exact);
		ttl_left_text(rows[i].secs, buf, sizeof(buf));
		assert_string_equal(buf, rows[i].left);
	}
	ttl_left_text(-5, buf, sizeof(buf));
	assert_string_equal(buf, "0s");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_key_longest_names),
		cmocka_unit_test(test_encode_decode),
		cmocka_unit_test(test_decode_refuses),
		cmocka_unit_test(test_write_load),
		cmocka_unit_test(test_load_without_state),
		cmocka_unit_test(test_texts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
