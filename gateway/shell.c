/* shell.c — one command, a batch, or the interactive menu. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/audit.h"
#include "gateway/cmd.h"
#include "gateway/exitcode.h"
#include "gateway/identity.h"
#include "gateway/log.h"
#include "gateway/menu.h"
#include "gateway/shell.h"
#include "gateway/tokenize.h"
#include "gateway/transport.h"

/* Without a policy nothing is required, but the failure is recorded. */
static void
audit_policy_failure(const char *reason)
{
	struct audit_rec	r;

	audit_rec_init(&r, AUDIT_KIND_POLICY, "muxgate-policy", false);
	r.reason = reason;
	(void)audit_emit(&r);
}

struct policy *
shell_load_policy(const char *config)
{
	struct policy_errors	 errs = { 0 };
	struct policy		*p;
	char			 err[512];

	if ((p = policy_load_checked(config, geteuid(), err, sizeof(err),
	    &errs)) == NULL && err[0] != '\0') {
		audit_policy_failure(err);
		error_msg("refusing policy %s: %s", config, err);
		return NULL;
	}
	if (p == NULL) {
		audit_policy_failure(errs.n > 0 ? errs.msgs[0] : config);
		if (errs.n > 1)
			error_msg("policy %s invalid: %s (and %zu more: run "
			    "muxgate check)", config, errs.msgs[0], errs.n - 1);
		else
			error_msg("policy %s invalid: %s", config, errs.n > 0 ?
			    errs.msgs[0] : config);
	}
	policy_errors_free(&errs);
	if (p != NULL)
		transport_setup(p);
	if (p != NULL)
		audit_configure(policy_gateway(p)->audit,
		    policy_gateway(p)->audit_required);
	return p;
}

/* Commands on stdin, one per line; the first failure ends the batch. */
static int
run_batch(struct gw *gw)
{
	char	*line = NULL;
	size_t	 cap = 0;
	ssize_t	 n;
	int	 code = MG_OK;
	bool	 leave = false;

	while (!leave && !gw->gone && !shell_stopping() &&
	    (n = getline(&line, &cap, stdin)) != -1) {
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n > TOKENIZE_MAX_LINE) {
			code = cmd_error(MG_USAGE, "line longer than %d bytes",
			    TOKENIZE_MAX_LINE);
			break;
		}
		if (line[strspn(line, " \t")] == '\0' ||
		    line[strspn(line, " \t")] == '#')
			continue;
		if ((code = cmd_run_line(gw, line, &leave)) != MG_OK)
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

int
shell_main(const char *config, const char *identity, const char *command)
{
	struct gw	 gw;
	int		 code;

	memset(&gw, 0, sizeof(gw));
	stop_handlers();
	if ((gw.policy = shell_load_policy(config)) == NULL)
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
	policy_free(gw.policy);
	return code;
}
