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
	  CONF_CHK_WORKERS, NULL, 0, 0, 0 },
	{ "user", CONF_T_STRING, 0, 0, NULL,
	  "user the workers run as when started as root",
	  offsetof(struct conf_gateway, user), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "group", CONF_T_STRING, 0, 0, NULL,
	  "group the workers run as when started as root",
	  offsetof(struct conf_gateway, group), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "pid_file", CONF_T_STRING, 0, 0, RUNSTATEDIR "/mgw/mgwd.pid",
	  "file holding the master's pid",
	  offsetof(struct conf_gateway, pid_file), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "control_socket", CONF_T_STRING, 0, 0, RUNSTATEDIR "/mgw/mgwd.sock",
	  "unix socket mgwctl talks to",
	  offsetof(struct conf_gateway, control_socket), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "error_log", CONF_T_STRING, 0, 0,
	  LOCALSTATEDIR "/log/mgw/error.log",
	  "error log path, \"stderr\" or \"syslog\"",
	  offsetof(struct conf_gateway, error_log), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "access_log", CONF_T_STRING, 0, 0,
	  LOCALSTATEDIR "/log/mgw/access.log",
	  "access log path, or \"off\"",
	  offsetof(struct conf_gateway, access_log), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "access_log_format", CONF_T_STRING, 0, 0, "combined",
	  "\"combined\" (nginx's) or \"json\" (one object per line)",
	  offsetof(struct conf_gateway, access_log_format), 0, 0, NULL, 0,
	  CONF_CHK_LOG_FORMAT, NULL, 0, 0, 0 },
	{ "drain_timeout", CONF_T_DURATION, 0, MS_DAY, "30s",
	  "how long old workers may finish in-flight requests on reload",
	  offsetof(struct conf_gateway, drain_timeout), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "trusted_proxies", CONF_T_STRINGS, 0, 0, NULL,
	  "CIDRs whose X-Forwarded-* headers are believed",
	  offsetof(struct conf_gateway, trusted_proxies),
	  offsetof(struct conf_gateway, ntrusted_proxies), 0, NULL, 0,
	  CONF_CHK_CIDRS, NULL, 0, 0, 0 },
	{ "trusted_client_certificate_header", CONF_T_STRING, 0, 0, NULL,
	  "header holding the client certificate (URL-encoded PEM), "
	  "believed from trusted_proxies only",
	  offsetof(struct conf_gateway, trusted_cert_header), 0, 0, NULL, 0,
	  CONF_CHK_HEADER_NAME, NULL, 0, 0, 0 },
	{ "trusted_client_certificate_ca", CONF_T_STRING, 0, 0, NULL,
	  "PEM file: CAs the header's certificate is verified against on "
	  "listeners without client_ca",
	  offsetof(struct conf_gateway, trusted_cert_ca), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "trusted_client_certificate_crl", CONF_T_STRING, 0, 0, NULL,
	  "PEM file of CRLs for trusted_client_certificate_ca",
	  offsetof(struct conf_gateway, trusted_cert_crl), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, CONF_CHK_NONE, NULL, 0, 0,
	  0 }
};

/* Mozilla's "intermediate" profile (server side TLS, version 5.7). */
#define TLS_CIPHERS_INTERMEDIATE					\
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"	\
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"	\
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"	\
	"DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:"		\
	"DHE-RSA-CHACHA20-POLY1305"
#define TLS_SUITES_INTERMEDIATE						\
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"		\
	"TLS_CHACHA20_POLY1305_SHA256"

static const struct conf_opt conf_table_tls_cert[] = {
	{ "certificate", CONF_T_STRING, 0, 0, NULL,
	  "PEM file: the certificate, then its intermediates",
	  offsetof(struct conf_tls_cert, tc_certificate), 0, 0, NULL,
	  CONF_F_REQUIRED, CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "key", CONF_T_STRING, 0, 0, NULL,
	  "PEM file: the certificate's private key",
	  offsetof(struct conf_tls_cert, tc_key), 0, 0, NULL,
	  CONF_F_REQUIRED, CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "ocsp_staple", CONF_T_STRING, 0, 0, NULL,
	  "DER OCSP response stapled for this certificate",
	  offsetof(struct conf_tls_cert, tc_ocsp), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, CONF_CHK_NONE, NULL, 0, 0,
	  0 }
};

