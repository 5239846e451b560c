/*
 * relay.c — the attach relay.  The loop is sudo's exec_pty in miniature:
 * one buffer per direction; reading fills it (and records what was
 * read), writing drains it; a full buffer stops reading its source until
 * there is room again, so a slow side slows the other instead of growing
 * memory.  Signals arrive through a signalfd, so every way out of the
 * loop goes through the same cleanup.
 *
 * The session's output is recorded as it was read and passed to the
 * user through the terminal filter (termfilter.h): read into RAW, then
 * filtered into the buffer to the user, which must have room for the
 * most the filter can write.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gateway/log.h"
#include "gateway/monotime.h"
#include "gateway/record.h"
#include "gateway/relay.h"
#include "gateway/termfilter.h"

#define RELAY_BUF	(64 * 1024)
#define USEC		1000000ULL
#define ESCAPE_WAIT	(500 * USEC / 1000)
#define FLUSH_EVERY	USEC
/* How often on_recheck runs: an end it asks for comes within 1-2 s. */
#define RECHECK_EVERY	USEC
#define WIND_DOWN	(500 * USEC / 1000)
/* Filtered, the output is read only with room for this much after it. */
#define FILTER_ROOM	(TERMFILTER_OUT_MAX(1024))

struct iobuf {
	char	data[RELAY_BUF];
	size_t	off;
	size_t	len;
};

struct relay {
	const struct relay_opts	*o;
	struct relay_stats	*st;
	struct recorder		*rec;
	struct iobuf		 to_child;
	struct iobuf		 to_user;
	struct termfilter	*filter;	/* NULL: nothing filtered */
	char			 raw[RELAY_BUF];	/* read, to be filtered */
	/* Monotonic microseconds; NOW is read once per wake-up. */
	unsigned long long	 start;
	unsigned long long	 now;
	unsigned long long	 last_input;
	unsigned long long	 last_flush;
	unsigned long long	 last_checkpoint;
	unsigned long long	 last_recheck;
	unsigned long long	 escape_at;
	bool			 escape_pending;
	bool			 done;
	bool			 child_eof;
};

const char *
relay_end_name(enum relay_end e)
{
	switch (e) {
	case RELAY_DETACH: return "detach";
	case RELAY_ESCAPE: return "escape";
	case RELAY_LIFETIME: return "lifetime";
	case RELAY_IDLE: return "idle";
	case RELAY_RECORDING: return "recording";
	case RELAY_DISK_SPACE: return "disk-space";
	case RELAY_HANGUP: return "hangup";
	case RELAY_SIGNAL: return "signal";
	case RELAY_AUDIT: return "audit";
	case RELAY_REVOKED: return "revoked";
	case RELAY_TERMINATED: return "terminated";
	case RELAY_ERROR: return "error";
	}
	return "error";
}

static void
finish(struct relay *r, enum relay_end end, const char *detail)
{
	if (r->done)
		return;
	r->done = true;
	r->st->end = end;
	snprintf(r->st->detail, sizeof(r->st->detail), "%s", detail);
}

/*
 * A failed recording ends the attach, or only the recording if allowed.
 * False if the attach ends.
 */
static bool
record_failed(struct relay *r)
{
	if (r->o->rec_required) {
		finish(r, record_space_low(r->rec) ? RELAY_DISK_SPACE :
		    RELAY_RECORDING, record_error(r->rec));
		return false;
	}
	r->rec = NULL;
	return true;
}

/*
 * Record an event; false if its bytes must not be passed on.  When the
 * recording is required, keystrokes are in the file (written, not only
 * buffered) before they go to the session: one write per read of the
 * user's input, the output around them riding along.  An event recorded
 * as the last one (a limit reached) still passes, and the attach ends.
 */
static bool
record(struct relay *r, char type, const void *p, size_t n)
{
	unsigned long long	 t = r->now - r->start;
	int			 rc;
	bool			 go_on;

