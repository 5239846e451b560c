/*
 * fake_spawn.c — gateway/spawn.h with no tmux, sudo or ssh behind it, for
 * the unit tests of the request path (cmd, session, transport, attach).
 * Every child that would have been started is counted and answered as
 * tmux would answer it; an attach gets a real pseudo-terminal whose
 * "tmux client" says it detached and exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gateway/str.h"

#include "gateway/spawn.h"
#include "tests/unit/fake_spawn.h"

struct fake_spawn fake_spawn;

void
fake_spawn_reset(void)
{
	const char	*sessions = fake_spawn.sessions;

	memset(&fake_spawn, 0, sizeof(fake_spawn));
	fake_spawn.sessions = sessions;
}

static bool
has_word(const struct argv *argv, const char *word)
{
	int	i;

	for (i = 0; i < argv->n; i++)
		if (strstr(argv->v[i], word) != NULL)
			return true;
	return false;
}

/* What tmux would say: list-sessions lists fake_spawn.sessions. */
static void
answer(const struct argv *argv, struct spawn_result *r)
{
	memset(r, 0, sizeof(*r));
	fake_spawn.started++;
	(void)snprintf(fake_spawn.last, sizeof(fake_spawn.last), "%s",
	    argv->n > 0 ? argv->v[0] : "");
	r->exited = true;
	if (has_word(argv, "list-sessions")) {
		fake_spawn.listed++;
		buf_adds(&r->out, fake_spawn.sessions != NULL ?
		    fake_spawn.sessions : "");
	} else if (has_word(argv, "new-session"))
		fake_spawn.created++;
	else if (has_word(argv, "kill-session"))
		fake_spawn.killed++;
	else {
		r->code = 1;
		buf_adds(&r->err, "unknown command\n");
	}
}

int
spawn_capture(const struct argv *argv, int timeout_ms,
    struct spawn_result *r, char *err, size_t errlen)
{
	answer(argv, r);
	return 0;
}

void
spawn_result_free(struct spawn_result *r)
{
	buf_free(&r->out);
	buf_free(&r->err);
}

void
spawn_many(struct spawn_job *jobs, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		jobs[i].err[0] = '\0';
		answer(jobs[i].argv, &jobs[i].r);
	}
}

/*
 * A terminal whose other end has said its last words and been closed:
 * the relay reads them, then EIO, as when a tmux client exits.  The
 * child is real (the relay signals its group), and does nothing.
 */
int
spawn_pty(const struct argv *argv, const struct winsize *ws, pid_t *pid,
    int *master, char *err, size_t errlen)
{
	static const char	last[] = "[detached (from session s1)]\r\n";
	int			m, s;
	pid_t			child;

	fake_spawn.started++;
	fake_spawn.attached++;
	if (openpty(&m, &s, NULL, NULL, ws) == -1)
		return -1;
	if (write(s, last, sizeof(last) - 1) != (ssize_t)(sizeof(last) - 1)) {
		close(m);
		close(s);
		return -1;
	}
	close(s);
	if ((child = fork()) == -1) {
		close(m);
		return -1;
	}
	if (child == 0) {
		(void)setsid();
		_exit(0);
	}
	(void)fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK);
	(void)fcntl(m, F_SETFD, FD_CLOEXEC);
	*pid = child;
	*master = m;
	return 0;
}

int
spawn_end(pid_t pid, int master)
{
	int	status = 0;

	if (master != -1)
		close(master);
	while (pid > 0 && waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	return status;
}
