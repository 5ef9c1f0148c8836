/*
 * tls-conf.c: OpenSSL contexts built from the configuration.  The master
 * builds them in master_load(), so mgwd -n and mgwctl reload refuse a
 * certificate that does not load, or a key that does not match it, with
 * the file and OpenSSL's reason; a refused reload keeps the running
 * generation and its contexts.  Workers inherit the contexts through
 * fork and only make SSL objects from them.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "lib.h"
#include "master.h"
#include "shm.h"

#define TLS_MAX_CERT_LIST	(64 * 1024)	/* bytes, a peer's chain */
#define TLS_OCSP_MAX		(64 * 1024)	/* bytes, OCSP response */

/* A stapled OCSP response, read at load time. */
struct tls_ocsp {
	unsigned char	*o_der;
	size_t		 o_len;
};

static SSL_CTX	*tls_ctx_server_new(struct conf_listener *, const char *,
		    const char *, const char *, char **);
static SSL_CTX	*tls_ctx_client_new(const struct conf_upstream_tls *,
		    char **);
static int	tls_conf_sni_cb(SSL *, int *, void *);
static int	tls_conf_alpn_cb(SSL *, const unsigned char **,
		    unsigned char *, const unsigned char *, unsigned int,
		    void *);
static int	tls_conf_ocsp_cb(SSL *, void *);
static int	tls_conf_ocsp_load(SSL_CTX *, const char *, char **);
static int	tls_conf_ocsp_check(SSL_CTX *, const unsigned char *, size_t,
		    const char **);
static int	tls_conf_endpoints(struct conf_endpoints *, char **);
static int	tls_conf_trusted(struct mgw_conf *, char **);
static void	tls_conf_addcause(char **, const char *);
static void	tls_conf_key_error(char **, const char *, const char *);

static const unsigned char tls_alpn_http11[] = "\x08http/1.1";

/*
 * A key that did not load: OpenSSL checks it against the certificate as
 * it loads, and "key values mismatch" deserves plainer words.
 */
static void
tls_conf_key_error(char **why, const char *key, const char *cert)
{
	unsigned long	 e = ERR_peek_error();
	char		 buf[256];

	if (ERR_GET_LIB(e) == ERR_LIB_X509 &&
	    ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH) {
		ERR_clear_error();
		xasprintf(why, "%s: does not match the certificate %s", key,
		    cert);
		return;
	}
	xasprintf(why, "%s: %s", key, tls_reason(buf, sizeof(buf)));
}

/* TLS1_2_VERSION for "TLSv1.2" and so on; -1 for an unknown name. */
int
tls_conf_protocol(const char *name)
{
	if (strcmp(name, "TLSv1.3") == 0)
		return (TLS1_3_VERSION);
	if (strcmp(name, "TLSv1.2") == 0)
		return (TLS1_2_VERSION);
	if (strcmp(name, "TLSv1.1") == 0)
		return (TLS1_1_VERSION);
	if (strcmp(name, "TLSv1") == 0 || strcmp(name, "TLSv1.0") == 0)
		return (TLS1_VERSION);
	return (-1);
}

static void
tls_conf_addcause(char **cause, const char *msg)
{
	char	*s;

	if (*cause == NULL) {
		*cause = xstrdup(msg);
		return;
	}
	xasprintf(&s, "%s\n%s", *cause, msg);
	free(*cause);
	*cause = s;
}

/*
 * Build every context conf needs: for each TLS listener one per
 * certificate ([0] the default), for each endpoints group with an https
 * URL one client context.  Master only, at load.  Returns 0, or -1 with
 * every failure, one "file:line: path: reason" per line, in *cause;
 * what was built is freed by tls_conf_free() (conf_free() calls it).
 */
