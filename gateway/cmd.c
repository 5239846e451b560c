/* cmd.c — command lookup, argument parsing, permission funnel. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/audit.h"
#include "gateway/cmd.h"
#include "gateway/exitcode.h"
#include "gateway/log.h"
#include "gateway/str.h"
#include "gateway/tokenize.h"
#include "gateway/xmalloc.h"

const struct cmd_entry *const cmd_table[] = {
	&cmd_ls_entry,
	&cmd_hosts_entry,
	&cmd_new_entry,
	&cmd_attach_entry,
	&cmd_watch_entry,
	&cmd_kill_entry,
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

int
cmd_error(int code, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	error_msg("%s", msg);
	free(msg);
	return code;
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

static int
parse_args(const struct cmd_entry *e, int argc, char **argv,
    struct cmd_args *a)
{
	int	i;

	memset(a, 0, sizeof(*a));
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
		else if (argv[i][0] == '-')
			return cmd_error(MG_USAGE, "%s: unknown option %s; "
			    "usage: %s %s", e->name, argv[i], e->name, e->usage);
		else
			a->argv[a->argc++] = argv[i];
	}
	if (a->argc < e->minargs || a->argc > e->maxargs)
		return cmd_error(MG_USAGE, "usage: %s %s", e->name, e->usage);
	return MG_OK;
}

int
cmd_run(struct gw *gw, int argc, char **argv, bool *leave)
{
	const struct cmd_entry	*e;
	struct cmd_args		 a;
	char			 err[256];
	int			 code;

	*leave = false;
	if (argc == 0)
		return MG_OK;
	gw->cmd = "invalid";
	if (is_transfer(argv[0])) {
		(void)cmd_audit(gw, NULL, false, "file-transfer");
		return cmd_error(MG_USAGE, "file transfer is not available "
		    "through this gateway");
	}
	if ((e = cmd_find(argv[0], err, sizeof(err))) == NULL) {
		(void)cmd_audit(gw, NULL, false, "unknown-command");
		return cmd_error(MG_USAGE, "%s", err);
	}
	gw->cmd = e->name;
	if ((code = parse_args(e, argc, argv, &a)) != MG_OK) {
		(void)cmd_audit(gw, NULL, false, "usage");
		free(a.argv);
		return code;
	}
	code = e->exec(gw, &a);
	free(a.argv);
	if (e->flags & CMD_F_EXIT)
		*leave = true;
	return code;
}

int
cmd_run_line(struct gw *gw, const char *line, bool *leave)
{
	struct argv	words = { 0 };
	char		err[256];
	int		code;

	*leave = false;
	if (tokenize(line, &words, err, sizeof(err)) == -1) {
		gw->cmd = "invalid";
		(void)cmd_audit(gw, NULL, false, "malformed");
		return cmd_error(MG_USAGE, "%s", err);
	}
	code = cmd_run(gw, words.n, words.v, leave);
	argv_free(&words);
	return code;
}

bool
cmd_allowed(struct gw *gw, enum policy_action action, const struct target *t)
{
	struct policy_verdict	v;

	policy_decide(gw->policy, gw->id, action, t->host, t->user, &v);
	return v.allow;
}

int
cmd_audit(struct gw *gw, const struct target *t, bool allowed,
    const char *reason)
{
	struct audit_rec	 r;
	char			 op[64];

	snprintf(op, sizeof(op), "muxgate-%s", gw->cmd != NULL ? gw->cmd :
	    "invalid");
	audit_rec_init(&r, AUDIT_KIND_COMMAND, op, allowed);
	r.identity = gw->id != NULL ? policy_identity_name(gw->id) : NULL;
	r.key = gw->have_key ? gw->key_fp : NULL;
	if (t != NULL) {
		r.host = t->host;
		r.tmux_user = t->user;
		r.session = t->session;
	}
	r.reason = reason;
	if (audit_emit(&r) == -1 && allowed)
		return MG_FAIL;
	return MG_OK;
}

int
cmd_target(struct gw *gw, const char *arg, unsigned kinds,
    enum policy_action action, struct target *t)
{
	int	code;

	if ((code = cmd_target_noaudit(gw, arg, kinds, action, t)) != MG_OK)
		return code;
	if ((code = cmd_audit(gw, t, true, NULL)) != MG_OK)
		target_free(t);
	return code;
}

int
cmd_target_noaudit(struct gw *gw, const char *arg, unsigned kinds,
    enum policy_action action, struct target *t)
{
	char	err[256];

	if (target_parse(arg, kinds, t, err, sizeof(err)) == -1) {
		(void)cmd_audit(gw, NULL, false, "bad-target");
		return cmd_error(MG_USAGE, "%s", err);
	}
	if (t->kind == TARGET_HOST) {
		/* A host alone: allowed if any of its users is. */
		const struct policy_host *h;
		size_t i;

		h = policy_host_find(gw->policy, t->host);
		for (i = 0; h != NULL && i < policy_host_user_count(h); i++) {
			struct policy_verdict v;
			policy_decide(gw->policy, gw->id, action, t->host,
			    policy_host_user_at(h, i), &v);
			if (v.allow)
				return MG_OK;
		}
	} else if (cmd_allowed(gw, action, t))
		return MG_OK;
	(void)cmd_audit(gw, t, false, "permission-denied");
	error_msg("permission denied: %s on %s", gw->cmd != NULL &&
	    strcmp(gw->cmd, "invalid") != 0 ? gw->cmd :
	    policy_action_name(action), arg);
	target_free(t);
	return MG_DENIED;
}
