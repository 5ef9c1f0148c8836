/*
 * phase.c: the phase engine.  Every request walks one table of phases,
 * in order, as nginx's ngx_http_core_run_phases() walks its own:
 *
 *	POST_READ	plugins: the head as it came (the request id)
 *	CHECK		core: version, Host, framing, target, limits, Expect
 *	ROUTE		core: /health, admin, or an API's resource; mutual TLS
 *	ACCESS		plugins, for API requests: answer, or suspend and
 *			resume later (authentication, throttling)
 *	CONTENT		core: health, admin, mock, or the proxy
 *	BODY		the body streams; the loop waits on I/O
 *	DONE		request_finalize(): log hooks, counters, the pool
 *
 * A phase handler returns PHASE_NEXT to go on, PHASE_AGAIN when a plugin
 * suspended the request, or PHASE_DONE when the request was answered or
 * handed to I/O (and may be gone).  The header filter is not a step of
 * the walk: it runs in response_head(), once, whichever phase answers.
 * An error found before the walk starts (a head too large, malformed or
 * too slow) enters through phase_error(), which runs POST_READ first so
 * that no request escapes it, and none sees it twice.
 *
 * This file is the only caller of the plugins' request and worker hooks.
 * Before each it records in the worker's statistics slot which plugin
 * runs which hook, so that the master can name the plugin if the worker
 * dies in it.  Worker only, from its event loop.
 */
#include "config.h"

#include <sys/types.h>

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "lib.h"
#include "shm.h"
#include "worker.h"
#include "status.h"
#include <mgw/plugin.h>

struct phase {
	enum request_state	 ph_state;
	const char		*ph_name;
	int			(*ph_run)(struct request *);
};

static int	phase_post_read(struct request *);
static int	phase_access(struct request *);
static int	phase_access_verdict(struct request *, int);
static int	phase_content(struct request *);
static int	phase_post_read_once(struct request *);
static int	plugin_run_post_read(struct request *);
static int	plugin_run_access(struct request *);
static void	plugin_run_cancel(struct request *);
static void	plugin_run_header_filter(struct request *);
static void	plugin_run_log(struct request *);

/* Indexed by r_state - REQ_POST_READ; a NULL ph_run stops the loop. */
static const struct phase phase_table[] = {
	{ REQ_POST_READ,	"post_read",	phase_post_read },
	{ REQ_CHECK,		"check",	http_check },
	{ REQ_ROUTE,		"route",	http_route },
	{ REQ_ACCESS,		"access",	phase_access },
	{ REQ_CONTENT,		"content",	phase_content },
	{ REQ_BODY,		"body",		NULL },
};
#define PHASE_N	(sizeof(phase_table) / sizeof(phase_table[0]))

/*
 * Mark plugin i's hook h as running in this worker's slot, returning what
 * was there: hooks nest (an access hook answers, and the header filter
 * and log hooks run inside it), and the outer one is restored after.  A
 * relaxed store to a line this worker alone writes: no lock, no syscall.
 */
static inline uint32_t
phase_hook_enter(size_t i, enum stats_hook h)
{
	struct stats_slot	*st = wenv->we_stats;
	uint32_t		 prev;

	if (st == NULL)
		return (0);
	prev = atomic_load_explicit(&st->st_hook, memory_order_relaxed);
	atomic_store_explicit(&st->st_hook, STATS_HOOK(i, h),
	    memory_order_relaxed);
	return (prev);
}

static inline void
phase_hook_leave(uint32_t prev)
{
	if (wenv->we_stats != NULL)
		atomic_store_explicit(&wenv->we_stats->st_hook, prev,
		    memory_order_relaxed);
}

/*
 * Advance r from its state through the table until a phase answers,
 * suspends, or hands the request to I/O.  Called once the head is
 * parsed (r_state REQ_POST_READ) and by mgw_request_resume().  r may be
 * gone when this returns.
 */