int
tls_conf_build(struct mgw_conf *conf, char **cause)
{
	struct conf_listener	*l;
	struct conf_tls		*t;
	struct conf_api		*a;
	char			*why = NULL, *msg;
	size_t			 i, j;
	int			 error = 0;

	*cause = NULL;
	for (i = 0; i < conf->c_nlisteners; i++) {
		l = &conf->c_listeners[i];
		if ((t = l->l_tls) == NULL)
			continue;
		t->t_ctx = xcalloc(t->t_ncerts + 1, sizeof(*t->t_ctx));
		t->t_ctx[0] = tls_ctx_server_new(l, t->t_certificate, t->t_key,
		    t->t_ocsp, &why);
		for (j = 0; t->t_ctx[0] != NULL && j < t->t_ncerts; j++) {
			t->t_ctx[j + 1] = tls_ctx_server_new(l,
			    t->t_certs[j].tc_certificate, t->t_certs[j].tc_key,
			    t->t_certs[j].tc_ocsp, &why);
			if (t->t_ctx[j + 1] == NULL)
				break;
		}
		t->t_nctx = why == NULL ? t->t_ncerts + 1 : 0;
		if (why != NULL) {
			xasprintf(&msg, "%s: %s", t->t_where, why);
			tls_conf_addcause(cause, msg);
			free(msg);
			free(why);
			why = NULL;
			error = -1;
			/* Keep what was built countable for the free. */
			for (j = 0; j < t->t_ncerts + 1; j++)
				if (t->t_ctx[j] != NULL)
					t->t_nctx = j + 1;
		}
	}
	if (tls_conf_trusted(conf, cause) == -1)
		error = -1;
	for (i = 0; i < conf->c_napis; i++) {
		a = &conf->c_apis[i];
		if (tls_conf_endpoints(&a->a_endpoints, cause) == -1)
			error = -1;
		for (j = 0; j < a->a_nresources; j++)
			if (a->a_resources[j].r_endpoints != NULL &&
			    tls_conf_endpoints(a->a_resources[j].r_endpoints,
			    cause) == -1)
				error = -1;
	}
	return (error);
}

/*
 * The store a trusted proxy's certificate header is verified against on
 * listeners without a client_ca of their own, and the check that every
 * listener the header may arrive on has one or the other: a certificate
 * nobody can verify would never count, which is a configuration error
 * rather than a surprise at run time.  0, or -1 added to *cause.
 */
static int
tls_conf_trusted(struct mgw_conf *conf, char **cause)
{
	struct conf_gateway		*g = &conf->c_gateway;
	const struct conf_listener	*l;
	X509_LOOKUP			*lk;
	const char			*where;
	char				 buf[256], *msg = NULL;
	size_t				 i;

	where = g->trusted_where != NULL ? g->trusted_where : "gateway";
	if (g->trusted_cert_ca != NULL) {
		if ((g->trusted_store = X509_STORE_new()) == NULL ||
		    X509_STORE_load_file(g->trusted_store,
		    g->trusted_cert_ca) != 1)
			xasprintf(&msg, "%s: trusted_client_certificate_ca %s: "
			    "%s", where, g->trusted_cert_ca,
			    tls_reason(buf, sizeof(buf)));
		else if (g->trusted_cert_crl != NULL && ((lk =
		    X509_STORE_add_lookup(g->trusted_store,
		    X509_LOOKUP_file())) == NULL ||
		    X509_load_crl_file(lk, g->trusted_cert_crl,
		    X509_FILETYPE_PEM) <= 0))
			xasprintf(&msg, "%s: trusted_client_certificate_crl "
			    "%s: %s", where, g->trusted_cert_crl,
			    tls_reason(buf, sizeof(buf)));
		else if (g->trusted_cert_crl != NULL)
			X509_STORE_set_flags(g->trusted_store,
			    X509_V_FLAG_CRL_CHECK);
	} else if (g->trusted_cert_header != NULL) {
		for (i = 0; i < conf->c_nlisteners; i++) {
			l = &conf->c_listeners[i];
			if (l->l_admin || (l->l_tls != NULL &&
			    l->l_tls->t_client_ca != NULL))
				continue;
			xasprintf(&msg, "%s: trusted_client_certificate_header "
			    "needs trusted_client_certificate_ca, or client_ca "
			    "on listener %s, to verify the certificate", where,
			    l->l_name);
			break;
		}
	}
	ERR_clear_error();
	if (msg == NULL)
		return (0);
	tls_conf_addcause(cause, msg);
	free(msg);
	return (-1);
}

