/*
 * test_record.c — the asciicast writer: escaping, split UTF-8, limits,
 * keystrokes written before they are sent, failed writes, free space.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>

#include "tests/unit/unit.h"
#include "gateway/record.h"
#include "gateway/str.h"

static char *
escape(const char *s, size_t len, bool final, size_t *carry)
{
	struct buf	b = { 0 };

	record_json_escape(&b, (const unsigned char *)s, len, final, carry);
	return buf_take(&b);
}

static void
test_escape_ascii_and_controls(void **state)
{
	size_t	 carry;
	char	*s = escape("a\"b\\c\n\r\t\x1b[0m\x7f", 13, true, &carry);

	assert_string_equal(s, "a\\\"b\\\\c\\n\\r\\t\\u001b[0m\\u007f");
	assert_int_equal(carry, 0);
	free(s);
}

static void
test_escape_utf8_kept(void **state)
{
	size_t	 carry;
	char	*s = escape("\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80", 9, true,
		    &carry);

	assert_string_equal(s, "\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80");
	free(s);
}

static void
test_escape_invalid_becomes_replacement(void **state)
{
	size_t	 carry;
	/* a lone continuation byte, an overlong, a surrogate, 0xff */
	char	*s = escape("a\x80" "b\xc0\xaf" "c\xed\xa0\x80" "d\xff", 11, true,
		    &carry);

	assert_non_null(strstr(s, "a\xef\xbf\xbd" "b"));
	assert_null(strchr(s, '\x80'));
	assert_null(strchr(s, '\xff'));
	assert_int_equal(carry, 0);
	free(s);
}

static void
test_escape_split_sequence_carried(void **state)
{
	size_t	 carry;
	char	*s = escape("x\xe6\x97", 3, false, &carry);

	assert_string_equal(s, "x");
	assert_int_equal(carry, 2);
	free(s);
	/* At the very end nothing is carried: the cut sequence becomes U+FFFD. */
	s = escape("x\xe6\x97", 3, true, &carry);
	assert_int_equal(carry, 0);
	assert_non_null(strstr(s, "\xef\xbf\xbd"));
	free(s);
	/* A cut start that no valid sequence has is not waited for. */
	s = escape("x\xed\xa0", 3, false, &carry);
	assert_int_equal(carry, 0);
	assert_string_equal(s, "x\xef\xbf\xbd\xef\xbf\xbd");
	free(s);
	s = escape("x\xf0\x9f\x98", 4, false, &carry);
	assert_int_equal(carry, 3);
	free(s);
}

static char	tmpdir[64];

static int
setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/mgt-rec-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int
teardown(void **state)
{
	return unit_rmtree(tmpdir) == 0 ? 0 : -1;
}

static void
meta(struct record_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->attach_id = "0123456789abcdef";
	m->identity = "alice";
	m->key = "SHA256:abc";
	m->host = "bastion";
	m->tmux_user = "deploy";
	m->session = "we\"ird name";
	m->mode = "attach";
	m->client = "192.0.2.1 5555";
	m->term = "xterm";
	m->cols = 80;
	m->rows = 24;
	m->timestamp = 1732300000;
}

/* Every line of the file parses as JSON; returns the number of lines. */
static int
check_file(const char *path, struct json_object **header)
{
	FILE		*fp = fopen(path, "r");
	char		 line[65536];
	int		 n = 0;
	struct json_object *o;

	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp) != NULL) {
		o = json_tokener_parse(line);
		assert_non_null(o);
		if (n == 0 && header != NULL)
			*header = o;
		else
			json_object_put(o);
		n++;
	}
	fclose(fp);
	return n;
}

