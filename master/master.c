/*
 * master.c: the master process.  It parses the configuration, binds the
 * listeners, maps shared memory, forks and watches the workers, and is the
 * one place a reload happens: SIGHUP and mgwctl reload both call
 * master_reload().  It never serves a request.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "lib.h"
#include "ctl-msg.h"
#include "master.h"
#include "metrics.h"
#include "shm.h"
#include "worker.h"
#include <mgw/plugin.h>

#define RELOAD_READY_MS		10000	/* new workers must be ready by then */
#define FAST_STOP_MS		5000	/* then SIGKILL */
#define RESPAWN_MIN_MS		100
#define RESPAWN_MAX_MS		10000
#define RESPAWN_STABLE_MS	5000	/* lived this long: not crash-looping */

struct event_base	*master_base;

static struct {
	char			*file;
	int			 debug;
	time_t			 started;
	struct generation	*cur;
	struct generation	*next;		/* reload in flight */
	struct listeners	 ls;
	struct listeners	 nls;		/* of the reload in flight */
	struct event		*reload_timer;
	struct event		*drain_timer;	/* old generations */
	int			 drain_gen;	/* below this: draining */
	int			 stopping;	/* 1 graceful, 2 fast */
	struct event		*stop_timer;
	struct event		*sample_timer;	/* status page window */
	struct event		*ticket_timer;	/* ticket key rotation */
	int			*fails;		/* per worker index */
	int			 nfails;
	uint32_t		 reloads;
	uint32_t		 respawns;
	int			 pidfile_written;
} m;

static void	master_sig_cb(evutil_socket_t, short, void *);
static void	master_spawn_gen(struct generation *,
		    const struct listeners *);
static void	master_respawn_cb(evutil_socket_t, short, void *);
static void	master_drain_timer_cb(evutil_socket_t, short, void *);
static void	master_reload_timer_cb(evutil_socket_t, short, void *);
static void	master_stop_timer_cb(evutil_socket_t, short, void *);
static int	master_shm(struct mgw_conf *, char **);
static void	master_sample_cb(evutil_socket_t, short, void *);
static void	master_reload_fail(const char *);
static void	master_prepare_files(const struct mgw_conf *);
static void	master_ticket_cb(evutil_socket_t, short, void *);
static void	master_ticket_timer(const struct mgw_conf *);
static const char *master_worker_hook(const struct worker *, char *, size_t);

/* libevent's own complaints go to our log, not to a bare stderr. */
static void
master_event_log(int severity, const char *msg)
{
	if (severity >= EVENT_LOG_WARN)
		log_warnx("libevent: %s", msg);
	else
		log_debug("libevent: %s", msg);
}

static void
master_index_endpoints(struct conf_endpoints *ep, size_t *pool, size_t *bal)
{
	size_t	 i;

	ep->ep_index = (*bal)++;
	for (i = 0; i < ep->ep_nproduction; i++)
		ep->ep_production[i].u_pool = (*pool)++;
	for (i = 0; i < ep->ep_nsandbox; i++)
		ep->ep_sandbox[i].u_pool = (*pool)++;
}

/* The user the workers will run as must exist when we are root. */
static int
master_check_user(const struct mgw_conf *conf, char **cause)
{
	if (geteuid() != 0)
		return (0);
	if (conf->c_gateway.user != NULL &&
	    getpwnam(conf->c_gateway.user) == NULL) {
		xasprintf(cause, "%s: gateway.user: unknown user %s",
		    conf->c_file, conf->c_gateway.user);
		return (-1);
	}
	if (conf->c_gateway.group != NULL &&
	    getgrnam(conf->c_gateway.group) == NULL) {
		xasprintf(cause, "%s: gateway.group: unknown group %s",
		    conf->c_file, conf->c_gateway.group);
		return (-1);
	}
	return (0);
}

