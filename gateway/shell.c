/* shell.c — one command, a batch, or the interactive menu. */
#include <inttypes.h>
#include <signal.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gateway/audit.h"
#include "gateway/access.h"
#include "gateway/cmd.h"
#include "gateway/exitcode.h"
#include "gateway/identity.h"
#include "gateway/log.h"
#include "gateway/menu.h"
#include "gateway/shell.h"
#include "util/stamp.h"
#include "gateway/tokenize.h"
#include "gateway/xmalloc.h"

/* Without a policy nothing is required, but the failure is recorded. */
static void
audit_policy_failure(const char *reason, const char *ref)
{
	struct audit_rec	r;

	audit_rec_init(&r, AUDIT_KIND_POLICY, "muxgate-policy", false);
	r.ref = ref;
	r.reason = reason;
	(void)audit_emit(&r);
}

/*
 * Load CONFIG.  On failure, WHY is the administrator's message (path,
 * FILE:LINE:COL) and ERR the error alone, for the audit record.
 */
static struct policy *
load_policy(const char *config, char *why, size_t whylen, char *err,
    size_t errlen)
{
	struct policy_failure	 fail;
	struct policy		*p;

	if ((p = policy_load_gateway(config, &fail)) == NULL) {
		(void)snprintf(err, errlen, "%s", fail.reason);
		if (fail.refused)
			(void)snprintf(why, whylen, "refusing policy %s: %s",
			    config, err);
		else if (fail.errs.n > 1)
			(void)snprintf(why, whylen, "policy %s invalid: %s (and "
			    "%zu more: run muxgate check)", config, err,
			    fail.errs.n - 1);
		else
			(void)snprintf(why, whylen, "policy %s invalid: %s",
			    config, err);
	}
	policy_failure_free(&fail);
	if (p != NULL)
		audit_configure(policy_gateway(p)->audit,
		    policy_gateway(p)->audit_required);
	return p;
}

struct policy *
shell_load_policy(const char *config)
{
	struct policy	*p;
	char		 why[1024], err[512];

	if ((p = load_policy(config, why, sizeof(why), err, sizeof(err))) ==
	    NULL) {
		audit_policy_failure(err, NULL);
		error_msg("%s", why);
	}
	return p;
}

/* A short random reference that ties the user's line to the log's. */
static void
new_reference(char *ref, size_t len)
{
	/* libsodium, as for attach ids: no weaker fallback to get wrong. */
	(void)snprintf(ref, len, "%08" PRIx32, randombytes_random());
}

/*
 * The same for the person logging in, who can do nothing about a broken
 * policy and must not learn its path or contents: one line with a
 * reference, and the details under that reference in syslog and the
 * audit trail.  PREFIX starts the user's line ("" or "access ended: ").
 */
static struct policy *
load_policy_for_user(const char *config, const char *prefix)
{
	struct policy	*p;
	char		 why[1024], err[512], ref[16];

	if ((p = load_policy(config, why, sizeof(why), err, sizeof(err))) !=
	    NULL)
		return p;
	new_reference(ref, sizeof(ref));
	admin_log("policy unusable (reference %s): %s", ref, why);
	audit_policy_failure(err, ref);
	error_msg("%sthe gateway is misconfigured; tell its administrators "
	    "(reference %s)", prefix, ref);
	return NULL;
}

/*
 * One line of a batch into LINE (TOKENIZE_MAX_LINE + 2 bytes), without its
 * newline.  Returns 1, 0 at the end of input, or -1 (reported) for a line
 * too long or holding a NUL byte: it is never read further than one byte
 * past the limit.
 */
static int
batch_line(struct gw *gw, char *line, size_t size)
{
	struct cmd_req	req;
	size_t		n;
	int		r;

	memset(&req, 0, sizeof(req));	/* not a command: op=muxgate-invalid */
	if ((r = tokenize_read_line(stdin, line, size, &n)) == 0)
		return 0;
	if (r == -1) {
		(void)cmd_fail(gw, &req, CMD_R_MALFORMED, "line longer than %d "
		    "bytes", TOKENIZE_MAX_LINE);
		return -1;
	}
	/* Else the line would run as what comes before the NUL. */
	if (memchr(line, '\0', n) != NULL) {
		(void)cmd_fail(gw, &req, CMD_R_MALFORMED, "line holds a NUL "
		    "byte");
		return -1;
	}
	return 1;
}

