/*
 * check-setup.c — `muxgate check`'s warnings about the system around the
 * policy: what lets someone run code as the gateway account before
 * muxgate starts, and sudo rights beyond tmux as the tmux users.  Each
 * finding is one line, "muxgate: warning: setup: ..."; none changes the
 * exit code.  The rules are muxgate(8)'s, CHECK WARNINGS.
 */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway/check.h"
#include "gateway/log.h"
#include "gateway/spawn.h"
#include "gateway/str.h"
#include "gateway/sudorules.h"
#include "gateway/transport.h"
#include "gateway/xmalloc.h"
#include "policy/policy.h"

#define SUDO_PATH	"/usr/bin/sudo"
#define SUDO_TIMEOUT_MS	10000

/*
 * Read, in a home, before muxgate runs or around it: by sshd (unless
 * sshd_config turns them off), by the login shell sshd runs the
 * ForceCommand with, and by the gateway's own tmux server.
 */
static const char *const home_files[] = { ".ssh", ".ssh/rc",
    ".ssh/environment", ".ssh/authorized_keys", ".ssh/authorized_keys2",
    ".profile", ".bashrc", ".bash_profile", ".bash_login", ".zshenv",
    ".zprofile", ".zshrc", ".kshrc", ".cshrc", ".tcshrc", ".login",
    ".tmux.conf", ".config", ".config/tmux", ".config/tmux/tmux.conf",
    NULL };

/* Shells that read no file of the account's for `SHELL -c COMMAND`. */
static const char *const safe_shells[] = { "sh", "dash", "nologin",
    "false", "muxgate", NULL };

static void __attribute__((format(printf, 1, 2)))
warn(const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	(void)xvasprintf(&msg, fmt, ap);
	va_end(ap);
	error_msg("warning: setup: %s", msg);
	free(msg);
}

static const char *
owner_name(uid_t uid, char *buf, size_t len)
{
	struct passwd	*pw;

	if ((pw = getpwuid(uid)) != NULL)
		return pw->pw_name;
	snprintf(buf, len, "uid %u", (unsigned)uid);
	return buf;
}

/*
 * PATH must be root's and writable by nobody else; WHAT says what it is
 * and WHY what a writer could do.  Returns false if it does not exist.
 */
static bool
judge_path(const char *path, const char *what, const char *why)
{
	struct stat	st;
	char		buf[32];

	if (stat(path, &st) == -1) {
		if (errno != ENOENT)
			warn("%s %s: %s", what, path, strerror(errno));
		return false;
	}
	if (st.st_uid != 0)
		warn("%s %s is owned by %s, not root: %s", what, path,
		    owner_name(st.st_uid, buf, sizeof(buf)), why);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		warn("%s %s is writable by %s: %s", what, path,
		    (st.st_mode & S_IWOTH) ? "everyone" : "its group", why);
	return true;
}

#define HOME_WHY	"whoever can write it can add files that sshd, the login " \
		"shell and tmux read there"
#define ABOVE_WHY	"whoever can write it can replace the gateway account's " \
		"home"
#define FILE_WHY	"whoever can write it can run code as the gateway " \
		"account before muxgate starts"

