/*
 * transport-ssh.c — tmux on a remote host, through the OpenSSH client
 * with the gateway's own key and known-hosts file.  Strict host key
 * checking (a new or changed key is never accepted), BatchMode, no
 * forwarding, and connection sharing: the first command to a host opens
 * a master connection that later ones reuse for ControlPersist.
 *
 * The options live in a generated ssh_config under gateway.state rather
 * than on the command line, so that a ProxyJump hop gets the same ones.
 * The remote command is one string for the remote user's login shell,
 * whichever it is: quote_remote() makes it run /bin/sh with a script
 * that every supported login shell passes on unchanged.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway/dirs.h"
#include "gateway/quote.h"
#include "gateway/transport.h"
#include "gateway/xmalloc.h"

#define SSH_PATH	"/usr/bin/ssh"
#define CONTROL_PERSIST	"10m"

/*
 * The ssh_config last written (or found current) by this process, and
 * where: a policy read again writes it again only if its text changed.
 */
static char	*config_path;
static char	*config_written;

/*
 * One "KEY VALUE" line.  The policy schema already refuses values that
 * ssh_config would read as more than one value, as another line or with
 * % tokens; this refuses them again rather than write them.
 */
static int
conf(struct buf *b, const char *key, const char *value, char *err,
    size_t errlen)
{
	const char	*bad;

	buf_printf(b, "\t%s ", key);
	if (quote_ssh_config(b, value) == -1) {
		bad = quote_ssh_config_unsafe(value);
		snprintf(err, errlen, "ssh_config %s: refusing a value with "
		    "byte 0x%02x (quotes, backslashes, whitespace, control "
		    "characters and %% are not allowed)", key,
		    (unsigned char)*bad);
		return -1;
	}
	buf_addc(b, '\n');
	return 0;
}

static int
host_block(struct buf *b, const struct policy_host *h, char *err,
    size_t errlen)
{
	char	*v = NULL;
	char	 port[16];
	int	 ret = -1;

	xasprintf(&v, "muxgate.%s", policy_host_name(h));
	if (quote_ssh_config_unsafe(v) != NULL) {
		snprintf(err, errlen, "ssh_config: refusing host name %s",
		    policy_host_name(h));
		goto out;
	}
	buf_printf(b, "Host %s\n", v);
	(void)snprintf(port, sizeof(port), "%u", policy_host_port(h));
	if (conf(b, "HostName", policy_host_address(h), err, errlen) == -1 ||
	    conf(b, "Port", port, err, errlen) == -1 ||
	    conf(b, "User", policy_host_ssh_user(h), err, errlen) == -1)
		goto out;
	if (policy_host_jump(h) != NULL) {
		free(v);
		xasprintf(&v, "muxgate.%s", policy_host_jump(h));
		if (conf(b, "ProxyJump", v, err, errlen) == -1)
			goto out;
	}
	ret = 0;
out:
	free(v);
	return ret;
}

/* Fixed options: constants here, so they cannot fail the value check. */
static const char *const fixed_options[][2] = {
	{ "BatchMode", "yes" },
	{ "StrictHostKeyChecking", "yes" },
	{ "UpdateHostKeys", "no" },
	{ "CheckHostIP", "no" },
	{ "GlobalKnownHostsFile", "/dev/null" },
	{ "IdentitiesOnly", "yes" },
	{ "IdentityAgent", "none" },
	{ "PasswordAuthentication", "no" },
	{ "KbdInteractiveAuthentication", "no" },
	{ "ServerAliveInterval", "15" },
	{ "ServerAliveCountMax", "3" },
	{ "ControlMaster", "auto" },
	{ "ControlPersist", CONTROL_PERSIST },
	{ "ForwardAgent", "no" },
	{ "ForwardX11", "no" },
	{ "ClearAllForwardings", "yes" },
	{ "PermitLocalCommand", "no" },
	{ "EscapeChar", "none" },
	{ "LogLevel", "ERROR" },
};

