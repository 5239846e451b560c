/*
 * termfilter.h — what a tmux session may send to the terminal of the
 * user who watches it, attaches to it, or replays its recording.
 *
 * The bytes a tmux client writes to its terminal are, in the end, the
 * watched user's to choose: tmux's own shields (set-clipboard,
 * allow-passthrough, set-titles) are options of a server that belongs to
 * that user.  This filter stands between the session and the user's
 * terminal, after the recording (which keeps the original bytes), and is
 * a pure streaming state machine: no I/O, a sequence split across reads
 * is handled as if it came in one piece, and at most TERMFILTER_HOLD
 * bytes of an unfinished sequence are held (plus the 3 bytes of an
 * unfinished UTF-8 character).
 *
 * TERMFILTER_WATCH (a watcher, `muxgate replay`): escape sequences are
 * passed only when complete, well formed and harmless; dropped are
 * every OSC not on a short allow list (0, 1, 2 titles; 4, 10, 11, 12,
 * 104, 110, 111, 112 colours, without '?' queries; 8 hyperlinks), every
 * DCS but tmux's synchronized-update pair, SOS, PM and APC strings, the
 * requests that make a terminal answer (DA, DSR, DECRQM, XTVERSION,
 * XTWINOPS reports, DECREQTPARM, DECRQCRA, ...), window operations,
 * key-protocol changes that would take the escape key away, ENQ and
 * DECID, and any sequence longer than TERMFILTER_HOLD, cancelled (CAN,
 * SUB) or cut short by the end of the stream.
 *
 * TERMFILTER_WRITER (a read-write attach): only OSC 52 (the clipboard)
 * is dropped, with what could be made to stand for it (an OSC number
 * that overflows, C1 forms, a switch out of UTF-8); everything else
 * passes, strings streamed as they come (and closed with ST when cut
 * short, so that the terminal leaves them where the filter does).
 *
 * In both modes the stream is taken as UTF-8 (tmux writes UTF-8 or
 * ASCII to its client): bytes that are not valid UTF-8 and the C1
 * control characters U+0080-U+009F are dropped, so that no terminal
 * that acts on 8-bit C1 controls (0x9B CSI, 0x9D OSC, 0x90 DCS, 0x9C ST)
 * can see one; escape sequences are recognised in their 7-bit forms
 * only.  docs/threat-model.md says what remains.
 */
#ifndef MUXGATE_TERMFILTER_H
#define MUXGATE_TERMFILTER_H

#include <stddef.h>

/*
 * The zero value is the full filter: relay options that forget to say
 * filter, they do not pass everything.
 */
enum termfilter_mode {
	TERMFILTER_WATCH = 0,	/* a watcher and replay: the full filter */
	TERMFILTER_WRITER,	/* an attach: OSC 52 only */
	TERMFILTER_NONE,	/* gateway.allow_clipboard: nothing filtered */
};

/* The longest sequence held whole; a longer one is dropped. */
#define TERMFILTER_HOLD		4096
/*
 * The most termfilter_feed() of N bytes writes: what was held from
 * before (a sequence, an unfinished character) may go out with them,
 * and a streamed string cut short (at least 3 bytes: ESC, its
 * introducer and what cuts it) gets an ST of 2.
 */
#define TERMFILTER_SLACK	(TERMFILTER_HOLD + 8)
#define TERMFILTER_OUT_MAX(n)	(2 * (n) + TERMFILTER_SLACK)

struct termfilter;

/* A filter at the start of a stream (ground state); never NULL. */
struct termfilter	*termfilter_new(enum termfilter_mode);
void			 termfilter_free(struct termfilter *);
enum termfilter_mode	 termfilter_mode(const struct termfilter *);

/*
 * Filter the next N bytes of the stream into OUT, which has room for
 * TERMFILTER_OUT_MAX(N) bytes; returns how many were written.  Bytes of
 * an unfinished sequence are held for the next call.
 */
size_t	termfilter_feed(struct termfilter *, const void *in, size_t n,
	    void *out);

/*
 * The end of the stream: what is held is dropped, and a string that was
 * being streamed (TERMFILTER_WRITER) is closed with ST so that the
 * terminal leaves it.  Writes at most TERMFILTER_SLACK bytes into OUT;
 * returns how many.  The filter is back in its ground state.
 */
size_t	termfilter_end(struct termfilter *, void *out);

#endif
