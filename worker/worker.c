/*
 * worker.c: a worker process.  It inherits the configuration, the router
 * and the listening sockets from the master through fork, builds its own
 * event loop (libevent must not share the master's across fork), drops
 * privileges, reports ready, and serves until told to drain.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "lib.h"
#include "ctl-msg.h"
#include "conf-t.h"
#include "metrics.h"
#include "shm.h"
#include "worker.h"

struct worker_env	*wenv;

static void	worker_accept_cb(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	worker_accept_error_cb(struct evconnlistener *, void *);
static void	worker_sig_cb(evutil_socket_t, short, void *);
static void	worker_chan_read_cb(struct bufferevent *, void *);
static void	worker_chan_event_cb(struct bufferevent *, short, void *);
static void	worker_drain(void);
static void	worker_accept_resume_cb(evutil_socket_t, short, void *);

static struct event	*accept_pause_ev;

/*
 * Switch to the configured user when started as root; without one,
 * "nobody" (nginx does the same).  Workers never need root: the master
 * binds every socket and opens every file they inherit.
 */
static void
worker_drop_privileges(const struct mgw_conf *conf)
{
	const char	*user = conf->c_gateway.user;
	const char	*group = conf->c_gateway.group;
	struct passwd	*pw;
	struct group	*gr;
	gid_t		 gid;

	if (geteuid() != 0)
		return;
	if (user == NULL)
		user = "nobody";
	if (strcmp(user, "root") == 0)
		return;
	if ((pw = getpwnam(user)) == NULL)
		fatalx("unknown user %s", user);
	gid = pw->pw_gid;
	if (group != NULL) {
		if ((gr = getgrnam(group)) == NULL)
			fatalx("unknown group %s", group);
		gid = gr->gr_gid;
	}
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		fatal("cannot drop privileges to %s", user);
}

/*
 * The worker's whole life.  Called in the child right after fork with the
 * master's state still mapped; never returns.
 */
void
worker_main(const struct mgw_conf *conf, const struct router *router,
    struct plugin_set *plugins, const int *lfds, const int *ladmin,
    size_t nl, int gen, int slot, int channel)
{
	static struct worker_env	 env;
	struct event_config		*cfg;
	struct event			*sigs[6];
	static const int		 signos[] = { SIGQUIT, SIGTERM, SIGINT,
					    SIGUSR1, SIGHUP, 0 };
	char				*cause = NULL, name[32];
	size_t				 i;
	int				 rv;

	wenv = &env;
	snprintf(name, sizeof(name), "worker/%d", slot);
	log_procinit(name);
	env.we_conf = conf;
	env.we_router = router;
	env.we_plugins = plugins;
	env.we_gen = gen;
	env.we_slot = slot;
	env.we_channel = channel;
	env.we_stats = stats_slot(slot);
	metrics_worker_init(slot);
	env.we_zone = shm_zone_find("general");
	env.we_debug_hooks = getenv("MGW_DEBUG_HOOKS") != NULL &&
	    strcmp(getenv("MGW_DEBUG_HOOKS"), "1") == 0;
	TAILQ_INIT(&env.we_conns);
	signal(SIGPIPE, SIG_IGN);

	/*
	 * The changelist folds an event enabled and disabled within one loop
	 * iteration (a write that completes at once) into no epoll_ctl at all.
	 */
	if ((cfg = event_config_new()) == NULL)
		fatalx("event_config_new failed");
	event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	env.we_base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (env.we_base == NULL)
		fatalx("event_base_new failed");
	for (i = 0; signos[i] != 0; i++) {
		sigs[i] = evsignal_new(env.we_base, signos[i], worker_sig_cb,
		    NULL);
		if (sigs[i] == NULL || evsignal_add(sigs[i], NULL) == -1)
			fatalx("evsignal_add failed");
	}
	/* Plugins open their files while we may still read them as root. */
	if (plugin_init_worker(plugins, &cause) == -1)
		fatalx("%s", cause);
	plugin_set_status(plugins);
	worker_drop_privileges(conf);
	if (upstream_init() == -1)
		fatalx("upstream_init: out of memory");

	env.we_listeners = xcalloc(nl + 1, sizeof(*env.we_listeners));
	env.we_listener_admin = xcalloc(nl + 1, sizeof(int));
	env.we_nlisteners = nl;
	for (i = 0; i < nl; i++) {
		env.we_listener_admin[i] = ladmin[i];
		env.we_listeners[i] = evconnlistener_new(env.we_base,
		    worker_accept_cb, (void *)(intptr_t)i,
		    LEV_OPT_CLOSE_ON_FREE, -1, lfds[i]);
		if (env.we_listeners[i] == NULL)
			fatalx("evconnlistener_new failed");
		evconnlistener_set_error_cb(env.we_listeners[i],
		    worker_accept_error_cb);
	}
	accept_pause_ev = evtimer_new(env.we_base, worker_accept_resume_cb,
	    NULL);

	env.we_chan_bev = bufferevent_socket_new(env.we_base, channel,
	    BEV_OPT_CLOSE_ON_FREE);
	if (env.we_chan_bev == NULL)
		fatalx("bufferevent_socket_new failed");
	bufferevent_setcb(env.we_chan_bev, worker_chan_read_cb, NULL,
	    worker_chan_event_cb, NULL);
	bufferevent_enable(env.we_chan_bev, EV_READ);
	{
		struct ctl_hdr	 hdr;

		memset(&hdr, 0, sizeof(hdr));
		hdr.type = CTL_W_READY;
		hdr.pid = getpid();
		bufferevent_write(env.we_chan_bev, &hdr, sizeof(hdr));
	}
	log_debug("generation %d ready", gen);

	rv = event_base_dispatch(env.we_base);
	log_debug("exiting (%d)", rv);
	phase_exit();
	exit(0);
}

