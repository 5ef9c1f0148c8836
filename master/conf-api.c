/*
 * conf-api.c: the configuration as plugins see it, through the accessors
 * of <mgw/plugin.h>.  struct mgw_api, mgw_resource and mgw_consumer are
 * the core's struct conf_api, conf_resource and conf_consumer; a plugin's
 * settings are found by its position in conf->c_plugins.  Read-only, any
 * process.
 */
#include "config.h"

#include <sys/types.h>

#include <stddef.h>
#include <string.h>

#include "master.h"
#include <mgw/plugin.h>

#define CONF_API(a)	((const struct conf_api *)(const void *)(a))
#define CONF_RES(r)	((const struct conf_resource *)(const void *)(r))
#define CONF_CS(c)	((const struct conf_consumer *)(const void *)(c))

static int	conf_api_position(const struct mgw_conf *,
		    const struct mgw_plugin *);

/* p's position in conf->c_plugins, or -1. */
static int
conf_api_position(const struct mgw_conf *conf, const struct mgw_plugin *p)
{
	size_t	 k;

	for (k = 0; conf != NULL && k < conf->c_nplugins; k++) {
		if (conf->c_plugins[k].cp_plugin == p)
			return ((int)k);
	}
	return (-1);
}

/* The path the configuration was loaded from. */
const char *
mgw_conf_file(const struct mgw_conf *conf)
{
	return (conf->c_file);
}

/* p's MGW_SCOPE_TOP or MGW_SCOPE_ENTRY struct; NULL if it has none. */
const void *
mgw_conf_settings(const struct mgw_conf *conf, const struct mgw_plugin *p)
{
	int	 k;

	if ((k = conf_api_position(conf, p)) == -1)
		return (NULL);
	return (conf->c_plugins[k].cp_settings);
}

/*
 * "file:line: path" where the value at field (or the group or list item
 * at field) was written, NULL if it took its default or came from the
 * environment; conf NULL: the configuration being loaded.  The first
 * value recorded at an address wins: an item's own line rather than its
 * first key's.
 */
const char *
mgw_conf_where(const struct mgw_conf *conf, const void *field)
{
	size_t	 i;

	if (conf == NULL && (conf = conf_loading_conf()) == NULL)
		return (NULL);
	for (i = 0; i < conf->c_nwheres; i++) {
		if (conf->c_wheres[i].w_field == field)
			return (conf->c_wheres[i].w_where);
	}
	return (NULL);
}

/* See conf_worker_ids(). */
int
mgw_conf_worker_ids(const struct mgw_conf *conf, uid_t *uid, gid_t *gid)
{
	return (conf_worker_ids(conf, uid, gid));
}

/* shm.size in bytes. */
uint64_t
mgw_conf_shm_size(const struct mgw_conf *conf)
{
	return (conf->c_shm.size);
}

/* How many APIs conf serves. */
size_t
mgw_conf_napis(const struct mgw_conf *conf)
{
	return (conf->c_napis);
}

/* API i of conf, in the order written; NULL past the end. */
const struct mgw_api *
mgw_conf_api(const struct mgw_conf *conf, size_t i)
{
	if (i >= conf->c_napis)
		return (NULL);
	return ((const struct mgw_api *)(const void *)&conf->c_apis[i]);
}

/* The API's name, as written. */
const char *
mgw_api_name(const struct mgw_api *a)
{
	return (CONF_API(a)->a_name);
}

/* The API's version; NULL if it has none. */
const char *
mgw_api_version(const struct mgw_api *a)
{
	return (CONF_API(a)->a_version);
}

/* The API's base path, normalised ({version} substituted). */
const char *
mgw_api_base_path(const struct mgw_api *a)
{
	return (CONF_API(a)->a_base_path);
}

/* p's MGW_SCOPE_API struct for API a; NULL if it has none. */
const void *
mgw_api_settings(const struct mgw_api *a, const struct mgw_plugin *p)
{
	int	 k;

	if (CONF_API(a)->a_settings == NULL ||
	    (k = conf_api_position(CONF_API(a)->a_conf, p)) == -1)
		return (NULL);
	return (CONF_API(a)->a_settings[k]);
}

/* How many resources the API lists (0: every path). */
size_t
mgw_api_nresources(const struct mgw_api *a)
{
	return (CONF_API(a)->a_nresources);
}

/* Resource i of the API; NULL past the end. */
const struct mgw_resource *
mgw_api_resource(const struct mgw_api *a, size_t i)
{
	if (i >= CONF_API(a)->a_nresources)
		return (NULL);
	return ((const struct mgw_resource *)(const void *)
	    &CONF_API(a)->a_resources[i]);
}

/* The resource's path template. */
const char *
mgw_resource_path(const struct mgw_resource *r)
{
	return (CONF_RES(r)->r_path);
}

/* p's MGW_SCOPE_RESOURCE struct for resource r; NULL if it has none. */
const void *
mgw_resource_settings(const struct mgw_resource *r,
    const struct mgw_plugin *p)
{
	int	 k;

	if (CONF_RES(r)->r_settings == NULL ||
	    (k = conf_api_position(CONF_RES(r)->r_conf, p)) == -1)
		return (NULL);
	return (CONF_RES(r)->r_settings[k]);
}

/* How many consumers conf lists. */
size_t
mgw_conf_nconsumers(const struct mgw_conf *conf)
{
	return (conf->c_nconsumers);
}

/* Consumer i of conf, in the order written; NULL past the end. */
const struct mgw_consumer *
mgw_conf_consumer(const struct mgw_conf *conf, size_t i)
{
	if (i >= conf->c_nconsumers)
		return (NULL);
	return ((const struct mgw_consumer *)(const void *)
	    &conf->c_consumers[i]);
}

/* The consumer's name. */
const char *
mgw_consumer_name(const struct mgw_consumer *c)
{
	return (CONF_CS(c)->cs_name);
}

/* p's MGW_SCOPE_CONSUMER struct for consumer c; NULL if it has none. */
const void *
mgw_consumer_settings(const struct mgw_consumer *c,
    const struct mgw_plugin *p)
{
	int	 k;

	if (CONF_CS(c)->cs_settings == NULL ||
	    (k = conf_api_position(CONF_CS(c)->cs_conf, p)) == -1)
		return (NULL);
	return (CONF_CS(c)->cs_settings[k]);
}

/* How many listeners conf has. */
size_t
mgw_conf_nlisteners(const struct mgw_conf *conf)
{
	return (conf->c_nlisteners);
}

/* Listener i's name; NULL past the end. */
const char *
mgw_listener_name(const struct mgw_conf *conf, size_t i)
{
	if (i >= conf->c_nlisteners)
		return (NULL);
	return (conf->c_listeners[i].l_name);
}

/* 1 if listener i is an admin listener (/health, /status only). */
int
mgw_listener_admin(const struct mgw_conf *conf, size_t i)
{
	return (i < conf->c_nlisteners && conf->c_listeners[i].l_admin);
}

/* Listener i's access log path, whose it is, and its format. */
const char *
mgw_listener_access_log(const struct mgw_conf *conf, size_t i, int *own,
    int *json)
{
	const struct conf_listener	*l;

	*own = *json = 0;
	if (i >= conf->c_nlisteners)
		return (NULL);
	l = &conf->c_listeners[i];
	*own = l->l_access_log != NULL;
	*json = l->l_log_format == CONF_LOGF_JSON;
	return (*own ? l->l_access_log : conf->c_gateway.access_log);
}

/* gateway.user as written, NULL if unset. */
const char *
mgw_conf_user(const struct mgw_conf *conf)
{
	return (conf->c_gateway.user);
}
