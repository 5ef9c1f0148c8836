/*
 * test-status-hooks.c: what plugins write the status documents with
 * (status/status-buf.c) and how the core calls their hooks
 * (status/status-plugins.c): the field syntax of each form, buffer
 * growth, the exposition lines of mgw_metrics_family() and
 * mgw_metrics_sample(), and the hooks run in the order named, with their
 * states, in /metrics, /status and mgwctl stats.
 */
#include "config.h"

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "lib.h"
#include "conf-t.h"
#include "metrics.h"
#include "status.h"
#include <mgw/plugin.h>
#include "tests.h"

static void	 test_fake_metrics(void *, struct mgw_buf *);
static void	 test_fake_status(void *, struct mgw_buf *);

static void	 test_forms(void);
static void	 test_growth(void);
static void	 test_exposition(void);
static void	 test_hooks_order(void);
static void	 test_documents(void);

static const struct mgw_plugin test_fake_a = {
	.api = MGW_PLUGIN_API,
	.name = "fake-a",
	.metrics = test_fake_metrics,
	.status = test_fake_status,
};
static const struct mgw_plugin test_fake_b = {
	.api = MGW_PLUGIN_API,
	.name = "fake-b",
	.metrics = test_fake_metrics,
};
static const struct mgw_plugin test_fake_none = {
	.api = MGW_PLUGIN_API,
	.name = "fake-none",
};

/* A plugin whose state is its family's name. */
static void
test_fake_metrics(void *state, struct mgw_buf *out)
{
	mgw_metrics_family(out, state, "counter", "A fake family.");
	mgw_metrics_sample(out, state, NULL, 7);
}

static void
test_fake_status(void *state, struct mgw_buf *out)
{
	if (mgw_status_terse(out))
		return;
	mgw_status_add(out, state, 42);
	mgw_status_add_ratio(out, "fake_ratio", 0.5);
}

/* One field in each form. */
static void
test_forms(void)
{
	struct mgw_buf	 b;

	status_buf_init(&b, STATUS_FORM_JSON);
	CU_ASSERT(mgw_status_add(&b, "hits", 12) == 0);
	CU_ASSERT(mgw_status_add_ratio(&b, "ratio", 1.0 / 3.0) == 0);
	CU_ASSERT_STRING_EQUAL(b.b_data, "\"hits\":12,\"ratio\":0.3333,");
	CU_ASSERT(!mgw_status_terse(&b));
	status_buf_free(&b);

	status_buf_init(&b, STATUS_FORM_TEXT);
	CU_ASSERT(mgw_status_add(&b, "hits", 12) == 0);
	CU_ASSERT(mgw_status_add_ratio(&b, "ratio", 0.0) == 0);
	CU_ASSERT_STRING_EQUAL(b.b_data, "hits: 12\nratio: 0.0000\n");
	CU_ASSERT(mgw_status_terse(&b));
	status_buf_free(&b);
	CU_ASSERT_PTR_NULL(b.b_data);
	CU_ASSERT(b.b_len == 0);
}

/* Appends keep every byte and a NUL across reallocations. */
static void
test_growth(void)
{
	struct mgw_buf	 b;
	char		 chunk[100];
	size_t		 i;

	memset(chunk, 'x', sizeof(chunk));
	status_buf_init(&b, STATUS_FORM_RAW);
	for (i = 0; i < 1000; i++)
		CU_ASSERT(mgw_buf_add(&b, chunk, sizeof(chunk)) == 0);
	CU_ASSERT(mgw_buf_printf(&b, "%s-%d", "end", 5) == 0);
	CU_ASSERT(b.b_len == 100000 + 5);
	CU_ASSERT(strlen(b.b_data) == b.b_len);
	CU_ASSERT(strcmp(b.b_data + 100000, "end-5") == 0);
	CU_ASSERT(!b.b_failed);
	CU_ASSERT(mgw_buf_add(&b, "", 0) == 0);
	CU_ASSERT(b.b_len == 100005);
	status_buf_free(&b);
}

