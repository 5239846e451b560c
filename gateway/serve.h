/* serve.h — muxgate serve: the gateway as its own SSH server (libssh). */
#ifndef MUXGATE_SERVE_H
#define MUXGATE_SERVE_H

int	serve_main(int argc, char **argv);

#endif
