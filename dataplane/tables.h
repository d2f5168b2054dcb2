/*
 * Context and HBA host tables.  Lcores read them lock-free (the context
 * index in lut.h; rte_hash with RW_CONCURRENCY_LF for the rest); only the
 * channel thread writes.  An entry is never changed in place: a modify
 * copies it into a fresh slot and publishes it with one store.  The old slot
 * (and a deleted context's hash key positions) goes on a bounded
 * deferred-free queue with a QSBR token and returns to the free lists once
 * every reader has passed a quiescent state; the writer waits only when the
 * queue is full.  So a burst of relocations (an ISP failing under thousands
 * of contexts) costs microseconds per context, not a grace period each.
 */
#ifndef PSHIM6_DP_TABLES_H
#define PSHIM6_DP_TABLES_H

#include <time.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_rcu_qsbr.h>
#ifdef __SSE4_2__
#include <nmmintrin.h>
#endif
#ifdef __SSE4_1__
#include <smmintrin.h>
#endif

#include "lut.h"
#include "pshim6/dpmsg.h"
#include "site.h"

/* Hash keys are read 8 octets at a time by rte_hash_crc: keep them aligned. */
struct dp_ulid_key {
	uint8_t local[16];
	uint8_t remote[16];
} __attribute__((aligned(8)));

struct dp_addr_key {
	uint8_t a[16];
} __attribute__((aligned(8)));

#define DP_DEFER_MAX 4096             /* most writes in flight before the writer waits for readers */

/* Something readers may still see: freed after a grace period. */
struct dp_defer {
	uint64_t token;
	uint64_t own_tag;             /* a modify: stamps the old slot got late go to this context */
	uint32_t slot;                /* context slot */
	int32_t  pos_ptag;            /* peer-tag key position to free, or -1 */
	bool     merge;
};

/*
 * The REAP stamps' clock: milliseconds of CLOCK_MONOTONIC (control's own
 * clock) since the tables were made.  Lcores read it off the TSC from an
 * anchor the channel thread sets again every 100 ms
 * (dp_tables_clock_sync), at the TSC rate measured against CLOCK_MONOTONIC
 * over the whole run.  A fixed rate was wrong twice over: DPDK rounds the
 * TSC rate (to 10 MHz on x86 without CPUID leaf 0x15: 0.19% off on the
 * benchmark machine), and NTP slews CLOCK_MONOTONIC.  Stamps fell 7 s an
 * hour behind control's clock, and REAP, which sets its timers from them,
 * would have taken healthy paths for dead after a few hours.  The anchor
 * is several words: a seqlock keeps an lcore from reading half of one.
 */
struct dp_stamp_clock {
	uint32_t seq;                 /* odd while the channel thread rewrites it */
	uint32_t ms;                  /* the clock at `tsc`, the start of that millisecond */
	uint64_t tsc, per_ms;         /* per_ms: TSC ticks a millisecond, measured */
	uint64_t first_tsc, first_ns; /* where the measure started (writer only) */
};

struct dp_tables {
	uint32_t cap;                 /* contexts */
	uint32_t host_cap;
	uint32_t n_ctx, n_host;
	struct dp_ctx *slots;         /* cap + 1 slots: one spare for a modify */
	uint32_t *slot_free, n_slot_free;
	struct dp_defer *defer;       /* FIFO of defer_max, oldest token first */
	uint32_t defer_max, defer_head, n_defer;
	uint64_t defer_waits;         /* times the writer had to wait for readers */
	struct dp_lut l_ulid;         /* (local ULID, remote ULID) -> slot (egress) */
	struct dp_lut l_tag;          /* own tag -> slot (ingress) */
	struct rte_hash *h_ptag;      /* peer tag -> ctx (ICMP errors); best effort */
	struct dp_host *hosts;
	uint32_t *host_free, n_host_free;
	struct rte_hash *h_host;      /* CMULA -> host */
	struct rte_hash *h_hostloc;   /* any locator -> host */
	struct rte_rcu_qsbr *qs;
	unsigned n_readers;
	uint64_t mono0_ns;            /* CLOCK_MONOTONIC when made: the stamps' 0 */
	struct dp_stamp_clock clk;
	uint64_t mem_bytes;           /* hugepage memory the tables took */
};

struct dp_tables *dp_tables_create(const char *name, uint32_t cap, uint32_t host_cap,
				   unsigned n_readers, int socket);
void dp_tables_free(struct dp_tables *t);

