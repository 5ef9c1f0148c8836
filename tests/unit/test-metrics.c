/*
 * test-metrics.c: the metrics zone: series allocation across declaration
 * rounds (kept zone, new zone, "other", recycling), counting into slots
 * from forked children, the Prometheus rendering (every line in the
 * exposition grammar, HELP and TYPE first, cumulative buckets, escaped
 * labels) and the reason parsers.
 *
 * Requests are hand-built struct request values: metrics_request() reads
 * only the fields the core fills in, so no event loop is needed.
 */
#include "config.h"

#include <sys/types.h>

#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "lib.h"
#include "conf-t.h"
#include "metrics.h"
#include "shm.h"
#include "worker.h"
#include "tests.h"

#define TEST_NAPIS	4	/* APIs in the test configuration */

struct test_conf {
	struct mgw_conf		 tc_conf;
	struct conf_api		 tc_apis[TEST_NAPIS];
	struct conf_url		 tc_urls[TEST_NAPIS];
};

static void	 test_conf_init(struct test_conf *, const char *const *,
		    size_t, uint32_t);
static void	 test_round(struct test_conf *);
static void	 test_count(const struct conf_api *, int, int, uint64_t,
		    const char *, const char *, int);
static uint64_t	 test_total(uint32_t);
static uint64_t	 test_sample(const char *, const char *);
static void	 test_teardown(void);

static void	 test_series_reload(void);
static void	 test_series_other(void);
static void	 test_series_recycle(void);
static void	 test_slots_fork(void);
static void	 test_render_grammar(void);
static void	 test_render_values(void);
static void	 test_render_escape(void);
static void	 test_render_disabled(void);
static void	 test_parse(void);

static char	*test_doc;	/* the last rendering */

/* A configuration of n APIs "name/v1", each with its own endpoint URL. */
static void
test_conf_init(struct test_conf *tc, const char *const *names, size_t n,
    uint32_t max_apis)
{
	static char	 urls[TEST_NAPIS][64];
	size_t		 i;

	memset(tc, 0, sizeof(*tc));
	tc->tc_conf.c_metrics.m_enabled = 1;
	tc->tc_conf.c_metrics.m_max_apis = max_apis;
	tc->tc_conf.c_metrics.m_max_endpoints = 16;
	tc->tc_conf.c_apis = tc->tc_apis;
	tc->tc_conf.c_napis = n;
	for (i = 0; i < n; i++) {
		snprintf(urls[i], sizeof(urls[i]), "http://127.0.0.1:%zu",
		    8000 + i);
		tc->tc_urls[i].u_url = urls[i];
		tc->tc_apis[i].a_name = (char *)names[i];
		tc->tc_apis[i].a_version = (char *)"v1";
		tc->tc_apis[i].a_index = (int)i;
		tc->tc_apis[i].a_endpoints.ep_production = &tc->tc_urls[i];
		tc->tc_apis[i].a_endpoints.ep_nproduction = 1;
	}
}

/* One declaration round for tc, committed as the master does. */
static void
test_round(struct test_conf *tc)
{
	char	*cause = NULL;

	shm_zone_begin();
	CU_ASSERT_FATAL(stats_init(&cause) == 0);
	CU_ASSERT_FATAL(metrics_conf(&tc->tc_conf, &cause) == 0);
	CU_ASSERT_PTR_NULL(cause);
	free(cause);
	shm_zone_reconcile();
	metrics_worker_init(0);
}

/*
 * One finished request on api: method, status, duration (us), the
 * gateway's error code and reason, and whether it went upstream.
 */
static void
test_count(const struct conf_api *a, int method, int status, uint64_t us,
    const char *code, const char *reason, int upstream)
{
	struct request	 r;
	struct conn	 c;

	memset(&r, 0, sizeof(r));
	memset(&c, 0, sizeof(c));
	r.r_conn = &c;
	r.r_route.rm_api = a;
	r.r_method = method;
	r.r_status = status;
	r.r_start_us = 1000000;
	r.r_end_us = r.r_start_us + us;
	r.r_bytes_in = 100;
	r.r_bytes_out = 1000;
	r.r_err_code = code;
	r.r_reason = reason;
	if (upstream && a != NULL) {
		r.r_endpoints = &a->a_endpoints;
		r.r_up_idx = 0;
		r.r_up_start_us = r.r_start_us + 10;
		r.r_up_end_us = r.r_end_us - 10;
	}
	metrics_request(&r);
}

