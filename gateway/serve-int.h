/*
 * serve-int.h — what the parts of `muxgate serve` share, and nothing
 * else includes: the options and one connection.
 *
 *   serve.c          the listener and its limits, one process per connection
 *   serve-auth.c     the host key and the login
 *   serve-channel.c  the session channel: the shell and the bounded pump
 */
#ifndef MUXGATE_SERVE_INT_H
#define MUXGATE_SERVE_INT_H

#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/types.h>

#include "gateway/sshlib.h"
#include "policy/policy.h"

/*
 * One bounded buffer per direction, as sudo's exec_pty.c does: reading
 * fills it, writing drains it, and a full buffer stops the reading.  What
 * the shell has not taken yet stays in libssh, whose channel window then
 * holds the client back; what the client has not taken yet stays in the
 * shell's pipe, which then blocks the shell.  Nothing grows without bound
 * and nothing here ever blocks, so a client that goes away is noticed.
 */
#define SERVE_IO_BUF	32768

struct iobuf {
	char	 data[SERVE_IO_BUF];
	size_t	 off;		/* first pending byte */
	size_t	 len;		/* pending bytes from off */
	bool	 eof;		/* no more will be read into it */
};

struct serve_opts {
	const char	*config;
	const char	*listen;
	const char	*host_key;
	const char	*user;
	char		 self[4096];	/* this binary, for the shells */
	bool		 syslog;
};

/* One connection, in its own process. */
struct conn {
	const struct serve_opts		*o;
	const struct policy		*policy;
	ssh_session			 session;
	ssh_channel			 channel;
	/* libssh keeps pointers to these for the session's life */
	struct ssh_server_callbacks_struct scb;
	struct ssh_channel_callbacks_struct ccb;
	char				 peer[INET6_ADDRSTRLEN];
	unsigned			 peer_port;
	char				 local[INET6_ADDRSTRLEN];
	unsigned			 local_port;
	/* the login: serve-auth.c */
	char				*ssh_user;
	const struct policy_identity	*id;
	char				*key_line;	/* "TYPE BASE64" */
	char				 fp[POLICY_FP_LEN];
	unsigned			 tries;
	bool				 authenticated;
	char				*auth_file;	/* SSH_USER_AUTH */
	/* the channel: serve-channel.c */
	int				 pty_master;
	int				 pty_slave;
	struct winsize			 ws;
	char				 term[64];
	char				 lang[64];
	pid_t				 pid;
	int				 to_child;	/* stdin, or the pty */
	int				 from_child;	/* stdout, or the pty */
	int				 err_child;
	struct iobuf			 in;		/* client -> shell */
	struct iobuf			 out;		/* shell stdout -> client */
	struct iobuf			 err;		/* shell stderr -> client */
	int				 status;
	bool				 exited;
};

/* A connection told to stop (SIGTERM, SIGHUP) ends like a closed one. */
extern volatile sig_atomic_t serve_conn_stop;

/* serve-auth.c */
int	serve_host_key(const char *path, char *err, size_t errlen)
	    __attribute__((warn_unused_result));
/* Public keys only; to be set before the key exchange. */
void	serve_auth_init(struct conn *);
/* Until a login and a session channel: 0, or -1 to drop the client. */
int	serve_auth_wait(struct conn *, ssh_event)
	    __attribute__((warn_unused_result));
/* The SSH_USER_AUTH file of the login (c->auth_file); -1 with ERR set. */
int	serve_auth_file(struct conn *, char *err, size_t errlen)
	    __attribute__((warn_unused_result));
void	serve_auth_free(struct conn *);

/* serve-channel.c */
/* Serve the session channel until the shell or the client ends it. */
void	serve_channel_run(struct conn *, ssh_event);
void	serve_channel_free(struct conn *);

#endif
