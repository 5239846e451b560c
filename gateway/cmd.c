/* cmd.c — command lookup and the one request path (see cmd.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/access.h"
#include "gateway/audit.h"
#include "gateway/cmd.h"
#include "gateway/exitcode.h"
#include "gateway/log.h"
#include "gateway/output.h"
#include "gateway/session.h"
#include "gateway/slots.h"
#include "gateway/str.h"
#include "gateway/terminate.h"
#include "gateway/tokenize.h"
#include "gateway/ttl.h"
#include "gateway/xmalloc.h"

const struct cmd_entry *const cmd_table[] = {
	&cmd_ls_entry,
	&cmd_hosts_entry,
	&cmd_new_entry,
	&cmd_attach_entry,
	&cmd_watch_entry,
	&cmd_kill_entry,
	&cmd_terminate_entry,
	&cmd_request_entry,
	&cmd_grants_entry,
	&cmd_approve_entry,
	&cmd_deny_entry,
	&cmd_revoke_entry,
	&cmd_whoami_entry,
	&cmd_help_entry,
	&cmd_exit_entry,
	&cmd_quit_entry,
	NULL
};

/* What people send when they think this is a shell account. */
static const char *const transfer_words[] = { "scp", "sftp", "rsync",
    "internal-sftp", "/usr/lib/openssh/sftp-server",
    "/usr/lib/sftp-server", "/usr/libexec/openssh/sftp-server", "git-upload-pack",
    "git-receive-pack", NULL };

/* Each reason's audit keyword and exit code, in enum cmd_reason order. */
static const struct {
	const char	*name;
	int		 code;
} reasons[] = {
	[CMD_R_NONE] = { NULL, MG_OK },
	[CMD_R_DENIED] = { "permission-denied", MG_DENIED },
	[CMD_R_NOT_OWNER] = { "not-owner", MG_DENIED },
	[CMD_R_NO_SESSION] = { "no-such-session", MG_NOSESSION },
	[CMD_R_HOST_ERROR] = { "host-error", MG_FAIL },
	[CMD_R_EXISTS] = { "session-exists", MG_FAIL },
	[CMD_R_NOT_CONFIRMED] = { "not-confirmed", MG_FAIL },
	[CMD_R_NO_TERMINAL] = { "no-terminal", MG_USAGE },
	[CMD_R_LIMIT] = { "attach-limit", MG_FAIL },
	[CMD_R_RECORDING] = { "recording", MG_FAIL },
	[CMD_R_AUDIT] = { "audit", MG_FAIL },
	[CMD_R_ERROR] = { "error", MG_FAIL },
	[CMD_R_USAGE] = { "usage", MG_USAGE },
	[CMD_R_BAD_TARGET] = { "bad-target", MG_USAGE },
	[CMD_R_UNKNOWN] = { "unknown-command", MG_USAGE },
	[CMD_R_MALFORMED] = { "malformed", MG_USAGE },
	[CMD_R_TRANSFER] = { "file-transfer", MG_USAGE },
	[CMD_R_NO_GRANT] = { "no-such-grant", MG_NOSESSION },
	[CMD_R_DECIDED] = { "already-decided", MG_FAIL },
};

int
cmd_reason_code(enum cmd_reason r)
{
	return (size_t)r < sizeof(reasons) / sizeof(*reasons) ?
	    reasons[r].code : MG_FAIL;
}

const char *
cmd_reason_name(enum cmd_reason r)
{
	return (size_t)r < sizeof(reasons) / sizeof(*reasons) ?
	    reasons[r].name : "error";
}

/*
 * The request's one USER_CMD record.  res= is the outcome; the decision
 * is in the reason of a failure, each reason belonging to one step of
 * the path (docs/audit-events.md): permission-denied and not-owner are
 * the policy's "no", anything after them failed once it had said yes.
 * Returns -1 only for a success record that could not be written while
 * records are required.
 */
