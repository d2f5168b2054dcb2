/*
 * Applying a reload on the channel thread, the only writer.  The site
 * config lcores read sits behind one pointer: the new one is built in the
 * spare buffer and published with one store, so a burst sees the old or the
 * new config, never a mix of two.  The spare buffer is reused only after a
 * grace period, when no lcore can still hold it from the reload before.
 */
#include <stdio.h>
#include <string.h>

#include <rte_rcu_qsbr.h>

#include "dataplane.h"
#include "reload.h"

static struct pshim6_conf cur, nw;
static char path[PSHIM6_CONF_PATH_MAX];
static bool busy;

void dp_reload_init(const char *p, const struct pshim6_conf *c, bool busy_poll)
{
	snprintf(path, sizeof(path), "%s", p);
	cur = *c;
	busy = busy_poll;
}

static void apply_mac(struct dp_port *pt, const struct pshim6_conf_mac *m)
{
	if (m->set) {
		dp_nh_store(pt, dp_nh_word(m->addr));
		__atomic_store_n(&pt->nh_static, true, __ATOMIC_RELAXED);
	} else if (pt->nh_static) {
		/* back to Neighbor Discovery: keep the MAC until it is confirmed or replaced */
		__atomic_store_n(&pt->nh_static, false, __ATOMIC_RELAXED);
		pt->nud = (struct dp_nud){ .state = DP_NUD_PROBE };
	}
}

int dp_reload(void)
{
	char why[160], what[1024];
	struct dp_site *spare;

	if (pshim6_conf_load(path, &nw, pshim6_conf_error_print, stderr) != 0) {
		dp.chan_cnt.c[DPMSG_CNT_CONF_RELOAD_REFUSED]++;
		fprintf(stderr, "pshim6-dataplane: reload of %s refused: the file has errors (above); "
			"the running config stays\n", path);
		return -1;
	}
	if (dp_reload_check(&cur, &nw, why, sizeof(why)) != 0) {
		dp.chan_cnt.c[DPMSG_CNT_CONF_RELOAD_REFUSED]++;
		fprintf(stderr, "pshim6-dataplane: reload of %s refused: %s changed, which needs a restart; "
			"the running config stays\n", path, why);
		return -1;
	}
	if (dp_reload_describe(&cur, &nw, what, sizeof(what)) == 0) {
		fprintf(stderr, "pshim6-dataplane: reload of %s: nothing the dataplane uses changed\n", path);
		cur = nw;
		return 1;
	}
	rte_rcu_qsbr_synchronize(dp.t->qs, RTE_QSBR_THRID_INVALID);
	spare = dp.site == &dp.sites[0] ? &dp.sites[1] : &dp.sites[0];
	*spare = *dp.site;                     /* cmula_space comes from the command line */
	dp_site_from_conf(spare, &nw);
	__atomic_store_n(&dp.site, spare, __ATOMIC_RELEASE);

	for (unsigned p = 0; p < dp.n_ports; p++) {
		struct dp_port *pt = &dp.port[p];
		pt->mtu = p == 0 ? nw.inside.mtu : nw.isps[p - 1].mtu;
		apply_mac(pt, p == 0 ? &nw.inside.next_hop_mac : &nw.isps[p - 1].next_hop_mac);
	}
	dp.nd_reachable_ms = nw.dataplane.nd_reachable_ms;
	__atomic_store_n(&dp.idle_polls, busy ? 0 : nw.dataplane.idle_polls, __ATOMIC_RELAXED);
	__atomic_store_n(&dp.idle_sleep_us, nw.dataplane.idle_sleep_us, __ATOMIC_RELAXED);
	cur = nw;
	dp.chan_cnt.c[DPMSG_CNT_CONF_RELOADS]++;
	fprintf(stderr, "pshim6-dataplane: reloaded %s: %s\n", path, what);
	return 0;
}
