/*
 * menu.c — the interactive shell.  A banner, a numbered menu of the
 * sessions `ls` would show, and a prompt with line editing, history and
 * completion (libedit).  No user startup file is read: an .editrc could
 * bind keys to anything.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/attach.h"
#include "gateway/cmd.h"
#include "gateway/editlib.h"
#include "gateway/exitcode.h"
#include "gateway/log.h"
#include "gateway/menu.h"
#include "gateway/output.h"
#include "gateway/session.h"
#include "gateway/shell.h"
#include "gateway/str.h"
#include "gateway/view.h"
#include "gateway/xmalloc.h"

struct entry {
	char		*target;	/* user@host:name, raw */
	unsigned	 actions;
};

struct ui {
	struct gw	*gw;
	EditLine	*el;
	History		*hist;
	const char	*prompt;
	struct entry	*entries;
	size_t		 nentries;
};

static char *
prompt_fn(EditLine *el)
{
	struct ui	*ui;

	el_get(el, EL_CLIENTDATA, &ui);
	return (char *)ui->prompt;
}

static void
entries_free(struct ui *ui)
{
	size_t	i;

	for (i = 0; i < ui->nentries; i++)
		free(ui->entries[i].target);
	free(ui->entries);
	ui->entries = NULL;
	ui->nentries = 0;
}

static void
show_menu(struct gw *gw, struct ui *ui)
{
	struct listings	 ls;
	struct listing	*l;
	struct entry	*e;
	struct buf	 b = { 0 };
	size_t		 i, j;

	entries_free(ui);
	session_list_scope(gw, NULL, NULL, POLICY_LIST, &ls);
	for (i = 0; i < ls.n; i++) {
		l = &ls.v[i];
		if (l->status != HOST_OK || l->sessions.n == 0) {
			buf_adds(&b, "    ");
			view_status(&b, l);
			buf_addc(&b, '\n');
			continue;
		}
		for (j = 0; j < l->sessions.n; j++) {
			ui->entries = xreallocarray(ui->entries,
			    ui->nentries + 1, sizeof(*ui->entries));
			e = &ui->entries[ui->nentries++];
			xasprintf(&e->target, "%s@%s:%s", l->user, l->host,
			    l->sessions.v[j].name);
			e->actions = l->actions;
			buf_printf(&b, "%3zu) ", ui->nentries);
			view_target(&b, l, &l->sessions.v[j]);
			buf_adds(&b, "  ");
			view_details(&b, &ls, l, &l->sessions.v[j]);
			buf_addc(&b, '\n');
		}
	}
	if (ls.n == 0)
		buf_adds(&b, "    (nothing you may list)\n");
	fputs(b.data, stdout);
	fflush(stdout);
	buf_free(&b);
	listings_free(&ls);
}

/* A bare number: attach, or watch when attaching is not allowed. */
static int
pick(struct gw *gw, struct ui *ui, const char *line)
{
	long long	 n;
	const char	*errstr;
	struct entry	*e;

	if (str_tonum(line, 1, (long long)ui->nentries, &n, &errstr) == -1)
		return cmd_error(MG_USAGE, "no menu entry %s", line);
	e = &ui->entries[n - 1];
	if (e->actions & POLICY_ATTACH) {
		gw->cmd = "attach";
		return attach_target(gw, e->target, false);
	}
	if (e->actions & POLICY_WATCH) {
		gw->cmd = "watch";
		return attach_target(gw, e->target, true);
	}
	return cmd_error(MG_DENIED, "you may only list this session");
}

static char *
ask_fn(struct gw *gw, const char *prompt)
{
	struct ui	*ui = gw->ui;
	const char	*line, *old = ui->prompt;
	int		 n;
	char		*answer;

	ui->prompt = prompt;
	line = el_gets(ui->el, &n);
	ui->prompt = old;
	if (line == NULL)
		return NULL;
	answer = xstrdup(line);
	answer[strcspn(answer, "\r\n")] = '\0';
	return answer;
}

/* ---- completion ---- */

static void
add_candidate(struct argv *c, const char *prefix, size_t plen, const char *s)
{
	if (strncmp(s, prefix, plen) == 0)
		argv_add(c, s);
}

static void
candidates(struct gw *gw, struct ui *ui, bool first, const char *prefix,
    size_t plen, struct argv *c)
{
	const struct cmd_entry		*const *e;
	const struct policy_host	*h;
	char				*t;
	size_t				 i, j;

	if (first) {
		for (e = cmd_table; *e != NULL; e++)
			add_candidate(c, prefix, plen, (*e)->name);
		return;
	}
	for (i = 0; i < ui->nentries; i++)
		add_candidate(c, prefix, plen, ui->entries[i].target);
	for (i = 0; i < policy_host_count(gw->policy); i++) {
		h = policy_host_at(gw->policy, i);
		for (j = 0; j < policy_host_user_count(h); j++) {
			if (policy_allowed_actions(gw->policy, gw->id,
			    policy_host_name(h), policy_host_user_at(h, j)) == 0)
				continue;
			xasprintf(&t, "%s@%s:", policy_host_user_at(h, j),
			    policy_host_name(h));
			add_candidate(c, prefix, plen, t);
			free(t);
		}
	}
}

