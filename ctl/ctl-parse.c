/*
 * ctl-parse.c: mgwctl's command words as token tables, one table per
 * position (relayctl parser.c style).  A new command is a new row and
 * perhaps a new table; the usage text is generated from the same rows.
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
static const struct ctl_token t_throttle[];
static const struct ctl_token t_prefix[];
static const struct ctl_token t_key[];
static const struct ctl_token t_revoke[];
static const struct ctl_token t_until[];
static const struct ctl_token t_end[];

static const struct ctl_token t_main[] = {
	{ CTL_TOK_KEYWORD, "reload", CTL_RELOAD, NULL, t_end },
	{ CTL_TOK_KEYWORD, "stop", CTL_STOP, "graceful", t_stop },
	{ CTL_TOK_KEYWORD, "status", CTL_STATUS, NULL, t_end },
	{ CTL_TOK_KEYWORD, "stats", CTL_STATS, NULL, t_end },
	{ CTL_TOK_KEYWORD, "log", 0, NULL, t_log },
	{ CTL_TOK_KEYWORD, "throttle", 0, NULL, t_throttle },
	{ CTL_TOK_KEYWORD, "revoke", CTL_REVOKE, NULL, t_revoke },
	{ CTL_TOK_KEYWORD, "revocations", CTL_REVOKE_LIST, NULL, t_end },
	{ CTL_TOK_END, NULL, 0, NULL, NULL }
};

/* mgwctl revoke JTI|sha256:HASH [until]; mgwctl.c builds the payload. */
static const struct ctl_token t_revoke[] = {
	{ CTL_TOK_ARG, "JTI|sha256:HASH", 0, NULL, t_until },
	{ CTL_TOK_END, NULL, 0, NULL, NULL }
};

static const struct ctl_token t_until[] = {
	{ CTL_TOK_NONE, NULL, 0, NULL, NULL },
	{ CTL_TOK_ARG, "until", 0, NULL, t_end },
	{ CTL_TOK_END, NULL, 0, NULL, NULL }
};

static const struct ctl_token t_throttle[] = {
	{ CTL_TOK_KEYWORD, "show", CTL_THROTTLE_SHOW, NULL, t_prefix },
	{ CTL_TOK_KEYWORD, "reset", CTL_THROTTLE_RESET, NULL, t_key },
	{ CTL_TOK_END, NULL, 0, NULL, NULL }
};

static const struct ctl_token t_prefix[] = {
	{ CTL_TOK_NONE, NULL, 0, NULL, NULL },
	{ CTL_TOK_ARG, "prefix", 0, NULL, t_end },
	{ CTL_TOK_END, NULL, 0, NULL, NULL }
};

static const struct ctl_token t_key[] = {
	{ CTL_TOK_ARG, "key", 0, NULL, t_end },
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

static const struct ctl_token *ctl_parse_match(const struct ctl_token *,
		    const char *, char **);
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
	else if (table == t_main)
		xasprintf(cause, "unknown command: %s", word);
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
 * Match the command words in argv against the tables.  Returns 0 with
 * *res filled in, or -1 with a malloc'd *cause.  mgwctl only.
 */
int
ctl_parse(int argc, char **argv, struct ctl_parse_result *res, char **cause)
{
	const struct ctl_token	*table = t_main, *t;
	const char		*last = NULL;
	int			 i;

	memset(res, 0, sizeof(*res));
	res->payload = "";
	for (i = 0; i < argc; i++) {
		if (table == t_end) {
			xasprintf(cause, "unexpected argument: %s", argv[i]);
			return (-1);
		}
		if ((t = ctl_parse_match(table, argv[i], cause)) == NULL)
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
 * "\tlog verbose|brief", for usage().  mgwctl only.
 */
void
ctl_parse_commands(FILE *f)
{
	const struct ctl_token	*t, *s;
	int			 optional;

	for (t = t_main; t->t_type != CTL_TOK_END; t++) {
		if (ctl_parse_nested(t->t_next)) {
			/* "throttle show [prefix]", "throttle reset key" */
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
		/* "revoke JTI|sha256:HASH [until]": free words in a row */
		for (s = t->t_next; s != t_end; s = ctl_parse_argnext(s)) {
			optional = ctl_parse_may_end(s);
			fprintf(f, " %s", optional ? "[" : "");
			ctl_parse_words(f, s);
			fprintf(f, "%s", optional ? "]" : "");
		}
		fprintf(f, "\n");
	}
}
