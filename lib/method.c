/*
 * method.c: the HTTP methods the gateway tells apart (the configuration's
 * methods lists, routing, metrics), by name and by index.
 */
#include "config.h"

#include <sys/types.h>

#include <string.h>

#include "lib.h"

static const char *const method_names[METHOD_MAX] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"
};

/* "GET" for METHOD_GET; NULL for a value out of range.  Any process. */
const char *
method_name(int m)
{
	if (m < 0 || m >= METHOD_MAX)
		return (NULL);
	return (method_names[m]);
}

/*
 * The enum method for the len bytes at s, matched exactly (methods are
 * case-sensitive); -1 if it is not one we know.  Any process.
 */
int
method_parse(const char *s, size_t len)
{
	int	 i;

	for (i = 0; i < METHOD_MAX; i++) {
		if (strlen(method_names[i]) == len &&
		    memcmp(method_names[i], s, len) == 0)
			return (i);
	}
	return (-1);
}
