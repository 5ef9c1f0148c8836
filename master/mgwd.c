/*
 * mgwd.c: main() of the gateway daemon: options, the configuration test,
 * and the hand-over to the master.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib.h"
#include "master.h"

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: mgwd [-dnvV] [-f file]\n");
	exit(1);
}

/* mgwd -n: everything a start or reload would check, then exit. */
static int
mgwd_configtest(const char *file)
{
	struct generation	*g;
	char			*cause = NULL;
	size_t			 i;

	if ((g = master_load(file, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		fprintf(stderr, "mgwd: configuration file %s test failed\n",
		    file);
		free(cause);
		return (1);
	}
	for (i = 0; i < g->g_conf->c_noverrides; i++)
		printf("override: %s\n", g->g_conf->c_overrides[i]);
	printf("configuration OK\n");
	generation_free(g);
	return (0);
}

int
main(int argc, char *argv[])
{
	const char	*file = SYSCONFDIR "/mgw/mgw.conf";
	int		 ch, debug = 0, test = 0, verbose = 0;

	while ((ch = getopt(argc, argv, "df:nvV")) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'f':
			file = optarg;
			break;
		case 'n':
			test = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 'V':
			printf("mgwd %s\n", MGW_VERSION);
			return (0);
		default:
			usage();
		}
	}
	if (argc != optind)
		usage();
	log_init(1, verbose);
	if (test)
		return (mgwd_configtest(file));
	return (master_run(file, debug, verbose));
}
