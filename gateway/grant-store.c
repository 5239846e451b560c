/*
 * grant-store.c — grants in the shared state (layout: grant.h).  Each
 * entry expires GRANT_KEEP after the grant can last change by itself
 * (its end, or its request's lapse), so that `grants` and `muxgate reap`
 * still see it ended.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/grant.h"
#include "gateway/state.h"
#include "gateway/xmalloc.h"

#define P_GRANT		"grant"
#define P_ID		"grant-id"
#define P_PENDING	"grant-pending"
#define NAME_MAX_BYTES	64	/* policy_valid_name() */

/* An identity's name in lower-case hex, a key's segment. */
static void
hexname(char out[2 * NAME_MAX_BYTES + 1], const char *name)
{
	size_t	len = strlen(name);

	if (len > NAME_MAX_BYTES)
		len = NAME_MAX_BYTES;	/* never: names are checked */
	sodium_bin2hex(out, 2 * NAME_MAX_BYTES + 1, (const unsigned char *)name,
	    len);
}

static void
grant_key(char key[STATE_KEY_MAX + 1], const char *hex, const char *id)
{
	snprintf(key, STATE_KEY_MAX + 1, P_GRANT "/%s/%s", hex, id);
}

static long long
keep_until(const struct grant *g)
{
	long long	last = g->ends != 0 ? g->ends : grant_lapses(g);

	if (g->decided > last)
		last = g->decided;
	return last + GRANT_KEEP;
}

/*
 * The entry of G, or NULL with ERR when it would not read back: nothing
 * is written that every later reading of the identity's grants would
 * refuse.
 */
static char *
entry_of(const struct grant *g, char *err, size_t errlen)
{
	struct grant	 back;
	char		*text = grant_encode(g);

	if (grant_decode(g->id, (const unsigned char *)text, strlen(text),
	    &back, err, errlen) == -1) {
		free(text);
		return NULL;
	}
	grant_free(&back);
	return text;
}

static int
put(struct state *st, const char *key, const char *value, long long expires,
    uint64_t expected, uint64_t *version, char *err, size_t errlen)
{
	switch (state_put_if(st, key, value, strlen(value), expires, expected,
	    version, err, errlen)) {
	case STATE_OK:
		return STATE_OK;
	case STATE_CONFLICT:
		snprintf(err, errlen, "%s changed while it was written", key);
		return STATE_CONFLICT;
	default:
		return STATE_ERROR;
	}
}

int
grants_add(struct state *st, struct grant *g, char *err, size_t errlen)
{
	char		 hex[2 * NAME_MAX_BYTES + 1], key[STATE_KEY_MAX + 1];
	char		*text;
	unsigned char	 raw[GRANT_ID_LEN / 2];
	/* The index outlives every grant the request can become. */
	long long	 until = grant_lapses(g) + GRANT_DURATION_MAX + GRANT_KEEP;
	int		 tries, r = STATE_CONFLICT;

	hexname(hex, g->requester);
	memcpy(g->id, "0000000000000000", GRANT_ID_LEN + 1);
	if ((text = entry_of(g, err, errlen)) == NULL)
		return -1;
	free(text);
	/* The id is reserved first: of two requests, one id each. */
	for (tries = 0; tries < 8 && r == STATE_CONFLICT; tries++) {
		randombytes_buf(raw, sizeof(raw));
		sodium_bin2hex(g->id, sizeof(g->id), raw, sizeof(raw));
		snprintf(key, sizeof(key), P_ID "/%s", g->id);
		r = put(st, key, hex, until, STATE_NEW, NULL, err, errlen);
	}
	if (r != STATE_OK)
		return -1;
	text = grant_encode(g);
	grant_key(key, hex, g->id);
	r = put(st, key, text, keep_until(g), STATE_NEW, &g->version, err,
	    errlen);
	free(text);
	if (r != STATE_OK)
		return -1;
	if (g->status != GRANT_PENDING)
		return 0;
	snprintf(key, sizeof(key), P_PENDING "/%s", g->id);
	return put(st, key, hex, grant_lapses(g), STATE_NEW, NULL, err,
	    errlen) == STATE_OK ? 0 : -1;
}

/* Entry WHY (a message naming it) left out of LIST. */
static void
list_bad(struct grant_list *list, const char *why)
{
	list->bad = xreallocarray(list->bad, list->nbad + 1,
	    sizeof(*list->bad));
	list->bad[list->nbad++] = xstrdup(why);
}

/* The entries of ITEMS, and those it could not read, into LIST. */
static void
decode_items(const struct state_items *items, struct grant_list *list)
{
	const char	*id;
	char		 why[256];
	size_t		 i;

	list->v = xcalloc(items->n + 1, sizeof(*list->v));
	for (i = 0; i < items->nbad; i++)
		list_bad(list, items->bad[i]);
	for (i = 0; i < items->n; i++) {
		id = strrchr(items->v[i].key, '/') + 1;
		if (grant_decode(id, items->v[i].entry.value,
		    items->v[i].entry.len, &list->v[list->n], why,
		    sizeof(why)) == -1) {
			list_bad(list, why);
			continue;
		}
		list->v[list->n++].version = items->v[i].entry.version;
	}
}

