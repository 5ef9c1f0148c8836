/*
 * io.c: buffered non-blocking sockets for the worker, in the shape of
 * libevent's bufferevent but with nginx's habit of writing at once: data
 * queued to the output is written before the loop sleeps again, and a
 * write event is registered only when the socket would block.  A keep-
 * alive request/response pair so costs no epoll_ctl at all, where a
 * bufferevent adds and removes its write event for every response.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "lib.h"
#include "worker.h"

#define IO_READ_CHUNK	16384	/* bytes per read(2) at most */

struct io {
	int		 fd;
	struct evbuffer	*in;
	struct evbuffer	*out;
	struct event	*rev;		/* persistent read event */
	struct event	*wev;		/* write readiness or connect */
	struct event	*flush;		/* manual: write before sleeping */
	io_data_cb	*readcb;
	io_data_cb	*writecb;
	io_event_cb	*eventcb;
	void		*arg;
	struct timeval	 rtv, wtv;
	int		 has_rtv, has_wtv;
	short		 enabled;	/* EV_READ, EV_WRITE */
	size_t		 rlow, rhigh;	/* input watermarks, 0 = none */
	size_t		 wlow;		/* output low watermark */
	int		 connecting;
	int		 read_suspended;	/* input at its high mark */
	int		 wpending;	/* wev added: the socket blocked */
	int		 flush_active;
	int		 closed;	/* an error was reported */
};

static void	io_read_cb(evutil_socket_t, short, void *);
static void	io_write_cb(evutil_socket_t, short, void *);
static void	io_flush_cb(evutil_socket_t, short, void *);
static void	io_out_cb(struct evbuffer *, const struct evbuffer_cb_info *,
		    void *);
static void	io_in_cb(struct evbuffer *, const struct evbuffer_cb_info *,
		    void *);
static void	io_rev_update(struct io *);

/* A buffered socket on fd, closed by io_free().  NULL on OOM. */
struct io *
io_new(struct event_base *base, int fd)
{
	struct io	*io;

	if ((io = calloc(1, sizeof(*io))) == NULL)
		return (NULL);
	io->fd = fd;
	io->in = evbuffer_new();
	io->out = evbuffer_new();
	io->rev = event_new(base, fd, EV_READ | EV_PERSIST, io_read_cb, io);
	io->wev = event_new(base, fd, EV_WRITE | EV_PERSIST, io_write_cb, io);
	io->flush = event_new(base, -1, 0, io_flush_cb, io);
	if (io->in == NULL || io->out == NULL || io->rev == NULL ||
	    io->wev == NULL || io->flush == NULL) {
		io->fd = -1;
		io_free(io);
		return (NULL);
	}
	io->enabled = EV_WRITE;
	evbuffer_add_cb(io->out, io_out_cb, io);
	evbuffer_add_cb(io->in, io_in_cb, io);
	return (io);
}

/* Free the buffers and events and close the socket.  NULL is a no-op. */
void
io_free(struct io *io)
{
	if (io == NULL)
		return;
	if (io->rev != NULL)
		event_free(io->rev);
	if (io->wev != NULL)
		event_free(io->wev);
	if (io->flush != NULL)
		event_free(io->flush);
	if (io->in != NULL)
		evbuffer_free(io->in);
	if (io->out != NULL)
		evbuffer_free(io->out);
	if (io->fd != -1)
		close(io->fd);
	free(io);
}

struct evbuffer *
io_get_input(struct io *io)
{
	return (io->in);
}

struct evbuffer *
io_get_output(struct io *io)
{
	return (io->out);
}

int
io_getfd(struct io *io)
{
	return (io->fd);
}

void
io_setcb(struct io *io, io_data_cb *r, io_data_cb *w, io_event_cb *e,
    void *arg)
{
	io->readcb = r;
	io->writecb = w;
	io->eventcb = e;
	io->arg = arg;
}

/*
 * Watermarks as bufferevent's: reading stops while the input holds rhigh
 * bytes or more; the write callback runs when the output drains to wlow.
 */