	if (r->rec == NULL)
		return true;
	if (type == 'i' && r->o->rec_required)
		rc = record_event_written(r->rec, t, type, p, n);
	else
		rc = record_event(r->rec, t, type, p, n);
	if (rc == 0)
		return true;
	go_on = record_failed(r);
	return rc == 1 || go_on;
}

/* Free space after the data, where the next read goes. */
static size_t
room(const struct iobuf *b)
{
	return RELAY_BUF - b->off - b->len;
}

static char *
tail(struct iobuf *b)
{
	return b->data + b->off + b->len;
}

/*
 * Move what is left to the front, but only when the space after it runs
 * short: a slow reader leaves most of the buffer pending after every
 * partial write, and moving it before every read would copy it again and
 * again.  Afterwards there is room exactly when the buffer is not full.
 */
static void
compact(struct iobuf *b)
{
	if (b->len == 0)
		b->off = 0;
	else if (b->off > 0 && room(b) < RELAY_BUF / 4) {
		memmove(b->data, b->data + b->off, b->len);
		b->off = 0;
	}
}

static void
drain(struct relay *r, int fd, struct iobuf *b, bool to_user)
{
	ssize_t	n;

	n = write(fd, b->data + b->off, b->len);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n == -1) {
		if (to_user)
			finish(r, RELAY_HANGUP, "the connection closed");
		else
			r->child_eof = true;
		return;
	}
	b->off += (size_t)n;
	b->len -= (size_t)n;
	if (b->len == 0)
		b->off = 0;
}

/*
 * Input from the user, read straight into the buffer to the session: the
 * escape key is ours and is taken out in place, the rest is the
 * session's (and in a watch, nobody's).
 */
static void
user_input(struct relay *r)
{
	struct iobuf	*b = &r->to_child;
	char		*p;
	size_t		 i, n = 0;
	ssize_t		 got;

	compact(b);
	p = tail(b);
	got = read(r->o->in, p, room(b));
	if (got == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (got <= 0) {
		finish(r, RELAY_HANGUP, "the connection closed");
		return;
	}
	r->last_input = r->now;
	for (i = 0; i < (size_t)got && !r->done; i++) {
		unsigned char c = (unsigned char)p[i];
		if (r->escape_pending) {
			r->escape_pending = false;
			if ((int)c != r->o->escape) {
				finish(r, RELAY_ESCAPE, "escape key");
				break;
			}
			p[n++] = (char)c;	/* typed twice: send it */
		} else if ((int)c == r->o->escape) {
			r->escape_pending = true;
			r->escape_at = r->now;
		} else
			p[n++] = (char)c;
	}
	/* A keystroke that cannot be recorded does not reach the session. */
	if (n == 0 || r->o->readonly || !record(r, 'i', p, n))
		return;
	b->len += n;
	r->st->bytes_in += n;
	/* Non-blocking: write now, wait for POLLOUT only if it would block. */
	drain(r, r->o->master, b, false);
}

/*
 * May the session's output be read?  Unfiltered, while there is room;
 * filtered, while a read of 1 KiB and more can be filtered into it.
 */
static bool
user_room(const struct relay *r)
{
	if (r->filter == NULL)
		return r->to_user.len < RELAY_BUF;
	return r->to_user.len <= RELAY_BUF - FILTER_ROOM;
}

static void
child_output(struct relay *r)
{
	struct iobuf	*b = &r->to_user;
	char		*p;
	size_t		 want;
	ssize_t		 got;

	if (!user_room(r))
		return;
	compact(b);
	p = tail(b);
	/* After compact() there is room for FILTER_ROOM at least. */
	want = r->filter == NULL ? room(b) :
	    (room(b) - TERMFILTER_SLACK) / 2;
	got = read(r->o->master, r->filter == NULL ? p : r->raw, want);
	if (got == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (got <= 0) {
		/* EIO: the client closed its terminal, i.e. it exited. */
		r->child_eof = true;
		return;
	}
	if (r->filter != NULL)
		b->len += termfilter_feed(r->filter, r->raw, (size_t)got, p);
	else
		b->len += (size_t)got;
	r->st->bytes_out += (size_t)got;
	/*
	 * Out first, recorded right after: the bytes stay in the buffer
	 * until the next read, and the user's screen does not wait for the
	 * JSON encoding.  The recording has what the session sent.
	 */
	if (b->len > 0)
		drain(r, r->o->out, b, true);
	(void)record(r, 'o', r->filter == NULL ? p : r->raw, (size_t)got);
}

bool
relay_winsize(struct winsize *ws)
{
	if (ws->ws_col == 0 || ws->ws_row == 0)
		return false;
	if (ws->ws_col > RELAY_MAX_COLS || ws->ws_row > RELAY_MAX_ROWS) {
		if (ws->ws_col > RELAY_MAX_COLS)
			ws->ws_col = RELAY_MAX_COLS;
		if (ws->ws_row > RELAY_MAX_ROWS)
			ws->ws_row = RELAY_MAX_ROWS;
		/* Pixels of the size asked for would not fit this one. */
		ws->ws_xpixel = 0;
		ws->ws_ypixel = 0;
	}
	return true;
}

static void
resize(struct relay *r)
{
	struct winsize	ws;
	char		text[32];

	if (ioctl(r->o->in, TIOCGWINSZ, &ws) == -1 || !relay_winsize(&ws))
		return;
	(void)ioctl(r->o->master, TIOCSWINSZ, &ws);
	snprintf(text, sizeof(text), "%ux%u", ws.ws_col, ws.ws_row);
	(void)record(r, 'r', text, strlen(text));
}

static void
on_signal(struct relay *r, int sfd)
{
	struct signalfd_siginfo	si;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGWINCH:
			resize(r);
			break;
		case SIGCHLD:
			break;	/* the master's EOF tells us */
		case SIGHUP:
			finish(r, RELAY_HANGUP, "the connection closed");
			break;
		default:
			finish(r, RELAY_SIGNAL, strsignal((int)si.ssi_signo));
		}
	}
}

