/*
 * test_cmd.c — the request path: every command entry, run through
 * cmd_run_line() by an identity the policy allows and by one it does
 * not, with the transport faked at the spawn boundary (fake_spawn.c) and
 * the audit trail caught by audit_set_hook().  For each: the exit code,
 * exactly one error line on a refusal, exactly one USER_CMD record with
 * the right res= and reason, and nothing started on a denial.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pty.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gateway/audit.h"
#include "gateway/access.h"
#include "gateway/cmd.h"
#include "gateway/exitcode.h"
#include "gateway/gw.h"
#include "gateway/slots.h"
#include "gateway/state.h"
#include "gateway/ttl.h"
#include "policy/policy.h"
#include "tests/unit/fake_spawn.h"
#include "tests/unit/unit.h"

#define FP(c) "[\"SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" c "\"]"

static char		 dir[] = "/tmp/mgt-unit-cmd-XXXXXX";
static const char	*me;		/* the tmux user: whoever runs the test */
static struct policy	*pol;

/* What the audit hook saw. */
static struct {
	int	commands;	/* USER_CMD records */
	int	others;		/* USER_START, USER_END */
	bool	success;
	char	reason[64];
	char	text[1024];
} seen;

static int
hook(const struct audit_rec *r, const char *text)
{
	if (r->kind != AUDIT_KIND_COMMAND) {
		seen.others++;
		return 0;
	}
	seen.commands++;
	seen.success = r->success;
	(void)snprintf(seen.reason, sizeof(seen.reason), "%s",
	    r->reason != NULL ? r->reason : "");
	(void)snprintf(seen.text, sizeof(seen.text), "%s", text);
	return 0;
}

/* A live attach of ops on s1, as an attach's relay holds it. */
static struct slot	live;

#define LIVE_ID	"00112233445566ff"

static int
live_attach(void)
{
	struct slot_info	 info;
	char			 err[256], *state;

	memset(&info, 0, sizeof(info));
	info.attach_id = LIVE_ID;
	info.identity = "ops";
	info.mode = "attach";
	info.host = "bastion";
	info.user = me;
	info.session = "s1";
	info.since = 1;
	if (asprintf(&state, "%s/state", dir) == -1)
		return -1;
	(void)mkdir(state, 0700);
	live.fd_total = live.fd_ident = -1;
	if (slots_acquire(state, 10, 10, &info, &live, err,
	    sizeof(err)) != SLOTS_OK) {
		print_error("slots_acquire: %s\n", err);
		free(state);
		return -1;
	}
	free(state);
	return 0;
}

static int
setup(void **state)
{
	struct passwd	*pw = getpwuid(geteuid());
	char		*text;

	if (pw == NULL || mkdtemp(dir) == NULL)
		return -1;
	me = strdup(pw->pw_name);
	if (asprintf(&text,
	    "gateway:\n"
	    "  state: %s/state\n"
	    "  recordings: %s/rec\n"
	    "  audit: none\n"
	    "  limits: {recording_min_free: 0%%}\n"
	    "hosts:\n"
	    "  bastion: {local: true, tmux_users: [%s]}\n"
	    "  web: {address: web.example, ssh_user: mg, tmux_users: [app]}\n"
	    "roles:\n"
	    "  all:\n"
	    "    allow:\n"
	    "      - {hosts: [bastion], tmux_users: \"*\", actions: [list, "
	    "watch, attach, create, kill]}\n"
	    "    request:\n"
	    "      - {hosts: [web], tmux_users: \"*\", actions: [attach], "
	    "max_duration: 1h, approvers: [webonly]}\n"
	    "  webonly:\n"
	    "    allow:\n"
	    "      - {hosts: [web], tmux_users: \"*\", actions: [list]}\n"
	    "  own:\n"
	    "    allow:\n"
	    "      - {hosts: [bastion], tmux_users: \"*\", actions: [list, "
	    "kill-own]}\n"
	    "  capped:\n"
	    "    allow:\n"
	    "      - {hosts: [bastion], tmux_users: \"*\", actions: [list, "
	    "create], max_session_ttl: 1h}\n"
	    "identities:\n"
	    "  ops: {keys: " FP("A") ", roles: [all]}\n"
	    "  outsider: {keys: " FP("B") ", roles: [webonly]}\n"
	    "  minder: {keys: " FP("C") ", roles: [own]}\n"
	    "  capped: {keys: " FP("D") ", roles: [capped]}\n",
	    dir, dir, me) == -1)
		return -1;
	pol = unit_policy(text);
	free(text);
	if (pol == NULL)
		return -1;
	/* s1 was created by ops. */
	fake_spawn.sessions = "100\t200\t1\t0\tops\ts1\n";
	audit_set_hook(hook);
	return live_attach();
}