static const struct conf_opt conf_table_tls[] = {
	{ "certificate", CONF_T_STRING, 0, 0, NULL,
	  "PEM file: the default certificate, then its intermediates",
	  offsetof(struct conf_tls, t_certificate), 0, 0, NULL,
	  CONF_F_REQUIRED, CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "key", CONF_T_STRING, 0, 0, NULL,
	  "PEM file: the default certificate's private key",
	  offsetof(struct conf_tls, t_key), 0, 0, NULL,
	  CONF_F_REQUIRED, CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "certificates", CONF_T_LIST, 0, 0, NULL,
	  "further certificates, chosen by the name the client asks for",
	  offsetof(struct conf_tls, t_certs),
	  offsetof(struct conf_tls, t_ncerts),
	  sizeof(struct conf_tls_cert), conf_table_tls_cert, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "protocols", CONF_T_STRINGS, 0, 0, "TLSv1.2,TLSv1.3",
	  "protocol versions accepted: TLSv1.2, TLSv1.3 (TLSv1, TLSv1.1)",
	  offsetof(struct conf_tls, t_protocols),
	  offsetof(struct conf_tls, t_nprotocols), 0, NULL,
	  CONF_F_NONEMPTY, CONF_CHK_PROTOCOLS, NULL, 0, 0, 0 },
	{ "ciphers", CONF_T_STRING, 0, 0, TLS_CIPHERS_INTERMEDIATE,
	  "OpenSSL cipher list for TLS 1.2 and below",
	  offsetof(struct conf_tls, t_ciphers), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "ciphersuites", CONF_T_STRING, 0, 0, TLS_SUITES_INTERMEDIATE,
	  "OpenSSL TLS 1.3 cipher suites",
	  offsetof(struct conf_tls, t_ciphersuites), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "unknown_sni", CONF_T_STRING, 0, 0, "default",
	  "a server name no certificate matches: \"default\" or \"refuse\"",
	  offsetof(struct conf_tls, t_unknown_sni), 0, 0, NULL, 0,
	  CONF_CHK_UNKNOWN_SNI, NULL, 0, 0, 0 },
	{ "session_tickets", CONF_T_BOOL, 0, 1, "true",
	  "resume sessions with tickets whose keys all workers share",
	  offsetof(struct conf_tls, t_tickets), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "ticket_key_rotation", CONF_T_DURATION, MS_SEC, 7 * MS_DAY,
	  "12h",
	  "how often a new ticket key is made; the last one still decrypts",
	  offsetof(struct conf_tls, t_ticket_rotation), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "session_timeout", CONF_T_DURATION, MS_SEC, MS_DAY, "5m",
	  "lifetime of a session, hence of a ticket",
	  offsetof(struct conf_tls, t_session_timeout), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "ocsp_staple", CONF_T_STRING, 0, 0, NULL,
	  "DER OCSP response stapled for the default certificate",
	  offsetof(struct conf_tls, t_ocsp), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "client_ca", CONF_T_STRING, 0, 0, NULL,
	  "PEM file: CAs client certificates are verified against",
	  offsetof(struct conf_tls, t_client_ca), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "verify_client", CONF_T_STRING, 0, 0, "off",
	  "off, optional or required",
	  offsetof(struct conf_tls, t_verify_client), 0, 0, NULL, 0,
	  CONF_CHK_VERIFY_CLIENT, NULL, 0, 0, 0 },
	{ "verify_depth", CONF_T_INT, 1, 100, "5",
	  "longest client certificate chain",
	  offsetof(struct conf_tls, t_verify_depth), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "crl", CONF_T_STRING, 0, 0, NULL,
	  "PEM file of CRLs; a revoked client certificate is refused",
	  offsetof(struct conf_tls, t_crl), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "client_certificate_header", CONF_T_STRING, 0, 0, NULL,
	  "request header carrying the verified client certificate upstream",
	  offsetof(struct conf_tls, t_cert_header), 0, 0, NULL, 0,
	  CONF_CHK_HEADER_NAME, NULL, 0, 0, 0 },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, CONF_CHK_NONE, NULL, 0, 0,
	  0 }
};

