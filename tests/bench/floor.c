/*
 * floor.c — the smallest PTY relay there is, as a reference for the
 * benchmark (relay E): the user's terminal in raw mode, the command on a
 * new pseudo-terminal, one poll() loop copying bytes both ways.  No
 * recording, no escape key, no limits, no signal handling beyond what
 * the kernel does.  What it adds over a direct attach is the cost of the
 * second pseudo-terminal and of one process in between, i.e. the floor
 * under every PTY relay (script, tlog-rec, muxgate) on this machine.
 *
 * Usage: floor COMMAND [ARG...]     (built and run by tests/bench/run)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static int
copy(int from, int to)
{
	char	buf[65536];
	ssize_t	n, w, off;

	n = read(from, buf, sizeof(buf));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return -1;
	for (off = 0; off < n; off += w) {
		w = write(to, buf + off, (size_t)(n - off));
		if (w == -1 && (errno == EAGAIN || errno == EINTR)) {
			struct pollfd p = { to, POLLOUT, 0 };
			(void)poll(&p, 1, -1);
			w = 0;
		} else if (w == -1)
			return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct termios	saved, raw;
	struct winsize	ws;
	struct pollfd	p[2];
	int		master, status;
	pid_t		pid;

	if (argc < 2) {
		fprintf(stderr, "usage: floor COMMAND [ARG...]\n");
		return 2;
	}
	if (tcgetattr(0, &saved) == -1 || ioctl(0, TIOCGWINSZ, &ws) == -1) {
		perror("floor: standard input");
		return 1;
	}
	if ((pid = forkpty(&master, NULL, &saved, &ws)) == -1) {
		perror("floor: forkpty");
		return 1;
	}
	if (pid == 0) {
		execv(argv[1], argv + 1);
		_exit(127);
	}
	raw = saved;
	cfmakeraw(&raw);
	(void)tcsetattr(0, TCSAFLUSH, &raw);
	(void)fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
	(void)fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	p[0].fd = 0;
	p[1].fd = master;
	p[0].events = p[1].events = POLLIN;
	for (;;) {
		if (poll(p, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    copy(master, 1) == -1)
			break;
		if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    copy(0, master) == -1)
			break;
	}
	(void)tcsetattr(0, TCSAFLUSH, &saved);
	(void)kill(pid, SIGHUP);
	(void)waitpid(pid, &status, 0);
	return 0;
}
