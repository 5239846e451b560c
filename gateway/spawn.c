/* spawn.c — vfork/exec with an argv, a clean environment, and a deadline. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gateway/logindefs.h"
#include "gateway/monotime.h"
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

/*
 * muxgate keeps umask 077 for its own files (recordings, slots, ssh
 * configuration), but a child must not pass it on: a tmux server started
 * here would give every session of that user umask 077.  Children get
 * the umask a login would, read once, in the parent, before any fork.
 */
static mode_t
child_umask(void)
{
	static bool	read_it;
	static mode_t	mask;

	if (!read_it) {
		mask = logindefs_umask(LOGINDEFS_PATH);
		read_it = true;
	}
	return mask;
}

/*
 * In the child of vfork (start_child()): system calls only, nothing
 * written but its own stack, and never returns.
 */
static void __attribute__((noreturn))
child_exec(const struct argv *argv, char **envp, int in, int out, int errfd,
    mode_t mask)
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
	(void)umask(mask);	/* cannot fail */
	execve(argv->v[0], argv->v, envp);
	_exit(127);
}

/*
 * Start a child that runs CHILD(ARG), which must exec or _exit: its pid,
 * or -1 with errno set.
 *
 * vfork(2), not fork(2).  A fork marks every page of ours copy-on-write,
 * and each page we write afterwards faults once, even after the child
 * has gone: `muxgate check` of 20,000 identities freed its policy after
 * `sudo -l` in 2,200 extra page faults, 30% of its time on a VM.  The
 * child of vfork shares our memory until it execs, so it writes nothing
 * but its own stack and calls nothing but system calls (child_exec()),
 * and every signal is blocked across the vfork, so that no handler of
 * ours runs in it: child_exec() sets them all to default before it
 * unblocks them.
 */
static pid_t
start_child(void (*child)(void *), void *arg)
{
	sigset_t	all, old;
	pid_t		pid;
	int		saved;

	sigfillset(&all);
	if (sigprocmask(SIG_SETMASK, &all, &old) == -1)
		return -1;
	if ((pid = vfork()) == 0)
		child(arg);	/* never returns */
	saved = errno;
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return pid;
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

/* Drain FD into B; at EOF or error the fd is closed and set to -1. */
static void
drain(int *fd, struct buf *b)
{
	char	tmp[8192];
	ssize_t	n;

	n = read(*fd, tmp, sizeof(tmp));
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close(*fd);
		*fd = -1;
		return;
	}
	/* Past the cap, keep reading (so the child is not stuck) but drop. */
	if (b->len < SPAWN_MAX_OUTPUT)
		buf_add(b, tmp, (size_t)n);
}

/* What a child of start() or spawn_session() is given. */
struct child_args {
	const struct argv	*argv;
	char			**envp;
	int			 fd[3];		/* its 0, 1 and 2 */
	int			 slave;		/* spawn_session(): or -1 */
	mode_t			 mask;
};

/* In the child of start(): its own process group, then exec. */
static void __attribute__((noreturn))
job_child(void *arg)
{
	const struct child_args	*a = arg;

	(void)setpgid(0, 0);
	child_exec(a->argv, a->envp, a->fd[0], a->fd[1], a->fd[2], a->mask);
}

/* Start JOB's child with its output on pipes; -1 with JOB->err set. */
static int
start(struct spawn_job *job, char **envp, int nullfd, mode_t mask)
{
	struct child_args	ja;
	int			outp[2] = { -1, -1 }, errp[2] = { -1, -1 };

	if (pipe2(outp, O_CLOEXEC) == -1 || pipe2(errp, O_CLOEXEC) == -1) {
		snprintf(job->err, sizeof(job->err), "pipe: %s", strerror(errno));
		goto fail;
	}
	ja.argv = job->argv;
	ja.envp = envp;
	ja.fd[0] = nullfd;
	ja.fd[1] = outp[1];
	ja.fd[2] = errp[1];
	ja.mask = mask;
	if ((job->pid = start_child(job_child, &ja)) == -1) {
		snprintf(job->err, sizeof(job->err), "fork: %s", strerror(errno));
		goto fail;
	}
	(void)setpgid(job->pid, job->pid);
	close(outp[1]);
	close(errp[1]);
	job->outfd = outp[0];
	job->errfd = errp[0];
	(void)fcntl(job->outfd, F_SETFL, O_NONBLOCK);
	(void)fcntl(job->errfd, F_SETFL, O_NONBLOCK);
	return 0;
fail:
	if (outp[0] != -1) { close(outp[0]); close(outp[1]); }
	if (errp[0] != -1) { close(errp[0]); close(errp[1]); }
	job->pid = -1;
	return -1;
}

