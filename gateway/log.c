/* log.c — user errors on stderr, debugging on request. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "gateway/log.h"
#include "gateway/output.h"
#include "gateway/xmalloc.h"

static const char	*progname = "muxgate";
static int		 debugging;

void
log_init(const char *name)
{
	if (name != NULL)
		progname = name;
	debugging = getenv("MUXGATE_DEBUG") != NULL;
}

/* Whatever goes in, one line of printable text comes out. */
static void
vlog(const char *prefix, const char *fmt, va_list ap)
{
	char	*msg, *safe;

	xvasprintf(&msg, fmt, ap);
	safe = out_escape(msg);
	fprintf(stderr, "%s: %s%s\n", progname, prefix, safe);
	fflush(stderr);
	free(safe);
	free(msg);
}

void
error_msg(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
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
	vlog(prefix, fmt, ap);
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
fatal_msg(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
	exit(1);
}