/* All requests counted in API series i. */
static uint64_t
test_total(uint32_t i)
{
	struct metrics_api_sum	 s;
	uint64_t		 n = 0;
	int			 m, c;

	metrics_api_sum(i, &s);
	for (m = 0; m < METRICS_NMETHODS; m++)
		for (c = 0; c < STATS_NSTATUS; c++)
			n += s.requests[m][c];
	return (n);
}

/* The value of the sample "name{labels}" in test_doc, or UINT64_MAX. */
static uint64_t
test_sample(const char *name, const char *labels)
{
	char		 want[512];
	const char	*p;
	size_t		 n;

	n = (size_t)snprintf(want, sizeof(want), "\n%s%s%s%s ", name,
	    labels != NULL ? "{" : "", labels != NULL ? labels : "",
	    labels != NULL ? "}" : "");
	if (test_doc == NULL || (p = strstr(test_doc, want)) == NULL)
		return (UINT64_MAX);
	return (strtoull(p + n, NULL, 10));
}

static void
test_teardown(void)
{
	free(test_doc);
	test_doc = NULL;
	shm_zone_freeall();
	metrics_worker_init(-1);
}

/*
 * A reload with the same maxima keeps the zone: every API keeps its
 * series and counts whatever its position, a new API gets a new series.
 */
static void
test_series_reload(void)
{
	static const char *const n1[] = { "a", "b" };
	static const char *const n2[] = { "c", "b", "a" };
	struct test_conf	 t1, t2;
	struct metrics_global_sum g;
	uint32_t		 sa, sb;

	test_conf_init(&t1, n1, 2, 8);
	test_round(&t1);
	sa = t1.tc_apis[0].a_metrics;
	sb = t1.tc_apis[1].a_metrics;
	CU_ASSERT(sa != 0 && sb != 0 && sa != sb);
	CU_ASSERT(t1.tc_urls[0].u_metrics != 0);
	CU_ASSERT(t1.tc_urls[0].u_metrics != t1.tc_urls[1].u_metrics);
	test_count(&t1.tc_apis[0], CONF_M_GET, 200, 100, NULL, NULL, 1);
	test_count(&t1.tc_apis[0], CONF_M_GET, 200, 100, NULL, NULL, 1);
	test_count(&t1.tc_apis[1], CONF_M_POST, 201, 100, NULL, NULL, 1);

	test_conf_init(&t2, n2, 3, 8);
	test_round(&t2);
	metrics_reload_done();
	CU_ASSERT(shm_zone_find(METRICS_ZONE)->z_reused == 1);
	CU_ASSERT(t2.tc_apis[2].a_metrics == sa);
	CU_ASSERT(t2.tc_apis[1].a_metrics == sb);
	CU_ASSERT(t2.tc_apis[0].a_metrics != 0);
	CU_ASSERT(t2.tc_apis[0].a_metrics != sa &&
	    t2.tc_apis[0].a_metrics != sb);
	CU_ASSERT(test_total(sa) == 2);
	CU_ASSERT(test_total(sb) == 1);
	CU_ASSERT(test_total(t2.tc_apis[0].a_metrics) == 0);
	metrics_global_sum(&g);
	CU_ASSERT(g.reloads == 1);

	/* Another max_apis: a fresh zone, counts start over. */
	test_conf_init(&t2, n2, 3, 9);
	test_round(&t2);
	CU_ASSERT(shm_zone_find(METRICS_ZONE)->z_reused == 0);
	CU_ASSERT(test_total(t2.tc_apis[2].a_metrics) == 0);
	metrics_reload_done();
	metrics_global_sum(&g);
	CU_ASSERT(g.reloads == 2);	/* the master's total, not the zone's */
	test_teardown();
}

