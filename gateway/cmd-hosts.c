/* cmd-hosts.c — the hosts and tmux users this identity may use. */
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "gateway/cmd.h"
#include "gateway/exitcode.h"
#include "gateway/output.h"
#include "gateway/session.h"
#include "gateway/str.h"
#include "gateway/view.h"

static int	cmd_hosts_exec(struct gw *, struct cmd_req *);

const struct cmd_entry cmd_hosts_entry = {
	.name = "hosts",
	.usage = "[--json]",
	.help = "show the hosts, tmux users and actions you may use",
	.flags = CMD_F_JSON,
	.maxargs = 0,
	.exec = cmd_hosts_exec,
};

static struct json_object *
actions_json(unsigned set)
{
	struct json_object	*arr = json_object_new_array();
	size_t			 i;

	for (i = 0; i < POLICY_NACTIONS; i++)
		if (set & policy_action_at(i))
			json_object_array_add(arr, json_object_new_string(
			    policy_action_name(policy_action_at(i))));
	return arr;
}

static void
actions_text(struct buf *b, unsigned set)
{
	size_t	i;
	int	n = 0;

	for (i = 0; i < POLICY_NACTIONS; i++)
		if (set & policy_action_at(i))
			buf_printf(b, "%s%s", n++ ? "," : "",
			    policy_action_name(policy_action_at(i)));
}

static int
cmd_hosts_exec(struct gw *gw, struct cmd_req *req)
{
	struct listings		 ls;
	struct listing		*l;
	struct json_object	*root, *hosts, *ho = NULL, *users = NULL, *uo;
	struct buf		 b = { 0 };
	const char		*last = NULL;
	size_t			 i;
	int			 code = MG_OK;

	/* Every pair the identity may use, asked at once: is it there? */
	session_list_scope(gw, NULL, NULL, ~0U, &ls);
	root = json_object_new_object();
	hosts = json_object_new_array();
	for (i = 0; i < ls.n; i++) {
		l = &ls.v[i];
		if (last == NULL || strcmp(last, l->host) != 0) {
			ho = json_object_new_object();
			json_object_object_add(ho, "host",
			    json_object_new_string(l->host));
			users = json_object_new_array();
			json_object_object_add(ho, "users", users);
			json_object_array_add(hosts, ho);
			last = l->host;
		}
		uo = json_object_new_object();
		json_object_object_add(uo, "user", json_object_new_string(l->user));
		json_object_object_add(uo, "actions", actions_json(l->actions));
		json_object_object_add(uo, "status",
		    json_object_new_string(session_status_name(l->status)));
		if (l->error != NULL)
			json_object_object_add(uo, "error",
			    out_json_string(l->error));
		if (l->ngrants > 0)
			json_object_object_add(uo, "grants",
			    view_grants_json(l));
		json_object_array_add(users, uo);
		buf_printf(&b, "%-20s %-16s ", l->host, l->user);
		actions_text(&b, l->actions);
		buf_adds(&b, "  ");
		view_status_word(&b, l);
		view_grants(&b, l);
		buf_addc(&b, '\n');
	}
	json_object_object_add(root, "hosts", hosts);
	if (req->args.json) {
		if (out_json_print(root) == -1)
			code = MG_FAIL;
	} else {
		fputs(b.data != NULL ? b.data : "no hosts\n", stdout);
		fflush(stdout);
	}
	json_object_put(root);
	buf_free(&b);
	listings_free(&ls);
	return code;
}
