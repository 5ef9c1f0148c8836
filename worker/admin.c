/*
 * admin.c: what an admin listener serves: /status (JSON), /status.html,
 * /metrics (Prometheus) and, with MGW_DEBUG_HOOKS=1, test-only lock hooks.
 * Nothing else is routed there, and nothing here needs authentication:
 * an admin listener belongs on a private address.
 */
#include "config.h"

#include <sys/types.h>

#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib.h"
#include "metrics.h"
#include "shm.h"
#include "worker.h"

static int	admin_is(struct request *, const char *);
static void	admin_debug(struct request *);

static int
admin_is(struct request *r, const char *path)
{
	size_t	 len = strlen(path);

	return (r->r_pathlen == len && memcmp(r->r_path, path, len) == 0);
}

/*
 * Answer r, accepted on an admin listener.  Worker only.  Documents are
 * built from shm sums without a lock, so a scrape during a reload sees
 * the counters as they are, never a torn page.
 */
void
admin_serve(struct request *r)
{
	const struct mgw_conf	*conf = wenv->we_conf;
	char			*doc;
	size_t			 len;

	if (r->r_method != CONF_M_GET && r->r_method != CONF_M_HEAD) {
		r->r_route.rm_allowed = (1u << CONF_M_GET) | (1u << CONF_M_HEAD);
		response_error(r, 405, "method_not_allowed",
		    "the admin listener answers GET only");
		return;
	}
	if (admin_is(r, "/status")) {
		if ((doc = metrics_status_json(conf, wenv->we_gen,
		    &len)) == NULL) {
			response_error(r, 500, "internal_error",
			    "out of memory");
			return;
		}
		response_simple(r, 200, "application/json", doc, len);
		free(doc);
		return;
	}
	if (admin_is(r, "/status.html")) {
		response_simple(r, 200, "text/html; charset=utf-8",
		    metrics_status_html, metrics_status_html_len);
		return;
	}
	if (admin_is(r, "/metrics")) {
		if (!conf->c_metrics.m_enabled) {
			response_error(r, 404, "not_found",
			    "metrics are disabled");
			return;
		}
		if ((doc = metrics_render(conf, &len)) == NULL) {
			response_error(r, 500, "internal_error",
			    "out of memory");
			return;
		}
		response_simple(r, 200,
		    "text/plain; version=0.0.4; charset=utf-8", doc, len);
		free(doc);
		return;
	}
	if (wenv->we_debug_hooks && wenv->we_zone != NULL) {
		admin_debug(r);
		return;
	}
	response_error(r, 404, "not_found", "no such admin resource");
}

/* Test-only hooks on the general zone's lock (MGW_DEBUG_HOOKS=1). */
static void
admin_debug(struct request *r)
{
	struct shm_hdr	*h = wenv->we_zone->z_hdr;
	char		 body[256];
	uint64_t	 until;
	int		 n;

	if (admin_is(r, "/debug/lock-hold")) {
		/* Take the lock and keep it: the test kills us. */
		shm_lock(&h->h_lock);
		n = snprintf(body, sizeof(body), "{\"pid\":%ld}\n",
		    (long)getpid());
		response_simple(r, 200, "application/json", body, n);
		return;
	}
	if (admin_is(r, "/debug/lock-try")) {
		/* Bounded: a wedged lock answers 503, never hangs. */
		until = util_now_ms() + 3000;
		while (!shm_trylock(&h->h_lock)) {
			if (util_now_ms() > until) {
				response_error(r, 503, "service_unavailable",
				    "zone lock is wedged");
				return;
			}
			sched_yield();
		}
		shm_unlock(&h->h_lock);
		n = snprintf(body, sizeof(body),
		    "{\"pid\":%ld,\"locked\":true,\"broken\":%u}\n",
		    (long)getpid(), (unsigned)atomic_load(&h->h_lock.lk_broken));
		response_simple(r, 200, "application/json", body, n);
		return;
	}
	response_error(r, 404, "not_found", "no such admin resource");
}