/* Series 0 is "other": what does not fit in max_apis shares it. */
static void
test_series_other(void)
{
	static const char *const n[] = { "a", "b", "c", "d" };
	struct test_conf	 t;

	test_conf_init(&t, n, 4, 3);
	test_round(&t);
	CU_ASSERT(t.tc_apis[0].a_metrics == 1);
	CU_ASSERT(t.tc_apis[1].a_metrics == 2);
	CU_ASSERT(t.tc_apis[2].a_metrics == 0);
	CU_ASSERT(t.tc_apis[3].a_metrics == 0);
	test_count(&t.tc_apis[2], CONF_M_GET, 200, 100, NULL, NULL, 0);
	test_count(&t.tc_apis[3], CONF_M_GET, 200, 100, NULL, NULL, 0);
	CU_ASSERT(test_total(0) == 2);
	CU_ASSERT_FATAL((test_doc = metrics_render(&t.tc_conf,
	    &(size_t){ 0 })) != NULL);
	/* Shown once, however many APIs share it. */
	CU_ASSERT(test_sample("mgw_requests_total", "api=\"_other\","
	    "version=\"\",method=\"GET\",code=\"2xx\"") == 2);
	CU_ASSERT(strstr(test_doc, "api=\"c\"") == NULL);
	test_teardown();
}

/*
 * A full table recycles only entries that neither the live nor the new
 * configuration names, and a recycled series starts from zero.
 */
static void
test_series_recycle(void)
{
	static const char *const n1[] = { "a", "b" };
	static const char *const n2[] = { "c", "d" };
	struct test_conf	 t1, t2;

	test_conf_init(&t1, n1, 2, 3);
	test_round(&t1);
	test_count(&t1.tc_apis[0], CONF_M_GET, 200, 100, NULL, NULL, 0);
	/* a and b are live: c and d must share "other" for now. */
	test_conf_init(&t2, n2, 2, 3);
	test_round(&t2);
	CU_ASSERT(t2.tc_apis[0].a_metrics == 0);
	CU_ASSERT(t2.tc_apis[1].a_metrics == 0);
	CU_ASSERT(test_total(1) == 1);
	metrics_reload_done();
	/* Now only c and d are live: a's and b's entries are recycled. */
	test_round(&t2);
	CU_ASSERT(t2.tc_apis[0].a_metrics == 1);
	CU_ASSERT(t2.tc_apis[1].a_metrics == 2);
	CU_ASSERT(test_total(1) == 0);
	metrics_reload_done();
	test_teardown();
}

/* Children count into their own slots; the parent's sums see them all. */
static void
test_slots_fork(void)
{
	static const char *const n[] = { "a", "b" };
	struct test_conf		 t;
	struct metrics_api_sum		 s;
	struct metrics_endpoint_sum	 e;
	struct metrics_global_sum	 g;
	pid_t				 pid[3];
	int				 i, k;

	test_conf_init(&t, n, 2, 8);
	test_round(&t);
	for (i = 0; i < 3; i++) {
		if ((pid[i] = test_fork()) == 0) {
			metrics_worker_init(i + 1);
			for (k = 0; k < 1000; k++)
				test_count(&t.tc_apis[0], CONF_M_GET, 200,
				    3000, NULL, NULL, 1);
			metrics_upstream_error(t.tc_urls[0].u_metrics,
			    METRICS_UE_CONNECT);
			metrics_analytics(10, 1, 2);
			test_count(NULL, CONF_M_GET, 404, 5, "not_found",
			    NULL, 0);
			_exit(0);
		}
	}
	/* Slot 9 is slot 1 again: more workers than slots share. */
	for (i = 0; i < 3; i++)
		CU_ASSERT(test_wait(pid[i]) == 0);
	metrics_worker_init(9);
	test_count(&t.tc_apis[0], CONF_M_GET, 200, 3000, NULL, NULL, 1);
	metrics_api_sum(t.tc_apis[0].a_metrics, &s);
	CU_ASSERT(s.requests[CONF_M_GET][STATS_2XX] == 3001);
	CU_ASSERT(s.latency[3] == 3001);	/* 2.5 ms < 3 ms <= 5 ms */
	CU_ASSERT(s.latency_sum_us == 3001 * 3000);
	CU_ASSERT(s.upstream[3] == 3001);
	CU_ASSERT(s.bytes_in == 3001 * 100);
	metrics_endpoint_sum(t.tc_urls[0].u_metrics, &e);
	CU_ASSERT(e.requests == 3001);
	CU_ASSERT(e.errors[METRICS_UE_CONNECT] == 3);
	metrics_global_sum(&g);
	CU_ASSERT(g.analytics_events == 30);
	CU_ASSERT(g.analytics_dropped == 3);
	CU_ASSERT(g.analytics_errors == 6);
	CU_ASSERT(g.no_route == 3);
	test_teardown();
}

/*
 * Every line is a comment or a sample in the 0.0.4 grammar; each family
 * has HELP then TYPE before its first sample, and its samples are
 * contiguous; histogram buckets are cumulative and le="+Inf" is _count.
 */
