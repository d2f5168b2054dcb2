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

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_rcu_qsbr.h>

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
	uint64_t tsc0, tsc_per_ms;    /* the stamps' clock: ms since creation */
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
/* Latest stamps over all readers, TSC (millisecond precision); 0 = never. */
int dp_ctx_stamps(struct dp_tables *t, uint64_t own_tag, uint64_t *sent, uint64_t *recv);
/* Installed contexts one by one (writer side, dumps): start with *it = 0; NULL at the end. */
struct dp_ctx *dp_ctx_next(struct dp_tables *t, uint32_t *it);
/* Return what the readers have finished with; `wait` blocks for the oldest. */
void dp_tables_reclaim(struct dp_tables *t, bool wait);

/* Reader side (lcores). */

/* The stamps' clock at TSC `now`: ms since the tables were made, never 0. */
static __rte_always_inline uint32_t dp_tables_ms(const struct dp_tables *t, uint64_t now)
{
	uint32_t ms = (uint32_t)((now - t->tsc0) / t->tsc_per_ms);
	return ms ? ms : 1;
}

/* REAP stamp of `reader` (dir 0 sent, 1 received); a store only when it changes. */
static __rte_always_inline void dp_ctx_stamp(const struct dp_ctx *c, unsigned reader, unsigned dir, uint32_t ms)
{
	uint32_t *s = (uint32_t *)(uintptr_t)&c->stamp[reader % DP_CTX_STAMPS][dir];
	if (__atomic_load_n(s, __ATOMIC_RELAXED) != ms)
		__atomic_store_n(s, ms, __ATOMIC_RELAXED);
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
	return rte_hash_crc_8byte(w3, rte_hash_crc_8byte(w2, rte_hash_crc_8byte(w1, rte_hash_crc_8byte(w0, 0))));
}

static __rte_always_inline uint32_t dp_hash_tag(uint64_t tag)
{
	return rte_hash_crc_8byte(tag, 0);
}

static __rte_always_inline bool dp_ctx_ulids_are(const struct dp_ctx *c, const uint8_t *k)
{
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
