/* ttl.c — session TTL tags in the shared state (ttl.h). */
#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/state.h"
#include "gateway/target.h"
#include "gateway/ttl.h"
#include "gateway/xmalloc.h"
#include "policy/policy.h"

/* policy_parse_duration()'s cap: ten years. */
#define TTL_MAX		(3650U * 86400)
/* Creation times up to the year 36812: no sum below can overflow. */
#define CREATED_MAX	(1LL << 40)

void
ttl_key(const char *host, const char *user, const char *session,
    char key[TTL_KEY_LEN + 1])
{
	crypto_generichash_state	st;
	unsigned char			h[32];

	/* No name holds a NUL: the three are told apart exactly. */
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)host,
	    strlen(host) + 1);
	crypto_generichash_update(&st, (const unsigned char *)user,
	    strlen(user) + 1);
	crypto_generichash_update(&st, (const unsigned char *)session,
	    strlen(session));
	crypto_generichash_final(&st, h, sizeof(h));
	memcpy(key, TTL_PREFIX "/", sizeof(TTL_PREFIX "/") - 1);
	(void)sodium_bin2hex(key + sizeof(TTL_PREFIX "/") - 1,
	    TTL_KEY_LEN + 2 - sizeof(TTL_PREFIX "/"), h, sizeof(h));
}

char *
ttl_encode(const struct ttl_tag *t)
{
	struct json_object	*o;
	char			*text;

	/* The order of the fields is part of the format: see ttl_decode. */
	o = json_object_new_object();
	json_object_object_add(o, "host", json_object_new_string(t->host));
	json_object_object_add(o, "user", json_object_new_string(t->user));
	json_object_object_add(o, "session",
	    json_object_new_string(t->session));
	json_object_object_add(o, "created",
	    json_object_new_int64(t->created));
	json_object_object_add(o, "ttl", json_object_new_int64(t->ttl));
	json_object_object_add(o, "expires",
	    json_object_new_int64(t->expires));
	json_object_object_add(o, "by", json_object_new_string(t->by));
	text = xstrdup(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return text;
}

static const char *
get_string(struct json_object *o, const char *name)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool
get_int(struct json_object *o, const char *name, long long *out)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_int))
		return false;
	*out = (long long)json_object_get_int64(v);
	return true;
}

/* The fields of O into T, each checked on its own; NULL or what is wrong. */
static const char *
fields(struct json_object *o, struct ttl_tag *t)
{
	const char	*host, *user, *session, *by;
	long long	 ttl;

	if (!json_object_is_type(o, json_type_object))
		return "not a JSON object";
	host = get_string(o, "host");
	user = get_string(o, "user");
	session = get_string(o, "session");
	by = get_string(o, "by");
	if (host == NULL || !policy_valid_name(host))
		return "bad host";
	if (user == NULL || !policy_valid_user(user))
		return "bad user";
	if (session == NULL || !target_valid_new_name(session))
		return "bad session";
	if (by == NULL || !policy_valid_name(by))
		return "bad identity";
	if (!get_int(o, "created", &t->created) || t->created <= 0 ||
	    t->created > CREATED_MAX)
		return "bad created";
	if (!get_int(o, "ttl", &ttl) || ttl <= 0 || ttl > TTL_MAX)
		return "bad ttl";
	t->ttl = (unsigned)ttl;
	if (!get_int(o, "expires", &t->expires) ||
	    t->expires != t->created + ttl)
		return "expires is not created + ttl";
	t->host = xstrdup(host);
	t->user = xstrdup(user);
	t->session = xstrdup(session);
	t->by = xstrdup(by);
	return NULL;
}

int
ttl_decode(const char *key, const unsigned char *value, size_t len,
    struct ttl_tag *t, char *err, size_t errlen)
{
	struct json_object	*o = NULL;
	const char		*why = NULL;
	char			 want[TTL_KEY_LEN + 1], *again = NULL;

	memset(t, 0, sizeof(*t));
	if (memchr(value, '\0', len) != NULL)
		why = "a NUL byte";
	else if ((o = json_tokener_parse((const char *)value)) == NULL)
		why = "not JSON";
	else if ((why = fields(o, t)) == NULL) {
		/* Exactly as written: no other field, nothing twice, no more. */
		again = ttl_encode(t);
		ttl_key(t->host, t->user, t->session, want);
		if (strlen(again) != len || memcmp(again, value, len) != 0)
			why = "not as muxgate writes it";
		else if (strcmp(key, want) != 0)
			why = "under another session's key";
	}
	json_object_put(o);
	free(again);
	if (why == NULL)
		return 0;
	ttl_tag_free(t);
	(void)snprintf(err, errlen, "bad ttl entry %s: %s", key, why);
	return -1;
}

