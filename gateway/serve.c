/*
 * serve.c — `muxgate serve`: the gateway as its own SSH server (libssh),
 * for hosts where the system sshd cannot be touched.
 *
 * Like sshd: the listener accepts and forks one process per connection.
 * That process does the key exchange, authenticates by public key only
 * against the policy (identity_for_key(), the same check as the
 * ForceCommand path), then starts `muxgate shell` on a pseudo-terminal
 * or pipes, exactly as sshd would start it, and relays the channel.  The
 * shell never learns which server it runs under: it gets SSH_USER_AUTH,
 * SSH_CONNECTION and SSH_ORIGINAL_COMMAND as from sshd.
 *
 * Everything else a client may ask for is refused with a proper SSH
 * failure: other authentication methods, port forwarding, X11, agent
 * forwarding, subsystems (sftp), environment beyond TERM and LANG.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gateway/dirs.h"
#include "gateway/exitcode.h"
#include "gateway/identity.h"
#include "gateway/log.h"
#include "gateway/serve.h"
#include "gateway/shell.h"
#include "gateway/spawn.h"
#include "gateway/sshlib.h"
#include "gateway/str.h"
#include "gateway/xmalloc.h"

/*
 * One bounded buffer per direction, as sudo's exec_pty.c does: reading
 * fills it, writing drains it, and a full buffer stops the reading.  What
 * the shell has not taken yet stays in libssh, whose channel window then
 * holds the client back; what the client has not taken yet stays in the
 * shell's pipe, which then blocks the shell.  Nothing grows without bound
 * and nothing here ever blocks, so a client that goes away is noticed.
 */
#define SERVE_IO_BUF	32768
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

struct iobuf {
	char	 data[SERVE_IO_BUF];
	size_t	 off;		/* first pending byte */
	size_t	 len;		/* pending bytes from off */
	bool	 eof;		/* no more will be read into it */
};

struct serve_opts {
	const char	*config;
	const char	*listen;
	const char	*host_key;
	const char	*user;
	char		 self[4096];	/* this binary, for the shells */
	bool		 syslog;
};

/* One connection, in its own process. */
struct conn {
	const struct serve_opts		*o;
	const struct policy		*policy;
	ssh_session			 session;
	ssh_channel			 channel;
	char				 peer[INET6_ADDRSTRLEN];
	unsigned			 peer_port;
	char				 local[INET6_ADDRSTRLEN];
	unsigned			 local_port;
	char				*ssh_user;
	const struct policy_identity	*id;
	char				*key_line;	/* "TYPE BASE64" */
	char				 fp[POLICY_FP_LEN];
	unsigned			 tries;
	bool				 authenticated;
	/* the channel */
	int				 pty_master;
	int				 pty_slave;
	struct winsize			 ws;
	char				 term[64];
	char				 lang[64];
	pid_t				 pid;
	int				 to_child;	/* stdin, or the pty */
	int				 from_child;	/* stdout, or the pty */
	int				 err_child;
	struct iobuf			 in;		/* client -> shell */
	struct iobuf			 out;		/* shell stdout -> client */
	struct iobuf			 err;		/* shell stderr -> client */
	int				 status;
	bool				 exited;
	char				*auth_file;
};

/* A connection told to stop (SIGTERM, SIGHUP) ends like a closed one. */
static volatile sig_atomic_t conn_stop;

static void
on_conn_stop(int sig)
{
	conn_stop = 1;
}

/* ---- the host key ---- */

/*
 * Load the host key, making an Ed25519 one (0600) on first start.  A key
 * that others can read or write is refused, as sshd refuses it.  -1 with
 * ERR set when it cannot be had.
 */
