/*
 * authn-basic.c: the "basic" mechanism, HTTP Basic (RFC 7617) against an
 * Apache htpasswd file (security.htpasswd).  Only salted, slow hashes are
 * accepted: bcrypt ($2y$, $2b$, $2a$: htpasswd -B), sha256-crypt ($5$:
 * htpasswd -2) and sha512-crypt ($6$: htpasswd -5), checked with
 * crypt_rn() from libxcrypt, which is reentrant and keeps no static
 * buffer.  Plain text, {SHA}, MD5 ($apr1$, $1$) and DES crypt refuse the
 * configuration with the file and line, so a weak file never goes live.
 *
 * The master reads the file when the configuration is loaded; a broken
 * file refuses the reload and the old generation keeps its users.  The
 * dispatcher caches verdicts by the credential's hash, so bcrypt runs
 * once per credential and epoch, not on every request.  Passwords are
 * never logged and are wiped after use.
 */
#include "config.h"

#include <sys/types.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <crypt.h>
#include <openssl/crypto.h>

#include "lib.h"
#include "authn-conf.h"
#include <mgw/plugin.h>
#include "authn.h"

#define AB_FILE_MAX	(16 * 1024 * 1024)	/* bytes of htpasswd */
#define AB_USER_MAX	255	/* bytes of a user name on the wire */
#define AB_PASS_MAX	1024	/* bytes of a password */
/* base64 of "user:password" at the longest: 4 * ceil(1280 / 3). */
#define AB_B64_MAX	(4 * ((AB_USER_MAX + 1 + AB_PASS_MAX + 2) / 3))
#define AB_ERRORS_MAX	20	/* file errors reported, then a count */

struct ab_user {
	char		*au_name;
	char		*au_hash;	/* as in the file */
	size_t		 au_hashlen;
	size_t		 au_line;
	const char	*au_consumer;	/* basic_users naming it, or NULL */
};

struct ab_state {
	struct ab_user		*bs_users;	/* sorted by name */
	size_t			 bs_nusers;
	/*
	 * What an unknown user's password is checked against: a hash of
	 * the same scheme and cost as the file's first entry, so the time
	 * taken does not tell which users exist.
	 */
	char			*bs_dummy;
	char			*bs_challenge;
	uint64_t		 bs_epoch;
	struct crypt_data	*bs_cd;		/* 32 kB scratch for crypt_rn */
};

/* Errors found in the file, all of them up to AB_ERRORS_MAX. */
struct ab_errors {
	char		*ae_text;
	size_t		 ae_n;
};

static int	 ab_conf(const struct mgw_conf *, void **, char **);
static void	 ab_free(void *);
static const char *ab_credential(void *, struct mgw_request *, size_t *);
static int	 ab_verify(void *, struct mgw_request *, const char *, size_t,
		    struct authn_identity *, authn_done_fn *, void *);
static int	 ab_strip(void *, struct mgw_request *);
static uint64_t	 ab_epoch(void *);
static const char *ab_challenge(void *);
static void	 ab_error(struct ab_errors *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/*
 * The "basic" mechanism for the dispatcher (authn.c): conf runs in the
 * master, the rest in workers; verify runs one crypt_rn() and never
 * suspends, and its verdicts are cached keyed by the credential.
 */
const struct authn_mech authn_mech_basic = {
	.am_name = "basic",
	.am_conf = ab_conf,
	.am_free = ab_free,
	.am_init_worker = NULL,
	.am_credential = ab_credential,
	.am_verify = ab_verify,
	.am_cancel = NULL,
	.am_strip = ab_strip,
	.am_epoch = ab_epoch,
	.am_challenge = ab_challenge
};

static void
ab_error(struct ab_errors *ae, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg, *t;

	if (ae->ae_n++ >= AB_ERRORS_MAX)
		return;
	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	if (ae->ae_text == NULL)
		ae->ae_text = msg;
	else {
		xasprintf(&t, "%s\n%s", ae->ae_text, msg);
		free(ae->ae_text);
		free(msg);
		ae->ae_text = t;
	}
}

static int
ab_crypt64(int c)
{
	return ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || c == '.' || c == '/');
}

static int
ab_all_crypt64(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (!ab_crypt64((unsigned char)s[i]))
			return (0);
	return (1);
}

/*
 * Whether h is a hash we accept, and NULL; or why not, as a sentence
 * that tells the operator what to do.
 */
