/*
 * metering.c: what a finished request adds to the metrics zone.  The
 * counting itself (status/metrics.c) takes plain values; this is where
 * the worker decides which requests count and reads them off struct
 * request, so the metrics code never sees the worker's types.
 */
#include "config.h"

#include <sys/types.h>

#include <stdint.h>
#include <string.h>

#include "lib.h"
#include "conf-t.h"
#include "metrics.h"
#include "worker.h"

/*
 * Count r.  Worker, called by the core once per request at its end; no
 * lock.  Requests on an admin listener are not counted; requests that
 * matched no API count only as unrouted, and only if the gateway refused
 * them (so /health is not traffic).
 */
void
metrics_request(struct request *r)
{
	struct metrics_req		 q;
	const struct conf_endpoints	*ep;
	uint64_t			 end, up;

	if (r->r_conn->c_admin)
		return;
	memset(&q, 0, sizeof(q));
	q.mq_endpoint = UINT32_MAX;
	q.mq_err_code = r->r_err_code;
	if (r->r_route.rm_api == NULL) {
		metrics_count(&q);
		return;
	}
	q.mq_routed = 1;
	q.mq_api = r->r_route.rm_api->a_metrics;
	q.mq_method = r->r_method;
	q.mq_status = r->r_status;
	end = r->r_end_us != 0 ? r->r_end_us : http_now_us();
	q.mq_us = end > r->r_start_us ? end - r->r_start_us : 0;
	if (r->r_up_start_us != 0) {
		up = r->r_up_end_us != 0 ? r->r_up_end_us : end;
		q.mq_upstream = 1;
		q.mq_up_us = up > r->r_up_start_us ? up - r->r_up_start_us : 0;
	}
	q.mq_bytes_in = r->r_bytes_in;
	q.mq_bytes_out = r->r_bytes_out;
	q.mq_reason = r->r_reason;
	ep = r->r_endpoints;
	if (r->r_up_start_us != 0 && ep != NULL &&
	    r->r_up_idx < ep->ep_nproduction)
		q.mq_endpoint = ep->ep_production[r->r_up_idx].u_metrics;
	metrics_count(&q);
}
