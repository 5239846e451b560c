/* tmux.c — argv for tmux verbs and parsing of tmux's list output. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/log.h"
#include "gateway/tmux.h"
#include "gateway/xmalloc.h"
#include "util/num.h"

/*
 * The owner is a user option that whoever is attached can change: it is
 * reduced to identity-name characters so that it cannot break the line
 * format or carry escapes.  The session name comes last so that whatever
 * it holds cannot shift the other fields.
 */
#define LIST_FORMAT "#{session_created}\t#{session_activity}\t" \
	"#{session_windows}\t#{session_attached}\t" \
	"#{s/[^A-Za-z0-9_.-]//:@muxgate-owner}\t#{session_name}"

/*
 * tmux splits its argument list into commands wherever an argument ends
 * in ';' (a trailing "\;" means a literal ';').  Every argument that did
 * not come from us as a separator goes through here.
 */
static void
add_arg(struct argv *a, const char *s)
{
	size_t	len = strlen(s);

	if (len > 0 && s[len - 1] == ';')
		argv_addf(a, "%.*s\\;", (int)(len - 1), s);
	else
		argv_add(a, s);
}

bool
tmux_name_addressable(const char *name)
{
	return name[0] != '\0' && strchr("$@%=", name[0]) == NULL;
}

static void
add_target(struct argv *a, const char *name, bool window)
{
	char	*t;

	/* Callers check names first; never let tmux pick another session. */
	if (!tmux_name_addressable(name))
		fatal_msg("internal error: session name not addressable "
		    "exactly");
	xasprintf(&t, "=%s%s", name, window ? ":" : "");
	argv_add(a, "-t");
	add_arg(a, t);
	free(t);
}

void
tmux_args_list(struct argv *a)
{
	/*
	 * -u: without a UTF-8 locale (sshd sets none, sudo drops LANG) tmux
	 * prints a tab in a format as "_", which would merge the fields.
	 */
	argv_add(a, "-u");
	argv_add(a, "list-sessions");
	argv_add(a, "-F");
	argv_add(a, LIST_FORMAT);
}

void
tmux_args_new(struct argv *a, const char *name, const char *cwd,
    const char *owner, long long created, int cmdc, char **cmdv)
{
	int	i;

	argv_add(a, "new-session");
	argv_add(a, "-d");
	argv_add(a, "-s");
	add_arg(a, name);
	if (cwd != NULL) {
		argv_add(a, "-c");
		add_arg(a, cwd);
	}
	if (cmdc > 0) {
		/*
		 * tmux hands a single command word to the shell; with env in
		 * front there are always two or more, which tmux executes as
		 * an argv.
		 */
		argv_add(a, "--");
		argv_add(a, "/usr/bin/env");
		argv_add(a, "--");
		for (i = 0; i < cmdc; i++)
			add_arg(a, cmdv[i]);
	}
	/* Tag in the same tmux invocation: no window without an owner. */
	argv_add(a, ";");
	argv_add(a, "set-option");
	add_target(a, name, true);
	argv_add(a, "@muxgate-owner");
	add_arg(a, owner);
	argv_add(a, ";");
	argv_add(a, "set-option");
	add_target(a, name, true);
	argv_add(a, "@muxgate-created");
	argv_addf(a, "%lld", created);
}

void
tmux_args_kill(struct argv *a, const char *name)
{
	argv_add(a, "kill-session");
	add_target(a, name, false);
}

void
tmux_args_which(struct argv *a, const char *name)
{
	argv_add(a, "display-message");
	argv_add(a, "-p");
	add_target(a, name, true);
	argv_add(a, "#{session_id} #{session_created}");
}

/* "$ID CREATED\n", both decimal, and nothing else. */
int
tmux_parse_which(const char *text, unsigned *id, long long *created)
{
	char		 buf[64], *sp;
	const char	*errstr;
	size_t		 len = strlen(text);
	long long	 v;

	if (len == 0 || text[len - 1] != '\n' || len >= sizeof(buf) ||
	    text[0] != '$')
		return -1;
	memcpy(buf, text + 1, len - 2);
	buf[len - 2] = '\0';
	if ((sp = strchr(buf, ' ')) == NULL)
		return -1;
	*sp = '\0';
	if (num_parse(buf, 0, UINT_MAX, &v, &errstr) == -1)
		return -1;
	*id = (unsigned)v;
	if (num_parse(sp + 1, 1, LLONG_MAX, created, &errstr) == -1)
		return -1;
	return 0;
}

