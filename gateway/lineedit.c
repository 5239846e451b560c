/*
 * lineedit.c — the menu's line editor (see lineedit.h).
 *
 * The key decoder (le_feed) is a small state machine over bytes: plain
 * text, UTF-8 sequences, ESC + one key, CSI and SS3 sequences.  Each
 * complete key is looked up in one switch; anything not there is
 * dropped.  Display is one line that scrolls sideways, redrawn whole
 * after each key, so no terminal capability beyond CR, "erase to end of
 * line" and "cursor forward" is needed.
 */
#include <errno.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>
#include <wctype.h>

#include "gateway/lineedit.h"
#include "gateway/monotime.h"
#include "gateway/output.h"
#include "gateway/xmalloc.h"
#include "util/utf8.h"

/* wcwidth() and iswprint() are given the code points utf8_decode() finds. */
#ifndef __STDC_ISO_10646__
#error "wchar_t must hold ISO 10646 code points"
#endif

#define LE_SEQ_MAX	16	/* longest CSI sequence taken apart */
#define LE_ESC_WAIT_MS	100	/* a lone ESC: the rest never came */

enum le_state { ST_GROUND, ST_ESC, ST_CSI, ST_SS3, ST_UTF8 };

struct le {
	int		 in, out;
	char		 buf[LE_MAX_LINE + 1];
	size_t		 len, pos;	/* bytes; pos on a character start */
	size_t		 off;		/* first byte shown */
	/* the key decoder */
	enum le_state	 st;
	unsigned char	 seq[LE_SEQ_MAX];
	size_t		 seqlen;
	/* history: hist[0] oldest; hidx == nhist is the line being typed */
	char		*hist[LE_HISTORY];
	size_t		 nhist, hidx;
	char		*saved;
	le_complete_cb	 complete;
	void		*complete_arg;
	bool		(*stop)(void);
	const char	*prompt;
};

struct le *
le_new(int in, int out)
{
	struct le	*le = xcalloc(1, sizeof(*le));

	le->in = in;
	le->out = out;
	/* Widths come from the C library's tables; they need UTF-8. */
	if (MB_CUR_MAX == 1)
		(void)setlocale(LC_CTYPE, "C.UTF-8");
	return le;
}

void
le_free(struct le *le)
{
	size_t	i;

	if (le == NULL)
		return;
	for (i = 0; i < le->nhist; i++)
		free(le->hist[i]);
	free(le->saved);
	free(le);
}

void
le_set_complete(struct le *le, le_complete_cb cb, void *arg)
{
	le->complete = cb;
	le->complete_arg = arg;
}

void
le_set_stop(struct le *le, bool (*stop)(void))
{
	le->stop = stop;
}

void
le_history_add(struct le *le, const char *line)
{
	if (*line == '\0' || strlen(line) > LE_MAX_LINE)
		return;
	if (le->nhist > 0 && strcmp(le->hist[le->nhist - 1], line) == 0)
		return;
	if (le->nhist == LE_HISTORY) {
		free(le->hist[0]);
		memmove(le->hist, le->hist + 1,
		    (LE_HISTORY - 1) * sizeof(*le->hist));
		le->nhist--;
	}
	le->hist[le->nhist++] = xstrdup(line);
}

const char *
le_buffer(const struct le *le, size_t *cursor)
{
	if (cursor != NULL)
		*cursor = le->pos;
	return le->buf;
}

void
le_clear_line(struct le *le)
{
	le->len = le->pos = le->off = 0;
	le->buf[0] = '\0';
	le->hidx = le->nhist;
	free(le->saved);
	le->saved = NULL;
}

/* ---- characters ---- */

static bool
is_cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

static size_t
prev_char(const struct le *le, size_t i)
{
	if (i == 0)
		return 0;
	for (i--; i > 0 && is_cont((unsigned char)le->buf[i]); i--)
		;
	return i;
}

