/*
 * cmd-request.c — ask for a just-in-time grant: one action on
 * USER@HOST[:SESSION] for a duration, under a request rule of one's
 * roles.  Pending until an approver decides, or active at once under a
 * rule without approvers.  The policy is asked here, not by cmd_run: the
 * question is not "may I" but "may I ask".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/access.h"
#include "gateway/exitcode.h"
#include "gateway/grantcmd.h"
#include "gateway/output.h"
#include "gateway/state.h"
#include "gateway/xmalloc.h"

static int	cmd_request_exec(struct gw *, struct cmd_req *);

const struct cmd_entry cmd_request_entry = {
	.name = "request",
	.usage = "ACTION USER@HOST[:SESSION] --for DURATION [--reason TEXT] "
	    "[--json]",
	.help = "ask for access for a while (see grants)",
	.flags = CMD_F_FOR | CMD_F_REASON | CMD_F_JSON,
	.minargs = 2,
	.maxargs = 2,
	.exec = cmd_request_exec,
};

/* The action, target and duration asked for, into G; or the refusal. */
static int
parse(struct gw *gw, struct cmd_req *req, struct grant *g)
{
	const char	*why;
	unsigned	 secs;
	char		 err[256], *e;
	int		 code;

	if (target_parse(req->args.argv[1], TARGET_USER_HOST | TARGET_SESSION,
	    &req->t, err, sizeof(err)) == -1) {
		memset(&req->t, 0, sizeof(req->t));
		return cmd_fail(gw, req, CMD_R_BAD_TARGET, "%s", err);
	}
	if (policy_action_parse(req->args.argv[0], &g->action) == -1) {
		e = out_escape(req->args.argv[0]);
		code = cmd_fail(gw, req, CMD_R_USAGE, "request: unknown action "
		    "'%s' (list, watch, attach, create, kill, kill-own, "
		    "terminate)", e);
		free(e);
		return code;
	}
	if (req->args.for_ == NULL)
		return cmd_fail(gw, req, CMD_R_USAGE, "request: --for DURATION "
		    "is required; usage: request %s", req->entry->usage);
	if (policy_parse_duration(req->args.for_, &secs) == -1 || secs == 0) {
		e = out_escape(req->args.for_);
		code = cmd_fail(gw, req, CMD_R_USAGE, "request: bad duration "
		    "'%s' (use 30s, 5m, 6h or 7d)", e);
		free(e);
		return code;
	}
	if (req->args.reason != NULL &&
	    !grant_valid_reason(req->args.reason, &why))
		return cmd_fail(gw, req, CMD_R_USAGE, "request: bad reason: %s",
		    why);
	if (req->t.session != NULL && !grant_valid_session(req->t.session))
		return cmd_fail(gw, req, CMD_R_BAD_TARGET, "request: bad session "
		    "name: control characters or invalid UTF-8");
	g->duration = secs;
	g->host = xstrdup(req->t.host);
	g->user = xstrdup(req->t.user);
	g->session = req->t.session != NULL ? xstrdup(req->t.session) : NULL;
	g->reason = req->args.reason != NULL ? xstrdup(req->args.reason) :
	    NULL;
	g->requester = xstrdup(policy_identity_name(gw->id));
	return MG_OK;
}

/* May this identity ask for G, and how: the rule in R, or the refusal. */
static int
allowed_to_ask(struct gw *gw, struct cmd_req *req, const struct grant *g,
    struct policy_request *r)
{
	struct policy_verdict	 v;
	struct buf		 b = { 0 };
	int			 code;

	req->decided = true;
	policy_decide(gw->policy, gw->id, g->action, g->host, g->user, &v);
	if (v.allow)
		return cmd_fail(gw, req, CMD_R_USAGE, "request: nothing to ask "
		    "for: the policy already allows %s on %s",
		    policy_action_name(g->action), req->args.argv[1]);
	if (v.why == POLICY_WHY_DENY_RULE)
		return cmd_fail(gw, req, CMD_R_DENIED, "permission denied: "
		    "request %s on %s (a deny rule covers it)",
		    policy_action_name(g->action), req->args.argv[1]);
	if (v.why != POLICY_WHY_DEFAULT || policy_request_find(gw->policy,
	    gw->id, g->action, g->host, g->user, r) == -1)
		return cmd_fail(gw, req, CMD_R_DENIED, "permission denied: "
		    "request %s on %s", policy_action_name(g->action),
		    req->args.argv[1]);
	if (g->duration > r->max_duration) {
		grantcmd_duration(&b, r->max_duration);
		code = cmd_fail(gw, req, CMD_R_DENIED, "permission denied: "
		    "request for longer than %s, the most its rule allows",
		    b.data);
		buf_free(&b);
		return code;
	}
	if (r->reason_required && g->reason == NULL)
		return cmd_fail(gw, req, CMD_R_USAGE, "request: a reason is "
		    "required (--reason TEXT)");
	req->allowed = true;
	return MG_OK;
}

static int
report(struct gw *gw, struct cmd_req *req, const struct grant *g,
    const struct policy_request *r, long long now)
{
	struct json_object	*o;
	struct buf		 b = { 0 };
	size_t			 i;
	int			 code = MG_OK;

	if (req->args.json) {
		o = grantcmd_json(g, now);
		code = out_json_print(o) == -1 ? MG_FAIL : MG_OK;
		json_object_put(o);
		return code;
	}
	grantcmd_line(&b, g, now);
	printf("grant %s\n", b.data);
	if (g->status == GRANT_PENDING) {
		printf("waiting for approval by");
		for (i = 0; i < r->napprovers; i++)
			printf("%s %s", i > 0 ? "," : "", r->approvers[i]);
		printf(" (any identity of %s but you); see grants\n",
		    r->napprovers == 1 ? "that role" : "those roles");
	}
	buf_free(&b);
	return fflush(stdout) == EOF ? MG_FAIL : code;
}

static int
cmd_request_exec(struct gw *gw, struct cmd_req *req)
{
	struct policy_request	 r;
	struct grant		 g;
	struct state		*st;
	long long		 now = (long long)time(NULL);
	char			 err[256];
	int			 code;

	memset(&g, 0, sizeof(g));
	if ((code = parse(gw, req, &g)) != MG_OK ||
	    (code = allowed_to_ask(gw, req, &g, &r)) != MG_OK) {
		grant_free(&g);
		return code;
	}
	g.requested = now;
	if (r.self_service) {
		g.status = GRANT_ACTIVE;
		g.starts = g.decided = now;
		g.ends = now + g.duration;
	} else
		g.status = GRANT_PENDING;
	if ((st = state_open(policy_gateway(gw->policy)->state, err,
	    sizeof(err))) == NULL || grants_add(st, &g, err, sizeof(err)) == -1) {
		state_close(st);
		grant_free(&g);
		return cmd_fail(gw, req, CMD_R_ERROR, "request: %s", err);
	}
	state_close(st);
	access_forget(gw);
	grantcmd_describe(req, &g);
	req->rec.note = g.reason;
	/* The request is done: its record goes out before the answer. */
	if ((code = cmd_begun(gw, req)) == MG_OK)
		code = report(gw, req, &g, &r, now);
	req->rec.id = req->rec.action = req->rec.requester = NULL;
	req->rec.note = req->rec.approver = NULL;
	grant_free(&g);
	return code;
}
