/*
 * conf-t.h: the parsed configuration.  Only the master builds it (conf.c);
 * workers inherit it read-only through fork and never write to it.  No
 * libconfig type outlives conf_load().
 */
#ifndef MGW_CONF_T_H
#define MGW_CONF_T_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>

#include "lib.h"

#define CONF_NAME_MAX		64	/* names of listeners, APIs, zones */

/* OpenSSL's, opaque here: built by tls-conf.c, used by workers. */
struct ssl_ctx_st;

enum conf_log_target {
	CONF_LOG_STDERR = 0,
	CONF_LOG_SYSLOG,
	CONF_LOG_FILE
};

enum conf_verify_client {
	CONF_VERIFY_OFF = 0,
	CONF_VERIFY_OPTIONAL,	/* asked for; a bad one fails the handshake */
	CONF_VERIFY_REQUIRED
};

/* A further certificate of a TLS listener, chosen by SNI. */
struct conf_tls_cert {
	char			*tc_certificate;	/* PEM chain path */
	char			*tc_key;		/* PEM key path */
	char			*tc_ocsp;	/* DER OCSP response, NULL none */
};

/* A listener's tls = { ... }. */
struct conf_tls {
	char			*t_certificate;	/* the default certificate */
	char			*t_key;
	struct conf_tls_cert	*t_certs;	/* by SNI */
	size_t			 t_ncerts;
	char			**t_protocols;	/* "TLSv1.2", "TLSv1.3" */
	size_t			 t_nprotocols;
	char			*t_ciphers;	/* TLS 1.2 and below */
	char			*t_ciphersuites;	/* TLS 1.3 */
	char			*t_unknown_sni;	/* "default" or "refuse" */
	int			 t_sni_refuse;
	int			 t_tickets;
	uint64_t		 t_ticket_rotation;	/* ms */
	uint64_t		 t_session_timeout;	/* ms */
	char			*t_ocsp;	/* DER OCSP response, NULL none */
	char			*t_client_ca;
	char			*t_verify_client;	/* as written */
	int			 t_verify;	/* enum conf_verify_client */
	int			 t_verify_depth;
	char			*t_crl;
	char			*t_cert_header;	/* forwarded upstream, NULL none */
	char			*t_where;	/* "file:line: path", errors */
	/* Built by tls_conf_build(): [0] default, then t_certs in order. */
	struct ssl_ctx_st	**t_ctx;
	size_t			 t_nctx;
};

/* An endpoints group's tls = { ... }, for its https:// URLs. */
struct conf_upstream_tls {
	char			*ut_ca;		/* NULL: system default paths */
	int			 ut_verify;
	char			*ut_server_name;	/* NULL: the URL's host */
	char			*ut_certificate;	/* client certificate */
	char			*ut_key;
};

struct conf_listener {
	char			*l_name;	/* unique; env override key */
	char			*l_listen;	/* as written: "host:port" */
	struct sockaddr_storage	 l_ss;		/* resolved at load */
	socklen_t		 l_sslen;
	int			 l_admin;	/* /health /status only */
	int			 l_backlog;	/* listen(2) backlog */
	char			*l_access_log;	/* NULL: the gateway's */
	char			*l_access_log_format;	/* NULL: the gateway's */
	int			 l_log_format;	/* enum conf_log_format, resolved */
	struct conf_tls		*l_tls;		/* NULL: plain HTTP */
};

enum conf_log_format {
	CONF_LOGF_COMBINED = 0,
	CONF_LOGF_JSON
};

struct conf_header {
	char			*h_name;
	char			*h_value;
};

enum conf_endpoint_type {
	CONF_EP_HTTP = 0,
	CONF_EP_MOCK
};

