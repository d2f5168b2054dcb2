/*
 * pshim6-dnsalg internals.
 *
 * The core is sans-I/O: dnsalg_fast() and dnsalg_slow() take a query's
 * bytes and `now` (milliseconds on a monotonic clock) and return the answer's
 * bytes.  Upstream DNS and the push to pshim6-control are reached through
 * small function tables, so unit tests and the fuzz target run the whole
 * query path with fake upstreams and a fake clock.
 *
 * Errors are negative DNSALG_E* codes.
 */
#ifndef PSHIM6_DNSALG_H
#define PSHIM6_DNSALG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <pthread.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <ldns/ldns.h>

#define DNSALG_ULID_TYPE_DEFAULT 65300
#define DNSALG_MAX_LISTEN     4
#define DNSALG_MAX_UPSTREAMS  4
#define DNSALG_MAX_PREFIXES   4
#define DNSALG_MAX_LOCATORS   8     /* locators kept per ULID; more are dropped */
#define DNSALG_MAX_ULIDS      4     /* ULID records used per name */
#define DNSALG_NAME_MAX       256   /* presentation form incl. NUL */
#define DNSALG_PATH_MAX       256
#define DNSALG_QUERY_MAX      1232  /* larger queries are FORMERR (none legit is) */
#define DNSALG_UDP_OUT_MAX    4096  /* our EDNS buffer size; cap on UDP answers */
#define DNSALG_TCP_OUT_MAX    65535
#define DNSALG_CACHE_WIRE_MAX 4096  /* answers bigger than this are not cached */
#define DNSALG_UPSTREAM_BUFSIZE 1232  /* our EDNS size upstream: larger UDP answers are refused */
#define DNSALG_UPSTREAM_RECV_MAX 65535 /* receive buffer: an oversize answer is seen whole, not cut */
#define DNSALG_EDE_FORGED     4

/* Negative return codes. */
enum {
	DNSALG_OK = 0,
	DNSALG_EDROP = -1,     /* no answer at all (too short to echo, or QR set) */
	DNSALG_EFORMERR = -2,  /* malformed query */
	DNSALG_ENOTIMP = -3,   /* opcode other than QUERY */
	DNSALG_ETIMEOUT = -4,  /* upstream gave no usable answer in time */
	DNSALG_ENOMEM = -5,
	DNSALG_ENOENT = -6,    /* not found (cache miss, no such name) */
	DNSALG_EMISMATCH = -7, /* upstream answer does not match the question */
	DNSALG_EFULL = -8,     /* a bounded queue or table is full */
	DNSALG_EINVAL = -9,
	DNSALG_EBADVERS = -10, /* EDNS version other than 0 */
	DNSALG_EMISS = -11,    /* dnsalg_fast(): needs the slow path */
	DNSALG_ERANDOM = -12,  /* getrandom() gave no fresh bytes */
	DNSALG_EWIRE = -13,    /* upstream answer does not walk: header, names, records */
	DNSALG_ETSIG = -14,    /* upstream answer carries a TSIG record */
};
const char *dnsalg_strerror(int err);

enum dnsalg_dnssec_policy {
	DNSALG_DNSSEC_REWRITE_STRIP = 0, /* rewrite, strip RRSIGs, EDE 4 */
	DNSALG_DNSSEC_PASSTHROUGH = 1,   /* DO + signed: leave the answer alone */
};

struct dnsalg_prefix {
	struct in6_addr addr;
	uint8_t len;
};

struct dnsalg_endpoint {
	struct in6_addr addr;
	uint16_t port;
};

struct dnsalg_host {
	char name[DNSALG_NAME_MAX]; /* absolute, lower case, trailing dot */
	struct in6_addr addr;
};

/* Everything the daemon needs, filled from the config file then the command line. */
struct dnsalg_opts {
	char config_file[DNSALG_PATH_MAX];
	unsigned n_listen;
	struct in6_addr listen[DNSALG_MAX_LISTEN];
	uint16_t port;
	unsigned n_upstreams;
	struct dnsalg_endpoint upstreams[DNSALG_MAX_UPSTREAMS];
	uint16_t ulid_type;
	uint32_t cache_entries;       /* answer cache slots */
	uint32_t ulid_cache_entries;  /* ULID -> locators slots */
	uint32_t max_inflight;        /* queued cache misses */
	uint32_t resolver_threads;    /* threads working on misses (one upstream each) */
	uint32_t udp_threads;
	uint32_t timeout_ms;
	uint32_t tcp_clients;
	uint32_t tcp_idle_ms;
	uint32_t max_ttl;             /* cap on cached TTLs, seconds */
	uint32_t inside_ttl;          /* TTL of inside answers, seconds */
	uint32_t cookie_rotate_s;     /* server-cookie secret rollover; 0 = never */
	enum dnsalg_dnssec_policy dnssec;
	char control_socket[DNSALG_PATH_MAX]; /* our own socket */
	char push_socket[DNSALG_PATH_MAX];    /* pshim6-control's socket; "" = no push */
	char user[64];
	char zone[DNSALG_NAME_MAX];           /* inside zone, absolute, lower case */
	char lease_file[DNSALG_PATH_MAX];     /* Kea memfile CSV; "" = none */
	unsigned n_prefixes;
	struct dnsalg_prefix cmula_prefixes[DNSALG_MAX_PREFIXES];
	unsigned n_hosts;
	struct dnsalg_host *hosts;            /* malloc'd, owned */
	int verbose;
	bool foreground;
};

