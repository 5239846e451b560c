/*
 * reap.h — muxgate reap: what is due in the shared state, done (expired
 * session TTLs killed), then the state swept.
 */
#ifndef MUXGATE_REAP_H
#define MUXGATE_REAP_H

int	reap_main(int argc, char **argv);

#endif
