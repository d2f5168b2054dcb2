/*
 * What other daemons tell control, kept in bounded tables:
 *   peers:  remote ULID -> locators, pushed by the DNS ALG ("peer-locators"),
 *           expiring with the DNS TTL.  When full, the entry closest to
 *           expiry is evicted (it would be the next to go anyway); counted.
 *   leases: site CMULA -> CGA parameters, from the DHCP hook ("lease").
 *           When full, a new lease is refused with an error and counted;
 *           leases are never evicted, since losing one breaks its host.
 *           (A standing-by proxy's leases follow the active proxy's: a
 *           whole full sync removes those it did not carry, peer.c.)
 */
#ifndef PSHIM6_CONTROL_TABLES_H
#define PSHIM6_CONTROL_TABLES_H
#include "addrtab.h"
#include "json.h"
#include "pshim6/conf.h"

#define PEER_MAX_LOCS  PSHIM6_CONF_MAX_PEER_LOCATORS
#define LEASE_PDS_MAX  1024
#define LEASE_DUID_MAX 130

struct peer_entry {
	char name[256];
	unsigned nloc;
	struct in6_addr loc[PEER_MAX_LOCS];
	uint64_t expires_ns;    /* monotonic */
	uint64_t updated_ns;
};

struct lease_entry {
	enum pshim6_conf_addr_mode mode;
	uint32_t iaid;
	uint16_t pds_len;
	uint8_t pds[LEASE_PDS_MAX];
	uint8_t duid_len;
	uint8_t duid[LEASE_DUID_MAX / 2];
	uint64_t updated_ns;
	uint32_t sync_gen;      /* peer.c: 1 + the full sync received (peer_sync_rx.gen) that
	                           last carried it; 0 after tables_lease (a lease given here) */
	uint32_t fwd_id;        /* peer.c: the id of the DHCP hook event this lease last came from,
	                           0 none: drawn here for our own hook's (fwd_ours), or carried by
	                           the other proxy's line ("fwd").  tables_lease keeps both when it
	                           rewrites an entry: a renew by this proxy's own server leaves the
	                           lease the other server's event's for a release record to name,
	                           and a repeat of that event is stale */
	bool fwd_ours;          /* fwd_id was drawn here */
};

/* The id of the other proxy's hook event a lease came from, 0 when the
 * event was ours or had none: what an ACTIVE proxy's release record of it
 * names (peer.c), taken before the release removes the entry. */
static inline uint32_t lease_event_theirs(const struct lease_entry *l)
{
	return l && !l->fwd_ours ? l->fwd_id : 0;
}

struct tables_stats {
	uint64_t peer_updates, peer_evicted, peer_expired, peer_rejected;
	uint64_t lease_adds, lease_renews, lease_removes, lease_full, lease_rejected;
};

struct tables {
	struct addrtab peers, leases;
	struct tables_stats st;
};

int tables_init(struct tables *t, uint32_t peer_cap, uint32_t lease_cap, uint64_t seed);
void tables_free(struct tables *t);

/* Apply a parsed message; returns 0 or -1 with a reason in *why. */
int tables_peer_locators(struct tables *t, const struct jobj *o, uint64_t now_ns, const char **why);
/* Same, for a reply that carries no "ulid" (the ALG's resolve-ulid). */
int tables_peer_set(struct tables *t, const struct in6_addr *ulid, const struct jobj *o,
		    uint64_t now_ns, const char **why);
int tables_lease(struct tables *t, const struct pshim6_conf *c, const struct jobj *o,
		 uint64_t now_ns, const char **why);
/* Drop expired peer entries; returns how many. */
unsigned tables_expire(struct tables *t, uint64_t now_ns);
/* Locators for a remote ULID: static peers from config first looked up by
 * the caller; this is the DNS-pushed cache.  NULL if unknown or expired. */
const struct peer_entry *tables_peer(const struct tables *t, const struct in6_addr *ulid, uint64_t now_ns);
#endif