void dnsalg_opts_defaults(struct dnsalg_opts *o);
void dnsalg_opts_free(struct dnsalg_opts *o);
/* Add a static host "name=addr" or (name, addr); name made absolute under o->zone. */
int dnsalg_opts_add_host(struct dnsalg_opts *o, const char *name, const struct in6_addr *a);
/* Fill from the appliance config file.  Errors printed as file:line: message. */
int dnsalg_opts_load_conf(struct dnsalg_opts *o, const char *path);
/* Normalise a DNS name: lower case, absolute.  Returns 0 or DNSALG_EINVAL. */
int dnsalg_name_norm(const char *in, const char *origin, char *out, size_t outlen);
int dnsalg_endpoint_parse(const char *s, uint16_t defport, struct dnsalg_endpoint *e);
int dnsalg_prefix_parse(const char *s, struct dnsalg_prefix *p);
bool dnsalg_prefix_contains(const struct dnsalg_prefix *p, const struct in6_addr *a);

/* ---- counters (read with {"cmd":"counters"}) ------------------------------ */
#define DNSALG_COUNTERS(X) \
	X(queries_udp) X(queries_tcp) X(answers) X(formerr) X(notimp) X(servfail) \
	X(upstream_timeouts) X(upstream_queries) X(upstream_refused) X(cache_hits) X(cache_misses) \
	X(cache_inserts) X(cache_evictions) X(rewritten) X(no_ulid_passthrough) \
	X(other_passthrough) X(cd_passthrough) X(dnssec_stripped) X(dnssec_passthrough) \
	X(inside_answers) X(inside_ptr) X(truncated) X(ulid_cache_inserts) \
	X(ulid_cache_evictions) X(pushes) X(push_failures) X(push_dropped) \
	X(inflight_full) X(tcp_rejected) X(tcp_timeouts) X(reverse_lookups) X(reverse_failures) \
	X(dropped) X(cookie_new) X(cookie_valid) X(cookie_invalid) X(ecs_forwarded) \
	X(ecs_mismatch) X(edns_opt_ignored) X(cookie_rotations) X(cookie_prev_secret_hits) \
	X(cookie_rotate_failed) X(cookie_old_secret_hits) X(ctl_timeouts) X(accept_failed) \
	X(upstream_tcp_opened) X(upstream_tcp_reused) X(upstream_tcp_reconnects) \
	X(upstream_down) X(upstream_up) X(upstream_skipped)

struct dnsalg_counters {
#define DNSALG_CNT_FIELD(n) _Atomic uint64_t n;
	DNSALG_COUNTERS(DNSALG_CNT_FIELD)
#undef DNSALG_CNT_FIELD
};
#define DNSALG_INC(c, n) atomic_fetch_add_explicit(&(c)->n, 1, memory_order_relaxed)

/* ---- wire-level query parse (query.c) ------------------------------------ */
struct dnsalg_query {
	uint16_t id;
	uint16_t flags;          /* header flags word as received */
	uint16_t qtype, qclass;
	uint8_t qname[255];      /* wire form, as received (case kept) */
	size_t qname_len;
	size_t question_len;     /* qname + 4 */
	bool edns;
	bool do_bit;
	uint16_t edns_size;      /* client's UDP payload size (0 without EDNS) */
	uint8_t edns_version;
	/* The EDNS options the ALG acts on; any other option is ignored (RFC 6891 §6.1.2). */
	uint8_t cookie_len;      /* COOKIE (RFC 7873): 0, 8 (client cookie) or 16..40 */
	uint8_t cookie[40];      /* client cookie, then the server cookie it holds */
	uint8_t ecs_len;         /* CLIENT-SUBNET (RFC 7871) option data: 0 or 4..20 */
	uint8_t ecs[20];         /* family, source and scope prefix lengths, address */
	uint16_t ignored_opts;   /* options not acted on */
};
#define DNSALG_F_QR 0x8000
#define DNSALG_F_AA 0x0400
#define DNSALG_F_TC 0x0200
#define DNSALG_F_RD 0x0100
#define DNSALG_F_RA 0x0080
#define DNSALG_F_AD 0x0020
#define DNSALG_F_CD 0x0010

/*
 * Parse a query.  0 on success.  DNSALG_EDROP when no answer may be sent,
 * DNSALG_EFORMERR / DNSALG_ENOTIMP / DNSALG_EBADVERS when the caller should
 * answer with that error (q->id, q->flags and, when q->question_len != 0,
 * the question are valid).
 */
int dnsalg_query_parse(const uint8_t *in, size_t len, struct dnsalg_query *q);
/* Largest answer the client accepts over UDP. */
size_t dnsalg_query_udp_limit(const struct dnsalg_query *q);
/* Build an answer with no records: rcode (may be extended, e.g. BADVERS=16),
 * optional TC bit.  Returns length or DNSALG_E*. */
int dnsalg_wire_empty_answer(const struct dnsalg_query *q, const uint8_t *in,
			     unsigned rcode, bool tc, uint8_t *out, size_t outcap);

/* ---- EDNS options in answers (edns.c) ------------------------------------- */
#define DNSALG_OPT_ECS     8    /* RFC 7871 */
#define DNSALG_OPT_COOKIE 10    /* RFC 7873 */
#define DNSALG_OPT_EDE    15    /* RFC 8914 */
#define DNSALG_COOKIE_SECRET 16

/* Who asked, and when, for what depends on it (the server cookie). */
struct dnsalg_client {
	struct in6_addr addr;    /* IPv4 clients v4-mapped */
	uint32_t wall_s;         /* seconds since the epoch: RFC 9018's timestamp */
};

/* SipHash-2-4 (the hash RFC 9018 names for server cookies). */
uint64_t dnsalg_siphash24(const uint8_t key[16], const uint8_t *m, size_t len);
/* RFC 9018 server cookie (16 octets: version 1, reserved, timestamp, hash)
 * for this client cookie and address. */
