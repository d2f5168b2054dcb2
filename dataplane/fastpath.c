/*
 * The lcore loop: RX burst -> prefetch -> classify into arrays -> bulk table
 * lookup -> rewrite -> buffered TX (the l3fwd / ipsec-secgw pattern).  Every
 * lcore polls its own queue of every port; lcore 0 also serves the exception
 * path (TAP) and packets injected by control.
 */
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_hash_crc.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>

#include "classify_fast.h"
#include "dataplane.h"
#include "icmp6.h"
#include "mss.h"
#include "nd.h"
#include "natv6.h"
#include "rewrite.h"

#define PREFETCH_AHEAD 3
#define NODE_CLOCK_MAX 200000   /* cycles: 32 packets never take this long uninterrupted */
/* the site config in force (a reload swaps it between bursts, see reload.c) */
#define SITE dp_site_now()
#define CNT(lc, id) ((lc)->cnt.c[DPMSG_CNT_##id])

/*
 * A shimmed packet the fast classifier took (classify_fast.h): the upper
 * layer (egress: TCP, UDP or ICMPv6) or the payload header (ingress, whole
 * in the frame) right after the fixed header.  Only these stay in the node
 * loops, where that walk is a constant the compiler folds; a shimmed packet
 * only the general classifier takes (extension headers, padding) goes out
 * of line with its own walk.  Not a dp_verdict: it never leaves this file.
 */
#define V_CANON 0xff

static __rte_always_inline struct dp_walk canon_walk(uint8_t nh)
{
	return (struct dp_walk){ .off = DP_IP6_LEN, .nh_off = DP_IP6_NH, .nh = nh, .frag = 0, .frag_off = 0 };
}

/*
 * Counters of the common path, kept in locals for one burst and added to the
 * lcore's counters once: a per-packet increment of lc->cnt is a load and a
 * store the compiler cannot keep in a register (the mbuf writes may alias).
 */
struct burst_cnt {
	uint64_t tx_pkts[2], tx_bytes[2];   /* [0] inside, [1] ISPs */
	uint64_t shim;                      /* EGRESS_SHIM or INGRESS_SHIM */
};

static __rte_always_inline void burst_flush(struct dp_lcore *lc, const struct burst_cnt *b)
{
	CNT(lc, TX_IN_PKTS) += b->tx_pkts[0];
	CNT(lc, TX_IN_BYTES) += b->tx_bytes[0];
	CNT(lc, TX_OUT_PKTS) += b->tx_pkts[1];
	CNT(lc, TX_OUT_BYTES) += b->tx_bytes[1];
}

/*
 * Burst lookup in a context index, in three passes so that each pass's
 * misses overlap: (1) hash and prefetch the primary bucket, (2) take the
 * first entry with the same hash and prefetch its context, (3) verify the
 * key against the context.  Anything else (secondary bucket, stash, hash
 * collision) takes the full lookup, which is rare by construction.
 */
#define NO_SLOT DP_LUT_NONE

static __rte_always_inline void lut_first(const struct dp_ctx *slots, const struct dp_lut_bkt *const *bk,
					  const uint32_t *h, unsigned nk, uint32_t *slot)
{
	for (unsigned k = 0; k < nk; k++) {
		uint32_t s = dp_lut_first(bk[k], h[k]);
		slot[k] = s;
		if (likely(s != NO_SLOT)) {
			rte_prefetch0(&slots[s]);                              /* ULIDs, locators */
			rte_prefetch0((const uint8_t *)&slots[s] + 64);        /* tags, ISP, REAP stamps */
		}
	}
}

static inline void drop(struct dp_lcore *lc, struct rte_mbuf *m, unsigned reason)
{
	switch (reason) {
	case DP_DROP_CHAIN: CNT(lc, DROP_HDR_CHAIN)++; break;
	case DP_DROP_NO_ROUTE: CNT(lc, DROP_NO_ROUTE)++; break;
	case DP_DROP_MTU: CNT(lc, DROP_MTU)++; break;
	case DP_DROP_TX: CNT(lc, DROP_TX)++; break;
	case DP_DROP_NO_CTX: CNT(lc, DROP_NO_ROUTE)++; break;
	case DP_DROP_SHIM_AFTER_FRAG: CNT(lc, DROP_SHIM_AFTER_FRAG)++; break;
	default: CNT(lc, DROP_MALFORMED)++; break;
	}
	rte_pktmbuf_free(m);
}

/* Frame whose Ethernet addresses are already right. */
static __rte_always_inline void tx_raw(struct dp_lcore *lc, struct burst_cnt *b, unsigned pidx, struct rte_mbuf *m)
{
	unsigned o = pidx != DP_PORT_INSIDE;
	b->tx_pkts[o]++;
	b->tx_bytes[o] += rte_pktmbuf_pkt_len(m);
	rte_eth_tx_buffer(dp.port[pidx].id, lc->qid, lc->txb[pidx], m);
}

/*
 * What the shim paths need of a port they send by, read once a burst: the
 * per-packet loads of dp.port[] and lc-> cannot stay in registers (the mbuf
 * writes may alias them).  The next-hop word may change under a burst
 * (control, ND): the burst then leaves with the one it started with.
 */
