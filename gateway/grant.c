/*
 * grant.c — a grant's entry and its status (grant.h).  Pure: no I/O, and
 * the time is always the caller's.
 *
 * The entry is one JSON object with every field present:
 *
 *   {"requester": NAME, "action": ACTION, "host": HOST, "user": USER,
 *    "session": NAME or null, "duration": SECONDS, "reason": TEXT or null,
 *    "status": "pending"|"active"|"denied"|"revoked"|"expired",
 *    "approver": NAME or null, "by": NAME or null, "note": TEXT or null,
 *    "requested": T, "starts": T or 0, "ends": T or 0, "decided": T or 0}
 *
 * with, by status (T: seconds since the epoch):
 *
 *   pending    starts, ends, decided 0; approver, by null
 *   active     decided = starts, ends = starts + duration; by null
 *   denied     decided set, starts 0; by set
 *   revoked    decided set; by set
 *   expired    decided set
 *
 * and ends = starts + duration whenever starts is set.
 *
 * The state authenticates the bytes; this checks their meaning, so that
 * no entry, however it came to be, is acted on half understood.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/grant.h"
#include "gateway/xmalloc.h"
#include "util/utf8.h"

static const char *const status_names[] = {
	[GRANT_PENDING] = "pending",
	[GRANT_ACTIVE] = "active",
	[GRANT_DENIED] = "denied",
	[GRANT_REVOKED] = "revoked",
	[GRANT_EXPIRED] = "expired",
};
#define NSTATUS	(sizeof(status_names) / sizeof(status_names[0]))

/* Times from 2000 to 2200: anything else was not written by us. */
#define TIME_MIN	946684800LL
#define TIME_MAX	7258118400LL
#define SESSION_MAX	256

const char *
grant_status_name(enum grant_status s)
{
	return (size_t)s < NSTATUS ? status_names[s] : "?";
}

long long
grant_lapses(const struct grant *g)
{
	return g->requested + GRANT_PENDING_FOR;
}

enum grant_status
grant_status_at(const struct grant *g, long long now)
{
	if (g->status == GRANT_PENDING && now >= grant_lapses(g))
		return GRANT_EXPIRED;
	if (g->status == GRANT_ACTIVE && now >= g->ends)
		return GRANT_EXPIRED;
	return g->status;
}