void
phase_run(struct request *r)
{
	const struct phase	*ph;
	size_t			 i;

	for (;;) {
		i = r->r_state - REQ_POST_READ;
		if (r->r_state < REQ_POST_READ || i >= PHASE_N)
			return;
		ph = &phase_table[i];
		if (ph->ph_run == NULL)
			return;
		if (ph->ph_run(r) != PHASE_NEXT)
			return;
		r->r_state = ph->ph_state + 1;
	}
}

static int
phase_post_read(struct request *r)
{
	if (plugin_run_post_read(r) != MGW_OK) {
		if (r->r_status == 0)
			response_error(r, 500, "internal_error",
			    "a policy failed");
		return (PHASE_DONE);
	}
	return (PHASE_NEXT);
}

/* Only requests for an API pass the access phase; /health and admin not. */
static int
phase_access(struct request *r)
{
	if (r->r_content != CONTENT_API)
		return (PHASE_NEXT);
	return (phase_access_verdict(r, plugin_run_access(r)));
}

/* Act on what the access hooks said: go on, wait, or leave their answer. */
static int
phase_access_verdict(struct request *r, int verdict)
{
	switch (verdict) {
	case MGW_OK:
		return (PHASE_NEXT);
	case MGW_AGAIN:
		r->r_state = REQ_SUSPENDED;
		return (PHASE_AGAIN);
	case MGW_DONE:
		return (PHASE_DONE);
	default:
		if (r->r_status == 0)
			response_error(r, 500, "internal_error",
			    "a policy failed");
		return (PHASE_DONE);
	}
}

static int
phase_content(struct request *r)
{
	switch (r->r_content) {
	case CONTENT_HEALTH:
		response_simple(r, 200, "application/json",
		    "{\"status\":\"healthy\"}\n", 21);
		break;
	case CONTENT_ADMIN:
		admin_serve(r);
		break;
	default:
		http_dispatch(r);
		break;
	}
	return (PHASE_DONE);
}

/* Plugins call this with the verdict of a suspended access hook. */
void
mgw_request_resume(struct mgw_request *mr, int verdict)
{
	struct request	*r = (struct request *)mr;

	/* Only once, and only for a request its plugin suspended. */
	if (r->r_state != REQ_SUSPENDED)
		return;
	r->r_state = REQ_ACCESS;
	if (r->r_pend_status != 0) {
		/* The plugin answered while the request was suspended. */
		if (r->r_pend_code == NULL || r->r_pend_msg == NULL)
			response_error(r, 500, "internal_error",
			    "out of memory");
		else
			response_error(r, r->r_pend_status, r->r_pend_code,
			    r->r_pend_msg);
		return;
	}
	if (verdict == MGW_OK) {
		r->r_access_idx++;
		phase_run(r);
		return;
	}
	(void)phase_access_verdict(r, verdict);
}

/*
 * Answer an error found outside the phase loop: a head too large or
 * malformed, a timeout.  A request whose head never completed has not
 * been through POST_READ; it goes through it now, once, so that its
 * plugins see every request and the error body carries a request id.
 * Then as response_error().
 */
void
phase_error(struct request *r, int status, const char *code,
    const char *msg)
{
	if (phase_post_read_once(r) == -1)
		return;
	response_error(r, status, code, msg);
}

/*
 * As phase_error(), for a head the gateway refuses on its own rules:
 * also logged, at info, with the request id POST_READ gave it and the
 * client's address (before answering, which may free r).
 */
void
phase_refuse(struct request *r, int status, const char *code,
    const char *msg)
{
	if (phase_post_read_once(r) == -1)
		return;
	log_info("request %s: %s from %s: refused", r->r_id, msg,
	    r->r_conn->c_peer_text);
	response_error(r, status, code, msg);
}

/*
 * Run POST_READ for a request whose head never completed, once.  -1 if a
 * post_read hook answered it (that answer has the last word), else 0.
 */
static int
phase_post_read_once(struct request *r)
{
	if (r->r_state != REQ_HEADER)
		return (0);
	r->r_state = REQ_POST_READ;
	(void)plugin_run_post_read(r);
	return (r->r_resp != RESP_NONE ? -1 : 0);
}

