/* check.h — muxgate check: validate, explain, test a request. */
#ifndef MUXGATE_CHECK_H
#define MUXGATE_CHECK_H

int	check_main(int argc, char **argv);

/*
 * Warnings about the system around policy P (check-setup.c): the gateway
 * account's shell, home and sudo rights, the tmux users' sudo rights.
 * One "muxgate: warning: setup: ..." line each; runs sudo as root only.
 */
struct policy;
void	check_setup(const struct policy *p);

#endif