static void
test_render_grammar(void)
{
	static const char *const n[] = { "a", "b" };
	struct test_conf	 t;
	regex_t			 sample, help, type;
	regmatch_t		 m[4];
	char			*doc, *line, *save, fam[128], name[128];
	char			 seen[64][128], lastbucket[512];
	uint64_t		 v, prev = 0;
	size_t			 len, nseen = 0, i;
	int			 typed = 0, ok;

	CU_ASSERT_FATAL(regcomp(&sample, "^([a-zA-Z_:][a-zA-Z0-9_:]*)"
	    "(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\"\\\\n])*\""
	    "(,[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\"\\\\n])*\")*)?"
	    "\\})? (-?[0-9]+(\\.[0-9]+)?|\\+Inf|NaN)$", REG_EXTENDED) == 0);
	CU_ASSERT_FATAL(regcomp(&help, "^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) "
	    "[^\n]+$", REG_EXTENDED) == 0);
	CU_ASSERT_FATAL(regcomp(&type, "^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) "
	    "(counter|gauge|histogram|summary|untyped)$",
	    REG_EXTENDED) == 0);

	test_conf_init(&t, n, 2, 8);
	test_round(&t);
	test_count(&t.tc_apis[0], CONF_M_GET, 200, 400, NULL, NULL, 1);
	test_count(&t.tc_apis[0], CONF_M_GET, 200, 3000000, NULL, NULL, 1);
	test_count(&t.tc_apis[0], CONF_M_GET, 200, 60000000, NULL, NULL, 1);
	CU_ASSERT_FATAL((doc = metrics_render(&t.tc_conf, &len)) != NULL);
	CU_ASSERT(len == strlen(doc) && len > 0 && doc[len - 1] == '\n');
	fam[0] = '\0';
	lastbucket[0] = '\0';
	for (line = strtok_r(doc, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (regexec(&help, line, 2, m, 0) == 0) {
			snprintf(fam, sizeof(fam), "%.*s",
			    (int)(m[1].rm_eo - m[1].rm_so), line + m[1].rm_so);
			for (i = 0; i < nseen; i++)
				CU_ASSERT(strcmp(seen[i], fam) != 0);
			if (nseen < 64)
				snprintf(seen[nseen++], sizeof(seen[0]), "%s",
				    fam);
			typed = 0;
			continue;
		}
		if (regexec(&type, line, 2, m, 0) == 0) {
			CU_ASSERT(strncmp(line + m[1].rm_so, fam,
			    strlen(fam)) == 0);
			typed = 1;
			continue;
		}
		ok = regexec(&sample, line, 2, m, 0) == 0;
		CU_ASSERT(ok);
		if (!ok) {
			fprintf(stderr, "bad line: %s\n", line);
			continue;
		}
		CU_ASSERT(typed);
		snprintf(name, sizeof(name), "%.*s",
		    (int)(m[1].rm_eo - m[1].rm_so), line + m[1].rm_so);
		/* A sample belongs to the family announced last. */
		CU_ASSERT(strncmp(name, fam, strlen(fam)) == 0);
		v = strtoull(strrchr(line, ' ') + 1, NULL, 10);
		if (strstr(name, "_bucket") != NULL) {
			if (strstr(line, "le=\"0.0005\"") != NULL)
				prev = 0;
			CU_ASSERT(v >= prev);
			prev = v;
			if (strstr(line, "le=\"+Inf\"") != NULL)
				snprintf(lastbucket, sizeof(lastbucket),
				    "%llu", (unsigned long long)v);
		} else if (strstr(name, "_count") != NULL)
			CU_ASSERT(strcmp(strrchr(line, ' ') + 1,
			    lastbucket) == 0);
	}
	free(doc);
	CU_ASSERT(nseen >= 20);
	regfree(&sample);
	regfree(&help);
	regfree(&type);
	test_teardown();
}

/* The values are the traffic counted, by the labels it was counted by. */
static void
test_render_values(void)
{
	static const char *const n[] = { "a", "b" };
	struct test_conf	 t;
	size_t			 len, len2, lines, lines2;
	char			*doc2, *p;
	int			 i;

	test_conf_init(&t, n, 2, 8);
	test_round(&t);
	for (i = 0; i < 37; i++)
		test_count(&t.tc_apis[0], CONF_M_GET, 200, 700, NULL, NULL,
		    1);
	for (i = 0; i < 5; i++)
		test_count(&t.tc_apis[1], CONF_M_POST, 201, 700, NULL, NULL,
		    1);
	for (i = 0; i < 3; i++)
		test_count(&t.tc_apis[1], CONF_M_GET, 429, 50, "throttled",
		    "application", 0);
	test_count(&t.tc_apis[1], CONF_M_GET, 401, 50,
	    "invalid_credentials", NULL, 0);
	test_count(&t.tc_apis[1], -1, 405, 50, "method_not_allowed", NULL,
	    0);
	metrics_upstream_error(t.tc_urls[1].u_metrics, METRICS_UE_TIMEOUT);
	CU_ASSERT_FATAL((test_doc = metrics_render(&t.tc_conf, &len)) !=
	    NULL);
	CU_ASSERT(test_sample("mgw_requests_total", "api=\"a\",version=\"v1\","
	    "method=\"GET\",code=\"2xx\"") == 37);
	CU_ASSERT(test_sample("mgw_requests_total", "api=\"b\",version=\"v1\","
	    "method=\"POST\",code=\"2xx\"") == 5);
	CU_ASSERT(test_sample("mgw_requests_total", "api=\"b\",version=\"v1\","
	    "method=\"GET\",code=\"4xx\"") == 4);
	CU_ASSERT(test_sample("mgw_requests_total", "api=\"b\",version=\"v1\","
	    "method=\"OTHER\",code=\"4xx\"") == 1);
	CU_ASSERT(test_sample("mgw_request_duration_seconds_bucket",
	    "api=\"a\",version=\"v1\",le=\"0.0005\"") == 0);
	CU_ASSERT(test_sample("mgw_request_duration_seconds_bucket",
	    "api=\"a\",version=\"v1\",le=\"0.001\"") == 37);
	CU_ASSERT(test_sample("mgw_request_duration_seconds_count",
	    "api=\"a\",version=\"v1\"") == 37);
	CU_ASSERT(strstr(test_doc, "\nmgw_request_duration_seconds_sum{"
	    "api=\"a\",version=\"v1\"} 0.0259\n") != NULL);
	CU_ASSERT(test_sample("mgw_upstream_duration_seconds_count",
	    "api=\"b\",version=\"v1\"") == 5);
	CU_ASSERT(test_sample("mgw_throttled_total", "api=\"b\","
	    "version=\"v1\",level=\"application\"") == 3);
	CU_ASSERT(test_sample("mgw_auth_failures_total", "api=\"b\","
	    "version=\"v1\",reason=\"invalid_credentials\"") == 1);
	CU_ASSERT(test_sample("mgw_request_bytes_total",
	    "api=\"a\",version=\"v1\"") == 3700);
	CU_ASSERT(test_sample("mgw_upstream_responses_total",
	    "endpoint=\"http://127.0.0.1:8000\"") == 37);
	CU_ASSERT(test_sample("mgw_upstream_errors_total",
	    "endpoint=\"http://127.0.0.1:8001\",kind=\"timeout\"") == 1);
	CU_ASSERT(test_sample("mgw_build_info", "version=\"" MGW_VERSION
	    "\"") == 1);
	CU_ASSERT(test_sample("mgw_shm_zone_size_bytes",
	    "zone=\"" METRICS_ZONE "\"") ==
	    shm_zone_find(METRICS_ZONE)->z_size);

	/* More traffic changes values, never the set of lines. */
	for (i = 0; i < 100; i++)
		test_count(&t.tc_apis[0], CONF_M_DELETE, 503, 9000000, NULL,
		    NULL, 1);
	CU_ASSERT_FATAL((doc2 = metrics_render(&t.tc_conf, &len2)) != NULL);
	for (lines = 0, p = test_doc; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	for (lines2 = 0, p = doc2; (p = strchr(p, '\n')) != NULL; p++)
		lines2++;
	CU_ASSERT(lines == lines2);
	free(doc2);
	test_teardown();
}

/* Label values escape backslash, double quote and newline. */
static void
test_render_escape(void)
{
	static const char *const n[] = { "we\"ird\\na\nme", "b" };
	struct test_conf	 t;

	test_conf_init(&t, n, 2, 8);
	t.tc_apis[1].a_version = NULL;
	test_round(&t);
	test_count(&t.tc_apis[0], CONF_M_GET, 200, 1, NULL, NULL, 0);
	CU_ASSERT_FATAL((test_doc = metrics_render(&t.tc_conf,
	    &(size_t){ 0 })) != NULL);
	CU_ASSERT(test_sample("mgw_requests_total",
	    "api=\"we\\\"ird\\\\na\\nme\",version=\"v1\",method=\"GET\","
	    "code=\"2xx\"") == 1);
	CU_ASSERT(test_sample("mgw_request_bytes_total",
	    "api=\"b\",version=\"\"") == 0);
	test_teardown();
}

/* Disabled: no zone, every hook a no-op, sums zero, no API families. */
static void
test_render_disabled(void)
{
	static const char *const n[] = { "a" };
	struct test_conf	 t;
	struct metrics_api_sum	 s;

	test_conf_init(&t, n, 1, 8);
	t.tc_conf.c_metrics.m_enabled = 0;
	test_round(&t);
	CU_ASSERT(shm_zone_find(METRICS_ZONE) == NULL);
	test_count(&t.tc_apis[0], CONF_M_GET, 200, 1, NULL, NULL, 1);
	metrics_upstream_error(0, METRICS_UE_RESET);
	metrics_api_sum(0, &s);
	CU_ASSERT(s.requests[CONF_M_GET][STATS_2XX] == 0);
	CU_ASSERT_FATAL((test_doc = metrics_render(&t.tc_conf,
	    &(size_t){ 0 })) != NULL);
	CU_ASSERT(strstr(test_doc, "mgw_requests_total") == NULL);
	test_teardown();
}

static void
test_parse(void)
{
	CU_ASSERT(metrics_throttle_parse("api") == METRICS_TH_API);
	CU_ASSERT(metrics_throttle_parse("resource") == METRICS_TH_RESOURCE);
	CU_ASSERT(metrics_throttle_parse("application") ==
	    METRICS_TH_APPLICATION);
	CU_ASSERT(metrics_throttle_parse("subscription") ==
	    METRICS_TH_SUBSCRIPTION);
	CU_ASSERT(metrics_throttle_parse("ip") == METRICS_TH_IP);
	CU_ASSERT(metrics_throttle_parse("apis") == METRICS_TH_OTHER);
	CU_ASSERT(metrics_throttle_parse("") == METRICS_TH_OTHER);
	CU_ASSERT(metrics_throttle_parse(NULL) == METRICS_TH_OTHER);
	CU_ASSERT(metrics_auth_parse("missing_credentials") ==
	    METRICS_AU_MISSING);
	CU_ASSERT(metrics_auth_parse("invalid_credentials") ==
	    METRICS_AU_INVALID);
	CU_ASSERT(metrics_auth_parse("expired") == METRICS_AU_EXPIRED);
	CU_ASSERT(metrics_auth_parse("revoked") == METRICS_AU_REVOKED);
	CU_ASSERT(metrics_auth_parse("insufficient_scope") ==
	    METRICS_AU_SCOPE);
	CU_ASSERT(metrics_auth_parse("not_subscribed") ==
	    METRICS_AU_SUBSCRIBED);
	CU_ASSERT(metrics_auth_parse("auth_unavailable") ==
	    METRICS_AU_UNAVAILABLE);
	CU_ASSERT(metrics_auth_parse("client_certificate_required") ==
	    METRICS_AU_CLIENT_CERT);
	CU_ASSERT(metrics_auth_parse("throttled") == -1);
	CU_ASSERT(metrics_auth_parse("not_found") == -1);
	CU_ASSERT(metrics_auth_parse(NULL) == -1);
}

static CU_TestInfo series_tests[] = {
	{ "kept across a reload", test_series_reload },
	{ "over max_apis: other", test_series_other },
	{ "full table recycles", test_series_recycle },
	{ "forked slots sum", test_slots_fork },
	CU_TEST_INFO_NULL
};

static CU_TestInfo render_tests[] = {
	{ "exposition grammar", test_render_grammar },
	{ "values equal traffic", test_render_values },
	{ "label escaping", test_render_escape },
	{ "disabled", test_render_disabled },
	{ "reason parsing", test_parse },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo metrics_suites[] = {
	{ "series", NULL, NULL, NULL, NULL, series_tests },
	{ "render", NULL, NULL, NULL, NULL, render_tests },
	CU_SUITE_INFO_NULL
};

int
main(void)
{
	log_init(1, 0);
	return (test_run(metrics_suites));
}
