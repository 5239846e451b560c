/*
 * cmd-revoke.c — end a grant before its time, or withdraw a request:
 * its requester, an approver of its rule, or an identity the policy lets
 * terminate attaches on its host and tmux user (so that a break-glass
 * grant, which has no approvers, can be ended by an operator).  Attaches that depend on
 * it end within a few seconds (attach.c re-checks every second).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gateway/access.h"
#include "gateway/exitcode.h"
#include "gateway/grantcmd.h"
#include "gateway/state.h"
#include "gateway/xmalloc.h"

static int	cmd_revoke_exec(struct gw *, struct cmd_req *);

const struct cmd_entry cmd_revoke_entry = {
	.name = "revoke",
	.usage = "GRANT_ID [--reason TEXT]",
	.help = "end a grant now, or withdraw a request",
	.flags = CMD_F_REASON,
	.minargs = 1,
	.maxargs = 1,
	.exec = cmd_revoke_exec,
};

static int
decide(struct gw *gw, struct cmd_req *req, struct state *st, struct grant *g)
{
	struct policy_request	 r;
	struct policy_verdict	 v;
	long long		 now = (long long)time(NULL);
	enum grant_status	 s = grant_status_at(g, now);
	const char		*why;
	bool			 mine;
	int			 code;

	req->decided = true;
	if (req->args.reason != NULL &&
	    !grant_valid_reason(req->args.reason, &why))
		return cmd_fail(gw, req, CMD_R_USAGE, "revoke: bad reason: %s",
		    why);
	mine = strcmp(g->requester, policy_identity_name(gw->id)) == 0;
	policy_decide(gw->policy, gw->id, POLICY_TERMINATE, g->host, g->user,
	    &v);
	if (!mine && !v.allow) {
		if ((code = grantcmd_rule(gw, req, g, &r)) != MG_OK)
			return code;
		if (!policy_may_approve(gw->id, &r))
			return cmd_fail(gw, req, CMD_R_DENIED, "permission "
			    "denied: revoke %s (neither its requester nor an "
			    "approver of its rule, nor allowed to terminate "
			    "there)", g->id);
	}
	if (s != GRANT_PENDING && s != GRANT_ACTIVE)
		return cmd_fail(gw, req, CMD_R_DECIDED, "grant %s has already "
		    "ended: it is %s", g->id, grant_status_name(s));
	req->allowed = true;
	g->status = GRANT_REVOKED;
	g->by = xstrdup(policy_identity_name(gw->id));
	g->note = req->args.reason != NULL ? xstrdup(req->args.reason) : NULL;
	g->decided = now;
	if ((code = grantcmd_write(gw, req, st, g, "revoked")) != MG_OK)
		return code;
	access_forget(gw);
	req->rec.note = g->note;
	if ((code = cmd_begun(gw, req)) != MG_OK)
		return code;
	printf("revoked grant %s of %s\n", g->id, g->requester);
	return fflush(stdout) == EOF ? MG_FAIL : MG_OK;
}

static int
cmd_revoke_exec(struct gw *gw, struct cmd_req *req)
{
	return grantcmd_run(gw, req, decide);
}
