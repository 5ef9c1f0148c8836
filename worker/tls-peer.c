/*
 * tls-peer.c: a client certificate in the forms requests use: its
 * SHA-256 fingerprint and RFC 2253 subject to pick the consumer, and
 * its URL-encoded PEM to forward upstream.  The certificate comes from
 * our own TLS handshake or, behind a TLS-terminating load balancer,
 * from a header a trusted proxy set, verified like our own.
 */
#include "config.h"

#include <sys/types.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "lib.h"
#include "conf-t.h"
#include "worker.h"

#define TLS_PEER_PEM_MAX	(32 * 1024)	/* bytes of a header's PEM */

static char	*tls_peer_bio_str(BIO *);
static const char *tls_peer_verify(X509 *, STACK_OF(X509) *, X509_STORE *,
		    int);

/*
 * Percent-encode everything but RFC 3986 unreserved characters, as
 * nginx's $ssl_client_escaped_cert does.  out needs 3 * len bytes;
 * returns the length written (not terminated).  Any process.
 */
size_t
tls_peer_urlencode(const char *in, size_t len, char *out)
{
	static const char	 hex[] = "0123456789ABCDEF";
	unsigned char		 ch;
	size_t			 i, n = 0;

	for (i = 0; i < len; i++) {
		ch = (unsigned char)in[i];
		if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_' ||
		    ch == '~') {
			out[n++] = ch;
			continue;
		}
		out[n++] = '%';
		out[n++] = hex[ch >> 4];
		out[n++] = hex[ch & 0xf];
	}
	return (n);
}

/* A memory BIO's contents as a C string (malloc'd), or NULL. */
static char *
tls_peer_bio_str(BIO *b)
{
	char	*data, *s;
	long	 n;

	n = BIO_get_mem_data(b, &data);
	if (n < 0 || (s = malloc(n + 1)) == NULL)
		return (NULL);
	memcpy(s, data, n);
	s[n] = '\0';
	return (s);
}

/*
 * The derived forms of x (malloc'd, freed by tls_peer_free()), or NULL
 * on OOM.  Worker.
 */
struct conn_cert *
tls_peer_cert(X509 *x)
{
	static const char	 hex[] = "0123456789abcdef";
	struct conn_cert	*cc;
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen, i;
	BIO			*b = NULL;
	char			*pem = NULL;
	size_t			 n;

	if ((cc = calloc(1, sizeof(*cc))) == NULL)
		return (NULL);
	if (X509_digest(x, EVP_sha256(), md, &mdlen) != 1 ||
	    (cc->cc_fp = malloc(7 + 2 * mdlen + 1)) == NULL)
		goto fail;
	memcpy(cc->cc_fp, "sha256:", 7);
	for (i = 0; i < mdlen; i++) {
		cc->cc_fp[7 + 2 * i] = hex[md[i] >> 4];
		cc->cc_fp[7 + 2 * i + 1] = hex[md[i] & 0xf];
	}
	cc->cc_fp[7 + 2 * mdlen] = '\0';

	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
	    XN_FLAG_RFC2253) < 0 ||
	    (cc->cc_subject = tls_peer_bio_str(b)) == NULL)
		goto fail;
	BIO_free(b);
	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509(b, x) != 1 ||
	    (pem = tls_peer_bio_str(b)) == NULL)
		goto fail;
	n = strlen(pem);
	if ((cc->cc_pem_enc = malloc(3 * n + 1)) == NULL)
		goto fail;
	cc->cc_pem_enc[tls_peer_urlencode(pem, n, cc->cc_pem_enc)] = '\0';
	free(pem);
	BIO_free(b);
	ERR_clear_error();
	return (cc);
fail:
	free(pem);
	BIO_free(b);
	tls_peer_free(cc);
	ERR_clear_error();
	return (NULL);
}

/* NULL is a no-op. */
void
tls_peer_free(struct conn_cert *cc)
{
	if (cc == NULL)
		return;
	free(cc->cc_fp);
	free(cc->cc_subject);
	free(cc->cc_pem_enc);
	free(cc);
}