static int
teardown(void **state)
{
	audit_set_hook(NULL);
	slots_release(&live);
	policy_free(pol);
	free((char *)me);
	return unit_rmtree(dir);
}

/* A file that takes one stream of ours for the length of a command. */
struct capture {
	int	fd;		/* the stream's descriptor */
	int	saved;
	FILE	*fp;
};

static void
capture_start(struct capture *c, int fd)
{
	fflush(NULL);
	c->fd = fd;
	c->fp = tmpfile();
	assert_non_null(c->fp);
	c->saved = dup(fd);
	assert_true(c->saved != -1);
	assert_true(dup2(fileno(c->fp), fd) != -1);
}

/* The number of lines written meanwhile. */
static int
capture_end(struct capture *c)
{
	int	ch, lines = 0;

	fflush(NULL);
	assert_true(dup2(c->saved, c->fd) != -1);
	close(c->saved);
	rewind(c->fp);
	while ((ch = fgetc(c->fp)) != EOF)
		if (ch == '\n')
			lines++;
	fclose(c->fp);
	return lines;
}

struct row {
	const char	*line;		/* %s: the tmux user */
	const char	*who;
	int		 code;
	int		 res;		/* 1 success, 0 failed, -1 not recorded */
	const char	*reason;	/* of a failure */
	int		 started;	/* children, or -1: any number */
	int		 errors;	/* error lines */
};

/* Run one row as the identity WHO, without a terminal. */
static void
run_row(const struct row *r, bool tty)
{
	struct gw	 gw;
	struct capture	 out, err;
	char		 line[256];
	bool		 leave;
	int		 code, errors;

	memset(&gw, 0, sizeof(gw));
	gw.policy = pol;
	gw.id = policy_identity_find(pol, r->who);
	assert_non_null(gw.id);
	gw.mode = GW_BATCH;
	gw.tty = tty;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	/* The rows are this file's own constants, with one %s at most. */
	(void)snprintf(line, sizeof(line), r->line, me);
#pragma GCC diagnostic pop
	memset(&seen, 0, sizeof(seen));
	fake_spawn_reset();
	if (!tty)
		capture_start(&out, STDOUT_FILENO);
	capture_start(&err, STDERR_FILENO);
	code = cmd_run_line(&gw, line, &leave);
	access_free(&gw);
	errors = capture_end(&err);
	if (!tty)
		(void)capture_end(&out);
	print_message("%-36s %-8s -> %d, %d record(s) %s %s, %d started, "
	    "%d error line(s)\n", line, r->who, code, seen.commands,
	    seen.success ? "success" : "failed", seen.reason,
	    fake_spawn.started, errors);
	assert_int_equal(code, r->code);
	assert_int_equal(errors, r->errors);
	if (r->res == -1)
		assert_int_equal(seen.commands, 0);
	else {
		assert_int_equal(seen.commands, 1);
		assert_int_equal(seen.success, r->res == 1);
		assert_string_equal(seen.reason, r->reason != NULL ?
		    r->reason : "");
	}
	if (r->started != -1)
		assert_int_equal(fake_spawn.started, r->started);
}

/*
 * Every command by an identity allowed it ("ops") and one not allowed
 * ("outsider", who may only list app@web); for kill also by one that may
 * kill only its own sessions ("minder").
 */
