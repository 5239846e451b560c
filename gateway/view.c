/* view.c — text and JSON renderings shared by ls and the menu. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>

#include "gateway/grantcmd.h"
#include "gateway/output.h"
#include "gateway/ttl.h"
#include "gateway/view.h"

void
view_target(struct buf *b, const struct listing *l,
    const struct tmux_session *s)
{
	char	*name = out_escape(s->name);

	buf_printf(b, "%s@%s:%s", l->user, l->host, name);
	free(name);
}

static bool
viewer_of(const struct viewer *v, const struct listing *l,
    const struct tmux_session *s)
{
	return strcmp(v->host, l->host) == 0 && strcmp(v->user, l->user) == 0 &&
	    strcmp(v->session, s->name) == 0;
}

/* Does grant G name session S (or every session)? */
static bool
grant_names(const struct grant *g, const char *s)
{
	return g->session == NULL || strcmp(g->session, s) == 0;
}

void
view_details(struct buf *b, const struct listings *ls, const struct listing *l,
    const struct tmux_session *s)
{
	const struct viewer	*v;
	char			*who;
	size_t			 i;
	int			 n = 0;
	char		when[32];
	struct tm	tm;
	time_t		t = (time_t)s->created;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(when, sizeof(when), "@%lld", s->created);
	buf_printf(b, "(%u window%s, created %s, %u attached", s->windows,
	    s->windows == 1 ? "" : "s", when, s->attached);
	if (s->owner != NULL)
		buf_printf(b, ", owner %s", s->owner);
	if (s->expires > 0) {
		ttl_left_text(s->expires - (long long)time(NULL), when,
		    sizeof(when));
		buf_printf(b, ", ttl %s", when);
	}
	for (i = 0; i < l->ngrants; i++)
		if (l->grants[i]->session != NULL &&
		    grant_names(l->grants[i], s->name)) {
			buf_printf(b, ", grant %s: %s, ", l->grants[i]->id,
			    policy_action_name(l->grants[i]->action));
			grantcmd_duration(b, l->grants[i]->ends -
			    (long long)time(NULL));
			buf_adds(b, " left");
		}
	for (i = 0; i < ls->viewers.n; i++) {
		v = &ls->viewers.v[i];
		if (!viewer_of(v, l, s))
			continue;
		t = (time_t)v->since;
		if (localtime_r(&t, &tm) == NULL ||
		    strftime(when, sizeof(when), "%H:%M", &tm) == 0)
			snprintf(when, sizeof(when), "@%lld", v->since);
		who = out_escape(v->identity);
		buf_printf(b, "%s%s %s since %s", n++ == 0 ? "; " : ", ", who,
		    strcmp(v->mode, "watch") == 0 ? "watching" : "attached",
		    when);
		free(who);
	}
	buf_adds(b, ")");
}

void
view_status_word(struct buf *b, const struct listing *l)
{
	char	*err = l->error != NULL ? out_escape(l->error) : NULL;

	buf_adds(b, session_status_name(l->status));
	/* sudo's own words ("a password is required") mislead here. */
	if (l->status == HOST_FORBIDDEN)
		buf_adds(b, " (sudo refused)");
	else if (err != NULL)
		buf_printf(b, " (%s)", err);
	free(err);
}

unsigned
view_session_grants(const struct listing *l, const char *session)
{
	unsigned	set = 0;
	size_t		i;

	for (i = 0; i < l->ngrants; i++)
		if (grant_names(l->grants[i], session))
			set |= l->grants[i]->action |
			    (l->grants[i]->action == POLICY_ATTACH ?
			    POLICY_WATCH : 0);
	return set;
}

void
view_grants(struct buf *b, const struct listing *l)
{
	const struct grant	*g;
	long long		 now = (long long)time(NULL);
	char			*sess;
	size_t			 i;

	for (i = 0; i < l->ngrants; i++) {
		g = l->grants[i];
		sess = g->session != NULL ? out_escape(g->session) : NULL;
		buf_printf(b, " [grant %s: %s%s%s, ", g->id,
		    policy_action_name(g->action), sess != NULL ? " " : "",
		    sess != NULL ? sess : "");
		grantcmd_duration(b, g->ends - now);
		buf_adds(b, " left]");
		free(sess);
	}
}