/* Commands on stdin, one per line; the first failure ends the batch. */
static int
run_batch(struct gw *gw)
{
	char	*line = xmalloc(TOKENIZE_MAX_LINE + 2);
	int	 code = MG_OK, r;
	bool	 leave = false;

	while (!leave && !gw->gone && !shell_stopping() &&
	    (r = batch_line(gw, line, TOKENIZE_MAX_LINE + 2)) != 0) {
		if (r == -1) {
			code = MG_USAGE;
			break;
		}
		if (line[strspn(line, " \t")] == '\0' ||
		    line[strspn(line, " \t")] == '#')
			continue;
		if ((code = shell_recheck(gw)) != MG_OK ||
		    (code = cmd_run_line(gw, line, &leave)) != MG_OK)
			break;
	}
	free(line);
	return code;
}

/* "ADDR PORT" of the client, for recordings. */
static void
client_address(struct gw *gw)
{
	const char	*c = getenv("SSH_CONNECTION");
	size_t		 n;

	if (c == NULL)
		return;
	n = strcspn(c, " ");
	n += strcspn(c + n + (c[n] == ' '), " ") + (c[n] == ' ');
	if (n < sizeof(gw->client))
		snprintf(gw->client, sizeof(gw->client), "%.*s", (int)n, c);
}

static volatile sig_atomic_t stop_signal;

static void
on_stop(int sig)
{
	stop_signal = sig;
}

bool
shell_stopping(void)
{
	return stop_signal != 0;
}

/*
 * A hangup (the connection went away) or a termination must not kill us
 * half-way through closing a recording or writing an audit record: it
 * only asks the shell to stop at the next command boundary.
 */
static void
stop_handlers(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* Load the policy and remember which file it came from. */
static struct policy *
load_stamped(struct gw *gw, const char *prefix)
{
	struct stat	 before;
	struct policy	*p;

	if (stat(gw->config, &before) == -1)
		memset(&before, 0, sizeof(before));
	if ((p = load_policy_for_user(gw->config, prefix)) != NULL)
		gw->config_st = before;
	return p;
}

int
shell_recheck(struct gw *gw)
{
	struct stat			 st;
	struct policy			*p;
	const struct policy_identity	*id;

	if (gw->config == NULL || gw->id == NULL)
		return MG_OK;
	if (stat(gw->config, &st) == 0 && stamp_same(&st, &gw->config_st))
		return identity_recheck(gw, gw->policy, &id);
	/* Changed, replaced or gone: the new one decides, or nothing does. */
	if ((p = load_stamped(gw, "access ended: ")) == NULL)
		return MG_FAIL;
	if (identity_recheck(gw, p, &id) != MG_OK) {
		policy_free(p);
		return MG_DENIED;
	}
	policy_free(gw->policy);
	gw->policy = p;
	gw->id = id;
	return MG_OK;
}

int
shell_main(const char *config, const char *identity, const char *command)
{
	struct gw	 gw;
	int		 code;

	memset(&gw, 0, sizeof(gw));
	stop_handlers();
	gw.config = config;
	if ((gw.policy = load_stamped(&gw, "")) == NULL)
		return MG_FAIL;
	if ((code = identity_resolve(&gw, identity)) != MG_OK)
		goto out;
	client_address(&gw);
	if (command == NULL)
		command = getenv("SSH_ORIGINAL_COMMAND");
	gw.tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	if (command != NULL && *command != '\0') {
		bool leave;
		gw.mode = GW_ONESHOT;
		code = cmd_run_line(&gw, command, &leave);
	} else if (gw.tty) {
		gw.mode = GW_INTERACTIVE;
		code = menu_run(&gw);
	} else {
		gw.mode = GW_BATCH;
		code = run_batch(&gw);
	}
out:
	access_free(&gw);
	policy_free(gw.policy);
	free(gw.key);
	return code;
}
