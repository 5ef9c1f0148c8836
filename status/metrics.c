/*
 * metrics.c: the "metrics" zone: per-API and per-endpoint series counted
 * by the workers without a lock, summed by readers, and rendered in the
 * Prometheus text exposition format for /metrics.
 *
 * Layout (offsets in struct metrics_root are from the zone header, like
 * h_root; the root itself is the zone's data area):
 *
 *	root | API keys | endpoint keys | METRICS_SLOTS slots | status ring
 *
 * and each slot is a struct metrics_global, max_apis struct metrics_api
 * and max_endpoints struct metrics_endpoint, each on its own cache lines.
 * A worker adds into slot (stats slot % METRICS_SLOTS) with relaxed
 * atomics; with more than METRICS_SLOTS workers two share a slot, which
 * costs contention but never a count, since every add is atomic.
 *
 * Series are looked up by name only here, in the master, at load time:
 * the hot path uses the index the master stored in the configuration
 * (a_metrics, u_metrics), so a request never searches or allocates.
 *
 * The zone's layout number encodes max_apis and max_endpoints, so a
 * change of either always gets a fresh zone even when the page-rounded
 * size happens not to change.
 */
#include "config.h"

#include <sys/types.h>

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib.h"
#include "conf-t.h"
#include "metrics.h"
#include "shm.h"
#include "status.h"

#define METRICS_ALIGN(x)						\
	(((x) + SHM_CACHELINE - 1) & ~((size_t)SHM_CACHELINE - 1))
#define METRICS_GLOBAL_SIZE	METRICS_ALIGN(sizeof(struct metrics_global))
#define METRICS_API_SIZE	METRICS_ALIGN(sizeof(struct metrics_api))
#define METRICS_EP_SIZE		METRICS_ALIGN(sizeof(struct metrics_endpoint))
#define METRICS_OTHER		"_other"	/* label of series 0 */

const uint64_t metrics_bucket_us[METRICS_NBUCKETS - 1] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000
};

/* enum conf_method order, then the others. */
static const char *const metrics_method_name[METRICS_NMETHODS] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "OTHER"
};
/* The throttle plugin's level names, as mgw_request_set_reason() got. */
static const char *const metrics_throttle_name[METRICS_NTHROTTLE] = {
	"api", "resource", "application", "subscription", "ip", "other"
};
/* The gateway's error codes for refused credentials. */
static const char *const metrics_auth_name[METRICS_NAUTH] = {
	"missing_credentials", "invalid_credentials", "expired", "revoked",
	"insufficient_scope", "not_subscribed", "auth_unavailable",
	"client_certificate_required"
};
static const char *const metrics_uperr_name[METRICS_NUPERR] = {
	"connect", "timeout", "reset", "invalid", "tls"
};

/* Where things are, relative to the start of the data area. */
struct metrics_layout {
	size_t		 ml_api_keys;
	size_t		 ml_ep_keys;
	size_t		 ml_slots;
	size_t		 ml_slotsize;
	size_t		 ml_status;
	size_t		 ml_data;	/* bytes of data area needed */
};

/*
 * Master-private: which key entries the running generation and the
 * round being declared use, so a full table recycles only entries that
 * no configuration in force still names.
 */
struct metrics_inuse {
	uint8_t		*mi_live;	/* entries the live config names */
	uint8_t		*mi_next;	/* entries the round's config names */
	uint32_t	 mi_n;
};

/*
 * The API series of conf, once each: an API sharing "other" shows under
 * api="_other", once however many share it.
 */
struct metrics_series {
	const struct conf_api	*ms_api;	/* NULL: "other" */
	struct metrics_api_sum	 ms_sum;
};

static void	 metrics_layout(uint32_t, uint32_t, struct metrics_layout *);
static uint32_t	 metrics_layout_id(uint32_t, uint32_t);
static struct shm_hdr *metrics_hdr(void);
static struct metrics_root *metrics_root(struct shm_hdr *);
static char	*metrics_slot_at(struct shm_hdr *, int);
static struct metrics_api *metrics_slot_api(char *, uint32_t);
static struct metrics_endpoint *metrics_slot_ep(char *, uint32_t, uint32_t);
static struct metrics_key *metrics_keys(struct shm_hdr *, int);
static void	 metrics_root_init(struct shm_zone *, uint32_t, uint32_t);
static int	 metrics_root_ok(struct shm_zone *, uint32_t, uint32_t);
static void	 metrics_key_name(char *, const char *, const char *);
static void	 metrics_key_set(struct metrics_key *, const char *);
static void	 metrics_series_clear(struct shm_hdr *, int, uint32_t);
static uint32_t	 metrics_key_get(struct shm_hdr *, int, const char *,
		    struct metrics_inuse *, int, int);
static int	 metrics_assign_url(struct shm_hdr *, struct conf_url *,
		    struct metrics_inuse *, int, int);
static int	 metrics_assign_eps(struct shm_hdr *, struct conf_endpoints *,
		    struct metrics_inuse *, int, int);
static void	 metrics_assign(struct shm_hdr *, struct mgw_conf *, int);
static void	 metrics_inuse_begin(struct metrics_inuse *, uint32_t);
static void	 metrics_inuse_commit(struct metrics_inuse *);
static void	 metrics_hist_add(struct metrics_hist *, uint64_t);
static void	 metrics_hist_sum(const struct metrics_hist *, uint64_t *,
		    uint64_t *);
static void	 metrics_label(FILE *, const char *);
static void	 metrics_seconds(FILE *, uint64_t);
static void	 metrics_family(FILE *, const char *, const char *,
		    const char *);
static void	 metrics_api_labels(FILE *, const struct conf_api *);
static void	 metrics_render_hist(FILE *, const char *,
		    const struct conf_api *, const uint64_t *, uint64_t);
static struct metrics_series *metrics_series_collect(const struct mgw_conf *,
		    uint32_t, size_t *);
static int	 metrics_render_apis(FILE *, const struct mgw_conf *,
		    uint32_t);