struct tx_port {
	uint64_t dst_w, src_w;             /* dp_eth_put's words */
	struct rte_eth_dev_tx_buffer *txb;
	uint32_t max_len;                  /* longest frame the link takes once shimmed (egress) */
	uint16_t id;
};

static __rte_always_inline void tx_port_get(const struct dp_lcore *lc, unsigned pidx, struct tx_port *t)
{
	const struct dp_port *p = &dp.port[pidx];
	t->dst_w = dp_nh_load(p);
	t->src_w = dp_eth_src_w(&p->mac);
	t->id = p->id;
	t->txb = lc->txb[pidx];
}

static __rte_always_inline void tx(struct dp_lcore *lc, struct burst_cnt *b, unsigned pidx, struct rte_mbuf *m)
{
	struct dp_port *p = &dp.port[pidx];
	uint64_t nh = dp_nh_load(p);
	if (unlikely(!dp_nh_ok(nh))) {
		CNT(lc, DROP_NO_ROUTE)++; /* next hop not resolved yet */
		rte_pktmbuf_free(m);
		return;
	}
	dp_eth_set_w(m, &p->mac, nh);
	tx_raw(lc, b, pidx, m);
}

static inline void punt(struct dp_lcore *lc, unsigned pidx, struct rte_mbuf *m, uint32_t reason)
{
	m->port = (uint16_t)pidx;
	m->hash.usr = reason;
	if (rte_ring_mp_enqueue(dp.punt, m) != 0) {
		CNT(lc, PUNT_DROP)++;
		rte_pktmbuf_free(m);
		return;
	}
	CNT(lc, PUNT)++;
}

/* An answer to one of the channel thread's ISP probes (probe.h): consumed. */
static bool probe_input(struct dp_lcore *lc, unsigned pidx, struct rte_mbuf *m)
{
	const struct dp_site *s = SITE;
	unsigned i = pidx - 1;
	uint16_t seq;

	if (pidx == DP_PORT_INSIDE || i >= s->n_isp || !s->isp[i].probe.n ||
	    !dp_probe_match(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), s->isp[i].addr,
			    &s->isp[i].probe, dp.probe_id, &seq))
		return false;
	/* the round's first answer gives its round trip: with several targets
	 * the later ones would make it the slowest target's */
	if (__atomic_load_n(&dp.port[pidx].probe_seen, __ATOMIC_RELAXED) != (DP_PROBE_SEEN | seq)) {
		__atomic_store_n(&dp.port[pidx].probe_seen_tsc, rte_rdtsc(), __ATOMIC_RELAXED);
		__atomic_store_n(&dp.port[pidx].probe_seen, DP_PROBE_SEEN | seq, __ATOMIC_RELAXED);
	}
	CNT(lc, ISP_PROBE_REPLIES)++;
	rte_pktmbuf_free(m);
	return true;
}

static inline void exception(struct dp_lcore *lc, unsigned pidx, struct rte_mbuf *m)
{
	if (dp_nd_input(lc, pidx, m) || probe_input(lc, pidx, m))
		return;
	if (dp.port[pidx].tap == DP_NO_PORT) {
		CNT(lc, DROP_NO_ROUTE)++;
		rte_pktmbuf_free(m);
		return;
	}
	CNT(lc, EXCEPTION)++;
	if (rte_eth_tx_burst(dp.port[pidx].tap, lc->qid, &m, 1) != 1) {
		CNT(lc, DROP_TX)++;
		rte_pktmbuf_free(m);
	}
}

static inline bool icmp_allowed(struct dp_lcore *lc, uint64_t now)
{
	uint64_t add = (now - lc->icmp_last) * dp.icmp_rate / dp.tsc_hz;
	if (add) {
		lc->icmp_tokens = RTE_MIN(lc->icmp_tokens + add, (uint64_t)dp.icmp_rate);
		lc->icmp_last = now;
	}
	if (!lc->icmp_tokens)
		return false;
	lc->icmp_tokens--;
	return true;
}

/* A NATv6 flow's ISP noted, or its note cleared (`picked`), in natpin.h's table. */
static void nat_flow_record(struct dp_lcore *lc, uint64_t key, unsigned isp, bool picked, uint32_t ms)
{
	switch (dp_natpin_note(&dp.natpin, key, isp, picked, ms / 1000)) {
	case DP_NATPIN_NOTED:
		CNT(lc, NAT_FLOWS_NOTED)++;
		break;
	case DP_NATPIN_EVICTED:
		CNT(lc, NAT_FLOWS_NOTED)++;
		CNT(lc, NAT_FLOWS_EVICTED)++;
		break;
	default:
		break;
	}
}

/* Packet Too Big back to the inside sender, or a counted drop. */
static void too_big(struct dp_lcore *lc, struct burst_cnt *b, struct rte_mbuf *m, const struct dp_cls *c, uint32_t mtu, uint64_t now)
{
	const uint8_t *ip = dp_ip6(m);
	uint8_t src[16];
	struct rte_ether_hdr *e;

	if (!SITE->ptb || !icmp_allowed(lc, now)) {
		drop(lc, m, DP_DROP_MTU);
		return;
	}
	memcpy(src, dp_addr_is_unspec(SITE->inside_addr) ? ip + DP_IP6_DST : SITE->inside_addr, 16);
	if (dp_icmp_ptb(m, &c->w, mtu, src) != DP_ICMP_OK) {
		drop(lc, m, DP_DROP_MTU);
		return;
	}
	CNT(lc, DROP_MTU)++;
	CNT(lc, ICMP_GEN)++;
	e = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	rte_ether_addr_copy(&e->src_addr, &e->dst_addr); /* back to whoever handed it to us */
	rte_ether_addr_copy(&dp.port[DP_PORT_INSIDE].mac, &e->src_addr);
	tx_raw(lc, b, DP_PORT_INSIDE, m);
}

