/* cmd-attach.c — attach read-write, through the recording relay. */
#include "gateway/attach.h"
#include "gateway/cmd.h"

static int	cmd_attach_exec(struct gw *, struct cmd_args *);

const struct cmd_entry cmd_attach_entry = {
	.name = "attach",
	.alias = "a",
	.usage = "USER@HOST:SESSION",
	.help = "attach to a session (read-write)",
	.minargs = 1,
	.maxargs = 1,
	.exec = cmd_attach_exec,
};

static int
cmd_attach_exec(struct gw *gw, struct cmd_args *a)
{
	return attach_target(gw, a->argv[0], false);
}
