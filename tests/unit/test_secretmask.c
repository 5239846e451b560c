/*
 * test_secretmask.c — which keystrokes are secrets: prompts found on the
 * model of the screen (split over reads, among escape sequences, behind
 * a tmux status line redraw, after wrapping, scrolling and editing), the
 * answer masked up to and including Enter, what follows it judged again,
 * and the three modes.
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
#include "gateway/secretmask.h"

static struct secretmask *
mk(enum secretmask_mode mode, unsigned cols, unsigned rows)
{
	struct secretmask	*m;
	char			 err[256];

	m = secretmask_new(mode, policy_default_secret_prompts,
	    policy_ndefault_secret_prompts, cols, rows, err, sizeof(err));
	assert_non_null(m);
	return m;
}

static void
out(struct secretmask *m, const char *s)
{
	secretmask_output(m, s, strlen(s));
}

/*
 * How one read of input S is recorded, part by part, joined by '|':
 * "i" and the bytes kept, "m" and the number of '*', "-" and the number
 * of bytes left out.
 */
static const char *
in(struct secretmask *m, const char *s)
{
	static char		 r[1024];
	enum secretmask_kind	 kind;
	size_t			 len = strlen(s), n, stars, at = 0;

	r[0] = '\0';
	while (len > 0) {
		n = secretmask_input(m, s, len, &kind, &stars);
		assert_true(n >= 1 && n <= len);
		if (at > 0)
			at += (size_t)snprintf(r + at, sizeof(r) - at, "|");
		switch (kind) {
		case SECRETMASK_KEEP:
			at += (size_t)snprintf(r + at, sizeof(r) - at, "i%.*s",
			    (int)n, s);
			break;
		case SECRETMASK_MASK:
			assert_true(stars <= n);
			at += (size_t)snprintf(r + at, sizeof(r) - at, "m%zu",
			    stars);
			break;
		case SECRETMASK_DROP:
			at += (size_t)snprintf(r + at, sizeof(r) - at, "-%zu",
			    n);
			break;
		}
		assert_true(at < sizeof(r));
		s += n;
		len -= n;
	}
	return r;
}

static void
assert_line(const struct secretmask *m, const char *want)
{
	char	line[SECRETMASK_LINE];

	assert_true(secretmask_line(m, line, sizeof(line)));
	assert_string_equal(line, want);
}

static void
test_prompt_masks_up_to_enter(void **state)
{
	struct secretmask	*m = mk(SECRETMASK_PROMPTS, 80, 24);

	out(m, "$ sudo true\r\n[sudo] password for alice: ");
	assert_line(m, "[sudo] password for alice: ");
	assert_string_equal(in(m, "hunter2\r"), "m8");
	assert_false(secretmask_masking(m));
	/* Nothing new on the screen: the prompt was answered. */
	assert_string_equal(in(m, "ls\r"), "ils\r");
	secretmask_free(m);
}

static void
test_every_default_prompt(void **state)
{
	static const char *const prompts[] = {
		"Password: ", "Password:", "password: ",
		"New password: ", "Retype new password: ",
		"alice@db1's password: ", "[sudo] password for john: ",
		"Enter passphrase for key '/home/a/.ssh/id_ed25519': ",
		"Enter PIN: ", "PIN:", "Verification code: ",
	};
	static const char *const not[] = {
		"$ ", "Password: ok", "PASSWORD: ", "Passwort: ",
		"password reset for alice (this text runs on for more than "
		"forty characters): ", "Pin: ", "verification code: ",
	};
	struct secretmask	*m;
	size_t			 i;

	for (i = 0; i < sizeof(prompts) / sizeof(prompts[0]); i++) {
		m = mk(SECRETMASK_PROMPTS, 80, 24);
		out(m, prompts[i]);
		if (strcmp(in(m, "x\r"), "m2") != 0)
			fail_msg("not taken for a prompt: '%s'", prompts[i]);
		secretmask_free(m);
	}
	for (i = 0; i < sizeof(not) / sizeof(not[0]); i++) {
		m = mk(SECRETMASK_PROMPTS, 200, 24);
		out(m, not[i]);
		if (strcmp(in(m, "x\r"), "ix\r") != 0)
			fail_msg("taken for a prompt: '%s'", not[i]);
		secretmask_free(m);
	}
}

