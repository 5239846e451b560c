/*
 * serve-channel.c — `muxgate serve`'s session channel: the requests a
 * client may make (pty, window size, TERM and LANG, shell or exec), the
 * start of `muxgate shell` as sshd would start it, and the pump that
 * moves data both ways through bounded buffers without ever blocking.
 * Subsystems and other environment variables are refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gateway/log.h"
#include "gateway/serve-int.h"
#include "gateway/spawn.h"
#include "gateway/str.h"

/*
 * libssh (0.10) keeps channel data a client sends beyond the window it
 * was given.  A well-behaved client never has more than the window, about
 * 1.2 MB, waiting there; past this, it ignores the window: drop it.
 */
#define SERVE_CHANNEL_MAX	(4u * 1024 * 1024)
/*
 * libssh writes to a blocking socket once poll() says it may; a send that
 * still makes no progress for this long means the client is gone.
 */
#define SERVE_SEND_TIMEOUT	30
/* A shell whose client went away has this long after SIGHUP (muxgate.8). */
#define SERVE_HANGUP_MS		2000

/* ---- the requests ---- */

static void
set_winsize(struct conn *c, int cols, int rows, int px, int py)
{
	c->ws.ws_col = (unsigned short)cols;
	c->ws.ws_row = (unsigned short)rows;
	c->ws.ws_xpixel = (unsigned short)px;
	c->ws.ws_ypixel = (unsigned short)py;
}

static int
pty_request(ssh_session session, ssh_channel channel, const char *term,
    int cols, int rows, int px, int py, void *userdata)
{
	struct conn	*c = userdata;
	char		 err[256];

	if (c->pty_master != -1 || c->pid != 0)
		return SSH_ERROR;
	set_winsize(c, cols, rows, px, py);
	snprintf(c->term, sizeof(c->term), "%s", term);
	if (spawn_openpty(&c->ws, &c->pty_master, &c->pty_slave, err,
	    sizeof(err)) == -1) {
		error_f("%s port %u: %s", c->peer, c->peer_port, err);
		return SSH_ERROR;
	}
	return SSH_OK;
}

static int
window_change(ssh_session session, ssh_channel channel, int cols, int rows,
    int px, int py, void *userdata)
{
	struct conn	*c = userdata;

	if (c->pty_master == -1)
		return SSH_ERROR;
	set_winsize(c, cols, rows, px, py);
	return ioctl(c->pty_master, TIOCSWINSZ, &c->ws) == 0 ? SSH_OK :
	    SSH_ERROR;
}

static int
env_request(ssh_session session, ssh_channel channel, const char *name,
    const char *value, void *userdata)
{
	struct conn	*c = userdata;

	if (strcmp(name, "TERM") == 0)
		snprintf(c->term, sizeof(c->term), "%s", value);
	else if (strcmp(name, "LANG") == 0)
		snprintf(c->lang, sizeof(c->lang), "%s", value);
	else
		return SSH_ERROR;
	return SSH_OK;
}

static int
subsystem_request(ssh_session session, ssh_channel channel,
    const char *subsystem, void *userdata)
{
	struct conn	*c = userdata;

	log_info("%s port %u: refused subsystem %s", c->peer, c->peer_port,
	    subsystem);
	return SSH_ERROR;
}

/* ---- the shell ---- */

static void
build_env(struct conn *c, const char *command, struct argv *env)
{
	argv_add(env, "PATH=/usr/bin:/bin");
	argv_addf(env, "SSH_CONNECTION=%s %u %s %u", c->peer, c->peer_port,
	    c->local, c->local_port);
	argv_addf(env, "SSH_USER_AUTH=%s", c->auth_file);
	if (c->term[0] != '\0')
		argv_addf(env, "TERM=%s", c->term);
	if (c->lang[0] != '\0')
		argv_addf(env, "LANG=%s", c->lang);
	if (command != NULL)
		argv_addf(env, "SSH_ORIGINAL_COMMAND=%s", command);
}

static int
set_nonblock(int fd)
{
	int	fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return -1;
	return 0;
}

