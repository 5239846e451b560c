/*
 * termfilter.c — the filter between a tmux session and the terminal of
 * its watcher, its writer, or the auditor replaying it (termfilter.h).
 *
 * The parser is the one terminals use (Paul Williams' DEC VT500 state
 * machine, as xterm and tmux implement it), reduced to what a filter
 * needs: where a sequence starts and ends, and which one it is.  Its
 * output is only ever ground text and whole sequences it has parsed, so
 * that a terminal reading it is in its ground state between any two of
 * them and cannot be led to read a sequence the filter did not see:
 *
 *  - a sequence is held until its fate is known: whole in
 *    TERMFILTER_WATCH (passed at its end, or dropped), up to its kind (an
 *    OSC's number) in TERMFILTER_WRITER, where a string that passes is
 *    then streamed; one that is dropped is not kept at all;
 *  - a string (OSC, DCS, SOS, PM, APC) ends with ST (ESC \) or, an OSC,
 *    BEL.  ESC followed by anything else, CAN or SUB cut it short: a
 *    held one is dropped; a streamed one is closed with ST there (after
 *    the CAN or SUB, which cancels it in the terminals that cancel), as
 *    at the end of the stream, because terminals do not agree on what
 *    else ends a string (tmux ends a DCS only with ST).  The output
 *    never holds two ESCs in a row, so a terminal that takes ESC ESC
 *    within a string for one ESC (tmux's passthrough) cannot find in it
 *    a sequence the filter did not pass;
 *  - ESC within ESC or CSI starts over; CAN and SUB cancel; other C0
 *    controls are acted on where they stand, as terminals do; in an OSC
 *    they are ignored, as terminals ignore them, and in a DCS they are
 *    its content (streamed, or, held, not tmux's);
 *  - only valid UTF-8 passes, never a C1 control (U+0080-U+009F), so the
 *    bytes 0x80-0x9F reach the terminal only inside a character: a
 *    terminal that decodes UTF-8 sees no 8-bit CSI, OSC, DCS or ST.
 *    ESC % (leave UTF-8) is dropped so that one stays decoding.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/termfilter.h"
#include "gateway/xmalloc.h"
#include "util/utf8.h"

#define ENQ	0x05
#define BEL	0x07
#define CAN	0x18
#define SUB	0x1a
#define ESC	0x1b
#define DEL	0x7f

/*
 * OSC numbers are counted up to here: a larger one could wrap to 52 in
 * a terminal's arithmetic, and is taken as the clipboard.
 */
#define OSC_NUM_MAX	65536

enum state {
	S_GROUND,
	S_ESC,		/* ESC and its intermediates */
	S_CSI,
	S_OSC_NUM,	/* ESC ] and the digits of the OSC's number */
	S_OSC,		/* the rest of an OSC */
	S_STR,		/* DCS, SOS, PM or APC */
	S_STR_ESC,	/* ESC in a string: its end if '\' follows */
};

/* What becomes of the sequence being read. */
enum fate {
	F_HOLD,		/* kept in hold[] until its end (or its kind) */
	F_STREAM,	/* passing: written out as it comes */
	F_DROP,		/* dropped: nothing kept */
};

struct termfilter {
	enum termfilter_mode	 mode;
	enum state		 state;
	enum fate		 fate;
	unsigned char		 str;	/* the string's introducer: ] P X ^ _ */
	unsigned char		 inter;	/* ESC, CSI: the first intermediate */
	bool			 inters;	/* CSI: more than one */
	unsigned char		 prefix;	/* CSI: a private marker < = > ? */
	bool			 params;	/* CSI: a parameter byte seen */
	bool			 bad;	/* CSI: malformed, dropped at its end */
	bool			 digits;	/* OSC: its number has digits */
	bool			 query;	/* OSC: a '?' in it */
	unsigned		 num;	/* OSC: its number, up to OSC_NUM_MAX */
	bool			 enq;	/* ENQ passes */
	size_t			 ulen;	/* an unfinished UTF-8 character */
	unsigned char		 u8[4];
	size_t			 len;
	unsigned char		 hold[TERMFILTER_HOLD];
};

/*
 * Bytes that pass in the ground state without a second look: ASCII but
 * ESC, which starts a sequence, and, in TERMFILTER_WATCH, ENQ, which
 * asks the terminal for its answerback message.
 */
static inline bool
plain(const struct termfilter *tf, unsigned char c)
{
	return c < 0x80 && c != ESC && (c != ENQ || tf->enq);
}