static void
test_prompt_split_over_reads(void **state)
{
	struct secretmask	*m = mk(SECRETMASK_PROMPTS, 80, 24);

	out(m, "[sudo] pass");
	assert_string_equal(in(m, "a"), "ia");
	out(m, "word for al");
	out(m, "ice");
	out(m, ": ");
	assert_string_equal(in(m, "x"), "m1");
	assert_true(secretmask_masking(m));
	/* Key by key, as typed: masked until the Enter, which is one too. */
	assert_string_equal(in(m, "y"), "m1");
	assert_string_equal(in(m, "\r"), "m1");
	assert_false(secretmask_masking(m));
	assert_string_equal(in(m, "z"), "iz");
	secretmask_free(m);
}

static void
test_escape_sequences_in_prompt(void **state)
{
	struct secretmask	*m = mk(SECRETMASK_PROMPTS, 80, 24);

	/* SGR, an OSC ended by BEL and one by ST, a charset, a CSI split. */
	out(m, "\x1b[1mPass\x1b[0mwo\x1b]0;a title\x07rd\x1b]2;x\x1b\\\x1b(B:");
	out(m, "\x1b[");
	out(m, "?25h \x1b[");
	out(m, "K");
	assert_line(m, "Password: ");
	assert_string_equal(in(m, "s3cret\r"), "m7");
	/* A DCS swallows everything up to its end. */
	out(m, "\r\n\x1bPPassword: \x1b\\$ ");
	assert_line(m, "$ ");
	assert_string_equal(in(m, "ls\r"), "ils\r");
	/* CAN cancels a sequence in the middle. */
	out(m, "\r\n\x1b[12\x18Password: ");
	assert_string_equal(in(m, "x\r"), "m2");
	secretmask_free(m);
}

/*
 * What tmux sends: the prompt, then (the window was renamed "sudo") its
 * status line redrawn on the last row, and the cursor put back.
 */
static void
test_tmux_status_redraw_between_prompt_and_key(void **state)
{
	struct secretmask	*m = mk(SECRETMASK_PROMPTS, 80, 10);

	out(m, "\x1b[?1049h\x1b[H\x1b[2J\x1b[1;9r\x1b[1;1H$ \x1b[K");
	out(m, "sudo true\r\n[sudo] password for alice: ");
	out(m, "\x1b[?25l\x1b[30m\x1b[42m\x1b[10;1H[0] 0:sudo*"
	    "                                   \"vm\" 12:00 05-Dec-26"
	    "\x1b(B\x1b[m\x1b[?12l\x1b[?25h\x1b[2;28H");
	assert_line(m, "[sudo] password for alice: ");
	assert_string_equal(in(m, "hunter2\r"), "m8");
	/* The status line again, the prompt still there: answered. */
	out(m, "\x1b[?25l\x1b[10;1H[0] 0:sudo*\x1b[2;28H");
	assert_string_equal(in(m, "ls\r"), "ils\r");
	secretmask_free(m);
}

static void
test_enter_in_the_middle_of_a_read(void **state)
{
	struct secretmask	*m = mk(SECRETMASK_PROMPTS, 80, 24);

	out(m, "Password: ");
	/* A paste: the password, Enter, and a command after it. */
	assert_string_equal(in(m, "pw\rls -l\r"), "m3|ils -l\r");
	out(m, "\r\nPassword: ");
	assert_string_equal(in(m, "pw\nrest"), "m3|irest");
	/* CR LF: the LF comes after the answer. */
	out(m, "\r\nPassword: ");
	assert_string_equal(in(m, "pw\r\n"), "m3|i\n");
	secretmask_free(m);
}

