/*
 * Neighbor Discovery, the little the fast path needs: learn the next hop's
 * MAC from its Neighbor Advertisements and Solicitations and follow it when
 * it changes (unless config gave a static one), answer Solicitations for the
 * appliance's own addresses when no kernel exception interface does, and
 * build the Solicitations the channel thread sends to resolve and re-confirm
 * next hops (nud.h decides when).
 */
#ifndef PSHIM6_DP_ND_H
#define PSHIM6_DP_ND_H

#include <rte_cycles.h>

#include "dataplane.h"
#include "icmp6.h"
#include "pkt.h"

#define DP_ND_NS 135
#define DP_ND_NA 136
#define DP_ND_OPT_SLLA 1
#define DP_ND_OPT_TLLA 2

/* Link-layer address option of type `type` in an NS/NA, or NULL. */
static inline const uint8_t *dp_nd_lla(const uint8_t *icmp, uint32_t len, uint8_t type)
{
	uint32_t off = 24;
	while (off + 8 <= len) {
		uint32_t ol = (uint32_t)icmp[off + 1] * 8;
		if (ol == 0 || off + ol > len)
			return NULL;
		if (icmp[off] == type && ol == 8)
			return icmp + off + 2;
		off += ol;
	}
	return NULL;
}

/* Fill an NA for `target` answering the NS in m (in place). */
static inline void dp_nd_make_na(struct rte_mbuf *m, const struct dp_port *p, const uint8_t *target)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *), *ip = f + DP_ETH_LEN, *icmp = ip + DP_IP6_LEN;
	uint8_t dst[16];
	memcpy(dst, ip + DP_IP6_SRC, 16);
	memcpy(f, f + 6, 6);
	memcpy(f + 6, p->mac.addr_bytes, 6);
	if (dp_addr_is_unspec(dst)) { /* DAD probe: answer to all-nodes */
		static const uint8_t all[16] = { 0xff, 0x02, [15] = 1 };
		memcpy(dst, all, 16);
		f[0] = 0x33; f[1] = 0x33; f[2] = 0; f[3] = 0; f[4] = 0; f[5] = 1;
	}
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - (DP_ETH_LEN + DP_IP6_LEN + 32)));
	dp_put16(ip + DP_IP6_PLEN, 32);
	ip[DP_IP6_NH] = DP_PROTO_ICMP6;
	ip[DP_IP6_HLIM] = 255;
	memcpy(ip + DP_IP6_DST, dst, 16);
	memcpy(ip + DP_IP6_SRC, target, 16);
	memset(icmp, 0, 32);
	icmp[0] = DP_ND_NA;
	icmp[4] = 0x60; /* Solicited + Override */
	memcpy(icmp + 8, target, 16);
	icmp[24] = DP_ND_OPT_TLLA;
	icmp[25] = 1;
	memcpy(icmp + 26, p->mac.addr_bytes, 6);
	dp_icmp6_fix_csum(ip, DP_IP6_LEN + 32, DP_IP6_LEN);
}

enum { DP_ND_LEARN_NONE = 0, DP_ND_LEARN_CONFIRMED = 1, DP_ND_LEARN_CHANGED = 2 };

/*
 * What an advertisement for the next hop, or a solicitation from it, says
 * (RFC 4861 sections 7.2.3 and 7.2.5): a link-layer address replaces ours
 * when the advertisement has the Override flag, when it comes in the next
 * hop's own solicitation, or when we had none; a Solicited advertisement
 * that agrees with the address in use confirms reachability.  Static MACs
 * never change.  `icmp`/`len`: the ICMPv6 message.  Returns DP_ND_LEARN_*.
 */
static inline unsigned dp_nd_learn(struct dp_port *p, const uint8_t *ip, const uint8_t *icmp, uint32_t len,
				   uint64_t now)
{
	const uint8_t *lla;
	bool override = true, solicited = false;
	unsigned r = DP_ND_LEARN_NONE;
	uint64_t cur;

	if (p->nh_static || dp_addr_is_unspec(p->nh_addr) || len < 24)
		return r;
	if (icmp[0] == DP_ND_NA && memcmp(icmp + 8, p->nh_addr, 16) == 0) {
		lla = dp_nd_lla(icmp, len, DP_ND_OPT_TLLA);
		solicited = (icmp[4] & 0x40) != 0;
		override = (icmp[4] & 0x20) != 0;
	} else if (icmp[0] == DP_ND_NS && memcmp(ip + DP_IP6_SRC, p->nh_addr, 16) == 0) {
		lla = dp_nd_lla(icmp, len, DP_ND_OPT_SLLA);
	} else {
		return r;
	}
	cur = dp_nh_load(p);
	if (lla) {
		uint64_t w = dp_nh_word(lla);
		if (w != cur && (override || !dp_nh_ok(cur))) {
			if (dp_nh_ok(cur))
				r |= DP_ND_LEARN_CHANGED;
			dp_nh_store(p, w);
			cur = w;
		}
		if (w != cur)
			solicited = false; /* about an address we did not take */
	}
	if (solicited && dp_nh_ok(cur)) {
		__atomic_store_n(&p->nh_confirm_tsc, now ? now : 1, __ATOMIC_RELAXED);
		r |= DP_ND_LEARN_CONFIRMED;
	}
	return r;
}

