/*
 * test-status.c: the status page's window (status/metrics-status.c):
 * percentiles from histogram bucket deltas, rates over the ring, the
 * seqlock under a writer in another process, and the JSON and text
 * documents.
 *
 * The ring and the document writers are declared in the internal
 * section of status/metrics.h for this program, which links them from
 * libmgw.a like the daemon.  Rings live in plain or MAP_SHARED memory the
 * test owns, so no zone, master or worker is needed and every number is
 * exact.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/mman.h>

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "tests.h"

#include "lib.h"
#include "conf-t.h"
#include "metrics.h"
#include "shm.h"

#define TEST_WRITES	100000000	/* bound on the writer's entries */
#define TEST_READS	300000		/* windows the reader takes */

static void		 test_json_ws(const char **);
static int		 test_json_string(const char **);
static int		 test_json_number(const char **);
static int		 test_json_value(const char **);
static int		 test_json_valid(const char *);
static size_t		 test_cols(const char *, const char *);
static size_t		 test_cells(const char *, const char *, size_t *,
			    size_t);
static struct status_ring *test_ring(uint32_t, int);
static void		 test_sample(struct status_sample *, uint64_t);
static void		 test_conf(struct mgw_conf *, struct conf_api *,
			    size_t);
static void		 test_doc(struct status_doc *, size_t);

static void		 test_quantile(void);
static void		 test_window(void);
static void		 test_ring_rates(void);
static void		 test_ring_unset(void);
static void		 test_seqlock(void);
static void		 test_json(void);
static void		 test_json_nozone(void);
static void		 test_text(void);

/* Odd names: quotes, backslashes, control bytes, UTF-8, markup. */
static const char *const test_names[] = {
	"plain", "quo\"te", "back\\slash", "ctl\001\n\t",
	"utf8 \xc3\xa9 \xe2\x9c\x93", "</script><b>x</b>",
	"a-much-longer-api-name-here"
};
#define TEST_NAPIS	(sizeof(test_names) / sizeof(test_names[0]))

/* --- a small strict JSON checker (RFC 8259 grammar, no extensions) */

static void
test_json_ws(const char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
		(*p)++;
}

static int
test_json_string(const char **p)
{
	const char	*s = *p;
	int		 i;

	if (*s++ != '"')
		return (-1);
	for (;;) {
		if (*s == '\0' || (unsigned char)*s < 0x20)
			return (-1);
		if (*s == '"')
			break;
		if (*s == '\\') {
			s++;
			if (*s == 'u') {
				for (i = 1; i <= 4; i++)
					if (strchr("0123456789abcdefABCDEF",
					    s[i]) == NULL || s[i] == '\0')
						return (-1);
				s += 5;
				continue;
			}
			if (*s == '\0' || strchr("\"\\/bfnrt", *s) == NULL)
				return (-1);
		}
		s++;
	}
	*p = s + 1;
	return (0);
}

static int
test_json_number(const char **p)
{
	const char	*s = *p;

	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return (-1);
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return (-1);
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (*s < '0' || *s > '9')
			return (-1);
		while (*s >= '0' && *s <= '9')
			s++;
	}
	*p = s;
	return (0);
}

static int
test_json_value(const char **p)
{
	test_json_ws(p);
	switch (**p) {
	case '{':
		(*p)++;
		test_json_ws(p);
		if (**p == '}') {
			(*p)++;
			return (0);
		}
		for (;;) {
			test_json_ws(p);
			if (test_json_string(p) == -1)
				return (-1);
			test_json_ws(p);
			if (*(*p)++ != ':' || test_json_value(p) == -1)
				return (-1);
			test_json_ws(p);
			if (**p == '}') {
				(*p)++;
				return (0);
			}
			if (*(*p)++ != ',')
				return (-1);
		}
	case '[':
		(*p)++;
		test_json_ws(p);
		if (**p == ']') {
			(*p)++;
			return (0);
		}
		for (;;) {
			if (test_json_value(p) == -1)
				return (-1);
			test_json_ws(p);
			if (**p == ']') {
				(*p)++;
				return (0);
			}
			if (*(*p)++ != ',')
				return (-1);
		}
	case '"':
		return (test_json_string(p));
	case 't':
		if (strncmp(*p, "true", 4) != 0)
			return (-1);
		*p += 4;
		return (0);
	case 'f':
		if (strncmp(*p, "false", 5) != 0)
			return (-1);
		*p += 5;
		return (0);
	case 'n':
		if (strncmp(*p, "null", 4) != 0)
			return (-1);
		*p += 4;
		return (0);
	default:
		return (test_json_number(p));
	}
}