/*
 * The store a trusted proxy's certificate arriving on listener l is
 * verified against: l's client_ca (and crl), as its handshake uses
 * them, else the gateway's trusted_client_certificate_ca.  *depth gets
 * l's verify_depth, or 0.  NULL if there is neither.  Worker.
 */
struct x509_store_st *
tls_peer_store(const struct mgw_conf *conf, const struct conf_listener *l,
    int *depth)
{
	const struct conf_tls	*t = l != NULL ? l->l_tls : NULL;

	*depth = 0;
	if (t != NULL && t->t_client_ca != NULL && t->t_nctx > 0) {
		*depth = t->t_verify_depth;
		return (SSL_CTX_get_cert_store(t->t_ctx[0]));
	}
	return (conf->c_gateway.trusted_store);
}

/*
 * Verify x, with the certificates after it in the header as untrusted
 * intermediates, against store as a TLS server verifies a client: the
 * "ssl_client" purpose, the store's CRL flags, at most depth (0: no
 * limit of ours).  NULL, or the reason (static).
 */
static const char *
tls_peer_verify(X509 *x, STACK_OF(X509) *chain, X509_STORE *store,
    int depth)
{
	X509_STORE_CTX	*sc;
	const char	*why = NULL;

	if ((sc = X509_STORE_CTX_new()) == NULL)
		return ("out of memory");
	if (X509_STORE_CTX_init(sc, store, x, chain) != 1 ||
	    X509_STORE_CTX_set_default(sc, "ssl_client") != 1) {
		X509_STORE_CTX_free(sc);
		return ("cannot set up verification");
	}
	if (depth > 0)
		X509_VERIFY_PARAM_set_depth(X509_STORE_CTX_get0_param(sc),
		    depth);
	if (X509_verify_cert(sc) != 1)
		why = X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(sc));
	X509_STORE_CTX_free(sc);
	return (why);
}

/*
 * A certificate sent by a trusted proxy in a header: URL-encoded PEM (as
 * nginx's $ssl_client_escaped_cert) or plain PEM, the client's
 * certificate first, then any intermediates.  The proxy is trusted to
 * pass what it received, not to have checked it, so the certificate is
 * verified here against store, as our own handshake would (depth as
 * verify_depth, 0 for none).  NULL with *why (static) if it is not one,
 * or does not verify, or store is NULL.  Worker.
 */
struct conn_cert *
tls_peer_from_header(const char *v, size_t len, struct x509_store_st *store,
    int depth, const char **why)
{
	struct conn_cert	*cc;
	STACK_OF(X509)		*chain = NULL;
	X509			*x = NULL, *y;
	BIO			*b;
	char			*pem, hx[3];
	size_t			 i, n = 0;

	if (store == NULL) {
		*why = "no CA to verify it against";
		return (NULL);
	}
	if (len > TLS_PEER_PEM_MAX) {
		*why = "certificate header too large";
		return (NULL);
	}
	if ((pem = malloc(len + 1)) == NULL) {
		*why = "out of memory";
		return (NULL);
	}
	for (i = 0; i < len; i++) {
		if (v[i] == '%' && i + 2 < len &&
		    isxdigit((unsigned char)v[i + 1]) &&
		    isxdigit((unsigned char)v[i + 2])) {
			hx[0] = v[i + 1];
			hx[1] = v[i + 2];
			hx[2] = '\0';
			pem[n++] = (char)strtol(hx, NULL, 16);
			i += 2;
		} else
			pem[n++] = v[i];
	}
	pem[n] = '\0';
	if ((b = BIO_new_mem_buf(pem, n)) != NULL &&
	    (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL &&
	    (chain = sk_X509_new_null()) != NULL) {
		while ((y = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
			if (sk_X509_push(chain, y) == 0) {
				X509_free(y);
				break;
			}
	}
	BIO_free(b);
	free(pem);
	ERR_clear_error();
	cc = NULL;
	if (x == NULL)
		*why = "not a PEM certificate";
	else if (chain == NULL)
		*why = "out of memory";
	else if ((*why = tls_peer_verify(x, chain, store, depth)) == NULL &&
	    (cc = tls_peer_cert(x)) == NULL)
		*why = "out of memory";
	sk_X509_pop_free(chain, X509_free);
	X509_free(x);
	ERR_clear_error();
	return (cc);
}
