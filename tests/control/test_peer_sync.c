/* Paced full syncs (control/peer_sync.c) end to end on a fake clock: a
 * sender walking its snapshot in batches, every message encoded and
 * decoded (control/peer_msg.c) through a wire that can drop, a receiver
 * applying them to a real replica table (control/peer_table.c).  The
 * sender's table is a set of tags; changes to it during a sync go out as
 * incremental CTX / CTX_DEL, as peer.c sends them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include "log.h"
#include "peer_msg.h"
#include "peer_sync.h"
#include "peer_table.h"

#define MS 1000000ULL
#define MAXT 4096
static const uint8_t KEY[32] = "0123456789abcdef0123456789abcdef";

/* ---- the active proxy: a table of tags and a sender ------------------------ */

static uint64_t tab[MAXT];          /* tags; 0 = removed */
static uint32_t ntab;               /* slots used */
static uint64_t snap[MAXT];         /* the sync's snapshot: indices into tab */
static uint64_t seq;
static struct peer_sync_tx tx;

/* the wire: datagrams in order; drop_from..drop_to (seq numbers) are lost */
struct dgram { uint8_t b[PEER_MSG_MAX]; int len; };
static struct dgram wire[MAXT * 3];
static size_t nwire, nsent_tick;
static uint64_t drop_from, drop_to;

static struct peer_sync_rx rx;
static struct peer_table rtab;
static int wholes;

static void put_msg(struct peer_msg *m)
{
	m->role = PEER_ROLE_PRIMARY;
	m->state = 3;
	m->session = 0x1111;
	m->echo = 0x2222;
	m->seq = ++seq;
	nsent_tick++;
	if (m->seq >= drop_from && m->seq <= drop_to)
		return;
	assert_true(nwire < sizeof wire / sizeof wire[0]);
	wire[nwire].len = peer_msg_encode(m, KEY, sizeof KEY, wire[nwire].b, sizeof wire[nwire].b);
	assert_true(wire[nwire].len > 0);
	nwire++;
}

static void ctx_of(struct peer_msg *m, uint8_t type, uint64_t tag)
{
	memset(m, 0, sizeof *m);
	m->type = type;
	struct peer_ctx *c = &m->u.ctx;
	inet_pton(AF_INET6, "fd00:1:0:1::1", c->local_ulid);
	inet_pton(AF_INET6, "fd00:2:0:1::1", c->peer_ulid);
	memcpy(c->local_ulid + 8, &tag, 8);
	inet_pton(AF_INET6, "2001:db8:a01:1::1", c->local_loc);
	inet_pton(AF_INET6, "2001:db8:a02:1::1", c->peer_loc);
	c->own_tag = tag;
	c->peer_tag = tag ^ 0x5555;
	c->st.own_tag = tag;
	c->st.local_gen = 1;
	c->st.peer_gen = 1;
}

static int io_begin(void *arg, uint32_t epoch, uint32_t n)
{
	(void)arg;
	struct peer_msg m = { .type = PEER_SYNC_BEGIN };
	m.u.sync.epoch = epoch;
	m.u.sync.count = n;
	put_msg(&m);
	return 0;
}

static int io_end(void *arg, uint32_t epoch, uint32_t n)
{
	(void)arg;
	struct peer_msg m = { .type = PEER_SYNC_END };
	m.u.sync.epoch = epoch;
	m.u.sync.count = n;
	put_msg(&m);
	return 0;
}

static enum peer_sync_item io_item(void *arg, uint32_t epoch, uint32_t i)
{
	(void)arg;
	uint64_t tag = tab[snap[i]];
	if (!tag)
		return PEER_SYNC_GONE;
	struct peer_msg m;
	ctx_of(&m, PEER_SYNC_CTX, tag);
	m.sync_epoch = epoch;
	put_msg(&m);
	return PEER_SYNC_SENT_CTX;
}

static const struct peer_sync_io io = { NULL, io_begin, io_item, io_end };

static uint64_t tag_n(uint32_t i) { return 0x100000 + (uint64_t)i * 7919; }

