/*
 * control.c: the control socket, daemon side.  mgwctl connects, says
 * HELLO with our protocol version, sends one command and waits for one
 * CTL_OK or CTL_FAIL; we then close the connection.  Everything runs in
 * the master's event loop, so the master_*() calls below happen in loop
 * context, never in a signal handler.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "lib.h"
#include "ctl-msg.h"
#include "master.h"
#include "authn.h"
#include "shm.h"

#define CONTROL_CLIENTS_MAX	32
#define CONTROL_BACKLOG		16
#define CONTROL_IDLE_TIMEOUT	10	/* seconds to send the command */
#define CONTROL_WRITE_TIMEOUT	10	/* seconds to take the reply */
#define CONTROL_ACCEPT_PAUSE	1	/* seconds, when out of descriptors */

enum control_stop {
	CONTROL_STOP_NONE = 0,
	CONTROL_STOP_GRACEFUL,
	CONTROL_STOP_FAST
};

struct control_client {
	TAILQ_ENTRY(control_client)	 cc_entry;
	struct bufferevent		*cc_bev;
	int				 cc_hello;	/* version agreed */
	int				 cc_done;	/* command taken */
	int				 cc_closing;	/* close once flushed */
	enum control_stop		 cc_stop;	/* after the reply */
};
TAILQ_HEAD(control_clients, control_client);

static struct {
	struct event_base	*base;
	int			 fd;
	struct event		*ev_accept;
	struct event		*ev_pause;	/* re-enables accept */
	char			*path;
	dev_t			 dev;		/* of the socket we bound */
	ino_t			 ino;
	struct control_clients	 clients;
	size_t			 nclients;
	struct control_client	*waiter;	/* of an accepted reload */
} control = { .fd = -1 };

static int	control_check_stale(const struct sockaddr_un *, char **);
static void	control_accept_cb(evutil_socket_t, short, void *);
static void	control_pause_cb(evutil_socket_t, short, void *);
static void	control_client_new(int);
static void	control_client_free(struct control_client *);
static void	control_client_done(struct control_client *);
static void	control_read_cb(struct bufferevent *, void *);
static void	control_write_cb(struct bufferevent *, void *);
static void	control_event_cb(struct bufferevent *, short, void *);
static void	control_dispatch(struct control_client *,
		    const struct ctl_hdr *, const char *);
static void	control_reply(struct control_client *, uint32_t,
		    const char *);
static void	control_revoke(struct control_client *, const char *);

/*
 * Decide what to do with something already at path.  A socket that
 * nobody answers on is what a crashed mgwd leaves behind, so it goes; a
 * socket with a live listener means another mgwd owns it, and anything
 * else is not ours to remove.  0 if path is free now, or -1 with *cause.
 */