static __rte_noinline void mss_clamp(struct dp_lcore *lc, struct rte_mbuf *m, const struct dp_walk *w, uint16_t mss)
{
	int rc = dp_mss_clamp(m, w, mss);
	if (rc == DP_MSS_CLAMPED)
		CNT(lc, MSS_CLAMPED)++;
	else if (rc == DP_MSS_MALFORMED)
		CNT(lc, MSS_MALFORMED)++;   /* forwarded as it is: the host's TCP decides */
}

static __rte_always_inline uint32_t ip_len(const struct rte_mbuf *m)
{
	return rte_pktmbuf_data_len(m) - DP_ETH_LEN;
}

/*
 * An inside host's ICMPv6 error about a packet it got through a context
 * travels in the context with its ULID copy, cut to fit (icmp6.h says why).
 */
static __rte_noinline void icmp_out_shim(struct dp_lcore *lc, struct rte_mbuf *m, const struct dp_cls *c,
					 const struct dp_ctx *x)
{
	if (dp_icmp_out_shim(m, &c->w, x, SITE->isp[x->isp].mtu) == DP_ICMP_OK)
		CNT(lc, ICMP_XLATE_OUT)++;
}

/* A shimmed packet the general classifier took: dp_node_inside's work with its walk. */
static void eg_shim(struct dp_lcore *lc, struct burst_cnt *b, struct rte_mbuf *m, struct dp_cls *c, uint64_t now)
{
	const struct dp_site *site = SITE;
	const uint8_t *ip = dp_ip6(m);
	const struct dp_ctx *x = dp_ctx_by_ulid(dp.t, ip + DP_IP6_SRC);
	struct tx_port e;

	if (!x) {
		punt(lc, DP_PORT_INSIDE, m, DPMSG_PUNT_NO_CTX);
		return;
	}
	if (site->mss && dp_is_tcp_syn(ip, ip_len(m), &c->w))
		mss_clamp(lc, m, &c->w, site->isp[x->isp].mss_shim);
	else if (dp_is_icmp_error(ip, ip_len(m), &c->w))
		icmp_out_shim(lc, m, c, x);
	if (dp_shim_too_big(m, site->isp[x->isp].mtu)) {
		too_big(lc, b, m, c, site->isp[x->isp].mtu - DP_SHIM6_LEN, now);
		return;
	}
	tx_port_get(lc, DP_PORT_ISP(x->isp), &e);
	if (dp_shim_encap_eth(m, x, e.dst_w, e.src_w) != DP_RW_OK) {
		drop(lc, m, DP_DROP_MALFORMED);
		return;
	}
	dp_ctx_stamp(x, lc->idx, 0, dp_tables_ms(dp.t, now));
	CNT(lc, EGRESS_SHIM)++;
	CNT(lc, SHIM_GENERAL)++;
	if (!dp_nh_ok(e.dst_w)) {
		drop(lc, m, DP_DROP_NO_ROUTE);   /* next hop not resolved yet */
		return;
	}
	tx_raw(lc, b, DP_PORT_ISP(x->isp), m);
}