static const struct row rows[] = {
	{ "ls", "ops", MG_OK, 1, NULL, 1, 0 },
	{ "ls", "outsider", MG_OK, 1, NULL, 1, 0 },
	{ "ls %s@bastion:s1", "ops", MG_OK, 1, NULL, 1, 0 },
	{ "ls %s@bastion:s1", "outsider", MG_DENIED, 0, "permission-denied",
	    0, 1 },
	{ "ls bastion", "outsider", MG_DENIED, 0, "permission-denied", 0, 1 },
	{ "ls %s@bastion:gone", "ops", MG_NOSESSION, 0, "no-such-session", 1,
	    1 },
	{ "hosts", "ops", MG_OK, 1, NULL, 1, 0 },
	{ "hosts", "outsider", MG_OK, 1, NULL, 1, 0 },
	{ "whoami", "ops", MG_OK, 1, NULL, 0, 0 },
	{ "whoami", "outsider", MG_OK, 1, NULL, 0, 0 },
	{ "new %s@bastion:n1", "ops", MG_OK, 1, NULL, 1, 0 },
	{ "new %s@bastion:n1", "outsider", MG_DENIED, 0, "permission-denied",
	    0, 1 },
	{ "new %s@bastion:n1 -- -c x", "ops", MG_USAGE, 0, "usage", 0, 1 },
	{ "new %s@bastion:a+b", "ops", MG_USAGE, 0, "bad-target", 0, 1 },
	/* --ttl: a duration, once, more than 0, within the rule's max. */
	{ "new %s@bastion:n1 --ttl 5x", "ops", MG_USAGE, 0, "usage", 0, 1 },
	{ "new %s@bastion:n1 --ttl 0", "ops", MG_USAGE, 0, "usage", 0, 1 },
	{ "new %s@bastion:n1 --ttl 0s", "ops", MG_USAGE, 0, "usage", 0, 1 },
	{ "new %s@bastion:n1 --ttl", "ops", MG_USAGE, 0, "usage", 0, 1 },
	{ "new %s@bastion:n1 --ttl 5m --ttl 5m", "ops", MG_USAGE, 0, "usage",
	    0, 1 },
	{ "new %s@bastion:n1 --ttl 2h", "capped", MG_DENIED, 0,
	    "permission-denied", 0, 1 },
	{ "new %s@bastion:n1 --ttl 5m", "outsider", MG_DENIED, 0,
	    "permission-denied", 0, 1 },
	{ "ls --ttl 5m", "ops", MG_USAGE, 0, "usage", 0, 1 },
	{ "kill %s@bastion:s1 --yes --ttl 5m", "ops", MG_USAGE, 0, "usage", 0,
	    1 },
	{ "kill %s@bastion:s1 --yes", "ops", MG_OK, 1, NULL, 2, 0 },
	{ "kill %s@bastion:s1 --yes", "outsider", MG_DENIED, 0,
	    "permission-denied", 0, 1 },
	{ "kill %s@bastion:s1 --yes", "minder", MG_DENIED, 0, "not-owner", 1,
	    1 },
	{ "kill %s@bastion:gone --yes", "ops", MG_NOSESSION, 0,
	    "no-such-session", 1, 1 },
	{ "kill %s@bastion:s1", "ops", MG_USAGE, 0, "usage", 0, 1 },
	{ "attach %s@bastion:s1", "ops", MG_USAGE, 0, "no-terminal", 0, 1 },
	{ "attach %s@bastion:s1", "outsider", MG_DENIED, 0,
	    "permission-denied", 0, 1 },
	{ "watch %s@bastion:s1", "ops", MG_USAGE, 0, "no-terminal", 0, 1 },
	{ "watch %s@bastion:s1", "outsider", MG_DENIED, 0,
	    "permission-denied", 0, 1 },
	{ "watch %s@bastion:s1", "minder", MG_DENIED, 0, "permission-denied",
	    0, 1 },
	/* The allowed case waits for a relay: tests/e2e/test_terminate.py. */
	{ "terminate " LIVE_ID, "outsider", MG_DENIED, 0,
	    "permission-denied", 0, 1 },
	{ "terminate " LIVE_ID, "minder", MG_DENIED, 0, "permission-denied",
	    0, 1 },
	{ "terminate 0123456789abcdef", "ops", MG_NOSESSION, 0,
	    "no-such-session", 0, 1 },
	{ "terminate ../x", "ops", MG_USAGE, 0, "bad-target", 0, 1 },
	{ "terminate " LIVE_ID " --reason", "ops", MG_USAGE, 0, "usage", 0,
	    1 },
	/* The whole of a grant's life: tests/unit/test_grant.c, e2e. */
	{ "request attach app@web:x --for 1h --reason r", "ops", MG_OK, 1,
	    NULL, 0, 0 },
	{ "request attach app@web:x --for 1h", "ops", MG_USAGE, 0, "usage", 0,
	    1 },
	{ "request attach app@web:x --for 2h --reason r", "ops", MG_DENIED, 0,
	    "permission-denied", 0, 1 },
	{ "request attach app@web:x --for 1x --reason r", "ops", MG_USAGE, 0,
	    "usage", 0, 1 },
	{ "request attach app@web:x --reason r", "ops", MG_USAGE, 0, "usage",
	    0, 1 },
	{ "request attach %s@bastion:s1 --for 1h --reason r", "ops", MG_USAGE,
	    0, "usage", 0, 1 },
	{ "request frob app@web:x --for 1h --reason r", "ops", MG_USAGE, 0,
	    "usage", 0, 1 },
	/* A tab passes the tokenizer in quotes, but no grant may hold it. */
	{ "request attach 'app@web:a\tb' --for 1h --reason r", "ops",
	    MG_USAGE, 0, "bad-target", 0, 1 },
	{ "request attach app@web:x --for 1h --reason r", "outsider",
	    MG_DENIED, 0, "permission-denied", 0, 1 },
	{ "grants", "ops", MG_OK, 1, NULL, 0, 0 },
	{ "grants x", "outsider", MG_USAGE, 0, "usage", 0, 1 },
	{ "approve 0123456789abcdef", "ops", MG_NOSESSION, 0, "no-such-grant",
	    0, 1 },
	{ "approve ../x", "outsider", MG_USAGE, 0, "bad-target", 0, 1 },
	{ "deny 0123456789abcdef", "ops", MG_NOSESSION, 0, "no-such-grant", 0,
	    1 },
	{ "deny ../x", "outsider", MG_USAGE, 0, "bad-target", 0, 1 },
	{ "revoke 0123456789abcdef", "ops", MG_NOSESSION, 0, "no-such-grant",
	    0, 1 },
	{ "revoke", "outsider", MG_USAGE, 0, "usage", 0, 1 },
	{ "help", "ops", MG_OK, -1, NULL, 0, 0 },
	{ "help", "outsider", MG_OK, -1, NULL, 0, 0 },
	{ "exit", "ops", MG_OK, -1, NULL, 0, 0 },
	{ "exit", "outsider", MG_OK, -1, NULL, 0, 0 },
	{ "quit", "ops", MG_OK, -1, NULL, 0, 0 },
	{ "quit", "outsider", MG_OK, -1, NULL, 0, 0 },
	{ "frobnicate", "ops", MG_USAGE, 0, "unknown-command", 0, 1 },
	{ "ls; id", "ops", MG_USAGE, 0, "malformed", 0, 1 },
	{ "scp -f /etc/shadow", "ops", MG_USAGE, 0, "file-transfer", 0, 1 },
	{ "ls --bogus", "ops", MG_USAGE, 0, "usage", 0, 1 },
	{ "attach nohost", "ops", MG_USAGE, 0, "bad-target", 0, 1 },
	{ "attach %s@nohost:s1", "ops", MG_DENIED, 0, "permission-denied", 0,
	    1 },
};

