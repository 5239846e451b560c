/*
 * fuzz_policyvals.c — the values of a policy file, each parser called
 * directly on the same string rather than through YAML: durations
 * (policy_parse_duration: "90m", "1d"; also `request --for`, `prune
 * --older-than`), sizes ("10M"), percentages ("7%"), numbers and ports
 * (num_parse as get_uint reads them), `serve.listen` ("[::1]:2222"),
 * `serve.max_startups` ("10:30:100"), `from:` CIDR blocks and the client
 * addresses matched against them, host addresses, ssh_config values,
 * expiry dates, names and key fingerprints.  Whoever writes the policy
 * controls these bytes; `--for` and `--older-than` come from users.
 *
 * Each accepted value is checked against a reading written apart from
 * policy/ (for the numbers), or against its own text written back (for
 * addresses, blocks and dates): nothing may be accepted that means
 * something else than it says.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "policy/policy-int.h"
#include "util/num.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The decimal digits that start S, saturated at LIMIT + 1; *N how many.
 */
static unsigned long long
digits(const char *s, unsigned long long limit, size_t *n)
{
	unsigned long long	v = 0;

	for (*n = 0; s[*n] >= '0' && s[*n] <= '9'; (*n)++)
		if (v <= limit)
			v = v * 10 + (unsigned long long)(s[*n] - '0');
	return v > limit ? limit + 1 : v;
}

static void
check_number(const char *s)
{
	const char	*errstr = NULL;
	long long	 v = -1;
	unsigned long long want;
	size_t		 n;
	int		 r;

	r = num_parse(s, 1, 65535, &v, &errstr);
	want = digits(s, 65535, &n);
	if (r == 0 && (n == 0 || s[n] != '\0' || want < 1 ||
	    (unsigned long long)v != want || errstr != NULL))
		abort();
	if (r == -1 && n > 0 && s[n] == '\0' && want >= 1 && want <= 65535)
		abort();
	if (r == -1 && errstr == NULL)
		abort();
}

static void
check_duration(const char *s)
{
	unsigned long long	 v, mul;
	unsigned		 out = 0;
	size_t			 n;
	int			 r, ok;
	const unsigned long long cap = 3650ULL * 86400;

	r = policy_parse_duration(s, &out);
	v = digits(s, cap, &n);
	switch (n > 0 && s[n] != '\0' && s[n + 1] == '\0' ? s[n] : '\0') {
	case 's': mul = 1; break;
	case 'm': mul = 60; break;
	case 'h': mul = 3600; break;
	case 'd': mul = 86400; break;
	default: mul = 0; break;
	}
	ok = strcmp(s, "0") == 0 || (mul != 0 && v <= cap / mul);
	if (r != (ok ? 0 : -1))
		abort();
	if (r == 0 && out != (strcmp(s, "0") == 0 ? 0 : v * mul))
		abort();
}

static void
check_size(const char *s)
{
	unsigned long long	 v, mul = 1, out = 0;
	const unsigned long long cap = 1ULL << 50;
	size_t			 n;
	const char		*unit;
	int			 r, ok;

	r = policy_parse_size(s, &out);
	v = digits(s, cap, &n);
	unit = s + n;
	if (*unit != '\0' && unit[1] == '\0') {
		switch (*unit) {
		case 'K': mul = 1ULL << 10; break;
		case 'M': mul = 1ULL << 20; break;
		case 'G': mul = 1ULL << 30; break;
		case 'T': mul = 1ULL << 40; break;
		default: mul = 0; break;
		}
	} else if (*unit != '\0')
		mul = 0;
	ok = n > 0 && v >= 1 && mul != 0 && v <= cap / mul;
	if (r != (ok ? 0 : -1) || (r == 0 && out != v * mul))
		abort();
}

static void
check_percent(const char *s)
{
	unsigned long long	v;
	unsigned		out = 100;
	size_t			n, len = strlen(s);
	int			r, ok;

	r = parse_percent(s, &out);
	v = digits(s, 99, &n);
	ok = len >= 2 && len <= 4 && n > 0 && s[n] == '%' && s[n + 1] == '\0' &&
	    v <= 99;
	if (r != (ok ? 0 : -1) || (r == 0 && out != v))
		abort();
}

static void
check_listen(const char *s)
{
	char		 addr[64], again[80];
	unsigned char	 tmp[16];
	unsigned	 port = 0, port2 = 0;
	bool		 v6;

	if (policy_parse_listen(s, addr, sizeof(addr), &port) == -1)
		return;
	if (port < 1 || port > 65535)
		abort();
	v6 = inet_pton(AF_INET6, addr, tmp) == 1;
	if (!v6 && inet_pton(AF_INET, addr, tmp) != 1)
		abort();
	/* Written back, it reads the same. */
	snprintf(again, sizeof(again), v6 ? "[%s]:%u" : "%s:%u", addr, port);
	if (policy_parse_listen(again, NULL, 0, &port2) == -1 || port2 != port)
		abort();
}

