/*
 * ctl-parse.c: mgwctl's command words as token tables, one table per
 * position (relayctl parser.c style).  A new command is a new row and
 * perhaps a new table; the usage text is generated from the same rows.
 * Plugins add commands of their own (throttle, revoke, ...): mgwd lists
 * them, the first word is matched against those too, and the plugin
 * checks the words after it.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib.h"
#include "ctl-msg.h"
#include "ctl.h"

static const struct ctl_token t_main[];
static const struct ctl_token t_stop[];
static const struct ctl_token t_log[];
static const struct ctl_token t_end[];

static const struct ctl_token t_main[] = {
	{ CTL_TOK_KEYWORD, "reload", CTL_RELOAD, NULL, t_end },
	{ CTL_TOK_KEYWORD, "stop", CTL_STOP, "graceful", t_stop },
	{ CTL_TOK_KEYWORD, "status", CTL_STATUS, NULL, t_end },
	{ CTL_TOK_KEYWORD, "stats", CTL_STATS, NULL, t_end },
	{ CTL_TOK_KEYWORD, "log", 0, NULL, t_log },
	{ CTL_TOK_END, NULL, 0, NULL, NULL }
};

static const struct ctl_token t_stop[] = {
	{ CTL_TOK_NONE, NULL, 0, NULL, NULL },
	{ CTL_TOK_KEYWORD, "fast", CTL_STOP, "fast", t_end },
	{ CTL_TOK_END, NULL, 0, NULL, NULL }
};

static const struct ctl_token t_log[] = {
	{ CTL_TOK_KEYWORD, "verbose", CTL_LOG_VERBOSE, NULL, t_end },
	{ CTL_TOK_KEYWORD, "brief", CTL_LOG_BRIEF, NULL, t_end },
	{ CTL_TOK_END, NULL, 0, NULL, NULL }
};

static const struct ctl_token t_end[] = {
	{ CTL_TOK_NONE, NULL, 0, NULL, NULL },
	{ CTL_TOK_END, NULL, 0, NULL, NULL }
};

/*
 * The commands the built-in plugins register (throttle.c, authn-ctl.c),
 * as their usage lines read.  mgwd's own list wins whenever it answers,
 * and adds external plugins' commands; this copy only lets mgwctl print
 * a full usage and tell a typo from a plugin's command without a daemon.
 */
static const struct ctl_verb ctl_builtin_verbs[] = {
	{ "throttle", "throttle show [prefix]" },
	{ "throttle", "throttle reset key" },
	{ "revoke", "revoke JTI|sha256:HASH [until]" },
	{ "revocations", "revocations" }
};

static const struct ctl_token *ctl_parse_match(const struct ctl_token *,
		    const char *, char **);
static int	ctl_parse_first(const char *, const struct ctl_verb *, size_t,
		    const struct ctl_token **, const char **, char **);
static int	ctl_parse_may_end(const struct ctl_token *);
static int	ctl_parse_nested(const struct ctl_token *);
static void	ctl_parse_words(FILE *, const struct ctl_token *);
static const struct ctl_token *ctl_parse_argnext(const struct ctl_token *);

/*
 * Find word in table: an exact match wins, otherwise a unique prefix.
 * NULL with *cause if nothing or more than one keyword fits.
 */
static const struct ctl_token *
ctl_parse_match(const struct ctl_token *table, const char *word,
    char **cause)
{
	const struct ctl_token	*t, *found = NULL;
	size_t			 len = strlen(word);
	int			 n = 0;

	for (t = table; t->t_type != CTL_TOK_END; t++) {
		if (t->t_type == CTL_TOK_ARG)
			return (t);
		if (t->t_type != CTL_TOK_KEYWORD)
			continue;
		if (strcmp(t->t_keyword, word) == 0)
			return (t);
		if (len > 0 && strncmp(t->t_keyword, word, len) == 0) {
			found = t;
			n++;
		}
	}
	if (n == 1)
		return (found);
	if (n > 1)
		xasprintf(cause, "ambiguous argument: %s", word);
	else
		xasprintf(cause, "unknown argument: %s", word);
	return (NULL);
}

static int
ctl_parse_may_end(const struct ctl_token *table)
{
	const struct ctl_token	*t;

	for (t = table; t->t_type != CTL_TOK_END; t++)
		if (t->t_type == CTL_TOK_NONE)
			return (1);
	return (0);
}

/*
 * The first word: exactly one of our commands or one of the plugins'
 * verbs, else a unique prefix among both.  Sets *tok (ours) or *verb
 * (the plugin's name); -1 with *cause if nothing or several fit.
 */
static int
ctl_parse_first(const char *word, const struct ctl_verb *verbs,
    size_t nverbs, const struct ctl_token **tok, const char **verb,
    char **cause)
{
	const struct ctl_token	*t;
	size_t			 len = strlen(word), i;
	int			 n = 0;

	*tok = NULL;
	*verb = NULL;
	for (t = t_main; t->t_type != CTL_TOK_END; t++) {
		if (strcmp(t->t_keyword, word) == 0) {
			*tok = t;
			return (0);
		}
	}
	for (i = 0; i < nverbs; i++) {
		if (strcmp(verbs[i].cv_name, word) == 0) {
			*verb = verbs[i].cv_name;
			return (0);
		}
	}
	for (t = t_main; len > 0 && t->t_type != CTL_TOK_END; t++) {
		if (strncmp(t->t_keyword, word, len) == 0) {
			*tok = t;
			n++;
		}
	}
	for (i = 0; len > 0 && i < nverbs; i++) {
		/* Usage lines of one verb come in a row. */
		if (i > 0 && strcmp(verbs[i].cv_name,
		    verbs[i - 1].cv_name) == 0)
			continue;
		if (strncmp(verbs[i].cv_name, word, len) == 0) {
			*verb = verbs[i].cv_name;
			n++;
		}
	}
	if (n == 1)
		return (0);
	if (n > 1)
		xasprintf(cause, "ambiguous argument: %s", word);
	else
		xasprintf(cause, "unknown command: %s", word);
	return (-1);
}

