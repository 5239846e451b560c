/*
 * slots.h — attach caps across every muxgate process on the machine,
 * without a daemon.  An attach holds an flock()ed slot file under
 * STATE/attach/; a process that dies, even by kill -9, drops its locks,
 * so its slots free themselves.  The slot file also says who holds it,
 * which is how `ls` shows live viewers.
 */
#ifndef MUXGATE_SLOTS_H
#define MUXGATE_SLOTS_H

#include <stdbool.h>
#include <stddef.h>

struct slot_info {
	const char	*attach_id;
	const char	*identity;
	const char	*mode;		/* attach | watch */
	const char	*host;
	const char	*user;
	const char	*session;
	long long	 since;
};

struct slot {
	int	fd_total;
	int	fd_ident;
};

enum slots_result { SLOTS_OK, SLOTS_FULL, SLOTS_ERROR };

/*
 * Take one of TOTAL machine-wide slots and one of PER_ID slots of the
 * identity.  SLOTS_FULL and SLOTS_ERROR come with one line in ERR.
 */
enum slots_result slots_acquire(const char *state, unsigned per_id,
		    unsigned total, const struct slot_info *, struct slot *,
		    char *err, size_t errlen);
void		 slots_release(struct slot *);

struct viewer {
	char		*attach_id;
	char		*identity;
	char		*mode;
	char		*host;
	char		*user;
	char		*session;
	long long	 since;
};
struct viewers {
	struct viewer	*v;
	size_t		 n;
};
/* Every live attach on this machine (none when STATE is unreadable). */
void		 slots_viewers(const char *state, struct viewers *);
/*
 * The same for callers that must not mistake an unreadable STATE for "no
 * attach is live" (prune): -1 with ERR set when STATE/attach exists but
 * cannot be read; no STATE/attach at all is no live attach.
 */
int		 slots_live(const char *state, struct viewers *, char *err,
		    size_t errlen) __attribute__((warn_unused_result));
void		 viewers_free(struct viewers *);

#endif