static void table_fill(uint32_t n)
{
	memset(tab, 0, sizeof tab);
	for (ntab = 0; ntab < n; ntab++)
		tab[ntab] = tag_n(ntab);
}

static uint32_t epoch_alloc;
static void sync_start(uint64_t now)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < ntab; i++)
		if (tab[i])
			snap[n++] = i;
	peer_sync_tx_start(&tx, ++epoch_alloc, n, n, 0x2222, now);
}

/* a change while replicating: sent at once, as peer.c does */
static void table_add(uint64_t tag)
{
	tab[ntab++] = tag;
	struct peer_msg m;
	ctx_of(&m, PEER_CTX, tag);
	put_msg(&m);
}

static void table_del(uint32_t i)
{
	struct peer_msg m = { .type = PEER_CTX_DEL };
	m.u.del_tag = tab[i];
	tab[i] = 0;
	put_msg(&m);
}

/* ---- the standing-by proxy ------------------------------------------------- */

static uint64_t rx_seq;
static void deliver(uint64_t now)
{
	for (size_t i = 0; i < nwire; i++) {
		struct peer_msg m;
		assert_int_equal(peer_msg_decode(wire[i].b, (size_t)wire[i].len, KEY, sizeof KEY, &m), 0);
		if (m.seq > rx_seq + 1)
			peer_sync_rx_lost(&rx, m.seq - rx_seq - 1);
		rx_seq = m.seq;
		uint32_t pruned;
		wholes += peer_sync_rx_apply(&rx, &rtab, &m, true, now, &pruned);
	}
	nwire = 0;
}

/* run the sender until its sync completes (or max ticks); the number of ticks */
static unsigned run_sync(uint64_t *now, uint32_t batch, unsigned max, void (*each)(unsigned tick))
{
	unsigned ticks = 0;
	while (tx.on && ticks < max) {
		/* nothing goes out before the batch is due */
		if (ticks) {
			nsent_tick = 0;
			assert_int_equal(peer_sync_tx_step(&tx, *now - 1, batch, &io), 0);
			assert_int_equal(nsent_tick, 0);
		}
		nsent_tick = 0;
		peer_sync_tx_step(&tx, *now, batch, &io);
		assert_true(nsent_tick <= batch);
		ticks++;
		if (each)
			each(ticks);
		deliver(*now);
		if (tx.on)
			assert_true(peer_sync_tx_deadline(&tx) == *now + PEER_SYNC_TICK_NS);
		*now += PEER_SYNC_TICK_NS;
	}
	return ticks;
}

static bool replica_equals_table(void)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < ntab; i++) {
		if (!tab[i])
			continue;
		n++;
		if (!peer_table_find(&rtab, tab[i]))
			return false;
	}
	return n == rtab.n;
}

static int setup(void **st)
{
	(void)st;
	memset(&tx, 0, sizeof tx);
	memset(&rx, 0, sizeof rx);
	nwire = 0;
	seq = rx_seq = 0;
	drop_from = drop_to = 0;
	wholes = 0;
	epoch_alloc = 0;
	return peer_table_init(&rtab, MAXT);
}

static int teardown(void **st)
{
	(void)st;
	peer_table_free(&rtab);
	return 0;
}

/* ---- the stories ----------------------------------------------------------- */

static void test_larger_than_a_batch_arrives_whole(void **st)
{
	(void)st;
	uint64_t now = 1000 * MS;
	table_fill(1000);
	sync_start(now);
	assert_true(peer_sync_tx_deadline(&tx) == now);
	unsigned ticks = run_sync(&now, 64, 100, NULL);
	/* BEGIN + 1000 SYNC_CTX + END, 64 a tick */
	assert_int_equal(ticks, (1002 + 63) / 64);
	assert_false(tx.on);
	assert_true(peer_sync_tx_deadline(&tx) == UINT64_MAX);
	assert_int_equal(tx.st.completed, 1);
	assert_int_equal(tx.st.last_batches, ticks);
	assert_int_equal(tx.st.last_ms, (ticks - 1) * 10);
	assert_int_equal(wholes, 1);
	assert_int_equal(rx.done, 1);
	assert_int_equal(rx.count, 1000);
	assert_int_equal(rx.st.incomplete, 0);
	assert_true(peer_sync_rx_complete(&rx));
	assert_true(replica_equals_table());
}