/* The job is over: reap it and everything left in its group. */
static void
end_job(struct spawn_job *job, bool kill_it)
{
	int	status = 0;

	if (kill_it)
		(void)kill(-job->pid, SIGKILL);
	if (job->outfd != -1) { close(job->outfd); job->outfd = -1; }
	if (job->errfd != -1) { close(job->errfd); job->errfd = -1; }
	if (reap(job->pid, &status) == 0)
		set_status(&job->r, status);
	(void)kill(-job->pid, SIGKILL);
	job->pid = -1;
	job->done = true;
}

/* Drain every running job once; the ones whose output ended finish. */
static size_t
poll_jobs(struct spawn_job *jobs, size_t n, struct pollfd *p, long long now)
{
	size_t		i, k = 0, running = 0;
	long long	next = now + 60000;
	int		timeout;

	for (i = 0; i < n; i++) {
		if (jobs[i].done)
			continue;
		running++;
		if (jobs[i].deadline < next)
			next = jobs[i].deadline;
		p[k].fd = jobs[i].outfd;
		p[k++].events = POLLIN;
		p[k].fd = jobs[i].errfd;
		p[k++].events = POLLIN;
	}
	if (running == 0)
		return 0;
	timeout = next > now ? (int)(next - now) : 0;
	if (poll(p, k, timeout) == -1 && errno != EINTR)
		return running;
	now = monotime_ms();
	for (i = 0, k = 0; i < n; i++) {
		if (jobs[i].done)
			continue;
		if (jobs[i].outfd != -1 && p[k].revents != 0)
			drain(&jobs[i].outfd, &jobs[i].r.out);
		if (jobs[i].errfd != -1 && p[k + 1].revents != 0)
			drain(&jobs[i].errfd, &jobs[i].r.err);
		k += 2;
		/* Kill every late job first, then reap: no one waits for another. */
		if (jobs[i].outfd != -1 || jobs[i].errfd != -1) {
			if (now >= jobs[i].deadline) {
				jobs[i].r.timed_out = true;
				(void)kill(-jobs[i].pid, SIGKILL);
			}
		}
	}
	for (i = 0; i < n; i++) {
		if (jobs[i].done)
			continue;
		if ((jobs[i].outfd == -1 && jobs[i].errfd == -1) ||
		    jobs[i].r.timed_out)
			end_job(&jobs[i], jobs[i].r.timed_out);
	}
	return running;
}

void
spawn_many(struct spawn_job *jobs, size_t n)
{
	struct argv	 env = { 0 };
	struct pollfd	*p;
	long long	 start_ms;
	int		 nullfd;
	size_t		 i;
	mode_t		 mask = child_umask();

	build_env(&env);
	nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	p = xcalloc(n * 2, sizeof(*p));
	/* One clock for all: starting 50 children takes a while itself. */
	start_ms = monotime_ms();
	for (i = 0; i < n; i++) {
		memset(&jobs[i].r, 0, sizeof(jobs[i].r));
		jobs[i].outfd = jobs[i].errfd = -1;
		jobs[i].done = false;
		jobs[i].err[0] = '\0';
		if (nullfd == -1) {
			snprintf(jobs[i].err, sizeof(jobs[i].err),
			    "/dev/null: %s", strerror(errno));
			jobs[i].done = true;
		} else if (start(&jobs[i], env.v, nullfd, mask) == -1)
			jobs[i].done = true;
		else
			jobs[i].deadline = start_ms + jobs[i].timeout_ms;
	}
	while (poll_jobs(jobs, n, p, monotime_ms()) > 0)
		;
	for (i = 0; i < n; i++) {
		if (jobs[i].err[0] == '\0' && jobs[i].r.exited &&
		    jobs[i].r.code == 127 && jobs[i].r.out.len == 0 &&
		    jobs[i].r.err.len == 0)
			snprintf(jobs[i].err, sizeof(jobs[i].err),
			    "cannot execute %s", jobs[i].argv->v[0]);
	}
	free(p);
	if (nullfd != -1)
		close(nullfd);
	argv_free(&env);
}

int
spawn_capture(const struct argv *argv, int timeout_ms, struct spawn_result *r,
    char *err, size_t errlen)
{
	struct spawn_job	job;

	memset(&job, 0, sizeof(job));
	job.argv = argv;
	job.timeout_ms = timeout_ms;
	spawn_many(&job, 1);
	*r = job.r;
	if (job.err[0] != '\0') {
		snprintf(err, errlen, "%s", job.err);
		spawn_result_free(r);
		return -1;
	}
	return 0;
}

