/* verify.h — `muxgate verify`: recordings against the audit trail. */
#ifndef MUXGATE_VERIFY_H
#define MUXGATE_VERIFY_H

int	verify_main(int argc, char **argv);

#endif
