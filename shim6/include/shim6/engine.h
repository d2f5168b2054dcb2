/*
 * shim6/engine.h - the Shim6 protocol engine (RFC 5533 + REAP, RFC 5534),
 * sans-I/O.
 *
 * The engine owns no socket and no clock.  The caller feeds it:
 *   - received Shim6 control messages (bytes from the Shim6 header on,
 *     IPv6 source, destination, now)              shim6_engine_recv()
 *   - payload packets whose context tag is unknown shim6_engine_unknown_tag()
 *   - data events ("sent/received on context X")  shim6_engine_data()
 *   - "locator Y unusable"                        shim6_engine_locator_down()
 *   - requests: open / close a context, local locators changed
 *   - timer expiry                                shim6_engine_expire()
 * and drains, after every call:
 *   - messages to send (with IPv6 src/dst)        shim6_engine_poll_tx()
 *   - events (established, pair changed, ...)     shim6_engine_poll_event()
 *   - the next deadline                           shim6_engine_deadline()
 *
 * One engine serves a whole site as a proxy: many local ULIDs (CMULAs),
 * each found through the host_info callback, which returns the locators and
 * the CGA parameter data structure (or HBA set) of that ULID.  Signing and
 * verification of locator lists are callbacks too, so the engine itself
 * needs no key and no crypto library; the site's key lives with the caller.
 *
 * Every function returning int returns 0 (or a count) on success and a
 * negative SHIM6_ENG_E* code on failure.  All times are nanoseconds on the
 * caller's monotonic clock.  Nothing here is thread-safe: one engine, one
 * thread.
 */
#ifndef SHIM6_ENGINE_H
#define SHIM6_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint64_t shim6_tstamp;          /* nanoseconds */
#define SHIM6_NS_PER_MS  1000000ULL
#define SHIM6_NS_PER_S   1000000000ULL
#define SHIM6_TSTAMP_NEVER UINT64_MAX

struct shim6_in6 { uint8_t b[16]; };

/* --- error codes --------------------------------------------------------- */
#define SHIM6_ENG_EINVAL     (-1)  /* bad argument */
#define SHIM6_ENG_ENOMEM     (-2)  /* allocator returned NULL */
#define SHIM6_ENG_EMALFORMED (-3)  /* message fails a validity rule; dropped */
#define SHIM6_ENG_ENOCTX     (-4)  /* no context with that tag / id */
#define SHIM6_ENG_EFULL      (-5)  /* max_contexts reached; nothing created */
#define SHIM6_ENG_EPENDFULL  (-6)  /* max_pending handshakes reached */
#define SHIM6_ENG_ENOTLOCAL  (-7)  /* ULID not served by this site (host_info said no) */
#define SHIM6_ENG_EEXIST     (-8)  /* context for this ULID pair + fork already exists */
#define SHIM6_ENG_EVALIDATOR (-9)  /* responder validator did not verify; dropped */
#define SHIM6_ENG_EVERIFY    (-10) /* locator list failed CGA/HBA verification */
#define SHIM6_ENG_ESTATE     (-11) /* message not acceptable in the context's state */
#define SHIM6_ENG_ENONCE     (-12) /* nonce does not match an outstanding request */
#define SHIM6_ENG_ERATELIMIT (-13) /* recovery (R1bis) suppressed by the rate limit */
#define SHIM6_ENG_ECRITICAL  (-14) /* unknown option with C bit; Error sent */
#define SHIM6_ENG_EHOLDDOWN  (-15) /* peer in NO-SUPPORT hold-down */
#define SHIM6_ENG_ESTALE     (-16) /* old generation / replay; ignored */
#define SHIM6_ENG_EUNSUPP    (-17) /* unsupported verification method; Error sent */
const char *shim6_engine_strerror(int err);

/* --- context states (RFC 5533 §7) ---------------------------------------- */
enum shim6_state {
	SHIM6_ST_IDLE = 0,
	SHIM6_ST_I1_SENT,
	SHIM6_ST_I2_SENT,
	SHIM6_ST_I2BIS_SENT,
	SHIM6_ST_ESTABLISHED,
	SHIM6_ST_E_FAILED,
	SHIM6_ST_NO_SUPPORT,
	SHIM6_ST__COUNT
};
const char *shim6_state_name(enum shim6_state st);

/* REAP states (RFC 5534 §5.1) */
enum shim6_reap_state {
	SHIM6_REAP_OPERATIONAL = 0,
	SHIM6_REAP_EXPLORING = 1,
	SHIM6_REAP_INBOUND_OK = 2,
};
const char *shim6_reap_state_name(enum shim6_reap_state st);

