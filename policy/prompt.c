/*
 * prompt.c — gateway.recording.secret_prompts: what a pattern may be.
 * Each is a POSIX extended regular expression that every recording
 * compiles again (gateway/secretmask.c) and matches against a line of at
 * most a few hundred characters; the policy checks here, at load, that
 * it compiles and that neither compiling nor matching it can take long.
 */
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "policy/policy-int.h"

const char *const policy_default_secret_prompts[] = {
	/* A newline inside brackets: POSIX takes "\n" there as two bytes. */
	"[Pp]assword[^:\n]{0,40}: ?$",
	"[Pp]assphrase[^:\n]{0,40}: ?$",
	"PIN: ?$",
	"Verification code: ?$",
};
const size_t policy_ndefault_secret_prompts =
    sizeof(policy_default_secret_prompts) /
    sizeof(policy_default_secret_prompts[0]);

/*
 * Bounded repetitions are expanded by regcomp: "(a{1000}){1000}" takes
 * a second and "((a{255}){255}){255}" all the memory there is, and so is
 * "+", which it makes a copy and a "*".  The size of a pattern, each
 * atom counting 1, each bound multiplying what it repeats and each "+"
 * doubling it, may not exceed this.
 */
#define PROMPT_SIZE_MAX		4096
#define PROMPT_LEN_MAX		512
#define SATURATE		(PROMPT_SIZE_MAX + 1ULL)

struct rx {
	const char	*s;
	size_t		 i;
	bool		 backref;
};

static unsigned long long
sat_add(unsigned long long a, unsigned long long b)
{
	return a + b > SATURATE ? SATURATE : a + b;
}

static unsigned long long
sat_mul(unsigned long long a, unsigned long long b)
{
	return b != 0 && a > SATURATE / b ? SATURATE : a * b;
}

/* "{M}", "{M,}" or "{M,N}" at RX: the most times it repeats, plus one. */
static unsigned long long
bound(struct rx *rx)
{
	unsigned long long	 m = 0, n = 0;
	const char		*s = rx->s;
	bool			 comma = false, digits = false;

	rx->i++;
	while (s[rx->i] != '\0' && s[rx->i] != '}') {
		if (s[rx->i] == ',')
			comma = true;
		else if (s[rx->i] >= '0' && s[rx->i] <= '9') {
			digits = true;
			if (comma)
				n = sat_add(sat_mul(n, 10), (unsigned)(s[rx->i] - '0'));
			else
				m = sat_add(sat_mul(m, 10), (unsigned)(s[rx->i] - '0'));
		} else
			break;
		rx->i++;
	}
	if (s[rx->i] == '}')
		rx->i++;
	if (!digits)
		return 1;
	return sat_add(m > n ? m : n, 1);
}

/* A bracket expression at RX, "[" included. */
static void
bracket(struct rx *rx)
{
	const char	*s = rx->s;
	char		 kind;

	rx->i++;
	if (s[rx->i] == '^')
		rx->i++;
	if (s[rx->i] == ']')
		rx->i++;
	while (s[rx->i] != '\0' && s[rx->i] != ']') {
		if (s[rx->i] == '[' && (s[rx->i + 1] == ':' ||
		    s[rx->i + 1] == '.' || s[rx->i + 1] == '=')) {
			kind = s[rx->i + 1];
			for (rx->i += 2; s[rx->i] != '\0' && !(s[rx->i] == kind &&
			    s[rx->i + 1] == ']'); rx->i++)
				;
			if (s[rx->i] != '\0')
				rx->i += 2;
			continue;
		}
		rx->i++;
	}
	if (s[rx->i] == ']')
		rx->i++;
}

static unsigned long long	sequence(struct rx *);

static unsigned long long
atom(struct rx *rx)
{
	unsigned long long	 size;
	const char		*s = rx->s;

	switch (s[rx->i]) {
	case '(':
		rx->i++;
		size = sequence(rx);
		if (s[rx->i] == ')')
			rx->i++;
		return sat_add(size, 1);
	case '[':
		bracket(rx);
		return 1;
	case '\\':
		rx->i++;
		if (s[rx->i] >= '1' && s[rx->i] <= '9')
			rx->backref = true;
		if (s[rx->i] != '\0')
			rx->i++;
		return 1;
	default:
		rx->i++;
		return 1;
	}
}

/* Branches up to ")" or the end; their sizes add up. */
static unsigned long long
sequence(struct rx *rx)
{
	unsigned long long	 total = 0, size;
	const char		*s = rx->s;

	while (s[rx->i] != '\0' && s[rx->i] != ')') {
		if (s[rx->i] == '|') {
			rx->i++;
			continue;
		}
		size = atom(rx);
		while (s[rx->i] == '*' || s[rx->i] == '+' || s[rx->i] == '?' ||
		    s[rx->i] == '{') {
			if (s[rx->i] == '{')
				size = sat_mul(size, bound(rx));
			else {
				/*
				 * regcomp makes "X+" of "XX*": a copy of
				 * what it repeats, so that "a++++..." doubles
				 * with every "+" (48 took minutes).
				 */
				if (s[rx->i] == '+')
					size = sat_mul(size, 2);
				rx->i++;
			}
		}
		total = sat_add(total, size);
	}
	return total;
}

int
prompt_check(const char *s, char *why, size_t whylen)
{
	struct rx	 rx = { s, 0, false };
	unsigned long long size = 0;
	regex_t		 re;
	int		 rc;

	if (*s == '\0') {
		snprintf(why, whylen, "an empty pattern matches every line");
		return -1;
	}
	if (strlen(s) > PROMPT_LEN_MAX) {
		snprintf(why, whylen, "longer than %d bytes", PROMPT_LEN_MAX);
		return -1;
	}
	/* A ")" with no "(" is regcomp's to refuse. */
	while (s[rx.i] != '\0') {
		size = sat_add(size, sequence(&rx));
		if (s[rx.i] == ')')
			rx.i++;
	}
	if (rx.backref) {
		snprintf(why, whylen, "back-references (\\1 to \\9) are not "
		    "allowed: they can make matching take very long");
		return -1;
	}
	if (size > PROMPT_SIZE_MAX) {
		snprintf(why, whylen, "too large: its repetitions ({M,N}) make "
		    "it more than %d characters long", PROMPT_SIZE_MAX);
		return -1;
	}
	if ((rc = regcomp(&re, s, REG_EXTENDED | REG_NOSUB)) != 0) {
		regerror(rc, &re, why, whylen);
		return -1;
	}
	regfree(&re);
	return 0;
}
