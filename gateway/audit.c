/*
 * audit.c — records through libaudit, or syslog (LOG_AUTHPRIV) with the
 * same text.  The kernel accepts user records even when no audit daemon
 * runs, and then they only reach the kernel log, where they are easily
 * lost: "no daemon" counts as "cannot write".
 */
#include <errno.h>
#include <fcntl.h>
#include <libaudit.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "gateway/audit.h"
#include "gateway/log.h"
#include "gateway/str.h"
#include "gateway/xmalloc.h"

static struct {
	enum policy_audit	 mode;
	bool			 required;
	bool			 configured;
	int			 fd;		/* netlink, or -1 */
	bool			 checked;	/* daemon looked for */
	bool			 daemon;
	bool			 told_fallback;
	bool			 syslog_open;
	int			(*hook)(const struct audit_rec *, const char *);
} st = { POLICY_AUDIT_AUDITD, false, false, -1, false, false, false, false,
    NULL };

void
audit_set_hook(int (*hook)(const struct audit_rec *, const char *))
{
	st.hook = hook;
}

void
audit_rec_init(struct audit_rec *r, enum audit_kind kind, const char *op,
    bool success)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->op = op;
	r->success = success;
	r->bytes_in = r->bytes_out = r->duration = r->rec_bytes = -1;
	r->grant_for = -1;
	r->ttl = -1;
}

void
audit_configure(enum policy_audit mode, bool required)
{
	st.mode = mode;
	st.required = required;
	st.configured = true;
}

static int
kind_type(enum audit_kind k)
{
	switch (k) {
	case AUDIT_KIND_LOGIN: return AUDIT_USER_AUTH;
	case AUDIT_KIND_ACCOUNT: return AUDIT_USER_ACCT;
	case AUDIT_KIND_COMMAND: return AUDIT_USER_CMD;
	case AUDIT_KIND_START: return AUDIT_USER_START;
	case AUDIT_KIND_END: return AUDIT_USER_END;
	case AUDIT_KIND_CHECKPOINT: return AUDIT_TRUSTED_APP;
	case AUDIT_KIND_POLICY: return AUDIT_USER_ERR;
	}
	return AUDIT_USER_ERR;
}

static const char *
kind_name(enum audit_kind k)
{
	switch (k) {
	case AUDIT_KIND_LOGIN: return "USER_AUTH";
	case AUDIT_KIND_ACCOUNT: return "USER_ACCT";
	case AUDIT_KIND_COMMAND: return "USER_CMD";
	case AUDIT_KIND_START: return "USER_START";
	case AUDIT_KIND_END: return "USER_END";
	case AUDIT_KIND_CHECKPOINT: return "TRUSTED_APP";
	case AUDIT_KIND_POLICY: return "USER_ERR";
	}
	return "USER_ERR";
}

static void
add_field(struct buf *b, const char *name, const char *value)
{
	char	*enc;

	if (value == NULL)
		return;
	if ((enc = audit_encode_nv_string(name, value, 0)) == NULL)
		fatal_msg("out of memory");
	buf_printf(b, " %s", enc);
	free(enc);
}

static void
add_num(struct buf *b, const char *name, long long v)
{
	if (v >= 0)
		buf_printf(b, " %s=%lld", name, v);
}

char *
audit_format(const struct audit_rec *r)
{
	struct buf	b = { 0 };

	buf_printf(&b, "op=%s", r->op);
	add_field(&b, "identity", r->identity);
	add_field(&b, "key", r->key);
	add_field(&b, "host", r->host);
	add_field(&b, "tmux_user", r->tmux_user);
	add_field(&b, "session", r->session);
	add_field(&b, "owner", r->owner);
	add_field(&b, "attach", r->attach);
	/* Not "mode": ausearch -i reads any field of that name as file bits. */
	add_field(&b, "attach_mode", r->mode);
	add_field(&b, "recording", r->recording);
	add_field(&b, "rec_hash", r->rec_hash);
	add_num(&b, "bytes_in", r->bytes_in);
	add_num(&b, "bytes_out", r->bytes_out);
	add_num(&b, "duration", r->duration);
	add_num(&b, "rec_bytes", r->rec_bytes);
	add_field(&b, "grant", r->grant);
	add_field(&b, "grant_action", r->grant_action);
	add_field(&b, "requester", r->requester);
	add_field(&b, "approver", r->approver);
	add_num(&b, "grant_for", r->grant_for);
	add_field(&b, "note", r->note);
	add_num(&b, "ttl", r->ttl);
	add_field(&b, "ref", r->ref);
	add_field(&b, "reason", r->reason);
	return buf_take(&b);
}

/*
 * Is an audit daemon registered with the kernel?  Asking the kernel
 * needs CAP_AUDIT_CONTROL, which a gateway account does not have: then
 * the daemon's pid file and a live process under that pid stand in.
 */
