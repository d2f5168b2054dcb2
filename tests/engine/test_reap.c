/* reap.c: Send Timeout / Keepalive driven by data events, probe pacing,
 * locator_down, on the simulated network's fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "../../shim6/engine/internal.h"
#include "sim.h"

#define S SHIM6_NS_PER_S
#define MS SHIM6_NS_PER_MS

struct rec { int site; int type; shim6_tstamp at; };
static struct rec recs[4096];
static int nrec;
static struct sim *cur;

static void txtap(void *u, int site, const struct shim6_tx *tx)
{
	(void)u;
	if (nrec < 4096)
		recs[nrec++] = (struct rec){ site, tx->buf[2] & 0x7f, cur->now };
}

static int count(int site, int type, shim6_tstamp from)
{
	int n = 0;
	for (int i = 0; i < nrec; i++)
		n += recs[i].site == site && (type == 0 || recs[i].type == type) && recs[i].at >= from;
	return n;
}

static void setup(struct sim *s, uint64_t seed)
{
	sim_init(s, seed, 2, 1, 2, NULL);
	cur = s;
	nrec = 0;
	s->tx_tap = txtap;
	assert_int_equal(sim_open(s, 0, 0, 1, 0, 0, NULL), 0);
	sim_run(s, 5 * S);
	char why[64];
	assert_true(sim_agree(s, 0, 0, 1, 0, 0, why, sizeof(why)));
}

static void test_keepalive_one_way(void **st)
{
	(void)st;
	static struct sim s;
	setup(&s, 1);
	int f = sim_flow(&s, 0, 0, 1, 0, 0, 200 * MS);
	s.flows[f].oneway = true;
	/* the receiver's side of a one-way flow only receives */
	shim6_tstamp t0 = s.now;
	sim_run(&s, 60 * S);
	/* site 1 gets data and sends nothing: it must keep the peer's send
	 * timer from firing with Keepalives every keepalive interval (10/3 s) */
	int ka = count(1, MT_KEEPALIVE, t0);
	printf("keepalives from the receiving end in 60 s: %d\n", ka);
	assert_true(ka >= 12 && ka <= 20);
	assert_int_equal(count(0, MT_PROBE, t0), 0);   /* no false failure */
	struct shim6_ctx_info a;
	assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &a));
	assert_int_equal(a.reap, SHIM6_REAP_OPERATIONAL);
	/* idle context: no traffic, no REAP messages at all */
	s.flows[f].active = false;
	sim_run(&s, 5 * S);
	shim6_tstamp t1 = s.now;
	sim_run(&s, 60 * S);
	assert_int_equal(count(0, 0, t1) + count(1, 0, t1), 0);
	sim_fini(&s);
	assert_int_equal(s.allocs, 0);
}

static void test_send_timeout_and_probe_pacing(void **st)
{
	(void)st;
	static struct sim s;
	setup(&s, 2);
	/* cut every pair: the sender hears nothing back */
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++)
			sim_set_fail(&s, 0, i, 1, j, true);
	struct shim6_ctx_info a;
	assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &a));
	shim6_tstamp t0 = s.now;
	for (int i = 0; i < 200; i++) {
		shim6_engine_data(s.site[0].eng, a.id, SHIM6_DATA_SENT, s.now);
		sim_run(&s, 100 * MS);
	}
	/* exploring from send_timeout (10 s) on */
	shim6_tstamp first = 0, prev = 0;
	int k = 0;
	for (int i = 0; i < nrec; i++) {
		if (recs[i].site != 0 || recs[i].type != MT_PROBE || recs[i].at < t0)
			continue;
		if (!first) {
			first = recs[i].at;
			assert_true(first - t0 >= 10 * S && first - t0 < 10 * S + 200 * MS);
		} else {
			shim6_tstamp gap = recs[i].at - prev;
			/* 4 probes 0.5 s apart, then doubling */
			shim6_tstamp want = k <= 4 ? 500 * MS : (500 * MS) << (k - 4);
			assert_int_equal(gap, want);
		}
		prev = recs[i].at;
		k++;
	}
	assert_true(k >= 6);
	assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &a));
	assert_int_equal(a.reap, SHIM6_REAP_EXPLORING);
	assert_int_equal(a.state, SHIM6_ST_ESTABLISHED);   /* max_explore_time 0: keep trying */
	/* heal one pair: the context moves there */
	sim_set_fail(&s, 0, 1, 1, 1, false);
	sim_flow(&s, 0, 0, 1, 0, 0, 200 * MS);
	sim_run(&s, 60 * S);
	char why[64];
	assert_true(sim_agree(&s, 0, 0, 1, 0, 0, why, sizeof(why)));
	assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &a));
	assert_int_equal(sim_addr_loc(&a.local_loc), 1);
	assert_int_equal(sim_addr_loc(&a.peer_loc), 1);
	sim_fini(&s);
	assert_int_equal(s.allocs, 0);
}

static void test_explore_giveup(void **st)
{
	(void)st;
	static struct sim s;
	struct shim6_engine_settings set;
	shim6_engine_settings_default(&set);
	set.max_contexts = 8;
	set.max_explore_time = 30 * S;
	sim_init(&s, 3, 2, 1, 2, &set);
	cur = &s;
	sim_open(&s, 0, 0, 1, 0, 0, NULL);
	sim_run(&s, 5 * S);
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++)
			sim_set_fail(&s, 0, i, 1, j, true);
	struct shim6_ctx_info a;
	assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &a));
	for (int i = 0; i < 60; i++) {
		shim6_engine_data(s.site[0].eng, a.id, SHIM6_DATA_SENT, s.now);
		sim_run(&s, 1 * S);
	}
	assert_true(sim_count_events(&s, 0, SHIM6_EV_FAILED) == 1);
	sim_fini(&s);
}

static void test_locator_down(void **st)
{
	(void)st;
	static struct sim s;
	setup(&s, 4);
	sim_flow(&s, 0, 0, 1, 0, 0, 200 * MS);
	sim_run(&s, 2 * S);
	struct shim6_ctx_info a;
	assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &a));
	int l = sim_addr_loc(&a.local_loc);
	/* the link under that locator goes down: explore at once, no timeout */
	for (int j = 0; j < 2; j++)
		sim_set_fail(&s, 0, l, 1, j, true);
	shim6_tstamp t0 = s.now;
	assert_int_equal(shim6_engine_locator_down(s.site[0].eng, &a.local_loc, s.now), 0);
	sim_run(&s, 3 * S);
	char why[64];
	assert_true(sim_agree(&s, 0, 0, 1, 0, 0, why, sizeof(why)));
	assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &a));
	assert_int_not_equal(sim_addr_loc(&a.local_loc), l);
	assert_true(count(0, MT_PROBE, t0) >= 1);
	sim_fini(&s);
	assert_int_equal(s.allocs, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keepalive_one_way),
		cmocka_unit_test(test_send_timeout_and_probe_pacing),
		cmocka_unit_test(test_explore_giveup),
		cmocka_unit_test(test_locator_down),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
