/* cmd-help.c — the list of commands. */
#include <stdio.h>

#include "gateway/cmd.h"
#include "gateway/exitcode.h"

static int	cmd_help_exec(struct gw *, struct cmd_req *);

const struct cmd_entry cmd_help_entry = {
	.name = "help",
	.usage = "",
	.help = "show this list",
	.flags = CMD_F_UNRECORDED,
	.maxargs = 1,
	.exec = cmd_help_exec,
};

static int
cmd_help_exec(struct gw *gw, struct cmd_req *req)
{
	const struct cmd_entry	*const *e;
	char			 line[128];

	for (e = cmd_table; *e != NULL; e++) {
		snprintf(line, sizeof(line), "%s %s", (*e)->name, (*e)->usage);
		printf("  %-50s %s\n", line, (*e)->help);
	}
	printf("Targets are USER@HOST:SESSION. This is not a shell: words are "
	    "split on spaces,\nquotes group them, and nothing else is "
	    "special.\n");
	fflush(stdout);
	return MG_OK;
}
