/* fake_spawn.h — what the fake spawn.c saw (tests/unit/fake_spawn.c). */
#ifndef MUXGATE_FAKE_SPAWN_H
#define MUXGATE_FAKE_SPAWN_H

struct fake_spawn {
	const char	*sessions;	/* list-sessions' output, kept on reset */
	int		 started;	/* children that would have run */
	int		 listed;
	int		 created;
	int		 killed;
	int		 attached;
	char		 last[256];	/* argv[0] of the last one */
};
extern struct fake_spawn fake_spawn;

void	fake_spawn_reset(void);

#endif
