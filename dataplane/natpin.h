/*
 * Return paths of NATv6 connections a peer opened.
 *
 * NATv6 picks a packet's ISP from (host, peer) by the weights (natv6.h), so
 * a connection the host opens always leaves and comes back by one ISP.  A
 * peer that opens a connection itself chooses the PA address, and so the
 * ISP: when that is not the pick, the replies must still come from that
 * address (the peer's socket is bound to it) and leave through that ISP
 * (which filters sources on ingress).  So a packet in through a PA address
 * other than the pick notes its flow (host, peer, protocol, ports) with that
 * ISP here, a packet in through the pick's address ends its flow's note,
 * and a packet out takes its flow's ISP when it has one.  Every reply of
 * such a connection follows a packet in, so the note is always as new as
 * the flow's latest packet in.
 *
 * A lossy set-associative cache shared by the lcores: buckets of 8 words in
 * one cache line, a word written with one relaxed atomic store.  Two lcores
 * racing for one way lose one note, which the flow's next packet in writes
 * again.  A full bucket replaces its oldest word (natv6_flows_evicted), whose
 * flow is noted again by its next packet in.
 *
 * Nearly every NATv6 packet belongs to a flow with no note (the host opened
 * it, or the peer came through the pick's address), and reading its bucket
 * was a cache miss a packet (about 15 cycles of 72 in, at 65,536 notes).  So
 * a bit per bucket says whether it may hold one: set by a note, cleared when
 * a bucket's last note goes.  The bitmap is 1/512 of the table and stays
 * cached.  A clear racing with another lcore's note can leave a note
 * unflagged; the flow's next packet in, finding it, flags it again.
 */
#ifndef PSHIM6_DP_NATPIN_H
#define PSHIM6_DP_NATPIN_H

#include <stdbool.h>
#include <stdint.h>

#include "natv6.h"

#define DP_NATPIN_WAYS 8
#define DP_NATPIN_REFRESH_S 1   /* a note's age is refreshed at most this often: one store a second a flow */

/* word: check (63..32) | seconds seen (31..8, wrapping) | ISP + 1 (7..0); 0 is empty */
struct dp_natpin {
	uint64_t *w;        /* dp_natpin_words of them, 64-octet aligned */
	uint64_t *used;     /* a bit per bucket: it may hold a note; dp_natpin_used_words of them */
	uint32_t mask;      /* buckets - 1 */
};

/* The table's words (its capacity in notes) and the bitmap's, for `mask`. */
static inline size_t dp_natpin_words(uint32_t mask) { return ((size_t)mask + 1) * DP_NATPIN_WAYS; }
static inline size_t dp_natpin_used_words(uint32_t mask) { return ((size_t)mask + 64) / 64; }

/* Buckets for `flows` notes: a power of two, at least one. */
static inline uint32_t dp_natpin_buckets(uint32_t flows)
{
	uint32_t b = 1;
	while (b < flows / DP_NATPIN_WAYS && b < (UINT32_C(1) << 31))
		b <<= 1;
	return b;
}

/*
 * The flow of a NATv6 packet, seen from the site: its (host, peer) pair by
 * the pair's hash (dp_pair_hash of the host's CMULA and the peer), the
 * protocol and the host's and the peer's port (ICMPv6 echo: the
 * identifier, for both).  `host_is_src`: the packet goes out.  false when
 * it has no flow to note or look up: a fragment (a later one carries no
 * ports, and all of one packet must leave by one ISP), or ports cut short.
 */
static inline bool dp_natpin_key(const uint8_t *ip, uint32_t len, const struct dp_walk *w, bool host_is_src,
				 uint64_t pair, uint64_t *key)
{
	uint32_t ports = 0;
	if (w->frag)
		return false;
	switch (w->nh) {
	case DP_PROTO_TCP:
	case DP_PROTO_UDP:
	case 33:   /* DCCP */
	case 132:  /* SCTP */
	case 136:  /* UDP-Lite */
		if ((uint32_t)w->off + 4 > len)
			return false;
		{
			uint16_t s = dp_get16(ip + w->off), d = dp_get16(ip + w->off + 2);
			ports = host_is_src ? (uint32_t)s << 16 | d : (uint32_t)d << 16 | s;
		}
		break;
	case DP_PROTO_ICMP6:
		/* a peer's echo request and the host's reply share the identifier */
		if ((uint32_t)w->off + 6 > len || (ip[w->off] != 128 && ip[w->off] != 129))
			return false;
		ports = (uint32_t)dp_get16(ip + w->off + 4) * 0x10001u;
		break;
	default:
		break;
	}
	/* the pair's hash is mixed already: the ports, spread by an odd
	 * multiplier, only have to move the bucket (low bits) and the check */
	*key = pair ^ ((uint64_t)w->nh << 32 | ports) * UINT64_C(0x9e3779b97f4a7c15);
	return true;
}