static int
host_key(const char *path, char *err, size_t errlen)
{
	struct stat	 st;
	ssh_key		 key = NULL, pub = NULL;
	unsigned char	*hash = NULL;
	size_t		 hlen;
	char		*fp;

	if (lstat(path, &st) == -1) {
		if (errno != ENOENT) {
			snprintf(err, errlen, "host key %s: %s", path,
			    strerror(errno));
			return -1;
		}
		if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK ||
		    ssh_pki_export_privkey_file(key, NULL, NULL, NULL,
		    path) != SSH_OK) {
			snprintf(err, errlen, "cannot write a new host key "
			    "to %s", path);
			ssh_key_free(key);
			return -1;
		}
		if (chmod(path, 0600) == -1) {
			snprintf(err, errlen, "chmod %s: %s", path,
			    strerror(errno));
			ssh_key_free(key);
			return -1;
		}
		log_info("generated host key %s", path);
	} else {
		if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0 ||
		    (st.st_uid != 0 && st.st_uid != geteuid())) {
			snprintf(err, errlen, "refusing host key %s: it must "
			    "be a file of this user or root, mode 0600", path);
			return -1;
		}
		if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL,
		    &key) != SSH_OK) {
			snprintf(err, errlen, "cannot read host key %s", path);
			return -1;
		}
	}
	if (ssh_pki_export_privkey_to_pubkey(key, &pub) == SSH_OK &&
	    ssh_get_publickey_hash(pub, SSH_PUBLICKEY_HASH_SHA256, &hash,
	    &hlen) == 0) {
		fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash,
		    hlen);
		log_info("host key %s %s", ssh_key_type_to_char(ssh_key_type(key)),
		    fp != NULL ? fp : "?");
		ssh_string_free_char(fp);
		ssh_clean_pubkey_hash(&hash);
	}
	ssh_key_free(pub);
	ssh_key_free(key);
	return 0;
}

/* ---- authentication ---- */

/* The address and port of SS as text; "unknown" for other families. */
static void
sockaddr_text(const struct sockaddr_storage *ss, char *buf, size_t len,
    unsigned *port)
{
	const struct sockaddr_in	*s4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6	*s6 = (const struct sockaddr_in6 *)ss;

	snprintf(buf, len, "unknown");
	*port = 0;
	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &s4->sin_addr, buf, (socklen_t)len);
		*port = ntohs(s4->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &s6->sin6_addr, buf, (socklen_t)len);
		*port = ntohs(s6->sin6_port);
	}
}

static void
peer_of(struct conn *c)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);
	int			fd = ssh_get_fd(c->session);

	memset(&ss, 0, sizeof(ss));
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1)
		ss.ss_family = AF_UNSPEC;
	sockaddr_text(&ss, c->peer, sizeof(c->peer), &c->peer_port);
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		ss.ss_family = AF_UNSPEC;
	sockaddr_text(&ss, c->local, sizeof(c->local), &c->local_port);
}

static int
auth_pubkey(ssh_session session, const char *user, struct ssh_key_struct *pubkey,
    char state, void *userdata)
{
	struct conn			*c = userdata;
	const struct policy_identity	*id;
	unsigned char			*blob = NULL;
	size_t				 bloblen;
	char				*b64 = NULL, *line = NULL, why[256];
	const char			*reason, *errstr;
	enum audit_kind			 kind;

	if (c->ssh_user == NULL)
		c->ssh_user = xstrdup(user);
	if ((state != SSH_PUBLICKEY_STATE_NONE &&
	    state != SSH_PUBLICKEY_STATE_VALID) ||
	    ssh_pki_export_pubkey_base64(pubkey, &b64) != SSH_OK)
		goto deny;
	xasprintf(&line, "%s %s", ssh_key_type_to_char(ssh_key_type(pubkey)),
	    b64);
	ssh_string_free_char(b64);
	if (policy_key_parse(line, &blob, &bloblen, &errstr) == -1)
		goto deny;
	id = identity_for_key(c->policy, blob, bloblen, c->peer, why,
	    sizeof(why), &reason, &kind);
	if (id == NULL) {
		/* OpenSSH never signs with a key refused at the query. */
		log_info("%s port %u: refused key for user %s: %s", c->peer,
		    c->peer_port, user, why);
		goto deny;
	}
	if (state == SSH_PUBLICKEY_STATE_NONE) {
		/* A probe: yes, now prove you hold it. */
		free(blob);
		free(line);
		return SSH_AUTH_SUCCESS;
	}
	policy_key_fingerprint(blob, bloblen, c->fp);
	free(blob);
	free(c->key_line);
	c->key_line = line;
	c->id = id;
	c->authenticated = true;
	log_info("%s port %u: accepted publickey %s for user %s: identity %s",
	    c->peer, c->peer_port, c->fp, user, policy_identity_name(id));
	return SSH_AUTH_SUCCESS;
deny:
	free(blob);
	free(line);
	c->tries++;
	return SSH_AUTH_DENIED;
}

