/*
 * test_lineedit.c — the menu's line editor: every key it knows, and that
 * no byte sequence reaches anything but text on the line (there is no
 * command prompt, binding, editor or file behind any key).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "gateway/lineedit.h"

static struct le *
fresh(void)
{
	return le_new(-1, -1);
}

/* Feed S (LEN bytes); returns the last action. */
static enum le_action
feed(struct le *le, const char *s, size_t len)
{
	enum le_action	a = LE_A_NONE;
	size_t		i;

	for (i = 0; i < len; i++)
		a = le_feed(le, (unsigned char)s[i]);
	return a;
}

#define FEED(le, lit) feed((le), (lit), sizeof(lit) - 1)

static void
expect_line(struct le *le, const char *want, size_t want_pos)
{
	size_t		pos;
	const char	*b = le_buffer(le, &pos);

	assert_string_equal(b, want);
	assert_int_equal(pos, want_pos);
}

static void
test_typing_and_motion(void **state)
{
	struct le	*le = fresh();

	assert_int_equal(FEED(le, "attach x"), LE_A_NONE);
	expect_line(le, "attach x", 8);
	FEED(le, "\x01");			/* ^A */
	expect_line(le, "attach x", 0);
	FEED(le, "\x06\x06");			/* ^F ^F */
	expect_line(le, "attach x", 2);
	FEED(le, "\x1b[C\x1b[D\x1b[C");		/* right left right */
	expect_line(le, "attach x", 3);
	FEED(le, "\x1bOD");			/* SS3 left */
	expect_line(le, "attach x", 2);
	FEED(le, "\x05");			/* ^E */
	expect_line(le, "attach x", 8);
	FEED(le, "\x1b[H");			/* Home */
	expect_line(le, "attach x", 0);
	FEED(le, "\x1b[4~");			/* End */
	expect_line(le, "attach x", 8);
	FEED(le, "\x1b[1;5D");			/* Ctrl-Left */
	expect_line(le, "attach x", 7);
	FEED(le, "\x1b" "b");			/* M-b */
	expect_line(le, "attach x", 0);
	FEED(le, "\x1b" "f");			/* M-f */
	expect_line(le, "attach x", 6);
	le_free(le);
}

static void
test_deleting(void **state)
{
	struct le	*le = fresh();

	FEED(le, "kill one two");
	FEED(le, "\x7f");			/* Backspace */
	expect_line(le, "kill one tw", 11);
	FEED(le, "\x08");			/* ^H */
	expect_line(le, "kill one t", 10);
	FEED(le, "\x17");			/* ^W */
	expect_line(le, "kill one ", 9);
	FEED(le, "\x1b\x7f");			/* M-Backspace */
	expect_line(le, "kill ", 5);
	FEED(le, "\x01\x1b[3~");		/* ^A Delete */
	expect_line(le, "ill ", 0);
	FEED(le, "\x04");			/* ^D on a non-empty line */
	expect_line(le, "ll ", 0);
	FEED(le, "\x1b" "d");			/* M-d */
	expect_line(le, " ", 0);
	FEED(le, "abc\x02\x0b");		/* ^B ^K */
	expect_line(le, "ab", 2);
	FEED(le, "\x02\x15");			/* ^B ^U */
	expect_line(le, "b", 0);
	le_free(le);
}

static void
test_actions(void **state)
{
	struct le	*le = fresh();

	assert_int_equal(FEED(le, "\x04"), LE_A_EOF);	/* empty line */
	assert_int_equal(FEED(le, "ls\r"), LE_A_ACCEPT);
	assert_int_equal(FEED(le, "\n"), LE_A_ACCEPT);
	assert_int_equal(FEED(le, "\x03"), LE_A_INTR);
	assert_int_equal(FEED(le, "\t"), LE_A_COMPLETE);
	assert_int_equal(FEED(le, "\x0c"), LE_A_CLEAR);
	assert_int_equal(FEED(le, "\x1b"), LE_A_PENDING);
	assert_int_equal(FEED(le, "["), LE_A_PENDING);
	assert_int_equal(FEED(le, "A"), LE_A_NONE);
	le_free(le);
}

