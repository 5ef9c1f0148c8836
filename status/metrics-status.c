/*
 * metrics-status.c: the status page's rolling window, and the documents
 * built from it: /status (JSON) and mgwctl stats (text).  The page that
 * shows /status in a browser is status-page.c.
 *
 * Rates and percentiles need two points in time.  Rather than have every
 * worker that serves /status keep its own history (each would see a
 * different window, and a fresh worker none), the master samples the
 * cumulative per-API counters once a second into a ring in the metrics
 * zone.  A reader takes the newest sample and the oldest one of the last
 * STATUS_RING - 1 seconds and divides the difference by the time between
 * them, so /status from any worker and mgwctl stats agree.
 *
 * The ring has one writer, the master, and is read under a seqlock:
 * sr_seq is odd while an entry is being written, and a reader retries
 * (a bounded number of times) when it saw it odd or changed.  Readers
 * never block the master and the master never waits for them.
 *
 * Every entry holds max_apis + 1 samples: one per API series and, at
 * index max_apis, the sum over the series of the configuration that was
 * sampled.  A series the current configuration does not use is marked
 * STATUS_UNSET in that entry, so an API that comes back after a reload
 * does not show the traffic it had before as a burst.
 */
#include "config.h"

#include <sys/types.h>

#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib.h"
#include "conf-t.h"
#include "metrics.h"
#include "shm.h"
#include "status.h"

#define STATUS_UNSET	UINT64_MAX	/* ss_requests: series not sampled */
#define STATUS_TRIES	1000		/* seqlock read attempts */

#define STATUS_HDRSIZE							\
	((sizeof(struct status_ring) + SHM_CACHELINE - 1) &		\
	    ~(size_t)(SHM_CACHELINE - 1))


static struct status_ring	*status_ring_find(uint32_t *);
static struct status_sample	*status_entry(struct status_ring *, uint32_t,
				    uint32_t, uint32_t);
static void	status_fold(const struct metrics_api_sum *,
		    struct status_sample *);
static void	status_add(struct status_sample *,
		    const struct status_sample *);
static int	status_doc_build(const struct mgw_conf *, struct status_doc *);
static void	status_json_num(FILE *, int, double);
static int	status_plugin_fields(FILE *, enum status_form);
static void	status_json_str(FILE *, const char *);
static size_t	status_text_width(const char *);
static void	status_text_cell(FILE *, const char *, size_t, int);

/*
 * Bytes the ring needs for max_apis API series.  Any process; pure.
 */
size_t
metrics_status_size(uint32_t max_apis)
{
	return (STATUS_HDRSIZE + (size_t)STATUS_RING *
	    ((size_t)max_apis + 1) * sizeof(struct status_sample));
}

/*
 * The ring in this process's view of the metrics zone, and the number of
 * series per entry (max_apis + 1), or NULL when there is no zone or its
 * root does not describe a ring that fits inside it.  Looked up on each
 * call: a reload may replace the zone.
 */
static struct status_ring *
status_ring_find(uint32_t *nseries)
{
	struct shm_zone		*z;
	struct metrics_root	*mr;
	char			*base;

	/* h_root stays 0 until metrics.c has formatted the root. */
	if ((z = shm_zone_find(METRICS_ZONE)) == NULL || z->z_hdr == NULL ||
	    z->z_hdr->h_root == 0 ||
	    z->z_hdr->h_root > z->z_size - sizeof(*mr))
		return (NULL);
	base = (char *)z->z_hdr;
	mr = (struct metrics_root *)(base + z->z_hdr->h_root);
	if (mr->mr_status == 0 || mr->mr_max_apis == 0 ||
	    mr->mr_max_apis == UINT32_MAX ||
	    mr->mr_status > z->z_size ||
	    metrics_status_size(mr->mr_max_apis) > z->z_size - mr->mr_status)
		return (NULL);
	*nseries = mr->mr_max_apis + 1;
	return ((struct status_ring *)(base + mr->mr_status));
}

static struct status_sample *
status_entry(struct status_ring *r, uint32_t nseries, uint32_t e, uint32_t i)
{
	struct status_sample	*s;

	s = (struct status_sample *)((char *)r + STATUS_HDRSIZE);
	return (s + (size_t)e * nseries + i);
}

