/*
 * conf-env.c: MGW_* environment overrides, as containers expect.  A
 * variable is split into the components of a path through conf_table:
 * MGW_LIMITS_MAX_BODY_SIZE is limits / max_body_size and
 * MGW_APIS_PETSTORE_ENDPOINTS_PRODUCTION is apis / petstore / endpoints /
 * production.  Splitting follows the table rather than the underscores,
 * because key names and item names contain underscores themselves.
 * conf.c applies the values while it walks the file.
 */
#include "config.h"

#include <sys/types.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib.h"
#include "master.h"

#define CONF_ENV_PREFIX		"MGW_"
#define CONF_ENV_MAXPATH	(sizeof(((struct conf_override *)0)->o_path) / \
				    sizeof(char *))

/*
 * Variables with our prefix that are not settings: debugging hooks and
 * whatever the test suites pass to their children.  A trailing '*' makes
 * the entry a prefix.
 */
static const char *conf_env_ignore[] = {
	"MGW_DEBUG_HOOKS",
	"MGW_TEST_*",
	NULL
};

static int	conf_env_ignored(const char *, size_t);
static int	conf_env_prefix(const char *, const char *);
static int	conf_env_match(const struct conf_opt *, const char *,
		    struct conf_override *);
static void	conf_env_push(struct conf_override *, const char *, size_t);
static void	conf_env_pop(struct conf_override *);

static int
conf_env_ignored(const char *name, size_t len)
{
	const char	**ign;
	size_t		  n;

	for (ign = conf_env_ignore; *ign != NULL; ign++) {
		n = strlen(*ign);
		if ((*ign)[n - 1] == '*') {
			if (len >= n - 1 && strncmp(name, *ign, n - 1) == 0)
				return (1);
		} else if (len == n && strncmp(name, *ign, n) == 0)
			return (1);
	}
	return (0);
}

/*
 * Return the length of key if s starts with it written the way the
 * environment spells it (upper case), else 0.
 */
static int
conf_env_prefix(const char *s, const char *key)
{
	size_t	 i;

	for (i = 0; key[i] != '\0'; i++) {
		if (s[i] != toupper((unsigned char)key[i]))
			return (0);
	}
	return ((int)i);
}

static void
conf_env_push(struct conf_override *o, const char *s, size_t len)
{
	char	*p;
	size_t	 i;

	p = xstrndup(s, len);
	for (i = 0; i < len; i++)
		p[i] = tolower((unsigned char)p[i]);
	o->o_path[o->o_npath++] = p;
}

static void
conf_env_pop(struct conf_override *o)
{
	free(o->o_path[--o->o_npath]);
	o->o_path[o->o_npath] = NULL;
}

/*
 * Match s (what follows MGW_ or a parent component and its '_') against
 * tbl, pushing components onto o.  Only scalar and array keys end a
 * match: a group or a list cannot be replaced as a whole.  For a list the
 * component after its name is an item name of any length; the shortest
 * one for which the rest still names a key wins.  Returns 1 on a match.
 */
static int
conf_env_match(const struct conf_opt *tbl, const char *s,
    struct conf_override *o)
{
	const struct conf_opt	*t;
	const char		*rest, *item, *p;
	int			 n;

	for (t = tbl; t->t_name != NULL; t++) {
		if ((n = conf_env_prefix(s, t->t_name)) == 0)
			continue;
		rest = s + n;
		if (o->o_npath >= CONF_ENV_MAXPATH)
			return (0);
		switch (t->t_type) {
		case CONF_T_GROUP:
			if (*rest != '_')
				break;
			conf_env_push(o, t->t_name, n);
			if (conf_env_match(t->t_sub, rest + 1, o))
				return (1);
			conf_env_pop(o);
			break;
		case CONF_T_LIST:
			/* The list, an item and at least one key. */
			if (*rest != '_' || rest[1] == '\0' ||
			    o->o_npath + 3 > CONF_ENV_MAXPATH)
				break;
			conf_env_push(o, t->t_name, n);
			item = rest + 1;
			for (p = item + 1; *p != '\0'; p++) {
				if (*p != '_')
					continue;
				conf_env_push(o, item, p - item);
				if (conf_env_match(t->t_sub, p + 1, o))
					return (1);
				conf_env_pop(o);
			}
			conf_env_pop(o);
			break;
		default:
			if (*rest != '\0')
				break;
			conf_env_push(o, t->t_name, n);
			return (1);
		}
	}
	return (0);
}

/*
 * Collect the MGW_* variables of envp (NULL: environ) into a new array
 * of overrides in *ovp, *np of them, in environment order.  Variables not
 * naming a setting are kept with o_npath 0 so that conf_load() can report
 * them.  Always returns 0; the caller frees with conf_env_free().  Master
 * only.
 */
int
conf_env_collect(const struct conf_opt *tbl, char **envp,
    struct conf_override **ovp, size_t *np)
{
	struct conf_override	*ov = NULL, *o;
	size_t			 n = 0, namelen;
	char			**ep;
	const char		*eq;

	if (envp == NULL)
		envp = environ;
	for (ep = envp; ep != NULL && *ep != NULL; ep++) {
		if (strncmp(*ep, CONF_ENV_PREFIX,
		    strlen(CONF_ENV_PREFIX)) != 0)
			continue;
		if ((eq = strchr(*ep, '=')) == NULL)
			continue;
		namelen = eq - *ep;
		if (conf_env_ignored(*ep, namelen))
			continue;

		ov = xreallocarray(ov, n + 1, sizeof(*ov));
		o = &ov[n++];
		memset(o, 0, sizeof(*o));
		o->o_env = xstrdup(*ep);
		o->o_name = xstrndup(*ep, namelen);
		o->o_value = xstrdup(eq + 1);
		if (!conf_env_match(tbl,
		    o->o_name + strlen(CONF_ENV_PREFIX), o)) {
			while (o->o_npath > 0)
				conf_env_pop(o);
		}
	}
	*ovp = ov;
	*np = n;
	return (0);
}

/* Free what conf_env_collect() returned; NULL is fine. */
void
conf_env_free(struct conf_override *ov, size_t n)
{
	size_t	 i, j;

	if (ov == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(ov[i].o_env);
		free(ov[i].o_name);
		free(ov[i].o_value);
		for (j = 0; j < ov[i].o_npath; j++)
			free(ov[i].o_path[j]);
	}
	free(ov);
}
