/* grantcmd.c — what the grant commands share (grantcmd.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/exitcode.h"
#include "gateway/grantcmd.h"
#include "gateway/output.h"
#include "gateway/state.h"
#include "gateway/utc.h"
#include "gateway/xmalloc.h"

void
grantcmd_duration(struct buf *b, long long s)
{
	if (s < 0)
		s = 0;
	if (s >= 86400)
		buf_printf(b, "%lldd", s / 86400);
	if (s % 86400 >= 3600)
		buf_printf(b, "%lldh", s % 86400 / 3600);
	if (s % 3600 >= 60 && s < 86400)
		buf_printf(b, "%lldm", s % 3600 / 60);
	if ((s % 60 != 0 && s < 3600) || s == 0)
		buf_printf(b, "%llds", s % 60);
}

static void
scope(struct buf *b, const struct grant *g)
{
	char	*sess = g->session != NULL ? out_escape(g->session) : NULL;

	buf_printf(b, "%s %s@%s%s%s", policy_action_name(g->action), g->user,
	    g->host, sess != NULL ? ":" : "", sess != NULL ? sess : "");
	free(sess);
}

void
grantcmd_line(struct buf *b, const struct grant *g, long long now)
{
	enum grant_status	 s = grant_status_at(g, now);
	char			*text;

	buf_printf(b, "%s  %-8s %s  ", g->id, grant_status_name(s),
	    g->requester);
	scope(b, g);
	buf_adds(b, " for ");
	grantcmd_duration(b, g->duration);
	if (s == GRANT_ACTIVE) {
		buf_adds(b, ", ");
		grantcmd_duration(b, g->ends - now);
		buf_adds(b, " left");
	} else if (s == GRANT_PENDING) {
		buf_adds(b, ", lapses in ");
		grantcmd_duration(b, grant_lapses(g) - now);
	}
	if (g->approver != NULL)
		buf_printf(b, ", approved by %s", g->approver);
	if (g->by != NULL)
		buf_printf(b, ", %s by %s", grant_status_name(g->status), g->by);
	if (g->reason != NULL) {
		text = out_escape(g->reason);
		buf_printf(b, "; reason: %s", text);
		free(text);
	}
	if (g->note != NULL) {
		text = out_escape(g->note);
		buf_printf(b, "; note: %s", text);
		free(text);
	}
}

struct json_object *
grantcmd_json(const struct grant *g, long long now)
{
	struct json_object	*o = json_object_new_object();
	enum grant_status	 s = grant_status_at(g, now);

	json_object_object_add(o, "id", json_object_new_string(g->id));
	json_object_object_add(o, "status",
	    json_object_new_string(grant_status_name(s)));
	json_object_object_add(o, "requester", out_json_string(g->requester));
	json_object_object_add(o, "action",
	    json_object_new_string(policy_action_name(g->action)));
	json_object_object_add(o, "host", out_json_string(g->host));
	json_object_object_add(o, "user", out_json_string(g->user));
	json_object_object_add(o, "session", g->session != NULL ?
	    out_json_string(g->session) : NULL);
	json_object_object_add(o, "duration",
	    json_object_new_int64(g->duration));
	json_object_object_add(o, "reason", g->reason != NULL ?
	    out_json_string(g->reason) : NULL);
	json_object_object_add(o, "approver", g->approver != NULL ?
	    out_json_string(g->approver) : NULL);
	json_object_object_add(o, "by", g->by != NULL ?
	    out_json_string(g->by) : NULL);
	json_object_object_add(o, "note", g->note != NULL ?
	    out_json_string(g->note) : NULL);
	json_object_object_add(o, "requested",
	    json_object_new_int64(g->requested));
	json_object_object_add(o, "starts", g->starts != 0 ?
	    json_object_new_int64(g->starts) : NULL);
	json_object_object_add(o, "ends", g->ends != 0 ?
	    json_object_new_int64(g->ends) : NULL);
	json_object_object_add(o, "remaining", s == GRANT_ACTIVE ?
	    json_object_new_int64(g->ends - now) : NULL);
	return o;
}

void
grantcmd_describe(struct cmd_req *req, const struct grant *g)
{
	target_free(&req->t);
	req->t.kind = g->session != NULL ? TARGET_SESSION : TARGET_USER_HOST;
	req->t.host = xstrdup(g->host);
	req->t.user = xstrdup(g->user);
	req->t.session = g->session != NULL ? xstrdup(g->session) : NULL;
	req->rec.id = g->id;
	req->rec.action = policy_action_name(g->action);
	req->rec.requester = g->requester;
	req->rec.approver = g->approver;
	req->rec.duration = g->duration;
}

int
grantcmd_load(struct gw *gw, struct cmd_req *req, struct state **st,
    struct grant *g)
{
	const char	*id = req->args.argv[0];
	char		 err[256], *e;
	int		 r;

	memset(g, 0, sizeof(*g));
	*st = NULL;
	if (!grant_valid_id(id)) {
		e = out_escape(id);
		r = cmd_fail(gw, req, CMD_R_BAD_TARGET, "bad grant id '%s': 16 "
		    "hexadecimal digits, as grants shows them", e);
		free(e);
		return r;
	}
	if ((*st = state_open(policy_gateway(gw->policy)->state, err,
	    sizeof(err))) == NULL)
		return cmd_fail(gw, req, CMD_R_ERROR, "%s: %s",
		    req->entry->name, err);
	switch (grants_find(*st, id, g, err, sizeof(err))) {
	case STATE_OK:
		grantcmd_describe(req, g);
		return MG_OK;
	case STATE_ABSENT:
		r = cmd_fail(gw, req, CMD_R_NO_GRANT, "no grant %s", id);
		break;
	default:
		r = cmd_fail(gw, req, CMD_R_ERROR, "%s: %s", req->entry->name,
		    err);
	}
	state_close(*st);
	*st = NULL;
	return r;
}

int
grantcmd_rule(struct gw *gw, struct cmd_req *req, const struct grant *g,
    struct policy_request *r)
{
	const struct policy_identity	*who;

	if ((who = policy_identity_find(gw->policy, g->requester)) == NULL)
		return cmd_fail(gw, req, CMD_R_DENIED, "grant %s: its "
		    "requester %s is no longer in the policy", g->id,
		    g->requester);
	if (policy_request_find(gw->policy, who, g->action, g->host, g->user,
	    r) == -1)
		return cmd_fail(gw, req, CMD_R_DENIED, "grant %s: no request "
		    "rule of %s offers it any more", g->id, g->requester);
	if (g->duration > r->max_duration)
		return cmd_fail(gw, req, CMD_R_DENIED, "grant %s: longer than "
		    "its rule now allows", g->id);
	return MG_OK;
}

int
grantcmd_write(struct gw *gw, struct cmd_req *req, struct state *st,
    struct grant *g, const char *verb)
{
	struct grant	now;
	char		err[256];

	switch (grants_update(st, g, err, sizeof(err))) {
	case STATE_OK:
		grantcmd_describe(req, g);
		return MG_OK;
	case STATE_CONFLICT:
		break;
	default:
		return cmd_fail(gw, req, CMD_R_ERROR, "%s: %s", req->entry->name,
		    err);
	}
	/* Someone else changed it between our read and our write. */
	if (grants_find(st, g->id, &now, err, sizeof(err)) != STATE_OK)
		return cmd_fail(gw, req, CMD_R_DECIDED, "grant %s changed "
		    "while it was being %s", g->id, verb);
	req->rec.requester = g->requester;
	(void)cmd_fail(gw, req, CMD_R_DECIDED, "grant %s was not %s: it "
	    "is %s%s%s", g->id, verb, grant_status_name(grant_status_at(&now,
	    (long long)time(NULL))), now.approver != NULL ? ", approved by " :
	    now.by != NULL ? " by " : "", now.approver != NULL ?
	    now.approver : now.by != NULL ? now.by : "");
	grant_free(&now);
	return cmd_reason_code(CMD_R_DECIDED);
}

