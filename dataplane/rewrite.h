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
 * The common cases below write the whole new front of the frame as words:
 * the Ethernet header from two words (dp_eth_put), the first 8 octets of
 * the IPv6 header from one loaded before any store, then the addresses.
 * All loads come before any store: a narrow store followed by a wider load
 * of the same bytes defeats store forwarding, and that stall was a fifth of
 * each node's time.  Nothing else of the old front is read again.
 */

/* Ethernet header from a next-hop word (octets 0..5 the destination; see
 * dataplane.h) and a word of the source address and EtherType (octets
 * 6..13), which overwrites the other two octets of the first. */
static __rte_always_inline void dp_eth_put(uint8_t *p, uint64_t dst_w, uint64_t src_w)
{
	memcpy(p, &dst_w, 8);
	memcpy(p + 6, &src_w, 8);
}

/* The source word of an IPv6 frame leaving by a port whose address is `mac`. */
static inline uint64_t dp_eth_src_w(const struct rte_ether_addr *mac)
{
	uint8_t b[8];
	uint64_t w;
	memcpy(b, mac->addr_bytes, 6);
	b[6] = RTE_ETHER_TYPE_IPV6 >> 8;
	b[7] = RTE_ETHER_TYPE_IPV6 & 0xff;
	memcpy(&w, b, 8);
	return w;
}

/* Octets 0..7 of the IPv6 header (`v`, as loaded) with the payload length
 * moved by `add` (mod 2^16, as dp_put16 would store it) and Next Header `nh`. */
static __rte_always_inline uint64_t dp_ip6_w0(uint64_t v, int add, uint8_t nh)
{
	uint64_t b = rte_be_to_cpu_64(v);
	uint64_t plen = (uint16_t)((uint16_t)(b >> 16) + add);
	b = (b & ~UINT64_C(0xffffff00)) | plen << 16 | (uint64_t)nh << 8;
	return rte_cpu_to_be_64(b);
}

/* Would the packet exceed `mtu` once the payload header is added? */
static inline bool dp_shim_too_big(const struct rte_mbuf *m, uint32_t mtu)
{
	return (uint32_t)rte_pktmbuf_data_len(m) - DP_ETH_LEN + DP_SHIM6_LEN > mtu;
}

static inline int dp_shim_encap_hbh(struct rte_mbuf *m, const struct dp_ctx *c);

/*
 * Egress of a packet with no Hop-by-Hop header (the fixed header's Next
 * Header is the upper layer or another header the payload header goes in
 * front of): insert the payload header right after the fixed header and
 * rewrite the addresses to the locator pair; the Ethernet header is the one
 * dp_eth_put makes from the two words.
 */
static __rte_always_inline int dp_shim_encap_eth_nohbh(struct rte_mbuf *m, const struct dp_ctx *c,
						       uint64_t dst_w, uint64_t src_w)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *), *ip;
	uint64_t w0, v;
	uint8_t nh;

	memcpy(&w0, p + DP_ETH_LEN, 8);
	nh = p[DP_ETH_LEN + DP_IP6_NH];
	/* Next Header, Hdr Ext Len 0, P=1 and the tag: one 8-octet store */
	v = rte_cpu_to_be_64((UINT64_C(1) << 47) | (c->peer_tag & UINT64_C(0x7fffffffffff)));
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
	v |= nh;                       /* octet 0: the low one of the word as stored */
#else
	v |= (uint64_t)nh << 56;
#endif
	w0 = dp_ip6_w0(w0, DP_SHIM6_LEN, DP_PROTO_SHIM6);
	/* rte_pktmbuf_prepend, less its test of a result that cannot be NULL */
	if (unlikely(rte_pktmbuf_headroom(m) < DP_SHIM6_LEN))
		return DP_RW_NOROOM;
	m->data_off = (uint16_t)(m->data_off - DP_SHIM6_LEN);
	m->data_len = (uint16_t)(m->data_len + DP_SHIM6_LEN);
	m->pkt_len += DP_SHIM6_LEN;
	p -= DP_SHIM6_LEN;
	ip = p + DP_ETH_LEN;
	dp_eth_put(p, dst_w, src_w);
	memcpy(ip, &w0, 8);
	memcpy(ip + DP_IP6_SRC, c->local_loc, 16);
	memcpy(ip + DP_IP6_DST, c->remote_loc, 16);
	memcpy(ip + DP_IP6_LEN, &v, 8);
	return DP_RW_OK;
}

/*
 * Egress: the payload header goes right after the fixed header, or after a
 * Hop-by-Hop header when there is one, which must stay first.
 */
static __rte_always_inline int dp_shim_encap_eth(struct rte_mbuf *m, const struct dp_ctx *c,
						 uint64_t dst_w, uint64_t src_w)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);

	if (unlikely(p[DP_ETH_LEN + DP_IP6_NH] == DP_PROTO_HBH)) {
		int rc = dp_shim_encap_hbh(m, c);
		if (rc == DP_RW_OK)
			dp_eth_put(rte_pktmbuf_mtod(m, uint8_t *), dst_w, src_w);
		return rc;
	}
	return dp_shim_encap_eth_nohbh(m, c, dst_w, src_w);
}