static const char *
ab_hash_check(const char *h)
{
	const char	*p, *salt;
	size_t		 len = strlen(h), want;
	long		 rounds;
	char		*end;

	if (len == 0)
		return ("empty hash");
	if (strncmp(h, "{SHA}", 5) == 0)
		return ("{SHA} hashes are unsalted and refused; use "
		    "htpasswd -B");
	if (strncmp(h, "$apr1$", 6) == 0 || strncmp(h, "$1$", 3) == 0)
		return ("MD5 hashes ($apr1$, $1$) are weak and refused; use "
		    "htpasswd -B");
	if (strncmp(h, "$2y$", 4) == 0 || strncmp(h, "$2b$", 4) == 0 ||
	    strncmp(h, "$2a$", 4) == 0) {
		/* $2y$NN$ then 22 salt and 31 hash characters. */
		if (len != 60 || h[4] < '0' || h[4] > '3' || h[5] < '0' ||
		    h[5] > '9' || h[6] != '$' || !ab_all_crypt64(h + 7, 53))
			return ("malformed bcrypt hash");
		if ((h[4] - '0') * 10 + (h[5] - '0') < 4 ||
		    (h[4] - '0') * 10 + (h[5] - '0') > 31)
			return ("bcrypt cost outside 4-31");
		goto checksalt;
	}
	if (strncmp(h, "$5$", 3) == 0 || strncmp(h, "$6$", 3) == 0) {
		want = h[1] == '5' ? 43 : 86;
		p = h + 3;
		if (strncmp(p, "rounds=", 7) == 0) {
			rounds = strtol(p + 7, &end, 10);
			if (end == p + 7 || *end != '$' || rounds < 1000 ||
			    rounds > 999999999)
				return ("sha-crypt rounds outside "
				    "1000-999999999");
			p = end + 1;
		}
		salt = p;
		if ((p = strchr(salt, '$')) == NULL || p == salt ||
		    p - salt > 16)
			return ("malformed sha-crypt salt");
		if (strlen(p + 1) != want || !ab_all_crypt64(p + 1, want))
			return ("malformed sha-crypt hash");
		goto checksalt;
	}
	if (h[0] == '$')
		return ("unsupported hash scheme; use htpasswd -B (bcrypt), "
		    "-5 or -2");
	if (len == 13 && ab_all_crypt64(h, 13))
		return ("DES crypt hashes are weak and refused; use "
		    "htpasswd -B");
	return ("plain-text passwords are refused; use htpasswd -B");
checksalt:
	/*
	 * libxcrypt files sha256-crypt under "legacy" (it prefers $6$ and
	 * yescrypt) yet computes it; the prefixes above already keep out
	 * the truly weak schemes it also calls legacy.
	 */
	switch (crypt_checksalt(h)) {
	case CRYPT_SALT_OK:
	case CRYPT_SALT_METHOD_LEGACY:
		break;
	default:
		return ("hash refused by libxcrypt (scheme disabled?)");
	}
	return (NULL);
}

static int
ab_user_cmp(const void *a, const void *b)
{
	const struct ab_user	*x = a, *y = b;
	int			 c;

	if ((c = strcmp(x->au_name, y->au_name)) != 0)
		return (c);
	return (x->au_line < y->au_line ? -1 : x->au_line > y->au_line);
}

static struct ab_user *
ab_user_find(struct ab_state *bs, const char *name)
{
	size_t		 lo = 0, hi = bs->bs_nusers, mid;
	int		 c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(name, bs->bs_users[mid].au_name)) == 0)
			return (&bs->bs_users[mid]);
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return (NULL);
}

/* Parse the htpasswd text into bs; every error goes to ae. */
static void
ab_parse(struct ab_state *bs, const char *path, char *buf, size_t len,
    struct ab_errors *ae)
{
	struct ab_user	*u;
	char		*line, *nl, *colon, *hash;
	const char	*why;
	size_t		 lineno = 0, cap = 0, ll, i;

