/*
 * status.h: what the status documents (/metrics, /status, mgwctl stats)
 * need from the plugins: the output buffer behind the public struct
 * mgw_buf, and the plugins whose metrics and status hooks are called,
 * in order, where a document has room for them.
 */
#ifndef MGW_STATUS_H
#define MGW_STATUS_H

#include <stddef.h>

#include "lib.h"

struct mgw_plugin;

/* What a buffer is for: how mgw_status_add() writes a field. */
enum status_form {
	STATUS_FORM_RAW = 0,	/* metrics text, control verb output */
	STATUS_FORM_JSON,	/* /status: "key":value, */
	STATUS_FORM_TEXT	/* mgwctl stats: "key: value" lines */
};

/* A plugin of the generation this process serves, and its state. */
struct status_plugin {
	const struct mgw_plugin	*sp_plugin;
	void			*sp_state;
};

/*
 * The built-in table (plugins/builtin.c): the plugins the documents ask
 * until a process names its generation's with status_plugins_set().
 */
extern const struct mgw_plugin *const plugin_builtin[];

/* status-buf.c */
/* An empty buffer for form; nothing is allocated until the first append. */
void	status_buf_init(struct mgw_buf *, enum status_form);
void	status_buf_free(struct mgw_buf *);

/* status-plugins.c */
/*
 * Name the plugins, in their order, whose hooks the documents call: a
 * worker once after fork with its generation's, the master before it
 * renders for the current generation.  The array is copied.  Until the
 * first call the built-in table is used, each with a NULL state.
 */
void	status_plugins_set(const struct status_plugin *, size_t);
/*
 * Append every plugin's metric families to out (metrics hooks), or its
 * status fields (status hooks) in out's form.  Any process; the hooks
 * read shm only.  0, or -1 if an append ran out of memory.
 */
int	status_plugins_metrics(struct mgw_buf *);
int	status_plugins_status(struct mgw_buf *);

#endif /* MGW_STATUS_H */
