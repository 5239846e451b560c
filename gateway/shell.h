/* shell.h — the gateway shell: policy, identity, then commands. */
#ifndef MUXGATE_SHELL_H
#define MUXGATE_SHELL_H

#include <stdbool.h>
#include "gateway/gw.h"
#include "policy/policy.h"

#define MUXGATE_DEFAULT_CONFIG "/etc/muxgate/gateway.yaml"

/*
 * Load CONFIG refusing unsafe permissions or any error, for an
 * administrator (serve starting): returns NULL after reporting the full
 * error in one line.  A login never uses it: the shell tells the user
 * only that the gateway is misconfigured, with a reference to the log.
 */
struct policy	*shell_load_policy(const char *config);
/*
 * Run the shell.  COMMAND is the -c command, or NULL to take
 * SSH_ORIGINAL_COMMAND, or else a batch on stdin, or else the menu.
 * Returns the exit code.
 */
int		 shell_main(const char *config, const char *identity,
		    const char *command);
/*
 * Before each command of a batch or the menu: re-read the policy if its
 * file changed, and check the identity may still use the gateway.
 * Returns MG_OK, or an exit code (reported and audited): the shell ends.
 */
int		 shell_recheck(struct gw *);
/* Was the shell told to stop (SIGHUP, SIGTERM)? */
bool		 shell_stopping(void);

#endif