/* The shell on the pty asked for, else on pipes; our ends non-blocking. */
static int
start_child(struct conn *c, const struct argv *argv, const struct argv *env,
    char *err, size_t errlen)
{
	int	fds[3];

	if (c->pty_master != -1) {
		if (spawn_session(argv, env, c->pty_slave, NULL, &c->pid, err,
		    errlen) == -1)
			return -1;
		close(c->pty_slave);
		c->pty_slave = -1;
		c->to_child = c->from_child = c->pty_master;
		c->err.eof = true;
	} else {
		if (spawn_session(argv, env, -1, fds, &c->pid, err,
		    errlen) == -1)
			return -1;
		c->to_child = fds[0];
		c->from_child = fds[1];
		c->err_child = fds[2];
	}
	/* Our ends only: the shell's stay blocking, as under sshd. */
	if (set_nonblock(c->to_child) == -1 ||
	    set_nonblock(c->from_child) == -1 ||
	    (c->err_child != -1 && set_nonblock(c->err_child) == -1)) {
		snprintf(err, errlen, "O_NONBLOCK: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int
start_shell(struct conn *c, const char *command)
{
	struct argv	argv = { 0 }, env = { 0 };
	char		err[512];
	int		r = SSH_ERROR;

	if (c->pid != 0)
		return SSH_ERROR;
	if (serve_auth_file(c, err, sizeof(err)) == -1) {
		error_f("%s port %u: %s", c->peer, c->peer_port, err);
		return SSH_ERROR;
	}
	argv_add(&argv, c->o->self);
	argv_add(&argv, "shell");
	argv_add(&argv, "-f");
	argv_add(&argv, c->o->config);
	build_env(c, command, &env);
	if (start_child(c, &argv, &env, err, sizeof(err)) == -1) {
		error_f("%s port %u: cannot start the shell: %s", c->peer,
		    c->peer_port, err);
		goto out;
	}
	log_info("%s port %u: identity %s: %s", c->peer, c->peer_port,
	    policy_identity_name(c->id), command != NULL ? "command" : "shell");
	r = SSH_OK;
out:
	argv_free(&argv);
	argv_free(&env);
	return r;
}

static int
shell_request(ssh_session session, ssh_channel channel, void *userdata)
{
	return start_shell(userdata, NULL);
}

static int
exec_request(ssh_session session, ssh_channel channel, const char *command,
    void *userdata)
{
	return start_shell(userdata, command);
}

/* ---- the pump: bounded buffers, nothing blocks ---- */

static size_t
iobuf_space(const struct iobuf *b)
{
	return sizeof(b->data) - b->off - b->len;
}

/* Room at the end for a read: move what is pending to the front. */
static void
iobuf_compact(struct iobuf *b)
{
	if (b->off == 0)
		return;
	if (b->len > 0)
		memmove(b->data, b->data + b->off, b->len);
	b->off = 0;
}

static void
iobuf_drained(struct iobuf *b, size_t n)
{
	b->off += n;
	b->len -= n;
	if (b->len == 0)
		b->off = 0;
}

static void
close_fd(int *fdp)
{
	if (*fdp != -1)
		(void)close(*fdp);
	*fdp = -1;
}

/* Our end of the shell's stdin; the pty stays for its output. */
static void
close_to_child(struct conn *c)
{
	if (c->to_child != c->pty_master)
		close_fd(&c->to_child);
	else
		c->to_child = -1;
	c->in.len = c->in.off = 0;
	c->in.eof = true;
}

/* What of the client's data fits into B: 1 if anything came. */
static int
read_client(struct conn *c, struct iobuf *b)
{
	int	r;

	if (b->eof || iobuf_space(b) + b->off == 0)
		return 0;
	iobuf_compact(b);
	r = ssh_channel_read_nonblocking(c->channel, b->data + b->len,
	    (uint32_t)iobuf_space(b), 0);
	if (r > 0) {
		b->len += (size_t)r;
		return 1;
	}
	if (r == SSH_EOF || (r == 0 && ssh_channel_is_eof(c->channel)))
		b->eof = true;
	return 0;
}

/*
 * Client to shell: take from libssh what fits (the rest, and the window
 * with it, waits there), give the shell what it takes.  Returns true if
 * anything moved, -1 if the client broke the protocol.
 */
static int
pump_in(struct conn *c)
{
	struct iobuf	*b = &c->in;
	char		 sink[4096];
	ssize_t		 n;
	int		 r, moved = 0;

	/* Nobody reads a client's "stderr": do not let it pile up. */
	while ((r = ssh_channel_read_nonblocking(c->channel, sink, sizeof(sink),
	    1)) > 0)
		moved = 1;
	if (c->to_child == -1) {
		/* The shell takes no more input: what comes is dropped. */
		while ((r = ssh_channel_read_nonblocking(c->channel, sink,
		    sizeof(sink), 0)) > 0)
			moved = 1;
		return moved;
	}
	if ((r = ssh_channel_poll(c->channel, 0)) > 0 &&
	    (unsigned)r > SERVE_CHANNEL_MAX) {
		log_info("%s port %u: the client ignores the channel window",
		    c->peer, c->peer_port);
		return -1;
	}
	if (read_client(c, b) == 1)
		moved = 1;
	if (b->len > 0) {
		n = write(c->to_child, b->data + b->off, b->len);
		if (n > 0) {
			iobuf_drained(b, (size_t)n);
			moved = 1;
		} else if (n == -1 && errno != EAGAIN && errno != EINTR) {
			/* EPIPE, EIO: the shell reads no more; drop its input. */
			close_to_child(c);
			return 1;
		}
	}
	/* End of the client's input: a command reading stdin sees EOF. */
	if (b->eof && b->len == 0 && c->to_child != -1 &&
	    c->to_child != c->pty_master)
		close_to_child(c);
	return moved;
}

/* Shell to client: read what fits, send what the window and socket take. */
static int
pump_out(struct conn *c, struct iobuf *b, int *fdp, bool is_err)
{
	ssize_t		 n;
	uint32_t	 win;
	int		 moved = 0;

	if (!b->eof && *fdp != -1 && iobuf_space(b) + b->off > 0) {
		iobuf_compact(b);
		n = read(*fdp, b->data + b->len, iobuf_space(b));
		if (n > 0) {
			b->len += (size_t)n;
			moved = 1;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR) ||
		    (c->exited && c->pty_master != -1)) {
			/*
			 * EOF, or EIO from a pty whose last slave is closed;
			 * a pty left to a gone shell has nothing more either.
			 */
			b->eof = true;
			if (*fdp != c->pty_master)
				close_fd(fdp);
		}
	}
	/* Only onto an empty libssh socket buffer: it holds at most one write. */
	if (b->len > 0 && (ssh_get_poll_flags(c->session) &
	    SSH_WRITE_PENDING) == 0 &&
	    (win = ssh_channel_window_size(c->channel)) > 0) {
		win = (uint32_t)(b->len < win ? b->len : win);
		n = is_err ? ssh_channel_write_stderr(c->channel,
		    b->data + b->off, win) : ssh_channel_write(c->channel,
		    b->data + b->off, win);
		if (n == SSH_ERROR)
			return -1;
		if (n > 0) {
			iobuf_drained(b, (size_t)n);
			moved = 1;
		}
	}
	return moved;
}

/* Move data until nothing moves; -1 when the client is to be dropped. */
static int
pump(struct conn *c)
{
	int	i, a, o, e;

	for (i = 0; i < 16; i++) {
		if ((a = pump_in(c)) == -1)
			return -1;
		if ((o = pump_out(c, &c->out, &c->from_child, false)) == -1 ||
		    (e = pump_out(c, &c->err, &c->err_child, true)) == -1)
			return -1;
		if (a == 0 && o == 0 && e == 0)
			break;
	}
	return 0;
}

static bool
client_gone(struct conn *c)
{
	return (ssh_get_status(c->session) & (SSH_CLOSED |
	    SSH_CLOSED_ERROR)) != 0 || !ssh_channel_is_open(c->channel);
}

/* What to wait for: each fd only when its buffer can move. */
static nfds_t
relay_pollfds(struct conn *c, struct pollfd *p)
{
	nfds_t	n = 0;

	p[n].fd = ssh_get_fd(c->session);
	p[n].events = POLLIN;
	if (ssh_get_poll_flags(c->session) & SSH_WRITE_PENDING)
		p[n].events |= POLLOUT;
	n++;
	if (c->pid <= 0)
		return n;
	if (c->in.len > 0 && c->to_child != -1) {
		p[n].fd = c->to_child;
		p[n++].events = POLLOUT;
	}
	if (!c->out.eof && iobuf_space(&c->out) + c->out.off > 0) {
		p[n].fd = c->from_child;
		p[n++].events = POLLIN;
	}
	if (!c->err.eof && c->err_child != -1 &&
	    iobuf_space(&c->err) + c->err.off > 0) {
		p[n].fd = c->err_child;
		p[n++].events = POLLIN;
	}
	return n;
}

static void
relay_channel(struct conn *c, ssh_event event)
{
	struct pollfd	p[4];
	nfds_t		n;
	int		timeout;

	while (!serve_conn_stop && !client_gone(c)) {
		n = relay_pollfds(c, p);
		/* Data libssh holds already makes no fd readable. */
		timeout = c->pid > 0 && !c->in.eof && iobuf_space(&c->in) +
		    c->in.off > 0 && ssh_channel_poll(c->channel, 0) > 0 ? 0 :
		    100;
		if (poll(p, n, timeout) == -1 && errno != EINTR)
			break;
		if (ssh_event_dopoll(event, 0) == SSH_ERROR || client_gone(c))
			break;
		if (c->pid > 0 && !c->exited &&
		    spawn_exited(c->pid, &c->status) == 1)
			c->exited = true;
		if (c->pid > 0 && pump(c) == -1)
			break;
		/* Done when the shell exited and its output is all sent. */
		if (c->exited && c->out.eof && c->err.eof && c->out.len == 0 &&
		    c->err.len == 0)
			break;
		if (c->pid == 0 && ssh_channel_is_eof(c->channel))
			break;
	}
}

static const char *
signal_name(int sig)
{
	switch (sig) {
	case SIGHUP: return "HUP";
	case SIGINT: return "INT";
	case SIGKILL: return "KILL";
	case SIGTERM: return "TERM";
	case SIGSEGV: return "SEGV";
	case SIGABRT: return "ABRT";
	case SIGPIPE: return "PIPE";
	case SIGQUIT: return "QUIT";
	default: return "USR1";
	}
}

/* The shell is gone or the client is: hang it up, reap it, report. */
static void
end_child(struct conn *c)
{
	if (c->pid <= 0)
		return;
	/* A shell blocked on its stdin or stdout wakes up now. */
	close_to_child(c);
	close_fd(&c->err_child);
	if (c->from_child != c->pty_master)
		close_fd(&c->from_child);
	if (!c->exited) {
		c->status = spawn_hangup(c->pid, SERVE_HANGUP_MS);
		c->exited = true;
	}
	if (c->channel != NULL && ssh_channel_is_open(c->channel)) {
		if (WIFEXITED(c->status))
			(void)ssh_channel_request_send_exit_status(c->channel,
			    WEXITSTATUS(c->status));
		else if (WIFSIGNALED(c->status))
			(void)ssh_channel_request_send_exit_signal(c->channel,
			    signal_name(WTERMSIG(c->status)), 0, "", "");
	}
	log_info("%s port %u: exit %s %d", c->peer, c->peer_port,
	    WIFEXITED(c->status) ? "status" : "signal",
	    WIFEXITED(c->status) ? WEXITSTATUS(c->status) :
	    WTERMSIG(c->status));
}

/*
 * From the login on, libssh must never wait: not for the window (we write
 * no more than it), not for the socket (nonblocking session).  libssh
 * takes EAGAIN from the socket as an error, so the socket itself stays
 * blocking, with a send timeout in case one send finds too little room.
 */
static int
relay_setup(struct conn *c)
{
	struct timeval	tv = { SERVE_SEND_TIMEOUT, 0 };

	if (setsockopt(ssh_get_fd(c->session), SOL_SOCKET, SO_SNDTIMEO, &tv,
	    sizeof(tv)) == -1) {
		error_fr(errno, "%s port %u: SO_SNDTIMEO", c->peer,
		    c->peer_port);
		return -1;
	}
	ssh_set_blocking(c->session, 0);
	return 0;
}

static void
channel_callbacks(struct conn *c)
{
	memset(&c->ccb, 0, sizeof(c->ccb));
	c->ccb.userdata = c;
	c->ccb.channel_pty_request_function = pty_request;
	c->ccb.channel_pty_window_change_function = window_change;
	c->ccb.channel_shell_request_function = shell_request;
	c->ccb.channel_exec_request_function = exec_request;
	c->ccb.channel_env_request_function = env_request;
	c->ccb.channel_subsystem_request_function = subsystem_request;
	ssh_callbacks_init(&c->ccb);
	ssh_set_channel_callbacks(c->channel, &c->ccb);
}

void
serve_channel_run(struct conn *c, ssh_event event)
{
	int	i;

	if (relay_setup(c) == -1)
		return;
	channel_callbacks(c);
	relay_channel(c, event);
	end_child(c);
	if (ssh_channel_is_open(c->channel)) {
		ssh_channel_send_eof(c->channel);
		ssh_channel_close(c->channel);
	}
	/* Let the client see the close, but not forever. */
	for (i = 0; i < 20 && (ssh_get_status(c->session) & (SSH_CLOSED |
	    SSH_CLOSED_ERROR)) == 0; i++)
		if (ssh_event_dopoll(event, 100) == SSH_ERROR)
			break;
}

void
serve_channel_free(struct conn *c)
{
	if (c->to_child != c->pty_master)
		close_fd(&c->to_child);
	if (c->from_child != c->pty_master)
		close_fd(&c->from_child);
	close_fd(&c->err_child);
	close_fd(&c->pty_master);
	close_fd(&c->pty_slave);
}
