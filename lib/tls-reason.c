/*
 * tls-reason.c: OpenSSL's error queue as one plain reason, for the
 * messages of the master (certificates that do not load) and of the
 * workers (handshakes that fail) alike.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include <openssl/err.h>

#include "lib.h"

/*
 * OpenSSL's reason for the last failure, and the error queue emptied.
 * The first error queued is the root cause (a later one may only say
 * "PEM lib").  Any process; buf holds the text when it is not static.
 */
const char *
tls_reason(char *buf, size_t len)
{
	unsigned long	 e, first = 0;
	const char	*r;

	while ((e = ERR_get_error()) != 0)
		if (first == 0)
			first = e;
	if (first == 0)
		return ("unknown error");
	if (ERR_SYSTEM_ERROR(first))
		return (strerror(ERR_GET_REASON(first)));
	if ((r = ERR_reason_error_string(first)) != NULL)
		return (r);
	ERR_error_string_n(first, buf, len);
	return (buf);
}
