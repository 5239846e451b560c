/*
 * cmd-deny.c — deny someone's pending request, optionally saying why.
 * Who may: as for approve (cmd-approve.c).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gateway/exitcode.h"
#include "gateway/grantcmd.h"
#include "gateway/state.h"
#include "gateway/xmalloc.h"

static int	cmd_deny_exec(struct gw *, struct cmd_req *);

const struct cmd_entry cmd_deny_entry = {
	.name = "deny",
	.usage = "GRANT_ID [--reason TEXT]",
	.help = "deny a pending request (see grants)",
	.flags = CMD_F_REASON,
	.minargs = 1,
	.maxargs = 1,
	.exec = cmd_deny_exec,
};

static int
decide(struct gw *gw, struct cmd_req *req, struct state *st, struct grant *g)
{
	long long		 now = (long long)time(NULL);
	const char		*why;
	int			 code;

	if (req->args.reason != NULL &&
	    !grant_valid_reason(req->args.reason, &why))
		return cmd_fail(gw, req, CMD_R_USAGE, "deny: bad reason: %s",
		    why);
	if ((code = grantcmd_may_decide(gw, req, g)) != MG_OK)
		return code;
	g->status = GRANT_DENIED;
	g->by = xstrdup(policy_identity_name(gw->id));
	g->note = req->args.reason != NULL ? xstrdup(req->args.reason) : NULL;
	g->decided = now;
	if ((code = grantcmd_write(gw, req, st, g, "denied")) != MG_OK)
		return code;
	req->rec.note = g->note;
	if ((code = cmd_begun(gw, req)) != MG_OK)
		return code;
	printf("denied grant %s of %s\n", g->id, g->requester);
	return fflush(stdout) == EOF ? MG_FAIL : MG_OK;
}

static int
cmd_deny_exec(struct gw *gw, struct cmd_req *req)
{
	return grantcmd_run(gw, req, decide);
}
