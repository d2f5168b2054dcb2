#ifndef PSHIM6_CONTROL_DAEMON_H
#define PSHIM6_CONTROL_DAEMON_H
#include <stdbool.h>
#include "pshim6/conf.h"

/* Run the daemon until SIGTERM/SIGINT.  Takes over `conf` (copies it). */
int ctl_daemon_run(const char *path, const struct pshim6_conf *conf, bool debug);

#endif