struct generation *
master_load(const char *file, char **cause)
{
	struct generation	*g;
	struct mgw_conf		*conf;
	size_t			 i, j, pool = 0, bal = 0;

	if (conf_load(file, NULL, &conf, cause) == -1)
		return (NULL);
	for (i = 0; i < conf->c_napis; i++) {
		master_index_endpoints(&conf->c_apis[i].a_endpoints, &pool,
		    &bal);
		for (j = 0; j < conf->c_apis[i].a_nresources; j++)
			if (conf->c_apis[i].a_resources[j].r_endpoints != NULL)
				master_index_endpoints(conf->c_apis[i].
				    a_resources[j].r_endpoints, &pool, &bal);
	}
	if (master_check_user(conf, cause) == -1) {
		conf_free(conf);
		return (NULL);
	}
	g = xcalloc(1, sizeof(*g));
	g->g_conf = conf;
	if ((g->g_router = route_build(conf, cause)) == NULL) {
		generation_free(g);
		return (NULL);
	}
	if ((g->g_plugins = plugin_conf_all(conf, cause)) == NULL) {
		generation_free(g);
		return (NULL);
	}
	if (tls_conf_build(conf, cause) == -1) {
		generation_free(g);
		return (NULL);
	}
	return (g);
}

void
generation_free(struct generation *g)
{
	if (g == NULL)
		return;
	plugin_set_free(g->g_plugins);
	route_free(g->g_router);
	conf_free(g->g_conf);
	free(g);
}

/*
 * Finish declaring this configuration's zones: per-worker statistics and
 * the general zone join those the plugins' conf hooks declared (the round
 * began before master_load()).  Zones whose name and size did not change
 * are kept with their contents.  The ones the configuration no longer
 * declares are unmapped by shm_zone_reconcile() only once it is in force,
 * so an abandoned reload leaves the running generation's zones alone.
 */
static int
master_shm(struct mgw_conf *conf, char **cause)
{
	if (stats_init(cause) == -1)
		return (-1);
	if (metrics_conf(conf, cause) == -1)
		return (-1);
	if (tls_keys_init(cause) == -1)
		return (-1);
	if (shm_zone_add("general", conf->c_shm.size, 1, cause) == NULL)
		return (-1);
	return (0);
}

