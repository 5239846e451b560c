/* menu.h — the interactive prompt: banner, numbered menu, libedit. */
#ifndef MUXGATE_MENU_H
#define MUXGATE_MENU_H

#include "gateway/gw.h"

int	menu_run(struct gw *);

#endif
