/*
 * The backup's replica table: contexts the primary sent, keyed by the
 * primary's own tag.  Bounded (engine.max_contexts): when full a context
 * not yet held is refused and counted, never evicted, because any held one
 * may be the next to carry traffic; the next full sync prunes contexts the
 * primary no longer has, which makes room.  Indexed by tag (tagidx.h), so
 * full syncs of large tables stay linear.
 */
#ifndef PSHIM6_CONTROL_PEER_TABLE_H
#define PSHIM6_CONTROL_PEER_TABLE_H
#include <stdint.h>
#include "peer_msg.h"
#include "tagidx.h"

struct peer_replica {
	struct peer_ctx c;
	uint32_t gen;             /* the receiver's generation (peer_sync_rx.gen) of the full
	                             sync that last confirmed it: the sender's epochs restart
	                             with its run and would let an old run's replica pass */
	uint64_t updated_ns;
};

struct peer_table_stats {
	uint64_t adds, updates, dels, full, pruned;
};

struct peer_table {
	uint32_t cap, n;
	struct tagidx ix;         /* own tag -> index in v */
	struct peer_replica *v;   /* dense */
	struct peer_table_stats st;
};

int peer_table_init(struct peer_table *t, uint32_t cap);
void peer_table_free(struct peer_table *t);
/* 1 added, 0 updated, -1 full (counted) */
int peer_table_put(struct peer_table *t, const struct peer_ctx *c, uint32_t gen, uint64_t now);
struct peer_replica *peer_table_find(struct peer_table *t, uint64_t own_tag);
struct peer_replica *peer_table_find_pair(struct peer_table *t, const uint8_t local[16], const uint8_t peer[16]);
int peer_table_del(struct peer_table *t, uint64_t own_tag);   /* 0, or -1 not found */
/* Remove every replica whose generation differs: the count removed. */
uint32_t peer_table_prune(struct peer_table *t, uint32_t gen);
void peer_table_clear(struct peer_table *t);
#endif