/*
 * Match the command words in argv against the tables, the first one
 * against the plugins' verbs too.  Returns 0 with *res filled in, or -1
 * with a malloc'd *cause.  mgwctl only.
 */
int
ctl_parse(int argc, char **argv, const struct ctl_verb *verbs,
    size_t nverbs, struct ctl_parse_result *res, char **cause)
{
	const struct ctl_token	*table = t_main, *t;
	const char		*last = NULL, *verb;
	int			 i;

	memset(res, 0, sizeof(*res));
	res->payload = "";
	for (i = 0; i < argc; i++) {
		if (table == t_end) {
			xasprintf(cause, "unexpected argument: %s", argv[i]);
			return (-1);
		}
		if (i == 0) {
			if (ctl_parse_first(argv[0], verbs, nverbs, &t, &verb,
			    cause) == -1)
				return (-1);
			if (verb != NULL) {
				res->msg = CTL_VERB;
				res->command = verb;
				res->vargc = argc - 1;
				res->vargv = argv + 1;
				return (0);
			}
		} else if ((t = ctl_parse_match(table, argv[i], cause)) ==
		    NULL)
			return (-1);
		if (table == t_main)
			res->command = t->t_keyword;
		if (t->t_type == CTL_TOK_ARG) {
			if (res->nargs == 0)
				res->payload = argv[i];
			if (res->nargs < CTL_ARGS_MAX)
				res->args[res->nargs++] = argv[i];
		} else if (t->t_msg != 0) {
			res->msg = t->t_msg;
			res->payload = t->t_payload != NULL ? t->t_payload : "";
		}
		last = t->t_keyword;
		table = t->t_next;
	}
	if (last == NULL) {
		xasprintf(cause, "missing command");
		return (-1);
	}
	if (!ctl_parse_may_end(table) || res->msg == 0) {
		xasprintf(cause, "missing argument after %s", last);
		return (-1);
	}
	return (0);
}

/* The built-in plugins' commands, for when mgwd cannot list its own. */
const struct ctl_verb *
ctl_parse_builtin_verbs(size_t *n)
{
	*n = sizeof(ctl_builtin_verbs) / sizeof(ctl_builtin_verbs[0]);
	return (ctl_builtin_verbs);
}

/* Is word exactly one of our own commands?  mgwctl only. */
int
ctl_parse_core(const char *word)
{
	const struct ctl_token	*t;

	for (t = t_main; t->t_type != CTL_TOK_END; t++)
		if (strcmp(t->t_keyword, word) == 0)
			return (1);
	return (0);
}

/* Print the keywords of table joined by '|'. */
static void
ctl_parse_words(FILE *f, const struct ctl_token *table)
{
	const struct ctl_token	*t;
	int			 first = 1;

	for (t = table; t->t_type != CTL_TOK_END; t++) {
		if (t->t_type == CTL_TOK_ARG)
			fprintf(f, "%s%s", first ? "" : "|", t->t_keyword);
		else if (t->t_type == CTL_TOK_KEYWORD)
			fprintf(f, "%s%s", first ? "" : "|", t->t_keyword);
		else
			continue;
		first = 0;
	}
}

/* The table after table's free word, or t_end if it has none. */
static const struct ctl_token *
ctl_parse_argnext(const struct ctl_token *table)
{
	const struct ctl_token	*t;

	for (t = table; t->t_type != CTL_TOK_END; t++)
		if (t->t_type == CTL_TOK_ARG)
			return (t->t_next);
	return (t_end);
}

/* Does this table lead to a further word after its keywords? */
static int
ctl_parse_nested(const struct ctl_token *table)
{
	const struct ctl_token	*t;

	for (t = table; t->t_type != CTL_TOK_END; t++)
		if (t->t_type == CTL_TOK_KEYWORD && t->t_next != t_end)
			return (1);
	return (0);
}

/*
 * Print one line per command, such as "\tstop [fast]" and
 * "\tlog verbose|brief", for usage(), then the plugins' verbs.  mgwctl
 * only.
 */
void
ctl_parse_commands(FILE *f, const struct ctl_verb *verbs, size_t nverbs)
{
	const struct ctl_token	*t, *s;
	size_t			 i;
	int			 optional;

	for (t = t_main; t->t_type != CTL_TOK_END; t++) {
		if (ctl_parse_nested(t->t_next)) {
			/* a keyword with words after it: a line each */
			for (s = t->t_next; s->t_type != CTL_TOK_END; s++) {
				if (s->t_type != CTL_TOK_KEYWORD)
					continue;
				fprintf(f, "\t%s %s", t->t_keyword,
				    s->t_keyword);
				optional = ctl_parse_may_end(s->t_next);
				fprintf(f, " %s", optional ? "[" : "");
				ctl_parse_words(f, s->t_next);
				fprintf(f, "%s\n", optional ? "]" : "");
			}
			continue;
		}
		fprintf(f, "\t%s", t->t_keyword);
		for (s = t->t_next; s != t_end; s = ctl_parse_argnext(s)) {
			optional = ctl_parse_may_end(s);
			fprintf(f, " %s", optional ? "[" : "");
			ctl_parse_words(f, s);
			fprintf(f, "%s", optional ? "]" : "");
		}
		fprintf(f, "\n");
	}
	for (i = 0; verbs != NULL && i < nverbs; i++)
		fprintf(f, "\t%s\n", verbs[i].cv_usage);
}
