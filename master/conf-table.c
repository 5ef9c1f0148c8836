/*
 * conf-table.c: every key mgw.conf accepts, as data (tmux options-table.c,
 * redis static_configs[]).  conf_load() walks these tables to fill struct
 * mgw_conf, conf-env.c matches MGW_* variables against them and conf_free()
 * walks them again to release what was filled.  Adding a scalar key is one
 * line here and a field in conf-t.h.
 */
#include "config.h"

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "master.h"

#define MS_SEC		1000ULL
#define MS_DAY		(86400ULL * MS_SEC)
#define KB		1024ULL
#define MB		(1024ULL * KB)
#define GB		(1024ULL * MB)

static const struct conf_opt conf_table_gateway[] = {
	{ "workers", CONF_T_INT, 0, 256, "0",
	  "worker processes; 0 means one per online CPU",
	  offsetof(struct conf_gateway, workers), 0, 0, NULL, 0,
	  CONF_CHK_WORKERS },
	{ "user", CONF_T_STRING, 0, 0, NULL,
	  "user the workers run as when started as root",
	  offsetof(struct conf_gateway, user), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "group", CONF_T_STRING, 0, 0, NULL,
	  "group the workers run as when started as root",
	  offsetof(struct conf_gateway, group), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "pid_file", CONF_T_STRING, 0, 0, RUNSTATEDIR "/mgw/mgwd.pid",
	  "file holding the master's pid",
	  offsetof(struct conf_gateway, pid_file), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "control_socket", CONF_T_STRING, 0, 0, RUNSTATEDIR "/mgw/mgwd.sock",
	  "unix socket mgwctl talks to",
	  offsetof(struct conf_gateway, control_socket), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "error_log", CONF_T_STRING, 0, 0,
	  LOCALSTATEDIR "/log/mgw/error.log",
	  "error log path, \"stderr\" or \"syslog\"",
	  offsetof(struct conf_gateway, error_log), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "access_log", CONF_T_STRING, 0, 0,
	  LOCALSTATEDIR "/log/mgw/access.log",
	  "access log path, or \"off\"",
	  offsetof(struct conf_gateway, access_log), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "access_log_format", CONF_T_STRING, 0, 0, "combined",
	  "\"combined\" (nginx's) or \"json\" (one object per line)",
	  offsetof(struct conf_gateway, access_log_format), 0, 0, NULL, 0,
	  CONF_CHK_LOG_FORMAT },
	{ "drain_timeout", CONF_T_DURATION, 0, MS_DAY, "30s",
	  "how long old workers may finish in-flight requests on reload",
	  offsetof(struct conf_gateway, drain_timeout), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "trusted_proxies", CONF_T_STRINGS, 0, 0, NULL,
	  "CIDRs whose X-Forwarded-* headers are believed",
	  offsetof(struct conf_gateway, trusted_proxies),
	  offsetof(struct conf_gateway, ntrusted_proxies), 0, NULL, 0,
	  CONF_CHK_CIDRS },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, CONF_CHK_NONE }
};

static const struct conf_opt conf_table_listener[] = {
	{ "name", CONF_T_STRING, 0, 0, NULL,
	  "unique name; addresses the listener in MGW_LISTENERS_<NAME>_*",
	  offsetof(struct conf_listener, l_name), 0, 0, NULL,
	  CONF_F_REQUIRED, CONF_CHK_LNAME },
	{ "listen", CONF_T_STRING, 0, 0, NULL,
	  "\"host:port\", \"[v6addr]:port\" or \"*:port\"",
	  offsetof(struct conf_listener, l_listen), 0, 0, NULL,
	  CONF_F_REQUIRED, CONF_CHK_LISTEN },
	{ "admin", CONF_T_BOOL, 0, 1, "false",
	  "serve /health and /status only",
	  offsetof(struct conf_listener, l_admin), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "backlog", CONF_T_INT, 1, 65535, "511",
	  "listen(2) backlog",
	  offsetof(struct conf_listener, l_backlog), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "access_log", CONF_T_STRING, 0, 0, NULL,
	  "this listener's access log path or \"off\"; unset: the gateway's",
	  offsetof(struct conf_listener, l_access_log), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "access_log_format", CONF_T_STRING, 0, 0, NULL,
	  "\"combined\" or \"json\"; unset: the gateway's",
	  offsetof(struct conf_listener, l_access_log_format), 0, 0, NULL, 0,
	  CONF_CHK_LOG_FORMAT },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, CONF_CHK_NONE }
};

