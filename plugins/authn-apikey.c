/*
 * authn-apikey.c: the "api_key" mechanism.  A consumer is known by the
 * SHA-256 of its keys (consumers' api_keys, "sha256:" and 64 hex digits),
 * so the configuration never holds a key in clear.  The key travels in
 * a request header (security.api_key_header, "apikey" by default, as in
 * WSO2) or a query parameter (security.api_key_query); the header wins
 * when both are present.
 *
 * A presented key is hashed and compared with every configured digest,
 * always all of them and with CRYPTO_memcmp, so neither the time taken
 * nor the branches depend on whether or where it matched.  One SHA-256
 * is cheaper than a cache lookup, so verdicts are not cached: that also
 * keeps a flood of random keys from evicting real tokens.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "lib.h"
#include "authn-conf.h"
#include <mgw/plugin.h>
#include "authn.h"

#define AK_KEY_MAX	512	/* bytes of a key, at most */

/* One configured key: the digest and the consumer it names. */
struct ak_entry {
	unsigned char		 ae_digest[SHA256_DIGEST_LENGTH];
	const char		*ae_consumer;	/* into the conf */
	size_t			 ae_ci;		/* consumers[ae_ci] */
	size_t			 ae_ki;		/* its api_keys[ae_ki] */
};

struct ak_state {
	struct ak_entry		*as_keys;
	size_t			 as_nkeys;
	const char		*as_header;	/* NULL: not in a header */
	const char		*as_query;	/* NULL: not in the query */
	size_t			 as_querylen;
	char			*as_challenge;
	uint64_t		 as_epoch;
};

static int	 ak_conf(const struct mgw_conf *, void **, char **);
static void	 ak_free(void *);
static const char *ak_credential(void *, struct mgw_request *, size_t *);
static int	 ak_verify(void *, struct mgw_request *, const char *, size_t,
		    struct authn_identity *, authn_done_fn *, void *);
static int	 ak_strip(void *, struct mgw_request *);
static uint64_t	 ak_epoch(void *);
static const char *ak_challenge(void *);

/*
 * The "api_key" mechanism for the dispatcher (authn.c): conf runs in the
 * master, the rest in workers; verify never suspends and its verdicts
 * are not cached (ai_cacheable = 0).
 */
const struct authn_mech authn_mech_apikey = {
	.am_name = "api_key",
	.am_nocache = 1,
	.am_conf = ak_conf,
	.am_free = ak_free,
	.am_init_worker = NULL,
	.am_credential = ak_credential,
	.am_verify = ak_verify,
	.am_cancel = NULL,
	.am_strip = ak_strip,
	.am_epoch = ak_epoch,
	.am_challenge = ak_challenge
};

/*
 * The 32 bytes of a "sha256:<64 hex>" string, which conf.c has already
 * checked and normalised; 0 or -1 if it was not.
 */
static int
ak_digest_parse(const char *s, unsigned char *d)
{
	size_t	 i;
	int	 hi, lo;

	if (strncmp(s, "sha256:", 7) != 0 ||
	    strlen(s + 7) != 2 * SHA256_DIGEST_LENGTH)
		return (-1);
	s += 7;
	for (i = 0; i < SHA256_DIGEST_LENGTH; i++) {
		if ((hi = util_hexval(s[2 * i])) == -1 ||
		    (lo = util_hexval(s[2 * i + 1])) == -1)
			return (-1);
		d[i] = (unsigned char)(hi << 4 | lo);
	}
	return (0);
}

/* Sort by digest, then by position in the config, to find duplicates. */
static int
ak_entry_cmp(const void *a, const void *b)
{
	const struct ak_entry	*x = a, *y = b;
	int			 c;

	if ((c = memcmp(x->ae_digest, y->ae_digest, sizeof(x->ae_digest)))
	    != 0)
		return (c);
	if (x->ae_ci != y->ae_ci)
		return (x->ae_ci < y->ae_ci ? -1 : 1);
	if (x->ae_ki != y->ae_ki)
		return (x->ae_ki < y->ae_ki ? -1 : 1);
	return (0);
}