/*
 * The header filter phase: response_head() runs it once, just before it
 * builds the head, whatever made the response (proxy, mock, admin or an
 * error).
 */
void
phase_header_filter(struct request *r)
{
	plugin_run_header_filter(r);
}

/*
 * The one end of every request, answered or not: tell a plugin that
 * suspended it, count it, run the log hooks, release what it holds.
 * closing is set by conn_close(), which frees the connection next;
 * otherwise the response is fully queued and the connection waits for
 * the next request or lingers to close.  r (pool memory) and even its
 * connection may be gone when this returns.  A second call does nothing.
 */
void
request_finalize(struct request *r, int closing)
{
	struct conn	*c = r->r_conn;

	if (r->r_state == REQ_DONE)
		return;
	if (r->r_state == REQ_SUSPENDED)
		plugin_run_cancel(r);
	if (closing && r->r_up != NULL)
		upstream_abort(r);
	r->r_state = REQ_DONE;
	/* A request never answered (the client left early) is not counted. */
	if (r->r_status != 0) {
		r->r_end_us = http_now_us();
		response_count(r);
		plugin_run_log(r);
	}
	if (r->r_timer != NULL) {
		event_free(r->r_timer);
		r->r_timer = NULL;
	}
	if (r->r_upbuf != NULL) {
		evbuffer_free(r->r_upbuf);
		r->r_upbuf = NULL;
	}
	c->c_req = NULL;
	if (closing)
		return;
	if (c->c_close || r->r_resp_close || !r->r_body_done) {
		conn_linger(c);
		return;
	}
	conn_keepalive(c);
}

/* Worker, on SIGUSR1: the plugins reopen their files. */
void
phase_reopen(void)
{
	struct plugin_set	*ps = wenv->we_plugins;
	size_t			 i;
	uint32_t		 prev;

	for (i = 0; i < ps->ps_n; i++) {
		if (ps->ps_inst[i].pi_plugin->reopen == NULL)
			continue;
		prev = phase_hook_enter(i, STATS_HOOK_REOPEN);
		ps->ps_inst[i].pi_plugin->reopen(ps->ps_inst[i].pi_state);
		phase_hook_leave(prev);
	}
}

/*
 * The worker is about to exit: let plugins flush.  Runs once; a second
 * call (a fast stop during a drain) does nothing.
 */
void
phase_exit(void)
{
	static int		 done;
	struct plugin_set	*ps = wenv->we_plugins;
	size_t			 i;
	uint32_t		 prev;

	if (done)
		return;
	done = 1;
	for (i = 0; i < ps->ps_n; i++) {
		if (ps->ps_inst[i].pi_plugin->exit_worker == NULL)
			continue;
		prev = phase_hook_enter(i, STATS_HOOK_EXIT_WORKER);
		ps->ps_inst[i].pi_plugin->exit_worker(ps->ps_inst[i].pi_state);
		phase_hook_leave(prev);
	}
}

static int
plugin_run_post_read(struct request *r)
{
	struct plugin_set	*ps = wenv->we_plugins;
	size_t			 i;
	uint32_t		 prev;
	int			 rv;

	for (i = 0; i < ps->ps_n; i++) {
		if (ps->ps_inst[i].pi_plugin->post_read == NULL)
			continue;
		prev = phase_hook_enter(i, STATS_HOOK_POST_READ);
		rv = ps->ps_inst[i].pi_plugin->post_read(
		    ps->ps_inst[i].pi_state, (struct mgw_request *)r);
		phase_hook_leave(prev);
		if (rv != MGW_OK)
			return (rv);
	}
	return (MGW_OK);
}

/*
 * The access hooks from plugin r_access_idx on.  MGW_OK when all passed;
 * MGW_AGAIN leaves r_access_idx on the suspended plugin.
 */
