/*
 * secretmask.c — password prompts found on a model of the screen, and
 * the keystrokes that answer them.
 *
 * What the user's terminal receives from the tmux client is not a
 * stream of lines: tmux draws with cursor addressing, and redraws its
 * status line (a new window name, the clock) between a program's prompt
 * and the first key typed at it, moving the cursor away and back.  The
 * last line of output is therefore the cursor's row, left of the cursor,
 * as a terminal would show it; so the model is a small terminal: the
 * cursor, the scroll region, and the characters of each row.  It knows
 * the sequences that move the cursor, write, erase, insert, delete and
 * scroll (those tmux sends, and xterm's other common ones), and passes
 * over every other sequence, OSC, DCS and the like included.
 */
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/secretmask.h"
#include "gateway/xmalloc.h"
#include "util/utf8.h"

#define COLS		SECRETMASK_COLS
#define ROWS		SECRETMASK_ROWS
#define WIDE_RIGHT	UINT32_MAX	/* the right half of a wide character */
#define NPARAM		16
#define PARAM_MAX	65535

struct row {
	uint64_t	 stamp;		/* new whenever a cell changes */
	unsigned	 len;		/* the cells from LEN on are blank */
	uint32_t	 cell[COLS];	/* code points, 0 for blank */
};

enum pstate {
	P_GROUND,
	P_ESC,		/* after ESC */
	P_ESC_INTER,	/* ESC and an intermediate: ESC ( B, ESC # 8 */
	P_CSI,
	P_STRING,	/* OSC, DCS, APC, PM, SOS: up to BEL or ESC */
};

struct secretmask {
	enum secretmask_mode	 mode;
	regex_t			*re;
	size_t			 nre;
	/* The screen. */
	unsigned		 cols, rows;
	unsigned		 x, y;		/* the cursor, from 0 */
	bool			 wrapnext;	/* past the right margin */
	bool			 autowrap;
	unsigned		 top, bot;	/* the scroll region, inclusive */
	unsigned		 saved_x, saved_y;
	struct row		*row[ROWS];	/* NULL: blank */
	uint64_t		 stamp;
	uint32_t		 last;		/* the last character, for REP */
	unsigned		 lastw;
	/* The parser. */
	enum pstate		 st;
	unsigned		 param[NPARAM];
	unsigned		 nparam;
	unsigned char		 priv;		/* '?', '>', ... or 0 */
	bool			 inter;		/* a CSI with intermediates */
	unsigned char		 utf[4];	/* a character not yet whole */
	size_t			 nutf;
	/* The input. */
	bool			 masking;
	unsigned		 cont;		/* UTF-8 continuation bytes due */
	/*
	 * The prompt answered last, as it was when its answer began: the
	 * cursor's row and column and that row's stamp.  Until the screen
	 * changes there, it is not a new prompt.
	 */
	bool			 answered;
	unsigned		 answered_y, answered_x;
	uint64_t		 answered_stamp;
};

static void	byte(struct secretmask *, unsigned char);

/* ---- the screen ---- */

static unsigned
min_u(unsigned a, unsigned b)
{
	return a < b ? a : b;
}

/* Row Y to write to, or NULL when the model does not keep it. */
static struct row *
row_w(struct secretmask *m, unsigned y)
{
	if (y >= ROWS)
		return NULL;
	if (m->row[y] == NULL)
		m->row[y] = xcalloc(1, sizeof(*m->row[y]));
	return m->row[y];
}

/* Blank the cells [A, B) of row Y. */
static void
erase(struct secretmask *m, unsigned y, unsigned a, unsigned b)
{
	struct row	*r = y < ROWS ? m->row[y] : NULL;

	if (r == NULL || a >= r->len)
		return;
	if (b >= r->len) {
		b = r->len;
		r->len = a;
	}
	if (a < b)
		memset(r->cell + a, 0, (b - a) * sizeof(r->cell[0]));
	r->stamp = ++m->stamp;
}

static void
clear_row(struct secretmask *m, unsigned y)
{
	erase(m, y, 0, COLS);
}

static void
clear_rows(struct secretmask *m, unsigned from, unsigned to)
{
	for (; from < to && from < ROWS; from++)
		clear_row(m, from);
}

/*
 * Scroll the rows [TOP, BOT] by N, UP or down; the rows that come in are
 * blank.  Rows the model does not keep come in blank too.
 */
