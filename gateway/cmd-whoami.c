/* cmd-whoami.c — the identity behind this connection. */
#include <stdio.h>
#include <json-c/json.h>

#include "gateway/cmd.h"
#include "gateway/exitcode.h"
#include "gateway/output.h"

static int	cmd_whoami_exec(struct gw *, struct cmd_req *);

const struct cmd_entry cmd_whoami_entry = {
	.name = "whoami",
	.usage = "[--json]",
	.help = "show your identity, key and roles",
	.flags = CMD_F_JSON,
	.maxargs = 0,
	.exec = cmd_whoami_exec,
};

static int
cmd_whoami_exec(struct gw *gw, struct cmd_req *req)
{
	struct json_object	*o, *roles;
	size_t			 i, n = policy_identity_role_count(gw->id);
	int			 code = MG_OK;

	if (!req->args.json) {
		printf("identity %s\nkey      %s\nroles   ",
		    policy_identity_name(gw->id),
		    gw->have_key ? gw->key_fp : "(none: chosen by --identity)");
		for (i = 0; i < n; i++)
			printf(" %s", policy_identity_role_at(gw->id, i));
		printf("\n");
		fflush(stdout);
		return MG_OK;
	}
	o = json_object_new_object();
	json_object_object_add(o, "identity",
	    json_object_new_string(policy_identity_name(gw->id)));
	json_object_object_add(o, "key", gw->have_key ?
	    json_object_new_string(gw->key_fp) : NULL);
	roles = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(roles, json_object_new_string(
		    policy_identity_role_at(gw->id, i)));
	json_object_object_add(o, "roles", roles);
	if (out_json_print(o) == -1)
		code = MG_FAIL;
	json_object_put(o);
	return code;
}
