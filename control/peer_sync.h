/*
 * Full syncs between the ACTIVE proxy and the standing-by one, both ends,
 * sans-I/O (callers pass `now`, the sender's messages go out through
 * callbacks), so the unit suite runs them on a fake clock.
 *
 * Sender: a full sync is a snapshot of the table taken when it starts
 * (leases first, then contexts), sent in batches of at most `batch`
 * messages per PEER_SYNC_TICK_NS, BEGIN and END included, resuming where
 * the last batch stopped.  The table may change meanwhile: an item that went
 * away is skipped (its deletion already went out as an incremental message);
 * one added is sent as an incremental message, not by the sync.  So a burst
 * never exceeds one batch, whatever the table's size.
 *
 * Receiver: a sync is whole when its BEGIN, one SYNC_CTX per context the
 * END counts and the END arrived, with no gap in the sender's sequence
 * numbers between BEGIN and END (so no incremental update was lost either).
 * A sync that is superseded, cut by a new session, a takeover or a yield,
 * or ends short is counted incomplete.  The replica is complete when the
 * last whole sync is newer than the last loss.
 */
#ifndef PSHIM6_CONTROL_PEER_SYNC_H
#define PSHIM6_CONTROL_PEER_SYNC_H
#include <stdbool.h>
#include <stdint.h>
#include "peer_msg.h"
#include "peer_table.h"

#define PEER_SYNC_TICK_NS  (10 * UINT64_C(1000000))   /* one batch per 10 ms */
#define PEER_SYNC_LOOK_MAX 8                          /* items looked at per message of budget */
/* What one sync datagram costs a receiving socket as the kernel counts it
 * (payload, sk_buff and the buffer it sits in): a typical context message
 * on a NIC driver that gives each frame a 2 KiB buffer. */
#define PEER_SYNC_TRUESIZE 2048

/*
 * Whether a tick's `batch` of sync messages, arriving at once, fits a socket
 * whose SO_RCVBUF reads `rcvbuf` octets (the value getsockopt reports, the
 * one the kernel compares with).  Both proxies read one config, so each
 * checks its own receive side against the batch the other will send.
 */
bool peer_sync_batch_fits(uint32_t batch, int rcvbuf);

/*
 * Loss-driven pacing: the batch per tick actually used, `cur` (0: the
 * configured `conf`).  A full sync sent whole that the other proxy never
 * reports (received = false) halves it, down to a sixteenth of `conf` (at
 * least 1): the bursts may overrun its socket, which peer_sync_batch_fits
 * can only warn about on its own side.  Each sync it reports received
 * whole raises it by that sixteenth, up to `conf`.  AIMD, as TCP, so
 * repeated syncs shrink until they fit and the rate comes back once they
 * do; the floor bounds what loss that no batch size cures (a lossy link)
 * costs: syncs at most sixteen times slower.
 */
uint32_t peer_sync_batch_adapt(uint32_t cur, uint32_t conf, bool received);
/* Its step and floor for a configured batch `conf`: conf / 16, at least 1. */
uint32_t peer_sync_batch_step(uint32_t conf);

/* What the item callback did with item i. */
enum peer_sync_item {
	PEER_SYNC_SENT_CTX = 0,   /* a SYNC_CTX went out */
	PEER_SYNC_SENT_OTHER,     /* another message (a lease) went out */
	PEER_SYNC_GONE,           /* no longer in the table: nothing sent */
	PEER_SYNC_FAILED,         /* could not be sent (counted; the receiver sees a gap) */
};

struct peer_sync_io {
	void *arg;
	int (*begin)(void *arg, uint32_t epoch, uint32_t contexts);   /* 0 sent, -1 failed */
	enum peer_sync_item (*item)(void *arg, uint32_t epoch, uint32_t i);
	int (*end)(void *arg, uint32_t epoch, uint32_t sent);        /* 0 sent, -1 failed */
};

struct peer_sync_tx_stats {
	uint64_t started, completed, aborted, batches, items_sent, items_gone, items_failed;
	uint64_t last_ms;            /* duration of the last completed sync */
	uint32_t last_batches;       /* batches it took */
};

struct peer_sync_tx {
	bool on;
	bool begun;                  /* BEGIN went out */
	uint32_t epoch;
	uint32_t n, nctx;            /* items in the snapshot, of which contexts */
	uint32_t pos;                /* next item */
	uint32_t sent;               /* SYNC_CTX sent so far */
	uint32_t batches;
	uint64_t owner;              /* whom it is for (the receiver's session) */
	uint64_t started_ns, next_ns;
	struct peer_sync_tx_stats st;
};

/* Start sync `epoch` over n items (the caller's snapshot, of which nctx are
 * contexts) for receiver session `owner`; a sync in progress is aborted and
 * counted.  Nothing is sent before the first peer_sync_tx_step. */
void peer_sync_tx_start(struct peer_sync_tx *t, uint32_t epoch, uint32_t n, uint32_t nctx, uint64_t owner,
			uint64_t now);
