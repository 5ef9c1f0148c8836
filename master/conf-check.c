/*
 * conf-check.c: what the core's values, groups and list items must
 * satisfy beyond their type and range (names, paths, TLS choices, unique
 * listeners and APIs, endpoints), run by the walk through each option's
 * t_check; plugins' checks are their own o_check functions.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>

#include "lib.h"
#include "master.h"
#include "conf-int.h"

static int	conf_log_format(const char *);
static int	conf_check_name(const char *, const char *);
static int	conf_check_token(const char *);
static char	*conf_where(struct conf_ctx *, const struct conf_node *);
static int	conf_base_path(struct conf_api *, char **);
static int	conf_res_path(const char *, char **);

/* "combined" or "json" to enum conf_log_format; -1 otherwise or NULL. */
static int
conf_log_format(const char *s)
{
	if (s == NULL)
		return (-1);
	if (strcmp(s, "combined") == 0)
		return (CONF_LOGF_COMBINED);
	if (strcmp(s, "json") == 0)
		return (CONF_LOGF_JSON);
	return (-1);
}

/* Checks that need more than the value's type and range. */
int
conf_check_value(struct conf_ctx *cx, struct conf_val *v, void *obj)
{
	const struct conf_opt	*t = v->v_opt;
	struct conf_listener	*l;
	struct conf_gateway	*g;
	struct conf_api		*a;
	struct conf_tls		*tls;
	struct conf_consumer	*cs;
	char			*s, *why;
	size_t			 i;
	long			 ncpu;
	int			 error = 0;

	switch (t->t_check) {
	case CONF_CHK_WORKERS:
		if (*CONF_FIELD(obj, t->t_off, int) == 0) {
			ncpu = sysconf(_SC_NPROCESSORS_ONLN);
			*CONF_FIELD(obj, t->t_off, int) = ncpu < 1 ? 1 :
			    ncpu > (long)t->t_max ? (int)t->t_max : (int)ncpu;
		}
		break;
	case CONF_CHK_LNAME:
	case CONF_CHK_ANAME:
		s = *CONF_FIELD(obj, t->t_off, char *);
		if (conf_check_name(s, t->t_check == CONF_CHK_LNAME ? "_-" :
		    "_.-") == -1) {
			conf_verror(cx, v, "bad %s '%s' (1 to %d of A-Z a-z "
			    "0-9 %s)", t->t_name, s, CONF_NAME_MAX - 1,
			    t->t_check == CONF_CHK_LNAME ? "_ -" : "_ . -");
			error = -1;
		}
		break;
	case CONF_CHK_PNAME:
		s = *CONF_FIELD(obj, t->t_off, char *);
		if (conf_check_pname(s) == -1) {
			conf_verror(cx, v, "bad plugin name '%s' (1 to %d of "
			    "a-z 0-9 _ -)", s, CONF_NAME_MAX - 1);
			error = -1;
		}
		break;
	case CONF_CHK_LISTEN:
		l = obj;
		if (conf_listen_parse(l->l_listen, &l->l_ss, &l->l_sslen,
		    &why) == -1) {
			conf_verror(cx, v, "%s", why);
			free(why);
			error = -1;
		}
		break;
	case CONF_CHK_CIDRS:
		g = obj;
		if (g->ntrusted_proxies == 0)
			break;
		g->trusted = xcalloc(g->ntrusted_proxies, sizeof(*g->trusted));
		for (i = 0; i < g->ntrusted_proxies; i++) {
			if (cidr_parse(g->trusted_proxies[i],
			    &g->trusted[i]) == 0)
				continue;
			conf_verror(cx, v, "bad CIDR '%s' (address or "
			    "address/bits)", g->trusted_proxies[i]);
			error = -1;
		}
		break;
	case CONF_CHK_BASE_PATH:
		a = obj;
		if (conf_base_path(a, &why) == -1) {
			conf_verror(cx, v, "%s", why);
			free(why);
			error = -1;
		}
		break;
	case CONF_CHK_RES_PATH:
		s = *CONF_FIELD(obj, t->t_off, char *);
		if (conf_res_path(s, &why) == -1) {
			conf_verror(cx, v, "%s", why);
			free(why);
			error = -1;
		}
		break;
	case CONF_CHK_HEADER_NAME:
		s = *CONF_FIELD(obj, t->t_off, char *);
		if (conf_check_token(s) == -1) {
			conf_verror(cx, v, "bad header name '%s'", s);
			error = -1;
		}
		break;
	case CONF_CHK_LOG_FORMAT:
		s = *CONF_FIELD(obj, t->t_off, char *);
		if (conf_log_format(s) == -1) {
			conf_verror(cx, v, "unknown access log format '%s' "
			    "(combined or json)", s);
			error = -1;
		}
		break;
	case CONF_CHK_PROTOCOLS:
		tls = obj;
		for (i = 0; i < tls->t_nprotocols; i++) {
			if (tls_conf_protocol(tls->t_protocols[i]) != -1)
				continue;
			conf_verror(cx, v, "unknown protocol '%s' (use TLSv1.2 "
			    "or TLSv1.3)", tls->t_protocols[i]);
			error = -1;
		}
		break;
	case CONF_CHK_UNKNOWN_SNI:
		tls = obj;
		if (strcmp(tls->t_unknown_sni, "refuse") == 0)
			tls->t_sni_refuse = 1;
		else if (strcmp(tls->t_unknown_sni, "default") != 0) {
			conf_verror(cx, v, "'%s': use \"default\" or "
			    "\"refuse\"", tls->t_unknown_sni);
			error = -1;
		}
		break;
	case CONF_CHK_VERIFY_CLIENT:
		tls = obj;
		if (strcmp(tls->t_verify_client, "off") == 0)
			tls->t_verify = CONF_VERIFY_OFF;
		else if (strcmp(tls->t_verify_client, "optional") == 0)
			tls->t_verify = CONF_VERIFY_OPTIONAL;
		else if (strcmp(tls->t_verify_client, "required") == 0)
			tls->t_verify = CONF_VERIFY_REQUIRED;
		else {
			conf_verror(cx, v, "'%s': use off, optional or "
			    "required", tls->t_verify_client);
			error = -1;
		}
		break;
	case CONF_CHK_MUTUAL_TLS:
		a = obj;
		if (strcmp(a->a_mutual_tls_name, "mandatory") == 0)
			a->a_mutual_tls = CONF_MTLS_MANDATORY;
		else if (strcmp(a->a_mutual_tls_name, "optional") == 0)
			a->a_mutual_tls = CONF_MTLS_OPTIONAL;
		else {
			conf_verror(cx, v, "'%s': use mandatory or optional",
			    a->a_mutual_tls_name);
			error = -1;
		}
		break;
	case CONF_CHK_CERT_FP:
		cs = obj;
		for (i = 0; i < cs->cs_ncertificates; i++) {
			if (util_sha256_normalise(cs->cs_certificates[i]) == 0)
				continue;
			conf_verror(cx, v, "bad certificate fingerprint '%s' "
			    "(\"sha256:\" and 64 hex digits, colons allowed)",
			    cs->cs_certificates[i]);
			error = -1;
		}
		break;
	default:
		break;
	}
	return (error);
}

