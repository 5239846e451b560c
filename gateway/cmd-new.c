/* cmd-new.c — create a detached session, tagged with its owner. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "gateway/cmd.h"
#include "gateway/exitcode.h"
#include "gateway/log.h"
#include "gateway/output.h"
#include "gateway/session.h"
#include "gateway/state.h"
#include "gateway/ttl.h"

static int	cmd_new_exec(struct gw *, struct cmd_req *);

const struct cmd_entry cmd_new_entry = {
	.name = "new",
	.alias = "create",
	.usage = "USER@HOST:SESSION [--ttl DURATION] [--json] "
	    "[-- COMMAND [ARG...]]",
	.help = "create a detached session, optionally running COMMAND; "
	    "--ttl: killed after DURATION",
	.flags = CMD_F_COMMAND | CMD_F_JSON | CMD_F_TTL,
	.minargs = 1,
	.maxargs = 1,
	.target = TARGET_SESSION | CMD_T_NEWNAME,
	.action = POLICY_CREATE,
	.exec = cmd_new_exec,
};

/*
 * Say what was created: a script must not have to guess the target.
 * EXPIRES is when it will be killed, or 0.
 */
static int
report(const struct target *t, const char *owner, unsigned ttl,
    long long expires, bool json)
{
	struct json_object	*o;
	char			 d[32];
	int			 code = MG_OK;

	if (!json) {
		ttl_duration_text(ttl, d, sizeof(d));
		if (printf("created %s@%s:%s%s%s%s\n", t->user, t->host,
		    t->session, ttl > 0 ? " (ttl " : "", ttl > 0 ? d : "",
		    ttl > 0 ? ")" : "") < 0 || fflush(stdout) == EOF)
			return MG_FAIL;
		return MG_OK;
	}
	o = json_object_new_object();
	json_object_object_add(o, "host", out_json_string(t->host));
	json_object_object_add(o, "user", out_json_string(t->user));
	json_object_object_add(o, "session", out_json_string(t->session));
	json_object_object_add(o, "owner", out_json_string(owner));
	json_object_object_add(o, "expires", expires > 0 ?
	    json_object_new_int64(expires) : NULL);
	if (out_json_print(o) == -1)
		code = MG_FAIL;
	json_object_put(o);
	return code;
}

/*
 * Tag the session just created with its TTL.  The tag needs tmux's own
 * creation time, so it can only be written once the session exists;
 * whatever goes wrong from there, the session is killed again rather
 * than left running without the tag.  Only a crash in between, or a
 * host that fails the kill too (which the error says), leaves one.  The
 * tag is written under the state's lock and fsync()ed: once this returns
 * MG_OK, reap will find it.
 */
static int
tag(struct gw *gw, struct cmd_req *req, const char *me, long long *expires)
{
	const struct target	*t = &req->t;
	struct ttl_tag		 tt;
	struct state		*st = NULL;
	char			 err[512], why[512];
	long long		 created;

	memset(&tt, 0, sizeof(tt));
	switch (session_created(gw->policy, req->host, t->user, t->session,
	    &created, err, sizeof(err))) {
	case SESSION_FOUND:
		tt.host = t->host;
		tt.user = t->user;
		tt.session = t->session;
		tt.by = (char *)me;
		tt.created = created;
		tt.ttl = req->ttl;
		tt.expires = created + req->ttl;
		if ((st = state_open(policy_gateway(gw->policy)->state, err,
		    sizeof(err))) != NULL &&
		    ttl_write(st, &tt, err, sizeof(err)) == 0) {
			state_close(st);
			*expires = tt.expires;
			return MG_OK;
		}
		state_close(st);
		break;
	case SESSION_MISSING:
		/* Ended at once (its command exited): nothing to tag. */
		return MG_OK;
	case SESSION_HOST_ERROR:
		break;
	}
	if (session_kill(gw->policy, req->host, t->user, t->session, why,
	    sizeof(why)) == SESSION_FAILED)
		return cmd_fail(gw, req, CMD_R_ERROR, "new: cannot record the "
		    "ttl of %s (%s), and cannot kill it again (%s): it runs "
		    "without its ttl", req->arg, err, why);
	return cmd_fail(gw, req, CMD_R_ERROR, "new: cannot record the ttl of "
	    "%s (%s): it was killed again", req->arg, err);
}

/*
 * A session made without a TTL under the name of one that had a tag:
 * that tag is stale (the name was free), and goes.  Reap would not act
 * on it anyway unless tmux gave both sessions the same creation time, to
 * the second; failing to remove it is not worth failing new for.
 */
static void
untag(struct gw *gw, struct cmd_req *req)
{
	struct state	*st;
	char		 err[512];

	if ((st = state_open(policy_gateway(gw->policy)->state, err,
	    sizeof(err))) == NULL ||
	    ttl_clear(st, req->t.host, req->t.user, req->t.session, err,
	    sizeof(err)) == -1)
		debug("stale ttl of %s left: %s", req->arg, err);
	state_close(st);
}

static int
cmd_new_exec(struct gw *gw, struct cmd_req *req)
{
	const struct target	*t = &req->t;
	const char		*me = policy_identity_name(gw->id);
	char			 why[512];
	long long		 expires = 0;
	int			 cmdc = req->args.cmdc, code;
	char			**cmdv = req->args.cmdv;

	if (cmdc > 0 && (cmdv[0][0] == '-' || strchr(cmdv[0], '=') != NULL ||
	    cmdv[0][0] == '\0'))
		return cmd_fail(gw, req, CMD_R_USAGE, "bad command '%s': it may "
		    "not be empty, start with '-' or contain '='", cmdv[0]);
	switch (session_create(gw->policy, req->host, t->user, t->session, me,
	    cmdc, cmdv, why, sizeof(why))) {
	case SESSION_OK:
		break;
	case SESSION_EXISTS:
		return cmd_fail(gw, req, CMD_R_EXISTS, "%s", why);
	default:
		return cmd_fail(gw, req, CMD_R_HOST_ERROR, "%s", why);
	}
	if (req->ttl > 0 && (code = tag(gw, req, me, &expires)) != MG_OK)
		return code;
	if (req->ttl == 0)
		untag(gw, req);
	/* A session that has ended already has no time left to show. */
	return report(t, me, expires > 0 ? req->ttl : 0, expires,
	    req->args.json);
}
