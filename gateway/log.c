/* log.c — errors and events, one escaped line each, to one sink. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "gateway/log.h"
#include "gateway/output.h"
#include "gateway/xmalloc.h"

static const char	*progname = "muxgate";
static int		 debugging;
static enum log_sink	 sink = LOG_SINK_STDERR;
static const char	*sink_tag = "muxgate";

void
log_init(const char *name)
{
	if (name != NULL)
		progname = name;
	debugging = getenv("MUXGATE_DEBUG") != NULL;
}

void
log_set_sink(enum log_sink to, const char *tag)
{
	sink = to;
	sink_tag = tag != NULL ? tag : progname;
	if (sink == LOG_SINK_SYSLOG)
		openlog(sink_tag, LOG_PID, LOG_AUTH);
}

/* Whatever goes in, one line of printable text comes out. */
static void
emit(int pri, const char *prefix, const char *msg)
{
	char		*safe, when[32];
	time_t		 t;
	struct tm	 tm;

	safe = out_escape(msg);
	switch (sink) {
	case LOG_SINK_SYSLOG:
		syslog(LOG_AUTH | pri, "%s%s", prefix, safe);
		break;
	case LOG_SINK_STDERR_TIMESTAMPED:
		t = time(NULL);
		if (localtime_r(&t, &tm) == NULL || strftime(when, sizeof(when),
		    "%Y-%m-%dT%H:%M:%S", &tm) == 0)
			snprintf(when, sizeof(when), "%lld", (long long)t);
		fprintf(stderr, "%s %s[%ld]: %s%s\n", when, sink_tag,
		    (long)getpid(), prefix, safe);
		break;
	case LOG_SINK_STDERR:
		fprintf(stderr, "%s: %s%s\n", progname, prefix, safe);
		break;
	}
	fflush(stderr);
	free(safe);
}

/* "FUNC: " FMT ": strerror(ERRNUM)", each part when given. */
static void
vlog(int pri, const char *prefix, const char *func, int errnum,
    const char *fmt, va_list ap)
{
	char	*msg, *line;

	xvasprintf(&msg, fmt, ap);
	if (func == NULL && errnum == 0) {
		emit(pri, prefix, msg);
		free(msg);
		return;
	}
	xasprintf(&line, "%s%s%s%s%s", func != NULL ? func : "",
	    func != NULL ? ": " : "", msg, errnum != 0 ? ": " : "",
	    errnum != 0 ? strerror(errnum) : "");
	emit(pri, prefix, line);
	free(line);
	free(msg);
}

void
log_msg(enum log_level level, const char *func, int errnum, const char *fmt,
    ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(level == LOG_LEVEL_INFO ? LOG_INFO : LOG_ERR, "", func, errnum,
	    fmt, ap);
	va_end(ap);
}

void
debug_msg(const char *func, const char *fmt, ...)
{
	va_list	 ap;
	char	*prefix;

	if (!debugging)
		return;
	xasprintf(&prefix, "debug: %s: ", func);
	va_start(ap, fmt);
	vlog(LOG_DEBUG, prefix, NULL, 0, fmt, ap);
	va_end(ap);
	free(prefix);
}

void
admin_log(const char *fmt, ...)
{
	static int	 opened;
	va_list		 ap;
	char		*msg, *safe;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	safe = out_escape(msg);
	/* The same tag and facility as audit.c's syslog records. */
	if (!opened) {
		openlog("muxgate", LOG_PID, LOG_AUTHPRIV);
		opened = 1;
	}
	syslog(LOG_AUTHPRIV | LOG_ERR, "%s", safe);
	free(safe);
	free(msg);
}

void
log_fatal(const char *func, int errnum, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, "", func, errnum, fmt, ap);
	va_end(ap);
	exit(1);
}
