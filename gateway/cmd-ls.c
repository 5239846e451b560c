/* cmd-ls.c — list the sessions the identity may list. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <json-c/json.h>

#include "gateway/cmd.h"
#include "gateway/exitcode.h"
#include "gateway/log.h"
#include "gateway/output.h"
#include "gateway/session.h"
#include "gateway/view.h"

static int	cmd_ls_exec(struct gw *, struct cmd_args *);

const struct cmd_entry cmd_ls_entry = {
	.name = "ls",
	.alias = "list",
	.usage = "[HOST | USER@HOST | USER@HOST:SESSION] [--json]",
	.help = "list sessions",
	.flags = CMD_F_JSON,
	.minargs = 0,
	.maxargs = 1,
	.exec = cmd_ls_exec,
};

/* Keep only SESSION in every listing; true when it was found. */
static bool
filter_session(struct listings *ls, const char *name)
{
	struct listing	*l;
	size_t		 i, j, keep;
	bool		 found = false;

	for (i = 0; i < ls->n; i++) {
		l = &ls->v[i];
		for (j = keep = 0; j < l->sessions.n; j++) {
			if (strcmp(l->sessions.v[j].name, name) == 0) {
				l->sessions.v[keep++] = l->sessions.v[j];
				found = true;
			} else {
				free(l->sessions.v[j].name);
				free(l->sessions.v[j].owner);
			}
		}
		l->sessions.n = keep;
		l->sessions.hidden = 0;	/* not what was asked about */
	}
	return found;
}

static int
print_json(const struct listings *ls)
{
	struct json_object	*root, *arr;
	size_t			 i;
	int			 r;

	root = json_object_new_object();
	arr = json_object_new_array();
	for (i = 0; i < ls->n; i++)
		json_object_array_add(arr, view_listing_json(ls, &ls->v[i]));
	json_object_object_add(root, "hosts", arr);
	r = out_json_print(root);
	json_object_put(root);
	return r;
}

static void
print_text(const struct listings *ls)
{
	struct buf	b = { 0 };
	size_t		i, j;

	for (i = 0; i < ls->n; i++) {
		view_status(&b, &ls->v[i]);
		buf_addc(&b, '\n');
		for (j = 0; j < ls->v[i].sessions.n; j++) {
			buf_adds(&b, "  ");
			view_target(&b, &ls->v[i], &ls->v[i].sessions.v[j]);
			buf_adds(&b, "  ");
			view_details(&b, ls, &ls->v[i], &ls->v[i].sessions.v[j]);
			buf_addc(&b, '\n');
		}
	}
	if (ls->n == 0)
		buf_adds(&b, "no hosts to list\n");
	fputs(b.data, stdout);
	fflush(stdout);
	buf_free(&b);
}

static int
cmd_ls_exec(struct gw *gw, struct cmd_args *a)
{
	struct target	 t = { 0 };
	struct listings	 ls;
	int		 code = MG_OK;

	if (a->argc == 1 && (code = cmd_target(gw, a->argv[0], TARGET_HOST |
	    TARGET_USER_HOST | TARGET_SESSION, POLICY_LIST, &t)) != MG_OK)
		return code;
	if (a->argc == 0 && (code = cmd_audit(gw, NULL, true, NULL)) != MG_OK)
		return code;
	session_list_scope(gw, t.host, t.user, POLICY_LIST, &ls);
	if (t.kind == TARGET_USER_HOST || t.kind == TARGET_SESSION) {
		/* One pair asked for by name: its failure is the command's. */
		if (ls.n == 1 && ls.v[0].status != HOST_OK)
			code = MG_FAIL;
		else if (t.kind == TARGET_SESSION &&
		    !filter_session(&ls, t.session))
			code = MG_NOSESSION;
	}
	if (code == MG_NOSESSION && !a->json)
		error_msg("no session %s", a->argv[0]);
	else if (a->json) {
		if (print_json(&ls) == -1)
			code = MG_FAIL;
	} else
		print_text(&ls);
	listings_free(&ls);
	target_free(&t);
	return code;
}
