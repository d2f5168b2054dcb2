#ifndef PSHIM6_CONTROL_RELOAD_KEEP_H
#define PSHIM6_CONTROL_RELOAD_KEEP_H
#include "pshim6/conf.h"

/* Copy into the reloaded `n` every setting of the running `o` that only a
 * restart applies: sockets, table sizes, the engine and its timers, and
 * the peer section but for sync_batch, yield_linger_ms, notify and
 * alt_addresses. */
void conf_keep_running(struct pshim6_conf *n, const struct pshim6_conf *o);
/* The same for the peer section alone: its reloadable keys are the list
 * peer_conf_needs_restart() compares without. */
void conf_peer_keep_running(struct pshim6_conf_peer_proxy *n, const struct pshim6_conf_peer_proxy *o);
#endif
