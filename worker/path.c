/*
 * path.c: the request path as the router sees it.  Routing and policy
 * decisions are made on one canonical form so that "/a/%2e%2e/admin",
 * "/a/../admin" and "//admin" cannot reach a resource by a different
 * spelling than the one the configuration names.  Nothing here allocates;
 * workers call it once per request.
 */
#include "config.h"

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "lib.h"
#include "worker.h"

static int	path_is_pchar(unsigned char);

/* RFC 3986 pchar, less pct-encoded: unreserved, sub-delims, ':' and '@'. */
static int
path_is_pchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return (1);
	switch (c) {
	case '-': case '.': case '_': case '~':			/* unreserved */
	case '!': case '$': case '&': case '\'': case '(': case ')':
	case '*': case '+': case ',': case ';': case '=':	/* sub-delims */
	case ':': case '@':
		return (1);
	}
	return (0);
}

/*
 * Normalise the path part of a request target (no query) into out, which
 * must hold inlen + 1 bytes.  Returns the length of the result, which
 * always starts with '/', or -1 if the path must be refused.  Workers call
 * it per request; it does not allocate.
 *
 * Segments are decoded before they are compared with "." and "..", so an
 * encoded dot cannot smuggle a traversal past the router.  An encoded '/'
 * is refused rather than decoded: upstreams disagree on whether "%2F"
 * separates segments, and whichever way we chose, some of them would see
 * a different path than the one we routed.  The output never grows: each
 * byte written stands for at least one byte read, and ".." only removes.
 */
ssize_t
path_normalize(const char *in, size_t inlen, char *out)
{
	const unsigned char	*s = (const unsigned char *)in;
	size_t			 i, o, seg;
	int			 hi, lo;
	unsigned char		 c;

	if (inlen == 0 || s[0] != '/')
		return (-1);
	o = 0;
	out[o++] = '/';
	i = 0;
	for (;;) {
		/* Collapse a run of '/'; out already ends with one. */
		while (i < inlen && s[i] == '/')
			i++;
		if (i == inlen)
			break;

		/* Decode one segment in place at the end of out. */
		seg = o;
		while (i < inlen && s[i] != '/') {
			c = s[i++];
			if (c == '%') {
				if (inlen - i < 2)
					return (-1);
				if ((hi = util_hexval(s[i])) == -1 ||
				    (lo = util_hexval(s[i + 1])) == -1)
					return (-1);
				i += 2;
				c = (unsigned char)(hi << 4 | lo);
				if (c == '/')
					return (-1);
			}
			if (c < 0x20 || c == 0x7f)
				return (-1);	/* includes a decoded NUL */
			out[o++] = (char)c;
		}

		if (o - seg == 1 && out[seg] == '.') {
			o = seg;
			continue;
		}
		if (o - seg == 2 && out[seg] == '.' && out[seg + 1] == '.') {
			if (seg == 1)
				return (-1);	/* above the root */
			/* Drop ".." and the segment before it, keep its '/'. */
			o = seg - 1;
			while (out[o - 1] != '/')
				o--;
			continue;
		}
		/*
		 * A kept segment is followed by '/' only if the input has
		 * one, so "/a/b/" keeps its trailing slash and "/a/b" does
		 * not grow one.
		 */
		if (i < inlen)
			out[o++] = '/';
	}
	return ((ssize_t)o);
}

/*
 * Percent-encode a normalised path into out, which must hold 3 * inlen
 * bytes: every byte that is neither an RFC 3986 pchar nor '/' becomes %XX
 * with uppercase hex, so '%' itself, spaces, '?', '#' and UTF-8 bytes are
 * all escaped.  Returns the length written.  Workers call it when they
 * build the upstream request line; it does not allocate.
 */
size_t
path_encode(const char *in, size_t inlen, char *out)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*s = (const unsigned char *)in;
	size_t			 i, o;

	o = 0;
	for (i = 0; i < inlen; i++) {
		if (s[i] == '/' || path_is_pchar(s[i])) {
			out[o++] = (char)s[i];
			continue;
		}
		out[o++] = '%';
		out[o++] = hex[s[i] >> 4];
		out[o++] = hex[s[i] & 0xf];
	}
	return (o);
}
