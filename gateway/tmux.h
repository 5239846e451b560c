/*
 * tmux.h — tmux verbs as argument vectors, and the parsing of what tmux
 * prints.  Pure: nothing here runs tmux; see session.c and transport.h.
 */
#ifndef MUXGATE_TMUX_H
#define MUXGATE_TMUX_H

#include <stdbool.h>
#include <stddef.h>
#include "gateway/str.h"

struct tmux_session {
	char		*name;		/* as tmux reports it: untrusted */
	unsigned	 windows;
	long long	 created;
	long long	 activity;
	unsigned	 attached;
	char		*owner;		/* @muxgate-owner, NULL if none */
	/*
	 * Not tmux's: when its TTL tag (ttl.h) says it is to be killed, or
	 * 0.  Set by session_list_scope(); 0 from the parser.
	 */
	long long	 expires;
};

struct tmux_sessions {
	struct tmux_session	*v;
	size_t			 n;
	size_t			 hidden;	/* left out: not addressable */
};

/*
 * Whether "-t =NAME" is sure to mean the session named NAME.  tmux reads
 * a target starting with '$' as a session id even after '=' (3.3a:
 * "=$1" is the session whose id is $1, whatever its name), '@' and '%'
 * as window and pane ids, and '=' as its exact-match prefix; names that
 * start with any of them are never addressed.
 */
bool	tmux_name_addressable(const char *name);

/* Arguments after the tmux binary.  Every target is exact-match "=NAME". */
void	tmux_args_list(struct argv *);
void	tmux_args_new(struct argv *, const char *name, const char *cwd,
	    const char *owner, long long created, int cmdc, char **cmdv);
void	tmux_args_kill(struct argv *, const char *name);
/*
 * Which session is NAME now: display-message printing tmux's id of it
 * ("$N", never reused while its server runs) and its creation time, for
 * tmux_parse_which(); and kill-session of that id alone.
 */
void	tmux_args_which(struct argv *, const char *name);
int	tmux_parse_which(const char *text, unsigned *id, long long *created)
	    __attribute__((warn_unused_result));
void	tmux_args_kill_id(struct argv *, unsigned id);
void	tmux_args_attach(struct argv *, const char *name, bool readonly);

/*
 * Parse list-sessions output in tmux_args_list()'s format.  Sessions
 * whose names are not addressable are left out and counted in HIDDEN.
 */
int	tmux_parse_sessions(const char *text, struct tmux_sessions *,
	    char *err, size_t errlen) __attribute__((warn_unused_result));
void	tmux_sessions_free(struct tmux_sessions *);
const struct tmux_session *tmux_sessions_find(const struct tmux_sessions *,
	    const char *name);

/* What a failed tmux command said. */
enum tmux_failure {
	TMUX_NO_SERVER,		/* no server running: no sessions at all */
	TMUX_NO_SESSION,	/* can't find session */
	TMUX_DUPLICATE,		/* duplicate session */
	TMUX_OTHER,
};
enum tmux_failure tmux_classify(const char *stderr_text);

#endif