/* Milliseconds until the next timer, and fire the ones that are due. */
static int
timers(struct relay *r)
{
	const struct relay_opts	*o = r->o;
	unsigned long long	 t = r->now, next = t + 3600 * USEC, due;
	char			 why[64];

	if (r->escape_pending) {
		due = r->escape_at + ESCAPE_WAIT;
		if (t >= due) {
			finish(r, RELAY_ESCAPE, "escape key");
			return 0;
		}
		if (due < next) next = due;
	}
	if (r->rec != NULL && !r->done) {
		due = r->last_flush + FLUSH_EVERY;
		if (t >= due) {
			r->last_flush = t;
			if (record_flush(r->rec) == -1)
				(void)record_failed(r);
			due = t + FLUSH_EVERY;
		}
		if (due < next) next = due;
	}
	if (r->rec != NULL && !r->done && o->checkpoint != 0 &&
	    o->on_checkpoint != NULL) {
		due = r->last_checkpoint + o->checkpoint * USEC;
		if (t >= due) {
			r->last_checkpoint = t;
			/* The record anchors what is in the file: all of it. */
			if (record_flush(r->rec) == -1)
				(void)record_failed(r);
			if (r->done)
				return 0;
			if (r->rec != NULL && o->on_checkpoint(o->arg,
			    t - r->start) == -1) {
				finish(r, RELAY_AUDIT, "the audit record of a "
				    "checkpoint could not be written");
				return 0;
			}
			due = t + o->checkpoint * USEC;
		}
		if (due < next) next = due;
	}
	if (o->on_recheck != NULL && !r->done) {
		due = r->last_recheck + RECHECK_EVERY;
		if (t >= due) {
			enum relay_end	end;
			char		detail[sizeof(r->st->detail)];

			r->last_recheck = t;
			if (o->on_recheck(o->arg, &end, detail,
			    sizeof(detail))) {
				finish(r, end, detail);
				return 0;
			}
			due = t + RECHECK_EVERY;
		}
		if (due < next) next = due;
	}
	if (o->lifetime != 0) {
		due = r->start + o->lifetime * USEC;
		if (t >= due) {
			snprintf(why, sizeof(why), "attach_lifetime of %us "
			    "reached", o->lifetime);
			finish(r, RELAY_LIFETIME, why);
			return 0;
		}
		if (due < next) next = due;
	}
	if (o->idle != 0) {
		due = r->last_input + o->idle * USEC;
		if (t >= due) {
			snprintf(why, sizeof(why), "no input for %us "
			    "(idle_timeout)", o->idle);
			finish(r, RELAY_IDLE, why);
			return 0;
		}
		if (due < next) next = due;
	}
	return (int)((next - t + 999) / 1000);
}

