/*
 * attach.c — the exec of attach and watch, once cmd_run has parsed the
 * target, asked the policy, checked the terminal and found the session:
 * the caps, the recording, the tmux client on its terminal (through the
 * transport), the relay, and the cleanup, which happens on every path
 * out.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "gateway/attach.h"
#include "gateway/audit.h"
#include "gateway/cmd.h"
#include "gateway/exitcode.h"
#include "gateway/grant.h"
#include "gateway/identity.h"
#include "gateway/log.h"
#include "gateway/output.h"
#include "gateway/record.h"
#include "gateway/relay.h"
#include "gateway/seal.h"
#include "gateway/session.h"
#include "gateway/slots.h"
#include "gateway/state.h"
#include "gateway/terminate.h"
#include "gateway/transport.h"
#include "gateway/xmalloc.h"
#include "util/stamp.h"

struct attach {
	struct gw			*gw;
	struct cmd_req			*req;
	const struct policy_host	*host;
	const struct target		*t;
	bool				 readonly;
	char				 id[17];
	struct slot			 slot;
	struct recorder			*rec;
	struct winsize			 ws;
	struct relay_stats		 st;	/* how the relay ended */
	bool				 ended;	/* it ran: USER_END is due */
	struct state			*state;	/* termination requests */
	uint64_t			 cookie;	/* state_changed()'s */
	struct stat			 seen;	/* the policy last checked */
	/* The grant the attach was allowed by, if any (access.h). */
	struct grant			 grant;
	struct policy_grant		 pgrant;	/* the same */
	uint64_t			 grant_cookie;
};

static int
take_slot(struct attach *a)
{
	const struct policy_gateway	*g = policy_gateway(a->gw->policy);
	struct slot_info		 info;
	char				 err[256];

	memset(&info, 0, sizeof(info));
	info.attach_id = a->id;
	info.identity = policy_identity_name(a->gw->id);
	info.mode = a->readonly ? "watch" : "attach";
	info.host = a->t->host;
	info.user = a->t->user;
	info.session = a->t->session;
	info.since = (long long)time(NULL);
	switch (slots_acquire(g->state, g->attaches_per_identity,
	    g->attaches_total, &info, &a->slot, err, sizeof(err))) {
	case SLOTS_OK:
		return MG_OK;
	case SLOTS_FULL:
		return cmd_fail(a->gw, a->req, CMD_R_LIMIT, "attach refused: %s",
		    err);
	default:
		return cmd_fail(a->gw, a->req, CMD_R_ERROR, "attach refused: %s",
		    err);
	}
}

/* The auditors' public keys of gateway.recording_recipients, into M. */
static int
load_recipients(const struct policy_gateway *g, struct record_meta *m,
    char *err, size_t errlen)
{
	struct seal_pub	*v;
	char		 why[256];
	size_t		 i;

	m->recipients = NULL;
	m->nrecipients = 0;
	if (g->nrecording_recipients == 0)
		return 0;
	v = xcalloc(g->nrecording_recipients, sizeof(*v));
	for (i = 0; i < g->nrecording_recipients; i++) {
		if (seal_pub_load(g->recording_recipients[i], &v[i], why,
		    sizeof(why)) == -1) {
			snprintf(err, errlen, "gateway.recording_recipients: %s",
			    why);
			free(v);
			return -1;
		}
	}
	m->recipients = v;
	m->nrecipients = g->nrecording_recipients;
	return 0;
}

/* gateway.recording.mask_input, as the recorder takes it. */
static enum secretmask_mode
mask_mode(enum policy_mask_input m)
{
	switch (m) {
	case POLICY_MASK_NONE: return SECRETMASK_NONE;
	case POLICY_MASK_ALL: return SECRETMASK_ALL;
	case POLICY_MASK_PROMPTS: break;
	}
	return SECRETMASK_PROMPTS;
}