	if (memchr(buf, '\0', len) != NULL) {
		ab_error(ae, "%s: contains a NUL byte; not an htpasswd file",
		    path);
		return;
	}
	for (line = buf; line < buf + len; line = nl + 1) {
		lineno++;
		if ((nl = strchr(line, '\n')) == NULL)
			nl = line + strlen(line);
		*nl = '\0';
		ll = nl - line;
		if (ll > 0 && line[ll - 1] == '\r')
			line[--ll] = '\0';
		if (line[0] == '#' || strspn(line, " \t") == ll)
			continue;
		if ((colon = strchr(line, ':')) == NULL) {
			ab_error(ae, "%s:%zu: no ':' between user and hash",
			    path, lineno);
			continue;
		}
		*colon = '\0';
		hash = colon + 1;
		if (*line == '\0') {
			ab_error(ae, "%s:%zu: empty user name", path, lineno);
			continue;
		}
		if (strlen(line) >= AUTHN_PRINCIPAL_MAX) {
			ab_error(ae, "%s:%zu: user name longer than %d bytes",
			    path, lineno, AUTHN_PRINCIPAL_MAX - 1);
			continue;
		}
		if ((why = ab_hash_check(hash)) != NULL) {
			ab_error(ae, "%s:%zu: user %s: %s", path, lineno, line,
			    why);
			continue;
		}
		if (bs->bs_nusers == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			bs->bs_users = xreallocarray(bs->bs_users, cap,
			    sizeof(*bs->bs_users));
		}
		u = &bs->bs_users[bs->bs_nusers++];
		u->au_name = xstrdup(line);
		u->au_hash = xstrdup(hash);
		u->au_hashlen = strlen(hash);
		u->au_line = lineno;
		u->au_consumer = NULL;
	}
	if (bs->bs_nusers == 0 && ae->ae_n == 0) {
		ab_error(ae, "%s: no users", path);
		return;
	}
	if (bs->bs_nusers == 0)
		return;

	/* The dummy follows the file's first entry, so copy it unsorted. */
	bs->bs_dummy = xstrdup(bs->bs_users[0].au_hash);

	qsort(bs->bs_users, bs->bs_nusers, sizeof(*bs->bs_users),
	    ab_user_cmp);
	for (i = 1; i < bs->bs_nusers; i++) {
		if (strcmp(bs->bs_users[i - 1].au_name,
		    bs->bs_users[i].au_name) == 0)
			ab_error(ae, "%s:%zu: user %s: listed twice (first at "
			    "line %zu)", path, bs->bs_users[i].au_line,
			    bs->bs_users[i].au_name,
			    bs->bs_users[i - 1].au_line);
	}
}

/*
 * Replace bs_dummy (a copy of the first entry's hash) by a hash of a
 * random password with the same scheme and cost.  Master; runs the
 * hash once.  0, or -1 with *cause.
 */
static int
ab_dummy_make(struct ab_state *bs, char **cause)
{
	char		 prefix[5], setting[CRYPT_GENSALT_OUTPUT_SIZE], *out;
	const char	*h = bs->bs_dummy;
	unsigned long	 count = 0;

	if (h[1] == '2') {
		memcpy(prefix, h, 4);
		prefix[4] = '\0';
		count = (unsigned long)((h[4] - '0') * 10 + (h[5] - '0'));
	} else {
		memcpy(prefix, h, 3);
		prefix[3] = '\0';
		if (strncmp(h + 3, "rounds=", 7) == 0)
			count = strtoul(h + 10, NULL, 10);
	}
	if (crypt_gensalt_rn(prefix, count, NULL, 0, setting,
	    sizeof(setting)) == NULL ||
	    (out = crypt_rn("mgw: no such user", setting, bs->bs_cd,
	    sizeof(*bs->bs_cd))) == NULL || out[0] == '*') {
		xasprintf(cause, "security.htpasswd: cannot make a hash for "
		    "unknown users (%s)", prefix);
		return (-1);
	}
	free(bs->bs_dummy);
	bs->bs_dummy = xstrdup(out);
	explicit_bzero(bs->bs_cd, sizeof(*bs->bs_cd));
	return (0);
}

