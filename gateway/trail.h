/*
 * trail.h — reading muxgate's own audit records back: a raw audit log
 * line (as auditd writes it and `ausearch --raw` prints it) or a syslog
 * line of gateway.audit: syslog.  Only what `muxgate verify` needs: the
 * records of an attach and what they say about its recording.
 */
#ifndef MUXGATE_TRAIL_H
#define MUXGATE_TRAIL_H

#include <stdbool.h>

enum trail_kind {
	TRAIL_START,		/* op=muxgate-attach-start */
	TRAIL_CHECKPOINT,	/* op=muxgate-attach-checkpoint */
	TRAIL_END,		/* op=muxgate-attach-end */
};

struct trail_rec {
	enum trail_kind		 kind;
	char			 attach[17];	/* 16 hex digits */
	char			 hash[65];	/* rec_hash: 64 hex digits */
	unsigned long long	 bytes;		/* rec_bytes */
	long long		 duration;	/* seconds, or -1 */
	bool			 success;	/* res=success */
};

/*
 * Parse LINE.  1: an attach record with rec_hash and rec_bytes, in *R;
 * 0: any other line (other programs' records, other muxgate records, or
 * an attach without a recording).  Malformed values count as 0: a line
 * that cannot be read anchors nothing.
 */
int	trail_parse(const char *line, struct trail_rec *r);

#endif
