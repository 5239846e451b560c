/*
 * test_recevent.c — reading a recording as replay and export do: plain
 * and sealed lines (a line split across frames, a cut last line, the
 * end of a sealed stream), the header's version, event lines good and
 * hostile, and resize data.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "gateway/recevent.h"
#include "gateway/seal.h"
#include "gateway/str.h"

#define HEADER	"{\"version\":2,\"width\":80,\"height\":24," \
		"\"timestamp\":1795465478,\"env\":{\"TERM\":\"xterm\"}}"

/* A test auditor key (tests/fuzz/fuzz_seal.c's), for nothing else. */
static const char KEY_TEXT[] =
    "muxgate-auditor-key Fxcg0d+nEWkgB8soggjdgOrpb4KHU4joe1dWFVXfHfE=\n";

/* All the lines of FP (sealed with KEY when RD is wanted), joined. */
static enum seal_status
read_all(FILE *fp, struct seal_secret *key, struct buf *out, size_t *nlines)
{
	struct seal_reader	*rd = NULL;
	struct recreader	*r;
	const char		*line, *why;
	enum seal_status	 st;
	size_t			 len;
	char			 err[256];

	if (key != NULL)
		assert_int_equal(seal_reader_open(fp, key, &rd, err,
		    sizeof(err)), SEAL_OK);
	r = recreader_new(fp, rd);
	*nlines = 0;
	while ((line = recreader_line(r, &len)) != NULL) {
		assert_int_equal(line[len], '\0');
		buf_add(out, line, len);
		buf_addc(out, '|');
		(*nlines)++;
	}
	st = recreader_end(r, &why);
	assert_non_null(why);
	recreader_free(r);
	seal_reader_free(rd);
	return st;
}

static void
test_plain_lines(void **state)
{
	static const char	 text[] = HEADER "\n[0.5, \"o\", \"a\"]\n"
	    "[0.9, \"o\", \"cut";
	struct buf		 out = { NULL, 0, 0 };
	size_t			 n;
	FILE			*fp;

	assert_non_null(fp = fmemopen((void *)text, sizeof(text) - 1, "r"));
	assert_int_equal(read_all(fp, NULL, &out, &n), SEAL_COMPLETE);
	assert_int_equal(n, 3);
	/* The last line as it is, without a newline: the caller decides. */
	assert_string_equal(out.data, HEADER "\n|[0.5, \"o\", \"a\"]\n|"
	    "[0.9, \"o\", \"cut|");
	fclose(fp);
	buf_free(&out);
}

/* A sealed file of FRAMES (NULL-terminated), closed when FINAL. */
static void
seal(struct seal_secret *key, const char *const *frames, bool final,
    struct buf *file)
{
	struct seal_pub		 pub;
	struct seal_writer	*w;
	char			 err[256];

	seal_secret_pub(key, &pub);
	assert_non_null(w = seal_writer_new(HEADER, strlen(HEADER), &pub, 1,
	    file, err, sizeof(err)));
	for (; *frames != NULL; frames++)
		assert_int_equal(seal_writer_frame(w, *frames,
		    strlen(*frames), false, file), 0);
	if (final)
		assert_int_equal(seal_writer_frame(w, "", 0, true, file), 0);
	seal_writer_free(w);
}

static void
test_sealed_lines(void **state)
{
	/* One event split over three frames, two in one. */
	static const char *const frames[] = { "[0.5, \"o\", ", "\"a\"]",
	    "\n[0.6, \"i\", \"b\"]\n[0.7, \"r\", \"80x24\"]\n", NULL };
	struct seal_secret	*key;
	struct buf		 file = { NULL, 0, 0 }, out = { NULL, 0, 0 };
	size_t			 n;
	char			 err[256];
	FILE			*fp;
	bool			 final;

	assert_non_null(key = seal_secret_parse(KEY_TEXT,
	    sizeof(KEY_TEXT) - 1, err, sizeof(err)));
	for (final = false; ; final = true) {
		file.len = 0;
		out.len = 0;
		seal(key, frames, final, &file);
		assert_non_null(fp = fmemopen(file.data, file.len, "r"));
		assert_int_equal(read_all(fp, key, &out, &n), final ?
		    SEAL_COMPLETE : SEAL_TRUNCATED);
		assert_int_equal(n, 4);
		assert_string_equal(out.data, HEADER "\n|[0.5, \"o\", \"a\"]\n|"
		    "[0.6, \"i\", \"b\"]\n|[0.7, \"r\", \"80x24\"]\n|");
		fclose(fp);
		if (final)
			break;
	}
	/* A byte of the final frame changed: every line before it, then
	 * the end. */
	file.data[file.len - 5] ^= 1;
	out.len = 0;
	assert_non_null(fp = fmemopen(file.data, file.len, "r"));
	assert_int_equal(read_all(fp, key, &out, &n), SEAL_MODIFIED);
	assert_int_equal(n, 4);
	fclose(fp);
	buf_free(&file);
	buf_free(&out);
	seal_secret_free(key);
}

