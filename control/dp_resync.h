/*
 * Bringing the dataplane's context table back to control's view.
 *
 * Writes are lost when the channel is down (dp_write refuses them) or reset
 * (what waited in dp_outq goes with the socket), and a restarted dataplane
 * starts empty.  So every HELLO is followed by a dump, compared entry by
 * entry with ctxtab:
 *   - in both and equal: nothing;
 *   - in both, pair, peer tag or flags differ: CTX_MOD with control's values;
 *   - in both, ULIDs or fork differ (a tag reused while a DEL was lost):
 *     CTX_DEL now, CTX_ADD at the end;
 *   - only in the dataplane: the caller decides (the first dump of a
 *     restarted control takes it over; afterwards it is deleted);
 *   - only in control, at DUMP_END: CTX_ADD.
 * The dataplane serves a dump in one go on its only writer thread, so the
 * writes control sends after DUMP_REQ apply after it; dp_resync_mark() keeps
 * them from being sent twice.  Every fix writes control's current value,
 * so a fix racing a newer write of the same context is harmless.
 * Pure: no I/O; the caller sends the messages.
 */
#ifndef PSHIM6_CONTROL_DP_RESYNC_H
#define PSHIM6_CONTROL_DP_RESYNC_H
#include <stdbool.h>
#include <stdint.h>
#include "ctxtab.h"
#include "pshim6/dpmsg.h"

enum dp_resync_act {
	DP_RESYNC_SAME = 0,       /* nothing to send */
	DP_RESYNC_FIX = 1,        /* send *fix (CTX_MOD or CTX_DEL) */
	DP_RESYNC_UNKNOWN = 2,    /* control does not hold this tag: the caller decides */
};

struct dp_resync_count {
	uint64_t same, modified, replaced, added, unknown;
	uint64_t deleted, adopted;   /* the caller's decisions on the unknown */
};

struct dp_resync {
	uint32_t epoch;           /* ctl_ctx.seen of the entries this dump showed */
	bool active;
	uint32_t cursor;          /* dp_resync_next_missing's position in ctxtab.v */
	struct dp_resync_count now, total;
	uint64_t runs;
};

/* A dump starts (DUMP_REQ sent). */
void dp_resync_begin(struct dp_resync *r);
/* One dumped context; on DP_RESYNC_FIX, *fix is the message to send. */
enum dp_resync_act dp_resync_entry(struct dp_resync *r, struct ctxtab *t, const struct dpmsg_ctx *dumped,
				   struct dpmsg *fix);
/* The caller's decision on a DP_RESYNC_UNKNOWN entry, for the counters. */
void dp_resync_unknown_deleted(struct dp_resync *r);
void dp_resync_unknown_adopted(struct dp_resync *r);
/* Control wrote this context during the dump: it is current, do not add it again. */
void dp_resync_mark(struct dp_resync *r, struct ctxtab *t, uint64_t own_tag);
/* After DUMP_END: the next CTX_ADD for an entry the dump lacked; false when
 * none is left, which also ends the resync. */
bool dp_resync_next_missing(struct dp_resync *r, struct ctxtab *t, struct dpmsg *fix);
#endif
