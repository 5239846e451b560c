/*
 * schema.c — the strict schema: known keys, types, duplicates and
 * references.  Every problem is reported with the position of the YAML
 * node it concerns; the walk goes on after an error so that one run of
 * `muxgate check` shows them all.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy-int.h"
#include "util/ascii.h"
#include "util/num.h"

struct ctx {
	struct policy		*p;
	struct tree		*t;
	struct policy_errors	*errs;
	/*
	 * Each host's and each identity's mapping, in the order of p->hosts
	 * and p->idents, for the errors found after their section is walked.
	 */
	struct tree_node	**host_nodes;
	struct tree_node	**ident_nodes;
	struct role		**roles;	/* p->roles by name */
	/*
	 * The keys of the roles: mapping, sorted, for the approvers of
	 * request rules, which are checked while the roles are walked:
	 * looking each up in the mapping made a file of many roles and
	 * approvers quadratic (100,000 of each took 36 seconds).
	 */
	const char		**role_names;
	size_t			 nrole_names;
};

#define NODE_ERR(c, node, ...) \
	perr_add((c)->errs, (c)->p->path, (size_t)(node)->line + 1, \
	    (size_t)(node)->column + 1, __VA_ARGS__)

typedef void (*map_cb)(struct ctx *, const char *key,
    struct tree_node *keynode, struct tree_node *value, void *arg);

/* Child I of list or mapping N (a mapping's keys and values alternate). */
static struct tree_node *
kid(struct ctx *c, const struct tree_node *n, size_t i)
{
	return &c->t->nodes[c->t->kids[n->kids + i]];
}

static const char *
node_kind(const struct tree_node *n)
{
	switch (n->type) {
	case TREE_SCALAR: return "a scalar";
	case TREE_SEQUENCE: return "a list";
	case TREE_MAPPING: return "a mapping";
	default: return "nothing";
	}
}

static const char *
scalar_value(const struct tree_node *n)
{
	return n->value;
}

/* A string: any scalar whose bytes hold no NUL. */
static const char *
get_string(struct ctx *c, struct tree_node *n, const char *what)
{
	if (n->type != TREE_SCALAR) {
		NODE_ERR(c, n, "%s: expected a string, found %s", what,
		    node_kind(n));
		return NULL;
	}
	if (strlen(scalar_value(n)) != n->len) {
		NODE_ERR(c, n, "%s: NUL byte in string", what);
		return NULL;
	}
	return scalar_value(n);
}

/* Booleans and numbers must be plain (unquoted) scalars. */
static const char *
get_plain(struct ctx *c, struct tree_node *n, const char *what,
    const char *type)
{
	if (n->type != TREE_SCALAR || !n->plain) {
		NODE_ERR(c, n, "%s: expected %s, found %s", what, type,
		    n->type == TREE_SCALAR ? "a quoted string" :
		    node_kind(n));
		return NULL;
	}
	return scalar_value(n);
}

static int
get_bool(struct ctx *c, struct tree_node *n, const char *what, bool *out)
{
	const char	*s;

	if ((s = get_plain(c, n, what, "true or false")) == NULL)
		return -1;
	if (strcmp(s, "true") == 0)
		*out = true;
	else if (strcmp(s, "false") == 0)
		*out = false;
	else {
		NODE_ERR(c, n, "%s: expected true or false, found '%s'", what, s);
		return -1;
	}
	return 0;
}