static int
open_recording(struct attach *a)
{
	const struct policy_gateway	*g = policy_gateway(a->gw->policy);
	struct record_meta		 m;
	char				 err[512];
	const char			*term = getenv("TERM");

	if (record_space_ok(g->recordings, g->recording_min_free, err,
	    sizeof(err)) == -1)
		return cmd_fail(a->gw, a->req, CMD_R_RECORDING, "attach "
		    "refused: %s", err);
	memset(&m, 0, sizeof(m));
	m.attach_id = a->id;
	m.identity = policy_identity_name(a->gw->id);
	m.key = a->gw->have_key ? a->gw->key_fp : NULL;
	m.host = a->t->host;
	m.tmux_user = a->t->user;
	m.session = a->t->session;
	m.mode = a->readonly ? "watch" : "attach";
	m.client = a->gw->client[0] != '\0' ? a->gw->client : NULL;
	m.term = term != NULL ? term : "xterm";
	m.cols = a->ws.ws_col;
	m.rows = a->ws.ws_row;
	m.timestamp = (long long)time(NULL);
	m.mask = mask_mode(g->mask_input);
	m.secret_prompts = g->secret_prompts;
	m.nsecret_prompts = g->nsecret_prompts;
	/* Never plain when sealing is asked for: no recipients, no file. */
	if (load_recipients(g, &m, err, sizeof(err)) == 0)
		a->rec = record_open(g->recordings, &m, g->recording_max, err,
		    sizeof(err));
	free((void *)m.recipients);
	if (a->rec != NULL) {
		record_set_min_free(a->rec, g->recording_min_free);
		return MG_OK;
	}
	if (g->recording_required)
		return cmd_fail(a->gw, a->req, CMD_R_RECORDING, "attach "
		    "refused: recording: %s", err);
	error_msg("warning: attaching without a recording: %s", err);
	return MG_OK;
}

/*
 * Raw mode on the user's terminal for the relay; restored by
 * restore_mode().  The signals that end the relay are held from here to
 * the restore, so that none of them can leave the terminal raw (the relay
 * takes them through its signalfd; the shell's handlers see what is left
 * once the terminal is back).
 */
static int
raw_mode(struct termios *saved, sigset_t *oldmask)
{
	struct termios	raw;
	sigset_t	set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	if (sigprocmask(SIG_BLOCK, &set, oldmask) == -1)
		return -1;
	if (tcgetattr(STDIN_FILENO, saved) == -1)
		goto fail;
	raw = *saved;
	cfmakeraw(&raw);
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == -1)
		goto fail;
	return 0;
fail:
	(void)sigprocmask(SIG_SETMASK, oldmask, NULL);
	return -1;
}

/*
 * Exactly the settings from before the attach; TCSADRAIN: tmux's last
 * words ("[detached ...]") go out first, and what the user typed ahead
 * for the menu is kept.
 */
static void
restore_mode(const struct termios *saved, const sigset_t *oldmask)
{
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, saved) == -1)
		error_msg("cannot restore the terminal mode: %s",
		    strerror(errno));
	(void)sigprocmask(SIG_SETMASK, oldmask, NULL);
}

static void
report_end(struct attach *a, const struct relay_stats *st)
{
	switch (st->end) {
	case RELAY_DETACH:
		break;	/* tmux said "[detached]" itself */
	case RELAY_ESCAPE:
		error_msg("attach to %s@%s:%s ended (escape key)", a->t->user,
		    a->t->host, a->t->session);
		break;
	default:
		error_msg("attach to %s@%s:%s ended: %s", a->t->user, a->t->host,
		    a->t->session, st->detail);
	}
}

static const char *
attach_op(enum audit_kind kind)
{
	switch (kind) {
	case AUDIT_KIND_START: return "muxgate-attach-start";
	case AUDIT_KIND_CHECKPOINT: return "muxgate-attach-checkpoint";
	default: return "muxgate-attach-end";
	}
}

/*
 * A record of the attach: its start, a checkpoint (SECONDS in), or its
 * end (ST).  Each carries what the recording held at that moment, so
 * that `muxgate verify` can tell an intact file from a cut or changed
 * one.
 */