struct termfilter *
termfilter_new(enum termfilter_mode mode)
{
	struct termfilter	*tf = xcalloc(1, sizeof(*tf));

	tf->mode = mode;
	tf->enq = mode != TERMFILTER_WATCH;
	tf->state = S_GROUND;
	return tf;
}

void
termfilter_free(struct termfilter *tf)
{
	free(tf);
}

enum termfilter_mode
termfilter_mode(const struct termfilter *tf)
{
	return tf->mode;
}

static void
put(unsigned char **o, const void *p, size_t n)
{
	memcpy(*o, p, n);
	*o += n;
}

static void
ground(struct termfilter *tf)
{
	tf->state = S_GROUND;
	tf->len = 0;
}

/* A new sequence: ESC, held. */
static void
begin(struct termfilter *tf)
{
	tf->state = S_ESC;
	tf->fate = F_HOLD;
	tf->hold[0] = ESC;
	tf->len = 1;
	tf->inter = tf->prefix = 0;
	tf->params = tf->bad = tf->inters = tf->digits = tf->query = false;
	tf->num = 0;
}

static void
drop(struct termfilter *tf)
{
	tf->fate = F_DROP;
	tf->len = 0;
}

/* Add to the held sequence; one that grows too long is dropped. */
static void
keep(struct termfilter *tf, const unsigned char *p, size_t n)
{
	if (tf->fate != F_HOLD)
		return;
	if (tf->len + n > TERMFILTER_HOLD) {
		drop(tf);
		return;
	}
	memcpy(tf->hold + tf->len, p, n);
	tf->len += n;
}

/* The body of a string: held, streamed or dropped. */
static void
content(struct termfilter *tf, const unsigned char *p, size_t n,
    unsigned char **o)
{
	if (tf->fate == F_STREAM)
		put(o, p, n);
	else
		keep(tf, p, n);
}

/* From here on the sequence streams: what was held goes first. */
static void
stream(struct termfilter *tf, unsigned char **o)
{
	if (tf->fate != F_HOLD)
		return;
	put(o, tf->hold, tf->len);
	tf->len = 0;
	tf->fate = F_STREAM;
}

/* A C0 control in the ground state, or acted on inside ESC or CSI. */
static void
control(struct termfilter *tf, unsigned char c, unsigned char **o)
{
	if (c != ENQ || tf->enq)
		put(o, &c, 1);
}

/* ---- strings ---- */

static bool
osc_allowed(const struct termfilter *tf)
{
	if (!tf->digits)
		return false;
	switch (tf->num) {
	case 0: case 1: case 2:		/* icon name and window title */
	case 8:				/* hyperlink */
	case 104: case 110: case 111: case 112:	/* colour resets */
		return true;
	case 4: case 10: case 11: case 12:	/* colours, but not queries */
		return !tf->query;
	}
	return false;
}

/* A string held whole (TERMFILTER_WATCH) at its end: may it pass? */
static bool
string_allowed(const struct termfilter *tf)
{
	/* tmux's synchronized update (terminfo Sync): DCS = 1 s, DCS = 2 s */
	static const unsigned char bsu[] = "\033P=1s", esu[] = "\033P=2s";

	if (tf->str == ']')
		return osc_allowed(tf);
	if (tf->str != 'P' || tf->len != sizeof(bsu) - 1)
		return false;
	return memcmp(tf->hold, bsu, tf->len) == 0 ||
	    memcmp(tf->hold, esu, tf->len) == 0;
}

/* A string properly ended by TERM (BEL or ST). */
static void
string_end(struct termfilter *tf, const char *term, size_t n,
    unsigned char **o)
{
	if (tf->fate == F_HOLD && string_allowed(tf)) {
		put(o, tf->hold, tf->len);
		put(o, term, n);
	} else if (tf->fate == F_STREAM)
		put(o, term, n);
	ground(tf);
}

/*
 * A string cut short by CAN or SUB (C), or by ESC (C is 0): held, it is
 * dropped; streamed, the terminal is made to end it here too.
 */
static void
string_cut(struct termfilter *tf, unsigned char c, unsigned char **o)
{
	if (tf->fate == F_STREAM) {
		if (c != 0)
			put(o, &c, 1);
		put(o, "\033\\", 2);
	}
	ground(tf);
}