/* A client context if ep has an https URL.  0, or -1 added to *cause. */
static int
tls_conf_endpoints(struct conf_endpoints *ep, char **cause)
{
	char	*why = NULL, *msg;
	size_t	 i;
	int	 https = 0;

	for (i = 0; i < ep->ep_nproduction; i++)
		https |= ep->ep_production[i].u_tls;
	for (i = 0; i < ep->ep_nsandbox; i++)
		https |= ep->ep_sandbox[i].u_tls;
	if (!https)
		return (0);
	if ((ep->ep_tls_ctx = tls_ctx_client_new(ep->ep_tls, &why)) != NULL)
		return (0);
	xasprintf(&msg, "%s.tls: %s", ep->ep_tls_where != NULL ?
	    ep->ep_tls_where : "endpoints", why);
	tls_conf_addcause(cause, msg);
	free(msg);
	free(why);
	return (-1);
}

static void
tls_conf_ctx_free(SSL_CTX *ctx)
{
	struct tls_ocsp	*o = NULL;

	if (ctx == NULL)
		return;
	if (SSL_CTX_get_tlsext_status_arg(ctx, (void **)&o) == 1 &&
	    o != NULL) {
		free(o->o_der);
		free(o);
	}
	SSL_CTX_free(ctx);
}

static void
tls_conf_free_endpoints(struct conf_endpoints *ep)
{
	SSL_CTX_free(ep->ep_tls_ctx);
	ep->ep_tls_ctx = NULL;
	free(ep->ep_tls_where);
	ep->ep_tls_where = NULL;
}

/*
 * Free the contexts tls_conf_build() made, and the load-time notes
 * beside them.  Master only (a worker's copies die with it).  Safe on a
 * half-built or never-built configuration.
 */
void
tls_conf_free(struct mgw_conf *conf)
{
	struct conf_tls	*t;
	struct conf_api	*a;
	size_t		 i, j;

	for (i = 0; i < conf->c_nlisteners; i++) {
		if ((t = conf->c_listeners[i].l_tls) == NULL)
			continue;
		for (j = 0; t->t_ctx != NULL && j < t->t_nctx; j++)
			tls_conf_ctx_free(t->t_ctx[j]);
		free(t->t_ctx);
		t->t_ctx = NULL;
		t->t_nctx = 0;
		free(t->t_where);
		t->t_where = NULL;
	}
	for (i = 0; i < conf->c_napis; i++) {
		a = &conf->c_apis[i];
		tls_conf_free_endpoints(&a->a_endpoints);
		for (j = 0; j < a->a_nresources; j++)
			if (a->a_resources[j].r_endpoints != NULL)
				tls_conf_free_endpoints(
				    a->a_resources[j].r_endpoints);
	}
	X509_STORE_free(conf->c_gateway.trusted_store);
	conf->c_gateway.trusted_store = NULL;
	free(conf->c_gateway.trusted_where);
	conf->c_gateway.trusted_where = NULL;
}

/* Lowest and highest protocol listed: OpenSSL takes a range. */
static void
tls_conf_versions(const struct conf_tls *t, int *min, int *max)
{
	size_t	 i;
	int	 v;

	*min = *max = 0;
	for (i = 0; i < t->t_nprotocols; i++) {
		if ((v = tls_conf_protocol(t->t_protocols[i])) == -1)
			continue;
		if (*min == 0 || v < *min)
			*min = v;
		if (v > *max)
			*max = v;
	}
}

/*
 * One server context of listener l for a certificate chain and its key,
 * configured from l's tls group.  NULL with *why ("file: reason").
 */
