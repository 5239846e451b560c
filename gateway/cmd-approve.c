/*
 * cmd-approve.c — approve someone's pending request: it becomes active
 * now, for its duration.  Only an identity holding an approver role of
 * the rule that offers it (in the policy now), never its requester; of
 * two approvals at once, one is written (grantcmd_write).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gateway/exitcode.h"
#include "gateway/grantcmd.h"
#include "gateway/state.h"
#include "gateway/xmalloc.h"

static int	cmd_approve_exec(struct gw *, struct cmd_req *);

const struct cmd_entry cmd_approve_entry = {
	.name = "approve",
	.usage = "GRANT_ID",
	.help = "approve a pending request (see grants)",
	.minargs = 1,
	.maxargs = 1,
	.exec = cmd_approve_exec,
};

static int
decide(struct gw *gw, struct cmd_req *req, struct state *st, struct grant *g)
{
	struct policy_request	 r;
	struct buf		 b = { 0 };
	long long		 now = (long long)time(NULL);
	int			 code;

	req->decided = true;
	if (strcmp(g->requester, policy_identity_name(gw->id)) == 0)
		return cmd_fail(gw, req, CMD_R_DENIED, "permission denied: "
		    "nobody approves their own request");
	if ((code = grantcmd_rule(gw, req, g, &r)) != MG_OK)
		return code;
	if (!policy_may_approve(gw->id, &r))
		return cmd_fail(gw, req, CMD_R_DENIED, "permission denied: "
		    "approve %s (not an approver of its rule)", g->id);
	if (grant_status_at(g, now) != GRANT_PENDING)
		return cmd_fail(gw, req, CMD_R_DECIDED, "grant %s is not "
		    "pending: it is %s", g->id,
		    grant_status_name(grant_status_at(g, now)));
	req->allowed = true;
	g->status = GRANT_ACTIVE;
	g->approver = xstrdup(policy_identity_name(gw->id));
	g->starts = g->decided = now;
	g->ends = now + g->duration;
	if ((code = grantcmd_write(gw, req, st, g, "approved")) != MG_OK ||
	    (code = cmd_begun(gw, req)) != MG_OK)
		return code;
	grantcmd_line(&b, g, now);
	printf("approved %s\n", b.data);
	buf_free(&b);
	return fflush(stdout) == EOF ? MG_FAIL : MG_OK;
}

static int
cmd_approve_exec(struct gw *gw, struct cmd_req *req)
{
	struct state	*st;
	struct grant	 g;
	int		 code;

	if ((code = grantcmd_load(gw, req, &st, &g)) != MG_OK)
		return code;
	code = decide(gw, req, st, &g);
	state_close(st);
	memset(&req->rec, 0, sizeof(req->rec));
	grant_free(&g);
	return code;
}