void dnsalg_cookie_make(const uint8_t secret[DNSALG_COOKIE_SECRET], const uint8_t cc[8],
			const struct in6_addr *client, uint32_t wall_s, uint8_t out[16]);
/* q carries a version-1 server cookie no older than an hour and no more
 * than 5 minutes ahead (RFC 9018 §4.3); says nothing of who made it. */
bool dnsalg_cookie_fresh(const struct dnsalg_query *q, uint32_t wall_s);
/* 1 when q carries a server cookie this secret made for this client, no
 * older than an hour and no more than 5 minutes ahead (RFC 9018 §4.3). */
bool dnsalg_cookie_valid(const uint8_t secret[DNSALG_COOKIE_SECRET],
			 const struct dnsalg_query *q, const struct in6_addr *client,
			 uint32_t wall_s);
/* SipHashes dnsalg_cookie_valid() computed in this thread (it adds one for
 * each cookie it hashes, none for one it refuses first): what a check costs,
 * for the suites and benchmarks.  Per thread, so the query threads never
 * share a cache line for it. */
extern _Thread_local unsigned long dnsalg_cookie_hashes;

/* ---- server-cookie secrets and their rollover (cookie_secret.c) ----------- */
/*
 * Where fresh secrets come from: fill buf with len random octets, may_block
 * only at start.  0, or a negative errno.  NULL in the struct means
 * getrandom(); tests put a failing or fixed source here.
 */
typedef int (*dnsalg_random_fn)(void *arg, uint8_t *buf, size_t len, bool may_block);
int dnsalg_getrandom(void *arg, uint8_t *buf, size_t len, bool may_block);

/*
 * The current secret makes every server cookie; a cookie verifies under the
 * current one or under one of the secrets it replaced, for as long as RFC
 * 9018 lets a cookie live (§4.3: an hour; §5: keep a retired secret longer
 * than a client may use one cookie).  A timed rollover keeps
 * dnsalg_cookie_keep(interval) retired secrets, newest first: enough for
 * DNSALG_COOKIE_WINDOW_S after a secret's retirement, at most
 * DNSALG_COOKIE_RETIRED_MAX.  Any thread may make and check cookies; one
 * thread at a time may set, rotate and tick (the fields after n_retired are
 * its own).
 */
#define DNSALG_COOKIE_WINDOW_S 3600u   /* RFC 9018 §4.3: cookies up to an hour old */
#define DNSALG_COOKIE_RETIRED_MAX 32u  /* bound: 32 min at the shortest interval (60 s) */
struct dnsalg_cookie_secrets {
	_Atomic uint32_t seq;        /* odd while a rollover is being written */
	/* current secret, then the retired ones, newest first */
	_Atomic uint64_t key[2 * (1 + DNSALG_COOKIE_RETIRED_MAX)];
	/* for each: the wall-clock second (the clock of RFC 9018's timestamp)
	 * from which it was current; the oldest kept one's is never read (no
	 * older secret is kept, so it stands for all time before the next) */
	_Atomic uint32_t start[1 + DNSALG_COOKIE_RETIRED_MAX];
	_Atomic uint32_t n_retired;  /* retired secrets that still verify */
	/* written by the one writer only; atomic so that the control thread
	 * may read them for the counters reply */
	_Atomic uint32_t interval_s; /* 0 = never rotate */
	_Atomic uint64_t deadline;   /* ms, same clock as `now` */
	dnsalg_random_fn random;     /* NULL: getrandom() */
	void *random_arg;
	int random_err;              /* errno of the last failed draw (positive) */
	uint32_t failures;           /* failed rollovers since the last good one */
	uint32_t recovered;          /* failures before the last good rollover, until logged */
};
enum {
	DNSALG_COOKIE_BAD = 0,       /* no server cookie of ours, or stale */
	DNSALG_COOKIE_CURRENT = 1,
	/* made before the last rollover; PREVIOUS + k: by the secret retired
	 * k rollovers before that one */
	DNSALG_COOKIE_PREVIOUS = 2,
};
/* Retired secrets a timed rollover keeps at this interval: enough that each
 * verifies for DNSALG_COOKIE_WINDOW_S after its retirement (so only the
 * timestamp ends a cookie's life), capped at DNSALG_COOKIE_RETIRED_MAX; 1
 * for intervals of an hour or more, and for 0 (operator rollovers only). */
unsigned dnsalg_cookie_keep(uint32_t interval_s);
/* Draw the first secret (blocking draw); first rollover at now + interval.
 * 0 or DNSALG_ERANDOM (random_err says why; nothing usable is set, so the
 * daemon must not start).  Keeps s->random. */
int dnsalg_cookie_init(struct dnsalg_cookie_secrets *s, uint32_t interval_s, uint64_t now);
/* Start over from a given secret, no retired ones (tests, fixed setups). */
void dnsalg_cookie_set(struct dnsalg_cookie_secrets *s, const uint8_t secret[DNSALG_COOKIE_SECRET],
		       uint32_t interval_s, uint64_t now);
/* Roll over now: a fresh secret (non-blocking draw) becomes current from
 * wall_s (seconds since the epoch, the clock of the cookies' timestamps),
 * the current one the newest retired one; of the retired ones the
 * dnsalg_cookie_keep(interval) newest stay.  Counts cookie_rotations.
 * On a failed draw nothing changes but the count cookie_rotate_failed,
 * random_err and failures (1 on the first failure since a good rollover:
 * the caller logs then).  0, or DNSALG_ERANDOM.  Does not move the deadline
 * when it fails. */