/* The signal keys and the flow-control keys are plain, ignored bytes. */
static void
test_signal_keys_do_nothing(void **state)
{
	struct le	*le = fresh();

	FEED(le, "half typed");
	assert_int_equal(FEED(le, "\x1c"), LE_A_NONE);	/* ^\ */
	assert_int_equal(FEED(le, "\x1a"), LE_A_NONE);	/* ^Z */
	assert_int_equal(FEED(le, "\x13\x11"), LE_A_NONE); /* ^S ^Q */
	assert_int_equal(FEED(le, "\x16\x0a"), LE_A_ACCEPT); /* ^V is no quote */
	expect_line(le, "half typed", 10);
	le_free(le);
}

static void
test_history(void **state)
{
	struct le	*le = fresh();

	le_history_add(le, "ls");
	le_history_add(le, "hosts");
	le_history_add(le, "hosts");		/* a repeat is kept once */
	le_history_add(le, "");			/* empty lines are not */
	le_clear_line(le);
	FEED(le, "wh");
	FEED(le, "\x1b[A");
	expect_line(le, "hosts", 5);
	FEED(le, "\x10");			/* ^P */
	expect_line(le, "ls", 2);
	FEED(le, "\x10");			/* nothing older */
	expect_line(le, "ls", 2);
	FEED(le, "\x0e");			/* ^N */
	expect_line(le, "hosts", 5);
	FEED(le, "\x1b[B");			/* back to what was typed */
	expect_line(le, "wh", 2);
	FEED(le, "\x1b[B");
	expect_line(le, "wh", 2);
	le_free(le);
}

static void
test_history_is_bounded(void **state)
{
	struct le	*le = fresh();
	char		 line[32];
	int		 i;

	for (i = 0; i < LE_HISTORY + 50; i++) {
		snprintf(line, sizeof(line), "cmd %d", i);
		le_history_add(le, line);
	}
	le_clear_line(le);
	for (i = 0; i < LE_HISTORY + 10; i++)
		FEED(le, "\x10");
	snprintf(line, sizeof(line), "cmd %d", 50);
	expect_line(le, line, strlen(line));
	le_free(le);
}

static void
test_utf8(void **state)
{
	struct le	*le = fresh();

	FEED(le, "caf\xc3\xa9");		/* é */
	expect_line(le, "caf\xc3\xa9", 5);
	FEED(le, "\x7f");			/* one character, two bytes */
	expect_line(le, "caf", 3);
	FEED(le, "\xe2\x82\xac");		/* € */
	FEED(le, "\x1b[D");
	expect_line(le, "caf\xe2\x82\xac", 3);
	FEED(le, "\x1b[C");
	expect_line(le, "caf\xe2\x82\xac", 6);
	le_clear_line(le);
	/* Not text: broken, overlong, C1 controls, zero width, bidi. */
	FEED(le, "\xc3(");			/* broken: the ( survives */
	FEED(le, "\xc0\xaf");			/* overlong / */
	FEED(le, "\xc2\x85");			/* NEL */
	FEED(le, "\xc2\x9b");			/* CSI as C1 */
	FEED(le, "\xe2\x80\x8b");		/* zero width space */
	FEED(le, "\xe2\x80\xae");		/* right-to-left override */
	FEED(le, "\xf8\x9b\xff\xfe");		/* never UTF-8 */
	FEED(le, "\xed\xa0\x80");		/* a surrogate */
	FEED(le, "\xf4\x90\x80\x80");		/* above U+10FFFF */
	FEED(le, "\xe0\x80)");			/* overlong start: the ) survives */
	FEED(le, "\xf0\x9f\x98");		/* cut short by a key: */
	FEED(le, "\x01");			/* Control-A is still a key */
	expect_line(le, "()", 0);
	le_free(le);
}