/*
 * Checks over a whole group or list item, once its keys are stored: items
 * is the list's array and i the item, or the group itself and 0.
 */
void
conf_check_group(struct conf_ctx *cx, const struct conf_opt *t, void *items,
    size_t i, struct conf_node *node)
{
	struct conf_listener	*l;
	struct conf_api		*a;
	struct conf_resource	*r;
	struct conf_endpoints	*ep;
	struct conf_consumer	*cs;
	const char		*fmt;
	struct conf_tls		*tls;
	struct conf_upstream_tls *ut;
	struct conf_gateway	*g;
	size_t			 j;
	int			 prod, mock;

	switch (t->t_check) {
	case CONF_CHK_LISTENER:
		l = items;
		/* The gateway group is walked before the listeners. */
		fmt = l[i].l_access_log_format != NULL ?
		    l[i].l_access_log_format :
		    cx->cx_conf->c_gateway.access_log_format;
		l[i].l_log_format = conf_log_format(fmt);
		if (l[i].l_log_format == -1)
			l[i].l_log_format = CONF_LOGF_COMBINED;
		for (j = 0; j < i && l[i].l_name != NULL; j++) {
			if (l[j].l_name == NULL ||
			    strcmp(l[i].l_name, l[j].l_name) != 0)
				continue;
			conf_errorat(cx, node->n_file, node->n_line,
			    "%s: duplicate listener name '%s'", node->n_path,
			    l[i].l_name);
			break;
		}
		for (j = 0; j < i && l[i].l_sslen != 0; j++) {
			if (l[i].l_sslen != l[j].l_sslen ||
			    memcmp(&l[i].l_ss, &l[j].l_ss, l[i].l_sslen) != 0)
				continue;
			conf_errorat(cx, node->n_file, node->n_line,
			    "%s: listen address '%s' is already used by "
			    "listener '%s'", node->n_path, l[i].l_listen,
			    l[j].l_name != NULL ? l[j].l_name : "?");
			break;
		}
		break;
	case CONF_CHK_API:
		a = items;
		a[i].a_index = i;
		a[i].a_conf = cx->cx_conf;
		for (j = 0; j < i; j++) {
			if (a[i].a_base_path == NULL ||
			    a[j].a_base_path == NULL ||
			    strcmp(a[i].a_base_path, a[j].a_base_path) != 0)
				continue;
			conf_errorat(cx, node->n_file, node->n_line,
			    "%s: duplicate base_path '%s' (also used by "
			    "API '%s')", node->n_path, a[i].a_base_path,
			    a[j].a_name != NULL ? a[j].a_name : "?");
			break;
		}
		/* name and version identify an API (logs, counters, env). */
		for (j = 0; j < i; j++) {
			if (a[i].a_name == NULL || a[j].a_name == NULL ||
			    strcmp(a[i].a_name, a[j].a_name) != 0)
				continue;
			if ((a[i].a_version == NULL) != (a[j].a_version ==
			    NULL) || (a[i].a_version != NULL &&
			    strcmp(a[i].a_version, a[j].a_version) != 0))
				continue;
			conf_errorat(cx, node->n_file, node->n_line,
			    "%s: duplicate API '%s'%s%s", node->n_path,
			    a[i].a_name, a[i].a_version != NULL ?
			    " version " : "", a[i].a_version != NULL ?
			    a[i].a_version : "");
			break;
		}
		break;
	case CONF_CHK_RESOURCE:
		r = items;
		r[i].r_index = i;
		r[i].r_conf = cx->cx_conf;
		if (r[i].r_methods == 0)
			r[i].r_methods = CONF_M_ALL;
		break;
	case CONF_CHK_ENDPOINTS:
		ep = items;
		prod = conf_given(node, t->t_sub, "production");
		mock = conf_given(node, t->t_sub, "mock");
		if (prod && mock)
			conf_errorat(cx, node->n_file, node->n_line,
			    "%s: set production or mock, not both",
			    node->n_path);
		else if (!prod && !mock)
			conf_errorat(cx, node->n_file, node->n_line,
			    "%s: production or mock is required",
			    node->n_path);
		else if (prod && ep->ep_nproduction == 0)
			conf_errorat(cx, node->n_file, node->n_line,
			    "%s: production needs at least one URL",
			    node->n_path);
		else if (mock && conf_given(node, t->t_sub, "sandbox"))
			conf_errorat(cx, node->n_file, node->n_line,
			    "%s: sandbox needs production endpoints, not a "
			    "mock", node->n_path);
		ep->ep_type = mock && !prod ? CONF_EP_MOCK : CONF_EP_HTTP;
		free(ep->ep_tls_where);
		ep->ep_tls_where = conf_where(cx, node);
		break;
	case CONF_CHK_TLS:
		tls = items;
		free(tls->t_where);
		tls->t_where = conf_where(cx, node);
		if (tls->t_verify != CONF_VERIFY_OFF &&
		    tls->t_client_ca == NULL)
			conf_errorat(cx, node->n_file, node->n_line,
			    "%s: verify_client %s needs client_ca",
			    node->n_path, tls->t_verify_client);
		if (tls->t_crl != NULL && tls->t_client_ca == NULL)
			conf_errorat(cx, node->n_file, node->n_line,
			    "%s: crl needs client_ca", node->n_path);
		break;
	case CONF_CHK_GATEWAY:
		g = items;
		free(g->trusted_where);
		g->trusted_where = conf_where(cx, node);
		if (g->trusted_cert_crl != NULL && g->trusted_cert_ca == NULL)
			conf_errorat(cx, node->n_file, node->n_line,
			    "%s: trusted_client_certificate_crl needs "
			    "trusted_client_certificate_ca", node->n_path);
		break;
	case CONF_CHK_UPSTREAM_TLS:
		ut = items;
		if ((ut->ut_certificate == NULL) != (ut->ut_key == NULL))
			conf_errorat(cx, node->n_file, node->n_line,
			    "%s: certificate and key go together",
			    node->n_path);
		break;
	case CONF_CHK_MOCK:
		ep = items;
		ep->ep_mock_bodylen = ep->ep_mock_body != NULL ?
		    strlen(ep->ep_mock_body) : 0;
		break;
	case CONF_CHK_CONSUMER:
		cs = items;
		cs[i].cs_conf = cx->cx_conf;
		for (j = 0; j < i && cs[i].cs_name != NULL; j++) {
			if (cs[j].cs_name == NULL ||
			    strcmp(cs[i].cs_name, cs[j].cs_name) != 0)
				continue;
			conf_errorat(cx, node->n_file, node->n_line,
			    "%s: duplicate consumer name '%s'", node->n_path,
			    cs[i].cs_name);
			break;
		}
		break;
	default:
		break;
	}
}