int dnsalg_cookie_rotate(struct dnsalg_cookie_secrets *s, uint64_t now, uint32_t wall_s,
			 struct dnsalg_counters *cnt);
/* An operator's rollover (SIGUSR1, a secret feared leaked): as
 * dnsalg_cookie_rotate(), but only the secret it retires stays; every older
 * one is forgotten, so two in a row leave none that was in use before. */
int dnsalg_cookie_rotate_forget(struct dnsalg_cookie_secrets *s, uint64_t now, uint32_t wall_s,
				struct dnsalg_counters *cnt);
/* Roll over when the deadline (monotonic, as now) has come, the new secret
 * current from wall_s: 1 rotated, 0 not due (or interval
 * 0), DNSALG_ERANDOM: the secrets stay and the next try is one interval
 * later, like a rollover that worked (no tight retry loop on a source that
 * keeps failing). */
int dnsalg_cookie_tick(struct dnsalg_cookie_secrets *s, uint64_t now, uint32_t wall_s,
		       struct dnsalg_counters *cnt);
/* Change the rollover interval of running secrets (SIGHUP): every secret
 * stays, so every cookie out there keeps verifying; the next rollover is one
 * new interval from now (never for 0) and keeps dnsalg_cookie_keep() of the
 * new interval.  Returns false, touching nothing, when the interval is the
 * same (so repeated reloads never postpone a rollover). */
bool dnsalg_cookie_set_interval(struct dnsalg_cookie_secrets *s, uint32_t interval_s, uint64_t now);
/* What the writer logs after a tick or rotate returned r, into buf: the
 * first failure of a run (with its errno and the next try), and the first
 * good rollover after failures; "" otherwise, so a source that keeps failing
 * is logged once, not at every try.  Returns the length. */
int dnsalg_cookie_log_line(struct dnsalg_cookie_secrets *s, int r, char *buf, size_t len);
/* When dnsalg_cookie_tick() has work next; UINT64_MAX for never. */
uint64_t dnsalg_cookie_deadline(const struct dnsalg_cookie_secrets *s);
/* Retired secrets that still verify. */
unsigned dnsalg_cookie_retired(struct dnsalg_cookie_secrets *s);
/* A server cookie for this client cookie and address, with the current secret. */
void dnsalg_cookie_server(struct dnsalg_cookie_secrets *s, const uint8_t cc[8],
			  const struct in6_addr *client, uint32_t wall_s, uint8_t out[16]);
/* Which secret made q's server cookie (within RFC 9018's time window):
 * DNSALG_COOKIE_BAD, _CURRENT, or _PREVIOUS + k.  Only the secrets that can
 * have made a cookie with that timestamp are tried: the one current at it
 * (the newest whose start is not after it; the oldest kept for a timestamp
 * before them all) and its two neighbours, for a rollover in the same
 * second and a wall clock stepped by less than the time between two
 * rollovers.  So it costs one SipHash for a cookie of the current secret,
 * at most DNSALG_COOKIE_CHECK_HASHES whatever the number of kept secrets,
 * none for a stale or malformed one. */
#define DNSALG_COOKIE_CHECK_HASHES 3u
int dnsalg_cookie_check(struct dnsalg_cookie_secrets *s, const struct dnsalg_query *q,
			const struct in6_addr *client, uint32_t wall_s);
/* Copy out the current secret (age 0) or the one retired age rollovers ago
 * (1: the previous one); false, out zeroed, if none is kept.  For tests. */
bool dnsalg_cookie_secret_get(struct dnsalg_cookie_secrets *s, unsigned age,
			      uint8_t out[DNSALG_COOKIE_SECRET]);
/* The same, and the wall-clock second it became current (*start, 0 when
 * none is kept), both from one consistent view.  For tests. */
bool dnsalg_cookie_secret_at(struct dnsalg_cookie_secrets *s, unsigned age,
			     uint8_t out[DNSALG_COOKIE_SECRET], uint32_t *start);
/*
 * The offset just past the (possibly compressed) name at `off` in the
 * message w[0..len), or 0 when it runs past the end, uses a label type
 * other than a length or a pointer, or has over 127 labels.  A pointer
 * ends the name here: it is not followed.
 */
size_t dnsalg_wire_skip_name(const uint8_t *w, size_t len, size_t off);
/*
 * Offset of the OPT RR's TYPE field (just after its root owner) when the
 * message's last RR is an OPT, as in every answer the ALG builds; else -1.
 */
long dnsalg_wire_opt_at(const uint8_t *w, size_t len);
/*
 * Keep in an upstream answer only the options a client of ours may get:
 * EDE, and CLIENT-SUBNET when q sent one and the answer echoes its family,
 * source prefix length and address.  Edits w in place; returns the new
 * length, or DNSALG_EMISMATCH when the answer's CLIENT-SUBNET is not the
 * one sent (RFC 7871 §7.3: such an answer is dropped).
 */
int dnsalg_wire_opt_filter(uint8_t *w, size_t len, const struct dnsalg_query *q,
			   struct dnsalg_counters *cnt);

/* ---- TCP connection bound (tcpq.c; the caller holds the lock) ------------- */
struct dnsalg_tcpq {
	uint32_t max;            /* connections open at once: one per TCP thread */
	uint32_t open;           /* queued or being served */
	uint32_t head, count;    /* accepted, waiting for a thread */
	int *fds;
};
int dnsalg_tcpq_init(struct dnsalg_tcpq *t, uint32_t max);
void dnsalg_tcpq_free(struct dnsalg_tcpq *t);
/* 0 and queued, or DNSALG_EFULL with tcp_rejected counted: close it. */
int dnsalg_tcpq_offer(struct dnsalg_tcpq *t, int fd, struct dnsalg_counters *cnt);
/* Next waiting connection, or -1. */
int dnsalg_tcpq_take(struct dnsalg_tcpq *t);
/* A taken connection was closed: its slot is free again. */
void dnsalg_tcpq_done(struct dnsalg_tcpq *t);

