/*
 * Config reload (SIGHUP).  What the fast path may take while running is
 * what is read per packet from the site config or per port: ISP weights and
 * MTUs, the inside MTU, static next-hop MACs, dataplane.pmtu,
 * nd_reachable_ms and the idle back-off.  Ports, prefixes, addresses, next
 * hops, table sizes, lcores and the channel shape the dataplane at start
 * (queues, tables, the fast classifiers), so a change there is refused with
 * the key named and the running config stays in force.
 */
#ifndef PSHIM6_DP_RELOAD_H
#define PSHIM6_DP_RELOAD_H

#include <stddef.h>

#include "pshim6/conf.h"
#include "site.h"

/* Everything of the site config the config file says (not cmula_space, a
 * command-line option). */
void dp_site_from_conf(struct dp_site *s, const struct pshim6_conf *c);

/* 0 when `nw` differs from `old` only in what a reload may change; else -1
 * with `why` naming the first key that needs a restart. */
int dp_reload_check(const struct pshim6_conf *old, const struct pshim6_conf *nw, char *why, size_t n);

/* What a reload would change, as "key old -> new; ..." (for the log).
 * Returns how many keys change; 0 = nothing to do. */
unsigned dp_reload_describe(const struct pshim6_conf *old, const struct pshim6_conf *nw, char *out, size_t n);

/* Dataplane side (reload.c): remember the file and the config in force at
 * start; dp_reload() runs on the channel thread.  Returns 0 when applied,
 * 1 when nothing changed, -1 when refused (the running config stays). */
void dp_reload_init(const char *path, const struct pshim6_conf *c, bool busy_poll);
int dp_reload(void);

#endif
