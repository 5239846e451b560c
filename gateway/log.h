/*
 * log.h — the one way muxgate reports: one line of printable text per
 * message, by default "muxgate: ..." on stderr.  A server can send its
 * lines elsewhere with log_set_sink().
 */
#ifndef MUXGATE_LOG_H
#define MUXGATE_LOG_H

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Where every line goes: errors, events and debugging alike. */
enum log_sink {
	/* "PROGNAME: MSG" (the default) */
	LOG_SINK_STDERR,
	/* "YYYY-MM-DDTHH:MM:SS TAG[PID]: MSG", local time */
	LOG_SINK_STDERR_TIMESTAMPED,
	/* syslog, facility auth, ident TAG, with the pid */
	LOG_SINK_SYSLOG,
};

void	log_init(const char *progname);
/*
 * From now on, lines go to SINK.  TAG names the program in them (for
 * LOG_SINK_STDERR it is unused and may be NULL); it must outlive the
 * process's logging, as openlog(3) keeps it.
 */
void	log_set_sink(enum log_sink sink, const char *tag);

enum log_level {
	LOG_LEVEL_ERROR,	/* syslog severity err */
	LOG_LEVEL_INFO,		/* an event a server reports; severity info */
};

/*
 * One line at LEVEL; "FUNC: " before it when FUNC is not NULL, and
 * ": strerror(ERRNUM)" after it when ERRNUM is not 0.  Use the macros
 * below.
 */
void	log_msg(enum log_level, const char *func, int errnum, const char *, ...)
	    LOG_PRINTF(4, 5);
/* The same at LOG_LEVEL_ERROR, then exit(1). */
void	log_fatal(const char *func, int errnum, const char *, ...)
	    LOG_PRINTF(3, 4) __attribute__((noreturn));
/* Diagnostics for administrators, when MUXGATE_DEBUG is set. */
void	debug_msg(const char *func, const char *, ...) LOG_PRINTF(2, 3);
/*
 * An error for the gateway's administrators, not for the user: syslog,
 * facility authpriv, severity err, tagged "muxgate".
 */
void	admin_log(const char *, ...) LOG_PRINTF(1, 2);

/* An error: stderr unless a sink was set. */
#define error_msg(...)		log_msg(LOG_LEVEL_ERROR, NULL, 0, __VA_ARGS__)
#define fatal_msg(...)		log_fatal(NULL, 0, __VA_ARGS__)
#define log_info(...)		log_msg(LOG_LEVEL_INFO, NULL, 0, __VA_ARGS__)
#define debug(...)		debug_msg(__func__, __VA_ARGS__)
/* OpenSSH's: _f prefixes the function's name, _r appends strerror(r). */
#define error_f(...)		log_msg(LOG_LEVEL_ERROR, __func__, 0, \
				    __VA_ARGS__)
#define error_r(r, ...)		log_msg(LOG_LEVEL_ERROR, NULL, (r), \
				    __VA_ARGS__)
#define error_fr(r, ...)	log_msg(LOG_LEVEL_ERROR, __func__, (r), \
				    __VA_ARGS__)
#define fatal_f(...)		log_fatal(__func__, 0, __VA_ARGS__)
#define fatal_r(r, ...)		log_fatal(NULL, (r), __VA_ARGS__)
#define fatal_fr(r, ...)	log_fatal(__func__, (r), __VA_ARGS__)

#endif