/* The same, keeping the frame's own Ethernet header. */
static inline int dp_shim_encap(struct rte_mbuf *m, const struct dp_ctx *c)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint64_t dst_w, src_w;

	/* the frame's own Ethernet header, as the two words */
	memcpy(&dst_w, p, 8);
	memcpy(&src_w, p + 6, 8);
	return dp_shim_encap_eth(m, c, dst_w, src_w);
}

/* After a Hop-by-Hop header: the Ethernet header moves with the rest. */
static inline int dp_shim_encap_hbh(struct rte_mbuf *m, const struct dp_ctx *c)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *), *ip, *nhp, *sh;
	uint32_t hlen = DP_ETH_LEN + DP_IP6_LEN;

	if (rte_pktmbuf_data_len(m) < hlen + 2)
		return DP_RW_MALFORMED;
	hlen += ((uint32_t)p[hlen + 1] + 1) * 8;
	if (rte_pktmbuf_data_len(m) < hlen)
		return DP_RW_MALFORMED;
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
 * Ingress of a frame whose payload header sits right after the fixed header
 * and which the caller knows to hold it whole (DP_ETH_LEN + DP_IP6_LEN +
 * DP_SHIM6_LEN octets or more): removes it and restores the ULIDs; the
 * Ethernet header is the one dp_eth_put makes from the two words.  Returns
 * the payload header's Next Header, now the upper layer's.
 */
static __rte_always_inline uint8_t dp_shim_decap_eth_first(struct rte_mbuf *m, const struct dp_ctx *c,
							   uint64_t dst_w, uint64_t src_w)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *), *ip;
	uint8_t nh = p[DP_ETH_LEN + DP_IP6_LEN];
	uint64_t w0;

	memcpy(&w0, p + DP_ETH_LEN, 8);
	w0 = dp_ip6_w0(w0, -DP_SHIM6_LEN, nh);
	/* rte_pktmbuf_adj without its length test: the caller made it */
	m->data_off = (uint16_t)(m->data_off + DP_SHIM6_LEN);
	m->data_len = (uint16_t)(m->data_len - DP_SHIM6_LEN);
	m->pkt_len -= DP_SHIM6_LEN;
	p += DP_SHIM6_LEN;
	ip = p + DP_ETH_LEN;
	memcpy(ip, &w0, 8);
	dp_eth_put(p, dst_w, src_w);
	memcpy(ip + DP_IP6_SRC, c->remote_ulid, 16);
	memcpy(ip + DP_IP6_DST, c->local_ulid, 16);
	return nh;
}

/*
 * Ingress: `w` is the walk that stopped at the payload header.  Removes it,
 * links its Next Header into the previous header and restores the ULIDs;
 * the Ethernet header is the one dp_eth_put makes from the two words.
 * *nh: the payload header's Next Header, now the upper layer's.
 */
static __rte_always_inline int dp_shim_decap_eth(struct rte_mbuf *m, const struct dp_walk *w, const struct dp_ctx *c,
						 uint64_t dst_w, uint64_t src_w, uint8_t *nh)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *), *ip;
	uint32_t shoff = DP_ETH_LEN + w->off;

	if (rte_pktmbuf_data_len(m) < shoff + DP_SHIM6_LEN)
		return DP_RW_MALFORMED;
	if (likely(shoff == DP_ETH_LEN + DP_IP6_LEN)) {
		*nh = dp_shim_decap_eth_first(m, c, dst_w, src_w);
		return DP_RW_OK;
	}
	*nh = p[shoff];
	p[DP_ETH_LEN + w->nh_off] = *nh;
	memmove(p + DP_SHIM6_LEN, p, shoff);
	p = (uint8_t *)rte_pktmbuf_adj(m, DP_SHIM6_LEN);
	ip = p + DP_ETH_LEN;
	dp_put16(ip + DP_IP6_PLEN, (uint16_t)(dp_get16(ip + DP_IP6_PLEN) - DP_SHIM6_LEN));
	dp_eth_put(p, dst_w, src_w);
	memcpy(ip + DP_IP6_SRC, c->remote_ulid, 16);
	memcpy(ip + DP_IP6_DST, c->local_ulid, 16);
	return DP_RW_OK;
}

/* The same, keeping the frame's own Ethernet header. */
static inline int dp_shim_decap(struct rte_mbuf *m, const struct dp_walk *w, const struct dp_ctx *c)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint64_t dst_w, src_w;
	uint8_t nh;

	/* the frame's own Ethernet header, as the two words */
	memcpy(&dst_w, p, 8);
	memcpy(&src_w, p + 6, 8);
	return dp_shim_decap_eth(m, w, c, dst_w, src_w, &nh);
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