static unsigned char
complete_fn(EditLine *el, int ch)
{
	const LineInfo	*li = el_line(el);
	struct ui	*ui;
	struct gw	*gw;
	struct argv	 c = { 0 };
	const char	*start, *first;
	size_t		 plen, common, i;
	unsigned char	 ret = CC_REFRESH;
	char		*ins, *safe;

	el_get(el, EL_CLIENTDATA, &ui);
	gw = ui->gw;
	for (start = li->cursor; start > li->buffer && start[-1] != ' ';
	    start--)
		;
	plen = (size_t)(li->cursor - start);
	/* The first word is a command; any later one a target. */
	for (first = li->buffer; first < start && *first == ' '; first++)
		;
	candidates(gw, ui, first == start, start, plen, &c);
	if (c.n == 0) {
		ret = CC_ERROR;
		goto out;
	}
	common = strlen(c.v[0]);
	for (i = 1; i < (size_t)c.n; i++) {
		size_t k = 0;
		while (k < common && c.v[i][k] == c.v[0][k])
			k++;
		common = k;
	}
	if (common > plen) {
		ins = xstrndup(c.v[0] + plen, common - plen);
		if (strpbrk(ins, " '\"") == NULL)
			el_insertstr(el, ins);
		free(ins);
		if (c.n == 1 && c.v[0][common - 1] != ':')
			el_insertstr(el, " ");
	} else if (c.n > 1) {
		fputc('\n', stdout);
		for (i = 0; i < (size_t)c.n; i++) {
			safe = out_escape(c.v[i]);
			printf("%s\n", safe);
			free(safe);
		}
		ret = CC_REDISPLAY;
	}
out:
	argv_free(&c);
	return ret;
}

static void
banner(struct gw *gw)
{
	printf("muxgate \xe2\x80\x94 logged in as %s\n",
	    policy_identity_name(gw->id));
	printf("Type a number to attach, 'help' for commands, Ctrl-D to "
	    "leave.\n");
}

int
menu_run(struct gw *gw)
{
	struct ui	 s;
	struct ui	*ui = &s;
	HistEvent	 ev;
	const char	*line;
	char		*copy, err[512];
	int		 n, code = MG_OK;
	bool		 leave = false, again = true;

	if (editlib_load(err, sizeof(err)) == -1) {
		error_msg("menu: %s", err);
		return MG_FAIL;
	}
	memset(&s, 0, sizeof(s));
	ui->gw = gw;
	setlocale(LC_CTYPE, "");
	ui->prompt = "muxgate> ";
	ui->el = el_init("muxgate", stdin, stdout, stderr);
	ui->hist = history_init();
	history(ui->hist, &ev, H_SETSIZE, 500);
	el_set(ui->el, EL_CLIENTDATA, ui);
	el_set(ui->el, EL_PROMPT, prompt_fn);
	el_set(ui->el, EL_EDITOR, "emacs");
	el_set(ui->el, EL_SIGNAL, 1);
	el_set(ui->el, EL_HIST, history, ui->hist);
	el_set(ui->el, EL_ADDFN, "muxgate-complete", "complete",
	    complete_fn);
	el_set(ui->el, EL_BIND, "^I", "muxgate-complete", NULL);
	gw->ui = ui;
	gw->ask = ask_fn;
	banner(gw);
	while (!leave) {
		if (again) {
			show_menu(gw, ui);
			again = false;
		}
		if ((line = el_gets(ui->el, &n)) == NULL) {
			fputc('\n', stdout);
			break;
		}
		copy = xstrdup(line);
		copy[strcspn(copy, "\r\n")] = '\0';
		if (copy[strspn(copy, " \t")] == '\0')
			again = true;
		else if (strspn(copy, "0123456789") == strlen(copy))
			code = pick(gw, ui, copy);
		else {
			history(ui->hist, &ev, H_ENTER, copy);
			code = cmd_run_line(gw, copy, &leave);
		}
		free(copy);
		if (gw->gone || shell_stopping())
			break;
		if (gw->attached) {
			gw->attached = false;
			again = true;
		}
		(void)code;
	}
	entries_free(ui);
	history_end(ui->hist);
	el_end(ui->el);
	gw->ui = NULL;
	gw->ask = NULL;
	return MG_OK;
}