static void	 metrics_render_ep_list(FILE *, const struct conf_url *,
		    size_t, uint8_t *, uint32_t, int);
static void	 metrics_render_ep_set(FILE *, const struct conf_endpoints *,
		    uint8_t *, uint32_t, int);
static int	 metrics_render_eps(FILE *, const struct mgw_conf *,
		    uint32_t);
static void	 metrics_render_zones(FILE *);
static int	 metrics_render_plugins(FILE *);
static void	 metrics_scalar(FILE *, const char *, const char *,
		    const char *, uint64_t);

/* Worker: where this process counts, set by metrics_worker_init(). */
static char			*metrics_myslot;
static uint32_t			 metrics_myapis;
static uint32_t			 metrics_myeps;

/* Master: entry bookkeeping for recycling, and the lifetime totals. */
static struct metrics_inuse	 metrics_inuse_api;
static struct metrics_inuse	 metrics_inuse_ep;
static uint64_t			 metrics_reloads;
static uint64_t			 metrics_restarts;
/* Wall-clock seconds of the first load; workers inherit it. */
static uint64_t			 metrics_start_time;

static void
metrics_layout(uint32_t napis, uint32_t neps, struct metrics_layout *ml)
{
	size_t	 off;

	off = METRICS_ALIGN(sizeof(struct metrics_root));
	ml->ml_api_keys = off;
	off += METRICS_ALIGN((size_t)napis * sizeof(struct metrics_key));
	ml->ml_ep_keys = off;
	off += METRICS_ALIGN((size_t)neps * sizeof(struct metrics_key));
	ml->ml_slots = off;
	ml->ml_slotsize = METRICS_GLOBAL_SIZE +
	    (size_t)napis * METRICS_API_SIZE + (size_t)neps * METRICS_EP_SIZE;
	off += METRICS_SLOTS * ml->ml_slotsize;
	ml->ml_status = off;
	off += METRICS_ALIGN(metrics_status_size(napis));
	ml->ml_data = off;
}

/*
 * Both maxima (1 .. 65536 each) fit exactly in 32 bits, and the layout
 * version is folded in with an exclusive or, which keeps the mapping
 * one-to-one for any one version.
 */
static uint32_t
metrics_layout_id(uint32_t napis, uint32_t neps)
{
	return ((((napis - 1) & 0xffffU) << 16 | ((neps - 1) & 0xffffU)) ^
	    ((uint32_t)METRICS_LAYOUT << 24));
}


/*
 * The zone's header if metrics are on and the root is formatted, looked
 * up on each call so that no pointer survives a round that replaced the
 * zone; only the hot path caches its slot.
 */
static struct shm_hdr *
metrics_hdr(void)
{
	struct shm_zone	*z;

	if ((z = shm_zone_find(METRICS_ZONE)) == NULL ||
	    z->z_hdr->h_root == 0)
		return (NULL);
	return (z->z_hdr);
}

static struct metrics_root *
metrics_root(struct shm_hdr *h)
{
	return ((struct metrics_root *)((char *)h + h->h_root));
}

static char *
metrics_slot_at(struct shm_hdr *h, int i)
{
	struct metrics_root	*mr = metrics_root(h);

	return ((char *)h + mr->mr_slots + (size_t)i * mr->mr_slotsize);
}

static struct metrics_api *
metrics_slot_api(char *slot, uint32_t i)
{
	return ((struct metrics_api *)(slot + METRICS_GLOBAL_SIZE +
	    (size_t)i * METRICS_API_SIZE));
}

static struct metrics_endpoint *
metrics_slot_ep(char *slot, uint32_t napis, uint32_t i)
{
	return ((struct metrics_endpoint *)(slot + METRICS_GLOBAL_SIZE +
	    (size_t)napis * METRICS_API_SIZE + (size_t)i * METRICS_EP_SIZE));
}

static struct metrics_key *
metrics_keys(struct shm_hdr *h, int ep)
{
	struct metrics_root	*mr = metrics_root(h);

	return ((struct metrics_key *)((char *)h +
	    (ep ? mr->mr_ep_keys : mr->mr_api_keys)));
}

/*
 * Format a zone's root.  A fresh zone is already zero-filled; a kept one
 * whose root does not describe this layout (a worker scribbled on it) is
 * wiped first, losing its counts rather than trusting its offsets.
 */
static void
metrics_root_init(struct shm_zone *z, uint32_t napis, uint32_t neps)
{
	struct shm_hdr		*h = z->z_hdr;
	struct metrics_root	*mr;
	struct metrics_layout	 ml;
	uint64_t		 base;

	metrics_layout(napis, neps, &ml);
	base = (uint64_t)((char *)shm_zone_root(z) - (char *)h);
	if (h->h_root != 0) {
		h->h_root = 0;
		memset(shm_zone_root(z), 0, ml.ml_data);
	}
	mr = shm_zone_root(z);
	mr->mr_max_apis = napis;
	mr->mr_max_endpoints = neps;
	atomic_store_explicit(&mr->mr_reloads, metrics_reloads,
	    memory_order_relaxed);
	atomic_store_explicit(&mr->mr_restarts, metrics_restarts,
	    memory_order_relaxed);
	mr->mr_api_keys = base + ml.ml_api_keys;
	mr->mr_ep_keys = base + ml.ml_ep_keys;
	mr->mr_slots = base + ml.ml_slots;
	mr->mr_slotsize = ml.ml_slotsize;
	mr->mr_status = base + ml.ml_status;
	h->h_root = base;
	/* Entry 0 of each table is "other": taken, and never matched. */
	atomic_store_explicit(&metrics_keys(h, 0)[0].mk_used, 1,
	    memory_order_release);
	atomic_store_explicit(&metrics_keys(h, 1)[0].mk_used, 1,
	    memory_order_release);
}

