/*
 * Stateless NATv6 for peers without Shim6: a site host's CMULA and its PA
 * address under ISP i share everything after the prefix (CGA sites), so the
 * translation is a prefix swap; HBA sites give the mapped address from the
 * host table.  The upper-layer checksum is kept right with an RFC 1624
 * incremental update (a checksum-neutral RFC 6296 mapping would have to alter
 * the subnet or identifier bits, and those must stay equal to the CMULA's).
 */
#ifndef PSHIM6_DP_NATV6_H
#define PSHIM6_DP_NATV6_H

#include "pkt.h"
#include "site.h"

/* The murmur3 finalizer: every input bit reaches every output bit. */
static inline uint64_t dp_mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64_C(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return h;
}

/*
 * The hash of a (host, peer) pair, which picks its ISP and keys its flows'
 * return paths (natpin.h).  A multiply per word, the four independent, and
 * one mix: an octet-wise hash chained 64 multiplies, a few hundred cycles a
 * NATv6 packet.
 */
static inline uint64_t dp_pair_hash(const uint8_t *host, const uint8_t *peer)
{
	return dp_mix64(dp_raw64(host) * UINT64_C(0x9e3779b97f4a7c15) ^ dp_raw64(host + 8) * UINT64_C(0xc2b2ae3d27d4eb4f) ^
			dp_raw64(peer) * UINT64_C(0x165667b19e3779f9) ^ dp_raw64(peer + 8) * UINT64_C(0x27d4eb2f165667c5));
}

/*
 * Pick the egress ISP for a pair by the configured weights from its hash
 * (dp_pair_hash), so one host spreads its peers over the ISPs while every
 * packet of a pair always takes the same ISP.
 */
static inline int dp_isp_pick_hash(const struct dp_site *s, uint64_t h)
{
	uint32_t r;

	if (s->weight_total == 0)
		return s->n_isp ? 0 : -1;
	/* the high word scaled into [0, total): a multiply, not a divide */
	r = (uint32_t)(((h >> 32) * s->weight_total) >> 32);
	for (unsigned i = 0; i < s->n_isp; i++) {
		if (r < s->isp[i].weight)
			return (int)i;
		r -= s->isp[i].weight;
	}
	return 0;
}

/*
 * The pair's ISP when the ISPs in `down` (bit i: ISP i, probe.h) have
 * failed.  A pair whose pick works keeps it, so a failure moves only the
 * pairs of the failed ISP; those spread over the working ones by weight,
 * drawn from the hash's low word, which the first pick did not use.  With
 * no working ISP of any weight left the first working one takes them, and
 * with none working at all the pick stands: sending by it costs no more
 * than dropping.
 */
static inline int dp_isp_repick(const struct dp_site *s, uint64_t h, uint32_t down, int pick)
{
	uint32_t total = 0, r;
	int first = -1;

	for (unsigned i = 0; i < s->n_isp; i++)
		if (!(down >> i & 1)) {
			total += s->isp[i].weight;
			if (first < 0)
				first = (int)i;
		}
	if (first < 0)
		return pick;
	r = (uint32_t)(((h & UINT32_MAX) * total) >> 32);
	for (unsigned i = 0; i < s->n_isp; i++) {
		if (down >> i & 1)
			continue;
		if (r < s->isp[i].weight)
			return (int)i;
		r -= s->isp[i].weight;
	}
	return first;
}

static inline int dp_isp_pick_live(const struct dp_site *s, uint64_t h, uint32_t down)
{
	int pick = dp_isp_pick_hash(s, h);
	if (pick < 0 || !(down >> pick & 1))
		return pick;
	return dp_isp_repick(s, h, down, pick);
}

static inline int dp_isp_pick(const struct dp_site *s, const uint8_t *src, const uint8_t *dst)
{
	return dp_isp_pick_hash(s, dp_pair_hash(src, dst));
}

/* CGA own-site mapping, CMULA -> PA address under ISP i. */
static inline void dp_map_out(const struct dp_site *s, unsigned isp, const uint8_t *cmula, uint8_t out[16])
{
	dp_prefix_swap(&s->isp[isp].pa, cmula, out);
}

/* CGA own-site mapping, PA address -> CMULA (first CMULA prefix). */
static inline void dp_map_in(const struct dp_site *s, const uint8_t *pa, uint8_t out[16])
{
	dp_prefix_swap(&s->cmula[0], pa, out);
}

/* NATv6 out: source becomes `pa`; checksum adjusted. */
static inline void dp_nat_out(struct rte_mbuf *m, const struct dp_walk *w, const uint8_t pa[16])
{
	uint8_t *ip = dp_ip6(m);
	dp_addr_rewrite(ip, rte_pktmbuf_data_len(m) - DP_ETH_LEN, w, DP_IP6_SRC, pa);
}

/* NATv6 in: destination becomes `cmula`; checksum adjusted. */
static inline void dp_nat_in(struct rte_mbuf *m, const struct dp_walk *w, const uint8_t cmula[16])
{
	uint8_t *ip = dp_ip6(m);
	dp_addr_rewrite(ip, rte_pktmbuf_data_len(m) - DP_ETH_LEN, w, DP_IP6_DST, cmula);
}

#endif
