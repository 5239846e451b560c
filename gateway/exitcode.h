/* exitcode.h — the documented exit codes of every muxgate command. */
#ifndef MUXGATE_EXITCODE_H
#define MUXGATE_EXITCODE_H

enum {
	MG_OK = 0,		/* success */
	MG_FAIL = 1,		/* failure: policy, tmux, host */
	MG_USAGE = 2,		/* malformed command, target, name, argument */
	MG_DENIED = 3,		/* permission denied, unknown identity */
	MG_NOSESSION = 4,	/* no such session where the identity may look */
};

#endif
