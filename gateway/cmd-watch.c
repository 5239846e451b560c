/* cmd-watch.c — attach read-only. */
#include "gateway/attach.h"
#include "gateway/cmd.h"

static int	cmd_watch_exec(struct gw *, struct cmd_req *);

const struct cmd_entry cmd_watch_entry = {
	.name = "watch",
	.usage = "USER@HOST:SESSION",
	.help = "watch a session (read-only)",
	.flags = CMD_F_TTY,
	.minargs = 1,
	.maxargs = 1,
	.target = TARGET_SESSION | CMD_T_EXISTING,
	.action = POLICY_WATCH,
	.exec = cmd_watch_exec,
};

static int
cmd_watch_exec(struct gw *gw, struct cmd_req *req)
{
	return attach_run(gw, req, true);
}