static int
master_pidfile(const char *path, char **cause)
{
	char	 buf[32];
	int	 fd, n;
	long	 pid;

	if ((fd = open(path, O_RDONLY)) != -1) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			pid = strtol(buf, NULL, 10);
			if (pid > 1 && pid != getpid() &&
			    kill((pid_t)pid, 0) == 0) {
				xasprintf(cause, "mgwd is already running "
				    "(pid %ld, %s)", pid, path);
				return (-1);
			}
		}
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1) {
		xasprintf(cause, "pid_file %s: %s", path, strerror(errno));
		return (-1);
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, n) != n) {
		xasprintf(cause, "pid_file %s: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	close(fd);
	return (0);
}

/*
 * Create the log files the workers write and hand them to the worker
 * user, so workers can reopen them after logrotate (nginx does the same).
 */
static void
master_prepare_files(const struct mgw_conf *conf)
{
	const char	*f;
	uid_t		 uid;
	gid_t		 gid;
	size_t		 i, n;
	int		 fd;

	if (conf_worker_ids(conf, &uid, &gid) == -1)
		return;
	/* The error log, the gateway's access log, each listener's. */
	n = 2 + conf->c_nlisteners;
	for (i = 0; i < n; i++) {
		if (i == 0) {
			if (m.debug)
				continue;
			f = conf->c_gateway.error_log;
		} else if (i == 1)
			f = conf->c_gateway.access_log;
		else
			f = conf->c_listeners[i - 2].l_access_log;
		if (f == NULL || strcmp(f, "off") == 0 ||
		    strcmp(f, "stderr") == 0 || strcmp(f, "syslog") == 0)
			continue;
		fd = open(f, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (fd == -1)
			continue;
		if (fchown(fd, uid, gid) == -1)
			log_warn("chown %s", f);
		close(fd);
	}
}

/*
 * Fork every worker of g.  A worker that cannot be forked is logged and
 * retried through the respawn path.
 */
static void
master_spawn_gen(struct generation *g, const struct listeners *ls)
{
	char	*cause = NULL;
	int	 i;

	for (i = 0; i < g->g_conf->c_gateway.workers; i++) {
		if (worker_spawn(g, i, ls, &cause) == NULL) {
			log_warnx("cannot start worker: %s", cause);
			free(cause);
			cause = NULL;
		}
	}
}

static int
master_has_fd(const struct listeners *ls, int fd)
{
	size_t	 i;

	for (i = 0; i < ls->n; i++)
		if (ls->ls[i].ls_fd == fd)
			return (1);
	return (0);
}

/*
 * In a freshly forked worker: close the listening sockets of the other
 * generation's set.  A removed listener must disappear once the old
 * workers have drained, so no new worker may keep a copy of it.
 */
void
master_child_listeners(const struct listeners *mine)
{
	size_t	 i;

	for (i = 0; i < m.ls.n; i++)
		if (!master_has_fd(mine, m.ls.ls[i].ls_fd))
			close(m.ls.ls[i].ls_fd);
	for (i = 0; i < m.nls.n; i++)
		if (!master_has_fd(mine, m.nls.ls[i].ls_fd) &&
		    !master_has_fd(&m.ls, m.nls.ls[i].ls_fd))
			close(m.nls.ls[i].ls_fd);
}

/* A worker of some generation reported ready. */
void
master_worker_ready(struct worker *w)
{
	struct generation	*old;
	struct timeval		 tv;
	char			*msg;

	if (m.next == NULL || w->w_gen != m.next->g_num)
		return;
	if (proc_count(m.next->g_num, 1) < m.next->g_conf->c_gateway.workers)
		return;
	/* The new generation is serving: retire the old one. */
	evtimer_del(m.reload_timer);
	listener_commit(&m.ls, &m.nls);
	shm_zone_reconcile();
	old = m.cur;
	m.cur = m.next;
	m.next = NULL;
	free(m.fails);
	m.nfails = m.cur->g_conf->c_gateway.workers;
	m.fails = xcalloc(m.nfails + 1, sizeof(int));
	m.drain_gen = m.cur->g_num;
	worker_signal_gen(m.cur->g_num, 1, SIGQUIT);
	tv.tv_sec = m.cur->g_conf->c_gateway.drain_timeout / 1000;
	tv.tv_usec = (m.cur->g_conf->c_gateway.drain_timeout % 1000) * 1000;
	evtimer_add(m.drain_timer, &tv);
	m.reloads++;
	metrics_reload_done();
	/* The documents must not keep the old plugins' states past here. */
	plugin_set_status(m.cur->g_plugins);
	generation_free(old);
	master_ticket_timer(m.cur->g_conf);
	log_info("reload: generation %d active with %d workers",
	    m.cur->g_num, m.cur->g_conf->c_gateway.workers);
	xasprintf(&msg, "reload: generation %d active with %d workers",
	    m.cur->g_num, m.cur->g_conf->c_gateway.workers);
	control_reload_done(1, msg);
	free(msg);
}

/*
 * The one reload path.  Parse and validate the new file; on any error
 * the running generation is untouched.  Otherwise keep unchanged
 * listeners and zones, fork the new generation, and return; the old one
 * is told to drain once every new worker is ready.
 */
int
master_reload(char **cause)
{
	struct generation	*g;
	struct timeval		 tv = { RELOAD_READY_MS / 1000, 0 };

	/* Logged here too: a refused SIGHUP has nobody else to tell. */
	if (m.next != NULL) {
		xasprintf(cause, "a reload is already in progress");
		log_warnx("reload refused: %s", *cause);
		return (-1);
	}
	if (m.stopping) {
		xasprintf(cause, "mgwd is stopping");
		log_warnx("reload refused: %s", *cause);
		return (-1);
	}
	log_info("reload: reading %s", m.file);
	shm_zone_begin();
	if ((g = master_load(m.file, cause)) == NULL) {
		log_warnx("reload refused, generation %d keeps serving:\n%s",
		    m.cur->g_num, *cause);
		return (-1);
	}
	if (listener_prepare(&m.ls, g->g_conf, &m.nls, cause) == -1) {
		log_warnx("reload refused, generation %d keeps serving: %s",
		    m.cur->g_num, *cause);
		generation_free(g);
		return (-1);
	}
	if (master_shm(g->g_conf, cause) == -1 ||
	    plugin_host_init_master(g->g_plugins, master_base, cause) == -1) {
		log_warnx("reload refused, generation %d keeps serving: %s",
		    m.cur->g_num, *cause);
		listener_abort(&m.ls, &m.nls);
		generation_free(g);
		return (-1);
	}
	if (!m.debug && log_open_file(g->g_conf->c_gateway.error_log,
	    NULL) == -1)
		log_warnx("error_log %s: cannot open, keeping the old one",
		    g->g_conf->c_gateway.error_log);
	master_prepare_files(g->g_conf);
	g->g_num = m.cur->g_num + 1;
	m.next = g;
	evtimer_add(m.reload_timer, &tv);
	master_spawn_gen(g, &m.nls);
	return (0);
}

/*
 * Rotate the ticket keys at the shortest ticket_key_rotation of the
 * TLS listeners that use tickets (there is one key set for all).
 */
static void
master_ticket_timer(const struct mgw_conf *conf)
{
	struct timeval	 tv;
	uint64_t	 ms = 0;
	size_t		 i;

	for (i = 0; i < conf->c_nlisteners; i++) {
		const struct conf_tls *t = conf->c_listeners[i].l_tls;

		if (t != NULL && t->t_tickets && (ms == 0 ||
		    t->t_ticket_rotation < ms))
			ms = t->t_ticket_rotation;
	}
	evtimer_del(m.ticket_timer);
	if (ms == 0)
		return;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(m.ticket_timer, &tv);
}

static void
master_ticket_cb(evutil_socket_t fd, short ev, void *arg)
{
	if (tls_keys_rotate() == -1)
		log_warnx("tls: cannot rotate the session ticket keys");
	else
		log_info("tls: session ticket keys rotated");
	master_ticket_timer(m.cur->g_conf);
}

/* The new generation did not come up: kill it, keep the old one. */
static void
master_reload_fail(const char *why)
{
	struct generation	*g = m.next;

	log_warnx("reload failed, generation %d keeps serving: %s",
	    m.cur->g_num, why);
	m.next = NULL;
	evtimer_del(m.reload_timer);
	worker_signal_gen(g->g_num, 0, SIGKILL);
	/* Old workers keep the sockets they had; drop only the new ones. */
	listener_abort(&m.ls, &m.nls);
	generation_free(g);
	control_reload_done(0, why);
}

static void
master_reload_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	if (m.next != NULL)
		master_reload_fail("new workers did not become ready in time");
}

static void
master_drain_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct worker	*w;

	for (w = proc_workers(); w != NULL; w = w->w_next) {
		if (w->w_gen < m.drain_gen) {
			log_warnx("worker %d of generation %d still busy after "
			    "drain_timeout, killing it", (int)w->w_pid,
			    w->w_gen);
			kill(w->w_pid, SIGKILL);
		}
	}
}

