/* cmd-kill.c — kill a session, after the user confirms it by name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/cmd.h"
#include "gateway/exitcode.h"
#include "gateway/log.h"
#include "gateway/session.h"

static int	cmd_kill_exec(struct gw *, struct cmd_args *);

const struct cmd_entry cmd_kill_entry = {
	.name = "kill",
	.usage = "USER@HOST:SESSION [--yes]",
	.help = "kill a session (asks you to type its name, or --yes)",
	.flags = CMD_F_YES,
	.minargs = 1,
	.maxargs = 1,
	.exec = cmd_kill_exec,
};

/* Look the session up; set *OWNED when this identity created it. */
static int
lookup(struct gw *gw, const struct target *t, bool *owned)
{
	struct listing			 l;
	const struct tmux_session	*s;
	int				 code = MG_OK;

	session_list(policy_host_find(gw->policy, t->host), t->user, &l);
	if (l.status != HOST_OK)
		code = cmd_error(MG_FAIL, "%s@%s: %s (%s)", t->user, t->host,
		    host_status_name(l.status), l.error != NULL ? l.error : "");
	else if ((s = tmux_sessions_find(&l.sessions, t->session)) == NULL)
		code = cmd_error(MG_NOSESSION, "no session %s@%s:%s", t->user,
		    t->host, t->session);
	else
		*owned = s->owner != NULL &&
		    strcmp(s->owner, policy_identity_name(gw->id)) == 0;
	free(l.error);
	tmux_sessions_free(&l.sessions);
	return code;
}

static int
confirm(struct gw *gw, const struct target *t)
{
	char	*answer;
	bool	 ok;

	if (gw->ask == NULL)
		return cmd_error(MG_FAIL, "cannot ask for confirmation here");
	answer = gw->ask(gw, "Type the session name to confirm: ");
	ok = answer != NULL && strcmp(answer, t->session) == 0;
	free(answer);
	if (!ok)
		return cmd_error(MG_FAIL, "kill cancelled: the name did not match");
	return MG_OK;
}

static int
cmd_kill_exec(struct gw *gw, struct cmd_args *a)
{
	struct target	t;
	bool		any, owned = false;
	int		code;

	if (!a->yes && gw->mode != GW_INTERACTIVE) {
		(void)cmd_audit(gw, NULL, false, "usage");
		return cmd_error(MG_USAGE, "kill needs --yes when not "
		    "interactive");
	}
	if ((code = cmd_target_noaudit(gw, a->argv[0], TARGET_SESSION,
	    POLICY_KILL_OWN, &t)) != MG_OK)
		return code;
	any = cmd_allowed(gw, POLICY_KILL, &t);
	if ((code = lookup(gw, &t, &owned)) != MG_OK) {
		(void)cmd_audit(gw, &t, false, code == MG_NOSESSION ?
		    "no-such-session" : "host-error");
		goto out;
	}
	if (!any && !owned) {
		(void)cmd_audit(gw, &t, false, "not-owner");
		code = cmd_error(MG_DENIED, "permission denied: kill on %s "
		    "(you may kill only sessions you created)", a->argv[0]);
		goto out;
	}
	if (!a->yes && (code = confirm(gw, &t)) != MG_OK) {
		(void)cmd_audit(gw, &t, false, "not-confirmed");
		goto out;
	}
	if ((code = cmd_audit(gw, &t, true, NULL)) != MG_OK)
		goto out;
	code = session_kill(policy_host_find(gw->policy, t.host), t.user,
	    t.session);
	if (code == MG_OK && gw->mode == GW_INTERACTIVE)
		printf("killed %s\n", a->argv[0]);
out:
	target_free(&t);
	return code;
}
