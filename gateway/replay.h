/* replay.h — muxgate replay: play or print an asciicast recording. */
#ifndef MUXGATE_REPLAY_H
#define MUXGATE_REPLAY_H

int	replay_main(int argc, char **argv);
/* `muxgate export [--key KEY] FILE`: the asciicast file, opened. */
int	export_main(int argc, char **argv);

#endif