/* ---- answer cache (cache.c) ---------------------------------------------- */
struct dnsalg_acache;
struct dnsalg_acache *dnsalg_acache_new(uint32_t entries, uint32_t max_ttl);
void dnsalg_acache_free(struct dnsalg_acache *c);
/*
 * Look up the answer for query q (raw bytes `in`).  On a hit, writes the
 * answer with the query's ID, flags and question case, TTLs aged to `now`.
 * Returns the length, DNSALG_ENOENT on miss or expiry, DNSALG_EFULL when it
 * does not fit outcap.
 */
int dnsalg_acache_get(struct dnsalg_acache *c, const struct dnsalg_query *q,
		      const uint8_t *in, uint64_t now, uint8_t *out, size_t outcap);
/* Store `wire` (an answer to q) for its minimum TTL.  0, or DNSALG_EINVAL
 * when not cacheable. Evicts within a bounded window when full. */
int dnsalg_acache_put(struct dnsalg_acache *c, const struct dnsalg_query *q,
		      const uint8_t *wire, size_t len, uint64_t now,
		      struct dnsalg_counters *cnt);
uint32_t dnsalg_acache_count(struct dnsalg_acache *c);
/* Minimum TTL over every RR of a wire message (not OPT), or -1 if none /
 * malformed.  For NXDOMAIN/NODATA the SOA's TTL and MINIMUM give it. */
int64_t dnsalg_wire_min_ttl(const uint8_t *wire, size_t len);

/* ULID -> locators, bounded, TTL-bound. */
struct dnsalg_ulid_entry {
	struct in6_addr ulid;
	char name[DNSALG_NAME_MAX];
	unsigned n_locators;
	struct in6_addr locators[DNSALG_MAX_LOCATORS];
	uint32_t ttl;            /* seconds; on get: remaining */
};
struct dnsalg_ucache;
struct dnsalg_ucache *dnsalg_ucache_new(uint32_t entries);
void dnsalg_ucache_free(struct dnsalg_ucache *c);
/* 1 when new or changed (worth pushing), 0 when the same mapping was refreshed. */
int dnsalg_ucache_put(struct dnsalg_ucache *c, const struct dnsalg_ulid_entry *e,
		      uint64_t now, struct dnsalg_counters *cnt);
int dnsalg_ucache_get(struct dnsalg_ucache *c, const struct in6_addr *ulid,
		      uint64_t now, struct dnsalg_ulid_entry *out);
uint32_t dnsalg_ucache_count(struct dnsalg_ucache *c);

/* ---- inside hosts (inside.c) --------------------------------------------- */
struct dnsalg_inside;
struct dnsalg_inside *dnsalg_inside_new(const struct dnsalg_opts *o);
void dnsalg_inside_free(struct dnsalg_inside *in);
/* Replace the static hosts (config reload); lease hosts are kept. */
int dnsalg_inside_set_hosts(struct dnsalg_inside *in, const struct dnsalg_host *h, unsigned n);
/* Re-read the Kea lease file when it changed (checked at most once a second). */
void dnsalg_inside_refresh(struct dnsalg_inside *in, uint64_t now);
/* Parse Kea memfile lease6 CSV text into hosts; returns count or DNSALG_E*. */
int dnsalg_kea_leases_parse(const char *text, size_t len, const char *zone, time_t wall_now,
			    struct dnsalg_host *out, unsigned max);
/*
 * Answer q locally if it is for an inside name (AAAA/any type for a host
 * name, PTR for a known CMULA).  Returns answer length, or DNSALG_ENOENT when
 * the query is not ours.
 */
int dnsalg_inside_answer(struct dnsalg_inside *in, const struct dnsalg_query *q,
			 const uint8_t *wire, uint8_t *out, size_t outcap);

/* ---- upstream (upstream.c) and push (ctlsock.c) -------------------------- */
struct dnsalg_upstream_ops {
	/* Send q; on 0, *ans is the matching answer (caller frees).
	 * DNSALG_ETIMEOUT when none came.  tcp: ask over TCP. */
	int (*query)(void *arg, ldns_pkt *q, bool tcp, ldns_pkt **ans);
	void *arg;
};
/*
 * The ALG's own transport (upstream.c): each upstream in turn, in the
 * order the health state gives (upstream_health.c), with its own port, for
 * timeout_ms / n_upstreams; over UDP a connected socket per try,
 * over TCP connections kept between queries (upstream_keep.c).  Only answers that pass
 * dnsalg_upstream_wire_check() reach ldns.  One per thread.
 */
struct dnsalg_upstream;
struct dnsalg_counters;
/* cnt (may be NULL) counts upstream_refused: datagrams and TCP answers that
 * failed dnsalg_upstream_wire_check(), were larger than our EDNS size over
 * UDP, or that ldns would not parse. */
struct dnsalg_upstream *dnsalg_upstream_new(const struct dnsalg_opts *o, struct dnsalg_counters *cnt);
void dnsalg_upstream_free(struct dnsalg_upstream *u);
struct dnsalg_upstream_ops dnsalg_upstream_ops(struct dnsalg_upstream *u);
/* Use keep k (shared by the daemon's threads) for TCP connections instead
 * of the one of u's own; k must outlive u. */
struct dnsalg_upstream_keep;
void dnsalg_upstream_share(struct dnsalg_upstream *u, struct dnsalg_upstream_keep *k);
/* Likewise for the upstreams' health (upstream_health.c): u orders its
 * tries by h and reports each one to it; h must outlive u. */