/* Does the kept zone's root describe the layout for napis and neps? */
static int
metrics_root_ok(struct shm_zone *z, uint32_t napis, uint32_t neps)
{
	struct shm_hdr		*h = z->z_hdr;
	struct metrics_root	*mr;
	struct metrics_layout	 ml;
	uint64_t		 base;

	if (h->h_root == 0)
		return (0);
	metrics_layout(napis, neps, &ml);
	base = (uint64_t)((char *)shm_zone_root(z) - (char *)h);
	mr = metrics_root(h);
	return (h->h_root == base && mr->mr_max_apis == napis &&
	    mr->mr_max_endpoints == neps &&
	    mr->mr_api_keys == base + ml.ml_api_keys &&
	    mr->mr_ep_keys == base + ml.ml_ep_keys &&
	    mr->mr_slots == base + ml.ml_slots &&
	    mr->mr_slotsize == ml.ml_slotsize &&
	    mr->mr_status == base + ml.ml_status &&
	    base + ml.ml_data <= z->z_size);
}

/*
 * A series name: "name/version", "name" or a URL.  One too long for a key
 * keeps its head and gets a hash of the whole, so two long URLs with one
 * prefix still get two series.
 */
static void
metrics_key_name(char *buf, const char *a, const char *b)
{
	uint64_t	 hash = 0xcbf29ce484222325ULL;
	const char	*p;
	int		 n;

	n = snprintf(buf, METRICS_KEYSIZE, "%s%s%s", a, b != NULL ? "/" : "",
	    b != NULL ? b : "");
	if (n >= 0 && n < METRICS_KEYSIZE)
		return;
	for (p = a; *p != '\0'; p++)
		hash = (hash ^ (unsigned char)*p) * 0x100000001b3ULL;
	for (p = b; p != NULL && *p != '\0'; p++)
		hash = (hash ^ (unsigned char)*p) * 0x100000001b3ULL;
	snprintf(buf + METRICS_KEYSIZE - 18, 18, "#%016llx",
	    (unsigned long long)hash);
}

static void
metrics_key_set(struct metrics_key *k, const char *name)
{
	memset(k->mk_name, 0, sizeof(k->mk_name));
	memcpy(k->mk_name, name, strnlen(name, sizeof(k->mk_name) - 1));
}

/* Zero series i of kind ep in every slot, for a recycled entry. */
static void
metrics_series_clear(struct shm_hdr *h, int ep, uint32_t i)
{
	struct metrics_root	*mr = metrics_root(h);
	char			*slot;
	int			 s;

	for (s = 0; s < METRICS_SLOTS; s++) {
		slot = metrics_slot_at(h, s);
		if (ep)
			memset(metrics_slot_ep(slot, mr->mr_max_apis, i), 0,
			    sizeof(struct metrics_endpoint));
		else
			memset(metrics_slot_api(slot, i), 0,
			    sizeof(struct metrics_api));
	}
}

/*
 * The series of name in table ep (0 APIs, 1 endpoints).  With alloc 0
 * only an existing entry is found (UINT32_MAX if none); with alloc 1 a
 * missing name takes the first never-used entry, else recycles one that
 * neither the live configuration nor this round's names, else gets 0,
 * "other".  Entries are taken in order and never freed, so the used ones
 * are a prefix of the table and a search stops at the first free one.
 */
static uint32_t
metrics_key_get(struct shm_hdr *h, int ep, const char *name,
    struct metrics_inuse *mi, int kept, int alloc)
{
	struct metrics_root	*mr = metrics_root(h);
	struct metrics_key	*k = metrics_keys(h, ep);
	uint32_t		 n, i;

	n = ep ? mr->mr_max_endpoints : mr->mr_max_apis;
	for (i = 1; i < n && atomic_load_explicit(&k[i].mk_used,
	    memory_order_acquire); i++) {
		if (strcmp(k[i].mk_name, name) == 0) {
			mi->mi_next[i] = 1;
			return (i);
		}
	}
	if (!alloc)
		return (UINT32_MAX);
	if (i < n) {
		metrics_key_set(&k[i], name);
		atomic_store_explicit(&k[i].mk_used, 1, memory_order_release);
		mi->mi_next[i] = 1;
		return (i);
	}
	for (i = 1; i < n; i++) {
		if (mi->mi_next[i] || (kept && mi->mi_live != NULL &&
		    mi->mi_live[i]))
			continue;
		/*
		 * Only a draining generation may still count here; a few
		 * of its last requests may land on the new name.
		 */
		metrics_series_clear(h, ep, i);
		metrics_key_set(&k[i], name);
		mi->mi_next[i] = 1;
		return (i);
	}
	return (0);
}

/* Give u its series; 1 if it had to share "other". */
static int
metrics_assign_url(struct shm_hdr *h, struct conf_url *u,
    struct metrics_inuse *mi, int kept, int alloc)
{
	char		 name[METRICS_KEYSIZE];
	uint32_t	 i;

	metrics_key_name(name, u->u_url, NULL);
	i = metrics_key_get(h, 1, name, mi, kept, alloc);
	if (i == UINT32_MAX)
		return (0);
	u->u_metrics = i;
	return (i == 0);
}

static int
metrics_assign_eps(struct shm_hdr *h, struct conf_endpoints *ep,
    struct metrics_inuse *mi, int kept, int alloc)
{
	size_t	 i;
	int	 over = 0;

	for (i = 0; i < ep->ep_nproduction; i++)
		over += metrics_assign_url(h, &ep->ep_production[i], mi, kept,
		    alloc);
	for (i = 0; i < ep->ep_nsandbox; i++)
		over += metrics_assign_url(h, &ep->ep_sandbox[i], mi, kept,
		    alloc);
	return (over);
}

/*
 * Every API and endpoint URL of conf gets its series.  Two passes: the
 * first only finds the names already in the table, so that the second,
 * which allocates, can never recycle an entry a later name still owns.
 */
