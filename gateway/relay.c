/*
 * relay.c — the attach relay.  The loop is sudo's exec_pty in miniature:
 * one buffer per direction; reading fills it (and records what was
 * read), writing drains it; a full buffer stops reading its source until
 * there is room again, so a slow side slows the other instead of growing
 * memory.  Signals arrive through a signalfd, so every way out of the
 * loop goes through the same cleanup.
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

#include "gateway/record.h"
#include "gateway/relay.h"

#define RELAY_BUF	(64 * 1024)
#define ESCAPE_WAIT_MS	500
#define FLUSH_MS	1000
#define WIND_DOWN_MS	500

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
	double			 start;
	double			 last_input;
	double			 last_flush;
	double			 escape_at;	/* pending escape, or 0 */
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
	case RELAY_HANGUP: return "hangup";
	case RELAY_SIGNAL: return "signal";
	case RELAY_ERROR: return "error";
	}
	return "error";
}

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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

/* A failed recording ends the attach, or only the recording if allowed. */
static void
record_failed(struct relay *r)
{
	if (r->o->rec_required)
		finish(r, RELAY_RECORDING, record_error(r->rec));
	else
		r->rec = NULL;
}

static void
record(struct relay *r, char type, const void *p, size_t n)
{
	if (r->rec != NULL &&
	    record_event(r->rec, now() - r->start, type, p, n) == -1)
		record_failed(r);
}

static size_t
room(const struct iobuf *b)
{
	return RELAY_BUF - b->off - b->len;
}

