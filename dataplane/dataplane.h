/* pshim6-dataplane process state shared by the lcore loop, the channel thread and telemetry. */
#ifndef PSHIM6_DP_DATAPLANE_H
#define PSHIM6_DP_DATAPLANE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "pshim6/dpmsg.h"
#include "classify_fast.h"
#include "natpin.h"
#include "nud.h"
#include "probe.h"
#include "site.h"
#include "tables.h"

#define DP_MAX_PORTS   (1 + DP_MAX_ISP)
#define DP_BURST       32
#define DP_NO_PORT     UINT16_MAX
#define DP_INJECT_RAW  0x80000000u   /* inject ring: frame complete, Ethernet included */

/* Per-lcore counters, indexed by enum dpmsg_counter_id; only the owner writes. */
struct dp_counters {
	uint64_t c[DPMSG_CNT__MAX];
} __rte_cache_aligned;

struct dp_port {
	char     name[RTE_ETH_NAME_MAX_LEN];
	uint16_t id;                    /* DPDK port id */
	uint16_t tap;                   /* exception-path port id or DP_NO_PORT */
	uint32_t mtu;
	struct rte_ether_addr mac;
	/* Next hop's MAC (static or learned by ND) as one word, so a change on
	 * one lcore is never seen half-written on another: dp_nh_word() */
	uint64_t nh_w;
	uint64_t nh_confirm_tsc;        /* last solicited NA from the next hop (0 = never) */
	bool     nh_static;             /* from config: ND never changes it */
	struct dp_nud nud;              /* channel thread only */
	uint8_t  nh_addr[16];           /* next hop IPv6 (:: = none) */
	uint8_t  own_addr[16];          /* appliance's address on the link (:: = none) */
	uint16_t n_queues;
	/* ISP ports (probe.h): the lcores record the newest answer ... */
	uint32_t probe_seen;            /* DP_PROBE_SEEN | its sequence number, 0 = none */
	uint64_t probe_seen_tsc;
	/* ... and the channel thread judges it */
	struct dp_probe probe;
	struct dp_probe_targets probe_target;   /* the targets `probe` tracks (a reload may change them) */
	uint64_t probe_sent_tsc;
	uint64_t probe_rtt_us;          /* of the last answered probe */
};

/* The next-hop word: MAC octets 0..5 in memory order, octet 7 non-zero when valid. */
static inline uint64_t dp_nh_word(const uint8_t mac[6])
{
	uint8_t b[8] = { mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], 0, 1 };
	uint64_t w;
	memcpy(&w, b, 8);
	return w;
}

static inline bool dp_nh_ok(uint64_t w)
{
	uint8_t b[8];
	memcpy(b, &w, 8);
	return b[7] != 0;
}

static inline uint64_t dp_nh_load(const struct dp_port *p)
{
	return __atomic_load_n(&p->nh_w, __ATOMIC_RELAXED);
}

static inline void dp_nh_store(struct dp_port *p, uint64_t w)
{
	__atomic_store_n(&p->nh_w, w, __ATOMIC_RELAXED);
}

struct dp_lcore {
	unsigned lcore_id;
	unsigned idx;                   /* reader id for RCU and REAP stamps */
	uint16_t qid;                   /* queue of every port this lcore polls */
	struct rte_eth_dev_tx_buffer *txb[DP_MAX_PORTS];
	struct dp_counters cnt;
	uint64_t icmp_tokens, icmp_last;  /* ICMP error rate limit (token bucket, per lcore) */
	struct dp_fast fast;            /* the site cut for the fast classifiers, lcore-local */
} __rte_cache_aligned;

struct dp_state {
	/* the site config lcores read; a reload fills the other buffer and
	 * swaps the pointer (reload.c) */
	struct dp_site *site;
	struct dp_site sites[2];
	unsigned n_ports;               /* 1 + n_isp */
	struct dp_port port[DP_MAX_PORTS];
	struct dp_tables *t;
	struct dp_natpin natpin;        /* NATv6 return paths, written by the lcores (natpin.h) */
	struct rte_mempool *pool;
	struct rte_ring *punt;          /* lcores -> channel thread (mbuf, m->port = in port index, m->hash.usr = reason) */
	struct rte_ring *inject;        /* channel thread -> lcore 0 */
	unsigned n_lcores;
	struct dp_lcore lc[RTE_MAX_LCORE];
	struct dp_counters chan_cnt;    /* channel thread's own counters */
	volatile bool quit;
	volatile sig_atomic_t reload;   /* SIGHUP seen: the channel thread reloads */
	uint32_t idle_polls;            /* 0 = busy polling */
	uint32_t idle_sleep_us;
	uint32_t icmp_rate;             /* ICMP errors per second per lcore */
	uint32_t nd_reachable_ms;       /* a learned next-hop MAC holds this long unconfirmed */
	uint32_t isp_down;              /* bit i: ISP i's probes say it has failed (channel thread writes) */
	uint16_t probe_id;              /* the probes' echo identifier, drawn at start */
	bool     node_clock;            /* time the nodes (--node-clock) */
	char     channel_path[256];
	uint64_t boot_id;
	uint64_t tsc_hz;                /* DPDK's, rounded: intervals only (the REAP stamps' clock is in tables.h) */
};

extern struct dp_state dp;

static inline const struct dp_site *dp_site_now(void)
{
	return __atomic_load_n(&dp.site, __ATOMIC_ACQUIRE);
}

int dp_lcore_main(void *arg);                       /* fastpath.c */
/* The nodes: one RX burst from the inside port or from ISP port `pidx`,
 * classified, rewritten and put in the lcore's TX buffers (flushed by the
 * caller), punted or dropped with a counter.  `now` is the TSC. */
void dp_node_inside(struct dp_lcore *lc, struct rte_mbuf **pkts, unsigned n, uint64_t now);
void dp_node_isp(struct dp_lcore *lc, unsigned pidx, struct rte_mbuf **pkts, unsigned n, uint64_t now);
int dp_channel_start(struct dp_state *s);           /* channel.c */
void dp_channel_stop(void);
void dp_counters_sum(const struct dp_state *s, uint64_t out[DPMSG_CNT__MAX]);
void dp_telemetry_register(void);                   /* telemetry.c */

#endif