static SSL_CTX *
tls_ctx_server_new(struct conf_listener *l, const char *cert,
    const char *key, const char *ocsp, char **why)
{
	struct conf_tls		*t = l->l_tls;
	STACK_OF(X509_NAME)	*names;
	X509_STORE		*st;
	X509_LOOKUP		*lk;
	SSL_CTX			*ctx;
	char			 buf[256];
	int			 min, max, mode;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		xasprintf(why, "SSL_CTX_new: %s",
		    tls_reason(buf, sizeof(buf)));
		return (NULL);
	}
	tls_conf_versions(t, &min, &max);
	SSL_CTX_set_min_proto_version(ctx, min);
	SSL_CTX_set_max_proto_version(ctx, max);
	/*
	 * Client renegotiation is an old DoS lever and nothing we need; a
	 * peer that closes without close_notify is common and harmless to
	 * HTTP, whose messages carry their own framing.
	 */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_max_cert_list(ctx, TLS_MAX_CERT_LIST);
	if (SSL_CTX_set_cipher_list(ctx, t->t_ciphers) != 1) {
		xasprintf(why, "ciphers '%s': %s", t->t_ciphers,
		    tls_reason(buf, sizeof(buf)));
		goto fail;
	}
	if (SSL_CTX_set_ciphersuites(ctx, t->t_ciphersuites) != 1) {
		xasprintf(why, "ciphersuites '%s': %s", t->t_ciphersuites,
		    tls_reason(buf, sizeof(buf)));
		goto fail;
	}
	SSL_CTX_set_dh_auto(ctx, 1);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		xasprintf(why, "%s: %s", cert,
		    tls_reason(buf, sizeof(buf)));
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		tls_conf_key_error(why, key, cert);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		xasprintf(why, "%s: does not match the certificate %s (%s)",
		    key, cert, tls_reason(buf, sizeof(buf)));
		goto fail;
	}
	if (ocsp != NULL && tls_conf_ocsp_load(ctx, ocsp, why) == -1)
		goto fail;

	/*
	 * Sessions resume from tickets only: their keys live in shm and are
	 * shared by every worker, where a session cache would be per
	 * process.  The context id keeps listeners' sessions apart.
	 */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)l->l_name,
	    strlen(l->l_name));
	SSL_CTX_set_timeout(ctx, t->t_session_timeout / 1000);
	if (t->t_tickets) {
		SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, tls_keys_ticket_cb);
		SSL_CTX_set_num_tickets(ctx, 1);
	} else {
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
		SSL_CTX_set_num_tickets(ctx, 0);
	}

	SSL_CTX_set_alpn_select_cb(ctx, tls_conf_alpn_cb, NULL);
	SSL_CTX_set_tlsext_servername_callback(ctx, tls_conf_sni_cb);
	SSL_CTX_set_tlsext_servername_arg(ctx, t);

	if (t->t_client_ca != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, t->t_client_ca,
		    NULL) != 1) {
			xasprintf(why, "client_ca %s: %s", t->t_client_ca,
			    tls_reason(buf, sizeof(buf)));
			goto fail;
		}
		if ((names = SSL_load_client_CA_file(t->t_client_ca)) == NULL) {
			xasprintf(why, "client_ca %s: no certificate in it",
			    t->t_client_ca);
			goto fail;
		}
		SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_verify_depth(ctx, t->t_verify_depth);
	}
	if (t->t_crl != NULL) {
		st = SSL_CTX_get_cert_store(ctx);
		if ((lk = X509_STORE_add_lookup(st, X509_LOOKUP_file())) ==
		    NULL || X509_load_crl_file(lk, t->t_crl,
		    X509_FILETYPE_PEM) <= 0) {
			xasprintf(why, "crl %s: %s", t->t_crl,
			    tls_reason(buf, sizeof(buf)));
			goto fail;
		}
		X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK);
	}
	/*
	 * optional: a certificate is asked for but may be absent; one that
	 * is sent must verify, or the handshake fails (nginx's "optional").
	 */
	mode = SSL_VERIFY_NONE;
	if (t->t_verify == CONF_VERIFY_OPTIONAL)
		mode = SSL_VERIFY_PEER;
	else if (t->t_verify == CONF_VERIFY_REQUIRED)
		mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	SSL_CTX_set_verify(ctx, mode, NULL);
	ERR_clear_error();
	return (ctx);
fail:
	ERR_clear_error();
	tls_conf_ctx_free(ctx);
	return (NULL);
}

/*
 * A client context for https upstreams: verification against ca or the
 * system's CAs unless verify is off, and an optional client certificate.
 * Host name and SNI are set per connection (io_tls_connect()).
 */