static void
metrics_assign(struct shm_hdr *h, struct mgw_conf *conf, int kept)
{
	char		 name[METRICS_KEYSIZE];
	struct conf_api	*a;
	size_t		 i, j;
	uint32_t	 s;
	int		 pass, aover = 0, eover = 0;

	for (pass = 0; pass < 2; pass++) {
		aover = eover = 0;
		for (i = 0; i < conf->c_napis; i++) {
			a = &conf->c_apis[i];
			metrics_key_name(name, a->a_name, a->a_version);
			s = metrics_key_get(h, 0, name, &metrics_inuse_api,
			    kept, pass);
			if (s != UINT32_MAX)
				a->a_metrics = s;
			aover += (s == 0);
			eover += metrics_assign_eps(h, &a->a_endpoints,
			    &metrics_inuse_ep, kept, pass);
			for (j = 0; j < a->a_nresources; j++)
				if (a->a_resources[j].r_endpoints != NULL)
					eover += metrics_assign_eps(h,
					    a->a_resources[j].r_endpoints,
					    &metrics_inuse_ep, kept, pass);
		}
	}
	if (aover > 0)
		log_warnx("metrics: %d APIs over max_apis share the series "
		    "\"%s\"", aover, METRICS_OTHER);
	if (eover > 0)
		log_warnx("metrics: %d endpoint URLs over max_endpoints share "
		    "the series \"%s\"", eover, METRICS_OTHER);
}

/*
 * A new round's bookkeeping for a table of n entries.  What the live
 * configuration uses stays until metrics_reload_done() replaces it; a
 * table of another size belongs to another zone and protects nothing.
 */
static void
metrics_inuse_begin(struct metrics_inuse *mi, uint32_t n)
{
	if (mi->mi_n != n) {
		free(mi->mi_live);
		mi->mi_live = NULL;
		mi->mi_n = n;
	}
	free(mi->mi_next);
	mi->mi_next = xcalloc(n, 1);
}

/* The round's names are now the live generation's. */
static void
metrics_inuse_commit(struct metrics_inuse *mi)
{
	if (mi->mi_next == NULL)
		return;
	free(mi->mi_live);
	mi->mi_live = mi->mi_next;
	mi->mi_next = NULL;
}

/*
 * Declare the metrics zone for conf and give every API and endpoint URL
 * of conf its series (a_metrics, u_metrics).  Master, in each zone
 * declaration round, before fork.  A kept zone keeps its series and
 * counts.  With metrics disabled nothing is declared and every series is
 * 0.  0, or -1 with *cause.
 */
int
metrics_conf(struct mgw_conf *conf, char **cause)
{
	struct shm_zone		*z;
	struct metrics_layout	 ml;
	uint32_t		 napis, neps;
	size_t			 i;
	int			 kept;

	if (metrics_start_time == 0)
		metrics_start_time = (uint64_t)time(NULL);
	if (!conf->c_metrics.m_enabled) {
		for (i = 0; i < conf->c_napis; i++)
			conf->c_apis[i].a_metrics = 0;
		return (0);
	}
	napis = conf->c_metrics.m_max_apis;
	neps = conf->c_metrics.m_max_endpoints;
	if (napis < 1 || napis > 65536 || neps < 1 || neps > 65536) {
		xasprintf(cause, "metrics: max_apis and max_endpoints must be "
		    "between 1 and 65536");
		return (-1);
	}
	metrics_layout(napis, neps, &ml);
	z = shm_zone_add(METRICS_ZONE, sizeof(struct shm_hdr) +
	    SHM_CACHELINE + ml.ml_data, metrics_layout_id(napis, neps), cause);
	if (z == NULL)
		return (-1);
	if ((uintptr_t)shm_zone_root(z) % SHM_CACHELINE != 0 ||
	    shm_zone_datasize(z) < ml.ml_data) {
		xasprintf(cause, "zone %s: data area too small or misaligned",
		    METRICS_ZONE);
		return (-1);
	}
	kept = z->z_reused;
	if (!metrics_root_ok(z, napis, neps)) {
		if (kept)
			log_warnx("zone %s: root damaged, counts restart",
			    METRICS_ZONE);
		metrics_root_init(z, napis, neps);
		kept = 0;
	}
	metrics_inuse_begin(&metrics_inuse_api, napis);
	metrics_inuse_begin(&metrics_inuse_ep, neps);
	metrics_assign(z->z_hdr, conf, kept);
	/*
	 * A fresh zone is used by no running generation, so its names are
	 * live at once; that also covers the first configuration.
	 */
	if (!kept) {
		metrics_inuse_commit(&metrics_inuse_api);
		metrics_inuse_commit(&metrics_inuse_ep);
	}
	return (0);
}

/*
 * Worker, after fork: count into slot (the stats slot index) modulo
 * METRICS_SLOTS.  Without a metrics zone the hot path does nothing.
 */
void
metrics_worker_init(int slot)
{
	struct shm_hdr		*h;
	struct metrics_root	*mr;

	metrics_myslot = NULL;
	if (slot < 0 || (h = metrics_hdr()) == NULL)
		return;
	mr = metrics_root(h);
	metrics_myapis = mr->mr_max_apis;
	metrics_myeps = mr->mr_max_endpoints;
	metrics_myslot = metrics_slot_at(h, slot % METRICS_SLOTS);
}

static void
metrics_hist_add(struct metrics_hist *mh, uint64_t us)
{
	int	 b;

	for (b = 0; b < METRICS_NBUCKETS - 1 && us > metrics_bucket_us[b];
	    b++)
		;
	atomic_fetch_add_explicit(&mh->h_bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&mh->h_sum_us, us, memory_order_relaxed);
}

/*
 * Count a finished request.  Worker, called by the core once per request
 * at its end (worker/metering.c decides which requests count); no lock,
 * relaxed adds into this worker's slot.  A request that matched no API
 * counts only as unrouted, and only if the gateway refused it.
 */