static int
control_check_stale(const struct sockaddr_un *sun, char **cause)
{
	const char		*path = sun->sun_path;
	struct stat		 st;
	int			 fd, rv;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return (0);
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if (!S_ISSOCK(st.st_mode)) {
		xasprintf(cause, "%s exists and is not a socket", path);
		return (-1);
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		return (-1);
	}
	/*
	 * Non-blocking, so a live daemon with a full backlog answers EAGAIN
	 * at once instead of stalling our startup.
	 */
	rv = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	if (rv == 0 || errno == EAGAIN || errno == EINPROGRESS) {
		close(fd);
		xasprintf(cause, "another mgwd is running on %s", path);
		return (-1);
	}
	if (errno != ECONNREFUSED) {
		xasprintf(cause, "connect %s: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	close(fd);
	if (unlink(path) == -1 && errno != ENOENT) {
		xasprintf(cause, "unlink stale %s: %s", path, strerror(errno));
		return (-1);
	}
	log_info("removed stale control socket %s", path);
	return (0);
}

/*
 * Listen on the control socket path.  A stale socket is removed, the new
 * one is bound under umask 0117 (so it is never reachable by others, not
 * even for a moment), then set to mode 0660 and to group (NULL: keep the
 * creator's, root in production).  The accept event is registered on
 * base.  Master only, once per control_fini().  Returns 0, or -1 with
 * *cause and nothing left behind.
 */
int
control_init(struct event_base *base, const char *path, const char *group,
    char **cause)
{
	struct sockaddr_un	 sun;
	struct group		*gr;
	struct stat		 st;
	gid_t			 gid = (gid_t)-1;
	mode_t			 old_umask;
	int			 fd = -1, bound = 0;

	if (control.fd != -1) {
		xasprintf(cause, "control socket %s already open",
		    control.path);
		return (-1);
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		xasprintf(cause, "control socket path too long: %s", path);
		return (-1);
	}
	memcpy(sun.sun_path, path, strlen(path));
	/* Before touching the file system, so a typo changes nothing. */
	if (group != NULL) {
		errno = 0;
		if ((gr = getgrnam(group)) == NULL) {
			if (errno != 0)
				xasprintf(cause, "group %s: %s", group,
				    strerror(errno));
			else
				xasprintf(cause, "unknown group %s", group);
			return (-1);
		}
		gid = gr->gr_gid;
	}
	if (control_check_stale(&sun, cause) == -1)
		return (-1);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		goto fail;
	}
	old_umask = umask(0117);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		xasprintf(cause, "bind %s: %s", path, strerror(errno));
		umask(old_umask);
		goto fail;
	}
	umask(old_umask);
	bound = 1;
	if (chmod(path, 0660) == -1) {
		xasprintf(cause, "chmod %s: %s", path, strerror(errno));
		goto fail;
	}
	if (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) == -1) {
		xasprintf(cause, "chown %s: %s", path, strerror(errno));
		goto fail;
	}
	/* Remember which file is ours so fini never removes a successor's. */
	if (stat(path, &st) == -1) {
		xasprintf(cause, "stat %s: %s", path, strerror(errno));
		goto fail;
	}
	if (listen(fd, CONTROL_BACKLOG) == -1) {
		xasprintf(cause, "listen %s: %s", path, strerror(errno));
		goto fail;
	}
	control.ev_accept = event_new(base, fd, EV_READ | EV_PERSIST,
	    control_accept_cb, NULL);
	control.ev_pause = evtimer_new(base, control_pause_cb, NULL);
	if (control.ev_accept == NULL || control.ev_pause == NULL ||
	    event_add(control.ev_accept, NULL) == -1) {
		xasprintf(cause, "%s: cannot register events", path);
		goto fail;
	}

	control.base = base;
	control.fd = fd;
	control.path = xstrdup(path);
	control.dev = st.st_dev;
	control.ino = st.st_ino;
	TAILQ_INIT(&control.clients);
	control.nclients = 0;
	control.waiter = NULL;
	log_debug("control socket listening on %s", path);
	return (0);

fail:
	if (control.ev_accept != NULL)
		event_free(control.ev_accept);
	if (control.ev_pause != NULL)
		event_free(control.ev_pause);
	control.ev_accept = control.ev_pause = NULL;
	if (bound)
		unlink(path);
	if (fd != -1)
		close(fd);
	return (-1);
}

/*
 * Close the listener and every client (a pending reload verdict is lost)
 * and unlink the socket if it is still the one we bound.  Master only;
 * a no-op when not initialised.
 */
void
control_fini(void)
{
	struct control_client	*cc;
	struct stat		 st;

	if (control.fd == -1)
		return;
	control.waiter = NULL;
	while ((cc = TAILQ_FIRST(&control.clients)) != NULL)
		control_client_free(cc);
	event_free(control.ev_accept);
	event_free(control.ev_pause);
	control.ev_accept = control.ev_pause = NULL;
	close(control.fd);
	control.fd = -1;
	if (stat(control.path, &st) == 0 && st.st_dev == control.dev &&
	    st.st_ino == control.ino)
		unlink(control.path);
	free(control.path);
	control.path = NULL;
	control.base = NULL;
}

/*
 * In a freshly forked worker: close the descriptors inherited from the
 * master's control socket without touching the master's event loop (its
 * epoll set is shared across fork, so no event_del here) and without
 * unlinking the socket.
 */
void
control_close_inherited(void)
{
	struct control_client	*cc;

	if (control.fd == -1)
		return;
	TAILQ_FOREACH(cc, &control.clients, cc_entry)
		close(bufferevent_getfd(cc->cc_bev));
	close(control.fd);
}