static SSL_CTX *
tls_ctx_client_new(const struct conf_upstream_tls *ut, char **why)
{
	SSL_CTX		*ctx;
	char		 buf[256];
	int		 verify = ut == NULL || ut->ut_verify;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		xasprintf(why, "SSL_CTX_new: %s",
		    tls_reason(buf, sizeof(buf)));
		return (NULL);
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_alpn_protos(ctx, tls_alpn_http11,
	    sizeof(tls_alpn_http11) - 1);
	if (verify) {
		if (ut != NULL && ut->ut_ca != NULL) {
			if (SSL_CTX_load_verify_locations(ctx, ut->ut_ca,
			    NULL) != 1) {
				xasprintf(why, "ca %s: %s", ut->ut_ca,
				    tls_reason(buf, sizeof(buf)));
				goto fail;
			}
		} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
			xasprintf(why, "system CA paths: %s",
			    tls_reason(buf, sizeof(buf)));
			goto fail;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	} else
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (ut != NULL && ut->ut_certificate != NULL) {
		if (SSL_CTX_use_certificate_chain_file(ctx,
		    ut->ut_certificate) != 1) {
			xasprintf(why, "%s: %s", ut->ut_certificate,
			    tls_reason(buf, sizeof(buf)));
			goto fail;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, ut->ut_key,
		    SSL_FILETYPE_PEM) != 1) {
			tls_conf_key_error(why, ut->ut_key,
			    ut->ut_certificate);
			goto fail;
		}
		if (SSL_CTX_check_private_key(ctx) != 1) {
			xasprintf(why, "%s: does not match the certificate "
			    "%s (%s)", ut->ut_key, ut->ut_certificate,
			    tls_reason(buf, sizeof(buf)));
			goto fail;
		}
	}
	ERR_clear_error();
	return (ctx);
fail:
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return (NULL);
}

/*
 * Is der a response worth stapling for ctx's certificate: a successful
 * OCSP response that says "good" about a certificate of that serial
 * number and is current?  A stale or foreign response would make a
 * careful client refuse us, so it is better refused at load.  0, or -1
 * with *bad (static).  The issuer is not compared: the chain file need
 * not hold it, and the client checks the signature anyway.
 */
static int
tls_conf_ocsp_check(SSL_CTX *ctx, const unsigned char *der, size_t len,
    const char **bad)
{
	OCSP_RESPONSE		*resp;
	OCSP_BASICRESP		*bs = NULL;
	OCSP_SINGLERESP		*sr;
	ASN1_GENERALIZEDTIME	*thisupd, *nextupd;
	ASN1_INTEGER		*serial;
	X509			*x;
	int			 i, st = -1, reason, rv = -1;

	*bad = "not a DER OCSP response";
	if ((resp = d2i_OCSP_RESPONSE(NULL, &der, (long)len)) == NULL)
		goto out;
	*bad = "the response status is not successful";
	if (OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL)
		goto out;
	*bad = "not a basic OCSP response";
	if ((bs = OCSP_response_get1_basic(resp)) == NULL)
		goto out;
	*bad = "no certificate";
	if ((x = SSL_CTX_get0_certificate(ctx)) == NULL)
		goto out;
	for (i = 0; i < OCSP_resp_count(bs); i++) {
		sr = OCSP_resp_get0(bs, i);
		/* OpenSSL 3.0 takes a non-const id it does not change. */
		if (OCSP_id_get0_info(NULL, NULL, NULL, &serial,
		    (OCSP_CERTID *)(uintptr_t)OCSP_SINGLERESP_get0_id(sr)) ==
		    1 && ASN1_INTEGER_cmp(serial,
		    X509_get0_serialNumber(x)) == 0) {
			st = OCSP_single_get0_status(sr, &reason, NULL,
			    &thisupd, &nextupd);
			break;
		}
	}
	*bad = "not about this certificate (serial number)";
	if (st == -1)
		goto out;
	*bad = st == V_OCSP_CERTSTATUS_REVOKED ?
	    "the certificate is revoked" : "the certificate status is unknown";
	if (st != V_OCSP_CERTSTATUS_GOOD)
		goto out;
	*bad = "expired or not yet valid (thisUpdate, nextUpdate)";
	if (OCSP_check_validity(thisupd, nextupd, 300, -1) != 1)
		goto out;
	rv = 0;
out:
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	ERR_clear_error();
	return (rv);
}

