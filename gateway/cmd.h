/*
 * cmd.h — the shell's commands, and the one path every request takes.
 *
 * One command per cmd-*.c file, each exporting one const struct
 * cmd_entry.  The entry declares what the command needs (its options,
 * the kind of target it takes, the policy action for it, a terminal);
 * cmd_run() does all of that in one place, in this order:
 *
 *	find the command        unknown, ambiguous, file transfer
 *	parse its arguments     options, counts, --yes outside the menu
 *	parse the target        USER@HOST:SESSION and friends
 *	decide                  the policy, on that target (and --ttl)
 *	check the terminal      attach and watch need one
 *	resolve the session     an existing session: found, and whose
 *	the audit log           required records can still be written
 *	exec                    the command itself, with all of the above
 *	record the outcome      one USER_CMD record per attempt
 *
 * A refusal at any step is one error line, the exit code that goes with
 * its reason and the record of the refusal (cmd_fail).  An exec function
 * never asks the policy and never writes a record itself: it reports a
 * failure through cmd_fail, or tells when its action began (cmd_begun)
 * if that is long before it returns (an attach).
 */
#ifndef MUXGATE_CMD_H
#define MUXGATE_CMD_H

#include <stdbool.h>
#include "gateway/gw.h"
#include "gateway/target.h"

#define CMD_F_JSON	0x01	/* accepts --json */
#define CMD_F_YES	0x02	/* accepts --yes; without it, only in the menu */
#define CMD_F_COMMAND	0x04	/* takes "-- COMMAND [ARG...]" */
#define CMD_F_EXIT	0x08	/* leaves the shell */
#define CMD_F_TTY	0x10	/* needs a terminal (attach, watch) */
#define CMD_F_UNRECORDED 0x20	/* no audit record (help, exit) */
#define CMD_F_REASON	0x40	/* accepts --reason TEXT */
#define CMD_F_TTL	0x80	/* accepts --ttl DURATION */
#define CMD_F_FOR	0x100	/* accepts --for DURATION */

/* What a command's target argument is: target.h's kinds, and ... */
#define CMD_T_OPTIONAL	0x100	/* the target may be left out */
#define CMD_T_EXISTING	0x200	/* the session must exist (looked up) */
#define CMD_T_NEWNAME	0x400	/* the session is to be created: a new name */
/*
 * The argument is the id of a live attach or watch on this gateway: its
 * host, tmux user and session are the target (terminate).
 */
#define CMD_T_ATTACH	0x800

/* Why a request failed: its audit reason and its exit code (cmd.c). */
enum cmd_reason {
	CMD_R_NONE,
	CMD_R_DENIED,		/* permission-denied */
	CMD_R_NOT_OWNER,	/* not-owner */
	CMD_R_NO_SESSION,	/* no-such-session */
	CMD_R_HOST_ERROR,	/* host-error */
	CMD_R_EXISTS,		/* session-exists */
	CMD_R_NOT_CONFIRMED,	/* not-confirmed */
	CMD_R_NO_TERMINAL,	/* no-terminal */
	CMD_R_LIMIT,		/* attach-limit */
	CMD_R_RECORDING,	/* recording */
	CMD_R_AUDIT,		/* audit */
	CMD_R_ERROR,		/* error */
	CMD_R_USAGE,		/* usage */
	CMD_R_BAD_TARGET,	/* bad-target */
	CMD_R_UNKNOWN,		/* unknown-command */
	CMD_R_MALFORMED,	/* malformed */
	CMD_R_TRANSFER,		/* file-transfer */
	CMD_R_NO_GRANT,		/* no-such-grant */
	CMD_R_DECIDED,		/* already-decided */
};

struct cmd_args {
	bool	  json;
	bool	  yes;
	char	 *reason;	/* --reason TEXT, or NULL */
	char	 *ttl;		/* --ttl DURATION, or NULL */
	char	 *for_;		/* --for DURATION, or NULL */
	int	  argc;		/* positional arguments */
	char	**argv;
	int	  cmdc;		/* after "--" */
	char	**cmdv;
};

/* One request, as cmd_run resolved it for the exec function. */
struct cmd_req {
	const struct cmd_entry		*entry;
	struct cmd_args			 args;
	const char			*arg;	/* the target as typed, or NULL */
	struct target			 t;	/* TARGET_NONE when there is none */
	const struct policy_host	*host;	/* the target's host, or NULL */
	bool				 owned;	/* CMD_T_EXISTING: created by us */
	char				*holder;	/* CMD_T_ATTACH: whose it is */
	char				*mode;		/* CMD_T_ATTACH: attach, watch */
	bool				 decided;	/* the policy was asked */
	bool				 allowed;
	/* When allowed: the max_session_ttl of what allowed it (0: none). */
	unsigned			 max_session_ttl;
	/* When a grant allowed it: its id, named in the record. */
	char				 grant[17];
	/* Extra fields of the record (request, approve, deny, revoke). */
	struct {
		const char	*id;
		const char	*action;
		const char	*requester;
		const char	*approver;
		long long	 duration;	/* -1: none */
		const char	*note;
	} rec;
	/*
	 * CMD_F_TTL: the TTL in seconds, --ttl's or else max_session_ttl
	 * (0: none); in the request's record.
	 */
	unsigned			 ttl;
	bool				 recorded;	/* its USER_CMD is written */
};

struct cmd_entry {
	const char	*name;
	const char	*alias;
	const char	*usage;		/* arguments, after the name */
	const char	*help;		/* one line */
	unsigned	 flags;		/* CMD_F_* */
	int		 minargs;
	int		 maxargs;
	/* The first positional argument, when the command takes a target. */
	unsigned	 target;	/* TARGET_* | CMD_T_*, or 0 for none */
	unsigned	 action;	/* enum policy_action needed, or 0 */
	/*
	 * With CMD_T_EXISTING: the action needed on a session this identity
	 * did not create (kill-own may kill only one's own), or 0.
	 */
	unsigned	 others;
	int		(*exec)(struct gw *, struct cmd_req *);
};

extern const struct cmd_entry cmd_ls_entry;
extern const struct cmd_entry cmd_hosts_entry;
extern const struct cmd_entry cmd_new_entry;
extern const struct cmd_entry cmd_attach_entry;
extern const struct cmd_entry cmd_watch_entry;
extern const struct cmd_entry cmd_kill_entry;
extern const struct cmd_entry cmd_terminate_entry;
extern const struct cmd_entry cmd_request_entry;
extern const struct cmd_entry cmd_grants_entry;
extern const struct cmd_entry cmd_approve_entry;
extern const struct cmd_entry cmd_deny_entry;
extern const struct cmd_entry cmd_revoke_entry;
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

/*
 * The one way a request fails: prints FMT as the one error line (none
 * when FMT is NULL: already said, or said in the command's JSON), writes
 * the request's record with REASON, and returns REASON's exit code.
 */
int	cmd_fail(struct gw *, struct cmd_req *, enum cmd_reason,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/*
 * The action has happened (an attach has started): write the request's
 * success record now rather than when exec returns.  Returns MG_OK, or
 * MG_FAIL when records are required and this one could not be written
 * (already reported): the caller must then undo or stop the action.
 */
int	cmd_begun(struct gw *, struct cmd_req *);
/* The exit code for a reason. */
int	cmd_reason_code(enum cmd_reason);
/* The audit keyword for a reason. */
const char *cmd_reason_name(enum cmd_reason);

#endif