struct respawn {
	int	 gen;
	int	 index;
	struct event *ev;
};

/*
 * Where a worker killed by a signal was, for its obituary: ' in plugin
 * "NAME" hook HOOK' when it died inside a plugin hook (the phase engine
 * marks each in the worker's statistics slot), else "".  The name comes
 * from the worker's generation while the master still has it; an older
 * one gives the plugin's position.  Best effort.
 */
static const char *
master_worker_hook(const struct worker *w, char *buf, size_t len)
{
	const struct generation	*g = NULL;
	uint32_t		 i;

	if (w->w_hook == 0)
		return ("");
	i = (w->w_hook >> 8) - 1;
	if (m.cur != NULL && m.cur->g_num == w->w_gen)
		g = m.cur;
	else if (m.next != NULL && m.next->g_num == w->w_gen)
		g = m.next;
	if (g != NULL && g->g_plugins != NULL && i < g->g_plugins->ps_n)
		snprintf(buf, len, " in plugin \"%s\" hook %s",
		    g->g_plugins->ps_inst[i].pi_plugin->name,
		    stats_hook_name(w->w_hook));
	else
		snprintf(buf, len, " in plugin #%u hook %s", i + 1,
		    stats_hook_name(w->w_hook));
	return (buf);
}

/* A worker exited: respawn it if it still belongs in service. */
void
master_worker_exited(struct worker *w, int status)
{
	struct respawn	*rs;
	struct timeval	 tv;
	uint64_t	 delay = 0;
	int		 expected;
	char		 where[128];

	expected = m.stopping || w->w_draining || w->w_gen < m.drain_gen;
	if (WIFSIGNALED(status))
		(expected ? log_debug : log_warnx)("worker %d (generation %d) "
		    "killed by signal %d%s", (int)w->w_pid, w->w_gen,
		    WTERMSIG(status), master_worker_hook(w, where,
		    sizeof(where)));
	else if (WEXITSTATUS(status) != 0 || !expected)
		(expected ? log_debug : log_warnx)("worker %d (generation %d) "
		    "exited with status %d", (int)w->w_pid, w->w_gen,
		    WEXITSTATUS(status));
	if (m.stopping) {
		if (proc_count(-1, 0) == 0)
			event_base_loopexit(master_base, NULL);
		return;
	}
	if (m.next != NULL && w->w_gen == m.next->g_num && !w->w_ready) {
		master_reload_fail("a new worker exited before it was ready");
		return;
	}
	if (expected || m.cur == NULL || w->w_gen != m.cur->g_num) {
		if (w->w_gen < m.drain_gen && proc_count(w->w_gen, 0) == 0)
			log_info("generation %d drained", w->w_gen);
		return;
	}
	/* Crash-looping workers back off: 100 ms doubling to 10 s. */
	if (w->w_index < m.nfails) {
		if (util_now_ms() - w->w_started > RESPAWN_STABLE_MS)
			m.fails[w->w_index] = 0;
		if (m.fails[w->w_index] > 0) {
			delay = RESPAWN_MIN_MS << (m.fails[w->w_index] - 1 > 7 ?
			    7 : m.fails[w->w_index] - 1);
			if (delay > RESPAWN_MAX_MS)
				delay = RESPAWN_MAX_MS;
		}
		m.fails[w->w_index]++;
	}
	log_warnx("respawning worker %d of generation %d in %llu ms",
	    w->w_index, w->w_gen, (unsigned long long)delay);
	rs = xcalloc(1, sizeof(*rs));
	rs->gen = w->w_gen;
	rs->index = w->w_index;
	rs->ev = evtimer_new(master_base, master_respawn_cb, rs);
	tv.tv_sec = delay / 1000;
	tv.tv_usec = (delay % 1000) * 1000;
	evtimer_add(rs->ev, &tv);
}

