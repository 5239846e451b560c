/*
 * logindefs.h — the umask a login would give, from login.defs(5), for
 * the children muxgate starts (its own files keep umask 077).
 */
#ifndef MUXGATE_LOGINDEFS_H
#define MUXGATE_LOGINDEFS_H

#include <sys/types.h>

#define LOGINDEFS_PATH		"/etc/login.defs"
#define LOGINDEFS_UMASK		022	/* when the system says nothing */

/*
 * Pure: the value of the first UMASK line of TEXT, in login.defs syntax
 * (KEY VALUE lines; a comment runs from '#' to the end of its line).
 * Returns 0 with *OUT set, 1 when TEXT has no UMASK, or -1 with *ERRSTR
 * when the value is not 1 to 4 octal digits of at most 0777.
 */
int	logindefs_parse_umask(const char *text, mode_t *out,
	    const char **errstr) __attribute__((warn_unused_result));
/*
 * The UMASK of the file PATH, or LOGINDEFS_UMASK when it is missing,
 * unreadable, or its value is bad (which MUXGATE_DEBUG reports).
 */
mode_t	logindefs_umask(const char *path);

#endif
