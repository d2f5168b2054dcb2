/*
 * Context table at 1,000,000 entries: bound, lookups, modify under a
 * concurrent lock-free reader (RCU), delete and slot reuse, refused writes
 * leave the table unchanged; REAP stamps and the REAP scan walk.  EAL runs
 * with --no-huge so the suite needs no hugepages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#include <cmocka.h>
#include "test_rng.h"

#include <rte_cycles.h>
#include <rte_eal.h>
#include "eal_unit.h"

#include "tables.h"

#define CAP 1000000u
#define NMOD 20000u  /* modifies per round; old slots go through the deferred-free queue */

static struct dp_tables *t;
static volatile int stop, started;
static volatile uint64_t reads, torn;

static void mk(struct dpmsg_ctx *c, uint32_t i, uint64_t ptag, uint8_t gen)
{
	memset(c, 0, sizeof(*c));
	c->local_ulid[0] = 0xfd; c->remote_ulid[0] = 0xfd; c->remote_ulid[1] = 2;
	c->local_loc[0] = 0x20; c->remote_loc[0] = 0x20; c->remote_loc[1] = 0x30;
	memcpy(c->local_ulid + 12, &i, 4);
	memcpy(c->remote_ulid + 12, &i, 4);
	memcpy(c->local_loc + 12, &i, 4);
	c->remote_loc[10] = gen;
	c->remote_loc[11] = (uint8_t)ptag; /* invariant the reader checks: one version, never a mix */
	memcpy(c->remote_loc + 12, &i, 4);
	c->peer_tag = ptag;
	c->own_tag = UINT64_C(0x200000000) + i;
}

/* Contexts a walk from `from` yields before position `to` (DPMSG_SCAN_END: the end). */
static uint32_t ctx_between(struct dp_tables *tb, uint32_t from, uint32_t to)
{
	uint32_t it = from, n = 0;
	while (dp_ctx_next(tb, &it) != NULL && it <= to)
		n++;
	return n;
}

static void *reader(void *arg)
{
	uint64_t x = 88172645463325252ull;
	rte_rcu_qsbr_thread_register(t->qs, 0);
	rte_rcu_qsbr_thread_online(t->qs, 0);
	started = 1;
	while (!stop) {
		test_rng64(&x);
		uint64_t tag = UINT64_C(0x200000000) + (x % NMOD);
		const struct dp_ctx *c = dp_ctx_by_tag(t, tag);
		if (c) {
			if (c->remote_loc[11] != (uint8_t)c->peer_tag || c->own_tag != tag)
				torn++;
			reads++;
		}
		rte_rcu_qsbr_quiescent(t->qs, 0);
	}
	rte_rcu_qsbr_thread_offline(t->qs, 0);
	rte_rcu_qsbr_thread_unregister(t->qs, 0);
	return NULL;
}

static unsigned in_alt(const struct dp_lut *l)
{
	unsigned n = 0;
	for (uint32_t b = 0; b <= l->mask; b++)
		for (int w = 0; w < DP_LUT_WAYS; w++)
			n += l->b[b].e[w] && ((uint32_t)(l->b[b].e[w] >> 32) & l->mask) != b;
	return n;
}

static void *reader_small(void *arg)
{
	rte_rcu_qsbr_thread_register(t->qs, 0);
	rte_rcu_qsbr_thread_online(t->qs, 0);
	started = 1;
	for (uint64_t n = 0; !stop; n++) {
		uint64_t tag = UINT64_C(0x200000000) + (n % 16);
		const struct dp_ctx *c = dp_ctx_by_tag(t, tag);
		if (c) {
			if (c->remote_loc[11] != (uint8_t)c->peer_tag || c->own_tag != tag)
				torn++;
			reads++;
		}
		if (n % 4096 == 0)
			usleep(20000);   /* a reader slow to pass a quiescent state: the queue fills */
		rte_rcu_qsbr_quiescent(t->qs, 0);
	}
	rte_rcu_qsbr_thread_offline(t->qs, 0);
	rte_rcu_qsbr_thread_unregister(t->qs, 0);
	return NULL;
}