bool
grant_valid_id(const char *id)
{
	size_t	i;

	for (i = 0; id[i] != '\0'; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	return i == GRANT_ID_LEN;
}

/* Valid UTF-8 without control characters (C0, DEL, C1). */
static bool
printable(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, n = strlen(s);
	uint32_t		 cp;
	int			 r;

	for (i = 0; i < n; i += (size_t)r) {
		if ((r = utf8_decode(p + i, n - i, &cp)) <= 0)
			return false;
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			return false;
	}
	return true;
}

bool
grant_valid_reason(const char *s, const char **why)
{
	if (strlen(s) > GRANT_REASON_MAX) {
		*why = "longer than 512 bytes";
		return false;
	}
	if (s[0] == '\0') {
		*why = "empty";
		return false;
	}
	if (!printable(s)) {
		*why = "control characters or invalid UTF-8";
		return false;
	}
	return true;
}

bool
grant_valid_session(const char *s)
{
	size_t	len = strlen(s);

	return len > 0 && len <= SESSION_MAX && strpbrk(s, ":.") == NULL &&
	    printable(s);
}

static struct json_object *
str_or_null(const char *s)
{
	return s != NULL ? json_object_new_string(s) : NULL;
}

char *
grant_encode(const struct grant *g)
{
	struct json_object	*o;
	char			*text;

	o = json_object_new_object();
	json_object_object_add(o, "requester", str_or_null(g->requester));
	json_object_object_add(o, "action",
	    json_object_new_string(policy_action_name(g->action)));
	json_object_object_add(o, "host", str_or_null(g->host));
	json_object_object_add(o, "user", str_or_null(g->user));
	json_object_object_add(o, "session", str_or_null(g->session));
	json_object_object_add(o, "duration",
	    json_object_new_int64(g->duration));
	json_object_object_add(o, "reason", str_or_null(g->reason));
	json_object_object_add(o, "status",
	    json_object_new_string(grant_status_name(g->status)));
	json_object_object_add(o, "approver", str_or_null(g->approver));
	json_object_object_add(o, "by", str_or_null(g->by));
	json_object_object_add(o, "note", str_or_null(g->note));
	json_object_object_add(o, "requested",
	    json_object_new_int64(g->requested));
	json_object_object_add(o, "starts", json_object_new_int64(g->starts));
	json_object_object_add(o, "ends", json_object_new_int64(g->ends));
	json_object_object_add(o, "decided", json_object_new_int64(g->decided));
	text = xstrdup(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return text;
}

struct decoder {
	struct json_object	*o;
	const char		*bad;	/* the first bad field */
};

/* Field NAME, a string (valid by VALID), or null when NULLABLE. */
static char *
get_str(struct decoder *d, const char *name, bool nullable,
    bool (*valid)(const char *))
{
	struct json_object	*v;
	const char		*s;

	if (d->bad != NULL)
		return NULL;
	if (!json_object_object_get_ex(d->o, name, &v)) {
		d->bad = name;
		return NULL;
	}
	if (v == NULL) {
		if (!nullable)
			d->bad = name;
		return NULL;
	}
	if (!json_object_is_type(v, json_type_string) ||
	    strlen(s = json_object_get_string(v)) !=
	    (size_t)json_object_get_string_len(v) || !valid(s)) {
		d->bad = name;
		return NULL;
	}
	return xstrdup(s);
}

static long long
get_num(struct decoder *d, const char *name, long long min, long long max)
{
	struct json_object	*v;
	long long		 n;

	if (d->bad != NULL)
		return 0;
	if (!json_object_object_get_ex(d->o, name, &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    (n = json_object_get_int64(v)) < min || n > max) {
		d->bad = name;
		return 0;
	}
	return n;
}

static bool
valid_reason(const char *s)
{
	const char	*why;

	return grant_valid_reason(s, &why);
}

static bool
valid_action(const char *s)
{
	enum policy_action	a;

	return policy_action_parse(s, &a) == 0;
}

static bool
valid_status(const char *s)
{
	size_t	i;

	for (i = 0; i < NSTATUS; i++)
		if (strcmp(s, status_names[i]) == 0)
			return true;
	return false;
}

/* The fields that depend on each other, once each is valid. */
static const char *
consistent(const struct grant *g)
{
	if ((g->starts == 0) != (g->ends == 0) ||
	    (g->starts != 0 && (g->starts < g->requested ||
	    g->ends != g->starts + (long long)g->duration)))
		return "ends";
	if (g->decided != 0 && g->decided < g->requested)
		return "decided";
	switch (g->status) {
	case GRANT_PENDING:
		if (g->starts != 0 || g->decided != 0)
			return "decided";
		if (g->approver != NULL || g->by != NULL)
			return "by";
		break;
	case GRANT_ACTIVE:
		if (g->starts == 0 || g->decided != g->starts)
			return "starts";
		if (g->by != NULL)
			return "by";
		break;
	case GRANT_DENIED:
	case GRANT_REVOKED:
		if (g->decided == 0 || g->by == NULL ||
		    (g->status == GRANT_DENIED && g->starts != 0))
			return "by";
		break;
	case GRANT_EXPIRED:
		if (g->decided == 0)
			return "decided";
		break;
	}
	return NULL;
}

int
grant_decode(const char *id, const unsigned char *value, size_t len,
    struct grant *g, char *err, size_t errlen)
{
	struct json_tokener	*tok;
	struct decoder		 d = { NULL, NULL };
	char			*s;

	memset(g, 0, sizeof(*g));
	if (!grant_valid_id(id)) {
		snprintf(err, errlen, "bad grant id");
		return -1;
	}
	tok = json_tokener_new();
	d.o = json_tokener_parse_ex(tok, (const char *)value, (int)len);
	if (d.o == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    tok->char_offset != (int)len ||
	    !json_object_is_type(d.o, json_type_object)) {
		json_tokener_free(tok);
		json_object_put(d.o);
		snprintf(err, errlen, "grant %s: not a JSON object", id);
		return -1;
	}
	json_tokener_free(tok);
	memcpy(g->id, id, GRANT_ID_LEN + 1);
	g->requester = get_str(&d, "requester", false, policy_valid_name);
	if ((s = get_str(&d, "action", false, valid_action)) != NULL)
		(void)policy_action_parse(s, &g->action);
	free(s);
	g->host = get_str(&d, "host", false, policy_valid_name);
	g->user = get_str(&d, "user", false, policy_valid_user);
	g->session = get_str(&d, "session", true, grant_valid_session);
	g->duration = (unsigned)get_num(&d, "duration", 1, GRANT_DURATION_MAX);
	g->reason = get_str(&d, "reason", true, valid_reason);
	if ((s = get_str(&d, "status", false, valid_status)) != NULL)
		for (g->status = 0; strcmp(status_names[g->status], s) != 0;
		    g->status++)
			;
	free(s);
	g->approver = get_str(&d, "approver", true, policy_valid_name);
	g->by = get_str(&d, "by", true, policy_valid_name);
	g->note = get_str(&d, "note", true, valid_reason);
	g->requested = get_num(&d, "requested", TIME_MIN, TIME_MAX);
	g->starts = get_num(&d, "starts", 0, TIME_MAX);
	g->ends = get_num(&d, "ends", 0, TIME_MAX + GRANT_DURATION_MAX);
	g->decided = get_num(&d, "decided", 0, TIME_MAX);
	if (d.bad == NULL && json_object_object_length(d.o) != 15)
		d.bad = "(an unknown field)";
	if (d.bad == NULL)
		d.bad = consistent(g);
	json_object_put(d.o);
	if (d.bad != NULL) {
		snprintf(err, errlen, "grant %s: bad field %s", id, d.bad);
		grant_free(g);
		return -1;
	}
	return 0;
}

void
grant_free(struct grant *g)
{
	free(g->requester);
	free(g->host);
	free(g->user);
	free(g->session);
	free(g->reason);
	free(g->approver);
	free(g->by);
	free(g->note);
	memset(g, 0, sizeof(*g));
}

void
grant_list_free(struct grant_list *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		grant_free(&l->v[i]);
	free(l->v);
	for (i = 0; i < l->nbad; i++)
		free(l->bad[i]);
	free(l->bad);
	memset(l, 0, sizeof(*l));
}

void
grant_in_force(const struct grant_list *l, long long now,
    struct policy_grant **out, size_t *n)
{
	const struct grant	*g;
	size_t			 i;

	*out = xcalloc(l->n + 1, sizeof(**out));
	*n = 0;
	for (i = 0; i < l->n; i++) {
		g = &l->v[i];
		if (grant_status_at(g, now) != GRANT_ACTIVE)
			continue;
		(*out)[*n].id = g->id;
		(*out)[*n].action = g->action;
		(*out)[*n].host = g->host;
		(*out)[*n].user = g->user;
		(*out)[*n].session = g->session;
		(*n)++;
	}
}
