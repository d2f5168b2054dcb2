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
};

static __rte_always_inline uint64_t dp_raw64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

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
	f->isp_ok = s->n_isp > 0;
	f->n_isp = s->n_isp;
	for (unsigned i = 0; i < s->n_isp; i++) {
		f->isp_ok &= s->isp[i].pa.len > 0 && s->isp[i].pa.len <= 64;
		f->pa_mask[i] = dp_fast_mask(s->isp[i].pa.len);
		f->pa_val[i] = dp_raw64(s->isp[i].pa.addr) & f->pa_mask[i];
		f->own_hi[i] = dp_raw64(s->isp[i].addr);
		f->own_lo[i] = dp_raw64(s->isp[i].addr + 8);
	}
#if RTE_BYTE_ORDER != RTE_LITTLE_ENDIAN
	/* the EtherType/version word and the multicast/link-local tests below
	 * are written for little-endian words: elsewhere the general
	 * classifiers take every packet */
	f->in_ok = f->isp_ok = false;
#endif
}

/* Ethernet + IPv6 with nothing to trim, single segment; the IPv6 header or NULL. */
static __rte_always_inline uint8_t *dp_fast_ip6(struct rte_mbuf *m)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);

	if (unlikely(m->nb_segs != 1 || len <= DP_ETH_LEN + DP_IP6_LEN))
		return NULL;
	/* EtherType 86dd and version 6, one compare on the raw octets 12..14 */
	uint32_t et;
	memcpy(&et, p + 12, 4);
	if (unlikely((et & UINT32_C(0xf0ffff)) != UINT32_C(0x60dd86)))
		return NULL;
	if (unlikely((uint32_t)dp_get16(p + DP_ETH_LEN + DP_IP6_PLEN) + DP_ETH_LEN + DP_IP6_LEN != len))
		return NULL;
	return p + DP_ETH_LEN;
}

static __rte_always_inline void dp_fast_walk(struct dp_walk *w, uint8_t nh)
{
	w->off = DP_IP6_LEN;
	w->nh_off = DP_IP6_NH;
	w->nh = nh;
	w->frag = 0;
	w->frag_off = 0;
}

static __rte_always_inline bool dp_fast_in(uint64_t raw, uint64_t mask, uint64_t val)
{
	return (raw & mask) == val;
}

#define DP_FAST_UPPER ((UINT64_C(1) << DP_PROTO_TCP) | (UINT64_C(1) << DP_PROTO_UDP) | (UINT64_C(1) << DP_PROTO_ICMP6))

static __rte_always_inline bool dp_classify_inside_fast(const struct dp_fast *f, struct rte_mbuf *m, struct dp_cls *c)
{
	const uint8_t *ip;
	uint64_t s_hi, d_hi;
	uint8_t nh;
	bool src_ok, dst_own;

	if (!f->in_ok || !(ip = dp_fast_ip6(m)))
		return false;
	nh = ip[DP_IP6_NH];
	if (nh >= 64 || !((UINT64_C(1) << nh) & DP_FAST_UPPER))
		return false;
	s_hi = dp_raw64(ip + DP_IP6_SRC);
	d_hi = dp_raw64(ip + DP_IP6_DST);
	if (dp_fast_special(d_hi))
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
	c->verdict = dp_fast_in(d_hi, f->sp_mask, f->sp_val) ? DP_V_EG_SHIM : DP_V_EG_NAT;
	c->drop = DP_DROP_NONE;
	c->isp = -1;
	dp_fast_walk(&c->w, nh);
	return true;
}

static __rte_always_inline bool dp_classify_isp_fast(const struct dp_fast *f, struct rte_mbuf *m, struct dp_cls *c)
{
	const uint8_t *ip, *sh;
	uint64_t d_hi, d_lo;
	int isp = -1;

	if (!f->isp_ok || !(ip = dp_fast_ip6(m)))
		return false;
	if (ip[DP_IP6_NH] != DP_PROTO_SHIM6 || rte_pktmbuf_data_len(m) < DP_ETH_LEN + DP_IP6_LEN + DP_SHIM6_LEN)
		return false;
	sh = ip + DP_IP6_LEN;
	if (!(sh[2] & 0x80) || sh[1] != 0)
		return false;
	d_hi = dp_raw64(ip + DP_IP6_DST);
	d_lo = dp_raw64(ip + DP_IP6_DST + 8);
	if (dp_fast_special(d_hi))
		return false;
	for (unsigned i = 0; i < f->n_isp; i++) {
		if (d_hi == f->own_hi[i] && d_lo == f->own_lo[i])
			return false;
		if (isp < 0 && dp_fast_in(d_hi, f->pa_mask[i], f->pa_val[i]))
			isp = (int)i;
	}
	c->verdict = DP_V_IN_SHIM;
	c->drop = DP_DROP_NONE;
	c->isp = (int8_t)isp;
	dp_fast_walk(&c->w, DP_PROTO_SHIM6);
	c->tag = dp_load_be64(sh) & UINT64_C(0x7fffffffffff);
	return true;
}

#endif
