/*
 * grantcmd.h — what the grant commands (request, grants, approve, deny,
 * revoke) share: finding a grant by id for a request, the rule behind it
 * in the policy as it is now, writing a decision, and showing grants.
 */
#ifndef MUXGATE_GRANTCMD_H
#define MUXGATE_GRANTCMD_H

#include <json-c/json.h>
#include "gateway/cmd.h"
#include "gateway/grant.h"
#include "gateway/str.h"

struct state;

/* "4h", "1h30m", "45s": a duration as people read it. */
void	grantcmd_duration(struct buf *, long long seconds);
/* One line about G at NOW, escaped: id, status, scope, time, who. */
void	grantcmd_line(struct buf *, const struct grant *, long long now);
/* G as JSON, with its status at NOW and the seconds it has left. */
struct json_object *grantcmd_json(const struct grant *, long long now);
/* Fill the request's target and record fields from G. */
void	grantcmd_describe(struct cmd_req *, const struct grant *);

/*
 * The grant named by the request's argument: the state open in *ST and
 * the grant in G, or the refusal already reported (cmd_fail) and its
 * code.
 */
int	grantcmd_load(struct gw *, struct cmd_req *, struct state **st,
	    struct grant *g);
/*
 * The request rule that offers G to its requester in the policy now, in
 * R: MG_OK, or the refusal reported (the requester or the rule has left
 * the policy, or G is longer than the rule allows now).
 */
int	grantcmd_rule(struct gw *, struct cmd_req *, const struct grant *g,
	    struct policy_request *r);
/*
 * Write G, changed from what was read, as VERB ("approved", ...): MG_OK,
 * or the refusal reported (someone decided first, or the state failed).
 */
int	grantcmd_write(struct gw *, struct cmd_req *, struct state *,
	    struct grant *g, const char *verb);

/*
 * approve and deny: may this identity decide G now (not its own, an
 * approver of its rule in the policy now, still pending)?  MG_OK, or
 * the refusal reported.
 */
int	grantcmd_may_decide(struct gw *, struct cmd_req *, const struct grant *);
/*
 * The exec of approve, deny and revoke: the grant named by the request
 * loaded, DECIDE run on it, everything freed.
 */
int	grantcmd_run(struct gw *, struct cmd_req *,
	    int (*decide)(struct gw *, struct cmd_req *, struct state *,
	    struct grant *));

#endif