static void test_million(void **state)
{
	struct dpmsg_ctx c;
	struct dpmsg_ctx_mod m;
	pthread_t th;

	t = dp_tables_create("t", CAP, 16, 1, SOCKET_ID_ANY);
	assert_non_null(t);
	for (uint32_t i = 0; i < CAP; i++) {
		mk(&c, i, UINT64_C(0x100000000) + i, 0);
		if (dp_ctx_add(t, &c, 2) != 0)
			fail_msg("add %u refused", i);
	}
	assert_int_equal(t->n_ctx, CAP);
	printf("# index: %u of %u ulid entries in the stash, %u in their alternative bucket\n",
	       t->l_ulid.n_stash, t->l_ulid.n, in_alt(&t->l_ulid));
	printf("# index: %u of %u tag entries in the stash, %u in their alternative bucket\n",
	       t->l_tag.n_stash, t->l_tag.n, in_alt(&t->l_tag));
	printf("# %u contexts, %lu table bytes, %.0f bytes per context\n", CAP,
	       (unsigned long)t->mem_bytes, (double)t->mem_bytes / CAP);
	mk(&c, CAP, 1, 0);
	assert_int_equal(dp_ctx_add(t, &c, 2), DPMSG_ERR_FULL);

	/* every entry found by both keys, with its own data */
	for (uint32_t i = 0; i < CAP; i += 7) {
		struct dp_ulid_key k;
		const struct dp_ctx *d;
		mk(&c, i, 0, 0);
		memcpy(k.local, c.local_ulid, 16);
		memcpy(k.remote, c.remote_ulid, 16);
		d = dp_ctx_by_ulid(t, k.local);
		assert_non_null(d);
		assert_ptr_equal(d, dp_ctx_by_tag(t, c.own_tag));
		assert_true(((struct dp_ctx *)d)->peer_tag == UINT64_C(0x100000000) + i);
	}
	/* refused writes change nothing */
	mk(&c, 5, 9, 0);
	assert_int_equal(dp_ctx_add(t, &c, 2), DPMSG_ERR_EXISTS);
	assert_true(dp_ctx_by_tag(t, c.own_tag)->peer_tag == UINT64_C(0x100000005));

	/* delete 20,000, modify under a concurrent reader, re-add */
	for (uint32_t i = 20000; i < 40000; i++)
		assert_int_equal(dp_ctx_del(t, UINT64_C(0x200000000) + i), 0);
	assert_int_equal(t->n_ctx, CAP - 20000);
	assert_null(dp_ctx_by_tag(t, UINT64_C(0x200000000) + 30000));
	stop = 0;
	assert_int_equal(pthread_create(&th, NULL, reader, NULL), 0);
	while (!started)
		sched_yield();
	for (int round = 1; round <= 3; round++) {
		for (uint32_t i = 0; i < NMOD; i++) {
			uint64_t ptag = UINT64_C(0x300000000) + i * 3 + (uint64_t)round;
			mk(&m.ctx, i, ptag, (uint8_t)round);
			m.what = DPMSG_MOD_LOCATORS | DPMSG_MOD_PEER_TAG;
			m.ctx.isp = (uint8_t)(round & 1);
			assert_int_equal(dp_ctx_mod(t, &m, 2), 0);
		}
	}
	stop = 1;
	pthread_join(th, NULL);
	printf("# reader: %lu lookups during %u modifies, %lu torn; writer waited for readers %lu times\n",
	       (unsigned long)reads, 3 * NMOD, (unsigned long)torn, (unsigned long)t->defer_waits);
	assert_true(reads > 0);
	assert_int_equal(torn, 0);
	for (uint32_t i = 0; i < NMOD; i++) {
		const struct dp_ctx *x = dp_ctx_by_tag(t, UINT64_C(0x200000000) + i);
		assert_non_null(x);
		assert_int_equal(x->remote_loc[10], 3);
		assert_int_equal(x->isp, 1);
		assert_ptr_equal(dp_ctx_by_ptag(t, x->peer_tag), x);
	}
	for (uint32_t i = 20000; i < 40000; i++) {
		mk(&c, i, UINT64_C(0x100000000) + i, 0);
		assert_int_equal(dp_ctx_add(t, &c, 2), 0);
	}
	assert_int_equal(t->n_ctx, CAP);
	/* the dump walk sees every context once, each the current version */
	{
		static uint8_t seen[CAP];
		uint32_t it = 0, n = 0;
		const struct dp_ctx *x;
		memset(seen, 0, sizeof(seen));
		while ((x = dp_ctx_next(t, &it)) != NULL) {
			uint64_t i = x->own_tag - UINT64_C(0x200000000);
			assert_true(i < CAP);
			assert_int_equal(seen[i], 0);
			seen[i] = 1;
			assert_ptr_equal(x, dp_ctx_by_tag(t, x->own_tag));
			n++;
		}
		assert_int_equal(n, CAP);
	}
	/* a REAP scan step looks at no more than DPMSG_SCAN_SLOTS_MAX contexts,
	 * whatever it is asked; and what such a step costs the writer */
	{
		struct dp_stamps st[DPMSG_REAP_MAX];
		uint32_t cur = 0, steps = 0;
		assert_int_equal(dp_ctx_scan(t, &cur, UINT32_MAX, 0, st, DPMSG_REAP_MAX), 0);
		assert_true(cur != DPMSG_SCAN_END);
		assert_int_equal(ctx_between(t, 0, cur), DPMSG_SCAN_SLOTS_MAX);
		uint64_t t0 = rte_rdtsc();
		for (cur = 0; cur != DPMSG_SCAN_END && steps < CAP / DPMSG_SCAN_SLOTS_MAX + 2; steps++)
			assert_int_equal(dp_ctx_scan(t, &cur, DPMSG_SCAN_SLOTS_MAX, 0, st, DPMSG_REAP_MAX), 0);
		double us = (double)(rte_rdtsc() - t0) * 1e6 / (double)rte_get_tsc_hz();
		printf("# REAP scan of %u idle contexts: %u steps of %u, %.0f us each\n", CAP, steps,
		       DPMSG_SCAN_SLOTS_MAX, us / steps);
		assert_int_equal(steps, (CAP + DPMSG_SCAN_SLOTS_MAX - 1) / DPMSG_SCAN_SLOTS_MAX);
	}
	assert_int_equal(dp_ctx_mod(t, &(struct dpmsg_ctx_mod){ .what = DPMSG_MOD_PEER_TAG,
				    .ctx = { .own_tag = 12345 } }, 2), DPMSG_ERR_NOTFOUND);
	assert_int_equal(dp_ctx_del(t, 12345), DPMSG_ERR_NOTFOUND);
	dp_tables_free(t);
}

