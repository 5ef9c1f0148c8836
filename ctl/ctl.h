/*
 * ctl.h: mgwctl, the control tool: its command token table (relayctl
 * parser.c style) and what parsing the command line yields.
 */
#ifndef MGW_CTL_H
#define MGW_CTL_H

#include <stdint.h>
#include <stdio.h>

enum ctl_token_type {
	CTL_TOK_END = 0,	/* end of a table */
	CTL_TOK_NONE,		/* the words may stop here */
	CTL_TOK_KEYWORD,	/* a word, matched by unique prefix */
	CTL_TOK_ARG		/* any word, sent as the payload */
};

/*
 * One entry of a token table.  A matched keyword sets the message to send
 * (when t_msg is not 0) and carries on in t_next with the next word.
 */
struct ctl_token {
	enum ctl_token_type	 t_type;
	const char		*t_keyword;
	uint32_t		 t_msg;		/* enum ctl_type, 0: none */
	const char		*t_payload;	/* NULL: empty */
	const struct ctl_token	*t_next;
};

#define CTL_ARGS_MAX	2	/* free words of one command */

/*
 * A plugin's command, as mgwd lists them (CTL_VERBS): one entry per line
 * of its usage, so a name may repeat on consecutive entries.
 */
struct ctl_verb {
	const char	*cv_name;
	const char	*cv_usage;
};

struct ctl_parse_result {
	uint32_t	 msg;		/* enum ctl_type to send */
	const char	*payload;	/* "" for none; the first free word */
	const char	*command;	/* first word, spelled out */
	const char	*args[CTL_ARGS_MAX];	/* the free words, in order */
	int		 nargs;
	/* CTL_VERB: the plugin checks the words after command. */
	int		 vargc;
	char		**vargv;
};

/* ctl-parse.c */
/*
 * Match argv[0..argc-1] against the command table and, for the first
 * word, against the plugins' verbs too (NULL, 0: none known): an exact
 * word wins, otherwise a unique prefix among both.  Returns 0 and fills
 * *res, or -1 with *cause (unknown, ambiguous, missing or extra word),
 * which the caller prints and frees.
 */
int	ctl_parse(int, char **, const struct ctl_verb *, size_t,
	    struct ctl_parse_result *, char **);
/* Is word exactly one of mgwctl's own commands? */
int	ctl_parse_core(const char *);
/*
 * The commands of mgwd's built-in plugins, for when mgwd cannot be asked
 * for its list; *n entries.
 */
const struct ctl_verb *ctl_parse_builtin_verbs(size_t *);
/*
 * Print the command list, one per line, indented by a tab: mgwctl's own,
 * then the plugins'.
 */
void	ctl_parse_commands(FILE *, const struct ctl_verb *, size_t);

#endif /* MGW_CTL_H */
