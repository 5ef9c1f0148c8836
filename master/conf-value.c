/*
 * conf-value.c: one value of mgw.conf, from the file, the environment or
 * a table's default, converted to its field's type and range: integers,
 * booleans, strings, durations, sizes, arrays, and the ones the core
 * parses further (upstream URLs, mock headers, methods, listen
 * addresses, which are resolved here).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libconfig.h>

#include "lib.h"
#include "master.h"
#include "conf-int.h"

static int	conf_get_int(struct conf_ctx *, struct conf_val *, int64_t *);
static int	conf_get_bool(struct conf_ctx *, struct conf_val *, int *);
static int	conf_get_string(struct conf_ctx *, struct conf_val *,
		    const char **);
static int	conf_get_duration(struct conf_ctx *, struct conf_val *,
		    uint64_t *);
static int	conf_get_size(struct conf_ctx *, struct conf_val *,
		    uint64_t *);
static int	conf_get_strs(struct conf_ctx *, struct conf_val *,
		    struct conf_strs *);
static void	conf_strs_free(struct conf_strs *);
static int	conf_range(struct conf_ctx *, struct conf_val *, uint64_t,
		    const char *);
static void	conf_fmt(const struct conf_opt *, uint64_t, char *, size_t);
static int	conf_resolve(const char *, const char *, int,
		    struct sockaddr_storage *, socklen_t *, char **);
static int	conf_url_parse(const char *, struct conf_url *, char **);
static int	conf_header_parse(const char *, struct conf_header *,
		    char **);

/* Convert and store v at its field of obj.  0, or -1 after an error. */
int
conf_convert(struct conf_ctx *cx, struct conf_val *v, void *obj)
{
	const struct conf_opt	*t = v->v_opt;
	struct conf_strs	 ss;
	struct conf_url		*urls;
	struct conf_header	*hdrs;
	char			**strs, *why;
	const char		*s;
	int64_t			 i64;
	uint64_t		 u64;
	uint32_t		 bits;
	size_t			 i, n;
	int			 b, m, error = 0, line;

	switch (t->t_type) {
	case CONF_T_INT:
	case CONF_T_UINT:
	case CONF_T_U64:
		if (conf_get_int(cx, v, &i64) == -1)
			return (-1);
		if (i64 < 0 || (uint64_t)i64 < t->t_min ||
		    (uint64_t)i64 > t->t_max) {
			char	 lo[32], hi[32];

			conf_fmt(t, t->t_min, lo, sizeof(lo));
			conf_fmt(t, t->t_max, hi, sizeof(hi));
			conf_verror(cx, v, "%" PRId64 " is out of range %s..%s",
			    i64, lo, hi);
			return (-1);
		}
		if (t->t_type == CONF_T_INT)
			*CONF_FIELD(obj, t->t_off, int) = (int)i64;
		else if (t->t_type == CONF_T_UINT)
			*CONF_FIELD(obj, t->t_off, uint32_t) = (uint32_t)i64;
		else
			*CONF_FIELD(obj, t->t_off, uint64_t) = (uint64_t)i64;
		return (0);
	case CONF_T_BOOL:
		if (conf_get_bool(cx, v, &b) == -1)
			return (-1);
		*CONF_FIELD(obj, t->t_off, int) = b;
		return (0);
	case CONF_T_STRING:
		if (conf_get_string(cx, v, &s) == -1)
			return (-1);
		*CONF_FIELD(obj, t->t_off, char *) = xstrdup(s);
		return (0);
	case CONF_T_DURATION:
		if (conf_get_duration(cx, v, &u64) == -1)
			return (-1);
		*CONF_FIELD(obj, t->t_off, uint64_t) = u64;
		return (0);
	case CONF_T_SIZE:
		if (conf_get_size(cx, v, &u64) == -1)
			return (-1);
		*CONF_FIELD(obj, t->t_off, uint64_t) = u64;
		return (0);
	default:
		break;
	}

	/* Arrays of strings. */
	if (conf_get_strs(cx, v, &ss) == -1)
		return (-1);
	n = ss.s_n;
	if (n == 0 && (t->t_flags & CONF_F_NONEMPTY)) {
		conf_verror(cx, v, "must not be empty");
		conf_strs_free(&ss);
		return (-1);
	}
	line = v->v_line;
	switch (t->t_type) {
	case CONF_T_STRINGS:
		strs = NULL;
		if (n > 0) {
			strs = xcalloc(n, sizeof(*strs));
			for (i = 0; i < n; i++)
				strs[i] = xstrdup(ss.s_str[i]);
		}
		*CONF_FIELD(obj, t->t_off, char **) = strs;
		*CONF_FIELD(obj, t->t_off2, size_t) = n;
		break;
	case CONF_T_URLS:
		urls = n > 0 ? xcalloc(n, sizeof(*urls)) : NULL;
		*CONF_FIELD(obj, t->t_off, struct conf_url *) = urls;
		*CONF_FIELD(obj, t->t_off2, size_t) = n;
		for (i = 0; i < n; i++) {
			if (conf_url_parse(ss.s_str[i], &urls[i], &why) == 0)
				continue;
			v->v_line = ss.s_line[i];
			conf_verror(cx, v, "%s", why);
			free(why);
			error = -1;
		}
		break;
	case CONF_T_HEADERS:
		hdrs = n > 0 ? xcalloc(n, sizeof(*hdrs)) : NULL;
		*CONF_FIELD(obj, t->t_off, struct conf_header *) = hdrs;
		*CONF_FIELD(obj, t->t_off2, size_t) = n;
		for (i = 0; i < n; i++) {
			if (conf_header_parse(ss.s_str[i], &hdrs[i],
			    &why) == 0)
				continue;
			v->v_line = ss.s_line[i];
			conf_verror(cx, v, "%s", why);
			free(why);
			error = -1;
		}
		break;
	case CONF_T_METHODS:
		bits = 0;
		for (i = 0; i < n; i++) {
			m = method_parse(ss.s_str[i], strlen(ss.s_str[i]));
			if (m != -1) {
				bits |= 1u << m;
				continue;
			}
			v->v_line = ss.s_line[i];
			conf_verror(cx, v, "unknown method '%s' (use GET, "
			    "HEAD, POST, PUT, DELETE, PATCH or OPTIONS)",
			    ss.s_str[i]);
			error = -1;
		}
		*CONF_FIELD(obj, t->t_off, uint32_t) = bits;
		break;
	default:
		fatalx("%s: bad type %d for %s", __func__, t->t_type,
		    t->t_name);
	}
	v->v_line = line;
	conf_strs_free(&ss);
	return (error);
}