/* Verification methods (RFC 5533 §5.15.2) */
enum shim6_verif { SHIM6_VERIF_NONE = 0, SHIM6_VERIF_HBA = 1, SHIM6_VERIF_CGA = 2 };

/* Locator Preferences flags (RFC 5533 §5.15.3) */
#define SHIM6_LOCF_BROKEN    0x01
#define SHIM6_LOCF_TEMPORARY 0x02

/* --- settings --------------------------------------------------------------
 * shim6_engine_settings_default() fills in the RFC 5533 §17 and RFC 5534
 * defaults; change any field before shim6_engine_new(). */
struct shim6_engine_settings {
	/* RFC 5533 §17 */
	shim6_tstamp i1_timeout;            /* 4 s */
	unsigned     i1_retries_max;        /* 4 */
	shim6_tstamp no_r1_holddown;        /* 60 s */
	shim6_tstamp i2_timeout;            /* 4 s */
	unsigned     i2_retries_max;        /* 2 */
	shim6_tstamp i2bis_timeout;         /* 4 s */
	unsigned     i2bis_retries_max;     /* 2 */
	shim6_tstamp validator_min_lifetime;/* 30 s */
	shim6_tstamp update_timeout;        /* 4 s */
	shim6_tstamp max_update_timeout;    /* 120 s */
	/* RFC 5534 §6 */
	shim6_tstamp send_timeout;          /* 10 s */
	shim6_tstamp keepalive_interval;    /* 0 => send_timeout / 3 */
	shim6_tstamp initial_probe_timeout; /* 0.5 s */
	unsigned     initial_probes;        /* 4 */
	shim6_tstamp max_probe_timeout;     /* 60 s */
	shim6_tstamp max_explore_time;      /* 0 => never give up; else E-FAILED after it */
	/* Bounds (see docs/engine.md) */
	unsigned     max_contexts;          /* 65536: established + pending */
	unsigned     max_pending;           /* 4096: I1-SENT/I2-SENT/I2BIS-SENT */
	unsigned     max_locators;          /* 8 per side (cap of stored lists) */
	unsigned     recovery_rate;         /* R1bis per second, token bucket: 100 */
	unsigned     recovery_burst;        /* bucket depth: 20 */
	unsigned     txq_len;               /* 256 queued messages; oldest dropped */
	unsigned     evq_len;               /* 1024 queued events; oldest dropped */
	shim6_tstamp failed_linger;         /* 10 s: E-FAILED/NO-SUPPORT kept this long */
	shim6_tstamp idle_timeout;          /* 0 => none; else ESTABLISHED w/o data is removed */
};
void shim6_engine_settings_default(struct shim6_engine_settings *s);

/* --- injected services ----------------------------------------------------- */
struct shim6_engine_mem {
	void *user;
	void *(*calloc)(void *user, size_t n, size_t size);
	void (*free)(void *user, void *p);
};
struct shim6_engine_rand {
	void *user;
	void (*fill)(void *user, void *buf, size_t len);  /* must not fail */
};

/* A locator as the engine stores it. */
struct shim6_locator {
	struct shim6_in6 addr;
	uint8_t  verif;      /* enum shim6_verif */
	uint8_t  flags;      /* SHIM6_LOCF_* */
	uint8_t  priority;   /* lower is preferred (RFC 5533 §5.15.3) */
	uint8_t  weight;     /* among equal priority */
};

/* What the site knows about one of its own ULIDs. */
#define SHIM6_MAX_LOCATORS 16
#define SHIM6_MAX_PDS      1024
struct shim6_host_info {
	enum shim6_verif     method;          /* CGA or HBA */
	size_t               nlocs;
	struct shim6_locator locs[SHIM6_MAX_LOCATORS];
	uint32_t             generation;      /* bump when locs change */
	size_t               pds_len;         /* CGA Parameter Data Structure */
	uint8_t              pds[SHIM6_MAX_PDS];
};

/* Read-only view of a context for the policy callback and for callers. */
struct shim6_ctx_info {
	uint64_t          id;                 /* == local context tag (47 bits) */
	uint64_t          peer_tag;           /* 0 until known */
	enum shim6_state  state;
	enum shim6_reap_state reap;
	struct shim6_in6  local_ulid, peer_ulid;
	uint32_t          forkid;
	struct shim6_in6  local_loc, peer_loc;  /* current pair */
	size_t            nlocal, npeer;
	const struct shim6_locator *local_locs; /* valid only during the call */
	const struct shim6_locator *peer_locs;
	const uint8_t    *peer_usable;          /* per peer locator: verified+probed */
	int               initiator;
};