struct dnsalg_health;
void dnsalg_upstream_share_health(struct dnsalg_upstream *u, struct dnsalg_health *h);
/* The upstream servers in force and a query's time to ask them
 * (upstream_list.c), which a reload may replace: gen moves with every
 * change of either.  The timeout travels with the servers because each
 * server's share is computed from both: a query never starts with one of
 * them new and the other old. */
struct dnsalg_upstream_list {
	pthread_mutex_t lock;
	_Atomic uint32_t gen;
	unsigned n;
	struct dnsalg_endpoint ep[DNSALG_MAX_UPSTREAMS];
	uint32_t timeout_ms;
};
/* 0, DNSALG_EINVAL (n is 0 or over DNSALG_MAX_UPSTREAMS, or timeout_ms 0)
 * or DNSALG_ENOMEM. */
int dnsalg_upstream_list_init(struct dnsalg_upstream_list *l, const struct dnsalg_endpoint *ep, unsigned n,
			      uint32_t timeout_ms);
void dnsalg_upstream_list_fini(struct dnsalg_upstream_list *l);
/* 1 when the servers or the timeout changed, 0 when both are the same, or
 * DNSALG_EINVAL (as for init). */
int dnsalg_upstream_list_set(struct dnsalg_upstream_list *l, const struct dnsalg_endpoint *ep, unsigned n,
			     uint32_t timeout_ms);
/* Copy the list to ep[DNSALG_MAX_UPSTREAMS]; its size, the timeout in
 * *timeout_ms and the list's gen in *gen. */
unsigned dnsalg_upstream_list_get(struct dnsalg_upstream_list *l, struct dnsalg_endpoint *ep,
				  uint32_t *timeout_ms, uint32_t *gen);
/* As a log line lists them; its length or DNSALG_EFULL. */
int dnsalg_upstream_list_format(const struct dnsalg_endpoint *ep, unsigned n, char *out, size_t cap);
/* u asks l's servers for l's timeout from now on, taking both when the next
 * query starts after a change (timeout_ms shared out again); a query under
 * way keeps what it started with.  l must outlive u. */
void dnsalg_upstream_follow(struct dnsalg_upstream *u, struct dnsalg_upstream_list *l);

/* An upstream as the transport connects to it (a v4-mapped one as AF_INET). */
struct dnsalg_upstream_addr {
	struct sockaddr_storage sa;
	socklen_t salen;
};

/* ---- upstream health, shared by the threads (upstream_health.c) ----------- */
/*
 * Sans-I/O: `now` is milliseconds on the dnsalg_now_ms clock, passed in.
 * State is kept per upstream address (so a changed upstream list starts
 * clean for each new address), at most DNSALG_MAX_UPSTREAMS of them; an
 * address not in the list being ordered makes room for a new one.  Any
 * thread may call any function (one mutex).
 *
 * An upstream goes DOWN after DNSALG_HEALTH_FAILS failed tries in a row
 * (no valid answer within its share: a timeout, a refused connection or
 * port, a refused answer) and is held for DNSALG_HEALTH_HOLD_MS; when the
 * hold runs out one query at a time gets it as a trial, asked first; a
 * failed trial doubles the hold, up to DNSALG_HEALTH_HOLD_MAX_MS.  Any
 * valid answer, trial or not, makes it UP and forgets the hold.
 */
#define DNSALG_HEALTH_FAILS       3
#define DNSALG_HEALTH_HOLD_MS     1000u
#define DNSALG_HEALTH_HOLD_MAX_MS 30000u
/* What a report changed. */
enum {
	DNSALG_HEALTH_SAME = 0,
	DNSALG_HEALTH_WENT_DOWN = 1,   /* counted upstream_down */
	DNSALG_HEALTH_WENT_UP = 2,     /* counted upstream_up */
};
struct dnsalg_health_info {
	bool down;
	bool trial;                    /* DOWN: a query holds its trial */
	uint32_t fails;                /* failed tries since the last answer */
	uint32_t hold_ms;              /* DOWN: the current hold */
	uint64_t retry_at;             /* DOWN: no trial before then */
	uint64_t down_since;           /* when it last went DOWN (kept once UP: for the log) */
};
struct dnsalg_health *dnsalg_health_new(void);
void dnsalg_health_free(struct dnsalg_health *h);
/*
 * The order in which one query tries the n upstreams to[0..n): order[0..n)
 * gets each index once.  A DOWN upstream whose hold has run out and whose
 * trial nobody holds goes first, as this query's trial (*trial = its
 * index, else -1; at most one a query); then the UP ones; then the other
 * DOWN ones, each counted upstream_skipped.  Within each group, in the
 * order of to[].  So every upstream is in the order, whatever its state.
 * Returns n, or DNSALG_EINVAL (n is 0 or over DNSALG_MAX_UPSTREAMS, or a
 * salen over the storage).  cnt may be NULL.
 */
int dnsalg_health_order(struct dnsalg_health *h, const struct dnsalg_upstream_addr *to, unsigned n,
			uint64_t now, unsigned *order, int *trial, struct dnsalg_counters *cnt);
/*
 * The outcome of one try of a: answered (a valid answer) or not; trial:
 * this try was the query's trial (every trial handed out must be
 * reported, or no other query gets one for a).  Fills *after (may be
 * NULL) with the state it left.  Returns DNSALG_HEALTH_SAME, _WENT_DOWN
 * or _WENT_UP, or DNSALG_ENOENT when a is not in the table (ordered by no
 * one, or made room for since).  cnt may be NULL.
 */
