#ifndef PSHIM6_CONTROL_RELOAD_KEEP_H
#define PSHIM6_CONTROL_RELOAD_KEEP_H
#include "pshim6/conf.h"

/* What conf_keep_running() reports for the peer section (its reloadable
 * keys are sync_batch, yield_linger_ms, notify, notify_timeout_ms,
 * address, alt_addresses and sources). */
#define CONF_KEEP_PEER "peer section"

/* Called once for each setting that a reload changed and only a restart
 * applies; `what` names it ("control.hold_total", "engine.max_contexts", CONF_KEEP_PEER). */
typedef void conf_keep_report_fn(void *arg, const char *what);

/* Copy into the reloaded `n` every setting of the running `o` that only a
 * restart applies (sockets, table sizes, the engine's bounds, and the
 * peer section but for sync_batch, yield_linger_ms, notify, notify_timeout_ms,
 * address, alt_addresses and sources), reporting each that differed; returns how many did.
 * `report` may be NULL. */
unsigned conf_keep_running(struct pshim6_conf *n, const struct pshim6_conf *o,
			   conf_keep_report_fn *report, void *arg);
/* The same for the peer section alone. */
void conf_peer_keep_running(struct pshim6_conf_peer_proxy *n, const struct pshim6_conf_peer_proxy *o);
#endif