struct shim6_engine_callbacks {
	void *user;
	/* Required.  Return 0 and fill *out if this site serves `ulid`;
	 * SHIM6_ENG_ENOTLOCAL otherwise. */
	int (*host_info)(void *user, const struct shim6_in6 *ulid,
	                 struct shim6_host_info *out);
	/* Sign `data` with the site key for `ulid`: the CGA Signature input of
	 * RFC 5533 §5.15.4 without the message type tag, i.e. the octets
	 * shim6_cga_sig_input() produces (generation, then the CGA locators),
	 * so shim6_cga_sign_data() fits directly.  Return the signature length or < 0.  May be
	 * NULL when every host is HBA. */
	int (*sign)(void *user, const struct shim6_in6 *ulid,
	            const uint8_t *data, size_t len, uint8_t *sig, size_t cap);
	/* Verify that `peer_ulid` owns `locs` given the peer's PDS: for CGA,
	 * CGA-verify the ULID against the PDS and check `sig` over `data`; for
	 * HBA, check every locator is in the HBA set.  `data` is the same
	 * signature input as for sign (shim6_cga_verify_sig_data()).  Return 0
	 * if good.
	 * NULL means "accept everything" (tests only). */
	int (*verify)(void *user, const struct shim6_in6 *peer_ulid,
	              enum shim6_verif method,
	              const uint8_t *pds, size_t pds_len,
	              const struct shim6_locator *locs, size_t nlocs,
	              const uint8_t *data, size_t len,
	              const uint8_t *sig, size_t sig_len);
	/* Locator pair policy (traffic engineering).  Called for the first
	 * I1 (exclude_* NULL; peer_locs are the caller's, unverified) and at
	 * the start of every exploration (exclude_* = the failing pair): set
	 * *li, *pi to indexes into ctx->local_locs / ctx->peer_locs and return
	 * 0, or return < 0 for the default order (stable before TEMPORARY,
	 * priority, weight, list order).  A choice whose local locator is down
	 * or whose peer locator is unverified, BROKEN or down is ignored, and an
	 * explored pair is adopted only after a probe on it is answered.  May
	 * be NULL. */
	int (*select_pair)(void *user, const struct shim6_ctx_info *ctx,
	                   const struct shim6_in6 *exclude_local,
	                   const struct shim6_in6 *exclude_peer,
	                   size_t *li, size_t *pi);
	/* Optional log sink; level 0=error 1=info 2=debug. */
	void (*log)(void *user, int level, const char *msg);
};

/* --- output ---------------------------------------------------------------- */
#define SHIM6_MAX_MSG 1280
struct shim6_tx {
	struct shim6_in6 src, dst;   /* IPv6 header addresses to use */
	size_t   len;
	uint8_t  buf[SHIM6_MAX_MSG]; /* Shim6 header onwards, checksum filled */
};

enum shim6_event_type {
	SHIM6_EV_ESTABLISHED = 1,   /* context usable; pair = initial locator pair */
	SHIM6_EV_PAIR_CHANGED,      /* REAP/update moved the context: use (local_loc, peer_loc) */
	SHIM6_EV_FAILED,            /* handshake gave up, or exploration timed out */
	SHIM6_EV_NO_SUPPORT,        /* no R1 after I1 retries; held down for no_r1_holddown */
	SHIM6_EV_REMOVED,           /* context gone (closed, confusion, linger expired) */
	SHIM6_EV_PEER_LOCATORS,     /* peer locator set changed (update, verified) */
	SHIM6_EV_RECOVERED,         /* context re-established via R1bis/I2bis */
};
const char *shim6_event_name(enum shim6_event_type t);

struct shim6_event {
	enum shim6_event_type type;
	uint64_t         id;           /* local context tag */
	uint64_t         peer_tag;     /* tag to put in outgoing payload headers */
	struct shim6_in6 local_ulid, peer_ulid;
	uint32_t         forkid;
	struct shim6_in6 local_loc, peer_loc;
	int              reason;       /* SHIM6_ENG_E* for FAILED/REMOVED, else 0 */
};

