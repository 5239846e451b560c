/* match.c — host patterns, label maps, tmux users and CIDR blocks. */
#include <arpa/inet.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy/policy-int.h"
#include "util/num.h"

bool
is_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

bool
match_host(const struct rule *r, const struct policy_host *h)
{
	size_t		 i;
	const char	*v;

	switch (r->hosts_kind) {
	case RULE_HOSTS_ANY:
		return true;
	case RULE_HOSTS_NAMES:
		for (i = 0; i < r->hosts.n; i++)
			if (fnmatch(r->hosts.v[i], h->name, 0) == 0)
				return true;
		return false;
	case RULE_HOSTS_LABELS:
		/* Every label of the rule must be on the host. */
		for (i = 0; i < r->nlabels; i++) {
			v = policy_host_label(h, r->labels[i].key);
			if (v == NULL || strcmp(v, r->labels[i].value) != 0)
				return false;
		}
		return true;
	}
	return false;
}

bool
match_user(const struct rule *r, const char *user)
{
	return r->any_user || strlist_has(&r->users, user);
}

int
cidr_parse(const char *s, struct cidr *out)
{
	char		 buf[INET6_ADDRSTRLEN + 8], *slash;
	const char	*errstr;
	long long	 bits;
	unsigned	 max;

	if (strlen(s) >= sizeof(buf))
		return -1;
	memcpy(buf, s, strlen(s) + 1);
	memset(out, 0, sizeof(*out));
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else
		return -1;
	out->bits = max;
	if (slash != NULL) {
		if (num_parse(slash, 0, max, &bits, &errstr) == -1)
			return -1;
		out->bits = (unsigned)bits;
	}
	return 0;
}

static bool
prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned	full = bits / 8, rest = bits % 8;
	unsigned char	mask;

	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

bool
cidr_match_str(const struct cidr *list, size_t n, const char *addr)
{
	unsigned char	a4[4], a6[16];
	bool		is4 = false, is6 = false;
	size_t		i;
	static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0xff, 0xff };

	if (addr == NULL)
		return false;
	if (inet_pton(AF_INET, addr, a4) == 1)
		is4 = true;
	else if (inet_pton(AF_INET6, addr, a6) == 1) {
		is6 = true;
		/* An IPv4 client on a dual-stack socket: match it as IPv4. */
		if (memcmp(a6, v4mapped, 12) == 0) {
			memcpy(a4, a6 + 12, 4);
			is4 = true;
		}
	}
	for (i = 0; i < n; i++) {
		if (list[i].family == AF_INET && is4 &&
		    prefix_equal(list[i].addr, a4, list[i].bits))
			return true;
		if (list[i].family == AF_INET6 && is6 &&
		    prefix_equal(list[i].addr, a6, list[i].bits))
			return true;
	}
	return false;
}
