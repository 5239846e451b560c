/* cmd-ls.c — list the sessions the identity may list. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <json-c/json.h>

#include "gateway/cmd.h"
#include "gateway/exitcode.h"
#include "gateway/output.h"
#include "gateway/session.h"
#include "gateway/view.h"

static int	cmd_ls_exec(struct gw *, struct cmd_req *);

const struct cmd_entry cmd_ls_entry = {
	.name = "ls",
	.alias = "list",
	.usage = "[HOST | USER@HOST | USER@HOST:SESSION] [--json]",
	.help = "list sessions",
	.flags = CMD_F_JSON,
	.minargs = 0,
	.maxargs = 1,
	.target = TARGET_HOST | TARGET_USER_HOST | TARGET_SESSION |
	    CMD_T_OPTIONAL,
	.action = POLICY_LIST,
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
cmd_ls_exec(struct gw *gw, struct cmd_req *req)
{
	const struct target	*t = &req->t;
	struct listings		 ls;
	enum cmd_reason		 failed = CMD_R_NONE;
	bool			 json = req->args.json;
	int			 code = MG_OK;

	session_list_scope(gw, t->host, t->user, POLICY_LIST, &ls);
	if (t->kind == TARGET_USER_HOST || t->kind == TARGET_SESSION) {
		/* One pair asked for by name: its failure is the command's. */
		if (ls.n == 1 && ls.v[0].status != HOST_OK)
			failed = CMD_R_HOST_ERROR;
		else if (t->kind == TARGET_SESSION &&
		    !filter_session(&ls, t->session))
			failed = CMD_R_NO_SESSION;
	}
	if (failed == CMD_R_NO_SESSION && !json) {
		listings_free(&ls);
		return cmd_fail(gw, req, failed, "no session %s", req->arg);
	}
	if (!json)
		print_text(&ls);
	else if (print_json(&ls) == -1)
		code = MG_FAIL;
	listings_free(&ls);
	/* The listing says what failed; the record and the code say it too. */
	if (failed != CMD_R_NONE)
		return cmd_fail(gw, req, failed, NULL);
	return code;
}