static void
scroll(struct secretmask *m, unsigned top, unsigned bot, unsigned n, bool up)
{
	struct row	*moved[ROWS];
	unsigned	 span, first;

	if (bot >= ROWS)
		bot = ROWS - 1;
	if (top > bot || n == 0)
		return;
	span = bot - top + 1;
	if (n > span)
		n = span;
	if (up) {
		memcpy(moved, m->row + top, n * sizeof(moved[0]));
		memmove(m->row + top, m->row + top + n,
		    (span - n) * sizeof(moved[0]));
		first = bot + 1 - n;
	} else {
		memcpy(moved, m->row + bot + 1 - n, n * sizeof(moved[0]));
		memmove(m->row + top + n, m->row + top,
		    (span - n) * sizeof(moved[0]));
		first = top;
	}
	memcpy(m->row + first, moved, n * sizeof(moved[0]));
	clear_rows(m, first, first + n);
}

static void
linefeed(struct secretmask *m)
{
	m->wrapnext = false;
	if (m->y == m->bot)
		scroll(m, m->top, m->bot, 1, true);
	else if (m->y + 1 < m->rows)
		m->y++;
}

static void
reverse_index(struct secretmask *m)
{
	m->wrapnext = false;
	if (m->y == m->top)
		scroll(m, m->top, m->bot, 1, false);
	else if (m->y > 0)
		m->y--;
}

static void
move_to(struct secretmask *m, unsigned x, unsigned y)
{
	m->x = min_u(x, m->cols - 1);
	m->y = min_u(y, m->rows - 1);
	m->wrapnext = false;
}

static void
reset(struct secretmask *m)
{
	clear_rows(m, 0, ROWS);
	m->x = m->y = m->saved_x = m->saved_y = 0;
	m->top = 0;
	m->bot = m->rows - 1;
	m->wrapnext = false;
	m->autowrap = true;
	m->last = 0;
}

