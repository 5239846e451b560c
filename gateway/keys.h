/* keys.h — muxgate keys: the policy's keys for sshd's AuthorizedKeysCommand. */
#ifndef MUXGATE_KEYS_H
#define MUXGATE_KEYS_H

int	keys_main(int argc, char **argv);

#endif
