/* log.h — the one way muxgate reports: one line, "muxgate: ...", on stderr. */
#ifndef MUXGATE_LOG_H
#define MUXGATE_LOG_H

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

void	log_init(const char *progname);
/* A user-facing error: one line on stderr. */
void	error_msg(const char *, ...) LOG_PRINTF(1, 2);
/* Diagnostics for administrators, when MUXGATE_DEBUG is set. */
void	debug_msg(const char *func, const char *, ...) LOG_PRINTF(2, 3);
/*
 * An error for the gateway's administrators, not for the user: syslog,
 * facility authpriv, severity err, tagged "muxgate".
 */
void	admin_log(const char *, ...) LOG_PRINTF(1, 2);
void	fatal_msg(const char *, ...) LOG_PRINTF(1, 2)
	    __attribute__((noreturn));

#define debug(...)	debug_msg(__func__, __VA_ARGS__)

#endif