/* Everything on the inside port but a shimmed packet in the canonical form (V_CANON). */
static __rte_noinline void eg_other(struct dp_lcore *lc, struct burst_cnt *b, struct rte_mbuf *m,
				    struct dp_cls *c, uint64_t now)
{
	switch (c->verdict) {
	case DP_V_EG_SHIM:
		eg_shim(lc, b, m, c, now);
		break;
	case DP_V_EG_NAT: {
		uint8_t *ip = dp_ip6(m), pa[16];
		uint64_t pair = dp_pair_hash(ip + DP_IP6_SRC, ip + DP_IP6_DST), key;
		int isp = dp_isp_pick_hash(SITE, pair), pin;
		uint32_t down = __atomic_load_n(&dp.isp_down, __ATOMIC_RELAXED);
		bool moved = false, keyed;
		if (isp < 0) {
			drop(lc, m, DP_DROP_NO_ROUTE);
			break;
		}
		if (unlikely(down >> isp & 1)) {
			int live = dp_isp_repick(SITE, pair, down, isp);
			moved = live != isp;
			isp = live;
		}
		keyed = dp_natpin_key(ip, ip_len(m), &c->w, true, pair, &key);
		/* a reply in a connection the peer opened through another PA address,
		 * or a connection moved off a failed ISP (below) */
		pin = keyed ? dp_natpin_get(&dp.natpin, key, SITE->n_isp, dp_tables_ms(dp.t, now) / 1000,
					    dp_natpin_idle_s(c->w.nh))
			    : -1;
		if (unlikely(pin == DP_NATPIN_EXPIRED))
			CNT(lc, NAT_FLOWS_EXPIRED)++;   /* the pick again, as for a new flow */
		if (pin >= 0) {
			if (pin != isp) {
				isp = pin;
				moved = false;
				CNT(lc, NAT_FLOW_OUT)++;
			}
		} else if (unlikely(moved) && keyed) {
			/* noted, so that the connection keeps this ISP once the pick works again */
			nat_flow_record(lc, key, (unsigned)isp, false, dp_tables_ms(dp.t, now));
		}
		if (unlikely(moved))
			CNT(lc, NAT_ISP_MOVED)++;
		if (SITE->hba) {
			const struct dp_host *h = dp_host_by_cmula(dp.t, ip + DP_IP6_SRC);
			if (!h || (unsigned)isp >= h->nloc) {
				drop(lc, m, DP_DROP_NO_CTX);
				break;
			}
			memcpy(pa, h->loc[isp], 16);
		} else {
			dp_map_out(SITE, (unsigned)isp, ip + DP_IP6_SRC, pa);
		}
		if ((uint32_t)rte_pktmbuf_data_len(m) - DP_ETH_LEN > SITE->isp[isp].mtu) {
			too_big(lc, b, m, c, SITE->isp[isp].mtu, now);
			break;
		}
		if (SITE->mss && dp_is_tcp_syn(ip, ip_len(m), &c->w))
			mss_clamp(lc, m, &c->w, SITE->isp[isp].mss_nat);
		/* an error about a packet from the peer: the quoted copy needs the PA address too */
		if (dp_is_icmp_error(ip, ip_len(m), &c->w) && dp_icmp_out_nat(m, &c->w, pa) == DP_ICMP_OK)
			CNT(lc, ICMP_XLATE_OUT)++;
		else
			dp_nat_out(m, &c->w, pa);
		CNT(lc, NAT_OUT)++;
		tx(lc, b, DP_PORT_ISP((unsigned)isp), m);
		break;
	}
	case DP_V_EG_PA:
		if ((uint32_t)rte_pktmbuf_data_len(m) - DP_ETH_LEN > SITE->isp[c->isp].mtu) {
			too_big(lc, b, m, c, SITE->isp[c->isp].mtu, now);
			break;
		}
		if (SITE->mss && dp_is_tcp_syn(dp_ip6(m), ip_len(m), &c->w))
			mss_clamp(lc, m, &c->w, SITE->isp[c->isp].mss_nat);
		tx(lc, b, DP_PORT_ISP((unsigned)c->isp), m);
		break;
	case DP_V_EXCEPTION:
		exception(lc, DP_PORT_INSIDE, m);
		break;
	default:
		drop(lc, m, c->drop);
		break;
	}
}

static __rte_noinline void classify_inside_slow(struct rte_mbuf *m, struct dp_cls *c)
{
	dp_classify_inside(SITE, m, c);
}

static __rte_noinline void classify_isp_slow(struct rte_mbuf *m, struct dp_cls *c)
{
	dp_classify_isp(SITE, m, c);
}

#ifdef DP_BENCH_FLOOR
/*
 * The benchmark's floor build (tests/dataplane/bench_dp_floor) only: each
 * frame leaves untouched by the other side (ISP 0 for the inside port's),
 * in the port counters as the real nodes count it (not as Shim6 or
 * NATv6).  Everything around the nodes (poll loop, PMDs, TX enqueue,
 * counters) is the real build's, so the floor's rate against this build's
 * is what the nodes' own work costs.
 */
static void floor_fwd(struct dp_lcore *lc, unsigned to, struct rte_mbuf **pkts, unsigned n)
{
	struct burst_cnt b = { 0 };
	uint64_t rx_bytes = 0;

	for (unsigned i = 0; i < n; i++) {
		rx_bytes += rte_pktmbuf_pkt_len(pkts[i]);
		tx_raw(lc, &b, to, pkts[i]);
	}
	if (to == DP_PORT_INSIDE) {
		CNT(lc, RX_OUT_PKTS) += n;
		CNT(lc, RX_OUT_BYTES) += rx_bytes;
	} else {
		CNT(lc, RX_IN_PKTS) += n;
		CNT(lc, RX_IN_BYTES) += rx_bytes;
	}
	burst_flush(lc, &b);
}
#endif

/*
 * Inside port.  The loops stay small on purpose: the common case (a shimmed
 * packet whose context exists) is inline, everything else is a call, so the
 * hot loop keeps its state in registers.  `fast_ok` (the fast classifier
 * applies to the site) and `nh_ok` (every ISP's next hop is resolved) hold
 * for the whole burst: dp_node_inside passes them as constants when both
 * hold, so that the common variant tests neither per packet.
 */