/* The ssh_config text in *OUT (caller frees), or -1 and ERR. */
static int
config_text(const struct policy *policy, const char *dir, char **out,
    char *err, size_t errlen)
{
	const struct policy_gateway	*g = policy_gateway(policy);
	struct buf			 b = { 0 };
	char				 v[16];
	size_t				 i;
	int				 ret = -1;

	buf_adds(&b, "# Written by muxgate from its policy; do not edit.\n");
	for (i = 0; i < policy_host_count(policy); i++)
		if (!policy_host_local(policy_host_at(policy, i)) &&
		    host_block(&b, policy_host_at(policy, i), err, errlen) == -1)
			goto out;
	buf_adds(&b, "Host *\n");
	for (i = 0; i < sizeof(fixed_options) / sizeof(*fixed_options); i++)
		if (conf(&b, fixed_options[i][0], fixed_options[i][1], err,
		    errlen) == -1)
			goto out;
	(void)snprintf(v, sizeof(v), "%u", g->ssh_connect_timeout);
	if (conf(&b, "UserKnownHostsFile", g->ssh_known_hosts, err,
	    errlen) == -1 ||
	    conf(&b, "IdentityFile", g->ssh_identity_file, err, errlen) == -1 ||
	    conf(&b, "ConnectTimeout", v, err, errlen) == -1)
		goto out;
	/* %C is ours, for ssh to expand; the directory must hold no %. */
	if (quote_ssh_config_unsafe(dir) != NULL) {
		snprintf(err, errlen, "ssh_config ControlPath: refusing "
		    "directory %s", dir);
		goto out;
	}
	buf_printf(&b, "\tControlPath \"%s/cm-%%C\"\n", dir);
	*out = buf_take(&b);
	ret = 0;
out:
	buf_free(&b);
	return ret;
}

/*
 * Whether PATH already holds TEXT, in a file of ours that nobody else can
 * write: then it is used as it is.  Every muxgate process would otherwise
 * rewrite and rename it, for an ls that takes a few milliseconds.
 */
static bool
config_current(const char *path, const char *text, size_t len)
{
	struct stat	 st;
	char		*have;
	bool		 same = false;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return false;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_uid == geteuid() && (st.st_mode & 077) == 0 &&
	    st.st_size == (off_t)len) {
		have = xmalloc(len + 1);
		same = read(fd, have, len + 1) == (ssize_t)len &&
		    memcmp(have, text, len) == 0;
		free(have);
	}
	close(fd);
	return same;
}

static int
write_config(const struct policy *policy, char *err, size_t errlen)
{
	char	*dir = NULL, *tmp = NULL, *text = NULL;
	size_t	 len;
	int	 fd = -1, ret = -1;

	xasprintf(&dir, "%s/ssh", policy_gateway(policy)->state);
	if (config_text(policy, dir, &text, err, errlen) == -1)
		goto out;
	len = strlen(text);
	free(config_path);
	xasprintf(&config_path, "%s/config", dir);
	if (config_written != NULL && strcmp(config_written, text) == 0) {
		ret = 0;
		goto out;
	}
	if (dirs_private(policy_gateway(policy)->state, err, errlen) == -1 ||
	    dirs_private(dir, err, errlen) == -1)
		goto out;
	if (config_current(config_path, text, len)) {
		ret = 0;
		goto out;
	}
	xasprintf(&tmp, "%s/config.%ld", dir, (long)getpid());
	/* Written aside and renamed: other muxgate processes read it too. */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1 || write(fd, text, len) != (ssize_t)len ||
	    close(fd) == -1) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		fd = -1;
		(void)unlink(tmp);
		goto out;
	}
	fd = -1;
	if (rename(tmp, config_path) == -1) {
		snprintf(err, errlen, "%s: %s", config_path, strerror(errno));
		(void)unlink(tmp);
		goto out;
	}
	ret = 0;
out:
	free(config_written);
	config_written = NULL;
	if (ret == 0)
		config_written = text;
	else {
		free(text);
		free(config_path);
		config_path = NULL;
	}
	if (fd != -1)
		close(fd);
	free(dir);
	free(tmp);
	return ret;
}

static int
ssh_command(const struct policy *policy, const struct policy_host *h, const char *user,
    const struct argv *args, bool tty, struct argv *full, int *timeout_ms,
    struct transport_result *r)
{
	struct argv	 remote = { 0 };
	char		 err[512], *line;
	int		 i;

