/*
 * cmd.h — the shell's command table.  One command per cmd-*.c file, each
 * exporting one const struct cmd_entry; cmd.c finds, parses and runs.
 */
#ifndef MUXGATE_CMD_H
#define MUXGATE_CMD_H

#include <stdbool.h>
#include "gateway/gw.h"
#include "gateway/target.h"

#define CMD_F_JSON	0x1	/* accepts --json */
#define CMD_F_YES	0x2	/* accepts --yes */
#define CMD_F_COMMAND	0x4	/* takes "-- COMMAND [ARG...]" */
#define CMD_F_EXIT	0x8	/* leaves the shell */

struct cmd_args {
	bool	  json;
	bool	  yes;
	int	  argc;		/* positional arguments */
	char	**argv;
	int	  cmdc;		/* after "--" */
	char	**cmdv;
};

struct cmd_entry {
	const char	*name;
	const char	*alias;
	const char	*usage;		/* arguments, after the name */
	const char	*help;		/* one line */
	unsigned	 flags;
	int		 minargs;
	int		 maxargs;
	int		(*exec)(struct gw *, struct cmd_args *);
};

extern const struct cmd_entry cmd_ls_entry;
extern const struct cmd_entry cmd_hosts_entry;
extern const struct cmd_entry cmd_new_entry;
extern const struct cmd_entry cmd_attach_entry;
extern const struct cmd_entry cmd_watch_entry;
extern const struct cmd_entry cmd_kill_entry;
extern const struct cmd_entry cmd_whoami_entry;
extern const struct cmd_entry cmd_help_entry;
extern const struct cmd_entry cmd_exit_entry;
extern const struct cmd_entry cmd_quit_entry;
extern const struct cmd_entry *const cmd_table[];

/* Find a command by name, alias or unique prefix; NULL with ERR set. */
const struct cmd_entry *cmd_find(const char *, char *err, size_t errlen);
/*
 * Run one tokenized command.  Returns its exit code; *LEAVE is set when
 * the command ends the shell.
 */
int	cmd_run(struct gw *, int argc, char **argv, bool *leave);
/* Run one line as typed or sent over SSH. */
int	cmd_run_line(struct gw *, const char *line, bool *leave);

/* The one funnel for a command's user error: prints, returns CODE. */
int	cmd_error(int code, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * Parse a target argument (of KINDS) and check the identity may do
 * ACTION there.  Returns MG_OK, MG_USAGE or MG_DENIED (already reported).
 * Out-of-scope and nonexistent hosts and users get the same answer.
 */
int	cmd_target(struct gw *, const char *arg, unsigned kinds,
	    enum policy_action, struct target *);
/* The same, leaving the audit record of an allowed request to the caller. */
int	cmd_target_noaudit(struct gw *, const char *arg, unsigned kinds,
	    enum policy_action, struct target *);
/*
 * The audit record of this command attempt (T may be NULL).  Returns
 * MG_OK, or MG_FAIL when an allowed attempt must be refused because its
 * record could not be written (already reported).
 */
int	cmd_audit(struct gw *, const struct target *, bool allowed,
	    const char *reason);
/* Is ACTION allowed on the target's host and user? */
bool	cmd_allowed(struct gw *, enum policy_action, const struct target *);

#endif
