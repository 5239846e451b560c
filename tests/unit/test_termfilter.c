/*
 * test_termfilter.c — the filter toward a watcher's, a writer's and a
 * replaying auditor's terminal.  Every case is checked fed in one piece,
 * split in two at every byte, and one byte at a time (the output must be
 * the same), and filtered twice (what passes once passes unchanged).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/termfilter.h"

#define W	TERMFILTER_WATCH
#define A	TERMFILTER_WRITER

struct out {
	unsigned char	*p;
	size_t		 len;
};

/* IN fed in pieces of at most STEP bytes after a first piece of FIRST. */
static struct out
run(enum termfilter_mode mode, const void *in, size_t n, size_t first,
    size_t step)
{
	struct termfilter	*tf = termfilter_new(mode);
	const unsigned char	*s = in;
	struct out		 o;
	size_t			 off = 0, k = first;

	o.p = malloc(TERMFILTER_OUT_MAX(n));
	o.len = 0;
	do {
		if (k > n - off)
			k = n - off;
		o.len += termfilter_feed(tf, s + off, k, o.p + o.len);
		assert_true(o.len <= TERMFILTER_OUT_MAX(off + k));
		off += k;
		k = step;
	} while (off < n);
	o.len += termfilter_end(tf, o.p + o.len);
	termfilter_free(tf);
	return o;
}

static void
same(const struct out *got, const void *want, size_t wlen, const char *how,
    size_t at)
{
	size_t	i;

	if (got->len == wlen && memcmp(got->p, want, wlen) == 0)
		return;
	print_error("%s (at %zu): got %zu bytes:", how, at, got->len);
	for (i = 0; i < got->len; i++)
		print_error(" %02x", got->p[i]);
	print_error("\nwanted %zu:", wlen);
	for (i = 0; i < wlen; i++)
		print_error(" %02x", ((const unsigned char *)want)[i]);
	print_error("\n");
	fail();
}

/* IN filtered in MODE is WANT, however it is cut, and filtering it again
 * changes nothing. */
static void
check_n(enum termfilter_mode mode, const void *in, size_t n,
    const void *want, size_t wlen)
{
	struct out	o;
	size_t		i;

	o = run(mode, in, n, n, n);
	same(&o, want, wlen, "whole", 0);
	free(o.p);
	for (i = 0; i <= n; i++) {
		o = run(mode, in, n, i, n);
		same(&o, want, wlen, "split", i);
		free(o.p);
	}
	o = run(mode, in, n, 1, 1);
	same(&o, want, wlen, "bytewise", 1);
	free(o.p);
	o = run(mode, want, wlen, wlen, wlen);
	same(&o, want, wlen, "again", 0);
	free(o.p);
}

static void
check(enum termfilter_mode mode, const char *in, const char *want)
{
	check_n(mode, in, strlen(in), want, strlen(want));
}

/* Passed unchanged in MODE. */
static void
pass(enum termfilter_mode mode, const char *in)
{
	check(mode, in, in);
}

/* ---- what passes ---- */