static void test_hosts(void **state)
{
	struct dpmsg_host h;
	t = dp_tables_create("h", 16, 4, 0, SOCKET_ID_ANY);
	assert_non_null(t);
	for (uint8_t i = 0; i < 4; i++) {
		memset(&h, 0, sizeof(h));
		h.cmula[0] = 0xfd; h.cmula[15] = i;
		h.nloc = 2;
		h.loc[0][0] = 0x20; h.loc[0][15] = i;
		h.loc[1][0] = 0x21; h.loc[1][15] = i;
		assert_int_equal(dp_host_add(t, &h), 0);
	}
	h.cmula[15] = 9; h.loc[0][15] = 9; h.loc[1][15] = 9;
	assert_int_equal(dp_host_add(t, &h), DPMSG_ERR_FULL);
	h.loc[0][15] = 2; /* locator already owned by host 2 */
	assert_int_equal(dp_host_del(t, h.cmula), DPMSG_ERR_NOTFOUND);
	_Alignas(8) uint8_t a[16] = { 0x21, [15] = 3 };
	const struct dp_host *x = dp_host_by_loc(t, a);
	assert_non_null(x);
	assert_int_equal(x->cmula[15], 3);
	assert_int_equal(dp_host_del(t, x->cmula), 0);
	assert_null(dp_host_by_loc(t, a));
	h.cmula[15] = 9; h.loc[0][15] = 2;
	assert_int_equal(dp_host_add(t, &h), DPMSG_ERR_EXISTS);
	h.loc[0][15] = 9;
	assert_int_equal(dp_host_add(t, &h), 0);
	dp_tables_free(t);
}

/*
 * A small table hammered with modifies and delete/re-add under a reader:
 * the deferred-free queue fills, the writer waits, nothing is torn, slots
 * all come back.
 */
static void test_defer_queue_full(void **state)
{
	enum { SMALL = 16, ROUNDS = 3 * 4096 };
	struct dpmsg_ctx c;
	struct dpmsg_ctx_mod m;
	pthread_t th;

	t = dp_tables_create("d", SMALL, 4, 1, SOCKET_ID_ANY);
	assert_non_null(t);
	for (uint32_t i = 0; i < SMALL; i++) {
		mk(&c, i, UINT64_C(0x100000000) + i, 0);
		assert_int_equal(dp_ctx_add(t, &c, 2), 0);
	}
	uint32_t slots0 = t->n_slot_free + t->n_defer;
	assert_int_equal(t->defer_max, 64);   /* the smallest queue: it fills many times */
	stop = 0;
	started = 0;
	reads = torn = 0;
	assert_int_equal(pthread_create(&th, NULL, reader_small, NULL), 0);
	while (!started)
		sched_yield();
	for (uint32_t r = 0; r < ROUNDS; r++) {
		uint32_t i = r % SMALL;
		if (r % 3 == 2) {
			assert_int_equal(dp_ctx_del(t, UINT64_C(0x200000000) + i), 0);
			mk(&c, i, UINT64_C(0x100000000) + i, (uint8_t)r);
			assert_int_equal(dp_ctx_add(t, &c, 2), 0);
		} else {
			mk(&m.ctx, i, UINT64_C(0x300000000) + r, (uint8_t)r);
			m.what = DPMSG_MOD_LOCATORS | DPMSG_MOD_PEER_TAG;
			m.ctx.isp = (uint8_t)(r & 1);
			assert_int_equal(dp_ctx_mod(t, &m, 2), 0);
		}
	}
	stop = 1;
	pthread_join(th, NULL);
	printf("# small table: %u writes, reader %lu lookups, %lu torn, writer waited %lu times\n",
	       (unsigned)ROUNDS, (unsigned long)reads, (unsigned long)torn, (unsigned long)t->defer_waits);
	assert_int_equal(torn, 0);
	assert_true(t->defer_waits > 0);           /* the queue did fill */
	assert_int_equal(t->n_ctx, SMALL);
	dp_tables_reclaim(t, true);
	assert_int_equal(t->n_defer, 0);
	assert_int_equal(t->n_slot_free, slots0);  /* every slot came back */
	dp_tables_free(t);
}

/* Hashes whose two buckets are the same pair, so the test can fill both. */
static unsigned same_pair(const struct dp_lut *l, uint32_t *out, unsigned want)
{
	uint32_t b1 = 3, b2 = UINT32_MAX;
	unsigned n = 0;
	for (uint32_t h = b1; n < want && h < UINT32_C(0xfffffff0); h += l->mask + 1) {
		if (dp_lut_alt(l, h) == b1)
			continue;
		if (b2 == UINT32_MAX)
			b2 = dp_lut_alt(l, h);
		if (dp_lut_alt(l, h) == b2)
			out[n++] = h;
	}
	return n;
}

static bool is_slot(uint32_t slot, const void *arg)
{
	return slot == *(const uint32_t *)arg;
}

static int64_t find(const struct dp_lut *l, uint32_t h, uint32_t slot)
{
	return dp_lut_find(l, h, is_slot, &slot);
}

