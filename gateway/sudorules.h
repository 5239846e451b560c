/*
 * sudorules.h — what `sudo -l -U USER` says USER may run, judged against
 * what muxgate needs: tmux, as the tmux users, and nothing else.  Pure:
 * the caller runs sudo (spawn.c) and prints the findings.
 */
#ifndef MUXGATE_SUDORULES_H
#define MUXGATE_SUDORULES_H

#include <stddef.h>
#include "gateway/str.h"

/* What a rule may allow without a finding. */
struct sudorules_want {
	const char		*tmux;	/* the one command, an absolute path */
	const char *const	*runas;	/* the users it may run as */
	size_t			 nrunas;
};

/*
 * Read OUT, the output of `sudo -l -U USER` in the C locale, and add to
 * FINDINGS (caller frees) one line for each rule that allows more than
 * WANT: a user other than WANT's, root or ALL, a group, a command other
 * than WANT's tmux (ALL, arguments, sudoedit, a negation), SETENV or a
 * tag or option not known to be harmless.  With WANT NULL every rule is
 * a finding.  Anything not understood is a finding too: a line outside
 * the known layout, or output without either "User USER may run the
 * following commands" or "User USER is not allowed to run sudo".
 * Returns the number of findings added.
 */
size_t	sudorules_judge(const char *out, const struct sudorules_want *want,
	    struct argv *findings);

#endif
