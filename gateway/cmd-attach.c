/* cmd-attach.c — attach read-write; attach_target() is shared with watch. */
#include <stdlib.h>
#include <unistd.h>

#include "gateway/cmd.h"
#include "gateway/exitcode.h"
#include "gateway/session.h"
#include "gateway/attach.h"

static int	cmd_attach_exec(struct gw *, struct cmd_args *);

const struct cmd_entry cmd_attach_entry = {
	.name = "attach",
	.alias = "a",
	.usage = "USER@HOST:SESSION",
	.help = "attach to a session (read-write)",
	.minargs = 1,
	.maxargs = 1,
	.exec = cmd_attach_exec,
};

/* The session must exist where the identity may look: else exit 4. */
static int
find_session(const struct policy_host *h, const struct target *t)
{
	struct listing	l;
	int		code = MG_OK;

	session_list(h, t->user, &l);
	if (l.status != HOST_OK)
		code = cmd_error(MG_FAIL, "%s@%s: %s (%s)", t->user, t->host,
		    host_status_name(l.status), l.error != NULL ? l.error : "");
	else if (tmux_sessions_find(&l.sessions, t->session) == NULL)
		code = cmd_error(MG_NOSESSION, "no session %s@%s:%s", t->user,
		    t->host, t->session);
	free(l.error);
	tmux_sessions_free(&l.sessions);
	return code;
}

int
attach_target(struct gw *gw, const char *arg, bool readonly)
{
	struct target			 t;
	const struct policy_host	*h;
	int				 code;

	if ((code = cmd_target(gw, arg, TARGET_SESSION, readonly ?
	    POLICY_WATCH : POLICY_ATTACH, &t)) != MG_OK)
		return code;
	if (!gw->tty)
		code = cmd_error(MG_USAGE, "%s needs a terminal (use ssh -t)",
		    readonly ? "watch" : "attach");
	else {
		h = policy_host_find(gw->policy, t.host);
		gw->attached = true;
		if ((code = find_session(h, &t)) == MG_OK)
			code = session_attach(h, t.user, t.session, readonly);
	}
	target_free(&t);
	return code;
}

static int
cmd_attach_exec(struct gw *gw, struct cmd_args *a)
{
	return attach_target(gw, a->argv[0], false);
}