/* "file:line: path" of a group, for errors found after the load. */
static char *
conf_where(struct conf_ctx *cx, const struct conf_node *node)
{
	char	*name, *where;

	name = conf_file_name(cx, node->n_file);
	xasprintf(&where, "%s:%d: %s", name, node->n_line, node->n_path);
	free(name);
	return (where);
}

/* An HTTP field name: an RFC 9110 token. */
static int
conf_check_token(const char *s)
{
	static const char	 tchar[] = "!#$%&'*+-.^_`|~";
	size_t			 i;

	for (i = 0; s[i] != '\0'; i++) {
		if (!isalnum((unsigned char)s[i]) &&
		    strchr(tchar, s[i]) == NULL)
			return (-1);
	}
	return (i == 0 ? -1 : 0);
}

/* A plugin's name: 1 to CONF_NAME_MAX - 1 of a-z 0-9 _ -. */
int
conf_check_pname(const char *s)
{
	size_t	 n;

	n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-");
	return (n == 0 || n != strlen(s) || n >= CONF_NAME_MAX ? -1 : 0);
}

/* 1 to CONF_NAME_MAX - 1 characters of A-Z a-z 0-9 and extra. */
static int
conf_check_name(const char *s, const char *extra)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++) {
		if (!isalnum((unsigned char)s[i]) &&
		    strchr(extra, s[i]) == NULL)
			return (-1);
	}
	return (i == 0 || i >= CONF_NAME_MAX ? -1 : 0);
}

