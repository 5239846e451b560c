/*
 * terminate.c — termination requests in the shared state (terminate.h).
 * The entry's value is one JSON object {"by": IDENTITY, "reason": TEXT
 * or null, "at": SECONDS}; it expires a day after it was made, long
 * after the attach it names has ended.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/output.h"
#include "gateway/state.h"
#include "gateway/terminate.h"

#define PREFIX		"terminate"
#define KEEP_FOR	(24 * 3600)
#define REASON_MAX	512

int
terminate_valid_id(const char *id)
{
	size_t	i;

	for (i = 0; id[i] != '\0'; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'a' && id[i] <= 'f')))
			return 0;
	return i == 16;
}

int
terminate_request(struct state *st, const char *id, const char *by,
    const char *reason, char *err, size_t errlen)
{
	struct json_object	*o;
	const char		*text;
	char			 key[64];
	int			 r = -1;

	if (!terminate_valid_id(id)) {
		snprintf(err, errlen, "bad attach id");
		return -1;
	}
	if (reason != NULL && strlen(reason) > REASON_MAX) {
		snprintf(err, errlen, "the reason is longer than %d bytes",
		    REASON_MAX);
		return -1;
	}
	snprintf(key, sizeof(key), PREFIX "/%s", id);
	o = json_object_new_object();
	json_object_object_add(o, "by", json_object_new_string(by));
	json_object_object_add(o, "reason", reason != NULL ?
	    json_object_new_string(reason) : NULL);
	json_object_object_add(o, "at", json_object_new_int64(time(NULL)));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	switch (state_put_if(st, key, text, strlen(text),
	    (long long)time(NULL) + KEEP_FOR, STATE_ANY, NULL, err, errlen)) {
	case STATE_OK:
		r = 0;
		break;
	case STATE_CONFLICT:
		snprintf(err, errlen, "the request changed while it was "
		    "written");
		break;
	default:
		break;
	}
	json_object_put(o);
	return r;
}

/* WHY from the entry's value: escaped, never trusted to be well formed. */
static void
describe(const unsigned char *value, size_t len, char *why, size_t whylen)
{
	struct json_object	*o, *by = NULL, *reason = NULL;
	char			*eby = NULL, *ereason = NULL;

	o = json_tokener_parse((const char *)value);
	(void)len;
	if (o != NULL && json_object_is_type(o, json_type_object)) {
		(void)json_object_object_get_ex(o, "by", &by);
		(void)json_object_object_get_ex(o, "reason", &reason);
	}
	eby = out_escape(by != NULL && json_object_is_type(by,
	    json_type_string) ? json_object_get_string(by) : "?");
	if (reason != NULL && json_object_is_type(reason, json_type_string))
		ereason = out_escape(json_object_get_string(reason));
	snprintf(why, whylen, "terminated by %s%s%s", eby,
	    ereason != NULL ? ": " : "", ereason != NULL ? ereason : "");
	free(eby);
	free(ereason);
	json_object_put(o);
}

int
terminate_pending(struct state *st, const char *id, uint64_t *cookie,
    char *why, size_t whylen)
{
	struct state_entry	e;
	char			key[64];
	int			r;

	if ((r = state_changed(st, PREFIX, cookie, why, whylen)) <= 0)
		return r;
	snprintf(key, sizeof(key), PREFIX "/%s", id);
	switch (state_get(st, key, &e, why, whylen)) {
	case STATE_OK:
		describe(e.value, e.len, why, whylen);
		state_entry_free(&e);
		return 1;
	case STATE_ABSENT:
		return 0;
	default:
		return -1;
	}
}