static size_t
next_char(const struct le *le, size_t i)
{
	if (i >= le->len)
		return le->len;
	for (i++; i < le->len && is_cont((unsigned char)le->buf[i]); i++)
		;
	return i;
}

/* Display width of S[0..n); every character here was checked on entry. */
static size_t
width_of(const char *s, size_t n)
{
	size_t		 i = 0, w = 0;
	uint32_t	 cp;
	int		 r, cw;

	while (i < n) {
		r = utf8_decode((const unsigned char *)s + i, n - i, &cp);
		if (r <= 0) {
			i++;
			w++;
			continue;
		}
		cw = wcwidth((wchar_t)cp);
		w += cw > 0 ? (size_t)cw : 0;
		i += (size_t)r;
	}
	return w;
}

/* Insert N bytes at the cursor; false if the line would be too long. */
static bool
insert(struct le *le, const char *s, size_t n)
{
	if (le->len + n > LE_MAX_LINE)
		return false;
	memmove(le->buf + le->pos + n, le->buf + le->pos, le->len - le->pos);
	memcpy(le->buf + le->pos, s, n);
	le->len += n;
	le->pos += n;
	le->buf[le->len] = '\0';
	return true;
}

static void
delete_range(struct le *le, size_t from, size_t to)
{
	if (to <= from)
		return;
	memmove(le->buf + from, le->buf + to, le->len - to);
	le->len -= to - from;
	le->buf[le->len] = '\0';
	if (le->pos > to)
		le->pos -= to - from;
	else if (le->pos > from)
		le->pos = from;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t';
}

static size_t
word_left(const struct le *le, size_t i)
{
	while (i > 0 && is_space(le->buf[i - 1]))
		i--;
	while (i > 0 && !is_space(le->buf[i - 1]))
		i--;
	return i;
}

static size_t
word_right(const struct le *le, size_t i)
{
	while (i < le->len && is_space(le->buf[i]))
		i++;
	while (i < le->len && !is_space(le->buf[i]))
		i++;
	return i;
}

/* ---- history ---- */

static void
load_line(struct le *le, const char *s)
{
	size_t	n = strlen(s);

	if (n > LE_MAX_LINE)
		n = LE_MAX_LINE;
	memcpy(le->buf, s, n);
	le->buf[n] = '\0';
	le->len = le->pos = n;
	le->off = 0;
}

static void
history_move(struct le *le, int dir)
{
	if (dir < 0) {
		if (le->hidx == 0)
			return;
		if (le->hidx == le->nhist) {
			free(le->saved);
			le->saved = xstrdup(le->buf);
		}
		le->hidx--;
		load_line(le, le->hist[le->hidx]);
	} else {
		if (le->hidx >= le->nhist)
			return;
		le->hidx++;
		load_line(le, le->hidx == le->nhist ?
		    (le->saved != NULL ? le->saved : "") : le->hist[le->hidx]);
	}
}

/* ---- keys ---- */

enum key {
	K_LEFT, K_RIGHT, K_HOME, K_END, K_UP, K_DOWN, K_DELETE,
	K_WORD_LEFT, K_WORD_RIGHT, K_KILL_WORD, K_KILL_WORD_BACK,
};

static enum le_action
do_key(struct le *le, enum key k)
{
	switch (k) {
	case K_LEFT:
		le->pos = prev_char(le, le->pos);
		break;
	case K_RIGHT:
		le->pos = next_char(le, le->pos);
		break;
	case K_HOME:
		le->pos = 0;
		break;
	case K_END:
		le->pos = le->len;
		break;
	case K_UP:
		history_move(le, -1);
		break;
	case K_DOWN:
		history_move(le, 1);
		break;
	case K_DELETE:
		delete_range(le, le->pos, next_char(le, le->pos));
		break;
	case K_WORD_LEFT:
		le->pos = word_left(le, le->pos);
		break;
	case K_WORD_RIGHT:
		le->pos = word_right(le, le->pos);
		break;
	case K_KILL_WORD:
		delete_range(le, le->pos, word_right(le, le->pos));
		break;
	case K_KILL_WORD_BACK:
		delete_range(le, word_left(le, le->pos), le->pos);
		break;
	}
	return LE_A_NONE;
}