static int
audit_attach(struct attach *a, enum audit_kind kind, bool ok,
    const struct relay_stats *st, long long seconds)
{
	struct audit_rec	r;
	struct record_digest	d;

	audit_rec_init(&r, kind, attach_op(kind), ok);
	r.identity = policy_identity_name(a->gw->id);
	r.key = a->gw->have_key ? a->gw->key_fp : NULL;
	r.host = a->t->host;
	r.tmux_user = a->t->user;
	r.session = a->t->session;
	r.attach = a->id;
	r.mode = a->readonly ? "watch" : "attach";
	r.grant = a->req->grant[0] != '\0' ? a->req->grant : NULL;
	r.recording = a->rec != NULL ? record_path(a->rec) : "none";
	if (a->rec != NULL) {
		record_digest(a->rec, &d);
		r.rec_hash = d.hash;
		r.rec_bytes = (long long)d.bytes;
	}
	if (st != NULL) {
		r.bytes_in = (long long)st->bytes_in;
		r.bytes_out = (long long)st->bytes_out;
		r.duration = (long long)st->seconds;
		r.reason = relay_end_name(st->end);
	} else if (kind == AUDIT_KIND_CHECKPOINT)
		r.duration = seconds;
	return audit_emit(&r);
}

/*
 * Does the policy, if it changed, still let this identity do this?  A
 * policy that no longer loads ends the attach: nothing can say it may
 * go on.  The policy the shell holds is not replaced here: the attach
 * holds pointers into it.
 */
static bool
revoked(struct attach *a, char *why, size_t whylen)
{
	const struct policy_identity	*id;
	struct policy_failure		 f;
	struct policy_verdict		 v;
	struct policy			*p;
	struct stat			 st;
	const char			*reason;
	char				 text[256];
	bool				 gone;

	if (a->gw->config == NULL ||
	    (stat(a->gw->config, &st) == 0 && stamp_same(&st, &a->seen)))
		return false;
	if ((p = policy_load_gateway(a->gw->config, &f)) == NULL) {
		snprintf(why, whylen, "access ended: the policy cannot be "
		    "used: %s", f.reason);
		policy_failure_free(&f);
		return true;
	}
	if (identity_still(a->gw, p, &id, text, sizeof(text), &reason) == -1)
		gone = true;
	else {
		policy_decide_grants(p, id, a->readonly ? POLICY_WATCH :
		    POLICY_ATTACH, a->t->host, a->t->user, a->t->session,
		    &a->pgrant, a->grant.id[0] != '\0' ? 1 : 0, &v);
		if ((gone = !v.allow))
			snprintf(text, sizeof(text), "%s on %s@%s is no longer "
			    "allowed", a->readonly ? "watch" : "attach",
			    a->t->user, a->t->host);
	}
	policy_free(p);
	if (gone)
		snprintf(why, whylen, "access ended: %s", text);
	else
		a->seen = st;
	return gone;
}

/* Follow grant G from now on (A's copy of it is replaced). */
static void
follow_grant(struct attach *a, struct grant *g)
{
	grant_free(&a->grant);
	a->grant = *g;
	memset(g, 0, sizeof(*g));
	a->pgrant.id = a->grant.id;
	a->pgrant.action = a->grant.action;
	a->pgrant.host = a->grant.host;
	a->pgrant.user = a->grant.user;
	a->pgrant.session = a->grant.session;
}

/*
 * The grant the attach followed has ended: does another grant of the
 * identity in force now allow it?  Then the attach follows that one.
 */
static bool
another_grant(struct attach *a)
{
	struct grant_list	 mine;
	struct policy_grant	*pg;
	struct policy_verdict	 v;
	struct grant		 g;
	char			 err[256];
	size_t			 n;
	bool			 found = false;

	if (grants_of(a->state, policy_identity_name(a->gw->id), &mine, err,
	    sizeof(err)) == -1)
		return false;
	grant_in_force(&mine, (long long)time(NULL), &pg, &n);
	policy_decide_grants(a->gw->policy, a->gw->id, a->readonly ?
	    POLICY_WATCH : POLICY_ATTACH, a->t->host, a->t->user,
	    a->t->session, pg, n, &v);
	if (v.allow && v.grant != NULL && grants_find(a->state, v.grant->id,
	    &g, err, sizeof(err)) == STATE_OK) {
		found = grant_status_at(&g, (long long)time(NULL)) ==
		    GRANT_ACTIVE;
		if (found)
			follow_grant(a, &g);
		grant_free(&g);
	}
	free(pg);
	grant_list_free(&mine);
	return found;
}

/*
 * Is the grant the attach depends on still active?  Its end is known;
 * a revocation is a change of its entry.  When it has ended, the attach
 * goes on under another grant in force that allows it, if there is one;
 * a grant that can no longer be read ends it: nothing says it may go on.
 */