int
grants_of(struct state *st, const char *identity, struct grant_list *list,
    char *err, size_t errlen)
{
	struct state_items	items;
	char			hex[2 * NAME_MAX_BYTES + 1];
	char			prefix[STATE_KEY_MAX + 1];

	memset(list, 0, sizeof(*list));
	hexname(hex, identity);
	snprintf(prefix, sizeof(prefix), P_GRANT "/%s", hex);
	if (state_list(st, prefix, &items, err, errlen) == -1)
		return -1;
	decode_items(&items, list);
	state_items_free(&items);
	return 0;
}

/* The grant that index entry VALUE (its owner's hex) names as ID. */
static int
follow(struct state *st, const char *hex, size_t hexlen, const char *id,
    struct grant *g, char *err, size_t errlen)
{
	struct state_entry	e;
	char			key[STATE_KEY_MAX + 1], h[2 * NAME_MAX_BYTES + 1];
	int			r;

	if (hexlen == 0 || hexlen > 2 * NAME_MAX_BYTES ||
	    strspn(hex, "0123456789abcdef") != hexlen) {
		snprintf(err, errlen, "grant %s: bad index entry", id);
		return STATE_ERROR;
	}
	memcpy(h, hex, hexlen);
	h[hexlen] = '\0';
	grant_key(key, h, id);
	if ((r = state_get(st, key, &e, err, errlen)) != STATE_OK)
		return r;
	if (grant_decode(id, e.value, e.len, g, err, errlen) == -1)
		r = STATE_ERROR;
	else
		g->version = e.version;
	state_entry_free(&e);
	return r;
}

int
grants_find(struct state *st, const char *id, struct grant *g, char *err,
    size_t errlen)
{
	struct state_entry	e;
	char			key[STATE_KEY_MAX + 1];
	int			r;

	memset(g, 0, sizeof(*g));
	if (!grant_valid_id(id))
		return STATE_ABSENT;
	snprintf(key, sizeof(key), P_ID "/%s", id);
	if ((r = state_get(st, key, &e, err, errlen)) != STATE_OK)
		return r;
	r = follow(st, (const char *)e.value, e.len, id, g, err, errlen);
	state_entry_free(&e);
	return r;
}

int
grants_pending(struct state *st, struct grant_list *list, char *err,
    size_t errlen)
{
	struct state_items	items;
	const char		*id;
	char			why[256];
	size_t			i;

	memset(list, 0, sizeof(*list));
	if (state_list(st, P_PENDING, &items, err, errlen) == -1)
		return -1;
	list->v = xcalloc(items.n + 1, sizeof(*list->v));
	for (i = 0; i < items.nbad; i++)
		list_bad(list, items.bad[i]);
	/* One request that cannot be read hides none of the others. */
	for (i = 0; i < items.n; i++) {
		id = strrchr(items.v[i].key, '/') + 1;
		switch (follow(st, (const char *)items.v[i].entry.value,
		    items.v[i].entry.len, id, &list->v[list->n], why,
		    sizeof(why))) {
		case STATE_OK:
			if (list->v[list->n].status == GRANT_PENDING)
				list->n++;
			else
				grant_free(&list->v[list->n]);
			break;
		case STATE_ABSENT:
			break;		/* a request whose grant is gone */
		default:
			list_bad(list, why);
		}
	}
	state_items_free(&items);
	return 0;
}

int
grants_update(struct state *st, struct grant *g, char *err, size_t errlen)
{
	char	 hex[2 * NAME_MAX_BYTES + 1], key[STATE_KEY_MAX + 1];
	char	*text;
	int	 r;

	hexname(hex, g->requester);
	grant_key(key, hex, g->id);
	if ((text = entry_of(g, err, errlen)) == NULL)
		return STATE_ERROR;
	r = put(st, key, text, keep_until(g), g->version, &g->version, err,
	    errlen);
	free(text);
	if (r != STATE_OK || g->status == GRANT_PENDING)
		return r;
	/* The index only saves a look: if this fails, the grant says. */
	snprintf(key, sizeof(key), P_PENDING "/%s", g->id);
	if (state_delete_if(st, key, STATE_ANY, err, errlen) == STATE_ERROR)
		err[0] = '\0';
	return STATE_OK;
}

int
grants_retire(struct state *st, long long now,
    void (*retired)(const struct grant *, void *),
    void (*refused)(const char *, void *), void *arg, size_t *n, char *err,
    size_t errlen)
{
	struct state_items	items;
	struct grant		g;
	const char		*id;
	char			why[256];
	size_t			i;
	int			r = 0;

	*n = 0;
	if (state_list(st, P_GRANT, &items, err, errlen) == -1)
		return -1;
	/* The others are still retired; each of these is said. */
	for (i = 0; i < items.nbad; i++)
		refused(items.bad[i], arg);
	for (i = 0; i < items.n; i++) {
		id = strrchr(items.v[i].key, '/') + 1;
		if (grant_decode(id, items.v[i].entry.value,
		    items.v[i].entry.len, &g, why, sizeof(why)) == -1) {
			refused(why, arg);
			continue;
		}
		g.version = items.v[i].entry.version;
		if ((g.status == GRANT_PENDING || g.status == GRANT_ACTIVE) &&
		    grant_status_at(&g, now) == GRANT_EXPIRED) {
			g.status = GRANT_EXPIRED;
			g.decided = now;
			switch (grants_update(st, &g, why, sizeof(why))) {
			case STATE_OK:
				(*n)++;
				retired(&g, arg);
				break;
			case STATE_CONFLICT:
				break;	/* decided meanwhile: not ours */
			default:
				snprintf(err, errlen, "%s", why);
				r = -1;
			}
		}
		grant_free(&g);
	}
	state_items_free(&items);
	return r;
}
