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

static int
listener_in(const struct listeners *ls, int fd)
{
	size_t	 i;

	for (i = 0; i < ls->n; i++)
		if (ls->ls[i].ls_fd == fd)
			return (1);
	return (0);
}

static void
listener_free_names(struct listeners *ls)
{
	size_t	 i;

	for (i = 0; i < ls->n; i++) {
		free(ls->ls[i].ls_name);
		free(ls->ls[i].ls_addr);
	}
	free(ls->ls);
	ls->ls = NULL;
	ls->n = 0;
}

/*
 * Build into next the listeners conf asks for, sharing with cur the
 * sockets whose address is unchanged and binding the others.  cur is not
 * touched, so a reload can still be abandoned.  All or nothing: if one
 * bind fails, what was bound here is closed and -1 is returned with
 * *cause.  Master only.
 */
int
listener_prepare(const struct listeners *cur, const struct mgw_conf *conf,
    struct listeners *next, char **cause)
{
	struct listener		*nl;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	size_t			 i, j;
	int			*keep;

	nl = xcalloc(conf->c_nlisteners + 1, sizeof(*nl));
	keep = xcalloc(cur->n + 1, sizeof(*keep));
	for (i = 0; i < conf->c_nlisteners; i++) {
		const struct conf_listener *cl = &conf->c_listeners[i];

		nl[i].ls_fd = -1;
		for (j = 0; j < cur->n; j++) {
			sslen = sizeof(ss);
			if (keep[j] || getsockname(cur->ls[j].ls_fd,
			    (struct sockaddr *)&ss, &sslen) == -1)
				continue;
			if (listener_same(&ss, sslen, &cl->l_ss, cl->l_sslen)) {
				nl[i].ls_fd = cur->ls[j].ls_fd;
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
	free(keep);
	next->ls = nl;
	next->n = conf->c_nlisteners;
	return (0);
fail:
	next->ls = nl;
	next->n = i;
	listener_abort(cur, next);
	free(keep);
	return (-1);
}

/* The new set is in force: close what only the old one had. */
void
listener_commit(struct listeners *cur, struct listeners *next)
{
	size_t	 i;

	for (i = 0; i < cur->n; i++)
		if (!listener_in(next, cur->ls[i].ls_fd))
			close(cur->ls[i].ls_fd);
	listener_free_names(cur);
	*cur = *next;
	next->ls = NULL;
	next->n = 0;
}

/* The reload is abandoned: close what only the new set had. */
void
listener_abort(const struct listeners *cur, struct listeners *next)
{
	size_t	 i;

	for (i = 0; i < next->n; i++)
		if (next->ls[i].ls_fd != -1 &&
		    !listener_in(cur, next->ls[i].ls_fd))
			close(next->ls[i].ls_fd);
	listener_free_names(next);
}

/* Startup: prepare and commit at once.  0, or -1 with *cause. */
int
listener_reconcile(struct listeners *ls, const struct mgw_conf *conf,
    char **cause)
{
	struct listeners	 next;

	if (listener_prepare(ls, conf, &next, cause) == -1)
		return (-1);
	listener_commit(ls, &next);
	return (0);
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