static void
test_header(void **state)
{
	static const struct {
		const char	*line;
		const char	*why;	/* NULL: accepted */
	} t[] = {
		{ HEADER "\n", NULL },
		{ "{\"version\": 2}", NULL },
		{ "", "not an asciicast header" },
		{ "garbage", "not an asciicast header" },
		{ "{\"version\":2", "not an asciicast header" },
		{ "{}", "not an asciicast v2 recording" },
		{ "{\"version\":1}", "not an asciicast v2 recording" },
		{ "{\"version\":3}", "not an asciicast v2 recording" },
		/* What `muxgate recordings` refuses too. */
		{ "{\"version\":\"2\"}", "not an asciicast v2 recording" },
		{ "{\"version\":2.0}", "not an asciicast v2 recording" },
		{ "{\"version\":2.9}", "not an asciicast v2 recording" },
		{ "{\"version\":4294967298}", "not an asciicast v2 recording" },
		{ "[2]", "not an asciicast v2 recording" },
		{ "2", "not an asciicast v2 recording" },
		{ "{\"muxgate_sealed\":2,\"cast\":{\"version\":2}}",
		    "not an asciicast v2 recording" },
	};
	const char	*errstr;
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		errstr = NULL;
		if (t[i].why == NULL)
			assert_int_equal(recevent_header(t[i].line, &errstr), 0);
		else {
			assert_int_equal(recevent_header(t[i].line, &errstr),
			    -1);
			assert_string_equal(errstr, t[i].why);
		}
	}
}

static void
test_event(void **state)
{
	struct recevent	 ev;
	const char	*errstr = NULL;

	assert_int_equal(recevent_parse("[0.010769, \"o\", \"$ \"]\n", &ev,
	    &errstr), 0);
	assert_true(ev.at == 0.010769);
	assert_string_equal(ev.type, "o");
	assert_string_equal(ev.data, "$ ");
	assert_int_equal(ev.len, 2);
	recevent_free(&ev);
	assert_null(ev.json);

	/* Escapes decoded, a NUL kept inside the data. */
	assert_int_equal(recevent_parse("[3, \"o\", "
	    "\"\\u001b]52;c;eA==\\u0007a\\u0000b\"]", &ev, &errstr), 0);
	assert_true(ev.at == 3);
	assert_int_equal(ev.len, 15);
	assert_memory_equal(ev.data, "\x1b]52;c;eA==\x07" "a\0b", 15);
	recevent_free(&ev);

	/* Other types are kept for the caller to ignore. */
	assert_int_equal(recevent_parse("[1, \"x-custom\", \"\"]", &ev,
	    &errstr), 0);
	assert_string_equal(ev.type, "x-custom");
	assert_int_equal(ev.len, 0);
	recevent_free(&ev);
}

static void
test_event_refused(void **state)
{
	static const struct {
		const char	*line;
		const char	*why;
	} bad[] = {
		{ "", "malformed event" },
		{ "[0.5, \"o\", \"a\"", "malformed event" },
		{ "{\"t\":0.5}", "malformed event" },
		{ "[0.5, \"o\"]", "malformed event" },
		{ "[0.5, \"o\", \"a\", \"b\"]", "malformed event" },
		{ "[0.5, 111, \"a\"]", "malformed event" },
		{ "[0.5, \"o\", 97]", "malformed event" },
		{ "[0.5, \"o\", null]", "malformed event" },
		{ "[0.5, \"o\", [\"a\"]]", "malformed event" },
		{ "[-0.5, \"o\", \"a\"]", "bad time" },
		{ "[-1e-300, \"o\", \"a\"]", "bad time" },
		{ "[1e400, \"o\", \"a\"]", "bad time" },
		{ "[NaN, \"o\", \"a\"]", "bad time" },
		{ "[Infinity, \"o\", \"a\"]", "bad time" },
		/* json-c would read these as numbers; a recording does not. */
		{ "[\"1.5\", \"o\", \"a\"]", "bad time" },
		{ "[null, \"o\", \"a\"]", "bad time" },
		{ "[true, \"o\", \"a\"]", "bad time" },
		{ "[[1], \"o\", \"a\"]", "bad time" },
	};
	struct recevent	 ev;
	const char	*errstr;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errstr = NULL;
		if (recevent_parse(bad[i].line, &ev, &errstr) != -1)
			fail_msg("accepted %s", bad[i].line);
		assert_non_null(errstr);
		if (strcmp(errstr, bad[i].why) != 0)
			fail_msg("%s: %s, not %s", bad[i].line, errstr,
			    bad[i].why);
		assert_null(ev.json);
	}
}

static void
test_resize(void **state)
{
	static const char *const bad[] = { "", "x", "80", "80x", "x24",
	    "0x24", "80x0", "65536x24", "80x65536", "+80x24", "80x-24",
	    " 80x24", "80x24 ", "80X24", "80x24x1", "80,24",
	    "99999999999999999999x1", "0000000000000000000000000000080x24",
	};
	unsigned	 cols = 0, rows = 0;
	size_t		 i;

	assert_int_equal(recevent_resize("80x24", 5, &cols, &rows), 0);
	assert_int_equal(cols, 80);
	assert_int_equal(rows, 24);
	assert_int_equal(recevent_resize("65535x1", 7, &cols, &rows), 0);
	assert_int_equal(cols, 65535);
	assert_int_equal(rows, 1);
	/* Leading zeros are decimal. */
	assert_int_equal(recevent_resize("010x024", 7, &cols, &rows), 0);
	assert_int_equal(cols, 10);
	assert_int_equal(rows, 24);
	/* Only LEN bytes count, and a NUL among them is not a number. */
	assert_int_equal(recevent_resize("44x3junk", 4, &cols, &rows), 0);
	assert_int_equal(rows, 3);
	assert_int_equal(recevent_resize("80x24\0junk", 10, &cols, &rows), -1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (recevent_resize(bad[i], strlen(bad[i]), &cols, &rows) != -1)
			fail_msg("accepted %s", bad[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_lines),
		cmocka_unit_test(test_sealed_lines),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_event),
		cmocka_unit_test(test_event_refused),
		cmocka_unit_test(test_resize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