static void
string_start(struct termfilter *tf, unsigned char c, unsigned char **o)
{
	tf->str = c;
	if (c == ']') {
		/* Its fate waits for its number. */
		tf->state = S_OSC_NUM;
		return;
	}
	tf->state = S_STR;
	if (tf->mode != TERMFILTER_WATCH)
		stream(tf, o);
	else if (c != 'P')
		drop(tf);	/* SOS, PM, APC: none is tmux's */
}

/*
 * The OSC's number is known: in TERMFILTER_WRITER the clipboard (or a
 * number that could wrap to it) is dropped and the rest streams; in
 * TERMFILTER_WATCH a number off the allow list is dropped and the rest
 * held to its end (a '?' in it makes it a query).
 */
static void
osc_decide(struct termfilter *tf, unsigned char **o)
{
	bool	clip = tf->num == 52 || tf->num >= OSC_NUM_MAX;

	tf->state = S_OSC;
	if (tf->fate != F_HOLD)
		return;
	if (tf->mode == TERMFILTER_WRITER) {
		if (clip)
			drop(tf);
		else
			stream(tf, o);
	} else if (!tf->digits || clip || !osc_allowed(tf))
		drop(tf);
}

static void
osc(struct termfilter *tf, const unsigned char *p, size_t n,
    unsigned char **o)
{
	unsigned char	c = p[0];

	if (n > 1 || (c >= 0x20 && c != DEL)) {
		if (c == '?')
			tf->query = true;
		content(tf, p, n, o);
	} else if (c == BEL)
		string_end(tf, "\a", 1, o);
	else if (c == ESC)
		tf->state = S_STR_ESC;
	else if (c == CAN || c == SUB)
		string_cut(tf, c, o);
	/* Other C0 controls and DEL: ignored in an OSC, also here. */
}

static void
osc_num(struct termfilter *tf, const unsigned char *p, size_t n,
    unsigned char **o)
{
	unsigned char	c = p[0];

	if (n == 1 && c >= '0' && c <= '9') {
		tf->digits = true;
		tf->num = tf->num * 10 + (unsigned)(c - '0');
		if (tf->num > OSC_NUM_MAX)
			tf->num = OSC_NUM_MAX;
		keep(tf, p, 1);
		return;
	}
	/*
	 * Terminals skip C0 controls in an OSC, also between its digits:
	 * "5 LF 2" is 52.  DEL too, to be sure.  Cancelled before it was
	 * anything, it is dropped.
	 */
	if (n == 1 && (c == CAN || c == SUB)) {
		ground(tf);
		return;
	}
	if (n == 1 && (c == DEL || (c < 0x20 && c != BEL && c != ESC)))
		return;
	osc_decide(tf, o);
	osc(tf, p, n, o);
}

static void
str(struct termfilter *tf, const unsigned char *p, size_t n,
    unsigned char **o)
{
	unsigned char	c = p[0];

	if (n == 1 && c == ESC) {
		tf->state = S_STR_ESC;
		return;
	}
	if (n == 1 && (c == CAN || c == SUB)) {
		string_cut(tf, c, o);
		return;
	}
	content(tf, p, n, o);
	/* Held only to be recognised as tmux's: no longer than that. */
	if (tf->fate == F_HOLD && tf->len > 5)
		drop(tf);
}

/* ---- ESC and CSI ---- */

/*
 * The first two numeric parameters of the held CSI (0 when absent),
 * each up to 65535; sub-parameters (after ':') are not counted.
 */
static void
csi_params(const struct termfilter *tf, unsigned *p1, unsigned *p2)
{
	unsigned	*v = p1;
	size_t		 i = tf->prefix != 0 ? 3 : 2;
	bool		 sub = false;

	*p1 = *p2 = 0;
	for (; i < tf->len && v != NULL; i++) {
		unsigned char c = tf->hold[i];

		if (c >= '0' && c <= '9') {
			if (!sub && (*v = *v * 10 + (unsigned)(c - '0')) > 65535)
				*v = 65535;
		} else if (c == ';') {
			v = v == p1 ? p2 : NULL;
			sub = false;
		} else if (c == ':')
			sub = true;
		else
			break;
	}
}

/*
 * May the complete CSI ending in FINAL reach a watcher?  Not the
 * requests that make a terminal answer into its input, window
 * operations, nor key protocols that would turn the escape key (a
 * control character) into a sequence.
 */