static const struct conf_opt conf_table_listener[] = {
	{ "name", CONF_T_STRING, 0, 0, NULL,
	  "unique name; addresses the listener in MGW_LISTENERS_<NAME>_*",
	  offsetof(struct conf_listener, l_name), 0, 0, NULL,
	  CONF_F_REQUIRED, CONF_CHK_LNAME, NULL, 0, 0, 0 },
	{ "listen", CONF_T_STRING, 0, 0, NULL,
	  "\"host:port\", \"[v6addr]:port\" or \"*:port\"",
	  offsetof(struct conf_listener, l_listen), 0, 0, NULL,
	  CONF_F_REQUIRED, CONF_CHK_LISTEN, NULL, 0, 0, 0 },
	{ "admin", CONF_T_BOOL, 0, 1, "false",
	  "serve /health and /status only",
	  offsetof(struct conf_listener, l_admin), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "backlog", CONF_T_INT, 1, 65535, "511",
	  "listen(2) backlog",
	  offsetof(struct conf_listener, l_backlog), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "access_log", CONF_T_STRING, 0, 0, NULL,
	  "this listener's access log path or \"off\"; unset: the gateway's",
	  offsetof(struct conf_listener, l_access_log), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "access_log_format", CONF_T_STRING, 0, 0, NULL,
	  "\"combined\" or \"json\"; unset: the gateway's",
	  offsetof(struct conf_listener, l_access_log_format), 0, 0, NULL, 0,
	  CONF_CHK_LOG_FORMAT, NULL, 0, 0, 0 },
	{ "tls", CONF_T_GROUP, 0, 0, NULL,
	  "serve HTTPS: certificates, protocols, client certificates",
	  offsetof(struct conf_listener, l_tls), 0,
	  sizeof(struct conf_tls), conf_table_tls, CONF_F_PTR,
	  CONF_CHK_TLS, NULL, 0, 0, 0 },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, CONF_CHK_NONE, NULL, 0, 0,
	  0 }
};

static const struct conf_opt conf_table_limits[] = {
	{ "max_header_size", CONF_T_SIZE, KB, MB, "16k",
	  "largest request line plus headers",
	  offsetof(struct conf_limits, max_header_size), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "max_body_size", CONF_T_SIZE, 0, UINT64_MAX, "10m",
	  "largest request body; 0 means unlimited",
	  offsetof(struct conf_limits, max_body_size), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "header_timeout", CONF_T_DURATION, 1, MS_DAY, "10s",
	  "time to receive the request headers",
	  offsetof(struct conf_limits, header_timeout), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "body_timeout", CONF_T_DURATION, 1, MS_DAY, "30s",
	  "time allowed between two reads of the body",
	  offsetof(struct conf_limits, body_timeout), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "keepalive_timeout", CONF_T_DURATION, 0, MS_DAY, "60s",
	  "idle time before a keep-alive connection is closed; 0 disables",
	  offsetof(struct conf_limits, keepalive_timeout), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "send_timeout", CONF_T_DURATION, 1, MS_DAY, "30s",
	  "time allowed between two writes to the client",
	  offsetof(struct conf_limits, send_timeout), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "max_connections", CONF_T_UINT, 1, 1000000, "10000",
	  "client connections per worker",
	  offsetof(struct conf_limits, max_connections), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, CONF_CHK_NONE, NULL, 0, 0,
	  0 }
};

static const struct conf_opt conf_table_shm[] = {
	{ "size", CONF_T_SIZE, 64 * KB, 64 * GB, "64m",
	  "bytes of the general shared memory zone",
	  offsetof(struct conf_shm, size), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, CONF_CHK_NONE, NULL, 0, 0,
	  0 }
};

/* The mock group fills the same struct conf_endpoints as its parent. */
static const struct conf_opt conf_table_mock[] = {
	{ "status", CONF_T_INT, 100, 599, "200",
	  "HTTP status of the canned response",
	  offsetof(struct conf_endpoints, ep_mock_status), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "headers", CONF_T_HEADERS, 0, 0, NULL,
	  "\"Name: value\" response headers",
	  offsetof(struct conf_endpoints, ep_mock_headers),
	  offsetof(struct conf_endpoints, ep_nmock_headers), 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "body", CONF_T_STRING, 0, 0, "",
	  "response body",
	  offsetof(struct conf_endpoints, ep_mock_body), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, CONF_CHK_NONE, NULL, 0, 0,
	  0 }
};

