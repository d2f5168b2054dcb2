/*
 * pshim6-control: the control daemon.  `-n` checks the config and exits,
 * `-nv` also prints it back in normal form.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pshim6/conf.h"
#include "daemon.h"

#define DEFAULT_CONF "/etc/pshim6/pshim6.conf"

static void usage(FILE *f)
{
	fprintf(f,
"usage: pshim6-control [-dnv] [-c file]\n"
"\n"
"The P-SHIM6 control daemon: runs the Shim6 engine for the site, is the only\n"
"writer of the dataplane's context tables, and serves the control socket\n"
"used by pshim6ctl, the DNS ALG and the DHCP hook.\n"
"\n"
"  -c file   configuration file (default " DEFAULT_CONF ")\n"
"  -d        stay in the foreground and log to stderr at debug level\n"
"  -n        check the configuration and exit: 0 if valid; errors are\n"
"            printed as file:line: message\n"
"  -v        with -n, print the configuration in normal form\n"
"  -h        this help\n"
"\n"
"Signals: SIGHUP reloads the configuration (a bad file is refused and the\n"
"running one kept); SIGTERM and SIGINT stop the daemon, leaving the\n"
"dataplane forwarding established contexts.\n"
"See pshim6-control(8), pshim6.conf(5), pshim6ctl(8).\n");
}

int main(int argc, char **argv)
{
	const char *path = DEFAULT_CONF;
	bool check = false, verbose = false, debug = false;
	int ch;

	static const struct option longopts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	while ((ch = getopt_long(argc, argv, "c:dnvh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 'd': debug = true; break;
		case 'n': check = true; break;
		case 'v': verbose = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	struct pshim6_conf *conf = calloc(1, sizeof(*conf));
	if (!conf) {
		perror("pshim6-control");
		return 1;
	}
	if (pshim6_conf_load(path, conf, pshim6_conf_error_print, stderr)) {
		free(conf);
		return 1;
	}
	if (check) {
		if (verbose)
			pshim6_conf_print(stdout, conf);
		else
			fprintf(stderr, "configuration OK\n");
		free(conf);
		return 0;
	}
	/* reloads must find the file whatever the working directory becomes */
	char *abs = realpath(path, NULL);
	int rc = ctl_daemon_run(abs ? abs : path, conf, debug);
	free(abs);
	free(conf);
	return rc;
}