/* Writer side (channel thread).  Return 0 or a DPMSG_ERR_* code (positive). */
int dp_ctx_add(struct dp_tables *t, const struct dpmsg_ctx *c, unsigned n_isp);
int dp_ctx_mod(struct dp_tables *t, const struct dpmsg_ctx_mod *m, unsigned n_isp);
int dp_ctx_del(struct dp_tables *t, uint64_t own_tag);
int dp_host_add(struct dp_tables *t, const struct dpmsg_host *h);
int dp_host_del(struct dp_tables *t, const uint8_t cmula[16]);
void dp_ctx_to_msg(const struct dp_ctx *c, struct dpmsg_ctx *out);
/* Latest stamps over all readers, CLOCK_MONOTONIC ns at the start of their
 * millisecond; 0 = never. */
int dp_ctx_stamps(struct dp_tables *t, uint64_t own_tag, uint64_t *sent, uint64_t *recv);
/* Installed contexts one by one (writer side, dumps): start with *it = 0; NULL at the end. */
struct dp_ctx *dp_ctx_next(struct dp_tables *t, uint32_t *it);
/* A context's latest stamps, as dp_ctx_stamps gives them; 0 = never. */
struct dp_stamps {
	uint64_t own_tag;
	uint64_t sent, recv;
};
/*
 * One step of a walk over the contexts for REAP (writer side): from
 * *cursor (dp_ctx_next's iterator; 0 = the start) look at no more than
 * max_slots contexts (DPMSG_SCAN_SLOTS_MAX at most) and put in out[] those
 * with a stamp later than `since` (CLOCK_MONOTONIC ns; 0 = any stamp, and a stamp in the
 * same millisecond as `since` counts as later), until n_out are there,
 * reading no more than 4 x max_slots + 4,096 ways of the index (in a
 * sparse one a step then ends early, having looked at fewer).
 * *cursor becomes where the next step goes on, the first context not
 * looked at, or DPMSG_SCAN_END when the walk reached the end.  A context
 * modified during a walk keeps its place; one added may be missed.
 * Returns how many are in out[].
 */
unsigned dp_ctx_scan(struct dp_tables *t, uint32_t *cursor, uint32_t max_slots, uint64_t since,
		     struct dp_stamps *out, unsigned n_out);
/* Anchor the stamps' clock: TSC `tsc` read at CLOCK_MONOTONIC `mono_ns`.
 * dp_tables_clock_now() reads both clocks itself; it skips a reading that
 * was interrupted between them. */
void dp_tables_clock_sync(struct dp_tables *t, uint64_t tsc, uint64_t mono_ns);
void dp_tables_clock_now(struct dp_tables *t);
/* Return what the readers have finished with; `wait` blocks for the oldest. */
void dp_tables_reclaim(struct dp_tables *t, bool wait);

/* Reader side (lcores). */