static int
ak_conf(const struct mgw_conf *conf, void **statep, char **cause)
{
	const struct conf_security	*sec = authn_security(conf);
	const struct authn_conf_consumer	*cs;
	struct ak_state			*as;
	struct ak_entry			*e, *prev;
	size_t				 i, j, n = 0;
	uint64_t			 h = 0;

	*statep = NULL;
	as = xcalloc(1, sizeof(*as));
	as->as_header = sec->s_api_key_header;
	as->as_query = sec->s_api_key_query;
	if (as->as_query != NULL)
		as->as_querylen = strlen(as->as_query);

	for (i = 0; i < mgw_conf_nconsumers(conf); i++)
		n += authn_consumer(conf, i)->cs_napi_keys;
	as->as_keys = xcalloc(n > 0 ? n : 1, sizeof(*as->as_keys));
	for (i = 0; i < mgw_conf_nconsumers(conf); i++) {
		cs = authn_consumer(conf, i);
		if (cs->cs_napi_keys > 0 &&
		    strlen(cs->cs_name) >= AUTHN_PRINCIPAL_MAX) {
			xasprintf(cause, "%s: consumers[%zu] (%s): name longer "
			    "than %d bytes cannot carry API keys",
			    mgw_conf_file(conf),
			    i, cs->cs_name, AUTHN_PRINCIPAL_MAX - 1);
			goto fail;
		}
		for (j = 0; j < cs->cs_napi_keys; j++) {
			e = &as->as_keys[as->as_nkeys++];
			if (ak_digest_parse(cs->cs_api_keys[j],
			    e->ae_digest) == -1) {
				xasprintf(cause, "%s: consumers[%zu] (%s): bad "
				    "API key hash", mgw_conf_file(conf), i,
				    cs->cs_name);
				goto fail;
			}
			e->ae_consumer = cs->cs_name;
			e->ae_ci = i;
			e->ae_ki = j;
		}
	}

	/*
	 * A digest listed twice would make the consumer a key names depend
	 * on table order, and even for one consumer it is a slip in the
	 * config: refuse it, naming the later entry and the earlier owner.
	 */
	qsort(as->as_keys, as->as_nkeys, sizeof(*as->as_keys), ak_entry_cmp);
	for (i = 1; i < as->as_nkeys; i++) {
		prev = &as->as_keys[i - 1];
		e = &as->as_keys[i];
		if (memcmp(prev->ae_digest, e->ae_digest,
		    sizeof(e->ae_digest)) != 0)
			continue;
		xasprintf(cause, "%s: consumers[%zu] (%s): API key hash also "
		    "listed for consumer %s", mgw_conf_file(conf), e->ae_ci,
		    e->ae_consumer, prev->ae_consumer);
		goto fail;
	}

	for (i = 0; i < as->as_nkeys; i++) {
		e = &as->as_keys[i];
		h = authn_hash64(h, e->ae_digest, sizeof(e->ae_digest));
		h = authn_hash64(h, e->ae_consumer,
		    strlen(e->ae_consumer) + 1);
	}
	as->as_epoch = h != 0 ? h : 1;

	if (as->as_header != NULL && as->as_query != NULL)
		xasprintf(&as->as_challenge, "APIKey header=\"%s\", "
		    "query=\"%s\"", as->as_header, as->as_query);
	else if (as->as_header != NULL)
		xasprintf(&as->as_challenge, "APIKey header=\"%s\"",
		    as->as_header);
	else if (as->as_query != NULL)
		xasprintf(&as->as_challenge, "APIKey query=\"%s\"",
		    as->as_query);
	else
		as->as_challenge = xstrdup("APIKey");
	*statep = as;
	return (0);
fail:
	ak_free(as);
	return (-1);
}

static void
ak_free(void *arg)
{
	struct ak_state	*as = arg;

	if (as == NULL)
		return;
	free(as->as_keys);
	free(as->as_challenge);
	free(as);
}

/*
 * The next "name=value" pair of a query at *pos, or 0 when there is none.
 * A pair without '=' has an empty value and *vp == NULL.
 */
static int
ak_query_next(const char *q, size_t len, size_t *pos, const char **np,
    size_t *nlen, const char **vp, size_t *vlen)
{
	const char	*p, *amp, *eq;
	size_t		 plen;

	while (*pos < len && q[*pos] == '&')
		(*pos)++;
	if (*pos >= len)
		return (0);
	p = q + *pos;
	amp = memchr(p, '&', len - *pos);
	plen = amp != NULL ? (size_t)(amp - p) : len - *pos;
	*pos += plen;
	*np = p;
	if ((eq = memchr(p, '=', plen)) != NULL) {
		*nlen = eq - p;
		*vp = eq + 1;
		*vlen = plen - *nlen - 1;
	} else {
		*nlen = plen;
		*vp = NULL;
		*vlen = 0;
	}
	return (1);
}

/*
 * Percent-decode v into request memory.  '+' is taken literally (RFC
 * 3986; keys may be base64).  A bad escape yields a value that starts
 * with a NUL byte, which verify refuses: the credential is still
 * "present", so the route answers invalid_credentials, not
 * missing_credentials.  NULL on OOM.
 */
