/*
 * Packet helpers shared by the fast-path nodes: IPv6 header chain walk,
 * Internet checksum (full and RFC 1624 incremental), prefix operations.
 * Everything is static inline so the nodes compile into the lcore loop and
 * unit tests call them on fabricated mbufs without an EAL.
 */
#ifndef PSHIM6_DP_PKT_H
#define PSHIM6_DP_PKT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#define DP_ETH_LEN        14
#define DP_IP6_LEN        40
#define DP_SHIM6_LEN      8      /* payload extension header */
#define DP_PROTO_HBH      0
#define DP_PROTO_TCP      6
#define DP_PROTO_UDP      17
#define DP_PROTO_ROUTING  43
#define DP_PROTO_FRAG     44
#define DP_PROTO_ESP      50
#define DP_PROTO_AH       51
#define DP_PROTO_ICMP6    58
#define DP_PROTO_NONE     59
#define DP_PROTO_DSTOPTS  60
#define DP_PROTO_SHIM6    140
#define DP_MAX_EXT_HDRS   8      /* longer chains are dropped: bounded work per packet */
#define DP_MIN_MTU        1280

/* Offsets inside the IPv6 header. */
#define DP_IP6_PLEN   4
#define DP_IP6_NH     6
#define DP_IP6_HLIM   7
#define DP_IP6_SRC    8
#define DP_IP6_DST    24

/* Result of walking an IPv6 header chain (offsets from the IPv6 header). */
struct dp_walk {
	uint16_t off;        /* offset of the header `nh` */
	uint16_t nh_off;     /* offset of the octet that holds `nh` (6 = fixed header) */
	uint8_t  nh;         /* first header that is not HBH/routing/dstopts/fragment */
	uint8_t  frag;       /* 0: not a fragment, 1: first fragment, 2: later fragment */
	uint16_t frag_off;   /* offset of the fragment header when frag != 0 */
};

enum dp_walk_rc {
	DP_WALK_OK = 0,
	DP_WALK_TRUNC = -1,  /* a header runs past the data */
	DP_WALK_CHAIN = -2,  /* more than DP_MAX_EXT_HDRS extension headers */
};

static inline uint16_t dp_get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline void dp_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/*
 * Walk from the fixed header up to the first upper-layer header, a Shim6
 * header (140) or a later fragment.  `len` is the IPv6 packet length held in
 * `ip` (already checked >= 40).  Never reads past ip[len-1].
 */
static inline int dp_walk6(const uint8_t *ip, uint32_t len, struct dp_walk *w)
{
	uint32_t off = DP_IP6_LEN, nh_off = DP_IP6_NH;
	uint8_t nh = ip[DP_IP6_NH];

	w->frag = 0;
	w->frag_off = 0;
	for (int n = 0;; n++) {
		uint32_t hl;
		if (nh != DP_PROTO_HBH && nh != DP_PROTO_ROUTING && nh != DP_PROTO_DSTOPTS &&
		    nh != DP_PROTO_FRAG)
			break;
		if (nh == DP_PROTO_HBH && n != 0)
			return DP_WALK_CHAIN; /* HBH only right after the fixed header */
		if (n >= DP_MAX_EXT_HDRS)
			return DP_WALK_CHAIN;
		if (len < off + 8)
			return DP_WALK_TRUNC;
		if (nh == DP_PROTO_FRAG) {
			hl = 8;
			w->frag_off = (uint16_t)off;
			w->frag = (dp_get16(ip + off + 2) & 0xfff8) ? 2 : 1;
		} else {
			hl = ((uint32_t)ip[off + 1] + 1) * 8;
		}
		if (len < off + hl)
			return DP_WALK_TRUNC;
		nh_off = off;
		nh = ip[off];
		off += hl;
		if (w->frag == 2)
			break; /* what follows is the middle of a datagram */
	}
	w->off = (uint16_t)off;
	w->nh_off = (uint16_t)nh_off;
	w->nh = nh;
	return DP_WALK_OK;
}

/* ---- Internet checksum ------------------------------------------------- */