static int
ab_conf(const struct mgw_conf *conf, void **statep, char **cause)
{
	const struct conf_security	*sec = authn_security(conf);
	const struct authn_conf_consumer	*cs;
	struct ab_state			*bs;
	struct ab_user			*u;
	struct ab_errors		 ae = { NULL, 0 };
	const char			*why, *realm = sec->s_basic_realm;
	char				*buf = NULL;
	size_t				 len, i, j;

	*statep = NULL;
	bs = xcalloc(1, sizeof(*bs));
	bs->bs_cd = xcalloc(1, sizeof(*bs->bs_cd));
	if (sec->s_htpasswd == NULL) {
		xasprintf(cause, "%s: \"basic\" needs security.htpasswd",
		    mgw_conf_file(conf));
		goto fail;
	}
	if (realm == NULL)
		realm = "mgw";
	for (i = 0; realm[i] != '\0'; i++) {
		if (realm[i] == '"' || realm[i] == '\\' ||
		    (unsigned char)realm[i] < 0x20 || realm[i] == 0x7f) {
			xasprintf(cause, "%s: security.basic_realm: '\"', '\\' "
			    "and control characters are not allowed",
			    mgw_conf_file(conf));
			goto fail;
		}
	}
	if (authn_read_file(sec->s_htpasswd, AB_FILE_MAX, &buf, &len,
	    &why) == -1) {
		xasprintf(cause, "%s: security.htpasswd %s: %s",
		    mgw_conf_file(conf),
		    sec->s_htpasswd, why);
		goto fail;
	}
	bs->bs_epoch = authn_hash64(0, buf, len);
	if (bs->bs_epoch == 0)
		bs->bs_epoch = 1;
	ab_parse(bs, sec->s_htpasswd, buf, len, &ae);
	explicit_bzero(buf, len);
	free(buf);
	buf = NULL;

	for (i = 0; i < mgw_conf_nconsumers(conf); i++) {
		cs = authn_consumer(conf, i);
		for (j = 0; j < cs->cs_nbasic_users; j++) {
			u = ab_user_find(bs, cs->cs_basic_users[j]);
			if (u == NULL)
				ab_error(&ae, "%s: consumers[%zu] (%s): basic "
				    "user %s is not in %s",
				    mgw_conf_file(conf), i,
				    cs->cs_name, cs->cs_basic_users[j],
				    sec->s_htpasswd);
			else if (u->au_consumer != NULL)
				ab_error(&ae, "%s: consumers[%zu] (%s): basic "
				    "user %s also listed for consumer %s",
				    mgw_conf_file(conf), i, cs->cs_name,
				    cs->cs_basic_users[j], u->au_consumer);
			else
				u->au_consumer = cs->cs_name;
		}
	}
	if (ae.ae_n > 0) {
		if (ae.ae_n > AB_ERRORS_MAX)
			xasprintf(cause, "%s\n%s: %zu more errors",
			    ae.ae_text, sec->s_htpasswd,
			    ae.ae_n - AB_ERRORS_MAX);
		else
			*cause = xstrdup(ae.ae_text);
		free(ae.ae_text);
		goto fail;
	}
	if (ab_dummy_make(bs, cause) == -1)
		goto fail;
	xasprintf(&bs->bs_challenge, "Basic realm=\"%s\", charset=\"UTF-8\"",
	    realm);
	*statep = bs;
	return (0);
fail:
	free(buf);
	ab_free(bs);
	return (-1);
}

static void
ab_free(void *arg)
{
	struct ab_state	*bs = arg;
	size_t		 i;

	if (bs == NULL)
		return;
	for (i = 0; i < bs->bs_nusers; i++) {
		free(bs->bs_users[i].au_name);
		free(bs->bs_users[i].au_hash);
	}
	free(bs->bs_users);
	free(bs->bs_dummy);
	free(bs->bs_challenge);
	free(bs->bs_cd);
	free(bs);
}

static const char *
ab_credential(void *arg, struct mgw_request *r, size_t *lenp)
{
	const char	*v;
	size_t		 len;

	(void)arg;
	if ((v = mgw_request_header(r, "Authorization", &len)) == NULL)
		return (NULL);
	while (len > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	if (len < 5 || strncasecmp(v, "Basic", 5) != 0)
		return (NULL);
	if (len > 5 && v[5] != ' ' && v[5] != '\t')
		return (NULL);	/* another scheme, say "Basically" */
	v += 5;
	len -= 5;
	while (len > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	*lenp = len;
	return (v);
}

static int
ab_b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return (c - 'A');
	if (c >= 'a' && c <= 'z')
		return (c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (c - '0' + 52);
	if (c == '+')
		return (62);
	if (c == '/')
		return (63);
	return (-1);
}

/*
 * Strict RFC 4648 base64 with padding: the alphabet only, '=' only at the
 * end, unused bits zero.  out holds at least len / 4 * 3 bytes.  The
 * decoded length, or -1.
 */
static ssize_t
ab_b64_decode(const char *in, size_t len, unsigned char *out)
{
	size_t		 i, n = 0, pad = 0;
	uint32_t	 acc;
	int		 v, k;

	if (len == 0 || len % 4 != 0)
		return (-1);
	if (in[len - 1] == '=')
		pad = in[len - 2] == '=' ? 2 : 1;
	for (i = 0; i < len; i += 4) {
		acc = 0;
		for (k = 0; k < 4; k++) {
			if (i + k >= len - pad) {
				acc <<= 6;
				continue;
			}
			if ((v = ab_b64val((unsigned char)in[i + k])) == -1)
				return (-1);
			acc = acc << 6 | (uint32_t)v;
		}
		out[n++] = acc >> 16;
		if (i + 4 < len || pad < 2)
			out[n++] = (acc >> 8) & 0xff;
		if (i + 4 < len || pad < 1)
			out[n++] = acc & 0xff;
		if (i + 4 == len && ((pad == 1 && (acc & 0xff) != 0) ||
		    (pad == 2 && (acc & 0xffff) != 0)))
			return (-1);
	}
	return ((ssize_t)n);
}

/*
 * Whether s is well-formed UTF-8 (no overlong forms, surrogates or code
 * points past U+10FFFF) without C0, DEL or C1 control characters.
 */
static int
ab_utf8_ok(const unsigned char *s, size_t len)
{
	size_t		 i = 0, n, k;
	uint32_t	 cp, min;

	while (i < len) {
		if (s[i] < 0x80) {
			if (s[i] < 0x20 || s[i] == 0x7f)
				return (0);
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			n = 1;
			cp = s[i] & 0x1f;
			min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			n = 2;
			cp = s[i] & 0x0f;
			min = 0x800;
		} else if ((s[i] & 0xf8) == 0xf0) {
			n = 3;
			cp = s[i] & 0x07;
			min = 0x10000;
		} else
			return (0);
		if (i + n >= len)
			return (0);
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return (0);
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff) ||
		    (cp >= 0x80 && cp <= 0x9f))
			return (0);
		i += n + 1;
	}
	return (1);
}

