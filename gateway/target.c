/* target.c — parse USER@HOST[:SESSION] and HOST. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/target.h"
#include "gateway/tmux.h"
#include "gateway/xmalloc.h"
#include "policy/policy.h"
#include "util/ascii.h"

#define TARGET_MAX_SESSION 256

static const char *
kinds_text(unsigned kinds)
{
	if (kinds == TARGET_SESSION)
		return "USER@HOST:SESSION";
	if (kinds == (TARGET_HOST | TARGET_USER_HOST | TARGET_SESSION))
		return "HOST, USER@HOST or USER@HOST:SESSION";
	if (kinds == (TARGET_USER_HOST | TARGET_SESSION))
		return "USER@HOST or USER@HOST:SESSION";
	return "USER@HOST";
}

int
target_parse(const char *s, unsigned kinds, struct target *t, char *err,
    size_t errlen)
{
	const char	*at, *colon, *host;
	size_t		 hostlen;
	char		*sess = NULL;

	memset(t, 0, sizeof(*t));
	at = strchr(s, '@');
	colon = strchr(s, ':');
	if (colon != NULL && (at == NULL || colon < at))
		goto bad;
	if (at == NULL) {
		t->kind = TARGET_HOST;
		host = s;
		hostlen = strlen(s);
	} else {
		t->user = xstrndup(s, (size_t)(at - s));
		host = at + 1;
		hostlen = colon != NULL ? (size_t)(colon - host) : strlen(host);
		t->kind = colon != NULL ? TARGET_SESSION : TARGET_USER_HOST;
	}
	if ((t->kind & kinds) == 0)
		goto bad;
	t->host = xstrndup(host, hostlen);
	if (!policy_valid_name(t->host)) {
		snprintf(err, errlen, "bad host name in target '%s'", s);
		goto fail;
	}
	if (t->user != NULL && !policy_valid_user(t->user)) {
		snprintf(err, errlen, "bad user name in target '%s'", s);
		goto fail;
	}
	if (t->kind == TARGET_SESSION) {
		sess = xstrdup(colon + 1);
		if (*sess == '\0' || strlen(sess) > TARGET_MAX_SESSION) {
			snprintf(err, errlen, "bad session name in target '%s'",
			    s);
			goto fail;
		}
		if (strpbrk(sess, ":.") != NULL) {
			snprintf(err, errlen, "session names never contain "
			    "':' or '.' (tmux replaces them with '_')");
			goto fail;
		}
		if (!tmux_name_addressable(sess)) {
			snprintf(err, errlen, "session names starting with "
			    "'$', '@', '%%' or '=' are refused (tmux would read "
			    "them as an id, not a name)");
			goto fail;
		}
		t->session = sess;
		sess = NULL;
	}
	return 0;
bad:
	snprintf(err, errlen, "bad target '%s': expected %s", s,
	    kinds_text(kinds));
fail:
	free(sess);
	target_free(t);
	return -1;
}

void
target_free(struct target *t)
{
	free(t->user);
	free(t->host);
	free(t->session);
	memset(t, 0, sizeof(*t));
}

bool
target_valid_new_name(const char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++)
		if (!(ascii_alnum(s[i]) || s[i] == '_' || s[i] == '-'))
			return false;
	return i >= 1 && i <= 64;
}