static enum le_action
control(struct le *le, unsigned char c)
{
	switch (c) {
	case '\r':
	case '\n':
		return LE_A_ACCEPT;
	case 0x03:	/* ^C */
		return LE_A_INTR;
	case 0x04:	/* ^D */
		if (le->len == 0)
			return LE_A_EOF;
		return do_key(le, K_DELETE);
	case 0x01:	/* ^A */
		return do_key(le, K_HOME);
	case 0x05:	/* ^E */
		return do_key(le, K_END);
	case 0x02:	/* ^B */
		return do_key(le, K_LEFT);
	case 0x06:	/* ^F */
		return do_key(le, K_RIGHT);
	case 0x10:	/* ^P */
		return do_key(le, K_UP);
	case 0x0e:	/* ^N */
		return do_key(le, K_DOWN);
	case 0x08:	/* ^H */
	case 0x7f:	/* Backspace */
		delete_range(le, prev_char(le, le->pos), le->pos);
		return LE_A_NONE;
	case 0x0b:	/* ^K */
		delete_range(le, le->pos, le->len);
		return LE_A_NONE;
	case 0x15:	/* ^U */
		delete_range(le, 0, le->pos);
		return LE_A_NONE;
	case 0x17:	/* ^W */
		return do_key(le, K_KILL_WORD_BACK);
	case 0x09:	/* Tab */
		return LE_A_COMPLETE;
	case 0x0c:	/* ^L */
		return LE_A_CLEAR;
	case 0x1b:
		le->st = ST_ESC;
		return LE_A_PENDING;
	default:	/* every other control key does nothing */
		return LE_A_NONE;
	}
}

/* ESC then C: Alt+key.  Only word motion; everything else is dropped. */
static enum le_action
meta(struct le *le, unsigned char c)
{
	le->st = ST_GROUND;
	switch (c) {
	case '[':
		le->st = ST_CSI;
		le->seqlen = 0;
		return LE_A_PENDING;
	case 'O':
		le->st = ST_SS3;
		return LE_A_PENDING;
	case 'b':
		return do_key(le, K_WORD_LEFT);
	case 'f':
		return do_key(le, K_WORD_RIGHT);
	case 'd':
		return do_key(le, K_KILL_WORD);
	case 0x7f:
	case 0x08:
		return do_key(le, K_KILL_WORD_BACK);
	case 0x1b:
		le->st = ST_ESC;
		return LE_A_PENDING;
	default:
		return LE_A_NONE;
	}
}

/* The final byte of an arrow, Home or End key, in CSI or SS3 form. */
static enum le_action
motion(struct le *le, unsigned char f, bool ctrl)
{
	switch (f) {
	case 'A':
		return do_key(le, K_UP);
	case 'B':
		return do_key(le, K_DOWN);
	case 'C':
		return do_key(le, ctrl ? K_WORD_RIGHT : K_RIGHT);
	case 'D':
		return do_key(le, ctrl ? K_WORD_LEFT : K_LEFT);
	case 'H':
		return do_key(le, K_HOME);
	case 'F':
		return do_key(le, K_END);
	default:
		return LE_A_NONE;
	}
}

/* A whole CSI sequence: parameters in seq[0..seqlen), final byte F. */
static enum le_action
csi(struct le *le, unsigned char f)
{
	const char	*p = (const char *)le->seq;
	size_t		 n = le->seqlen;

	if (f == '~' && n == 1) {
		if (p[0] == '1' || p[0] == '7')
			return do_key(le, K_HOME);
		if (p[0] == '4' || p[0] == '8')
			return do_key(le, K_END);
		if (p[0] == '3')
			return do_key(le, K_DELETE);
		return LE_A_NONE;
	}
	if (n == 0)
		return motion(le, f, false);
	if (n == 3 && memcmp(p, "1;5", 3) == 0)
		return motion(le, f, true);
	return LE_A_NONE;
}

