/*
 * suspend.c: a test plugin for the suspend, answer and resume contract of
 * mgw-plugin(3), driven by plugin-suspend.sh.  Its access hook suspends
 * every request that carries X-Suspend and decides on a timer of the
 * worker's loop: "deny" answers 403 with mgw_respond_error() and then
 * resumes with MGW_DONE, "allow" resumes with MGW_OK, and "hold" allows
 * after 300 ms instead of 10, so that its client can leave first.  Its
 * cancel hook
 * counts the requests the core told it to forget, and its metrics hook
 * shows every count, so that the test sees from outside whether the core
 * kept the contract: cancel only for a request that goes away before its
 * plugin resumed it.  Counts are per worker: the test runs one.
 */
#include <sys/time.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include <mgw/plugin.h>

struct pending {
	struct event		*p_ev;
	struct mgw_request	*p_r;
	int			 p_deny;
	struct pending		*p_next;
};

static struct pending	*held;		/* suspended, not yet decided */
static uint64_t		 n_suspended, n_answered, n_allowed, n_cancelled;

static void
suspend_unlink(struct pending *p)
{
	struct pending	**pp;

	for (pp = &held; *pp != NULL; pp = &(*pp)->p_next)
		if (*pp == p) {
			*pp = p->p_next;
			break;
		}
	event_free(p->p_ev);
	free(p);
}

static void
suspend_decide_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pending		*p = arg;
	struct mgw_request	*r = p->p_r;
	int			 deny = p->p_deny;

	suspend_unlink(p);
	if (deny) {
		n_answered++;
		(void)mgw_respond_error(r, 403, "denied_by_suspend",
		    "the suspend plugin refused the request");
		mgw_request_resume(r, MGW_DONE);
	} else {
		n_allowed++;
		mgw_request_resume(r, MGW_OK);
	}
}

static int
suspend_access(void *state, struct mgw_request *r)
{
	struct timeval	 tv = { 0, 10000 };	/* 10 ms */
	struct pending	*p;
	const char	*v;
	size_t		 len;

	if ((v = mgw_request_header(r, "X-Suspend", &len)) == NULL)
		return (MGW_OK);
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return (MGW_ERROR);
	p->p_r = r;
	p->p_deny = len == 4 && memcmp(v, "deny", 4) == 0;
	if (len == 4 && memcmp(v, "hold", 4) == 0)
		tv.tv_usec = 300000;
	if ((p->p_ev = evtimer_new(mgw_event_base(), suspend_decide_cb,
	    p)) == NULL || evtimer_add(p->p_ev, &tv) == -1) {
		if (p->p_ev != NULL)
			event_free(p->p_ev);
		free(p);
		return (MGW_ERROR);
	}
	p->p_next = held;
	held = p;
	n_suspended++;
	return (MGW_AGAIN);
}

static void
suspend_cancel(void *state, struct mgw_request *r)
{
	struct pending	*p;

	n_cancelled++;
	for (p = held; p != NULL; p = p->p_next)
		if (p->p_r == r) {
			suspend_unlink(p);
			return;
		}
}

static void
suspend_metrics(void *state, struct mgw_buf *out)
{
	mgw_metrics_family(out, "mgw_test_suspend_total", "counter",
	    "Requests the suspend test plugin saw, by what became of them.");
	mgw_metrics_sample(out, "mgw_test_suspend_total",
	    "outcome=\"suspended\"", n_suspended);
	mgw_metrics_sample(out, "mgw_test_suspend_total",
	    "outcome=\"answered\"", n_answered);
	mgw_metrics_sample(out, "mgw_test_suspend_total",
	    "outcome=\"allowed\"", n_allowed);
	mgw_metrics_sample(out, "mgw_test_suspend_total",
	    "outcome=\"cancelled\"", n_cancelled);
}

const struct mgw_plugin mgw_plugin_entry = {
	.api = MGW_PLUGIN_API,
	.name = "suspend",
	.access = suspend_access,
	.cancel = suspend_cancel,
	.metrics = suspend_metrics
};