static const struct conf_opt conf_table_limits[] = {
	{ "max_header_size", CONF_T_SIZE, KB, MB, "16k",
	  "largest request line plus headers",
	  offsetof(struct conf_limits, max_header_size), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "max_body_size", CONF_T_SIZE, 0, UINT64_MAX, "10m",
	  "largest request body; 0 means unlimited",
	  offsetof(struct conf_limits, max_body_size), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "header_timeout", CONF_T_DURATION, 1, MS_DAY, "10s",
	  "time to receive the request headers",
	  offsetof(struct conf_limits, header_timeout), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "body_timeout", CONF_T_DURATION, 1, MS_DAY, "30s",
	  "time allowed between two reads of the body",
	  offsetof(struct conf_limits, body_timeout), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "keepalive_timeout", CONF_T_DURATION, 0, MS_DAY, "60s",
	  "idle time before a keep-alive connection is closed; 0 disables",
	  offsetof(struct conf_limits, keepalive_timeout), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "send_timeout", CONF_T_DURATION, 1, MS_DAY, "30s",
	  "time allowed between two writes to the client",
	  offsetof(struct conf_limits, send_timeout), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "max_connections", CONF_T_UINT, 1, 1000000, "10000",
	  "client connections per worker",
	  offsetof(struct conf_limits, max_connections), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, CONF_CHK_NONE }
};

static const struct conf_opt conf_table_shm[] = {
	{ "size", CONF_T_SIZE, 64 * KB, 64 * GB, "64m",
	  "bytes of the general shared memory zone",
	  offsetof(struct conf_shm, size), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, CONF_CHK_NONE }
};

/* The mock group fills the same struct conf_endpoints as its parent. */
static const struct conf_opt conf_table_mock[] = {
	{ "status", CONF_T_INT, 100, 599, "200",
	  "HTTP status of the canned response",
	  offsetof(struct conf_endpoints, ep_mock_status), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "headers", CONF_T_HEADERS, 0, 0, NULL,
	  "\"Name: value\" response headers",
	  offsetof(struct conf_endpoints, ep_mock_headers),
	  offsetof(struct conf_endpoints, ep_nmock_headers), 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "body", CONF_T_STRING, 0, 0, "",
	  "response body",
	  offsetof(struct conf_endpoints, ep_mock_body), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, CONF_CHK_NONE }
};

static const struct conf_opt conf_table_endpoints[] = {
	{ "production", CONF_T_URLS, 0, 0, NULL,
	  "upstream URLs, http://host[:port][/prefix]",
	  offsetof(struct conf_endpoints, ep_production),
	  offsetof(struct conf_endpoints, ep_nproduction), 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "sandbox", CONF_T_URLS, 0, 0, NULL,
	  "sandbox upstream URLs",
	  offsetof(struct conf_endpoints, ep_sandbox),
	  offsetof(struct conf_endpoints, ep_nsandbox), 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "connect_timeout", CONF_T_DURATION, 1, MS_DAY, "5s",
	  "time to connect to an upstream",
	  offsetof(struct conf_endpoints, ep_connect_timeout), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "timeout", CONF_T_DURATION, 1, MS_DAY, "60s",
	  "time allowed between two reads from the upstream",
	  offsetof(struct conf_endpoints, ep_timeout), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "send_timeout", CONF_T_DURATION, 1, MS_DAY, "60s",
	  "time allowed between two writes to the upstream",
	  offsetof(struct conf_endpoints, ep_send_timeout), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "keepalive", CONF_T_UINT, 0, 10000, "32",
	  "idle pooled connections per worker per endpoint",
	  offsetof(struct conf_endpoints, ep_keepalive), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "retries", CONF_T_UINT, 0, 10, "1",
	  "other endpoints tried when connecting fails",
	  offsetof(struct conf_endpoints, ep_retries), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "mock", CONF_T_GROUP, 0, 0, NULL,
	  "answer locally instead of proxying",
	  0, 0, 0, conf_table_mock, 0,
	  CONF_CHK_MOCK },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, CONF_CHK_NONE }
};

