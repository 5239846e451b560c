/*
 * attach.h — attach or watch a session: the exec of the attach and watch
 * commands, once cmd_run has parsed, decided and found the session.
 */
#ifndef MUXGATE_ATTACH_H
#define MUXGATE_ATTACH_H

#include <stdbool.h>
#include "gateway/cmd.h"
#include "gateway/gw.h"

int	attach_run(struct gw *, struct cmd_req *, bool readonly);

#endif
