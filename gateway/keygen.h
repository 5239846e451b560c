/* keygen.h — muxgate keygen: an auditor key pair for sealed recordings. */
#ifndef MUXGATE_KEYGEN_H
#define MUXGATE_KEYGEN_H

int	keygen_main(int argc, char **argv);

#endif