/* Each BEGIN names a sync for good, and gen + 1 (what a received lease is
 * marked with) is never 0, the mark of a lease given here: past the top it
 * starts again at 1. */
static void test_gen_counts_begins_and_skips_zero(void **st)
{
	(void)st;
	struct peer_sync_rx r;
	memset(&r, 0, sizeof r);
	peer_sync_rx_begin(&r, 7, 0, 1);
	assert_int_equal(r.gen, 1);
	peer_sync_rx_begin(&r, 7, 0, 2);   /* the same epoch again is still another sync */
	assert_int_equal(r.gen, 2);
	r.gen = UINT32_MAX - 2;
	peer_sync_rx_begin(&r, 8, 0, 3);
	assert_true(r.gen == UINT32_MAX - 1);
	peer_sync_rx_begin(&r, 9, 0, 4);
	assert_int_equal(r.gen, 1);
}

/* The active proxy restarts: its epochs start again at 1, so its first
 * sync of the new run carries the epoch its last one did.  Replicas of the
 * old run that it no longer holds must still go. */
static void test_sender_restart_prunes_its_old_run(void **st)
{
	(void)st;
	uint64_t now = 0;
	table_fill(6);
	sync_start(now);
	run_sync(&now, 4, 100, NULL);
	assert_int_equal(wholes, 1);
	assert_int_equal(rx.done, 1);
	assert_true(replica_equals_table());
	/* a new run: the same epoch, sequence numbers from 1, the sync cut as
	 * peer.c cuts it on a new session; it kept four contexts, found one */
	tab[1] = tab[4] = 0;
	tab[ntab++] = 0x9999;
	epoch_alloc = 0;
	seq = rx_seq = 0;
	peer_sync_rx_cut(&rx);
	sync_start(now);
	assert_int_equal(tx.epoch, 1);
	run_sync(&now, 4, 100, NULL);
	assert_int_equal(wholes, 2);
	assert_null(peer_table_find(&rtab, tag_n(1)));
	assert_null(peer_table_find(&rtab, tag_n(4)));
	assert_non_null(peer_table_find(&rtab, 0x9999));
	assert_int_equal(rtab.n, 5);
	assert_true(replica_equals_table());
}

static void test_batch_of_one(void **st)
{
	(void)st;
	uint64_t now = 0;
	table_fill(5);
	sync_start(now);
	assert_int_equal(run_sync(&now, 1, 100, NULL), 7);   /* BEGIN, 5, END: one a tick */
	assert_int_equal(wholes, 1);
	/* an empty table: BEGIN and END, still whole */
	table_fill(0);
	sync_start(now);
	assert_int_equal(run_sync(&now, 1, 100, NULL), 2);
	assert_int_equal(wholes, 2);
	assert_int_equal(rtab.n, 0);   /* the whole empty sync pruned all five */
}

static void test_lost_messages_make_it_incomplete(void **st)
{
	(void)st;
	uint64_t now = 0;
	table_fill(300);
	/* replicas the active proxy no longer has (held from before) */
	struct peer_msg m;
	for (uint32_t i = 0; i < 10; i++) {
		ctx_of(&m, PEER_CTX, 0x900000 + i);
		peer_table_put(&rtab, &m.u.ctx, 0, now);
	}
	sync_start(now);
	drop_from = 120;   /* part of the third batch never arrives */
	drop_to = 125;
	run_sync(&now, 50, 100, NULL);
	assert_int_equal(tx.st.completed, 1);   /* the sender cannot know */
	assert_int_equal(wholes, 0);
	assert_int_equal(rx.st.incomplete, 1);
	assert_true(rx.st.lost == 6);
	assert_int_equal(rx.done, 0);
	assert_false(peer_sync_rx_complete(&rx));
	/* nothing pruned on an incomplete sync: the stale ten are still there */
	assert_int_equal(rtab.n, 300 - 6 + 10);
	/* the next sync repairs it all */
	drop_from = drop_to = 0;
	sync_start(now);
	run_sync(&now, 50, 100, NULL);
	assert_int_equal(wholes, 1);
	assert_int_equal(rx.done, 2);
	assert_true(peer_sync_rx_complete(&rx));
	assert_true(replica_equals_table());
	/* a loss after a whole sync: the replica is no longer known complete */
	table_add(0x777777);
	drop_from = drop_to = seq + 1;
	table_add(0x777778);
	table_add(0x777779);
	deliver(now);
	assert_false(peer_sync_rx_complete(&rx));
	assert_int_equal(rx.done, 2);
}

