/*
 * test_recinfo.c — a recording's header and duration from its first and
 * last lines: plain and sealed headers, hostile values kept as they are
 * (escaping is output.c's), cut and over-long lines, files that are not
 * recordings.
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
#include "gateway/recinfo.h"
#include "gateway/str.h"

#define MG	"\"muxgate\":{\"attach_id\":\"138dea378966e5bf\"," \
		"\"identity\":\"alice\",\"key\":null,\"host\":\"bastion\"," \
		"\"tmux_user\":\"deploy\",\"session\":\"build\"," \
		"\"mode\":\"attach\",\"client\":null}"
#define HEADER	"{\"version\":2,\"width\":80,\"height\":24," \
		"\"timestamp\":1795465478,\"env\":{\"TERM\":\"xterm\"}," \
		"\"title\":\"deploy@bastion:build\"," MG "}"
#define SEALED	"{\"muxgate_sealed\":2,\"cast\":" HEADER \
		",\"recipients\":[\"age1xyz\"],\"stream\":\"v1\"}"
/* The first sealed format, still read. */
#define SEALED1	"{\"muxgate_sealed\":1,\"cast\":" HEADER \
		",\"recipients\":[\"age1xyz\"],\"stream\":\"v1\"}"

static char	dir[64];
static int	dfd = -1;