/* The home and every directory above it, then the files read there. */
static void
setup_home(const char *home)
{
	const char *const	*f;
	char			*path, *sub;
	size_t			 i, len;

	if (home[0] != '/') {
		warn("the gateway account's home %s is not an absolute path",
		    home);
		return;
	}
	path = xstrdup(home);
	len = strlen(path);
	while (len > 1 && path[len - 1] == '/')
		path[--len] = '\0';
	if (len > 1 && !judge_path("/", "the directory", ABOVE_WHY))
		goto out;
	for (i = 1; i <= len; i++) {
		if (len > 1 && path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		/* Not there: nothing below it either. */
		if (i < len && !judge_path(path, "the directory", ABOVE_WHY))
			goto out;
		if (i == len && !judge_path(path, "the gateway account's home",
		    HOME_WHY))
			goto out;
		if (i < len)
			path[i] = '/';
	}
	for (f = home_files; *f != NULL; f++) {
		xasprintf(&sub, "%s/%s", len > 1 ? path : "", *f);
		(void)judge_path(sub, "in the gateway account's home,",
		    FILE_WHY);
		free(sub);
	}
out:
	free(path);
}

static bool
same_file(const char *a, const char *b)
{
	struct stat	sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev ==
	    sb.st_dev && sa.st_ino == sb.st_ino;
}

static void
setup_shell(const char *shell)
{
	const char *const	*s;
	const char		*base;

	base = strrchr(shell, '/');
	base = base != NULL ? base + 1 : shell;
	for (s = safe_shells; *s != NULL; s++)
		if (strcmp(base, *s) == 0)
			return;
	if (same_file(shell, "/proc/self/exe"))
		return;		/* muxgate itself, installed under another name */
	warn("the gateway account's login shell is %s: sshd runs the "
	    "ForceCommand through it, and a shell other than sh may read "
	    "startup files first (bash ~/.bashrc, zsh ~/.zshenv): use /bin/sh",
	    shell[0] != '\0' ? shell : "empty (/bin/sh)");
}

/* Local hosts whose tmux users include the gateway account or root. */
static void
setup_tmux_users(const struct policy *p, const char *account)
{
	const struct policy_host	*h;
	const struct passwd		*pw;
	const char			*u;
	size_t				 i, j;

	for (i = 0; i < policy_host_count(p); i++) {
		h = policy_host_at(p, i);
		if (!policy_host_local(h))
			continue;
		for (j = 0; j < policy_host_user_count(h); j++) {
			u = policy_host_user_at(h, j);
			if (strcmp(u, account) == 0)
				warn("host %s: tmux user %s is the gateway "
				    "account: whoever may create or attach "
				    "there runs commands as the account that "
				    "may run tmux as every tmux user",
				    policy_host_name(h), account);
			if ((pw = getpwnam(u)) != NULL && pw->pw_uid == 0)
				warn("host %s: tmux user %s has uid 0: whoever "
				    "may create or attach there is root",
				    policy_host_name(h), u);
		}
	}
}

/* Every tmux user of every local host, once each. */
static void
local_tmux_users(const struct policy *p, struct argv *users)
{
	const struct policy_host	*h;
	const char			*u;
	size_t				 i, j;
	int				 k;

	for (i = 0; i < policy_host_count(p); i++) {
		h = policy_host_at(p, i);
		if (!policy_host_local(h))
			continue;
		for (j = 0; j < policy_host_user_count(h); j++) {
			u = policy_host_user_at(h, j);
			for (k = 0; k < users->n; k++)
				if (strcmp(users->v[k], u) == 0)
					break;
			if (k == users->n)
				argv_add(users, u);
		}
	}
}

/* What `sudo -l -U USER` said, judged; WANT NULL: USER should have none. */
static void
sudo_judge(const char *user, const struct sudorules_want *want,
    const struct spawn_job *job)
{
	const struct spawn_result	*r = &job->r;
	struct argv			 found = { 0 };
	int				 i;

	if (job->err[0] != '\0') {
		warn("sudo -l -U %s: %s", user, job->err);
		return;
	}
	if (!r->exited || r->code != 0 || r->out.data == NULL) {
		warn("sudo -l -U %s failed%s%s", user, r->err.data != NULL ?
		    ": " : "", r->err.data != NULL ? r->err.data : "");
		return;
	}
	(void)sudorules_judge(r->out.data, want, &found);
	for (i = 0; i < found.n; i++) {
		if (want != NULL)
			warn("the gateway account %s may run more than tmux "
			    "as the tmux users: %s", user, found.v[i]);
		else
			warn("tmux user %s may use sudo: %s", user,
			    found.v[i]);
	}
	argv_free(&found);
}

/*
 * The sudo rights of the gateway account and of each local tmux user,
 * all asked at once (each sudo takes some 15 ms to start).  A tmux user
 * of uid 0 is not asked: root needs no rule, and setup_tmux_users() has
 * said what it means already.
 */
static void
setup_sudo(const struct policy *p, const char *account)
{
	struct sudorules_want	 want;
	struct argv		 users = { 0 }, asked = { 0 }, *argvs;
	struct spawn_job	*jobs;
	struct passwd		*pw;
	int			 i;

	if (geteuid() != 0) {
		warn("not run as root: the sudo rights of the gateway account "
		    "and the tmux users were not checked");
		return;
	}
	if (access(SUDO_PATH, X_OK) == -1)
		return;		/* no sudo: nobody can use it */
	/* sudo -l speaks the locale it is given: read it in English. */
	(void)setenv("LC_ALL", "C", 1);
	local_tmux_users(p, &users);
	want.tmux = transport_tmux_path() != NULL ? transport_tmux_path() :
	    "/usr/bin/tmux";
	want.runas = (const char *const *)users.v;
	want.nrunas = (size_t)users.n;
	/* [0]: the account, when it exists; then the tmux users. */
	if (getpwnam(account) != NULL)
		argv_add(&asked, account);
	for (i = 0; i < users.n; i++)
		if (strcmp(users.v[i], account) != 0 &&
		    (pw = getpwnam(users.v[i])) != NULL && pw->pw_uid != 0)
			argv_add(&asked, users.v[i]);
	jobs = xcalloc((size_t)asked.n + 1, sizeof(*jobs));
	argvs = xcalloc((size_t)asked.n + 1, sizeof(*argvs));
	for (i = 0; i < asked.n; i++) {
		argv_add(&argvs[i], SUDO_PATH);
		argv_add(&argvs[i], "-n");
		argv_add(&argvs[i], "-l");
		argv_add(&argvs[i], "-U");
		argv_add(&argvs[i], asked.v[i]);
		jobs[i].argv = &argvs[i];
		jobs[i].timeout_ms = SUDO_TIMEOUT_MS;
	}
	spawn_many(jobs, (size_t)asked.n);
	for (i = 0; i < asked.n; i++) {
		sudo_judge(asked.v[i], strcmp(asked.v[i], account) == 0 ?
		    &want : NULL, &jobs[i]);
		spawn_result_free(&jobs[i].r);
		argv_free(&argvs[i]);
	}
	free(jobs);
	free(argvs);
	argv_free(&asked);
	argv_free(&users);
}

void
check_setup(const struct policy *p)
{
	const char	*account = policy_gateway(p)->account;
	struct passwd	*pw;
	char		*home, *shell;

	setup_tmux_users(p, account);
	if ((pw = getpwnam(account)) == NULL)
		warn("no account %s on this machine (gateway.account)",
		    account);
	else {
		/* Copies: getpwuid() below may reuse getpwnam()'s buffer. */
		home = xstrdup(pw->pw_dir);
		shell = xstrdup(pw->pw_shell);
		setup_shell(shell);
		setup_home(home);
		free(home);
		free(shell);
	}
	setup_sudo(p, account);
}