static __rte_always_inline void node_inside(struct dp_lcore *lc, const struct dp_site *site, struct rte_mbuf **pkts,
					    unsigned n, uint64_t now, const struct tx_port *ports,
					    const bool fast_ok, const bool nh_ok)
{
	/* a copy of its own, which the mbuf writes cannot alias: no reloads */
	struct tx_port isp_tx[DP_MAX_ISP];
	memcpy(isp_tx, ports, sizeof(isp_tx[0]) * site->n_isp);
	const struct dp_fast *f = &lc->fast;
	struct dp_tables *t = dp.t;
	struct dp_ctx *slots = t->slots;
	const uint32_t ms = dp_tables_ms(t, now);   /* REAP stamps' clock */
	/* the Next Header that may be a SYN to clamp; none when clamping is off */
	const unsigned syn_nh = site->mss ? DP_PROTO_TCP : 0x100;
	const unsigned reader = lc->idx;
	const uint16_t qid = lc->qid;
	struct dp_cls cls[DP_BURST];
	const struct dp_lut_bkt *bk[DP_BURST];
	uint32_t h[DP_BURST], slot[DP_BURST];
	unsigned nk = 0;
	uint64_t rx_bytes = 0, shim = 0, no_nh = 0, tx_bytes = 0;
	struct burst_cnt b = { 0 };

	for (unsigned i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
		rx_bytes += rte_pktmbuf_pkt_len(m);
		if (!fast_ok || !dp_fast_inside_frame(f, m, &cls[i])) {
			classify_inside_slow(m, &cls[i]);
		} else if (cls[i].verdict == DP_V_EG_SHIM) {
			cls[i].verdict = V_CANON;
			/* the key is the packet's own source and destination */
			h[nk] = dp_hash_ulid(dp_ip6(m) + DP_IP6_SRC);
			bk[nk] = dp_lut_bucket(&t->l_ulid, h[nk]);
			rte_prefetch0(bk[nk]);
			nk++;
		}
	}
	CNT(lc, RX_IN_PKTS) += n;
	CNT(lc, RX_IN_BYTES) += rx_bytes;
	lut_first(slots, bk, h, nk, slot);
	for (unsigned i = 0, k = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct dp_cls *c = &cls[i];
		const struct dp_ctx *x;
		const struct tx_port *e;
		const uint8_t *key;
		unsigned nh;

		if (unlikely(c->verdict != V_CANON)) {
			eg_other(lc, &b, m, c, now);
			continue;
		}
		key = dp_ip6(m) + DP_IP6_SRC;
		if (likely(slot[k] != NO_SLOT) && likely(dp_ctx_ulids_are(&slots[slot[k]], key)))
			x = &slots[slot[k]];
		else
			x = dp_ctx_by_ulid_h(t, key, h[k]);
		k++;
		if (unlikely(!x)) {
			punt(lc, DP_PORT_INSIDE, m, DPMSG_PUNT_NO_CTX);   /* control starts the handshake */
			continue;
		}
		/* dp_is_tcp_syn and dp_is_icmp_error test the Next Header first: test it once */
		nh = c->w.nh;
		if (nh == syn_nh) {
			const struct dp_walk w = canon_walk(DP_PROTO_TCP);
			if (unlikely(dp_is_tcp_syn(key - DP_IP6_SRC, ip_len(m), &w)))
				mss_clamp(lc, m, &c->w, site->isp[x->isp].mss_shim);
		} else if (unlikely(nh == DP_PROTO_ICMP6)) {
			const struct dp_walk w = canon_walk(DP_PROTO_ICMP6);
			if (dp_is_icmp_error(key - DP_IP6_SRC, ip_len(m), &w))
				icmp_out_shim(lc, m, c, x);
		}
		e = &isp_tx[x->isp];
		if (unlikely(rte_pktmbuf_data_len(m) > e->max_len)) {
			too_big(lc, &b, m, c, site->isp[x->isp].mtu - DP_SHIM6_LEN, now);
			continue;
		}
		/* the fast classifier took no Hop-by-Hop header */
		if (unlikely(dp_shim_encap_eth_nohbh(m, x, e->dst_w, e->src_w) != DP_RW_OK)) {
			drop(lc, m, DP_DROP_MALFORMED);
			continue;
		}
		dp_ctx_stamp(x, reader, 0, ms);
		shim++;
		if (!nh_ok && unlikely(!dp_nh_ok(e->dst_w))) {
			drop(lc, m, DP_DROP_NO_ROUTE);   /* next hop not resolved yet */
			no_nh++;
			continue;
		}
		tx_bytes += rte_pktmbuf_pkt_len(m);
		rte_eth_tx_buffer(e->id, qid, e->txb, m);
	}
	CNT(lc, EGRESS_SHIM) += shim;
	b.tx_pkts[1] += shim - no_nh;
	b.tx_bytes[1] += tx_bytes;
	burst_flush(lc, &b);
}

void dp_node_inside(struct dp_lcore *lc, struct rte_mbuf **pkts, unsigned n, uint64_t now)
{
#ifdef DP_BENCH_FLOOR
	floor_fwd(lc, DP_PORT_ISP(0), pkts, n);
	return;
#endif
	const struct dp_site *site = SITE;   /* one config for the whole burst */
	struct tx_port isp_tx[DP_MAX_ISP];
	bool nh_ok = true;

	/* tables.c admits no context whose ISP is not configured */
	for (unsigned p = 0; p < site->n_isp; p++) {
		tx_port_get(lc, DP_PORT_ISP(p), &isp_tx[p]);
		nh_ok &= dp_nh_ok(isp_tx[p].dst_w);
		/* dp_shim_too_big() as one compare of the frame length (an MTU
		 * too large for the sum takes any frame, as there) */
		isp_tx[p].max_len = site->isp[p].mtu + (DP_ETH_LEN - DP_SHIM6_LEN);
		if (isp_tx[p].max_len < site->isp[p].mtu)
			isp_tx[p].max_len = UINT32_MAX;
	}
	if (likely(lc->fast.in_ok && nh_ok))
		node_inside(lc, site, pkts, n, now, isp_tx, true, true);
	else
		node_inside(lc, site, pkts, n, now, isp_tx, lc->fast.in_ok, nh_ok);
}