static int
plugin_run_access(struct request *r)
{
	struct plugin_set	*ps = wenv->we_plugins;
	const struct plugin_inst *pi;
	uint32_t		 prev;
	int			 rv;

	for (; (size_t)r->r_access_idx < ps->ps_n; r->r_access_idx++) {
		pi = &ps->ps_inst[r->r_access_idx];
		if (pi->pi_plugin->access == NULL)
			continue;
		prev = phase_hook_enter(r->r_access_idx, STATS_HOOK_ACCESS);
		rv = pi->pi_plugin->access(pi->pi_state,
		    (struct mgw_request *)r);
		phase_hook_leave(prev);
		if (rv != MGW_OK)
			return (rv);
	}
	return (MGW_OK);
}

/*
 * The request suspended in plugin r_access_idx goes away unresumed: tell
 * that plugin, so that it forgets the request.
 */
static void
plugin_run_cancel(struct request *r)
{
	struct plugin_set	*ps = wenv->we_plugins;
	const struct plugin_inst *pi;
	uint32_t		 prev;

	r->r_state = REQ_ACCESS;
	if ((size_t)r->r_access_idx >= ps->ps_n)
		return;
	pi = &ps->ps_inst[r->r_access_idx];
	if (pi->pi_plugin->cancel == NULL)
		return;
	prev = phase_hook_enter(r->r_access_idx, STATS_HOOK_CANCEL);
	pi->pi_plugin->cancel(pi->pi_state, (struct mgw_request *)r);
	phase_hook_leave(prev);
}

static void
plugin_run_header_filter(struct request *r)
{
	struct plugin_set	*ps = wenv->we_plugins;
	size_t			 i;
	uint32_t		 prev;

	for (i = 0; i < ps->ps_n; i++) {
		if (ps->ps_inst[i].pi_plugin->header_filter == NULL)
			continue;
		prev = phase_hook_enter(i, STATS_HOOK_HEADER_FILTER);
		(void)ps->ps_inst[i].pi_plugin->header_filter(
		    ps->ps_inst[i].pi_state, (struct mgw_request *)r);
		phase_hook_leave(prev);
	}
}

static void
plugin_run_log(struct request *r)
{
	struct plugin_set	*ps = wenv->we_plugins;
	size_t			 i;
	uint32_t		 prev;

	for (i = 0; i < ps->ps_n; i++) {
		if (ps->ps_inst[i].pi_plugin->log == NULL)
			continue;
		prev = phase_hook_enter(i, STATS_HOOK_LOG);
		ps->ps_inst[i].pi_plugin->log(ps->ps_inst[i].pi_state,
		    (struct mgw_request *)r);
		phase_hook_leave(prev);
	}
}

/*
 * Worker start, after fork and before accepting: the init_worker hooks in
 * table order.  0, or -1 with *cause from the first that failed.
 */
int
plugin_init_worker(struct plugin_set *ps, char **cause)
{
	const struct mgw_plugin	*p;
	uint32_t		 prev;
	size_t			 i;
	int			 rv;

	for (i = 0; i < ps->ps_n; i++) {
		p = ps->ps_inst[i].pi_plugin;
		if (p->init_worker == NULL)
			continue;
		*cause = NULL;
		prev = phase_hook_enter(i, STATS_HOOK_INIT_WORKER);
		rv = p->init_worker(ps->ps_inst[i].pi_state, cause);
		phase_hook_leave(prev);
		if (rv != MGW_OK) {
			if (*cause == NULL)
				xasprintf(cause, "plugin %s: init_worker failed",
				    p->name);
			return (-1);
		}
	}
	return (0);
}

/*
 * Hand ps's plugins and states, in order, to the status documents.  A
 * worker after fork, the master before it renders; dies on OOM (both
 * are startup or master paths).
 */
void
plugin_set_status(const struct plugin_set *ps)
{
	struct status_plugin	*sp;
	size_t			 i;

	sp = xreallocarray(NULL, ps->ps_n + 1, sizeof(*sp));
	for (i = 0; i < ps->ps_n; i++) {
		sp[i].sp_plugin = ps->ps_inst[i].pi_plugin;
		sp[i].sp_state = ps->ps_inst[i].pi_state;
	}
	status_plugins_set(sp, ps->ps_n);
	free(sp);
}
