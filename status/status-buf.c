/*
 * status-buf.c: the output buffers of the public plugin API (struct
 * mgw_buf), and the helpers a plugin writes its metric families and
 * status fields with, so that every plugin's text follows the Prometheus
 * exposition format and the status documents' field syntax without
 * knowing either.
 *
 * The buffer itself is lib/buf.c's.  Appends never abort: a worker that
 * runs out of memory while rendering answers 500, so a failed append
 * marks the buffer and returns -1, and the caller checks b_failed once
 * at the end.
 */
#include "config.h"

#include <sys/types.h>

#include <stdint.h>

#include "lib.h"
#include <mgw/plugin.h>
#include "status.h"

/* An empty buffer for form.  Any process. */
void
status_buf_init(struct mgw_buf *b, enum status_form form)
{
	buf_init(b);
	b->b_form = form;
}

/* Release what b holds; b is empty again.  Any process. */
void
status_buf_free(struct mgw_buf *b)
{
	buf_free(b);
}

/*
 * A family's "# HELP name help" and "# TYPE name type" lines.  Any
 * process.  0 or -1.
 */
int
mgw_metrics_family(struct mgw_buf *b, const char *name, const char *type,
    const char *help)
{
	return (mgw_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type));
}

/*
 * One sample: "name{labels} value", or "name value" when labels is NULL
 * (labels escaped by the caller).  Any process.  0 or -1.
 */
int
mgw_metrics_sample(struct mgw_buf *b, const char *name, const char *labels,
    uint64_t v)
{
	if (labels == NULL)
		return (mgw_buf_printf(b, "%s %llu\n", name,
		    (unsigned long long)v));
	return (mgw_buf_printf(b, "%s{%s} %llu\n", name, labels,
	    (unsigned long long)v));
}

/*
 * A status field, key a JSON name ([a-z0-9_]): "key":v, in /status,
 * where the core's own fields follow, and "key: v" lines in mgwctl
 * stats.  Any process.  0 or -1.
 */
int
mgw_status_add(struct mgw_buf *b, const char *key, uint64_t v)
{
	if (b->b_form == STATUS_FORM_JSON)
		return (mgw_buf_printf(b, "\"%s\":%llu,", key,
		    (unsigned long long)v));
	return (mgw_buf_printf(b, "%s: %llu\n", key, (unsigned long long)v));
}

/* A ratio (0 to 1) field, with four decimals.  Any process.  0 or -1. */
int
mgw_status_add_ratio(struct mgw_buf *b, const char *key, double v)
{
	if (b->b_form == STATUS_FORM_JSON)
		return (mgw_buf_printf(b, "\"%s\":%.4f,", key, v));
	return (mgw_buf_printf(b, "%s: %.4f\n", key, v));
}

/* Non-zero for mgwctl stats' text, which leaves out features that are off. */
int
mgw_status_terse(const struct mgw_buf *b)
{
	return (b->b_form == STATUS_FORM_TEXT);
}
