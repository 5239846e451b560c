/* cmd-exit.c — leave the shell (exit and quit). */
#include "gateway/cmd.h"
#include "gateway/exitcode.h"

static int
cmd_exit_exec(struct gw *gw, struct cmd_req *req)
{
	return MG_OK;
}

const struct cmd_entry cmd_exit_entry = {
	.name = "exit",
	.usage = "",
	.help = "leave",
	.flags = CMD_F_EXIT | CMD_F_UNRECORDED,
	.exec = cmd_exit_exec,
};

const struct cmd_entry cmd_quit_entry = {
	.name = "quit",
	.usage = "",
	.help = "leave",
	.flags = CMD_F_EXIT | CMD_F_UNRECORDED,
	.exec = cmd_exit_exec,
};