static int
conf_get_int(struct conf_ctx *cx, struct conf_val *v, int64_t *vp)
{
	long long	 ll;
	char		*end;

	if (v->v_set != NULL) {
		switch (config_setting_type(v->v_set)) {
		case CONFIG_TYPE_INT:
		case CONFIG_TYPE_INT64:
			*vp = config_setting_get_int64(v->v_set);
			return (0);
		default:
			conf_verror(cx, v, "expected an integer");
			return (-1);
		}
	}
	errno = 0;
	ll = strtoll(v->v_str, &end, 10);
	if (v->v_str[0] == '\0' || *end != '\0' || errno == ERANGE ||
	    isspace((unsigned char)v->v_str[0])) {
		conf_verror(cx, v, "expected an integer");
		return (-1);
	}
	*vp = ll;
	return (0);
}

static int
conf_get_bool(struct conf_ctx *cx, struct conf_val *v, int *bp)
{
	static const char	*yes[] = { "true", "yes", "on", "1", NULL };
	static const char	*no[] = { "false", "no", "off", "0", NULL };
	size_t			 i;

	if (v->v_set != NULL) {
		if (config_setting_type(v->v_set) != CONFIG_TYPE_BOOL) {
			conf_verror(cx, v, "expected true or false");
			return (-1);
		}
		*bp = config_setting_get_bool(v->v_set) ? 1 : 0;
		return (0);
	}
	for (i = 0; yes[i] != NULL; i++) {
		if (strcasecmp(v->v_str, yes[i]) == 0) {
			*bp = 1;
			return (0);
		}
		if (strcasecmp(v->v_str, no[i]) == 0) {
			*bp = 0;
			return (0);
		}
	}
	conf_verror(cx, v, "expected a boolean (true, false, yes, no, on, "
	    "off, 1 or 0)");
	return (-1);
}

static int
conf_get_string(struct conf_ctx *cx, struct conf_val *v, const char **sp)
{
	if (v->v_set == NULL) {
		*sp = v->v_str;
		return (0);
	}
	if (config_setting_type(v->v_set) != CONFIG_TYPE_STRING) {
		conf_verror(cx, v, "expected a string");
		return (-1);
	}
	*sp = config_setting_get_string(v->v_set);
	return (0);
}

