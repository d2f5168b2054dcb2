/*
 * Reachability of a port's next hop (RFC 4861 section 7.3, the part a
 * router needs for the few neighbours it forwards to).  A MAC learned by
 * Neighbor Discovery is not trusted forever: a replaced or re-cabled router
 * answers from a new MAC, and without re-confirmation the ISP would stay
 * dark until a restart while REAP kept every context away from it.
 *
 * Sans-I/O: the channel thread calls dp_nud_step() about once a second and
 * whenever it likes, with `now` and the time of the last solicited
 * advertisement the lcores saw; the step says what to send.  While the next
 * hop is unconfirmed the old MAC stays in use (dropping traffic would not
 * bring the router back; a wrong MAC costs no more than no MAC).
 *
 *   INCOMPLETE   no MAC: multicast solicitation every retransmit interval
 *   REACHABLE    confirmed less than `reachable` ago
 *   PROBE        unconfirmed: up to DP_NUD_UCAST_PROBES unicast solicitations
 *   UNREACHABLE  probes unanswered: multicast again, until anyone answers
 *
 * A MAC that arrives unconfirmed (an unsolicited advertisement, the
 * router's own solicitation) goes straight to PROBE, like RFC 4861's STALE
 * entry that is about to be used.
 */
#ifndef PSHIM6_DP_NUD_H
#define PSHIM6_DP_NUD_H

#include <stdbool.h>
#include <stdint.h>

#define DP_NUD_RETRANS_MS   1000    /* RFC 4861 RETRANS_TIMER */
#define DP_NUD_UCAST_PROBES 3u      /* RFC 4861 MAX_UNICAST_SOLICIT */

enum dp_nud_state { DP_NUD_INCOMPLETE, DP_NUD_REACHABLE, DP_NUD_PROBE, DP_NUD_UNREACHABLE, DP_NUD__N };
enum dp_nud_event { DP_NUD_EV_CONFIRM, DP_NUD_EV_MAC, DP_NUD_EV_TIMER, DP_NUD_EV_LAST_PROBE, DP_NUD_EV__N };
enum dp_nud_do { DP_NUD_NOTHING, DP_NUD_SEND_MCAST, DP_NUD_SEND_UCAST };

struct dp_nud {
	uint8_t  state;             /* enum dp_nud_state */
	uint8_t  probes;            /* unicast solicitations sent in PROBE */
	uint64_t due_ms;            /* next timer event */
	uint64_t confirm_seen_ms;   /* the last confirmation already acted on */
	uint64_t unreachable;       /* times the probes went unanswered */
};

struct dp_nud_row {
	uint8_t state, event, next, act;
};

/* Every (state, event) pair that does something; anything else is ignored. */
static const struct dp_nud_row dp_nud_rows[] = {
	{ DP_NUD_INCOMPLETE,  DP_NUD_EV_TIMER,      DP_NUD_INCOMPLETE,  DP_NUD_SEND_MCAST },
	{ DP_NUD_INCOMPLETE,  DP_NUD_EV_CONFIRM,    DP_NUD_REACHABLE,   DP_NUD_NOTHING },
	{ DP_NUD_INCOMPLETE,  DP_NUD_EV_MAC,        DP_NUD_PROBE,       DP_NUD_SEND_UCAST },
	{ DP_NUD_REACHABLE,   DP_NUD_EV_CONFIRM,    DP_NUD_REACHABLE,   DP_NUD_NOTHING },
	{ DP_NUD_REACHABLE,   DP_NUD_EV_TIMER,      DP_NUD_PROBE,       DP_NUD_SEND_UCAST },
	{ DP_NUD_PROBE,       DP_NUD_EV_CONFIRM,    DP_NUD_REACHABLE,   DP_NUD_NOTHING },
	{ DP_NUD_PROBE,       DP_NUD_EV_TIMER,      DP_NUD_PROBE,       DP_NUD_SEND_UCAST },
	{ DP_NUD_PROBE,       DP_NUD_EV_LAST_PROBE, DP_NUD_UNREACHABLE, DP_NUD_SEND_MCAST },
	{ DP_NUD_UNREACHABLE, DP_NUD_EV_CONFIRM,    DP_NUD_REACHABLE,   DP_NUD_NOTHING },
	{ DP_NUD_UNREACHABLE, DP_NUD_EV_TIMER,      DP_NUD_UNREACHABLE, DP_NUD_SEND_MCAST },
};

static inline const char *dp_nud_name(unsigned s)
{
	static const char *const n[DP_NUD__N] = { "incomplete", "reachable", "probe", "unreachable" };
	return s < DP_NUD__N ? n[s] : "?";
}

/*
 * One step.  `have_mac`: a MAC is installed; `confirm_ms`: when the last
 * solicited advertisement from the next hop arrived (0 = never);
 * `reachable_ms`: how long a confirmation holds.  At most one event is
 * taken per call, the most informative first (a confirmation beats a timer).
 */
static inline enum dp_nud_do dp_nud_step(struct dp_nud *n, bool have_mac, uint64_t confirm_ms,
					 uint64_t reachable_ms, uint64_t now_ms)
{
	int ev = -1;

	if (have_mac && confirm_ms > n->confirm_seen_ms) {
		n->confirm_seen_ms = confirm_ms;
		ev = DP_NUD_EV_CONFIRM;
	} else if (have_mac && n->state == DP_NUD_INCOMPLETE) {
		ev = DP_NUD_EV_MAC;
	} else if (now_ms >= n->due_ms) {
		ev = n->state == DP_NUD_PROBE && n->probes >= DP_NUD_UCAST_PROBES ? DP_NUD_EV_LAST_PROBE
										   : DP_NUD_EV_TIMER;
	}
	if (ev < 0)
		return DP_NUD_NOTHING;
	for (unsigned i = 0; i < sizeof(dp_nud_rows) / sizeof(dp_nud_rows[0]); i++) {
		const struct dp_nud_row *r = &dp_nud_rows[i];
		if (r->state != n->state || r->event != ev)
			continue;
		if (r->next == DP_NUD_UNREACHABLE && n->state != DP_NUD_UNREACHABLE)
			n->unreachable++;
		if (r->next != DP_NUD_PROBE)
			n->probes = 0;
		n->state = r->next;
		if (r->act == DP_NUD_SEND_UCAST)
			n->probes++;
		/* a confirmation may be older than now: the lcores stamp it on arrival */
		n->due_ms = r->next == DP_NUD_REACHABLE ? confirm_ms + reachable_ms : now_ms + DP_NUD_RETRANS_MS;
		return (enum dp_nud_do)r->act;
	}
	/* unknown pair (e.g. a timer in REACHABLE with a MAC gone): restart */
	n->state = have_mac ? DP_NUD_PROBE : DP_NUD_INCOMPLETE;
	n->probes = 0;
	n->due_ms = now_ms;
	return DP_NUD_NOTHING;
}

#endif
