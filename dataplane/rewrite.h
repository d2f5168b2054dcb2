/*
 * Shim6 payload header nodes: egress ULID->locator rewrite with header
 * insertion, ingress removal with locator->ULID restore.  The upper-layer
 * checksum is never touched: it covers the ULIDs on both ends (RFC 5533).
 */
#ifndef PSHIM6_DP_REWRITE_H
#define PSHIM6_DP_REWRITE_H

#include "pkt.h"
#include "site.h"

enum dp_rw_rc {
	DP_RW_OK = 0,
	DP_RW_NOROOM = -1,    /* no mbuf headroom for the 8 octets */
	DP_RW_MALFORMED = -2,
};

/*
 * Moves the Ethernet header and the first 8 octets of the IPv6 header (22
 * octets: the addresses are rewritten anyway) by the payload header's
 * length, either way.  All loads come before any store and callers read the
 * fields they need before the move and write them after: a narrow store
 * followed by a wider load of the same bytes defeats store forwarding, and
 * that stall was a fifth of each node's time.
 */
static __rte_always_inline void dp_move22(uint8_t *dst, const uint8_t *src)
{
	uint64_t a, b, c;
	memcpy(&a, src, 8);
	memcpy(&b, src + 8, 8);
	memcpy(&c, src + 14, 8);
	memcpy(dst, &a, 8);
	memcpy(dst + 8, &b, 8);
	memcpy(dst + 14, &c, 8);
}

/* Would the packet exceed `mtu` once the payload header is added? */
static inline bool dp_shim_too_big(const struct rte_mbuf *m, uint32_t mtu)
{
	return (uint32_t)rte_pktmbuf_data_len(m) - DP_ETH_LEN + DP_SHIM6_LEN > mtu;
}

/*
 * Egress: insert the payload header right after the fixed header (after a
 * Hop-by-Hop header when there is one, which must stay first), rewrite the
 * addresses to the locator pair.  The Ethernet header moves with the rest.
 */
static inline int dp_shim_encap(struct rte_mbuf *m, const struct dp_ctx *c)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *), *ip, *nhp, *sh;
	uint32_t hlen = DP_ETH_LEN + DP_IP6_LEN;

	if (p[DP_ETH_LEN + DP_IP6_NH] == DP_PROTO_HBH) {
		if (rte_pktmbuf_data_len(m) < hlen + 2)
			return DP_RW_MALFORMED;
		hlen += ((uint32_t)p[hlen + 1] + 1) * 8;
		if (rte_pktmbuf_data_len(m) < hlen)
			return DP_RW_MALFORMED;
	}
	if (likely(hlen == DP_ETH_LEN + DP_IP6_LEN)) {
		uint8_t nh = p[DP_ETH_LEN + DP_IP6_NH];
		uint16_t plen = dp_get16(p + DP_ETH_LEN + DP_IP6_PLEN);
		uint64_t v = ((uint64_t)nh << 56) | (UINT64_C(1) << 47) | (c->peer_tag & UINT64_C(0x7fffffffffff));
		p = (uint8_t *)rte_pktmbuf_prepend(m, DP_SHIM6_LEN);
		if (!p)
			return DP_RW_NOROOM;
		dp_move22(p, p + DP_SHIM6_LEN);
		ip = p + DP_ETH_LEN;
		v = rte_cpu_to_be_64(v);
		memcpy(ip + DP_IP6_LEN, &v, 8);
		ip[DP_IP6_NH] = DP_PROTO_SHIM6;
		dp_put16(ip + DP_IP6_PLEN, (uint16_t)(plen + DP_SHIM6_LEN));
		memcpy(ip + DP_IP6_SRC, c->local_loc, 16);
		memcpy(ip + DP_IP6_DST, c->remote_loc, 16);
		return DP_RW_OK;
	}
	/* after a Hop-by-Hop header, which must stay first */
	p = (uint8_t *)rte_pktmbuf_prepend(m, DP_SHIM6_LEN);
	if (!p)
		return DP_RW_NOROOM;
	memmove(p, p + DP_SHIM6_LEN, hlen);
	ip = p + DP_ETH_LEN;
	nhp = ip + DP_IP6_LEN;
	sh = p + hlen;
	{
		/* Next Header, Hdr Ext Len 0, P=1 and the tag: one 8-octet store */
		uint64_t v = ((uint64_t)*nhp << 56) | (UINT64_C(1) << 47) |
			     (c->peer_tag & UINT64_C(0x7fffffffffff));
		v = rte_cpu_to_be_64(v);
		memcpy(sh, &v, 8);
	}
	*nhp = DP_PROTO_SHIM6;
	dp_put16(ip + DP_IP6_PLEN, (uint16_t)(dp_get16(ip + DP_IP6_PLEN) + DP_SHIM6_LEN));
	memcpy(ip + DP_IP6_SRC, c->local_loc, 16);
	memcpy(ip + DP_IP6_DST, c->remote_loc, 16);
	return DP_RW_OK;
}

/*
 * Ingress: `w` is the walk that stopped at the payload header.  Removes it,
 * links its Next Header into the previous header and restores the ULIDs.
 */
static inline int dp_shim_decap(struct rte_mbuf *m, const struct dp_walk *w, const struct dp_ctx *c)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *), *ip;
	uint32_t shoff = DP_ETH_LEN + w->off;

	if (rte_pktmbuf_data_len(m) < shoff + DP_SHIM6_LEN)
		return DP_RW_MALFORMED;
	if (likely(shoff == DP_ETH_LEN + DP_IP6_LEN)) {
		uint8_t nh = p[shoff];
		uint16_t plen = dp_get16(p + DP_ETH_LEN + DP_IP6_PLEN);
		dp_move22(p + DP_SHIM6_LEN, p);
		p = (uint8_t *)rte_pktmbuf_adj(m, DP_SHIM6_LEN);
		ip = p + DP_ETH_LEN;
		ip[DP_IP6_NH] = nh;
		dp_put16(ip + DP_IP6_PLEN, (uint16_t)(plen - DP_SHIM6_LEN));
	} else {
		p[DP_ETH_LEN + w->nh_off] = p[shoff];
		memmove(p + DP_SHIM6_LEN, p, shoff);
		p = (uint8_t *)rte_pktmbuf_adj(m, DP_SHIM6_LEN);
		ip = p + DP_ETH_LEN;
		dp_put16(ip + DP_IP6_PLEN, (uint16_t)(dp_get16(ip + DP_IP6_PLEN) - DP_SHIM6_LEN));
	}
	memcpy(ip + DP_IP6_SRC, c->remote_ulid, 16);
	memcpy(ip + DP_IP6_DST, c->local_ulid, 16);
	return DP_RW_OK;
}

/* Ethernet addresses for the next hop; the type stays IPv6. */
static inline void dp_eth_set(struct rte_mbuf *m, const struct rte_ether_addr *src,
			      const struct rte_ether_addr *dst)
{
	struct rte_ether_hdr *e = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	rte_ether_addr_copy(dst, &e->dst_addr);
	rte_ether_addr_copy(src, &e->src_addr);
}

/* Destination from a next-hop word (octets 0..5): one 8-octet store, whose
 * last two octets the source address then overwrites. */
static __rte_always_inline void dp_eth_set_w(struct rte_mbuf *m, const struct rte_ether_addr *src, uint64_t dst_w)
{
	uint8_t *e = rte_pktmbuf_mtod(m, uint8_t *);
	memcpy(e, &dst_w, 8);
	memcpy(e + 6, src->addr_bytes, 6);
}

#endif