/* ---- the channel ---- */

static ssh_channel
channel_open(ssh_session session, void *userdata)
{
	struct conn	*c = userdata;

	if (c->channel != NULL || !c->authenticated)
		return NULL;	/* one session per connection */
	c->channel = ssh_channel_new(session);
	return c->channel;
}

static int
pty_request(ssh_session session, ssh_channel channel, const char *term,
    int cols, int rows, int px, int py, void *userdata)
{
	struct conn	*c = userdata;
	char		 err[256];

	if (c->pty_master != -1 || c->pid != 0)
		return SSH_ERROR;
	c->ws.ws_col = (unsigned short)cols;
	c->ws.ws_row = (unsigned short)rows;
	c->ws.ws_xpixel = (unsigned short)px;
	c->ws.ws_ypixel = (unsigned short)py;
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
	c->ws.ws_col = (unsigned short)cols;
	c->ws.ws_row = (unsigned short)rows;
	c->ws.ws_xpixel = (unsigned short)px;
	c->ws.ws_ypixel = (unsigned short)py;
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

/* What sshd tells a ForceCommand or login shell: the key that logged in. */
static int
write_auth_file(struct conn *c, char *err, size_t errlen)
{
	const char	*state = policy_gateway(c->policy)->state;
	char		*line;
	int		 fd;
	ssize_t		 len;

	if (dirs_private(state, err, errlen) == -1)
		return -1;
	xasprintf(&c->auth_file, "%s/auth-XXXXXX", state);
	if ((fd = mkstemp(c->auth_file)) == -1) {
		snprintf(err, errlen, "%s: %s", c->auth_file, strerror(errno));
		free(c->auth_file);
		c->auth_file = NULL;
		return -1;
	}
	len = xasprintf(&line, "publickey %s\n", c->key_line);
	if (write(fd, line, (size_t)len) != len || close(fd) == -1) {
		snprintf(err, errlen, "%s: %s", c->auth_file, strerror(errno));
		free(line);
		return -1;
	}
	free(line);
	return 0;
}

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

static int
start_shell(struct conn *c, const char *command)
{
	struct argv	argv = { 0 }, env = { 0 };
	int		fds[3];
	char		err[512];
	int		r = SSH_ERROR;

	if (c->pid != 0)
		return SSH_ERROR;
	if (write_auth_file(c, err, sizeof(err)) == -1) {
		error_f("%s port %u: %s", c->peer, c->peer_port, err);
		return SSH_ERROR;
	}
	argv_add(&argv, c->o->self);
	argv_add(&argv, "shell");
	argv_add(&argv, "-f");
	argv_add(&argv, c->o->config);
	build_env(c, command, &env);
	if (c->pty_master != -1) {
		if (spawn_session(&argv, &env, c->pty_slave, NULL, &c->pid,
		    err, sizeof(err)) == -1)
			goto out;
		close(c->pty_slave);
		c->pty_slave = -1;
		c->to_child = c->from_child = c->pty_master;
		c->err.eof = true;
	} else {
		if (spawn_session(&argv, &env, -1, fds, &c->pid, err,
		    sizeof(err)) == -1)
			goto out;
		c->to_child = fds[0];
		c->from_child = fds[1];
		c->err_child = fds[2];
	}
	/* Our ends only: the shell's stay blocking, as under sshd. */
	if (set_nonblock(c->to_child) == -1 ||
	    set_nonblock(c->from_child) == -1 ||
	    (c->err_child != -1 && set_nonblock(c->err_child) == -1)) {
		snprintf(err, sizeof(err), "O_NONBLOCK: %s", strerror(errno));
		goto out;
	}
	log_info("%s port %u: identity %s: %s", c->peer, c->peer_port,
	    policy_identity_name(c->id), command != NULL ? "command" : "shell");
	r = SSH_OK;
out:
	if (r != SSH_OK)
		error_f("%s port %u: cannot start the shell: %s", c->peer,
		    c->peer_port, err);
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

/* ---- the relay: bounded buffers, nothing blocks ---- */

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
	if (!b->eof && iobuf_space(b) + b->off > 0) {
		iobuf_compact(b);
		r = ssh_channel_read_nonblocking(c->channel, b->data + b->len,
		    (uint32_t)iobuf_space(b), 0);
		if (r > 0) {
			b->len += (size_t)r;
			moved = 1;
		} else if (r == SSH_EOF || (r == 0 &&
		    ssh_channel_is_eof(c->channel)))
			b->eof = true;
	}
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

	while (!conn_stop && !client_gone(c)) {
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

static int
authenticate(struct conn *c, ssh_event event)
{
	unsigned	max = policy_gateway(c->policy)->serve_max_auth_tries;

	while (!c->authenticated || c->channel == NULL) {
		if (c->tries >= max) {
			log_info("%s port %u: too many authentication failures",
			    c->peer, c->peer_port);
			return -1;
		}
		if (conn_stop)
			return -1;
		if (ssh_event_dopoll(event, 1000) == SSH_ERROR ||
		    (ssh_get_status(c->session) & (SSH_CLOSED |
		    SSH_CLOSED_ERROR)) != 0) {
			log_info("%s port %u: connection closed before login",
			    c->peer, c->peer_port);
			return -1;
		}
	}
	return 0;
}

static void
conn_free(struct conn *c)
{
	if (c->to_child != -1 && c->to_child != c->pty_master)
		close(c->to_child);
	if (c->from_child != -1 && c->from_child != c->pty_master)
		close(c->from_child);
	if (c->err_child != -1)
		close(c->err_child);
	if (c->pty_master != -1)
		close(c->pty_master);
	if (c->pty_slave != -1)
		close(c->pty_slave);
	if (c->auth_file != NULL) {
		(void)unlink(c->auth_file);
		free(c->auth_file);
	}
	free(c->key_line);
	free(c->ssh_user);
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

static long
ms_until(const struct timespec *end)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (end->tv_sec - now.tv_sec) * 1000 +
	    (end->tv_nsec - now.tv_nsec) / 1000000;
}

/*
 * The client's identification line must come within SECS: a connection
 * that sends nothing holds a startup for seconds, not the whole login
 * grace time.  Our own line goes first, as the first step of the key
 * exchange, done without blocking so that the clock can be watched.
 */
static int
await_banner(struct conn *c, unsigned secs)
{
	struct pollfd	p = { ssh_get_fd(c->session), POLLIN, 0 };
	struct timespec	end;
	long		ms;
	int		r;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += secs;
	ssh_set_blocking(c->session, 0);
	for (;;) {
		r = ssh_handle_key_exchange(c->session);
		if (r == SSH_ERROR || (ssh_get_status(c->session) &
		    (SSH_CLOSED | SSH_CLOSED_ERROR)) != 0) {
			log_info("%s port %u: connection closed before its banner",
			    c->peer, c->peer_port);
			return -1;
		}
		if (r == SSH_OK || ssh_get_clientbanner(c->session) != NULL)
			break;
		if ((ms = ms_until(&end)) <= 0) {
			log_info("%s port %u: no SSH banner within %us", c->peer,
			    c->peer_port, secs);
			return -1;
		}
		if (poll(&p, 1, (int)ms) == -1 && errno != EINTR)
			return -1;
	}
	ssh_set_blocking(c->session, 1);
	return 0;
}

/* The connection process.  Never returns. */
static void __attribute__((noreturn))
connection(const struct serve_opts *o, const struct policy *p,
    ssh_session session, int notify)
{
	struct ssh_server_callbacks_struct	scb;
	struct ssh_channel_callbacks_struct	ccb;
	struct conn				c;
	ssh_event				event = NULL;
	int					i;

	memset(&c, 0, sizeof(c));
	c.o = o;
	c.policy = p;
	c.session = session;
	c.pty_master = c.pty_slave = c.to_child = c.from_child = -1;
	c.err_child = -1;
	/* The login grace time: whatever happens before login, it ends. */
	signal(SIGALRM, SIG_DFL);
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_conn_stop;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
	}
	alarm(policy_gateway(p)->serve_login_grace);
	peer_of(&c);
	memset(&scb, 0, sizeof(scb));
	scb.userdata = &c;
	scb.auth_pubkey_function = auth_pubkey;
	scb.channel_open_request_session_function = channel_open;
	ssh_callbacks_init(&scb);
	ssh_set_server_callbacks(session, &scb);
	ssh_set_auth_methods(session, SSH_AUTH_METHOD_PUBLICKEY);
	if (await_banner(&c, policy_gateway(p)->serve_banner_timeout) == -1)
		goto out;
	if (ssh_handle_key_exchange(session) != SSH_OK) {
		log_info("%s port %u: key exchange failed: %s", c.peer, c.peer_port,
		    ssh_get_error(session));
		goto out;
	}
	if ((event = ssh_event_new()) == NULL ||
	    ssh_event_add_session(event, session) != SSH_OK)
		goto out;
	if (authenticate(&c, event) == -1 || conn_stop)
		goto out;
	alarm(0);
	/* Tell the listener this connection no longer counts as a startup. */
	if (write(notify, "a", 1) != 1)
		error_fr(errno, "cannot notify the listener");
	close(notify);
	if (relay_setup(&c) == -1)
		goto out;
	memset(&ccb, 0, sizeof(ccb));
	ccb.userdata = &c;
	ccb.channel_pty_request_function = pty_request;
	ccb.channel_pty_window_change_function = window_change;
	ccb.channel_shell_request_function = shell_request;
	ccb.channel_exec_request_function = exec_request;
	ccb.channel_env_request_function = env_request;
	ccb.channel_subsystem_request_function = subsystem_request;
	ssh_callbacks_init(&ccb);
	ssh_set_channel_callbacks(c.channel, &ccb);
	relay_channel(&c, event);
	end_child(&c);
	if (ssh_channel_is_open(c.channel)) {
		ssh_channel_send_eof(c.channel);
		ssh_channel_close(c.channel);
	}
	/* Let the client see the close, but not forever. */
	for (i = 0; i < 20 && (ssh_get_status(session) & (SSH_CLOSED |
	    SSH_CLOSED_ERROR)) == 0; i++)
		if (ssh_event_dopoll(event, 100) == SSH_ERROR)
			break;
out:
	if (event != NULL)
		ssh_event_free(event);
	conn_free(&c);
	ssh_disconnect(session);
	ssh_free(session);
	_exit(0);
}

/* ---- the listener ---- */

struct startup {
	pid_t		pid;
	int		fd;	/* readable once the connection logged in */
	unsigned char	src[16];	/* the source, as source_of() */
};

/*
 * The source a per-source limit counts against: the IPv4 address, or
 * the /64 of an IPv6 one (what one customer of a provider gets).
 */
static void
source_of(const struct sockaddr_storage *ss, unsigned char src[16])
{
	const struct sockaddr_in	*s4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6	*s6 = (const struct sockaddr_in6 *)ss;

	memset(src, 0, 16);
	if (ss->ss_family == AF_INET)
		memcpy(src + 12, &s4->sin_addr, 4);
	else if (ss->ss_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		memcpy(src + 12, s6->sin6_addr.s6_addr + 12, 4);
	else if (ss->ss_family == AF_INET6) {
		src[0] = 0xff;	/* apart from every IPv4 address */
		memcpy(src + 1, s6->sin6_addr.s6_addr, 8);
	}
}

/*
 * sshd's MaxStartups START:RATE:FULL: below START every connection is
 * taken; from START on, a new one is dropped with RATE percent chance,
 * rising linearly to 100 % at FULL.  The random drop keeps a flood from
 * locking everybody out at a fixed count: a real client that retries
 * gets through while the flood only holds connections.
 */
static bool
early_drop(const struct policy_gateway *g, size_t n)
{
	unsigned long	p;

	if (n < g->serve_startups_begin)
		return false;
	if (n >= g->serve_startups_full)
		return true;
	p = 100 - g->serve_startups_rate;
	p *= n - g->serve_startups_begin;
	p /= g->serve_startups_full - g->serve_startups_begin;
	p += g->serve_startups_rate;
	return arc4random_uniform(100) < p;
}

static int
drop_privileges(const char *user, char *err, size_t errlen)
{
	struct passwd	*pw;

	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errlen, "serve: no user %s", user);
		return -1;
	}
	if (setgroups(0, NULL) == -1 && geteuid() == 0) {
		snprintf(err, errlen, "setgroups: %s", strerror(errno));
		return -1;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
		snprintf(err, errlen, "cannot become %s: %s", user,
		    strerror(errno));
		return -1;
	}
	if (pw->pw_uid != 0 && (setuid(0) != -1 || seteuid(0) != -1)) {
		snprintf(err, errlen, "cannot become %s: root could be "
		    "regained", user);
		return -1;
	}
	return 0;
}

static void
close_startup(struct startup *s, size_t *n, size_t i)
{
	close(s[i].fd);
	s[i] = s[--(*n)];
}

/* Whether a new connection from SS is dropped; logged if it is. */
static bool
startup_refused(const struct policy_gateway *g, const struct startup *s,
    size_t n, const struct sockaddr_storage *ss, const unsigned char src[16])
{
	char		peer[INET6_ADDRSTRLEN];
	unsigned	port, same = 0;
	size_t		i;

	for (i = 0; i < n; i++)
		if (memcmp(s[i].src, src, sizeof(s[i].src)) == 0)
			same++;
	sockaddr_text(ss, peer, sizeof(peer), &port);
	if (same >= g->serve_per_source_startups) {
		log_info("%s port %u: dropped a connection: %u unauthenticated "
		    "connections from there already (per_source_max_startups)",
		    peer, port, same);
		return true;
	}
	if (early_drop(g, n)) {
		log_info("%s port %u: dropped a connection: %zu unauthenticated "
		    "connections already (max_startups %u:%u:%u)", peer, port,
		    n, g->serve_startups_begin, g->serve_startups_rate,
		    g->serve_startups_full);
		return true;
	}
	return false;
}

static void
accept_one(const struct serve_opts *o, const struct policy *p, ssh_bind b,
    struct startup *s, size_t *n)
{
	ssh_session		session;
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);
	unsigned char		src[16];
	int			pp[2];
	pid_t			pid;

	if ((session = ssh_new()) == NULL)
		return;
	if (ssh_bind_accept(b, session) != SSH_OK) {
		error_f("accept: %s", ssh_get_error(b));
		ssh_free(session);
		return;
	}
	memset(&ss, 0, sizeof(ss));
	if (getpeername(ssh_get_fd(session), (struct sockaddr *)&ss,
	    &len) == -1)
		ss.ss_family = AF_UNSPEC;
	source_of(&ss, src);
	if (startup_refused(policy_gateway(p), s, *n, &ss, src)) {
		ssh_free(session);
		return;
	}
	if (pipe2(pp, O_CLOEXEC) == -1) {
		error_fr(errno, "pipe2");
		ssh_free(session);
		return;
	}
	if ((pid = fork()) == -1) {
		error_fr(errno, "fork");
		close(pp[0]);
		close(pp[1]);
		ssh_free(session);
		return;
	}
	if (pid == 0) {
		close(pp[0]);
		ssh_bind_free(b);
		connection(o, p, session, pp[1]);
	}
	close(pp[1]);
	s[*n].pid = pid;
	s[*n].fd = pp[0];
	memcpy(s[*n].src, src, sizeof(s[*n].src));
	(*n)++;
	ssh_free(session);	/* the child has it; this closes our copy */
}