static void
test_rows(void **state)
{
	size_t	i;

	for (i = 0; i < sizeof(rows) / sizeof(*rows); i++)
		run_row(&rows[i], false);
}

/* Each entry of the table is run above, allowed and refused. */
static void
test_every_entry_is_covered(void **state)
{
	const struct cmd_entry	*const *e;
	char			 word[64];
	size_t			 i, len;
	bool			 allowed, refused;

	for (e = cmd_table; *e != NULL; e++) {
		allowed = refused = false;
		for (i = 0; i < sizeof(rows) / sizeof(*rows); i++) {
			len = strcspn(rows[i].line, " ");
			(void)snprintf(word, sizeof(word), "%.*s", (int)len,
			    rows[i].line);
			if (strcmp(word, (*e)->name) != 0)
				continue;
			if (strcmp(rows[i].who, "ops") == 0)
				allowed = true;
			else
				refused = true;
		}
		if (!allowed || !refused)
			fail_msg("command %s is not run by both identities",
			    (*e)->name);
	}
}

/* Run R on a pseudo-terminal of our own, as ssh -t gives one. */
static void
run_on_terminal(const struct row *r)
{
	int	m, s, in, out;

	assert_int_equal(openpty(&m, &s, NULL, NULL, NULL), 0);
	fflush(NULL);
	in = dup(STDIN_FILENO);
	out = dup(STDOUT_FILENO);
	assert_true(dup2(s, STDIN_FILENO) != -1);
	assert_true(dup2(s, STDOUT_FILENO) != -1);
	run_row(r, true);
	fflush(NULL);
	assert_true(dup2(in, STDIN_FILENO) != -1);
	assert_true(dup2(out, STDOUT_FILENO) != -1);
	close(in);
	close(out);
	close(s);
	close(m);
}

/*
 * An attach on a terminal: one USER_CMD record, success, besides the
 * attach's own START and END, and the tmux client started once.
 */