static void
check_startups(const char *s)
{
	unsigned	 b = 0, r = 0, f = 0;
	const char	*errstr = NULL;

	if (policy_parse_startups(s, &b, &r, &f, &errstr) == -1) {
		if (errstr == NULL)
			abort();
		return;
	}
	if (b < 1 || b > f || f > 10000 || r < 1 || r > 100)
		abort();
}

static void
check_cidr(const char *s)
{
	struct cidr	 c, c2;
	char		 text[INET6_ADDRSTRLEN], again[INET6_ADDRSTRLEN + 8];

	if (cidr_parse(s, &c) == -1)
		return;
	if ((c.family != AF_INET || c.bits > 32) &&
	    (c.family != AF_INET6 || c.bits > 128))
		abort();
	if (inet_ntop(c.family, c.addr, text, sizeof(text)) == NULL)
		abort();
	/* Its own address is in the block, and it reads back the same. */
	if (!cidr_match_str(&c, 1, text))
		abort();
	snprintf(again, sizeof(again), "%s/%u", text, c.bits);
	if (cidr_parse(again, &c2) == -1 || c2.family != c.family ||
	    c2.bits != c.bits || memcmp(c2.addr, c.addr, sizeof(c.addr)) != 0)
		abort();
}

/* S as a client address against fixed blocks, and against itself. */
static void
check_client_addr(const char *s)
{
	static struct cidr	blocks[4];
	static bool		init;
	struct cidr		self;
	unsigned char		a[16];
	bool			in;

	if (!init) {
		if (cidr_parse("10.0.0.0/8", &blocks[0]) == -1 ||
		    cidr_parse("2001:db8::/32", &blocks[1]) == -1 ||
		    cidr_parse("192.0.2.7", &blocks[2]) == -1 ||
		    cidr_parse("0.0.0.0/0", &blocks[3]) == -1)
			abort();
		init = true;
	}
	in = cidr_match_str(blocks, 3, s);
	/* Only something that is an address is ever in a block. */
	if (in && inet_pton(AF_INET, s, a) != 1 &&
	    inet_pton(AF_INET6, s, a) != 1)
		abort();
	/* Every IPv4 address is in 0.0.0.0/0. */
	if (inet_pton(AF_INET, s, a) == 1 && !cidr_match_str(&blocks[3], 1, s))
		abort();
	if (cidr_parse(s, &self) == 0 && strchr(s, '/') == NULL &&
	    !cidr_match_str(&self, 1, s))
		abort();
}

static void
check_text(const char *s)
{
	const char	*bad;
	const unsigned char *p;
	size_t		 len = strlen(s);

	if (host_address_valid(s) && (len == 0 || len > 253 || s[0] == '-' ||
	    strpbrk(s, " \t\r\n@/\\'\"`$;&|<>()") != NULL))
		abort();
	bad = ssh_config_bad_char(s);
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p <= 0x20 || *p == 0x7f || *p == '"' || *p == '\'' ||
		    *p == '\\' || *p == '%')
			break;
	if (bad != (*p != '\0' ? (const char *)p : NULL))
		abort();
	if (policy_valid_name(s) && (len == 0 || len > 64 ||
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.-") != len))
		abort();
	if (policy_valid_user(s) && (len == 0 || len > 32 || s[0] == '-'))
		abort();
	if (valid_fp(s) && (len != POLICY_FP_LEN - 1 ||
	    strncmp(s, "SHA256:", 7) != 0))
		abort();
}

static void
check_expiry(const char *s)
{
	struct tm	 tm;
	time_t		 t = 0, t2 = 0;
	char		 again[64];

	if (parse_expiry(s, &t) == -1)
		return;
	if (t <= 0 || gmtime_r(&t, &tm) == NULL)
		abort();
	/* The instant it means, written as one, means the same instant. */
	if (strftime(again, sizeof(again), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return;
	if (tm.tm_year + 1900 >= 1000 && tm.tm_year + 1900 <= 9999 &&
	    (parse_expiry(again, &t2) == -1 || t2 != t))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s;

	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	check_number(s);
	check_duration(s);
	check_size(s);
	check_percent(s);
	check_listen(s);
	check_startups(s);
	check_cidr(s);
	check_client_addr(s);
	check_text(s);
	check_expiry(s);
	free(s);
	return 0;
}