void
spawn_result_free(struct spawn_result *r)
{
	buf_free(&r->out);
	buf_free(&r->err);
}

int
spawn_openpty(const struct winsize *ws, int *masterp, int *slavep, char *err,
    size_t errlen)
{
	char	name[64];
	int	master, slave = -1;

	*masterp = *slavep = -1;
	if ((master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1 ||
	    grantpt(master) == -1 || unlockpt(master) == -1 ||
	    ptsname_r(master, name, sizeof(name)) != 0 ||
	    (slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "pseudo-terminal: %s", strerror(errno));
		if (master != -1)
			close(master);
		return -1;
	}
	(void)ioctl(master, TIOCSWINSZ, ws);
	*masterp = master;
	*slavep = slave;
	return 0;
}

int
spawn_pty(const struct argv *argv, const struct winsize *ws, pid_t *pidp,
    int *masterp, char *err, size_t errlen)
{
	struct argv	 env = { 0 };
	int		 master, slave, r;

	*pidp = -1;
	*masterp = -1;
	if (spawn_openpty(ws, &master, &slave, err, errlen) == -1)
		return -1;
	build_env(&env);
	r = spawn_session(argv, &env, slave, NULL, pidp, err, errlen);
	argv_free(&env);
	close(slave);
	if (r == -1) {
		close(master);
		return -1;
	}
	if (fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK) == -1) {
		snprintf(err, errlen, "fcntl: %s", strerror(errno));
		(void)spawn_end(*pidp, master);
		*pidp = -1;
		return -1;
	}
	*masterp = master;
	return 0;
}

int
spawn_exited(pid_t pid, int *status)
{
	pid_t	r;

	if ((r = waitpid(pid, status, WNOHANG)) == pid)
		return 1;
	if (r == -1 && errno != EINTR)
		return -1;
	return 0;
}

int
spawn_hangup(pid_t pid, int grace_ms)
{
	struct timespec	ts = { 0, 10 * 1000 * 1000 };
	int		status = 0, i, r;

	/* A hangup first: tmux detaches cleanly and sudo passes it on. */
	(void)kill(-pid, SIGHUP);
	for (i = 0; i < grace_ms / 10; i++) {
		if ((r = spawn_exited(pid, &status)) == 1)
			goto done;
		if (r == -1)
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

int
spawn_end(pid_t pid, int master)
{
	if (master != -1)
		close(master);
	if (pid <= 0)
		return 0;
	return spawn_hangup(pid, SPAWN_HANGUP_MS);
}

static void
close_pipes(int p[3][2])
{
	int	i, k;

	for (i = 0; i < 3; i++)
		for (k = 0; k < 2; k++)
			if (p[i][k] != -1) {
				close(p[i][k]);
				p[i][k] = -1;
			}
}

/* In the child of spawn_session(): never returns. */
static void __attribute__((noreturn))
session_child(void *arg)
{
	const struct child_args	*a = arg;

	if (setsid() == -1)
		_exit(127);
	if (a->slave == -1)
		child_exec(a->argv, a->envp, a->fd[0], a->fd[1], a->fd[2],
		    a->mask);
	if (ioctl(a->slave, TIOCSCTTY, 0) == -1)
		_exit(127);
	child_exec(a->argv, a->envp, a->slave, a->slave, a->slave, a->mask);
}

int
spawn_session(const struct argv *argv, const struct argv *env, int slave,
    int fds[3], pid_t *pidp, char *err, size_t errlen)
{
	struct child_args	sa;
	int			p[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } };
	int			i;
	pid_t			pid;
	mode_t			mask = child_umask();

	for (i = 0; slave == -1 && i < 3; i++)
		if (pipe2(p[i], O_CLOEXEC) == -1) {
			snprintf(err, errlen, "pipe: %s", strerror(errno));
			close_pipes(p);
			return -1;
		}
	sa.argv = argv;
	sa.envp = env->v;
	sa.fd[0] = p[0][0];
	sa.fd[1] = p[1][1];
	sa.fd[2] = p[2][1];
	sa.slave = slave;
	sa.mask = mask;
	if ((pid = start_child(session_child, &sa)) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close_pipes(p);
		return -1;
	}
	if (slave == -1) {
		/* Ours: the writing end of its stdin, the reading ends. */
		fds[0] = p[0][1];
		fds[1] = p[1][0];
		fds[2] = p[2][0];
		p[0][1] = p[1][0] = p[2][0] = -1;
	}
	close_pipes(p);
	*pidp = pid;
	return 0;
}