static void
test_text(void **state)
{
	static const char nul[] = "a\0b";

	pass(W, "");
	pass(W, "hello, world\r\n\tx\by\a");
	pass(W, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e");
	/* Continuation bytes 0x9c and 0x9d inside characters: text. */
	pass(W, "\xd1\x9c\xd1\x9d\xe2\x80\x9c");
	pass(W, "\x18 \x1a \x7f");		/* CAN, SUB, DEL outside */
	pass(A, "plain \xc3\xa9\x05");		/* ENQ: a writer's */
	check_n(W, nul, 3, nul, 3);
}

/* What tmux 3.3a sends to its client's terminal when it attaches. */
static const char tmux_attach[] =
    "\033[?1049h\033[22;0;0t\033[?1h\033=\033[H\033[2J\033[?12l\033[?25h"
    "\033[?1000l\033[?1002l\033[?1003l\033[?1006l\033[?1005l\033(B\033[m"
    "\033[?2004l\033[1;1H\033[1;24r\033[>c\033[>q\033[1;1H\033[?1006h"
    "\033[?1000h\033[?1002h\033]0;p:0:bash - \"vm\" \007\033P=1s\033\\"
    "\033[?25l\033[K\r\n\033[30m\033[42m[p] 0:bash*\033(B\033[m\033P=2s"
    "\033\\\033[1;0r\033[?1l\033>\033[?7727l\033[?1004l\033[>4m"
    "\033[?1049l\033[23;0;0t[server exited]\r\n";

static void
test_tmux_output(void **state)
{
	char	want[sizeof(tmux_attach)];
	char	*p;

	/* A watcher loses only the queries tmux could never have had
	 * answered (a watcher's input is dropped). */
	snprintf(want, sizeof(want), "%s", tmux_attach);
	assert_non_null(p = strstr(want, "\033[>c\033[>q"));
	memmove(p, p + 8, strlen(p + 8) + 1);
	check(W, tmux_attach, want);
	pass(A, tmux_attach);
	/* Later tmux asks for more; a watcher keeps only the mode. */
	check(W, "\033[c\033[>c\033[>q\033[?2026$p\033]10;?\033\\"
	    "\033]11;?\033\\\033[?2031h\033[?996n", "\033[?2031h");
	pass(A, "\033[c\033[>c\033[>q\033[?2026$p\033]10;?\033\\"
	    "\033]11;?\033\\\033[?2031h\033[?996n");
	pass(W, "\033[38;5;196mred\033[48:2::1:2:3m\033[0m\033[4:3m");
	pass(W, "\033[2 q\033[?2026h\033[?2026l\033[>4;1m\033[>4;0m\033[<u");
	pass(W, "\0337\0338\033M\033D\033E\033(0\033)B\033#8\033c");
}

static void
test_osc_allowed(void **state)
{
	pass(W, "\033]0;title\007\033]1;icon\033\\\033]2;t?it?le\007");
	pass(W, "\033]8;id=1;https://example.com/?q=1\033\\link\033]8;;\033\\");
	pass(W, "\033]8;;file:///x\007");
	pass(W, "\033]4;1;rgb:ff/00/00;2;#00ff00\007\033]104;1\007\033]104\007");
	pass(W, "\033]10;#ffffff\033\\\033]11;black\007\033]12;red\007");
	pass(W, "\033]110\007\033]111\033\\\033]112\007");
	pass(W, "\033]2;\xc3\xa9t\xc3\xa9\007");
	/* Leading zeros are the same number to a terminal. */
	pass(W, "\033]0008;;x\007");
}

/* ---- what a watcher does not get ---- */

static void
test_osc_dropped(void **state)
{
	check(W, "a\033]52;c;aGVsbG8=\007b", "ab");
	check(W, "a\033]52;c;aGVsbG8=\033\\b", "ab");
	check(W, "a\033]52;c;?\007b", "ab");
	check(W, "a\033]052;c;aGVsbG8=\007b", "ab");
	check(W, "a\033]50;fixed\007b", "ab");
	check(W, "a\033]50;?\007b", "ab");
	check(W, "\033]7;file://host/tmp\007\033]777;notify;x;y\007", "");
	check(W, "\033]9;hi\007\033]1337;Copy=:aGk=\007\033]5522;x\007", "");
	check(W, "\033]3;x=y\007\033]5;0;red\007\033]13;x\007\033]46;f\007", "");
	check(W, "\033]l title\033\\\033]L icon\033\\\033];x\007", "");
	/* Queries among the colours. */
	check(W, "\033]4;1;?\007\033]10;?\007\033]11;?\033\\\033]12;?\007", "");
	check(W, "\033]10;red;?\007x", "x");
	/* A number that wraps to 52 in 32 bits. */
	check(W, "\033]4294967348;c;eA==\007x", "x");
	/* C0 controls between the digits: still 52. */
	check(W, "\033]5\n2;c;eA==\007x", "x");
	/* ... and ignored inside an OSC that passes. */
	check(W, "\033]0;a\001b\177c\007", "\033]0;abc\007");
}

static void
test_dcs_dropped(void **state)
{
	check(W, "a\033P$qm\033\\b", "ab");			/* DECRQSS */
	check(W, "a\033P+q544e\033\\b", "ab");		/* XTGETTCAP */
	check(W, "a\033P0;1|17/61\033\\b", "ab");		/* DECUDK */
	check(W, "a\033Pq#0;2;0;0;0#0!10~-\033\\b", "ab");	/* sixel */
	check(W, "a\033P=1sx\033\\b", "ab");
	check(W, "a\033P=1s\007\033\\b", "ab");
	check(W, "a\033P=3s\033\\b", "ab");
	/* tmux's passthrough, with the doubled ESC and either end. */
	check(W, "a\033Ptmux;\033\033]52;c;eA==\007\033\\b", "ab");
	check(W, "a\033Ptmux;\033\033]52;c;eA==\033\033\\\033\\b", "ab");
	check(W, "a\033Ptmux;\033\033[21t\033\\b", "ab");
	/* SOS, PM, APC. */
	check(W, "a\033Xsos\033\\b\033^pm\033\\c\033_Gf=1;x\033\\d", "abcd");
}

static void
test_csi_requests(void **state)
{
	static const char *const requests[] = {
		"\033[c", "\033[0c", "\033[>c", "\033[>0c", "\033[=c",
		"\033[5n", "\033[6n", "\033[?6n", "\033[?15n", "\033[?996n",
		"\033[>4n", "\033[2$p", "\033[?2026$p", "\033[14t", "\033[18t",
		"\033[21t", "\033[20t", "\033[11t", "\033[13;2t", "\033[19t",
		"\033[8;100;200t", "\033[3;0;0t", "\033[2t", "\033[9;1t",
		"\033[>2t", "\033[?0t", "\033[>q", "\033[>0q", "\033[x",
		"\033[1x", "\033[?u", "\033[>1u", "\033[=1;1u", "\033[1$u",
		"\033[&u", "\033[?4m", "\033[>4;2m", "\033[>4;3m", "\033[?1;1;0S",
		"\033[1;1;1;1;1;1*y", "\033[1$w", "\033[\"v", "\033[1'|",
		"\033[1;1;1;1#|", "\033[1 t", "\033[?!$p", "\033[1 !q", "\033[:22t",
		"\033[2:22t", NULL
	};
	char	in[64];
	size_t	i;

	for (i = 0; requests[i] != NULL; i++) {
		snprintf(in, sizeof(in), "<%s>", requests[i]);
		check(W, in, "<>");
		pass(A, in);
	}
	/* What passes beside them. */
	pass(W, "\033[22;0;0t\033[23;2t\033[22:1t\033[2 q\033[1\"q\033[1q\033[1*x");
	pass(W, "\033[!p\033[61;1\"p\033[>1p\033[#p\033[u\033[s\033[1'z");
}

static void
test_esc_dropped(void **state)
{
	check(W, "a\033Zb", "ab");		/* DECID */
	pass(A, "a\033Zb");
	check(W, "a\033%Gb\033%@c", "abc");	/* leaving UTF-8 */
	check(A, "a\033%Gb\033%@c", "abc");
	check(W, "a\033\\b", "ab");		/* ST without a string */
	check(W, "a\005b", "ab");		/* ENQ: the answerback */
	check(W, "\033[1\005m", "\033[1m");
}

/* ---- how sequences end ---- */

static void
test_incomplete(void **state)
{
	check(W, "abc\033", "abc");
	check(W, "abc\033[1;3", "abc");
	check(W, "abc\033]0;title", "abc");
	check(W, "abc\033]8;;http://x/\033", "abc");
	check(W, "abc\033(", "abc");
	check(W, "abc\xe2\x82", "abc");
	check(A, "abc\033[1;3", "abc");
	check(A, "abc\033]5", "abc");
	check(A, "abc\033]52;c;eA==", "abc");
}

static void
test_cancel(void **state)
{
	check(W, "\033]0;t\030x", "x");
	check(W, "\033]0;t\032x", "x");
	check(W, "\033[1\030mx", "mx");
	check(W, "\033(\030Bx", "Bx");
	check(W, "\033]5\030x", "x");
	check(A, "\033]5\030x", "x");
	/* A streamed string is cancelled for the terminal too, and ends. */
	check(A, "\033P$qm\030x", "\033P$qm\030\033\\x");
	check(A, "\033]8;;x\032y", "\033]8;;x\032\033\\y");
	check(A, "\033]52;c;eA==\030x", "x");
}

static void
test_esc_in_string(void **state)
{
	/* Cut short by the next sequence: dropped; that one is read. */
	check(W, "\033]0;t\033[1mx", "\033[1mx");
	check(W, "\033]0;t\033\033[1mx", "\033[1mx");
	check(W, "\033P=1s\033[1m", "\033[1m");
	check(W, "\033]8;;u\033]52;c;eA==\007x", "x");
	/* For a writer, the string streamed so far is ended there. */
	check(A, "\033]8;;u\033[1mx", "\033]8;;u\033\\\033[1mx");
	check(A, "\033]8;;u\033]52;c;eA==\007x", "\033]8;;u\033\\x");
	check(A, "\033Ptmux;\033\033]52;c;eA==\007\033\\",
	    "\033Ptmux;\033\\");
	check(A, "\033Ptmux;\033\033[1m\033\\", "\033Ptmux;\033\\\033[1m");
	/* ESC starts over in ESC and CSI states. */
	check(W, "\033(\033[2J", "\033[2J");
	check(W, "\033[1;\033[2J", "\033[2J");
}

static void
test_controls_inside(void **state)
{
	/* Acted on where they stand, as terminals do: before the rest. */
	check(W, "\033[1\r\nm", "\r\n\033[1m");
	check(W, "\033(\nB", "\n\033(B");
	check(W, "\033[1\177m", "\033[1m");
	/* Not ASCII inside a CSI: malformed, dropped to its end. */
	check(W, "\033[1\xc3\xa9mx", "x");
	check(A, "\033[1\xc3\xa9mx", "x");
	/* A parameter after an intermediate, a late private marker. */
	check(W, "\033[1$2px\033[1?hy", "xy");
	/* A character cancels ESC and is text. */
	check(W, "\033\xc3\xa9", "\xc3\xa9");
}

static void
test_overlong(void **state)
{
	char	*in, *want;
	size_t	 n, i;

	in = malloc(3 * TERMFILTER_HOLD);
	want = malloc(3 * TERMFILTER_HOLD);
	/* An OSC 8 of exactly TERMFILTER_HOLD bytes (BEL aside) passes. */
	n = (size_t)snprintf(in, 3 * TERMFILTER_HOLD, "\033]8;;");
	while (n < TERMFILTER_HOLD)
		in[n++] = 'u';
	in[n++] = '\007';
	in[n] = '\0';
	pass(W, in);
	/* One more byte and it is dropped; what follows is not. */
	in[n - 1] = 'u';
	in[n++] = '\033';
	in[n++] = '\\';
	memcpy(in + n, "after", 6);
	check(W, in, "after");
	/* A writer streams it: a long OSC 8 or DCS passes whole. */
	pass(A, in);
	in[3] = '2';		/* ESC ] 82 ... */
	in[2] = '5';		/* ESC ] 52 ... */
	check(A, in, "after");
	/* An overlong CSI, in both modes. */
	n = (size_t)snprintf(in, 3 * TERMFILTER_HOLD, "\033[");
	for (i = 0; i < TERMFILTER_HOLD; i++)
		in[n++] = i % 2 ? ';' : '1';
	memcpy(in + n, "mok", 4);
	check(W, in, "ok");
	check(A, in, "ok");
	/* Leading zeros do not make 52 look like something else. */
	n = (size_t)snprintf(in, 3 * TERMFILTER_HOLD, "\033]");
	for (i = 0; i < 2 * TERMFILTER_HOLD; i++)
		in[n++] = '0';
	memcpy(in + n, "52;c;eA==\007ok", 13);
	check(A, in, "ok");
	check(W, in, "ok");
	free(in);
	free(want);
}

/* ---- the stream is UTF-8 ---- */

static void
test_c1_and_utf8(void **state)
{
	/* Raw C1 bytes: dropped, what follows is text. */
	check(W, "\x9b" "31m", "31m");
	check(W, "\x9d" "52;c;eA==\007", "52;c;eA==\007");
	check(A, "\x9d" "52;c;eA==\x9c", "52;c;eA==");
	check(W, "\x90$qm\x9c", "$qm");
	/* C1 controls as UTF-8 (U+0080-U+009F). */
	check(W, "\xc2\x9b" "31m\xc2\x9d" "52\xc2\x9c", "31m52");
	check(A, "\xc2\x9d" "52;c;eA==\007", "52;c;eA==\007");
	pass(W, "\xc2\xa0\xc2\xbf");
	/* Invalid UTF-8: a lone start, overlong, surrogate, out of range. */
	check(W, "a\xc3" "b\xc0\x80" "c\xed\xa0\x80" "d\xf5\x80" "e\xff",
	    "abcde");
	check(W, "\xe2\x82" "A\xe2\x82\xe2\x82\xac", "A\xe2\x82\xac");
	check(A, "\xf0\x9f\x98" "x", "x");
	/* Inside an OSC that passes, and one that does not. */
	check(W, "\033]0;a\x9c" "b\xc2\x9d" "c\007", "\033]0;abc\007");
	check(A, "\033]0;a\x9c" "b\007", "\033]0;ab\007");
	check(A, "\033]8;;\x9c\x9d" "52;c;eA==\007", "\033]8;;52;c;eA==\007");
}

/* ---- a writer ---- */

static void
test_writer(void **state)
{
	check(A, "a\033]52;c;aGVsbG8=\007b", "ab");
	check(A, "a\033]52;c;aGVsbG8=\033\\b", "ab");
	check(A, "a\033]52;c;?\033\\b", "ab");
	check(A, "a\033]052;p;eA==\007b", "ab");
	check(A, "a\033]52\007b", "ab");
	check(A, "\033]5\n2;c;eA==\007x", "x");
	check(A, "\033]4294967348;c;eA==\007x", "x");
	check(A, "\033]65536;x\007y", "y");
	/* The rest of what a watcher does not get, a writer does. */
	pass(A, "\033]50;fixed\007\033]777;notify;a;b\007\033]l t\033\\");
	pass(A, "\033P$qm\033\\\033P+q544e\033\\\033Pq#0!9~\033\\");
	pass(A, "\033[21t\033[6n\033[c\033[>q\033[?u\033[>4;2m");
	pass(A, "\033_Gf=1;x\033\\\033Xs\033\\\033^p\033\\");
	pass(A, "\033]65535;x\007");
	pass(A, "\033]51;x\007\033]5;0;red\007\033]520;x\007");
}

static void
test_writer_end(void **state)
{
	/* A string streamed to the end of the stream is closed with ST. */
	check(A, "\033Pq#0;2;0;0;0#0!10~", "\033Pq#0;2;0;0;0#0!10~\033\\");
	check(A, "\033]8;;http://x/", "\033]8;;http://x/\033\\");
	check(A, "\033]8;;http://x/\033", "\033]8;;http://x/\033\\");
	/* Held, it is only dropped. */
	check(A, "\033]8", "");
}

static void
test_none(void **state)
{
	static const char in[] = "\033]52;c;eA==\007\x9b\033[21t\033P$qm";
	struct termfilter	*tf = termfilter_new(TERMFILTER_NONE);
	char			 out[sizeof(in) + TERMFILTER_SLACK];

	assert_int_equal(termfilter_mode(tf), TERMFILTER_NONE);
	assert_int_equal(termfilter_feed(tf, in, sizeof(in) - 1, out),
	    sizeof(in) - 1);
	assert_memory_equal(out, in, sizeof(in) - 1);
	assert_int_equal(termfilter_end(tf, out), 0);
	termfilter_free(tf);
}

/* The filter after end() is at the start of a stream again. */
static void
test_end_resets(void **state)
{
	struct termfilter	*tf = termfilter_new(W);
	char			 out[64 + TERMFILTER_SLACK];
	size_t			 n;

	assert_int_equal(termfilter_mode(tf), W);
	n = termfilter_feed(tf, "x\033]0;tit", 8, out);
	assert_int_equal(n, 1);
	assert_int_equal(termfilter_end(tf, out), 0);
	n = termfilter_feed(tf, "le\007y", 4, out);
	assert_int_equal(n, 4);
	assert_memory_equal(out, "le\007y", 4);
	termfilter_free(tf);
}

/*
 * The output bound: what was held goes out with the next bytes, and
 * streamed strings cut short one after another double the stream.
 */
static void
test_bound(void **state)
{
	struct termfilter	*tf = termfilter_new(W);
	unsigned char		*in, *out;
	size_t			 n, held = TERMFILTER_HOLD - 1, i;

	in = malloc(held + 8);
	out = malloc(TERMFILTER_OUT_MAX(held + 8));
	memcpy(in, "\033]0;", 4);
	memset(in + 4, 'x', held - 4 - 3);
	memcpy(in + held - 3, "\xe2\x82", 2);	/* and half a character */
	assert_int_equal(termfilter_feed(tf, in, held - 1, out), 0);
	in[0] = 0xac;
	in[1] = '\007';
	n = termfilter_feed(tf, in, 2, out);
	assert_int_equal(n, held + 1);
	assert_true(n <= TERMFILTER_OUT_MAX(2));
	assert_memory_equal(out + held - 3, "\xe2\x82\xac\007", 4);
	termfilter_free(tf);

	tf = termfilter_new(A);
	for (i = 0; i + 2 <= held; i += 2)
		memcpy(in + i, "\033P", 2);
	n = termfilter_feed(tf, in, i, out);
	assert_int_equal(n, 2 * i - 2);
	assert_true(n <= TERMFILTER_OUT_MAX(i));
	assert_int_equal(termfilter_end(tf, out + n), 2);
	termfilter_free(tf);
	free(in);
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_tmux_output),
		cmocka_unit_test(test_osc_allowed),
		cmocka_unit_test(test_osc_dropped),
		cmocka_unit_test(test_dcs_dropped),
		cmocka_unit_test(test_csi_requests),
		cmocka_unit_test(test_esc_dropped),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_esc_in_string),
		cmocka_unit_test(test_controls_inside),
		cmocka_unit_test(test_overlong),
		cmocka_unit_test(test_c1_and_utf8),
		cmocka_unit_test(test_writer),
		cmocka_unit_test(test_writer_end),
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_end_resets),
		cmocka_unit_test(test_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