static bool
grant_ended(struct attach *a, char *why, size_t whylen)
{
	struct grant	g;
	char		err[256], *by;
	int		r;

	if (a->grant.id[0] == '\0')
		return false;
	if ((long long)time(NULL) >= a->grant.ends) {
		if (another_grant(a))
			return false;
		snprintf(why, whylen, "access ended: grant %s expired",
		    a->grant.id);
		return true;
	}
	if ((r = state_changed(a->state, "grant", &a->grant_cookie, err,
	    sizeof(err))) == 0)
		return false;
	if (r == -1 || (r = grants_find(a->state, a->grant.id, &g, err,
	    sizeof(err))) != STATE_OK) {
		snprintf(why, whylen, "access ended: grant %s cannot be read: "
		    "%s", a->grant.id, r == STATE_ABSENT ? "gone" : err);
		return true;
	}
	if (grant_status_at(&g, (long long)time(NULL)) == GRANT_ACTIVE) {
		grant_free(&g);
		return false;
	}
	if (another_grant(a)) {
		grant_free(&g);
		return false;
	}
	by = out_escape(g.by != NULL ? g.by : "?");
	snprintf(why, whylen, "access ended: grant %s %s%s%s", g.id,
	    grant_status_name(grant_status_at(&g, (long long)time(NULL))),
	    g.by != NULL ? " by " : "", g.by != NULL ? by : "");
	free(by);
	grant_free(&g);
	return true;
}

/* The relay's call, every second: may the attach go on? */
static bool
recheck(void *arg, enum relay_end *end, char *why, size_t whylen)
{
	struct attach	*a = arg;

	if (grant_ended(a, why, whylen) || revoked(a, why, whylen)) {
		*end = RELAY_REVOKED;
		return true;
	}
	if (a->state != NULL &&
	    terminate_pending(a->state, a->id, &a->cookie, why, whylen) == 1) {
		*end = RELAY_TERMINATED;
		return true;
	}
	return false;
}

/* The relay's call, every gateway.recording_checkpoint. */
static int
checkpoint(void *arg, unsigned long long usec)
{
	struct attach	*a = arg;

	return audit_attach(a, AUDIT_KIND_CHECKPOINT, true, NULL,
	    (long long)(usec / 1000000));
}

/*
 * The tmux client is running: say so in the trail before the user sees
 * a byte of the session.  Without the records (and records required)
 * the attach ends here.
 */
static int
begin(struct attach *a)
{
	if (cmd_begun(a->gw, a->req) != MG_OK ||
	    audit_attach(a, AUDIT_KIND_START, true, NULL, 0) == -1)
		return MG_FAIL;
	return MG_OK;
}

static int
relay(struct attach *a)
{
	const struct policy_gateway	*g = policy_gateway(a->gw->policy);
	struct transport_result		 r;
	struct transport_pty		 pty;
	struct argv			 args = { 0 };
	struct relay_opts		 o;
	struct relay_stats		 st;
	struct termios			 saved;
	sigset_t			 oldmask;
	int				 code = MG_OK;

	tmux_args_attach(&args, a->t->session, a->readonly);
	code = transport_run_pty(a->gw->policy, a->host, a->t->user, &args,
	    &a->ws, &pty, &r);
	argv_free(&args);
	if (code == -1) {
		code = cmd_fail(a->gw, a->req, CMD_R_HOST_ERROR, "%s@%s: %s",
		    a->t->user, a->t->host, r.message != NULL ? r.message :
		    "cannot attach");
		transport_result_free(&r);
		return code;
	}
	if (begin(a) != MG_OK) {
		(void)transport_pty_end(&pty);
		return MG_FAIL;
	}
	if (raw_mode(&saved, &oldmask) == -1) {
		(void)transport_pty_end(&pty);
		error_msg("attach: cannot set the terminal mode");
		a->st.end = RELAY_ERROR;
		a->ended = true;
		return MG_FAIL;
	}
	memset(&o, 0, sizeof(o));
	o.in = STDIN_FILENO;
	o.out = STDOUT_FILENO;
	o.master = pty.master;
	o.child = pty.pid;
	o.readonly = a->readonly;
	/*
	 * A watcher gets the full filter; a writer's terminal loses only
	 * OSC 52 (the session setting or reading its clipboard), unless
	 * the policy allows it.
	 */
	if (a->readonly)
		o.filter = TERMFILTER_WATCH;
	else
		o.filter = g->allow_clipboard ? TERMFILTER_NONE :
		    TERMFILTER_WRITER;
	o.escape = g->escape_key;
	o.lifetime = g->attach_lifetime;
	o.idle = g->idle_timeout;
	o.rec = a->rec;
	o.rec_required = g->recording_required;
	o.checkpoint = g->recording_checkpoint;
	o.on_checkpoint = checkpoint;
	o.on_recheck = recheck;
	o.arg = a;
	relay_run(&o, &st);
	(void)transport_pty_end(&pty);
	restore_mode(&saved, &oldmask);
	report_end(a, &st);
	if (st.rec_stopped)
		error_msg("warning: the attach went on unrecorded: %s",
		    record_error(a->rec));
	a->st = st;
	a->ended = true;
	if (st.end != RELAY_DETACH && st.end != RELAY_ESCAPE)
		code = MG_FAIL;
	if (st.end == RELAY_SIGNAL || st.end == RELAY_HANGUP)
		a->gw->gone = true;
	return code;
}

