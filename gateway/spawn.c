/* spawn.c — fork/exec with an argv, a clean environment, and a deadline. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gateway/spawn.h"
#include "gateway/xmalloc.h"

/* Only these survive into a child, and only if they look sane. */
static const char *const keep_env[] = { "TERM", "LANG", "LC_ALL",
    "LC_CTYPE", NULL };

static bool
env_value_ok(const char *v)
{
	size_t	i;

	if (strlen(v) > 128)
		return false;
	for (i = 0; v[i] != '\0'; i++)
		if (!((v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= 'a' &&
		    v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') ||
		    strchr("-_.@+", v[i]) != NULL))
			return false;
	return true;
}

static void
build_env(struct argv *env)
{
	const char	*const *k;
	const char	*v;

	argv_add(env, "PATH=/usr/bin:/bin");
	for (k = keep_env; *k != NULL; k++)
		if ((v = getenv(*k)) != NULL && env_value_ok(v))
			argv_addf(env, "%s=%s", *k, v);
}

/* In the child: never returns. */
static void __attribute__((noreturn))
child_exec(const struct argv *argv, char **envp, int in, int out, int errfd)
{
	sigset_t	 set;
	int		 sig;

	/*
	 * CAP_AUDIT_WRITE (from `make install`) is for muxgate alone: no
	 * ambient capability may follow into a child.
	 */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL)
		_exit(127);
	for (sig = 1; sig < NSIG; sig++)
		(void)signal(sig, SIG_DFL);
	sigemptyset(&set);
	(void)sigprocmask(SIG_SETMASK, &set, NULL);
	if ((in != STDIN_FILENO && dup2(in, STDIN_FILENO) == -1) ||
	    (out != STDOUT_FILENO && dup2(out, STDOUT_FILENO) == -1) ||
	    (errfd != STDERR_FILENO && dup2(errfd, STDERR_FILENO) == -1))
		_exit(127);
	closefrom(STDERR_FILENO + 1);
	if (chdir("/") == -1)
		_exit(127);
	execve(argv->v[0], argv->v, envp);
	_exit(127);
}

static void
set_status(struct spawn_result *r, int status)
{
	if (WIFEXITED(status)) {
		r->exited = true;
		r->code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status))
		r->signo = WTERMSIG(status);
}

static int
reap(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) == -1)
		if (errno != EINTR)
			return -1;
	return 0;
}

static long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Drain FD into B; returns false at EOF or error (the fd is then closed). */
static bool
drain(int *fd, struct buf *b)
{
	char	tmp[8192];
	ssize_t	n;

	n = read(*fd, tmp, sizeof(tmp));
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0) {
		close(*fd);
		*fd = -1;
		return false;
	}
	/* Past the cap, keep reading (so the child is not stuck) but drop. */
	if (b->len < SPAWN_MAX_OUTPUT)
		buf_add(b, tmp, (size_t)n);
	return true;
}

static void
collect(pid_t pid, int *outfd, int *errfd, int timeout_ms,
    struct spawn_result *r)
{
	struct pollfd	pfd[2];
	long long	deadline = now_ms() + timeout_ms, left;
	int		n;

	while (*outfd != -1 || *errfd != -1) {
		left = deadline - now_ms();
		if (left <= 0) {
			r->timed_out = true;
			(void)kill(-pid, SIGKILL);
			break;
		}
		pfd[0].fd = *outfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = *errfd;
		pfd[1].events = POLLIN;
		n = poll(pfd, 2, (int)left);
		if (n == -1 && errno != EINTR)
			break;
		if (n <= 0)
			continue;
		if (*outfd != -1 && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
			(void)drain(outfd, &r->out);
		if (*errfd != -1 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)))
			(void)drain(errfd, &r->err);
	}
}

int
spawn_capture(const struct argv *argv, int timeout_ms, struct spawn_result *r,
    char *err, size_t errlen)
{
	struct argv	 env = { 0 };
	int		 outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, nullfd = -1;
	int		 status = 0, ret = -1;
	pid_t		 pid;

	memset(r, 0, sizeof(*r));
	build_env(&env);
	if ((nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1 ||
	    pipe2(outp, O_CLOEXEC) == -1 || pipe2(errp, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto out;
	}
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		(void)setpgid(0, 0);
		child_exec(argv, env.v, nullfd, outp[1], errp[1]);
	}
	(void)setpgid(pid, pid);
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;
	collect(pid, &outp[0], &errp[0], timeout_ms, r);
	if (reap(pid, &status) == -1) {
		snprintf(err, errlen, "waitpid: %s", strerror(errno));
		goto out;
	}
	/* Anything the child left in its group goes with it. */
	(void)kill(-pid, SIGKILL);
	set_status(r, status);
	if (r->exited && r->code == 127 && r->out.len == 0 && r->err.len == 0) {
		snprintf(err, errlen, "cannot execute %s", argv->v[0]);
		goto out;
	}
	ret = 0;
out:
	if (outp[0] != -1) close(outp[0]);
	if (outp[1] != -1) close(outp[1]);
	if (errp[0] != -1) close(errp[0]);
	if (errp[1] != -1) close(errp[1]);
	if (nullfd != -1) close(nullfd);
	argv_free(&env);
	if (ret == -1)
		spawn_result_free(r);
	return ret;
}

void
spawn_result_free(struct spawn_result *r)
{
	buf_free(&r->out);
	buf_free(&r->err);
}

int
spawn_pty(const struct argv *argv, const struct winsize *ws, pid_t *pidp,
    int *masterp, char *err, size_t errlen)
{
	struct argv	 env = { 0 };
	char		 name[64];
	int		 master = -1, slave;
	pid_t		 pid;

	*pidp = -1;
	*masterp = -1;
	if ((master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1 ||
	    grantpt(master) == -1 || unlockpt(master) == -1 ||
	    ptsname_r(master, name, sizeof(name)) != 0) {
		snprintf(err, errlen, "pseudo-terminal: %s", strerror(errno));
		if (master != -1)
			close(master);
		return -1;
	}
	(void)ioctl(master, TIOCSWINSZ, ws);
	build_env(&env);
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(master);
		argv_free(&env);
		return -1;
	}
	if (pid == 0) {
		if (setsid() == -1 ||
		    (slave = open(name, O_RDWR | O_NOCTTY)) == -1 ||
		    ioctl(slave, TIOCSCTTY, 0) == -1)
			_exit(127);
		child_exec(argv, env.v, slave, slave, slave);
	}
	argv_free(&env);
	if (fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK) == -1) {
		snprintf(err, errlen, "fcntl: %s", strerror(errno));
		(void)spawn_end(pid, master);
		return -1;
	}
	*pidp = pid;
	*masterp = master;
	return 0;
}

int
spawn_end(pid_t pid, int master)
{
	struct timespec	ts = { 0, 10 * 1000 * 1000 };
	int		status = 0, i;
	pid_t		r;

	if (master != -1)
		close(master);
	if (pid <= 0)
		return 0;
	/* A hangup first: tmux detaches cleanly and sudo passes it on. */
	(void)kill(-pid, SIGHUP);
	for (i = 0; i < 100; i++) {
		if ((r = waitpid(pid, &status, WNOHANG)) == pid)
			goto done;
		if (r == -1 && errno != EINTR)
			return 0;
		nanosleep(&ts, NULL);
	}
	(void)kill(-pid, SIGKILL);
	(void)reap(pid, &status);
done:
	/* Whatever is left of the group goes too. */
	(void)kill(-pid, SIGKILL);
	return status;
}
