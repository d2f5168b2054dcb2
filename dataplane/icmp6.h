/*
 * ICMPv6 nodes: Packet Too Big towards inside hosts (the payload header costs
 * 8 octets of path MTU) and translation of ICMPv6 errors whose embedded
 * packet was shimmed or NATv6-translated, so the inside host sees the packet
 * it sent (its ULIDs) and can match the error to its socket.
 */
#ifndef PSHIM6_DP_ICMP6_H
#define PSHIM6_DP_ICMP6_H

#include "pkt.h"
#include "site.h"

#define DP_ICMP6_PTB   2
#define DP_ICMP6_HLEN  8

enum dp_icmp_rc {
	DP_ICMP_OK = 0,
	DP_ICMP_NOREPLY = -1,  /* no error for this packet (multicast source, error about an error) */
	DP_ICMP_NOROOM = -2,
	DP_ICMP_MALFORMED = -3,
	DP_ICMP_MISMATCH = -4, /* embedded packet does not belong to the context */
};

static inline bool dp_is_icmp_error(const uint8_t *ip, uint32_t len, const struct dp_walk *w)
{
	return w->nh == DP_PROTO_ICMP6 && w->frag != 2 && w->off < len && ip[w->off] < 128;
}

/* Recompute the ICMPv6 checksum of an IPv6 packet whose ICMPv6 header is at off. */
static inline void dp_icmp6_fix_csum(uint8_t *ip, uint32_t len, uint32_t off)
{
	ip[off + 2] = 0;
	ip[off + 3] = 0;
	dp_put16(ip + off + 2, dp_csum6(ip + DP_IP6_SRC, ip + DP_IP6_DST, DP_PROTO_ICMP6, ip + off, len - off));
}

/*
 * Turn the frame `m` (received on the inside port, too big for the ISP
 * link) into an ICMPv6 Packet Too Big back to its source, in place.  The
 * error carries as much of the packet as fits in the minimum MTU.  `src` is
 * the address the error comes from; the caller sets Ethernet addresses.
 */
static inline int dp_icmp_ptb(struct rte_mbuf *m, const struct dp_walk *w, uint32_t mtu, const uint8_t src[16])
{
	uint8_t *p, *ip, *oip = dp_ip6(m);
	uint32_t olen = rte_pktmbuf_data_len(m) - DP_ETH_LEN, keep;
	const uint32_t add = DP_IP6_LEN + DP_ICMP6_HLEN;

	if (dp_addr_is_mc(oip + DP_IP6_SRC) || dp_addr_is_unspec(oip + DP_IP6_SRC) ||
	    dp_addr_is_mc(oip + DP_IP6_DST) || dp_is_icmp_error(oip, olen, w))
		return DP_ICMP_NOREPLY; /* RFC 4443 2.4(e) */
	keep = olen < DP_MIN_MTU - add ? olen : DP_MIN_MTU - add;
	if (olen > keep)
		rte_pktmbuf_trim(m, (uint16_t)(olen - keep));
	p = (uint8_t *)rte_pktmbuf_prepend(m, (uint16_t)add);
	if (!p)
		return DP_ICMP_NOROOM;
	memmove(p, p + add, DP_ETH_LEN);
	ip = p + DP_ETH_LEN;
	oip = ip + add;
	ip[0] = 0x60; ip[1] = 0; ip[2] = 0; ip[3] = 0;
	dp_put16(ip + DP_IP6_PLEN, (uint16_t)(DP_ICMP6_HLEN + keep));
	ip[DP_IP6_NH] = DP_PROTO_ICMP6;
	ip[DP_IP6_HLIM] = 255;
	memcpy(ip + DP_IP6_DST, oip + DP_IP6_SRC, 16);
	memcpy(ip + DP_IP6_SRC, src, 16);
	ip[DP_IP6_LEN] = DP_ICMP6_PTB;
	ip[DP_IP6_LEN + 1] = 0;
	ip[DP_IP6_LEN + 4] = (uint8_t)(mtu >> 24);
	ip[DP_IP6_LEN + 5] = (uint8_t)(mtu >> 16);
	ip[DP_IP6_LEN + 6] = (uint8_t)(mtu >> 8);
	ip[DP_IP6_LEN + 7] = (uint8_t)mtu;
	dp_icmp6_fix_csum(ip, DP_IP6_LEN + DP_ICMP6_HLEN + keep, DP_IP6_LEN);
	return DP_ICMP_OK;
}

