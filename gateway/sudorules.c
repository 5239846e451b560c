/*
 * sudorules.c — judge the output of `sudo -l -U USER` (sudo 1.8, 1.9):
 *
 *	Matching Defaults entries for USER on HOST:
 *	    env_reset, mail_badpass,
 *	    secure_path=...
 *
 *	Runas and Command-specific defaults for USER:
 *	    Defaults!/usr/bin/id !env_reset
 *
 *	User USER may run the following commands on HOST:
 *	    (deploy, build) NOPASSWD: /usr/bin/tmux
 *	    (a, b, c, ... long list)
 *	        NOPASSWD: /usr/bin/tmux
 *
 * or "User USER is not allowed to run sudo on HOST."  A rule starts four
 * spaces in with its runas list; a line eight spaces in continues the
 * rule before it (sudo wraps at 80 columns).  The defaults are not
 * judged: what sudo lets the gateway account do is in the rules.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/sudorules.h"
#include "gateway/xmalloc.h"

/* Tags that change how, not what or as whom. */
static const char *const harmless_tags[] = { "NOPASSWD", "PASSWD", "NOEXEC",
    "EXEC", "LOG_INPUT", "NOLOG_INPUT", "LOG_OUTPUT", "NOLOG_OUTPUT",
    "MAIL", "NOMAIL", "FOLLOW", "NOFOLLOW", "INTERCEPT", "NOINTERCEPT",
    "NOSETENV", NULL };

enum section { S_NONE, S_DEFAULTS, S_RULES, S_DENIED };

static bool
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool
in_list(const char *w, size_t len, const char *const *list, size_t n)
{
	size_t	i;

	for (i = 0; i < n && list[i] != NULL; i++)
		if (strlen(list[i]) == len && strncmp(list[i], w, len) == 0)
			return true;
	return false;
}

/* The first reason one runas user is more than WANT allows, or NULL. */
static const char *
judge_runas_user(const char *u, size_t len, const struct sudorules_want *want)
{
	if (len == 0)
		return "an empty runas user";
	if (len == 3 && strncmp(u, "ALL", 3) == 0)
		return "as any user (ALL)";
	if (len == 4 && strncmp(u, "root", 4) == 0)
		return "as root";
	if (strchr("%+#!", u[0]) != NULL)
		return "as a group, netgroup, uid or negation";
	if (!in_list(u, len, want->runas, want->nrunas))
		return "as a user that is not a local tmux user";
	return NULL;
}

/* RUNAS is what is between the parentheses. */
static const char *
judge_runas(const char *runas, const struct sudorules_want *want)
{
	const char	*p = runas, *end, *why;

	if (strchr(runas, ':') != NULL)
		return "with a runas group";
	for (;;) {
		if ((end = strstr(p, ", ")) == NULL)
			end = p + strlen(p);
		if ((why = judge_runas_user(p, (size_t)(end - p), want)) != NULL)
			return why;
		if (*end == '\0')
			return NULL;
		p = end + 2;
	}
}

/* CMDS is what follows the runas list; tags and options first. */
static const char *
judge_commands(const char *cmds, const struct sudorules_want *want)
{
	const char	*p = cmds, *sp, *colon, *end;
	size_t		 len;

	/* Tags: WORD: (upper case and _), each followed by a space. */
	for (;;) {
		colon = p + strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_");
		if (colon == p || *colon != ':')
			break;
		len = (size_t)(colon - p);
		if (len == 6 && strncmp(p, "SETENV", 6) == 0)
			return "SETENV: the caller may set the environment";
		if (!in_list(p, len, harmless_tags, SIZE_MAX))
			return "an unknown tag";
		p = colon + 1;
		p += strspn(p, " ");
	}
	/* Options such as ROLE=, CWD=, TIMEOUT=: the first word, before a path. */
	sp = p + strcspn(p, " ,");
	if (memchr(p, '=', (size_t)(sp - p)) != NULL)
		return "an option";
	for (;;) {
		if ((end = strstr(p, ", ")) == NULL)
			end = p + strlen(p);
		len = (size_t)(end - p);
		if (len == 3 && strncmp(p, "ALL", 3) == 0)
			return "any command (ALL)";
		if (len != strlen(want->tmux) || strncmp(p, want->tmux, len) != 0)
			return "a command other than tmux without arguments";
		if (*end == '\0')
			return NULL;
		p = end + 2;
	}
}

