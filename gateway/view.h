/* view.h — how sessions and host rows look on a terminal (escaped). */
#ifndef MUXGATE_VIEW_H
#define MUXGATE_VIEW_H

#include "gateway/session.h"
#include "gateway/str.h"

struct json_object;

/* "deploy@bastion:build" with the name escaped. */
void	view_target(struct buf *, const struct listing *,
	    const struct tmux_session *);
/*
 * "(2 windows, created 2026-11-23 19:00, 1 attached, owner alice, ttl 4m)"
 * (the time left, for a session with a TTL) and,
 * when anyone is attached through muxgate, "; alice attach since 19:02".
 */
void	view_details(struct buf *, const struct listings *,
	    const struct listing *, const struct tmux_session *);
/* "build@bastion: forbidden (sudo: a password is required)" */
void	view_status(struct buf *, const struct listing *);
/* "ok", "forbidden (sudo refused)", "unreachable (connection refused)" */
void	view_status_word(struct buf *, const struct listing *);
/* The JSON object of one listing, as in `ls --json`. */
struct json_object *view_listing_json(const struct listings *,
	    const struct listing *);

/* The grants in force on L's pair: " [grant ID: attach build, 42m left]". */
void	view_grants(struct buf *, const struct listing *);
/* The actions L's grants allow on SESSION (attach allows watch). */
unsigned view_session_grants(const struct listing *, const char *session);
/* The same as a JSON array of {id, action, session, ends, remaining}. */
struct json_object *view_grants_json(const struct listing *);

#endif