static const struct conf_opt conf_table_resource[] = {
	{ "path", CONF_T_STRING, 0, 0, NULL,
	  "template below base_path: literals, {name} segments, final *",
	  offsetof(struct conf_resource, r_path), 0, 0, NULL,
	  CONF_F_REQUIRED, CONF_CHK_RES_PATH },
	{ "methods", CONF_T_METHODS, 0, 0, NULL,
	  "allowed methods; absent means all",
	  offsetof(struct conf_resource, r_methods), 0, 0, NULL,
	  CONF_F_NONEMPTY, CONF_CHK_NONE },
	{ "endpoints", CONF_T_GROUP, 0, 0, NULL,
	  "endpoints for this resource instead of the API's",
	  offsetof(struct conf_resource, r_endpoints), 0,
	  sizeof(struct conf_endpoints), conf_table_endpoints, CONF_F_PTR,
	  CONF_CHK_ENDPOINTS },
	{ "throttling", CONF_T_STRING, 0, 0, NULL,
	  "policy limiting this resource across all callers",
	  offsetof(struct conf_resource, r_throttling), 0, 0, NULL, 0,
	  CONF_CHK_POLICY_REF },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, CONF_CHK_NONE }
};

/* version comes before base_path: base_path's check substitutes it. */
static const struct conf_opt conf_table_api[] = {
	{ "name", CONF_T_STRING, 0, 0, NULL,
	  "API name; addresses the API in MGW_APIS_<NAME>_*",
	  offsetof(struct conf_api, a_name), 0, 0, NULL,
	  CONF_F_REQUIRED, CONF_CHK_ANAME },
	{ "version", CONF_T_STRING, 0, 0, NULL,
	  "API version, substituted for {version} in base_path",
	  offsetof(struct conf_api, a_version), 0, 0, NULL, 0,
	  CONF_CHK_ANAME },
	{ "base_path", CONF_T_STRING, 0, 0, NULL,
	  "path prefix the API is served under",
	  offsetof(struct conf_api, a_base_path), 0, 0, NULL,
	  CONF_F_REQUIRED, CONF_CHK_BASE_PATH },
	{ "endpoints", CONF_T_GROUP, 0, 0, NULL,
	  "where requests go: production/sandbox URLs or a mock",
	  offsetof(struct conf_api, a_endpoints), 0, 0,
	  conf_table_endpoints, CONF_F_REQUIRED, CONF_CHK_ENDPOINTS },
	{ "resources", CONF_T_LIST, 0, 0, NULL,
	  "path templates and methods; absent means everything",
	  offsetof(struct conf_api, a_resources),
	  offsetof(struct conf_api, a_nresources),
	  sizeof(struct conf_resource), conf_table_resource, 0,
	  CONF_CHK_RESOURCE },
	{ "throttling", CONF_T_STRING, 0, 0, NULL,
	  "policy limiting the whole API across all callers",
	  offsetof(struct conf_api, a_throttling), 0, 0, NULL, 0,
	  CONF_CHK_POLICY_REF },
	{ "subscription_tier", CONF_T_STRING, 0, 0, NULL,
	  "policy per consumer of this API, unless the consumer sets one",
	  offsetof(struct conf_api, a_subscription_tier), 0, 0, NULL, 0,
	  CONF_CHK_POLICY_REF },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, CONF_CHK_NONE }
};

/*
 * Throttling policies.  The checks of the item (CONF_CHK_POLICY) need
 * algorithm, requests and burst stored, so they run once it is walked.
 */