/* One upstream URL, "http://host:port/prefix", resolved at load. */
struct conf_url {
	char			*u_url;		/* as written */
	char			*u_host;	/* Host header value (host[:port]) */
	char			*u_prefix;	/* path prefix, "" or "/v2" */
	struct sockaddr_storage	 u_ss;
	socklen_t		 u_sslen;
	size_t			 u_pool;	/* worker pool index, set by master */
	uint32_t		 u_metrics;	/* metrics series, set by master */
	int			 u_tls;		/* https:// */
	char			*u_tlsname;	/* host, for SNI and verification */
};

struct conf_endpoints {
	enum conf_endpoint_type	 ep_type;
	/* CONF_EP_HTTP */
	struct conf_url		*ep_production;
	size_t			 ep_nproduction;
	struct conf_url		*ep_sandbox;
	size_t			 ep_nsandbox;
	uint64_t		 ep_connect_timeout;	/* ms */
	uint64_t		 ep_timeout;		/* ms, read */
	uint64_t		 ep_send_timeout;	/* ms */
	uint32_t		 ep_keepalive;	/* idle pooled conns per worker */
	uint32_t		 ep_retries;	/* other endpoints tried on connect failure */
	/* CONF_EP_MOCK */
	int			 ep_mock_status;
	struct conf_header	*ep_mock_headers;
	size_t			 ep_nmock_headers;
	char			*ep_mock_body;
	size_t			 ep_mock_bodylen;
	size_t			 ep_index;	/* balancer slot, set by master */
	struct conf_upstream_tls *ep_tls;	/* NULL: defaults */
	char			*ep_tls_where;	/* "file:line: path" */
	struct ssl_ctx_st	*ep_tls_ctx;	/* https URLs; tls_conf_build() */
};

/* HTTP methods as a bit set, indexed by enum conf_method: lib's. */
enum conf_method {
	CONF_M_GET = METHOD_GET,
	CONF_M_HEAD = METHOD_HEAD,
	CONF_M_POST = METHOD_POST,
	CONF_M_PUT = METHOD_PUT,
	CONF_M_DELETE = METHOD_DELETE,
	CONF_M_PATCH = METHOD_PATCH,
	CONF_M_OPTIONS = METHOD_OPTIONS,
	CONF_M_MAX = METHOD_MAX
};
#define CONF_M_ALL	METHOD_ALL

/* An application that calls APIs (consumers = ( ... )). */
struct conf_consumer {
	char			*cs_name;
	char			**cs_certificates;	/* "sha256:<hex>" */
	size_t			 cs_ncertificates;
	char			**cs_certificate_subjects;	/* RFC 2253 */
	size_t			 cs_ncertificate_subjects;
	void			**cs_settings;	/* by plugin position */
	struct mgw_conf		*cs_conf;	/* the one it belongs to */
};

struct conf_resource {
	char			*r_path;	/* template: "/pet/{id}", final "*" */
	uint32_t		 r_methods;	/* bit set of 1 << enum conf_method */
	struct conf_endpoints	*r_endpoints;	/* NULL: the API's */
	int			 r_index;	/* position in api->a_resources */
	void			**r_settings;	/* by plugin position */
	struct mgw_conf		*r_conf;	/* the one it belongs to */
};

enum conf_mutual_tls {
	CONF_MTLS_NONE = 0,	/* not asked for */
	CONF_MTLS_OPTIONAL,	/* used to identify the consumer if present */
	CONF_MTLS_MANDATORY	/* 401 without a verified certificate */
};

struct conf_api {
	char			*a_name;
	char			*a_version;	/* may be NULL */
	char			*a_base_path;	/* normalised, no trailing '/' */
	struct conf_endpoints	 a_endpoints;
	char			*a_mutual_tls_name;	/* as written */
	int			 a_mutual_tls;	/* enum conf_mutual_tls */
	struct conf_resource	*a_resources;	/* none: every path, every method */
	size_t			 a_nresources;
	int			 a_index;	/* position in conf->c_apis */
	uint32_t		 a_metrics;	/* metrics series, set by master */
	void			**a_settings;	/* by plugin position */
	struct mgw_conf		*a_conf;	/* the one it belongs to */
};