static int
setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/mgt-recinfo-XXXXXX");
	assert_non_null(mkdtemp(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	return dfd == -1 ? -1 : 0;
}

static int
teardown(void **state)
{
	close(dfd);
	return unit_rmtree(dir) == 0 ? 0 : -1;
}

static int
header(struct recinfo *ri, const char *line, bool sealed,
    const char **errstr)
{
	memset(ri, 0, sizeof(*ri));
	return recinfo_header(ri, line, strlen(line), sealed, errstr);
}

static void
test_header(void **state)
{
	struct recinfo	 ri;
	const char	*errstr = NULL;

	assert_int_equal(header(&ri, HEADER, false, &errstr), 0);
	assert_string_equal(ri.attach_id, "138dea378966e5bf");
	assert_string_equal(ri.identity, "alice");
	assert_string_equal(ri.host, "bastion");
	assert_string_equal(ri.tmux_user, "deploy");
	assert_string_equal(ri.session, "build");
	assert_string_equal(ri.mode, "attach");
	assert_int_equal(ri.start, 1795465478LL);
	assert_false(ri.sealed);
	recinfo_free(&ri);

	assert_int_equal(header(&ri, SEALED, true, &errstr), 0);
	assert_string_equal(ri.session, "build");
	assert_int_equal(ri.start, 1795465478LL);
	assert_true(ri.sealed);
	recinfo_free(&ri);

	assert_int_equal(header(&ri, SEALED1, true, &errstr), 0);
	assert_true(ri.sealed);
	recinfo_free(&ri);
}

static void
test_header_hostile_values_kept(void **state)
{
	struct recinfo	 ri;
	const char	*errstr = NULL;

	assert_int_equal(header(&ri, "{\"version\":2,\"timestamp\":0,"
	    "\"muxgate\":{\"attach_id\":\"x\",\"identity\":\"a\\nb\","
	    "\"host\":\"\\u001b]0;pwned\\u0007\",\"tmux_user\":\"\","
	    "\"session\":\"\\u202eevil\",\"mode\":\"\\u009b2J\"}}", false,
	    &errstr), 0);
	assert_string_equal(ri.identity, "a\nb");
	assert_string_equal(ri.host, "\x1b]0;pwned\x07");
	assert_string_equal(ri.tmux_user, "");
	assert_string_equal(ri.session, "\xe2\x80\xae" "evil");
	assert_string_equal(ri.mode, "\xc2\x9b" "2J");
	recinfo_free(&ri);
}

static void
test_header_refused(void **state)
{
	static const struct {
		const char	*line;
		bool		 sealed;
		const char	*why;
	} bad[] = {
		{ "", false, "not one JSON object" },
		{ "garbage", false, "not one JSON object" },
		{ "[1, \"o\", \"x\"]", false, "not one JSON object" },
		{ HEADER "{}", false, "not one JSON object" },
		{ "{\"version\":2", false, "not one JSON object" },
		{ "{}", false, "not an asciicast v2 header" },
		{ "{\"version\":1,\"timestamp\":0}", false,
		    "not an asciicast v2 header" },
		{ "{\"version\":2.0,\"timestamp\":0}", false,
		    "not an asciicast v2 header" },
		{ "{\"version\":\"2\",\"timestamp\":0}", false,
		    "not an asciicast v2 header" },
		{ "{\"version\":2," MG "}", false, "timestamp" },
		{ "{\"version\":2,\"timestamp\":-1," MG "}", false,
		    "timestamp" },
		{ "{\"version\":2,\"timestamp\":1.5," MG "}", false,
		    "timestamp" },
		{ "{\"version\":2,\"timestamp\":253402300800," MG "}", false,
		    "timestamp" },
		{ "{\"version\":2,\"timestamp\":0}", false,
		    "no muxgate object" },
		{ "{\"version\":2,\"timestamp\":0,\"muxgate\":[]}", false,
		    "no muxgate object" },
		{ "{\"version\":2,\"timestamp\":0,\"muxgate\":{}}", false,
		    "muxgate.attach_id" },
		{ "{\"version\":2,\"timestamp\":0,\"muxgate\":{"
		    "\"attach_id\":\"x\",\"identity\":\"a\",\"host\":\"h\","
		    "\"tmux_user\":\"u\",\"session\":null,\"mode\":\"attach\"}}",
		    false, "muxgate.session" },
		{ "{\"version\":2,\"timestamp\":0,\"muxgate\":{"
		    "\"attach_id\":\"x\",\"identity\":\"a\\u0000b\","
		    "\"host\":\"h\",\"tmux_user\":\"u\",\"session\":\"s\","
		    "\"mode\":\"attach\"}}", false, "muxgate.identity" },
		{ "{\"version\":2,\"timestamp\":0,\"muxgate\":{"
		    "\"attach_id\":\"x\",\"identity\":\"a\",\"host\":\"h\","
		    "\"tmux_user\":\"u\",\"session\":\"s\",\"mode\":7}}", false,
		    "muxgate.mode" },
		/* A sealed header where a plain one belongs, and back. */
		{ SEALED, false, "not an asciicast v2 header" },
		{ HEADER, true, "not a sealed recording header" },
		{ "{\"muxgate_sealed\":3,\"cast\":" HEADER "}", true,
		    "not a sealed recording header" },
		{ "{\"muxgate_sealed\":0,\"cast\":" HEADER "}", true,
		    "not a sealed recording header" },
		{ "{\"muxgate_sealed\":1}", true,
		    "not a sealed recording header" },
		{ "{\"muxgate_sealed\":1,\"cast\":\"" "x" "\"}", true,
		    "not an asciicast v2 header" },
	};
	struct recinfo	 ri;
	const char	*errstr;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errstr = NULL;
		if (header(&ri, bad[i].line, bad[i].sealed, &errstr) != -1)
			fail_msg("accepted %s", bad[i].line);
		assert_non_null(errstr);
		if (strstr(errstr, bad[i].why) == NULL)
			fail_msg("%s: \"%s\", not \"%s\"", bad[i].line, errstr,
			    bad[i].why);
		/* Nothing half-filled. */
		assert_null(ri.identity);
		assert_null(ri.attach_id);
	}
	/* A NUL byte in the line itself. */
	memset(&ri, 0, sizeof(ri));
	assert_int_equal(recinfo_header(&ri, HEADER "\0x", sizeof(HEADER) + 1,
	    false, &errstr), -1);
}

static void
test_event_time(void **state)
{
	double	t = -1;

	assert_int_equal(recinfo_event_time("[4.181260, \"o\", \"x\"]", 22,
	    &t), 0);
	assert_true(t == 4.18126);
	/* Only the start of the line is needed. */
	assert_int_equal(recinfo_event_time("[12.5,\"o\",\"xyz", 7, &t), 0);
	assert_true(t == 12.5);
	assert_int_equal(recinfo_event_time("[ 0 ,", 5, &t), 0);
	assert_true(t == 0);
	assert_int_equal(recinfo_event_time("[1e2, \"o\"", 5, &t), 0);
	assert_true(t == 100);

	assert_int_equal(recinfo_event_time("", 0, &t), -1);
	assert_int_equal(recinfo_event_time("[4.18", 5, &t), -1);
	assert_int_equal(recinfo_event_time("4.18, \"o\"", 9, &t), -1);
	assert_int_equal(recinfo_event_time("[-1, \"o\"", 8, &t), -1);
	assert_int_equal(recinfo_event_time("[\"1\", \"o\"", 9, &t), -1);
	assert_int_equal(recinfo_event_time("[1.2.3, \"o\"", 11, &t), -1);
	assert_int_equal(recinfo_event_time("[1e999, \"o\"", 11, &t), -1);
	assert_int_equal(recinfo_event_time("[nan, \"o\"", 9, &t), -1);
	assert_int_equal(recinfo_event_time("[0x10, \"o\"", 10, &t), -1);
	assert_int_equal(recinfo_event_time("{\"version\": 2}", 14, &t), -1);
	assert_int_equal(recinfo_event_time(
	    "[1111111111111111111111111111111111111111111111111, \"o\"", 55,
	    &t), -1);
}