/* What an ICMPv6 error (outer walk `w`) carries. */
struct dp_icmp_inner {
	uint32_t off;        /* inner IPv6 header, from the outer IPv6 header */
	uint32_t len;        /* inner octets present */
	struct dp_walk w;    /* inner walk */
	bool     shim;       /* inner carries a payload header */
	uint64_t peer_tag;   /* its tag: the peer's tag of one of our contexts */
};

static inline int dp_icmp_inner_parse(const uint8_t *ip, uint32_t len, const struct dp_walk *w,
				      struct dp_icmp_inner *in)
{
	const uint8_t *ii;

	in->off = w->off + DP_ICMP6_HLEN;
	if (in->off + DP_IP6_LEN > len)
		return DP_ICMP_MALFORMED;
	in->len = len - in->off;
	ii = ip + in->off;
	if ((ii[0] >> 4) != 6 || dp_walk6(ii, in->len, &in->w) < 0)
		return DP_ICMP_MALFORMED;
	in->shim = false;
	if (in->w.nh == DP_PROTO_SHIM6 && in->w.frag != 2) {
		const uint8_t *sh = ii + in->w.off;
		if ((uint32_t)in->w.off + DP_SHIM6_LEN > in->len || !(sh[2] & 0x80))
			return DP_ICMP_MALFORMED; /* errors about control messages go to control */
		in->shim = true;
		in->peer_tag = ((uint64_t)(sh[2] & 0x7f) << 40) | ((uint64_t)sh[3] << 32) |
			       ((uint64_t)sh[4] << 24) | ((uint64_t)sh[5] << 16) | ((uint64_t)sh[6] << 8) | sh[7];
	}
	return DP_ICMP_OK;
}

/*
 * Error about a packet we shimmed for context c: outer destination, inner
 * addresses back to ULIDs, inner payload header removed, checksum redone.
 */
static inline int dp_icmp_xlate_shim(struct rte_mbuf *m, const struct dp_walk *w,
				     const struct dp_icmp_inner *in, const struct dp_ctx *c)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *), *ip = p + DP_ETH_LEN, *ii = ip + in->off;
	uint32_t shoff = DP_ETH_LEN + in->off + in->w.off, len;
	uint16_t iplen;

	if (memcmp(ii + DP_IP6_SRC, c->local_loc, 16) || memcmp(ii + DP_IP6_DST, c->remote_loc, 16))
		return DP_ICMP_MISMATCH;
	memcpy(ip + DP_IP6_DST, c->local_ulid, 16);
	memcpy(ii + DP_IP6_SRC, c->local_ulid, 16);
	memcpy(ii + DP_IP6_DST, c->remote_ulid, 16);
	iplen = dp_get16(ii + DP_IP6_PLEN);
	if (iplen >= DP_SHIM6_LEN)
		dp_put16(ii + DP_IP6_PLEN, (uint16_t)(iplen - DP_SHIM6_LEN));
	ii[in->w.nh_off] = p[shoff];
	memmove(p + DP_SHIM6_LEN, p, shoff);
	p = (uint8_t *)rte_pktmbuf_adj(m, DP_SHIM6_LEN);
	ip = p + DP_ETH_LEN;
	dp_put16(ip + DP_IP6_PLEN, (uint16_t)(dp_get16(ip + DP_IP6_PLEN) - DP_SHIM6_LEN));
	len = rte_pktmbuf_data_len(m) - DP_ETH_LEN;
	dp_icmp6_fix_csum(ip, len, w->off);
	return DP_ICMP_OK;
}

/*
 * Error about a packet we NATv6-translated: outer destination and inner
 * source become the host's CMULA (inner upper-layer checksum adjusted back
 * when present), checksum redone.
 */
static inline int dp_icmp_xlate_nat(struct rte_mbuf *m, const struct dp_walk *w,
				    const struct dp_icmp_inner *in, const uint8_t outer_dst[16],
				    const uint8_t inner_src[16])
{
	uint8_t *ip = dp_ip6(m), *ii = ip + in->off;
	uint32_t len = rte_pktmbuf_data_len(m) - DP_ETH_LEN;

	memcpy(ip + DP_IP6_DST, outer_dst, 16);
	dp_addr_rewrite(ii, in->len, &in->w, DP_IP6_SRC, inner_src);
	dp_icmp6_fix_csum(ip, len, w->off);
	return DP_ICMP_OK;
}

#endif