static void
test_new_prompt_masks_again(void **state)
{
	struct secretmask	*m = mk(SECRETMASK_PROMPTS, 80, 24);

	out(m, "[sudo] password for alice: ");
	assert_string_equal(in(m, "wrong\r"), "m6");
	assert_string_equal(in(m, "typed ahead"), "ityped ahead");
	out(m, "\r\nSorry, try again.\r\n[sudo] password for alice: ");
	assert_string_equal(in(m, "right\r"), "m6");
	/* The same prompt written again over itself is a new one. */
	out(m, "\r[sudo] password for alice: ");
	assert_string_equal(in(m, "again\r"), "m6");
	secretmask_free(m);
}

static void
test_ctrl_c_and_editing_keys_stay_masked(void **state)
{
	struct secretmask	*m = mk(SECRETMASK_PROMPTS, 80, 24);

	out(m, "Password: ");
	assert_string_equal(in(m, "ab\x15" "cd\x7f"), "m6");
	assert_string_equal(in(m, "\x03"), "m1");
	assert_true(secretmask_masking(m));
	/* The program is gone, a shell prompt is back: still to the Enter. */
	out(m, "^C\r\n$ ");
	assert_string_equal(in(m, "ls\r"), "m3");
	assert_string_equal(in(m, "pwd\r"), "ipwd\r");
	secretmask_free(m);
}

static void
test_escape_sequences_typed_are_masked(void **state)
{
	struct secretmask	*m = mk(SECRETMASK_PROMPTS, 80, 24);

	out(m, "Password: ");
	/* Up and left arrows, a bracketed paste: one '*' per character. */
	assert_string_equal(in(m, "\x1b[A\x1bOD"), "m6");
	assert_string_equal(in(m, "\x1b[200~pw\x1b[201~"), "m14");
	assert_string_equal(in(m, "\r"), "m1");
	secretmask_free(m);
}

static void
test_utf8_one_star_per_character(void **state)
{
	struct secretmask	*m = mk(SECRETMASK_PROMPTS, 80, 24);

	out(m, "Password: ");
	/* p, a-umlaut (2 bytes), euro (3), an emoji (4), Enter. */
	assert_string_equal(in(m, "p\xc3\xa4\xe2\x82\xac\xf0\x9f\x98\x80\r"),
	    "m5");
	/* A character split over two reads counts once. */
	out(m, "\r\nPassword: ");
	assert_string_equal(in(m, "\xe2\x82"), "m1");
	assert_string_equal(in(m, "\xac"), "m0");
	assert_string_equal(in(m, "\r"), "m1");
	/* A stray continuation byte is a character of its own. */
	out(m, "\r\nPassword: ");
	assert_string_equal(in(m, "\xa4\xa4\r"), "m3");
	secretmask_free(m);
}

static void
test_mode_all_records_no_input(void **state)
{
	struct secretmask	*m = mk(SECRETMASK_ALL, 80, 24);

	assert_string_equal(in(m, "ls\r"), "-3");
	out(m, "Password: ");
	assert_string_equal(in(m, "hunter2\rls\r"), "-11");
	assert_false(secretmask_masking(m));
	secretmask_free(m);
}

static void
test_mode_none_records_everything(void **state)
{
	struct secretmask	*m = mk(SECRETMASK_NONE, 80, 24);
	char			 line[SECRETMASK_LINE];

	out(m, "Password: ");
	assert_string_equal(in(m, "hunter2\r"), "ihunter2\r");
	/* Nothing is modelled at all. */
	assert_false(secretmask_line(m, line, sizeof(line)));
	secretmask_free(m);
}