static void
put(const char *name, const void *data, size_t len)
{
	char	path[128];
	int	fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) !=
	    -1);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void
puts_(const char *name, const char *s)
{
	put(name, s, strlen(s));
}

static double
duration_of(const char *name)
{
	struct recinfo	 ri;
	const char	*errstr = NULL;
	double		 d;

	if (recinfo_read(&ri, dfd, name, false, &errstr) != 0)
		fail_msg("%s: %s", name, errstr);
	d = ri.duration;
	recinfo_free(&ri);
	return d;
}

static void
test_read_duration(void **state)
{
	static const char a[] = HEADER "\n[0.010769, \"o\", \"hi\"]\n"
	    "[1.028878, \"i\", \"e\"]\n[4.181260, \"o\", \"bye\"]\n";
	struct recinfo	 ri;
	const char	*errstr = NULL;

	puts_("a", a);
	assert_int_equal(recinfo_read(&ri, dfd, "a", false, &errstr), 0);
	assert_true(ri.duration == 4.18126);
	assert_int_equal(ri.size, (long long)sizeof(a) - 1);
	assert_string_equal(ri.identity, "alice");
	assert_false(ri.sealed);
	recinfo_free(&ri);

	/* A last event cut short by a killed writer: the one before it. */
	puts_("b", HEADER "\n[0.5, \"o\", \"hi\"]\n[2.25, \"o\", \"b");
	assert_true(duration_of("b") == 0.5);
	/* Only the header, or only a cut event: unknown. */
	puts_("c", HEADER "\n");
	assert_true(duration_of("c") < 0);
	puts_("d", HEADER "\n[2.25, \"o\", \"b");
	assert_true(duration_of("d") < 0);
	/* The only event. */
	puts_("e", HEADER "\n[7, \"r\", \"80x24\"]\n");
	assert_true(duration_of("e") == 7);
	/* A last line that is not an event: unknown, not an error. */
	puts_("f", HEADER "\n[1, \"o\", \"x\"]\ngarbage\n");
	assert_true(duration_of("f") < 0);
}

static void
test_read_long_lines(void **state)
{
	struct buf	b = { 0 };
	size_t		i;

	/* A last event far longer than one read from the end. */
	buf_printf(&b, "%s\n[1, \"o\", \"x\"]\n[3.5, \"o\", \"", HEADER);
	/* one 64 KiB read of escape characters, as the relay could record it */
	for (i = 0; i < 64 * 1024; i++)
		buf_adds(&b, "\\u001b");
	buf_adds(&b, "\"]\n");
	put("long", b.data, b.len);
	assert_true(duration_of("long") == 3.5);
	/* Longer than any event muxgate writes: unknown. */
	buf_free(&b);
	buf_printf(&b, "%s\n[1, \"o\", \"x\"]\n[3.5, \"o\", \"", HEADER);
	for (i = 0; i < 2 * 1024 * 1024; i++)
		buf_addc(&b, 'x');
	buf_adds(&b, "\"]\n");
	put("huge", b.data, b.len);
	assert_true(duration_of("huge") < 0);
	buf_free(&b);
}

