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

#include "classify.h"
#include "dataplane.h"
#include "icmp6.h"
#include "nd.h"
#include "natv6.h"
#include "rewrite.h"

#define PREFETCH_AHEAD 3
#define CNT(lc, id) ((lc)->cnt.c[DPMSG_CNT_##id])

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
 * The tables hash with rte_hash_crc and init value 0 (tables.c); computing
 * the same signature here lets the bulk lookup skip its per-key indirect call.
 */
static __rte_always_inline hash_sig_t sig_ulid(const struct dp_ulid_key *k)
{
	uint64_t w[4];
	memcpy(w, k, sizeof(w));
	uint32_t h = rte_hash_crc_8byte(w[0], 0);
	h = rte_hash_crc_8byte(w[1], h);
	h = rte_hash_crc_8byte(w[2], h);
	return rte_hash_crc_8byte(w[3], h);
}

static inline void drop(struct dp_lcore *lc, struct rte_mbuf *m, unsigned reason)
{
	switch (reason) {
	case DP_DROP_CHAIN: CNT(lc, DROP_HDR_CHAIN)++; break;
	case DP_DROP_NO_ROUTE: CNT(lc, DROP_NO_ROUTE)++; break;
	case DP_DROP_MTU: CNT(lc, DROP_MTU)++; break;
	case DP_DROP_TX: CNT(lc, DROP_TX)++; break;
	case DP_DROP_NO_CTX: CNT(lc, DROP_NO_ROUTE)++; break;
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

static __rte_always_inline void tx(struct dp_lcore *lc, struct burst_cnt *b, unsigned pidx, struct rte_mbuf *m)
{
	struct dp_port *p = &dp.port[pidx];
	if (unlikely(!p->nh_valid)) {
		CNT(lc, DROP_NO_ROUTE)++; /* next hop not resolved yet */
		rte_pktmbuf_free(m);
		return;
	}
	dp_eth_set(m, &p->mac, &p->nh_mac);
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

static inline void exception(struct dp_lcore *lc, unsigned pidx, struct rte_mbuf *m)
{
	if (dp_nd_input(lc, pidx, m))
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

/* Packet Too Big back to the inside sender, or a counted drop. */
static void too_big(struct dp_lcore *lc, struct burst_cnt *b, struct rte_mbuf *m, const struct dp_cls *c, uint32_t mtu, uint64_t now)
{
	const uint8_t *ip = dp_ip6(m);
	uint8_t src[16];
	struct rte_ether_hdr *e;

	if (!dp.site.ptb || !icmp_allowed(lc, now)) {
		drop(lc, m, DP_DROP_MTU);
		return;
	}
	memcpy(src, dp_addr_is_unspec(dp.site.inside_addr) ? ip + DP_IP6_DST : dp.site.inside_addr, 16);
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

static void do_inside(struct dp_lcore *lc, struct rte_mbuf **pkts, unsigned n, uint64_t now)
{
	struct dp_cls cls[DP_BURST];
	struct dp_ulid_key keys[DP_BURST];
	const void *kp[DP_BURST];
	void *data[DP_BURST];
	struct dp_ctx *ctx[DP_BURST];
	hash_sig_t sig[DP_BURST];
	uint8_t ki[DP_BURST];
	unsigned nk = 0;
	uint64_t hits = 0, rx_bytes = 0;
	struct burst_cnt b = { 0 };

	for (unsigned i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
		rx_bytes += rte_pktmbuf_pkt_len(m);
		dp_classify_inside(&dp.site, m, &cls[i]);
		ctx[i] = NULL;
		if (cls[i].verdict == DP_V_EG_SHIM) {
			const uint8_t *ip = dp_ip6(m);
			memcpy(keys[nk].local, ip + DP_IP6_SRC, 16);
			memcpy(keys[nk].remote, ip + DP_IP6_DST, 16);
			sig[nk] = sig_ulid(&keys[nk]);
			kp[nk] = &keys[nk];
			ki[nk++] = (uint8_t)i;
		}
	}
	CNT(lc, RX_IN_PKTS) += n;
	CNT(lc, RX_IN_BYTES) += rx_bytes;
	if (nk) {
		rte_hash_lookup_with_hash_bulk_data(dp.t->h_ulid, kp, sig, nk, &hits, data);
		for (unsigned k = 0; k < nk; k++)
			if (hits & (UINT64_C(1) << k)) {
				ctx[ki[k]] = data[k];
				rte_prefetch0((const uint8_t *)data[k] + 32);   /* locators */
				rte_prefetch0((const uint8_t *)data[k] + 64);   /* tags, stamp, isp */
			}
	}
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct dp_cls *c = &cls[i];
		switch (c->verdict) {
		case DP_V_EG_SHIM: {
			const struct dp_ctx *x = ctx[i];
			unsigned pidx;
			if (!x) {
				punt(lc, DP_PORT_INSIDE, m, DPMSG_PUNT_NO_CTX);
				break;
			}
			pidx = DP_PORT_ISP(x->isp);
			if (dp_shim_too_big(m, dp.site.isp[x->isp].mtu)) {
				too_big(lc, &b, m, c, dp.site.isp[x->isp].mtu - DP_SHIM6_LEN, now);
				break;
			}
			if (dp_shim_encap(m, x) != DP_RW_OK) {
				drop(lc, m, DP_DROP_MALFORMED);
				break;
			}
			dp.t->stamps[lc->idx][x->stamp].sent = now;
			b.shim++;
			tx(lc, &b, pidx, m);
			break;
		}
		case DP_V_EG_NAT: {
			uint8_t *ip = dp_ip6(m), pa[16];
			int isp = dp_isp_pick(&dp.site, ip + DP_IP6_SRC, ip + DP_IP6_DST);
			if (isp < 0) {
				drop(lc, m, DP_DROP_NO_ROUTE);
				break;
			}
			if (dp.site.hba) {
				const struct dp_host *h = dp_host_by_cmula(dp.t, ip + DP_IP6_SRC);
				if (!h || (unsigned)isp >= h->nloc) {
					drop(lc, m, DP_DROP_NO_CTX);
					break;
				}
				memcpy(pa, h->loc[isp], 16);
			} else {
				dp_map_out(&dp.site, (unsigned)isp, ip + DP_IP6_SRC, pa);
			}
			if ((uint32_t)rte_pktmbuf_data_len(m) - DP_ETH_LEN > dp.site.isp[isp].mtu) {
				too_big(lc, &b, m, c, dp.site.isp[isp].mtu, now);
				break;
			}
			dp_nat_out(m, &c->w, pa);
			CNT(lc, NAT_OUT)++;
			tx(lc, &b, DP_PORT_ISP((unsigned)isp), m);
			break;
		}
		case DP_V_EG_PA:
			if ((uint32_t)rte_pktmbuf_data_len(m) - DP_ETH_LEN > dp.site.isp[c->isp].mtu) {
				too_big(lc, &b, m, c, dp.site.isp[c->isp].mtu, now);
				break;
			}
			tx(lc, &b, DP_PORT_ISP((unsigned)c->isp), m);
			break;
		case DP_V_EXCEPTION:
			exception(lc, DP_PORT_INSIDE, m);
			break;
		default:
			drop(lc, m, c->drop);
			break;
		}
	}
	CNT(lc, EGRESS_SHIM) += b.shim;
	burst_flush(lc, &b);
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
		if (dp_site_isp_of(&dp.site, ip + in.off + DP_IP6_SRC) >= 0) {
			if (dp.site.hba) {
				const struct dp_host *hi = dp_host_by_loc(dp.t, ip + in.off + DP_IP6_SRC);
				h = dp_host_by_loc(dp.t, ip + DP_IP6_DST);
				if (!h || !hi) {
					drop(lc, m, DP_DROP_NO_CTX);
					return;
				}
				memcpy(od, h->cmula, 16);
				memcpy(is, hi->cmula, 16);
			} else {
				dp_map_in(&dp.site, ip + DP_IP6_DST, od);
				dp_map_in(&dp.site, ip + in.off + DP_IP6_SRC, is);
			}
			dp_icmp_xlate_nat(m, &c->w, &in, od, is);
			CNT(lc, ICMP_XLATE)++;
			tx(lc, b, DP_PORT_INSIDE, m);
			return;
		}
	}
	/* not about anything we translated: an ordinary packet to a PA address */
	if (dp.site.hba) {
		h = dp_host_by_loc(dp.t, ip + DP_IP6_DST);
		if (!h) {
			drop(lc, m, DP_DROP_NO_CTX);
			return;
		}
		memcpy(od, h->cmula, 16);
	} else {
		dp_map_in(&dp.site, ip + DP_IP6_DST, od);
	}
	dp_nat_in(m, &c->w, od);
	CNT(lc, NAT_IN)++;
	tx(lc, b, DP_PORT_INSIDE, m);
}

static void do_isp(struct dp_lcore *lc, unsigned pidx, struct rte_mbuf **pkts, unsigned n, uint64_t now)
{
	struct dp_cls cls[DP_BURST];
	const void *kp[DP_BURST];
	void *data[DP_BURST];
	struct dp_ctx *ctx[DP_BURST];
	hash_sig_t sig[DP_BURST];
	uint8_t ki[DP_BURST];
	unsigned nk = 0;
	uint64_t hits = 0, rx_bytes = 0;
	struct burst_cnt b = { 0 };

	for (unsigned i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
		rx_bytes += rte_pktmbuf_pkt_len(m);
		dp_classify_isp(&dp.site, m, &cls[i]);
		ctx[i] = NULL;
		if (cls[i].verdict == DP_V_IN_SHIM) {
			kp[nk] = &cls[i].tag;
			sig[nk] = rte_hash_crc_8byte(cls[i].tag, 0);
			ki[nk++] = (uint8_t)i;
		}
	}
	CNT(lc, RX_OUT_PKTS) += n;
	CNT(lc, RX_OUT_BYTES) += rx_bytes;
	if (nk) {
		rte_hash_lookup_with_hash_bulk_data(dp.t->h_tag, kp, sig, nk, &hits, data);
		for (unsigned k = 0; k < nk; k++)
			if (hits & (UINT64_C(1) << k)) {
				ctx[ki[k]] = data[k];
				rte_prefetch0(data[k]);                           /* ULIDs */
				rte_prefetch0((const uint8_t *)data[k] + 64);   /* stamp */
			}
	}
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct dp_cls *c = &cls[i];
		switch (c->verdict) {
		case DP_V_IN_SHIM: {
			const struct dp_ctx *x = ctx[i];
			if (!x) {
				punt(lc, pidx, m, DPMSG_PUNT_UNKNOWN_TAG);
				break;
			}
			if (dp_shim_decap(m, &c->w, x) != DP_RW_OK) {
				drop(lc, m, DP_DROP_MALFORMED);
				break;
			}
			dp.t->stamps[lc->idx][x->stamp].recv = now;
			b.shim++;
			tx(lc, &b, DP_PORT_INSIDE, m);
			break;
		}
		case DP_V_IN_SHIM_CTL:
			punt(lc, pidx, m, DPMSG_PUNT_SHIM6_CTL);
			break;
		case DP_V_PUNT_FRAG:
			punt(lc, pidx, m, DPMSG_PUNT_FRAG);
			break;
		case DP_V_IN_NAT: {
			uint8_t *ip = dp_ip6(m), cm[16];
			if (dp.site.hba) {
				const struct dp_host *h = dp_host_by_loc(dp.t, ip + DP_IP6_DST);
				if (!h) {
					drop(lc, m, DP_DROP_NO_CTX);
					break;
				}
				memcpy(cm, h->cmula, 16);
			} else {
				dp_map_in(&dp.site, ip + DP_IP6_DST, cm);
			}
			dp_nat_in(m, &c->w, cm);
			CNT(lc, NAT_IN)++;
			tx(lc, &b, DP_PORT_INSIDE, m);
			break;
		}
		case DP_V_IN_ICMP_ERR:
			in_icmp_err(lc, &b, m, c);
			break;
		case DP_V_EXCEPTION:
			exception(lc, pidx, m);
			break;
		default:
			drop(lc, m, c->drop);
			break;
		}
	}
	CNT(lc, INGRESS_SHIM) += b.shim;
	burst_flush(lc, &b);
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
		n = rte_eth_rx_burst(dp.port[p].tap, 0, pkts, DP_BURST);
		for (unsigned i = 0; i < n; i++)
			tx_raw(lc, &b, p, pkts[i]);
		total += n;
	}
	n = rte_ring_sc_dequeue_burst(dp.inject, (void **)pkts, DP_BURST, NULL);
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		unsigned p = m->port;
		if (m->hash.usr & DP_INJECT_RAW) {
			tx_raw(lc, &b, p, m);
		} else if (m->hash.usr & DPMSG_INJECT_AS_RX) {
			if (p == DP_PORT_INSIDE)
				do_inside(lc, &m, 1, now);
			else
				do_isp(lc, p, &m, 1, now);
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
	while (!dp.quit) {
		uint64_t now = rte_rdtsc();
		unsigned nrx = 0;
		for (unsigned p = 0; p < dp.n_ports; p++) {
			unsigned n = rte_eth_rx_burst(dp.port[p].id, lc->qid, pkts, DP_BURST);
			if (!n)
				continue;
			nrx += n;
			if (p == DP_PORT_INSIDE)
				do_inside(lc, pkts, n, now);
			else
				do_isp(lc, p, pkts, n, now);
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
