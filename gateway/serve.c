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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "gateway/dirs.h"
#include "gateway/exitcode.h"
#include "gateway/identity.h"
#include "gateway/log.h"
#include "gateway/output.h"
#include "gateway/serve.h"
#include "gateway/shell.h"
#include "gateway/spawn.h"
#include "gateway/sshlib.h"
#include "gateway/str.h"
#include "gateway/xmalloc.h"

#define SERVE_IO_BUF	16384

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
	bool				 child_out_eof;
	bool				 child_err_eof;
	int				 status;
	bool				 exited;
	char				*auth_file;
};

static bool	use_syslog;
/* A connection told to stop (SIGTERM, SIGHUP) ends like a closed one. */
static volatile sig_atomic_t conn_stop;

static void
on_conn_stop(int sig)
{
	conn_stop = 1;
}

static void
slog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One line per event, to stderr or syslog (LOG_AUTH). */
static void
slog(const char *fmt, ...)
{
	va_list	 ap;
	char	*msg, *safe;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	if (use_syslog)
		syslog(LOG_AUTH | LOG_INFO, "%s", msg);
	else {
		char		when[32];
		time_t		t = time(NULL);
		struct tm	tm;

		localtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		safe = out_escape(msg);
		fprintf(stderr, "%s muxgate serve[%ld]: %s\n", when,
		    (long)getpid(), safe);
		free(safe);
	}
	free(msg);
}

/* ---- the host key ---- */

/*
 * Load the host key, making an Ed25519 one (0600) on first start.  A key
 * that others can read or write is refused, as sshd refuses it.
 */