static void
master_respawn_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct respawn	*rs = arg;
	char		*cause = NULL;

	if (!m.stopping && m.cur != NULL && rs->gen == m.cur->g_num) {
		m.respawns++;
		metrics_restart_done();
		if (worker_spawn(m.cur, rs->index, &m.ls, &cause) == NULL) {
			log_warnx("cannot respawn worker: %s", cause);
			free(cause);
		}
	}
	event_free(rs->ev);
	free(rs);
}

/*
 * Once a second: a sample of every API's counters for the status page's
 * rolling window.  Cheap (a sum over a few slots per API), and done once
 * here rather than by every worker that serves /status.
 */
static void
master_sample_cb(evutil_socket_t fd, short ev, void *arg)
{
	if (m.cur != NULL)
		metrics_status_sample(m.cur->g_conf);
}

/* Stop: graceful drains every worker, fast terminates them. */
void
master_stop(int graceful)
{
	struct timeval	 tv;
	uint64_t	 ms;

	if (m.stopping == 2 || (m.stopping == 1 && graceful))
		return;
	m.stopping = graceful ? 1 : 2;
	log_info("%s stop", graceful ? "graceful" : "fast");
	if (m.next != NULL) {
		control_reload_done(0, "mgwd is stopping");
		worker_signal_gen(m.next->g_num, 0, SIGKILL);
		listener_abort(&m.ls, &m.nls);
	}
	worker_signal_gen(-1, 0, graceful ? SIGQUIT : SIGTERM);
	/*
	 * The workers close their copies of the listeners as they drain;
	 * ours must go too, or the kernel keeps completing handshakes that
	 * nobody will ever accept and clients hang instead of being refused
	 * (nginx closes them here as well).
	 */
	listener_closeall(&m.ls);
	ms = graceful && m.cur != NULL ?
	    m.cur->g_conf->c_gateway.drain_timeout : FAST_STOP_MS;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(m.stop_timer, &tv);
	if (proc_count(-1, 0) == 0)
		event_base_loopexit(master_base, NULL);
}

