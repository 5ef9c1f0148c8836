/*
 * conn.c: client connections: accept, timers, keep-alive, lingering
 * close.  A connection owns one request at a time; pipelined requests
 * wait, unparsed, in its input buffer.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include <llhttp.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "lib.h"
#include "conf-t.h"
#include "shm.h"
#include "worker.h"

static void	conn_read_cb(struct io *, void *);
static void	conn_write_cb(struct io *, void *);
static void	conn_event_cb(struct io *, short, void *);
static void	conn_timer_cb(evutil_socket_t, short, void *);
static void	conn_resume_cb(evutil_socket_t, short, void *);
static void	conn_linger_read_cb(struct io *, void *);
static void	conn_tls_event(struct conn *, short);

/*
 * Answer on the bare socket, in plain text, and half-close it: for a
 * client we will not serve (over max_connections, plain HTTP on a TLS
 * port).  The length is computed, not written by hand, so it cannot
 * drift from the body.
 */
static void
conn_refuse(int fd, int status, const char *code, const char *msg)
{
	char			 buf[512], body[256];
	int			 n, blen, i;

	blen = snprintf(body, sizeof(body), "{\"error\":{\"status\":%d,"
	    "\"code\":\"%s\",\"message\":\"%s\",\"request_id\":\"\"}}\n",
	    status, code, msg);
	n = snprintf(buf, sizeof(buf), "HTTP/1.1 %d %s\r\n"
	    "Content-Type: application/json\r\nContent-Length: %d\r\n"
	    "Connection: close\r\n\r\n%s", status, response_reason(status),
	    blen, body);
	(void)!write(fd, buf, n);
	/*
	 * Closing with unread request bytes makes the kernel send a reset,
	 * which may destroy the 503 before the client reads it.  Take what
	 * has already arrived (the socket is non-blocking, the loop short).
	 */
	shutdown(fd, SHUT_WR);
	for (i = 0; i < 16; i++)
		if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0)
			break;
}

/* Over max_connections (or draining): 503 and close, no connection. */
static void
conn_busy(int fd)
{
	conn_refuse(fd, 503, "service_unavailable", "too many connections");
	close(fd);
}

/*
 * Listener lidx accepted fd.  Worker only.  Over max_connections the
 * client gets a 503 written directly and the socket is closed.
 */
void
conn_accept(int fd, struct sockaddr *sa, int salen, int lidx)
{
	struct conn	*c;
	int		 one = 1;

	if (wenv->we_nconns >= wenv->we_conf->c_limits.max_connections ||
	    wenv->we_draining) {
		conn_busy(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	c->c_fd = fd;
	memcpy(&c->c_peer, sa, salen);
	c->c_peerlen = salen;
	c->c_lidx = lidx;
	c->c_admin = wenv->we_listener_admin[lidx];
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr,
		    c->c_peer_text, sizeof(c->c_peer_text));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr,
		    c->c_peer_text, sizeof(c->c_peer_text));
	else
		snprintf(c->c_peer_text, sizeof(c->c_peer_text), "unix");
	if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->c_pool = pool_new(8192);
	c->c_io = io_new(wenv->we_base, fd);
	c->c_timer = evtimer_new(wenv->we_base, conn_timer_cb, c);
	c->c_resume = event_new(wenv->we_base, -1, 0, conn_resume_cb, c);
	if (c->c_pool == NULL || c->c_io == NULL || c->c_timer == NULL ||
	    c->c_resume == NULL) {
		if (c->c_io == NULL)
			close(fd);
		pool_free(c->c_pool);
		if (c->c_io != NULL)
			io_free(c->c_io);
		if (c->c_timer != NULL)
			event_free(c->c_timer);
		if (c->c_resume != NULL)
			event_free(c->c_resume);
		free(c);
		return;
	}
	if ((size_t)lidx < wenv->we_conf->c_nlisteners)
		c->c_listener = &wenv->we_conf->c_listeners[lidx];
	if (c->c_listener != NULL && c->c_listener->l_tls != NULL &&
	    c->c_listener->l_tls->t_nctx > 0)
		io_tls_accept(c->c_io, c->c_listener->l_tls->t_ctx[0]);
	llhttp_init(&c->c_parser, HTTP_REQUEST, &http_settings);
	c->c_parser.data = c;
	/* Bound what a client can make us buffer; reading resumes below it. */
	io_setwatermark(c->c_io, EV_READ, 0, HTTP_BUF_HIGH);
	io_setwatermark(c->c_io, EV_WRITE, HTTP_BUF_HIGH / 4, 0);
	io_setcb(c->c_io, conn_read_cb, conn_write_cb,
	    conn_event_cb, c);
	TAILQ_INSERT_TAIL(&wenv->we_conns, c, c_entry);
	wenv->we_nconns++;
	if (wenv->we_stats != NULL) {
		atomic_fetch_add_explicit(&wenv->we_stats->st_accepted, 1,
		    memory_order_relaxed);
		atomic_fetch_add_explicit(&wenv->we_stats->st_active, 1,
		    memory_order_relaxed);
	}
	c->c_state = CONN_IDLE;
	conn_timer_set(c, wenv->we_conf->c_limits.header_timeout);
	c->c_head_timed = 1;
	conn_read_enable(c, 1);
}

