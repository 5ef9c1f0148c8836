/*
 * conf-int.h: what the parts of the configuration loader share: conf.c
 * (the walk over the option tables), conf-plugin.c (the plugins' keys
 * in those tables), conf-value.c (turning a value into its field) and
 * conf-check.c (what a value, group or item must satisfy).  Only those
 * files include it.
 */
#ifndef MGW_CONF_INT_H
#define MGW_CONF_INT_H

#include <libconfig.h>

#define CONF_MAXENV	6	/* components of conf_override.o_path */

#define CONF_FIELD(obj, off, type)	((type *)((char *)(obj) + (off)))

struct conf_ctx {
	const char		*cx_path;	/* the file asked for */
	char			*cx_dir;	/* for @include */
	struct conf_override	*cx_ov;
	size_t			 cx_nov;
	char			**cx_errs;	/* "file:line: message" */
	size_t			 cx_nerrs;
	struct mgw_conf		*cx_conf;	/* being filled */
	void			**cx_top;	/* cp_settings, by position */
	int			*cx_entry;	/* "plugins" item: position */
	size_t			 cx_nentry;
};

/* A group or list item being walked, and how MGW_* variables reach it. */
struct conf_node {
	config_setting_t	*n_set;		/* NULL: not in file */
	char			*n_path;	/* "apis[0].endpoints" */
	const char		*n_file;	/* as libconfig names it */
	int			 n_line;
	const char		*n_env[CONF_MAXENV];
	size_t			 n_nenv;
	int			 n_envok;	/* 0: has no env name */
	uint32_t		 n_given;	/* bit i: entry i set */
	void			**n_settings;	/* plugins' structs, or NULL */
	int			 n_lax;	/* keys unknowable: plugin not open */
};

/* One value on its way into struct mgw_conf. */
struct conf_val {
	const struct conf_opt	*v_opt;
	config_setting_t	*v_set;		/* from the file */
	struct conf_override	*v_ov;		/* from the env */
	const char		*v_str;		/* env or default */
	const char		*v_path;	/* "gateway.workers" */
	const char		*v_file;
	int			 v_line;
};

/* An array value as strings, whatever its source. */
struct conf_strs {
	char			**s_str;
	int			*s_line;
	size_t			 s_n;
};

void	conf_errorat(struct conf_ctx *, const char *, int,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
void	conf_verror(struct conf_ctx *, const struct conf_val *,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
void	conf_member_error(struct conf_ctx *, const struct conf_node *,
		    const char *, const char *, ...)
		    __attribute__((format(printf, 4, 5)));
char	*conf_file_name(struct conf_ctx *, const char *);
const char *conf_set_file(const config_setting_t *);
int	conf_given(const struct conf_node *, const struct conf_opt *,
		    const char *);
int	conf_convert(struct conf_ctx *, struct conf_val *, void *);
int	conf_check_value(struct conf_ctx *, struct conf_val *,
		    void *);
void	conf_check_group(struct conf_ctx *, const struct conf_opt *,
		    void *, size_t, struct conf_node *);
int	conf_listen_parse(const char *, struct sockaddr_storage *,
		    socklen_t *, char **);
void	*conf_target(const struct conf_opt *, void *,
		    const struct conf_node *);
void	conf_where_add(struct conf_ctx *, const void *, const char *,
		    int, const char *);
void	conf_check_fn(struct conf_ctx *, struct conf_val *,
		    const struct conf_node *, const struct conf_opt *, void *,
		    void *);
void	**conf_settings_new(struct conf_ctx *, int, int);
void	conf_plugins_open(struct conf_ctx *, config_setting_t *);
const struct conf_opt *conf_table_merge(struct conf_ctx *,
		    const struct conf_opt *, int);
int	conf_check_pname(const char *);

#endif /* MGW_CONF_INT_H */