static bool
csi_allowed(const struct termfilter *tf, unsigned char final)
{
	unsigned char	pre = tf->prefix, in = tf->inter;
	unsigned	p1, p2;

	if (tf->bad)
		return false;
	if (tf->mode != TERMFILTER_WATCH)
		return true;
	if (tf->inters)
		return false;	/* none is known, none is tmux's */
	csi_params(tf, &p1, &p2);
	switch (final) {
	case 'c':	/* DA, DA2, DA3 */
	case 'n':	/* DSR, DECXCPR, ...; XTMODKEYS reset (>n) */
		return false;
	case 'p':	/* DECRQM */
		return in != '$';
	case 't':	/* XTWINOPS: only the title stack (22, 23) */
		return pre == 0 && in == 0 && (p1 == 22 || p1 == 23);
	case 'q':	/* XTVERSION */
		return pre != '>';
	case 'x':	/* DECREQTPARM */
		return pre != 0 || in != 0;
	case 'u':	/* kitty keys: query, push, set; DECRQTSR, DECRQUPSS */
		return pre != '?' && pre != '>' && pre != '=' && in != '$' &&
		    in != '&';
	case 'm':	/* XTQMODKEYS; XTMODKEYS modifyOtherKeys 2 and up */
		if (pre == '?')
			return false;
		return pre != '>' || p1 != 4 || p2 < 2;
	case 'S':	/* XTSMGRAPHICS */
		return pre != '?';
	case 'y':	/* DECRQCRA: a checksum of the screen */
		return in != '*';
	case 'w':	/* DECRQPSR */
		return in != '$';
	case 'v':	/* DECRQDE */
		return in != '"';
	case '|':	/* DECRQLP, XTREPORTSGR */
		return in != '\'' && in != '#';
	}
	return true;
}

static void
csi(struct termfilter *tf, const unsigned char *p, size_t n,
    unsigned char **o)
{
	unsigned char	c = p[0];

	if (n > 1) {
		tf->bad = true;		/* not ASCII: dropped at its end */
		return;
	}
	if (c == ESC)
		begin(tf);
	else if (c == CAN || c == SUB)
		ground(tf);
	else if (c < 0x20)
		control(tf, c, o);
	else if (c == DEL)
		;			/* ignored, as terminals do */
	else if (c < 0x30) {
		if (tf->inter != 0)
			tf->inters = true;
		else
			tf->inter = c;
		keep(tf, p, 1);
	} else if (c < 0x40) {
		/* A private marker comes first; parameters before any
		 * intermediate. */
		if (tf->inter != 0 || (c >= 0x3c && tf->params))
			tf->bad = true;
		else if (c >= 0x3c && tf->len == 2)
			tf->prefix = c;
		tf->params = true;
		keep(tf, p, 1);
	} else {
		keep(tf, p, 1);
		if (tf->fate == F_HOLD && csi_allowed(tf, c))
			put(o, tf->hold, tf->len);
		ground(tf);
	}
}

/* ESC and its intermediates, then a final byte. */
static void
esc(struct termfilter *tf, const unsigned char *p, size_t n,
    unsigned char **o)
{
	unsigned char	c = p[0];
	bool		pass = true;

	if (c == ESC && n == 1) {
		begin(tf);		/* the first one is dropped */
		return;
	}
	if (n > 1 || c == CAN || c == SUB) {
		ground(tf);		/* cancelled; a character is text */
		if (n > 1)
			put(o, p, n);
		return;
	}
	if (c < 0x20) {
		control(tf, c, o);
		return;
	}
	if (c == DEL)
		return;
	if (c < 0x30) {
		if (tf->inter == 0)
			tf->inter = c;
		keep(tf, p, 1);
		return;
	}
	if (tf->inter == 0) {
		switch (c) {
		case '[':
			keep(tf, p, 1);
			tf->state = S_CSI;
			return;
		case ']': case 'P': case 'X': case '^': case '_':
			keep(tf, p, 1);
			string_start(tf, c, o);
			return;
		case '\\':	/* ST with no string: nothing to end */
			pass = false;
			break;
		case 'Z':	/* DECID: the terminal answers */
			pass = tf->mode != TERMFILTER_WATCH;
			break;
		}
	} else if (tf->inter == '%')
		pass = false;	/* out of UTF-8, into 8-bit C1 controls */
	keep(tf, p, 1);
	if (pass && tf->fate == F_HOLD)
		put(o, tf->hold, tf->len);
	ground(tf);
}

/* ---- the stream ---- */

/*
 * One ASCII byte (N = 1) or one whole, valid UTF-8 character that is
 * not a C1 control (N = 2 to 4).
 */