static void in_icmp_err(struct dp_lcore *lc, struct burst_cnt *b, struct rte_mbuf *m, struct dp_cls *c)
{
	uint8_t *ip = dp_ip6(m), od[16], is[16];
	uint32_t len = rte_pktmbuf_data_len(m) - DP_ETH_LEN;
	struct dp_icmp_inner in;
	const struct dp_host *h;

	if (dp_icmp_inner_parse(ip, len, &c->w, &in) == DP_ICMP_OK) {
		if (in.shim) {
			const struct dp_ctx *x = dp_ctx_by_ptag(dp.t, in.peer_tag);
			if (!x || dp_icmp_xlate_shim(m, &c->w, &in, x) != DP_ICMP_OK) {
				drop(lc, m, DP_DROP_NO_CTX);
				return;
			}
			CNT(lc, ICMP_XLATE)++;
			tx(lc, b, DP_PORT_INSIDE, m);
			return;
		}
		if (dp_site_isp_of(SITE, ip + in.off + DP_IP6_SRC) >= 0) {
			if (SITE->hba) {
				const struct dp_host *hi = dp_host_by_loc(dp.t, ip + in.off + DP_IP6_SRC);
				h = dp_host_by_loc(dp.t, ip + DP_IP6_DST);
				if (!h || !hi) {
					drop(lc, m, DP_DROP_NO_CTX);
					return;
				}
				memcpy(od, h->cmula, 16);
				memcpy(is, hi->cmula, 16);
			} else {
				dp_map_in(SITE, ip + DP_IP6_DST, od);
				dp_map_in(SITE, ip + in.off + DP_IP6_SRC, is);
			}
			dp_icmp_xlate_nat(m, &c->w, &in, od, is);
			CNT(lc, ICMP_XLATE)++;
			tx(lc, b, DP_PORT_INSIDE, m);
			return;
		}
	}
	/* not about anything we translated: an ordinary packet to a PA address */
	if (SITE->hba) {
		h = dp_host_by_loc(dp.t, ip + DP_IP6_DST);
		if (!h) {
			drop(lc, m, DP_DROP_NO_CTX);
			return;
		}
		memcpy(od, h->cmula, 16);
	} else {
		dp_map_in(SITE, ip + DP_IP6_DST, od);
	}
	dp_nat_in(m, &c->w, od);
	CNT(lc, NAT_IN)++;
	tx(lc, b, DP_PORT_INSIDE, m);
}

/* A NATv6 packet in to `cmula`, still addressed to its PA address (under
 * ISP c->isp, as the classifier found): its flow's return path (natpin.h). */
static void nat_flow_note(struct dp_lcore *lc, const uint8_t *ip, uint32_t len, const struct dp_cls *c,
			  const uint8_t *cmula, uint32_t ms)
{
	uint64_t pair = dp_pair_hash(cmula, ip + DP_IP6_SRC), key;
	if (!dp_natpin_key(ip, len, &c->w, false, pair, &key))
		return;
	/* The note is needed unless the flow's ISP is the pick with every ISP
	 * working and with the ones failed now: a flow that came in by the
	 * pick of only one of the two would leave by another ISP when the
	 * other view comes true (a failure, or the failed ISP's return). */
	uint32_t down = __atomic_load_n(&dp.isp_down, __ATOMIC_RELAXED);
	int pick = dp_isp_pick_hash(SITE, pair);
	bool picked = pick == c->isp && (!(down >> pick & 1) || dp_isp_repick(SITE, pair, down, pick) == c->isp);
	nat_flow_record(lc, key, (unsigned)c->isp, picked, ms);
}

/* A payload header the general classifier took: dp_node_isp's work with its walk. */
static void in_shim(struct dp_lcore *lc, struct burst_cnt *b, unsigned pidx, struct rte_mbuf *m,
		    struct dp_cls *c, uint32_t ms)
{
	const struct dp_ctx *x = dp_ctx_by_tag(dp.t, c->tag);
	struct tx_port e;
	uint8_t nh;

	if (!x) {
		punt(lc, pidx, m, DPMSG_PUNT_UNKNOWN_TAG);   /* control answers R1bis */
		return;
	}
	tx_port_get(lc, DP_PORT_INSIDE, &e);
	if (dp_shim_decap_eth(m, &c->w, x, e.dst_w, e.src_w, &nh) != DP_RW_OK) {
		drop(lc, m, DP_DROP_MALFORMED);
		return;
	}
	if (SITE->mss) {
		/* the upper layer now sits where the payload header was */
		struct dp_walk w = c->w;
		w.nh = nh;
		if (dp_is_tcp_syn(dp_ip6(m), ip_len(m), &w))
			mss_clamp(lc, m, &w, SITE->isp[x->isp].mss_shim);
	}
	dp_ctx_stamp(x, lc->idx, 1, ms);
	CNT(lc, INGRESS_SHIM)++;
	CNT(lc, SHIM_GENERAL)++;
	if (!dp_nh_ok(e.dst_w)) {
		drop(lc, m, DP_DROP_NO_ROUTE);   /* next hop not resolved yet */
		return;
	}
	tx_raw(lc, b, DP_PORT_INSIDE, m);
}

