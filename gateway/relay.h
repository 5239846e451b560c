/*
 * relay.h — sit between the user's terminal and a tmux client on a
 * pseudo-terminal, as script(1) and sshd do, copying and recording bytes
 * both ways, and filtering what goes to the user.  One poll loop,
 * bounded buffers, no queue grows without end.
 */
#ifndef MUXGATE_RELAY_H
#define MUXGATE_RELAY_H

#include <stdbool.h>
#include <sys/types.h>

#include "gateway/termfilter.h"

struct recorder;
struct winsize;

/*
 * The biggest terminal a session is given, whatever the user's claims:
 * tmux sizes a window for its biggest client (up to 10000x10000 cells),
 * and drawing one that size stalls the whole tmux server, every other
 * client of that user with it.
 */
#define RELAY_MAX_COLS	1000
#define RELAY_MAX_ROWS	1000

enum relay_end {
	RELAY_DETACH,		/* the tmux client exited: detach, session gone */
	RELAY_ESCAPE,		/* the user typed the escape key */
	RELAY_LIFETIME,		/* attach_lifetime reached */
	RELAY_IDLE,		/* idle_timeout reached */
	RELAY_RECORDING,	/* the recording could not be written */
	RELAY_DISK_SPACE,	/* its file system fell below min_free */
	RELAY_HANGUP,		/* the user's side went away */
	RELAY_SIGNAL,		/* muxgate was told to stop */
	RELAY_AUDIT,		/* a required checkpoint record failed */
	RELAY_REVOKED,		/* the identity or its rule is gone */
	RELAY_TERMINATED,	/* muxgate terminate ended it */
	RELAY_ERROR,
};

struct relay_opts {
	int		 in;		/* the user's terminal */
	int		 out;
	int		 master;	/* the tmux client's terminal */
	pid_t		 child;
	bool		 readonly;	/* drop every input byte */
	/*
	 * What of the session's output reaches the user's terminal
	 * (termfilter.h); the recording has all of it.
	 */
	enum termfilter_mode filter;
	int		 escape;	/* escape byte, or -1 for none */
	unsigned	 lifetime;	/* seconds, 0 = off */
	unsigned	 idle;		/* seconds, 0 = off */
	struct recorder	*rec;		/* NULL: not recording */
	bool		 rec_required;
	/*
	 * Every CHECKPOINT seconds (0 = never) of a recorded attach, the
	 * recording is written out and ON_CHECKPOINT(ARG, microseconds since
	 * the start) called; -1 from it ends the relay (RELAY_AUDIT).
	 */
	unsigned	 checkpoint;
	int		(*on_checkpoint)(void *, unsigned long long);
	/*
	 * Every second when not NULL: may the attach go on?  True ends the
	 * relay with *END and WHY (shown to the user once the terminal is
	 * back).
	 */
	bool		(*on_recheck)(void *, enum relay_end *end, char *why,
			    size_t whylen);
	void		*arg;
};

struct relay_stats {
	enum relay_end		 end;
	unsigned long long	 bytes_in;	/* to the session */
	unsigned long long	 bytes_out;	/* from the session (recorded) */
	double			 seconds;
	char			 detail[256];
	bool			 rec_stopped;	/* failed, not required */
};

void		 relay_run(const struct relay_opts *, struct relay_stats *);
const char	*relay_end_name(enum relay_end);

/*
 * WS, the user's terminal size, as the session's terminal may have it:
 * false for a size of 0 in either direction (no size: keep the one there
 * is), else true with WS clamped to RELAY_MAX_COLS x RELAY_MAX_ROWS.
 */
bool	relay_winsize(struct winsize *ws);

#endif