static int
host_key(const char *path)
{
	struct stat	 st;
	ssh_key		 key = NULL, pub = NULL;
	unsigned char	*hash = NULL;
	size_t		 hlen;
	char		*fp;

	if (lstat(path, &st) == -1) {
		if (errno != ENOENT) {
			error_msg("host key %s: %s", path, strerror(errno));
			return -1;
		}
		if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK ||
		    ssh_pki_export_privkey_file(key, NULL, NULL, NULL,
		    path) != SSH_OK) {
			error_msg("cannot write a new host key to %s", path);
			ssh_key_free(key);
			return -1;
		}
		if (chmod(path, 0600) == -1) {
			error_msg("chmod %s: %s", path, strerror(errno));
			ssh_key_free(key);
			return -1;
		}
		slog("generated host key %s", path);
	} else {
		if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0 ||
		    (st.st_uid != 0 && st.st_uid != geteuid())) {
			error_msg("refusing host key %s: it must be a file of "
			    "this user or root, mode 0600", path);
			return -1;
		}
		if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL,
		    &key) != SSH_OK) {
			error_msg("cannot read host key %s", path);
			return -1;
		}
	}
	if (ssh_pki_export_privkey_to_pubkey(key, &pub) == SSH_OK &&
	    ssh_get_publickey_hash(pub, SSH_PUBLICKEY_HASH_SHA256, &hash,
	    &hlen) == 0) {
		fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash,
		    hlen);
		slog("host key %s %s", ssh_key_type_to_char(ssh_key_type(key)),
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
		slog("%s port %u: refused key for user %s: %s", c->peer,
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
	slog("%s port %u: accepted publickey %s for user %s: identity %s",
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
	char		 name[64];

	if (c->pty_master != -1 || c->pid != 0)
		return SSH_ERROR;
	c->ws.ws_col = (unsigned short)cols;
	c->ws.ws_row = (unsigned short)rows;
	c->ws.ws_xpixel = (unsigned short)px;
	c->ws.ws_ypixel = (unsigned short)py;
	snprintf(c->term, sizeof(c->term), "%s", term);
	if ((c->pty_master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1)
		return SSH_ERROR;
	if (grantpt(c->pty_master) == -1 || unlockpt(c->pty_master) == -1 ||
	    ptsname_r(c->pty_master, name, sizeof(name)) != 0 ||
	    (c->pty_slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1) {
		close(c->pty_master);
		c->pty_master = -1;
		return SSH_ERROR;
	}
	(void)ioctl(c->pty_master, TIOCSWINSZ, &c->ws);
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

	slog("%s port %u: refused subsystem %s", c->peer, c->peer_port,
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
start_shell(struct conn *c, const char *command)
{
	struct argv	argv = { 0 }, env = { 0 };
	int		in[2] = { -1, -1 }, out[2] = { -1, -1 }, er[2] = { -1, -1 };
	char		err[512];
	int		r = SSH_ERROR;

	if (c->pid != 0)
		return SSH_ERROR;
	if (write_auth_file(c, err, sizeof(err)) == -1) {
		slog("%s port %u: %s", c->peer, c->peer_port, err);
		return SSH_ERROR;
	}
	argv_add(&argv, c->o->self);
	argv_add(&argv, "shell");
	argv_add(&argv, "-f");
	argv_add(&argv, c->o->config);
	build_env(c, command, &env);
	if (c->pty_master != -1) {
		if (spawn_session(&argv, &env, c->pty_slave, -1, -1, -1, &c->pid,
		    err, sizeof(err)) == -1)
			goto out;
		close(c->pty_slave);
		c->pty_slave = -1;
		c->to_child = c->from_child = c->pty_master;
		c->child_err_eof = true;
	} else {
		if (pipe2(in, O_CLOEXEC) == -1 || pipe2(out, O_CLOEXEC) == -1 ||
		    pipe2(er, O_CLOEXEC) == -1 ||
		    spawn_session(&argv, &env, -1, in[0], out[1], er[1], &c->pid,
		    err, sizeof(err)) == -1)
			goto out;
		c->to_child = in[1];
		c->from_child = out[0];
		c->err_child = er[0];
		in[1] = out[0] = er[0] = -1;
	}
	slog("%s port %u: identity %s: %s", c->peer, c->peer_port,
	    policy_identity_name(c->id), command != NULL ? "command" : "shell");
	r = SSH_OK;
out:
	if (r != SSH_OK)
		slog("%s port %u: cannot start the shell: %s", c->peer,
		    c->peer_port, err);
	if (in[0] != -1) close(in[0]);
	if (in[1] != -1) close(in[1]);
	if (out[0] != -1) close(out[0]);
	if (out[1] != -1) close(out[1]);
	if (er[0] != -1) close(er[0]);
	if (er[1] != -1) close(er[1]);
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

static int
channel_data(ssh_session session, ssh_channel channel, void *data,
    uint32_t len, int is_stderr, void *userdata)
{
	struct conn	*c = userdata;
	ssize_t		 n;

	if (c->pid <= 0 || c->to_child == -1)
		return 0;	/* kept by libssh until there is a child */
	n = write(c->to_child, data, len);
	if (n == -1)
		return errno == EAGAIN || errno == EINTR ? 0 : (int)len;
	return (int)n;
}

static void
channel_eof(ssh_session session, ssh_channel channel, void *userdata)
{
	struct conn	*c = userdata;

	/* End of the client's input: a command reading stdin sees EOF. */
	if (c->pty_master == -1 && c->to_child != -1) {
		close(c->to_child);
		c->to_child = -1;
	}
}

/* Child output to the channel. */
static int
child_readable(socket_t fd, int revents, void *userdata)
{
	struct conn	*c = userdata;
	char		 buf[SERVE_IO_BUF];
	ssize_t		 n;
	bool		 is_err = fd == c->err_child;

	if ((revents & (POLLIN | POLLHUP | POLLERR)) == 0)
		return 0;
	n = read(fd, buf, sizeof(buf));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		if (is_err)
			c->child_err_eof = true;
		else
			c->child_out_eof = true;
		return -1;	/* removes the fd from the event */
	}
	if (is_err)
		(void)ssh_channel_write_stderr(c->channel, buf, (uint32_t)n);
	else
		(void)ssh_channel_write(c->channel, buf, (uint32_t)n);
	return 0;
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
	int	i;

	if (c->pid <= 0)
		return;
	if (!c->exited) {
		(void)kill(-c->pid, SIGHUP);
		for (i = 0; i < 200 && waitpid(c->pid, &c->status, WNOHANG) == 0;
		    i++)
			usleep(10000);
		if (i == 200) {
			(void)kill(-c->pid, SIGKILL);
			(void)waitpid(c->pid, &c->status, 0);
		}
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
	slog("%s port %u: exit %s %d", c->peer, c->peer_port,
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
			slog("%s port %u: too many authentication failures",
			    c->peer, c->peer_port);
			return -1;
		}
		if (conn_stop)
			return -1;
		if (ssh_event_dopoll(event, 1000) == SSH_ERROR ||
		    (ssh_get_status(c->session) & (SSH_CLOSED |
		    SSH_CLOSED_ERROR)) != 0) {
			slog("%s port %u: connection closed before login",
			    c->peer, c->peer_port);
			return -1;
		}
	}
	return 0;
}

static void
relay_channel(struct conn *c, ssh_event event)
{
	bool	added = false;

	while (ssh_channel_is_open(c->channel) && !conn_stop) {
		if (c->pid > 0 && !added) {
			ssh_event_add_fd(event, c->from_child, POLLIN,
			    child_readable, c);
			if (c->err_child != -1)
				ssh_event_add_fd(event, c->err_child, POLLIN,
				    child_readable, c);
			added = true;
		}
		if (ssh_event_dopoll(event, 100) == SSH_ERROR)
			break;
		if (c->pid > 0 && !c->exited &&
		    waitpid(c->pid, &c->status, WNOHANG) == c->pid)
			c->exited = true;
		/* Done when the shell exited and its output is all sent. */
		if (c->exited && c->child_out_eof && c->child_err_eof)
			break;
		if (c->exited && c->pty_master != -1) {
			/* A pty may still hold output: drain what is there. */
			struct pollfd p = { c->pty_master, POLLIN, 0 };
			while (!c->child_out_eof && poll(&p, 1, 0) > 0)
				(void)child_readable(c->pty_master, POLLIN, c);
			break;
		}
		if (c->pid == 0 && ssh_channel_is_eof(c->channel))
			break;
	}
	if (added) {
		ssh_event_remove_fd(event, c->from_child);
		if (c->err_child != -1)
			ssh_event_remove_fd(event, c->err_child);
	}
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
	if (ssh_handle_key_exchange(session) != SSH_OK) {
		slog("%s port %u: key exchange failed: %s", c.peer, c.peer_port,
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
		slog("cannot notify the listener: %s", strerror(errno));
	close(notify);
	memset(&ccb, 0, sizeof(ccb));
	ccb.userdata = &c;
	ccb.channel_pty_request_function = pty_request;
	ccb.channel_pty_window_change_function = window_change;
	ccb.channel_shell_request_function = shell_request;
	ccb.channel_exec_request_function = exec_request;
	ccb.channel_env_request_function = env_request;
	ccb.channel_subsystem_request_function = subsystem_request;
	ccb.channel_data_function = channel_data;
	ccb.channel_eof_function = channel_eof;
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
	pid_t	pid;
	int	fd;	/* readable once the connection logged in */
};

static void
drop_privileges(const char *user)
{
	struct passwd	*pw;

	if ((pw = getpwnam(user)) == NULL)
		fatal_msg("serve: no user %s", user);
	if (setgroups(0, NULL) == -1 && geteuid() == 0)
		fatal_msg("setgroups: %s", strerror(errno));
	if (initgroups(pw->pw_name, pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		fatal_msg("cannot become %s: %s", user, strerror(errno));
	if (pw->pw_uid != 0 && (setuid(0) != -1 || seteuid(0) != -1))
		fatal_msg("cannot become %s: root could be regained", user);
}

static void
close_startup(struct startup *s, size_t *n, size_t i)
{
	close(s[i].fd);
	s[i] = s[--(*n)];
}

static void
accept_one(const struct serve_opts *o, const struct policy *p, ssh_bind b,
    struct startup *s, size_t *n)
{
	ssh_session	session;
	int		pp[2];
	pid_t		pid;

	if ((session = ssh_new()) == NULL)
		return;
	if (ssh_bind_accept(b, session) != SSH_OK) {
		slog("accept: %s", ssh_get_error(b));
		ssh_free(session);
		return;
	}
	if (*n >= policy_gateway(p)->serve_max_startups) {
		slog("dropped a connection: %zu unauthenticated connections "
		    "already (max_startups)", *n);
		ssh_free(session);
		return;
	}
	if (pipe2(pp, O_CLOEXEC) == -1 || (pid = fork()) == -1) {
		slog("fork: %s", strerror(errno));
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
	(*n)++;
	ssh_free(session);	/* the child has it; this closes our copy */
}

static int
listen_on(const struct serve_opts *o, ssh_bind *bp)
{
	char		addr[64];
	unsigned	port;
	ssh_bind	b;

	if (policy_parse_listen(o->listen, addr, sizeof(addr), &port) == -1) {
		error_msg("serve: bad listen address %s (ADDR:PORT)", o->listen);
		return -1;
	}
	if ((b = ssh_bind_new()) == NULL)
		return -1;
	if (ssh_bind_options_set(b, SSH_BIND_OPTIONS_BINDADDR, addr) != 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_BINDPORT, &port) != 0 ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_HOSTKEY, o->host_key) != 0 ||
	    ssh_bind_listen(b) != SSH_OK) {
		error_msg("serve: cannot listen on %s: %s", o->listen,
		    ssh_get_error(b));
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
	size_t		 n = 0, i, max = policy_gateway(p)->serve_max_startups;
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
		fatal_msg("signalfd: %s", strerror(errno));
	s = xcalloc(max + 1, sizeof(*s));
	pfd = xcalloc(max + 3, sizeof(*pfd));
	slog("listening on %s", o->listen);
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
			fatal_msg("poll: %s", strerror(errno));
		/* A startup that logged in or died no longer counts. */
		for (i = n; i-- > 0;)
			if (pfd[2 + i].revents != 0)
				close_startup(s, &n, i);
		if (pfd[1].revents & POLLIN) {
			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				if (si.ssi_signo != SIGCHLD) {
					slog("stopping on signal %u",
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
	use_syslog = o.syslog || policy_gateway(p)->serve_syslog;
	if (use_syslog)
		openlog("muxgate-serve", LOG_PID, LOG_AUTH);
	if (sshlib_load(err, sizeof(err)) == -1) {
		error_msg("serve: %s", err);
		policy_free(p);
		return MG_FAIL;
	}
	if (ssh_init() != SSH_OK || host_key(o.host_key) == -1 ||
	    listen_on(&o, &b) == -1) {
		policy_free(p);
		return MG_FAIL;
	}
	if (o.user != NULL)
		drop_privileges(o.user);
	code = serve_loop(&o, p, b);
	ssh_bind_free(b);
	ssh_finalize();
	policy_free(p);
	return code;
}