/* Everything on an ISP port but a payload header in the canonical form (V_CANON). */
static __rte_noinline void in_other(struct dp_lcore *lc, struct burst_cnt *b, unsigned pidx,
				    struct rte_mbuf *m, struct dp_cls *c, uint32_t ms)
{
	switch (c->verdict) {
	case DP_V_IN_SHIM:
		in_shim(lc, b, pidx, m, c, ms);
		break;
	case DP_V_IN_SHIM_CTL:
		punt(lc, pidx, m, DPMSG_PUNT_SHIM6_CTL);
		break;
	case DP_V_IN_NAT: {
		uint8_t *ip = dp_ip6(m), cm[16];
		if (SITE->hba) {
			const struct dp_host *h = dp_host_by_loc(dp.t, ip + DP_IP6_DST);
			if (!h) {
				drop(lc, m, DP_DROP_NO_CTX);
				break;
			}
			memcpy(cm, h->cmula, 16);
		} else {
			dp_map_in(SITE, ip + DP_IP6_DST, cm);
		}
		nat_flow_note(lc, ip, ip_len(m), c, cm, ms);
		dp_nat_in(m, &c->w, cm);
		if (SITE->mss && dp_is_tcp_syn(ip, ip_len(m), &c->w))
			mss_clamp(lc, m, &c->w, SITE->mss_in);
		CNT(lc, NAT_IN)++;
		tx(lc, b, DP_PORT_INSIDE, m);
		break;
	}
	case DP_V_IN_ICMP_ERR:
		in_icmp_err(lc, b, m, c);
		break;
	case DP_V_EXCEPTION:
		exception(lc, pidx, m);
		break;
	default:
		drop(lc, m, c->drop);
		break;
	}
}

/* An ISP port; `fast_ok` and `nh_ok` as for node_inside (nh_ok: the inside next hop's). */
static __rte_always_inline void node_isp(struct dp_lcore *lc, const struct dp_site *site, unsigned pidx,
					 struct rte_mbuf **pkts, unsigned n, uint64_t now, const struct tx_port *in,
					 const bool fast_ok, const bool nh_ok)
{
	const struct dp_fast *f = &lc->fast;
	struct dp_tables *t = dp.t;
	struct dp_ctx *slots = t->slots;
	const uint32_t ms = dp_tables_ms(t, now);   /* REAP stamps' clock */
	const unsigned syn_nh = site->mss ? DP_PROTO_TCP : 0x100;   /* as in dp_node_inside */
	const unsigned reader = lc->idx;
	struct dp_cls cls[DP_BURST];
	const struct dp_lut_bkt *bk[DP_BURST];
	uint32_t h[DP_BURST], slot[DP_BURST];
	const struct tx_port in_tx = *in;
	unsigned nk = 0;
	uint64_t rx_bytes = 0, shim = 0, no_nh = 0, tx_bytes = 0;
	struct burst_cnt b = { 0 };

	for (unsigned i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
		rx_bytes += rte_pktmbuf_pkt_len(m);
		if (!fast_ok || !dp_fast_isp_frame(f, m, &cls[i])) {
			classify_isp_slow(m, &cls[i]);
		} else if (cls[i].verdict == DP_V_IN_SHIM) {
			cls[i].verdict = V_CANON;
			h[nk] = dp_hash_tag(cls[i].tag);
			bk[nk] = dp_lut_bucket(&t->l_tag, h[nk]);
			rte_prefetch0(bk[nk]);
			nk++;
		}
	}
	CNT(lc, RX_OUT_PKTS) += n;
	CNT(lc, RX_OUT_BYTES) += rx_bytes;
	lut_first(slots, bk, h, nk, slot);
	for (unsigned i = 0, k = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct dp_cls *c = &cls[i];
		const struct dp_ctx *x;
		uint8_t nh;

		if (unlikely(c->verdict != V_CANON)) {
			in_other(lc, &b, pidx, m, c, ms);
			continue;
		}
		if (likely(slot[k] != NO_SLOT) && likely(slots[slot[k]].own_tag == c->tag))
			x = &slots[slot[k]];
		else
			x = dp_ctx_by_tag(t, c->tag);
		k++;
		if (unlikely(!x)) {
			punt(lc, pidx, m, DPMSG_PUNT_UNKNOWN_TAG);   /* control answers R1bis */
			continue;
		}
		/* the fast classifier found the payload header first and whole */
		nh = dp_shim_decap_eth_first(m, x, in_tx.dst_w, in_tx.src_w);
		if (nh == syn_nh) {
			/* the upper layer now sits where the payload header was */
			const struct dp_walk w = canon_walk(DP_PROTO_TCP);
			if (unlikely(dp_is_tcp_syn(dp_ip6(m), ip_len(m), &w)))
				mss_clamp(lc, m, &w, site->isp[x->isp].mss_shim);
		}
		dp_ctx_stamp(x, reader, 1, ms);
		shim++;
		if (!nh_ok && unlikely(!dp_nh_ok(in_tx.dst_w))) {
			drop(lc, m, DP_DROP_NO_ROUTE);   /* next hop not resolved yet */
			no_nh++;
			continue;
		}
		tx_bytes += rte_pktmbuf_pkt_len(m);
		rte_eth_tx_buffer(in_tx.id, lc->qid, in_tx.txb, m);
	}
	CNT(lc, INGRESS_SHIM) += shim;
	b.tx_pkts[0] += shim - no_nh;
	b.tx_bytes[0] += tx_bytes;
	burst_flush(lc, &b);
}

