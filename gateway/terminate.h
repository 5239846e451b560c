/*
 * terminate.h — asking a live attach or watch to end (muxgate terminate),
 * through the shared state (state.h): the request is an entry
 * "terminate/ATTACH_ID"; the relay of that attach polls for it every
 * second and ends, telling its user who ended it and why.
 */
#ifndef MUXGATE_TERMINATE_H
#define MUXGATE_TERMINATE_H

#include <stddef.h>
#include <stdint.h>

struct state;

/* An attach id as muxgate makes them: 16 lowercase hex digits. */
int	terminate_valid_id(const char *id);

/*
 * Ask that attach ID end, on behalf of identity BY, for REASON (NULL:
 * none given).  0, or -1 with ERR.
 */
int	terminate_request(struct state *, const char *id, const char *by,
	    const char *reason, char *err, size_t errlen);

/*
 * Has attach ID been asked to end since *COOKIE?  1 with WHY set
 * ("terminated by NAME: REASON", every byte printable), 0, or -1 with
 * WHY set when the state cannot be read.
 */
int	terminate_pending(struct state *, const char *id, uint64_t *cookie,
	    char *why, size_t whylen);

#endif