static void
test_recorder_writes_valid_asciicast(void **state)
{
	struct record_meta	 m;
	struct recorder		*r;
	struct json_object	*h = NULL, *mg, *v;
	char			 err[256], path[512], root[128];
	struct stat		 st;

	meta(&m);
	snprintf(root, sizeof(root), "%s/rec", tmpdir);
	r = record_open(root, &m, 1 << 20, err, sizeof(err));
	assert_non_null(r);
	snprintf(path, sizeof(path), "%s", record_path(r));
	assert_non_null(strstr(path, "/rec/alice/20241122-182640-"
	    "0123456789abcdef.cast"));
	assert_int_equal(record_event(r, 500000, 'o', "hello\r\n\xe6\x97", 9), 0);
	assert_int_equal(record_event(r, 600000, 'o', "\xa5!", 2), 0);
	assert_int_equal(record_event(r, 700000, 'i', "ls\r", 3), 0);
	assert_int_equal(record_event(r, 800000, 'r', "100x30", 6), 0);
	assert_int_equal(record_close(r), 0);
	assert_int_equal(check_file(path, &h), 5);
	assert_true(json_object_object_get_ex(h, "version", &v));
	assert_int_equal(json_object_get_int(v), 2);
	assert_true(json_object_object_get_ex(h, "title", &v));
	assert_string_equal(json_object_get_string(v),
	    "deploy@bastion:we\"ird name");
	assert_true(json_object_object_get_ex(h, "muxgate", &mg));
	assert_true(json_object_object_get_ex(mg, "client", &v));
	assert_string_equal(json_object_get_string(v), "192.0.2.1 5555");
	json_object_put(h);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(root, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
}

static void
test_recorder_split_utf8_joined(void **state)
{
	struct record_meta	 m;
	struct recorder		*r;
	char			 err[256], path[512], line[256], root[128];
	FILE			*fp;
	bool			 found = false;

	meta(&m);
	m.attach_id = "1111111111111111";
	snprintf(root, sizeof(root), "%s/rec", tmpdir);
	r = record_open(root, &m, 1 << 20, err, sizeof(err));
	assert_non_null(r);
	snprintf(path, sizeof(path), "%s", record_path(r));
	assert_int_equal(record_event(r, 100000, 'o', "\xe6", 1), 0);
	assert_int_equal(record_event(r, 200000, 'o', "\x97\xa5", 2), 0);
	assert_int_equal(record_close(r), 0);
	fp = fopen(path, "r");
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strstr(line, "\xe6\x97\xa5") != NULL)
			found = true;
	fclose(fp);
	assert_true(found);
}

/* Event times: seconds with exactly six decimals, from whole microseconds. */
static void
test_recorder_event_times(void **state)
{
	static const struct {
		unsigned long long	 usec;
		char			 type;
		const char		*data;
		const char		*line;
	} t[] = {
		{ 0, 'o', "a", "[0.000000, \"o\", \"a\"]\n" },
		{ 7, 'i', "b", "[0.000007, \"i\", \"b\"]\n" },
		{ 1234567, 'o', "c", "[1.234567, \"o\", \"c\"]\n" },
		{ 21600000000ULL, 'r', "80x24",
		    "[21600.000000, \"r\", \"80x24\"]\n" },
		{ 18446744073709551615ULL, 'o', "e",
		    "[18446744073709.551615, \"o\", \"e\"]\n" },
	};
	struct record_meta	 m;
	struct recorder		*r;
	char			 err[256], path[512], line[1024], root[128];
	FILE			*fp;
	size_t			 i;

	meta(&m);
	m.attach_id = "3333333333333333";
	snprintf(root, sizeof(root), "%s/rec", tmpdir);
	r = record_open(root, &m, 1 << 20, err, sizeof(err));
	assert_non_null(r);
	snprintf(path, sizeof(path), "%s", record_path(r));
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(record_event(r, t[i].usec, t[i].type,
		    t[i].data, strlen(t[i].data)), 0);
	assert_int_equal(record_close(r), 0);
	assert_non_null(fp = fopen(path, "r"));
	assert_non_null(fgets(line, sizeof(line), fp));	/* header */
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_non_null(fgets(line, sizeof(line), fp));
		assert_string_equal(line, t[i].line);
	}
	assert_null(fgets(line, sizeof(line), fp));
	fclose(fp);
}

