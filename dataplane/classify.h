/*
 * Classification: one pass over the headers of a frame, deciding which node
 * handles it.  No table lookups here: the lcore loop gathers the keys of a
 * whole burst and looks them up in bulk afterwards.
 */
#ifndef PSHIM6_DP_CLASSIFY_H
#define PSHIM6_DP_CLASSIFY_H

#include "pkt.h"
#include "site.h"

enum dp_verdict {
	DP_V_DROP = 0,        /* reason in dp_cls.drop */
	DP_V_EXCEPTION,       /* to the kernel (TAP) for the appliance's own services */
	DP_V_EG_SHIM,         /* inside -> remote CMULA: look up (src, dst) context */
	DP_V_EG_NAT,          /* inside -> non-CMULA peer: NATv6 out */
	DP_V_EG_PA,           /* inside, source already a PA address: forward to its ISP */
	DP_V_IN_SHIM,         /* ISP -> payload header: look up own tag */
	DP_V_IN_SHIM_CTL,     /* ISP -> Shim6 control message: punt */
	DP_V_IN_NAT,          /* ISP -> PA host address: NATv6 in */
	DP_V_IN_ICMP_ERR,     /* ISP -> ICMPv6 error to a PA host address: translate */
};

enum dp_drop {
	DP_DROP_NONE = 0,
	DP_DROP_MALFORMED,    /* truncated, bad version, lying payload length */
	DP_DROP_CHAIN,        /* header chain too long or HBH out of place */
	DP_DROP_NO_ROUTE,     /* nothing of ours */
	DP_DROP_MTU,
	DP_DROP_TX,
	DP_DROP_NO_CTX,       /* ICMP error for an unknown context, HBA miss */
	DP_DROP_SHIM_AFTER_FRAG, /* payload header after a Fragment header */
	DP_DROP__MAX
};

struct dp_cls {
	uint8_t  verdict;
	uint8_t  drop;
	int8_t   isp;         /* ISP index of the PA prefix matched (EG_PA, IN_NAT, IN_ICMP_ERR) */
	struct dp_walk w;
	uint64_t tag;         /* IN_SHIM: own tag from the payload header */
};

/*
 * Common checks: single segment, Ethernet + IPv6, payload length consistent.
 * Trailing Ethernet padding is trimmed so rewrites see the exact packet.
 * Returns the IPv6 header or NULL with c->verdict set.
 */
static inline uint8_t *dp_cls_ip6(struct rte_mbuf *m, struct dp_cls *c)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m), plen;

	c->verdict = DP_V_DROP;
	c->drop = DP_DROP_MALFORMED;
	c->isp = -1;
	if (m->nb_segs != 1 || len < DP_ETH_LEN)
		return NULL;
	if (dp_get16(p + 12) != RTE_ETHER_TYPE_IPV6) {
		c->verdict = DP_V_EXCEPTION; /* ARP/LLDP/VLAN...: the kernel decides */
		return NULL;
	}
	if (len < DP_ETH_LEN + DP_IP6_LEN || (p[DP_ETH_LEN] >> 4) != 6)
		return NULL;
	plen = dp_get16(p + DP_ETH_LEN + DP_IP6_PLEN);
	if (plen == 0 || DP_ETH_LEN + DP_IP6_LEN + plen > len)
		return NULL; /* jumbograms are not handled; a longer claim than data is a lie */
	if (DP_ETH_LEN + DP_IP6_LEN + plen < len)
		rte_pktmbuf_trim(m, (uint16_t)(len - (DP_ETH_LEN + DP_IP6_LEN + plen)));
	return p + DP_ETH_LEN;
}