void dp_node_isp(struct dp_lcore *lc, unsigned pidx, struct rte_mbuf **pkts, unsigned n, uint64_t now)
{
#ifdef DP_BENCH_FLOOR
	floor_fwd(lc, DP_PORT_INSIDE, pkts, n);
	return;
#endif
	const struct dp_site *site = SITE;   /* one config for the whole burst */
	struct tx_port in;
	bool nh_ok;

	tx_port_get(lc, DP_PORT_INSIDE, &in);
	nh_ok = dp_nh_ok(in.dst_w);
	if (likely(lc->fast.isp_ok && nh_ok))
		node_isp(lc, site, pidx, pkts, n, now, &in, true, true);
	else
		node_isp(lc, site, pidx, pkts, n, now, &in, lc->fast.isp_ok, nh_ok);
}

/* Frames from the kernel's exception interfaces and from control. */
static unsigned do_slow(struct dp_lcore *lc, uint64_t now)
{
	struct rte_mbuf *pkts[DP_BURST];
	struct burst_cnt b = { 0 };
	unsigned n, total = 0;

	for (unsigned p = 0; p < dp.n_ports; p++) {
		if (dp.port[p].tap == DP_NO_PORT)
			continue;
		/* the kernel spreads its frames over every queue of the TAP */
		for (uint16_t q = 0; q < dp.n_lcores; q++) {
			n = rte_eth_rx_burst(dp.port[p].tap, q, pkts, DP_BURST);
			for (unsigned i = 0; i < n; i++)
				tx_raw(lc, &b, p, pkts[i]);
			total += n;
		}
	}
	n = rte_ring_sc_dequeue_burst(dp.inject, (void **)pkts, DP_BURST, NULL);
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		unsigned p = m->port;
		if (m->hash.usr & DP_INJECT_RAW) {
			tx_raw(lc, &b, p, m);
		} else if (m->hash.usr & DPMSG_INJECT_AS_RX) {
			if (p == DP_PORT_INSIDE)
				dp_node_inside(lc, &m, 1, now);
			else
				dp_node_isp(lc, p, &m, 1, now);
		} else {
			tx(lc, &b, p, m);
		}
	}
	burst_flush(lc, &b);
	return total + n;
}

int dp_lcore_main(void *arg)
{
	struct dp_lcore *lc = arg;
	struct rte_mbuf *pkts[DP_BURST];
	uint32_t idle = 0;

	rte_rcu_qsbr_thread_register(dp.t->qs, lc->idx);
	rte_rcu_qsbr_thread_online(dp.t->qs, lc->idx);
	lc->icmp_last = rte_rdtsc();
	lc->icmp_tokens = dp.icmp_rate;
	dp_fast_prep(SITE, &lc->fast);
	while (!dp.quit) {
		uint64_t now = rte_rdtsc();
		unsigned nrx = 0;
		for (unsigned p = 0; p < dp.n_ports; p++) {
			unsigned n = rte_eth_rx_burst(dp.port[p].id, lc->qid, pkts, DP_BURST);
			if (!n)
				continue;
			nrx += n;
			if (unlikely(dp.node_clock)) {
				uint64_t t0 = rte_rdtsc();
				if (p == DP_PORT_INSIDE)
					dp_node_inside(lc, pkts, n, now);
				else
					dp_node_isp(lc, p, pkts, n, now);
				uint64_t dt = rte_rdtsc() - t0;
				/* a burst the OS interrupted says nothing about the nodes */
				if (dt < NODE_CLOCK_MAX) {
					CNT(lc, NODE_CYCLES) += dt;
					CNT(lc, NODE_PKTS) += n;
				}
			} else if (p == DP_PORT_INSIDE) {
				dp_node_inside(lc, pkts, n, now);
			} else {
				dp_node_isp(lc, p, pkts, n, now);
			}
		}
		if (lc->idx == 0)
			nrx += do_slow(lc, now);
		for (unsigned p = 0; p < dp.n_ports; p++)
			rte_eth_tx_buffer_flush(dp.port[p].id, lc->qid, lc->txb[p]);
		rte_rcu_qsbr_quiescent(dp.t->qs, lc->idx);
		if (nrx == 0 && dp.idle_polls) {
			if (++idle >= dp.idle_polls) {
				/* sleeping readers hold no references: the writer need not wait for them */
				rte_rcu_qsbr_thread_offline(dp.t->qs, lc->idx);
				rte_delay_us_sleep(dp.idle_sleep_us);
				rte_rcu_qsbr_thread_online(dp.t->qs, lc->idx);
			}
		} else {
			idle = 0;
		}
	}
	rte_rcu_qsbr_thread_offline(dp.t->qs, lc->idx);
	rte_rcu_qsbr_thread_unregister(dp.t->qs, lc->idx);
	return 0;
}
