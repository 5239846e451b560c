/*
 * policy.h — the muxgate policy library: load, validate, decide.
 *
 * The library reads one YAML file and never spawns a process or prints.
 * Errors come back as "FILE:LINE:COLUMN: message" strings; the caller
 * decides how to show them.  struct policy is opaque; everything returned
 * by an accessor is owned by the policy and lives as long as it does.
 */
#ifndef MUXGATE_POLICY_H
#define MUXGATE_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#define POLICY_WUR __attribute__((warn_unused_result))

struct policy;
struct policy_host;
struct policy_identity;

/*
 * What a policy file may be, so that loading one is bounded whatever it
 * holds (gateway.yaml(5), LIMITS): its size; how deeply its lists and
 * mappings nest (the schema needs six levels); the length of one
 * scalar; and how much the aliases of the file may stand for in all,
 * counted as POLICY_NODE_WEIGHT for each list, mapping and scalar they
 * bring in again plus the length of each such scalar, since the schema
 * walks (and may copy) an aliased node once for every alias of it.  An
 * error list keeps POLICY_MAX_ERRORS messages, then says it stopped.
 */
#define POLICY_MAX_SIZE		(4 * 1024 * 1024)
#define POLICY_MAX_DEPTH	64
#define POLICY_MAX_SCALAR	(64 * 1024)
#define POLICY_MAX_ALIASED	(16 * 1024 * 1024)
#define POLICY_NODE_WEIGHT	32
#define POLICY_MAX_ERRORS	100
/* gateway.recording.secret_prompts: each costs up to a millisecond. */
#define POLICY_MAX_PROMPTS	64

/*
 * Error list: every message is "FILE:LINE:COLUMN: text".  TOTAL counts
 * every error, listed or not: past POLICY_MAX_ERRORS the list only says
 * that there were more.
 */
struct policy_errors {
	char	**msgs;
	size_t	  n;
	size_t	  total;
};
void	 policy_errors_free(struct policy_errors *);

/*
 * Parse and validate PATH.  Returns NULL when any error was found, and
 * then ERRS holds every error (never a partial policy).  The file's
 * permissions are not checked here: a gateway loads its policy with
 * policy_load_gateway().
 */
struct policy	*policy_load(const char *path, struct policy_errors *errs)
		    POLICY_WUR;
void		 policy_free(struct policy *);

/*
 * Open PATH once, check what was opened with policy_check_path()'s rule,
 * and parse that same open file, so that nothing can swap the file
 * between the check and the read.  Returns NULL either when the file is
 * refused (ERR holds the reason, ERRS is not touched) or when it does not
 * validate (ERR is "", ERRS holds every error).  ERRLEN must not be 0.
 */
struct policy	*policy_load_checked(const char *path, uid_t trusted_uid,
		    char *err, size_t errlen, struct policy_errors *errs)
		    POLICY_WUR;

/*
 * Why a policy file could not be used.  REFUSED: policy_load_checked()
 * refused the file (unsafe, missing, not a regular file) and REASON says
 * why; ERRS is empty.  Otherwise it did not validate: ERRS holds every
 * error and REASON the first.
 */
struct policy_failure {
	bool			 refused;
	char			 reason[512];
	struct policy_errors	 errs;
};
void	 policy_failure_free(struct policy_failure *);

/*
 * Load PATH as the gateway does, and as muxgate check must to give the
 * same answer: policy_load_checked() trusting root and the effective
 * user (the gateway account).  Returns NULL with *F filled when the file
 * is refused or invalid; F is emptied first, so freeing it is always
 * fine.
 */
struct policy	*policy_load_gateway(const char *path, struct policy_failure *f)
		    POLICY_WUR;

/*
 * A policy file's bytes, read as policy_load_checked() reads them (the
 * same checks, the same limit), for a caller that looks at them before
 * or instead of parsing them: muxgate keys compares their hash with its
 * compiled index.  policy_file_load() then parses them; its errors name
 * PATH as policy_load() does.
 */
struct policy_file {
	char		*path;
	unsigned char	*data;
	size_t		 len;
};
int	policy_file_read(const char *path, uid_t trusted_uid,
	    struct policy_file *, char *err, size_t errlen) POLICY_WUR;
/*
 * The same in two steps, for a caller that looks at the file (fstat)
 * before deciding to read it: the descriptor of PATH, checked as
 * policy_load_checked() checks it (or -1 with ERR), then all of FD.
 */