static int
record(struct gw *gw, struct cmd_req *req, bool success,
    enum cmd_reason reason)
{
	struct audit_rec	 r;
	char			 op[64];

	if (req->recorded || (req->entry != NULL &&
	    (req->entry->flags & CMD_F_UNRECORDED)))
		return 0;
	req->recorded = true;
	(void)snprintf(op, sizeof(op), "muxgate-%s", req->entry != NULL ?
	    req->entry->name : "invalid");
	audit_rec_init(&r, AUDIT_KIND_COMMAND, op, success);
	r.identity = gw->id != NULL ? policy_identity_name(gw->id) : NULL;
	r.key = gw->have_key ? gw->key_fp : NULL;
	r.host = req->t.host;
	r.tmux_user = req->t.user;
	r.session = req->t.session;
	if (req->ttl > 0)
		r.ttl = req->ttl;
	r.reason = success ? NULL : cmd_reason_name(reason);
	r.grant = req->rec.id != NULL ? req->rec.id :
	    req->grant[0] != '\0' ? req->grant : NULL;
	r.grant_action = req->rec.action;
	r.requester = req->rec.requester;
	r.approver = req->rec.approver;
	r.grant_for = req->rec.id != NULL ? req->rec.duration : -1;
	r.note = req->rec.note;
	return audit_emit(&r);
}

int
cmd_fail(struct gw *gw, struct cmd_req *req, enum cmd_reason reason,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	if (fmt != NULL) {
		va_start(ap, fmt);
		xvasprintf(&msg, fmt, ap);
		va_end(ap);
		error_msg("%s", msg);
		free(msg);
	}
	(void)record(gw, req, false, reason);
	return cmd_reason_code(reason);
}

int
cmd_begun(struct gw *gw, struct cmd_req *req)
{
	return record(gw, req, true, CMD_R_NONE) == -1 ? MG_FAIL : MG_OK;
}

const struct cmd_entry *
cmd_find(const char *name, char *err, size_t errlen)
{
	const struct cmd_entry	*const *e, *found = NULL;
	struct buf		 amb = { 0 };
	size_t			 len = strlen(name), n = 0;

	for (e = cmd_table; *e != NULL; e++)
		if (strcmp((*e)->name, name) == 0 ||
		    ((*e)->alias != NULL && strcmp((*e)->alias, name) == 0))
			return *e;
	for (e = cmd_table; *e != NULL && len > 0; e++) {
		if (strncmp((*e)->name, name, len) != 0)
			continue;
		buf_printf(&amb, "%s%s", n > 0 ? ", " : "", (*e)->name);
		found = *e;
		n++;
	}
	if (n == 1) {
		buf_free(&amb);
		return found;
	}
	if (n > 1)
		snprintf(err, errlen, "ambiguous command: %s, could be: %s",
		    name, amb.data);
	else
		snprintf(err, errlen, "unknown command: %s (try 'help')", name);
	buf_free(&amb);
	return NULL;
}

static bool
is_transfer(const char *word)
{
	const char *const	*w;
	const char		*base = strrchr(word, '/');

	for (w = transfer_words; *w != NULL; w++)
		if (strcmp(word, *w) == 0 ||
		    (base != NULL && strcmp(base + 1, "sftp-server") == 0))
			return true;
	return false;
}

