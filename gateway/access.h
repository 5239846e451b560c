/*
 * access.h — what the logged-in identity may do: the policy's one
 * decision (policy_decide_grants) with the identity's grants in force,
 * read from the shared state.  Every command, listing and menu of the
 * shell decides through here.
 *
 * The grants are read again for every command (cmd_run forgets them),
 * and at most once a second for the listings of the menu; a state that
 * cannot be read counts as no grants (what the policy alone allows is
 * still allowed), and the first decision that could have needed them
 * says why on stderr.
 */
#ifndef MUXGATE_ACCESS_H
#define MUXGATE_ACCESS_H

#include <stdbool.h>
#include "gateway/grant.h"
#include "gateway/gw.h"

/*
 * Decide A on USER@HOST, for SESSION (NULL: none named).  V->grant,
 * when the grant allowed it, lives until the next access_ call.
 */
void	access_decide(struct gw *, enum policy_action a, const char *host,
	    const char *user, const char *session, struct policy_verdict *v);
/*
 * Every action allowed on USER@HOST as a whole (grants of one session
 * count in *SESSIONS, not here): a bit set.
 */
unsigned access_actions(struct gw *, const char *host, const char *user);
/*
 * The grants in force on USER@HOST, any action or session: 0 when none.
 * *OUT (caller frees the array only) points into the shell's copy.
 */
size_t	access_grants_on(struct gw *, const char *host, const char *user,
	    const struct grant ***out);
/* A grant of the identity by id, in force or not, or NULL. */
const struct grant *access_grant(struct gw *, const char *id);
/* Read the grants again at the next decision (after a change). */
void	access_forget(struct gw *);
/* Free what the shell holds. */
void	access_free(struct gw *);

#endif
