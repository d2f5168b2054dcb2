/*
 * What the fast path knows about the site (read-only after start) and the
 * context entry the lcores read.  Port index 0 is the inside port; ISP i is
 * port index 1 + i.
 */
#ifndef PSHIM6_DP_SITE_H
#define PSHIM6_DP_SITE_H

#include <stdint.h>

#include "pkt.h"

#define DP_MAX_ISP        8
#define DP_MAX_CMULA_PFX  4
#define DP_PROBE_TARGETS  4   /* echo targets an ISP (probe.h) */

/* An ISP's probe targets; unused slots are zero, so two sets compare whole. */
struct dp_probe_targets {
	uint8_t n;
	uint8_t a[DP_PROBE_TARGETS][16];
};
#define DP_PORT_INSIDE    0
#define DP_PORT_ISP(i)    ((i) + 1)

struct dp_isp {
	struct dp_prefix pa;          /* PA prefix delegated by this ISP */
	uint8_t  addr[16];            /* appliance's own address on the ISP link (:: = none) */
	uint32_t mtu;
	uint32_t weight;
	uint16_t mss_shim, mss_nat;   /* MSS a SYN may carry on this ISP's link, shimmed / NATv6 */
	struct dp_probe_targets probe; /* probe.h: whether the ISP works, by echo requests to these (n = 0: not tracked) */
	bool     drain;               /* isps.drain: out of service whatever the probes say */
};

struct dp_site {
	unsigned n_cmula;
	struct dp_prefix cmula[DP_MAX_CMULA_PFX]; /* this site's CMULA prefixes */
	struct dp_prefix cmula_space;  /* where remote CMULAs live: no context -> punt, else NATv6 */
	unsigned n_isp;
	struct dp_isp isp[DP_MAX_ISP];
	uint32_t weight_total;
	uint8_t  inside_addr[16];      /* own inside address: PTB source, exception path */
	uint32_t inside_mtu;
	bool     hba;                  /* HBA site: own-site mapping through the host table */
	bool     ptb;                  /* send Packet Too Big (else drop counted) */
	bool     mss;                  /* clamp the MSS of TCP SYNs (dataplane.pmtu "mss" or "both") */
	uint16_t mss_in;               /* inbound NATv6: the reply may leave by any ISP, so the smallest */
	uint32_t probe_interval_ms, probe_down_after, probe_up_after;   /* probe.h */
};

#define DP_CTX_STAMPS 4     /* lcores with stamps of their own; more share them */

/* One context as lcores read it; replaced whole (RCU) on every change. */
struct dp_ctx {
	uint8_t  local_ulid[16];
	uint8_t  remote_ulid[16];
	uint8_t  local_loc[16];
	uint8_t  remote_loc[16];
	uint64_t peer_tag;
	uint64_t own_tag;
	uint32_t fii;
	uint32_t flags;
	uint8_t  isp;
	/*
	 * REAP: last sent [0] and received [1] for each lcore (reader index
	 * mod DP_CTX_STAMPS), in the tables' milliseconds, 0 = never.  In the
	 * line the lcores read anyway, so a packet touches no other line for
	 * them; an lcore writes only when the millisecond changes, so the line
	 * is dirtied at most once a millisecond per lcore.
	 */
	uint32_t stamp[DP_CTX_STAMPS][2];
} __attribute__((aligned(64)));
_Static_assert(sizeof(struct dp_ctx) == 128, "a context is two cache lines");

/* An HBA host: CMULA and its locator under each ISP. */
struct dp_host {
	uint8_t cmula[16];
	uint8_t loc[DP_MAX_ISP][16];   /* 8-aligned: these are hash keys */
	uint8_t nloc;
} __attribute__((aligned(8)));

static __rte_always_inline int dp_site_cmula_index(const struct dp_site *s, const uint8_t *a)
{
	for (unsigned i = 0; i < s->n_cmula; i++)
		if (dp_prefix_match(&s->cmula[i], a))
			return (int)i;
	return -1;
}

static __rte_always_inline int dp_site_isp_of(const struct dp_site *s, const uint8_t *a)
{
	for (unsigned i = 0; i < s->n_isp; i++)
		if (dp_prefix_match(&s->isp[i].pa, a))
			return (int)i;
	return -1;
}

#endif