static void
compact(struct iobuf *b)
{
	if (b->off > 0 && b->len > 0)
		memmove(b->data, b->data + b->off, b->len);
	b->off = 0;
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

static void
forward(struct relay *r, const char *p, size_t n)
{
	if (n == 0 || r->o->readonly)
		return;
	compact(&r->to_child);
	memcpy(r->to_child.data + r->to_child.len, p, n);
	r->to_child.len += n;
	r->st->bytes_in += n;
	record(r, 'i', p, n);
	/* Non-blocking: write now, wait for POLLOUT only if it would block. */
	drain(r, r->o->master, &r->to_child, false);
}

/* Input from the user: the escape key is ours, the rest the session's. */
static void
user_input(struct relay *r)
{
	char	tmp[RELAY_BUF], fwd[RELAY_BUF];
	size_t	max = room(&r->to_child) + r->to_child.off, i, n = 0;
	ssize_t	got;

	if (max > sizeof(tmp))
		max = sizeof(tmp);
	got = read(r->o->in, tmp, max);
	if (got == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (got <= 0) {
		finish(r, RELAY_HANGUP, "the connection closed");
		return;
	}
	r->last_input = now();
	for (i = 0; i < (size_t)got && !r->done; i++) {
		unsigned char c = (unsigned char)tmp[i];
		if (r->escape_at != 0) {
			r->escape_at = 0;
			if ((int)c != r->o->escape) {
				finish(r, RELAY_ESCAPE, "escape key");
				break;
			}
			fwd[n++] = (char)c;	/* typed twice: send it */
		} else if ((int)c == r->o->escape)
			r->escape_at = now();
		else
			fwd[n++] = (char)c;
	}
	forward(r, fwd, n);
}

static void
child_output(struct relay *r)
{
	struct iobuf	*b = &r->to_user;
	ssize_t		 got;

	compact(b);
	got = read(r->o->master, b->data + b->len, room(b));
	if (got == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (got <= 0) {
		/* EIO: the client closed its terminal, i.e. it exited. */
		r->child_eof = true;
		return;
	}
	record(r, 'o', b->data + b->len, (size_t)got);
	b->len += (size_t)got;
	r->st->bytes_out += (size_t)got;
	drain(r, r->o->out, b, true);
}

static void
resize(struct relay *r)
{
	struct winsize	ws;
	char		text[32];

	if (ioctl(r->o->in, TIOCGWINSZ, &ws) == -1 || ws.ws_col == 0)
		return;
	(void)ioctl(r->o->master, TIOCSWINSZ, &ws);
	snprintf(text, sizeof(text), "%ux%u", ws.ws_col, ws.ws_row);
	record(r, 'r', text, strlen(text));
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
	double			 t = now(), next = t + 3600, due;
	char			 why[64];

	if (r->escape_at != 0) {
		due = r->escape_at + ESCAPE_WAIT_MS / 1000.0;
		if (t >= due) {
			finish(r, RELAY_ESCAPE, "escape key");
			return 0;
		}
		if (due < next) next = due;
	}
	if (r->rec != NULL && !r->done) {
		due = r->last_flush + FLUSH_MS / 1000.0;
		if (t >= due) {
			r->last_flush = t;
			if (record_flush(r->rec) == -1)
				record_failed(r);
			due = t + FLUSH_MS / 1000.0;
		}
		if (due < next) next = due;
	}
	if (o->lifetime != 0) {
		due = r->start + o->lifetime;
		if (t >= due) {
			snprintf(why, sizeof(why), "attach_lifetime of %us "
			    "reached", o->lifetime);
			finish(r, RELAY_LIFETIME, why);
			return 0;
		}
		if (due < next) next = due;
	}
	if (o->idle != 0) {
		due = r->last_input + o->idle;
		if (t >= due) {
			snprintf(why, sizeof(why), "no input for %us "
			    "(idle_timeout)", o->idle);
			finish(r, RELAY_IDLE, why);
			return 0;
		}
		if (due < next) next = due;
	}
	return (int)((next - t) * 1000) + 1;
}

static void
loop(struct relay *r, int sfd)
{
	struct pollfd	p[4];
	int		timeout;

	while (!r->done) {
		timeout = timers(r);
		if (r->done)
			break;
		if (r->child_eof && r->to_user.len == 0) {
			finish(r, RELAY_DETACH, "detached");
			break;
		}
		p[0].fd = r->o->in;
		p[0].events = room(&r->to_child) + r->to_child.off > 0 ?
		    POLLIN : 0;
		p[1].fd = r->child_eof ? -1 : r->o->master;
		p[1].events = (room(&r->to_user) + r->to_user.off > 0 ?
		    POLLIN : 0) | (r->to_child.len > 0 ? POLLOUT : 0);
		p[2].fd = r->o->out;
		p[2].events = r->to_user.len > 0 ? POLLOUT : 0;
		p[3].fd = sfd;
		p[3].events = POLLIN;
		if (poll(p, 4, timeout) == -1) {
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

static void
set_nonblock(int fd, int *saved)
{
	*saved = fcntl(fd, F_GETFL);
	if (*saved != -1)
		(void)fcntl(fd, F_SETFL, *saved | O_NONBLOCK);
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
	struct pollfd	p = { r->o->master, POLLIN, 0 };
	double		until = now() + WIND_DOWN_MS / 1000.0, left;

	(void)kill(-r->o->child, SIGTERM);
	while (!r->child_eof && (left = until - now()) > 0) {
		if (poll(&p, 1, (int)(left * 1000) + 1) <= 0)
			break;
		if (r->to_user.len > RELAY_BUF / 2)
			flush_user(r);
		child_output(r);
	}
	flush_user(r);
	if (!r->child_eof && write(r->o->out, reset, sizeof(reset) - 1) == -1)
		return;	/* the user is gone: nothing to reset */
}

void
relay_run(const struct relay_opts *o, struct relay_stats *st)
{
	static struct relay	 r;	/* two 64 KiB buffers: not on the stack */
	sigset_t		 set, old;
	int			 sfd, fl_in = -1, fl_out = -1;

	memset(&r, 0, sizeof(r));
	memset(st, 0, sizeof(*st));
	r.o = o;
	r.st = st;
	r.rec = o->rec;
	r.start = r.last_input = r.last_flush = now();
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
	set_nonblock(o->in, &fl_in);
	if (o->out != o->in)
		set_nonblock(o->out, &fl_out);
	loop(&r, sfd);
	flush_child(&r);
	if (st->end == RELAY_DETACH || st->end == RELAY_HANGUP)
		flush_user(&r);
	else
		wind_down(&r);
	if (fl_in != -1)
		(void)fcntl(o->in, F_SETFL, fl_in);
	if (fl_out != -1)
		(void)fcntl(o->out, F_SETFL, fl_out);
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
	st->seconds = now() - r.start;
	st->rec_stopped = r.rec == NULL && o->rec != NULL;
}