/* Options and positional arguments, as the entry declares them. */
static int
parse_args(struct gw *gw, struct cmd_req *req, int argc, char **argv)
{
	const struct cmd_entry	*e = req->entry;
	struct cmd_args		*a = &req->args;
	char			*e_ttl;
	int			 i, code;

	a->argv = xcalloc((size_t)argc + 1, sizeof(*a->argv));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0 && (e->flags & CMD_F_COMMAND)) {
			a->cmdc = argc - i - 1;
			a->cmdv = argv + i + 1;
			break;
		}
		if (strcmp(argv[i], "--json") == 0 && (e->flags & CMD_F_JSON))
			a->json = true;
		else if (strcmp(argv[i], "--yes") == 0 && (e->flags & CMD_F_YES))
			a->yes = true;
		else if (strcmp(argv[i], "--reason") == 0 &&
		    (e->flags & CMD_F_REASON)) {
			if (i + 1 == argc || a->reason != NULL)
				return cmd_fail(gw, req, CMD_R_USAGE, "usage: "
				    "%s %s", e->name, e->usage);
			a->reason = argv[++i];
		} else if (strcmp(argv[i], "--ttl") == 0 &&
		    (e->flags & CMD_F_TTL)) {
			if (i + 1 == argc || a->ttl != NULL)
				return cmd_fail(gw, req, CMD_R_USAGE, "usage: "
				    "%s %s", e->name, e->usage);
			a->ttl = argv[++i];
		} else if (strcmp(argv[i], "--for") == 0 &&
		    (e->flags & CMD_F_FOR)) {
			if (i + 1 == argc || a->for_ != NULL)
				return cmd_fail(gw, req, CMD_R_USAGE, "usage: "
				    "%s %s", e->name, e->usage);
			a->for_ = argv[++i];
		}
		else if (argv[i][0] == '-')
			return cmd_fail(gw, req, CMD_R_USAGE, "%s: unknown option "
			    "%s; usage: %s %s", e->name, argv[i], e->name,
			    e->usage);
		else
			a->argv[a->argc++] = argv[i];
	}
	if (a->argc < e->minargs || a->argc > e->maxargs)
		return cmd_fail(gw, req, CMD_R_USAGE, "usage: %s %s", e->name,
		    e->usage);
	if (a->ttl != NULL && (policy_parse_duration(a->ttl, &req->ttl) == -1 ||
	    req->ttl == 0)) {
		req->ttl = 0;
		e_ttl = out_escape(a->ttl);
		code = cmd_fail(gw, req, CMD_R_USAGE, "bad --ttl '%s': use 30s, "
		    "5m, 6h or 7d (more than 0, at most 10 years)", e_ttl);
		free(e_ttl);
		return code;
	}
	/* Nothing is looked up for a request that could not be confirmed. */
	if ((e->flags & CMD_F_YES) && !a->yes && gw->mode != GW_INTERACTIVE)
		return cmd_fail(gw, req, CMD_R_USAGE, "%s needs --yes when not "
		    "interactive", e->name);
	return MG_OK;
}

/* A live attach's id: its host, tmux user and session become the target. */
static int
attach_target(struct gw *gw, struct cmd_req *req)
{
	struct viewers	 v;
	size_t		 i;
	char		*e;
	int		 code = MG_OK;

	if (!terminate_valid_id(req->arg)) {
		e = out_escape(req->arg);
		code = cmd_fail(gw, req, CMD_R_BAD_TARGET, "bad attach id '%s': "
		    "16 hexadecimal digits, as ls --json shows them", e);
		free(e);
		return code;
	}
	slots_viewers(policy_gateway(gw->policy)->state, &v);
	for (i = 0; i < v.n; i++)
		if (strcmp(v.v[i].attach_id, req->arg) == 0)
			break;
	if (i == v.n)
		code = cmd_fail(gw, req, CMD_R_NO_SESSION, "no live attach or "
		    "watch %s on this gateway", req->arg);
	else {
		req->t.kind = TARGET_SESSION;
		req->t.host = xstrdup(v.v[i].host);
		req->t.user = xstrdup(v.v[i].user);
		req->t.session = xstrdup(v.v[i].session);
		req->holder = xstrdup(v.v[i].identity);
		req->mode = xstrdup(v.v[i].mode);
		req->host = policy_host_find(gw->policy, req->t.host);
	}
	viewers_free(&v);
	return code;
}