static int
conf_get_duration(struct conf_ctx *cx, struct conf_val *v, uint64_t *msp)
{
	const char	*s;

	if (v->v_set != NULL) {
		switch (config_setting_type(v->v_set)) {
		case CONFIG_TYPE_STRING:
			break;
		case CONFIG_TYPE_INT:
		case CONFIG_TYPE_INT64:
		case CONFIG_TYPE_FLOAT:
			conf_verror(cx, v, "a duration needs a unit (ms, s, m, "
			    "h or d), e.g. \"30s\"");
			return (-1);
		default:
			conf_verror(cx, v, "expected a duration such as "
			    "\"30s\"");
			return (-1);
		}
	}
	if (conf_get_string(cx, v, &s) == -1)
		return (-1);
	if (s[0] != '\0' && strspn(s, "0123456789") == strlen(s)) {
		conf_verror(cx, v, "'%s' needs a unit (ms, s, m, h or d), "
		    "e.g. \"%ss\"", s, s);
		return (-1);
	}
	if (util_parse_duration(s, msp) == -1) {
		conf_verror(cx, v, "bad duration '%s' (a number with a unit: "
		    "ms, s, m, h or d)", s);
		return (-1);
	}
	return (conf_range(cx, v, *msp, s));
}

static int
conf_get_size(struct conf_ctx *cx, struct conf_val *v, uint64_t *bytesp)
{
	const char	*s;
	long long	 ll;
	char		 buf[32];

	if (v->v_set != NULL) {
		switch (config_setting_type(v->v_set)) {
		case CONFIG_TYPE_STRING:
			break;
		case CONFIG_TYPE_INT:
		case CONFIG_TYPE_INT64:
			/* A bare byte count cannot be misread. */
			ll = config_setting_get_int64(v->v_set);
			if (ll < 0) {
				conf_verror(cx, v, "a size cannot be "
				    "negative");
				return (-1);
			}
			*bytesp = (uint64_t)ll;
			snprintf(buf, sizeof(buf), "%lld", ll);
			return (conf_range(cx, v, *bytesp, buf));
		default:
			conf_verror(cx, v, "expected a size such as \"16k\"");
			return (-1);
		}
	}
	if (conf_get_string(cx, v, &s) == -1)
		return (-1);
	if (util_parse_size(s, bytesp) == -1) {
		conf_verror(cx, v, "bad size '%s' (a byte count, or a number "
		    "with k, m or g)", s);
		return (-1);
	}
	return (conf_range(cx, v, *bytesp, s));
}

/* Check a duration or size against the table's range. */
static int
conf_range(struct conf_ctx *cx, struct conf_val *v, uint64_t val,
    const char *as)
{
	const struct conf_opt	*t = v->v_opt;
	char			 lo[32], hi[32];

	if (val >= t->t_min && val <= t->t_max)
		return (0);
	conf_fmt(t, t->t_min, lo, sizeof(lo));
	conf_fmt(t, t->t_max, hi, sizeof(hi));
	conf_verror(cx, v, "'%s' is out of range %s..%s", as, lo, hi);
	return (-1);
}

/* Format a range bound in the largest unit that divides it. */
static void
conf_fmt(const struct conf_opt *t, uint64_t val, char *buf, size_t len)
{
	static const struct {
		uint64_t	 mult;
		const char	*unit;
	} dur[] = {
		{ 86400000, "d" }, { 3600000, "h" }, { 60000, "m" },
		{ 1000, "s" }, { 1, "ms" }
	}, size[] = {
		{ 1024 * 1024 * 1024, "g" }, { 1024 * 1024, "m" },
		{ 1024, "k" }, { 1, "" }
	};
	size_t	 i;

	if (val != 0 && t->t_type == CONF_T_DURATION) {
		for (i = 0; val % dur[i].mult != 0; i++)
			;
		snprintf(buf, len, "%" PRIu64 "%s", val / dur[i].mult,
		    dur[i].unit);
	} else if (val != 0 && t->t_type == CONF_T_SIZE) {
		for (i = 0; val % size[i].mult != 0; i++)
			;
		snprintf(buf, len, "%" PRIu64 "%s", val / size[i].mult,
		    size[i].unit);
	} else
		snprintf(buf, len, "%" PRIu64, val);
}

/*
 * An array value as strings with their lines.  The environment gives a
 * comma-separated list; empty pieces are skipped.
 */
