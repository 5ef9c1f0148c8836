/*
 * proc.c: worker processes seen from the master: fork with a clean signal
 * state, the channel each worker reports on, reaping.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "lib.h"
#include "ctl-msg.h"
#include "master.h"
#include "shm.h"
#include "worker.h"

static struct worker	*workers;
static void	worker_chan_read_cb(struct bufferevent *, void *);
static void	worker_chan_event_cb(struct bufferevent *, short, void *);

struct worker *
proc_workers(void)
{
	return (workers);
}

/* Workers of generation gen (-1: all), only the ready ones if ready. */
int
proc_count(int gen, int ready)
{
	struct worker	*w;
	int		 n = 0;

	for (w = workers; w != NULL; w = w->w_next)
		if ((gen == -1 || w->w_gen == gen) && (!ready || w->w_ready))
			n++;
	return (n);
}

/*
 * In the child, before anything else: default dispositions for every
 * signal the master handles, so a signal cannot run the master's libevent
 * handler (which would write to the master's signal socket, shared
 * across fork) and be taken by the master as its own.
 */
static void
worker_reset_signals(void)
{
	static const int sigs[] = { SIGHUP, SIGTERM, SIGINT, SIGQUIT,
	    SIGUSR1, SIGUSR2, SIGCHLD, SIGPIPE, 0 };
	struct sigaction	 sa;
	int			 i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (i = 0; sigs[i] != 0; i++)
		sigaction(sigs[i], &sa, NULL);
}

struct worker *
worker_spawn(struct generation *g, int index, const struct listeners *ls,
    char **cause)
{
	struct worker	*w, *o;
	sigset_t	 all, old;
	int		 sv[2], slot, *fds, *adm;
	size_t		 i;
	pid_t		 pid;

	if ((slot = stats_slot_get()) == -1) {
		xasprintf(cause, "no free statistics slot");
		return (NULL);
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		xasprintf(cause, "socketpair: %s", strerror(errno));
		return (NULL);
	}
	fds = xcalloc(ls->n + 1, sizeof(int));
	adm = xcalloc(ls->n + 1, sizeof(int));
	for (i = 0; i < ls->n; i++) {
		fds[i] = ls->ls[i].ls_fd;
		adm[i] = ls->ls[i].ls_admin;
	}
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	switch (pid = fork()) {
	case -1:
		sigprocmask(SIG_SETMASK, &old, NULL);
		xasprintf(cause, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		free(fds);
		free(adm);
		return (NULL);
	case 0:
		worker_reset_signals();
		/*
		 * Give the master's event base a private epoll set and
		 * signal pipe, then free it: nothing the master registered
		 * can fire here, and the parent's epoll set is not touched.
		 */
		event_reinit(master_base);
		event_base_free(master_base);
		master_base = NULL;
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(sv[0]);
		for (o = workers; o != NULL; o = o->w_next)
			close(o->w_fd);
		control_close_inherited();
		master_child_listeners(ls);
		stats_slot(slot)->st_pid = getpid();
		worker_main(g->g_conf, g->g_router, g->g_plugins, fds, adm,
		    ls->n, g->g_num, slot, sv[1]);
		/* NOTREACHED */
		_exit(1);
	default:
		break;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(fds);
	free(adm);
	close(sv[1]);
	stats_slot(slot)->st_pid = pid;
	w = xcalloc(1, sizeof(*w));
	w->w_pid = pid;
	w->w_gen = g->g_num;
	w->w_index = index;
	w->w_slot = slot;
	w->w_fd = sv[0];
	w->w_started = util_now_ms();
	w->w_bev = bufferevent_socket_new(master_base, sv[0],
	    BEV_OPT_CLOSE_ON_FREE);
	if (w->w_bev == NULL)
		fatalx("%s: bufferevent_socket_new", __func__);
	bufferevent_setcb(w->w_bev, worker_chan_read_cb, NULL,
	    worker_chan_event_cb, w);
	bufferevent_enable(w->w_bev, EV_READ);
	w->w_next = workers;
	workers = w;
	log_debug("worker %d (generation %d, slot %d) started", (int)pid,
	    g->g_num, slot);
	return (w);
}

static void
worker_chan_read_cb(struct bufferevent *bev, void *arg)
{
	struct worker	*w = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	struct ctl_hdr	 hdr;
	ssize_t		 n;

	for (;;) {
		n = ctl_msg_complete(evbuffer_pullup(in, -1),
		    evbuffer_get_length(in));
		if (n <= 0)
			return;
		evbuffer_remove(in, &hdr, sizeof(hdr));
		evbuffer_drain(in, hdr.len);
		if (hdr.type == CTL_W_READY && !w->w_ready) {
			w->w_ready = 1;
			master_worker_ready(w);
		}
	}
}

static void
worker_chan_event_cb(struct bufferevent *bev, short what, void *arg)
{
	/* The worker is exiting; SIGCHLD does the bookkeeping. */
	bufferevent_disable(bev, EV_READ);
}

/* Send a message to one worker over its channel. */
void
worker_send(struct worker *w, uint32_t type, const char *payload)
{
	struct ctl_hdr	 hdr;
	size_t		 len = payload != NULL ? strlen(payload) : 0;

	memset(&hdr, 0, sizeof(hdr));
	hdr.type = type;
	hdr.len = len;
	hdr.pid = getpid();
	bufferevent_write(w->w_bev, &hdr, sizeof(hdr));
	if (len > 0)
		bufferevent_write(w->w_bev, payload, len);
}

/*
 * Signal the workers of generation gen (-1 all; op 0 = only gen, op 1 =
 * every generation before gen) and mark them draining on QUIT.
 */
void
worker_signal_gen(int gen, int op, int sig)
{
	struct worker	*w;

	for (w = workers; w != NULL; w = w->w_next) {
		if (gen != -1 && ((op == 0 && w->w_gen != gen) ||
		    (op == 1 && w->w_gen >= gen)))
			continue;
		if (sig == SIGQUIT)
			w->w_draining = 1;
		if (kill(w->w_pid, sig) == -1 && errno != ESRCH)
			log_warn("kill %d", (int)w->w_pid);
	}
}

/*
 * SIGCHLD: collect every exited worker.  A lock it held is broken so the
 * others cannot wedge on it, its statistics slot is released (totals are
 * kept), and the master decides whether to respawn.
 */
void
worker_reap(void)
{
	struct worker	*w, **pw;
	pid_t		 pid;
	int		 status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		shm_lock_break_all(pid);
		for (pw = &workers; (w = *pw) != NULL; pw = &w->w_next)
			if (w->w_pid == pid)
				break;
		if (w == NULL)
			continue;
		*pw = w->w_next;
		/* The hook it was in, if it died in one, before the slot goes. */
		w->w_hook = stats_slot_hook(w->w_slot);
		stats_slot_release(w->w_slot);
		bufferevent_free(w->w_bev);
		master_worker_exited(w, status);
		free(w);
	}
}
