/*
 * The site's other proxy (config section `peer`): context replication from
 * the ACTIVE proxy to the standing-by one, heartbeats both ways, takeover
 * and the return of the primary.  Protocol in peer_msg.h, roles in
 * peer_fsm.h, the backup's table in peer_table.h.  Without a `peer`
 * section every function here does nothing and every punt goes on.
 */
#ifndef PSHIM6_CONTROL_PEER_H
#define PSHIM6_CONTROL_PEER_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "pshim6/dpmsg.h"

struct daemon;

struct peer_stats {
	uint64_t tx, tx_failed, rx, rx_wrong_source, rx_bad, rx_bad_mac, rx_replay, rx_unconfirmed;
	uint64_t rx_ignored_active, rx_bad_isp;
	uint64_t hb_tx, hb_rx, ctx_tx, ctx_rx, del_tx, del_rx, syncs_tx, syncs_rx;
	uint64_t peer_sessions, standby_punts_dropped;
	uint64_t lease_tx, lease_rx, lease_refused;
	uint64_t lease_swept;               /* held standing by, absent from a whole full sync: removed */
	uint64_t lease_fwd_tx;              /* standing by: our own DHCP server's lease changes sent to the ACTIVE */
	uint64_t lease_fwd_rx;              /* ACTIVE: those received (refusals in lease_refused) */
	uint64_t lease_fwd_retry;           /* standing by: own leases a whole full sync lacked, sent again */
	uint64_t lease_fwd_release_retry;   /* standing by: own releases sent again, a full sync carried the lease */
	uint64_t lease_tomb_confirmed;      /* released leases a whole full sync no longer carried */
	uint64_t lease_tomb_superseded;     /* released leases given again (our hook, or the ACTIVE's) */
	uint64_t lease_tomb_expired;        /* records of releases given up unconfirmed (resend bound, role change) */
	uint64_t lease_tomb_evicted;        /* the oldest of them dropped for a new one (table full) */
	uint64_t lease_release_resent;      /* ACTIVE: own releases of forwarded leases sent again,
	                                       a stale repeat of the forward arrived */
	uint64_t lease_rel_record_confirmed;   /* ACTIVE: those records ended by a forwarded release */
	uint64_t lease_rel_record_superseded;  /* ended by a newer forward, or our hook's add */
	uint64_t lease_rel_record_expired;     /* given up (resend bound, no longer ACTIVE) */
	uint64_t lease_rel_record_evicted;     /* the oldest dropped for a new one (table full) */
	uint64_t takeovers, takeovers_silence, takeovers_traffic, takeover_imported, takeover_failed;
	uint64_t yields, activations;
	uint64_t takeovers_incomplete;     /* with a replica not known complete */
	uint64_t rx_duplicate;             /* heartbeat copies taken over another path first */
	uint64_t syncs_unreceived;         /* syncs sent whole the other proxy did not report in time */
	uint64_t last_linger_ms;           /* the last yield's linger time */
	uint64_t last_takeover_after_ms;   /* silence before it: last heartbeat -> takeover */
	uint64_t last_takeover_us;         /* its own duration: imports + installs */
};

int peer_init(struct daemon *d);           /* 0 (also when no section), -1 on a hard error (logged) */
void peer_free(struct daemon *d);
/* Orderly stop: peer.notify is told `stopped <state> <role>` and waited
 * for, at most peer.notify_timeout_ms; nothing when off or unset. */
void peer_stop(struct daemon *d);
/* On reload: warn about a new notify hook or sync_batch that cannot work;
 * those keys apply at once (what needs a restart: reload_keep.h). */
struct pshim6_conf_peer_proxy;
void peer_conf_reload_check(const struct pshim6_conf_peer_proxy *old, const struct pshim6_conf_peer_proxy *new);
int peer_fd(const struct daemon *d);       /* -1 when off */
void peer_read(struct daemon *d);
void peer_tick(struct daemon *d, uint64_t now);
uint64_t peer_deadline(const struct daemon *d);
/* From proxy.c: an engine context changed / went away. */
void peer_ctx_changed(struct daemon *d, uint64_t own_tag);
void peer_ctx_removed(struct daemon *d, uint64_t own_tag);
/* From dp.c: a context of the dataplane's dump was imported into the
 * engine.  Queued and sent as a CTX update at the full sync's pace; when
 * the queue is full a full sync is started instead (peer_sync.h). */
void peer_ctx_imported(struct daemon *d, uint64_t own_tag);
/* From commands.c: a lease was applied (cmula as the request gave it).
 * ACTIVE: replicated to the standing-by proxy; standing by: forwarded to
 * the ACTIVE one (both DHCP servers give leases in Kea HA load balancing).
 * fwd_was: lease_event_theirs of the entry before the change (tables.h),
 * which a release removes with it. */
void peer_lease_changed(struct daemon *d, const char *cmula, uint32_t fwd_was);
/* From dp.c: a yielding backup still forwards this context for a while. */
bool peer_lingering(struct daemon *d, uint64_t own_tag);
/* From proxy.c before a punt is handled: false = do not handle it. */
bool peer_punt_gate(struct daemon *d, const struct dpmsg_punt *p);
/* pshim6ctl counters / status */
void peer_counters(struct daemon *d, void (*put)(void *, const char *, const char *, uint64_t), void *arg);
void peer_status(struct daemon *d, FILE *json, FILE *text);
#endif