static enum le_action
ss3(struct le *le, unsigned char f)
{
	le->st = ST_GROUND;
	return motion(le, f, false);
}

static enum le_action
utf8_start(struct le *le, unsigned char c)
{
	uint32_t	cp;

	le->seq[0] = c;
	if (utf8_decode(le->seq, 1, &cp) != UTF8_SHORT)
		return LE_A_NONE;	/* not a UTF-8 lead byte: dropped */
	le->seqlen = 1;
	le->st = ST_UTF8;
	return LE_A_PENDING;
}

void
le_feed_reset(struct le *le)
{
	le->st = ST_GROUND;
	le->seqlen = 0;
}

/*
 * The next byte of a UTF-8 character: wait for the rest, or insert the
 * whole character if it is printable and not zero-width, or drop what
 * cannot be one.
 */
static enum le_action
utf8_next(struct le *le, unsigned char c)
{
	uint32_t	cp;
	int		r;

	le->seq[le->seqlen++] = c;
	if ((r = utf8_decode(le->seq, le->seqlen, &cp)) == UTF8_SHORT)
		return LE_A_PENDING;
	if (r > 0 && iswprint((wint_t)cp) && wcwidth((wchar_t)cp) >= 1)
		(void)insert(le, (const char *)le->seq, le->seqlen);
	le_feed_reset(le);
	/* A byte that continues nothing starts something of its own. */
	if (r == UTF8_BAD && !is_cont(c))
		return le_feed(le, c);
	return LE_A_NONE;
}

enum le_action
le_feed(struct le *le, unsigned char c)
{
	switch (le->st) {
	case ST_GROUND:
		break;
	case ST_ESC:
		return meta(le, c);
	case ST_SS3:
		return ss3(le, c);
	case ST_CSI:
		if (c >= 0x40 && c <= 0x7e) {
			le->st = ST_GROUND;
			return csi(le, c);
		}
		if (c < 0x20 || c > 0x3f || le->seqlen == LE_SEQ_MAX) {
			/* Not a CSI sequence after all: drop it and C. */
			le_feed_reset(le);
			return LE_A_NONE;
		}
		le->seq[le->seqlen++] = c;
		return LE_A_PENDING;
	case ST_UTF8:
		return utf8_next(le, c);
	}
	if (c < 0x20 || c == 0x7f)
		return control(le, c);
	if (c < 0x80) {
		(void)insert(le, (const char *)&c, 1);
		return LE_A_NONE;
	}
	return utf8_start(le, c);
}

bool
le_replace_word(struct le *le, size_t wstart, const char *word)
{
	size_t	n = strlen(word), old;

	if (wstart > le->pos)
		return false;
	old = le->pos - wstart;
	if (le->len - old + n > LE_MAX_LINE)
		return false;
	delete_range(le, wstart, le->pos);
	return insert(le, word, n);
}

/* ---- the terminal ---- */