void
metrics_count(const struct metrics_req *q)
{
	struct metrics_api		*ma;
	struct metrics_global		*mg;
	struct metrics_endpoint		*me;
	uint32_t			 i;
	int				 m, cls, k;

	if (metrics_myslot == NULL)
		return;
	if (!q->mq_routed) {
		mg = (struct metrics_global *)metrics_myslot;
		if (q->mq_err_code != NULL)
			atomic_fetch_add_explicit(&mg->mg_no_route, 1,
			    memory_order_relaxed);
		return;
	}
	if ((i = q->mq_api) >= metrics_myapis)
		i = 0;
	ma = metrics_slot_api(metrics_myslot, i);
	m = q->mq_method;
	if (m < 0 || m >= METRICS_NMETHODS - 1)
		m = METRICS_NMETHODS - 1;
	cls = q->mq_status / 100 - 1;
	if (cls >= 0 && cls < STATS_NSTATUS)
		atomic_fetch_add_explicit(&ma->ma_requests[m][cls], 1,
		    memory_order_relaxed);
	metrics_hist_add(&ma->ma_latency, q->mq_us);
	if (q->mq_upstream)
		metrics_hist_add(&ma->ma_upstream, q->mq_up_us);
	atomic_fetch_add_explicit(&ma->ma_bytes_in, q->mq_bytes_in,
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&ma->ma_bytes_out, q->mq_bytes_out,
	    memory_order_relaxed);
	if (q->mq_err_code != NULL) {
		if (strcmp(q->mq_err_code, "throttled") == 0)
			atomic_fetch_add_explicit(&ma->ma_throttled[
			    metrics_throttle_parse(q->mq_reason)], 1,
			    memory_order_relaxed);
		else if ((k = metrics_auth_parse(q->mq_err_code)) >= 0)
			atomic_fetch_add_explicit(&ma->ma_auth_failed[k], 1,
			    memory_order_relaxed);
		return;
	}
	/* No gateway error after going upstream: the upstream answered. */
	if (q->mq_endpoint != UINT32_MAX) {
		if ((i = q->mq_endpoint) >= metrics_myeps)
			i = 0;
		me = metrics_slot_ep(metrics_myslot, metrics_myapis, i);
		atomic_fetch_add_explicit(&me->me_requests, 1,
		    memory_order_relaxed);
	}
}

/*
 * Worker: one failure of kind talking to the endpoint of series ep
 * (u_metrics).  No lock.
 */
void
metrics_upstream_error(uint32_t ep, enum metrics_uperr kind)
{
	struct metrics_endpoint	*me;

	if (metrics_myslot == NULL || (unsigned)kind >= METRICS_NUPERR)
		return;
	if (ep >= metrics_myeps)
		ep = 0;
	me = metrics_slot_ep(metrics_myslot, metrics_myapis, ep);
	atomic_fetch_add_explicit(&me->me_errors[kind], 1,
	    memory_order_relaxed);
}

/*
 * Worker: the analytics plugin's counts since its last call: events
 * written, events dropped, failed writes.  No lock.
 */
void
metrics_analytics(uint64_t events, uint64_t dropped, uint64_t errors)
{
	struct metrics_global	*mg;

	if (metrics_myslot == NULL)
		return;
	mg = (struct metrics_global *)metrics_myslot;
	atomic_fetch_add_explicit(&mg->mg_analytics_events, events,
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&mg->mg_analytics_dropped, dropped,
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&mg->mg_analytics_errors, errors,
	    memory_order_relaxed);
}

/*
 * Master, once the new generation serves (after shm_zone_reconcile()):
 * count the reload, and make the round's series the live ones.  The
 * master also keeps the totals, so a replaced zone starts from them.
 */
void
metrics_reload_done(void)
{
	struct shm_hdr	*h;

	metrics_reloads++;
	metrics_inuse_commit(&metrics_inuse_api);
	metrics_inuse_commit(&metrics_inuse_ep);
	if ((h = metrics_hdr()) != NULL)
		atomic_store_explicit(&metrics_root(h)->mr_reloads,
		    metrics_reloads, memory_order_relaxed);
}

/* Master: a worker that died was respawned. */
void
metrics_restart_done(void)
{
	struct shm_hdr	*h;

	metrics_restarts++;
	if ((h = metrics_hdr()) != NULL)
		atomic_store_explicit(&metrics_root(h)->mr_restarts,
		    metrics_restarts, memory_order_relaxed);
}

static void
metrics_hist_sum(const struct metrics_hist *mh, uint64_t *b, uint64_t *sum)
{
	int	 i;

	for (i = 0; i < METRICS_NBUCKETS; i++)
		b[i] += atomic_load_explicit(&mh->h_bucket[i],
		    memory_order_relaxed);
	*sum += atomic_load_explicit(&mh->h_sum_us, memory_order_relaxed);
}

/*
 * Sum API series i over every slot into *s.  Any process, no lock; a
 * sum may miss the adds in flight.  All zero without the zone or for an
 * index out of range.
 */
void
metrics_api_sum(uint32_t i, struct metrics_api_sum *s)
{
	struct shm_hdr		*h;
	struct metrics_api	*ma;
	int			 sl, m, c, k;

	memset(s, 0, sizeof(*s));
	if ((h = metrics_hdr()) == NULL || i >= metrics_root(h)->mr_max_apis)
		return;
	for (sl = 0; sl < METRICS_SLOTS; sl++) {
		ma = metrics_slot_api(metrics_slot_at(h, sl), i);
		for (m = 0; m < METRICS_NMETHODS; m++)
			for (c = 0; c < STATS_NSTATUS; c++)
				s->requests[m][c] += atomic_load_explicit(
				    &ma->ma_requests[m][c],
				    memory_order_relaxed);
		metrics_hist_sum(&ma->ma_latency, s->latency,
		    &s->latency_sum_us);
		metrics_hist_sum(&ma->ma_upstream, s->upstream,
		    &s->upstream_sum_us);
		for (k = 0; k < METRICS_NTHROTTLE; k++)
			s->throttled[k] += atomic_load_explicit(
			    &ma->ma_throttled[k], memory_order_relaxed);
		for (k = 0; k < METRICS_NAUTH; k++)
			s->auth_failed[k] += atomic_load_explicit(
			    &ma->ma_auth_failed[k], memory_order_relaxed);
		s->bytes_in += atomic_load_explicit(&ma->ma_bytes_in,
		    memory_order_relaxed);
		s->bytes_out += atomic_load_explicit(&ma->ma_bytes_out,
		    memory_order_relaxed);
	}
}