static void test_end_lost_then_superseded(void **st)
{
	(void)st;
	uint64_t now = 0;
	table_fill(100);
	sync_start(now);
	/* the sender stops half-way (it was cut off): no END */
	run_sync(&now, 20, 3, NULL);
	assert_true(tx.on);
	assert_true(rx.in_sync);
	assert_int_equal(rx.st.incomplete, 0);
	/* a new sync starts: the one in progress is counted, on both sides */
	sync_start(now);
	assert_int_equal(tx.st.aborted, 1);
	run_sync(&now, 20, 100, NULL);
	assert_int_equal(rx.st.incomplete, 1);
	assert_int_equal(rx.st.begun, 2);
	assert_int_equal(wholes, 1);
	assert_int_equal(rx.done, 2);
	/* a sync cut by a takeover counts too */
	sync_start(now);
	run_sync(&now, 20, 2, NULL);
	peer_sync_rx_cut(&rx);
	assert_int_equal(rx.st.incomplete, 2);
	/* its END arriving later cannot make it whole */
	run_sync(&now, 20, 100, NULL);
	assert_int_equal(wholes, 1);
	assert_int_equal(rx.st.incomplete, 3);
}

/* during the sync: contexts not yet sent and already sent go away, new
 * ones come; the replica ends equal to the table, nothing lost */
static void changes(unsigned tick)
{
	if (tick == 2) {
		for (uint32_t i = 0; i < 20; i++)
			table_del(i);             /* already sent */
		for (uint32_t i = 400; i < 420; i++)
			table_del(i);             /* not yet sent: skipped by the sync */
		for (uint32_t i = 0; i < 30; i++)
			table_add(0x800000 + i);  /* after the snapshot */
	}
	if (tick == 5) {
		table_add(0x880000);
		table_del(ntab - 1);              /* added and gone within the sync */
		table_add(0x880001);
	}
}

static void test_changes_during_the_sync_are_not_lost(void **st)
{
	(void)st;
	uint64_t now = 0;
	table_fill(500);
	struct peer_msg m;
	for (uint32_t i = 0; i < 7; i++) {   /* stale replicas */
		ctx_of(&m, PEER_CTX, 0x990000 + i);
		peer_table_put(&rtab, &m.u.ctx, 0, now);
	}
	sync_start(now);
	unsigned ticks = run_sync(&now, 50, 100, changes);
	assert_true(ticks > 5);
	assert_int_equal(wholes, 1);
	assert_int_equal(tx.st.items_gone, 20);
	assert_int_equal(tx.sent, 480);
	assert_int_equal(rx.count, 480);
	assert_true(peer_sync_rx_complete(&rx));
	assert_true(replica_equals_table());
	assert_null(peer_table_find(&rtab, 0x990000));
	assert_null(peer_table_find(&rtab, 0x880000));
	assert_non_null(peer_table_find(&rtab, 0x880001));
	assert_non_null(peer_table_find(&rtab, 0x800000 + 29));
	/* a change after the sync, and the next sync prunes nothing of it */
	table_add(0x990100);
	deliver(now);
	sync_start(now);
	run_sync(&now, 50, 100, NULL);
	assert_int_equal(wholes, 2);
	assert_true(replica_equals_table());
}

/* Every SYNC_CTX arrives but an update sent during the sync is lost: the
 * counts agree, the sequence numbers do not; the replica holds a context
 * the active proxy deleted, so the sync is not whole. */
