/*
 * menu.c — the interactive shell.  A banner, a numbered menu of the
 * sessions `ls` would show, and a prompt with line editing, history and
 * completion (lineedit.c, which can do nothing else).
 *
 * The menu owns the terminal while it runs: it becomes the terminal's
 * foreground process group, so the signal keys reach neither it nor the
 * shell sshd started it from (sshd runs a ForceCommand as `sh -c`, and
 * that shell stays our parent); and it ignores them itself.  At the
 * prompt ^C abandons the line; ^\ and ^Z do nothing.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/access.h"
#include "gateway/cmd.h"
#include "gateway/exitcode.h"
#include "gateway/lineedit.h"
#include "gateway/log.h"
#include "gateway/menu.h"
#include "gateway/output.h"
#include "gateway/session.h"
#include "gateway/shell.h"
#include "gateway/str.h"
#include "gateway/view.h"
#include "gateway/xmalloc.h"
#include "util/num.h"

struct entry {
	char		*target;	/* user@host:name, raw */
	unsigned	 actions;
};

struct ui {
	struct gw	*gw;
	struct le	*le;
	unsigned	 idle_ms;
	struct entry	*entries;
	size_t		 nentries;
};

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
			e->actions = l->actions |
			    view_session_grants(l, l->sessions.v[j].name);
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

/*
 * A bare number is short for a command line: attach, or watch when
 * attaching is not allowed, or attach to be refused like any other.
 */
static int
pick(struct gw *gw, struct ui *ui, const char *line, bool *leave)
{
	long long	 n;
	const char	*errstr;
	struct entry	*e;
	char		 attach[] = "attach", watch[] = "watch";
	char		*argv[3];

	if (num_parse(line, 1, (long long)ui->nentries, &n, &errstr) == -1) {
		error_msg("no menu entry %s", line);
		return MG_USAGE;
	}
	e = &ui->entries[n - 1];
	argv[0] = (e->actions & POLICY_ATTACH) || !(e->actions & POLICY_WATCH) ?
	    attach : watch;
	argv[1] = e->target;
	argv[2] = NULL;
	return cmd_run(gw, 2, argv, leave);
}

/* A question inside a command (kill's confirmation); ^C answers nothing. */
static char *
ask_fn(struct gw *gw, const char *prompt)
{
	struct ui	*ui = gw->ui;
	char		*answer;

	(void)fflush(stdout);
	if (le_read(ui->le, prompt, ui->idle_ms, &answer) != LE_LINE)
		return NULL;
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
			if (access_actions(gw, policy_host_name(h),
			    policy_host_user_at(h, j)) == 0 &&
			    !session_granted(gw, policy_host_name(h),
			    policy_host_user_at(h, j)))
				continue;
			xasprintf(&t, "%s@%s:", policy_host_user_at(h, j),
			    policy_host_name(h));
			add_candidate(c, prefix, plen, t);
			free(t);
		}
	}
}

static void
complete_fn(void *arg, const char *line, size_t wstart, size_t cursor,
    struct argv *c)
{
	struct ui	*ui = arg;
	size_t		 first;

	/* The first word is a command; any later one a target. */
	for (first = 0; first < wstart && line[first] == ' '; first++)
		;
	candidates(ui->gw, ui, first == wstart, line + wstart,
	    cursor - wstart, c);
}

static void
banner(struct gw *gw)
{
	printf("muxgate \xe2\x80\x94 logged in as %s\n",
	    policy_identity_name(gw->id));
	printf("Type a number to attach, 'help' for commands, Ctrl-D to "
	    "leave.\n");
}

/* ---- the terminal ---- */

struct term {
	pid_t			 fg;	/* the foreground group we found */
	bool			 claimed;
	struct sigaction	 old[4];
};

static const int term_signals[] = { SIGINT, SIGQUIT, SIGTSTP, SIGTTOU };

/*
 * Take the terminal: our own process group in the foreground, the
 * signal keys ignored.  Children get default signals back (spawn.c) and
 * run in process groups of their own.
 */
static void
term_claim(struct term *t)
{
	struct sigaction	ign;
	size_t			i;
	pid_t			pgrp = getpgrp();

	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	for (i = 0; i < sizeof(term_signals) / sizeof(*term_signals); i++)
		(void)sigaction(term_signals[i], &ign, &t->old[i]);
	t->fg = tcgetpgrp(STDIN_FILENO);
	if (t->fg != pgrp) {
		/* Not the foreground: the terminal is someone else's. */
		debug("not in the terminal's foreground process group");
	} else if (pgrp != getpid() && setpgid(0, 0) == -1)
		debug("setpgid: %s", strerror(errno));
	else if (tcsetpgrp(STDIN_FILENO, getpid()) == -1) {
		debug("tcsetpgrp: %s", strerror(errno));
		(void)setpgid(0, pgrp);
	} else
		t->claimed = true;
}

static void
term_release(struct term *t)
{
	size_t	i;

	/* Hand the terminal back to the shell that started us. */
	if (t->claimed && t->fg > 0 && t->fg != getpgrp())
		(void)tcsetpgrp(STDIN_FILENO, t->fg);
	for (i = 0; i < sizeof(term_signals) / sizeof(*term_signals); i++)
		(void)sigaction(term_signals[i], &t->old[i], NULL);
}

/* Read a line; false when the menu must end (*CODE says how). */
static bool
read_line(struct ui *ui, char **line, int *code)
{
	enum le_result	r;

	for (;;) {
		(void)fflush(stdout);
		r = le_read(ui->le, "muxgate> ", ui->idle_ms, line);
		if (r == LE_LINE)
			return true;
		if (r == LE_INTR)
			continue;
		if (r == LE_IDLE) {
			error_msg("no input for %us: logging out "
			    "(gateway.menu_idle_timeout)", ui->idle_ms / 1000);
			*code = MG_OK;
		} else if (r == LE_ERROR)
			*code = MG_FAIL;
		return false;
	}
}

int
menu_run(struct gw *gw)
{
	struct ui	 s;
	struct ui	*ui = &s;
	struct term	 t;
	char		*line;
	int		 code = MG_OK;
	bool		 leave = false, again = true;

	memset(&s, 0, sizeof(s));
	memset(&t, 0, sizeof(t));
	ui->gw = gw;
	ui->le = le_new(STDIN_FILENO, STDOUT_FILENO);
	le_set_complete(ui->le, complete_fn, ui);
	le_set_stop(ui->le, shell_stopping);
	gw->ui = ui;
	gw->ask = ask_fn;
	term_claim(&t);
	banner(gw);
	while (!leave) {
		ui->idle_ms = policy_gateway(gw->policy)->menu_idle_timeout *
		    1000;
		if (again) {
			if ((code = shell_recheck(gw)) != MG_OK)
				break;
			show_menu(gw, ui);
			again = false;
		}
		if (!read_line(ui, &line, &code))
			break;
		if (line[strspn(line, " \t")] == '\0')
			again = true;
		else if ((code = shell_recheck(gw)) != MG_OK) {
			free(line);
			break;
		} else if (strspn(line, "0123456789") == strlen(line))
			(void)pick(gw, ui, line, &leave);
		else {
			le_history_add(ui->le, line);
			(void)cmd_run_line(gw, line, &leave);
		}
		free(line);
		if (gw->gone || shell_stopping())
			break;
		if (gw->attached) {
			gw->attached = false;
			again = true;
		}
	}
	term_release(&t);
	entries_free(ui);
	le_free(ui->le);
	gw->ui = NULL;
	gw->ask = NULL;
	return code;
}
