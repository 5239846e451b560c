/*
 * check.c — `muxgate check`: the policy as sshd -t checks sshd_config,
 * an identity's effective access (--explain), and one request decided
 * as the shell would decide it (--can).
 */
#include <errno.h>
#include <getopt.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/audit.h"
#include "gateway/check.h"
#include "gateway/seal.h"
#include "gateway/exitcode.h"
#include "gateway/grantcmd.h"
#include "gateway/state.h"
#include "gateway/log.h"
#include "gateway/output.h"
#include "gateway/shell.h"
#include "gateway/str.h"
#include "gateway/target.h"
#include "gateway/xmalloc.h"
#include "policy/policy.h"

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: muxgate check [-f CONFIG] [--explain IDENTITY "
	    "| --can IDENTITY ACTION USER@HOST[:SESSION]]\n");
}

/*
 * One line of the refusal or the error list on stderr, without the
 * "muxgate: " of other errors (muxgate(8)), but escaped like them: a key,
 * a value or the file's name can hold escape sequences and newlines, and
 * each error must stay one line of plain text.
 */
static void
error_line(const char *line)
{
	char	*safe = out_escape(line);

	fprintf(stderr, "%s\n", safe);
	free(safe);
}

/* An identity's grants, for --explain and --can. */
struct check_grants {
	struct grant_list	 list;
	struct policy_grant	*inforce;
	size_t			 n;
};

/*
 * NAME's grants in gateway.state, read as the shell reads them but
 * without writing (an administrator runs check as root).  No state yet
 * is no grants; a state that cannot be read is said, and counts as no
 * grants, as in the shell; so is each entry that cannot be read.
 */
static void
load_grants(const struct policy *p, const char *name, struct check_grants *g)
{
	struct state	*st;
	struct stat	 sb;
	char		 err[256];
	size_t		 i;

	memset(g, 0, sizeof(*g));
	if (stat(policy_gateway(p)->state, &sb) == -1 && errno == ENOENT) {
		grant_in_force(&g->list, 0, &g->inforce, &g->n);
		return;
	}
	if ((st = state_open_reader(policy_gateway(p)->state, err,
	    sizeof(err))) == NULL || grants_of(st, name, &g->list, err,
	    sizeof(err)) == -1)
		error_msg("warning: grants not considered: %s", err);
	/* An entry that cannot be read counts for nothing, and is named. */
	for (i = 0; i < g->list.nbad; i++)
		error_msg("warning: grant not considered: %s", g->list.bad[i]);
	state_close(st);
	grant_in_force(&g->list, (long long)time(NULL), &g->inforce, &g->n);
}

static void
check_grants_free(struct check_grants *g)
{
	grant_list_free(&g->list);
	free(g->inforce);
}

/* The grants in force, and what each allows in the policy now. */
static void
explain_grants(const struct policy *p, const struct policy_identity *id,
    const struct check_grants *g)
{
	const struct grant	*gr;
	struct policy_verdict	 v;
	struct buf		 b = { 0 };
	long long		 now = (long long)time(NULL);
	size_t			 i;

	for (i = 0; i < g->list.n; i++) {
		gr = &g->list.v[i];
		if (grant_status_at(gr, now) != GRANT_ACTIVE)
			continue;
		policy_decide_grants(p, id, gr->action, gr->host, gr->user,
		    gr->session, g->inforce, g->n, &v);
		buf_adds(&b, "    ");
		grantcmd_line(&b, gr, now);
		if (v.allow && v.why == POLICY_WHY_GRANT)
			buf_printf(&b, " (role %s request[%zu])\n", v.role,
			    v.index);
		else if (v.allow)
			buf_printf(&b, " (not needed: role %s allow[%zu])\n",
			    v.role, v.index);
		else
			buf_adds(&b, " (allows nothing: no request rule "
			    "offers it now, or a deny rule covers it)\n");
	}
	if (b.data != NULL)
		printf("  grants in force:\n%s", b.data);
	buf_free(&b);
}