static char *
ak_query_decode(struct mgw_request *r, const char *v, size_t vlen,
    size_t *lenp)
{
	char	*out;
	size_t	 i, n = 0;
	int	 hi, lo;

	if ((out = mgw_request_pool_alloc(r, vlen + 1)) == NULL)
		return (NULL);
	for (i = 0; i < vlen; i++) {
		if (v[i] != '%') {
			out[n++] = v[i];
			continue;
		}
		if (i + 2 >= vlen)
			goto bad;
		if ((hi = util_hexval((unsigned char)v[i + 1])) == -1 ||
		    (lo = util_hexval((unsigned char)v[i + 2])) == -1)
			goto bad;
		out[n++] = (char)(hi << 4 | lo);
		i += 2;
	}
	out[n] = '\0';
	*lenp = n;
	return (out);
bad:
	out[0] = '\0';
	*lenp = 1;
	return (out);
}

static const char *
ak_credential(void *arg, struct mgw_request *r, size_t *lenp)
{
	struct ak_state	*as = arg;
	const char	*v, *q, *name, *val;
	size_t		 len, qlen, pos = 0, nlen, vlen;

	if (as->as_header != NULL &&
	    (v = mgw_request_header(r, as->as_header, &len)) != NULL) {
		*lenp = len;
		return (v);
	}
	if (as->as_query == NULL ||
	    (q = mgw_request_query(r, &qlen)) == NULL)
		return (NULL);
	while (ak_query_next(q, qlen, &pos, &name, &nlen, &val, &vlen)) {
		if (nlen != as->as_querylen ||
		    memcmp(name, as->as_query, nlen) != 0)
			continue;
		if (val == NULL) {
			*lenp = 0;
			return ("");
		}
		return (ak_query_decode(r, val, vlen, lenp));
	}
	return (NULL);
}

static int
ak_verify(void *arg, struct mgw_request *r, const char *key, size_t len,
    struct authn_identity *id, authn_done_fn *done, void *donearg)
{
	struct ak_state	*as = arg;
	unsigned char	 md[SHA256_DIGEST_LENGTH];
	size_t		 i, sel = 0, mask, found = 0;

	(void)r;
	(void)done;
	(void)donearg;
	id->ai_cacheable = 0;
	id->ai_reason = "invalid";
	id->ai_verdict = AUTHN_INVALID;
	if (len == 0 || len > AK_KEY_MAX || memchr(key, '\0', len) != NULL) {
		id->ai_reason = "malformed";
		authn_identity_why(id, "malformed API key");
		return (0);
	}
	SHA256((const unsigned char *)key, len, md);
	/*
	 * Every digest, every time, and no branch on the outcome: the
	 * position of a match must not show in the timing.
	 */
	for (i = 0; i < as->as_nkeys; i++) {
		mask = (size_t)0 - (size_t)(CRYPTO_memcmp(md,
		    as->as_keys[i].ae_digest, sizeof(md)) == 0);
		sel = (sel & ~mask) | (i & mask);
		found |= mask;
	}
	explicit_bzero(md, sizeof(md));
	if (found == 0) {
		authn_identity_why(id, "unknown API key");
		return (0);
	}
	/* ak_conf checked that the name fits. */
	snprintf(id->ai_consumer_name, sizeof(id->ai_consumer_name), "%s",
	    as->as_keys[sel].ae_consumer);
	id->ai_verdict = AUTHN_OK;
	id->ai_reason = NULL;
	id->ai_why[0] = '\0';
	return (0);
}

static int
ak_strip(void *arg, struct mgw_request *r)
{
	struct ak_state	*as = arg;
	const char	*q, *name, *val;
	char		*out;
	size_t		 len, qlen, pos = 0, start, nlen, vlen, n = 0;
	int		 hit = 0;

	if (as->as_header != NULL &&
	    mgw_request_header(r, as->as_header, &len) != NULL &&
	    mgw_request_set_header(r, as->as_header, NULL, 0) == -1)
		return (-1);
	if (as->as_query == NULL ||
	    (q = mgw_request_query(r, &qlen)) == NULL)
		return (0);
	if ((out = mgw_request_pool_alloc(r, qlen + 1)) == NULL)
		return (-1);
	/*
	 * Every occurrence goes, even when the header carried the key: a
	 * second copy in the URL is a credential all the same.  The other
	 * pairs keep their bytes and order.
	 */
	for (;;) {
		start = pos;
		while (start < qlen && q[start] == '&')
			start++;
		if (!ak_query_next(q, qlen, &pos, &name, &nlen, &val, &vlen))
			break;
		if (nlen == as->as_querylen &&
		    memcmp(name, as->as_query, nlen) == 0) {
			hit = 1;
			continue;
		}
		if (n > 0)
			out[n++] = '&';
		memcpy(out + n, q + start, pos - start);
		n += pos - start;
	}
	if (!hit)
		return (0);
	return (mgw_request_set_query(r, n > 0 ? out : NULL, n));
}

static uint64_t
ak_epoch(void *arg)
{
	return (((struct ak_state *)arg)->as_epoch);
}

static const char *
ak_challenge(void *arg)
{
	return (((struct ak_state *)arg)->as_challenge);
}
