/*
 * io.c: buffered non-blocking sockets for the worker, in the shape of
 * libevent's bufferevent but with nginx's habit of writing at once: data
 * queued to the output is written before the loop sleeps again, and a
 * write event is registered only when the socket would block.  A keep-
 * alive request/response pair so costs no epoll_ctl at all, where a
 * bufferevent adds and removes its write event for every response.
 *
 * TLS lives here too, so that it keeps that property: with an SSL
 * attached, reads go through SSL_read_ex() into the input buffer and
 * writes through SSL_write_ex() from the output buffer, on the same
 * events.  The handshake is driven by whichever readiness OpenSSL asks
 * for and completes before the first read callback; it never blocks.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "lib.h"
#include "conf-t.h"
#include "worker.h"

#define IO_READ_CHUNK	16384	/* bytes per read(2) at most */
#define IO_TLS_WRITE	16384	/* bytes per SSL_write, one full record */
#define IO_TLS_RECORD	0x16	/* first byte of a TLS handshake */

enum io_tls_state {
	IO_TLS_NONE = 0,	/* plain socket */
	IO_TLS_PEEK,		/* server: first byte not seen yet */
	IO_TLS_HANDSHAKE,
	IO_TLS_OPEN
};

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
	SSL		*ssl;		/* NULL: plain */
	SSL_CTX		*tls_ctx;	/* server, until the first byte */
	enum io_tls_state tls_state;
	short		 tls_hs_want;	/* EV_READ or EV_WRITE, handshake */
	int		 tls_rwant_write;	/* SSL_read waits for EV_WRITE */
	int		 tls_wwant_read;	/* SSL_write waits for EV_READ */
	int		 tls_eof;	/* close_notify seen, data delivered */
	int		 tls_fatal;	/* no SSL_shutdown after this */
	char		 tls_err[160];	/* why the handshake failed */
};

static void	io_read_cb(evutil_socket_t, short, void *);
static void	io_write_cb(evutil_socket_t, short, void *);
static void	io_flush_cb(evutil_socket_t, short, void *);
static void	io_out_cb(struct evbuffer *, const struct evbuffer_cb_info *,
		    void *);
static void	io_in_cb(struct evbuffer *, const struct evbuffer_cb_info *,
		    void *);
static void	io_rev_update(struct io *);
static void	io_tls_peek(struct io *);
static void	io_tls_handshake(struct io *);
static void	io_tls_read(struct io *);
static int	io_tls_write(struct io *);
static void	io_tls_fail(struct io *, short);

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
	if (io->ssl != NULL) {
		/* close_notify, once and without waiting for the peer's. */
		if (io->tls_state == IO_TLS_OPEN && !io->tls_fatal) {
			ERR_clear_error();
			SSL_shutdown(io->ssl);
		}
		SSL_free(io->ssl);
		ERR_clear_error();
	}
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
	/* The handshake and a blocked SSL_write read whatever we want. */
	if (!io->closed && ((io->tls_state == IO_TLS_HANDSHAKE &&
	    io->tls_hs_want == EV_READ) || io->tls_wwant_read))
		want = 1;
	if (want && !event_pending(io->rev, EV_READ, NULL))
		event_add(io->rev, io->has_rtv ? &io->rtv : NULL);
	else if (!want && event_pending(io->rev, EV_READ, NULL))
		event_del(io->rev);
	/*
	 * OpenSSL may hold decrypted bytes the socket will not announce
	 * again: read them now that reading is wanted.
	 */
	if (want && io->tls_state == IO_TLS_OPEN &&
	    (SSL_has_pending(io->ssl) || io->tls_eof))
		event_active(io->rev, EV_READ, 1);
}