/* The cumulative numbers of one API series that the window needs. */
static void
status_fold(const struct metrics_api_sum *a, struct status_sample *s)
{
	int	 m, c, b;

	memset(s, 0, sizeof(*s));
	for (m = 0; m < METRICS_NMETHODS; m++) {
		for (c = 0; c < STATS_NSTATUS; c++)
			s->ss_requests += a->requests[m][c];
		s->ss_errors += a->requests[m][STATS_5XX];
	}
	for (c = 0; c < METRICS_NTHROTTLE; c++)
		s->ss_throttled += a->throttled[c];
	for (b = 0; b < METRICS_NBUCKETS; b++)
		s->ss_latency[b] = a->latency[b];
}

static void
status_add(struct status_sample *to, const struct status_sample *s)
{
	int	 b;

	to->ss_requests += s->ss_requests;
	to->ss_errors += s->ss_errors;
	to->ss_throttled += s->ss_throttled;
	for (b = 0; b < METRICS_NBUCKETS; b++)
		to->ss_latency[b] += s->ss_latency[b];
}

/*
 * Append one entry: n samples for the series in idx (the last may be the
 * total, nseries - 1), every other series STATUS_UNSET.  The single
 * writer is the master.  The release fence after the odd sequence number
 * keeps the entry's stores from being seen before it, and the release
 * store of the even number publishes them.
 */
void
status_ring_write(struct status_ring *r, uint32_t nseries,
    const uint32_t *idx, const struct status_sample *s, size_t n,
    uint64_t now)
{
	struct status_sample	*e;
	uint64_t		 seq;
	uint32_t		 head, count, slot, i;
	size_t			 k;

	head = atomic_load_explicit(&r->sr_head, memory_order_relaxed);
	count = atomic_load_explicit(&r->sr_count, memory_order_relaxed);
	slot = count == 0 ? 0 : (head + 1) % STATUS_RING;

	seq = atomic_load_explicit(&r->sr_seq, memory_order_relaxed);
	atomic_store_explicit(&r->sr_seq, seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);

	for (i = 0; i < nseries; i++)
		status_entry(r, nseries, slot, i)->ss_requests = STATUS_UNSET;
	for (k = 0; k < n; k++) {
		if (idx[k] >= nseries)
			continue;
		e = status_entry(r, nseries, slot, idx[k]);
		memcpy(e, &s[k], sizeof(*e));
	}
	atomic_store_explicit(&r->sr_time[slot], now, memory_order_relaxed);
	atomic_store_explicit(&r->sr_head, slot, memory_order_relaxed);
	if (count < STATUS_RING)
		atomic_store_explicit(&r->sr_count, count + 1,
		    memory_order_relaxed);

	atomic_store_explicit(&r->sr_seq, seq + 2, memory_order_release);
}

/*
 * The window of each series in idx (STATUS_NOIDX: none): the newest
 * entry against the oldest one that sampled the series too.  Copies what
 * it needs under the seqlock and computes outside it.  0, or -1 on OOM;
 * a window that cannot be read consistently is left invalid.
 */