static void drop_a_delete(unsigned tick)
{
	if (tick == 2) {
		drop_from = drop_to = seq + 1;
		table_del(3);
	}
}

static void test_lost_update_during_the_sync(void **st)
{
	(void)st;
	uint64_t now = 0;
	table_fill(200);
	sync_start(now);
	run_sync(&now, 40, 100, drop_a_delete);
	assert_int_equal(rx.count, 200);
	assert_int_equal(tx.sent, 200);
	assert_int_equal(wholes, 0);
	assert_int_equal(rx.st.incomplete, 1);
	assert_false(peer_sync_rx_complete(&rx));
	assert_non_null(peer_table_find(&rtab, tag_n(3)));   /* stale, kept for now */
	drop_from = drop_to = 0;
	sync_start(now);
	run_sync(&now, 40, 100, NULL);
	assert_int_equal(wholes, 1);
	assert_null(peer_table_find(&rtab, tag_n(3)));       /* the next whole one prunes it */
	assert_true(replica_equals_table());
}

/* A table emptied under a sync: gone items cost no message but the walk
 * per tick stays bounded. */
static void test_gone_items_bounded_per_tick(void **st)
{
	(void)st;
	uint64_t now = 0;
	table_fill(1000);
	sync_start(now);
	for (uint32_t i = 0; i < ntab; i++)
		tab[i] = 0;
	peer_sync_tx_step(&tx, now, 10, &io);
	assert_true(tx.on);
	assert_int_equal(tx.pos, 10 * PEER_SYNC_LOOK_MAX);
	now += PEER_SYNC_TICK_NS;
	unsigned ticks = 1 + run_sync(&now, 10, 1000, NULL);
	assert_int_equal(ticks, (1000 + 10 * PEER_SYNC_LOOK_MAX - 1) / (10 * PEER_SYNC_LOOK_MAX));
	assert_int_equal(tx.st.items_gone, 1000);
	assert_int_equal(tx.sent, 0);
}

/* Leases travel inside the sync: they use the batch but are not contexts. */
static uint32_t nothers;
static enum peer_sync_item io_other(void *arg, uint32_t epoch, uint32_t i)
{
	if (i < nothers) {
		struct peer_msg m = { .type = PEER_LEASE };
		m.u.lease.len = (uint16_t)snprintf(m.u.lease.text, sizeof m.u.lease.text, "{\"n\":%u}", i);
		put_msg(&m);
		return PEER_SYNC_SENT_OTHER;
	}
	return io_item(arg, epoch, i - nothers);
}

static void test_leases_use_the_batch(void **st)
{
	(void)st;
	static const struct peer_sync_io io2 = { NULL, io_begin, io_other, io_end };
	uint64_t now = 0;
	table_fill(40);
	nothers = 60;
	for (uint32_t i = 0; i < 40; i++)
		snap[i] = i;
	peer_sync_tx_start(&tx, 1, 100, 40, 0x2222, now);
	unsigned ticks = 0;
	while (tx.on) {
		nsent_tick = 0;
		peer_sync_tx_step(&tx, now, 25, &io2);
		assert_true(nsent_tick <= 25);
		deliver(now);
		now += PEER_SYNC_TICK_NS;
		ticks++;
	}
	assert_int_equal(ticks, (102 + 24) / 25);
	assert_int_equal(tx.sent, 40);
	assert_int_equal(tx.st.items_sent, 100);
	assert_int_equal(wholes, 1);
	assert_int_equal(rtab.n, 40);
}

/* ---- contexts imported from the dataplane's dump: paced CTX updates -------- */

static enum peer_sync_item upd_send(void *arg, uint64_t tag)
{
	(void)arg;
	for (uint32_t i = 0; i < ntab; i++) {
		if (tab[i] != tag)
			continue;
		struct peer_msg m;
		ctx_of(&m, PEER_CTX, tag);
		put_msg(&m);
		return PEER_SYNC_SENT_CTX;
	}
	return PEER_SYNC_GONE;
}

/* A dump of 1000 contexts imported while replicating reaches the replica
 * as ordinary updates, 64 per 10 ms tick, without a second full sync. */