/* 1 if s is exactly one JSON value (and white space). */
static int
test_json_valid(const char *s)
{
	if (test_json_value(&s) == -1)
		return (0);
	test_json_ws(&s);
	return (*s == '\0');
}

/* --- fixtures */

/* A zeroed ring for max_apis series, shared with children if asked. */
static struct status_ring *
test_ring(uint32_t max_apis, int shared)
{
	void	*p;

	if (!shared) {
		p = calloc(1, metrics_status_size(max_apis));
		CU_ASSERT_FATAL(p != NULL);
		return (p);
	}
	p = mmap(NULL, metrics_status_size(max_apis), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CU_ASSERT_FATAL(p != MAP_FAILED);
	return (p);
}

/* Every count of s is k: requests, errors, throttled and each bucket. */
static void
test_sample(struct status_sample *s, uint64_t k)
{
	int	 b;

	s->ss_requests = k;
	s->ss_errors = k;
	s->ss_throttled = k;
	for (b = 0; b < METRICS_NBUCKETS; b++)
		s->ss_latency[b] = k;
}

static void
test_conf(struct mgw_conf *conf, struct conf_api *apis, size_t n)
{
	size_t	 i;

	memset(conf, 0, sizeof(*conf));
	memset(apis, 0, n * sizeof(*apis));
	for (i = 0; i < n; i++) {
		apis[i].a_name = (char *)(uintptr_t)test_names[i];
		apis[i].a_version = i % 2 == 0 ? "v1" : NULL;
		apis[i].a_index = (int)i;
		apis[i].a_metrics = (uint32_t)i + 1;
	}
	conf->c_apis = apis;
	conf->c_napis = n;
}

/* A document with known numbers; API i has i * 1000 requests. */
static void
test_doc(struct status_doc *d, size_t n)
{
	size_t	 i;

	memset(d, 0, sizeof(*d));
	d->sd_stats.requests = 123456;
	d->sd_stats.status[STATS_2XX] = 123000;
	d->sd_stats.status[STATS_5XX] = 456;
	d->sd_stats.active = 3;
	d->sd_global.reloads = 2;
	d->sd_global.restarts = 1;
	d->sd_total.ss_throttled = 77;
	d->sd_total_win.sw_valid = 1;
	d->sd_total_win.sw_seconds = 10.0;
	d->sd_total_win.sw_rps = 12.5;
	d->sd_total_win.sw_error_rate = 0.25;
	d->sd_total_win.sw_has_latency = 1;
	d->sd_total_win.sw_p50 = 1.5;
	d->sd_total_win.sw_p99 = 250.0;
	d->sd_napis = n;
	d->sd_live = calloc(n, sizeof(*d->sd_live));
	d->sd_win = calloc(n, sizeof(*d->sd_win));
	CU_ASSERT_FATAL(d->sd_live != NULL && d->sd_win != NULL);
	for (i = 0; i < n; i++) {
		d->sd_live[i].ss_requests = i * 1000;
		d->sd_live[i].ss_throttled = i;
		if (i % 3 == 0)
			continue;	/* no window: nulls */
		d->sd_win[i].sw_valid = 1;
		d->sd_win[i].sw_seconds = 10.0;
		d->sd_win[i].sw_rps = (double)i * 100.0;
		d->sd_win[i].sw_error_rate = 0.5;
		d->sd_win[i].sw_has_latency = i % 3 == 1;
		d->sd_win[i].sw_p50 = 0.25;
		d->sd_win[i].sw_p99 = 9999.0;
	}
}

/* --- cases */

static void
test_quantile(void)
{
	uint64_t	 b[METRICS_NBUCKETS];
	double		 ms;
	int		 i;

	memset(b, 0, sizeof(b));
	CU_ASSERT(status_quantile(0.5, b, &ms) == -1);

	/* 100 in [0, 0.5 ms]: spread evenly from 0. */
	b[0] = 100;
	CU_ASSERT(status_quantile(0.5, b, &ms) == 0);
	CU_ASSERT_DOUBLE_EQUAL(ms, 0.25, 1e-9);
	CU_ASSERT(status_quantile(0.99, b, &ms) == 0);
	CU_ASSERT_DOUBLE_EQUAL(ms, 0.495, 1e-9);

	/* 50 in (0.5, 1] ms and 50 in (1, 2.5] ms. */
	memset(b, 0, sizeof(b));
	b[1] = 50;
	b[2] = 50;
	CU_ASSERT(status_quantile(0.5, b, &ms) == 0);
	CU_ASSERT_DOUBLE_EQUAL(ms, 1.0, 1e-9);
	CU_ASSERT(status_quantile(0.99, b, &ms) == 0);
	CU_ASSERT_DOUBLE_EQUAL(ms, 1.0 + 1.5 * 49.0 / 50.0, 1e-9);

	/* Empty buckets below are skipped, not interpolated into. */
	memset(b, 0, sizeof(b));
	b[6] = 10;		/* (25, 50] ms */
	CU_ASSERT(status_quantile(0.5, b, &ms) == 0);
	CU_ASSERT_DOUBLE_EQUAL(ms, 37.5, 1e-9);

	/* Everything beyond the last bound: the last finite bound. */
	memset(b, 0, sizeof(b));
	b[METRICS_NBUCKETS - 1] = 7;
	CU_ASSERT(status_quantile(0.5, b, &ms) == 0);
	CU_ASSERT_DOUBLE_EQUAL(ms, 10000.0, 1e-9);

	/* 99 fast, 1 in +Inf: p50 fast, p99 still in the fast bucket. */
	memset(b, 0, sizeof(b));
	b[0] = 99;
	b[METRICS_NBUCKETS - 1] = 1;
	CU_ASSERT(status_quantile(0.99, b, &ms) == 0);
	CU_ASSERT_DOUBLE_EQUAL(ms, 0.5, 1e-9);
	CU_ASSERT(status_quantile(0.995, b, &ms) == 0);
	CU_ASSERT_DOUBLE_EQUAL(ms, 10000.0, 1e-9);

	/* One in each bucket: the median is mid-bucket 7, (50, 100] ms. */
	for (i = 0; i < METRICS_NBUCKETS; i++)
		b[i] = 1;
	CU_ASSERT(status_quantile(0.5, b, &ms) == 0);
	CU_ASSERT_DOUBLE_EQUAL(ms, 75.0, 1e-9);
}

static void
test_window(void)
{
	struct status_sample	 o, n;
	struct status_window	 w;

	memset(&o, 0, sizeof(o));
	memset(&n, 0, sizeof(n));
	o.ss_requests = 100;
	o.ss_errors = 10;
	o.ss_latency[1] = 40;
	n.ss_requests = 300;
	n.ss_errors = 30;
	n.ss_latency[1] = 140;
	n.ss_latency[2] = 100;
	status_window_compute(&o, &n, 10000, &w);
	CU_ASSERT(w.sw_valid);
	CU_ASSERT_DOUBLE_EQUAL(w.sw_seconds, 10.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(w.sw_rps, 20.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(w.sw_error_rate, 0.1, 1e-9);
	CU_ASSERT(w.sw_has_latency);
	/* Deltas: 100 in (0.5, 1] ms and 100 in (1, 2.5] ms. */
	CU_ASSERT_DOUBLE_EQUAL(w.sw_p50, 1.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(w.sw_p99, 1.0 + 1.5 * 98.0 / 100.0, 1e-9);

	/* No traffic: rates 0, percentiles unknown. */
	status_window_compute(&n, &n, 1000, &w);
	CU_ASSERT(w.sw_valid && w.sw_rps == 0.0 && w.sw_error_rate == 0.0);
	CU_ASSERT(!w.sw_has_latency);

	/* No time between the samples: no window at all. */
	status_window_compute(&o, &n, 0, &w);
	CU_ASSERT(!w.sw_valid && w.sw_rps == 0.0);
}

static void
test_ring_rates(void)
{
	struct status_ring	*r;
	struct status_sample	 s[3];
	struct status_window	 w[3];
	uint32_t		 idx[3] = { 1, 2, 3 }, k;

	r = test_ring(3, 0);

	/* One sample: no window yet. */
	memset(s, 0, sizeof(s));
	status_ring_write(r, 4, idx, s, 3, 1000);
	CU_ASSERT(status_ring_read(r, 4, idx, 3, w) == 0);
	CU_ASSERT(!w[0].sw_valid && !w[1].sw_valid && !w[2].sw_valid);

	/*
	 * Series 1 grows by 10 a second, series 2 by 3, the total (index 3)
	 * by 13.  After 20 seconds the ring holds the last 11 samples,
	 * 10 s apart end to end.
	 */
	for (k = 1; k <= 20; k++) {
		memset(s, 0, sizeof(s));
		s[0].ss_requests = 10 * k;
		s[0].ss_errors = k;
		s[1].ss_requests = 3 * k;
		s[2].ss_requests = 13 * k;
		status_ring_write(r, 4, idx, s, 3, 1000 + 1000 * k);
		CU_ASSERT(status_ring_read(r, 4, idx, 3, w) == 0);
		CU_ASSERT(w[0].sw_valid);
		CU_ASSERT_DOUBLE_EQUAL(w[0].sw_seconds,
		    (double)(k < STATUS_RING - 1 ? k : STATUS_RING - 1),
		    1e-9);
		CU_ASSERT_DOUBLE_EQUAL(w[0].sw_rps, 10.0, 1e-9);
	}
	CU_ASSERT_DOUBLE_EQUAL(w[0].sw_rps, 10.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(w[0].sw_error_rate, 0.1, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(w[1].sw_rps, 3.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(w[2].sw_rps, 13.0, 1e-9);
	CU_ASSERT(!w[1].sw_has_latency);

	/* An index past the ring or STATUS_NOIDX reads as no window. */
	idx[0] = STATUS_NOIDX;
	idx[1] = 4;
	CU_ASSERT(status_ring_read(r, 4, idx, 3, w) == 0);
	CU_ASSERT(!w[0].sw_valid && !w[1].sw_valid && w[2].sw_valid);
	free(r);
}

static void
test_ring_unset(void)
{
	struct status_ring	*r;
	struct status_sample	 s[2];
	struct status_window	 w[2];
	uint32_t		 idx[2], k;

	r = test_ring(2, 0);
	/* Series 1 sampled for 5 s, then gone for 3 s (a reload). */
	for (k = 0; k < 8; k++) {
		memset(s, 0, sizeof(s));
		idx[0] = k < 5 ? 1 : 2;
		idx[1] = 2;
		s[0].ss_requests = 1000 + 100 * k;
		s[1].ss_requests = 1000 + 100 * k;
		status_ring_write(r, 3, idx, s, 2, 1000 * k);
	}
	/* Back, with the counts it kept: measured from its last sample. */
	idx[0] = 1;
	memset(s, 0, sizeof(s));
	s[0].ss_requests = 5000;
	status_ring_write(r, 3, idx, s, 2, 8000);
	CU_ASSERT(status_ring_read(r, 3, idx, 1, w) == 0);
	/* Oldest sampled entry is k = 0 (1000 requests), 8 s before. */
	CU_ASSERT(w[0].sw_valid);
	CU_ASSERT_DOUBLE_EQUAL(w[0].sw_seconds, 8.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(w[0].sw_rps, 500.0, 1e-9);

	/* Not in the newest entry: no window. */
	idx[0] = 1;
	idx[1] = 2;
	memset(s, 0, sizeof(s));
	s[0].ss_requests = 9000;
	status_ring_write(r, 3, &idx[1], s, 1, 9000);
	CU_ASSERT(status_ring_read(r, 3, idx, 1, w) == 0);
	CU_ASSERT(!w[0].sw_valid);

	/* A series whose counts went down (recycled): older entries skipped. */
	memset(s, 0, sizeof(s));
	s[0].ss_requests = 10;
	status_ring_write(r, 3, idx, s, 1, 10000);
	s[0].ss_requests = 30;
	status_ring_write(r, 3, idx, s, 1, 12000);
	CU_ASSERT(status_ring_read(r, 3, idx, 1, w) == 0);
	CU_ASSERT(w[0].sw_valid);
	CU_ASSERT_DOUBLE_EQUAL(w[0].sw_seconds, 2.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(w[0].sw_rps, 10.0, 1e-9);
	free(r);
}

/*
 * A forked writer appends entries where every count of entry k is k (2k
 * for the second series) and its time is k seconds, as fast as it can,
 * until told to stop; the reader checks that each window it gets is one
 * such pair: exactly 1 (2) requests a second, all of them errors, the
 * median mid-bucket.  A torn copy (counts of one entry, time of another,
 * or half an entry) breaks one of these.
 */
static void
test_seqlock(void)
{
	struct status_ring	*r;
	struct status_sample	 s[2];
	struct status_window	 w[2];
	_Atomic int		*stop;
	uint32_t		 idx[2] = { 0, 1 };
	uint64_t		 k, reads, valid, bad;
	pid_t			 pid;

	r = test_ring(1, 1);
	stop = mmap(NULL, sizeof(*stop), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CU_ASSERT_FATAL(stop != MAP_FAILED);
	atomic_store(stop, 0);
	pid = test_fork();
	if (pid == 0) {
		for (k = 1; k <= TEST_WRITES && !atomic_load(stop); k++) {
			test_sample(&s[0], k);
			test_sample(&s[1], 2 * k);
			status_ring_write(r, 2, idx, s, 2, 1000 * k);
		}
		_exit(0);
	}
	valid = bad = 0;
	for (reads = 0; reads < TEST_READS; reads++) {
		if (status_ring_read(r, 2, idx, 2, w) == -1) {
			bad++;
			break;
		}
		if (!w[0].sw_valid)
			continue;
		valid++;
		if (w[0].sw_rps != 1.0 || w[0].sw_error_rate != 1.0 ||
		    !w[0].sw_has_latency || w[0].sw_p50 != 75.0 ||
		    w[1].sw_rps != 2.0 || w[1].sw_error_rate != 1.0)
			bad++;
	}
	atomic_store(stop, 1);
	CU_ASSERT(test_wait(pid) == 0);
	printf("\n  %llu reads, %llu windows, %llu torn ",
	    (unsigned long long)reads, (unsigned long long)valid,
	    (unsigned long long)bad);
	CU_ASSERT(bad == 0);
	CU_ASSERT(valid > 0);
	/* After the writer: the last 10 s, exactly. */
	CU_ASSERT(status_ring_read(r, 2, idx, 2, w) == 0);
	CU_ASSERT(w[0].sw_valid && w[0].sw_seconds == 10.0);
	munmap(stop, sizeof(*stop));
	munmap(r, metrics_status_size(1));
}

static void
test_json(void)
{
	struct mgw_conf		 conf;
	struct conf_api		 apis[TEST_NAPIS];
	struct status_doc	 d;
	char			*j;
	size_t			 len;

	test_conf(&conf, apis, TEST_NAPIS);
	test_doc(&d, TEST_NAPIS);
	j = status_json_doc(&conf, 7, &d, &len);
	CU_ASSERT_FATAL(j != NULL);
	CU_ASSERT(len == strlen(j));
	CU_ASSERT(test_json_valid(j));
	if (!test_json_valid(j))
		printf("\n%s\n", j);
	/* The totals /status always had, then the window. */
	CU_ASSERT(strncmp(j, "{\"version\":\"" MGW_VERSION "\","
	    "\"generation\":7,\"requests\":123456,", 40) == 0);
	CU_ASSERT(strstr(j, "\"responses\":{\"1xx\":0,\"2xx\":123000,"
	    "\"3xx\":0,\"4xx\":0,\"5xx\":456}") != NULL);
	CU_ASSERT(strstr(j, "\"connections\":{\"accepted\":0,"
	    "\"active\":3},\"upstream_errors\":0,") != NULL);
	CU_ASSERT(strstr(j, "\"window_seconds\":10.000,"
	    "\"requests_per_second\":12.500,\"error_rate\":0.2500,"
	    "\"latency_ms\":{\"p50\":1.500,\"p99\":250.000},"
	    "\"throttled\":77,\"apis\":[") != NULL);
	/* Names escaped, a missing version null, unknowns null. */
	CU_ASSERT(strstr(j, "{\"name\":\"plain\",\"version\":\"v1\","
	    "\"requests\":0,\"requests_per_second\":0.000,"
	    "\"error_rate\":0.0000,\"p50_ms\":null,\"p99_ms\":null,"
	    "\"throttled\":0}") != NULL);
	CU_ASSERT(strstr(j, "{\"name\":\"quo\\\"te\",\"version\":null,"
	    "\"requests\":1000,\"requests_per_second\":100.000,"
	    "\"error_rate\":0.5000,\"p50_ms\":0.250,\"p99_ms\":9999.000,"
	    "\"throttled\":1}") != NULL);
	CU_ASSERT(strstr(j, "\"name\":\"back\\\\slash\"") != NULL);
	CU_ASSERT(strstr(j, "\"name\":\"ctl\\u0001\\u000a\\u0009\"") != NULL);
	CU_ASSERT(strstr(j, "\"p50_ms\":null,\"p99_ms\":null,"
	    "\"throttled\":2}") != NULL);
	CU_ASSERT(j[len - 1] == '\n');
	free(j);

	/* No APIs at all: an empty array. */
	d.sd_napis = 0;
	j = status_json_doc(&conf, 1, &d, &len);
	CU_ASSERT_FATAL(j != NULL);
	CU_ASSERT(test_json_valid(j));
	CU_ASSERT(strstr(j, "\"apis\":[]}") != NULL);
	free(j);
	status_doc_free(&d);

	/* The checker itself refuses what it should. */
	CU_ASSERT(!test_json_valid("{\"a\":1,}"));
	CU_ASSERT(!test_json_valid("{\"a\":\"x\001\"}"));
	CU_ASSERT(!test_json_valid("{\"a\":nan}"));
	CU_ASSERT(!test_json_valid("[1] 2"));
	CU_ASSERT(test_json_valid(" {\"a\":[1,-2.5e3,null,true,\"\\u00e9\"]}"));
}

/* Without any zone (no metrics, no stats): zeros and nulls, still JSON. */
static void
test_json_nozone(void)
{
	struct mgw_conf		 conf;
	struct conf_api		 apis[TEST_NAPIS];
	char			*j, *t;
	size_t			 len;

	test_conf(&conf, apis, TEST_NAPIS);
	j = metrics_status_json(&conf, 3, &len);
	CU_ASSERT_FATAL(j != NULL);
	CU_ASSERT(test_json_valid(j));
	CU_ASSERT(strstr(j, "\"generation\":3,\"requests\":0,") != NULL);
	CU_ASSERT(strstr(j, "\"requests_per_second\":0.000,\"error_rate\":"
	    "0.0000,\"latency_ms\":{\"p50\":null,\"p99\":null}") != NULL);
	free(j);
	t = metrics_status_text(&conf);
	CU_ASSERT_FATAL(t != NULL);
	CU_ASSERT(strstr(t, "\nlatency_p50_ms: -\n") != NULL);
	free(t);
}

/* Display columns (code points) of the line at s, up to '\n'. */
static size_t
test_cols(const char *s, const char *end)
{
	size_t	 n = 0;

	for (; s < end; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return (n);
}

/*
 * The end column of each cell of a table line; cells are separated by
 * two or more spaces.  Returns the number of cells.
 */
static size_t
test_cells(const char *s, const char *end, size_t *ends, size_t max)
{
	const char	*p, *cell;
	size_t		 n = 0;

	p = s;
	while (p < end && n < max) {
		while (p < end && *p == ' ')
			p++;
		if (p == end)
			break;
		cell = p;
		while (p < end && !(p[0] == ' ' && p + 1 < end && p[1] == ' '))
			p++;
		if (p > cell)
			ends[n++] = test_cols(s, p);
	}
	return (n);
}

static void
test_text(void)
{
	static const char *const keys[] = { "requests", "bytes_in",
	    "bytes_out", "responses_1xx", "responses_2xx", "responses_3xx",
	    "responses_4xx", "responses_5xx", "connections_accepted",
	    "connections_active", "upstream_errors", "reloads",
	    "worker_respawns", "tls_handshakes", "tls_resumed",
	    "tls_failures", "window_seconds", "requests_per_second",
	    "error_rate", "latency_p50_ms", "latency_p99_ms", "throttled" };
	struct mgw_conf		 conf;
	struct conf_api		 apis[TEST_NAPIS];
	struct status_doc	 d;
	char			*t, *p, *nl;
	size_t			 i, k, width = 0, n, hn = 0;
	size_t			 head[STATUS_NCOLS], row[STATUS_NCOLS];

	test_conf(&conf, apis, TEST_NAPIS);
	test_doc(&d, TEST_NAPIS);
	t = status_text_doc(&conf, &d);
	CU_ASSERT_FATAL(t != NULL);

	/* The key: value block, in order, then one blank line. */
	p = t;
	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		CU_ASSERT(strncmp(p, keys[k], strlen(keys[k])) == 0 &&
		    strncmp(p + strlen(keys[k]), ": ", 2) == 0);
		p = strchr(p, '\n');
		CU_ASSERT_FATAL(p != NULL);
		p++;
	}
	CU_ASSERT(strstr(t, "\nrequests_per_second: 12.50\nerror_rate: "
	    "0.2500\nlatency_p50_ms: 1.500\nlatency_p99_ms: 250.000\n"
	    "throttled: 77\n") != NULL);
	CU_ASSERT(strstr(t, "\nreloads: 2\nworker_respawns: 1\n") != NULL);
	CU_ASSERT_FATAL(*p == '\n');
	p++;

	/* The table: a header and a row per API, every line as wide. */
	for (i = 0; *p != '\0'; i++) {
		nl = strchr(p, '\n');
		CU_ASSERT_FATAL(nl != NULL);
		if (i == 0) {
			width = test_cols(p, nl);
			hn = test_cells(p, nl, head, STATUS_NCOLS);
			CU_ASSERT(hn == STATUS_NCOLS);
			CU_ASSERT(strncmp(p, "API ", 4) == 0);
		} else {
			CU_ASSERT(test_cols(p, nl) == width);
			n = test_cells(p, nl, row, STATUS_NCOLS);
			CU_ASSERT(n == STATUS_NCOLS);
			/* Numbers end under the end of their heading. */
			for (k = 2; k < n && k < hn; k++)
				CU_ASSERT(row[k] == head[k]);
		}
		p = nl + 1;
	}
	CU_ASSERT(i == TEST_NAPIS + 1);
	/* Control bytes never reach the terminal. */
	CU_ASSERT(strstr(t, "ctl???") != NULL);
	CU_ASSERT(strchr(t, '\001') == NULL && strchr(t, '\t') == NULL);
	CU_ASSERT(strstr(t, "  -  ") != NULL);	/* no version */
	free(t);
	status_doc_free(&d);
}

static CU_TestInfo status_tests[] = {
	{ "quantile from bucket deltas", test_quantile },
	{ "window rates and percentiles", test_window },
	{ "ring rates over 10 s", test_ring_rates },
	{ "ring skips unsampled entries", test_ring_unset },
	{ "seqlock against a forked writer", test_seqlock },
	{ "JSON document, odd names", test_json },
	{ "JSON and text without zones", test_json_nozone },
	{ "text table alignment", test_text },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo status_suites[] = {
	{ .pName = "status", .pTests = status_tests },
	CU_SUITE_INFO_NULL
};

int
main(void)
{
	return (test_run(status_suites));
}