void
io_setwatermark(struct io *io, short what, size_t low, size_t high)
{
	if (what & EV_READ) {
		io->rlow = low;
		io->rhigh = high;
		io_rev_update(io);
	}
	if (what & EV_WRITE)
		io->wlow = low;
}

/* Inactivity timeouts for reading and for a blocked write; NULL: none. */
void
io_set_timeouts(struct io *io, const struct timeval *r,
    const struct timeval *w)
{
	int	 same;

	/* Re-arming a pending event costs a heap operation: skip no-ops. */
	same = io->has_rtv == (r != NULL) && io->has_wtv == (w != NULL) &&
	    (r == NULL || (r->tv_sec == io->rtv.tv_sec &&
	    r->tv_usec == io->rtv.tv_usec)) &&
	    (w == NULL || (w->tv_sec == io->wtv.tv_sec &&
	    w->tv_usec == io->wtv.tv_usec));
	if (same)
		return;
	io->has_rtv = r != NULL;
	if (r != NULL)
		io->rtv = *r;
	io->has_wtv = w != NULL;
	if (w != NULL)
		io->wtv = *w;
	if (event_pending(io->rev, EV_READ, NULL))
		event_add(io->rev, io->has_rtv ? &io->rtv : NULL);
	if (io->wpending)
		event_add(io->wev, io->has_wtv ? &io->wtv : NULL);
}

/* Keep the read event registered exactly when reading is wanted. */
static void
io_rev_update(struct io *io)
{
	int	 want;

	io->read_suspended = io->rhigh != 0 &&
	    evbuffer_get_length(io->in) >= io->rhigh;
	want = (io->enabled & EV_READ) && !io->read_suspended &&
	    !io->connecting && !io->closed;
	if (want && !event_pending(io->rev, EV_READ, NULL))
		event_add(io->rev, io->has_rtv ? &io->rtv : NULL);
	else if (!want && event_pending(io->rev, EV_READ, NULL))
		event_del(io->rev);
}

void
io_enable(struct io *io, short what)
{
	io->enabled |= what;
	io_rev_update(io);
	if ((what & EV_WRITE) && evbuffer_get_length(io->out) > 0 &&
	    !io->connecting && !io->flush_active && !io->wpending) {
		io->flush_active = 1;
		event_active(io->flush, 0, 0);
	}
}

void
io_disable(struct io *io, short what)
{
	io->enabled &= ~what;
	io_rev_update(io);
	if ((what & EV_WRITE) && io->wpending) {
		event_del(io->wev);
		io->wpending = 0;
	}
}

short
io_get_enabled(struct io *io)
{
	return (io->enabled);
}

/*
 * Start a non-blocking connect; the event callback gets
 * BEV_EVENT_CONNECTED or BEV_EVENT_ERROR.  -1 with errno if connect(2)
 * failed at once.
 */
int
io_socket_connect(struct io *io, const struct sockaddr *sa, socklen_t len)
{
	if (connect(io->fd, sa, len) == -1 && errno != EINPROGRESS)
		return (-1);
	io->connecting = 1;
	io_rev_update(io);
	io->wpending = 1;
	event_add(io->wev, NULL);
	return (0);
}

/* Queued output: write it before the loop next waits for events. */
static void
io_out_cb(struct evbuffer *b, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct io	*io = arg;

	if (info->n_added == 0 || io->flush_active || io->wpending ||
	    io->connecting || !(io->enabled & EV_WRITE) || io->closed)
		return;
	io->flush_active = 1;
	event_active(io->flush, 0, 0);
}

/* Input drained below the high mark: read again. */
static void
io_in_cb(struct evbuffer *b, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct io	*io = arg;

	if (info->n_deleted > 0 && io->read_suspended)
		io_rev_update(io);
}

/*
 * Write what the output holds.  Returns 1 if all of it went, 0 if the
 * socket would block (the write event is then armed), -1 on error (the
 * event callback has run: io may be gone).
 */
