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

/* ---- ICMPv6 errors sent by inside hosts (outbound) ---------------------- */

/* RFC 1624 eqn. 3 for one 16-bit field at an even offset of the checksummed data. */
static inline uint16_t dp_csum_replace2(uint16_t hc, uint16_t old, uint16_t new_)
{
	return (uint16_t)~dp_csum_fold((uint32_t)(uint16_t)~hc + (uint16_t)~old + new_);
}

/*
 * An inside host's ICMPv6 error to a peer without Shim6.  The embedded
 * packet is one the host received through NATv6-in: src = peer, dst = the
 * host's CMULA (outer source), upper-layer checksum adjusted for the CMULA.
 * Outbound, the outer source becomes the host's PA address `pa` (as
 * dp_nat_out does) and so does the embedded destination, with the embedded
 * upper-layer checksum adjusted back: the peer gets the packet it sent and
 * can match the error to its socket.  Use it instead of dp_nat_out for
 * errors.
 *
 * The ICMPv6 checksum is updated incrementally, never recomputed: every
 * changed field sits at an even offset of the message (the embedded header
 * starts at 8, extension headers are multiples of 8), and a message that
 * arrived with a bad checksum leaves with a bad checksum.  The embedded copy
 * may be truncated anywhere after its fixed header; its payload length field
 * is never trusted, only the octets present.
 *
 * Returns DP_ICMP_OK; DP_ICMP_MALFORMED (not an error message, embedded
 * fixed header or extension header cut short, version not 6, a payload
 * header inside: no host behind us ever saw one) or DP_ICMP_MISMATCH
 * (embedded destination is not the outer source: not about a packet this
 * host received through us).  On either failure nothing was written.
 */
static inline int dp_icmp_out_nat(struct rte_mbuf *m, const struct dp_walk *w, const uint8_t pa[16])
{
	uint8_t *ip = dp_ip6(m), *ii;
	uint32_t len, co;
	struct dp_icmp_inner in;
	uint16_t hc, old2 = 0;
	bool udp;

	if (rte_pktmbuf_data_len(m) < DP_ETH_LEN + DP_IP6_LEN)
		return DP_ICMP_MALFORMED;
	len = rte_pktmbuf_data_len(m) - DP_ETH_LEN;
	if (!dp_is_icmp_error(ip, len, w) || dp_icmp_inner_parse(ip, len, w, &in) != DP_ICMP_OK || in.shim)
		return DP_ICMP_MALFORMED;
	ii = ip + in.off;
	if (!dp_addr_eq(ii + DP_IP6_DST, ip + DP_IP6_SRC))
		return DP_ICMP_MISMATCH;
	hc = dp_get16(ip + w->off + 2);
	hc = dp_csum_replace16(hc, ip + DP_IP6_SRC, pa);     /* pseudo-header source */
	hc = dp_csum_replace16(hc, ii + DP_IP6_DST, pa);     /* embedded destination */
	co = dp_l4_csum_off(&in.w, in.len, &udp);
	if (co)
		old2 = dp_get16(ii + co);
	dp_addr_rewrite(ii, in.len, &in.w, DP_IP6_DST, pa);
	if (co)
		hc = dp_csum_replace2(hc, old2, dp_get16(ii + co));
	memcpy(ip + DP_IP6_SRC, pa, 16);
	dp_put16(ip + w->off + 2, hc);
	return DP_ICMP_OK;
}

/*
 * Cut an ICMPv6 error to `max` octets of IPv6 packet, keeping the checksum
 * right incrementally: the cut octets leave the sum (byte-swapped when the
 * cut starts at an odd offset of the message, RFC 1071 byte-order
 * independence) and the pseudo-header length changes.  RFC 4443 lets an
 * error carry any prefix of the invoking packet, so a shorter error is still
 * a good one.  Refuses (DP_ICMP_NOROOM) to cut into the embedded fixed
 * header, or to cut a fragment (the checksum covers the whole datagram).
 */
static inline int dp_icmp_trim(struct rte_mbuf *m, const struct dp_walk *w, uint32_t max)
{
	uint8_t *ip = dp_ip6(m);
	uint32_t len = rte_pktmbuf_data_len(m) - DP_ETH_LEN, cut, sum;
	uint16_t part, hc;

	if (len <= max)
		return DP_ICMP_OK;
	if (w->frag || max < (uint32_t)w->off + DP_ICMP6_HLEN + DP_IP6_LEN)
		return DP_ICMP_NOROOM;
	cut = max - w->off; /* first octet of the message that goes */
	part = dp_csum_fold(dp_csum_add(0, ip + max, len - max));
	if (cut & 1)
		part = (uint16_t)(part << 8 | part >> 8);
	hc = dp_get16(ip + w->off + 2);
	sum = (uint32_t)(uint16_t)~hc + (uint16_t)~part;
	sum += (uint16_t)~(uint16_t)(len - w->off);
	sum += (uint16_t)(max - w->off);
	dp_put16(ip + w->off + 2, (uint16_t)~dp_csum_fold(sum));
	dp_put16(ip + DP_IP6_PLEN, (uint16_t)(max - DP_IP6_LEN));
	rte_pktmbuf_trim(m, (uint16_t)(len - max));
	return DP_ICMP_OK;
}