static int
parse_target(struct gw *gw, struct cmd_req *req)
{
	const struct cmd_entry	*e = req->entry;
	char			 err[256];

	if (e->target == 0 || req->args.argc == 0)
		return MG_OK;	/* arguments were counted: it is optional */
	req->arg = req->args.argv[0];
	if (e->target & CMD_T_ATTACH)
		return attach_target(gw, req);
	if (target_parse(req->arg, e->target & (TARGET_HOST |
	    TARGET_USER_HOST | TARGET_SESSION), &req->t, err,
	    sizeof(err)) == -1) {
		memset(&req->t, 0, sizeof(req->t));
		return cmd_fail(gw, req, CMD_R_BAD_TARGET, "%s", err);
	}
	if ((e->target & CMD_T_NEWNAME) && req->t.session != NULL &&
	    !target_valid_new_name(req->t.session))
		return cmd_fail(gw, req, CMD_R_BAD_TARGET, "bad session name "
		    "'%s': use 1 to 64 letters, digits, '_' or '-'",
		    req->t.session);
	req->host = policy_host_find(gw->policy, req->t.host);
	return MG_OK;
}

/* The decision for the request's target; a grant that allowed it is noted. */
static bool
allowed(struct gw *gw, struct cmd_req *req, unsigned action, const char *user)
{
	struct policy_verdict	v;

	access_decide(gw, (enum policy_action)action, req->t.host, user,
	    req->t.session, &v);
	if (v.allow && v.grant != NULL)
		snprintf(req->grant, sizeof(req->grant), "%s", v.grant->id);
	/* A grant on USER@HOST shows its sessions, as list would. */
	if (!v.allow && action == POLICY_LIST && v.why == POLICY_WHY_DEFAULT &&
	    session_granted(gw, req->t.host, user))
		return true;
	if (v.allow)
		req->max_session_ttl = v.max_session_ttl;
	return v.allow;
}

/*
 * The policy's answer for the target.  A host alone is allowed if any of
 * its users is.  Out-of-scope and nonexistent hosts and users get the
 * same answer: the policy knows neither.
 */
static int
decide(struct gw *gw, struct cmd_req *req)
{
	const struct cmd_entry	*e = req->entry;
	size_t			 i;

	if (e->action == 0 || req->t.host == NULL)
		return MG_OK;
	req->decided = true;
	if (req->t.kind == TARGET_HOST) {
		for (i = 0; req->host != NULL &&
		    i < policy_host_user_count(req->host); i++)
			if (allowed(gw, req, e->action,
			    policy_host_user_at(req->host, i)))
				req->allowed = true;
	} else
		req->allowed = allowed(gw, req, e->action, req->t.user);
	if (!req->allowed)
		return cmd_fail(gw, req, CMD_R_DENIED, "permission denied: %s "
		    "on %s", e->name, req->arg);
	return MG_OK;
}

/*
 * The TTL of what is to be created: the rule's max_session_ttl bounds
 * --ttl and applies without it.  Asking for more than the rule allows
 * is the policy's "no", like any other.
 */
static int
decide_ttl(struct gw *gw, struct cmd_req *req)
{
	char	max[32];

	if (!(req->entry->flags & CMD_F_TTL) || req->max_session_ttl == 0)
		return MG_OK;
	if (req->args.ttl == NULL) {
		req->ttl = req->max_session_ttl;
		return MG_OK;
	}
	if (req->ttl <= req->max_session_ttl)
		return MG_OK;
	ttl_duration_text(req->max_session_ttl, max, sizeof(max));
	return cmd_fail(gw, req, CMD_R_DENIED, "permission denied: --ttl %s "
	    "on %s: the policy allows at most %s", req->args.ttl, req->arg,
	    max);
}