/* Both buckets full -> stash; stash full -> DP_LUT_FULL; deletes keep stashed keys reachable. */
static void test_lut_overflow(void **state)
{
	enum { N = 2 * DP_LUT_WAYS + DP_LUT_STASH };
	struct dp_lut l;
	uint32_t h[N + 1];

	assert_int_equal(dp_lut_init(&l, 64, SOCKET_ID_ANY), DP_LUT_OK);
	assert_int_equal(same_pair(&l, h, N + 1), N + 1);
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(dp_lut_add(&l, h[i], i), DP_LUT_OK);
	assert_int_equal(l.n_stash, DP_LUT_STASH);
	assert_int_equal(dp_lut_add(&l, h[N], N), DP_LUT_FULL);
	assert_int_equal(l.n, N);
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(find(&l, h[i], i), i);
	assert_int_equal(find(&l, h[N], N), -1);
	/* free a bucket way: stashed entries must still be found */
	assert_int_equal(dp_lut_del(&l, h[0], 0), DP_LUT_OK);
	assert_int_equal(find(&l, h[0], 0), -1);
	for (uint32_t i = 1; i < N; i++)
		assert_int_equal(find(&l, h[i], i), i);
	/* a stashed entry replaced, then deleted */
	assert_int_equal(dp_lut_replace(&l, h[N - 1], N - 1, 1000), DP_LUT_OK);
	assert_int_equal(find(&l, h[N - 1], N - 1), -1);
	assert_int_equal(find(&l, h[N - 1], 1000), 1000);
	assert_int_equal(dp_lut_del(&l, h[N - 1], N - 1), DP_LUT_NOTFOUND);
	assert_int_equal(dp_lut_del(&l, h[N - 1], 1000), DP_LUT_OK);
	assert_int_equal(l.n_stash, DP_LUT_STASH - 1);
	for (uint32_t i = 2 * DP_LUT_WAYS; i < N - 1; i++)
		assert_int_equal(dp_lut_del(&l, h[i], i), DP_LUT_OK);
	assert_int_equal(l.n_stash, 0);
	assert_int_equal(l.ovf[h[1] & l.mask], 0);
	/* the freed way takes the next add: nothing left in the stash */
	assert_int_equal(dp_lut_add(&l, h[N], N), DP_LUT_OK);
	assert_int_equal(l.n_stash, 0);
	assert_int_equal(find(&l, h[N], N), N);
	dp_lut_free(&l);
}

/*
 * REAP stamps live in the context: they follow a modify (the copy takes
 * them, and a stamp an lcore put on the old slot after the copy is merged
 * when the old slot is reclaimed), lcores beyond DP_CTX_STAMPS share slots,
 * and dp_ctx_stamps turns the newest back into TSC.
 */
static void test_stamps(void **state)
{
	struct dpmsg_ctx c;
	struct dpmsg_ctx_mod m;
	const uint64_t tag = UINT64_C(0x200000007);
	struct dp_ctx *x, *y;
	uint64_t sent, recv, now;
	uint32_t ms;
	(void)state;

	t = dp_tables_create("s", 64, 4, 6, SOCKET_ID_ANY);
	assert_non_null(t);
	mk(&c, 7, 1, 0);
	assert_int_equal(dp_ctx_add(t, &c, 2), 0);
	x = dp_ctx_by_tag(t, tag);
	assert_non_null(x);
	assert_int_equal(dp_ctx_stamps(t, tag, &sent, &recv), 0);
	assert_int_equal(sent, 0);          /* never */
	assert_int_equal(recv, 0);
	rte_delay_us_block(20000);
	ms = dp_tables_ms(t, rte_rdtsc());
	assert_true(ms >= 20);
	dp_ctx_stamp(x, 0, 0, ms - 6);
	dp_ctx_stamp(x, 5, 1, ms - 8);      /* reader 5 shares slot 1 */
	assert_int_equal(x->stamp[1][1], ms - 8);

	/* a modify copies the stamps; an lcore still on the old slot stamps it later */
	mk(&m.ctx, 7, 2, 1);
	m.what = DPMSG_MOD_LOCATORS;
	assert_int_equal(dp_ctx_mod(t, &m, 2), 0);
	y = dp_ctx_by_tag(t, tag);
	assert_ptr_not_equal(x, y);
	assert_int_equal(y->stamp[0][0], ms - 6);
	dp_ctx_stamp(x, 2, 1, ms - 4);      /* late, on the old slot */
	dp_ctx_stamp(x, 0, 0, ms - 7);      /* older than what the new slot has: not taken */
	dp_tables_reclaim(t, true);
	assert_int_equal(y->stamp[2][1], ms - 4);
	assert_int_equal(y->stamp[0][0], ms - 6);

	/* to CLOCK_MONOTONIC: the newest over all readers, that many ms before now */
	assert_int_equal(dp_ctx_stamps(t, tag, &sent, &recv), 0);
	now = rte_rdtsc();
	uint64_t now_ns = dp_mono_ns();
	assert_true(sent <= now_ns && recv <= now_ns);
	int64_t ago_s = (int64_t)((now_ns - sent) / 1000000u), ago_r = (int64_t)((now_ns - recv) / 1000000u);
	int64_t want = (int64_t)dp_tables_ms(t, now) - ms;
	assert_in_range(ago_s, want + 6 - 2, want + 6 + 2);
	assert_in_range(ago_r, want + 4 - 2, want + 4 + 2);   /* ms - 4 (reader 2) beats ms - 8 (reader 5) */
	/* the same stamps read later give the same times: control takes a later
	 * time for new traffic, so a value that moved with the reading would
	 * look like traffic that never came */
	for (int i = 0; i < 5; i++) {
		uint64_t s2, r2;
		rte_delay_us_block(700);
		assert_int_equal(dp_ctx_stamps(t, tag, &s2, &r2), 0);
		assert_int_equal(s2, sent);
		assert_int_equal(r2, recv);
	}
	assert_int_equal(dp_ctx_stamps(t, UINT64_C(0x999), &sent, &recv), -1);
	dp_tables_free(t);
}

/* ---- REAP scan ------------------------------------------------------------ */

#define SCAN_N 1000u
#define TAG0   UINT64_C(0x200000000)

/* The table the scan cases walk: SCAN_N contexts, tags TAG0 + i, no stamps. */
static void scan_table(const char *name)
{
	struct dpmsg_ctx c;
	t = dp_tables_create(name, 1024, 4, 4, SOCKET_ID_ANY);
	assert_non_null(t);
	for (uint32_t i = 0; i < SCAN_N; i++) {
		mk(&c, i, UINT64_C(0x100000000) + i, 0);
		assert_int_equal(dp_ctx_add(t, &c, 2), 0);
	}
}