static int
get_uint(struct ctx *c, struct tree_node *n, const char *what,
    unsigned long min, unsigned long max, unsigned *out)
{
	const char	*s, *errstr;
	long long	 v;

	if ((s = get_plain(c, n, what, "a number")) == NULL)
		return -1;
	if (num_parse(s, min, max, &v, &errstr) == -1) {
		NODE_ERR(c, n, "%s: expected a number from %lu to %lu, found '%s'",
		    what, min, max, s);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int
get_duration(struct ctx *c, struct tree_node *n, const char *what,
    unsigned *out)
{
	const char	*s;

	if ((s = get_string(c, n, what)) == NULL)
		return -1;
	if (policy_parse_duration(s, out) == -1) {
		NODE_ERR(c, n, "%s: bad duration '%s' (use 30s, 5m, 6h, 7d or 0)",
		    what, s);
		return -1;
	}
	return 0;
}

static int
get_abspath(struct ctx *c, struct tree_node *n, const char *what, char **out)
{
	const char	*s;

	if ((s = get_string(c, n, what)) == NULL)
		return -1;
	if (s[0] != '/' || strstr(s, "/../") != NULL || strlen(s) > 1024) {
		NODE_ERR(c, n, "%s: expected an absolute path, found '%s'",
		    what, s);
		return -1;
	}
	free(*out);
	*out = pstrdup(s);
	return 0;
}

/*
 * Values that transport-ssh.c writes into the generated ssh_config, one
 * double-quoted value per line: there a quote or backslash ends or
 * escapes the quoting, a newline starts another option (a ProxyCommand,
 * say), other whitespace and control characters split or hide it, and %
 * starts one of ssh's tokens.  Refused here so that `muxgate check`
 * refuses them too; the value itself is not repeated in the message,
 * since it may hold a newline.
 */
const char *
ssh_config_bad_char(const char *s)
{
	const unsigned char	*p;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p <= 0x20 || *p == 0x7f || strchr("\"'\\%", *p) != NULL)
			return (const char *)p;
	return NULL;
}

static int
check_ssh_config_value(struct ctx *c, struct tree_node *n, const char *what,
    const char *s)
{
	const char	*bad, *name;

	if ((bad = ssh_config_bad_char(s)) == NULL)
		return 0;
	switch (*bad) {
	case '"': name = "a double quote"; break;
	case '\'': name = "a single quote"; break;
	case '\\': name = "a backslash"; break;
	case '%': name = "'%'"; break;
	case ' ': name = "a space"; break;
	case '\t': name = "a tab"; break;
	case '\n': name = "a newline"; break;
	case '\r': name = "a carriage return"; break;
	default:
		NODE_ERR(c, n, "%s: control character 0x%02x (ssh_config "
		    "values may not hold quotes, backslashes, "
		    "whitespace, control characters or %%)", what,
		    (unsigned char)*bad);
		return -1;
	}
	NODE_ERR(c, n, "%s: %s (ssh_config values may not hold quotes, "
	    "backslashes, whitespace, control characters or %%)", what, name);
	return -1;
}

/* An absolute path that is also written into ssh_config. */
static int
get_ssh_path(struct ctx *c, struct tree_node *n, const char *what, char **out)
{
	const char	*s;

	if ((s = get_string(c, n, what)) == NULL ||
	    check_ssh_config_value(c, n, what, s) == -1)
		return -1;
	return get_abspath(c, n, what, out);
}

/*
 * Repeated keys and list entries.  The identities mapping has one key per
 * identity, and comparing each with all those before it made loading a
 * policy quadratic in its identities.  Mappings and lists of at least
 * REPEATS_HASH_MIN entries go through a hash set of the strings seen so
 * far instead; smaller ones, most of them, are compared in place without
 * allocating.  The hash is SipHash with a random key, so that no file can
 * make its keys collide and the walk quadratic again.
 */
#define REPEATS_HASH_MIN 16

/* Which of the N strings S (NULL: none) equal an earlier one; caller frees. */
static bool *
repeats(const char **s, size_t n)
{
	unsigned char	 key[crypto_shorthash_KEYBYTES];
	unsigned char	 h[crypto_shorthash_BYTES];
	size_t		*slot, cap, i, j;
	uint64_t	 v;
	bool		*rep;

	if (sodium_init() < 0)
		abort();
	randombytes_buf(key, sizeof(key));
	/* At most half full: probes stay short. */
	for (cap = 2 * REPEATS_HASH_MIN; cap < 2 * n; cap *= 2)
		;
	slot = pcalloc(cap, sizeof(*slot));	/* position + 1, 0: free */
	rep = pcalloc(n, sizeof(*rep));
	for (i = 0; i < n; i++) {
		if (s[i] == NULL)
			continue;
		crypto_shorthash(h, (const unsigned char *)s[i], strlen(s[i]),
		    key);
		memcpy(&v, h, sizeof(v));
		for (j = v & (cap - 1); slot[j] != 0; j = (j + 1) & (cap - 1))
			if (strcmp(s[slot[j] - 1], s[i]) == 0)
				break;
		if (slot[j] != 0)
			rep[i] = true;
		else
			slot[j] = i + 1;
	}
	free(slot);
	return rep;
}

/* The repeated keys of mapping N, by pair, or NULL when N is small. */
static bool *
map_repeats(struct ctx *c, struct tree_node *n)
{
	size_t			 i, len = n->len / 2;
	const char		**keys;
	struct tree_node	*k;
	bool			*rep;

	if (len < REPEATS_HASH_MIN)
		return NULL;
	keys = pcalloc(len, sizeof(*keys));
	for (i = 0; i < len; i++) {
		k = kid(c, n, 2 * i);
		keys[i] = k->type == TREE_SCALAR ? scalar_value(k) : NULL;
	}
	rep = repeats(keys, len);
	free(keys);
	return rep;
}

/* In a small mapping N: does a pair before pair I have KEY? */
static bool
key_before(struct ctx *c, struct tree_node *n, size_t i, const char *key)
{
	struct tree_node	*pk;
	size_t			 j;

	for (j = 0; j < i; j++) {
		pk = kid(c, n, 2 * j);
		if (pk->type == TREE_SCALAR &&
		    strcmp(scalar_value(pk), key) == 0)
			return true;
	}
	return false;
}

/*
 * Walk a mapping: keys must be unique strings and, when KNOWN is given,
 * one of KNOWN.  CB runs for each pair that passes.
 */
static int
walk_map(struct ctx *c, struct tree_node *n, const char *what,
    const char *const *known, map_cb cb, void *arg)
{
	struct tree_node	*k, *v;
	const char		*key, *const *kp;
	bool			*rep;
	size_t			 i;

	if (n->type != TREE_MAPPING) {
		NODE_ERR(c, n, "%s: expected a mapping, found %s", what,
		    node_kind(n));
		return -1;
	}
	rep = map_repeats(c, n);
	for (i = 0; i < n->len / 2; i++) {
		k = kid(c, n, 2 * i);
		v = kid(c, n, 2 * i + 1);
		if (k->type != TREE_SCALAR) {
			NODE_ERR(c, k, "%s: keys must be strings", what);
			continue;
		}
		key = scalar_value(k);
		if (rep != NULL ? rep[i] : key_before(c, n, i, key)) {
			NODE_ERR(c, k, "%s: duplicate key '%s'", what, key);
			continue;
		}
		if (known != NULL) {
			for (kp = known; *kp != NULL; kp++)
				if (strcmp(*kp, key) == 0)
					break;
			if (*kp == NULL) {
				NODE_ERR(c, k, "%s: unknown key '%s'", what, key);
				continue;
			}
		}
		cb(c, key, k, v, arg);
	}
	free(rep);
	return 0;
}

static struct tree_node *
map_get(struct ctx *c, struct tree_node *n, const char *key)
{
	struct tree_node	*k;
	size_t			 i;

	if (n->type != TREE_MAPPING)
		return NULL;
	for (i = 0; i < n->len / 2; i++) {
		k = kid(c, n, 2 * i);
		if (k->type == TREE_SCALAR &&
		    strcmp(scalar_value(k), key) == 0)
			return kid(c, n, 2 * i + 1);
	}
	return NULL;
}

/* The number of pairs of N, a mapping, or 0. */
static size_t
map_size(const struct tree_node *n)
{
	return n != NULL && n->type == TREE_MAPPING ? n->len / 2 : 0;
}

static void
require_keys(struct ctx *c, struct tree_node *n, const char *what,
    const char *const *required)
{
	if (n->type != TREE_MAPPING)
		return;
	for (; *required != NULL; required++)
		if (map_get(c, n, *required) == NULL)
			NODE_ERR(c, n, "%s: missing required key '%s'", what,
			    *required);
}

/*
 * The repeated entries of list N, or NULL when N is small: the strings
 * that get_string() takes.  An entry that equals an earlier one is
 * refused (as invalid) exactly when the earlier one was, so the first of
 * each run is the one in OUT.
 */
static bool *
list_repeats(struct ctx *c, struct tree_node *n)
{
	size_t			 i, len = n->len;
	const char		**strs;
	struct tree_node	*e;
	bool			*rep;

	if (len < REPEATS_HASH_MIN)
		return NULL;
	strs = pcalloc(len, sizeof(*strs));
	for (i = 0; i < len; i++) {
		e = kid(c, n, i);
		if (e->type == TREE_SCALAR &&
		    strlen(scalar_value(e)) == e->len)
			strs[i] = scalar_value(e);
	}
	rep = repeats(strs, len);
	free(strs);
	return rep;
}

/*
 * A list of strings, each checked by VALID (if set), into OUT, which
 * starts empty; duplicates refused.
 */
static int
get_strlist(struct ctx *c, struct tree_node *n, const char *what,
    bool (*valid)(const char *), const char *validmsg, struct strlist *out)
{
	struct tree_node	*e;
	const char		*s;
	bool			*rep;
	size_t			 i;

	if (n->type != TREE_SEQUENCE) {
		NODE_ERR(c, n, "%s: expected a list, found %s", what,
		    node_kind(n));
		return -1;
	}
	rep = list_repeats(c, n);
	for (i = 0; i < n->len; i++) {
		e = kid(c, n, i);
		if ((s = get_string(c, e, what)) == NULL)
			continue;
		if (valid != NULL && !valid(s)) {
			NODE_ERR(c, e, "%s: '%s' is not %s", what, s, validmsg);
			continue;
		}
		if (rep != NULL ? rep[i] : strlist_has(out, s)) {
			NODE_ERR(c, e, "%s: '%s' listed twice", what, s);
			continue;
		}
		strlist_add(out, s);
	}
	free(rep);
	return 0;
}

static bool
is_star(struct tree_node *n)
{
	return n->type == TREE_SCALAR && strcmp(scalar_value(n), "*") == 0;
}

/* ---- gateway: ---- */

static const char *const limits_keys[] = { "attaches_per_identity",
    "attaches_total", "attach_lifetime", "idle_timeout", "recording_max",
    "recording_min_free", NULL };

int
parse_percent(const char *s, unsigned *out)
{
	const char	*end, *errstr;
	size_t		 len;
	long long	 v;

	/* At most three digits, then "%": "7%", "50%", "099%". */
	len = strlen(s);
	if (len < 2 || len > 4 ||
	    num_parse_prefix(s, 0, 99, &v, &end, &errstr) == -1 ||
	    strcmp(end, "%") != 0)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static void
get_percent(struct ctx *c, struct tree_node *n, const char *what, unsigned *out)
{
	const char	*s;

	if ((s = get_string(c, n, what)) == NULL)
		return;
	if (parse_percent(s, out) == -1)
		NODE_ERR(c, n, "%s: expected a percentage from 0%% to 99%%, "
		    "found '%s'", what, s);
}

static void
limits_cb(struct ctx *c, const char *key, struct tree_node *k,
    struct tree_node *v, void *arg)
{
	struct policy_gateway	*gw = &c->p->gw;

	if (strcmp(key, "attaches_per_identity") == 0)
		(void)get_uint(c, v, "gateway.limits.attaches_per_identity", 1,
		    10000, &gw->attaches_per_identity);
	else if (strcmp(key, "attaches_total") == 0)
		(void)get_uint(c, v, "gateway.limits.attaches_total", 1, 100000,
		    &gw->attaches_total);
	else if (strcmp(key, "attach_lifetime") == 0)
		(void)get_duration(c, v, "gateway.limits.attach_lifetime",
		    &gw->attach_lifetime);
	else if (strcmp(key, "idle_timeout") == 0)
		(void)get_duration(c, v, "gateway.limits.idle_timeout",
		    &gw->idle_timeout);
	else if (strcmp(key, "recording_max") == 0) {
		const char *s = get_string(c, v, "gateway.limits.recording_max");
		if (s != NULL && policy_parse_size(s, &gw->recording_max) == -1)
			NODE_ERR(c, v, "gateway.limits.recording_max: bad size "
			    "'%s' (use 1G, 500M, 64K or bytes)", s);
	} else if (strcmp(key, "recording_min_free") == 0)
		get_percent(c, v, "gateway.limits.recording_min_free",
		    &gw->recording_min_free);
}

/* "^]" style: a caret and one of @A-Z[\]^_ (or a-z), or "^?". */
static int
get_escape_key(struct ctx *c, struct tree_node *n, unsigned char *out)
{
	const char	*s;
	int		 ch;

	if ((s = get_string(c, n, "gateway.escape_key")) == NULL)
		return -1;
	if (s[0] != '^' || s[1] == '\0' || s[2] != '\0')
		goto bad;
	ch = (unsigned char)s[1];
	if (ch == '?') {
		*out = 0x7f;
		return 0;
	}
	if (ch >= 'a' && ch <= 'z')
		ch -= 'a' - 'A';
	if (ch < '@' || ch > '_')
		goto bad;
	*out = (unsigned char)(ch - '@');
	return 0;
bad:
	NODE_ERR(c, n, "gateway.escape_key: expected a control key such as "
	    "\"^]\", found '%s'", s);
	return -1;
}

static const char *const ssh_keys[] = { "identity_file", "known_hosts",
    "connect_timeout", NULL };

static void
ssh_cb(struct ctx *c, const char *key, struct tree_node *k,
    struct tree_node *v, void *arg)
{
	struct policy	*p = c->p;
	unsigned	 t;

	if (strcmp(key, "identity_file") == 0) {
		if (get_ssh_path(c, v, "gateway.ssh.identity_file",
		    &p->ssh_identity_file) == 0)
			p->gw.ssh_identity_file = p->ssh_identity_file;
	} else if (strcmp(key, "known_hosts") == 0) {
		if (get_ssh_path(c, v, "gateway.ssh.known_hosts",
		    &p->ssh_known_hosts) == 0)
			p->gw.ssh_known_hosts = p->ssh_known_hosts;
	} else if (strcmp(key, "connect_timeout") == 0) {
		if (get_duration(c, v, "gateway.ssh.connect_timeout", &t) == -1)
			return;
		if (t == 0 || t > 300)
			NODE_ERR(c, v, "gateway.ssh.connect_timeout: expected 1s "
			    "to 5m");
		else
			p->gw.ssh_connect_timeout = t;
	}
}

static const char *const serve_keys[] = { "listen", "host_key",
    "login_grace_time", "banner_timeout", "max_auth_tries", "max_startups",
    "per_source_max_startups", "log", NULL };

static void
serve_startups(struct ctx *c, struct tree_node *v)
{
	struct policy_gateway	*gw = &c->p->gw;
	const char		*s, *why;

	if ((s = get_string(c, v, "gateway.serve.max_startups")) == NULL)
		return;
	if (policy_parse_startups(s, &gw->serve_startups_begin,
	    &gw->serve_startups_rate, &gw->serve_startups_full, &why) == -1)
		NODE_ERR(c, v, "gateway.serve.max_startups: expected N or "
		    "START:RATE:FULL such as 10:30:100, found '%s': %s", s, why);
}

static void
serve_cb(struct ctx *c, const char *key, struct tree_node *k,
    struct tree_node *v, void *arg)
{
	struct policy_gateway	*gw = &c->p->gw;
	const char		*s;
	unsigned		 t;

	if (strcmp(key, "listen") == 0) {
		if ((s = get_string(c, v, "gateway.serve.listen")) == NULL)
			return;
		if (policy_parse_listen(s, NULL, 0, NULL) == -1) {
			NODE_ERR(c, v, "gateway.serve.listen: expected ADDR:PORT, "
			    "found '%s'", s);
			return;
		}
		free(c->p->serve_listen);
		gw->serve_listen = c->p->serve_listen = pstrdup(s);
	} else if (strcmp(key, "host_key") == 0) {
		if (get_abspath(c, v, "gateway.serve.host_key",
		    &c->p->serve_host_key) == 0)
			gw->serve_host_key = c->p->serve_host_key;
	} else if (strcmp(key, "login_grace_time") == 0) {
		if (get_duration(c, v, "gateway.serve.login_grace_time",
		    &gw->serve_login_grace) == 0 && gw->serve_login_grace == 0)
			NODE_ERR(c, v, "gateway.serve.login_grace_time: may not "
			    "be 0");
	} else if (strcmp(key, "banner_timeout") == 0) {
		if (get_duration(c, v, "gateway.serve.banner_timeout", &t) == -1)
			return;
		if (t == 0 || t > 300)
			NODE_ERR(c, v, "gateway.serve.banner_timeout: expected 1s "
			    "to 5m");
		else
			gw->serve_banner_timeout = t;
	} else if (strcmp(key, "max_auth_tries") == 0)
		(void)get_uint(c, v, "gateway.serve.max_auth_tries", 1, 100,
		    &gw->serve_max_auth_tries);
	else if (strcmp(key, "max_startups") == 0)
		serve_startups(c, v);
	else if (strcmp(key, "per_source_max_startups") == 0)
		(void)get_uint(c, v, "gateway.serve.per_source_max_startups", 1,
		    10000, &gw->serve_per_source_startups);
	else if (strcmp(key, "log") == 0) {
		if ((s = get_string(c, v, "gateway.serve.log")) == NULL)
			return;
		if (strcmp(s, "syslog") == 0)
			gw->serve_syslog = true;
		else if (strcmp(s, "stderr") == 0)
			gw->serve_syslog = false;
		else
			NODE_ERR(c, v, "gateway.serve.log: expected stderr or "
			    "syslog, found '%s'", s);
	}
}

static const char *const recording_keys[] = { "secret_prompts",
    "mask_input", NULL };

/* A list of patterns (prompt.c), in place of the defaults. */
static void
secret_prompts(struct ctx *c, struct tree_node *n)
{
	static const char	 what[] = "gateway.recording.secret_prompts";
	struct policy		*p = c->p;
	struct tree_node	*e;
	const char		*s;
	char			 why[256];
	bool			*rep;
	size_t			 i;

	if (n->type != TREE_SEQUENCE) {
		NODE_ERR(c, n, "%s: expected a list, found %s", what,
		    node_kind(n));
		return;
	}
	/* Each takes up to a millisecond to check, and every line to match. */
	if (n->len > POLICY_MAX_PROMPTS) {
		NODE_ERR(c, n, "%s: more than %d patterns", what,
		    POLICY_MAX_PROMPTS);
		return;
	}
	rep = list_repeats(c, n);
	for (i = 0; i < n->len; i++) {
		e = kid(c, n, i);
		if ((s = get_string(c, e, what)) == NULL)
			continue;
		if (prompt_check(s, why, sizeof(why)) == -1) {
			NODE_ERR(c, e, "%s: bad regular expression '%s': %s",
			    what, s, why);
			continue;
		}
		if (rep != NULL ? rep[i] : strlist_has(&p->prompts, s)) {
			NODE_ERR(c, e, "%s: '%s' listed twice", what, s);
			continue;
		}
		strlist_add(&p->prompts, s);
	}
	free(rep);
	p->gw.secret_prompts = (const char *const *)p->prompts.v;
	p->gw.nsecret_prompts = p->prompts.n;
}

static void
recording_cb(struct ctx *c, const char *key, struct tree_node *k,
    struct tree_node *v, void *arg)
{
	struct policy_gateway	*gw = &c->p->gw;
	const char		*s;

	if (strcmp(key, "secret_prompts") == 0)
		secret_prompts(c, v);
	else if (strcmp(key, "mask_input") == 0) {
		if ((s = get_string(c, v, "gateway.recording.mask_input")) ==
		    NULL)
			return;
		if (strcmp(s, "prompts") == 0)
			gw->mask_input = POLICY_MASK_PROMPTS;
		else if (strcmp(s, "all") == 0)
			gw->mask_input = POLICY_MASK_ALL;
		else if (strcmp(s, "none") == 0)
			gw->mask_input = POLICY_MASK_NONE;
		else
			NODE_ERR(c, v, "gateway.recording.mask_input: expected "
			    "prompts, all or none, found '%s'", s);
	}
}

static const char *const gateway_keys[] = { "recordings", "state", "audit",
    "audit_required", "recording_required", "limits", "escape_key", "ssh",
    "serve", "menu_idle_timeout", "recording_checkpoint",
    "recording_recipients", "recording", "account", "allow_clipboard", NULL };

static bool
is_abspath(const char *s)
{
	return s[0] == '/';
}

static void
gateway_cb(struct ctx *c, const char *key, struct tree_node *k,
    struct tree_node *v, void *arg)
{
	struct policy		*p = c->p;
	const char		*s;

	if (strcmp(key, "menu_idle_timeout") == 0) {
		(void)get_duration(c, v, "gateway.menu_idle_timeout",
		    &p->gw.menu_idle_timeout);
	} else if (strcmp(key, "recording_checkpoint") == 0) {
		(void)get_duration(c, v, "gateway.recording_checkpoint",
		    &p->gw.recording_checkpoint);
	} else if (strcmp(key, "recording_recipients") == 0) {
		(void)get_strlist(c, v, "gateway.recording_recipients",
		    is_abspath, "an absolute path", &p->recipients);
		p->gw.recording_recipients = (const char *const *)
		    p->recipients.v;
		p->gw.nrecording_recipients = p->recipients.n;
	} else if (strcmp(key, "recordings") == 0) {
		if (get_abspath(c, v, "gateway.recordings", &p->recordings) == 0)
			p->gw.recordings = p->recordings;
	} else if (strcmp(key, "state") == 0) {
		/*
		 * STATE/ssh/cm-<40 hex> must fit a socket path (108 bytes),
		 * and is ssh's ControlPath.
		 */
		if (get_ssh_path(c, v, "gateway.state", &p->state) == 0) {
			if (strlen(p->state) > 60)
				NODE_ERR(c, v, "gateway.state: at most 60 "
				    "characters (ssh's control sockets live "
				    "there and socket paths are short)");
			else
				p->gw.state = p->state;
		}
	} else if (strcmp(key, "audit") == 0) {
		if ((s = get_string(c, v, "gateway.audit")) == NULL)
			return;
		if (strcmp(s, "auditd") == 0)
			p->gw.audit = POLICY_AUDIT_AUDITD;
		else if (strcmp(s, "syslog") == 0)
			p->gw.audit = POLICY_AUDIT_SYSLOG;
		else if (strcmp(s, "none") == 0)
			p->gw.audit = POLICY_AUDIT_NONE;
		else
			NODE_ERR(c, v, "gateway.audit: expected auditd, syslog "
			    "or none, found '%s'", s);
	} else if (strcmp(key, "audit_required") == 0)
		(void)get_bool(c, v, "gateway.audit_required",
		    &p->gw.audit_required);
	else if (strcmp(key, "recording_required") == 0)
		(void)get_bool(c, v, "gateway.recording_required",
		    &p->gw.recording_required);
	else if (strcmp(key, "allow_clipboard") == 0)
		(void)get_bool(c, v, "gateway.allow_clipboard",
		    &p->gw.allow_clipboard);
	else if (strcmp(key, "limits") == 0)
		(void)walk_map(c, v, "gateway.limits", limits_keys, limits_cb,
		    NULL);
	else if (strcmp(key, "recording") == 0)
		(void)walk_map(c, v, "gateway.recording", recording_keys,
		    recording_cb, NULL);
	else if (strcmp(key, "escape_key") == 0)
		(void)get_escape_key(c, v, &p->gw.escape_key);
	else if (strcmp(key, "account") == 0) {
		if ((s = get_string(c, v, "gateway.account")) == NULL)
			return;
		if (!policy_valid_user(s))
			NODE_ERR(c, v, "gateway.account: bad user name '%s'", s);
		else
			p->gw.account = p->account = pstrdup(s);
	}
	else if (strcmp(key, "ssh") == 0)
		(void)walk_map(c, v, "gateway.ssh", ssh_keys, ssh_cb, NULL);
	else if (strcmp(key, "serve") == 0)
		(void)walk_map(c, v, "gateway.serve", serve_keys, serve_cb, NULL);
}

/* ---- hosts: ---- */

struct labels_arg {
	struct label	**labels;
	size_t		 *n;
	const char	 *what;
};

static void
labels_cb(struct ctx *c, const char *key, struct tree_node *k,
    struct tree_node *v, void *arg)
{
	struct labels_arg	*la = arg;
	const char		*s;

	if (!policy_valid_name(key)) {
		NODE_ERR(c, k, "%s: bad label name '%s'", la->what, key);
		return;
	}
	if ((s = get_string(c, v, la->what)) == NULL)
		return;
	*la->labels = pgrowarray(*la->labels, *la->n, sizeof(**la->labels));
	(*la->labels)[*la->n].key = pstrdup(key);
	(*la->labels)[*la->n].value = pstrdup(s);
	(*la->n)++;
}

static const char *const host_keys[] = { "local", "address", "port",
    "ssh_user", "tmux_users", "labels", "jump", NULL };

bool
host_address_valid(const char *s)
{
	return *s != '\0' && *s != '-' && strlen(s) <= 253 &&
	    strpbrk(s, " \t\r\n@/\\'\"`$;&|<>()") == NULL;
}

static void
host_field_cb(struct ctx *c, const char *key, struct tree_node *k,
    struct tree_node *v, void *arg)
{
	struct policy_host	*h = arg;
	struct labels_arg	 la;
	const char		*s;

	if (strcmp(key, "local") == 0)
		(void)get_bool(c, v, "local", &h->local);
	else if (strcmp(key, "address") == 0) {
		if ((s = get_string(c, v, "address")) == NULL ||
		    check_ssh_config_value(c, v, "address", s) == -1)
			return;
		if (!host_address_valid(s)) {
			NODE_ERR(c, v, "address: '%s' is not a host name or "
			    "address", s);
			return;
		}
		h->address = pstrdup(s);
	} else if (strcmp(key, "port") == 0)
		(void)get_uint(c, v, "port", 1, 65535, &h->port);
	else if (strcmp(key, "ssh_user") == 0) {
		if ((s = get_string(c, v, "ssh_user")) == NULL ||
		    check_ssh_config_value(c, v, "ssh_user", s) == -1)
			return;
		if (!policy_valid_user(s)) {
			NODE_ERR(c, v, "ssh_user: '%s' is not a user name", s);
			return;
		}
		h->ssh_user = pstrdup(s);
	} else if (strcmp(key, "tmux_users") == 0) {
		(void)get_strlist(c, v, "tmux_users", policy_valid_user,
		    "a user name", &h->users);
		if (v->type == TREE_SEQUENCE && h->users.n == 0 &&
		    v->len == 0)
			NODE_ERR(c, v, "tmux_users: the list is empty");
	} else if (strcmp(key, "labels") == 0) {
		la.labels = &h->labels;
		la.n = &h->nlabels;
		la.what = "labels";
		(void)walk_map(c, v, "labels", NULL, labels_cb, &la);
	} else if (strcmp(key, "jump") == 0) {
		if ((s = get_string(c, v, "jump")) != NULL &&
		    check_ssh_config_value(c, v, "jump", s) == 0)
			h->jump = pstrdup(s);
	}
}

static void
hosts_cb(struct ctx *c, const char *key, struct tree_node *k,
    struct tree_node *v, void *arg)
{
	struct policy		*p = c->p;
	struct policy_host	*h;
	static const char *const required[] = { "tmux_users", NULL };

	if (!policy_valid_name(key)) {
		NODE_ERR(c, k, "hosts: bad host name '%s' (letters, digits, "
		    "'_', '.', '-')", key);
		return;
	}
	c->host_nodes[p->nhosts] = v;
	h = &p->hosts[p->nhosts++];
	h->name = pstrdup(key);
	h->port = 22;
	if (walk_map(c, v, "hosts", host_keys, host_field_cb, h) == -1)
		return;
	require_keys(c, v, "hosts", required);
	if (h->local && (h->address != NULL || h->ssh_user != NULL ||
	    h->jump != NULL))
		NODE_ERR(c, v, "host %s: a local host takes no address, "
		    "ssh_user or jump", key);
	if (!h->local && h->address == NULL)
		NODE_ERR(c, v, "host %s: needs 'local: true' or an address", key);
	if (!h->local && h->address != NULL && h->ssh_user == NULL)
		NODE_ERR(c, v, "host %s: a remote host needs ssh_user", key);
}

/* Where host I's jump leads: the host's index, or SIZE_MAX for nowhere. */
static size_t
jump_next(const struct policy *p, size_t i)
{
	const struct policy_host	*j;

	if (p->hosts[i].jump == NULL ||
	    (j = policy_host_find(p, p->hosts[i].jump)) == NULL)
		return SIZE_MAX;
	return (size_t)(j - p->hosts);
}

enum jump_state { JUMP_UNSEEN, JUMP_ON_PATH, JUMP_ENDS, JUMP_LOOPS };

/*
 * Do the jumps from host I go on for ever?  Following each host's chain
 * to its end cost hosts x chain length; here every host is followed once:
 * the answer found at the end of a path is the answer for every host on
 * it, and STATE keeps it for the paths that run into them later.
 */
static bool
jump_loops(const struct policy *p, unsigned char *state, size_t i)
{
	size_t		j;
	unsigned char	end;

	for (j = i; j != SIZE_MAX && state[j] == JUMP_UNSEEN;
	    j = jump_next(p, j))
		state[j] = JUMP_ON_PATH;
	if (j == SIZE_MAX)
		end = JUMP_ENDS;
	else if (state[j] == JUMP_ON_PATH)
		end = JUMP_LOOPS;	/* back on this very path */
	else
		end = state[j];
	for (j = i; j != SIZE_MAX && state[j] == JUMP_ON_PATH;
	    j = jump_next(p, j))
		state[j] = end;
	return state[i] == JUMP_LOOPS;
}

static void
check_jumps(struct ctx *c)
{
	struct policy		*p = c->p;
	const struct policy_host *j;
	unsigned char		*state;
	size_t			 i;

	state = pcalloc(p->nhosts, sizeof(*state));
	for (i = 0; i < p->nhosts; i++) {
		if (p->hosts[i].jump == NULL)
			continue;
		j = policy_host_find(p, p->hosts[i].jump);
		if (j == NULL || j->local || j == &p->hosts[i]) {
			NODE_ERR(c, c->host_nodes[i], "host %s: jump '%s' is "
			    "not another remote host of the policy",
			    p->hosts[i].name, p->hosts[i].jump);
			continue;
		}
		if (jump_loops(p, state, i))
			NODE_ERR(c, c->host_nodes[i], "host %s: jump hosts "
			    "form a loop", p->hosts[i].name);
	}
	free(state);
}

/* ---- roles: ---- */

/*
 * The keys of each kind of rule: allow, deny and request rules share the
 * matchers; the first three keys of each are required, and so are a
 * request rule's max_duration and approvers.
 */
static const char *const allow_keys[] = { "hosts", "tmux_users", "actions",
    "max_session_ttl", NULL };
static const char *const deny_keys[] = { "hosts", "tmux_users", "actions",
    NULL };
static const char *const request_keys[] = { "hosts", "tmux_users",
    "actions", "max_duration", "approvers", "reason", "max_session_ttl",
    NULL };
static const char *const matcher_keys[] = { "hosts", "tmux_users",
    "actions", NULL };
static const char *const request_required[] = { "max_duration",
    "approvers", NULL };

/* The longest grant a request rule may offer. */
#define MAX_GRANT_DURATION	(366U * 24 * 3600)

struct rule_arg {
	struct rule	*r;
	const char	*what;		/* allow, deny, request */
};

static void
rule_hosts(struct ctx *c, struct tree_node *v, struct rule *r)
{
	struct labels_arg	 la;
	size_t			 i;

	if (is_star(v)) {
		r->hosts_kind = RULE_HOSTS_ANY;
		return;
	}
	if (v->type == TREE_MAPPING) {
		r->hosts_kind = RULE_HOSTS_LABELS;
		la.labels = &r->labels;
		la.n = &r->nlabels;
		la.what = "hosts";
		(void)walk_map(c, v, "hosts", NULL, labels_cb, &la);
		/* No label to check would match every host. */
		if (v->len == 0)
			NODE_ERR(c, v, "hosts: the label mapping is empty");
		return;
	}
	if (v->type != TREE_SEQUENCE) {
		NODE_ERR(c, v, "hosts: expected \"*\", a list of hosts or a "
		    "mapping of labels");
		return;
	}
	r->hosts_kind = RULE_HOSTS_NAMES;
	(void)get_strlist(c, v, "hosts", NULL, NULL, &r->hosts);
	if (v->len == 0)
		NODE_ERR(c, v, "hosts: the list is empty");
	for (i = 0; i < r->hosts.n; i++) {
		if (is_glob(r->hosts.v[i]))
			continue;
		if (policy_host_find(c->p, r->hosts.v[i]) == NULL)
			NODE_ERR(c, v, "hosts: undefined host '%s'",
			    r->hosts.v[i]);
	}
}

static void
rule_actions(struct ctx *c, struct tree_node *v, struct rule *r)
{
	struct tree_node	*e;
	enum policy_action	 a;
	const char		*s;
	size_t			 i;

	if (v->type != TREE_SEQUENCE) {
		NODE_ERR(c, v, "actions: expected a list, found %s",
		    node_kind(v));
		return;
	}
	for (i = 0; i < v->len; i++) {
		e = kid(c, v, i);
		if ((s = get_string(c, e, "actions")) == NULL)
			continue;
		if (policy_action_parse(s, &a) == -1)
			NODE_ERR(c, e, "actions: unknown action '%s' (list, "
			    "watch, attach, create, kill, kill-own, "
			    "terminate)", s);
		else
			r->actions |= a;
	}
	if (v->len == 0)
		NODE_ERR(c, v, "actions: the list is empty");
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
name_key_cmp(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

/* The names of roles mapping N, sorted for name_key_cmp. */
static void
index_role_names(struct ctx *c, struct tree_node *n)
{
	struct tree_node	*k;
	size_t			 i;

	if (n == NULL || n->type != TREE_MAPPING)
		return;
	c->role_names = pcalloc(n->len / 2, sizeof(*c->role_names));
	for (i = 0; i < n->len / 2; i++)
		if ((k = kid(c, n, 2 * i))->type == TREE_SCALAR)
			c->role_names[c->nrole_names++] = scalar_value(k);
	qsort(c->role_names, c->nrole_names, sizeof(*c->role_names),
	    name_cmp);
}

/* approvers: none, or a list of the policy's roles. */
static void
rule_approvers(struct ctx *c, struct tree_node *v, struct rule *r)
{
	size_t	i;

	if (v->type == TREE_SCALAR && v->plain &&
	    strcmp(scalar_value(v), "none") == 0) {
		r->self_service = true;
		return;
	}
	if (v->type != TREE_SEQUENCE) {
		NODE_ERR(c, v, "approvers: expected none or a list of roles");
		return;
	}
	if (get_strlist(c, v, "approvers", policy_valid_name, "a role name",
	    &r->approvers) == -1)
		return;
	if (v->len == 0)
		NODE_ERR(c, v, "approvers: the list is empty (write "
		    "approvers: none for requests granted without approval)");
	for (i = 0; i < r->approvers.n; i++)
		if (c->nrole_names == 0 || bsearch(r->approvers.v[i],
		    c->role_names, c->nrole_names, sizeof(*c->role_names),
		    name_key_cmp) == NULL)
			NODE_ERR(c, v, "approvers: undefined role '%s'",
			    r->approvers.v[i]);
}

static void
rule_cb(struct ctx *c, const char *key, struct tree_node *k,
    struct tree_node *v, void *arg)
{
	struct rule_arg	*ra = arg;
	struct rule	*r = ra->r;
	const char	*s;

	if (strcmp(key, "hosts") == 0)
		rule_hosts(c, v, r);
	else if (strcmp(key, "tmux_users") == 0) {
		if (is_star(v))
			r->any_user = true;
		else if (v->type == TREE_SEQUENCE) {
			(void)get_strlist(c, v, "tmux_users", policy_valid_user,
			    "a user name", &r->users);
			if (v->len == 0)
				NODE_ERR(c, v, "tmux_users: the list is empty");
		} else
			NODE_ERR(c, v, "tmux_users: expected \"*\" or a list");
	} else if (strcmp(key, "actions") == 0)
		rule_actions(c, v, r);
	else if (strcmp(key, "max_session_ttl") == 0) {
		if (get_duration(c, v, "max_session_ttl",
		    &r->max_session_ttl) == 0 && r->max_session_ttl == 0)
			NODE_ERR(c, v, "max_session_ttl: must be more than 0 "
			    "(leave it out for sessions without a limit)");
	} else if (strcmp(key, "max_duration") == 0) {
		if (get_duration(c, v, "max_duration", &r->max_duration) == 0 &&
		    (r->max_duration == 0 ||
		    r->max_duration > MAX_GRANT_DURATION))
			NODE_ERR(c, v, "max_duration: must be from 1s to 366d");
	} else if (strcmp(key, "approvers") == 0)
		rule_approvers(c, v, r);
	else if (strcmp(key, "reason") == 0) {
		if ((s = get_string(c, v, "reason")) == NULL)
			return;
		if (strcmp(s, "required") == 0)
			r->reason_required = true;
		else if (strcmp(s, "optional") == 0)
			r->reason_required = false;
		else
			NODE_ERR(c, v, "reason: expected required or optional, "
			    "found '%s'", s);
	}
	(void)k;
}

static void
rule_list(struct ctx *c, struct tree_node *v, const char *what,
    struct rule **out, size_t *n)
{
	const char *const	*known;
	struct tree_node	*e, *ttl;
	struct rule_arg		 ra;
	struct rule		*r;
	size_t			 i;

	if (v->type != TREE_SEQUENCE) {
		NODE_ERR(c, v, "%s: expected a list of rules, found %s", what,
		    node_kind(v));
		return;
	}
	known = strcmp(what, "allow") == 0 ? allow_keys :
	    strcmp(what, "deny") == 0 ? deny_keys : request_keys;
	for (i = 0; i < v->len; i++) {
		e = kid(c, v, i);
		*out = pgrowarray(*out, *n, sizeof(**out));
		r = &(*out)[(*n)++];
		memset(r, 0, sizeof(*r));
		/* A reason is asked for unless the rule says otherwise. */
		r->reason_required = true;
		ra.r = r;
		ra.what = what;
		if (walk_map(c, e, what, known, rule_cb, &ra) != 0)
			continue;
		require_keys(c, e, what, matcher_keys);
		if (known == request_keys)
			require_keys(c, e, what, request_required);
		if ((ttl = map_get(c, e, "max_session_ttl")) != NULL &&
		    !(r->actions & POLICY_CREATE))
			NODE_ERR(c, ttl, "max_session_ttl: the rule does not "
			    "grant create");
	}
}

static const char *const role_keys[] = { "allow", "deny", "request", NULL };

static void
role_field_cb(struct ctx *c, const char *key, struct tree_node *k,
    struct tree_node *v, void *arg)
{
	struct role	*r = arg;

	if (strcmp(key, "allow") == 0)
		rule_list(c, v, "allow", &r->allow, &r->nallow);
	else if (strcmp(key, "deny") == 0)
		rule_list(c, v, "deny", &r->deny, &r->ndeny);
	else
		rule_list(c, v, "request", &r->request, &r->nrequest);
}

static void
roles_cb(struct ctx *c, const char *key, struct tree_node *k,
    struct tree_node *v, void *arg)
{
	struct policy	*p = c->p;
	struct role	*r;

	if (!policy_valid_name(key)) {
		NODE_ERR(c, k, "roles: bad role name '%s'", key);
		return;
	}
	r = &p->roles[p->nroles++];
	r->name = pstrdup(key);
	(void)walk_map(c, v, "roles", role_keys, role_field_cb, r);
}

static int
role_cmp(const void *a, const void *b)
{
	const struct role *const	*x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

static int
role_name_cmp(const void *name, const void *elem)
{
	const struct role *const	*r = elem;

	return strcmp(name, (*r)->name);
}

/* Every identity names its roles: look them up by binary search. */
static void
index_roles(struct ctx *c)
{
	size_t	i;

	c->roles = pcalloc(c->p->nroles, sizeof(*c->roles));
	for (i = 0; i < c->p->nroles; i++)
		c->roles[i] = &c->p->roles[i];
	qsort(c->roles, c->p->nroles, sizeof(*c->roles), role_cmp);
}

static struct role *
role_find(struct ctx *c, const char *name)
{
	struct role	**r;

	if (c->roles == NULL || c->p->nroles == 0)
		return NULL;
	r = bsearch(name, c->roles, c->p->nroles, sizeof(*c->roles),
	    role_name_cmp);
	return r != NULL ? *r : NULL;
}

/* ---- identities: ---- */

bool
valid_fp(const char *s)
{
	size_t	i;

	if (strncmp(s, "SHA256:", 7) != 0 || strlen(s) != POLICY_FP_LEN - 1)
		return false;
	for (i = 7; s[i] != '\0'; i++)
		if (!(ascii_alnum(s[i]) || s[i] == '+' || s[i] == '/'))
			return false;
	return true;
}

static void
ident_keys(struct ctx *c, struct tree_node *v, struct policy_identity *id)
{
	struct tree_node	*e;
	struct key_entry	 ke;
	const char		*s, *errstr;
	size_t			 i;

	if (v->type != TREE_SEQUENCE) {
		NODE_ERR(c, v, "keys: expected a list, found %s", node_kind(v));
		return;
	}
	for (i = 0; i < v->len; i++) {
		e = kid(c, v, i);
		if ((s = get_string(c, e, "keys")) == NULL)
			continue;
		memset(&ke, 0, sizeof(ke));
		if (strncmp(s, "SHA256:", 7) == 0) {
			if (!valid_fp(s)) {
				NODE_ERR(c, e, "keys: bad fingerprint '%s'", s);
				continue;
			}
			ke.kind = KEY_FINGERPRINT;
			snprintf(ke.fp, sizeof(ke.fp), "%s", s);
		} else {
			if (policy_key_parse(s, &ke.blob, &ke.bloblen,
			    &errstr) == -1) {
				NODE_ERR(c, e, "keys: %s", errstr);
				continue;
			}
			ke.kind = KEY_BLOB;
			policy_key_fingerprint(ke.blob, ke.bloblen, ke.fp);
		}
		id->keys = pgrowarray(id->keys, id->nkeys, sizeof(*id->keys));
		id->keys[id->nkeys++] = ke;
	}
	if (v->len == 0)
		NODE_ERR(c, v, "keys: the list is empty");
}

static void
ident_from(struct ctx *c, struct tree_node *v, struct policy_identity *id)
{
	struct tree_node	*e;
	const char		*s;
	struct cidr		 cd;
	size_t			 i;

	if (v->type != TREE_SEQUENCE) {
		NODE_ERR(c, v, "from: expected a list, found %s", node_kind(v));
		return;
	}
	for (i = 0; i < v->len; i++) {
		e = kid(c, v, i);
		if ((s = get_string(c, e, "from")) == NULL)
			continue;
		if (cidr_parse(s, &cd) == -1) {
			NODE_ERR(c, e, "from: bad address or CIDR '%s'", s);
			continue;
		}
		id->from = pgrowarray(id->from, id->nfrom, sizeof(*id->from));
		id->from[id->nfrom++] = cd;
		strlist_add(&id->from_text, s);
	}
	if (v->len == 0)
		NODE_ERR(c, v, "from: the list is empty (leave 'from' out to "
		    "allow every address)");
}

static const char *const ident_keys_known[] = { "keys", "roles", "from",
    "expires", "disabled", NULL };

static void
ident_field_cb(struct ctx *c, const char *key, struct tree_node *k,
    struct tree_node *v, void *arg)
{
	struct policy_identity	*id = arg;
	const char		*s;
	size_t			 i;

	if (strcmp(key, "keys") == 0)
		ident_keys(c, v, id);
	else if (strcmp(key, "roles") == 0) {
		if (get_strlist(c, v, "roles", NULL, NULL, &id->roles) == -1)
			return;
		id->role_ptrs = pcalloc(id->roles.n, sizeof(*id->role_ptrs));
		for (i = 0; i < id->roles.n; i++)
			if ((id->role_ptrs[i] = role_find(c,
			    id->roles.v[i])) == NULL)
				NODE_ERR(c, v, "roles: undefined role '%s'",
				    id->roles.v[i]);
	} else if (strcmp(key, "from") == 0)
		ident_from(c, v, id);
	else if (strcmp(key, "expires") == 0) {
		if ((s = get_string(c, v, "expires")) == NULL)
			return;
		if (parse_expiry(s, &id->expires) == -1)
			NODE_ERR(c, v, "expires: bad date '%s' (YYYY-MM-DD or "
			    "YYYY-MM-DDTHH:MM:SSZ)", s);
	} else if (strcmp(key, "disabled") == 0)
		(void)get_bool(c, v, "disabled", &id->disabled);
}

static void
identities_cb(struct ctx *c, const char *key, struct tree_node *k,
    struct tree_node *v, void *arg)
{
	struct policy		*p = c->p;
	struct policy_identity	*id;
	static const char *const required[] = { "keys", "roles", NULL };

	if (!policy_valid_name(key)) {
		NODE_ERR(c, k, "identities: bad identity name '%s'", key);
		return;
	}
	c->ident_nodes[p->nidents] = v;
	id = &p->idents[p->nidents++];
	id->name = pstrdup(key);
	if (walk_map(c, v, "identities", ident_keys_known, ident_field_cb,
	    id) == 0)
		require_keys(c, v, "identities", required);
}

/* A later identity that lists a key some identity before it has. */
struct key_clash {
	size_t			 later;		/* in p->idents */
	const struct key_entry	*key;		/* later's entry */
	size_t			 first;		/* the first owner */
};

/* In the order of the file: by identity, then by its keys. */
static int
key_clash_cmp(const void *a, const void *b)
{
	const struct key_clash	*x = a, *y = b;

	if (x->later != y->later)
		return x->later < y->later ? -1 : 1;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return 0;
}

/*
 * A key must name one identity only: otherwise who logged in is a guess.
 * In the key index equal fingerprints are neighbours, sorted by identity,
 * the key's first owner first; every other identity in the run is
 * reported once, against that first owner, at its own mapping.
 */
static void
check_key_owners(struct ctx *c)
{
	struct policy		*p = c->p;
	const struct key_ref	*ki = p->key_index, *first;
	struct key_clash	*cl = NULL;
	size_t			 i, j, n = 0;

	for (i = 0; i < p->nkey_index; i = j) {
		first = &ki[i];
		for (j = i + 1; j < p->nkey_index &&
		    ki[j].order == first->order &&
		    strcmp(ki[j].key->fp, first->key->fp) == 0; j++) {
			if (ki[j].id == ki[j - 1].id)
				continue;
			cl = pgrowarray(cl, n, sizeof(*cl));
			cl[n].later = (size_t)(ki[j].id - p->idents);
			cl[n].key = ki[j].key;
			cl[n++].first = (size_t)(first->id - p->idents);
		}
	}
	if (n > 0)
		qsort(cl, n, sizeof(*cl), key_clash_cmp);
	for (i = 0; i < n; i++)
		NODE_ERR(c, c->ident_nodes[cl[i].later], "identity %s: key %s "
		    "already belongs to identity %s",
		    p->idents[cl[i].later].name, cl[i].key->fp,
		    p->idents[cl[i].first].name);
	free(cl);
}

static const char *const top_keys[] = { "gateway", "hosts", "roles",
    "identities", NULL };

static void
top_cb(struct ctx *c, const char *key, struct tree_node *k,
    struct tree_node *v, void *arg)
{
	/* Sections are built in dependency order below, not file order. */
}

void
schema_build(struct policy *p, struct tree *t, struct policy_errors *errs)
{
	struct ctx		 c = { .p = p, .t = t, .errs = errs };
	struct tree_node	*root, *n;
	static const char *const required[] = { "hosts", "roles", "identities",
	    NULL };

	root = &t->nodes[0];
	if (walk_map(&c, root, "policy", top_keys, top_cb, NULL) == -1)
		return;
	require_keys(&c, root, "policy", required);
	if ((n = map_get(&c, root, "gateway")) != NULL)
		(void)walk_map(&c, n, "gateway", gateway_keys, gateway_cb, NULL);
	/*
	 * Each section holds at most one host, role or identity per pair of
	 * its mapping: their arrays are made, zeroed, at that size at once,
	 * so that thousands of identities are not moved as they are added.
	 */
	n = map_get(&c, root, "hosts");
	p->hosts = pcalloc(map_size(n), sizeof(*p->hosts));
	c.host_nodes = pcalloc(map_size(n), sizeof(*c.host_nodes));
	if (n != NULL)
		(void)walk_map(&c, n, "hosts", NULL, hosts_cb, NULL);
	/* Jumps and the rules of roles name hosts. */
	index_hosts(p);
	check_jumps(&c);
	n = map_get(&c, root, "roles");
	index_role_names(&c, n);
	p->roles = pcalloc(map_size(n), sizeof(*p->roles));
	if (n != NULL)
		(void)walk_map(&c, n, "roles", NULL, roles_cb, NULL);
	index_roles(&c);
	n = map_get(&c, root, "identities");
	p->idents = pcalloc(map_size(n), sizeof(*p->idents));
	pprefault(p->idents, map_size(n) * sizeof(*p->idents));
	c.ident_nodes = pcalloc(map_size(n), sizeof(*c.ident_nodes));
	if (n != NULL)
		(void)walk_map(&c, n, "identities", NULL, identities_cb, NULL);
	index_keys(p);
	check_key_owners(&c);
	free(c.host_nodes);
	free(c.ident_nodes);
	free(c.roles);
	free(c.role_names);
}