static const struct conf_opt conf_table_policy[] = {
	{ "name", CONF_T_STRING, 0, 0, NULL,
	  "policy name; referenced by throttling and tier keys",
	  offsetof(struct conf_policy, p_name), 0, 0, NULL,
	  CONF_F_REQUIRED, CONF_CHK_ANAME },
	{ "requests", CONF_T_U64, 1, UINT32_MAX, NULL,
	  "requests admitted per period",
	  offsetof(struct conf_policy, p_requests), 0, 0, NULL,
	  CONF_F_REQUIRED, CONF_CHK_NONE },
	{ "per", CONF_T_DURATION, 1, 366 * MS_DAY, NULL,
	  "the period",
	  offsetof(struct conf_policy, p_per), 0, 0, NULL,
	  CONF_F_REQUIRED, CONF_CHK_NONE },
	{ "algorithm", CONF_T_STRING, 0, 0, NULL,
	  "fixed_window, sliding_log, sliding_window or token_bucket",
	  offsetof(struct conf_policy, p_algorithm), 0, 0, NULL, 0,
	  CONF_CHK_ALGO },
	{ "burst", CONF_T_U64, 0, UINT32_MAX, NULL,
	  "token_bucket: requests that may come at once; 0 means requests",
	  offsetof(struct conf_policy, p_burst), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "dry_run", CONF_T_BOOL, 0, 1, "false",
	  "count and report, never refuse",
	  offsetof(struct conf_policy, p_dry_run), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, CONF_CHK_NONE }
};

static const struct conf_opt conf_table_throttling[] = {
	{ "headers", CONF_T_BOOL, 0, 1, "true",
	  "quota headers on accepted responses too, not only on 429",
	  offsetof(struct conf_throttling, t_headers), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "consumer_header", CONF_T_STRING, 0, 0, NULL,
	  "request header naming the consumer; unset: none (testing only)",
	  offsetof(struct conf_throttling, t_consumer_header), 0, 0, NULL, 0,
	  CONF_CHK_HEADER_NAME },
	{ "unauthenticated_tier", CONF_T_STRING, 0, 0, "Unlimited",
	  "policy per client address for requests without a consumer; "
	  "Unlimited (the default) turns the level off",
	  offsetof(struct conf_throttling, t_unauthenticated_tier), 0, 0,
	  NULL, 0, CONF_CHK_POLICY_REF },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, CONF_CHK_NONE }
};

static const struct conf_opt conf_table_consumer[] = {
	{ "name", CONF_T_STRING, 0, 0, NULL,
	  "consumer name; addresses it in MGW_CONSUMERS_<NAME>_*",
	  offsetof(struct conf_consumer, cs_name), 0, 0, NULL,
	  CONF_F_REQUIRED, CONF_CHK_ANAME },
	{ "tier", CONF_T_STRING, 0, 0, NULL,
	  "application policy: the consumer's requests to all APIs",
	  offsetof(struct conf_consumer, cs_tier), 0, 0, NULL, 0,
	  CONF_CHK_POLICY_REF },
	{ "subscription_tier", CONF_T_STRING, 0, 0, NULL,
	  "policy per API for this consumer, instead of the API's",
	  offsetof(struct conf_consumer, cs_subscription_tier), 0, 0, NULL,
	  0, CONF_CHK_POLICY_REF },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, CONF_CHK_NONE }
};

static const struct conf_opt conf_table_analytics[] = {
	{ "enabled", CONF_T_BOOL, 0, 1, "false",
	  "write one usage event per request",
	  offsetof(struct conf_analytics, an_enabled), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "directory", CONF_T_STRING, 0, 0, LOCALSTATEDIR "/log/mgw/analytics",
	  "where event files are written and completed",
	  offsetof(struct conf_analytics, an_directory), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "flush_interval", CONF_T_DURATION, 10, 60 * MS_SEC, "1s",
	  "longest time an event waits in a worker's buffer",
	  offsetof(struct conf_analytics, an_flush_interval), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "buffer_size", CONF_T_SIZE, 4 * KB, 16 * MB, "64k",
	  "events buffered per worker before a write",
	  offsetof(struct conf_analytics, an_buffer_size), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "rotate_size", CONF_T_SIZE, 64 * KB, 64 * GB, "10m",
	  "a file is completed when it reaches this size",
	  offsetof(struct conf_analytics, an_rotate_size), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "rotate_interval", CONF_T_DURATION, 0, MS_DAY, "1h",
	  "a non-empty file is completed after this long; 0: by size only",
	  offsetof(struct conf_analytics, an_rotate_interval), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "compress", CONF_T_BOOL, 0, 1, "false",
	  "gzip completed files",
	  offsetof(struct conf_analytics, an_compress), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "max_files", CONF_T_UINT, 0, 1000000, "0",
	  "completed files kept, oldest removed first; 0 keeps all",
	  offsetof(struct conf_analytics, an_max_files), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "max_age", CONF_T_DURATION, 0, 3660 * MS_DAY, "0s",
	  "completed files older than this are removed; 0 keeps them",
	  offsetof(struct conf_analytics, an_max_age), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, CONF_CHK_NONE }
};