/*
 * A descriptor is in the poll set only while there is something to wait
 * for on it: poll() runs the terminal's poll routine for every entry, and
 * the user's input and output are usually the same terminal.
 */
static void
watch(struct pollfd *p, int fd, short events)
{
	p->fd = events != 0 ? fd : -1;
	p->events = events;
	p->revents = 0;
}

static void
loop(struct relay *r, int sfd)
{
	struct pollfd	p[4];
	int		timeout, n;

	while (!r->done) {
		timeout = timers(r);
		if (r->done)
			break;
		if (r->child_eof && r->to_user.len == 0) {
			finish(r, RELAY_DETACH, "detached");
			break;
		}
		watch(&p[0], r->o->in,
		    r->to_child.len < RELAY_BUF ? POLLIN : 0);
		watch(&p[1], r->o->master, r->child_eof ? 0 :
		    (user_room(r) ? POLLIN : 0) |
		    (r->to_child.len > 0 ? POLLOUT : 0));
		watch(&p[2], r->o->out, r->to_user.len > 0 ? POLLOUT : 0);
		watch(&p[3], sfd, POLLIN);
		n = poll(p, 4, timeout);
		r->now = monotime_us();
		if (n == -1) {
			if (errno == EINTR)
				continue;
			finish(r, RELAY_ERROR, strerror(errno));
			break;
		}
		if (p[3].revents & POLLIN)
			on_signal(r, sfd);
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR))
			child_output(r);
		if (!r->done && (p[1].revents & POLLOUT))
			drain(r, r->o->master, &r->to_child, false);
		if (!r->done && (p[2].revents & (POLLOUT | POLLERR | POLLHUP)))
			drain(r, r->o->out, &r->to_user, true);
		if (!r->done && (p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			user_input(r);
	}
}

/*
 * The user's input and output are usually one open file description (the
 * same terminal, opened once by sshd): its flags are shared.  Both are
 * read before either is changed, and put back in the reverse order, so
 * that the description ends as it was whether it is one or two; left
 * non-blocking, it would make the menu's next read fail with EAGAIN,
 * which looks like Ctrl-D.
 */
static void
user_fds_nonblock(const struct relay_opts *o, int *fl_in, int *fl_out)
{
	*fl_in = fcntl(o->in, F_GETFL);
	*fl_out = o->out != o->in ? fcntl(o->out, F_GETFL) : -1;
	if (*fl_in != -1 && fcntl(o->in, F_SETFL, *fl_in | O_NONBLOCK) == -1)
		*fl_in = -1;
	if (*fl_out != -1 &&
	    fcntl(o->out, F_SETFL, *fl_out | O_NONBLOCK) == -1)
		*fl_out = -1;
}

static void
user_fds_restore(const struct relay_opts *o, int fl_in, int fl_out)
{
	if (fl_out != -1 && fcntl(o->out, F_SETFL, fl_out) == -1)
		error_msg("cannot restore the terminal's flags: %s",
		    strerror(errno));
	if (fl_in != -1 && fcntl(o->in, F_SETFL, fl_in) == -1)
		error_msg("cannot restore the terminal's flags: %s",
		    strerror(errno));
}

/* Whatever the session printed last (tmux's "[detached]") still goes out. */
static void
flush_user(struct relay *r)
{
	struct pollfd	p = { r->o->out, POLLOUT, 0 };
	int		tries = 0;

	while (r->to_user.len > 0 && tries++ < 20 && poll(&p, 1, 100) > 0)
		drain(r, r->o->out, &r->to_user, true);
}