static int
listen_on(const struct serve_opts *o, ssh_bind *bp, char *err, size_t errlen)
{
	char		addr[64];
	unsigned	port;
	ssh_bind	b;

	if (policy_parse_listen(o->listen, addr, sizeof(addr), &port) == -1) {
		snprintf(err, errlen, "serve: bad listen address %s (ADDR:PORT)",
		    o->listen);
		return -1;
	}
	if ((b = ssh_bind_new()) == NULL) {
		snprintf(err, errlen, "serve: cannot listen on %s: out of "
		    "memory", o->listen);
		return -1;
	}
	if (ssh_bind_options_set(b, SSH_BIND_OPTIONS_BINDADDR, addr) != 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_BINDPORT, &port) != 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_HOSTKEY, o->host_key) != 0 ||
	    ssh_bind_listen(b) != SSH_OK) {
		snprintf(err, errlen, "serve: cannot listen on %s: %s",
		    o->listen, ssh_get_error(b));
		ssh_bind_free(b);
		return -1;
	}
	*bp = b;
	return 0;
}

static int
serve_loop(const struct serve_opts *o, const struct policy *p, ssh_bind b)
{
	struct startup	*s;
	struct pollfd	*pfd;
	sigset_t	 set;
	size_t		 n = 0, i, max = policy_gateway(p)->serve_startups_full;
	int		 sfd, status;
	pid_t		 pid;
	struct signalfd_siginfo si;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if ((sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) == -1)
		fatal_fr(errno, "signalfd");
	s = xcalloc(max + 1, sizeof(*s));
	pfd = xcalloc(max + 3, sizeof(*pfd));
	log_info("listening on %s", o->listen);
	for (;;) {
		pfd[0].fd = ssh_bind_get_fd(b);
		pfd[0].events = POLLIN;
		pfd[1].fd = sfd;
		pfd[1].events = POLLIN;
		for (i = 0; i < n; i++) {
			pfd[2 + i].fd = s[i].fd;
			pfd[2 + i].events = POLLIN;
		}
		if (poll(pfd, 2 + n, -1) == -1 && errno != EINTR)
			fatal_fr(errno, "poll");
		/* A startup that logged in or died no longer counts. */
		for (i = n; i-- > 0;)
			if (pfd[2 + i].revents != 0)
				close_startup(s, &n, i);
		if (pfd[1].revents & POLLIN) {
			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				if (si.ssi_signo != SIGCHLD) {
					log_info("stopping on signal %u",
					    si.ssi_signo);
					goto out;
				}
			while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
				;
		}
		if (pfd[0].revents & POLLIN) {
			/* The child inherits the default signal state. */
			sigprocmask(SIG_UNBLOCK, &set, NULL);
			accept_one(o, p, b, s, &n);
			sigprocmask(SIG_BLOCK, &set, NULL);
		}
	}
out:
	for (i = 0; i < n; i++)
		close(s[i].fd);
	free(s);
	free(pfd);
	close(sfd);
	return MG_OK;
}