/* Returns true when the frame was consumed. */
static inline bool dp_nd_input(struct dp_lcore *lc, unsigned pidx, struct rte_mbuf *m)
{
	struct dp_port *p = &dp.port[pidx];
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *), *ip, *icmp;
	uint32_t len = rte_pktmbuf_data_len(m);

	if (len < DP_ETH_LEN + DP_IP6_LEN + 24 || dp_get16(f + 12) != RTE_ETHER_TYPE_IPV6)
		return false;
	ip = f + DP_ETH_LEN;
	if (ip[DP_IP6_NH] != DP_PROTO_ICMP6 || ip[DP_IP6_HLIM] != 255)
		return false;
	icmp = ip + DP_IP6_LEN;
	len -= DP_ETH_LEN + DP_IP6_LEN;
	if (dp_nd_learn(p, ip, icmp, len, rte_rdtsc()) & DP_ND_LEARN_CHANGED)
		lc->cnt.c[DPMSG_CNT_ND_MAC_CHANGED]++;
	if (icmp[0] == DP_ND_NS && p->tap == DP_NO_PORT && !dp_addr_is_unspec(p->own_addr) &&
	    memcmp(icmp + 8, p->own_addr, 16) == 0) {
		dp_nd_make_na(m, p, p->own_addr);
		lc->cnt.c[DPMSG_CNT_ICMP_GEN]++;
		if (pidx == DP_PORT_INSIDE) {
			lc->cnt.c[DPMSG_CNT_TX_IN_PKTS]++;
			lc->cnt.c[DPMSG_CNT_TX_IN_BYTES] += rte_pktmbuf_pkt_len(m);
		} else {
			lc->cnt.c[DPMSG_CNT_TX_OUT_PKTS]++;
			lc->cnt.c[DPMSG_CNT_TX_OUT_BYTES] += rte_pktmbuf_pkt_len(m);
		}
		rte_eth_tx_buffer(p->id, lc->qid, lc->txb[pidx], m);
		return true;
	}
	/* With no kernel behind the port, an advertisement about the next hop
	 * (the answer to our own solicitation, or its announced new MAC) has
	 * done all it can in dp_nd_learn; it is not a drop.  With a TAP it goes
	 * on: the kernel may have solicited the same router itself. */
	if (icmp[0] == DP_ND_NA && p->tap == DP_NO_PORT && !p->nh_static &&
	    !dp_addr_is_unspec(p->nh_addr) && memcmp(icmp + 8, p->nh_addr, 16) == 0) {
		lc->cnt.c[DPMSG_CNT_ND_RECEIVED]++;
		rte_pktmbuf_free(m);
		return true;
	}
	return false;
}

/*
 * Build an NS for the port's next hop into an empty mbuf: multicast to its
 * solicited-node group, or (`unicast`) to the address and MAC in use, which
 * is how a known MAC is re-confirmed.
 */
static inline int dp_nd_build_ns(struct rte_mbuf *m, const struct dp_port *p, bool unicast)
{
	uint8_t *f = (uint8_t *)rte_pktmbuf_append(m, DP_ETH_LEN + DP_IP6_LEN + 32), *ip, *icmp;
	const uint8_t *t = p->nh_addr;
	if (!f)
		return -1;
	if (unicast) {
		uint64_t w = dp_nh_load(p);
		memcpy(f, &w, 6);
	} else {
		f[0] = 0x33; f[1] = 0x33; f[2] = 0xff; f[3] = t[13]; f[4] = t[14]; f[5] = t[15];
	}
	memcpy(f + 6, p->mac.addr_bytes, 6);
	f[12] = 0x86; f[13] = 0xdd;
	ip = f + DP_ETH_LEN;
	memset(ip, 0, DP_IP6_LEN);
	ip[0] = 0x60;
	dp_put16(ip + DP_IP6_PLEN, 32);
	ip[DP_IP6_NH] = DP_PROTO_ICMP6;
	ip[DP_IP6_HLIM] = 255;
	if (!dp_addr_is_unspec(p->own_addr)) {
		memcpy(ip + DP_IP6_SRC, p->own_addr, 16);
	} else { /* link-local from the MAC (modified EUI-64) */
		uint8_t *s = ip + DP_IP6_SRC;
		s[0] = 0xfe; s[1] = 0x80;
		s[8] = p->mac.addr_bytes[0] ^ 2; s[9] = p->mac.addr_bytes[1]; s[10] = p->mac.addr_bytes[2];
		s[11] = 0xff; s[12] = 0xfe;
		s[13] = p->mac.addr_bytes[3]; s[14] = p->mac.addr_bytes[4]; s[15] = p->mac.addr_bytes[5];
	}
	if (unicast) {
		memcpy(ip + DP_IP6_DST, t, 16);
	} else {
		static const uint8_t snm[13] = { 0xff, 0x02, [11] = 1, [12] = 0xff };
		memcpy(ip + DP_IP6_DST, snm, 13);
		memcpy(ip + DP_IP6_DST + 13, t + 13, 3);
	}
	icmp = ip + DP_IP6_LEN;
	memset(icmp, 0, 32);
	icmp[0] = DP_ND_NS;
	memcpy(icmp + 8, t, 16);
	icmp[24] = DP_ND_OPT_SLLA;
	icmp[25] = 1;
	memcpy(icmp + 26, p->mac.addr_bytes, 6);
	dp_icmp6_fix_csum(ip, DP_IP6_LEN + 32, DP_IP6_LEN);
	return 0;
}

#endif