static void
judge_rule(const char *rule, const struct sudorules_want *want,
    struct argv *findings, size_t *n)
{
	const char	*close, *why;
	char		*runas;

	if (rule[0] != '(' || (close = strchr(rule, ')')) == NULL ||
	    close[1] != ' ') {
		argv_addf(findings, "%s: not understood", rule);
		(*n)++;
		return;
	}
	if (want == NULL) {
		argv_addf(findings, "%s", rule);
		(*n)++;
		return;
	}
	runas = xstrndup(rule + 1, (size_t)(close - rule - 1));
	if ((why = judge_runas(runas, want)) == NULL)
		why = judge_commands(close + 2, want);
	free(runas);
	if (why != NULL) {
		argv_addf(findings, "%s: %s", rule, why);
		(*n)++;
	}
}

/* The rule gathered so far, judged and forgotten. */
static void
flush_rule(struct buf *rule, const struct sudorules_want *want,
    struct argv *findings, size_t *n)
{
	if (rule->len == 0)
		return;
	judge_rule(rule->data, want, findings, n);
	buf_free(rule);
}

static enum section
header(const char *line)
{
	if (starts(line, "Matching Defaults entries for ") ||
	    starts(line, "Runas and Command-specific defaults for "))
		return S_DEFAULTS;
	if (starts(line, "User ") &&
	    strstr(line, " may run the following commands") != NULL)
		return S_RULES;
	if (starts(line, "User ") &&
	    strstr(line, " is not allowed to run sudo") != NULL)
		return S_DENIED;
	return S_NONE;
}

/* One line of the output (without its newline). */
static void
one_line(const char *line, enum section *sec, bool *known, struct buf *rule,
    const struct sudorules_want *want, struct argv *findings, size_t *n)
{
	enum section	 h;

	if (line[0] == '\0')
		return;
	if (line[0] != ' ') {
		flush_rule(rule, want, findings, n);
		if ((h = header(line)) == S_NONE) {
			argv_addf(findings, "%s: not understood", line);
			(*n)++;
		} else if (h != S_DEFAULTS)
			*known = true;
		*sec = h;
		return;
	}
	if (*sec == S_DEFAULTS)
		return;
	if (*sec == S_RULES && starts(line, "        ") && rule->len > 0) {
		buf_addc(rule, ' ');
		buf_adds(rule, line + strspn(line, " "));
	} else if (*sec == S_RULES && starts(line, "    ") && line[4] == '(') {
		flush_rule(rule, want, findings, n);
		buf_adds(rule, line + 4);
	} else {
		argv_addf(findings, "%s: not understood",
		    line + strspn(line, " "));
		(*n)++;
	}
}

size_t
sudorules_judge(const char *out, const struct sudorules_want *want,
    struct argv *findings)
{
	struct buf	 rule = { 0 };
	enum section	 sec = S_NONE;
	const char	*p = out, *nl;
	char		*line;
	bool		 known = false;
	size_t		 n = 0;

	while (*p != '\0') {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		line = xstrndup(p, (size_t)(nl - p));
		one_line(line, &sec, &known, &rule, want, findings, &n);
		free(line);
		p = *nl == '\0' ? nl : nl + 1;
	}
	flush_rule(&rule, want, findings, &n);
	if (!known) {
		argv_add(findings, "no list of rules in the output of sudo -l");
		n++;
	}
	return n;
}
