/* prune.h — muxgate prune: remove old recordings (retention). */
#ifndef MUXGATE_PRUNE_H
#define MUXGATE_PRUNE_H

int	prune_main(int argc, char **argv);

#endif