struct conf_limits {
	uint64_t		 max_header_size;	/* bytes */
	uint64_t		 max_body_size;		/* bytes, 0 = unlimited */
	uint64_t		 header_timeout;	/* ms */
	uint64_t		 body_timeout;		/* ms, between reads */
	uint64_t		 keepalive_timeout;	/* ms */
	uint64_t		 send_timeout;		/* ms, between writes */
	uint32_t		 max_connections;	/* per worker */
};

struct conf_gateway {
	int			 workers;	/* resolved: 0 became ncpu */
	char			*user;		/* may be NULL */
	char			*group;		/* may be NULL */
	char			*pid_file;
	char			*control_socket;
	char			*error_log;	/* path, "stderr" or "syslog" */
	char			*access_log;	/* path or "off" */
	char			*access_log_format;	/* "combined" or "json" */
	uint64_t		 drain_timeout;	/* ms */
	char			**trusted_proxies;	/* CIDRs as written */
	size_t			 ntrusted_proxies;
	struct cidr		*trusted;	/* parsed trusted_proxies */
	char			*trusted_cert_header;	/* from trusted peers */
	/* PEM files: the CAs and CRLs of the header's certificate. */
	char			*trusted_cert_ca;
	char			*trusted_cert_crl;
	char			*trusted_where;	/* for errors */
	/* Built by tls_conf_build() from trusted_cert_ca, NULL none. */
	struct x509_store_st	*trusted_store;
};

struct conf_shm {
	uint64_t		 size;		/* bytes for the general zone */
};

/* metrics: { ... }: Prometheus series, fixed at load (status/metrics.c) */
struct conf_metrics {
	int			 m_enabled;
	uint32_t		 m_max_apis;	/* API series in the zone */
	uint32_t		 m_max_endpoints;	/* endpoint series */
};

/*
 * A plugin of the configuration: the built-ins of plugins/builtin.c
 * first, in table order, then the external ones in the order "plugins"
 * lists them.
 */
struct mgw_plugin;
struct conf_plugin {
	const struct mgw_plugin	*cp_plugin;
	void			*cp_dl;		/* dlopen handle, NULL built-in */
	char			*cp_path;
	char			*cp_where;	/* "file:line" of its entry */
	void			*cp_settings;	/* TOP or ENTRY struct */
};

/* An item of "plugins = ( ... )": the core's keys of an external plugin. */
struct conf_plugin_entry {
	char			*pe_name;
	char			*pe_path;
	void			**pe_settings;	/* by plugin position */
};

/* Where the loader found a value, for mgw_conf_where(). */
struct conf_where {
	const void		*w_field;
	char			*w_where;	/* "file:line: path" */
};

struct mgw_conf {
	char			*c_file;	/* path it was loaded from */
	struct conf_plugin	*c_plugins;
	size_t			 c_nplugins;
	struct conf_plugin_entry *c_entries;	/* "plugins" as written */
	size_t			 c_nentries;
	struct conf_gateway	 c_gateway;
	struct conf_listener	*c_listeners;
	size_t			 c_nlisteners;
	struct conf_limits	 c_limits;
	struct conf_shm		 c_shm;
	struct conf_api		*c_apis;
	size_t			 c_napis;
	struct conf_consumer	*c_consumers;
	size_t			 c_nconsumers;
	struct conf_metrics	 c_metrics;
	char			**c_overrides;	/* "MGW_X=v" applied, for -n */
	size_t			 c_noverrides;
	/* The option tables with the plugins' keys (conf.c), and theirs. */
	const struct conf_opt	*c_table;
	struct conf_opt		**c_tables;	/* allocated, freed with conf */
	size_t			 c_ntables;
	struct conf_where	*c_wheres;
	size_t			 c_nwheres;
	char			*c_log_redact;	/* query parameter logs hide */
};

#endif /* MGW_CONF_T_H */