static const struct conf_opt conf_table_upstream_tls[] = {
	{ "ca", CONF_T_STRING, 0, 0, NULL,
	  "PEM file of CAs the upstream is verified against; "
	  "absent: the system's",
	  offsetof(struct conf_upstream_tls, ut_ca), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "verify", CONF_T_BOOL, 0, 1, "true",
	  "verify the upstream's certificate and name",
	  offsetof(struct conf_upstream_tls, ut_verify), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "server_name", CONF_T_STRING, 0, 0, NULL,
	  "name sent in SNI and verified; absent: the URL's host",
	  offsetof(struct conf_upstream_tls, ut_server_name), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "certificate", CONF_T_STRING, 0, 0, NULL,
	  "PEM client certificate for upstreams that ask for one",
	  offsetof(struct conf_upstream_tls, ut_certificate), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "key", CONF_T_STRING, 0, 0, NULL,
	  "PEM key of the client certificate",
	  offsetof(struct conf_upstream_tls, ut_key), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, CONF_CHK_NONE, NULL, 0, 0,
	  0 }
};

static const struct conf_opt conf_table_endpoints[] = {
	{ "production", CONF_T_URLS, 0, 0, NULL,
	  "upstream URLs, http[s]://host[:port][/prefix]",
	  offsetof(struct conf_endpoints, ep_production),
	  offsetof(struct conf_endpoints, ep_nproduction), 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "sandbox", CONF_T_URLS, 0, 0, NULL,
	  "sandbox upstream URLs",
	  offsetof(struct conf_endpoints, ep_sandbox),
	  offsetof(struct conf_endpoints, ep_nsandbox), 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "connect_timeout", CONF_T_DURATION, 1, MS_DAY, "5s",
	  "time to connect to an upstream",
	  offsetof(struct conf_endpoints, ep_connect_timeout), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "timeout", CONF_T_DURATION, 1, MS_DAY, "60s",
	  "time allowed between two reads from the upstream",
	  offsetof(struct conf_endpoints, ep_timeout), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "send_timeout", CONF_T_DURATION, 1, MS_DAY, "60s",
	  "time allowed between two writes to the upstream",
	  offsetof(struct conf_endpoints, ep_send_timeout), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "keepalive", CONF_T_UINT, 0, 10000, "32",
	  "idle pooled connections per worker per endpoint",
	  offsetof(struct conf_endpoints, ep_keepalive), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "retries", CONF_T_UINT, 0, 10, "1",
	  "other endpoints tried when connecting fails",
	  offsetof(struct conf_endpoints, ep_retries), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "mock", CONF_T_GROUP, 0, 0, NULL,
	  "answer locally instead of proxying",
	  0, 0, 0, conf_table_mock, 0,
	  CONF_CHK_MOCK, NULL, 0, 0, 0 },
	{ "tls", CONF_T_GROUP, 0, 0, NULL,
	  "how https:// URLs are reached: CAs, verification, client "
	  "certificate",
	  offsetof(struct conf_endpoints, ep_tls), 0,
	  sizeof(struct conf_upstream_tls), conf_table_upstream_tls,
	  CONF_F_PTR, CONF_CHK_UPSTREAM_TLS, NULL, 0, 0, 0 },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, CONF_CHK_NONE, NULL, 0, 0,
	  0 }
};

static const struct conf_opt conf_table_resource[] = {
	{ "path", CONF_T_STRING, 0, 0, NULL,
	  "template below base_path: literals, {name} segments, final *",
	  offsetof(struct conf_resource, r_path), 0, 0, NULL,
	  CONF_F_REQUIRED, CONF_CHK_RES_PATH, NULL, 0, 0, 0 },
	{ "methods", CONF_T_METHODS, 0, 0, NULL,
	  "allowed methods; absent means all",
	  offsetof(struct conf_resource, r_methods), 0, 0, NULL,
	  CONF_F_NONEMPTY, CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "endpoints", CONF_T_GROUP, 0, 0, NULL,
	  "endpoints for this resource instead of the API's",
	  offsetof(struct conf_resource, r_endpoints), 0,
	  sizeof(struct conf_endpoints), conf_table_endpoints, CONF_F_PTR,
	  CONF_CHK_ENDPOINTS, NULL, 0, 0, 0 },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, CONF_CHK_NONE, NULL, 0, 0,
	  0 }
};

