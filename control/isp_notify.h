/*
 * control.isp_notify: an executable run whenever the dataplane's probes
 * change their verdict on an ISP (DPMSG_ISP_STATE), as
 *     NOTIFY <new> <old> <isp>
 * with states `working`, `failed` and `drained` (old `none` for the first
 * run after start, or after the key is set by a reload, which tells every
 * ISP's state at once).  `drained` is an ISP the dataplane counts out while
 * control's config has isps.drain on it: the operator's doing, which a
 * script may treat apart from a failure (no alarm).  The dataplane and
 * control take the drain on their own reloads, so the verdict may come
 * first as `failed` and turn `drained` when control's reload follows.  The appliance's own traffic (the DNS ALG's upstream
 * queries, ssh, NTP) leaves by the kernel's routes, which know nothing of
 * the probes; the script is where an operator moves them, e.g. the default
 * route to a working ISP.
 *
 * One peer_notify chain per ISP (peer_notify.h): per ISP one run at a
 * time, changes while it runs folded into one, a run past
 * PEER_NOTIFY_TIMEOUT_NS killed.  So at most one run per ISP is in flight.
 */
#ifndef PSHIM6_CONTROL_ISP_NOTIFY_H
#define PSHIM6_CONTROL_ISP_NOTIFY_H
#include <stdbool.h>
#include <stdint.h>
#include "peer_notify.h"
#include "pshim6/conf.h"

struct isp_notify {
	unsigned n_isp;
	char name[PSHIM6_CONF_MAX_ISPS][PSHIM6_CONF_NAME_MAX];   /* the scripts' <isp>, kept across reloads */
	struct peer_notify n[PSHIM6_CONF_MAX_ISPS];
	bool down[PSHIM6_CONF_MAX_ISPS];    /* the dataplane's verdict (DPMSG_ISP_STATE) */
	bool drain[PSHIM6_CONF_MAX_ISPS];   /* isps.drain in control's config */
};

/* Every ISP working; runs nothing until a path is set (isp_notify_conf). */
void isp_notify_init(struct isp_notify *x, const struct peer_notify_ops *ops, const struct pshim6_conf *c);
/* The path and the drains from config, at start and on reload: a new path
 * tells every ISP's state at once, a drain set or lifted on an ISP the
 * dataplane counts out tells that ISP's. */
void isp_notify_conf(struct isp_notify *x, const struct pshim6_conf *c, uint64_t now);
/* The dataplane's verdict on ISP `isp` changed: out (`failed`, or
 * `drained` when the config drains it), or working again. */
void isp_notify_change(struct isp_notify *x, unsigned isp, bool down, uint64_t now);
void isp_notify_tick(struct isp_notify *x, uint64_t now);
uint64_t isp_notify_deadline(const struct isp_notify *x);
#endif
