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

/* Octets 2..7 of a payload header: P=1 then the 47-bit receiver tag. */
static inline void dp_put_tag(uint8_t *sh, uint64_t tag)
{
	uint64_t v = (UINT64_C(1) << 47) | (tag & UINT64_C(0x7fffffffffff));
	for (int i = 7; i >= 2; i--, v >>= 8)
		sh[i] = (uint8_t)v;
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
	p = (uint8_t *)rte_pktmbuf_prepend(m, DP_SHIM6_LEN);
	if (!p)
		return DP_RW_NOROOM;
	if (likely(hlen == DP_ETH_LEN + DP_IP6_LEN)) {
		/* constant size through registers: no library call, no overlap hazard */
		uint8_t hdr[DP_ETH_LEN + DP_IP6_LEN];
		memcpy(hdr, p + DP_SHIM6_LEN, sizeof(hdr));
		memcpy(p, hdr, sizeof(hdr));
	} else
		memmove(p, p + DP_SHIM6_LEN, hlen);
	ip = p + DP_ETH_LEN;
	nhp = hlen == DP_ETH_LEN + DP_IP6_LEN ? ip + DP_IP6_NH : ip + DP_IP6_LEN;
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
	p[DP_ETH_LEN + w->nh_off] = p[shoff];
	memmove(p + DP_SHIM6_LEN, p, shoff);
	p = (uint8_t *)rte_pktmbuf_adj(m, DP_SHIM6_LEN);
	ip = p + DP_ETH_LEN;
	dp_put16(ip + DP_IP6_PLEN, (uint16_t)(dp_get16(ip + DP_IP6_PLEN) - DP_SHIM6_LEN));
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

#endif