/* The lines after the header of PATH, joined (caller frees). */
static char *
events_of(const char *path)
{
	char	 line[4096], *all = NULL;
	size_t	 len = 0, n;
	FILE	*fp;

	assert_non_null(fp = fopen(path, "r"));
	assert_non_null(fgets(line, sizeof(line), fp));	/* header */
	while (fgets(line, sizeof(line), fp) != NULL) {
		n = strlen(line);
		all = realloc(all, len + n + 1);
		assert_non_null(all);
		memcpy(all + len, line, n + 1);
		len += n;
	}
	fclose(fp);
	return all != NULL ? all : strdup("");
}

static const char *
header_mask(const char *path)
{
	static char		 mode[16];
	struct json_object	*h = NULL, *mg, *v;

	assert_true(check_file(path, &h) >= 1);
	assert_true(json_object_object_get_ex(h, "muxgate", &mg));
	assert_true(json_object_object_get_ex(mg, "mask_input", &v));
	snprintf(mode, sizeof(mode), "%s", json_object_get_string(v));
	json_object_put(h);
	return mode;
}

/*
 * Keystrokes go through the masking: the answer to a password prompt is
 * an "m" event, the keys after its Enter an "i" event of their own, and
 * with "all" no keystroke is in the file; the output is never changed.
 */
static void
test_recorder_masks_answers(void **state)
{
	static const struct {
		enum secretmask_mode	 mode;
		const char		*name;
		const char		*events;
	} t[] = {
		{ SECRETMASK_PROMPTS, "prompts",
		    "[0.100000, \"o\", \"[sudo] password for bob: \"]\n"
		    "[0.200000, \"m\", \"********\"]\n"
		    "[0.200000, \"i\", \"ls\\r\"]\n"
		    "[0.300000, \"r\", \"20x5\"]\n"
		    "[0.400000, \"o\", \"\\u001b[5;1HPIN: \\u001b[9;6H\"]\n"
		    "[0.500000, \"m\", \"***\"]\n" },
		{ SECRETMASK_ALL, "all",
		    "[0.100000, \"o\", \"[sudo] password for bob: \"]\n"
		    "[0.300000, \"r\", \"20x5\"]\n"
		    "[0.400000, \"o\", \"\\u001b[5;1HPIN: \\u001b[9;6H\"]\n" },
		{ SECRETMASK_NONE, "none",
		    "[0.100000, \"o\", \"[sudo] password for bob: \"]\n"
		    "[0.200000, \"i\", \"hunter2\\rls\\r\"]\n"
		    "[0.300000, \"r\", \"20x5\"]\n"
		    "[0.400000, \"o\", \"\\u001b[5;1HPIN: \\u001b[9;6H\"]\n"
		    "[0.500000, \"i\", \"12\\r\"]\n" },
	};
	struct record_meta	 m;
	struct recorder		*r;
	char			 err[256], path[512], root[128], id[17], *ev;
	size_t			 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		meta(&m);
		snprintf(id, sizeof(id), "44444444444444%02zu", i);
		m.attach_id = id;
		m.mask = t[i].mode;
		m.secret_prompts = policy_default_secret_prompts;
		m.nsecret_prompts = policy_ndefault_secret_prompts;
		snprintf(root, sizeof(root), "%s/rec", tmpdir);
		r = record_open(root, &m, 1 << 20, err, sizeof(err));
		assert_non_null(r);
		snprintf(path, sizeof(path), "%s", record_path(r));
		assert_int_equal(record_event(r, 100000, 'o',
		    "[sudo] password for bob: ", 25), 0);
		/* One read: the password, Enter, a command typed ahead. */
		assert_int_equal(record_event_written(r, 200000, 'i',
		    "hunter2\rls\r", 11), 0);
		/* Resized to 5 rows: row 9 is the last one, the prompt's. */
		assert_int_equal(record_event(r, 300000, 'r', "20x5", 4), 0);
		assert_int_equal(record_event(r, 400000, 'o',
		    "\x1b[5;1HPIN: \x1b[9;6H", 17), 0);
		assert_int_equal(record_event(r, 500000, 'i', "12\r", 3), 0);
		assert_int_equal(record_close(r), 0);
		ev = events_of(path);
		assert_string_equal(ev, t[i].events);
		free(ev);
		assert_string_equal(header_mask(path), t[i].name);
	}
}

