/* cmd-attach.c — attach read-write, through the recording relay. */
#include "gateway/attach.h"
#include "gateway/cmd.h"

static int	cmd_attach_exec(struct gw *, struct cmd_req *);

const struct cmd_entry cmd_attach_entry = {
	.name = "attach",
	.alias = "a",
	.usage = "USER@HOST:SESSION",
	.help = "attach to a session (read-write)",
	.flags = CMD_F_TTY,
	.minargs = 1,
	.maxargs = 1,
	.target = TARGET_SESSION | CMD_T_EXISTING,
	.action = POLICY_ATTACH,
	.exec = cmd_attach_exec,
};

static int
cmd_attach_exec(struct gw *gw, struct cmd_req *req)
{
	return attach_run(gw, req, false);
}
