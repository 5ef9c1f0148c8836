/*
 * authn-metrics.c: what authentication adds to /metrics, /status and
 * mgwctl stats: the shared token cache's counters and the size of the
 * revocation list.  Both read the zones (authn-cache.c, authn-revoke.c),
 * never the plugin's state, so any process can render them.
 */
#include "config.h"

#include <sys/types.h>

#include <stdint.h>

#include <mgw/plugin.h>
#include "authn.h"

static double	authn_hit_ratio(const struct token_cache_stats *);

/* hits / (hits + misses), 0 before the first lookup. */
static double
authn_hit_ratio(const struct token_cache_stats *tc)
{
	if (tc->tcs_hits + tc->tcs_misses == 0)
		return (0.0);
	return ((double)tc->tcs_hits /
	    (double)(tc->tcs_hits + tc->tcs_misses));
}

/*
 * The metrics hook: the token cache and the revocation list, always
 * (zeros when the cache is disabled), so the set of families does not
 * depend on whether a route uses authentication.  Any process.
 */
void
authn_metrics(void *state, struct mgw_buf *out)
{
	struct token_cache_stats	 tc;

	token_cache_stats(&tc);
	mgw_metrics_family(out, "mgw_token_cache_hits_total", "counter",
	    "Credentials found verified in the shared token cache.");
	mgw_metrics_sample(out, "mgw_token_cache_hits_total", NULL,
	    tc.tcs_hits);
	mgw_metrics_family(out, "mgw_token_cache_misses_total", "counter",
	    "Credentials looked up in the token cache and not found.");
	mgw_metrics_sample(out, "mgw_token_cache_misses_total", NULL,
	    tc.tcs_misses);
	mgw_metrics_family(out, "mgw_token_cache_evictions_total", "counter",
	    "Live token cache entries pushed out to make room.");
	mgw_metrics_sample(out, "mgw_token_cache_evictions_total", NULL,
	    tc.tcs_evictions);
	mgw_metrics_family(out, "mgw_token_cache_entries", "gauge",
	    "Unexpired entries in the token cache.");
	mgw_metrics_sample(out, "mgw_token_cache_entries", NULL,
	    tc.tcs_entries);
	mgw_metrics_family(out, "mgw_token_cache_capacity", "gauge",
	    "Entries the token cache can hold; 0 when it is disabled.");
	mgw_metrics_sample(out, "mgw_token_cache_capacity", NULL,
	    tc.tcs_capacity);
	mgw_metrics_family(out, "mgw_revoked_tokens", "gauge",
	    "Tokens on the revocation list now.");
	mgw_metrics_sample(out, "mgw_revoked_tokens", NULL, revoke_count());
}

/*
 * The status hook: the token cache's counters; mgwctl stats shows them
 * only when there is a cache, so its text is unchanged without one.
 * Any process.
 */
void
authn_status(void *state, struct mgw_buf *out)
{
	struct token_cache_stats	 tc;

	token_cache_stats(&tc);
	if (mgw_status_terse(out) && tc.tcs_capacity == 0)
		return;
	mgw_status_add(out, "token_cache_hits", tc.tcs_hits);
	mgw_status_add(out, "token_cache_misses", tc.tcs_misses);
	mgw_status_add(out, "token_cache_entries", tc.tcs_entries);
	mgw_status_add_ratio(out, "token_cache_hit_ratio",
	    authn_hit_ratio(&tc));
}