static void test_imports_go_out_as_paced_updates(void **st)
{
	(void)st;
	struct peer_updq q;
	assert_int_equal(peer_updq_init(&q, MAXT), 0);
	uint64_t now = 0;
	table_fill(0);
	sync_start(now);
	run_sync(&now, 64, 10, NULL);
	assert_int_equal(wholes, 1);
	assert_true(peer_sync_rx_complete(&rx));
	assert_true(peer_updq_deadline(&q) == UINT64_MAX);
	/* the dump: every context imported in one go */
	for (uint32_t i = 0; i < 1000; i++) {
		tab[ntab++] = tag_n(i);
		assert_int_equal(peer_updq_push(&q, tag_n(i)), 0);
	}
	assert_true(peer_updq_deadline(&q) <= now);
	unsigned ticks = 0;
	while (q.n) {
		if (ticks) {   /* nothing before the batch is due */
			nsent_tick = 0;
			assert_int_equal(peer_updq_step(&q, now - 1, 64, upd_send, NULL), 0);
			assert_int_equal(nsent_tick, 0);
		}
		nsent_tick = 0;
		uint32_t used = peer_updq_step(&q, now, 64, upd_send, NULL);
		assert_int_equal(used, nsent_tick);
		assert_true(nsent_tick <= 64);
		deliver(now);
		if (q.n)
			assert_true(peer_updq_deadline(&q) == now + PEER_SYNC_TICK_NS);
		now += PEER_SYNC_TICK_NS;
		ticks++;
		assert_true(ticks <= 100);
	}
	assert_int_equal(ticks, (1000 + 63) / 64);
	assert_int_equal(q.st.sent, 1000);
	assert_int_equal(q.st.batches, ticks);
	assert_true(peer_updq_deadline(&q) == UINT64_MAX);
	/* the replica holds them all; no second sync, nothing lost */
	assert_int_equal(wholes, 1);
	assert_int_equal(rx.st.lost, 0);
	assert_true(peer_sync_rx_complete(&rx));
	assert_int_equal(rtab.n, 1000);
	assert_true(replica_equals_table());
	peer_updq_free(&q);
}

/* The queue is bounded: past its capacity a push is refused and counted
 * (the caller starts a full sync instead); entries gone by their turn cost
 * no message, and at most PEER_SYNC_LOOK_MAX are looked at per message of
 * budget; clearing counts what was dropped. */
static void test_import_queue_bounded(void **st)
{
	(void)st;
	struct peer_updq q;
	assert_int_equal(peer_updq_init(&q, 100), 0);
	table_fill(150);
	uint32_t refused = 0;
	for (uint32_t i = 0; i < 150; i++)
		refused += peer_updq_push(&q, tag_n(i)) != 0;
	assert_int_equal(refused, 50);
	assert_int_equal(q.st.full, 50);
	assert_int_equal(q.n, 100);
	/* the first 60 went away before their turn */
	for (uint32_t i = 0; i < 60; i++)
		tab[i] = 0;
	uint64_t now = 0;
	nsent_tick = 0;
	/* batch 2: at most 16 looked at, all gone: nothing sent */
	assert_int_equal(peer_updq_step(&q, now, 2, upd_send, NULL), 0);
	assert_int_equal(nsent_tick, 0);
	assert_int_equal(q.st.gone, 16);
	assert_int_equal(q.n, 84);
	now += PEER_SYNC_TICK_NS;
	assert_int_equal(peer_updq_step(&q, now, 100, upd_send, NULL), 40);
	assert_int_equal(q.st.sent, 40);
	assert_int_equal(q.st.gone, 60);
	assert_int_equal(q.n, 0);
	deliver(now);
	assert_int_equal(rtab.n, 40);
	/* room again; a clear forgets and counts */
	assert_int_equal(peer_updq_push(&q, tag_n(100)), 0);
	assert_int_equal(peer_updq_push(&q, tag_n(101)), 0);
	peer_updq_clear(&q);
	assert_int_equal(q.st.dropped, 2);
	assert_true(peer_updq_deadline(&q) == UINT64_MAX);
	peer_updq_free(&q);
}