/* Sum endpoint series i over every slot.  Any process, no lock. */
void
metrics_endpoint_sum(uint32_t i, struct metrics_endpoint_sum *s)
{
	struct shm_hdr		*h;
	struct metrics_root	*mr;
	struct metrics_endpoint	*me;
	int			 sl, k;

	memset(s, 0, sizeof(*s));
	if ((h = metrics_hdr()) == NULL)
		return;
	mr = metrics_root(h);
	if (i >= mr->mr_max_endpoints)
		return;
	for (sl = 0; sl < METRICS_SLOTS; sl++) {
		me = metrics_slot_ep(metrics_slot_at(h, sl), mr->mr_max_apis,
		    i);
		s->requests += atomic_load_explicit(&me->me_requests,
		    memory_order_relaxed);
		for (k = 0; k < METRICS_NUPERR; k++)
			s->errors[k] += atomic_load_explicit(&me->me_errors[k],
			    memory_order_relaxed);
	}
}

/* The process-wide counters.  Any process, no lock. */
void
metrics_global_sum(struct metrics_global_sum *s)
{
	struct shm_hdr		*h;
	struct metrics_root	*mr;
	struct metrics_global	*mg;
	int			 sl;

	memset(s, 0, sizeof(*s));
	if ((h = metrics_hdr()) == NULL)
		return;
	mr = metrics_root(h);
	s->reloads = atomic_load_explicit(&mr->mr_reloads,
	    memory_order_relaxed);
	s->restarts = atomic_load_explicit(&mr->mr_restarts,
	    memory_order_relaxed);
	for (sl = 0; sl < METRICS_SLOTS; sl++) {
		mg = (struct metrics_global *)metrics_slot_at(h, sl);
		s->analytics_events += atomic_load_explicit(
		    &mg->mg_analytics_events, memory_order_relaxed);
		s->analytics_dropped += atomic_load_explicit(
		    &mg->mg_analytics_dropped, memory_order_relaxed);
		s->analytics_errors += atomic_load_explicit(
		    &mg->mg_analytics_errors, memory_order_relaxed);
		s->no_route += atomic_load_explicit(&mg->mg_no_route,
		    memory_order_relaxed);
	}
}

