/*
 * First packets held while their context's handshake runs (proxy.c).
 *
 * Why not a flat array: under a spray of first packets to many new peers
 * every punt counted its context's packets with a scan of the whole queue,
 * and every release compacted it, thousands of entries a punt on the one
 * control thread.  Here each packet is on two lists, the queue's FIFO in
 * arrival order (expiry takes its front; the earliest deadline is its
 * front's) and its context's chain in arrival order (found through a tag
 * index), so adding, counting, releasing and expiring cost O(1) per packet
 * touched, whatever else is held.  Engine ids are random, so the index's
 * probes stay short whatever the peer does.
 *
 * Bounded: `cap` packets and contexts, taken at init and never grown (a
 * reload cannot raise control.hold_total past it); only the packet bytes
 * are allocated per packet.  Sans-I/O: the caller passes the time.  The
 * struct must not move after holdq_init (the index points back into it).
 */
#ifndef PSHIM6_CONTROL_HOLDQ_H
#define PSHIM6_CONTROL_HOLDQ_H
#include <stdint.h>
#include "tagidx.h"

#define HOLDQ_NIL UINT32_MAX

/* holdq_add's refusals: nothing is held */
#define HOLDQ_EFULL  (-1)   /* `cap` packets held */
#define HOLDQ_ELIMIT (-2)   /* the context has `limit` held */
#define HOLDQ_ENOMEM (-3)   /* no memory for the bytes */

struct holdq_pkt {
	uint64_t at;                /* `now` when held */
	uint8_t *data;
	uint32_t len;
	uint32_t prev, next;        /* the FIFO; a free packet's next is the free list */
	uint32_t cnext;             /* its context's chain */
	uint32_t ctx;               /* its context's record */
};

struct holdq_ctx {
	uint64_t id;
	uint32_t head, tail, n;     /* a free record's head is the free list */
};

struct holdq {
	struct holdq_pkt *pkt;
	struct holdq_ctx *ctx;
	struct tagidx ix;           /* id -> record in ctx */
	uint32_t cap, n;
	uint32_t head, tail;        /* the FIFO, oldest first */
	uint32_t free_pkt, free_ctx;
	uint64_t max_age;           /* held this long (ns), a packet expires */
	uint64_t visits;            /* packets and records touched: what an operation costs, for tests */
};

/* 0, or -1: out of memory (nothing to free). */
int holdq_init(struct holdq *q, uint32_t cap, uint64_t max_age);
/* Every packet's bytes and the tables. */
void holdq_free(struct holdq *q);
/* Hold a copy of `data` for `id` unless `cap` are held or `id` has `limit`:
 * 0, or a HOLDQ_E* refusal. */
int holdq_add(struct holdq *q, uint64_t id, const uint8_t *data, uint32_t len, uint64_t now, uint32_t limit);
/* Packets held for `id`. */
uint32_t holdq_count(const struct holdq *q, uint64_t id);
/* Hand `id`'s packets to `send` in arrival order (NULL: drop them), then
 * free them; how many there were. */
uint32_t holdq_release(struct holdq *q, uint64_t id,
		       void (*send)(void *arg, const uint8_t *data, uint32_t len), void *arg);
/* Drop the packets held `max_age` or longer at `now`; how many. */
uint32_t holdq_expire(struct holdq *q, uint64_t now);
/* When the oldest packet expires; UINT64_MAX when none is held. */
uint64_t holdq_deadline(const struct holdq *q);
#endif
