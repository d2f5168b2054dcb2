/*
 * Whether an ISP works, for NATv6 (isps.probe, dataplane.probe_*).
 *
 * NATv6 keeps no per-connection state for the pairs it translates, and REAP
 * watches only Shim6 contexts, so nothing else notices when an ISP stops
 * carrying traffic: every pair the weights put on it would stay dark until
 * an operator set its weight to 0.  A border box is expected to notice by
 * itself, the way routers track a gateway: an echo request to a target
 * beyond the ISP every interval, from the appliance's address on the ISP
 * link, out of that ISP's port.  Any router on the way may fail, so the
 * target is the operator's choice, not the next hop alone.  A target may
 * fail too while its ISP works, so there may be several (DP_PROBE_TARGETS):
 * a probe is then a round of one request to each, all with one sequence
 * number, and any answer answers the round.
 *
 * Sans-I/O, like nud.h: the channel thread calls dp_probe_step() often,
 * with `now` and the newest answer the lcores saw; the step says whether to
 * send a probe and with which sequence number.  A probe is answered when
 * an answer arrives before the next one is due (the interval is the
 * timeout), else lost.
 *
 *   UP    the ISP works: also the start, so an ISP is never failed before
 *         its probes have had a chance
 *   DOWN  `down_after` probes in a row lost; back UP after `up_after` in a
 *         row answered
 */
#ifndef PSHIM6_DP_PROBE_H
#define PSHIM6_DP_PROBE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "icmp6.h"
#include "pkt.h"

#define DP_PROBE_SEEN       0x10000u   /* dp_port.probe_seen: an answer is recorded */
#define DP_PROBE_FRAME_LEN  (DP_ETH_LEN + DP_IP6_LEN + 16)   /* echo header and 8 octets */
#define DP_ICMP6_ECHO_REQ   128
#define DP_ICMP6_ECHO_REP   129
#define DP_PROBE_DATA       "pshim6p"  /* a request's 8 data octets, NUL included: its answer returns them */

enum dp_probe_state { DP_PROBE_UP, DP_PROBE_DOWN, DP_PROBE__N };
enum dp_probe_event { DP_PROBE_EV_ANSWERED, DP_PROBE_EV_LOST, DP_PROBE__EV_N };

struct dp_probe {
	uint8_t  state;          /* enum dp_probe_state */
	bool     in_flight;      /* a probe is out and not judged yet */
	uint16_t seq;            /* the probe in flight's sequence number */
	uint32_t run;            /* events in a row that point away from `state` */
	uint64_t due_ms;         /* the probe in flight is judged, and the next sent */
	uint64_t sent, answered, downs;
};

struct dp_probe_cfg {
	uint32_t interval_ms, down_after, up_after;
};

/*
 * Every (state, event) pair: an event that agrees with the state clears the
 * run; one against it adds to the run, and the state flips when the run
 * reaches the threshold of the row's kind (`to` is then the new state).
 */
struct dp_probe_row {
	uint8_t state, event, against, to;
};

static const struct dp_probe_row dp_probe_rows[] = {
	{ DP_PROBE_UP,   DP_PROBE_EV_ANSWERED, 0, DP_PROBE_UP },
	{ DP_PROBE_UP,   DP_PROBE_EV_LOST,     1, DP_PROBE_DOWN },
	{ DP_PROBE_DOWN, DP_PROBE_EV_LOST,     0, DP_PROBE_DOWN },
	{ DP_PROBE_DOWN, DP_PROBE_EV_ANSWERED, 1, DP_PROBE_UP },
};

static inline const char *dp_probe_name(unsigned s)
{
	static const char *const n[DP_PROBE__N] = { "up", "down" };
	return s < DP_PROBE__N ? n[s] : "?";
}

static inline void dp_probe_event(struct dp_probe *p, unsigned ev, const struct dp_probe_cfg *c)
{
	for (unsigned i = 0; i < sizeof(dp_probe_rows) / sizeof(dp_probe_rows[0]); i++) {
		const struct dp_probe_row *r = &dp_probe_rows[i];
		if (r->state != p->state || r->event != ev)
			continue;
		if (!r->against) {
			p->run = 0;
			return;
		}
		if (++p->run >= (r->to == DP_PROBE_DOWN ? c->down_after : c->up_after)) {
			p->state = r->to;
			p->run = 0;
			if (r->to == DP_PROBE_DOWN)
				p->downs++;
		}
		return;
	}
}

/*
 * One step.  `seen` is dp_port.probe_seen: DP_PROBE_SEEN | the sequence
 * number of the newest answer, or 0.  Returns true when a probe with
 * sequence number *seq is due now; the caller sends it, or hands it back
 * with dp_probe_unsent() when it cannot leave this box.
 */