/*
 * An inside host's ICMPv6 error to a remote ULID it reaches through context
 * `c` (EG_SHIM found c for the outer (source, destination)).
 *
 * What the peer must see.  The host generated the error about a packet our
 * ingress had already turned back into ULIDs (payload header removed), so
 * the embedded copy holds src = remote ULID, dst = local ULID.  The outer
 * packet is shimmed like any egress packet, and the peer's shim restores
 * the outer ULIDs and hands the error to its upper layer as it is: the upper
 * layer sent that packet with exactly those ULIDs, so the embedded copy must
 * stay in ULID form.  RFC 5533's translation of embedded locators and
 * payload headers (its section on ICMP error handling) is for errors from
 * routers on the path, which see the packet as it was on the wire; an
 * endpoint's error travels inside the context, end to end between ULIDs,
 * like any other upper-layer data.  Rewriting the copy to the locators and
 * inserting an 8-octet payload header would be wrong twice over: a peer
 * proxy like this one removes the outer payload header and forwards the
 * error as is (its ICMP translation only runs for errors arriving without
 * one), and a host shim without ICMP translation (LinShim6) passes it up
 * untouched, so the upper layer would see its packet with locators it never
 * used.  Leaving the copy alone works with both.
 *
 * So the embedded addresses are checked, not changed, and the error is cut
 * (checksum kept right) so that with the 8-octet payload header it still
 * fits the ISP link's `mtu`: a full-size error from a host is 1280 octets,
 * one more than a 1280-octet link takes once shimmed, and an error about an
 * error draws no Packet Too Big (RFC 4443 2.4(e)), so it would be lost.
 *
 * Returns DP_ICMP_OK (forward: dp_shim_encap next), DP_ICMP_MALFORMED
 * (as dp_icmp_out_nat; an embedded payload header is malformed here too),
 * DP_ICMP_MISMATCH (the embedded packet is not one of this context from
 * the peer: forward unchanged, it is the host's business) or DP_ICMP_NOROOM
 * (mtu too small to keep the embedded fixed header).  Nothing is written
 * unless DP_ICMP_OK.
 */
static inline int dp_icmp_out_shim(struct rte_mbuf *m, const struct dp_walk *w,
				   const struct dp_ctx *c, uint32_t mtu)
{
	uint8_t *ip = dp_ip6(m), *ii;
	uint32_t len;
	struct dp_icmp_inner in;

	if (rte_pktmbuf_data_len(m) < DP_ETH_LEN + DP_IP6_LEN)
		return DP_ICMP_MALFORMED;
	len = rte_pktmbuf_data_len(m) - DP_ETH_LEN;
	if (!dp_is_icmp_error(ip, len, w) || dp_icmp_inner_parse(ip, len, w, &in) != DP_ICMP_OK || in.shim)
		return DP_ICMP_MALFORMED;
	ii = ip + in.off;
	if (!dp_addr_eq(ii + DP_IP6_SRC, c->remote_ulid) || !dp_addr_eq(ii + DP_IP6_DST, c->local_ulid))
		return DP_ICMP_MISMATCH;
	if (mtu < DP_SHIM6_LEN)
		return DP_ICMP_NOROOM;
	return dp_icmp_trim(m, w, mtu - DP_SHIM6_LEN);
}