static const struct conf_opt conf_table_metrics[] = {
	{ "enabled", CONF_T_BOOL, 0, 1, "true",
	  "count per-API metrics for /metrics and the status page",
	  offsetof(struct conf_metrics, m_enabled), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "max_apis", CONF_T_UINT, 1, 65536, "256",
	  "API series kept in shared memory; more APIs share one series",
	  offsetof(struct conf_metrics, m_max_apis), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ "max_endpoints", CONF_T_UINT, 1, 65536, "256",
	  "upstream endpoint series kept in shared memory",
	  offsetof(struct conf_metrics, m_max_endpoints), 0, 0, NULL, 0,
	  CONF_CHK_NONE },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, CONF_CHK_NONE }
};

const struct conf_opt conf_table[] = {
	{ "gateway", CONF_T_GROUP, 0, 0, NULL,
	  "process-wide settings",
	  offsetof(struct mgw_conf, c_gateway), 0, 0, conf_table_gateway, 0,
	  CONF_CHK_NONE },
	{ "listeners", CONF_T_LIST, 0, 0, NULL,
	  "addresses to accept clients on",
	  offsetof(struct mgw_conf, c_listeners),
	  offsetof(struct mgw_conf, c_nlisteners),
	  sizeof(struct conf_listener), conf_table_listener,
	  CONF_F_REQUIRED | CONF_F_NONEMPTY, CONF_CHK_LISTENER },
	{ "limits", CONF_T_GROUP, 0, 0, NULL,
	  "request size and time limits",
	  offsetof(struct mgw_conf, c_limits), 0, 0, conf_table_limits, 0,
	  CONF_CHK_NONE },
	{ "shm", CONF_T_GROUP, 0, 0, NULL,
	  "shared memory",
	  offsetof(struct mgw_conf, c_shm), 0, 0, conf_table_shm, 0,
	  CONF_CHK_NONE },
	/*
	 * policies must come before every key that references a policy
	 * (throttling, consumers, apis): CONF_CHK_POLICY_REF looks the
	 * name up in what has been stored so far.
	 */
	{ "policies", CONF_T_LIST, 0, 0, NULL,
	  "throttling policies, beside the built-in ones",
	  offsetof(struct mgw_conf, c_policies),
	  offsetof(struct mgw_conf, c_npolicies),
	  sizeof(struct conf_policy), conf_table_policy, 0,
	  CONF_CHK_POLICY },
	{ "throttling", CONF_T_GROUP, 0, 0, NULL,
	  "gateway-wide throttling settings",
	  offsetof(struct mgw_conf, c_throttling), 0, 0,
	  conf_table_throttling, 0, CONF_CHK_NONE },
	{ "consumers", CONF_T_LIST, 0, 0, NULL,
	  "applications calling the APIs, and their tiers",
	  offsetof(struct mgw_conf, c_consumers),
	  offsetof(struct mgw_conf, c_nconsumers),
	  sizeof(struct conf_consumer), conf_table_consumer, 0,
	  CONF_CHK_CONSUMER },
	{ "apis", CONF_T_LIST, 0, 0, NULL,
	  "the APIs served",
	  offsetof(struct mgw_conf, c_apis),
	  offsetof(struct mgw_conf, c_napis),
	  sizeof(struct conf_api), conf_table_api, 0,
	  CONF_CHK_API },
	{ "analytics", CONF_T_GROUP, 0, 0, NULL,
	  "usage events for metering",
	  offsetof(struct mgw_conf, c_analytics), 0, 0, conf_table_analytics,
	  0, CONF_CHK_NONE },
	{ "metrics", CONF_T_GROUP, 0, 0, NULL,
	  "Prometheus metrics and the status page",
	  offsetof(struct mgw_conf, c_metrics), 0, 0, conf_table_metrics,
	  0, CONF_CHK_NONE },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, CONF_CHK_NONE }
};