static struct dp_ctx *ctx_i(uint32_t i)
{
	struct dp_ctx *x = dp_ctx_by_tag(t, TAG0 + i);
	assert_non_null(x);
	return x;
}

/* The start of table millisecond `ms`, on CLOCK_MONOTONIC. */
static uint64_t at_ms(uint64_t ms)
{
	return t->mono0_ns + ms * 1000000u;
}

/*
 * A whole walk in steps of (max_slots, n_out): seen[i] counts the reports
 * of context i, each checked against dp_ctx_stamps; every step but the last
 * looks at exactly max_slots contexts unless its answer filled up, and no
 * step looks at more.  Returns the number of steps.
 */
static unsigned walk(uint32_t max_slots, unsigned n_out, uint64_t since, uint8_t seen[SCAN_N])
{
	struct dp_stamps st[DPMSG_REAP_MAX];
	uint32_t cur = 0;
	unsigned steps = 0;

	memset(seen, 0, SCAN_N);
	while (cur != DPMSG_SCAN_END) {
		uint32_t from = cur;
		unsigned n = dp_ctx_scan(t, &cur, max_slots, since, st, n_out);
		uint32_t looked = ctx_between(t, from, cur);
		assert_true(n <= n_out);
		assert_true(looked <= max_slots);
		assert_true(n <= looked);
		if (cur != DPMSG_SCAN_END)
			assert_true(looked == max_slots || n == n_out);
		for (unsigned k = 0; k < n; k++) {
			uint64_t i = st[k].own_tag - TAG0, sent, recv;
			assert_true(i < SCAN_N);
			seen[i]++;
			assert_int_equal(dp_ctx_stamps(t, st[k].own_tag, &sent, &recv), 0);
			assert_true(st[k].sent == sent);
			assert_true(st[k].recv == recv);
			assert_true(sent || recv);
		}
		assert_true(++steps <= 2 * SCAN_N + 2);
	}
	return steps;
}

/*
 * Only contexts with a stamp later than `since` come back, a stamp in the
 * millisecond `since` falls in included, whichever direction and lcore
 * slot it is in; the time given back is the latest over the slots.
 */
static void test_scan_since(void **state)
{
	enum { E = 5000 };  /* the millisecond `since` falls in */
	static uint8_t seen[SCAN_N];
	(void)state;

	scan_table("sc");
	for (uint32_t i = 0; i < SCAN_N; i++) {
		struct dp_ctx *x = ctx_i(i);
		switch (i % 6) {
		case 0:         /* never stamped */
			break;
		case 1:         /* the millisecond before */
			dp_ctx_stamp(x, 0, 0, E - 1);
			dp_ctx_stamp(x, 3, 1, E - 40);
			break;
		case 2:         /* the same millisecond, received, a shared lcore slot */
			dp_ctx_stamp(x, 5, 1, E);
			dp_ctx_stamp(x, 0, 0, E - 3);
			break;
		case 3:         /* after, sent */
			dp_ctx_stamp(x, 2, 0, E + 1);
			break;
		case 4:         /* the latest slot is after, older ones before */
			dp_ctx_stamp(x, 0, 0, E - 9);
			dp_ctx_stamp(x, 1, 0, E + 7);
			dp_ctx_stamp(x, 2, 0, E - 2);
			dp_ctx_stamp(x, 3, 1, E - 1);
			break;
		case 5:         /* long before */
			dp_ctx_stamp(x, 1, 1, 3);
			break;
		}
	}
	/* since anywhere in millisecond E: its start, its middle, its last tick */
	const uint64_t in_e[] = { at_ms(E), at_ms(E) + 500000u, at_ms(E + 1) - 1 };
	for (unsigned k = 0; k < 3; k++) {
		walk(DPMSG_SCAN_SLOTS_MAX, DPMSG_REAP_MAX, in_e[k], seen);
		for (uint32_t i = 0; i < SCAN_N; i++)
			assert_int_equal(seen[i], i % 6 >= 2 && i % 6 <= 4);
	}
	/* the latest slot's time comes back, the start of its millisecond */
	{
		struct dp_stamps st[DPMSG_REAP_MAX];
		uint32_t cur = 0;
		unsigned total = 0, steps = 0;
		while (cur != DPMSG_SCAN_END) {
			unsigned n = dp_ctx_scan(t, &cur, DPMSG_SCAN_SLOTS_MAX, at_ms(E + 7), st, DPMSG_REAP_MAX);
			assert_true(++steps <= SCAN_N / DPMSG_REAP_MAX + 2);
			for (unsigned k = 0; k < n; k++) {
				assert_int_equal((st[k].own_tag - TAG0) % 6, 4);
				assert_true(st[k].sent == at_ms(E + 7));
				assert_true(st[k].recv == at_ms(E - 1));
			}
			total += n;
		}
		assert_int_equal(total, (SCAN_N + 1) / 6);   /* the case-4 contexts alone */
	}
	/* the next millisecond leaves the same-millisecond stamps out */
	walk(DPMSG_SCAN_SLOTS_MAX, DPMSG_REAP_MAX, at_ms(E + 1), seen);
	for (uint32_t i = 0; i < SCAN_N; i++)
		assert_int_equal(seen[i], i % 6 == 3 || i % 6 == 4);
	/* 0, or a time before the tables: every context ever stamped */
	walk(DPMSG_SCAN_SLOTS_MAX, DPMSG_REAP_MAX, 0, seen);
	for (uint32_t i = 0; i < SCAN_N; i++)
		assert_int_equal(seen[i], i % 6 != 0);
	walk(DPMSG_SCAN_SLOTS_MAX, DPMSG_REAP_MAX, t->mono0_ns - 1, seen);
	for (uint32_t i = 0; i < SCAN_N; i++)
		assert_int_equal(seen[i], i % 6 != 0);
	/* after every stamp: nothing, and the walk still ends */
	walk(DPMSG_SCAN_SLOTS_MAX, DPMSG_REAP_MAX, at_ms(E + 8), seen);
	for (uint32_t i = 0; i < SCAN_N; i++)
		assert_int_equal(seen[i], 0);
	dp_tables_free(t);
}