/* The warning for a batch the receiving socket cannot hold: the kernel
 * reports twice what was asked (8 MiB for the daemon's 4 MiB request). */
static void test_batch_fits_receive_buffer(void **st)
{
	(void)st;
	const int asked = 8 << 20, unprivileged = 2 * 212992;
	assert_true(peer_sync_batch_fits(256, asked));                              /* the default */
	assert_true(peer_sync_batch_fits(asked / PEER_SYNC_TRUESIZE, asked));       /* exactly full */
	assert_false(peer_sync_batch_fits(asked / PEER_SYNC_TRUESIZE + 1, asked));
	assert_false(peer_sync_batch_fits(8192, asked));                            /* the schema's maximum */
	assert_true(peer_sync_batch_fits(200, unprivileged));
	assert_false(peer_sync_batch_fits(256, unprivileged));  /* rmem_max 212992 caps a plain request */
	assert_false(peer_sync_batch_fits(1, 0));               /* unknown buffer: say so */
	assert_false(peer_sync_batch_fits(UINT32_MAX, INT32_MAX));                  /* no overflow */
}

/* what the standing-by proxy's socket holds of one tick's burst */
static size_t rx_cap;
static void overrun(unsigned tick)
{
	(void)tick;
	if (nwire > rx_cap)
		nwire = rx_cap;     /* the rest of the burst overflowed the receive buffer */
}

/* Syncs repeated after a verdict shrink until they fit a receiver that
 * holds 40 messages a tick, and most get through from then on; a receiver
 * with room never sees the batch move. */
static void test_batch_adapts_to_losses(void **st)
{
	(void)st;
	/* the rule itself */
	assert_int_equal(peer_sync_batch_adapt(0, 256, false), 128);
	assert_int_equal(peer_sync_batch_adapt(20, 256, false), 16);    /* the floor: a sixteenth */
	assert_int_equal(peer_sync_batch_adapt(16, 256, false), 16);
	assert_int_equal(peer_sync_batch_adapt(1, 8, false), 1);
	assert_int_equal(peer_sync_batch_adapt(0, 256, true), 256);
	assert_int_equal(peer_sync_batch_adapt(32, 256, true), 48);
	assert_int_equal(peer_sync_batch_adapt(250, 256, true), 256);
	assert_int_equal(peer_sync_batch_adapt(300, 256, true), 256);   /* a reload lowered sync_batch */
	assert_int_equal(peer_sync_batch_adapt(1, 1, true), 1);
	assert_int_equal(peer_sync_batch_adapt(5, 0, true), 1);

	uint64_t now = 0;
	table_fill(1000);
	const uint32_t conf = 256;
	uint32_t batch = conf, ok = 0, first_ok = 0;
	rx_cap = 40;
	for (unsigned i = 1; i <= 40; i++) {
		sync_start(now);
		run_sync(&now, batch, 2000, overrun);
		bool got = rx.done == epoch_alloc;
		ok += got;
		if (got && !first_ok)
			first_ok = i;
		batch = peer_sync_batch_adapt(batch, conf, got);
		assert_true(batch >= 1 && batch <= conf);
	}
	/* without adapting, none would: every tick's burst of 256 overruns */
	assert_true(first_ok >= 2 && first_ok <= 4);        /* 256 -> 128 -> 64 -> 32 */
	assert_true(ok >= 20);
	assert_true(replica_equals_table());
	rx_cap = 1000;
	batch = conf;
	for (unsigned i = 0; i < 5; i++) {
		sync_start(now);
		run_sync(&now, batch, 2000, overrun);
		assert_int_equal(rx.done, epoch_alloc);
		batch = peer_sync_batch_adapt(batch, conf, true);
		assert_int_equal(batch, conf);
	}
}