static void
master_stop_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	log_warnx("workers still running at stop timeout, killing them");
	worker_signal_gen(-1, 0, SIGKILL);
}

void
master_set_verbose(int v)
{
	struct worker	*w;
	char		 buf[8];

	log_setverbose(v);
	snprintf(buf, sizeof(buf), "%d", v);
	for (w = proc_workers(); w != NULL; w = w->w_next)
		worker_send(w, CTL_W_VERBOSE, buf);
}

static void
master_totals(char **out)
{
	struct stats_totals	 t;
	char			*s;

	stats_sum(&t);
	xasprintf(&s, "requests: %llu\nbytes_in: %llu\nbytes_out: %llu\n"
	    "responses_1xx: %llu\nresponses_2xx: %llu\nresponses_3xx: %llu\n"
	    "responses_4xx: %llu\nresponses_5xx: %llu\n"
	    "connections_accepted: %llu\nconnections_active: %lld\n"
	    "upstream_errors: %llu\nreloads: %u\nworker_respawns: %u\n"
	    "tls_handshakes: %llu\ntls_resumed: %llu\ntls_failures: %llu\n",
	    (unsigned long long)t.requests, (unsigned long long)t.bytes_in,
	    (unsigned long long)t.bytes_out,
	    (unsigned long long)t.status[STATS_1XX],
	    (unsigned long long)t.status[STATS_2XX],
	    (unsigned long long)t.status[STATS_3XX],
	    (unsigned long long)t.status[STATS_4XX],
	    (unsigned long long)t.status[STATS_5XX],
	    (unsigned long long)t.accepted, (long long)t.active,
	    (unsigned long long)t.upstream_errors, m.reloads, m.respawns,
	    (unsigned long long)t.tls_handshakes,
	    (unsigned long long)t.tls_resumed,
	    (unsigned long long)t.tls_failures);
	*out = s;
}

char *
master_stats(void)
{
	/* The same numbers as /status, from the same window. */
	plugin_set_status(m.cur->g_plugins);
	return (metrics_status_text(m.cur->g_conf));
}

/*
 * The generation in force, whose plugins answer mgwctl's verbs: a reload
 * in flight is not it until its workers are ready.
 */
struct generation *
master_generation(void)
{
	return (m.cur);
}