/* A prompt that does not compile: no recording, and no file. */
static void
test_recorder_refuses_bad_prompt(void **state)
{
	static const char *const bad[] = { "(" };
	struct record_meta	 m;
	char			 err[256], root[128], dir[256];
	struct stat		 st;

	meta(&m);
	m.mask = SECRETMASK_PROMPTS;
	m.secret_prompts = bad;
	m.nsecret_prompts = 1;
	snprintf(root, sizeof(root), "%s/rec", tmpdir);
	assert_null(record_open(root, &m, 1 << 20, err, sizeof(err)));
	assert_non_null(strstr(err, "secret prompt '('"));
	snprintf(dir, sizeof(dir), "%s/alice", root);
	assert_int_equal(stat(dir, &st), -1);
}

static void
test_recorder_size_limit(void **state)
{
	struct record_meta	 m;
	struct recorder		*r;
	char			 err[256], root[128], big[4096];
	int			 i, rc = 0;

	meta(&m);
	m.attach_id = "2222222222222222";
	snprintf(root, sizeof(root), "%s/rec", tmpdir);
	r = record_open(root, &m, 16384, err, sizeof(err));
	assert_non_null(r);
	memset(big, 'x', sizeof(big));
	for (i = 0; i < 10 && rc == 0; i++)
		rc = record_event(r, 100000ULL * (unsigned)i, 'o', big,
		    sizeof(big));
	/* The event that crosses the limit is recorded, as the last one. */
	assert_int_equal(rc, 1);
	assert_true(i <= 5);
	assert_non_null(strstr(record_error(r), "size limit"));
	/* Once failed, it stays failed. */
	assert_int_equal(record_event(r, 2000000, 'o', "y", 1), -1);
	(void)record_close(r);
}

static void
test_recorder_refuses_open_directory(void **state)
{
	struct record_meta	 m;
	char			 err[256], root[128];

	meta(&m);
	snprintf(root, sizeof(root), "%s/open", tmpdir);
	assert_int_equal(mkdir(root, 0777), 0);
	assert_int_equal(chmod(root, 0777), 0);
	assert_null(record_open(root, &m, 1 << 20, err, sizeof(err)));
	assert_non_null(strstr(err, "refusing"));
}

static void
test_space_check(void **state)
{
	char	err[256];

	assert_int_equal(record_space_ok(tmpdir, 0, err, sizeof(err)), 0);
	assert_int_equal(record_space_ok(tmpdir, 1, err, sizeof(err)), 0);
	/* Nothing has 99% free... unless it is empty; /proc reports 0 blocks. */
	assert_int_equal(record_space_ok("/nonexistent-mgt", 5, err,
	    sizeof(err)), 0);
}

static struct recorder *
open_in_tmpdir(const char *id, unsigned long long max)
{
	struct record_meta	 m;
	struct recorder		*r;
	char			 err[256], root[128];

	meta(&m);
	m.attach_id = id;
	snprintf(root, sizeof(root), "%s/rec", tmpdir);
	r = record_open(root, &m, max, err, sizeof(err));
	assert_non_null(r);
	return r;
}