static int
explain(const struct policy *p, const char *name)
{
	const struct policy_identity	*id;
	const struct policy_host	*h;
	struct check_grants		 g;
	struct buf			 b = { 0 };
	unsigned			 set;
	size_t				 i, j, k, shown = 0;
	time_t				 exp;
	char				 when[32];

	if ((id = policy_identity_find(p, name)) == NULL) {
		error_msg("no identity %s in the policy", name);
		return MG_FAIL;
	}
	printf("identity %s\n  roles:", name);
	for (i = 0; i < policy_identity_role_count(id); i++)
		printf(" %s", policy_identity_role_at(id, i));
	printf("\n");
	if (policy_identity_disabled(id))
		printf("  disabled: every login is refused\n");
	if (policy_identity_from_count(id) > 0) {
		printf("  from:");
		for (i = 0; i < policy_identity_from_count(id); i++)
			printf(" %s", policy_identity_from_at(id, i));
		printf("\n");
	}
	if ((exp = policy_identity_expires(id)) != 0) {
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC",
		    gmtime(&exp));
		printf("  expires: %s%s\n", when, exp <= time(NULL) ?
		    " (expired: every login is refused)" : "");
	}
	for (i = 0; i < policy_host_count(p); i++) {
		h = policy_host_at(p, i);
		for (j = 0; j < policy_host_user_count(h); j++) {
			set = policy_allowed_actions(p, id, policy_host_name(h),
			    policy_host_user_at(h, j));
			if (set == 0)
				continue;
			buf_printf(&b, "  %-20s %-16s ", policy_host_name(h),
			    policy_host_user_at(h, j));
			for (k = 0; k < POLICY_NACTIONS; k++)
				if (set & policy_action_at(k))
					buf_printf(&b, "%s%s", (set &
					    (policy_action_at(k) - 1)) ? "," : "",
					    policy_action_name(
					    policy_action_at(k)));
			buf_addc(&b, '\n');
			shown++;
		}
	}
	if (shown == 0)
		printf("  no access to any host\n");
	else
		printf("  %-20s %-16s %s\n%s", "HOST", "TMUX USER", "ACTIONS",
		    b.data);
	buf_free(&b);
	load_grants(p, name, &g);
	explain_grants(p, id, &g);
	check_grants_free(&g);
	return MG_OK;
}

static int
can(const struct policy *p, const char *name, const char *action,
    const char *target)
{
	const struct policy_identity	*id;
	struct policy_verdict		 v;
	struct check_grants		 g;
	struct target			 t;
	struct buf			 b = { 0 };
	enum policy_action		 a;
	size_t				 i;
	char				 err[256];
	int				 code = MG_DENIED;

	if ((id = policy_identity_find(p, name)) == NULL) {
		error_msg("no identity %s in the policy", name);
		return MG_FAIL;
	}
	if (policy_action_parse(action, &a) == -1) {
		error_msg("unknown action %s (list, watch, attach, create, "
		    "kill, kill-own, terminate)", action);
		return MG_USAGE;
	}
	if (target_parse(target, TARGET_USER_HOST | TARGET_SESSION, &t, err,
	    sizeof(err)) == -1) {
		error_msg("%s", err);
		return MG_USAGE;
	}
	load_grants(p, name, &g);
	policy_decide_grants(p, id, a, t.host, t.user, t.session, g.inforce,
	    g.n, &v);
	/* Disabled and expired decide here too; from: needs an address. */
	if (v.allow && policy_identity_disabled(id))
		printf("deny: identity %s is disabled\n", name);
	else if (v.allow && policy_identity_expires(id) != 0 &&
	    time(NULL) >= policy_identity_expires(id)) {
		time_t exp = policy_identity_expires(id);
		char when[32];
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC",
		    gmtime(&exp));
		printf("deny: identity %s expired at %s\n", name, when);
	}
	else if (v.allow && v.why == POLICY_WHY_GRANT) {
		for (i = 0; g.list.v[i].id != v.grant->id; i++)
			;	/* v.grant is one of g.list's, by construction */
		grantcmd_duration(&b, g.list.v[i].ends - (long long)time(NULL));
		printf("allow: grant %s, %s left (role %s request[%zu])\n",
		    v.grant->id, b.data, v.role, v.index);
		buf_free(&b);
		code = MG_OK;
	} else if (v.allow) {
		printf("allow: role %s allow[%zu]\n", v.role, v.index);
		code = MG_OK;
	} else if (v.why == POLICY_WHY_DENY_RULE)
		printf("deny: role %s deny[%zu]\n", v.role, v.index);
	else if (v.why == POLICY_WHY_NO_HOST)
		printf("deny: no host %s in the policy\n", t.host);
	else if (v.why == POLICY_WHY_NO_USER)
		printf("deny: %s is not a tmux user of %s\n", t.user, t.host);
	else
		printf("deny: no allow rule matches (default deny)\n");
	check_grants_free(&g);
	target_free(&t);
	return code;
}