static void
test_own_prompts_and_bad_ones(void **state)
{
	static const char *const mine[] = { "^Token> $", "[Oo]ne-time code: ?$" };
	static const char *const bad[] = { "PIN: ?$", "(unclosed" };
	struct secretmask	*m;
	char			 err[256];

	m = secretmask_new(SECRETMASK_PROMPTS, mine, 2, 80, 24, err,
	    sizeof(err));
	assert_non_null(m);
	out(m, "Token> ");
	assert_string_equal(in(m, "t0k\r"), "m4");
	/* Only these: the defaults are replaced. */
	out(m, "\r\nPassword: ");
	assert_string_equal(in(m, "pw\r"), "ipw\r");
	out(m, "\r\nEnter your one-time code:");
	assert_string_equal(in(m, "123\r"), "m4");
	secretmask_free(m);

	/* None at all: nothing is a prompt. */
	m = secretmask_new(SECRETMASK_PROMPTS, NULL, 0, 80, 24, err,
	    sizeof(err));
	assert_non_null(m);
	out(m, "Password: ");
	assert_string_equal(in(m, "pw\r"), "ipw\r");
	secretmask_free(m);

	assert_null(secretmask_new(SECRETMASK_PROMPTS, bad, 2, 80, 24, err,
	    sizeof(err)));
	assert_non_null(strstr(err, "secret prompt '(unclosed'"));
}

static void
test_carriage_return_and_backspace(void **state)
{
	struct secretmask	*m = mk(SECRETMASK_PROMPTS, 80, 24);

	/* The prompt written over an older text from the start of the row. */
	out(m, "Checking credentials...\rPassword: ");
	assert_line(m, "Password: ");
	assert_string_equal(in(m, "pw\r"), "m3");
	out(m, "\r\nPasswd\b\bword: ");
	assert_line(m, "Password: ");
	assert_string_equal(in(m, "pw\r"), "m3");
	/* A tab is blanks up to the next stop. */
	out(m, "\r\nPIN:\t");
	assert_line(m, "PIN:    ");
	assert_string_equal(in(m, "1\r"), "i1\r");
	secretmask_free(m);
}

static void
test_wrap_and_scroll(void **state)
{
	struct secretmask	*m = mk(SECRETMASK_PROMPTS, 20, 3);

	/* 25 columns on a 20-column screen: the prompt is on the next row. */
	out(m, "xxxxxxxxxxxxxxxxxxxxxxxxxPassword: ");
	assert_line(m, "xxxxxPassword: ");
	assert_string_equal(in(m, "pw\r"), "m3");
	/* Scrolled up past the bottom row, twice over. */
	out(m, "\r\na\r\nb\r\nc\r\nd\r\ne\r\nPassword: ");
	assert_line(m, "Password: ");
	assert_string_equal(in(m, "pw\r"), "m3");
	/* The rows above still hold what scrolled into them. */
	out(m, "\x1b[2;3H");
	assert_line(m, "e ");
	out(m, "\x1b[3;11H");
	assert_string_equal(in(m, "pw\r"), "ipw\r");
	/* A reverse index at the top scrolls down: the prompt moves too. */
	out(m, "\x1b[2J\x1b[2;1HPassword: \x1b[1;1H\x1bM\x1b[3;11H");
	assert_line(m, "Password: ");
	assert_string_equal(in(m, "pw\r"), "m3");
	/* Exactly the width: the cursor waits at the margin. */
	out(m, "\r\nxxxxxxxxxxPassword: ");
	assert_line(m, "xxxxxxxxxxPassword: ");
	assert_string_equal(in(m, "pw\r"), "m3");
	secretmask_free(m);
}

static void
test_redraw_erase_insert_delete(void **state)
{
	struct secretmask	*m = mk(SECRETMASK_PROMPTS, 40, 5);

	/* A full redraw, row by row, the cursor put back last. */
	out(m, "\x1b[1;1H$ sudo -k\x1b[K\x1b[2;1H$ sudo true\x1b[K"
	    "\x1b[3;1H[sudo] password for bob: \x1b[K\x1b[4;1H\x1b[K"
	    "\x1b[5;1H[0] 0:sudo*\x1b[3;26H");
	assert_line(m, "[sudo] password for bob: ");
	out(m, "\x1b[2J");
	assert_line(m, "                         ");
	assert_string_equal(in(m, "x\r"), "ix\r");
	/* Inserted blanks, then the text written into them. */
	out(m, "\x1b[1;1Hword: \x1b[1;1H\x1b[4@Pass\x1b[1;11H");
	assert_line(m, "Password: ");
	assert_string_equal(in(m, "pw\r"), "m3");
	/* Characters deleted, the rest moving left. */
	out(m, "\x1b[2;1HPassxxword: \x1b[2;5H\x1b[2P\x1b[2;11H");
	assert_line(m, "Password: ");
	assert_string_equal(in(m, "pw\r"), "m3");
	/* Erased to the left of the cursor: not a prompt any more. */
	out(m, "\x1b[3;1HPassword: \x1b[1K");
	assert_string_equal(in(m, "pw\r"), "ipw\r");
	/* Lines inserted above the prompt push it down. */
	out(m, "\x1b[4;1HPassword: \x1b[4;1H\x1b[1L\x1b[5;11H");
	assert_line(m, "Password: ");
	secretmask_free(m);
}

