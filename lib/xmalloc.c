/*
 * xmalloc.c: allocation that dies on failure, for the master, the config
 * loader and mgwctl, where running out of memory leaves nothing sensible
 * to do (tmux xmalloc).  Workers use pool_alloc() and handle NULL.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib.h"

void *
xmalloc(size_t size)
{
	void	*p;

	if (size == 0)
		fatalx("xmalloc: zero size");
	if ((p = malloc(size)) == NULL)
		fatalx("xmalloc: allocating %zu bytes: %s", size,
		    strerror(errno));
	return (p);
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void	*p;

	if (size == 0 || nmemb == 0)
		fatalx("xcalloc: zero size");
	if ((p = calloc(nmemb, size)) == NULL)
		fatalx("xcalloc: allocating %zu * %zu bytes: %s", nmemb, size,
		    strerror(errno));
	return (p);
}

void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	void	*p;

	if (nmemb == 0 || size == 0)
		fatalx("xreallocarray: zero size");
	if (nmemb > SIZE_MAX / size)
		fatalx("xreallocarray: %zu * %zu overflows", nmemb, size);
	if ((p = realloc(ptr, nmemb * size)) == NULL)
		fatalx("xreallocarray: allocating %zu * %zu bytes: %s", nmemb,
		    size, strerror(errno));
	return (p);
}

char *
xstrdup(const char *str)
{
	char	*cp;

	if ((cp = strdup(str)) == NULL)
		fatalx("xstrdup: %s", strerror(errno));
	return (cp);
}

char *
xstrndup(const char *str, size_t maxlen)
{
	char	*cp;

	if ((cp = strndup(str, maxlen)) == NULL)
		fatalx("xstrndup: %s", strerror(errno));
	return (cp);
}

int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list	 ap;
	int	 i;

	va_start(ap, fmt);
	i = xvasprintf(ret, fmt, ap);
	va_end(ap);
	return (i);
}

int
xvasprintf(char **ret, const char *fmt, va_list ap)
{
	int	 i;

	i = vasprintf(ret, fmt, ap);
	if (i == -1)
		fatalx("xvasprintf: %s", strerror(errno));
	return (i);
}

/*
 * Add line (malloc'd; taken over, NULL: nothing) to *all as a line of
 * its own: how loaders collect every error before failing once.  Dies
 * on OOM (master only).
 */
void
xlines_append(char **all, char *line)
{
	char	*tmp;

	if (line == NULL)
		return;
	if (*all == NULL) {
		*all = line;
		return;
	}
	xasprintf(&tmp, "%s\n%s", *all, line);
	free(*all);
	free(line);
	*all = tmp;
}