void
io_enable(struct io *io, short what)
{
	io->enabled |= what;
	io_rev_update(io);
	if ((what & EV_WRITE) && evbuffer_get_length(io->out) > 0 &&
	    !io->connecting && !io->flush_active && !io->wpending &&
	    (io->tls_state == IO_TLS_NONE || io->tls_state == IO_TLS_OPEN)) {
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
	    io->connecting || !(io->enabled & EV_WRITE) || io->closed ||
	    io->tls_state == IO_TLS_PEEK || io->tls_state == IO_TLS_HANDSHAKE)
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

	if (io->ssl != NULL)
		return (io_tls_write(io));
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
	if (io->closed || io->connecting || !(io->enabled & EV_WRITE) ||
	    io->tls_state == IO_TLS_PEEK || io->tls_state == IO_TLS_HANDSHAKE)
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
		if (io->ssl != NULL) {
			/* Connected means handshake done, for the caller. */
			io->tls_state = IO_TLS_HANDSHAKE;
			io_tls_handshake(io);
			return;
		}
		io_rev_update(io);
		/* The callback queues the request; it is flushed right after. */
		io->eventcb(io, BEV_EVENT_CONNECTED, io->arg);
		return;
	}
	if (io->tls_state == IO_TLS_HANDSHAKE) {
		io_tls_handshake(io);
		return;
	}
	if (io->tls_rwant_write) {
		/* SSL_read needed to write: retry it from the read side. */
		io->tls_rwant_write = 0;
		event_active(io->rev, EV_READ, 1);
		if (evbuffer_get_length(io->out) == 0) {
			event_del(io->wev);
			io->wpending = 0;
			return;
		}
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
	switch (io->tls_state) {
	case IO_TLS_PEEK:
		io_tls_peek(io);
		return;
	case IO_TLS_HANDSHAKE:
		io_tls_handshake(io);
		return;
	case IO_TLS_OPEN:
		if (io->tls_wwant_read) {
			io->tls_wwant_read = 0;
			io_rev_update(io);
			if (io_write_now(io) == -1)
				return;
		}
		io_tls_read(io);
		return;
	default:
		break;
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

/*
 * Serve TLS on this accepted socket with ctx (the listener's default
 * context; SNI may switch it).  The SSL is made once the first byte has
 * arrived and shows a handshake: anything else is reported as
 * IO_EVENT_NOT_TLS, so the caller can answer plain HTTP in plain text.
 */
void
io_tls_accept(struct io *io, struct ssl_ctx_st *ctx)
{
	io->tls_ctx = ctx;
	io->tls_state = IO_TLS_PEEK;
}

/*
 * Speak TLS to an upstream once io_socket_connect() has connected:
 * BEV_EVENT_CONNECTED then means the handshake is done.  name goes in
 * SNI (unless it is an address) and is what the certificate must match
 * when ctx verifies.  Call before io_socket_connect().  0, or -1 if no
 * SSL could be made.
 */
int
io_tls_connect(struct io *io, struct ssl_ctx_st *ctx, const char *name)
{
	struct in6_addr	 a6;
	int		 ip;

	ERR_clear_error();
	if ((io->ssl = SSL_new(ctx)) == NULL ||
	    SSL_set_fd(io->ssl, io->fd) != 1) {
		ERR_clear_error();
		return (-1);
	}
	SSL_set_connect_state(io->ssl);
	ip = inet_pton(AF_INET, name, &a6) == 1 ||
	    inet_pton(AF_INET6, name, &a6) == 1;
	if (!ip && SSL_set_tlsext_host_name(io->ssl, name) != 1)
		goto fail;
	if (SSL_get_verify_mode(io->ssl) != SSL_VERIFY_NONE) {
		if (ip) {
			if (X509_VERIFY_PARAM_set1_ip_asc(
			    SSL_get0_param(io->ssl), name) != 1)
				goto fail;
		} else {
			SSL_set_hostflags(io->ssl,
			    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
			if (SSL_set1_host(io->ssl, name) != 1)
				goto fail;
		}
	}
	return (0);
fail:
	ERR_clear_error();
	SSL_free(io->ssl);
	io->ssl = NULL;
	return (-1);
}

/* The connection's SSL once the handshake is under way, or NULL. */
struct ssl_st *
io_tls(struct io *io)
{
	return (io->ssl);
}

/* Why the TLS layer failed, for the log; "" if it did not. */
const char *
io_tls_error(struct io *io)
{
	return (io->tls_err);
}

/*
 * Half-close for a lingering close: close_notify first when TLS is up,
 * so the peer sees a clean end of the stream, then shutdown(2).
 */
void
io_shutdown(struct io *io)
{
	if (io->ssl != NULL && io->tls_state == IO_TLS_OPEN &&
	    !io->tls_fatal) {
		ERR_clear_error();
		SSL_shutdown(io->ssl);
		ERR_clear_error();
		io->tls_fatal = 1;	/* sent: not again in io_free() */
	}
	shutdown(io->fd, SHUT_WR);
}

/* A TLS failure: remember why, stop, and tell the owner. */
static void
io_tls_fail(struct io *io, short what)
{
	char	 buf[160];
	long	 vr;

	io->tls_fatal = 1;
	io->closed = 1;
	vr = io->ssl != NULL ? SSL_get_verify_result(io->ssl) : X509_V_OK;
	if (io->tls_state == IO_TLS_HANDSHAKE && vr != X509_V_OK) {
		snprintf(io->tls_err, sizeof(io->tls_err),
		    "certificate verify failed: %s",
		    X509_verify_cert_error_string(vr));
		ERR_clear_error();
	} else if (ERR_peek_error() == 0 && errno != 0)
		snprintf(io->tls_err, sizeof(io->tls_err), "%s",
		    strerror(errno));
	else if (ERR_peek_error() == 0)
		snprintf(io->tls_err, sizeof(io->tls_err),
		    "connection closed by the peer");
	else
		snprintf(io->tls_err, sizeof(io->tls_err), "%s",
		    tls_reason(buf, sizeof(buf)));
	io_rev_update(io);
	if (io->wpending) {
		event_del(io->wev);
		io->wpending = 0;
	}
	io->eventcb(io, what, io->arg);
}

/* Server: is the first byte a TLS handshake record? */
static void
io_tls_peek(struct io *io)
{
	unsigned char	 b;
	ssize_t		 n;

	n = recv(io->fd, &b, 1, MSG_PEEK);
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
	if (b != IO_TLS_RECORD) {
		io->closed = 1;
		io_rev_update(io);
		snprintf(io->tls_err, sizeof(io->tls_err),
		    "not a TLS handshake (first byte 0x%02x)", b);
		io->eventcb(io, BEV_EVENT_ERROR | IO_EVENT_NOT_TLS, io->arg);
		return;
	}
	ERR_clear_error();
	if ((io->ssl = SSL_new(io->tls_ctx)) == NULL ||
	    SSL_set_fd(io->ssl, io->fd) != 1) {
		io->tls_state = IO_TLS_HANDSHAKE;
		io_tls_fail(io, BEV_EVENT_ERROR | IO_EVENT_TLS);
		return;
	}
	SSL_set_accept_state(io->ssl);
	io->tls_state = IO_TLS_HANDSHAKE;
	io_tls_handshake(io);
}

/*
 * One step of the handshake.  When it completes, a server reports
 * IO_EVENT_HANDSHAKE (the callback must not free io) and reads what
 * came with it; a client reports BEV_EVENT_CONNECTED.
 */
static void
io_tls_handshake(struct io *io)
{
	int	 n, err;

	ERR_clear_error();
	errno = 0;
	n = SSL_do_handshake(io->ssl);
	if (n == 1) {
		io->tls_state = IO_TLS_OPEN;
		io->tls_hs_want = 0;
		if (io->wpending) {
			event_del(io->wev);
			io->wpending = 0;
		}
		io_rev_update(io);
		if (SSL_is_server(io->ssl)) {
			io->eventcb(io, IO_EVENT_HANDSHAKE, io->arg);
			/* A request may have come in the same packets. */
			event_active(io->rev, EV_READ, 1);
		} else
			io->eventcb(io, BEV_EVENT_CONNECTED, io->arg);
		return;
	}
	err = SSL_get_error(io->ssl, n);
	switch (err) {
	case SSL_ERROR_WANT_READ:
		io->tls_hs_want = EV_READ;
		if (io->wpending) {
			event_del(io->wev);
			io->wpending = 0;
		}
		io_rev_update(io);
		break;
	case SSL_ERROR_WANT_WRITE:
		io->tls_hs_want = EV_WRITE;
		io_rev_update(io);
		if (!io->wpending) {
			io->wpending = 1;
			event_add(io->wev, NULL);
		}
		break;
	default:
		io_tls_fail(io, BEV_EVENT_ERROR | IO_EVENT_TLS);
		break;
	}
}

/*
 * Decrypt what there is into the input buffer, up to its high mark, then
 * hand it over.  A close_notify that comes with data is reported on the
 * next loop iteration, after the data.
 */
static void
io_tls_read(struct io *io)
{
	struct evbuffer_iovec	 v;
	size_t			 want, have, n, total = 0;
	int			 r, err, eof = 0, error = 0;

	if (io->tls_eof)
		eof = 1;
	while (!eof) {
		have = evbuffer_get_length(io->in);
		want = IO_READ_CHUNK;
		if (io->rhigh != 0) {
			if (have >= io->rhigh)
				break;
			if (io->rhigh - have < want)
				want = io->rhigh - have;
		}
		if (evbuffer_reserve_space(io->in, want, &v, 1) < 1)
			break;
		if (v.iov_len > want)
			v.iov_len = want;
		ERR_clear_error();
		errno = 0;
		r = SSL_read_ex(io->ssl, v.iov_base, v.iov_len, &n);
		if (r == 1) {
			v.iov_len = n;
			evbuffer_commit_space(io->in, &v, 1);
			total += n;
			continue;
		}
		err = SSL_get_error(io->ssl, r);
		if (err == SSL_ERROR_WANT_READ)
			break;
		if (err == SSL_ERROR_WANT_WRITE) {
			io->tls_rwant_write = 1;
			if (!io->wpending) {
				io->wpending = 1;
				event_add(io->wev, io->has_wtv ?
				    &io->wtv : NULL);
			}
			break;
		}
		if (err == SSL_ERROR_ZERO_RETURN)
			eof = 1;
		else
			error = 1;
		break;
	}
	if (total > 0) {
		if (eof || error) {
			/* After the data: see io_rev_update(). */
			io->tls_eof = 1;
			event_active(io->rev, EV_READ, 1);
		}
		if (io->rhigh != 0 && evbuffer_get_length(io->in) >= io->rhigh)
			io_rev_update(io);
		if (io->readcb != NULL)
			io->readcb(io, io->arg);
		return;
	}
	if (eof) {
		io->tls_eof = 0;
		io->enabled &= ~EV_READ;
		io_rev_update(io);
		io->eventcb(io, BEV_EVENT_EOF | BEV_EVENT_READING, io->arg);
		return;
	}
	if (error)
		io_tls_fail(io, BEV_EVENT_ERROR | BEV_EVENT_READING);
	else if (io->rhigh != 0 && evbuffer_get_length(io->in) >= io->rhigh)
		io_rev_update(io);
}

/*
 * io_write_now() with TLS: whole records from the head of the output,
 * so a response head and its body share one record when they can.
 */
static int
io_tls_write(struct io *io)
{
	unsigned char	*p;
	size_t		 len, n;
	int		 r, err;

	while ((len = evbuffer_get_length(io->out)) > 0) {
		if (len > IO_TLS_WRITE)
			len = IO_TLS_WRITE;
		if ((p = evbuffer_pullup(io->out, len)) == NULL)
			return (0);
		ERR_clear_error();
		errno = 0;
		r = SSL_write_ex(io->ssl, p, len, &n);
		if (r == 1) {
			evbuffer_drain(io->out, n);
			continue;
		}
		err = SSL_get_error(io->ssl, r);
		if (err == SSL_ERROR_WANT_WRITE) {
			if (!io->wpending) {
				io->wpending = 1;
				event_add(io->wev, io->has_wtv ?
				    &io->wtv : NULL);
			}
			return (0);
		}
		if (err == SSL_ERROR_WANT_READ) {
			io->tls_wwant_read = 1;
			io_rev_update(io);
			return (0);
		}
		io_tls_fail(io, BEV_EVENT_ERROR | BEV_EVENT_WRITING);
		return (-1);
	}
	if (io->wpending && !io->tls_rwant_write) {
		event_del(io->wev);
		io->wpending = 0;
	}
	return (1);
}