static void
unit(struct termfilter *tf, const unsigned char *p, size_t n,
    unsigned char **o)
{
	unsigned char	c = p[0];

	switch (tf->state) {
	case S_GROUND:
		if (n == 1 && c == ESC)
			begin(tf);
		else if (n == 1 && c < 0x20)
			control(tf, c, o);
		else
			put(o, p, n);
		break;
	case S_ESC:
		esc(tf, p, n, o);
		break;
	case S_CSI:
		csi(tf, p, n, o);
		break;
	case S_OSC_NUM:
		osc_num(tf, p, n, o);
		break;
	case S_OSC:
		osc(tf, p, n, o);
		break;
	case S_STR:
		str(tf, p, n, o);
		break;
	case S_STR_ESC:
		if (n == 1 && c == '\\') {
			string_end(tf, "\033\\", 2, o);
			break;
		}
		/* Cut short by the next sequence, which this ESC starts. */
		string_cut(tf, 0, o);
		begin(tf);
		esc(tf, p, n, o);
		break;
	}
}

/*
 * A byte that is not ASCII, or follows the start of a character: only a
 * whole, valid character goes on, and never a C1 control.
 */
static void
multibyte(struct termfilter *tf, unsigned char c, unsigned char **o)
{
	uint32_t	cp;
	size_t		n;
	int		r;

	for (;;) {
		tf->u8[tf->ulen++] = c;
		r = utf8_decode(tf->u8, tf->ulen, &cp);
		if (r == UTF8_SHORT)
			return;
		n = tf->ulen;
		tf->ulen = 0;
		if (r != UTF8_BAD) {
			if (cp > 0x9f)
				unit(tf, tf->u8, n, o);
			return;
		}
		if (n == 1)
			return;		/* a byte that starts nothing */
		/* A character cut short: dropped; C is looked at anew. */
		if (c < 0x80) {
			unit(tf, &c, 1, o);
			return;
		}
	}
}

/*
 * How far from S the ground state goes on without a second look: ASCII
 * that passes, and whole characters that are not C1 controls.
 */
static const unsigned char *
plain_run(const struct termfilter *tf, const unsigned char *s,
    const unsigned char *end)
{
	uint32_t	cp;
	int		r;

	while (s < end) {
		if (plain(tf, *s))
			s++;
		else if (*s >= 0xc2 && (r = utf8_decode(s, (size_t)(end - s),
		    &cp)) > 1 && cp > 0x9f)
			s += r;
		else
			break;
	}
	return s;
}

/*
 * How far from S the parameters of a held CSI go on (digits, ';', ':'
 * before any intermediate), kept as they come.
 */
static const unsigned char *
csi_run(struct termfilter *tf, const unsigned char *s,
    const unsigned char *end)
{
	const unsigned char	*p = s;

	if (tf->fate != F_HOLD || tf->inter != 0)
		return s;
	while (p < end && *p >= '0' && *p <= ';' &&
	    tf->len + (size_t)(p - s) < TERMFILTER_HOLD)
		p++;
	if (p > s) {
		memcpy(tf->hold + tf->len, s, (size_t)(p - s));
		tf->len += (size_t)(p - s);
		tf->params = true;
	}
	return p;
}

size_t
termfilter_feed(struct termfilter *tf, const void *in, size_t n, void *out)
{
	const unsigned char	*s = in, *end = s + n, *p;
	unsigned char		*o = out;

	if (tf->mode == TERMFILTER_NONE) {
		memcpy(out, in, n);
		return n;
	}
	while (s < end) {
		if (tf->ulen == 0 && tf->state == S_GROUND) {
			if ((p = plain_run(tf, s, end)) > s) {
				put(&o, s, (size_t)(p - s));
				s = p;
				continue;
			}
		} else if (tf->ulen == 0 && tf->state == S_CSI) {
			if ((p = csi_run(tf, s, end)) > s) {
				s = p;
				continue;
			}
		}
		if (*s >= 0x80 || tf->ulen > 0)
			multibyte(tf, *s, &o);
		else
			unit(tf, s, 1, &o);
		s++;
	}
	return (size_t)(o - (unsigned char *)out);
}

size_t
termfilter_end(struct termfilter *tf, void *out)
{
	unsigned char	*o = out;

	/* Streamed, a string has begun for the terminal: end it. */
	if (tf->state == S_OSC || tf->state == S_STR || tf->state == S_STR_ESC)
		string_cut(tf, 0, &o);
	ground(tf);
	tf->ulen = 0;
	return (size_t)(o - (unsigned char *)out);
}