int	policy_open_checked(const char *path, uid_t trusted_uid, char *err,
	    size_t errlen) POLICY_WUR;
int	policy_file_read_fd(int fd, const char *path, struct policy_file *,
	    char *err, size_t errlen) POLICY_WUR;
struct policy	*policy_file_load(const struct policy_file *,
		    struct policy_errors *) POLICY_WUR;
void	policy_file_free(struct policy_file *);

/*
 * StrictModes-style check: PATH must open as a regular file (a FIFO is
 * refused, not waited on); the file and every directory above it must be
 * owned by root or TRUSTED_UID and not writable by group or others, and
 * so must every directory PATH is looked up through, including those
 * holding a symbolic link it follows.  Returns 0 when safe, -1 with a
 * message naming the path in ERR.  It only reports: a file read after
 * this check may no longer be the one checked (see policy_load_checked()).
 */
int	policy_check_path(const char *path, uid_t trusted_uid, char *err,
	    size_t errlen) POLICY_WUR;

/* gateway: section, with defaults filled in. */
enum policy_audit { POLICY_AUDIT_AUDITD, POLICY_AUDIT_SYSLOG, POLICY_AUDIT_NONE };
/* gateway.recording.mask_input: which keystrokes a recording keeps. */
enum policy_mask_input {
	POLICY_MASK_PROMPTS,	/* all but the answers to secret_prompts */
	POLICY_MASK_ALL,	/* none */
	POLICY_MASK_NONE,	/* all */
};
struct policy_gateway {
	const char	*recordings;
	const char	*state;
	enum policy_audit audit;
	bool		 audit_required;
	unsigned	 attaches_per_identity;
	unsigned	 attaches_total;
	unsigned	 attach_lifetime;	/* seconds, 0 = off */
	unsigned	 idle_timeout;		/* seconds, 0 = off */
	unsigned	 menu_idle_timeout;	/* seconds, 0 = off */
	/* Seconds between checkpoint records of an attach, 0 = none. */
	unsigned	 recording_checkpoint;
	/* Auditors' public key files: recordings are sealed to them. */
	const char *const *recording_recipients;
	size_t		 nrecording_recipients;
	unsigned long long recording_max;	/* bytes per recording */
	unsigned	 recording_min_free;	/* percent of the file system */
	bool		 recording_required;
	/*
	 * gateway.recording: the keystrokes typed after a prompt that one of
	 * SECRET_PROMPTS matches are recorded as '*' (POSIX extended regular
	 * expressions, regcomp REG_EXTENDED; each one checked at load:
	 * it compiles, has no back-references and is not too large), or
	 * no keystroke is recorded, or all are.
	 */
	enum policy_mask_input mask_input;
	const char *const *secret_prompts;
	size_t		 nsecret_prompts;
	/* A writer's terminal gets OSC 52 (the clipboard); never a watcher's. */
	bool		 allow_clipboard;
	unsigned char	 escape_key;
	const char	*ssh_identity_file;	/* the gateway's own key */
	const char	*ssh_known_hosts;	/* strict host key checking */
	unsigned	 ssh_connect_timeout;	/* seconds */
	/* muxgate serve */
	const char	*serve_listen;		/* "ADDR:PORT" */
	const char	*serve_host_key;
	unsigned	 serve_login_grace;	/* seconds */
	unsigned	 serve_max_auth_tries;
	/* unauthenticated connections: random early drop, as sshd does */
	unsigned	 serve_startups_begin;	/* from here, RATE % dropped */
	unsigned	 serve_startups_rate;	/* percent */
	unsigned	 serve_startups_full;	/* from here, all dropped */
	unsigned	 serve_per_source_startups;	/* per address (/64) */
	unsigned	 serve_banner_timeout;	/* seconds */
	bool		 serve_syslog;
	const char	*account;		/* the gateway account */
};
const struct policy_gateway *policy_gateway(const struct policy *);
/* gateway.recording.secret_prompts when the policy names none. */
extern const char *const policy_default_secret_prompts[];
extern const size_t policy_ndefault_secret_prompts;

/* Actions, as a bit set.  Order is the order shown to users. */
enum policy_action {
	POLICY_LIST	= 1 << 0,
	POLICY_WATCH	= 1 << 1,
	POLICY_ATTACH	= 1 << 2,
	POLICY_CREATE	= 1 << 3,
	POLICY_KILL	= 1 << 4,
	POLICY_KILL_OWN	= 1 << 5,
	/* end someone else's live attach or watch (muxgate terminate) */
	POLICY_TERMINATE = 1 << 6,
};
#define POLICY_NACTIONS 7
const char	*policy_action_name(enum policy_action);
int		 policy_action_parse(const char *, enum policy_action *);
enum policy_action policy_action_at(size_t);	/* 0 .. POLICY_NACTIONS-1 */