/* CLOCK_MONOTONIC in ns: the channel thread's clock and the stamps' reference. */
static inline uint64_t dp_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The stamps' clock at TSC `now` (once a burst), never 0. */
static __rte_always_inline uint32_t dp_tables_ms(const struct dp_tables *t, uint64_t now)
{
	uint32_t seq, ms;
	uint64_t tsc, per;

	do {
		seq = __atomic_load_n(&t->clk.seq, __ATOMIC_ACQUIRE);
		ms = __atomic_load_n(&t->clk.ms, __ATOMIC_RELAXED);
		tsc = __atomic_load_n(&t->clk.tsc, __ATOMIC_RELAXED);
		per = __atomic_load_n(&t->clk.per_ms, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while ((seq & 1) || seq != __atomic_load_n(&t->clk.seq, __ATOMIC_RELAXED));
	if ((int64_t)(now - tsc) > 0)   /* `now` may be older than an anchor set since */
		ms += (uint32_t)((now - tsc) / per);
	return ms ? ms : 1;
}

/* REAP stamp of `reader` (dir 0 sent, 1 received); a store only when it changes. */
static __rte_always_inline void dp_ctx_stamp(const struct dp_ctx *c, unsigned reader, unsigned dir, uint32_t ms)
{
	uint32_t *s = (uint32_t *)(uintptr_t)&c->stamp[reader % DP_CTX_STAMPS][dir];
	if (__atomic_load_n(s, __ATOMIC_RELAXED) != ms)
		__atomic_store_n(s, ms, __ATOMIC_RELAXED);
}

/*
 * One CRC32-C step on 8 octets, the value rte_hash_crc_8byte gives.  When
 * the build targets SSE4.2 (DPDK's -march does on x86) the instruction
 * itself: rte_hash_crc_8byte tests its run-time choice of algorithm on
 * every call and truncates the running value to 32 bits between steps.
 */
static __rte_always_inline uint64_t dp_crc8(uint64_t crc, uint64_t w)
{
#ifdef __SSE4_2__
	return _mm_crc32_u64(crc, w);
#else
	return rte_hash_crc_8byte(w, (uint32_t)crc);
#endif
}

/* Hash of the egress key: the 32 octets of (local ULID, remote ULID), which
 * are also the source and destination fields of the packet, in that order. */
static __rte_always_inline uint32_t dp_hash_ulid(const uint8_t *k)
{
	uint64_t w0, w1, w2, w3;
	memcpy(&w0, k, 8);
	memcpy(&w1, k + 8, 8);
	memcpy(&w2, k + 16, 8);
	memcpy(&w3, k + 24, 8);
	return (uint32_t)dp_crc8(dp_crc8(dp_crc8(dp_crc8(0, w0), w1), w2), w3);
}

static __rte_always_inline uint32_t dp_hash_tag(uint64_t tag)
{
	return (uint32_t)dp_crc8(0, tag);
}

static __rte_always_inline bool dp_ctx_ulids_are(const struct dp_ctx *c, const uint8_t *k)
{
#ifdef __SSE4_1__
	/* two 16-octet XORs and one test (the context's halves are 16-aligned) */
	__m128i d = _mm_or_si128(
		_mm_xor_si128(_mm_load_si128((const __m128i *)c->local_ulid), _mm_loadu_si128((const __m128i *)k)),
		_mm_xor_si128(_mm_load_si128((const __m128i *)c->remote_ulid), _mm_loadu_si128((const __m128i *)(k + 16))));
	return _mm_testz_si128(d, d);
#else
	/* word by word in registers: arrays here were spilled to the stack */
	uint64_t a0, a1, a2, a3, b0, b1, b2, b3;
	memcpy(&a0, c->local_ulid, 8);
	memcpy(&a1, c->local_ulid + 8, 8);
	memcpy(&a2, c->remote_ulid, 8);
	memcpy(&a3, c->remote_ulid + 8, 8);
	memcpy(&b0, k, 8);
	memcpy(&b1, k + 8, 8);
	memcpy(&b2, k + 16, 8);
	memcpy(&b3, k + 24, 8);
	return ((a0 ^ b0) | (a1 ^ b1) | (a2 ^ b2) | (a3 ^ b3)) == 0;
#endif
}

struct dp_lut_arg {
	const struct dp_tables *t;
	const void *key;
};

static __rte_always_inline bool dp_match_ulid(uint32_t slot, const void *arg)
{
	const struct dp_lut_arg *a = arg;
	return dp_ctx_ulids_are(&a->t->slots[slot], a->key);
}

static __rte_always_inline bool dp_match_tag(uint32_t slot, const void *arg)
{
	const struct dp_lut_arg *a = arg;
	return a->t->slots[slot].own_tag == *(const uint64_t *)a->key;
}

/* `k`: 32 octets, local ULID then remote ULID (any alignment). */
static __rte_always_inline struct dp_ctx *dp_ctx_by_ulid_h(const struct dp_tables *t, const uint8_t *k, uint32_t h)
{
	struct dp_lut_arg a = { t, k };
	int64_t s = dp_lut_find(&t->l_ulid, h, dp_match_ulid, &a);
	return s < 0 ? NULL : &t->slots[s];
}

static inline struct dp_ctx *dp_ctx_by_ulid(const struct dp_tables *t, const uint8_t *k)
{
	return dp_ctx_by_ulid_h(t, k, dp_hash_ulid(k));
}

static __rte_always_inline struct dp_ctx *dp_ctx_by_tag(const struct dp_tables *t, uint64_t tag)
{
	struct dp_lut_arg a = { t, &tag };
	int64_t s = dp_lut_find(&t->l_tag, dp_hash_tag(tag), dp_match_tag, &a);
	return s < 0 ? NULL : &t->slots[s];
}
static inline struct dp_ctx *dp_ctx_by_ptag(const struct dp_tables *t, uint64_t tag)
{
	void *d;
	return rte_hash_lookup_data(t->h_ptag, &tag, &d) >= 0 ? d : NULL;
}
static inline struct dp_host *dp_host_by_cmula(const struct dp_tables *t, const uint8_t *a)
{
	struct dp_addr_key k;
	void *d;
	memcpy(k.a, a, 16); /* packet addresses are not 8-aligned */
	return rte_hash_lookup_data(t->h_host, &k, &d) >= 0 ? d : NULL;
}
static inline struct dp_host *dp_host_by_loc(const struct dp_tables *t, const uint8_t *a)
{
	struct dp_addr_key k;
	void *d;
	memcpy(k.a, a, 16);
	return rte_hash_lookup_data(t->h_hostloc, &k, &d) >= 0 ? d : NULL;
}

#endif
