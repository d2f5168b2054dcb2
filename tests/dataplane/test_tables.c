/*
 * Context table at 1,000,000 entries: bound, lookups, modify under a
 * concurrent lock-free reader (RCU), delete and slot reuse, refused writes
 * leave the table unchanged.  EAL runs with --no-huge so the suite needs no
 * hugepages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
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

	/* back to TSC: the newest over all readers, that many ms before now */
	assert_int_equal(dp_ctx_stamps(t, tag, &sent, &recv), 0);
	now = rte_rdtsc();
	assert_true(sent <= now && recv <= now);
	int64_t ago_s = (int64_t)((now - sent) / t->tsc_per_ms), ago_r = (int64_t)((now - recv) / t->tsc_per_ms);
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
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rte_eal_cleanup();
	return rc;
}