void
ttl_tag_free(struct ttl_tag *t)
{
	free(t->host);
	free(t->user);
	free(t->session);
	free(t->by);
	memset(t, 0, sizeof(*t));
}

int
ttl_write(struct state *st, const struct ttl_tag *t, char *err,
    size_t errlen)
{
	char	 key[TTL_KEY_LEN + 1], *text;
	int	 r = -1;

	ttl_key(t->host, t->user, t->session, key);
	text = ttl_encode(t);
	/*
	 * Whatever is there belongs to an earlier session of that name: the
	 * name was free when this one was created.
	 */
	switch (state_put_if(st, key, text, strlen(text), t->expires +
	    TTL_KEEP, STATE_ANY, NULL, err, errlen)) {
	case STATE_OK:
		r = 0;
		break;
	case STATE_CONFLICT:
		(void)snprintf(err, errlen, "the entry changed while it was "
		    "written");
		break;
	default:
		break;
	}
	free(text);
	return r;
}

int
ttl_clear(struct state *st, const char *host, const char *user,
    const char *session, char *err, size_t errlen)
{
	struct state_entry	e;
	char			key[TTL_KEY_LEN + 1];

	ttl_key(host, user, session, key);
	/* The common case, no tag, costs one failed open, not a write. */
	switch (state_get(st, key, &e, err, errlen)) {
	case STATE_ABSENT:
		return 0;
	case STATE_OK:
		state_entry_free(&e);
		break;
	default:
		return -1;
	}
	switch (state_delete_if(st, key, STATE_ANY, err, errlen)) {
	case STATE_OK:
	case STATE_ABSENT:
		return 0;
	default:
		return -1;
	}
}

int
ttl_load(const char *dir, struct ttl_tags *tags, char *err, size_t errlen)
{
	struct state		*st;
	struct state_items	 items;
	struct ttl_tag		 t;
	char			 why[256];
	size_t			 i;

	memset(tags, 0, sizeof(*tags));
	if ((st = state_open(dir, err, errlen)) == NULL)
		return -1;
	if (state_list(st, TTL_PREFIX, &items, err, errlen) == -1) {
		state_close(st);
		return -1;
	}
	state_close(st);
	for (i = 0; i < items.n; i++) {
		if (ttl_decode(items.v[i].key, items.v[i].entry.value,
		    items.v[i].entry.len, &t, why, sizeof(why)) == -1)
			continue;	/* reap reports it */
		tags->v = xreallocarray(tags->v, tags->n + 1,
		    sizeof(*tags->v));
		tags->v[tags->n++] = t;
	}
	state_items_free(&items);
	return 0;
}

void
ttl_tags_free(struct ttl_tags *tags)
{
	size_t	i;

	for (i = 0; i < tags->n; i++)
		ttl_tag_free(&tags->v[i]);
	free(tags->v);
	memset(tags, 0, sizeof(*tags));
}

long long
ttl_expires(const struct ttl_tags *tags, const char *host, const char *user,
    const char *session, long long created)
{
	const struct ttl_tag	*t;
	size_t			 i;

	for (i = 0; i < tags->n; i++) {
		t = &tags->v[i];
		if (t->created == created && strcmp(t->host, host) == 0 &&
		    strcmp(t->user, user) == 0 &&
		    strcmp(t->session, session) == 0)
			return t->expires;
	}
	return 0;
}

static const struct {
	char		unit;
	unsigned	secs;
} units[] = { { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 } };

void
ttl_duration_text(unsigned secs, char *buf, size_t len)
{
	size_t	i;

	for (i = 0; i < sizeof(units) / sizeof(*units) - 1; i++)
		if (secs > 0 && secs % units[i].secs == 0)
			break;
	(void)snprintf(buf, len, "%u%c", secs / units[i].secs, units[i].unit);
}

void
ttl_left_text(long long left, char *buf, size_t len)
{
	size_t	i;

	if (left < 0)
		left = 0;
	for (i = 0; i < sizeof(units) / sizeof(*units) - 1; i++)
		if (left >= units[i].secs)
			break;
	(void)snprintf(buf, len, "%lld%c", left / units[i].secs,
	    units[i].unit);
}