static inline uint64_t *dp_natpin_bucket(const struct dp_natpin *p, uint64_t key)
{
	return p->w + (size_t)((uint32_t)key & p->mask) * DP_NATPIN_WAYS;
}

static inline uint32_t dp_natpin_check(uint64_t key) { return (uint32_t)(key >> 32); }

static inline bool dp_natpin_flagged(const struct dp_natpin *p, uint64_t key)
{
	uint32_t b = (uint32_t)key & p->mask;
	return __atomic_load_n(&p->used[b / 64], __ATOMIC_RELAXED) >> (b % 64) & 1;
}

static inline void dp_natpin_flag(struct dp_natpin *p, uint64_t key, bool on)
{
	uint32_t b = (uint32_t)key & p->mask;
	uint64_t bit = UINT64_C(1) << (b % 64);
	if (on)
		__atomic_fetch_or(&p->used[b / 64], bit, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&p->used[b / 64], ~bit, __ATOMIC_RELAXED);
}

/* A note just removed from `key`'s bucket: if it was the last, the bucket's
 * flag goes, so that its flows skip reading it again. */
static inline void dp_natpin_unflag_if_empty(struct dp_natpin *p, uint64_t key)
{
	const uint64_t *b = dp_natpin_bucket(p, key);
	for (unsigned i = 0; i < DP_NATPIN_WAYS; i++)
		if (__atomic_load_n(&b[i], __ATOMIC_RELAXED))
			return;
	dp_natpin_flag(p, key, false);
}

/*
 * How long a note outlives its flow's last packet, by the flow's protocol:
 * what RFC 5382 asks of a NAT for an established TCP connection (2 h 4 min,
 * taken for the other protocols with connections too), RFC 4787 for UDP
 * (5 min) and RFC 5508 for an ICMP query (60 s).  A note that outlived it
 * would send a later flow with the same ports (an NTP client's 123 to 123,
 * say) by the ISP of one long gone, for as long as the note survived.
 */
#define DP_NATPIN_IDLE_TCP_S  7440
#define DP_NATPIN_IDLE_UDP_S  300
#define DP_NATPIN_IDLE_ICMP_S 60

static inline uint32_t dp_natpin_idle_s(uint8_t nh)
{
	switch (nh) {
	case DP_PROTO_TCP:
	case 33:    /* DCCP */
	case 132:   /* SCTP */
		return DP_NATPIN_IDLE_TCP_S;
	case DP_PROTO_ICMP6:
		return DP_NATPIN_IDLE_ICMP_S;
	default:
		return DP_NATPIN_IDLE_UDP_S;
	}
}

#define DP_NATPIN_EXPIRED (-2)

/*
 * The ISP noted for the flow `key`, or -1; a note naming an ISP this site no
 * longer has (after a reload) is none, and so is every flow without a table
 * (a program that made none).  `sec`: dp_natpin_note's clock.  A note last
 * seen more than `idle_s` ago is removed and DP_NATPIN_EXPIRED returned;
 * one found restarts its age (a second at a time), so a flow whose packets
 * all go out, as one moved off a failed ISP may, keeps its note while it
 * lasts.  Ages are taken modulo 2^24 s (194 days).
 */