/*
 * Send the verdict of an accepted reload to the client that asked for
 * it, if it is still connected: ok with cause as the message (NULL: a
 * plain one), or the failure cause.  Master only, from its event loop.
 */
void
control_reload_done(int ok, const char *cause)
{
	struct control_client	*cc;

	if ((cc = control.waiter) == NULL)
		return;
	control.waiter = NULL;
	if (ok)
		control_reply(cc, CTL_OK, cause != NULL ? cause : "reload ok");
	else
		control_reply(cc, CTL_FAIL,
		    cause != NULL ? cause : "reload failed");
}

static void
control_accept_cb(evutil_socket_t lfd, short events, void *arg)
{
	struct timeval	 tv = { CONTROL_ACCEPT_PAUSE, 0 };
	int		 fd;

	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		switch (errno) {
		case EINTR:
		case EAGAIN:
		case ECONNABORTED:
			return;
		case EMFILE:
		case ENFILE:
			/*
			 * The listener stays readable, so pause it rather
			 * than spin on the same error.
			 */
			log_warn("%s: accept", __func__);
			event_del(control.ev_accept);
			evtimer_add(control.ev_pause, &tv);
			return;
		default:
			log_warn("%s: accept", __func__);
			return;
		}
	}
	if (control.nclients >= CONTROL_CLIENTS_MAX) {
		log_warnx("control: too many clients, dropping one");
		close(fd);
		return;
	}
	control_client_new(fd);
}

static void
control_pause_cb(evutil_socket_t fd, short events, void *arg)
{
	if (control.ev_accept != NULL)
		event_add(control.ev_accept, NULL);
}