/* Close now: free everything the connection owns, and its request. */
void
conn_close(struct conn *c)
{
	struct request	*r = c->c_req;

	if (r != NULL)
		request_finalize(r, 1);
	TAILQ_REMOVE(&wenv->we_conns, c, c_entry);
	wenv->we_nconns--;
	if (wenv->we_stats != NULL)
		atomic_fetch_sub_explicit(&wenv->we_stats->st_active, 1,
		    memory_order_relaxed);
	io_free(c->c_io);
	tls_peer_free(c->c_cert);
	tls_peer_free(c->c_hdr_cert);
	event_free(c->c_timer);
	event_free(c->c_resume);
	pool_free(c->c_pool);
	free(c);
	worker_conn_closed();
}

void
conn_read_enable(struct conn *c, int on)
{
	if (on)
		io_enable(c->c_io, EV_READ);
	else
		io_disable(c->c_io, EV_READ);
	c->c_reading = on;
}

/* Arm (ms > 0) or stop (ms == 0) the connection's one timer. */
void
conn_timer_set(struct conn *c, uint64_t ms)
{
	struct timeval	 tv;

	if (ms == 0) {
		evtimer_del(c->c_timer);
		return;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(c->c_timer, &tv);
}

/*
 * The response is queued and the connection stays open: wait for the
 * next request.  Buffered pipelined bytes are parsed from a fresh loop
 * iteration, so a long pipeline cannot recurse.
 */
void
conn_keepalive(struct conn *c)
{
	struct evbuffer	*in = io_get_input(c->c_io);

	c->c_state = CONN_IDLE;
	c->c_paused = 0;
	llhttp_resume(&c->c_parser);
	io_set_timeouts(c->c_io, NULL, NULL);
	if (wenv->we_draining && evbuffer_get_length(in) == 0 &&
	    evbuffer_get_length(io_get_output(c->c_io)) == 0) {
		conn_close(c);
		return;
	}
	conn_timer_set(c, wenv->we_conf->c_limits.keepalive_timeout);
	c->c_head_timed = 0;
	/* Do not read more while our answer is still stuck in the socket. */
	if (evbuffer_get_length(io_get_output(c->c_io)) >
	    HTTP_BUF_HIGH) {
		conn_read_enable(c, 0);
		return;
	}
	conn_read_enable(c, 1);
	if (evbuffer_get_length(in) > 0)
		event_active(c->c_resume, 0, 0);
}

static void
conn_resume_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct conn	*c = arg;

	http_read(c);
}

/*
 * Close after the response: flush, half-close, then read and drop what
 * the client still sends for a moment, so our response is not destroyed
 * by a reset (nginx lingering_close).
 */
