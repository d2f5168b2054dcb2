/*
 * Classification of the two packets that make up nearly all traffic: a
 * plain TCP/UDP/ICMPv6 packet from a site CMULA (egress) and a packet with a
 * payload header right after the fixed header (ingress).  Prefixes are
 * pre-cut into 64-bit mask/value pairs once, so a packet costs a few word
 * compares instead of the general walk and per-prefix length logic.
 *
 * Contract: a fast classifier either declines (returns false, `c` untouched
 * as far as callers care) or fills `c` exactly as dp_classify_inside() /
 * dp_classify_isp() would.  The unit suite and fuzz_dp_frame check that on
 * every frame they see.
 */
#ifndef PSHIM6_DP_CLASSIFY_FAST_H
#define PSHIM6_DP_CLASSIFY_FAST_H

#include "classify.h"

struct dp_fast {
	bool     in_ok, isp_ok;            /* the fast paths apply to this site */
	unsigned n_cm, n_isp;
	/* first 64 bits of each prefix as raw words in memory order: no byte swaps per packet */
	uint64_t cm_mask[DP_MAX_CMULA_PFX], cm_val[DP_MAX_CMULA_PFX];
	uint64_t sp_mask, sp_val;          /* remote CMULA space */
	uint64_t pa_mask[DP_MAX_ISP], pa_val[DP_MAX_ISP];
	uint64_t own_hi[DP_MAX_ISP], own_lo[DP_MAX_ISP];   /* appliance's ISP-side addresses */
	uint64_t in_hi, in_lo;             /* appliance's inside address */
	/* no address in the remote CMULA space / in any PA prefix is multicast
	 * or link-local: a destination found there needs no test of its own */
	bool     sp_clean, pa_clean;
};

/* The mask of a prefix length as it lies in memory, loaded as a raw word. */
static inline uint64_t dp_fast_mask(uint8_t len)
{
	uint8_t b[8];
	for (unsigned i = 0; i < 8; i++)
		b[i] = len >= 8 * (i + 1) ? 0xff : len <= 8 * i ? 0 : (uint8_t)(0xff << (8 - (len - 8 * i)));
	return dp_raw64(b);
}

/* Multicast or fe80::/10, from the first octets in memory order. */
static __rte_always_inline bool dp_fast_special(uint64_t raw)
{
	return (raw & 0xff) == 0xff || (raw & 0xc0ff) == 0x80fe;
}

/* Whether no address under the prefix (raw word, mask) is multicast or link-local. */
static inline bool dp_fast_clean(uint64_t val, uint64_t mask)
{
	/* ff00::/8 and fe80::/10: disjoint when the bits both prefixes fix differ */
	return ((val ^ 0xff) & mask & 0xff) != 0 && ((val ^ 0x80fe) & mask & 0xc0ff) != 0;
}

/* Only prefixes of 1..64 bits fit one word; anything else keeps the general path. */
static inline void dp_fast_prep(const struct dp_site *s, struct dp_fast *f)
{
	memset(f, 0, sizeof(*f));
	f->in_ok = s->n_cmula > 0 && s->cmula_space.len > 0 && s->cmula_space.len <= 64;
	f->n_cm = s->n_cmula;
	for (unsigned i = 0; i < s->n_cmula; i++) {
		f->in_ok &= s->cmula[i].len > 0 && s->cmula[i].len <= 64;
		f->cm_mask[i] = dp_fast_mask(s->cmula[i].len);
		f->cm_val[i] = dp_raw64(s->cmula[i].addr) & f->cm_mask[i];
		/* a source inside a site prefix is then never multicast or link-local */
		f->in_ok &= !dp_fast_special(f->cm_val[i]) && s->cmula[i].len >= 10;
	}
	f->sp_mask = dp_fast_mask(s->cmula_space.len);
	f->sp_val = dp_raw64(s->cmula_space.addr) & f->sp_mask;
	f->in_hi = dp_raw64(s->inside_addr);
	f->in_lo = dp_raw64(s->inside_addr + 8);
	f->sp_clean = dp_fast_clean(f->sp_val, f->sp_mask);
	f->isp_ok = s->n_isp > 0;
	f->pa_clean = true;
	f->n_isp = s->n_isp;
	for (unsigned i = 0; i < s->n_isp; i++) {
		f->isp_ok &= s->isp[i].pa.len > 0 && s->isp[i].pa.len <= 64;
		f->pa_mask[i] = dp_fast_mask(s->isp[i].pa.len);
		f->pa_val[i] = dp_raw64(s->isp[i].pa.addr) & f->pa_mask[i];
		f->own_hi[i] = dp_raw64(s->isp[i].addr);
		f->own_lo[i] = dp_raw64(s->isp[i].addr + 8);
		f->pa_clean &= dp_fast_clean(f->pa_val[i], f->pa_mask[i]);
	}
#if RTE_BYTE_ORDER != RTE_LITTLE_ENDIAN
	/* the EtherType/version word and the multicast/link-local tests below
	 * are written for little-endian words: elsewhere the general
	 * classifiers take every packet */
	f->in_ok = f->isp_ok = false;
#endif
}

/* Ethernet + IPv6 with nothing to trim, single segment, at least `min`
 * octets (more than the two headers); the IPv6 header or NULL. */