int
status_ring_read(struct status_ring *r, uint32_t nseries,
    const uint32_t *idx, size_t n, struct status_window *w)
{
	struct status_sample	*copy, *newest, *old;
	uint64_t		 s1, s2, t[STATUS_RING];
	uint32_t		 head, count, e, j;
	size_t			 k;
	int			 tries;

	memset(w, 0, n * sizeof(*w));
	if (n == 0)
		return (0);
	if ((copy = calloc(n * STATUS_RING, sizeof(*copy))) == NULL)
		return (-1);
	for (tries = 0; tries < STATUS_TRIES; tries++) {
		s1 = atomic_load_explicit(&r->sr_seq, memory_order_acquire);
		if (s1 & 1) {
			sched_yield();
			continue;
		}
		head = atomic_load_explicit(&r->sr_head, memory_order_relaxed);
		count = atomic_load_explicit(&r->sr_count,
		    memory_order_relaxed);
		if (head >= STATUS_RING || count > STATUS_RING)
			count = 0;	/* torn: the check below retries */
		for (j = 0; j < count; j++) {
			/* j = 0 is the newest entry, count - 1 the oldest. */
			e = (head + STATUS_RING - j) % STATUS_RING;
			t[j] = atomic_load_explicit(&r->sr_time[e],
			    memory_order_relaxed);
			for (k = 0; k < n; k++) {
				if (idx[k] >= nseries)
					continue;
				memcpy(&copy[k * STATUS_RING + j],
				    status_entry(r, nseries, e, idx[k]),
				    sizeof(*copy));
			}
		}
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&r->sr_seq, memory_order_relaxed);
		if (s1 == s2)
			break;
	}
	if (tries == STATUS_TRIES) {
		free(copy);
		return (0);
	}
	for (k = 0; k < n; k++) {
		if (idx[k] >= nseries || count < 2)
			continue;
		newest = &copy[k * STATUS_RING];
		if (newest->ss_requests == STATUS_UNSET)
			continue;
		for (j = count - 1; j > 0; j--) {
			old = &copy[k * STATUS_RING + j];
			if (old->ss_requests != STATUS_UNSET &&
			    old->ss_requests <= newest->ss_requests &&
			    t[j] < t[0])
				break;
		}
		if (j == 0)
			continue;
		status_window_compute(old, newest, t[0] - t[j], &w[k]);
	}
	free(copy);
	return (0);
}

/* Rates and percentiles between two samples dt ms apart. */
void
status_window_compute(const struct status_sample *old,
    const struct status_sample *new, uint64_t dt, struct status_window *w)
{
	uint64_t	 d[METRICS_NBUCKETS], reqs, errs;
	int		 b;

	memset(w, 0, sizeof(*w));
	if (dt == 0)
		return;
	w->sw_valid = 1;
	w->sw_seconds = (double)dt / 1000.0;
	reqs = new->ss_requests - old->ss_requests;
	errs = new->ss_errors >= old->ss_errors ?
	    new->ss_errors - old->ss_errors : 0;
	w->sw_rps = (double)reqs / w->sw_seconds;
	w->sw_error_rate = reqs == 0 ? 0.0 : (double)errs / (double)reqs;
	if (w->sw_error_rate > 1.0)
		w->sw_error_rate = 1.0;
	for (b = 0; b < METRICS_NBUCKETS; b++)
		d[b] = new->ss_latency[b] >= old->ss_latency[b] ?
		    new->ss_latency[b] - old->ss_latency[b] : 0;
	if (status_quantile(0.5, d, &w->sw_p50) == 0 &&
	    status_quantile(0.99, d, &w->sw_p99) == 0)
		w->sw_has_latency = 1;
}

/*
 * The q-quantile, in ms, of the observations counted in the per-bucket
 * (not cumulative) counts b, as Prometheus' histogram_quantile() does:
 * find the bucket holding rank q * total and interpolate linearly between
 * its bounds, the first bucket starting at 0.  A rank in the +Inf bucket
 * answers the last finite bound.  0, or -1 when there is no observation.
 */
int
status_quantile(double q, const uint64_t *b, double *ms)
{
	double		 rank, lo, hi;
	uint64_t	 total, cum;
	int		 i;

	total = 0;
	for (i = 0; i < METRICS_NBUCKETS; i++)
		total += b[i];
	if (total == 0)
		return (-1);
	rank = q * (double)total;
	cum = 0;
	for (i = 0; i < METRICS_NBUCKETS - 1; i++) {
		if (b[i] != 0 && (double)(cum + b[i]) >= rank)
			break;
		cum += b[i];
	}
	if (i == METRICS_NBUCKETS - 1) {
		*ms = (double)metrics_bucket_us[METRICS_NBUCKETS - 2] / 1000.0;
		return (0);
	}
	lo = i == 0 ? 0.0 : (double)metrics_bucket_us[i - 1] / 1000.0;
	hi = (double)metrics_bucket_us[i] / 1000.0;
	*ms = lo + (hi - lo) * ((rank - (double)cum) / (double)b[i]);
	return (0);
}

/*
 * Master, once a second (its sample timer): sample every API series of
 * conf, and their sum, into the ring.  Without a metrics zone or ring it
 * does nothing.  Takes no lock; readers retry around it.
 */