static void
worker_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	conn_accept(fd, sa, salen, (int)(intptr_t)arg);
}

/*
 * accept(2) failed: out of descriptors most likely.  Pause accepting for
 * a moment instead of spinning on a readable listener.
 */
static void
worker_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct timeval	 tv = { 0, 100000 };
	size_t		 i;
	int		 err = EVUTIL_SOCKET_ERROR();

	if (err == EINTR || err == EAGAIN || err == ECONNABORTED)
		return;
	log_warnx("accept: %s", strerror(err));
	for (i = 0; i < wenv->we_nlisteners; i++)
		if (wenv->we_listeners[i] != NULL)
			evconnlistener_disable(wenv->we_listeners[i]);
	evtimer_add(accept_pause_ev, &tv);
}

static void
worker_accept_resume_cb(evutil_socket_t fd, short ev, void *arg)
{
	size_t	 i;

	if (wenv->we_draining)
		return;
	for (i = 0; i < wenv->we_nlisteners; i++)
		if (wenv->we_listeners[i] != NULL)
			evconnlistener_enable(wenv->we_listeners[i]);
}

/*
 * Stop accepting, close idle connections, and leave the loop once the last
 * in-flight request is answered.  The master kills us at drain_timeout.
 */
static void
worker_drain(void)
{
	size_t	 i;

	if (wenv->we_draining)
		return;
	wenv->we_draining = 1;
	log_debug("draining, %u connections", wenv->we_nconns);
	for (i = 0; i < wenv->we_nlisteners; i++) {
		if (wenv->we_listeners[i] != NULL) {
			evconnlistener_free(wenv->we_listeners[i]);
			wenv->we_listeners[i] = NULL;
		}
	}
	upstream_drain_idle();
	conn_drain_idle();
	worker_conn_closed();
}

/* A connection closed; a draining worker with none left exits. */
void
worker_conn_closed(void)
{
	if (wenv->we_draining && wenv->we_nconns == 0)
		event_base_loopexit(wenv->we_base, NULL);
}

/*
 * Signals reach us as events in the loop (libevent's evsignal), so these
 * run in loop context, not in a signal handler.
 */
static void
worker_sig_cb(evutil_socket_t sig, short ev, void *arg)
{
	switch (sig) {
	case SIGQUIT:
		worker_drain();
		break;
	case SIGTERM:
	case SIGINT:
		phase_exit();
		exit(0);
	case SIGUSR1:
		log_reopen();
		phase_reopen();
		break;
	case SIGHUP:
		/* Reload is the master's business. */
		break;
	}
}

static void
worker_chan_read_cb(struct bufferevent *bev, void *arg)
{
	struct evbuffer	*in = bufferevent_get_input(bev);
	struct ctl_hdr	 hdr;
	char		 payload[16];
	ssize_t		 n;

	for (;;) {
		n = ctl_msg_complete(evbuffer_pullup(in, -1),
		    evbuffer_get_length(in));
		if (n == 0)
			return;
		if (n == -1) {
			log_warnx("bad message from the master");
			exit(1);
		}
		evbuffer_remove(in, &hdr, sizeof(hdr));
		memset(payload, 0, sizeof(payload));
		if (hdr.len > 0) {
			if (hdr.len < sizeof(payload))
				evbuffer_remove(in, payload, hdr.len);
			else
				evbuffer_drain(in, hdr.len);
		}
		switch (hdr.type) {
		case CTL_W_VERBOSE:
			log_setverbose(atoi(payload));
			break;
		case CTL_W_DRAIN:
			worker_drain();
			break;
		default:
			break;
		}
	}
}

/* The master is gone: finish what is in flight, then exit. */
static void
worker_chan_event_cb(struct bufferevent *bev, short what, void *arg)
{
	log_warnx("lost the master, draining");
	bufferevent_disable(bev, EV_READ);
	worker_drain();
}