/* Counters, for logs and the control socket. */
struct shim6_engine_stats {
	uint64_t rx_msgs, rx_dropped, tx_msgs, tx_dropped_full, ev_dropped_full;
	uint64_t ctx_created, ctx_established, ctx_failed, ctx_removed, ctx_confusion;
	uint64_t ctx_full, pending_full;
	uint64_t r1_sent, r1bis_sent, r1bis_ratelimited, validator_bad;
	uint64_t verify_failed, updates_sent, updates_acked, probes_sent, probes_rx;
	uint64_t pair_changes, recoveries, errors_sent, ctx_imported, i2bis_sent;
	unsigned contexts, pending;
};

struct shim6_engine;

int  shim6_engine_new(struct shim6_engine **out,
                      const struct shim6_engine_settings *settings,
                      const struct shim6_engine_callbacks *cb,
                      const struct shim6_engine_mem *mem,     /* NULL: libc */
                      const struct shim6_engine_rand *rnd,    /* required */
                      shim6_tstamp now);
void shim6_engine_del(struct shim6_engine *e);

/* A reload: the timers, retry counts and recovery rate of `s` apply from
 * now on; its bounds (max_contexts, max_pending, max_locators, txq_len,
 * evq_len), which sized the engine's tables, are ignored.  Deadlines
 * already armed keep their time, and a context keeps the send timeout it
 * announced in its handshake, because the peer paces its Keepalives to
 * that one (RFC 5534 section 5.3); contexts set up from now on announce
 * and use the new one.  Returns 0, or SHIM6_ENG_EINVAL with nothing
 * changed when a timeout that shim6_engine_new() requires is 0. */
int  shim6_engine_set_timers(struct shim6_engine *e, const struct shim6_engine_settings *s,
                             shim6_tstamp now);

/* Initiate a context from local_ulid to peer_ulid (I1).  peer_locs are the
 * locators the caller knows for the peer (DNS); the first usable one is
 * tried first.  forkid 0 = the default instance.  On success *id is the
 * context's id (its local tag).  Returns SHIM6_ENG_EEXIST (with *id set)
 * when the context exists, EHOLDDOWN while the peer is NO-SUPPORT. */
int  shim6_engine_open(struct shim6_engine *e,
                       const struct shim6_in6 *local_ulid,
                       const struct shim6_in6 *peer_ulid,
                       const struct shim6_in6 *peer_locs, size_t npeer,
                       uint32_t forkid, shim6_tstamp now, uint64_t *id);

/* Close and forget a context (no message is sent; RFC 5533 has none). */
int  shim6_engine_close(struct shim6_engine *e, uint64_t id, shim6_tstamp now);

/* A received Shim6 control message: `msg` starts at the Shim6 header
 * (Next Header octet) and is `len` bytes; src/dst are from the IPv6 header. */
int  shim6_engine_recv(struct shim6_engine *e, const uint8_t *msg, size_t len,
                       const struct shim6_in6 *src, const struct shim6_in6 *dst,
                       shim6_tstamp now);

/* A payload packet arrived carrying a tag that matched no context (the
 * dataplane's table missed): queue an R1bis, rate-limited. */
int  shim6_engine_unknown_tag(struct shim6_engine *e, uint64_t tag,
                              const struct shim6_in6 *src, const struct shim6_in6 *dst,
                              shim6_tstamp now);

/* Data events that drive REAP (RFC 5534 §5.2).  The dataplane reports them
 * in batches; `now` is the time of the most recent packet. */
#define SHIM6_DATA_SENT 1
#define SHIM6_DATA_RECV 2
int  shim6_engine_data(struct shim6_engine *e, uint64_t id, int dir, shim6_tstamp now);

/* A local or peer locator is known unusable (link down, ICMP, ...): every
 * context using it starts exploring at once. */
int  shim6_engine_locator_down(struct shim6_engine *e, const struct shim6_in6 *loc,
                               shim6_tstamp now);

/* Every local locator in prefix/plen (0..128) is known unusable (`down`),
 * or no longer is: the ISP that delegated the prefix failed, or came back,
 * by a check outside the engine (a probe beyond the ISP).  Going down, a
 * context whose current local locator is in it starts exploring at once
 * and, until the prefix comes back, neither explores nor moves to any of
 * its locators in it.  The engine keeps the prefix, so that contexts set
 * up later (opened, accepted or imported) and locators a context learns
 * later are down in it too; a new context whose every locator would be
 * down takes none as down, as with no outside check.  Coming back changes
 * no current pair: REAP moves a context only when its pair fails.  Returns
 * the number of contexts that started exploring, SHIM6_ENG_EINVAL, or
 * SHIM6_ENG_EFULL with nothing changed when SHIM6_ENG_MAX_DOWN_PREFIXES
 * other prefixes are down already. */