void
metrics_status_sample(const struct mgw_conf *conf)
{
	struct status_ring	*r;
	struct status_sample	*s;
	struct metrics_api_sum	 a;
	uint32_t		 nseries, *idx, series;
	uint8_t			*seen;
	size_t			 i, n;

	if ((r = status_ring_find(&nseries)) == NULL)
		return;
	s = xcalloc(conf->c_napis + 1, sizeof(*s));
	idx = xcalloc(conf->c_napis + 1, sizeof(*idx));
	seen = xcalloc(nseries / 8 + 1, 1);
	n = 0;
	for (i = 0; i < conf->c_napis; i++) {
		series = conf->c_apis[i].a_metrics;
		if (series >= nseries - 1 ||
		    (seen[series / 8] & (1u << (series % 8))) != 0)
			continue;
		seen[series / 8] |= 1u << (series % 8);
		metrics_api_sum(series, &a);
		status_fold(&a, &s[n]);
		idx[n] = series;
		status_add(&s[conf->c_napis], &s[n]);
		n++;
	}
	/* The total goes last, at index max_apis. */
	s[n] = s[conf->c_napis];
	idx[n] = nseries - 1;
	status_ring_write(r, nseries, idx, s, n + 1, util_now_ms());
	free(seen);
	free(idx);
	free(s);
}

/*
 * Gather the live counters and the windows for conf.  0, or -1 on OOM
 * (then nothing needs freeing).  Any process; workers must not die on OOM,
 * so this uses plain calloc.
 */
static int
status_doc_build(const struct mgw_conf *conf, struct status_doc *d)
{
	struct status_ring	*r;
	struct metrics_api_sum	 a;
	uint32_t		 nseries = 0, maxseries, series, *idx = NULL;
	uint8_t			*seen = NULL;
	size_t			 i, n;

	memset(d, 0, sizeof(*d));
	stats_sum(&d->sd_stats);
	metrics_global_sum(&d->sd_global);
	n = conf->c_napis;
	d->sd_napis = n;
	maxseries = 0;
	for (i = 0; i < n; i++)
		if (conf->c_apis[i].a_metrics > maxseries)
			maxseries = conf->c_apis[i].a_metrics;
	if ((d->sd_live = calloc(n + 1, sizeof(*d->sd_live))) == NULL ||
	    (d->sd_win = calloc(n + 1, sizeof(*d->sd_win))) == NULL ||
	    (idx = calloc(n + 1, sizeof(*idx))) == NULL ||
	    (seen = calloc((size_t)maxseries / 8 + 1, 1)) == NULL)
		goto fail;

	/* Two conf APIs may share a series ("other"): count it once. */
	for (i = 0; i < n; i++) {
		series = conf->c_apis[i].a_metrics;
		metrics_api_sum(series, &a);
		status_fold(&a, &d->sd_live[i]);
		if ((seen[series / 8] & (1u << (series % 8))) == 0) {
			seen[series / 8] |= 1u << (series % 8);
			status_add(&d->sd_total, &d->sd_live[i]);
		}
	}

	if ((r = status_ring_find(&nseries)) != NULL) {
		for (i = 0; i < n; i++) {
			series = conf->c_apis[i].a_metrics;
			idx[i] = series < nseries - 1 ? series : STATUS_NOIDX;
		}
		idx[n] = nseries - 1;
		if (status_ring_read(r, nseries, idx, n + 1, d->sd_win) == -1)
			goto fail;
		d->sd_total_win = d->sd_win[n];
	}
	free(seen);
	free(idx);
	return (0);

fail:
	free(seen);
	free(idx);
	status_doc_free(d);
	return (-1);
}

/* Free what status_doc_build() allocated in d.  Any process. */
void
status_doc_free(struct status_doc *d)
{
	free(d->sd_live);
	free(d->sd_win);
	d->sd_live = NULL;
	d->sd_win = NULL;
}

/*
 * The plugins' status fields (status hooks) in form, where the document
 * has room for them.  0 or -1 (OOM).
 */
