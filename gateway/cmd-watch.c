/* cmd-watch.c — attach read-only. */
#include "gateway/attach.h"
#include "gateway/cmd.h"

static int	cmd_watch_exec(struct gw *, struct cmd_args *);

const struct cmd_entry cmd_watch_entry = {
	.name = "watch",
	.usage = "USER@HOST:SESSION",
	.help = "watch a session (read-only)",
	.minargs = 1,
	.maxargs = 1,
	.exec = cmd_watch_exec,
};

static int
cmd_watch_exec(struct gw *gw, struct cmd_args *a)
{
	return attach_target(gw, a->argv[0], true);
}