/* A label value, escaped as the exposition format says: \\ \" \n. */
static void
metrics_label(FILE *f, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* Microseconds as decimal seconds, exactly, without trailing zeros. */
static void
metrics_seconds(FILE *f, uint64_t us)
{
	char	 frac[8];
	int	 n;

	fprintf(f, "%llu", (unsigned long long)(us / 1000000));
	if (us % 1000000 == 0)
		return;
	n = snprintf(frac, sizeof(frac), "%06llu",
	    (unsigned long long)(us % 1000000));
	while (n > 0 && frac[n - 1] == '0')
		frac[--n] = '\0';
	fprintf(f, ".%s", frac);
}

static void
metrics_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A family of one sample without labels. */
static void
metrics_scalar(FILE *f, const char *name, const char *type, const char *help,
    uint64_t v)
{
	metrics_family(f, name, type, help);
	fprintf(f, "%s %llu\n", name, (unsigned long long)v);
}

static void
metrics_api_labels(FILE *f, const struct conf_api *a)
{
	fputs("api=\"", f);
	metrics_label(f, a != NULL ? a->a_name : METRICS_OTHER);
	fputs("\",version=\"", f);
	if (a != NULL)
		metrics_label(f, a->a_version);
	fputc('"', f);
}

static void
metrics_render_hist(FILE *f, const char *name, const struct conf_api *a,
    const uint64_t *b, uint64_t sum_us)
{
	uint64_t	 cum = 0;
	int		 i;

	for (i = 0; i < METRICS_NBUCKETS; i++) {
		cum += b[i];
		fprintf(f, "%s_bucket{", name);
		metrics_api_labels(f, a);
		fputs(",le=\"", f);
		if (i < METRICS_NBUCKETS - 1)
			metrics_seconds(f, metrics_bucket_us[i]);
		else
			fputs("+Inf", f);
		fprintf(f, "\"} %llu\n", (unsigned long long)cum);
	}
	fprintf(f, "%s_sum{", name);
	metrics_api_labels(f, a);
	fputs("} ", f);
	metrics_seconds(f, sum_us);
	fprintf(f, "\n%s_count{", name);
	metrics_api_labels(f, a);
	fprintf(f, "} %llu\n", (unsigned long long)cum);
}

static struct metrics_series *
metrics_series_collect(const struct mgw_conf *conf, uint32_t napis,
    size_t *np)
{
	struct metrics_series	*ms;
	uint8_t			*seen;
	size_t			 i, n = 0;
	uint32_t		 s;

	*np = 0;
	if ((seen = calloc(napis, 1)) == NULL)
		return (NULL);
	if ((ms = calloc(conf->c_napis + 1, sizeof(*ms))) == NULL) {
		free(seen);
		return (NULL);
	}
	for (i = 0; i < conf->c_napis; i++) {
		if ((s = conf->c_apis[i].a_metrics) >= napis)
			s = 0;
		if (seen[s])
			continue;
		seen[s] = 1;
		ms[n].ms_api = s == 0 ? NULL : &conf->c_apis[i];
		metrics_api_sum(s, &ms[n].ms_sum);
		n++;
	}
	free(seen);
	*np = n;
	return (ms);
}

static int
metrics_render_apis(FILE *f, const struct mgw_conf *conf, uint32_t napis)
{
	struct metrics_series	*ms;
	struct metrics_api_sum	*s;
	size_t			 i, n;
	int			 m, c, k;

	if ((ms = metrics_series_collect(conf, napis, &n)) == NULL)
		return (-1);

	metrics_family(f, "mgw_requests_total", "counter",
	    "Requests answered, by API, method and status class.");
	for (i = 0; i < n; i++)
		for (m = 0; m < METRICS_NMETHODS; m++)
			for (c = 0; c < STATS_NSTATUS; c++) {
				fputs("mgw_requests_total{", f);
				metrics_api_labels(f, ms[i].ms_api);
				fprintf(f, ",method=\"%s\",code=\"%dxx\"} "
				    "%llu\n", metrics_method_name[m], c + 1,
				    (unsigned long long)
				    ms[i].ms_sum.requests[m][c]);
			}

	metrics_family(f, "mgw_request_duration_seconds", "histogram",
	    "Time from the first byte of a request to its last response "
	    "byte queued, by API.");
	for (i = 0; i < n; i++)
		metrics_render_hist(f, "mgw_request_duration_seconds",
		    ms[i].ms_api, ms[i].ms_sum.latency,
		    ms[i].ms_sum.latency_sum_us);

	metrics_family(f, "mgw_upstream_duration_seconds", "histogram",
	    "Time from connecting upstream to the end of its response, by "
	    "API, for requests that went upstream.");
	for (i = 0; i < n; i++)
		metrics_render_hist(f, "mgw_upstream_duration_seconds",
		    ms[i].ms_api, ms[i].ms_sum.upstream,
		    ms[i].ms_sum.upstream_sum_us);

	metrics_family(f, "mgw_request_bytes_total", "counter",
	    "Request bytes received, head and body, by API.");
	for (i = 0; i < n; i++) {
		fputs("mgw_request_bytes_total{", f);
		metrics_api_labels(f, ms[i].ms_api);
		fprintf(f, "} %llu\n",
		    (unsigned long long)ms[i].ms_sum.bytes_in);
	}
	metrics_family(f, "mgw_response_bytes_total", "counter",
	    "Response bytes sent, head and body, by API.");
	for (i = 0; i < n; i++) {
		fputs("mgw_response_bytes_total{", f);
		metrics_api_labels(f, ms[i].ms_api);
		fprintf(f, "} %llu\n",
		    (unsigned long long)ms[i].ms_sum.bytes_out);
	}

	metrics_family(f, "mgw_throttled_total", "counter",
	    "Requests refused by throttling, by API and deciding level.");
	for (i = 0; i < n; i++) {
		s = &ms[i].ms_sum;
		for (k = 0; k < METRICS_NTHROTTLE; k++) {
			fputs("mgw_throttled_total{", f);
			metrics_api_labels(f, ms[i].ms_api);
			fprintf(f, ",level=\"%s\"} %llu\n",
			    metrics_throttle_name[k],
			    (unsigned long long)s->throttled[k]);
		}
	}
	metrics_family(f, "mgw_auth_failures_total", "counter",
	    "Requests refused by authentication, by API and reason.");
	for (i = 0; i < n; i++) {
		s = &ms[i].ms_sum;
		for (k = 0; k < METRICS_NAUTH; k++) {
			fputs("mgw_auth_failures_total{", f);
			metrics_api_labels(f, ms[i].ms_api);
			fprintf(f, ",reason=\"%s\"} %llu\n",
			    metrics_auth_name[k],
			    (unsigned long long)s->auth_failed[k]);
		}
	}
	free(ms);
	return (0);
}

/* Each endpoint series of conf once, labelled by its URL. */
static void
metrics_render_ep_list(FILE *f, const struct conf_url *u, size_t nu,
    uint8_t *seen, uint32_t neps, int pass)
{
	struct metrics_endpoint_sum	 s;
	size_t				 i;
	uint32_t			 e;
	int				 k;

	for (i = 0; i < nu; i++) {
		if ((e = u[i].u_metrics) >= neps)
			e = 0;
		if (seen[e] & (1 << pass))
			continue;
		seen[e] |= 1 << pass;
		metrics_endpoint_sum(e, &s);
		if (pass == 0) {
			fputs("mgw_upstream_responses_total{endpoint=\"", f);
			metrics_label(f, e == 0 ? METRICS_OTHER : u[i].u_url);
			fprintf(f, "\"} %llu\n",
			    (unsigned long long)s.requests);
			continue;
		}
		for (k = 0; k < METRICS_NUPERR; k++) {
			fputs("mgw_upstream_errors_total{endpoint=\"", f);
			metrics_label(f, e == 0 ? METRICS_OTHER : u[i].u_url);
			fprintf(f, "\",kind=\"%s\"} %llu\n",
			    metrics_uperr_name[k],
			    (unsigned long long)s.errors[k]);
		}
	}
}

static void
metrics_render_ep_set(FILE *f, const struct conf_endpoints *ep,
    uint8_t *seen, uint32_t neps, int pass)
{
	metrics_render_ep_list(f, ep->ep_production, ep->ep_nproduction,
	    seen, neps, pass);
	metrics_render_ep_list(f, ep->ep_sandbox, ep->ep_nsandbox, seen,
	    neps, pass);
}

static int
metrics_render_eps(FILE *f, const struct mgw_conf *conf, uint32_t neps)
{
	const struct conf_api	*a;
	uint8_t			*seen;
	size_t			 i, j;
	int			 pass;

	if ((seen = calloc(neps, 1)) == NULL)
		return (-1);
	for (pass = 0; pass < 2; pass++) {
		if (pass == 0)
			metrics_family(f, "mgw_upstream_responses_total",
			    "counter", "Responses received from an upstream "
			    "endpoint.");
		else
			metrics_family(f, "mgw_upstream_errors_total",
			    "counter", "Failures talking to an upstream "
			    "endpoint, by kind.");
		for (i = 0; i < conf->c_napis; i++) {
			a = &conf->c_apis[i];
			metrics_render_ep_set(f, &a->a_endpoints, seen, neps,
			    pass);
			for (j = 0; j < a->a_nresources; j++)
				if (a->a_resources[j].r_endpoints != NULL)
					metrics_render_ep_set(f,
					    a->a_resources[j].r_endpoints,
					    seen, neps, pass);
		}
	}
	free(seen);
	return (0);
}

/*
 * Every zone this process sees, once by name: the one shm_zone_find()
 * picks, which in a worker of a new generation is its own.  Slab zones
 * report what their allocator handed out; the fixed-layout ones (stats,
 * metrics) are used whole.
 */
static void
metrics_render_zones(FILE *f)
{
	struct shm_zone	*z;
	size_t		 i;
	uint64_t	 used;
	int		 pass;

	for (pass = 0; pass < 2; pass++) {
		if (pass == 0)
			metrics_family(f, "mgw_shm_zone_size_bytes", "gauge",
			    "Size of a shared memory zone.");
		else
			metrics_family(f, "mgw_shm_zone_used_bytes", "gauge",
			    "Bytes in use in a shared memory zone.");
		for (i = 0; (z = shm_zone_at(i)) != NULL; i++) {
			if (shm_zone_find(z->z_name) != z)
				continue;
			if (pass == 0)
				used = z->z_size;
			else if (strcmp(z->z_name, "stats") == 0 ||
			    strcmp(z->z_name, METRICS_ZONE) == 0)
				used = z->z_size;
			else
				used = *(volatile uint64_t *)&z->z_hdr->h_used;
			fprintf(f, "%s{zone=\"", pass == 0 ?
			    "mgw_shm_zone_size_bytes" :
			    "mgw_shm_zone_used_bytes");
			metrics_label(f, z->z_name);
			fprintf(f, "\"} %llu\n", (unsigned long long)used);
		}
	}
}

/*
 * The plugins' families (the throttle's evictions, the token cache, the
 * revocation list, analytics), from their metrics hooks.  0 or -1 (OOM).
 */
static int
metrics_render_plugins(FILE *f)
{
	struct mgw_buf	 b;
	int		 rv;

	status_buf_init(&b, STATUS_FORM_RAW);
	rv = status_plugins_metrics(&b);
	if (b.b_len > 0)
		fwrite(b.b_data, 1, b.b_len, f);
	status_buf_free(&b);
	return (rv);
}

/*
 * The Prometheus text exposition (format 0.0.4) of everything, for the
 * APIs and endpoints of conf: a malloc'd string and its length in *len,
 * or NULL on OOM.  Any process; no lock but what the plugins' metrics
 * hooks take briefly.  The core's families come first, then each
 * plugin's (status-plugins.c).  The set of lines depends only on conf
 * and the zones, never on traffic.
 */
char *
metrics_render(const struct mgw_conf *conf, size_t *len)
{
	struct metrics_global_sum	 g;
	struct stats_totals		 t;
	struct shm_hdr			*h;
	FILE				*f;
	char				*buf = NULL;
	size_t				 size = 0;
	uint32_t			 napis = 0, neps = 0;
	int				 failed = 0;

	*len = 0;
	if ((f = open_memstream(&buf, &size)) == NULL)
		return (NULL);
	if ((h = metrics_hdr()) != NULL) {
		napis = metrics_root(h)->mr_max_apis;
		neps = metrics_root(h)->mr_max_endpoints;
	}
	metrics_global_sum(&g);
	stats_sum(&t);

	metrics_family(f, "mgw_build_info", "gauge",
	    "Always 1; the version label says which mgw this is.");
	fputs("mgw_build_info{version=\"", f);
	metrics_label(f, MGW_VERSION);
	fputs("\"} 1\n", f);
	metrics_family(f, "mgw_start_time_seconds", "gauge",
	    "When the master first loaded its configuration, in seconds "
	    "since the epoch.");
	fprintf(f, "mgw_start_time_seconds %llu\n",
	    (unsigned long long)metrics_start_time);

	if (napis > 0 && metrics_render_apis(f, conf, napis) == -1)
		failed = 1;
	if (neps > 0 && metrics_render_eps(f, conf, neps) == -1)
		failed = 1;

	metrics_scalar(f, "mgw_unrouted_requests_total", "counter",
	    "Requests refused before any API matched them (404, malformed).",
	    g.no_route);
	metrics_family(f, "mgw_connections_active", "gauge",
	    "Client connections open now, all workers.");
	fprintf(f, "mgw_connections_active %lld\n", (long long)t.active);
	metrics_scalar(f, "mgw_connections_accepted_total", "counter",
	    "Client connections accepted.",
	    t.accepted);
	metrics_scalar(f, "mgw_worker_restarts_total", "counter",
	    "Workers respawned after they died.",
	    g.restarts);
	metrics_family(f, "mgw_reloads_total", "counter",
	    "Configuration reloads that took effect.");
	fprintf(f, "mgw_reloads_total %llu\n", (unsigned long long)g.reloads);

	metrics_render_zones(f);
	if (metrics_render_plugins(f) == -1)
		failed = 1;

	if (ferror(f))
		failed = 1;
	if (fclose(f) != 0)
		failed = 1;
	if (failed) {
		free(buf);
		return (NULL);
	}
	*len = size;
	return (buf);
}

/* A throttle level name as the plugin set it; *_OTHER if unknown. */
enum metrics_throttle
metrics_throttle_parse(const char *s)
{
	int	 i;

	if (s == NULL)
		return (METRICS_TH_OTHER);
	for (i = 0; i < METRICS_TH_OTHER; i++)
		if (strcmp(s, metrics_throttle_name[i]) == 0)
			return ((enum metrics_throttle)i);
	return (METRICS_TH_OTHER);
}

/* An error code as an enum metrics_auth, or -1 if it is not an auth one. */
int
metrics_auth_parse(const char *s)
{
	int	 i;

	if (s == NULL)
		return (-1);
	for (i = 0; i < METRICS_NAUTH; i++)
		if (strcmp(s, metrics_auth_name[i]) == 0)
			return (i);
	return (-1);
}