/* Read a DER OCSP response to staple.  0, or -1 with *why. */
static int
tls_conf_ocsp_load(SSL_CTX *ctx, const char *path, char **why)
{
	struct tls_ocsp	*o;
	FILE		*f;
	unsigned char	*buf;
	const char	*bad;
	size_t		 n;

	if ((f = fopen(path, "rb")) == NULL) {
		xasprintf(why, "ocsp_staple %s: %s", path, strerror(errno));
		return (-1);
	}
	buf = xmalloc(TLS_OCSP_MAX);
	n = fread(buf, 1, TLS_OCSP_MAX, f);
	fclose(f);
	if (n == 0 || n == TLS_OCSP_MAX) {
		free(buf);
		xasprintf(why, "ocsp_staple %s: empty or larger than %d bytes",
		    path, TLS_OCSP_MAX);
		return (-1);
	}
	if (tls_conf_ocsp_check(ctx, buf, n, &bad) == -1) {
		free(buf);
		xasprintf(why, "ocsp_staple %s: %s", path, bad);
		return (-1);
	}
	o = xcalloc(1, sizeof(*o));
	o->o_der = buf;
	o->o_len = n;
	SSL_CTX_set_tlsext_status_cb(ctx, tls_conf_ocsp_cb);
	SSL_CTX_set_tlsext_status_arg(ctx, o);
	return (0);
}

/*
 * Staple the response to a client that asked.  Worker, in the handshake.
 * OpenSSL frees what it is given, so it gets a copy.
 */
static int
tls_conf_ocsp_cb(SSL *ssl, void *arg)
{
	struct tls_ocsp	*o = arg;
	unsigned char	*p;

	if (o == NULL ||
	    SSL_get_tlsext_status_type(ssl) != TLSEXT_STATUSTYPE_ocsp)
		return (SSL_TLSEXT_ERR_NOACK);
	if ((p = OPENSSL_memdup(o->o_der, o->o_len)) == NULL)
		return (SSL_TLSEXT_ERR_NOACK);
	if (SSL_set_tlsext_status_ocsp_resp(ssl, p, o->o_len) != 1) {
		OPENSSL_free(p);
		return (SSL_TLSEXT_ERR_NOACK);
	}
	return (SSL_TLSEXT_ERR_OK);
}

/*
 * Pick the certificate for the name the client asked for: the first
 * context whose certificate matches it (wildcards and SANs as
 * X509_check_host() sees them), else the default or a fatal
 * unrecognized_name alert.  Worker, in the handshake; arg is the
 * listener's struct conf_tls.
 */
static int
tls_conf_sni_cb(SSL *ssl, int *alert, void *arg)
{
	const struct conf_tls	*t = arg;
	const char		*name;
	X509			*x;
	size_t			 i;

	name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	if (name == NULL || t == NULL)
		return (SSL_TLSEXT_ERR_OK);
	for (i = 0; i < t->t_nctx; i++) {
		if ((x = SSL_CTX_get0_certificate(t->t_ctx[i])) == NULL)
			continue;
		if (X509_check_host(x, name, 0, 0, NULL) != 1)
			continue;
		if (i > 0)
			SSL_set_SSL_CTX(ssl, t->t_ctx[i]);
		return (SSL_TLSEXT_ERR_OK);
	}
	if (!t->t_sni_refuse)
		return (SSL_TLSEXT_ERR_OK);
	*alert = SSL_AD_UNRECOGNIZED_NAME;
	return (SSL_TLSEXT_ERR_ALERT_FATAL);
}

/* HTTP/1.1 is all we speak; a client offering only h2 goes without. */
static int
tls_conf_alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	unsigned char	*sel;

	if (SSL_select_next_proto(&sel, outlen, tls_alpn_http11,
	    sizeof(tls_alpn_http11) - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
		return (SSL_TLSEXT_ERR_NOACK);
	*out = sel;
	return (SSL_TLSEXT_ERR_OK);
}