static void
test_line_is_bounded(void **state)
{
	struct le	*le = fresh();
	size_t		 i, pos;

	for (i = 0; i < LE_MAX_LINE + 100; i++)
		(void)le_feed(le, 'a');
	assert_int_equal(strlen(le_buffer(le, &pos)), LE_MAX_LINE);
	assert_int_equal(pos, LE_MAX_LINE);
	le_free(le);
}

static void
test_replace_word(void **state)
{
	struct le	*le = fresh();

	FEED(le, "attach mgt-de");
	assert_true(le_replace_word(le, 7, "mgt-deploy@bastion:"));
	expect_line(le, "attach mgt-deploy@bastion:", 26);
	assert_false(le_replace_word(le, 30, "x"));
	le_free(le);
}

/*
 * What opens libedit's command prompt, switches it to vi mode or starts
 * an editor (ESC x, M-x as a meta byte, vi's ':' and 'v', ^X^E of other
 * editors, ...) is typed here and must only ever leave text or nothing.
 */
static void
test_escape_routes_are_text(void **state)
{
	static const char *const attacks[] = {
		"\x1bx", "\xf8", "\x1b" "xbind -v\r", "\x1b:", "\x1bv",
		"\x1b\x1bx", "\x18\x05", "\x18" "e", "\x1b[200~", "\x1b]0;x\a",
		"\x1bP+q\x1b\\", "\x1b[?1049h", "\x12", "\x0f", "\x1d",
		"\x1b" "!", "\x1b" "_", "\x9b" "A",
	};
	struct le	*le;
	const char	*b;
	size_t		 i, j, len;
	enum le_action	 a;

	for (i = 0; i < sizeof(attacks) / sizeof(*attacks); i++) {
		le = fresh();
		a = feed(le, attacks[i], strlen(attacks[i]));
		assert_true(a == LE_A_NONE || a == LE_A_PENDING ||
		    a == LE_A_ACCEPT);
		b = le_buffer(le, NULL);
		len = strlen(b);
		for (j = 0; j < len; j++)
			assert_true((unsigned char)b[j] >= 0x20 &&
			    (unsigned char)b[j] < 0x7f);
		le_free(le);
	}
}

/* Every pair of bytes: a known action, and text only on the line. */
static void
test_every_two_bytes(void **state)
{
	struct le	*le = fresh();
	const char	*b;
	unsigned	 x, y;
	size_t		 j, len;
	enum le_action	 a;

	for (x = 0; x < 256; x++) {
		for (y = 0; y < 256; y++) {
			le_clear_line(le);
			le_feed_reset(le);
			FEED(le, "ab");
			(void)le_feed(le, (unsigned char)x);
			a = le_feed(le, (unsigned char)y);
			assert_true(a >= LE_A_NONE && a <= LE_A_PENDING);
			b = le_buffer(le, NULL);
			len = strlen(b);
			for (j = 0; j < len; j++)
				assert_true((unsigned char)b[j] >= 0x20 &&
				    b[j] != 0x7f);
		}
	}
	le_free(le);
}

/* ---- le_read on a real pseudo-terminal ---- */

struct pty {
	int	master, slave;
};

static void
pty_open(struct pty *p)
{
	char	*name;

	assert_true((p->master = posix_openpt(O_RDWR | O_NOCTTY)) >= 0);
	assert_int_equal(grantpt(p->master), 0);
	assert_int_equal(unlockpt(p->master), 0);
	assert_non_null(name = ptsname(p->master));
	assert_true((p->slave = open(name, O_RDWR | O_NOCTTY)) >= 0);
}

static void
pty_close(struct pty *p)
{
	close(p->master);
	close(p->slave);
}

/*
 * Type KEYS once the editor is reading (keys typed before would meet the
 * terminal's own line discipline), and read a line.
 */