static inline bool dp_probe_step(struct dp_probe *p, uint32_t seen, uint64_t now_ms, const struct dp_probe_cfg *c,
				 uint16_t *seq)
{
	if (p->in_flight && seen == (DP_PROBE_SEEN | p->seq)) {
		/* answered: judged now, so a recovery is not held back a whole interval */
		p->in_flight = false;
		p->answered++;
		dp_probe_event(p, DP_PROBE_EV_ANSWERED, c);
	}
	if (now_ms < p->due_ms)
		return false;
	if (p->in_flight)
		dp_probe_event(p, DP_PROBE_EV_LOST, c);
	p->seq++;
	p->in_flight = true;
	p->sent++;
	p->due_ms = now_ms + c->interval_ms;
	*seq = p->seq;
	return true;
}

/*
 * The probe dp_probe_step() asked for could not leave this box (no mbuf,
 * the inject ring full): it is neither in flight nor lost.  An appliance
 * short of buffers has not seen its ISP fail, and must not move NATv6
 * pairs for it.  (No next hop is another matter: the ISP's router does not
 * answer, and the probe counts as sent and lost.)
 */
static inline void dp_probe_unsent(struct dp_probe *p)
{
	if (p->in_flight) {
		p->in_flight = false;
		p->sent--;
	}
}

/*
 * The echo request from `src` to `dst` into `f` (DP_PROBE_FRAME_LEN
 * octets), Ethernet included: `dst_w` is the next-hop word (dp_nh_word).
 */
static inline void dp_probe_build(uint8_t *f, uint64_t dst_w, const uint8_t smac[6], const uint8_t src[16],
				  const uint8_t dst[16], uint16_t id, uint16_t seq)
{
	uint8_t *ip = f + DP_ETH_LEN, *icmp = ip + DP_IP6_LEN;

	memcpy(f, &dst_w, 6);
	memcpy(f + 6, smac, 6);
	dp_put16(f + 12, 0x86dd);
	memset(ip, 0, DP_IP6_LEN + 16);
	ip[0] = 0x60;
	dp_put16(ip + DP_IP6_PLEN, 16);
	ip[DP_IP6_NH] = DP_PROTO_ICMP6;
	ip[DP_IP6_HLIM] = 64;
	memcpy(ip + DP_IP6_SRC, src, 16);
	memcpy(ip + DP_IP6_DST, dst, 16);
	icmp[0] = DP_ICMP6_ECHO_REQ;
	dp_put16(icmp + 4, id);
	dp_put16(icmp + 6, seq);
	memcpy(icmp + 8, DP_PROBE_DATA, 8);
	dp_icmp6_fix_csum(ip, DP_IP6_LEN + 16, DP_IP6_LEN);
}

static inline bool dp_probe_is_target(const struct dp_probe_targets *t, const uint8_t a[16])
{
	for (unsigned k = 0; k < t->n && k < DP_PROBE_TARGETS; k++)
		if (dp_addr_eq(a, t->a[k]))
			return true;
	return false;
}

/*
 * Is frame `f` the answer to one of our probes: an echo reply from one of
 * the targets `t` to `own` with identifier `id`, our request's data and a
 * right checksum?  Its
 * sequence number goes to *seq.  Anything else (an answer to the kernel's
 * own ping, say) is not ours and goes on to the exception path.
 */
static inline bool dp_probe_match(const uint8_t *f, uint32_t len, const uint8_t own[16],
				  const struct dp_probe_targets *t, uint16_t id, uint16_t *seq)
{
	const uint8_t *ip = f + DP_ETH_LEN, *icmp = ip + DP_IP6_LEN;
	uint32_t plen;

	if (len < DP_ETH_LEN + DP_IP6_LEN + 8 || dp_get16(f + 12) != 0x86dd || (ip[0] >> 4) != 6 ||
	    ip[DP_IP6_NH] != DP_PROTO_ICMP6)
		return false;
	/* exactly what a request holds: the kernel's own ping carries other data */
	plen = dp_get16(ip + DP_IP6_PLEN);
	if (plen != 16 || plen > len - DP_ETH_LEN - DP_IP6_LEN || memcmp(icmp + 8, DP_PROBE_DATA, 8))
		return false;
	if (icmp[0] != DP_ICMP6_ECHO_REP || icmp[1] != 0 || dp_get16(icmp + 4) != id)
		return false;
	if (!dp_addr_eq(ip + DP_IP6_DST, own) || !dp_probe_is_target(t, ip + DP_IP6_SRC))
		return false;
	/* a sum over the whole message, its checksum included, folds to 0xffff */
	if (dp_csum6(ip + DP_IP6_SRC, ip + DP_IP6_DST, DP_PROTO_ICMP6, icmp, plen) != 0)
		return false;
	*seq = dp_get16(icmp + 6);
	return true;
}

#endif