/*
 * A policy that parses can still lose every record on this machine, or
 * refuse every login for want of an audit daemon: say so.
 */
static int
check_audit(const struct policy *p)
{
	const struct policy_gateway	*g = policy_gateway(p);
	char				 why[256];

	switch (audit_probe(g->audit, g->audit_required, why, sizeof(why))) {
	case AUDIT_REACH_REFUSED:
		error_msg("refused: audit_required is set and %s: every login "
		    "would be refused", why);
		return MG_FAIL;
	case AUDIT_REACH_NOTHING:
		error_msg("warning: audit records would be lost: %s", why);
		break;
	case AUDIT_REACH_OK:
		break;
	}
	return MG_OK;
}

/*
 * The auditors' keys recordings are sealed to: an attach with one that
 * cannot be read has no recording, so say it now.
 */
static int
check_recipients(const struct policy *p)
{
	const struct policy_gateway	*g = policy_gateway(p);
	struct seal_pub			 pub;
	char				 why[512];
	size_t				 i;
	int				 code = MG_OK;

	for (i = 0; i < g->nrecording_recipients; i++)
		if (seal_pub_load(g->recording_recipients[i], &pub, why,
		    sizeof(why)) == -1) {
			error_msg("gateway.recording_recipients: %s: every "
			    "attach would have no recording", why);
			code = MG_FAIL;
		}
	return code;
}

/* Say what is wrong with the operands, if anything. */
static int
check_operands(const char *explain_id, const char *can_id, int argc,
    char **argv)
{
	if (explain_id != NULL && can_id != NULL)
		error_msg("check: --explain and --can cannot be used together");
	else if (can_id != NULL && argc < 2)
		error_msg("check: --can %s needs an ACTION and a "
		    "USER@HOST[:SESSION]", can_id);
	else if (can_id != NULL && argc > 2)
		error_msg("check: unexpected argument %s", argv[2]);
	else if (can_id == NULL && argc > 0)
		error_msg("check: unexpected argument %s", argv[0]);
	else
		return MG_OK;
	usage(stderr);
	return MG_USAGE;
}

int
check_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "explain", required_argument, NULL, 'e' },
		{ "can", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct policy_failure	 fail;
	struct policy		*p;
	const char		*config = MUXGATE_DEFAULT_CONFIG;
	const char		*explain_id = NULL, *can_id = NULL;
	char			*line;
	size_t			 i;
	int			 ch, code;

	optind = 1;
	opterr = 0;
	/* Options may follow the operands of --can. */
	while ((ch = getopt_long(argc, argv, ":f:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f': config = optarg; break;
		case 'e': explain_id = optarg; break;
		case 'c': can_id = optarg; break;
		case 'h': usage(stdout); return MG_OK;
		case ':':
			error_msg("check: %s needs a value", argv[optind - 1]);
			usage(stderr);
			return MG_USAGE;
		default:
			error_msg("check: bad option %s", argv[optind - 1]);
			usage(stderr);
			return MG_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if ((code = check_operands(explain_id, can_id, argc, argv)) != MG_OK)
		return code;
	if ((p = policy_load_gateway(config, &fail)) == NULL) {
		if (fail.refused) {
			xasprintf(&line, "%s: refused: %s", config, fail.reason);
			error_line(line);
			free(line);
		}
		for (i = 0; i < fail.errs.n; i++)
			error_line(fail.errs.msgs[i]);
		policy_failure_free(&fail);
		return MG_FAIL;
	}
	if (explain_id != NULL)
		code = explain(p, explain_id);
	else if (can_id != NULL)
		code = can(p, can_id, argv[0], argv[1]);
	else if ((code = check_recipients(p)) == MG_OK &&
	    (code = check_audit(p)) == MG_OK) {
		check_setup(p);
		line = out_escape(config);
		printf("%s: OK\n", line);
		free(line);
	}
	fflush(stdout);
	policy_free(p);
	return code;
}
