/* cmd-kill.c — kill a session, after the user confirms it by name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/cmd.h"
#include "gateway/exitcode.h"
#include "gateway/session.h"

static int	cmd_kill_exec(struct gw *, struct cmd_req *);

const struct cmd_entry cmd_kill_entry = {
	.name = "kill",
	.usage = "USER@HOST:SESSION [--yes]",
	.help = "kill a session (asks you to type its name, or --yes)",
	.flags = CMD_F_YES,
	.minargs = 1,
	.maxargs = 1,
	.target = TARGET_SESSION | CMD_T_EXISTING,
	/* kill-own kills one's own sessions; kill anyone's. */
	.action = POLICY_KILL_OWN,
	.others = POLICY_KILL,
	.exec = cmd_kill_exec,
};

static bool
confirmed(struct gw *gw, const struct target *t)
{
	char	*answer;
	bool	 ok;

	answer = gw->ask(gw, "Type the session name to confirm: ");
	ok = answer != NULL && strcmp(answer, t->session) == 0;
	free(answer);
	return ok;
}

static int
cmd_kill_exec(struct gw *gw, struct cmd_req *req)
{
	char	why[512];

	if (!req->args.yes && gw->ask == NULL)
		return cmd_fail(gw, req, CMD_R_NOT_CONFIRMED, "cannot ask for "
		    "confirmation here");
	if (!req->args.yes && !confirmed(gw, &req->t))
		return cmd_fail(gw, req, CMD_R_NOT_CONFIRMED, "kill cancelled: "
		    "the name did not match");
	switch (session_kill(gw->policy, req->host, req->t.user,
	    req->t.session, why, sizeof(why))) {
	case SESSION_OK:
		break;
	case SESSION_GONE:
		return cmd_fail(gw, req, CMD_R_NO_SESSION, "%s", why);
	default:
		return cmd_fail(gw, req, CMD_R_HOST_ERROR, "%s", why);
	}
	if (gw->mode == GW_INTERACTIVE)
		printf("killed %s\n", req->arg);
	return MG_OK;
}
