/*
 * gw.h — the state of one gateway shell: who is logged in, under which
 * policy, and how they talk to us.  The commands get it; they never look
 * at the transport the user came in on.
 */
#ifndef MUXGATE_GW_H
#define MUXGATE_GW_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include "policy/policy.h"

enum gw_mode {
	GW_ONESHOT,		/* one command, from SSH or -c */
	GW_BATCH,		/* commands on stdin, no terminal */
	GW_INTERACTIVE,		/* prompt and menu on a terminal */
};

struct gw {
	struct policy			*policy;
	const char			*config;	/* its file */
	struct stat			 config_st;	/* as loaded */
	const struct policy_identity	*id;
	char				 key_fp[POLICY_FP_LEN];
	bool				 have_key;
	unsigned char			*key;		/* the key that logged in */
	size_t				 key_len;
	char				 client[128];	/* "ADDR PORT", or empty */
	enum gw_mode			 mode;
	bool				 tty;	/* stdin and stdout are terminals */
	/* Interactive only: read one answer line (caller frees), or NULL. */
	char				*(*ask)(struct gw *, const char *prompt);
	void				*ui;	/* the interactive shell's state */
	bool				 attached;	/* an attach ran: show the menu */
	bool				 gone;	/* the user or a signal ended us */
	void				*access;	/* access.c: grants read */
};

#endif