void
tmux_args_kill_id(struct argv *a, unsigned id)
{
	argv_add(a, "kill-session");
	argv_add(a, "-t");
	argv_addf(a, "$%u", id);
}

void
tmux_args_attach(struct argv *a, const char *name, bool readonly)
{
	argv_add(a, "attach-session");
	if (readonly) {
		/* -r for old servers; the flags keep a watcher's size out. */
		argv_add(a, "-r");
		argv_add(a, "-f");
		argv_add(a, "read-only,ignore-size");
	}
	add_target(a, name, false);
}

static int
parse_line(char *line, struct tmux_session *ts)
{
	/* created and activity are times; windows and attached, counts. */
	static const long long	 max[4] = { LLONG_MAX, LLONG_MAX, 1000000,
				    1000000 };
	char			*field[6];
	long long		 v[4];
	size_t			 i;
	char			*p = line, *tab;
	const char		*errstr;

	for (i = 0; i < 5; i++) {
		if ((tab = strchr(p, '\t')) == NULL)
			return -1;
		*tab = '\0';
		field[i] = p;
		p = tab + 1;
	}
	field[5] = p;		/* the name: the rest of the line */
	for (i = 0; i < 4; i++)
		if (num_parse(field[i], 0, max[i], &v[i], &errstr) == -1)
			return -1;
	if (field[5][0] == '\0')
		return -1;
	ts->created = v[0];
	ts->activity = v[1];
	ts->windows = (unsigned)v[2];
	ts->attached = (unsigned)v[3];
	ts->owner = field[4][0] != '\0' ? xstrdup(field[4]) : NULL;
	ts->expires = 0;
	ts->name = xstrdup(field[5]);
	return 0;
}

int
tmux_parse_sessions(const char *text, struct tmux_sessions *out, char *err,
    size_t errlen)
{
	char		*copy, *line, *save = NULL;
	size_t		 lineno = 0;

	memset(out, 0, sizeof(*out));
	copy = xstrdup(text);
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		out->v = xreallocarray(out->v, out->n + 1, sizeof(*out->v));
		if (parse_line(line, &out->v[out->n]) == -1) {
			snprintf(err, errlen, "unexpected tmux output on line "
			    "%zu", lineno);
			free(copy);
			tmux_sessions_free(out);
			return -1;
		}
		/*
		 * Made outside muxgate, say as "$1": listed, it could be
		 * attached or killed, and tmux would pick another session.
		 */
		if (!tmux_name_addressable(out->v[out->n].name)) {
			free(out->v[out->n].name);
			free(out->v[out->n].owner);
			out->hidden++;
			continue;
		}
		out->n++;
	}
	free(copy);
	return 0;
}

void
tmux_sessions_free(struct tmux_sessions *s)
{
	size_t	i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i].name);
		free(s->v[i].owner);
	}
	free(s->v);
	s->v = NULL;
	s->n = 0;
	s->hidden = 0;
}

const struct tmux_session *
tmux_sessions_find(const struct tmux_sessions *s, const char *name)
{
	size_t	i;

	if (!tmux_name_addressable(name))
		return NULL;
	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	return NULL;
}

enum tmux_failure
tmux_classify(const char *e)
{
	if (e == NULL)
		return TMUX_OTHER;
	if (strncmp(e, "no server running", 17) == 0 ||
	    (strncmp(e, "error connecting to ", 20) == 0 &&
	    strstr(e, "(No such file or directory)") != NULL) ||
	    (strncmp(e, "error connecting to ", 20) == 0 &&
	    strstr(e, "(Connection refused)") != NULL))
		return TMUX_NO_SERVER;
	if (strncmp(e, "can't find session", 18) == 0)
		return TMUX_NO_SESSION;
	if (strncmp(e, "duplicate session", 17) == 0)
		return TMUX_DUPLICATE;
	return TMUX_OTHER;
}