static int
status_plugin_fields(FILE *f, enum status_form form)
{
	struct mgw_buf	 b;
	int		 rv;

	status_buf_init(&b, form);
	rv = status_plugins_status(&b);
	if (b.b_len > 0)
		fwrite(b.b_data, 1, b.b_len, f);
	status_buf_free(&b);
	return (rv);
}

/* A JSON number in ms, or null when it is not known. */
static void
status_json_num(FILE *f, int known, double v)
{
	if (!known)
		fputs("null", f);
	else
		fprintf(f, "%.3f", v);
}

/* A JSON string (or null) for a name from the configuration. */
static void
status_json_str(FILE *f, const char *s)
{
	char	*buf;
	size_t	 len, size;

	if (s == NULL) {
		fputs("null", f);
		return;
	}
	len = strlen(s);
	size = len * 6 + 3;	/* every byte escaped, quotes, NUL */
	if ((buf = malloc(size)) == NULL) {
		fputs("null", f);
		return;
	}
	util_json_escape(buf, size, s, len);
	fputs(buf, f);
	free(buf);
}

/*
 * The /status document for conf, as served by a worker of generation
 * gen: the totals /status always had, the window's rates and
 * percentiles, and one object per API of conf.  A malloc'd string with
 * its length in *len, or NULL on OOM.  Any process, no lock.
 */
char *
metrics_status_json(const struct mgw_conf *conf, int gen, size_t *len)
{
	struct status_doc	 d;
	char			*buf;

	if (status_doc_build(conf, &d) == -1)
		return (NULL);
	buf = status_json_doc(conf, gen, &d, len);
	status_doc_free(&d);
	return (buf);
}

/* The JSON document of d; see metrics_status_json(). */
char *
status_json_doc(const struct mgw_conf *conf, int gen,
    const struct status_doc *d, size_t *len)
{
	const struct status_window	*w;
	const struct status_sample	*s;
	FILE				*f;
	char				*buf = NULL;
	size_t				 i, size = 0;

	if ((f = open_memstream(&buf, &size)) == NULL)
		return (NULL);
	fprintf(f, "{\"version\":\"%s\",\"generation\":%d,"
	    "\"requests\":%llu,\"bytes_in\":%llu,\"bytes_out\":%llu,"
	    "\"responses\":{\"1xx\":%llu,\"2xx\":%llu,\"3xx\":%llu,"
	    "\"4xx\":%llu,\"5xx\":%llu},"
	    "\"connections\":{\"accepted\":%llu,\"active\":%lld},"
	    "\"upstream_errors\":%llu,\"tls\":{\"handshakes\":%llu,"
	    "\"resumed\":%llu,\"failures\":%llu},",
	    MGW_VERSION, gen,
	    (unsigned long long)d->sd_stats.requests,
	    (unsigned long long)d->sd_stats.bytes_in,
	    (unsigned long long)d->sd_stats.bytes_out,
	    (unsigned long long)d->sd_stats.status[STATS_1XX],
	    (unsigned long long)d->sd_stats.status[STATS_2XX],
	    (unsigned long long)d->sd_stats.status[STATS_3XX],
	    (unsigned long long)d->sd_stats.status[STATS_4XX],
	    (unsigned long long)d->sd_stats.status[STATS_5XX],
	    (unsigned long long)d->sd_stats.accepted,
	    (long long)d->sd_stats.active,
	    (unsigned long long)d->sd_stats.upstream_errors,
	    (unsigned long long)d->sd_stats.tls_handshakes,
	    (unsigned long long)d->sd_stats.tls_resumed,
	    (unsigned long long)d->sd_stats.tls_failures);
	/* The plugins' fields, each ending in a comma. */
	if (status_plugin_fields(f, STATUS_FORM_JSON) == -1) {
		fclose(f);
		free(buf);
		return (NULL);
	}
	w = &d->sd_total_win;
	fprintf(f, "\"window_seconds\":%.3f,\"requests_per_second\":%.3f,"
	    "\"error_rate\":%.4f,\"latency_ms\":{\"p50\":",
	    w->sw_seconds, w->sw_rps, w->sw_error_rate);
	status_json_num(f, w->sw_has_latency, w->sw_p50);
	fputs(",\"p99\":", f);
	status_json_num(f, w->sw_has_latency, w->sw_p99);
	fprintf(f, "},\"throttled\":%llu,\"apis\":[",
	    (unsigned long long)d->sd_total.ss_throttled);
	for (i = 0; i < d->sd_napis; i++) {
		w = &d->sd_win[i];
		s = &d->sd_live[i];
		fputs(i == 0 ? "{\"name\":" : ",{\"name\":", f);
		status_json_str(f, conf->c_apis[i].a_name);
		fputs(",\"version\":", f);
		status_json_str(f, conf->c_apis[i].a_version);
		fprintf(f, ",\"requests\":%llu,\"requests_per_second\":%.3f,"
		    "\"error_rate\":%.4f,\"p50_ms\":",
		    (unsigned long long)s->ss_requests, w->sw_rps,
		    w->sw_error_rate);
		status_json_num(f, w->sw_has_latency, w->sw_p50);
		fputs(",\"p99_ms\":", f);
		status_json_num(f, w->sw_has_latency, w->sw_p99);
		fprintf(f, ",\"throttled\":%llu}",
		    (unsigned long long)s->ss_throttled);
	}
	fputs("]}\n", f);
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return (NULL);
	}
	if (fclose(f) != 0) {
		free(buf);
		return (NULL);
	}
	*len = size;
	return (buf);
}

