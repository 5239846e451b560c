/* slots.c — flock()ed slot files: attach caps and live viewers. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>

#include "gateway/dirs.h"
#include "gateway/log.h"
#include "gateway/slots.h"
#include "gateway/xmalloc.h"

/* Lock the first free PREFIX.N for N < MAX; -1 if none, -2 on error. */
static int
take(const char *dir, const char *prefix, unsigned max, char *err,
    size_t errlen)
{
	char		path[4096];
	unsigned	i;
	int		fd;

	for (i = 0; i < max; i++) {
		snprintf(path, sizeof(path), "%s/%s.%u", dir, prefix, i);
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd == -1) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -2;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		close(fd);
		if (errno != EWOULDBLOCK) {
			snprintf(err, errlen, "lock %s: %s", path,
			    strerror(errno));
			return -2;
		}
	}
	return -1;
}

static void
describe(int fd, const struct slot_info *info)
{
	struct json_object	*o = json_object_new_object();
	const char		*s;

	json_object_object_add(o, "attach_id",
	    json_object_new_string(info->attach_id));
	json_object_object_add(o, "identity",
	    json_object_new_string(info->identity));
	json_object_object_add(o, "mode", json_object_new_string(info->mode));
	json_object_object_add(o, "host", json_object_new_string(info->host));
	json_object_object_add(o, "user", json_object_new_string(info->user));
	json_object_object_add(o, "session",
	    json_object_new_string(info->session));
	json_object_object_add(o, "since", json_object_new_int64(info->since));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	/* Best effort: the lock is the slot, the text only describes it. */
	if (ftruncate(fd, 0) == 0 && pwrite(fd, s, strlen(s), 0) == -1) {
		/* A reader skips text that does not parse. */
		debug("cannot describe slot: %s", strerror(errno));
	}
	json_object_put(o);
}

enum slots_result
slots_acquire(const char *state, unsigned per_id, unsigned total,
    const struct slot_info *info, struct slot *s, char *err, size_t errlen)
{
	char	*dir, *prefix;
	int	 fd;

	s->fd_total = s->fd_ident = -1;
	if (dirs_private(state, err, errlen) == -1)
		return SLOTS_ERROR;
	xasprintf(&dir, "%s/attach", state);
	if (dirs_private(dir, err, errlen) == -1) {
		free(dir);
		return SLOTS_ERROR;
	}
	xasprintf(&prefix, "id-%s", info->identity);
	fd = take(dir, prefix, per_id, err, errlen);
	free(prefix);
	if (fd < 0) {
		if (fd == -1)
			snprintf(err, errlen, "you already have %u attaches "
			    "open (gateway.limits.attaches_per_identity)",
			    per_id);
		free(dir);
		return fd == -1 ? SLOTS_FULL : SLOTS_ERROR;
	}
	s->fd_ident = fd;
	fd = take(dir, "total", total, err, errlen);
	free(dir);
	if (fd < 0) {
		if (fd == -1)
			snprintf(err, errlen, "the gateway has %u attaches "
			    "open, its limit (gateway.limits.attaches_total)",
			    total);
		slots_release(s);
		return fd == -1 ? SLOTS_FULL : SLOTS_ERROR;
	}
	s->fd_total = fd;
	describe(s->fd_total, info);
	return SLOTS_OK;
}

void
slots_release(struct slot *s)
{
	/* Closing drops the lock; stale text in a free slot is ignored. */
	if (s->fd_total != -1)
		close(s->fd_total);
	if (s->fd_ident != -1)
		close(s->fd_ident);
	s->fd_total = s->fd_ident = -1;
}

static void
viewer_clear(struct viewer *v)
{
	free(v->attach_id);
	free(v->identity);
	free(v->mode);
	free(v->host);
	free(v->user);
	free(v->session);
	memset(v, 0, sizeof(*v));
}

static char *
jstr(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return xstrdup(json_object_get_string(v));
}

/* Read one held slot file into V; false if it is free or unreadable. */
static bool
read_slot(int dfd, const char *name, struct viewer *v)
{
	char			 text[2048];
	struct json_object	*o, *since;
	ssize_t			 n;
	int			 fd;
	bool			 ok = false;

	if ((fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return false;
	/* If we can lock it, nobody holds it. */
	if (flock(fd, LOCK_SH | LOCK_NB) == 0 || errno != EWOULDBLOCK) {
		close(fd);
		return false;
	}
	n = pread(fd, text, sizeof(text) - 1, 0);
	close(fd);
	if (n <= 0)
		return false;
	text[n] = '\0';
	if ((o = json_tokener_parse(text)) == NULL)
		return false;
	memset(v, 0, sizeof(*v));
	v->attach_id = jstr(o, "attach_id");
	v->identity = jstr(o, "identity");
	v->mode = jstr(o, "mode");
	v->host = jstr(o, "host");
	v->user = jstr(o, "user");
	v->session = jstr(o, "session");
	if (json_object_object_get_ex(o, "since", &since))
		v->since = json_object_get_int64(since);
	ok = v->attach_id && v->identity && v->mode && v->host && v->user && v->session;
	json_object_put(o);
	if (!ok)
		viewer_clear(v);
	return ok;
}

int
slots_live(const char *state, struct viewers *out, char *err, size_t errlen)
{
	struct dirent	*de;
	struct viewer	 v;
	char		*dir;
	DIR		*d;

	memset(out, 0, sizeof(*out));
	xasprintf(&dir, "%s/attach", state);
	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT) {
			free(dir);
			return 0;
		}
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		free(dir);
		return -1;
	}
	free(dir);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "total.", 6) != 0)
			continue;
		if (!read_slot(dirfd(d), de->d_name, &v))
			continue;
		out->v = xreallocarray(out->v, out->n + 1, sizeof(*out->v));
		out->v[out->n++] = v;
	}
	closedir(d);
	return 0;
}

void
slots_viewers(const char *state, struct viewers *out)
{
	char	err[256];

	if (slots_live(state, out, err, sizeof(err)) == -1)
		debug("%s", err);
}

void
viewers_free(struct viewers *vs)
{
	size_t	i;

	for (i = 0; i < vs->n; i++)
		viewer_clear(&vs->v[i]);
	free(vs->v);
	memset(vs, 0, sizeof(*vs));
}
