/* recordings.h — muxgate recordings: find recordings by their headers. */
#ifndef MUXGATE_RECORDINGS_H
#define MUXGATE_RECORDINGS_H

int	recordings_main(int argc, char **argv);

#endif