/* Terminal columns of a UTF-8 string (one per code point). */
static size_t
status_text_width(const char *s)
{
	size_t	 w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return (w);
}

/*
 * One table cell padded to width, left or right aligned.  Control bytes
 * in a name would move the cursor, so they print as '?'.
 */
static void
status_text_cell(FILE *f, const char *s, size_t width, int right)
{
	size_t	 w, pad;
	const char *p;

	w = status_text_width(s);
	pad = width > w ? width - w : 0;
	if (right)
		fprintf(f, "%*s", (int)pad, "");
	for (p = s; *p != '\0'; p++)
		fputc((unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p, f);
	if (!right)
		fprintf(f, "%*s", (int)pad, "");
}

/*
 * The status document as text for mgwctl stats: stable "key: value"
 * lines (the totals, then the window), a blank line and a table with
 * one aligned row per API of conf.  A malloc'd string, or NULL on OOM.
 * Any process, no lock.
 */
char *
metrics_status_text(const struct mgw_conf *conf)
{
	struct status_doc	 d;
	char			*buf;

	if (status_doc_build(conf, &d) == -1)
		return (NULL);
	buf = status_text_doc(conf, &d);
	status_doc_free(&d);
	return (buf);
}

/* The text of d; see metrics_status_text(). */
char *
status_text_doc(const struct mgw_conf *conf, const struct status_doc *d)
{
	static const char *const	 head[STATUS_NCOLS] = { "API",
	    "VERSION", "REQS", "REQ/S", "ERR%", "P50ms", "P99ms",
	    "THROTTLED" };
	const struct status_window	*w;
	FILE				*f;
	char				*buf = NULL, *cells = NULL, *c;
	size_t				 i, j, size = 0;
	size_t				 width[STATUS_NCOLS];

	if ((f = open_memstream(&buf, &size)) == NULL)
		return (NULL);
	fprintf(f, "requests: %llu\nbytes_in: %llu\nbytes_out: %llu\n"
	    "responses_1xx: %llu\nresponses_2xx: %llu\nresponses_3xx: %llu\n"
	    "responses_4xx: %llu\nresponses_5xx: %llu\n"
	    "connections_accepted: %llu\nconnections_active: %lld\n"
	    "upstream_errors: %llu\nreloads: %llu\nworker_respawns: %llu\n"
	    "tls_handshakes: %llu\ntls_resumed: %llu\ntls_failures: %llu\n",
	    (unsigned long long)d->sd_stats.requests,
	    (unsigned long long)d->sd_stats.bytes_in,
	    (unsigned long long)d->sd_stats.bytes_out,
	    (unsigned long long)d->sd_stats.status[STATS_1XX],
	    (unsigned long long)d->sd_stats.status[STATS_2XX],
	    (unsigned long long)d->sd_stats.status[STATS_3XX],
	    (unsigned long long)d->sd_stats.status[STATS_4XX],
	    (unsigned long long)d->sd_stats.status[STATS_5XX],
	    (unsigned long long)d->sd_stats.accepted,
	    (long long)d->sd_stats.active,
	    (unsigned long long)d->sd_stats.upstream_errors,
	    (unsigned long long)d->sd_global.reloads,
	    (unsigned long long)d->sd_global.restarts,
	    (unsigned long long)d->sd_stats.tls_handshakes,
	    (unsigned long long)d->sd_stats.tls_resumed,
	    (unsigned long long)d->sd_stats.tls_failures);
	w = &d->sd_total_win;
	fprintf(f, "window_seconds: %.1f\nrequests_per_second: %.2f\n"
	    "error_rate: %.4f\n", w->sw_seconds, w->sw_rps,
	    w->sw_error_rate);
	if (w->sw_has_latency)
		fprintf(f, "latency_p50_ms: %.3f\nlatency_p99_ms: %.3f\n",
		    w->sw_p50, w->sw_p99);
	else
		fputs("latency_p50_ms: -\nlatency_p99_ms: -\n", f);
	fprintf(f, "throttled: %llu\n",
	    (unsigned long long)d->sd_total.ss_throttled);
	/* The plugins' lines: terse, only what is in use. */
	if (status_plugin_fields(f, STATUS_FORM_TEXT) == -1)
		goto fail;

	/*
	 * Format every cell first (64 bytes each, names aside) so the
	 * widths are known before the first row is written.
	 */
	if ((cells = calloc(d->sd_napis + 1, STATUS_NCOLS * 64)) == NULL)
		goto fail;
	for (j = 0; j < STATUS_NCOLS; j++)
		width[j] = strlen(head[j]);
	for (i = 0; i < d->sd_napis; i++) {
		w = &d->sd_win[i];
		c = cells + i * STATUS_NCOLS * 64;
		snprintf(c + 2 * 64, 64, "%llu",
		    (unsigned long long)d->sd_live[i].ss_requests);
		snprintf(c + 3 * 64, 64, "%.2f", w->sw_rps);
		snprintf(c + 4 * 64, 64, "%.2f", w->sw_error_rate * 100.0);
		if (w->sw_has_latency) {
			snprintf(c + 5 * 64, 64, "%.2f", w->sw_p50);
			snprintf(c + 6 * 64, 64, "%.2f", w->sw_p99);
		} else {
			c[5 * 64] = '-';
			c[6 * 64] = '-';
		}
		snprintf(c + 7 * 64, 64, "%llu",
		    (unsigned long long)d->sd_live[i].ss_throttled);
		if (status_text_width(conf->c_apis[i].a_name) > width[0])
			width[0] = status_text_width(conf->c_apis[i].a_name);
		if (conf->c_apis[i].a_version != NULL &&
		    status_text_width(conf->c_apis[i].a_version) > width[1])
			width[1] = status_text_width(conf->c_apis[i].a_version);
		for (j = 2; j < STATUS_NCOLS; j++)
			if (strlen(c + j * 64) > width[j])
				width[j] = strlen(c + j * 64);
	}
	fputc('\n', f);
	for (j = 0; j < STATUS_NCOLS; j++) {
		if (j > 0)
			fputs("  ", f);
		status_text_cell(f, head[j], width[j], j >= 2);
	}
	fputc('\n', f);
	for (i = 0; i < d->sd_napis; i++) {
		c = cells + i * STATUS_NCOLS * 64;
		status_text_cell(f, conf->c_apis[i].a_name, width[0], 0);
		fputs("  ", f);
		status_text_cell(f, conf->c_apis[i].a_version != NULL ?
		    conf->c_apis[i].a_version : "-", width[1], 0);
		for (j = 2; j < STATUS_NCOLS; j++) {
			fputs("  ", f);
			status_text_cell(f, c + j * 64, width[j], 1);
		}
		fputc('\n', f);
	}
	free(cells);
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return (NULL);
	}
	if (fclose(f) != 0) {
		free(buf);
		return (NULL);
	}
	return (buf);

fail:
	free(cells);
	fclose(f);
	free(buf);
	return (NULL);
}
