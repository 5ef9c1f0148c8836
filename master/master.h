/*
 * master.h: the master process: configuration, listeners, workers, the
 * control socket and reload.
 */
#ifndef MGW_MASTER_H
#define MGW_MASTER_H

#include <sys/types.h>

#include <stdint.h>

#include "conf-t.h"

/* conf.c */
/*
 * Load and validate path into a new struct mgw_conf, applying MGW_*
 * environment overrides from envp (NULL: the process environment).  Every
 * error is collected with file:line; on failure *cause holds all of them,
 * one per line, and -1 is returned.  Master (and mgwd -n) only.
 */
int	conf_load(const char *, char **, struct mgw_conf **, char **);
void	conf_free(struct mgw_conf *);
const char *conf_method_name(enum conf_method);
int	conf_method_parse(const char *, size_t);	/* -1 if unknown */
int	conf_cidr_match(const struct conf_cidr *, size_t,
	    const struct sockaddr *);

/* conf-env.c */
/*
 * Turn MGW_SECTION_KEY=value strings into overrides applied on top of the
 * parsed file.  List items are addressed by their name:
 * MGW_LISTENERS_HTTP_LISTEN=0.0.0.0:8080.
 */
struct conf_override {
	char	*o_env;		/* "MGW_GATEWAY_WORKERS=4" as found */
	char	*o_path[4];	/* lowercase components */
	size_t	 o_npath;
	char	*o_value;
	int	 o_used;
};
int	conf_env_collect(char **, struct conf_override **, size_t *);
void	conf_env_free(struct conf_override *, size_t);

/* listener.c */
/*
 * A bound listening socket, owned by the master and inherited by workers.
 * Kept across reloads while its address is unchanged.
 */
struct listener {
	int			 ls_fd;
	char			*ls_name;
	char			*ls_addr;	/* "host:port" as configured */
	int			 ls_admin;
	int			 ls_mark;	/* reconcile scratch */
};
struct listeners {
	struct listener		*ls;
	size_t			 n;
};
int	listener_reconcile(struct listeners *, const struct mgw_conf *,
	    char **);
void	listener_closeall(struct listeners *);

/* master.c */
int	master_run(const char *, int, int);	/* file, debug, verbose */
/*
 * The one reload path: SIGHUP, mgwctl reload and init scripts end here.
 * Returns -1 with *cause if the new config was refused or a reload is in
 * flight; 0 when the new generation was started.  The verdict of a
 * control client is sent once the new workers report ready.
 */
int	master_reload(char **);
void	master_stop(int);			/* graceful? */
char	*master_status(void);			/* "key: value\n" lines */
void	master_set_verbose(int);

/* control.c */
struct control;
int	control_init(const char *, char **);
void	control_fini(void);
/* reply to the peer that asked for reload; NULL cause is success */
void	control_reload_done(int, const char *);

#endif /* MGW_MASTER_H */
