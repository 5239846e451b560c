/* check.h — muxgate check: validate, explain, test a request. */
#ifndef MUXGATE_CHECK_H
#define MUXGATE_CHECK_H

int	check_main(int argc, char **argv);

#endif