/* Frame received on the inside port. */
static inline void dp_classify_inside(const struct dp_site *s, struct rte_mbuf *m, struct dp_cls *c)
{
	uint8_t *ip = dp_cls_ip6(m, c);
	uint32_t len;
	int rc;

	if (!ip)
		return;
	len = rte_pktmbuf_data_len(m) - DP_ETH_LEN;
	if (dp_addr_is_mc(ip + DP_IP6_DST) || dp_addr_is_ll(ip + DP_IP6_DST) ||
	    dp_addr_eq(ip + DP_IP6_DST, s->inside_addr) || dp_addr_is_ll(ip + DP_IP6_SRC)) {
		c->verdict = DP_V_EXCEPTION;
		return;
	}
	rc = dp_walk6(ip, len, &c->w);
	if (rc < 0) {
		c->drop = rc == DP_WALK_CHAIN ? DP_DROP_CHAIN : DP_DROP_MALFORMED;
		return;
	}
	if (dp_site_cmula_index(s, ip + DP_IP6_SRC) < 0) {
		c->isp = (int8_t)dp_site_isp_of(s, ip + DP_IP6_SRC);
		if (c->isp >= 0 && dp_site_cmula_index(s, ip + DP_IP6_DST) < 0) {
			c->verdict = DP_V_EG_PA;
			return;
		}
		c->drop = DP_DROP_NO_ROUTE;
		return;
	}
	if (dp_site_cmula_index(s, ip + DP_IP6_DST) >= 0) {
		c->drop = DP_DROP_NO_ROUTE; /* inside to inside never crosses the proxy */
		return;
	}
	if (c->w.nh == DP_PROTO_SHIM6) {
		c->drop = DP_DROP_MALFORMED; /* a legacy host does not speak Shim6 */
		return;
	}
	c->verdict = dp_prefix_match(&s->cmula_space, ip + DP_IP6_DST) ? DP_V_EG_SHIM : DP_V_EG_NAT;
	c->drop = DP_DROP_NONE;
}

static inline bool dp_is_own_isp_addr(const struct dp_site *s, const uint8_t *a)
{
	for (unsigned i = 0; i < s->n_isp; i++)
		if (dp_addr_eq(s->isp[i].addr, a))
			return true;
	return false;
}

/* Frame received on an ISP port. */
static inline void dp_classify_isp(const struct dp_site *s, struct rte_mbuf *m, struct dp_cls *c)
{
	uint8_t *ip = dp_cls_ip6(m, c);
	uint32_t len;
	int rc;

	if (!ip)
		return;
	len = rte_pktmbuf_data_len(m) - DP_ETH_LEN;
	if (dp_addr_is_mc(ip + DP_IP6_DST) || dp_addr_is_ll(ip + DP_IP6_DST) ||
	    dp_is_own_isp_addr(s, ip + DP_IP6_DST)) {
		c->verdict = DP_V_EXCEPTION;
		return;
	}
	rc = dp_walk6(ip, len, &c->w);
	if (rc < 0) {
		c->drop = rc == DP_WALK_CHAIN ? DP_DROP_CHAIN : DP_DROP_MALFORMED;
		return;
	}
	c->isp = (int8_t)dp_site_isp_of(s, ip + DP_IP6_DST);
	if (c->w.nh == DP_PROTO_SHIM6 && c->w.frag != 2) {
		const uint8_t *sh = ip + c->w.off;
		if ((uint32_t)c->w.off + DP_SHIM6_LEN > len) {
			c->drop = DP_DROP_MALFORMED;
			return;
		}
		if (!(sh[2] & 0x80)) {
			c->verdict = DP_V_IN_SHIM_CTL;
			c->drop = DP_DROP_NONE;
			return;
		}
		if (sh[1] != 0) {
			c->drop = DP_DROP_MALFORMED; /* payload header is exactly 8 octets */
			return;
		}
		if (c->w.frag) {
			/* RFC 5533 puts the shim below the endpoint sublayer that
			 * fragments, so a sender puts the payload header before any
			 * Fragment header and every fragment carries it.  After one,
			 * only the first fragment would: the others cannot be told
			 * from NATv6 traffic, and nothing could restore the datagram. */
			c->drop = DP_DROP_SHIM_AFTER_FRAG;
			return;
		}
		c->tag = ((uint64_t)(sh[2] & 0x7f) << 40) | ((uint64_t)sh[3] << 32) |
			 ((uint64_t)sh[4] << 24) | ((uint64_t)sh[5] << 16) | ((uint64_t)sh[6] << 8) | sh[7];
		c->verdict = DP_V_IN_SHIM;
		c->drop = DP_DROP_NONE;
		return;
	}
	if (c->isp < 0) {
		c->drop = DP_DROP_NO_ROUTE;
		return;
	}
	c->drop = DP_DROP_NONE;
	if (c->w.nh == DP_PROTO_ICMP6 && c->w.frag == 0 && c->w.off + 8u + DP_IP6_LEN <= len &&
	    ip[c->w.off] < 128) {
		c->verdict = DP_V_IN_ICMP_ERR;
		return;
	}
	c->verdict = DP_V_IN_NAT;
}

#endif
