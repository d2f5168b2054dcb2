#include <stdio.h>
#include "daemon.h"
int ctl_daemon_run(const char *path, const struct pshim6_conf *conf, bool debug)
{
	fprintf(stderr, "pshim6-control: daemon not built yet\n");
	return 1;
}