/*
 * The walk continued from `next` sees every context exactly once, in steps
 * bounded by max_slots, or by the answer filling up first.
 */
static void test_scan_steps(void **state)
{
	static uint8_t seen[SCAN_N];
	unsigned steps;
	(void)state;

	scan_table("sw");
	for (uint32_t i = 0; i < SCAN_N; i++)
		dp_ctx_stamp(ctx_i(i), i % 4, i % 2, 100 + i % 50);
	steps = walk(7, DPMSG_REAP_MAX, 0, seen);
	for (uint32_t i = 0; i < SCAN_N; i++)
		assert_int_equal(seen[i], 1);
	assert_in_range(steps, (SCAN_N + 6) / 7, (SCAN_N + 6) / 7 + 1);
	/* 128 answers fill up before 300 looks: the next step goes on from the 129th */
	steps = walk(300, DPMSG_REAP_MAX, 0, seen);
	for (uint32_t i = 0; i < SCAN_N; i++)
		assert_int_equal(seen[i], 1);
	assert_in_range(steps, (SCAN_N + 127) / 128, (SCAN_N + 127) / 128 + 1);
	/* one answer a step: the smallest steps still miss nothing */
	walk(DPMSG_SCAN_SLOTS_MAX, 1, 0, seen);
	for (uint32_t i = 0; i < SCAN_N; i++)
		assert_int_equal(seen[i], 1);
	walk(1, DPMSG_REAP_MAX, 0, seen);
	for (uint32_t i = 0; i < SCAN_N; i++)
		assert_int_equal(seen[i], 1);

	/* a sparse table: idle contexts are looked at, never answered */
	for (uint32_t i = 0; i < SCAN_N; i++)
		memset(ctx_i(i)->stamp, 0, sizeof(ctx_i(i)->stamp));
	for (uint32_t i = 0; i < SCAN_N; i += 37)
		dp_ctx_stamp(ctx_i(i), 1, 1, 100);
	walk(7, DPMSG_REAP_MAX, 0, seen);
	for (uint32_t i = 0; i < SCAN_N; i++)
		assert_int_equal(seen[i], i % 37 == 0);
	dp_tables_free(t);
}

/*
 * A sparse index: a step reads no more than 4 x max_slots + 4,096 ways,
 * so a walk over an index of 262,144 capacity holding 10 contexts takes
 * several steps, each ending early, and still sees each context once.
 */
static void test_scan_sparse_bounded(void **state)
{
	struct dp_stamps st[DPMSG_REAP_MAX];
	struct dpmsg_ctx c;
	uint8_t seen[10] = { 0 };
	uint32_t cur = 0, steps = 0;
	(void)state;

	t = dp_tables_create("sp", 262144, 4, 1, SOCKET_ID_ANY);
	assert_non_null(t);
	for (uint32_t i = 0; i < 10; i++) {
		mk(&c, i, UINT64_C(0x100000000) + i, 0);
		assert_int_equal(dp_ctx_add(t, &c, 2), 0);
		dp_ctx_stamp(dp_ctx_by_tag(t, TAG0 + i), 0, 0, 100);
	}
	uint32_t ways = (t->l_tag.mask + 1) * DP_LUT_WAYS + DP_LUT_STASH;
	while (cur != DPMSG_SCAN_END) {
		uint32_t from = cur;
		unsigned n = dp_ctx_scan(t, &cur, DPMSG_SCAN_SLOTS_MAX, 0, st, DPMSG_REAP_MAX);
		assert_true((cur == DPMSG_SCAN_END ? ways : cur) - from <= DPMSG_SCAN_SLOTS_MAX * 4u + 4096u);
		for (unsigned k = 0; k < n; k++) {
			uint64_t i = st[k].own_tag - TAG0;
			assert_true(i < 10);
			seen[i]++;
		}
		assert_true(++steps <= ways / (DPMSG_SCAN_SLOTS_MAX * 4u) + 2);
	}
	assert_true(steps >= ways / (DPMSG_SCAN_SLOTS_MAX * 4u + 4096u));
	for (uint32_t i = 0; i < 10; i++)
		assert_int_equal(seen[i], 1);
	dp_tables_free(t);
}

/* The cursor's edges: an empty table, a cursor at or past the end. */
static void test_scan_cursor_edges(void **state)
{
	struct dp_stamps st[DPMSG_REAP_MAX];
	uint32_t cur = 0;
	(void)state;

	t = dp_tables_create("se", 64, 4, 1, SOCKET_ID_ANY);
	assert_non_null(t);
	assert_int_equal(dp_ctx_scan(t, &cur, 1, 0, st, DPMSG_REAP_MAX), 0);
	assert_int_equal(cur, DPMSG_SCAN_END);
	dp_tables_free(t);

	scan_table("sx");
	for (uint32_t i = 0; i < SCAN_N; i++)
		dp_ctx_stamp(ctx_i(i), 0, 0, 100);
	const uint32_t past[] = { (t->l_tag.mask + 1) * DP_LUT_WAYS + DP_LUT_STASH,
				  (t->l_tag.mask + 1) * DP_LUT_WAYS + DP_LUT_STASH + 1, UINT32_MAX - 1,
				  DPMSG_SCAN_END };
	for (unsigned k = 0; k < 4; k++) {
		cur = past[k];
		assert_int_equal(dp_ctx_scan(t, &cur, DPMSG_SCAN_SLOTS_MAX, 0, st, DPMSG_REAP_MAX), 0);
		assert_int_equal(cur, DPMSG_SCAN_END);
	}
	/* the last position in use: the stash's last entry or before */
	cur = past[0] - 1;
	assert_true(dp_ctx_scan(t, &cur, DPMSG_SCAN_SLOTS_MAX, 0, st, DPMSG_REAP_MAX) <= 1);
	assert_int_equal(cur, DPMSG_SCAN_END);
	dp_tables_free(t);
}

