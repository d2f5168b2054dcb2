/*
 * TCP MSS clamping.  The payload header costs 8 octets of path MTU; with
 * `dataplane.pmtu = "mss"` (or "both") the fast path lowers the MSS a SYN
 * advertises instead of, or besides, sending Packet Too Big, so TCP never
 * builds a segment the ISP link cannot carry.  Both directions matter: the
 * MSS in an outbound SYN bounds what the peer sends, the MSS in an inbound
 * SYN or SYN+ACK bounds what the inside host sends.
 *
 * The options are untrusted bytes: the walk stays inside the TCP header as
 * its Data Offset gives it, and inside the data actually present; anything
 * inconsistent leaves the packet exactly as it was.
 */
#ifndef PSHIM6_DP_MSS_H
#define PSHIM6_DP_MSS_H

#include "pkt.h"
#include "site.h"

#define DP_TCP_HLEN      20
#define DP_TCP_OPT_EOL   0
#define DP_TCP_OPT_NOP   1
#define DP_TCP_OPT_MSS   2
#define DP_TCP_OPT_MSS_LEN 4
#define DP_TCP_SYN       0x02
/* 40 octets of options hold at most 10 MSS options (4 octets each) */
#define DP_MSS_MAX_OPTS  10

enum dp_mss_rc {
	DP_MSS_UNTOUCHED = 0,   /* not TCP, later fragment, not a SYN, no MSS option, or MSS <= mss_max */
	DP_MSS_CLAMPED = 1,     /* one or more MSS options lowered to mss_max, checksum updated */
	DP_MSS_MALFORMED = -1,  /* TCP header or options inconsistent with the data; packet untouched */
};

/*
 * The MSS a SYN may advertise on a path whose link MTU is `mtu`: IPv6 and
 * TCP fixed headers, and the payload header when the packet is shimmed.
 * An IPv6 link never has an MTU below 1280, so neither does this.
 */
static inline uint16_t dp_mss_for_mtu(uint32_t mtu, bool shimmed)
{
	uint32_t mss;

	if (mtu < DP_MIN_MTU)
		mtu = DP_MIN_MTU;
	mss = mtu - DP_IP6_LEN - DP_TCP_HLEN - (shimmed ? DP_SHIM6_LEN : 0);
	return mss > 0xffff ? 0xffff : (uint16_t)mss;
}

/*
 * RFC 1624 eqn. 3 for one 16-bit field at offset `off` from the start of
 * the checksummed data.  At an odd offset (an MSS option after a single
 * NOP) the field straddles two checksum words: its high octet is the low
 * half of one word and its low octet the high half of the next, so it
 * contributes its byte-swapped value.
 */
static inline uint16_t dp_csum_replace2_at(uint16_t hc, uint32_t off, uint16_t old, uint16_t new_)
{
	uint32_t sum;

	if (off & 1) {
		old = (uint16_t)(old << 8 | old >> 8);
		new_ = (uint16_t)(new_ << 8 | new_ >> 8);
	}
	sum = (uint32_t)(uint16_t)~hc + (uint16_t)~old + new_;
	return (uint16_t)~dp_csum_fold(sum);
}

/*
 * Clamp the MSS of the IPv6 packet `ip` (`len` octets present), whose walk
 * `w` stopped at the upper-layer header.  Every MSS option above mss_max is
 * lowered (a receiver may use any of several; all must be safe), and only
 * after the whole option list proved well formed, so a malformed list is
 * never half rewritten.
 */
static inline int dp_mss_clamp_ip(uint8_t *ip, uint32_t len, const struct dp_walk *w, uint16_t mss_max)
{
	uint32_t th = w->off, hlen, o, end;
	uint32_t at[DP_MSS_MAX_OPTS];
	unsigned n = 0;
	uint8_t *tcp;
	uint16_t hc;

	if (w->nh != DP_PROTO_TCP || w->frag == 2)
		return DP_MSS_UNTOUCHED;
	if (th > len || len - th < DP_TCP_HLEN)
		return DP_MSS_MALFORMED;
	tcp = ip + th;
	if (!(tcp[13] & DP_TCP_SYN))
		return DP_MSS_UNTOUCHED;
	hlen = (uint32_t)(tcp[12] >> 4) * 4;
	if (hlen < DP_TCP_HLEN || hlen > len - th)
		return DP_MSS_MALFORMED;
	end = hlen;
	for (o = DP_TCP_HLEN; o < end;) {
		uint8_t kind = tcp[o], olen;

		if (kind == DP_TCP_OPT_EOL)
			break;
		if (kind == DP_TCP_OPT_NOP) {
			o++;
			continue;
		}
		if (end - o < 2)
			return DP_MSS_MALFORMED; /* kind without its length octet */
		olen = tcp[o + 1];
		if (olen < 2 || olen > end - o)
			return DP_MSS_MALFORMED; /* 0/1 would loop or overlap; longer runs past the header */
		if (kind == DP_TCP_OPT_MSS) {
			if (olen != DP_TCP_OPT_MSS_LEN)
				return DP_MSS_MALFORMED;
			if (dp_get16(tcp + o + 2) > mss_max && n < DP_MSS_MAX_OPTS)
				at[n++] = o + 2;
		}
		o += olen;
	}
	if (!n)
		return DP_MSS_UNTOUCHED;
	hc = dp_get16(tcp + 16);
	for (unsigned i = 0; i < n; i++) {
		hc = dp_csum_replace2_at(hc, at[i], dp_get16(tcp + at[i]), mss_max);
		dp_put16(tcp + at[i], mss_max);
	}
	dp_put16(tcp + 16, hc);
	return DP_MSS_CLAMPED;
}

/* Per-ISP MSS bounds, computed once from the link MTUs. */
static inline void dp_site_mss_prep(struct dp_site *s, bool on)
{
	s->mss = on;
	s->mss_in = 0xffff;
	for (unsigned i = 0; i < s->n_isp; i++) {
		s->isp[i].mss_shim = dp_mss_for_mtu(s->isp[i].mtu, true);
		s->isp[i].mss_nat = dp_mss_for_mtu(s->isp[i].mtu, false);
		if (s->isp[i].mss_nat < s->mss_in)
			s->mss_in = s->isp[i].mss_nat;
	}
}

/*
 * Cheap test the node loops make on every packet: a TCP segment with SYN
 * set, header present.  Only those go through the option walk.  The flags
 * come before the fragment test: most segments fail there, and for a later
 * fragment the octet read is still inside the packet.
 */
static __rte_always_inline bool dp_is_tcp_syn(const uint8_t *ip, uint32_t len, const struct dp_walk *w)
{
	return w->nh == DP_PROTO_TCP && (uint32_t)w->off + DP_TCP_HLEN <= len &&
	       (ip[w->off + 13] & DP_TCP_SYN) && w->frag != 2;
}

/* The same on the IPv6 packet of a classified frame (Ethernet header first). */
static inline int dp_mss_clamp(struct rte_mbuf *m, const struct dp_walk *w, uint16_t mss_max)
{
	if (rte_pktmbuf_data_len(m) < DP_ETH_LEN + DP_IP6_LEN)
		return DP_MSS_MALFORMED;
	return dp_mss_clamp_ip(dp_ip6(m), rte_pktmbuf_data_len(m) - DP_ETH_LEN, w, mss_max);
}

#endif