/* Stable "key: value" lines for mgwctl status. */
char *
master_status(void)
{
	struct worker	*w;
	char		*s, *t, *tot;
	size_t		 i;

	xasprintf(&s, "version: %s\npid: %ld\ngeneration: %d\nuptime: %lld\n"
	    "workers: %d\n", MGW_VERSION, (long)getpid(), m.cur->g_num,
	    (long long)(time(NULL) - m.started), proc_count(-1, 0));
	for (w = proc_workers(); w != NULL; w = w->w_next) {
		xasprintf(&t, "%sworker: %d generation %d slot %d%s\n", s,
		    (int)w->w_pid, w->w_gen, w->w_slot,
		    w->w_draining ? " draining" : "");
		free(s);
		s = t;
	}
	for (i = 0; i < m.ls.n; i++) {
		xasprintf(&t, "%slistener: %s %s\n", s, m.ls.ls[i].ls_name,
		    m.ls.ls[i].ls_addr);
		free(s);
		s = t;
	}
	master_totals(&tot);
	xasprintf(&t, "%s%s", s, tot);
	free(s);
	free(tot);
	return (t);
}

/*
 * Signals arrive as libevent events, so this runs in loop context and not
 * in a signal handler; it may do anything.
 */
static void
master_sig_cb(evutil_socket_t sig, short ev, void *arg)
{
	char	*cause = NULL;

	switch (sig) {
	case SIGHUP:
		if (master_reload(&cause) == -1)
			free(cause);
		break;
	case SIGTERM:
	case SIGINT:
		master_stop(0);
		break;
	case SIGQUIT:
		master_stop(1);
		break;
	case SIGUSR1:
		log_info("reopening log files");
		if (log_reopen() == -1)
			log_warn("reopen error_log");
		master_prepare_files(m.cur->g_conf);
		worker_signal_gen(-1, 0, SIGUSR1);
		break;
	case SIGCHLD:
		worker_reap();
		break;
	}
}

/*
 * Detach from the terminal.  The parent waits on a pipe until the child
 * has everything running (or has failed), so `mgwd` exits 0 only when
 * the gateway is up, as init systems expect.  keep_stderr: the error log
 * is stderr, so it stays open.
 */
static int
master_daemonize(int *notify, int keep_stderr)
{
	int	 p[2], fd;
	char	 buf[512];
	ssize_t	 n;

	if (pipe(p) == -1)
		fatal("pipe");
	switch (fork()) {
	case -1:
		fatal("fork");
	case 0:
		break;
	default:
		close(p[1]);
		n = read(p[0], buf, sizeof(buf) - 1);
		if (n > 0 && buf[0] == '\0')
			_exit(0);
		if (n > 0) {
			buf[n] = '\0';
			fprintf(stderr, "mgwd: %s\n", buf);
		} else
			fprintf(stderr, "mgwd: failed to start, see the "
			    "error log\n");
		_exit(1);
	}
	close(p[0]);
	if (setsid() == -1)
		fatal("setsid");
	/*
	 * stderr goes too unless it is the error log: a startup failure is
	 * reported through the pipe, and a daemon holding the caller's
	 * stderr would hang a shell that captures it, as in
	 * out=$(mgwd 2>&1).
	 */
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		if (!keep_stderr)
			dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	if (chdir("/") == -1)
		fatal("chdir");
	*notify = p[1];
	return (0);
}

static void __attribute__((noreturn))
master_startup_fail(int notify, const char *cause)
{
	if (notify != -1)
		(void)!write(notify, cause, strlen(cause));
	fatalx("%s", cause);
}

/*
 * mgwd proper.  Returns the exit status.  Everything that can fail for a
 * configuration reason fails before the terminal is left.
 */