static uint32_t begin_count;
static int rec_begin(void *arg, uint32_t epoch, uint32_t n) { (void)arg; (void)epoch; begin_count = n; return 0; }
static enum peer_sync_item rec_item(void *arg, uint32_t epoch, uint32_t i) { (void)arg; (void)epoch; (void)i; return PEER_SYNC_SENT_CTX; }
static int rec_end(void *arg, uint32_t epoch, uint32_t n) { (void)arg; (void)epoch; (void)n; return 0; }

/* BEGIN never announces more contexts than the run has items: the
 * receiver would otherwise take a whole run for a short one. */
static void test_begin_count_bounded_by_items(void **st)
{
	(void)st;
	struct peer_sync_tx t = { 0 };
	const struct peer_sync_io rio = { NULL, rec_begin, rec_item, rec_end };
	peer_sync_tx_start(&t, 1, 2, 5, 0, 0);
	assert_int_equal(peer_sync_tx_step(&t, 0, 8, &rio), 1);
	assert_int_equal(begin_count, 2);
}

/* A context of another epoch is stray: counted as such, not in the run. */
static void test_ctx_of_another_epoch_is_stray(void **st)
{
	(void)st;
	struct peer_sync_rx r = { 0 };
	peer_sync_rx_begin(&r, 5, 1, 0);
	assert_false(peer_sync_rx_ctx(&r, 4));
	assert_int_equal(r.st.ctx_stray, 1);
	assert_true(peer_sync_rx_ctx(&r, 5));
	assert_int_equal(peer_sync_rx_end(&r, 5, 1), 1);
}

/* END counting more contexts than BEGIN announced is not whole. */
static void test_end_above_announced_is_incomplete(void **st)
{
	(void)st;
	struct peer_sync_rx r = { 0 };
	peer_sync_rx_begin(&r, 7, 1, 0);
	assert_true(peer_sync_rx_ctx(&r, 7));
	assert_true(peer_sync_rx_ctx(&r, 7));
	assert_int_equal(peer_sync_rx_end(&r, 7, 2), 0);
	assert_int_equal(r.st.incomplete, 1);
	assert_false(peer_sync_rx_complete(&r));
}

/* A loss report of zero messages is no gap. */
static void test_zero_lost_is_no_gap(void **st)
{
	(void)st;
	struct peer_sync_rx r = { 0 };
	peer_sync_rx_begin(&r, 3, 0, 0);
	peer_sync_rx_lost(&r, 0);
	assert_int_equal(peer_sync_rx_end(&r, 3, 0), 1);
	assert_true(peer_sync_rx_complete(&r));
}

/* A batch above the configured size (a lowered conf) is brought down to it
 * and not grown further. */
static void test_batch_adapt_clamps_to_conf(void **st)
{
	(void)st;
	assert_int_equal(peer_sync_batch_adapt(65, 64, true), 64);
	assert_int_equal(peer_sync_batch_adapt(1000, 64, true), 64);
}

/* A receive buffer size that is not positive (getsockopt failed) fits
 * nothing. */
static void test_batch_fits_no_buffer(void **st)
{
	(void)st;
	assert_false(peer_sync_batch_fits(1, -1));
	assert_false(peer_sync_batch_fits(0, 0));
}

int main(void)
{
	log_set_level(PSHIM6_LOG_ERR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_larger_than_a_batch_arrives_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_of_one, setup, teardown),
		cmocka_unit_test(test_gen_counts_begins_and_skips_zero),
		cmocka_unit_test_setup_teardown(test_sender_restart_prunes_its_old_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_messages_make_it_incomplete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_end_lost_then_superseded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changes_during_the_sync_are_not_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_update_during_the_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gone_items_bounded_per_tick, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leases_use_the_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_imports_go_out_as_paced_updates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_queue_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_adapts_to_losses, setup, teardown),
		cmocka_unit_test(test_batch_fits_receive_buffer),
		cmocka_unit_test(test_begin_count_bounded_by_items),
		cmocka_unit_test(test_ctx_of_another_epoch_is_stray),
		cmocka_unit_test(test_end_above_announced_is_incomplete),
		cmocka_unit_test(test_zero_lost_is_no_gap),
		cmocka_unit_test(test_batch_adapt_clamps_to_conf),
		cmocka_unit_test(test_batch_fits_no_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