/*
 * Substitute {version} into a_base_path and normalise it: no trailing
 * '/', except for "/" itself.
 */
static int
conf_base_path(struct conf_api *a, char **why)
{
	static const char	 var[] = "{version}";
	char			*in = a->a_base_path, *out, *o, *p, *q;
	size_t			 len, nvar = 0, vlen;

	for (p = in; (p = strstr(p, var)) != NULL; p += sizeof(var) - 1)
		nvar++;
	if (nvar > 0 && a->a_version == NULL) {
		xasprintf(why, "'%s' uses {version} but the API has no "
		    "version", in);
		return (-1);
	}
	vlen = a->a_version != NULL ? strlen(a->a_version) : 0;
	out = xmalloc(strlen(in) + nvar * vlen + 1);
	o = out;
	for (p = in; (q = strstr(p, var)) != NULL; p = q + sizeof(var) - 1) {
		memcpy(o, p, q - p);
		o += q - p;
		memcpy(o, a->a_version, vlen);
		o += vlen;
	}
	memcpy(o, p, strlen(p) + 1);
	free(in);
	a->a_base_path = out;

	if (out[0] != '/') {
		xasprintf(why, "'%s' must start with '/'", out);
		return (-1);
	}
	len = strlen(out);
	while (len > 1 && out[len - 1] == '/')
		out[--len] = '\0';
	if (strstr(out, "//") != NULL || strpbrk(out, "{}*?#%") != NULL) {
		xasprintf(why, "bad base path '%s' (no empty segments, "
		    "templates other than {version}, '*', '?', '#' or '%%')",
		    out);
		return (-1);
	}
	for (p = out; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || (unsigned char)*p == 0x7f) {
			xasprintf(why, "bad base path '%s': spaces and "
			    "control characters are not allowed", out);
			return (-1);
		}
	}
	return (0);
}