/* Hosts. */
size_t		 policy_host_count(const struct policy *);
const struct policy_host *policy_host_at(const struct policy *, size_t);
const struct policy_host *policy_host_find(const struct policy *, const char *);
const char	*policy_host_name(const struct policy_host *);
bool		 policy_host_local(const struct policy_host *);
const char	*policy_host_address(const struct policy_host *);	/* NULL when local */
unsigned	 policy_host_port(const struct policy_host *);
const char	*policy_host_ssh_user(const struct policy_host *);	/* may be NULL */
const char	*policy_host_jump(const struct policy_host *);	/* may be NULL */
size_t		 policy_host_user_count(const struct policy_host *);
const char	*policy_host_user_at(const struct policy_host *, size_t);
bool		 policy_host_has_user(const struct policy_host *, const char *);
const char	*policy_host_label(const struct policy_host *, const char *);

/* Identities. */
size_t		 policy_identity_count(const struct policy *);
const struct policy_identity *policy_identity_at(const struct policy *, size_t);
const struct policy_identity *policy_identity_find(const struct policy *,
		    const char *name);
const char	*policy_identity_name(const struct policy_identity *);
size_t		 policy_identity_role_count(const struct policy_identity *);
const char	*policy_identity_role_at(const struct policy_identity *, size_t);
bool		 policy_identity_disabled(const struct policy_identity *);
time_t		 policy_identity_expires(const struct policy_identity *); /* 0 = never */
/* The from: entries as written, or 0 when any address may connect. */
size_t		 policy_identity_from_count(const struct policy_identity *);
const char	*policy_identity_from_at(const struct policy_identity *, size_t);

/*
 * An identity's keys, in policy order: each one's "SHA256:..."
 * fingerprint, and its wire blob, or NULL (*LEN 0) for a key the policy
 * lists by fingerprint only.
 */
size_t		 policy_identity_key_count(const struct policy_identity *);
const char	*policy_identity_key_fp(const struct policy_identity *,
		    size_t);
const unsigned char *policy_identity_key_blob(const struct policy_identity *,
		    size_t, size_t *len);

/*
 * Find the identity holding a public key, given its wire blob (the
 * base64-decoded second field of "ssh-ed25519 AAAA...").  Entries of the
 * full key are compared in constant time; "SHA256:" entries by
 * fingerprint.  Returns NULL when no identity holds the key.
 */
const struct policy_identity *policy_identity_by_key(const struct policy *,
		    const unsigned char *blob, size_t bloblen);

/*
 * May IDENT log in now from ADDR (NULL when unknown)?  Returns 0, or -1
 * with a short reason ("disabled", "expired on ...", "source address ...
 * not allowed") in WHY.
 */
int	policy_identity_usable(const struct policy_identity *, time_t now,
	    const char *addr, char *why, size_t whylen) POLICY_WUR;

/*
 * A just-in-time grant as the decision sees it: a scope granted to the
 * identity, in force now (the caller passes only grants that are active
 * at this moment; the library has no clock and no store).
 */
struct policy_grant {
	const char		*id;
	enum policy_action	 action;
	const char		*host;
	const char		*user;
	const char		*session;	/* NULL: any session */
};

/*
 * The one decision function.  A request is allowed when an allow rule of
 * one of the identity's roles grants the action and no deny rule of any of
 * its roles covers it, or, failing an allow rule, when one of GRANTS
 * covers it and a request rule of the identity's roles still offers that
 * grant's action on its host and tmux user (a grant whose rule has left
 * the policy counts for nothing).  Deny rules win over grants too.  The
 * host must exist and list the tmux user.  SESSION is the session the
 * request is about, or NULL (a host, a user): a grant for one session
 * covers only requests naming it.  kill-own is decided here like any
 * other action; comparing the session's owner with the identity is the
 * caller's job.
 */