static void
control_client_new(int fd)
{
	struct control_client	*cc;
	struct timeval		 rtv = { CONTROL_IDLE_TIMEOUT, 0 };
	struct timeval		 wtv = { CONTROL_WRITE_TIMEOUT, 0 };

	cc = xcalloc(1, sizeof(*cc));
	cc->cc_bev = bufferevent_socket_new(control.base, fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (cc->cc_bev == NULL) {
		log_warnx("%s: bufferevent_socket_new failed", __func__);
		close(fd);
		free(cc);
		return;
	}
	bufferevent_setcb(cc->cc_bev, control_read_cb, control_write_cb,
	    control_event_cb, cc);
	/* Never buffer more than one message and a header. */
	bufferevent_setwatermark(cc->cc_bev, EV_READ, 0,
	    sizeof(struct ctl_hdr) * 2 + CTL_MSG_MAX);
	bufferevent_set_timeouts(cc->cc_bev, &rtv, &wtv);
	if (bufferevent_enable(cc->cc_bev, EV_READ) == -1) {
		log_warnx("%s: bufferevent_enable failed", __func__);
		bufferevent_free(cc->cc_bev);
		free(cc);
		return;
	}
	TAILQ_INSERT_TAIL(&control.clients, cc, cc_entry);
	control.nclients++;
}

static void
control_client_free(struct control_client *cc)
{
	if (control.waiter == cc)
		control.waiter = NULL;
	TAILQ_REMOVE(&control.clients, cc, cc_entry);
	control.nclients--;
	bufferevent_free(cc->cc_bev);
	free(cc);
}

/*
 * The client is finished, by our choice or its own.  A stop it asked for
 * happens now, after the client is gone, because master_stop() may well
 * call control_fini() and free every client.
 */
static void
control_client_done(struct control_client *cc)
{
	enum control_stop	stop = cc->cc_stop;

	control_client_free(cc);
	if (stop != CONTROL_STOP_NONE)
		master_stop(stop == CONTROL_STOP_GRACEFUL ? 1 : 0);
}

static void
control_read_cb(struct bufferevent *bev, void *arg)
{
	struct control_client	*cc = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct ctl_hdr		 hdr;
	unsigned char		*data;
	char			*payload;
	size_t			 len;
	ssize_t			 total;

	/* HELLO and the command usually arrive in one read. */
	for (;;) {
		len = evbuffer_get_length(in);
		/* One command per connection: later bytes are thrown away. */
		if (cc->cc_done || cc->cc_closing) {
			evbuffer_drain(in, len);
			return;
		}
		if (len < sizeof(hdr))
			return;
		if ((data = evbuffer_pullup(in, -1)) == NULL) {
			control_client_done(cc);
			return;
		}
		if ((total = ctl_msg_complete(data, len)) == -1) {
			log_warnx("control: malformed message, closing");
			control_client_done(cc);
			return;
		}
		if (total == 0)
			return;
		memcpy(&hdr, data, sizeof(hdr));
		payload = xmalloc((size_t)hdr.len + 1);
		memcpy(payload, data + sizeof(hdr), hdr.len);
		payload[hdr.len] = '\0';
		evbuffer_drain(in, (size_t)total);
		control_dispatch(cc, &hdr, payload);
		free(payload);
		/* A master_*() call may have shut the control socket. */
		if (control.fd == -1)
			return;
	}
}

static void
control_write_cb(struct bufferevent *bev, void *arg)
{
	struct control_client	*cc = arg;

	if (cc->cc_closing &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		control_client_done(cc);
}

static void
control_event_cb(struct bufferevent *bev, short events, void *arg)
{
	struct control_client	*cc = arg;

	if (events & BEV_EVENT_TIMEOUT)
		log_debug("control: client timed out");
	else if (events & BEV_EVENT_ERROR)
		log_debug("control: client error: %s", strerror(errno));
	control_client_done(cc);
}

/*
 * Queue one reply and close the client once it has been written: a
 * connection carries one command.
 */
static void
control_reply(struct control_client *cc, uint32_t type, const char *text)
{
	struct evbuffer	*out = bufferevent_get_output(cc->cc_bev);
	struct ctl_hdr	 hdr;
	struct timeval	 wtv = { CONTROL_WRITE_TIMEOUT, 0 };
	size_t		 len = strlen(text);

	if (len > CTL_MSG_MAX)
		len = CTL_MSG_MAX;
	memset(&hdr, 0, sizeof(hdr));
	hdr.type = type;
	hdr.len = (uint32_t)len;
	hdr.pid = (uint32_t)getpid();
	if (evbuffer_add(out, &hdr, sizeof(hdr)) == -1 ||
	    evbuffer_add(out, text, len) == -1) {
		log_warnx("control: cannot queue the %s reply",
		    ctl_type_name(type));
		cc->cc_stop = CONTROL_STOP_NONE;
	}
	cc->cc_closing = 1;
	/* Nothing more to read but EOF; the write timeout bounds the rest. */
	bufferevent_set_timeouts(cc->cc_bev, NULL, &wtv);
	bufferevent_enable(cc->cc_bev, EV_WRITE);
}

/*
 * mgwctl revoke: payload is "WHAT UNTIL" (UNTIL in Unix seconds, 0 or
 * absent for ever; mgwctl turned durations and dates into that).  Replies
 * "revoked WHAT until ISO-TIME|forever", or the cause.  A revocation that
 * holds but could not be written to the file is a CTL_FAIL too, so that
 * scripts notice.
 */
static void
control_revoke(struct control_client *cc, const char *payload)
{
	struct tm	 tm;
	char		*what, *sp, *end, *cause = NULL, *text, when[32];
	long long	 until = 0;
	time_t		 t;
	size_t		 i;

	what = xstrdup(payload);
	if ((sp = strchr(what, ' ')) != NULL) {
		*sp++ = '\0';
		errno = 0;
		until = strtoll(sp, &end, 10);
		if (*sp == '\0' || *end != '\0' || errno != 0) {
			control_reply(cc, CTL_FAIL, "revoke: bad until");
			free(what);
			return;
		}
	}
	if (revoke_add(what, (int64_t)until, master_revocation_file(),
	    &cause) == -1) {
		log_warnx("revoke: %s", cause);
		control_reply(cc, CTL_FAIL, cause);
		free(cause);
		free(what);
		return;
	}
	/* The hash as stored and listed: lowercase. */
	if (strncasecmp(what, "sha256:", 7) == 0)
		for (i = 0; what[i] != '\0'; i++)
			what[i] = (char)tolower((unsigned char)what[i]);
	t = (time_t)until;
	if (until == 0)
		snprintf(when, sizeof(when), "forever");
	else if (gmtime_r(&t, &tm) == NULL || strftime(when, sizeof(when),
	    "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(when, sizeof(when), "%lld", until);
	xasprintf(&text, "revoked %s until %s", what, when);
	log_info("%s (mgwctl)", text);
	control_reply(cc, CTL_OK, text);
	free(text);
	free(what);
}

/* Act on one message of a client.  Never frees cc itself. */
static void
control_dispatch(struct control_client *cc, const struct ctl_hdr *hdr,
    const char *payload)
{
	struct control_client	*prev;
	char			 version[16];
	char			*cause = NULL, *text;
	int			 rv;

	log_debug("control: %s from pid %u", ctl_type_name(hdr->type),
	    hdr->pid);
	if (!cc->cc_hello) {
		snprintf(version, sizeof(version), "%d", CTL_PROTOCOL_VERSION);
		/* strlen catches a payload with a NUL in it. */
		if (hdr->type != CTL_HELLO || hdr->len != strlen(payload) ||
		    strcmp(payload, version) != 0) {
			log_warnx("control: client protocol version mismatch");
			control_reply(cc, CTL_FAIL,
			    "protocol version mismatch");
			return;
		}
		cc->cc_hello = 1;
		return;
	}

	cc->cc_done = 1;
	/* From now on only a reload waits, and it may wait long. */
	bufferevent_set_timeouts(cc->cc_bev, NULL, NULL);
	switch (hdr->type) {
	case CTL_RELOAD:
		/*
		 * Become the waiter before asking, in case the verdict comes
		 * back before master_reload() returns.
		 */
		prev = control.waiter;
		control.waiter = cc;
		if (master_reload(&cause) == -1) {
			if (control.waiter == cc)
				control.waiter = prev;
			control_reply(cc, CTL_FAIL,
			    cause != NULL ? cause : "reload refused");
			free(cause);
			return;
		}
		free(cause);
		if (prev != NULL && prev != control.waiter)
			control_reply(prev, CTL_FAIL,
			    "reload superseded by a newer one");
		break;
	case CTL_STOP:
		if (hdr->len == 0 || strcmp(payload, "graceful") == 0)
			cc->cc_stop = CONTROL_STOP_GRACEFUL;
		else if (strcmp(payload, "fast") == 0)
			cc->cc_stop = CONTROL_STOP_FAST;
		else {
			control_reply(cc, CTL_FAIL, "stop: unknown mode");
			return;
		}
		log_info("stop (%s) requested by mgwctl",
		    cc->cc_stop == CONTROL_STOP_FAST ? "fast" : "graceful");
		control_reply(cc, CTL_OK, "stopping");
		break;
	case CTL_STATUS:
	case CTL_STATS:
		text = hdr->type == CTL_STATUS ? master_status() :
		    master_stats();
		if (text == NULL)
			control_reply(cc, CTL_FAIL, "no data available");
		else
			control_reply(cc, CTL_OK, text);
		free(text);
		break;
	case CTL_THROTTLE_SHOW:
	case CTL_THROTTLE_RESET:
		text = NULL;
		if (hdr->type == CTL_THROTTLE_SHOW)
			rv = master_throttle_show(payload, &text);
		else
			rv = master_throttle_reset(payload, &text);
		control_reply(cc, rv == 0 ? CTL_OK : CTL_FAIL,
		    text != NULL ? text : "failed");
		free(text);
		break;
	case CTL_REVOKE:
		control_revoke(cc, payload);
		break;
	case CTL_REVOKE_LIST:
		text = revoke_list();
		control_reply(cc, CTL_OK, text);
		free(text);
		break;
	case CTL_LOG_VERBOSE:
		master_set_verbose(1);
		log_info("log verbose");
		control_reply(cc, CTL_OK, "log verbose");
		break;
	case CTL_LOG_BRIEF:
		master_set_verbose(0);
		log_info("log brief");
		control_reply(cc, CTL_OK, "log brief");
		break;
	default:
		control_reply(cc, CTL_FAIL, "unknown command");
		break;
	}
}
