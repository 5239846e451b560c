/* target.h — USER@HOST:SESSION and its shorter forms. */
#ifndef MUXGATE_TARGET_H
#define MUXGATE_TARGET_H

#include <stdbool.h>
#include <stddef.h>

enum target_kind {
	TARGET_HOST = 1 << 0,		/* HOST */
	TARGET_USER_HOST = 1 << 1,	/* USER@HOST */
	TARGET_SESSION = 1 << 2,	/* USER@HOST:SESSION */
};

struct target {
	enum target_kind kind;
	char		*user;		/* NULL for TARGET_HOST */
	char		*host;
	char		*session;	/* NULL unless TARGET_SESSION */
};

/*
 * Parse S into T; KINDS is the set of forms the caller accepts.  Returns
 * 0, or -1 with one line in ERR.  Host and user names are checked against
 * the policy's character sets; session names may not hold ':' or '.',
 * which tmux never leaves in a name, nor start with '$', '@', '%' or '='
 * (see tmux_name_addressable()).
 */
int	target_parse(const char *s, unsigned kinds, struct target *t,
	    char *err, size_t errlen) __attribute__((warn_unused_result));
void	target_free(struct target *);
/* Names for new sessions: [A-Za-z0-9_-]{1,64}. */
bool	target_valid_new_name(const char *);

#endif
