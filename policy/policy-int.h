/* policy-int.h — structures shared inside the policy library only. */
#ifndef MUXGATE_POLICY_INT_H
#define MUXGATE_POLICY_INT_H

#include <netinet/in.h>
#include "policy/policy.h"

struct strlist {
	char	**v;
	size_t	  n;
};

struct label {
	char	*key;
	char	*value;
};

enum rule_hosts { RULE_HOSTS_ANY, RULE_HOSTS_NAMES, RULE_HOSTS_LABELS };

struct rule {
	enum rule_hosts	 hosts_kind;
	struct strlist	 hosts;		/* names or glob patterns */
	struct label	*labels;
	size_t		 nlabels;
	bool		 any_user;
	struct strlist	 users;
	unsigned	 actions;	/* bit set of enum policy_action */
	unsigned	 max_session_ttl;	/* seconds, 0 = none (create) */
	/* request: rules only */
	unsigned	 max_duration;	/* seconds, at least 1 */
	bool		 self_service;	/* approvers: none */
	struct strlist	 approvers;	/* role names */
	bool		 reason_required;
};

struct role {
	char		*name;
	struct rule	*allow;
	size_t		 nallow;
	struct rule	*deny;
	size_t		 ndeny;
	struct rule	*request;
	size_t		 nrequest;
};

struct policy_host {
	char		*name;
	bool		 local;
	char		*address;
	unsigned	 port;
	char		*ssh_user;
	char		*jump;
	struct strlist	 users;
	struct label	*labels;
	size_t		 nlabels;
};

struct cidr {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 addr[16];
	unsigned	 bits;
};

enum key_kind { KEY_BLOB, KEY_FINGERPRINT };
struct key_entry {
	enum key_kind	 kind;
	unsigned char	*blob;
	size_t		 bloblen;
	char		 fp[POLICY_FP_LEN];
};

struct policy_identity {
	char		*name;
	struct key_entry *keys;
	size_t		 nkeys;
	struct strlist	 roles;
	struct role	**role_ptrs;	/* resolved roles, same order */
	struct cidr	*from;
	struct strlist	 from_text;
	size_t		 nfrom;
	time_t		 expires;
	bool		 disabled;
};

/* A key entry and its identity, as index.c sorts them. */
struct key_ref {
	uint64_t		 order;		/* of the fingerprint */
	struct policy_identity	*id;
	const struct key_entry	*key;
};

struct policy {
	char			*path;
	struct policy_gateway	 gw;
	char			*recordings;
	char			*state;
	struct strlist		 recipients;	/* recording_recipients */
	struct strlist		 prompts;	/* recording.secret_prompts */
	char			*ssh_identity_file;
	char			*ssh_known_hosts;
	char			*serve_listen;
	char			*serve_host_key;
	char			*account;
	struct policy_host	*hosts;
	size_t			 nhosts;
	struct role		*roles;
	size_t			 nroles;
	struct policy_identity	*idents;
	size_t			 nidents;
	/* index.c: sorted for binary search. */
	struct policy_host	**host_index;	/* by name */
	struct policy_identity	**ident_index;	/* by name */
	struct key_ref		*key_index;	/* by fingerprint */
	size_t			 nkey_index;
};

/* errors.c */
void	 perr_add(struct policy_errors *, const char *file, size_t line,
	    size_t col, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
void	 perr_truncate(struct policy_errors *, size_t n);
char	*pstrdup(const char *);
void	*pcalloc(size_t, size_t);
void	*preallocarray(void *, size_t, size_t);
void	*pgrowarray(void *, size_t n, size_t);
void	 pprefault(void *, size_t);
void	 strlist_add(struct strlist *, const char *);
void	 strlist_free(struct strlist *);
bool	 strlist_has(const struct strlist *, const char *);

/*
 * tree.c: the policy file as a tree of YAML nodes.  A node's children
 * are indexes of nodes in KIDS: a list's items, or a mapping's keys and
 * values one after the other.  An alias is the node of its anchor.
 */
enum tree_type { TREE_SCALAR, TREE_SEQUENCE, TREE_MAPPING };
struct tree_node {
	union {
		const char *value;	/* a scalar's bytes, then a NUL */
		uint32_t    kids;	/* the first child in tree->kids */
	};
	uint32_t	 len;		/* its length, or its children */
	uint32_t	 line;		/* where it starts, from 0 */
	uint32_t	 column;
	unsigned char	 type;		/* enum tree_type */
	bool		 plain;		/* a plain scalar (unquoted) */
};
struct text_block;
struct tree {
	struct tree_node	*nodes;		/* [0] is the root */
	size_t			 nnodes;
	size_t			 nodes_cap;
	uint32_t		*kids;
	size_t			 nkids;
	size_t			 kids_cap;
	struct text_block	*text;		/* the scalars' bytes */
	bool			 big;		/* fault text blocks in at once */
};
/*
 * Parse the one YAML document that READ gives (as libyaml's read handler:
 * 1 with *DONE bytes, 0 at the end of the file; 0 on error) into T; SIZE
 * is a guess at its length.  0, or -1 with the errors
 * ("FILE:LINE:COLUMN: ...", FILE being PATH) added to ERRS.
 */
typedef int (*tree_read_fn)(void *arg, unsigned char *buf, size_t size,
	    size_t *done);
int	 tree_load(const char *path, tree_read_fn read, void *arg,
	    size_t size, struct tree *t, struct policy_errors *errs);
void	 tree_free(struct tree *);

/* schema.c: walk a loaded policy file into P. */
void	 schema_build(struct policy *, struct tree *,
	    struct policy_errors *);
/* gateway.limits.recording_min_free: "0%" to "99%".  0, or -1. */
int	 parse_percent(const char *, unsigned *);
/* A host's address: a name or an address, nothing else ssh reads. */
bool	 host_address_valid(const char *);
/*
 * The first byte of S that may not go into a generated ssh_config value
 * (quotes, backslash, '%', whitespace, control characters), or NULL.
 */
const char *ssh_config_bad_char(const char *s);
/* A key entry "SHA256:" and 43 base64 digits, as ssh-keygen -l shows. */
bool	 valid_fp(const char *);

/* match.c */
bool	 match_host(const struct rule *, const struct policy_host *);
bool	 match_user(const struct rule *, const char *);
int	 cidr_parse(const char *, struct cidr *);
bool	 cidr_match_str(const struct cidr *, size_t, const char *addr);
bool	 is_glob(const char *);

/* index.c */
void	 index_hosts(struct policy *);
struct policy_host *index_host(const struct policy *, const char *);
void	 index_identities(struct policy *);
struct policy_identity *index_identity(const struct policy *, const char *);
void	 index_keys(struct policy *);
const struct key_ref *index_key(const struct policy *, const char *fp,
	    size_t *);

/* load.c */
int	 parse_expiry(const char *, time_t *);

/*
 * prompt.c: may S be a secret prompt pattern?  0, or -1 with the reason
 * in WHY.
 */
int	 prompt_check(const char *s, char *why, size_t whylen);

/*
 * safepath.c: open PATH read-only and apply policy_check_path()'s rule to
 * the open file.  Returns the descriptor (blocking, close-on-exec), or -1
 * with the reason in ERR.
 */
int	 safepath_open(const char *path, uid_t trusted, char *err,
	    size_t errlen);

#endif