static enum le_result
read_typed(struct pty *p, const char *keys, unsigned idle_ms, char **line)
{
	struct le	*le = le_new(p->slave, p->slave);
	enum le_result	 r;
	pid_t		 pid;
	int		 status;

	if ((pid = fork()) == 0) {
		usleep(100000);
		_exit(write(p->master, keys, strlen(keys)) ==
		    (ssize_t)strlen(keys) ? 0 : 1);
	}
	assert_true(pid > 0);
	r = le_read(le, "muxgate> ", idle_ms, line);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(status, 0);
	le_free(le);
	return r;
}

static void
same_termios(const struct termios *a, const struct termios *b)
{
	assert_int_equal(a->c_iflag, b->c_iflag);
	assert_int_equal(a->c_oflag, b->c_oflag);
	assert_int_equal(a->c_cflag, b->c_cflag);
	assert_int_equal(a->c_lflag, b->c_lflag);
	assert_memory_equal(a->c_cc, b->c_cc, sizeof(a->c_cc));
	assert_int_equal(cfgetispeed(a), cfgetispeed(b));
	assert_int_equal(cfgetospeed(a), cfgetospeed(b));
}

static void
test_read_restores_terminal(void **state)
{
	struct pty	 p;
	struct termios	 before, during, after;
	char		*line;
	int		 fl;

	pty_open(&p);
	assert_int_equal(tcgetattr(p.slave, &before), 0);
	assert_int_equal(read_typed(&p, "whoami\r", 0, &line), LE_LINE);
	assert_string_equal(line, "whoami");
	free(line);
	assert_int_equal(tcgetattr(p.slave, &after), 0);
	same_termios(&before, &after);
	assert_true(after.c_lflag & ICANON);
	assert_true(after.c_lflag & ECHO);
	assert_true(after.c_lflag & ISIG);
	/* Inside a read the signal keys are plain bytes. */
	assert_int_equal(read_typed(&p, "x\x03", 0, &line), LE_INTR);
	assert_null(line);
	assert_int_equal(tcgetattr(p.slave, &during), 0);
	same_termios(&before, &during);
	fl = fcntl(p.slave, F_GETFL);
	assert_false(fl & O_NONBLOCK);
	pty_close(&p);
}

static void
test_read_results(void **state)
{
	struct pty	 p;
	char		*line;

	pty_open(&p);
	assert_int_equal(read_typed(&p, "\x04", 0, &line), LE_EOF);
	assert_int_equal(read_typed(&p, "", 50, &line), LE_IDLE);
	assert_int_equal(read_typed(&p, "half\x03", 0, &line), LE_INTR);
	assert_int_equal(read_typed(&p, "\x1bxbind -v\r", 0, &line), LE_LINE);
	assert_string_equal(line, "bind -v");
	free(line);
	pty_close(&p);
}

/* A descriptor left non-blocking by someone else is not end of input. */
static void
test_read_nonblocking_descriptor(void **state)
{
	struct pty	 p;
	char		*line;

	pty_open(&p);
	assert_int_equal(fcntl(p.slave, F_SETFL,
	    fcntl(p.slave, F_GETFL) | O_NONBLOCK), 0);
	assert_int_equal(read_typed(&p, "ls\r", 0, &line), LE_LINE);
	assert_string_equal(line, "ls");
	free(line);
	pty_close(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_typing_and_motion),
		cmocka_unit_test(test_deleting),
		cmocka_unit_test(test_actions),
		cmocka_unit_test(test_signal_keys_do_nothing),
		cmocka_unit_test(test_history),
		cmocka_unit_test(test_history_is_bounded),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_line_is_bounded),
		cmocka_unit_test(test_replace_word),
		cmocka_unit_test(test_escape_routes_are_text),
		cmocka_unit_test(test_every_two_bytes),
		cmocka_unit_test(test_read_restores_terminal),
		cmocka_unit_test(test_read_results),
		cmocka_unit_test(test_read_nonblocking_descriptor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
