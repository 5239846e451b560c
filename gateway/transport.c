/* transport.c — pick a host's transport; run one or many tmux commands. */
#include <stdlib.h>
#include <string.h>

#include "gateway/log.h"
#include "gateway/transport.h"
#include "gateway/xmalloc.h"

void
transport_result_free(struct transport_result *r)
{
	free(r->out);
	free(r->err);
	free(r->message);
	memset(r, 0, sizeof(*r));
}

const struct transport *
transport_for(const struct policy_host *h)
{
	return policy_host_local(h) ? &transport_local : &transport_ssh;
}

char *
transport_first_line(const char *s)
{
	if (s == NULL)
		return xstrdup("");
	return xstrndup(s, strcspn(s, "\r\n"));
}

bool
transport_sudo_refused(const struct spawn_result *sr)
{
	const char	*e = sr->err.data != NULL ? sr->err.data : "";

	if (!sr->exited || sr->code != 1)
		return false;
	/* Any line: ssh may have said something first. */
	return strncmp(e, "sudo:", 5) == 0 || strstr(e, "\nsudo:") != NULL ||
	    strstr(e, "Sorry, user") != NULL ||
	    strstr(e, "is not in the sudoers file") != NULL;
}

void
transport_run_many(const struct policy *p, struct transport_job *jobs,
    size_t n)
{
	struct spawn_job	*sj;
	struct argv		*full;
	const struct transport	*t;
	size_t			 i, k = 0, *map;

	sj = xcalloc(n, sizeof(*sj));
	full = xcalloc(n, sizeof(*full));
	map = xcalloc(n, sizeof(*map));
	for (i = 0; i < n; i++) {
		memset(&jobs[i].r, 0, sizeof(jobs[i].r));
		t = transport_for(jobs[i].host);
		if (t->command(p, jobs[i].host, jobs[i].user, &jobs[i].args, false,
		    &full[i], &sj[k].timeout_ms, &jobs[i].r) == -1)
			continue;
		debug("%s: %s as %s", policy_host_name(jobs[i].host),
		    full[i].v[0], jobs[i].user);
		sj[k].argv = &full[i];
		map[k++] = i;
	}
	spawn_many(sj, k);
	for (i = 0; i < k; i++) {
		struct transport_job *j = &jobs[map[i]];
		if (sj[i].err[0] != '\0') {
			j->r.status = HOST_ERROR;
			j->r.message = xstrdup(sj[i].err);
		} else
			transport_for(j->host)->outcome(p, j->host, j->user,
			    &sj[i].r, &j->r);
		spawn_result_free(&sj[i].r);
	}
	for (i = 0; i < n; i++)
		argv_free(&full[i]);
	free(full);
	free(sj);
	free(map);
}

void
transport_run(const struct policy *p, const struct policy_host *h,
    const char *user, const struct argv *args, struct transport_result *r)
{
	struct transport_job	job;
	int			i;

	memset(&job, 0, sizeof(job));
	job.host = h;
	job.user = user;
	for (i = 0; i < args->n; i++)
		argv_add(&job.args, args->v[i]);
	transport_run_many(p, &job, 1);
	argv_free(&job.args);
	*r = job.r;
}

int
transport_run_pty(const struct policy *p, const struct policy_host *h,
    const char *user, const struct argv *args, const struct winsize *ws,
    struct transport_pty *pty, struct transport_result *r)
{
	struct argv	full = { 0 };
	char		err[256];
	int		timeout, ret = -1;

	memset(r, 0, sizeof(*r));
	pty->pid = -1;
	pty->master = -1;
	/* No deadline: an attach lasts as long as the user stays. */
	if (transport_for(h)->command(p, h, user, args, true, &full, &timeout,
	    r) == -1)
		goto out;
	debug("%s: %s as %s, on a terminal", policy_host_name(h), full.v[0],
	    user);
	if (spawn_pty(&full, ws, &pty->pid, &pty->master, err,
	    sizeof(err)) == -1) {
		r->status = HOST_ERROR;
		r->message = xstrdup(err);
		goto out;
	}
	ret = 0;
out:
	argv_free(&full);
	return ret;
}

int
transport_pty_end(struct transport_pty *pty)
{
	int	status = 0;

	if (pty->pid > 0)
		status = spawn_end(pty->pid, pty->master);
	pty->pid = -1;
	pty->master = -1;
	return status;
}