static int
conf_get_strs(struct conf_ctx *cx, struct conf_val *v, struct conf_strs *ss)
{
	config_setting_t	*e;
	const char		*p, *q, *end;
	int			 i, n;

	memset(ss, 0, sizeof(*ss));
	if (v->v_set != NULL && (v->v_opt->t_flags & CONF_F_ONE) &&
	    config_setting_type(v->v_set) == CONFIG_TYPE_STRING) {
		ss->s_str = xcalloc(1, sizeof(*ss->s_str));
		ss->s_line = xcalloc(1, sizeof(*ss->s_line));
		ss->s_str[0] = xstrdup(config_setting_get_string(v->v_set));
		ss->s_line[0] = v->v_line;
		ss->s_n = 1;
		return (0);
	}
	if (v->v_set != NULL) {
		if (!config_setting_is_array(v->v_set) &&
		    !config_setting_is_list(v->v_set)) {
			conf_verror(cx, v, "expected an array of strings "
			    "[ \"...\", ... ]");
			return (-1);
		}
		n = config_setting_length(v->v_set);
		for (i = 0; i < n; i++) {
			e = config_setting_get_elem(v->v_set, i);
			if (config_setting_type(e) != CONFIG_TYPE_STRING) {
				conf_verror(cx, v, "expected an array of "
				    "strings [ \"...\", ... ]");
				conf_strs_free(ss);
				return (-1);
			}
		}
		if (n == 0)
			return (0);
		ss->s_str = xcalloc(n, sizeof(*ss->s_str));
		ss->s_line = xcalloc(n, sizeof(*ss->s_line));
		for (i = 0; i < n; i++) {
			e = config_setting_get_elem(v->v_set, i);
			ss->s_str[i] = xstrdup(config_setting_get_string(e));
			ss->s_line[i] = config_setting_source_line(e);
			if (ss->s_line[i] == 0)
				ss->s_line[i] = v->v_line;
		}
		ss->s_n = n;
		return (0);
	}
	for (p = v->v_str; *p != '\0'; p = *q == ',' ? q + 1 : q) {
		q = p + strcspn(p, ",");
		end = q;
		while (p < end && isspace((unsigned char)*p))
			p++;
		while (end > p && isspace((unsigned char)end[-1]))
			end--;
		if (end == p)
			continue;
		ss->s_str = xreallocarray(ss->s_str, ss->s_n + 1,
		    sizeof(*ss->s_str));
		ss->s_line = xreallocarray(ss->s_line, ss->s_n + 1,
		    sizeof(*ss->s_line));
		ss->s_str[ss->s_n] = xstrndup(p, end - p);
		ss->s_line[ss->s_n++] = v->v_line;
	}
	return (0);
}

static void
conf_strs_free(struct conf_strs *ss)
{
	size_t	 i;

	for (i = 0; i < ss->s_n; i++)
		free(ss->s_str[i]);
	free(ss->s_str);
	free(ss->s_line);
	memset(ss, 0, sizeof(*ss));
}

/* Resolve host and a numeric port to the first address found. */
static int
conf_resolve(const char *host, const char *port, int passive,
    struct sockaddr_storage *ss, socklen_t *sslen, char **why)
{
	struct addrinfo	 hints, *res;
	int		 error;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
	if ((error = getaddrinfo(host, port, &hints, &res)) != 0) {
		xasprintf(why, "cannot resolve '%s': %s", host,
		    gai_strerror(error));
		return (-1);
	}
	if ((res->ai_family != AF_INET && res->ai_family != AF_INET6) ||
	    res->ai_addrlen > sizeof(*ss)) {
		freeaddrinfo(res);
		xasprintf(why, "'%s' is not an IPv4 or IPv6 address", host);
		return (-1);
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return (0);
}

/*
 * Split "host:port", "[v6]:port" or "*:port" and resolve it.  The port
 * is in decimal, 1..65535, and an IPv6 address needs its brackets so that
 * the last colon is unambiguous.
 */
int
conf_listen_parse(const char *s, struct sockaddr_storage *ss,
    socklen_t *sslen, char **why)
{
	char		*host, *port, *end;
	const char	*colon;
	unsigned long	 p;
	int		 error;

	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL || end[1] != ':') {
			xasprintf(why, "bad listen address '%s': expected "
			    "[address]:port", s);
			return (-1);
		}
		host = xstrndup(s + 1, end - s - 1);
		colon = end + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL) {
			xasprintf(why, "bad listen address '%s': expected "
			    "host:port", s);
			return (-1);
		}
		host = xstrndup(s, colon - s);
		if (strchr(host, ':') != NULL) {
			free(host);
			xasprintf(why, "bad listen address '%s': an IPv6 "
			    "address needs brackets, [::1]:port", s);
			return (-1);
		}
	}
	port = xstrdup(colon + 1);
	errno = 0;
	p = strtoul(port, &end, 10);
	if (host[0] == '\0' || port[0] < '0' || port[0] > '9' || *end != '\0' ||
	    errno != 0 || p == 0 || p > 65535) {
		xasprintf(why, "bad listen address '%s': expected host:port "
		    "with a port from 1 to 65535", s);
		free(host);
		free(port);
		return (-1);
	}
	if (strcmp(host, "*") == 0)
		error = conf_resolve("0.0.0.0", port, 1, ss, sslen, why);
	else
		error = conf_resolve(host, port, 1, ss, sslen, why);
	free(host);
	free(port);
	return (error);
}