static inline int dp_natpin_get(struct dp_natpin *p, uint64_t key, unsigned n_isp, uint32_t sec, uint32_t idle_s)
{
	if (!p->w || !dp_natpin_flagged(p, key))
		return -1;
	uint64_t *b = dp_natpin_bucket(p, key);
	uint32_t s24 = sec & 0xffffff;
	for (unsigned i = 0; i < DP_NATPIN_WAYS; i++) {
		uint64_t v = __atomic_load_n(&b[i], __ATOMIC_RELAXED);
		if (v && (uint32_t)(v >> 32) == dp_natpin_check(key)) {
			uint32_t age = (s24 - (uint32_t)(v >> 8)) & 0xffffff;
			unsigned isp = (unsigned)(v & 0xff) - 1;
			if (age > idle_s) {
				/* only the word seen: another lcore may have just refreshed it */
				if (__atomic_compare_exchange_n(&b[i], &v, 0, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
					dp_natpin_unflag_if_empty(p, key);
				return DP_NATPIN_EXPIRED;
			}
			if (isp >= n_isp)
				return -1;
			if (age >= DP_NATPIN_REFRESH_S)
				__atomic_store_n(&b[i], (v & ~UINT64_C(0xffffff00)) | (uint64_t)s24 << 8, __ATOMIC_RELAXED);
			return (int)isp;
		}
	}
	return -1;
}

enum dp_natpin_rc {
	DP_NATPIN_KEPT = 0,    /* already noted, or nothing to do */
	DP_NATPIN_NOTED,       /* a new note in a free way */
	DP_NATPIN_EVICTED,     /* a new note in the oldest way */
	DP_NATPIN_CLEARED,     /* the flow's note removed */
};

/*
 * A packet of flow `key` came in through ISP `isp`'s PA address; `picked`:
 * that ISP is the one the weights pick for the pair, which needs no note
 * (and a note left from an earlier flow with these ports must go).  `sec`:
 * a clock in seconds, for the age of the ways.
 */
static inline enum dp_natpin_rc dp_natpin_note(struct dp_natpin *p, uint64_t key, unsigned isp, bool picked,
					       uint32_t sec)
{
	if (!p->w)
		return DP_NATPIN_KEPT;
	bool flagged = dp_natpin_flagged(p, key);
	if (picked && !flagged)
		return DP_NATPIN_KEPT;
	uint64_t *b = dp_natpin_bucket(p, key);
	uint32_t chk = dp_natpin_check(key), s24 = sec & 0xffffff;
	uint64_t want = (uint64_t)chk << 32 | (uint64_t)s24 << 8 | (isp + 1);
	unsigned free_way = DP_NATPIN_WAYS, old_way = 0, held = 0, i;
	uint32_t old_age = 0, age = 0;
	uint64_t v = 0;
	for (i = 0; i < DP_NATPIN_WAYS; i++) {
		v = __atomic_load_n(&b[i], __ATOMIC_RELAXED);
		if (!v) {
			if (free_way == DP_NATPIN_WAYS)
				free_way = i;
			continue;
		}
		held++;
		age = (s24 - (uint32_t)(v >> 8)) & 0xffffff;
		if ((uint32_t)(v >> 32) == chk)
			break;
		if (age >= old_age) {
			old_age = age;
			old_way = i;
		}
	}
	if (i < DP_NATPIN_WAYS && picked) {
		__atomic_store_n(&b[i], 0, __ATOMIC_RELAXED);
		dp_natpin_unflag_if_empty(p, key);
		return DP_NATPIN_CLEARED;
	}
	if (picked) {
		if (!held)
			dp_natpin_flag(p, key, false);
		return DP_NATPIN_KEPT;
	}
	enum dp_natpin_rc rc = DP_NATPIN_KEPT;
	if (i < DP_NATPIN_WAYS) {
		/* v and age are the flow's own word's */
		if ((v & 0xff) != isp + 1 || age >= DP_NATPIN_REFRESH_S)
			__atomic_store_n(&b[i], want, __ATOMIC_RELAXED);
	} else if (free_way < DP_NATPIN_WAYS) {
		__atomic_store_n(&b[free_way], want, __ATOMIC_RELAXED);
		rc = DP_NATPIN_NOTED;
	} else {
		__atomic_store_n(&b[old_way], want, __ATOMIC_RELAXED);
		rc = DP_NATPIN_EVICTED;
	}
	if (!flagged)
		dp_natpin_flag(p, key, true);
	return rc;
}

#endif