struct json_object *
view_grants_json(const struct listing *l)
{
	struct json_object	*arr = json_object_new_array(), *o;
	const struct grant	*g;
	size_t			 i;

	for (i = 0; i < l->ngrants; i++) {
		g = l->grants[i];
		o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_string(g->id));
		json_object_object_add(o, "action", json_object_new_string(
		    policy_action_name(g->action)));
		json_object_object_add(o, "session", g->session != NULL ?
		    out_json_string(g->session) : NULL);
		json_object_object_add(o, "ends", json_object_new_int64(g->ends));
		json_object_object_add(o, "remaining", json_object_new_int64(
		    g->ends - (long long)time(NULL)));
		json_object_array_add(arr, o);
	}
	return arr;
}

void
view_status(struct buf *b, const struct listing *l)
{
	size_t	hidden = l->sessions.hidden;

	buf_printf(b, "%s@%s: ", l->user, l->host);
	if (l->status == HOST_OK && l->sessions.n == 0)
		buf_adds(b, "ok, no sessions");
	else
		view_status_word(b, l);
	/* Left out by tmux_parse_sessions(): say so, never name them. */
	if (l->status == HOST_OK && hidden > 0)
		buf_printf(b, " (%zu not shown: name%s starting with '$', "
		    "'@', '%%' or '=')", hidden, hidden == 1 ? "" : "s");
	view_grants(b, l);
}

static struct json_object *
viewers_json(const struct listings *ls, const struct listing *l,
    const struct tmux_session *s)
{
	struct json_object	*arr = json_object_new_array(), *vo;
	const struct viewer	*v;
	size_t			 i;

	for (i = 0; i < ls->viewers.n; i++) {
		v = &ls->viewers.v[i];
		if (!viewer_of(v, l, s))
			continue;
		vo = json_object_new_object();
		json_object_object_add(vo, "identity",
		    out_json_string(v->identity));
		json_object_object_add(vo, "mode", out_json_string(v->mode));
		json_object_object_add(vo, "since",
		    json_object_new_int64(v->since));
		/* The handle of muxgate terminate, for those who may use it. */
		if (l->actions & POLICY_TERMINATE)
			json_object_object_add(vo, "attach_id",
			    out_json_string(v->attach_id));
		json_object_array_add(arr, vo);
	}
	return arr;
}

struct json_object *
view_listing_json(const struct listings *ls, const struct listing *l)
{
	struct json_object	*o, *arr, *so;
	const struct tmux_session *s;
	size_t			 i;

	o = json_object_new_object();
	json_object_object_add(o, "host", json_object_new_string(l->host));
	json_object_object_add(o, "user", json_object_new_string(l->user));
	json_object_object_add(o, "status",
	    json_object_new_string(session_status_name(l->status)));
	if (l->error != NULL)
		json_object_object_add(o, "error", out_json_string(l->error));
	arr = json_object_new_array();
	for (i = 0; i < l->sessions.n; i++) {
		s = &l->sessions.v[i];
		so = json_object_new_object();
		json_object_object_add(so, "name", out_json_string(s->name));
		json_object_object_add(so, "windows",
		    json_object_new_int64(s->windows));
		json_object_object_add(so, "created",
		    json_object_new_int64(s->created));
		json_object_object_add(so, "activity",
		    json_object_new_int64(s->activity));
		json_object_object_add(so, "attached",
		    json_object_new_int64(s->attached));
		json_object_object_add(so, "owner", out_json_string(s->owner));
		json_object_object_add(so, "expires", s->expires > 0 ?
		    json_object_new_int64(s->expires) : NULL);
		json_object_object_add(so, "viewers", viewers_json(ls, l, s));
		json_object_array_add(arr, so);
	}
	json_object_object_add(o, "sessions", arr);
	if (l->sessions.hidden > 0)
		json_object_object_add(o, "hidden_sessions",
		    json_object_new_int64((int64_t)l->sessions.hidden));
	if (l->ngrants > 0)
		json_object_object_add(o, "grants", view_grants_json(l));
	return o;
}