#define SHIM6_ENG_MAX_DOWN_PREFIXES 16
int  shim6_engine_local_prefix_state(struct shim6_engine *e, const struct shim6_in6 *prefix, unsigned plen,
                                     bool down, shim6_tstamp now);

/* The host_info of local_ulid changed (locators or preferences): send
 * Update Requests on every context of that ULID. */
int  shim6_engine_local_changed(struct shim6_engine *e, const struct shim6_in6 *local_ulid,
                                shim6_tstamp now);

/* Timers. */
shim6_tstamp shim6_engine_deadline(const struct shim6_engine *e);
int  shim6_engine_expire(struct shim6_engine *e, shim6_tstamp now);

/* Drain output: return 1 and fill *out, or 0 when empty. */
int  shim6_engine_poll_tx(struct shim6_engine *e, struct shim6_tx *out);
int  shim6_engine_poll_event(struct shim6_engine *e, struct shim6_event *out);

/* Inspection. */
int  shim6_engine_ctx_info(struct shim6_engine *e, uint64_t id, struct shim6_ctx_info *out);
int  shim6_engine_ctx_find(struct shim6_engine *e, const struct shim6_in6 *local_ulid,
                           const struct shim6_in6 *peer_ulid, uint32_t forkid, uint64_t *id);
/* Adopting a context that exists elsewhere, e.g. in a dataplane that kept
 * forwarding while its controller restarted.  The context enters
 * ESTABLISHED with REAP Operational and no message is sent, so a healthy
 * context continues without renegotiation.  Our locators come from
 * host_info (local_loc must be one of them).  peer_locs is the peer's list
 * as last known; verified[i] != 0 marks entries that passed CGA/HBA before
 * (peer_loc always counts as verified and usable: traffic flowed on it).
 * local_gen / peer_gen: the locator list generations last announced /
 * accepted, 0 = unknown (a fresh local one is chosen; any peer one is then
 * accepted).  Errors: EINVAL (zero tags, peer_loc missing), EEXIST (tag or
 * ULID pair+fork in use), ENOTLOCAL, EFULL, ENOMEM. */
struct shim6_ctx_import {
	struct shim6_in6 local_ulid, peer_ulid;
	uint32_t         forkid;
	uint64_t         own_tag, peer_tag;       /* 47 bits each, non-zero */
	struct shim6_in6 local_loc, peer_loc;     /* the pair in use */
	size_t           npeer;                   /* <= SHIM6_MAX_LOCATORS */
	struct shim6_locator peer_locs[SHIM6_MAX_LOCATORS];
	uint8_t          verified[SHIM6_MAX_LOCATORS];
	uint32_t         local_gen, peer_gen;
	int              initiator;
};
int  shim6_engine_context_import(struct shim6_engine *e, const struct shim6_ctx_import *imp,
                                 shim6_tstamp now, uint64_t *id);
/* Generations of a context's locator lists, for callers that persist
 * contexts to import them later (0 when not known). */
int  shim6_engine_ctx_generations(struct shim6_engine *e, uint64_t id,
                                  uint32_t *local_gen, uint32_t *peer_gen);

/* Call fn for every context (stop early if fn returns non-zero). */
int  shim6_engine_ctx_foreach(struct shim6_engine *e,
                              int (*fn)(void *arg, const struct shim6_ctx_info *ci), void *arg);
void shim6_engine_get_stats(const struct shim6_engine *e, struct shim6_engine_stats *out);

/* The standard check for the `verify` callback, through shim6/cga.h and
 * shim6/hba.h: CGA: the ULID is a CGA of `pds` and `sig` verifies over
 * `data` with its key (plus HBA-set membership of any locator marked HBA);
 * HBA: the ULID and every locator belong to the HBA set.  The matching
 * signer is shim6_cga_sign_data(site_key, data, len, sig, cap).
 * 0, SHIM6_ENG_EVERIFY or SHIM6_ENG_EUNSUPP. */
int  shim6_engine_verify_locators(const struct shim6_in6 *peer_ulid, enum shim6_verif method,
                                  const uint8_t *pds, size_t pds_len,
                                  const struct shim6_locator *locs, size_t nlocs,
                                  const uint8_t *data, size_t len,
                                  const uint8_t *sig, size_t sig_len);

#ifdef __cplusplus
}
#endif
#endif