/* Lines across the reads of the file's start and of its end. */
static void
test_read_chunk_boundaries(void **state)
{
	struct buf	b = { 0 };
	size_t		pad, last, i;

	for (last = 1; last < 6000; last += 1499) {
		for (pad = 3900; pad < 8400; pad += 37) {
			buf_printf(&b, "%s\n[1, \"o\", \"", HEADER);
			for (i = 0; i < pad; i++)
				buf_addc(&b, 'p');
			buf_adds(&b, "\"]\n[2.5, \"o\", \"");
			for (i = 0; i < last; i++)
				buf_addc(&b, 'l');
			buf_adds(&b, "\"]\n");
			put("b", b.data, b.len);
			if (duration_of("b") != 2.5)
				fail_msg("pad %zu, last %zu", pad, last);
			/* The same, the last event cut short. */
			buf_adds(&b, "[3, \"o\"");
			put("b", b.data, b.len);
			if (duration_of("b") != 2.5)
				fail_msg("pad %zu, last %zu, cut", pad, last);
			buf_free(&b);
		}
	}
}

static void
test_read_first_line_cap(void **state)
{
	struct recinfo	 ri;
	struct buf	 b = { 0 };
	const char	*errstr = NULL;
	size_t		 pad;

	/* A header of exactly 65536 bytes is read... */
	pad = RECINFO_LINE_MAX - strlen(HEADER) - strlen(",\"pad\":\"\"");
	buf_add(&b, HEADER, strlen(HEADER) - 1);
	buf_adds(&b, ",\"pad\":\"");
	while (pad-- > 0)
		buf_addc(&b, 'p');
	buf_adds(&b, "\"}");
	assert_int_equal(b.len, RECINFO_LINE_MAX);
	buf_adds(&b, "\n[2, \"o\", \"x\"]\n");
	put("max", b.data, b.len);
	assert_true(duration_of("max") == 2);
	/* ...one more byte is not. */
	buf_free(&b);
	buf_adds(&b, "{\"pad\":\"");
	for (pad = 0; pad < RECINFO_LINE_MAX; pad++)
		buf_addc(&b, 'p');
	buf_adds(&b, "\"}\n");
	put("over", b.data, b.len);
	assert_int_equal(recinfo_read(&ri, dfd, "over", false, &errstr), -1);
	assert_string_equal(errstr, "the first line is longer than 65536 bytes");
	assert_int_equal(ri.size, (long long)b.len);
	recinfo_free(&ri);
	buf_free(&b);
}

static void
test_read_sealed(void **state)
{
	struct recinfo	 ri;
	const char	*errstr = NULL;
	static const char frames[] = SEALED "\n\x00\x01\xff\n[9, \"o\"\n\x1b";

	put("s", frames, sizeof(frames) - 1);
	assert_int_equal(recinfo_read(&ri, dfd, "s", true, &errstr), 0);
	assert_true(ri.sealed);
	assert_true(ri.duration < 0);
	assert_int_equal(ri.size, (long long)sizeof(frames) - 1);
	assert_string_equal(ri.session, "build");
	recinfo_free(&ri);
}

static void
test_read_not_recordings(void **state)
{
	static const struct {
		const char	*name;
		const char	*why;
	} bad[] = {
		{ "empty", "empty file" },
		{ "noline", "no complete first line" },
		{ "garbage", "the first line is not one JSON object" },
		{ "binary", "the first line is not one JSON object" },
		{ "link", "a symbolic link" },
		{ "fifo", "not a regular file" },
		{ "subdir", "not a regular file" },
		{ "missing", "No such file or directory" },
	};
	struct recinfo	 ri;
	const char	*errstr;
	char		 path[128];
	size_t		 i;

	puts_("empty", "");
	puts_("noline", HEADER);
	puts_("garbage", "\x1b[2J garbage\n[1, \"o\", \"x\"]\n");
	put("binary", "\x00\x01\x02\n", 4);
	snprintf(path, sizeof(path), "%s/link", dir);
	assert_int_equal(symlink("garbage", path), 0);
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	snprintf(path, sizeof(path), "%s/subdir", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errstr = NULL;
		if (recinfo_read(&ri, dfd, bad[i].name, false, &errstr) != -1)
			fail_msg("read %s", bad[i].name);
		if (errstr == NULL || strcmp(errstr, bad[i].why) != 0)
			fail_msg("%s: \"%s\", not \"%s\"", bad[i].name,
			    errstr ? errstr : "(null)", bad[i].why);
		assert_null(ri.identity);
		recinfo_free(&ri);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_header_hostile_values_kept),
		cmocka_unit_test(test_header_refused),
		cmocka_unit_test(test_event_time),
		cmocka_unit_test_setup_teardown(test_read_duration, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_read_long_lines, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_read_chunk_boundaries,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_first_line_cap,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_sealed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_read_not_recordings,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