	if (write_config(policy, err, sizeof(err)) == -1) {
		r->status = HOST_ERROR;
		r->message = xstrdup(err);
		return -1;
	}
	if (strcmp(user, policy_host_ssh_user(h)) != 0) {
		argv_add(&remote, "sudo");
		argv_add(&remote, "-n");
		argv_add(&remote, "-u");
		argv_add(&remote, user);
		argv_add(&remote, "--");
	}
	argv_add(&remote, "tmux");
	for (i = 0; i < args->n; i++)
		argv_add(&remote, args->v[i]);
	line = quote_remote(&remote);
	argv_free(&remote);
	argv_add(full, SSH_PATH);
	argv_add(full, "-F");
	argv_add(full, config_path);
	argv_add(full, tty ? "-tt" : "-T");
	argv_add(full, "--");
	argv_addf(full, "muxgate.%s", policy_host_name(h));
	argv_add(full, line);
	free(line);
	/* Our own deadline backs ssh's ConnectTimeout for a host that hangs. */
	*timeout_ms = (int)policy_gateway(policy)->ssh_connect_timeout * 1000 +
	    800;
	return 0;
}

/* ssh's own failures (exit 255), said the way the status table says them. */
static void
ssh_failed(const struct policy_host *h, const char *e,
    struct transport_result *r)
{
	r->status = HOST_UNREACHABLE;
	if (strstr(e, "REMOTE HOST IDENTIFICATION HAS CHANGED") != NULL ||
	    strstr(e, "Host key verification failed") != NULL) {
		if (strstr(e, "No ") != NULL && strstr(e, "host key is known")
		    != NULL)
			r->message = xstrdup("unknown host key (not in "
			    "gateway.ssh.known_hosts)");
		else
			r->message = xstrdup("host key mismatch");
	} else if (strstr(e, "Connection refused") != NULL)
		r->message = xstrdup("connection refused");
	else if (strstr(e, "Could not resolve hostname") != NULL)
		xasprintf(&r->message, "DNS: cannot resolve %s",
		    policy_host_address(h));
	else if (strstr(e, "No route to host") != NULL ||
	    strstr(e, "Network is unreachable") != NULL)
		r->message = transport_first_line(e);
	else if (strstr(e, "timed out") != NULL) {
		r->status = HOST_TIMEOUT;
		r->message = transport_first_line(e);
	} else {
		r->status = HOST_ERROR;
		r->message = transport_first_line(e);
	}
}

/*
 * ssh's notes about connection sharing ("ControlSocket ... already
 * exists, disabling multiplexing" when two commands race to be the
 * master) are not the remote command's errors: drop them.
 */
static char *
remote_stderr(const char *e)
{
	struct buf	 b = { 0 };
	const char	*nl;
	size_t		 len;

	while (*e != '\0') {
		nl = strchr(e, '\n');
		len = nl != NULL ? (size_t)(nl - e) + 1 : strlen(e);
		if (strncmp(e, "ControlSocket ", 14) != 0 &&
		    strncmp(e, "mux_client_", 11) != 0 &&
		    strncmp(e, "muxclient: ", 11) != 0)
			buf_add(&b, e, len);
		e += len;
	}
	return buf_take(&b);
}

static void
ssh_outcome(const struct policy *policy, const struct policy_host *h, const char *user,
    const struct spawn_result *sr, struct transport_result *r)
{
	char	*e = remote_stderr(sr->err.data != NULL ? sr->err.data : "");

	if (sr->timed_out) {
		r->status = HOST_TIMEOUT;
		xasprintf(&r->message, "no answer within %us",
		    policy_gateway(policy)->ssh_connect_timeout);
	} else if (!sr->exited) {
		r->status = HOST_ERROR;
		xasprintf(&r->message, "ssh killed by signal %d", sr->signo);
	} else if (sr->code == 255)
		ssh_failed(h, e, r);
	else if (strcmp(user, policy_host_ssh_user(h)) != 0 &&
	    transport_sudo_refused(sr)) {
		r->status = HOST_FORBIDDEN;
		r->message = transport_first_line(e);
	} else {
		r->status = HOST_OK;
		r->tmux_code = sr->code;
		r->out = xstrdup(sr->out.data != NULL ? sr->out.data : "");
		r->err = transport_first_line(e);
	}
	free(e);
}

static char *
ssh_home(const struct policy_host *h, const char *user)
{
	return NULL;	/* tmux starts in the home directory by itself */
}

const struct transport transport_ssh = {
	.name = "ssh",
	.command = ssh_command,
	.outcome = ssh_outcome,
	.home = ssh_home,
};