/* How many columns a character takes; 0 for those that take none. */
static unsigned
width(uint32_t cp)
{
	/* Ranges of East Asian wide characters and of emoji. */
	static const uint32_t wide[][2] = {
		{ 0x1100, 0x115f }, { 0x2e80, 0x303e }, { 0x3041, 0x33ff },
		{ 0x3400, 0x4dbf }, { 0x4e00, 0x9fff }, { 0xa000, 0xa4cf },
		{ 0xac00, 0xd7a3 }, { 0xf900, 0xfaff }, { 0xfe30, 0xfe4f },
		{ 0xff00, 0xff60 }, { 0xffe0, 0xffe6 }, { 0x1f300, 0x1f64f },
		{ 0x1f900, 0x1f9ff }, { 0x20000, 0x3fffd },
	};
	/* Combining marks, zero-width spaces and joiners, selectors. */
	static const uint32_t none[][2] = {
		{ 0x0300, 0x036f }, { 0x1ab0, 0x1aff }, { 0x1dc0, 0x1dff },
		{ 0x200b, 0x200f }, { 0x20d0, 0x20ff }, { 0xfe00, 0xfe0f },
		{ 0xfe20, 0xfe2f },
	};
	size_t	i;

	if (cp < 0xa0)
		return cp >= 0x20 && cp < 0x7f;	/* C1 controls: none */
	for (i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		if (cp >= none[i][0] && cp <= none[i][1])
			return 0;
	for (i = 0; i < sizeof(wide) / sizeof(wide[0]); i++)
		if (cp >= wide[i][0] && cp <= wide[i][1])
			return 2;
	return 1;
}

/* Write one character of W columns at the cursor, as a terminal does. */
static void
put(struct secretmask *m, uint32_t cp, unsigned w)
{
	struct row	*r;

	if (m->wrapnext) {
		m->wrapnext = false;
		m->x = 0;
		linefeed(m);
	}
	if (w == 2 && m->x + 1 >= m->cols) {
		if (!m->autowrap || m->cols < 2)
			w = 1;
		else {
			m->x = 0;
			linefeed(m);
		}
	}
	if (m->x < COLS && (r = row_w(m, m->y)) != NULL) {
		r->cell[m->x] = cp;
		if (w == 2 && m->x + 1 < COLS)
			r->cell[m->x + 1] = WIDE_RIGHT;
		if (m->x + w > r->len)
			r->len = min_u(m->x + w, COLS);
		r->stamp = ++m->stamp;
	}
	m->last = cp;
	m->lastw = w;
	if (m->x + w >= m->cols) {
		m->x = m->cols - 1;
		m->wrapnext = m->autowrap;
	} else
		m->x += w;
}

/* A run of printable ASCII: most of what a session prints. */
static void
put_ascii(struct secretmask *m, const unsigned char *p, size_t n)
{
	struct row	*r;
	unsigned	 k, i, c;

	while (n > 0) {
		if (m->wrapnext || m->x + 1 >= m->cols) {
			put(m, *p++, 1);
			n--;
			continue;
		}
		/* Up to the last column, where wrapping begins. */
		k = (unsigned)(n < m->cols - 1 - m->x ? n : m->cols - 1 - m->x);
		if (m->x < COLS && (r = row_w(m, m->y)) != NULL) {
			c = min_u(k, COLS - m->x);
			for (i = 0; i < c; i++)
				r->cell[m->x + i] = p[i];
			if (m->x + c > r->len)
				r->len = m->x + c;
			r->stamp = ++m->stamp;
		}
		m->last = p[k - 1];
		m->lastw = 1;
		m->x += k;
		p += k;
		n -= k;
	}
}

static void
tab(struct secretmask *m, unsigned n, bool forward)
{
	m->wrapnext = false;
	while (n-- > 0) {
		if (forward)
			m->x = min_u((m->x / 8 + 1) * 8, m->cols - 1);
		else
			m->x = m->x == 0 ? 0 : (m->x - 1) / 8 * 8;
	}
}

/* Delete N cells at the cursor; the rest of the row moves left. */
static void
delete_chars(struct secretmask *m, unsigned n)
{
	struct row	*r = m->y < ROWS ? m->row[m->y] : NULL;
	unsigned	 x = m->x;

	if (r == NULL || x >= r->len)
		return;
	if (n >= r->len - x) {
		erase(m, m->y, x, COLS);
		return;
	}
	memmove(r->cell + x, r->cell + x + n,
	    (r->len - x - n) * sizeof(r->cell[0]));
	memset(r->cell + r->len - n, 0, n * sizeof(r->cell[0]));
	r->len -= n;
	r->stamp = ++m->stamp;
}

/* Insert N blank cells at the cursor; the rest moves right, and off. */
static void
insert_chars(struct secretmask *m, unsigned n)
{
	struct row	*r = m->y < ROWS ? m->row[m->y] : NULL;
	unsigned	 x = m->x, end = min_u(m->cols, COLS), keep;

	if (r == NULL || x >= r->len || x >= end)
		return;
	if (n >= end - x) {
		erase(m, m->y, x, COLS);
		return;
	}
	/* Cells [X, KEEP) move to [X + N, KEEP + N). */
	keep = min_u(r->len, end - n);
	if (keep > x)
		memmove(r->cell + x + n, r->cell + x,
		    (keep - x) * sizeof(r->cell[0]));
	memset(r->cell + x, 0, n * sizeof(r->cell[0]));
	if (r->len > keep + n)
		memset(r->cell + keep + n, 0,
		    (r->len - keep - n) * sizeof(r->cell[0]));
	r->len = keep + n;
	r->stamp = ++m->stamp;
}

static void
erase_display(struct secretmask *m, unsigned how)
{
	switch (how) {
	case 0:
		erase(m, m->y, m->x, COLS);
		clear_rows(m, m->y + 1, ROWS);
		break;
	case 1:
		clear_rows(m, 0, m->y);
		erase(m, m->y, 0, m->x + 1);
		break;
	case 2:
	case 3:
		clear_rows(m, 0, ROWS);
		break;
	}
}

static void
erase_line(struct secretmask *m, unsigned how)
{
	switch (how) {
	case 0: erase(m, m->y, m->x, COLS); break;
	case 1: erase(m, m->y, 0, m->x + 1); break;
	case 2: clear_row(m, m->y); break;
	}
}

/* ---- the parser ---- */

/* Parameter I, or DEF when it is missing or 0. */
static unsigned
param(const struct secretmask *m, unsigned i, unsigned def)
{
	return i < m->nparam && m->param[i] != 0 ? m->param[i] : def;
}

/* CSI ? Pm h / l: the modes that change what the model keeps. */
static void
private_mode(struct secretmask *m, bool set)
{
	unsigned	i;

	for (i = 0; i < m->nparam; i++) {
		switch (m->param[i]) {
		case 7:
			m->autowrap = set;
			if (!set)
				m->wrapnext = false;
			break;
		case 1049:
			/* The alternate screen, saving the cursor: what the
			 * main screen held is not kept, so both are blank. */
			if (set) {
				m->saved_x = m->x;
				m->saved_y = m->y;
			}
			clear_rows(m, 0, ROWS);
			if (!set)
				move_to(m, m->saved_x, m->saved_y);
			break;
		case 47:
		case 1047:
			clear_rows(m, 0, ROWS);
			break;
		}
	}
}

static void
cursor_up(struct secretmask *m, unsigned n)
{
	unsigned	lim = m->y >= m->top ? m->top : 0;

	move_to(m, m->x, m->y - lim > n ? m->y - n : lim);
}

static void
cursor_down(struct secretmask *m, unsigned n)
{
	unsigned	lim = m->y <= m->bot ? m->bot : m->rows - 1;

	move_to(m, m->x, lim - m->y > n ? m->y + n : lim);
}

static void
csi(struct secretmask *m, unsigned char f)
{
	unsigned	n = param(m, 0, 1), i;

	if (m->priv != 0) {
		if (m->priv == '?' && (f == 'h' || f == 'l'))
			private_mode(m, f == 'h');
		return;
	}
	switch (f) {
	case 'A': cursor_up(m, n); break;
	case 'B': case 'e': cursor_down(m, n); break;
	case 'C': case 'a': move_to(m, m->x + min_u(n, m->cols), m->y); break;
	case 'D': move_to(m, m->x > n ? m->x - n : 0, m->y); break;
	case 'E': cursor_down(m, n); m->x = 0; break;
	case 'F': cursor_up(m, n); m->x = 0; break;
	case 'G': case '`': move_to(m, n - 1, m->y); break;
	case 'd': move_to(m, m->x, n - 1); break;
	case 'H': case 'f':
		move_to(m, param(m, 1, 1) - 1, n - 1);
		break;
	case 'I': tab(m, n, true); break;
	case 'Z': tab(m, n, false); break;
	case 'J': erase_display(m, param(m, 0, 0)); break;
	case 'K': erase_line(m, param(m, 0, 0)); break;
	case 'X': erase(m, m->y, m->x, m->x + n); break;
	case 'P': delete_chars(m, n); break;
	case '@': insert_chars(m, n); break;
	case 'L':
	case 'M':
		if (m->y >= m->top && m->y <= m->bot) {
			scroll(m, m->y, m->bot, n, f == 'M');
			move_to(m, 0, m->y);
		}
		break;
	case 'S': scroll(m, m->top, m->bot, n, true); break;
	case 'T':
		if (m->nparam <= 1)
			scroll(m, m->top, m->bot, n, false);
		break;
	case 'b':
		/* REP: at most a row's worth, whatever it asks. */
		if (m->last != 0)
			for (i = 0; i < min_u(n, m->cols); i++)
				put(m, m->last, m->lastw);
		break;
	case 'r':
		i = min_u(param(m, 1, m->rows), m->rows);
		if (param(m, 0, 1) < i) {
			m->top = param(m, 0, 1) - 1;
			m->bot = i - 1;
		}
		move_to(m, 0, 0);
		break;
	case 's':
		m->saved_x = m->x;
		m->saved_y = m->y;
		break;
	case 'u':
		move_to(m, m->saved_x, m->saved_y);
		break;
	}
}

static void
csi_byte(struct secretmask *m, unsigned char c)
{
	unsigned	*v;

	if (c >= '0' && c <= '9') {
		if (m->nparam == 0)
			m->nparam = 1;
		v = &m->param[m->nparam - 1];
		*v = *v * 10 + (unsigned)(c - '0');
		if (*v > PARAM_MAX)
			*v = PARAM_MAX;
	} else if (c == ';' || c == ':') {
		if (m->nparam == 0)
			m->nparam = 1;
		if (m->nparam < NPARAM)
			m->param[m->nparam++] = 0;
	} else if (c >= 0x3c && c <= 0x3f)
		m->priv = c;
	else if (c >= 0x20 && c <= 0x2f)
		m->inter = true;
	else if (c >= 0x40 && c <= 0x7e) {
		m->st = P_GROUND;
		if (!m->inter)
			csi(m, c);
	}
}

static void
esc(struct secretmask *m, unsigned char c)
{
	m->st = P_GROUND;
	switch (c) {
	case '[': m->st = P_CSI; break;
	case ']': case 'P': case '_': case '^': case 'X': m->st = P_STRING; break;
	case '7': m->saved_x = m->x; m->saved_y = m->y; break;
	case '8': move_to(m, m->saved_x, m->saved_y); break;
	case 'D': linefeed(m); break;
	case 'E': m->x = 0; linefeed(m); break;
	case 'M': reverse_index(m); break;
	case 'c': reset(m); break;
	default:
		if (c >= 0x20 && c <= 0x2f)
			m->st = P_ESC_INTER;
	}
}

/* C0 controls, in text and inside escape sequences alike. */
static void
control(struct secretmask *m, unsigned char c)
{
	switch (c) {
	case '\b':
		if (m->x > 0)
			m->x--;
		m->wrapnext = false;
		break;
	case '\t': tab(m, 1, true); break;
	case '\n': case '\v': case '\f': linefeed(m); break;
	case '\r':
		m->x = 0;
		m->wrapnext = false;
		break;
	}
}

static void
print_cp(struct secretmask *m, uint32_t cp)
{
	unsigned	w = width(cp);

	if (w > 0)
		put(m, cp, w);
}

/*
 * A byte of a UTF-8 character.  One that breaks the sequence makes its
 * first byte a U+FFFD, as the recording shows it, and the bytes after
 * that are read again.
 */
static void
utf8_byte(struct secretmask *m, unsigned char c)
{
	unsigned char	rest[4];
	size_t		nrest, i;
	uint32_t	cp;
	int		n;

	m->utf[m->nutf++] = c;
	n = utf8_decode(m->utf, m->nutf, &cp);
	if (n == UTF8_SHORT)
		return;
	if (n > 0) {
		m->nutf = 0;
		print_cp(m, cp);
		return;
	}
	nrest = m->nutf - 1;
	memcpy(rest, m->utf + 1, nrest);
	m->nutf = 0;
	print_cp(m, 0xfffd);
	for (i = 0; i < nrest; i++)
		byte(m, rest[i]);
}

static void
byte(struct secretmask *m, unsigned char c)
{
	if (m->nutf > 0 || (c >= 0x80 && m->st == P_GROUND)) {
		utf8_byte(m, c);
		return;
	}
	if (c == 0x18 || c == 0x1a) {		/* CAN, SUB: cancel */
		m->st = P_GROUND;
		return;
	}
	if (c == 0x1b) {
		m->st = P_ESC;
		m->nparam = 0;
		m->param[0] = 0;
		m->priv = 0;
		m->inter = false;
		return;
	}
	if (m->st == P_STRING) {
		if (c == 0x07)
			m->st = P_GROUND;
		return;
	}
	if (c < 0x20 || c == 0x7f) {
		control(m, c);
		return;
	}
	if (c >= 0x80)
		return;		/* inside a sequence: ignored */
	switch (m->st) {
	case P_GROUND: put(m, c, 1); break;
	case P_ESC: esc(m, c); break;
	case P_ESC_INTER:
		if (c >= 0x30)
			m->st = P_GROUND;
		break;
	case P_CSI: csi_byte(m, c); break;
	case P_STRING: break;
	}
}

/* ---- the line, the prompts and the input ---- */

static size_t
encode(uint32_t cp, char *s)
{
	if (cp < 0x80) {
		s[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		s[0] = (char)(0xc0 | cp >> 6);
		s[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		s[0] = (char)(0xe0 | cp >> 12);
		s[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		s[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	s[0] = (char)(0xf0 | cp >> 18);
	s[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	s[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	s[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* The cursor's column, or the width when a character would wrap first. */
static unsigned
cursor_end(const struct secretmask *m)
{
	return m->wrapnext ? m->cols : m->x;
}

bool
secretmask_line(const struct secretmask *m, char *buf, size_t len)
{
	const struct row	*r;
	unsigned		 end = cursor_end(m), i;
	uint32_t		 cp;
	size_t			 n = 0;

	if (len < SECRETMASK_LINE)
		return false;
	buf[0] = '\0';
	if (m->mode != SECRETMASK_PROMPTS || end > COLS || m->y >= ROWS)
		return false;
	r = m->row[m->y];
	for (i = 0; i < end; i++) {
		cp = r != NULL && i < r->len ? r->cell[i] : 0;
		if (cp == WIDE_RIGHT)
			continue;
		n += encode(cp == 0 ? ' ' : cp, buf + n);
	}
	buf[n] = '\0';
	return true;
}

static uint64_t
cursor_stamp(const struct secretmask *m)
{
	return m->y < ROWS && m->row[m->y] != NULL ? m->row[m->y]->stamp : 0;
}

/* Is the text left of the cursor a prompt not yet answered? */
static bool
at_prompt(const struct secretmask *m)
{
	char	line[SECRETMASK_LINE];
	size_t	i;

	if (m->answered && m->answered_y == m->y &&
	    m->answered_x == cursor_end(m) &&
	    m->answered_stamp == cursor_stamp(m))
		return false;
	if (!secretmask_line(m, line, sizeof(line)))
		return false;
	for (i = 0; i < m->nre; i++)
		if (regexec(&m->re[i], line, 0, NULL, 0) == 0)
			return true;
	return false;
}

/* How many continuation bytes the UTF-8 lead byte C announces. */
static unsigned
continuations(unsigned char c)
{
	if (c >= 0xc2 && c <= 0xdf)
		return 1;
	if (c >= 0xe0 && c <= 0xef)
		return 2;
	if (c >= 0xf0 && c <= 0xf4)
		return 3;
	return 0;
}

size_t
secretmask_input(struct secretmask *m, const void *data, size_t len,
    enum secretmask_kind *kind, size_t *stars)
{
	const unsigned char	*p = data;
	size_t			 i = 0, n = 0;
	unsigned char		 c;

	*stars = 0;
	if (m->mode == SECRETMASK_ALL) {
		*kind = SECRETMASK_DROP;
		return len;
	}
	if (m->mode != SECRETMASK_PROMPTS || (!m->masking && !at_prompt(m))) {
		*kind = SECRETMASK_KEEP;
		return len;
	}
	if (!m->masking) {
		m->masking = true;
		m->cont = 0;
		m->answered = true;
		m->answered_y = m->y;
		m->answered_x = cursor_end(m);
		m->answered_stamp = cursor_stamp(m);
	}
	/* One '*' per character: a continuation byte adds none. */
	while (i < len) {
		c = p[i++];
		if (m->cont > 0 && (c & 0xc0) == 0x80) {
			m->cont--;
			continue;
		}
		m->cont = continuations(c);
		n++;
		if (c == '\r' || c == '\n') {
			m->masking = false;
			break;
		}
	}
	*kind = SECRETMASK_MASK;
	*stars = n;
	return i;
}

bool
secretmask_masking(const struct secretmask *m)
{
	return m->masking;
}

void
secretmask_output(struct secretmask *m, const void *data, size_t len)
{
	const unsigned char	*p = data, *end = p + len, *q;

	if (m->mode != SECRETMASK_PROMPTS)
		return;
	while (p < end) {
		if (m->st == P_GROUND && m->nutf == 0 && *p >= 0x20 &&
		    *p < 0x7f) {
			for (q = p + 1; q < end && *q >= 0x20 && *q < 0x7f; q++)
				;
			put_ascii(m, p, (size_t)(q - p));
			p = q;
		} else
			byte(m, *p++);
	}
}

void
secretmask_resize(struct secretmask *m, unsigned cols, unsigned rows)
{
	unsigned	y;

	if (cols == 0 || rows == 0)
		return;
	for (y = rows; y < ROWS; y++) {
		free(m->row[y]);
		m->row[y] = NULL;
	}
	m->cols = cols;
	m->rows = rows;
	m->top = 0;
	m->bot = rows - 1;
	move_to(m, m->x, m->y);
}

struct secretmask *
secretmask_new(enum secretmask_mode mode, const char *const *prompts,
    size_t nprompts, unsigned cols, unsigned rows, char *err, size_t errlen)
{
	struct secretmask	*m;
	char			 why[256];
	size_t			 i;
	int			 rc;

	m = xcalloc(1, sizeof(*m));
	m->mode = mode;
	m->cols = cols > 0 ? cols : 80;
	m->rows = rows > 0 ? rows : 24;
	reset(m);
	if (mode != SECRETMASK_PROMPTS)
		return m;
	m->re = xcalloc(nprompts > 0 ? nprompts : 1, sizeof(*m->re));
	for (i = 0; i < nprompts; i++) {
		if ((rc = regcomp(&m->re[i], prompts[i], REG_EXTENDED |
		    REG_NOSUB)) != 0) {
			regerror(rc, &m->re[i], why, sizeof(why));
			snprintf(err, errlen, "secret prompt '%s': %s",
			    prompts[i], why);
			secretmask_free(m);
			return NULL;
		}
		m->nre++;
	}
	return m;
}

void
secretmask_free(struct secretmask *m)
{
	size_t	i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nre; i++)
		regfree(&m->re[i]);
	free(m->re);
	for (i = 0; i < ROWS; i++)
		free(m->row[i]);
	free(m);
}
