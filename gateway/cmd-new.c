/* cmd-new.c — create a detached session, tagged with its owner. */
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "gateway/cmd.h"
#include "gateway/exitcode.h"
#include "gateway/output.h"
#include "gateway/session.h"

static int	cmd_new_exec(struct gw *, struct cmd_args *);

const struct cmd_entry cmd_new_entry = {
	.name = "new",
	.alias = "create",
	.usage = "USER@HOST:SESSION [--json] [-- COMMAND [ARG...]]",
	.help = "create a detached session, optionally running COMMAND",
	.flags = CMD_F_COMMAND | CMD_F_JSON,
	.minargs = 1,
	.maxargs = 1,
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
cmd_new_exec(struct gw *gw, struct cmd_args *a)
{
	struct target	t;
	int		code;

	if ((code = cmd_target(gw, a->argv[0], TARGET_SESSION, POLICY_CREATE,
	    &t)) != MG_OK)
		return code;
	if (!target_valid_new_name(t.session))
		code = cmd_error(MG_USAGE, "bad session name '%s': use 1 to 64 "
		    "letters, digits, '_' or '-'", t.session);
	else if (a->cmdc > 0 && (a->cmdv[0][0] == '-' ||
	    strchr(a->cmdv[0], '=') != NULL || a->cmdv[0][0] == '\0'))
		code = cmd_error(MG_USAGE, "bad command '%s': it may not be "
		    "empty, start with '-' or contain '='", a->cmdv[0]);
	else
		code = session_create(policy_host_find(gw->policy, t.host),
		    t.user, t.session, policy_identity_name(gw->id), a->cmdc,
		    a->cmdv);
	if (code == MG_OK)
		code = report(&t, policy_identity_name(gw->id), a->json);
	target_free(&t);
	return code;
}