static bool
daemon_running(void)
{
	struct audit_reply	 rep;
	FILE			*fp;
	long			 pid = 0;

	if (audit_request_status(st.fd) > 0 &&
	    audit_get_reply(st.fd, &rep, GET_REPLY_BLOCKING, 0) > 0 &&
	    rep.type == AUDIT_GET)
		return rep.status->pid != 0;
	if ((fp = fopen("/run/auditd.pid", "re")) == NULL)
		return false;
	if (fscanf(fp, "%ld", &pid) != 1)
		pid = 0;
	fclose(fp);
	return pid > 1 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

static int
send_auditd(const struct audit_rec *r, const char *text, char *why,
    size_t whylen)
{
	if (st.fd == -1 && (st.fd = audit_open()) == -1) {
		snprintf(why, whylen, "cannot open the audit socket: %s",
		    strerror(errno));
		return -1;
	}
	if (!st.checked) {
		st.daemon = daemon_running();
		st.checked = true;
	}
	if (!st.daemon) {
		snprintf(why, whylen, "no audit daemon is running");
		return -1;
	}
	if (audit_log_user_message(st.fd, kind_type(r->kind), text, NULL, NULL,
	    NULL, r->success ? 1 : 0) <= 0) {
		snprintf(why, whylen, "the audit record was not accepted: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}

static void
send_syslog(const struct audit_rec *r, const char *text)
{
	if (!st.syslog_open) {
		openlog("muxgate", LOG_PID, LOG_AUTHPRIV);
		st.syslog_open = true;
	}
	syslog(LOG_NOTICE, "type=%s %s res=%s", kind_name(r->kind), text,
	    r->success ? "success" : "failed");
}

int
audit_ready(char *why, size_t whylen)
{
	if (st.hook != NULL || st.mode != POLICY_AUDIT_AUDITD ||
	    !st.required || !st.configured)
		return 0;
	if (st.fd == -1 && (st.fd = audit_open()) == -1) {
		snprintf(why, whylen, "cannot open the audit socket: %s",
		    strerror(errno));
		return -1;
	}
	/* Looked at again: the daemon may have stopped since the login. */
	st.daemon = daemon_running();
	st.checked = true;
	if (!st.daemon) {
		snprintf(why, whylen, "no audit daemon is running");
		return -1;
	}
	return 0;
}

int
audit_emit(const struct audit_rec *r)
{
	char	*text, why[256];
	int	 ret = 0;

	if (st.hook != NULL) {
		text = audit_format(r);
		ret = st.hook(r, text);
		free(text);
		return ret;
	}
	if (st.mode == POLICY_AUDIT_NONE)
		return 0;
	text = audit_format(r);
	if (st.mode == POLICY_AUDIT_SYSLOG)
		send_syslog(r, text);
	else if (send_auditd(r, text, why, sizeof(why)) == -1) {
		if (st.required && st.configured) {
			/* A refusal's own record: its caller reports the refusal. */
			if (r->success)
				error_msg("refused: audit_required is set and %s",
				    why);
			ret = -1;
		} else {
			if (!st.told_fallback) {
				st.told_fallback = true;
				if (!st.syslog_open) {
					openlog("muxgate", LOG_PID, LOG_AUTHPRIV);
					st.syslog_open = true;
				}
				syslog(LOG_WARNING, "audit log unavailable (%s): "
				    "writing records to syslog", why);
			}
			send_syslog(r, text);
		}
	}
	free(text);
	return ret;
}

/*
 * Does something listen on the local syslog socket?  syslog(3) sends
 * there and cannot tell when nobody does; connect as it would.
 */
static bool
syslog_listening(void)
{
	static const int	 types[] = { SOCK_DGRAM, SOCK_STREAM };
	struct sockaddr_un	 sun;
	size_t			 i;
	int			 fd, ok;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", _PATH_LOG) >=
	    (int)sizeof(sun.sun_path))
		return false;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if ((fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0)) == -1)
			return false;
		ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
		if (!ok && errno == EPROTOTYPE) {
			(void)close(fd);
			continue;
		}
		(void)close(fd);
		return ok;
	}
	return false;
}

enum audit_reach
audit_probe(enum policy_audit mode, bool required, char *why,
    size_t whylen)
{
	if (mode == POLICY_AUDIT_NONE)
		return AUDIT_REACH_OK;
	if (mode == POLICY_AUDIT_SYSLOG) {
		if (syslog_listening())
			return AUDIT_REACH_OK;
		snprintf(why, whylen, "gateway.audit is syslog and nothing "
		    "listens on %s", _PATH_LOG);
		return AUDIT_REACH_NOTHING;
	}
	if (st.fd == -1 && (st.fd = audit_open()) == -1)
		snprintf(why, whylen, "cannot open the audit socket: %s",
		    strerror(errno));
	else if (!daemon_running())
		snprintf(why, whylen, "no audit daemon is running");
	else
		return AUDIT_REACH_OK;
	if (required)
		return AUDIT_REACH_REFUSED;
	if (syslog_listening())
		return AUDIT_REACH_OK;
	/* The fallback would be lost too. */
	if (strlen(why) + 1 < whylen)
		snprintf(why + strlen(why), whylen - strlen(why), " and "
		    "nothing listens on %s", _PATH_LOG);
	return AUDIT_REACH_NOTHING;
}
