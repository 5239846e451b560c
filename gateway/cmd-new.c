/* cmd-new.c — create a detached session, tagged with its owner. */
#include <string.h>

#include "gateway/cmd.h"
#include "gateway/exitcode.h"
#include "gateway/session.h"

static int	cmd_new_exec(struct gw *, struct cmd_args *);

const struct cmd_entry cmd_new_entry = {
	.name = "new",
	.alias = "create",
	.usage = "USER@HOST:SESSION [-- COMMAND [ARG...]]",
	.help = "create a detached session, optionally running COMMAND",
	.flags = CMD_F_COMMAND,
	.minargs = 1,
	.maxargs = 1,
	.exec = cmd_new_exec,
};

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
	target_free(&t);
	return code;
}
