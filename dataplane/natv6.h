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

/*
 * Pick the egress ISP for (host, peer) by the configured weights.  The hash
 * covers both addresses, so one host spreads its peers over the ISPs while
 * every packet of a pair always takes the same ISP.
 */
static inline int dp_isp_pick(const struct dp_site *s, const uint8_t *src, const uint8_t *dst)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	uint32_t r;

	if (s->weight_total == 0)
		return s->n_isp ? 0 : -1;
	for (int i = 0; i < 16; i++) {
		h = (h ^ src[i]) * UINT64_C(0x100000001b3);
		h = (h ^ dst[i]) * UINT64_C(0x100000001b3);
	}
	/* FNV-1a leaves the high bits nearly blind to the last octets, where
	 * hosts and peers differ: mix (murmur3 finalizer) before reducing */
	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	r = (uint32_t)((h >> 32) % s->weight_total);
	for (unsigned i = 0; i < s->n_isp; i++) {
		if (r < s->isp[i].weight)
			return (int)i;
		r -= s->isp[i].weight;
	}
	return 0;
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
