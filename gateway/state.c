/*
 * state.c — the state's interface (state.h): arguments checked once,
 * here, then handed to the backend.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/state.h"
#include "gateway/state-int.h"
#include "gateway/xmalloc.h"

struct state {
	const struct state_backend	*be;
	void				*h;
	bool				 readonly;
};

static bool
key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '-';
}

bool
state_key_valid(const char *key)
{
	size_t	i;

	/* No '.': no key can name ".", "..", or a backend's own names. */
	for (i = 0; key[i] != '\0'; i++) {
		if (i == STATE_KEY_MAX)
			return false;
		if (key_char(key[i]))
			continue;
		if (key[i] != '/' || i == 0 || key[i - 1] == '/' ||
		    key[i + 1] == '\0')
			return false;
	}
	return i > 0;
}

static int
check_key(const char *key, char *err, size_t errlen)
{
	if (state_key_valid(key))
		return 0;
	/* The key may be anything: say why, not what. */
	snprintf(err, errlen, "bad state key (%zu bytes): not segments of "
	    "[a-z0-9_-] separated by '/', at most %d bytes", strlen(key),
	    STATE_KEY_MAX);
	return -1;
}

/* PREFIX without one trailing '/', checked, into CLEAN; -1 if bad. */
static int
check_prefix(const char *prefix, char clean[STATE_KEY_MAX + 1], char *err,
    size_t errlen)
{
	size_t	len = strlen(prefix);

	if (len > 0 && prefix[len - 1] == '/')
		len--;
	if (len > STATE_KEY_MAX) {
		snprintf(err, errlen, "bad state prefix: longer than a key");
		return -1;
	}
	memcpy(clean, prefix, len);
	clean[len] = '\0';
	if (len == 0 && prefix[0] != '\0') {
		snprintf(err, errlen, "bad state prefix \"/\"");
		return -1;
	}
	if (len == 0 || state_key_valid(clean))
		return 0;
	snprintf(err, errlen, "bad state prefix: not a key or a key and '/'");
	return -1;
}

static long long
now(void)
{
	return (long long)time(NULL);
}

static struct state *
open_as(const char *where, bool readonly, char *err, size_t errlen)
{
	const struct state_backend	*be = &state_backend_file;
	struct state			*st;
	void				*h;

	/* Another backend will be another form of WHERE (a URL). */
	if (where[0] != '/') {
		snprintf(err, errlen, "state %s: not an absolute path", where);
		return NULL;
	}
	if ((h = (readonly ? be->open_reader : be->open)(where, err,
	    errlen)) == NULL)
		return NULL;
	st = xcalloc(1, sizeof(*st));
	st->be = be;
	st->h = h;
	st->readonly = readonly;
	return st;
}

struct state *
state_open(const char *where, char *err, size_t errlen)
{
	return open_as(where, false, err, errlen);
}

struct state *
state_open_reader(const char *where, char *err, size_t errlen)
{
	return open_as(where, true, err, errlen);
}

static int
writable(struct state *st, char *err, size_t errlen)
{
	if (!st->readonly)
		return 0;
	snprintf(err, errlen, "the state is open read-only");
	return -1;
}

void
state_close(struct state *st)
{
	if (st == NULL)
		return;
	st->be->close(st->h);
	free(st);
}

enum state_status
state_get(struct state *st, const char *key, struct state_entry *out,
    char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (check_key(key, err, errlen) == -1)
		return STATE_ERROR;
	return st->be->get(st->h, key, now(), out, err, errlen);
}

void
state_entry_free(struct state_entry *e)
{
	free(e->value);
	memset(e, 0, sizeof(*e));
}

enum state_status
state_put_if(struct state *st, const char *key, const void *value,
    size_t len, long long expires, uint64_t expected, uint64_t *version,
    char *err, size_t errlen)
{
	if (writable(st, err, errlen) == -1 || check_key(key, err, errlen) == -1)
		return STATE_ERROR;
	if (len > STATE_VALUE_MAX) {
		snprintf(err, errlen, "state %s: a value of %zu bytes, more "
		    "than %d", key, len, STATE_VALUE_MAX);
		return STATE_ERROR;
	}
	if (expires < 0) {
		snprintf(err, errlen, "state %s: expiry before 1970", key);
		return STATE_ERROR;
	}
	return st->be->put_if(st->h, key, value, len, expires, expected,
	    now(), version, err, errlen);
}

enum state_status
state_delete_if(struct state *st, const char *key, uint64_t expected,
    char *err, size_t errlen)
{
	if (writable(st, err, errlen) == -1 || check_key(key, err, errlen) == -1)
		return STATE_ERROR;
	if (expected == STATE_NEW) {
		/* "Delete it if it does not exist" is a caller's mistake. */
		snprintf(err, errlen, "state %s: delete of version 0", key);
		return STATE_ERROR;
	}
	return st->be->delete_if(st->h, key, expected, now(), err, errlen);
}

static int
item_cmp(const void *a, const void *b)
{
	return strcmp(((const struct state_item *)a)->key,
	    ((const struct state_item *)b)->key);
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
state_list(struct state *st, const char *prefix, struct state_items *items,
    char *err, size_t errlen)
{
	char	clean[STATE_KEY_MAX + 1];

	memset(items, 0, sizeof(*items));
	if (check_prefix(prefix, clean, err, errlen) == -1)
		return -1;
	if (st->be->list(st->h, clean, now(), items, err, errlen) == -1) {
		state_items_free(items);
		return -1;
	}
	if (items->n > 1)
		qsort(items->v, items->n, sizeof(*items->v), item_cmp);
	if (items->nbad > 1)
		qsort(items->bad, items->nbad, sizeof(*items->bad), str_cmp);
	return 0;
}

void
state_items_free(struct state_items *items)
{
	size_t	i;

	for (i = 0; i < items->n; i++) {
		free(items->v[i].key);
		state_entry_free(&items->v[i].entry);
	}
	free(items->v);
	for (i = 0; i < items->nbad; i++)
		free(items->bad[i]);
	free(items->bad);
	memset(items, 0, sizeof(*items));
}

int
state_changed(struct state *st, const char *prefix, uint64_t *cookie,
    char *err, size_t errlen)
{
	char		clean[STATE_KEY_MAX + 1];
	uint64_t	gen;
	int		r;

	if (check_prefix(prefix, clean, err, errlen) == -1)
		return -1;
	if ((r = st->be->generation(st->h, clean, &gen, err, errlen)) != 0)
		return r;	/* -1, or 1: a write under way, maybe here */
	if (gen == *cookie)
		return 0;
	*cookie = gen;
	return 1;
}

int
state_sweep(struct state *st, long long when, size_t *removed, char *err,
    size_t errlen)
{
	size_t	n = 0;
	int	r;

	if (removed != NULL)
		*removed = 0;
	if (writable(st, err, errlen) == -1)
		return -1;
	r = st->be->sweep(st->h, when, &n, err, errlen);
	if (removed != NULL)
		*removed = n;
	return r;
}
