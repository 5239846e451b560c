/*
 * transport-local.c — tmux on the bastion itself.  The gateway's own
 * user runs tmux directly; anyone else's tmux is reached with
 * `sudo -n -u USER -- tmux ...`, which needs a NOPASSWD rule and fails
 * (forbidden) rather than prompting.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway/log.h"
#include "gateway/spawn.h"
#include "gateway/transport.h"
#include "gateway/xmalloc.h"

#define SUDO_PATH "/usr/bin/sudo"
#define TMUX_TIMEOUT_MS 10000

/* tmux is looked up once, on a fixed PATH, never the caller's. */
const char *
transport_tmux_path(void)
{
	static const char *const dirs[] = { "/usr/local/bin/tmux",
	    "/usr/bin/tmux", "/bin/tmux", NULL };
	static const char	*found;
	const char *const	*p;

	if (found != NULL)
		return found;
	for (p = dirs; *p != NULL; p++)
		if (access(*p, X_OK) == 0)
			return found = *p;
	return NULL;
}

/*
 * tmux keeps its socket in /tmp/tmux-UID.  If that directory is not the
 * user's own and private, whoever controls it controls what we talk to.
 */
static int
check_socket_dir(uid_t uid, char *err, size_t errlen)
{
	char		path[64];
	struct stat	st;

	snprintf(path, sizeof(path), "/tmp/tmux-%u", (unsigned)uid);
	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != uid ||
	    (st.st_mode & 077) != 0) {
		snprintf(err, errlen, "unsafe tmux socket directory %s (not "
		    "a private directory of uid %u)", path, (unsigned)uid);
		return -1;
	}
	return 0;
}

static int
local_command(const struct policy *p, const struct policy_host *h, const char *user,
    const struct argv *args, bool tty, struct argv *full, int *timeout_ms,
    struct transport_result *r)
{
	const char	*tmux;
	struct passwd	*pw;
	char		 err[256];
	int		 i;

	if ((tmux = transport_tmux_path()) == NULL) {
		r->status = HOST_ERROR;
		r->message = xstrdup("tmux is not installed");
		return -1;
	}
	if ((pw = getpwnam(user)) == NULL) {
		r->status = HOST_ERROR;
		xasprintf(&r->message, "no Unix user %s on this host", user);
		return -1;
	}
	if (check_socket_dir(pw->pw_uid, err, sizeof(err)) == -1) {
		r->status = HOST_ERROR;
		r->message = xstrdup(err);
		return -1;
	}
	*timeout_ms = TMUX_TIMEOUT_MS;
	if (pw->pw_uid != geteuid()) {
		argv_add(full, SUDO_PATH);
		argv_add(full, "-n");
		argv_add(full, "-u");
		argv_add(full, user);
		argv_add(full, "--");
	}
	argv_add(full, tmux);
	for (i = 0; i < args->n; i++)
		argv_add(full, args->v[i]);
	return 0;
}

static void
local_outcome(const struct policy *p, const struct policy_host *h, const char *user,
    const struct spawn_result *sr, struct transport_result *r)
{
	struct passwd	*pw = getpwnam(user);
	bool		 via_sudo = pw == NULL || pw->pw_uid != geteuid();

	if (sr->timed_out) {
		r->status = HOST_TIMEOUT;
		r->message = xstrdup("tmux did not answer in time");
	} else if (via_sudo && transport_sudo_refused(sr)) {
		r->status = HOST_FORBIDDEN;
		r->message = transport_first_line(sr->err.data);
	} else if (!sr->exited) {
		r->status = HOST_ERROR;
		xasprintf(&r->message, "tmux killed by signal %d", sr->signo);
	} else {
		r->status = HOST_OK;
		r->tmux_code = sr->code;
		r->out = xstrdup(sr->out.data != NULL ? sr->out.data : "");
		r->err = transport_first_line(sr->err.data);
	}
}

static char *
local_home(const struct policy_host *h, const char *user)
{
	struct passwd	*pw;

	if ((pw = getpwnam(user)) == NULL || pw->pw_dir == NULL ||
	    pw->pw_dir[0] != '/')
		return NULL;
	return xstrdup(pw->pw_dir);
}

const struct transport transport_local = {
	.name = "local",
	.command = local_command,
	.outcome = local_outcome,
	.home = local_home,
};