/* Everything that can stop the start: -1 with ERR set. */
static int
serve_start(const struct serve_opts *o, ssh_bind *bp, char *err,
    size_t errlen)
{
	if (ssh_init() != SSH_OK) {
		snprintf(err, errlen, "serve: cannot initialise libssh");
		return -1;
	}
	if (host_key(o->host_key, err, errlen) == -1 ||
	    listen_on(o, bp, err, errlen) == -1)
		return -1;
	/* Listening, with the host key read: root is needed no more. */
	if (o->user != NULL && drop_privileges(o->user, err, errlen) == -1)
		return -1;
	return 0;
}

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: muxgate serve [-f CONFIG] [--listen ADDR:PORT] "
	    "[--host-key FILE] [--user NAME] [--syslog]\n");
}

int
serve_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "host-key", required_argument, NULL, 'k' },
		{ "user", required_argument, NULL, 'u' },
		{ "syslog", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct serve_opts	 o;
	struct policy		*p;
	ssh_bind		 b = NULL;
	ssize_t			 len;
	char			 err[512];
	int			 ch, code;

	memset(&o, 0, sizeof(o));
	o.config = MUXGATE_DEFAULT_CONFIG;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:f:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h': usage(stdout); return MG_OK;
		case 'f': o.config = optarg; break;
		case 'l': o.listen = optarg; break;
		case 'k': o.host_key = optarg; break;
		case 'u': o.user = optarg; break;
		case 's': o.syslog = true; break;
		case ':':
			error_msg("serve: %s needs a value", argv[optind - 1]);
			usage(stderr);
			return MG_USAGE;
		default:
			error_msg("serve: bad option %s", argv[optind - 1]);
			usage(stderr);
			return MG_USAGE;
		}
	}
	if (optind != argc) {
		error_msg("serve: unexpected argument %s", argv[optind]);
		usage(stderr);
		return MG_USAGE;
	}
	if (geteuid() == 0 && o.user == NULL) {
		error_msg("serve: refusing to run as root without --user NAME");
		return MG_FAIL;
	}
	if ((len = readlink("/proc/self/exe", o.self, sizeof(o.self) - 1)) <= 0)
		fatal_msg("cannot find this binary: %s", strerror(errno));
	o.self[len] = '\0';
	/* The config path is passed on: make it absolute. */
	if (o.config[0] != '/') {
		char *abs = realpath(o.config, NULL);
		if (abs == NULL) {
			error_msg("%s: %s", o.config, strerror(errno));
			return MG_FAIL;
		}
		o.config = abs;
	}
	if ((p = shell_load_policy(o.config)) == NULL)
		return MG_FAIL;
	if (o.listen == NULL)
		o.listen = policy_gateway(p)->serve_listen;
	if (o.host_key == NULL)
		o.host_key = policy_gateway(p)->serve_host_key;
	if (sshlib_load(err, sizeof(err)) == -1) {
		error_msg("serve: %s", err);
		policy_free(p);
		return MG_FAIL;
	}
	/* From here on, one line per event: the server's log. */
	if (o.syslog || policy_gateway(p)->serve_syslog)
		log_set_sink(LOG_SINK_SYSLOG, "muxgate-serve");
	else
		log_set_sink(LOG_SINK_STDERR_TIMESTAMPED, "muxgate serve");
	if (serve_start(&o, &b, err, sizeof(err)) == -1) {
		/* Whoever started it learns why not, as from any command. */
		log_set_sink(LOG_SINK_STDERR, NULL);
		error_msg("%s", err);
		if (b != NULL)
			ssh_bind_free(b);
		policy_free(p);
		return MG_FAIL;
	}
	code = serve_loop(&o, p, b);
	ssh_bind_free(b);
	ssh_finalize();
	policy_free(p);
	return code;
}