static int
ab_verify(void *arg, struct mgw_request *r, const char *cred, size_t len,
    struct authn_identity *id, authn_done_fn *done, void *donearg)
{
	struct ab_state		*bs = arg;
	struct ab_user		*u;
	unsigned char		 buf[AB_B64_MAX / 4 * 3 + 1];
	const char		*hash, *out;
	char			*user, *pass, *colon;
	ssize_t			 n;
	size_t			 hashlen, ulen, plen;
	int			 ok;

	(void)r;
	(void)done;
	(void)donearg;
	id->ai_cacheable = 1;
	id->ai_reason = "invalid";
	id->ai_verdict = AUTHN_INVALID;
	if (len > AB_B64_MAX || (n = ab_b64_decode(cred, len, buf)) == -1)
		goto malformed;
	buf[n] = '\0';
	if ((colon = memchr(buf, ':', (size_t)n)) == NULL)
		goto malformed;
	user = (char *)buf;
	ulen = (size_t)(colon - user);
	pass = colon + 1;
	plen = (size_t)n - ulen - 1;
	if (ulen == 0 || ulen > AB_USER_MAX || plen > AB_PASS_MAX ||
	    !ab_utf8_ok((unsigned char *)user, ulen) ||
	    !ab_utf8_ok((unsigned char *)pass, plen))
		goto malformed;
	*colon = '\0';

	/*
	 * An unknown user costs one hash of the dummy, like a known one,
	 * and gets the same answer as a wrong password.
	 */
	if ((u = ab_user_find(bs, user)) != NULL) {
		hash = u->au_hash;
		hashlen = u->au_hashlen;
	} else {
		hash = bs->bs_dummy;
		hashlen = strlen(hash);
	}
	out = crypt_rn(pass, hash, bs->bs_cd, sizeof(*bs->bs_cd));
	ok = out != NULL && u != NULL && strlen(out) == hashlen &&
	    CRYPTO_memcmp(out, hash, hashlen) == 0;
	explicit_bzero(bs->bs_cd->output, sizeof(bs->bs_cd->output));
	if (!ok) {
		explicit_bzero(buf, sizeof(buf));
		authn_identity_why(id, "bad user name or password");
		return (0);
	}
	/* ab_parse refused longer names, so a found user fits. */
	if (ulen >= sizeof(id->ai_subject))
		ulen = sizeof(id->ai_subject) - 1;
	memcpy(id->ai_subject, user, ulen);
	id->ai_subject[ulen] = '\0';
	explicit_bzero(buf, sizeof(buf));
	id->ai_verdict = AUTHN_OK;
	id->ai_reason = NULL;
	id->ai_why[0] = '\0';
	return (0);
malformed:
	explicit_bzero(buf, sizeof(buf));
	id->ai_reason = "malformed";
	authn_identity_why(id, "malformed Basic credentials");
	return (0);
}

static int
ab_strip(void *arg, struct mgw_request *r)
{
	(void)arg;
	return (mgw_request_set_header(r, "Authorization", NULL, 0));
}

static uint64_t
ab_epoch(void *arg)
{
	return (((struct ab_state *)arg)->bs_epoch);
}

static const char *
ab_challenge(void *arg)
{
	return (((struct ab_state *)arg)->bs_challenge);
}
