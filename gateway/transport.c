/* transport.c — pick the transport of a host; shared result helpers. */
#include <stdlib.h>
#include <string.h>

#include "gateway/transport.h"
#include "gateway/xmalloc.h"

const char *
host_status_name(enum host_status s)
{
	switch (s) {
	case HOST_OK: return "ok";
	case HOST_FORBIDDEN: return "forbidden";
	case HOST_UNREACHABLE: return "unreachable";
	case HOST_TIMEOUT: return "timeout";
	case HOST_ERROR: return "error";
	}
	return "error";
}

void
transport_result_free(struct transport_result *r)
{
	free(r->out);
	free(r->err);
	free(r->message);
	memset(r, 0, sizeof(*r));
}

/*
 * Remote hosts are part of the policy already, but this version has no
 * SSH transport: every request to one is answered with an honest error.
 */
static void
remote_run(const struct policy_host *h, const char *user,
    const struct argv *args, struct transport_result *r)
{
	memset(r, 0, sizeof(*r));
	r->status = HOST_ERROR;
	r->message = xstrdup("remote hosts are not supported by this version "
	    "of muxgate");
}

static int
remote_command(const struct policy_host *h, const char *user,
    const struct argv *args, struct argv *full, struct transport_result *r)
{
	remote_run(h, user, args, r);
	return -1;
}

static char *
remote_home(const struct policy_host *h, const char *user)
{
	return NULL;
}

static const struct transport transport_remote = {
	.name = "remote",
	.run = remote_run,
	.command = remote_command,
	.home = remote_home,
};

const struct transport *
transport_for(const struct policy_host *h)
{
	return policy_host_local(h) ? &transport_local : &transport_remote;
}