/* Parse and resolve "http://host[:port][/prefix]" into u. */
static int
conf_url_parse(const char *s, struct conf_url *u, char **why)
{
	const char	*p, *auth, *hend, *path;
	char		*host, *end = NULL, port[8];
	unsigned long	 pn = 80;
	size_t		 plen;
	int		 error;

	u->u_url = xstrdup(s);
	if (strncasecmp(s, "https://", 8) == 0) {
		u->u_tls = 1;
		pn = 443;
	} else if (strncasecmp(s, "http://", 7) != 0) {
		xasprintf(why, "bad URL '%s': expected "
		    "http[s]://host[:port][/path]", s);
		return (-1);
	}
	if (strpbrk(s, "?#") != NULL) {
		xasprintf(why, "bad URL '%s': an endpoint cannot have a query "
		    "or fragment", s);
		return (-1);
	}
	for (p = s; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || (unsigned char)*p == 0x7f) {
			xasprintf(why, "bad URL '%s': spaces and control "
			    "characters are not allowed", s);
			return (-1);
		}
	}
	auth = s + (u->u_tls ? 8 : 7);
	path = auth + strcspn(auth, "/");
	if (memchr(auth, '@', path - auth) != NULL) {
		xasprintf(why, "bad URL '%s': user information is not "
		    "supported", s);
		return (-1);
	}
	if (auth[0] == '[') {
		hend = memchr(auth, ']', path - auth);
		if (hend == NULL || hend == auth + 1) {
			xasprintf(why, "bad URL '%s': bad IPv6 address", s);
			return (-1);
		}
		host = xstrndup(auth + 1, hend - auth - 1);
		p = hend + 1;
	} else {
		hend = memchr(auth, ':', path - auth);
		if (hend == NULL)
			hend = path;
		host = xstrndup(auth, hend - auth);
		p = hend;
	}
	if (p != path) {
		errno = 0;
		pn = 0;
		if (*p == ':' && p[1] >= '0' && p[1] <= '9')
			pn = strtoul(p + 1, &end, 10);
		if (*p != ':' || pn == 0 || pn > 65535 || end != path) {
			free(host);
			xasprintf(why, "bad URL '%s': bad port", s);
			return (-1);
		}
	}
	if (host[0] == '\0') {
		free(host);
		xasprintf(why, "bad URL '%s': no host", s);
		return (-1);
	}
	snprintf(port, sizeof(port), "%lu", pn);
	error = conf_resolve(host, port, 0, &u->u_ss, &u->u_sslen, why);
	u->u_tlsname = host;
	if (error == -1)
		return (-1);
	u->u_host = xstrndup(auth, path - auth);
	plen = strlen(path);
	while (plen > 0 && path[plen - 1] == '/')
		plen--;
	u->u_prefix = xstrndup(path, plen);
	return (0);
}

/* "Name: value" with an RFC 9110 token for the name. */
static int
conf_header_parse(const char *s, struct conf_header *h, char **why)
{
	static const char	 tchar[] = "!#$%&'*+-.^_`|~";
	const char		*colon, *v, *end, *p;

	colon = strchr(s, ':');
	for (p = s; colon != NULL && p < colon; p++) {
		if (!isalnum((unsigned char)*p) && strchr(tchar, *p) == NULL)
			break;
	}
	if (colon == NULL || colon == s || p != colon) {
		xasprintf(why, "bad header '%s': expected \"Name: value\"", s);
		return (-1);
	}
	v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	end = v + strlen(v);
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	for (p = v; p < end; p++) {
		if (((unsigned char)*p < ' ' && *p != '\t') ||
		    (unsigned char)*p == 0x7f) {
			xasprintf(why, "bad header '%s': control characters "
			    "in the value", s);
			return (-1);
		}
	}
	h->h_name = xstrndup(s, colon - s);
	h->h_value = xstrndup(v, end - v);
	return (0);
}