/* Stop a sync in progress (counted in aborted when one was). */
void peer_sync_tx_abort(struct peer_sync_tx *t);
/* Send the next batch if it is due: at most `batch` messages.  Returns 1
 * when the sync completed (END sent) in this call, else 0. */
int peer_sync_tx_step(struct peer_sync_tx *t, uint64_t now, uint32_t batch, const struct peer_sync_io *io);
/* When the next batch is due; UINT64_MAX when no sync runs. */
uint64_t peer_sync_tx_deadline(const struct peer_sync_tx *t);

struct peer_sync_rx_stats {
	uint64_t begun, whole, incomplete, lost;   /* lost: messages missing by sequence number */
	uint64_t ctx_stray;                        /* SYNC_CTX of no sync in progress */
};

struct peer_sync_rx {
	bool in_sync;
	bool gap;                    /* a message was lost since BEGIN */
	bool lost_since_done;        /* a message was lost since the last whole sync began */
	uint32_t epoch;              /* of the sync in progress, or the last one begun */
	uint32_t expect, count;      /* contexts BEGIN announced, SYNC_CTX received */
	uint32_t done;               /* last whole sync (0: none) */
	uint32_t gen;                /* BEGINs received in this run, never 0 once one was: unlike
	                                the sender's epochs, which restart with its run, it names
	                                one sync for good (what it carried is marked with it) */
	uint64_t began_ns;
	struct peer_sync_rx_stats st;
};

void peer_sync_rx_begin(struct peer_sync_rx *r, uint32_t epoch, uint32_t contexts, uint64_t now);
/* A SYNC_CTX: true when it belongs to the sync in progress (counted). */
bool peer_sync_rx_ctx(struct peer_sync_rx *r, uint32_t epoch);
/* END: 1 whole (r->done = epoch), 0 incomplete (counted). */
int peer_sync_rx_end(struct peer_sync_rx *r, uint32_t epoch, uint32_t sent);
/* n messages of the sender are missing (a gap in its sequence numbers). */
void peer_sync_rx_lost(struct peer_sync_rx *r, uint64_t n);
/* The sync in progress cannot finish (new session, takeover, yield):
 * counted incomplete when one was in progress. */
void peer_sync_rx_cut(struct peer_sync_rx *r);
/* Forget what was received (the replicas are gone): done = 0. */
void peer_sync_rx_reset(struct peer_sync_rx *r);
/* The replica reflects the active proxy's table: a whole sync arrived and
 * nothing was lost since it began. */
bool peer_sync_rx_complete(const struct peer_sync_rx *r);
/* One message of the ACTIVE proxy, in the order received, applied to the
 * replica table t: CTX and SYNC_CTX (stored under the generation of the
 * sync in progress, so what was added after the sender's snapshot survives the
 * prune), CTX_DEL, SYNC_BEGIN, SYNC_END; other types are ignored.  keep =
 * false: a context counted for its sync but not stored (the caller refused
 * it).  Returns 1 when m is the END of a whole sync (replicas it did not
 * confirm pruned, their number in *pruned), else 0. */
int peer_sync_rx_apply(struct peer_sync_rx *r, struct peer_table *t, const struct peer_msg *m, bool keep,
		       uint64_t now, uint32_t *pruned);
/*
 * Updates that come in bursts, paced like a full sync.  Contexts imported
 * from the dataplane's dump (a control restart, a reconnect) appear by the
 * thousand in one go; each goes to the standing-by proxy as an ordinary CTX
 * update, but through this queue, at most `batch` messages per
 * PEER_SYNC_TICK_NS, so the burst is never larger than one batch of a full
 * sync.  The queue holds tags only (8 octets each) and is bounded; a tag
 * that no longer names an established context when its turn comes costs no
 * message (looked at: at most PEER_SYNC_LOOK_MAX per message of budget).
 * When full, push refuses and counts; the caller then owes the receiver a
 * full sync, which carries every context, and empties the queue (a sync's
 * snapshot covers whatever was queued before it started).
 */
struct peer_updq_stats {
	uint64_t queued, sent, gone, failed, full, batches, dropped;   /* dropped: cleared unsent */
};

struct peer_updq {
	uint64_t *tags;
	uint32_t cap, head, n;
	uint64_t next_ns;            /* the next batch may go at */
	struct peer_updq_stats st;
};

int peer_updq_init(struct peer_updq *q, uint32_t cap);          /* 0, -1 out of memory */
void peer_updq_free(struct peer_updq *q);
int peer_updq_push(struct peer_updq *q, uint64_t tag);          /* 0 queued, -1 full (counted) */
void peer_updq_clear(struct peer_updq *q);                      /* forget what is queued (counted) */
/* Send the next batch if it is due: send(arg, tag) for at most `batch`
 * messages.  Returns the messages it sent or failed to send (the budget
 * used). */
uint32_t peer_updq_step(struct peer_updq *q, uint64_t now, uint32_t batch,
			enum peer_sync_item (*send)(void *arg, uint64_t tag), void *arg);
/* When the next batch is due; UINT64_MAX when the queue is empty. */
uint64_t peer_updq_deadline(const struct peer_updq *q);
#endif
