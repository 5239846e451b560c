/* attach.h — attach or watch a target; used by attach, watch and the menu. */
#ifndef MUXGATE_ATTACH_H
#define MUXGATE_ATTACH_H

#include <stdbool.h>
#include "gateway/gw.h"

int	attach_target(struct gw *, const char *target, bool readonly);

#endif