/* version comes before base_path: base_path's check substitutes it. */
static const struct conf_opt conf_table_api[] = {
	{ "name", CONF_T_STRING, 0, 0, NULL,
	  "API name; addresses the API in MGW_APIS_<NAME>_*",
	  offsetof(struct conf_api, a_name), 0, 0, NULL,
	  CONF_F_REQUIRED, CONF_CHK_ANAME, NULL, 0, 0, 0 },
	{ "version", CONF_T_STRING, 0, 0, NULL,
	  "API version, substituted for {version} in base_path",
	  offsetof(struct conf_api, a_version), 0, 0, NULL, 0,
	  CONF_CHK_ANAME, NULL, 0, 0, 0 },
	{ "base_path", CONF_T_STRING, 0, 0, NULL,
	  "path prefix the API is served under",
	  offsetof(struct conf_api, a_base_path), 0, 0, NULL,
	  CONF_F_REQUIRED, CONF_CHK_BASE_PATH, NULL, 0, 0, 0 },
	{ "endpoints", CONF_T_GROUP, 0, 0, NULL,
	  "where requests go: production/sandbox URLs or a mock",
	  offsetof(struct conf_api, a_endpoints), 0, 0,
	  conf_table_endpoints, CONF_F_REQUIRED, CONF_CHK_ENDPOINTS, NULL, 0, 0, 0 },
	{ "resources", CONF_T_LIST, 0, 0, NULL,
	  "path templates and methods; absent means everything",
	  offsetof(struct conf_api, a_resources),
	  offsetof(struct conf_api, a_nresources),
	  sizeof(struct conf_resource), conf_table_resource, 0,
	  CONF_CHK_RESOURCE, NULL, 0, MGW_SCOPE_RESOURCE,
	  offsetof(struct conf_resource, r_settings) },
	{ "mutual_tls", CONF_T_STRING, 0, 0, NULL,
	  "\"mandatory\": 401 without a verified client certificate; "
	  "\"optional\"",
	  offsetof(struct conf_api, a_mutual_tls_name), 0, 0, NULL, 0,
	  CONF_CHK_MUTUAL_TLS, NULL, 0, 0, 0 },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, CONF_CHK_NONE, NULL, 0, 0,
	  0 }
};

static const struct conf_opt conf_table_consumer[] = {
	{ "name", CONF_T_STRING, 0, 0, NULL,
	  "consumer name; addresses it in MGW_CONSUMERS_<NAME>_*",
	  offsetof(struct conf_consumer, cs_name), 0, 0, NULL,
	  CONF_F_REQUIRED, CONF_CHK_ANAME, NULL, 0, 0, 0 },
	{ "certificates", CONF_T_STRINGS, 0, 0, NULL,
	  "client certificates that identify it: \"sha256:<hex>\"",
	  offsetof(struct conf_consumer, cs_certificates),
	  offsetof(struct conf_consumer, cs_ncertificates), 0, NULL, 0,
	  CONF_CHK_CERT_FP, NULL, 0, 0, 0 },
	{ "certificate_subjects", CONF_T_STRINGS, 0, 0, NULL,
	  "client certificate subjects that identify it, RFC 2253 form",
	  offsetof(struct conf_consumer, cs_certificate_subjects),
	  offsetof(struct conf_consumer, cs_ncertificate_subjects), 0, NULL,
	  0, CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, CONF_CHK_NONE, NULL, 0, 0,
	  0 }
};