int dnsalg_health_report(struct dnsalg_health *h, const struct dnsalg_upstream_addr *a, bool answered,
			 bool trial, uint64_t now, struct dnsalg_counters *cnt,
			 struct dnsalg_health_info *after);
/* The state of a: 0, or DNSALG_ENOENT when it is not in the table. */
int dnsalg_health_get(struct dnsalg_health *h, const struct dnsalg_upstream_addr *a,
		      struct dnsalg_health_info *out);
/* Addresses in the table. */
unsigned dnsalg_health_count(struct dnsalg_health *h);
/* The log line (no prefix, no newline) for what a report returned: its
 * length, 0 for DNSALG_HEALTH_SAME, DNSALG_EFULL when it does not fit. */
int dnsalg_health_format(const struct dnsalg_upstream_addr *a, int change,
			 const struct dnsalg_health_info *i, uint64_t now, char *out, size_t cap);

/* ---- TCP connections kept to the upstreams (upstream_keep.c) -------------- */
/* Servers close idle clients after some seconds (nsd: tcp-timeout 120 s,
 * BIND: tcp-idle-timeout 30 s); closing ours first keeps the common case
 * free of the reconnect, and an idle one does not hold a server's TCP slot
 * for long. */
#define DNSALG_UPSTREAM_KEEP_MS  10000
#define DNSALG_UPSTREAM_KEEP_PER 4     /* kept connections an upstream address */
#define DNSALG_UPSTREAM_KEEP_MAX (DNSALG_UPSTREAM_KEEP_PER * DNSALG_MAX_UPSTREAMS)
struct dnsalg_upstream_keep *dnsalg_upstream_keep_new(void);
void dnsalg_upstream_keep_free(struct dnsalg_upstream_keep *k);   /* closes what it holds */
/* The connection to sa put back last, if not idle DNSALG_UPSTREAM_KEEP_MS
 * yet (now: dnsalg_now_ms clock), or -1; the caller owns it. */
int dnsalg_upstream_keep_take(struct dnsalg_upstream_keep *k, const struct sockaddr_storage *sa, socklen_t salen,
			      uint64_t now);
/* Keep fd, connected to sa and at a message boundary; beyond the bounds the
 * connection idle longest (for sa, else any) is closed. */
void dnsalg_upstream_keep_put(struct dnsalg_upstream_keep *k, int fd, const struct sockaddr_storage *sa,
			      socklen_t salen, uint64_t now);
/* Close those idle DNSALG_UPSTREAM_KEEP_MS; when the next one is due, or
 * UINT64_MAX when none is kept. */
uint64_t dnsalg_upstream_keep_idle(struct dnsalg_upstream_keep *k, uint64_t now);
/* wake(arg) when a connection is put back while the caller of
 * dnsalg_upstream_keep_idle() knows no deadline (its last call found none
 * kept): once, until it calls again.  Called without the lock held. */
void dnsalg_upstream_keep_waker(struct dnsalg_upstream_keep *k, void (*wake)(void *), void *arg);
unsigned dnsalg_upstream_keep_count(struct dnsalg_upstream_keep *k);
/*
 * Check an upstream answer (m, len) to the query with this ID before ldns
 * parses it (upstream_wire.c, pure).  0 when it may go to ldns_wire2pkt();
 * DNSALG_EWIRE: shorter than a header, a record or name running past the
 * end, a section count larger than the message holds, a label type other
 * than 0 or a compression pointer, a pointer that does not point back to
 * an earlier offset past the header, a name longer than 255 octets or of
 * more than 127 labels and pointers; DNSALG_EMISMATCH: another ID, or QR
 * clear; DNSALG_ETSIG: a TSIG record (type 250) in any section (the ALG
 * signs no query, so no TSIG answer is meant for it; and ldns 1.8.3 leaks
 * all but the last one).  Bytes after the last record are ignored, as ldns
 * does: the answer is re-encoded before it reaches a client.
 */
int dnsalg_upstream_wire_check(const uint8_t *m, size_t len, uint16_t id);

struct dnsalg_push_ops {
	/* Queue one JSON line for pshim6-control; must not block. */
	int (*push)(void *arg, const char *line);
	void *arg;
};

/* ---- the query engine (query.c, rewrite.c, reverse.c) -------------------- */
struct dnsalg_ctx {
	const struct dnsalg_opts *o;
	struct dnsalg_counters *cnt;
	struct dnsalg_acache *acache;
	struct dnsalg_ucache *ucache;
	struct dnsalg_inside *inside;
	struct dnsalg_push_ops push;
	struct dnsalg_cookie_secrets cookie; /* random at start, rolled over by the main thread */
	/* o->tcp_idle_ms at start, then what a reload sets: the TCP threads
	 * read it for each query (o is const once they run) */
	_Atomic uint32_t tcp_idle_ms;
	/* the upstream servers in force and their timeout, which a reload
	 * may replace; NULL: the start options' for good */
	struct dnsalg_upstream_list *upstreams;
};

/*
 * Fast path: parse, answer errors, inside names and cache hits.
 * Returns answer length; DNSALG_EMISS when dnsalg_slow() must run (q filled);
 * DNSALG_EDROP when nothing is to be sent.
 */
int dnsalg_fast(struct dnsalg_ctx *x, const uint8_t *in, size_t len, bool tcp,
		uint64_t now, struct dnsalg_query *q, uint8_t *out, size_t outcap);
/* Slow path: ask upstream, rewrite, cache, push.  Returns answer length. */
int dnsalg_slow(struct dnsalg_ctx *x, const struct dnsalg_upstream_ops *up,
		const struct dnsalg_query *q, const uint8_t *in, bool tcp,
		uint64_t now, uint8_t *out, size_t outcap);
