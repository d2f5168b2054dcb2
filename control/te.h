/*
 * Traffic engineering: which ISP a new context leaves through, and what
 * Locator Preferences we advertise so peers send back through the ISP we
 * want.
 *
 * Egress choice is deterministic smooth weighted round-robin (the nginx
 * algorithm) over the lowest-cost available ISPs, with one round-robin
 * state per te rule plus one for the default policy.  Unlike hashing or a
 * random draw, the split over N contexts is off the configured weights by
 * at most one context per ISP, so it holds for small N too.
 *
 * A round-robin starts again (all credits zero) whenever the set of ISPs it
 * chooses among changes: an ISP fails or comes back, or the cheapest ones
 * go.  Credit earned or owed over the old set would otherwise skew the
 * split over the new one (an ISP back from an outage could take several
 * contexts in a row on the credit it held when it failed), so the bound
 * above holds from the first context after every change.  So `avail`
 * must say which ISPs the site can use now (it changes when one fails or
 * returns), not differ from context to context: a caller alternating
 * between two sets would restart the round-robin at every call and send
 * everything to the heaviest ISP.  The daemon's caller passes the ISPs
 * under which the host has a locator that is not BROKEN, and every host
 * has one under every ISP (CGA prefix swap, or its HBA set).
 */
#ifndef PSHIM6_CONTROL_TE_H
#define PSHIM6_CONTROL_TE_H
#include <netinet/in.h>
#include <stdint.h>
#include "pshim6/conf.h"

struct te {
	const struct pshim6_conf *c;
	int64_t cur[PSHIM6_CONF_MAX_TE_RULES + 1][PSHIM6_CONF_MAX_ISPS];
	uint32_t set[PSHIM6_CONF_MAX_TE_RULES + 1];   /* the ISPs each last chose among */
	uint64_t chosen[PSHIM6_CONF_MAX_ISPS];  /* initial choices per ISP */
	uint64_t rule_hits[PSHIM6_CONF_MAX_TE_RULES];
};

void te_init(struct te *t, const struct pshim6_conf *c);

/* The te rule that applies to (src, dst), or -1 for the default policy. */
int te_match(const struct pshim6_conf *c, const struct in6_addr *src, const struct in6_addr *dst);

/*
 * Of the ISPs in `avail`, those the dataplane's probes do not say have
 * failed (`failed`, DPMSG_ISP_STATE), unless that leaves none: a probe
 * target can fail while its ISP works, and then any ISP beats none.
 */
static inline uint32_t te_working(uint32_t avail, uint32_t failed)
{
	return (avail & ~failed) ? avail & ~failed : avail;
}

/* Choose the egress ISP for a new context from src (site ULID) to dst.
 * `avail` has bit i set when ISP i may be used now.  Returns the ISP index,
 * or -1 when no ISP is available. */
int te_choose(struct te *t, const struct in6_addr *src, const struct in6_addr *dst, uint32_t avail);

/* Fallback order after a failure: ISPs sorted by (cost, higher weight,
 * index), written to order[], count returned. */
unsigned te_fallback_order(const struct pshim6_conf *c, int order[PSHIM6_CONF_MAX_ISPS]);

/* Locator Preferences for our locator under ISP i (RFC 5533 5.15.3):
 * lower priority is preferred. */
void te_ingress_pref(const struct pshim6_conf *c, unsigned isp, uint8_t *priority, uint8_t *weight);
#endif
