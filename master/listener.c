/*
 * listener.c: listening sockets, bound by the master and inherited by
 * every worker.  On reload a socket whose address is unchanged is kept as
 * it is, so its accept queue never goes away and no client is refused.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib.h"
#include "master.h"

static int
listener_same(const struct sockaddr_storage *a, socklen_t alen,
    const struct sockaddr_storage *b, socklen_t blen)
{
	return (alen == blen && memcmp(a, b, alen) == 0);
}

static int
listener_bind(const struct conf_listener *cl, char **cause)
{
	int	 fd, one = 1;

	fd = socket(cl->l_ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		xasprintf(cause, "listener %s: socket: %s", cl->l_name,
		    strerror(errno));
		return (-1);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (cl->l_ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&cl->l_ss, cl->l_sslen) == -1) {
		xasprintf(cause, "listener %s: bind %s: %s", cl->l_name,
		    cl->l_listen, strerror(errno));
		close(fd);
		return (-1);
	}
	if (listen(fd, cl->l_backlog) == -1) {
		xasprintf(cause, "listener %s: listen %s: %s", cl->l_name,
		    cl->l_listen, strerror(errno));
		close(fd);
		return (-1);
	}
	return (fd);
}

/*
 * Make ls match conf: keep sockets bound to an unchanged address, bind
 * the new ones, close the ones no longer configured.  All or nothing: if
 * one bind fails, the sockets bound here are closed, ls is untouched and
 * -1 is returned with *cause.  Master only.
 */
int
listener_reconcile(struct listeners *ls, const struct mgw_conf *conf,
    char **cause)
{
	struct listener		*nl;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	size_t			 i, j;
	int			*keep;

	nl = xcalloc(conf->c_nlisteners + 1, sizeof(*nl));
	keep = xcalloc(ls->n + 1, sizeof(*keep));
	for (i = 0; i < conf->c_nlisteners; i++) {
		const struct conf_listener *cl = &conf->c_listeners[i];

		nl[i].ls_fd = -1;
		for (j = 0; j < ls->n; j++) {
			sslen = sizeof(ss);
			if (keep[j] || getsockname(ls->ls[j].ls_fd,
			    (struct sockaddr *)&ss, &sslen) == -1)
				continue;
			if (listener_same(&ss, sslen, &cl->l_ss, cl->l_sslen)) {
				nl[i].ls_fd = ls->ls[j].ls_fd;
				keep[j] = 1;
				/* A new backlog applies to a kept socket too. */
				listen(nl[i].ls_fd, cl->l_backlog);
				break;
			}
		}
		if (nl[i].ls_fd == -1 &&
		    (nl[i].ls_fd = listener_bind(cl, cause)) == -1)
			goto fail;
		nl[i].ls_name = xstrdup(cl->l_name);
		nl[i].ls_addr = xstrdup(cl->l_listen);
		nl[i].ls_admin = cl->l_admin;
		nl[i].ls_mark = 1;
	}
	for (j = 0; j < ls->n; j++) {
		if (!keep[j])
			close(ls->ls[j].ls_fd);
		free(ls->ls[j].ls_name);
		free(ls->ls[j].ls_addr);
	}
	free(ls->ls);
	free(keep);
	ls->ls = nl;
	ls->n = conf->c_nlisteners;
	return (0);
fail:
	/* Close only what this call bound; kept sockets stay with ls. */
	for (j = 0; j < i; j++) {
		size_t	 k;
		int	 kept = 0;

		for (k = 0; k < ls->n; k++)
			if (ls->ls[k].ls_fd == nl[j].ls_fd)
				kept = 1;
		if (!kept)
			close(nl[j].ls_fd);
		free(nl[j].ls_name);
		free(nl[j].ls_addr);
	}
	free(nl);
	free(keep);
	return (-1);
}

void
listener_closeall(struct listeners *ls)
{
	size_t	 i;

	for (i = 0; i < ls->n; i++) {
		close(ls->ls[i].ls_fd);
		free(ls->ls[i].ls_name);
		free(ls->ls[i].ls_addr);
	}
	free(ls->ls);
	ls->ls = NULL;
	ls->n = 0;
}