static void
test_attach_on_a_terminal(void **state)
{
	static const struct row r = { "attach %s@bastion:s1", "ops", MG_OK, 1,
	    NULL, 2, 0 };

	run_on_terminal(&r);
	assert_int_equal(fake_spawn.attached, 1);
	assert_int_equal(seen.others, 2);	/* USER_START, USER_END */
}

/*
 * An attach to a session that is not there: refused with no-such-session
 * (it used to be recorded as a success), after looking, and nothing of
 * an attach began: no tmux client, no START or END record.
 */
static void
test_attach_to_nothing(void **state)
{
	static const struct row r = { "watch %s@bastion:gone", "ops",
	    MG_NOSESSION, 0, "no-such-session", 1, 1 };

	run_on_terminal(&r);
	assert_int_equal(fake_spawn.attached, 0);
	assert_int_equal(seen.others, 0);
}

/* The tag of session NAME of ours on bastion: its expiry and ttl. */
static bool
tag_of(const char *name, long long *expires, unsigned *ttl)
{
	struct state		*st;
	struct state_entry	 e;
	struct ttl_tag		 t;
	char			 key[TTL_KEY_LEN + 1], err[256], *sdir;
	bool			 found = false;

	assert_true(asprintf(&sdir, "%s/state", dir) != -1);
	st = state_open(sdir, err, sizeof(err));
	free(sdir);
	assert_non_null(st);
	ttl_key("bastion", me, name, key);
	if (state_get(st, key, &e, err, sizeof(err)) == STATE_OK) {
		assert_int_equal(ttl_decode(key, e.value, e.len, &t, err,
		    sizeof(err)), 0);
		*expires = t.expires;
		*ttl = t.ttl;
		ttl_tag_free(&t);
		state_entry_free(&e);
		found = true;
	}
	state_close(st);
	return found;
}

/*
 * new with a TTL: created, looked up for tmux's creation time, tagged
 * with it; the rule's max applies without --ttl, and the record has it.
 */
static void
test_new_with_ttl(void **state)
{
	static const struct row by_max = { "new %s@bastion:n2", "capped",
	    MG_OK, 1, NULL, 2, 0 };
	static const struct row by_option = { "new %s@bastion:n2 --ttl 10m",
	    "ops", MG_OK, 1, NULL, 2, 0 };
	static const struct row ended = { "new %s@bastion:n3 --ttl 30m",
	    "capped", MG_OK, 1, NULL, 2, 0 };
	const char	*saved = fake_spawn.sessions;
	char		 sessions[128];
	long long	 expires, created = (long long)time(NULL) - 5;
	unsigned	 ttl;

	/* Recent: a tag expired for long is gone from the state. */
	(void)snprintf(sessions, sizeof(sessions), "100\t200\t1\t0\tops\ts1\n"
	    "%lld\t%lld\t1\t0\tcapped\tn2\n", created, created);
	fake_spawn.sessions = sessions;
	run_row(&by_max, false);
	assert_non_null(strstr(seen.text, " ttl=3600"));
	assert_true(tag_of("n2", &expires, &ttl));
	assert_int_equal(expires, created + 3600);
	assert_int_equal(ttl, 3600);
	/* No max for ops: --ttl as asked, replacing the older tag. */
	run_row(&by_option, false);
	assert_non_null(strstr(seen.text, " ttl=600"));
	assert_true(tag_of("n2", &expires, &ttl));
	assert_int_equal(expires, created + 600);
	/* A session that has ended by the time it is looked up: no tag. */
	run_row(&ended, false);
	assert_false(tag_of("n3", &expires, &ttl));
	fake_spawn.sessions = saved;
}

/*
 * No session left running without its tag: when the tag cannot be
 * written (here the state directory is refused: others may write it),
 * the session just created is killed again and new fails.
 */
static void
test_new_untaggable_is_killed(void **state)
{
	static const struct row r = { "new %s@bastion:s1 --ttl 5m", "ops",
	    MG_FAIL, 0, "error", 3, 1 };
	char	*sdir;

	assert_true(asprintf(&sdir, "%s/state", dir) != -1);
	assert_int_equal(chmod(sdir, 0770), 0);
	run_row(&r, false);
	assert_int_equal(chmod(sdir, 0700), 0);
	free(sdir);
	assert_int_equal(fake_spawn.created, 1);
	assert_int_equal(fake_spawn.killed, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_every_entry_is_covered),
		cmocka_unit_test(test_attach_on_a_terminal),
		cmocka_unit_test(test_attach_to_nothing),
		cmocka_unit_test(test_new_with_ttl),
		cmocka_unit_test(test_new_untaggable_is_killed),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