/*
 * The recording is completed before USER_END is written, so that the
 * record holds the hash and length of the whole file.
 */
static int
end(struct attach *a, int code)
{
	bool	ok = true, ended;

	if (a->rec != NULL && record_finish(a->rec) == -1)
		ok = false;
	if (a->ended) {
		ended = a->st.end == RELAY_DETACH || a->st.end == RELAY_ESCAPE;
		(void)audit_attach(a, AUDIT_KIND_END, ended, &a->st, 0);
	}
	if (a->rec != NULL && record_close(a->rec) == -1)
		ok = false;
	a->rec = NULL;
	if (!ok && code == MG_OK &&
	    policy_gateway(a->gw->policy)->recording_required) {
		error_msg("the recording could not be completed");
		code = MG_FAIL;
	}
	return code;
}

/*
 * Where a termination request for this attach would appear.  Without it
 * the attach could not be ended by muxgate terminate: refused.
 */
static int
open_state(struct attach *a)
{
	struct grant	g;
	char		err[256];

	a->seen = a->gw->config_st;
	/* Requests made before this attach existed are not for it. */
	if ((a->state = state_open(policy_gateway(a->gw->policy)->state, err,
	    sizeof(err))) == NULL ||
	    state_changed(a->state, "terminate", &a->cookie, err,
	    sizeof(err)) == -1 ||
	    state_changed(a->state, "grant", &a->grant_cookie, err,
	    sizeof(err)) == -1)
		return cmd_fail(a->gw, a->req, CMD_R_ERROR, "attach refused: "
		    "the state: %s", err);
	if (a->req->grant[0] == '\0')
		return MG_OK;
	/* The grant as it is now: it was in force a moment ago. */
	if (grants_find(a->state, a->req->grant, &g, err,
	    sizeof(err)) != STATE_OK ||
	    grant_status_at(&g, (long long)time(NULL)) != GRANT_ACTIVE) {
		grant_free(&g);
		return cmd_fail(a->gw, a->req, CMD_R_DENIED, "attach refused: "
		    "grant %s is no longer in force", a->req->grant);
	}
	follow_grant(a, &g);
	return MG_OK;
}

static int
run(struct attach *a)
{
	unsigned char	raw[8];
	int		code;

	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &a->ws) == -1 ||
	    !relay_winsize(&a->ws)) {
		memset(&a->ws, 0, sizeof(a->ws));
		a->ws.ws_col = 80;
		a->ws.ws_row = 24;
	}
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(a->id, sizeof(a->id), raw, sizeof(raw));
	if ((code = take_slot(a)) != MG_OK)
		return code;
	if ((code = open_state(a)) == MG_OK &&
	    (code = open_recording(a)) == MG_OK)
		code = relay(a);
	code = end(a, code);
	grant_free(&a->grant);
	state_close(a->state);
	slots_release(&a->slot);
	return code;
}

int
attach_run(struct gw *gw, struct cmd_req *req, bool readonly)
{
	struct attach	a;

	memset(&a, 0, sizeof(a));
	a.gw = gw;
	a.req = req;
	a.t = &req->t;
	a.host = req->host;
	a.readonly = readonly;
	a.slot.fd_total = a.slot.fd_ident = -1;
	gw->attached = true;
	return run(&a);
}