void
conn_linger(struct conn *c)
{
	struct evbuffer	*out = io_get_output(c->c_io);

	c->c_state = CONN_LINGER;
	c->c_close = 1;
	if (evbuffer_get_length(out) > 0) {
		struct timeval	 tv;
		uint64_t	 ms = wenv->we_conf->c_limits.send_timeout;

		/* conn_write_cb comes back here once the output is gone. */
		tv.tv_sec = ms / 1000;
		tv.tv_usec = (ms % 1000) * 1000;
		io_set_timeouts(c->c_io, NULL, &tv);
		io_setwatermark(c->c_io, EV_WRITE, 0, 0);
		io_enable(c->c_io, EV_WRITE);
		conn_read_enable(c, 0);
		return;
	}
	io_shutdown(c->c_io);
	evbuffer_drain(io_get_input(c->c_io),
	    evbuffer_get_length(io_get_input(c->c_io)));
	io_setcb(c->c_io, conn_linger_read_cb, NULL,
	    conn_event_cb, c);
	io_set_timeouts(c->c_io, NULL, NULL);
	conn_timer_set(c, HTTP_LINGER_MS);
	conn_read_enable(c, 1);
}

static void
conn_linger_read_cb(struct io *bev, void *arg)
{
	struct evbuffer	*in = io_get_input(bev);

	evbuffer_drain(in, evbuffer_get_length(in));
}

static void
conn_read_cb(struct io *bev, void *arg)
{
	struct conn	*c = arg;

	/*
	 * The first bytes after keep-alive start the header timeout, once:
	 * re-arming it on every read would let a client that trickles the
	 * empty lines llhttp skips before a request hold us for ever.
	 */
	if (c->c_state == CONN_IDLE && !c->c_head_timed) {
		conn_timer_set(c, wenv->we_conf->c_limits.header_timeout);
		c->c_head_timed = 1;
	}
	http_read(c);
}

static void
conn_write_cb(struct io *bev, void *arg)
{
	struct conn	*c = arg;
	struct request	*r = c->c_req;

	if (c->c_state == CONN_LINGER) {
		if (evbuffer_get_length(io_get_output(bev)) == 0)
			conn_linger(c);
		return;
	}
	if (r != NULL && r->r_up != NULL)
		upstream_client_drained(r);
	else if (c->c_state == CONN_IDLE && !c->c_reading)
		conn_keepalive(c);
}

static void
conn_event_cb(struct io *bev, short what, void *arg)
{
	struct conn	*c = arg;
	struct request	*r = c->c_req;

	if (what & (IO_EVENT_HANDSHAKE | IO_EVENT_TLS | IO_EVENT_NOT_TLS)) {
		conn_tls_event(c, what);
		return;
	}
	if (c->c_state == CONN_LINGER) {
		conn_close(c);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) &&
	    r != NULL && r->r_resp == RESP_NONE) {
		/* The request body stalled. */
		if (r->r_up != NULL)
			upstream_abort(r);
		phase_error(r, 408, "request_timeout",
		    "request body timed out");
		return;
	}
	if ((what & BEV_EVENT_EOF) && r != NULL && r->r_state != REQ_HEADER &&
	    r->r_body_done && r->r_resp != RESP_DONE) {
		/*
		 * The client half-closed after a whole request; the answer
		 * may still be delivered (HTTP/1.0 clients do this).
		 */
		conn_read_enable(c, 0);
		return;
	}
	/*
	 * A half-closed client whose answer is queued but not yet written
	 * (the flush is deferred to the end of the loop pass) still gets
	 * it: flush, then close.
	 */
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
	    (r == NULL || r->r_resp == RESP_DONE) &&
	    evbuffer_get_length(io_get_output(c->c_io)) > 0) {
		conn_linger(c);
		return;
	}
	/* Reset, EOF mid-request, send timeout: nothing left to say. */
	if (r != NULL && r->r_status == 0 && (what & BEV_EVENT_EOF))
		r->r_status = 499;	/* logged as nginx does */
	conn_close(c);
}

