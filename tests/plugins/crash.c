/*
 * crash.c: a test plugin whose header_filter kills the worker with
 * SIGSEGV when the request carries X-Crash, for the master's crash
 * report (plugin.sh).  Other requests pass untouched.
 */
#include <signal.h>
#include <stddef.h>

#include <mgw/plugin.h>

static int
crash_header_filter(void *state, struct mgw_request *r)
{
	size_t	 len;

	/*
	 * The default action, whatever a sanitizer installed: the worker
	 * must die of the signal, as it would in a production build.
	 */
	if (mgw_request_header(r, "X-Crash", &len) != NULL) {
		signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
	}
	return (MGW_OK);
}

const struct mgw_plugin mgw_plugin_entry = {
	.api = MGW_PLUGIN_API,
	.name = "crash",
	.header_filter = crash_header_filter
};