/*
 * The end of the session's output: the filter drops what it held and
 * ends a string it was streaming, so that the terminal leaves it before
 * anything else is written to it.
 */
static void
end_output(struct relay *r)
{
	struct iobuf	*b = &r->to_user;

	if (r->filter != NULL) {
		if (!user_room(r))
			flush_user(r);
		if (user_room(r)) {
			compact(b);
			b->len += termfilter_end(r->filter, tail(b));
		}
	}
	flush_user(r);
}

/* What the user typed before the end still reaches the session. */
static void
flush_child(struct relay *r)
{
	struct pollfd	p = { r->o->master, POLLOUT, 0 };
	int		tries = 0;

	while (!r->child_eof && r->to_child.len > 0 && tries++ < 10 &&
	    poll(&p, 1, 50) > 0)
		drain(r, r->o->master, &r->to_child, false);
}

/*
 * Ended by us, not by tmux: ask the client to go (tmux then resets the
 * terminal: alternate screen, cursor, mouse) and pass that through, but
 * never wait long for a client that hangs.  If it did not finish, reset
 * the user's terminal ourselves.
 */
static void
wind_down(struct relay *r)
{
	static const char reset[] = "\033[?1049l\033[?25h\033[m\033[r"
	    "\033[?1000l\033[?1002l\033[?1003l\033[?1006l\033[?2004l\r\n";
	struct pollfd		 p = { r->o->master, POLLIN, 0 };
	unsigned long long	 until = monotime_us() + WIND_DOWN;

	(void)kill(-r->o->child, SIGTERM);
	while (!r->child_eof && (r->now = monotime_us()) < until) {
		if (poll(&p, 1, (int)((until - r->now) / 1000) + 1) <= 0)
			break;
		if (r->to_user.len > RELAY_BUF / 2 || !user_room(r))
			flush_user(r);
		if (!user_room(r))
			break;	/* the user does not read: no waiting */
		child_output(r);
	}
	end_output(r);
	if (!r->child_eof && write(r->o->out, reset, sizeof(reset) - 1) == -1)
		return;	/* the user is gone: nothing to reset */
}

void
relay_run(const struct relay_opts *o, struct relay_stats *st)
{
	static struct relay	 r;	/* three 64 KiB buffers: not on the stack */
	sigset_t		 set, old;
	int			 sfd, fl_in = -1, fl_out = -1;

	memset(&r, 0, sizeof(r));
	memset(st, 0, sizeof(*st));
	r.o = o;
	if (o->filter != TERMFILTER_NONE)
		r.filter = termfilter_new(o->filter);
	r.st = st;
	r.rec = o->rec;
	r.start = r.now = r.last_input = r.last_flush = r.last_checkpoint =
	    r.last_recheck =
	    monotime_us();
	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	sigprocmask(SIG_BLOCK, &set, &old);
	if ((sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1) {
		finish(&r, RELAY_ERROR, strerror(errno));
		goto out;
	}
	user_fds_nonblock(o, &fl_in, &fl_out);
	loop(&r, sfd);
	flush_child(&r);
	if (st->end == RELAY_DETACH || st->end == RELAY_HANGUP)
		end_output(&r);
	else
		wind_down(&r);
	user_fds_restore(o, fl_in, fl_out);
	close(sfd);
out:
	/*
	 * Resizes and child exits that arrived meanwhile are ours; a hangup
	 * or termination stays pending for the caller's handler.
	 */
	{
		struct timespec	zero = { 0, 0 };
		sigset_t	mine;

		sigemptyset(&mine);
		sigaddset(&mine, SIGWINCH);
		sigaddset(&mine, SIGCHLD);
		while (sigtimedwait(&mine, NULL, &zero) > 0)
			;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	termfilter_free(r.filter);
	r.filter = NULL;
	st->seconds = (double)(monotime_us() - r.start) / USEC;
	st->rec_stopped = r.rec == NULL && o->rec != NULL;
}
