/*
 * head-check.c: mgw's own strict scan of a request head, run over the raw
 * bytes before llhttp sees them, so that what reaches an upstream does not
 * depend on the parser's version.  One pass, no allocation; the state
 * lives in the connection so a head may arrive in pieces.
 *
 * Refused (400 and close), each as RFC 9112/9110 say:
 *   a bare CR anywhere in the request line or the header section
 *	(RFC 9112 section 2.2 lets a recipient reject it or read it as SP;
 *	mgw rejects);
 *   an empty field name, or one that is not a token (RFC 9110 5.6.2);
 *   whitespace between a field name and its colon (RFC 9112 section 5.1);
 *   whitespace before the first field line (RFC 9112 section 2.2);
 *   NUL or another CTL but HTAB in a field value (RFC 9110 section 5.5).
 * A bare LF is taken as a line terminator (RFC 9112 section 2.2 allows
 * it); the parser may still refuse it.  obs-fold, a field line starting
 * with SP or HTAB, is let through: it is taken as part of the value and
 * reaches the upstream as spaces (RFC 9112 section 5.2 allows this or a
 * 400; the black-box tests hold mgw to the spaces).  obs-text (0x80-0xff)
 * is allowed in values.  Empty lines before the request line are skipped,
 * as llhttp does (RFC 9112 section 2.2); a bare CR there closes the
 * connection without an answer.  The body is never scanned.
 */
#include "config.h"

#include <sys/types.h>

#include <stddef.h>

#include "head-check.h"

/* RFC 9110 section 5.6.2: tchar. */
static int
head_check_tchar(unsigned char ch)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9'))
		return (1);
	switch (ch) {
	case '!': case '#': case '$': case '%': case '&': case '\'':
	case '*': case '+': case '-': case '.': case '^': case '_':
	case '`': case '|': case '~':
		return (1);
	}
	return (0);
}

void
head_check_init(struct head_check *hc)
{
	hc->hc_state = HC_START;
}

/*
 * Scan n bytes of a head from p.  Returns NULL and sets *len to the bytes
 * that belong to the head: n, or fewer when the head ends within them
 * (the state is then HC_BODY until head_check_init()).  Returns the rule
 * broken, a static string, with *len the offset of the offending byte.
 */
const char *
head_check_scan(struct head_check *hc, const char *p, size_t n, size_t *len)
{
	const unsigned char	*s = (const unsigned char *)p;
	int			 st = hc->hc_state;
	const char		*why = NULL;
	size_t			 i;

	for (i = 0; i < n && st != HC_BODY; i++) {
		unsigned char	 ch = s[i];

		switch (st) {
		case HC_START:
			if (ch == '\r')
				st = HC_START_CR;
			else if (ch != '\n')
				st = HC_RLINE;
			break;
		case HC_START_CR:
		case HC_RLINE_CR:
		case HC_VALUE_CR:
		case HC_END_CR:
			if (ch != '\n') {
				why = "bare CR in the request head";
				goto bad;
			}
			st = st == HC_START_CR ? HC_START :
			    st == HC_END_CR ? HC_BODY :
			    st == HC_RLINE_CR ? HC_FIRST : HC_LINE;
			break;
		case HC_RLINE:
			if (ch == '\r')
				st = HC_RLINE_CR;
			else if (ch == '\n')
				st = HC_FIRST;
			break;
		case HC_FIRST:
		case HC_LINE:
			if (ch == '\r')
				st = HC_END_CR;
			else if (ch == '\n')
				st = HC_BODY;
			else if ((ch == ' ' || ch == '\t') && st == HC_FIRST) {
				why = "whitespace before the first header";
				goto bad;
			} else if (ch == ' ' || ch == '\t')
				st = HC_VALUE;		/* obs-fold */
			else if (ch == ':') {
				why = "empty header field name";
				goto bad;
			} else if (head_check_tchar(ch))
				st = HC_NAME;
			else {
				why = "invalid character in a header name";
				goto bad;
			}
			break;
		case HC_NAME:
			if (ch == ':')
				st = HC_VALUE;
			else if (ch == ' ' || ch == '\t') {
				why = "whitespace before a header colon";
				goto bad;
			} else if (ch == '\r' || ch == '\n') {
				why = "header line without a colon";
				goto bad;
			} else if (!head_check_tchar(ch)) {
				why = "invalid character in a header name";
				goto bad;
			}
			break;
		case HC_VALUE:
			if (ch == '\r')
				st = HC_VALUE_CR;
			else if (ch == '\n')
				st = HC_LINE;
			else if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
				why = "control character in a header value";
				goto bad;
			}
			break;
		}
	}
	hc->hc_state = st;
	*len = i;
	return (NULL);
bad:
	hc->hc_state = HC_BAD;
	*len = i;
	return (why);
}