int
grantcmd_may_decide(struct gw *gw, struct cmd_req *req, const struct grant *g)
{
	struct policy_request	 r;
	long long		 now = (long long)time(NULL);
	bool			 approve = strcmp(req->entry->name, "approve") == 0;
	int			 code;

	req->decided = true;
	if (strcmp(g->requester, policy_identity_name(gw->id)) == 0)
		return cmd_fail(gw, req, CMD_R_DENIED, "permission denied: %s",
		    approve ? "nobody approves their own request" :
		    "nobody decides their own request (revoke withdraws it)");
	if ((code = grantcmd_rule(gw, req, g, &r)) != MG_OK)
		return code;
	if (!policy_may_approve(gw->id, &r))
		return cmd_fail(gw, req, CMD_R_DENIED, "permission denied: %s "
		    "%s (not an approver of its rule)", req->entry->name, g->id);
	if (grant_status_at(g, now) != GRANT_PENDING)
		return cmd_fail(gw, req, CMD_R_DECIDED, "grant %s is not "
		    "pending: it is %s", g->id,
		    grant_status_name(grant_status_at(g, now)));
	req->allowed = true;
	return MG_OK;
}

int
grantcmd_run(struct gw *gw, struct cmd_req *req,
    int (*decide)(struct gw *, struct cmd_req *, struct state *,
    struct grant *))
{
	struct state	*st;
	struct grant	 g;
	int		 code;

	if ((code = grantcmd_load(gw, req, &st, &g)) != MG_OK)
		return code;
	code = decide(gw, req, st, &g);
	state_close(st);
	/* The record was written by now; it pointed into G. */
	memset(&req->rec, 0, sizeof(req->rec));
	grant_free(&g);
	return code;
}