static int
write_all(int fd, const char *s, size_t n)
{
	struct pollfd	pfd;
	ssize_t		w;

	while (n > 0) {
		if ((w = write(fd, s, n)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				pfd.fd = fd;
				pfd.events = POLLOUT;
				(void)poll(&pfd, 1, 1000);
				continue;
			}
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static size_t
columns(const struct le *le)
{
	struct winsize	ws;

	if (ioctl(le->out, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 10)
		return ws.ws_col;
	return 80;
}

static size_t	room(const struct le *);

/* Redraw the prompt and the visible part of the line. */
static int
refresh(struct le *le)
{
	struct buf	 b = { 0 };
	size_t		 pw, avail, end, w;
	int		 r;

	pw = width_of(le->prompt, strlen(le->prompt));
	avail = room(le);
	if (le->off > le->pos)
		le->off = prev_char(le, le->pos);
	while (le->off < le->pos &&
	    width_of(le->buf + le->off, le->pos - le->off) >= avail)
		le->off = next_char(le, le->off);
	for (end = le->off; end < le->len; ) {
		size_t nx = next_char(le, end);
		if (width_of(le->buf + le->off, nx - le->off) >= avail)
			break;
		end = nx;
	}
	buf_addc(&b, '\r');
	buf_adds(&b, le->prompt);
	buf_add(&b, le->buf + le->off, end - le->off);
	buf_adds(&b, "\033[K\r");
	if ((w = pw + width_of(le->buf + le->off, le->pos - le->off)) > 0)
		buf_printf(&b, "\033[%zuC", w);
	r = write_all(le->out, b.data, b.len);
	buf_free(&b);
	return r;
}

static void
show_candidates(struct le *le, const struct argv *c)
{
	struct buf	 b = { 0 };
	char		*safe;
	int		 i;

	buf_adds(&b, "\r\n");
	for (i = 0; i < c->n; i++) {
		safe = out_escape(c->v[i]);
		buf_adds(&b, safe);
		buf_adds(&b, "\r\n");
		free(safe);
	}
	(void)write_all(le->out, b.data, b.len);
	buf_free(&b);
}

/* Tab: the longest common start of the candidates, or a list of them. */
static void
complete(struct le *le)
{
	struct argv	 c = { 0 };
	size_t		 wstart, plen, common, k;
	char		*word;
	int		 i;

	if (le->complete == NULL)
		return;
	for (wstart = le->pos; wstart > 0 && !is_space(le->buf[wstart - 1]);
	    wstart--)
		;
	plen = le->pos - wstart;
	le->complete(le->complete_arg, le->buf, wstart, le->pos, &c);
	if (c.n == 0)
		goto out;
	common = strlen(c.v[0]);
	for (i = 1; i < c.n; i++) {
		for (k = 0; k < common && c.v[i][k] == c.v[0][k]; k++)
			;
		common = k;
	}
	if (common > plen) {
		word = xstrndup(c.v[0], common);
		/* A word the tokenizer would split is never completed. */
		if (strpbrk(word, " \t'\"\\") == NULL &&
		    le_replace_word(le, wstart, word) && c.n == 1 &&
		    word[common - 1] != ':')
			(void)insert(le, " ", 1);
		free(word);
	} else if (c.n > 1)
		show_candidates(le, &c);
out:
	argv_free(&c);
}

/* The editor's terminal mode: bytes as typed, no echo, no signal keys. */
static void
raw_mode(const struct termios *orig, struct termios *raw)
{
	*raw = *orig;
	raw->c_iflag &= ~(tcflag_t)(BRKINT | ICRNL | INLCR | IGNCR | INPCK |
	    ISTRIP | IXON | IXOFF);
	raw->c_lflag &= ~(tcflag_t)(ECHO | ICANON | IEXTEN | ISIG);
	raw->c_cflag |= CS8;
	raw->c_cc[VMIN] = 1;
	raw->c_cc[VTIME] = 0;
}

/*
 * Wait for a byte.  Returns 1 with *C, 0 on timeout, or -1 with *RES.
 * A descriptor someone left non-blocking only means "poll again".
 */
static int
next_byte(struct le *le, int timeout, unsigned char *c, enum le_result *res)
{
	struct pollfd	pfd;
	ssize_t		n;
	int		r;

	for (;;) {
		pfd.fd = le->in;
		pfd.events = POLLIN;
		pfd.revents = 0;
		r = poll(&pfd, 1, timeout);
		if (r == -1 && errno != EINTR) {
			*res = LE_ERROR;
			return -1;
		}
		if (le->stop != NULL && le->stop()) {
			*res = LE_STOP;
			return -1;
		}
		if (r == -1)
			continue;
		if (r == 0)
			return 0;
		if ((n = read(le->in, c, 1)) == 1)
			return 1;
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		*res = n == 0 || errno == EIO ? LE_EOF : LE_ERROR;
		return -1;
	}
}

/* Room on the line after the prompt, in columns. */
static size_t
room(const struct le *le)
{
	size_t	cols = columns(le), pw = width_of(le->prompt,
	    strlen(le->prompt));

	return cols > pw + 2 ? cols - pw - 1 : 1;
}

/*
 * Show the effect of one key.  Typing at the end of a line that fits
 * only needs the new text echoed; anything else redraws the line.
 */
static int
show(struct le *le, size_t old_len, size_t old_pos)
{
	if (old_pos == old_len && le->len > old_len && le->pos == le->len &&
	    le->off == 0 && width_of(le->buf, le->len) < room(le))
		return write_all(le->out, le->buf + old_len,
		    le->len - old_len);
	if (le->len == old_len && le->pos == old_pos)
		return 0;
	return refresh(le);
}

/* Leave the line as shown, the cursor after its end. */
static int
finish_line(struct le *le)
{
	size_t	old = le->pos;

	le->pos = le->len;
	if (le->off != 0 || old == le->len)
		return le->off != 0 ? refresh(le) : 0;
	return refresh(le);
}

static enum le_result
edit(struct le *le, unsigned idle_ms)
{
	enum le_result	 res = LE_ERROR;
	long long	 deadline = idle_ms > 0 ? monotime_ms() + idle_ms : 0;
	long long	 left;
	size_t		 old_len, old_pos;
	unsigned char	 c;
	int		 timeout, r;

	if (refresh(le) == -1)
		return LE_ERROR;
	for (;;) {
		timeout = -1;
		if (deadline != 0) {
			if ((left = deadline - monotime_ms()) <= 0)
				return LE_IDLE;
			timeout = left > 60000 ? 60000 : (int)left;
		}
		if (le->st != ST_GROUND &&
		    (timeout == -1 || timeout > LE_ESC_WAIT_MS))
			timeout = LE_ESC_WAIT_MS;
		if ((r = next_byte(le, timeout, &c, &res)) == -1)
			return res;
		if (r == 0) {
			le_feed_reset(le);
			continue;
		}
		if (idle_ms > 0)
			deadline = monotime_ms() + idle_ms;
		old_len = le->len;
		old_pos = le->pos;
		switch (le_feed(le, c)) {
		case LE_A_PENDING:
			continue;
		case LE_A_ACCEPT:
			(void)finish_line(le);
			return LE_LINE;
		case LE_A_EOF:
			return LE_EOF;
		case LE_A_INTR:
			(void)finish_line(le);
			(void)write_all(le->out, "^C", 2);
			return LE_INTR;
		case LE_A_COMPLETE:
			complete(le);
			r = refresh(le);
			break;
		case LE_A_CLEAR:
			(void)write_all(le->out, "\033[H\033[2J", 7);
			r = refresh(le);
			break;
		case LE_A_NONE:
			r = show(le, old_len, old_pos);
			break;
		}
		if (r == -1)
			return LE_ERROR;
	}
}

enum le_result
le_read(struct le *le, const char *prompt, unsigned idle_ms, char **line)
{
	struct termios	 orig, raw;
	enum le_result	 res;
	bool		 tty;
	int		 saved_errno;

	*line = NULL;
	le->prompt = prompt;
	le_clear_line(le);
	le_feed_reset(le);
	tty = tcgetattr(le->in, &orig) == 0;
	if (tty) {
		raw_mode(&orig, &raw);
		if (tcsetattr(le->in, TCSADRAIN, &raw) == -1)
			return LE_ERROR;
	}
	res = edit(le, idle_ms);
	saved_errno = errno;
	if (res != LE_ERROR || errno != EIO)
		(void)write_all(le->out, "\r\n", 2);
	if (tty)
		(void)tcsetattr(le->in, TCSADRAIN, &orig);
	if (res == LE_LINE)
		*line = xstrdup(le->buf);
	le_clear_line(le);
	errno = saved_errno;
	return res;
}