static void
test_wide_characters_and_resize(void **state)
{
	struct secretmask	*m = mk(SECRETMASK_PROMPTS, 80, 24);

	/* Two CJK characters take four columns. */
	out(m, "\xe5\xaf\x86\xe7\xa0\x81 Password: ");
	out(m, "\x1b[24;1Hstatus\x1b[1;16H");
	assert_line(m, "\xe5\xaf\x86\xe7\xa0\x81 Password: ");
	assert_string_equal(in(m, "pw\r"), "m3");
	/* Only 5 rows now: a move to row 30 lands on the last one. */
	secretmask_resize(m, 20, 5);
	out(m, "\x1b[5;1HPassword: \x1b[30;11H");
	assert_line(m, "Password: ");
	assert_string_equal(in(m, "pw\r"), "m3");
	secretmask_free(m);
}

static void
test_alternate_screen_and_reset(void **state)
{
	struct secretmask	*m = mk(SECRETMASK_PROMPTS, 80, 24);

	out(m, "Password: \x1b[?1049h");
	assert_string_equal(in(m, "x\r"), "ix\r");
	out(m, "Password: \x1b" "c");
	assert_line(m, "");
	assert_string_equal(in(m, "x\r"), "ix\r");
	secretmask_free(m);
}

/* The model keeps SECRETMASK_COLS columns: further right, no prompt. */
static void
test_bounded(void **state)
{
	struct secretmask	*m = mk(SECRETMASK_PROMPTS, 1000, 1000);
	char			 big[SECRETMASK_COLS + 1];
	unsigned		 i;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	out(m, big);
	out(m, "Password: ");
	assert_string_equal(in(m, "pw\r"), "ipw\r");
	/* Rows below the kept ones are not a prompt either. */
	out(m, "\x1b[300;1HPassword: ");
	assert_string_equal(in(m, "pw\r"), "ipw\r");
	/* Thousands of rows scrolled: still one screen of memory. */
	for (i = 0; i < 5000; i++)
		out(m, "line\r\n");
	out(m, "Password: ");
	assert_string_equal(in(m, "pw\r"), "ipw\r");
	out(m, "\x1b[5;1HPassword: ");
	assert_string_equal(in(m, "pw\r"), "m3");
	secretmask_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prompt_masks_up_to_enter),
		cmocka_unit_test(test_every_default_prompt),
		cmocka_unit_test(test_prompt_split_over_reads),
		cmocka_unit_test(test_escape_sequences_in_prompt),
		cmocka_unit_test(test_tmux_status_redraw_between_prompt_and_key),
		cmocka_unit_test(test_enter_in_the_middle_of_a_read),
		cmocka_unit_test(test_new_prompt_masks_again),
		cmocka_unit_test(test_ctrl_c_and_editing_keys_stay_masked),
		cmocka_unit_test(test_escape_sequences_typed_are_masked),
		cmocka_unit_test(test_utf8_one_star_per_character),
		cmocka_unit_test(test_mode_all_records_no_input),
		cmocka_unit_test(test_mode_none_records_everything),
		cmocka_unit_test(test_own_prompts_and_bad_ones),
		cmocka_unit_test(test_carriage_return_and_backspace),
		cmocka_unit_test(test_wrap_and_scroll),
		cmocka_unit_test(test_redraw_erase_insert_delete),
		cmocka_unit_test(test_wide_characters_and_resize),
		cmocka_unit_test(test_alternate_screen_and_reset),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