static void
test_exposition(void)
{
	struct mgw_buf	 b;

	status_buf_init(&b, STATUS_FORM_RAW);
	CU_ASSERT(mgw_metrics_family(&b, "mgw_x_total", "counter",
	    "Things.") == 0);
	CU_ASSERT(mgw_metrics_sample(&b, "mgw_x_total", NULL, 3) == 0);
	CU_ASSERT(mgw_metrics_sample(&b, "mgw_x_total", "api=\"a\"",
	    UINT64_MAX) == 0);
	CU_ASSERT_STRING_EQUAL(b.b_data, "# HELP mgw_x_total Things.\n"
	    "# TYPE mgw_x_total counter\nmgw_x_total 3\n"
	    "mgw_x_total{api=\"a\"} 18446744073709551615\n");
	status_buf_free(&b);
}

/* Hooks run in the order named, each with its state; NULL hooks skipped. */
static void
test_hooks_order(void)
{
	struct status_plugin	 sp[3];
	struct mgw_buf		 b;

	sp[0].sp_plugin = &test_fake_b;
	sp[0].sp_state = (void *)"mgw_b_total";
	sp[1].sp_plugin = &test_fake_none;
	sp[1].sp_state = NULL;
	sp[2].sp_plugin = &test_fake_a;
	sp[2].sp_state = (void *)"mgw_a_total";
	status_plugins_set(sp, 3);

	status_buf_init(&b, STATUS_FORM_RAW);
	CU_ASSERT(status_plugins_metrics(&b) == 0);
	CU_ASSERT_STRING_EQUAL(b.b_data,
	    "# HELP mgw_b_total A fake family.\n"
	    "# TYPE mgw_b_total counter\nmgw_b_total 7\n"
	    "# HELP mgw_a_total A fake family.\n"
	    "# TYPE mgw_a_total counter\nmgw_a_total 7\n");
	status_buf_free(&b);

	status_buf_init(&b, STATUS_FORM_JSON);
	CU_ASSERT(status_plugins_status(&b) == 0);
	CU_ASSERT_STRING_EQUAL(b.b_data,
	    "\"mgw_a_total\":42,\"fake_ratio\":0.5000,");
	status_buf_free(&b);

	status_buf_init(&b, STATUS_FORM_TEXT);
	CU_ASSERT(status_plugins_status(&b) == 0);
	CU_ASSERT(b.b_len == 0);
	status_buf_free(&b);

	/* None named: nothing at all. */
	status_plugins_set(NULL, 0);
	status_buf_init(&b, STATUS_FORM_RAW);
	CU_ASSERT(status_plugins_metrics(&b) == 0);
	CU_ASSERT(b.b_len == 0);
	status_buf_free(&b);
}

/* The documents put the plugins' text where it belongs. */
static void
test_documents(void)
{
	struct status_plugin	 sp;
	struct mgw_conf		 conf;
	char			*doc;
	size_t			 len;

	memset(&conf, 0, sizeof(conf));
	sp.sp_plugin = &test_fake_a;
	sp.sp_state = (void *)"fake_count";
	status_plugins_set(&sp, 1);

	CU_ASSERT_FATAL((doc = metrics_status_json(&conf, 1, &len)) != NULL);
	CU_ASSERT(strstr(doc, "\"failures\":0},\"fake_count\":42,"
	    "\"fake_ratio\":0.5000,\"window_seconds\":") != NULL);
	free(doc);
	CU_ASSERT_FATAL((doc = metrics_status_text(&conf)) != NULL);
	CU_ASSERT(strstr(doc, "fake_count") == NULL);
	free(doc);
	CU_ASSERT_FATAL((doc = metrics_render(&conf, &len)) != NULL);
	CU_ASSERT(len == strlen(doc));
	CU_ASSERT(strstr(doc, "\n# HELP fake_count A fake family.\n"
	    "# TYPE fake_count counter\nfake_count 7\n") != NULL);
	/* After the core's families: the zones come first. */
	CU_ASSERT(strstr(doc, "mgw_shm_zone_used_bytes") <
	    strstr(doc, "fake_count"));
	free(doc);
	status_plugins_set(NULL, 0);
}

static CU_TestInfo hooks_tests[] = {
	{ "status fields in JSON and text", test_forms },
	{ "buffer growth", test_growth },
	{ "family and sample lines", test_exposition },
	{ "hooks in order, with their states", test_hooks_order },
	{ "plugins' text in the documents", test_documents },
	CU_TEST_INFO_NULL
};

static CU_SuiteInfo hooks_suites[] = {
	{ .pName = "status hooks", .pTests = hooks_tests },
	CU_SUITE_INFO_NULL
};

int
main(void)
{
	return (test_run(hooks_suites));
}
