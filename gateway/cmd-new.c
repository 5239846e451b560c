/* cmd-new.c — create a detached session, tagged with its owner. */
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "gateway/cmd.h"
#include "gateway/exitcode.h"
#include "gateway/output.h"
#include "gateway/session.h"

static int	cmd_new_exec(struct gw *, struct cmd_req *);

const struct cmd_entry cmd_new_entry = {
	.name = "new",
	.alias = "create",
	.usage = "USER@HOST:SESSION [--json] [-- COMMAND [ARG...]]",
	.help = "create a detached session, optionally running COMMAND",
	.flags = CMD_F_COMMAND | CMD_F_JSON,
	.minargs = 1,
	.maxargs = 1,
	.target = TARGET_SESSION | CMD_T_NEWNAME,
	.action = POLICY_CREATE,
	.exec = cmd_new_exec,
};

/* Say what was created: a script must not have to guess the target. */
static int
report(const struct target *t, const char *owner, bool json)
{
	struct json_object	*o;
	int			 code = MG_OK;

	if (!json) {
		if (printf("created %s@%s:%s\n", t->user, t->host,
		    t->session) < 0 || fflush(stdout) == EOF)
			return MG_FAIL;
		return MG_OK;
	}
	o = json_object_new_object();
	json_object_object_add(o, "host", out_json_string(t->host));
	json_object_object_add(o, "user", out_json_string(t->user));
	json_object_object_add(o, "session", out_json_string(t->session));
	json_object_object_add(o, "owner", out_json_string(owner));
	if (out_json_print(o) == -1)
		code = MG_FAIL;
	json_object_put(o);
	return code;
}

static int
cmd_new_exec(struct gw *gw, struct cmd_req *req)
{
	const struct target	*t = &req->t;
	const char		*me = policy_identity_name(gw->id);
	char			 why[512];
	int			 cmdc = req->args.cmdc;
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
	return report(t, me, req->args.json);
}