/*
 * A resource template: '/' and segments that are literals, a whole
 * "{name}" or, last, "*".  A trailing '/' is kept: it is part of what
 * the client must send.
 */
static int
conf_res_path(const char *s, char **why)
{
	const char	*seg, *end, *p, *q;
	size_t		 len;

	if (s[0] != '/') {
		xasprintf(why, "resource path '%s' must start with '/'", s);
		return (-1);
	}
	for (seg = s + 1; *seg != '\0'; seg = *end == '/' ? end + 1 : end) {
		end = seg + strcspn(seg, "/");
		len = end - seg;
		if (len == 0) {
			xasprintf(why, "bad resource path '%s': empty "
			    "segment", s);
			return (-1);
		}
		if (memchr(seg, '*', len) != NULL) {
			if (len != 1 || *end != '\0') {
				xasprintf(why, "bad resource path '%s': '*' "
				    "must be a whole, last segment", s);
				return (-1);
			}
			continue;
		}
		if (memchr(seg, '{', len) != NULL ||
		    memchr(seg, '}', len) != NULL) {
			if (len < 3 || seg[0] != '{' || end[-1] != '}') {
				xasprintf(why, "bad resource path '%s': "
				    "'{name}' must be a whole segment", s);
				return (-1);
			}
			for (p = seg + 1; p < end - 1; p++) {
				if (!isalnum((unsigned char)*p) &&
				    strchr("_.-", *p) == NULL) {
					xasprintf(why, "bad resource path "
					    "'%s': bad parameter name", s);
					return (-1);
				}
			}
			/* A name used twice could not be told apart. */
			for (q = s; (q = strstr(q, "{")) != NULL &&
			    q < seg; q++) {
				if (strncmp(q, seg, len) == 0 && q[len - 1] ==
				    '}' && (q[len] == '/' || q[len] == '\0')) {
					xasprintf(why, "bad resource path "
					    "'%s': parameter %.*s used twice",
					    s, (int)len, seg);
					return (-1);
				}
			}
			continue;
		}
		for (p = seg; p < end; p++) {
			if ((unsigned char)*p <= ' ' || *p == '?' ||
			    *p == '#' || (unsigned char)*p == 0x7f) {
				xasprintf(why, "bad resource path '%s': "
				    "spaces, controls, '?' and '#' are not "
				    "allowed", s);
				return (-1);
			}
		}
	}
	return (0);
}