int
master_run(const char *file, int debug, int verbose)
{
	static const int	 sigs[] = { SIGHUP, SIGTERM, SIGINT, SIGQUIT,
				    SIGUSR1, SIGCHLD, 0 };
	struct event		*sev[8];
	char			*cause = NULL;
	int			 i, notify = -1;
	struct mgw_conf		*conf;

	/* The daemon runs in "/", so remember where the file really is. */
	if ((m.file = realpath(file, NULL)) == NULL) {
		fprintf(stderr, "mgwd: %s: %s\n", file, strerror(errno));
		return (1);
	}
	m.debug = debug;
	m.started = time(NULL);
	log_init(debug, verbose);
	event_set_log_callback(master_event_log);
	shm_zone_begin();
	if ((m.cur = master_load(file, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		return (1);
	}
	conf = m.cur->g_conf;
	m.cur->g_num = 1;
	if (listener_reconcile(&m.ls, conf, &cause) == -1) {
		fprintf(stderr, "mgwd: %s\n", cause);
		return (1);
	}
	if (master_shm(conf, &cause) == -1) {
		fprintf(stderr, "mgwd: %s\n", cause);
		return (1);
	}
	shm_zone_reconcile();
	if (!debug) {
		if (log_open_file(conf->c_gateway.error_log, &cause) == -1) {
			fprintf(stderr, "mgwd: %s\n", cause);
			return (1);
		}
		master_daemonize(&notify,
		    conf->c_gateway.error_log == NULL ||
		    strcmp(conf->c_gateway.error_log, "stderr") == 0);
	}
	log_procinit("master");
	signal(SIGPIPE, SIG_IGN);
	if ((master_base = event_base_new()) == NULL)
		master_startup_fail(notify, "event_base_new failed");
	for (i = 0; sigs[i] != 0; i++) {
		sev[i] = evsignal_new(master_base, sigs[i], master_sig_cb, NULL);
		if (sev[i] == NULL || evsignal_add(sev[i], NULL) == -1)
			master_startup_fail(notify, "evsignal_add failed");
	}
	if (control_init(master_base, conf->c_gateway.control_socket,
	    conf->c_gateway.group, &cause) == -1)
		master_startup_fail(notify, cause);
	if (master_pidfile(conf->c_gateway.pid_file, &cause) == -1) {
		control_fini();
		master_startup_fail(notify, cause);
	}
	m.pidfile_written = 1;
	m.reload_timer = evtimer_new(master_base, master_reload_timer_cb, NULL);
	m.drain_timer = evtimer_new(master_base, master_drain_timer_cb, NULL);
	m.stop_timer = evtimer_new(master_base, master_stop_timer_cb, NULL);
	m.sample_timer = event_new(master_base, -1, EV_PERSIST,
	    master_sample_cb, NULL);
	if (m.reload_timer == NULL || m.drain_timer == NULL ||
	    m.stop_timer == NULL || m.sample_timer == NULL)
		master_startup_fail(notify, "evtimer_new failed");
	{
		struct timeval	 one = { 1, 0 };

		evtimer_add(m.sample_timer, &one);
	}
	m.ticket_timer = evtimer_new(master_base, master_ticket_cb, NULL);
	master_ticket_timer(conf);
	m.nfails = conf->c_gateway.workers;
	m.fails = xcalloc(m.nfails + 1, sizeof(int));
	master_prepare_files(conf);
	/* Plugins' master work, such as fetching keys, before forking. */
	if (plugin_host_init_master(m.cur->g_plugins, master_base,
	    &cause) == -1) {
		control_fini();
		unlink(conf->c_gateway.pid_file);
		master_startup_fail(notify, cause);
	}
	master_spawn_gen(m.cur, &m.ls);
	log_info("mgwd %s started: %d workers, %zu listeners, %zu APIs",
	    MGW_VERSION, conf->c_gateway.workers, m.ls.n, conf->c_napis);
	if (notify != -1) {
		(void)!write(notify, "", 1);
		close(notify);
	}

	event_base_dispatch(master_base);

	log_info("mgwd stopped");
	control_fini();
	if (m.pidfile_written)
		unlink(m.cur->g_conf->c_gateway.pid_file);
	listener_closeall(&m.ls);
	for (i = 0; sigs[i] != 0; i++)
		event_free(sev[i]);
	event_free(m.reload_timer);
	event_free(m.drain_timer);
	event_free(m.stop_timer);
	event_free(m.sample_timer);
	event_free(m.ticket_timer);
	generation_free(m.cur);
	free(m.fails);
	shm_zone_freeall();
	event_base_free(master_base);
	return (0);
}