static __rte_always_inline uint8_t *dp_fast_ip6(struct rte_mbuf *m, uint32_t min)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);

	if (unlikely(m->nb_segs != 1 || len < min))
		return NULL;
	/* EtherType 86dd and version 6, one compare on the raw octets 12..14 */
	uint32_t et;
	memcpy(&et, p + 12, 4);
	if (unlikely((et & UINT32_C(0xf0ffff)) != UINT32_C(0x60dd86)))
		return NULL;
	/* the payload length against the frame's, compared as the octets lie */
	uint16_t plen;
	memcpy(&plen, p + DP_ETH_LEN + DP_IP6_PLEN, 2);
	if (unlikely(plen != rte_cpu_to_be_16((uint16_t)(len - DP_ETH_LEN - DP_IP6_LEN))))
		return NULL;
	return p + DP_ETH_LEN;
}

/*
 * What the classifiers give a packet whose walk stops right after the fixed
 * header: the walk as a constant, then its Next Header, two stores (built
 * in a register, gcc merged it into a stack copy bit field by bit field).
 */
static __rte_always_inline void dp_fast_fill(struct dp_cls *c, uint8_t verdict, int8_t isp, uint8_t nh)
{
	static const struct dp_walk w = { .off = DP_IP6_LEN, .nh_off = DP_IP6_NH, .nh = 0, .frag = 0, .frag_off = 0 };

	c->verdict = verdict;
	c->drop = DP_DROP_NONE;
	c->isp = isp;
	memcpy(&c->w, &w, sizeof(w));
	c->w.nh = nh;
}

static __rte_always_inline bool dp_fast_in(uint64_t raw, uint64_t mask, uint64_t val)
{
	return (raw & mask) == val;
}

/* The upper layers the inside fast path takes, by Next Header: one indexed load */
static const bool dp_fast_upper[256] = { [DP_PROTO_TCP] = true, [DP_PROTO_UDP] = true, [DP_PROTO_ICMP6] = true };

/* dp_classify_inside_fast for a caller that tested f->in_ok itself (once a burst). */
static __rte_always_inline bool dp_fast_inside_frame(const struct dp_fast *f, struct rte_mbuf *m, struct dp_cls *c)
{
	const uint8_t *ip;
	uint64_t s_hi, d_hi;
	uint8_t nh;
	bool src_ok, dst_own, in_sp;

	if (!(ip = dp_fast_ip6(m, DP_ETH_LEN + DP_IP6_LEN + 1)))
		return false;
	nh = ip[DP_IP6_NH];
	if (!dp_fast_upper[nh])
		return false;
	s_hi = dp_raw64(ip + DP_IP6_SRC);
	d_hi = dp_raw64(ip + DP_IP6_DST);
	in_sp = dp_fast_in(d_hi, f->sp_mask, f->sp_val);
	if ((!in_sp || !f->sp_clean) && dp_fast_special(d_hi))
		return false;
	if (d_hi == f->in_hi && dp_raw64(ip + DP_IP6_DST + 8) == f->in_lo)
		return false;
	src_ok = dp_fast_in(s_hi, f->cm_mask[0], f->cm_val[0]);
	dst_own = dp_fast_in(d_hi, f->cm_mask[0], f->cm_val[0]);
	for (unsigned i = 1; i < f->n_cm; i++) {
		src_ok |= dp_fast_in(s_hi, f->cm_mask[i], f->cm_val[i]);
		dst_own |= dp_fast_in(d_hi, f->cm_mask[i], f->cm_val[i]);
	}
	if (!src_ok || dst_own)
		return false;
	dp_fast_fill(c, in_sp ? DP_V_EG_SHIM : DP_V_EG_NAT, -1, nh);
	return true;
}

static __rte_always_inline bool dp_classify_inside_fast(const struct dp_fast *f, struct rte_mbuf *m, struct dp_cls *c)
{
	return f->in_ok && dp_fast_inside_frame(f, m, c);
}

/* dp_classify_isp_fast for a caller that tested f->isp_ok itself (once a burst). */
static __rte_always_inline bool dp_fast_isp_frame(const struct dp_fast *f, struct rte_mbuf *m, struct dp_cls *c)
{
	const uint8_t *ip;
	uint64_t d_hi, d_lo, sh;
	int isp;
	unsigned i;

	/* the payload header whole in the frame, or not this path */
	if (!(ip = dp_fast_ip6(m, DP_ETH_LEN + DP_IP6_LEN + DP_SHIM6_LEN)) || ip[DP_IP6_NH] != DP_PROTO_SHIM6)
		return false;
	/* the payload header as one word: Hdr Ext Len 0 and P set in one test, then the tag */
	sh = dp_load_be64(ip + DP_IP6_LEN);
	if ((sh & UINT64_C(0x00ff800000000000)) != UINT64_C(0x0000800000000000))
		return false;
	d_hi = dp_raw64(ip + DP_IP6_DST);
	d_lo = dp_raw64(ip + DP_IP6_DST + 8);
	/* ISP 0 apart: the loop then runs only with several ISPs */
	if (d_hi == f->own_hi[0] && d_lo == f->own_lo[0])
		return false;
	isp = dp_fast_in(d_hi, f->pa_mask[0], f->pa_val[0]) ? 0 : -1;
	for (i = 1; i < f->n_isp; i++) {
		if (d_hi == f->own_hi[i] && d_lo == f->own_lo[i])
			return false;
		if (isp < 0 && dp_fast_in(d_hi, f->pa_mask[i], f->pa_val[i]))
			isp = (int)i;
	}
	if ((isp < 0 || !f->pa_clean) && dp_fast_special(d_hi))
		return false;
	dp_fast_fill(c, DP_V_IN_SHIM, (int8_t)isp, DP_PROTO_SHIM6);
	c->tag = sh & UINT64_C(0x7fffffffffff);
	return true;
}

static __rte_always_inline bool dp_classify_isp_fast(const struct dp_fast *f, struct rte_mbuf *m, struct dp_cls *c)
{
	return f->isp_ok && dp_fast_isp_frame(f, m, c);
}

#endif