static const struct conf_opt conf_table_metrics[] = {
	{ "enabled", CONF_T_BOOL, 0, 1, "true",
	  "count per-API metrics for /metrics and the status page",
	  offsetof(struct conf_metrics, m_enabled), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "max_apis", CONF_T_UINT, 1, 65536, "256",
	  "API series kept in shared memory; more APIs share one series",
	  offsetof(struct conf_metrics, m_max_apis), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "max_endpoints", CONF_T_UINT, 1, 65536, "256",
	  "upstream endpoint series kept in shared memory",
	  offsetof(struct conf_metrics, m_max_endpoints), 0, 0, NULL, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, CONF_CHK_NONE, NULL, 0, 0,
	  0 }
};

/*
 * An external plugin's entry.  Its own keys are added to these, for that
 * entry only; conf_load() opens the shared object before the walk, so
 * that it knows them.
 */
static const struct conf_opt conf_table_plugin[] = {
	{ "name", CONF_T_STRING, 0, 0, NULL,
	  "the plugin's name, as its mgw_plugin_entry says it",
	  offsetof(struct conf_plugin_entry, pe_name), 0, 0, NULL,
	  CONF_F_REQUIRED, CONF_CHK_PNAME, NULL, 0, 0, 0 },
	{ "path", CONF_T_STRING, 0, 0, NULL,
	  "the shared object exporting mgw_plugin_entry",
	  offsetof(struct conf_plugin_entry, pe_path), 0, 0, NULL,
	  CONF_F_REQUIRED, CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, CONF_CHK_NONE, NULL, 0, 0,
	  0 }
};

const struct conf_opt conf_table[] = {
	{ "gateway", CONF_T_GROUP, 0, 0, NULL,
	  "process-wide settings",
	  offsetof(struct mgw_conf, c_gateway), 0, 0, conf_table_gateway, 0,
	  CONF_CHK_GATEWAY, NULL, 0, 0, 0 },
	{ "listeners", CONF_T_LIST, 0, 0, NULL,
	  "addresses to accept clients on",
	  offsetof(struct mgw_conf, c_listeners),
	  offsetof(struct mgw_conf, c_nlisteners),
	  sizeof(struct conf_listener), conf_table_listener,
	  CONF_F_REQUIRED | CONF_F_NONEMPTY, CONF_CHK_LISTENER, NULL, 0, 0, 0 },
	{ "limits", CONF_T_GROUP, 0, 0, NULL,
	  "request size and time limits",
	  offsetof(struct mgw_conf, c_limits), 0, 0, conf_table_limits, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "shm", CONF_T_GROUP, 0, 0, NULL,
	  "shared memory",
	  offsetof(struct mgw_conf, c_shm), 0, 0, conf_table_shm, 0,
	  CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "consumers", CONF_T_LIST, 0, 0, NULL,
	  "applications calling the APIs, and their tiers",
	  offsetof(struct mgw_conf, c_consumers),
	  offsetof(struct mgw_conf, c_nconsumers),
	  sizeof(struct conf_consumer), conf_table_consumer, 0,
	  CONF_CHK_CONSUMER, NULL, 0, MGW_SCOPE_CONSUMER,
	  offsetof(struct conf_consumer, cs_settings) },
	{ "apis", CONF_T_LIST, 0, 0, NULL,
	  "the APIs served",
	  offsetof(struct mgw_conf, c_apis),
	  offsetof(struct mgw_conf, c_napis),
	  sizeof(struct conf_api), conf_table_api, 0,
	  CONF_CHK_API, NULL, 0, MGW_SCOPE_API,
	  offsetof(struct conf_api, a_settings) },
	{ "metrics", CONF_T_GROUP, 0, 0, NULL,
	  "Prometheus metrics and the status page",
	  offsetof(struct mgw_conf, c_metrics), 0, 0, conf_table_metrics,
	  0, CONF_CHK_NONE, NULL, 0, 0, 0 },
	{ "plugins", CONF_T_LIST, 0, 0, NULL,
	  "external plugins: shared objects loaded at config load",
	  offsetof(struct mgw_conf, c_entries),
	  offsetof(struct mgw_conf, c_nentries),
	  sizeof(struct conf_plugin_entry), conf_table_plugin, 0,
	  CONF_CHK_NONE, NULL, 0, MGW_SCOPE_ENTRY,
	  offsetof(struct conf_plugin_entry, pe_settings) },
	{ NULL, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL, 0, CONF_CHK_NONE, NULL, 0, 0,
	  0 }
};