static void
conn_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct conn	*c = arg;
	struct request	*r = c->c_req;

	switch (c->c_state) {
	case CONN_IDLE:
		conn_close(c);
		break;
	case CONN_ACTIVE:
		if (r != NULL && r->r_state == REQ_HEADER) {
			c->c_close = 1;
			phase_error(r, 408, "request_timeout",
			    "request header timed out");
		} else if (r == NULL) {
			conn_close(c);
		}
		break;
	case CONN_LINGER:
		conn_close(c);
		break;
	}
}

/*
 * Draining: close every keep-alive connection with no request in
 * progress; the others close after their response.  A connection that
 * has not sent its first request yet is not idle: its client connected
 * a moment ago and its request may still be in flight, and unlike a
 * request on a reused connection it cannot be retried safely, so it is
 * served once (header_timeout bounds the wait).
 */
void
conn_drain_idle(void)
{
	struct conn	*c, *next;

	for (c = TAILQ_FIRST(&wenv->we_conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, c_entry);
		if (c->c_state == CONN_IDLE && c->c_nrequests > 0 &&
		    evbuffer_get_length(io_get_input(c->c_io)) == 0 &&
		    evbuffer_get_length(io_get_output(c->c_io)) == 0)
			conn_close(c);
		else
			c->c_close = 1;
	}
}

/*
 * TLS news from io.c: a handshake done (counted; the connection goes
 * on), failed, or plain HTTP on a TLS port (answered in plain text).
 * Failures are the client's doing, so they are logged at info level:
 * a scanner must not flood the log with warnings.
 */
static void
conn_tls_event(struct conn *c, short what)
{
	SSL	*ssl;

	if (what & IO_EVENT_HANDSHAKE) {
		ssl = io_tls(c->c_io);
		if (wenv->we_stats != NULL) {
			atomic_fetch_add_explicit(
			    &wenv->we_stats->st_tls_handshakes, 1,
			    memory_order_relaxed);
			if (ssl != NULL && SSL_session_reused(ssl))
				atomic_fetch_add_explicit(
				    &wenv->we_stats->st_tls_resumed, 1,
				    memory_order_relaxed);
		}
		if (ssl != NULL)
			log_debug("tls: %s: %s %s%s", c->c_peer_text,
			    SSL_get_version(ssl), SSL_get_cipher_name(ssl),
			    SSL_session_reused(ssl) ? " resumed" : "");
		return;
	}
	if (wenv->we_stats != NULL)
		atomic_fetch_add_explicit(&wenv->we_stats->st_tls_failures, 1,
		    memory_order_relaxed);
	if (what & IO_EVENT_NOT_TLS) {
		log_info("tls: %s: plain HTTP on TLS listener %s",
		    c->c_peer_text, c->c_listener != NULL ?
		    c->c_listener->l_name : "?");
		conn_refuse(c->c_fd, 400, "http_on_https_port",
		    "this port speaks HTTPS");
	} else
		log_info("tls: %s: handshake failed: %s", c->c_peer_text,
		    io_tls_error(c->c_io));
	conn_close(c);
}

/*
 * The verified certificate of the TLS peer, derived once per
 * connection.  NULL on a plain connection, without a certificate, or if
 * it did not verify (optional verification lets such a client in only
 * when verify_client is off, and then its certificate means nothing).
 */
const struct conn_cert *
conn_client_cert(struct conn *c)
{
	SSL	*ssl;
	X509	*x;

	if (c->c_cert_done)
		return (c->c_cert);
	c->c_cert_done = 1;
	if ((ssl = io_tls(c->c_io)) == NULL ||
	    c->c_listener == NULL || c->c_listener->l_tls == NULL ||
	    c->c_listener->l_tls->t_verify == CONF_VERIFY_OFF)
		return (NULL);
	if ((x = SSL_get0_peer_certificate(ssl)) == NULL ||
	    SSL_get_verify_result(ssl) != X509_V_OK)
		return (NULL);
	c->c_cert = tls_peer_cert(x);
	return (c->c_cert);
}