/*
 * Between two steps contexts are deleted (some the walk has passed, some
 * it has not) and modified (which moves them to another slot): the walk
 * goes on, sees every survivor once and none it had not reached when it
 * was deleted.
 */
static void test_scan_survives_writes(void **state)
{
	static uint8_t seen[SCAN_N], gone[SCAN_N];
	struct dp_stamps st[DPMSG_REAP_MAX];
	struct dpmsg_ctx_mod m;
	uint32_t cur = 0, ahead = SCAN_N - 1, behind = 0, steps = 0;
	(void)state;

	scan_table("sd");
	memset(seen, 0, sizeof seen);
	memset(gone, 0, sizeof gone);
	for (uint32_t i = 0; i < SCAN_N; i++)
		dp_ctx_stamp(ctx_i(i), 0, 1, 100);
	while (cur != DPMSG_SCAN_END) {
		unsigned n = dp_ctx_scan(t, &cur, 7, 0, st, DPMSG_REAP_MAX);
		assert_true(++steps <= SCAN_N);
		for (unsigned k = 0; k < n; k++) {
			uint64_t i = st[k].own_tag - TAG0;
			assert_true(i < SCAN_N);
			assert_false(gone[i] == 1);   /* deleted before the walk got there */
			seen[i]++;
		}
		/* one the walk has not seen yet, one it has; and a modify */
		while (ahead > 0 && (seen[ahead] || gone[ahead]))
			ahead--;
		if (ahead > 0 && !seen[ahead]) {
			assert_int_equal(dp_ctx_del(t, TAG0 + ahead), 0);
			gone[ahead] = 1;
		}
		while (behind < SCAN_N && (!seen[behind] || gone[behind]))
			behind++;
		if (behind < SCAN_N) {
			assert_int_equal(dp_ctx_del(t, TAG0 + behind), 0);
			gone[behind] = 2;
		}
		for (uint32_t i = 0; i < SCAN_N; i++)
			if (!seen[i] && !gone[i] && i % 3 == 0) {
				mk(&m.ctx, i, UINT64_C(0x300000000) + i, 1);
				m.what = DPMSG_MOD_LOCATORS;
				assert_int_equal(dp_ctx_mod(t, &m, 2), 0);
				break;
			}
		dp_tables_reclaim(t, false);
	}
	unsigned deleted_ahead = 0;
	for (uint32_t i = 0; i < SCAN_N; i++) {
		if (gone[i] == 1)
			deleted_ahead++;
		assert_int_equal(seen[i], gone[i] == 1 ? 0 : 1);
	}
	assert_true(deleted_ahead > 10);
	dp_tables_free(t);
}

/*
 * The stamps' clock wraps after 49 days, and so compares only within 24:
 * a `since` older than that must not hide new traffic, and the wrap
 * itself must not either.
 */
static void test_scan_clock_wrap(void **state)
{
	struct dp_stamps st[DPMSG_REAP_MAX];
	struct dpmsg_ctx c;
	uint32_t cur;
	(void)state;

	t = dp_tables_create("sr", 64, 4, 1, SOCKET_ID_ANY);
	assert_non_null(t);
	mk(&c, 1, 1, 0);
	assert_int_equal(dp_ctx_add(t, &c, 2), 0);
	const uint64_t day = UINT64_C(86400000);
	const uint64_t ago[] = { 30 * day, (UINT64_C(1) << 32) + 3, 60 * day };
	for (unsigned k = 0; k < 3; k++) {
		/* the tables made that many milliseconds ago, a packet now */
		uint64_t now = dp_mono_ns();
		t->mono0_ns = now - ago[k] * 1000000u;
		dp_tables_clock_sync(t, rte_rdtsc(), dp_mono_ns());
		memset(ctx_i(1)->stamp, 0, sizeof(ctx_i(1)->stamp));
		dp_ctx_stamp(ctx_i(1), 0, 1, dp_tables_ms(t, rte_rdtsc()));
		const uint64_t hit[] = { at_ms(1000), now - 8000000u, now - 26 * day * 1000000u,
					 at_ms(ago[k] - (UINT64_C(1) << 31) + 5), now };
		for (unsigned h = 0; h < 5; h++) {
			cur = 0;
			assert_int_equal(dp_ctx_scan(t, &cur, 64, hit[h], st, DPMSG_REAP_MAX), 1);
			assert_true(st[0].own_tag == TAG0 + 1);
			assert_int_equal(cur, DPMSG_SCAN_END);
		}
		cur = 0;
		assert_int_equal(dp_ctx_scan(t, &cur, 64, now + 8000000u, st, DPMSG_REAP_MAX), 0);
	}
	dp_tables_free(t);
}

/* ---- the stamps' clock ---------------------------------------------------- */

#define TRUE_HZ UINT64_C(2096004000)    /* a TSC's rate, as the kernel measured it */
#define SEC UINT64_C(1000000000)