static inline uint32_t dp_csum_add(uint32_t sum, const uint8_t *p, uint32_t len)
{
	while (len > 1) {
		sum += (uint32_t)(p[0] << 8 | p[1]);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static inline uint16_t dp_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Full upper-layer checksum with the IPv6 pseudo-header (result to store). */
static inline uint16_t dp_csum6(const uint8_t *src, const uint8_t *dst, uint8_t proto,
				const uint8_t *l4, uint32_t l4len)
{
	uint32_t sum = 0;
	sum = dp_csum_add(sum, src, 16);
	sum = dp_csum_add(sum, dst, 16);
	sum += l4len >> 16;
	sum += l4len & 0xffff;
	sum += proto;
	sum = dp_csum_add(sum, l4, l4len);
	return (uint16_t)~dp_csum_fold(sum);
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') for a 16-octet field change. */
static inline uint16_t dp_csum_replace16(uint16_t hc, const uint8_t old[16], const uint8_t new_[16])
{
	uint32_t sum = (uint16_t)~hc;
	for (int i = 0; i < 16; i += 2) {
		sum += (uint16_t)~(uint16_t)(old[i] << 8 | old[i + 1]);
		sum += (uint32_t)(new_[i] << 8 | new_[i + 1]);
	}
	return (uint16_t)~dp_csum_fold(sum);
}

/*
 * Offset (from the IPv6 header) of the upper-layer checksum field a change
 * of a pseudo-header address must update, or 0 when there is none in this
 * packet (later fragment, unknown protocol, header truncated).
 */
static inline uint32_t dp_l4_csum_off(const struct dp_walk *w, uint32_t len, bool *is_udp)
{
	uint32_t o;
	*is_udp = false;
	if (w->frag == 2)
		return 0;
	switch (w->nh) {
	case DP_PROTO_TCP: o = w->off + 16u; break;
	case DP_PROTO_UDP: o = w->off + 6u; *is_udp = true; break;
	case DP_PROTO_ICMP6: o = w->off + 2u; break;
	default: return 0;
	}
	return o + 2 <= len ? o : 0;
}

/* Replace a 16-octet address at ip+aoff and keep the L4 checksum right. */
static inline void dp_addr_rewrite(uint8_t *ip, uint32_t len, const struct dp_walk *w,
				   uint32_t aoff, const uint8_t new_[16])
{
	bool udp;
	uint32_t co = dp_l4_csum_off(w, len, &udp);
	if (co) {
		uint16_t hc = dp_get16(ip + co);
		if (!(udp && hc == 0)) { /* UDP zero checksum (RFC 6935 tunnels) stays zero */
			hc = dp_csum_replace16(hc, ip + aoff, new_);
			if (udp && hc == 0)
				hc = 0xffff;
			dp_put16(ip + co, hc);
		}
	}
	memcpy(ip + aoff, new_, 16);
}

/* ---- prefixes ---------------------------------------------------------- */

struct dp_prefix {
	uint8_t addr[16];
	uint8_t len;
};

/* Eight octets as they lie in memory, any alignment. */
static __rte_always_inline uint64_t dp_raw64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static __rte_always_inline uint64_t dp_load_be64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return rte_be_to_cpu_64(v);
}

/* Prefix test on two 64-bit words: no library call in the per-packet path. */
static __rte_always_inline bool dp_prefix_match(const struct dp_prefix *p, const uint8_t *a)
{
	uint64_t hi = dp_load_be64(p->addr) ^ dp_load_be64(a);
	if (p->len <= 64)
		return p->len == 0 || (hi >> (64 - p->len)) == 0;
	if (hi)
		return false;
	return ((dp_load_be64(p->addr + 8) ^ dp_load_be64(a + 8)) >> (128 - p->len)) == 0;
}

static __rte_always_inline bool dp_addr_eq(const uint8_t *a, const uint8_t *b)
{
	uint64_t a0, a1, b0, b1;
	memcpy(&a0, a, 8); memcpy(&a1, a + 8, 8);
	memcpy(&b0, b, 8); memcpy(&b1, b + 8, 8);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

/* out = first p->len bits of p, the rest from a. */
static inline void dp_prefix_swap(const struct dp_prefix *p, const uint8_t *a, uint8_t out[16])
{
	unsigned full = p->len / 8, rem = p->len % 8;
	memcpy(out, a, 16);
	memcpy(out, p->addr, full);
	if (rem) {
		uint8_t mask = (uint8_t)(0xff << (8 - rem));
		out[full] = (uint8_t)((p->addr[full] & mask) | (a[full] & ~mask));
	}
}

static inline bool dp_addr_is_mc(const uint8_t *a) { return a[0] == 0xff; }
static inline bool dp_addr_is_ll(const uint8_t *a) { return a[0] == 0xfe && (a[1] & 0xc0) == 0x80; }
static inline bool dp_addr_is_unspec(const uint8_t *a)
{
	static const uint8_t z[16];
	return dp_addr_eq(a, z);
}

static inline uint8_t *dp_ip6(struct rte_mbuf *m) { return rte_pktmbuf_mtod_offset(m, uint8_t *, DP_ETH_LEN); }

#endif