/*
 * Last step for every answer of dnsalg_fast/dnsalg_slow (n bytes in out):
 * a query with a COOKIE gets its client cookie back with a fresh server
 * cookie (RFC 7873 §5.2).  Over UDP an answer that no longer fits the
 * client's limit becomes an empty TC answer carrying the cookie.  Returns
 * the new length (n when there is nothing to add).
 */
int dnsalg_edns_finish(struct dnsalg_ctx *x, const struct dnsalg_query *q, const uint8_t *in,
		       const struct dnsalg_client *cl, bool tcp, uint8_t *out, int n, size_t outcap);
/* All three, for TCP and tests. */
int dnsalg_handle(struct dnsalg_ctx *x, const struct dnsalg_upstream_ops *up,
		  const struct dnsalg_client *cl, const uint8_t *in, size_t len, bool tcp,
		  uint64_t now, uint8_t *out, size_t outcap);

/* Inputs and outputs of the AAAA rewrite (rewrite.c, pure). */
struct dnsalg_rw_result {
	bool rewritten;
	bool signed_answer;      /* AAAA set carried RRSIGs */
	bool stripped;           /* signatures removed */
	struct dnsalg_ulid_entry map[DNSALG_MAX_ULIDS];
	unsigned n_map;
	uint32_t ttl;
};
/*
 * Rewrite `resp` (a copy of the upstream AAAA answer, edited in place) with
 * the ULID records of `ulid_ans`.  Pure: no I/O.  Returns 0 (see r->rewritten)
 * or DNSALG_E*.
 */
int dnsalg_rewrite_aaaa(ldns_pkt *resp, const ldns_pkt *ulid_ans, uint16_t ulid_type,
			bool client_do, enum dnsalg_dnssec_policy policy,
			struct dnsalg_rw_result *r);
/* Append EDE (RFC 8914) info-code and text to resp's EDNS options. */
int dnsalg_add_ede(ldns_pkt *resp, uint16_t code, const char *text);
/* JSON line for pshim6-control's peer-locators command. */
int dnsalg_push_line(const struct dnsalg_ulid_entry *e, char *out, size_t outcap);

/* An upstream answer is for the query `uq`: QR set, the same ID, and the
 * same one question (name, type, class). */
bool dnsalg_answer_matches(const ldns_pkt *uq, const ldns_pkt *ans);

/* Reverse lookup for control: PTR of the CMULA, then AAAA + ULID of the name. */
int dnsalg_reverse_resolve(struct dnsalg_ctx *x, const struct dnsalg_upstream_ops *up,
			   const struct in6_addr *ulid, uint64_t now,
			   struct dnsalg_ulid_entry *out);

/* ---- SIGHUP reload (reload.c) -------------------------------------------- */
/* What a reload keeps from the command line (which overrides the file). */
struct dnsalg_reload_keep {
	unsigned n_conf_hosts;       /* run->hosts past this index came from -H */
	bool cookie_rotate_cmdline;  /* -K given: the file's cookie_rotate_s is not applied */
	bool tcp_idle_cmdline;       /* -I given: the file's tcp_idle_ms is not applied */
	bool upstreams_cmdline;      /* -u given: the file's upstreams are not applied */
	bool timeout_cmdline;        /* -T given: the file's timeout_ms is not applied */
};
/*
 * Re-read run->config_file and apply the inside hosts,
 * dnsalg.cookie_rotate_s (secrets kept, next rollover one new interval from
 * now), dnsalg.tcp_idle_ms (from each connection's next query on; one
 * waiting for a query keeps the deadline it has), dnsalg.upstreams and
 * dnsalg.timeout_ms (into x->upstreams, from each thread's next query on;
 * a query under way keeps its servers and time).  A config with errors
 * (printed as file:line) changes nothing.
 * Writes what changed to log.  0, DNSALG_EINVAL or DNSALG_ENOMEM.  Run by
 * the thread that ticks the cookie secrets.
 */
int dnsalg_reload(struct dnsalg_ctx *x, const struct dnsalg_opts *run,
		  const struct dnsalg_reload_keep *keep, uint64_t now, FILE *log);

/* ---- control socket (ctlsock.c) ------------------------------------------ */
/* Handle one request line; writes one reply line (with '\n'). */
int dnsalg_ctl_handle(struct dnsalg_ctx *x, const struct dnsalg_upstream_ops *up,
		      const char *line, uint64_t now, char *out, size_t outcap);
/* Find the string (or bare scalar) value of "key" in a flat JSON object. */
int dnsalg_json_get(const char *json, const char *key, char *out, size_t outcap);

/* Bounded queue of JSON lines pushed to pshim6-control by one thread. */
struct dnsalg_pusher;
struct dnsalg_pusher *dnsalg_pusher_start(const char *path, uint32_t depth,
					  struct dnsalg_counters *cnt);
void dnsalg_pusher_stop(struct dnsalg_pusher *p);
int dnsalg_pusher_push(void *p, const char *line);

uint64_t dnsalg_now_ms(void);
/* How long a thread may wait before it looks at the stop flag again. */
#define DNSALG_STOP_CHECK_MS 500
/* Move exactly n bytes in (POLLIN) or out (POLLOUT) on a non-blocking
 * stream socket by `deadline` (dnsalg_now_ms clock), waking every
 * DNSALG_STOP_CHECK_MS for `stop` (NULL: none): 0, -2 past the deadline, -1
 * when the peer closes, on an error or at stop (xfer.c). */
int dnsalg_xfer_full(int fd, uint8_t *b, size_t n, short dir, uint64_t deadline, const _Atomic bool *stop);

#endif
