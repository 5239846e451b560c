/* cmd-hosts.c — the hosts and tmux users this identity may use. */
#include <stdio.h>
#include <json-c/json.h>

#include "gateway/cmd.h"
#include "gateway/exitcode.h"
#include "gateway/output.h"
#include "gateway/str.h"

static int	cmd_hosts_exec(struct gw *, struct cmd_args *);

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
cmd_hosts_exec(struct gw *gw, struct cmd_args *a)
{
	const struct policy_host *h;
	struct json_object	*root, *hosts, *ho, *users, *uo;
	struct buf		 b = { 0 };
	const char		*u;
	unsigned		 set;
	size_t			 i, j;
	int			 code;

	if ((code = cmd_audit(gw, NULL, true, NULL)) != MG_OK)
		return code;
	root = json_object_new_object();
	hosts = json_object_new_array();
	for (i = 0; i < policy_host_count(gw->policy); i++) {
		h = policy_host_at(gw->policy, i);
		users = json_object_new_array();
		for (j = 0; j < policy_host_user_count(h); j++) {
			u = policy_host_user_at(h, j);
			set = policy_allowed_actions(gw->policy, gw->id,
			    policy_host_name(h), u);
			if (set == 0)
				continue;
			uo = json_object_new_object();
			json_object_object_add(uo, "user",
			    json_object_new_string(u));
			json_object_object_add(uo, "actions", actions_json(set));
			json_object_array_add(users, uo);
			buf_printf(&b, "%-20s %-16s ", policy_host_name(h), u);
			actions_text(&b, set);
			buf_addc(&b, '\n');
		}
		/* Hosts out of scope stay invisible. */
		if (json_object_array_length(users) == 0) {
			json_object_put(users);
			continue;
		}
		ho = json_object_new_object();
		json_object_object_add(ho, "host",
		    json_object_new_string(policy_host_name(h)));
		json_object_object_add(ho, "users", users);
		json_object_array_add(hosts, ho);
	}
	json_object_object_add(root, "hosts", hosts);
	if (a->json) {
		if (out_json_print(root) == -1)
			code = MG_FAIL;
	} else {
		fputs(b.data != NULL ? b.data : "no hosts\n", stdout);
		fflush(stdout);
	}
	json_object_put(root);
	buf_free(&b);
	return code;
}