/* An existing session: is it there, and whose is it? */
static int
resolve(struct gw *gw, struct cmd_req *req)
{
	const struct cmd_entry	*e = req->entry;
	char			*owner = NULL, why[512];
	int			 code = MG_OK;

	if (!(e->target & CMD_T_EXISTING) || req->t.session == NULL)
		return MG_OK;
	switch (session_find(gw->policy, req->host, req->t.user,
	    req->t.session, &owner, why, sizeof(why))) {
	case SESSION_FOUND:
		req->owned = owner != NULL &&
		    strcmp(owner, policy_identity_name(gw->id)) == 0;
		if (e->others != 0 && !req->owned &&
		    !allowed(gw, req, e->others, req->t.user))
			code = cmd_fail(gw, req, CMD_R_NOT_OWNER, "permission "
			    "denied: %s on %s (you may %s only sessions you "
			    "created)", e->name, req->arg, e->name);
		break;
	case SESSION_MISSING:
		code = cmd_fail(gw, req, CMD_R_NO_SESSION, "%s", why);
		break;
	case SESSION_HOST_ERROR:
		code = cmd_fail(gw, req, CMD_R_HOST_ERROR, "%s", why);
		break;
	}
	free(owner);
	return code;
}

/* Everything before exec: MG_OK, or the refusal already reported. */
static int
prepare(struct gw *gw, struct cmd_req *req, int argc, char **argv)
{
	const struct cmd_entry	*e = req->entry;
	char			 why[256];
	int			 code;

	if ((code = parse_args(gw, req, argc, argv)) != MG_OK ||
	    (code = parse_target(gw, req)) != MG_OK ||
	    (code = decide(gw, req)) != MG_OK ||
	    (code = decide_ttl(gw, req)) != MG_OK)
		return code;
	if ((e->flags & CMD_F_TTY) && !gw->tty)
		return cmd_fail(gw, req, CMD_R_NO_TERMINAL, "%s needs a "
		    "terminal (use ssh -t)", e->name);
	if ((code = resolve(gw, req)) != MG_OK)
		return code;
	/* Nothing is done that could not be written down. */
	if (!(e->flags & CMD_F_UNRECORDED) &&
	    audit_ready(why, sizeof(why)) == -1)
		return cmd_fail(gw, req, CMD_R_AUDIT, "refused: "
		    "audit_required is set and %s", why);
	return MG_OK;
}

static void
req_free(struct cmd_req *req)
{
	free(req->args.argv);
	free(req->holder);
	free(req->mode);
	target_free(&req->t);
}

int
cmd_run(struct gw *gw, int argc, char **argv, bool *leave)
{
	struct cmd_req	 req;
	char		 err[256];
	int		 code;

	*leave = false;
	if (argc == 0)
		return MG_OK;
	/* A grant revoked a moment ago allows no new command. */
	access_forget(gw);
	memset(&req, 0, sizeof(req));
	if (is_transfer(argv[0]))
		return cmd_fail(gw, &req, CMD_R_TRANSFER, "file transfer is "
		    "not available through this gateway");
	if ((req.entry = cmd_find(argv[0], err, sizeof(err))) == NULL)
		return cmd_fail(gw, &req, CMD_R_UNKNOWN, "%s", err);
	if ((code = prepare(gw, &req, argc, argv)) == MG_OK) {
		code = req.entry->exec(gw, &req);
		if (code == MG_OK && record(gw, &req, true, CMD_R_NONE) == -1)
			code = MG_FAIL;
		else if (code != MG_OK)
			(void)record(gw, &req, false, CMD_R_ERROR);
		if (req.entry->flags & CMD_F_EXIT)
			*leave = true;
	}
	req_free(&req);
	return code;
}

int
cmd_run_line(struct gw *gw, const char *line, bool *leave)
{
	struct argv	words = { 0 };
	struct cmd_req	req;
	char		err[256];
	int		code;

	*leave = false;
	if (tokenize(line, &words, err, sizeof(err)) == -1) {
		memset(&req, 0, sizeof(req));
		return cmd_fail(gw, &req, CMD_R_MALFORMED, "%s", err);
	}
	code = cmd_run(gw, words.n, words.v, leave);
	argv_free(&words);
	return code;
}