/*
 * The stamps follow CLOCK_MONOTONIC, not the TSC rate DPDK reports: on x86
 * without CPUID leaf 0x15 it is rounded to 10 MHz (2,100,000,000 for this
 * TSC), which alone put stamps 6.9 s an hour behind control's clock.
 */
static void test_stamp_clock_follows_monotonic(void **state)
{
	(void)state;
	t = dp_tables_create("clk", 64, 4, 1, SOCKET_ID_ANY);
	assert_non_null(t);
	t->clk.per_ms = 2100000;            /* as DPDK rounds it */
	const uint64_t T0 = t->clk.first_tsc, M0 = t->clk.first_ns;
	assert_true(M0 == t->mono0_ns);
	const uint64_t T1h = T0 + 3600 * TRUE_HZ;
	/* unanchored, the rounded rate is seconds behind after an hour */
	assert_true(dp_tables_ms(t, T1h) < 3600000 - 6000);
	/* anchored: exact at the anchor, and the measured rate carries it on */
	dp_tables_clock_sync(t, T1h, M0 + 3600 * SEC);
	assert_in_range(t->clk.per_ms, TRUE_HZ / 1000 - 1, TRUE_HZ / 1000 + 1);
	assert_int_equal(dp_tables_ms(t, T1h), 3600000);
	assert_in_range(dp_tables_ms(t, T1h + 99 * TRUE_HZ / 1000), 3600098, 3600100);
	/* an anchor in the middle of a millisecond: the clock's ms starts before it */
	dp_tables_clock_sync(t, T1h + TRUE_HZ / 2000 * 3, M0 + 3600 * SEC + 1500000);
	assert_int_equal(dp_tables_ms(t, T1h + TRUE_HZ / 2000 * 3), 3600001);
	assert_int_equal(dp_tables_ms(t, T1h + TRUE_HZ / 1000 * 2), 3600002);
	/* a burst's `now` read before the anchor was set: the anchor's own ms */
	assert_int_equal(dp_tables_ms(t, T1h), 3600001);
	/* NTP slews CLOCK_MONOTONIC 500 ppm slow for a minute: anchors every
	 * 100 ms keep the stamps within a millisecond of it */
	uint64_t tsc = T1h, mono = M0 + 3600 * SEC;
	for (int i = 0; i < 600; i++) {
		tsc += TRUE_HZ / 10;
		mono += SEC / 10 - SEC / 10 / 2000;
		dp_tables_clock_sync(t, tsc, mono);
		uint64_t want = (mono - M0 + 50 * 1000000u) / 1000000u;   /* 50 ms on */
		assert_in_range(dp_tables_ms(t, tsc + TRUE_HZ / 20), want - 1, want + 1);
	}
	/* a reading from before the tables, or a TSC from before the measure began, is ignored */
	uint32_t seq = t->clk.seq;
	dp_tables_clock_sync(t, tsc + 1, M0 - 1);
	dp_tables_clock_sync(t, T0 - 1, mono + SEC);
	assert_int_equal(t->clk.seq, seq);
	dp_tables_free(t);
}

static _Atomic bool clk_stop;

/* Anchors far apart on the same line: one read half from each is 1,000 s off. */
static void *clk_writer(void *arg)
{
	const uint64_t T0 = t->clk.first_tsc, M0 = t->clk.first_ns;
	(void)arg;
	for (unsigned i = 0; !atomic_load(&clk_stop); i++) {
		uint64_t s = i & 1 ? 2000 : 1000;
		dp_tables_clock_sync(t, T0 + s * TRUE_HZ, M0 + s * SEC);
	}
	return NULL;
}

/* Lcores read the anchor while the channel thread rewrites it: never half of one. */
static void test_stamp_clock_torn_reads(void **state)
{
	pthread_t w;
	unsigned bad = 0, reads = 0;
	(void)state;
	t = dp_tables_create("clkt", 64, 4, 1, SOCKET_ID_ANY);
	assert_non_null(t);
	const uint64_t now = t->clk.first_tsc + 3000 * TRUE_HZ;
	dp_tables_clock_sync(t, t->clk.first_tsc + 1000 * TRUE_HZ, t->clk.first_ns + 1000 * SEC);
	atomic_store(&clk_stop, false);
	assert_int_equal(pthread_create(&w, NULL, clk_writer, NULL), 0);
	uint64_t end = rte_rdtsc() + rte_get_tsc_hz() / 2;
	while (rte_rdtsc() < end) {
		for (int i = 0; i < 1000; i++, reads++) {
			uint32_t ms = dp_tables_ms(t, now);
			bad += ms < 3000000 - 3 || ms > 3000000 + 3;
		}
	}
	atomic_store(&clk_stop, true);
	pthread_join(w, NULL);
	assert_true(reads > 100000);
	assert_int_equal(bad, 0);
	assert_true(t->clk.seq > 1000);
	dp_tables_free(t);
}

int main(int argc, char **argv)
{
	(void)argc;
	if (eal_unit_init(argv[0], "tables", "1200") < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_million),
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_lut_overflow),
		cmocka_unit_test(test_defer_queue_full),
		cmocka_unit_test(test_stamps),
		cmocka_unit_test(test_scan_since),
		cmocka_unit_test(test_scan_steps),
		cmocka_unit_test(test_scan_cursor_edges),
		cmocka_unit_test(test_scan_sparse_bounded),
		cmocka_unit_test(test_scan_survives_writes),
		cmocka_unit_test(test_scan_clock_wrap),
		cmocka_unit_test(test_stamp_clock_follows_monotonic),
		cmocka_unit_test(test_stamp_clock_torn_reads),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rte_eal_cleanup();
	return rc;
}