/*
 * The other consistent choice, for an error that leaves OUTSIDE the context
 * (outer packet from the local locator to the remote locator, no payload
 * header, sent out of the context's ISP as is): then the embedded copy must
 * be what the peer put on the wire, because the peer's shim translates it
 * as an error from the path (RFC 5533 ICMP error handling: find the context
 * by the payload header's tag, check the locators, restore the ULIDs).  So
 * the embedded addresses become src = remote locator, dst = local locator,
 * and the 8-octet payload header the peer sent (our own tag, after a
 * Hop-by-Hop header when there is one) goes back in, the embedded payload
 * length grows by 8 as it was on the wire; the embedded upper-layer checksum
 * is left alone since it covers the ULIDs on the wire too.  The error is
 * then cut to `max` octets of IPv6 packet: pass the smaller of DP_MIN_MTU
 * (RFC 4443's bound for an error, which the host filled) and the ISP MTU.
 *
 * Not the default (see dp_icmp_out_shim): it needs the peer's shim to
 * translate errors, which LinShim6 never did.  It is here for errors that
 * must not travel in the context (no context usable for the outer packet).
 *
 * The message grows and moves, so the ICMPv6 checksum is recomputed; to
 * avoid turning a corrupted message into a good one, the incoming checksum
 * is verified first (DP_ICMP_MALFORMED when wrong).  Also DP_ICMP_MALFORMED
 * for a fragmented error; DP_ICMP_NOROOM without 8 octets of headroom or
 * when `max` would cut into the embedded payload header.  Nothing is written
 * unless DP_ICMP_OK.
 */
static inline int dp_icmp_out_shim_wire(struct rte_mbuf *m, const struct dp_walk *w,
					const struct dp_ctx *c, uint32_t max)
{
	uint8_t *p, *ip = dp_ip6(m), *ii, *sh;
	uint32_t len, ins, nh_at;
	struct dp_icmp_inner in;
	uint16_t iplen;

	if (rte_pktmbuf_data_len(m) < DP_ETH_LEN + DP_IP6_LEN)
		return DP_ICMP_MALFORMED;
	len = rte_pktmbuf_data_len(m) - DP_ETH_LEN;
	if (!dp_is_icmp_error(ip, len, w) || w->frag ||
	    dp_icmp_inner_parse(ip, len, w, &in) != DP_ICMP_OK || in.shim)
		return DP_ICMP_MALFORMED;
	ii = ip + in.off;
	if (!dp_addr_eq(ii + DP_IP6_SRC, c->remote_ulid) || !dp_addr_eq(ii + DP_IP6_DST, c->local_ulid))
		return DP_ICMP_MISMATCH;
	if (dp_csum6(ip + DP_IP6_SRC, ip + DP_IP6_DST, DP_PROTO_ICMP6, ip + w->off, len - w->off) != 0)
		return DP_ICMP_MALFORMED; /* the sum with a right checksum folds to 0xffff, stored as ~ = 0 */
	iplen = dp_get16(ii + DP_IP6_PLEN);
	if (iplen > 0xffff - DP_SHIM6_LEN || len + DP_SHIM6_LEN > 0xffff)
		return DP_ICMP_MALFORMED;
	/* the payload header goes where the peer's encapsulation put it */
	ins = in.off + DP_IP6_LEN;
	nh_at = in.off + DP_IP6_NH;
	if (ii[DP_IP6_NH] == DP_PROTO_HBH) {
		nh_at = ins;
		ins += ((uint32_t)ii[DP_IP6_LEN + 1] + 1) * 8; /* inside the data: the inner walk checked it */
	}
	if (max < ins + DP_SHIM6_LEN)
		return DP_ICMP_NOROOM;
	if (rte_pktmbuf_headroom(m) < DP_SHIM6_LEN)
		return DP_ICMP_NOROOM;
	p = (uint8_t *)rte_pktmbuf_prepend(m, DP_SHIM6_LEN);
	memmove(p, p + DP_SHIM6_LEN, DP_ETH_LEN + ins); /* nh_at < ins: the Next Header octet moves too */
	ip = p + DP_ETH_LEN;
	ii = ip + in.off;
	sh = ip + ins;
	sh[0] = ip[nh_at];
	sh[1] = 0;
	{
		uint64_t v = UINT64_C(1) << 47 | (c->own_tag & UINT64_C(0x7fffffffffff));
		for (int i = 7; i >= 2; i--, v >>= 8)
			sh[i] = (uint8_t)v;
	}
	ip[nh_at] = DP_PROTO_SHIM6;
	dp_put16(ii + DP_IP6_PLEN, (uint16_t)(iplen + DP_SHIM6_LEN));
	memcpy(ii + DP_IP6_SRC, c->remote_loc, 16);
	memcpy(ii + DP_IP6_DST, c->local_loc, 16);
	memcpy(ip + DP_IP6_SRC, c->local_loc, 16);
	memcpy(ip + DP_IP6_DST, c->remote_loc, 16);
	len += DP_SHIM6_LEN;
	if (len > max) {
		rte_pktmbuf_trim(m, (uint16_t)(len - max));
		len = max;
	}
	dp_put16(ip + DP_IP6_PLEN, (uint16_t)(len - DP_IP6_LEN));
	dp_icmp6_fix_csum(ip, len, w->off);
	return DP_ICMP_OK;
}

#endif
