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
	struct buf		 b = { 0 };
	long long		 now = (long long)time(NULL);
	int			 code;

	if ((code = grantcmd_may_decide(gw, req, g)) != MG_OK)
		return code;
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
	return grantcmd_run(gw, req, decide);
}
