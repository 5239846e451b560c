/*
 * recinfo.h — what a recording says about itself, read from its first
 * line and its last complete line, never from all of it.
 *
 * A recording (record.h) starts with its asciicast v2 header; a sealed
 * recording (NAME.sealed) starts with one line
 *	{"muxgate_sealed":1,"cast":HEADER,"recipients":[...],"stream":"..."}
 * and binary frames follow it.  Either way the header must have
 * "version" 2, an integer "timestamp" and a "muxgate" object with the
 * strings attach_id, identity, host, tmux_user, session and mode.  The
 * duration of a plain recording is the time of its last event; that of
 * a sealed one is not readable.
 *
 * Everything here comes from a file: untrusted, and escaped before it
 * reaches a terminal (output.h).
 */
#ifndef MUXGATE_RECINFO_H
#define MUXGATE_RECINFO_H

#include <stdbool.h>
#include <stddef.h>

/* The longest first line read: a header is a few hundred bytes. */
#define RECINFO_LINE_MAX	65536

struct recinfo {
	char		*attach_id;
	char		*identity;
	char		*host;
	char		*tmux_user;
	char		*session;
	char		*mode;
	long long	 start;		/* the header's timestamp */
	double		 duration;	/* seconds; < 0: unknown */
	long long	 size;		/* bytes; < 0: unknown */
	bool		 sealed;
};

/*
 * Parse the first line LINE (LEN bytes, without its newline) of a
 * recording, sealed or not, into RI's header fields.  0, or -1 with
 * *ERRSTR set to a static reason and RI's header fields untouched.
 */
int	recinfo_header(struct recinfo *ri, const char *line, size_t len,
	    bool sealed, const char **errstr)
	    __attribute__((warn_unused_result));

/*
 * The time of the event [SECONDS, "TYPE", "DATA"] whose line starts at
 * LINE (LEN bytes: its start is enough).  0 and *T set, or -1.
 */
int	recinfo_event_time(const char *line, size_t len, double *t)
	    __attribute__((warn_unused_result));

/*
 * Read the recording NAME of the directory DFD: a regular file, not
 * followed if it is a symbolic link.  0, or -1 with *ERRSTR set to a
 * reason valid until the next call; either way RI holds what could be
 * read (RI->size is known once the file could be looked at) and
 * recinfo_free() frees it.
 */
int	recinfo_read(struct recinfo *ri, int dfd, const char *name,
	    bool sealed, const char **errstr)
	    __attribute__((warn_unused_result));

void	recinfo_free(struct recinfo *);

#endif
