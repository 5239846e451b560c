/*
 * cmd-grants.c — one's own grants, and the pending requests one may
 * approve.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/exitcode.h"
#include "gateway/grantcmd.h"
#include "gateway/log.h"
#include "gateway/output.h"
#include "gateway/state.h"

static int	cmd_grants_exec(struct gw *, struct cmd_req *);

const struct cmd_entry cmd_grants_entry = {
	.name = "grants",
	.usage = "[--json]",
	.help = "show your grants and the requests you may approve",
	.flags = CMD_F_JSON,
	.maxargs = 0,
	.exec = cmd_grants_exec,
};

/* May this identity approve pending request G, in the policy now? */
static bool
may_approve(struct gw *gw, const struct grant *g)
{
	const struct policy_identity	*who;
	struct policy_request		 r;

	if (strcmp(g->requester, policy_identity_name(gw->id)) == 0 ||
	    (who = policy_identity_find(gw->policy, g->requester)) == NULL ||
	    policy_request_find(gw->policy, who, g->action, g->host, g->user,
	    &r) == -1 || g->duration > r.max_duration)
		return false;
	return policy_may_approve(gw->id, &r);
}

/* Newest first. */
static int
by_time(const void *a, const void *b)
{
	const struct grant	*x = a, *y = b;

	if (x->requested != y->requested)
		return x->requested < y->requested ? 1 : -1;
	return strcmp(x->id, y->id);
}

static int
show(struct gw *gw, struct cmd_req *req, struct grant_list *mine,
    struct grant_list *pending)
{
	struct json_object	*root, *a, *b;
	struct buf		 out = { 0 };
	long long		 now = (long long)time(NULL);
	size_t			 i, n = 0;
	int			 code = MG_OK;

	/* An empty list has no array at all: qsort(3) must not see it. */
	if (mine->n > 1)
		qsort(mine->v, mine->n, sizeof(*mine->v), by_time);
	if (pending->n > 1)
		qsort(pending->v, pending->n, sizeof(*pending->v), by_time);
	root = json_object_new_object();
	a = json_object_new_array();
	b = json_object_new_array();
	for (i = 0; i < mine->n; i++) {
		json_object_array_add(a, grantcmd_json(&mine->v[i], now));
		if (i == 0)
			buf_adds(&out, "your grants:\n");
		buf_adds(&out, "  ");
		grantcmd_line(&out, &mine->v[i], now);
		buf_addc(&out, '\n');
	}
	for (i = 0; i < pending->n; i++) {
		if (grant_status_at(&pending->v[i], now) != GRANT_PENDING ||
		    !may_approve(gw, &pending->v[i]))
			continue;
		json_object_array_add(b, grantcmd_json(&pending->v[i], now));
		if (n++ == 0)
			buf_adds(&out, "requests you may approve:\n");
		buf_adds(&out, "  ");
		grantcmd_line(&out, &pending->v[i], now);
		buf_addc(&out, '\n');
	}
	json_object_object_add(root, "grants", a);
	json_object_object_add(root, "to_approve", b);
	if (req->args.json)
		code = out_json_print(root) == -1 ? MG_FAIL : MG_OK;
	else {
		fputs(out.data != NULL ? out.data : "no grants, and no requests "
		    "to approve\n", stdout);
		code = fflush(stdout) == EOF ? MG_FAIL : MG_OK;
	}
	json_object_put(root);
	buf_free(&out);
	return code;
}

/*
 * The entries of L that could not be read, each named in one warning
 * line: the others were listed, and the exit status says some were not.
 */
static size_t
skipped(const struct grant_list *l)
{
	size_t	i;

	for (i = 0; i < l->nbad; i++)
		error_msg("grants: warning: not listed: %s", l->bad[i]);
	return l->nbad;
}

static int
cmd_grants_exec(struct gw *gw, struct cmd_req *req)
{
	struct grant_list	 mine, pending = { 0 };
	struct state		*st;
	char			 err[256];
	size_t			 nbad;
	int			 code;

	if ((st = state_open(policy_gateway(gw->policy)->state, err,
	    sizeof(err))) == NULL || grants_of(st, policy_identity_name(gw->id),
	    &mine, err, sizeof(err)) == -1) {
		state_close(st);
		return cmd_fail(gw, req, CMD_R_ERROR, "grants: %s", err);
	}
	/* Only an approver of some rule needs the pending requests. */
	if (policy_identity_approves(gw->policy, gw->id) &&
	    grants_pending(st, &pending, err, sizeof(err)) == -1) {
		state_close(st);
		grant_list_free(&mine);
		return cmd_fail(gw, req, CMD_R_ERROR, "grants: %s", err);
	}
	state_close(st);
	code = show(gw, req, &mine, &pending);
	nbad = skipped(&mine);
	nbad += skipped(&pending);
	if (nbad > 0 && code == MG_OK)
		code = cmd_fail(gw, req, CMD_R_ERROR, NULL);
	grant_list_free(&mine);
	grant_list_free(&pending);
	return code;
}