static off_t
file_size(const char *path)
{
	struct stat	st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

/* Output waits in the buffer; a written keystroke takes it along. */
static void
test_recorder_input_written_before_return(void **state)
{
	struct recorder	*r = open_in_tmpdir("4444444444444444", 1 << 20);
	char		 path[512];
	off_t		 header;

	snprintf(path, sizeof(path), "%s", record_path(r));
	header = file_size(path);
	assert_int_equal(record_event(r, 1000, 'o', "prompt$ ", 8), 0);
	assert_int_equal(file_size(path), header);
	assert_int_equal(record_event_written(r, 2000, 'i', "ls\r", 3), 0);
	assert_int_equal(file_size(path), (off_t)record_size(r));
	assert_true(file_size(path) > header);
	assert_int_equal(record_close(r), 0);
	assert_int_equal(check_file(path, NULL), 3);
}

/*
 * A write that fails half-way (a full disk; here RLIMIT_FSIZE, which
 * fails the same way: a short write, then an error): the event is not
 * recorded, the file keeps only whole events, and nothing after it is
 * accepted or written.
 */
static void
test_recorder_write_failure(void **state)
{
	struct recorder	*r = open_in_tmpdir("5555555555555555", 1 << 20);
	struct rlimit	 old, lim;
	char		 path[512], big[300];
	off_t		 kept;
	void		(*oldsig)(int);

	snprintf(path, sizeof(path), "%s", record_path(r));
	assert_int_equal(record_event_written(r, 1000, 'i', "KEPT\r", 5), 0);
	kept = file_size(path);
	memset(big, 'x', sizeof(big));
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)kept + 100;
	oldsig = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	/* 100 bytes fit, the event does not: it is cut off again. */
	assert_int_equal(record_event(r, 2000, 'o', "out", 3), 0);
	assert_int_equal(record_event_written(r, 3000, 'i', big, sizeof(big)),
	    -1);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	(void)signal(SIGXFSZ, oldsig);
	assert_non_null(strstr(record_error(r), "cannot write recording"));
	assert_false(record_space_low(r));
	/* The output before it was whole and stays; the keystrokes do not. */
	assert_int_equal(check_file(path, NULL), 3);
	assert_true(file_size(path) < kept + 100);
	/* Failed for good: nothing more is taken or written. */
	assert_int_equal(record_event_written(r, 4000, 'i', "AFTER\r", 6), -1);
	assert_int_equal(record_event(r, 5000, 'o', "after", 5), -1);
	assert_int_equal(record_flush(r), -1);
	kept = file_size(path);
	assert_int_equal(record_close(r), -1);
	assert_int_equal(file_size(path), kept);
}

/*
 * Below the free space minimum (100%: no file system with our file on it
 * is entirely free): the event that found it is recorded, as the last.
 */
static void
test_recorder_min_free(void **state)
{
	struct recorder	*r = open_in_tmpdir("6666666666666666", 1 << 20);
	char		 path[512];

	snprintf(path, sizeof(path), "%s", record_path(r));
	record_set_min_free(r, 1);
	assert_int_equal(record_event_written(r, 1000, 'i', "a", 1), 0);
	assert_int_equal(record_flush(r), 0);
	record_set_min_free(r, 100);
	assert_int_equal(record_event_written(r, 2000, 'i', "b", 1), 1);
	assert_true(record_space_low(r));
	assert_non_null(strstr(record_error(r), "% free, below the 100% "
	    "minimum (gateway.limits.recording_min_free)"));
	assert_int_equal(record_event_written(r, 3000, 'i', "c", 1), -1);
	assert_int_equal(record_flush(r), -1);
	(void)record_close(r);
	assert_int_equal(check_file(path, NULL), 3);
}

/* Checked once a second by the relay's flush, even with nothing to write. */
static void
test_recorder_min_free_on_flush(void **state)
{
	struct recorder	*r = open_in_tmpdir("7777777777777777", 1 << 20);

	record_set_min_free(r, 100);
	assert_int_equal(record_flush(r), -1);
	assert_true(record_space_low(r));
	assert_int_equal(record_event(r, 1000, 'o', "x", 1), -1);
	(void)record_close(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_ascii_and_controls),
		cmocka_unit_test(test_escape_utf8_kept),
		cmocka_unit_test(test_escape_invalid_becomes_replacement),
		cmocka_unit_test(test_escape_split_sequence_carried),
		cmocka_unit_test_setup_teardown(test_recorder_writes_valid_asciicast,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_recorder_split_utf8_joined,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_recorder_event_times,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_recorder_masks_answers,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_recorder_refuses_bad_prompt,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_recorder_size_limit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_recorder_refuses_open_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_space_check, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_recorder_input_written_before_return, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recorder_write_failure,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_recorder_min_free, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_recorder_min_free_on_flush,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