enum policy_why {
	POLICY_WHY_ALLOW_RULE,		/* role/index: the allow rule that matched */
	POLICY_WHY_DENY_RULE,		/* role/index: the deny rule that matched */
	POLICY_WHY_DEFAULT,		/* no allow rule matched */
	POLICY_WHY_NO_HOST,		/* host not in the policy */
	POLICY_WHY_NO_USER,		/* user not a tmux user of the host */
	POLICY_WHY_GRANT,		/* grant; role/index: its request rule */
};
struct policy_verdict {
	bool		 allow;
	enum policy_why	 why;
	const char	*role;		/* for *_RULE and GRANT */
	size_t		 index;		/* rule index within allow:, deny:, request: */
	const struct policy_grant *grant;	/* for GRANT */
	/* The rule's max_session_ttl (seconds, 0 = none), when allowed. */
	unsigned	 max_session_ttl;
};
void	policy_decide(const struct policy *, const struct policy_identity *,
	    enum policy_action, const char *host, const char *tmux_user,
	    struct policy_verdict *);
void	policy_decide_grants(const struct policy *,
	    const struct policy_identity *, enum policy_action,
	    const char *host, const char *tmux_user, const char *session,
	    const struct policy_grant *grants, size_t ngrants,
	    struct policy_verdict *);
/* Every action granted for (host, user), as a bit set. */
unsigned policy_allowed_actions(const struct policy *,
	    const struct policy_identity *, const char *host, const char *user);

/*
 * Request rules: what an identity may ask for.  policy_request_find()
 * fills R with the first request rule of ID's roles that offers A on
 * HOST and USER (an existing host listing USER), and returns 0; -1 when
 * none does.  Deny rules are not looked at here: policy_decide() is.
 */
struct policy_request {
	const char	*role;
	size_t		 index;		/* within the role's request: */
	unsigned	 max_duration;	/* seconds */
	unsigned	 max_session_ttl;	/* seconds, 0 = none */
	bool		 reason_required;
	bool		 self_service;	/* approvers: none */
	const char *const *approvers;	/* role names */
	size_t		 napprovers;
};
int	policy_request_find(const struct policy *,
	    const struct policy_identity *, enum policy_action,
	    const char *host, const char *user, struct policy_request *)
	    POLICY_WUR;
/* Does APPROVER hold one of R's approver roles?  (Never for none.) */
bool	policy_may_approve(const struct policy_identity *approver,
	    const struct policy_request *);
/* Has any role of ID a request rule at all? */
bool	policy_identity_may_request(const struct policy_identity *);
/* Is any role of ID named as an approver by a request rule of P? */
bool	policy_identity_approves(const struct policy *,
	    const struct policy_identity *);

/* Keys (key.c). */
#define POLICY_FP_LEN 51	/* "SHA256:" + 43 base64 chars + NUL */
/* "SHA256:..." exactly as ssh-keygen -lf prints it. */
void	policy_key_fingerprint(const unsigned char *blob, size_t bloblen,
	    char fp[POLICY_FP_LEN]);
/*
 * Parse "TYPE BASE64 [COMMENT]": the blob is decoded into *BLOB (caller
 * frees) and its embedded type must equal TYPE.  Returns 0 or -1 with
 * *ERRSTR set to a static message.
 */
int	policy_key_parse(const char *line, unsigned char **blob, size_t *len,
	    const char **errstr) POLICY_WUR;

/* Durations (load.c): "30s", "5m", "6h", "7d", "0".  -1 on error. */
int	policy_parse_duration(const char *, unsigned *) POLICY_WUR;
/* Sizes: "4096", "512K", "100M", "1G" (powers of 1024).  -1 on error. */
int	policy_parse_size(const char *, unsigned long long *) POLICY_WUR;
/*
 * "ADDR:PORT" ("[ADDR]:PORT" for IPv6): the address into ADDR (when not
 * NULL) and the port into *PORT (when not NULL).  -1 on error.
 */
int	policy_parse_listen(const char *, char *addr, size_t addrlen,
	    unsigned *port) POLICY_WUR;
/*
 * gateway.serve.max_startups: "START:RATE:FULL" as sshd's MaxStartups, or
 * "N", which is N:100:N (a hard cap).  1 <= START <= FULL <= 10000 and
 * 1 <= RATE <= 100.  -1 with *ERRSTR set to a static reason on error.
 */
int	policy_parse_startups(const char *, unsigned *start, unsigned *rate,
	    unsigned *full, const char **errstr) POLICY_WUR;
/* Names: hosts, identities, roles: [A-Za-z0-9_.-]{1,64}. */
bool	policy_valid_name(const char *);
/* Unix user names as tmux users: [A-Za-z0-9_][A-Za-z0-9_.-]{0,31}. */
bool	policy_valid_user(const char *);

#endif
