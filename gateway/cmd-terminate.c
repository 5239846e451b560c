/*
 * cmd-terminate.c — end someone's live attach or watch on this gateway:
 * a request in the shared state that the attach's relay sees within a
 * second or two (terminate.h).  The target is the attach, found by its
 * id among the live ones (CMD_T_ATTACH); the policy decides the
 * terminate action on its host and tmux user like any other action.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/cmd.h"
#include "gateway/exitcode.h"
#include "gateway/output.h"
#include "gateway/slots.h"
#include "gateway/state.h"
#include "gateway/terminate.h"

/* How long to wait for the attach to end before saying it has not. */
#define WAIT_MS		6000
#define POLL_MS		100

static int	cmd_terminate_exec(struct gw *, struct cmd_req *);

const struct cmd_entry cmd_terminate_entry = {
	.name = "terminate",
	.usage = "ATTACH_ID [--reason TEXT]",
	.help = "end someone's live attach or watch (ids: ls --json)",
	.flags = CMD_F_REASON,
	.minargs = 1,
	.maxargs = 1,
	.target = TARGET_SESSION | CMD_T_ATTACH,
	.action = POLICY_TERMINATE,
	.exec = cmd_terminate_exec,
};

static bool
still_live(const char *state, const char *id)
{
	struct viewers	v;
	size_t		i;
	bool		live = false;

	slots_viewers(state, &v);
	for (i = 0; i < v.n && !live; i++)
		live = strcmp(v.v[i].attach_id, id) == 0;
	viewers_free(&v);
	return live;
}

static int
cmd_terminate_exec(struct gw *gw, struct cmd_req *req)
{
	const char		*dir = policy_gateway(gw->policy)->state;
	const struct timespec	 pause = { 0, POLL_MS * 1000 * 1000 };
	struct state		*st;
	char			 err[256], *e[4];
	int			 waited, code, i;

	if ((st = state_open(dir, err, sizeof(err))) == NULL ||
	    terminate_request(st, req->arg, policy_identity_name(gw->id),
	    req->args.reason, err, sizeof(err)) == -1) {
		state_close(st);
		return cmd_fail(gw, req, CMD_R_ERROR, "terminate: %s", err);
	}
	state_close(st);
	for (waited = 0; waited < WAIT_MS && still_live(dir, req->arg);
	    waited += POLL_MS)
		(void)nanosleep(&pause, NULL);
	if (still_live(dir, req->arg))
		return cmd_fail(gw, req, CMD_R_ERROR, "asked %s to end, but it "
		    "has not ended within %d s", req->arg, WAIT_MS / 1000);
	/* What the slot file said: the gateway's own, but shown escaped. */
	e[0] = out_escape(req->mode);
	e[1] = out_escape(req->holder);
	e[2] = out_escape(req->t.user);
	e[3] = out_escape(req->t.session);
	printf("terminated %s: %s of %s on %s@%s:%s\n", req->arg, e[0], e[1],
	    e[2], req->t.host, e[3]);
	for (i = 0; i < 4; i++)
		free(e[i]);
	code = MG_OK;
	return code;
}