static int
io_write_now(struct io *io)
{
	int	 n, err;

	while (evbuffer_get_length(io->out) > 0) {
		n = evbuffer_write(io->out, io->fd);
		if (n > 0)
			continue;
		err = errno;
		if (n == -1 && (err == EAGAIN || err == EINTR)) {
			if (err == EINTR)
				continue;
			if (!io->wpending) {
				io->wpending = 1;
				event_add(io->wev, io->has_wtv ?
				    &io->wtv : NULL);
			}
			return (0);
		}
		io->closed = 1;
		io_rev_update(io);
		errno = err;
		io->eventcb(io, BEV_EVENT_ERROR | BEV_EVENT_WRITING, io->arg);
		return (-1);
	}
	if (io->wpending) {
		event_del(io->wev);
		io->wpending = 0;
	}
	return (1);
}

static void
io_flush_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct io	*io = arg;

	io->flush_active = 0;
	if (io->closed || io->connecting || !(io->enabled & EV_WRITE))
		return;
	if (io_write_now(io) == -1)
		return;
	if (evbuffer_get_length(io->out) <= io->wlow && io->writecb != NULL)
		io->writecb(io, io->arg);
}

static void
io_write_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct io	*io = arg;
	socklen_t	 len;
	int		 err = 0;

	if (io->connecting) {
		len = sizeof(err);
		if (getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (ev & EV_TIMEOUT)
			err = ETIMEDOUT;
		io->connecting = 0;
		event_del(io->wev);
		io->wpending = 0;
		if (err != 0) {
			io->closed = 1;
			errno = err;
			io->eventcb(io, BEV_EVENT_ERROR, io->arg);
			return;
		}
		io_rev_update(io);
		/* The callback queues the request; it is flushed right after. */
		io->eventcb(io, BEV_EVENT_CONNECTED, io->arg);
		return;
	}
	if (ev & EV_TIMEOUT) {
		event_del(io->wev);
		io->wpending = 0;
		io->eventcb(io, BEV_EVENT_TIMEOUT | BEV_EVENT_WRITING, io->arg);
		return;
	}
	if (io_write_now(io) == -1)
		return;
	if (evbuffer_get_length(io->out) <= io->wlow && io->writecb != NULL)
		io->writecb(io, io->arg);
}

static void
io_read_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct io		*io = arg;
	struct evbuffer_iovec	 v;
	size_t			 want = IO_READ_CHUNK, have;
	ssize_t			 n;

	if (ev & EV_TIMEOUT) {
		/* As bufferevent: a read timeout stops reading. */
		io->enabled &= ~EV_READ;
		io_rev_update(io);
		io->eventcb(io, BEV_EVENT_TIMEOUT | BEV_EVENT_READING, io->arg);
		return;
	}
	have = evbuffer_get_length(io->in);
	if (io->rhigh != 0) {
		if (have >= io->rhigh) {
			io_rev_update(io);
			return;
		}
		if (io->rhigh - have < want)
			want = io->rhigh - have;
	}
	if (evbuffer_reserve_space(io->in, want, &v, 1) < 1)
		return;
	if (v.iov_len > want)
		v.iov_len = want;
	n = read(io->fd, v.iov_base, v.iov_len);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		io->closed = 1;
		io_rev_update(io);
		io->eventcb(io, BEV_EVENT_ERROR | BEV_EVENT_READING, io->arg);
		return;
	}
	if (n == 0) {
		io->enabled &= ~EV_READ;
		io_rev_update(io);
		io->eventcb(io, BEV_EVENT_EOF | BEV_EVENT_READING, io->arg);
		return;
	}
	v.iov_len = n;
	evbuffer_commit_space(io->in, &v, 1);
	if (io->rhigh != 0 && evbuffer_get_length(io->in) >= io->rhigh)
		io_rev_update(io);
	if (evbuffer_get_length(io->in) >= io->rlow && io->readcb != NULL)
		io->readcb(io, io->arg);
}
