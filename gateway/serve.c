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
 *
 * Here: the listener, its limits on connections not logged in yet, and
 * the connection process; the login is in serve-auth.c, the channel and
 * the shell in serve-channel.c.
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
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gateway/exitcode.h"
#include "gateway/log.h"
#include "gateway/monotime.h"
#include "gateway/serve.h"
#include "gateway/serve-int.h"
#include "gateway/shell.h"
#include "gateway/sshlib.h"
#include "gateway/xmalloc.h"

volatile sig_atomic_t serve_conn_stop;

static void
on_conn_stop(int sig)
{
	serve_conn_stop = 1;
}

/* ---- one connection, in its own process ---- */

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
	long long	end = monotime_ms() + secs * 1000LL, ms;
	int		r;

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
		if ((ms = end - monotime_ms()) <= 0) {
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

static void
conn_init(struct conn *c, const struct serve_opts *o, const struct policy *p,
    ssh_session session)
{
	struct sigaction	sa;

	memset(c, 0, sizeof(*c));
	c->o = o;
	c->policy = p;
	c->session = session;
	c->pty_master = c->pty_slave = c->to_child = c->from_child = -1;
	c->err_child = -1;
	/* The login grace time: whatever happens before login, it ends. */
	signal(SIGALRM, SIG_DFL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_conn_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	alarm(policy_gateway(p)->serve_login_grace);
	peer_of(c);
}

/* The connection process.  Never returns. */
static void __attribute__((noreturn))
connection(const struct serve_opts *o, const struct policy *p,
    ssh_session session, int notify)
{
	struct conn	c;
	ssh_event	event = NULL;

	conn_init(&c, o, p, session);
	serve_auth_init(&c);
	if (await_banner(&c, policy_gateway(p)->serve_banner_timeout) == -1)
		goto out;
	if (ssh_handle_key_exchange(session) != SSH_OK) {
		log_info("%s port %u: key exchange failed: %s", c.peer,
		    c.peer_port, ssh_get_error(session));
		goto out;
	}
	if ((event = ssh_event_new()) == NULL ||
	    ssh_event_add_session(event, session) != SSH_OK)
		goto out;
	if (serve_auth_wait(&c, event) == -1 || serve_conn_stop)
		goto out;
	alarm(0);
	/* Tell the listener this connection no longer counts as a startup. */
	if (write(notify, "a", 1) != 1)
		error_fr(errno, "cannot notify the listener");
	close(notify);
	serve_channel_run(&c, event);
out:
	if (event != NULL)
		ssh_event_free(event);
	serve_channel_free(&c);
	serve_auth_free(&c);
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

/* Reap the connections that ended; true when told to stop. */
static bool
stop_signalled(int sfd)
{
	struct signalfd_siginfo	si;
	int			status;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		if (si.ssi_signo != SIGCHLD) {
			log_info("stopping on signal %u", si.ssi_signo);
			return true;
		}
	while (waitpid(-1, &status, WNOHANG) > 0)
		;
	return false;
}

static int
serve_loop(const struct serve_opts *o, const struct policy *p, ssh_bind b)
{
	struct startup	*s;
	struct pollfd	*pfd;
	sigset_t	 set;
	size_t		 n = 0, i, max = policy_gateway(p)->serve_startups_full;
	int		 sfd;

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
		if ((pfd[1].revents & POLLIN) && stop_signalled(sfd))
			break;
		if (pfd[0].revents & POLLIN) {
			/* The child inherits the default signal state. */
			sigprocmask(SIG_UNBLOCK, &set, NULL);
			accept_one(o, p, b, s, &n);
			sigprocmask(SIG_BLOCK, &set, NULL);
		}
	}
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
	if (serve_host_key(o->host_key, err, errlen) == -1 ||
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

/* The options into O: -1 to go on, else the exit code. */
static int
parse_options(int argc, char **argv, struct serve_opts *o)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "host-key", required_argument, NULL, 'k' },
		{ "user", required_argument, NULL, 'u' },
		{ "syslog", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int	ch;

	memset(o, 0, sizeof(*o));
	o->config = MUXGATE_DEFAULT_CONFIG;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:f:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h': usage(stdout); return MG_OK;
		case 'f': o->config = optarg; break;
		case 'l': o->listen = optarg; break;
		case 'k': o->host_key = optarg; break;
		case 'u': o->user = optarg; break;
		case 's': o->syslog = true; break;
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
	return -1;
}

/* This binary and the config, as absolute paths: the shells get them. */
static int
resolve_paths(struct serve_opts *o)
{
	ssize_t	 len;
	char	*abs;

	if ((len = readlink("/proc/self/exe", o->self,
	    sizeof(o->self) - 1)) <= 0)
		fatal_r(errno, "cannot find this binary");
	o->self[len] = '\0';
	if (o->config[0] != '/') {
		if ((abs = realpath(o->config, NULL)) == NULL) {
			error_r(errno, "%s", o->config);
			return -1;
		}
		o->config = abs;
	}
	return 0;
}

int
serve_main(int argc, char **argv)
{
	struct serve_opts	 o;
	struct policy		*p;
	ssh_bind		 b = NULL;
	char			 err[512];
	int			 code;

	if ((code = parse_options(argc, argv, &o)) != -1)
		return code;
	if (geteuid() == 0 && o.user == NULL) {
		error_msg("serve: refusing to run as root without --user NAME");
		return MG_FAIL;
	}
	if (resolve_paths(&o) == -1 ||
	    (p = shell_load_policy(o.config)) == NULL)
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
