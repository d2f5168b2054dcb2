/*
 * The shared upstream health state (upstream_health.c) on a fake clock:
 * when an upstream goes DOWN and comes back, the hold and its cap, the
 * one trial at a time, the order of tries, the table's bounds and what a
 * changed upstream list starts from.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <arpa/inet.h>

#include "dnsalg.h"

/* [::1]:port, or 127.0.0.1:port with v4. */
static struct dnsalg_upstream_addr addr(uint16_t port, bool v4)
{
	struct dnsalg_upstream_addr a;
	memset(&a, 0, sizeof a);
	if (v4) {
		struct sockaddr_in *s = (struct sockaddr_in *)&a.sa;
		s->sin_family = AF_INET;
		s->sin_port = htons(port);
		s->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a.salen = sizeof *s;
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&a.sa;
		s->sin6_family = AF_INET6;
		s->sin6_port = htons(port);
		s->sin6_addr = in6addr_loopback;
		a.salen = sizeof *s;
	}
	return a;
}

struct env {
	struct dnsalg_health *h;
	struct dnsalg_counters cnt;
	struct dnsalg_upstream_addr to[DNSALG_MAX_UPSTREAMS];
	unsigned order[DNSALG_MAX_UPSTREAMS];
	int trial;
};

static int setup(void **state)
{
	static struct env e;
	memset(&e, 0, sizeof e);
	e.h = dnsalg_health_new();
	assert_non_null(e.h);
	for (unsigned i = 0; i < DNSALG_MAX_UPSTREAMS; i++)
		e.to[i] = addr((uint16_t)(5300 + i), i == 1);
	*state = &e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	dnsalg_health_free(e->h);
	return 0;
}

static int order(struct env *e, unsigned n, uint64_t now)
{
	return dnsalg_health_order(e->h, e->to, n, now, e->order, &e->trial, &e->cnt);
}

static int failed(struct env *e, unsigned i, bool trial, uint64_t now)
{
	return dnsalg_health_report(e->h, &e->to[i], false, trial, now, &e->cnt, NULL);
}

static int answer(struct env *e, unsigned i, uint64_t now)
{
	return dnsalg_health_report(e->h, &e->to[i], true, false, now, &e->cnt, NULL);
}

static struct dnsalg_health_info info(struct env *e, unsigned i)
{
	struct dnsalg_health_info s;
	assert_int_equal(dnsalg_health_get(e->h, &e->to[i], &s), 0);
	return s;
}

/* Upstream i DOWN at `now`, after DNSALG_HEALTH_FAILS failures. */
static void take_down(struct env *e, unsigned n, unsigned i, uint64_t now)
{
	assert_int_equal(order(e, n, now), (int)n);
	for (unsigned k = 1; k < DNSALG_HEALTH_FAILS; k++)
		assert_int_equal(failed(e, i, false, now), DNSALG_HEALTH_SAME);
	assert_int_equal(failed(e, i, false, now), DNSALG_HEALTH_WENT_DOWN);
}

static void down_after_n_failures_not_before(void **state)
{
	struct env *e = *state;
	assert_int_equal(order(e, 2, 100), 2);
	for (unsigned k = 1; k < DNSALG_HEALTH_FAILS; k++) {
		assert_int_equal(failed(e, 0, false, 100 + k), DNSALG_HEALTH_SAME);
		assert_false(info(e, 0).down);
		assert_int_equal(info(e, 0).fails, k);
	}
	/* still first while UP */
	assert_int_equal(order(e, 2, 110), 2);
	assert_int_equal(e->order[0], 0);
	assert_int_equal(atomic_load(&e->cnt.upstream_skipped), 0);
	assert_int_equal(failed(e, 0, false, 120), DNSALG_HEALTH_WENT_DOWN);
	struct dnsalg_health_info s = info(e, 0);
	assert_true(s.down);
	assert_int_equal(s.hold_ms, DNSALG_HEALTH_HOLD_MS);
	assert_true(s.retry_at == 120 + DNSALG_HEALTH_HOLD_MS);
	assert_true(s.down_since == 120);
	assert_int_equal(atomic_load(&e->cnt.upstream_down), 1);
	/* more failures of tries that were under way: no second transition */
	for (int k = 0; k < 5; k++)
		assert_int_equal(failed(e, 0, false, 130), DNSALG_HEALTH_SAME);
	assert_int_equal(atomic_load(&e->cnt.upstream_down), 1);
	assert_true(info(e, 0).retry_at == 120 + DNSALG_HEALTH_HOLD_MS);
	/* the other one is untouched */
	assert_false(info(e, 1).down);
	assert_int_equal(info(e, 1).fails, 0);
	/* failures with an answer between them are not in a row */
	for (unsigned k = 1; k < DNSALG_HEALTH_FAILS; k++)
		assert_int_equal(failed(e, 1, false, 200), DNSALG_HEALTH_SAME);
	assert_int_equal(answer(e, 1, 201), DNSALG_HEALTH_SAME);
	for (unsigned k = 1; k < DNSALG_HEALTH_FAILS; k++)
		assert_int_equal(failed(e, 1, false, 202), DNSALG_HEALTH_SAME);
	assert_false(info(e, 1).down);
	assert_int_equal(atomic_load(&e->cnt.upstream_down), 1);
}

/* Each failed trial doubles the hold, from 1 s up to the cap; no trial
 * before the hold has run out, one at exactly its end. */
static void hold_doubles_up_to_cap(void **state)
{
	struct env *e = *state;
	uint64_t now = 1000;
	take_down(e, 2, 0, now);
	const uint32_t want[] = { 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000 };
	for (unsigned k = 0; k < sizeof want / sizeof want[0]; k++) {
		struct dnsalg_health_info s = info(e, 0);
		assert_int_equal(s.hold_ms, want[k]);
		assert_true(s.retry_at == now + want[k]);
		now += want[k] - 1;
		assert_int_equal(order(e, 2, now), 2);
		assert_int_equal(e->trial, -1);
		assert_int_equal(e->order[0], 1);
		assert_int_equal(e->order[1], 0);
		now++;
		assert_int_equal(order(e, 2, now), 2);
		assert_int_equal(e->trial, 0);
		assert_int_equal(e->order[0], 0);
		now += 50;   /* the try's share */
		assert_int_equal(failed(e, 0, true, now), DNSALG_HEALTH_SAME);
	}
	assert_int_equal(atomic_load(&e->cnt.upstream_down), 1);
	assert_int_equal(atomic_load(&e->cnt.upstream_up), 0);
}

/* Once the hold has run out, one query gets the trial; the others put the
 * upstream last until that trial is reported. */
static void one_trial_at_a_time(void **state)
{
	struct env *e = *state;
	take_down(e, 3, 2, 0);
	uint64_t t = DNSALG_HEALTH_HOLD_MS;
	assert_int_equal(order(e, 3, t), 3);
	assert_int_equal(e->trial, 2);
	assert_int_equal(e->order[0], 2);
	assert_true(info(e, 2).trial);
	for (int q = 0; q < 5; q++) {
		assert_int_equal(order(e, 3, t + 10), 3);
		assert_int_equal(e->trial, -1);
		assert_int_equal(e->order[2], 2);
	}
	/* a held one asked last by another query and failing: neither ends
	 * the trial nor lengthens the hold */
	assert_int_equal(failed(e, 2, false, t + 20), DNSALG_HEALTH_SAME);
	assert_int_equal(info(e, 2).hold_ms, DNSALG_HEALTH_HOLD_MS);
	assert_int_equal(order(e, 3, t + 30), 3);
	assert_int_equal(e->trial, -1);
	/* the trial fails: held again, for twice as long */
	assert_int_equal(failed(e, 2, true, t + 40), DNSALG_HEALTH_SAME);
	assert_false(info(e, 2).trial);
	assert_int_equal(info(e, 2).hold_ms, 2 * DNSALG_HEALTH_HOLD_MS);
	assert_int_equal(order(e, 3, t + 40 + 2 * DNSALG_HEALTH_HOLD_MS - 1), 3);
	assert_int_equal(e->trial, -1);
	assert_int_equal(order(e, 3, t + 40 + 2 * DNSALG_HEALTH_HOLD_MS), 3);
	assert_int_equal(e->trial, 2);
}

/* Any valid answer, a trial's or another query's, makes it UP at once;
 * the next time it goes DOWN its hold starts from 1 s again. */
static void any_answer_brings_it_up(void **state)
{
	struct env *e = *state;
	uint64_t now = 0;
	take_down(e, 2, 0, now);
	/* held (no trial yet), asked last by a query the other failed */
	now = 300;
	assert_int_equal(answer(e, 0, now), DNSALG_HEALTH_WENT_UP);
	struct dnsalg_health_info s = info(e, 0);
	assert_false(s.down);
	assert_false(s.trial);
	assert_int_equal(s.fails, 0);
	assert_true(s.down_since == 0);   /* kept for the log line */
	assert_int_equal(atomic_load(&e->cnt.upstream_up), 1);
	assert_int_equal(order(e, 2, now), 2);
	assert_int_equal(e->order[0], 0);
	/* down again, held twice over, then the trial answers */
	take_down(e, 2, 0, now);
	assert_int_equal(info(e, 0).hold_ms, DNSALG_HEALTH_HOLD_MS);
	for (int k = 0; k < 2; k++) {
		now = info(e, 0).retry_at;
		assert_int_equal(order(e, 2, now), 2);
		assert_int_equal(e->trial, 0);
		assert_int_equal(failed(e, 0, true, now), DNSALG_HEALTH_SAME);
	}
	assert_int_equal(info(e, 0).hold_ms, 4 * DNSALG_HEALTH_HOLD_MS);
	now = info(e, 0).retry_at;
	assert_int_equal(order(e, 2, now), 2);
	assert_int_equal(e->trial, 0);
	assert_int_equal(dnsalg_health_report(e->h, &e->to[0], true, true, now, &e->cnt, NULL),
			 DNSALG_HEALTH_WENT_UP);
	assert_false(info(e, 0).down);
	assert_false(info(e, 0).trial);
	assert_int_equal(atomic_load(&e->cnt.upstream_up), 2);
	assert_int_equal(atomic_load(&e->cnt.upstream_down), 2);
	take_down(e, 2, 0, now);
	assert_int_equal(info(e, 0).hold_ms, DNSALG_HEALTH_HOLD_MS);
	/* an answer while UP changes nothing */
	assert_int_equal(answer(e, 1, now), DNSALG_HEALTH_SAME);
	assert_int_equal(atomic_load(&e->cnt.upstream_up), 2);
}

/* The trial first, then the UP ones, then those held, each group in the
 * configured order. */
static void try_order(void **state)
{
	struct env *e = *state;
	assert_int_equal(order(e, 4, 0), 4);
	for (unsigned k = 0; k < 4; k++)
		assert_int_equal(e->order[k], k);
	assert_int_equal(e->trial, -1);
	take_down(e, 4, 0, 0);                    /* held until 1000 */
	take_down(e, 4, 2, 500);                  /* held until 1500 */
	uint64_t sk = atomic_load(&e->cnt.upstream_skipped);
	assert_int_equal(order(e, 4, 900), 4);
	const unsigned held[] = { 1, 3, 0, 2 };   /* UP 1, 3; held 0, 2 */
	for (unsigned k = 0; k < 4; k++)
		assert_int_equal(e->order[k], held[k]);
	assert_int_equal(e->trial, -1);
	assert_int_equal(atomic_load(&e->cnt.upstream_skipped), sk + 2);
	assert_int_equal(order(e, 4, 1200), 4);
	const unsigned want[] = { 0, 1, 3, 2 };   /* trial 0; UP 1, 3; held 2 */
	for (unsigned k = 0; k < 4; k++)
		assert_int_equal(e->order[k], want[k]);
	assert_int_equal(e->trial, 0);
	assert_int_equal(atomic_load(&e->cnt.upstream_skipped), sk + 3);
	/* the next query: 0's trial is out, so both DOWN ones go last */
	assert_int_equal(order(e, 4, 1200), 4);
	const unsigned want2[] = { 1, 3, 0, 2 };
	for (unsigned k = 0; k < 4; k++)
		assert_int_equal(e->order[k], want2[k]);
	assert_int_equal(e->trial, -1);
	assert_int_equal(atomic_load(&e->cnt.upstream_skipped), sk + 5);
	/* both due: the first due one is this query's trial, the other last */
	assert_int_equal(failed(e, 0, true, 1300), DNSALG_HEALTH_SAME);   /* held until 3300 */
	assert_int_equal(order(e, 4, 1500), 4);
	const unsigned want3[] = { 2, 1, 3, 0 };
	for (unsigned k = 0; k < 4; k++)
		assert_int_equal(e->order[k], want3[k]);
	assert_int_equal(e->trial, 2);
}

/* Everything DOWN: every upstream is still in the order, one trial a
 * query. */
static void all_down_still_all_tried(void **state)
{
	struct env *e = *state;
	for (unsigned i = 0; i < 3; i++)
		take_down(e, 3, i, 0);
	assert_int_equal(order(e, 3, 10), 3);
	assert_int_equal(e->trial, -1);
	unsigned seen = 0;
	for (unsigned k = 0; k < 3; k++)
		seen |= 1u << e->order[k];
	assert_int_equal(seen, 7);
	assert_int_equal(e->order[0], 0);
	/* all due: one trial each for the first three queries, then none */
	uint64_t t = DNSALG_HEALTH_HOLD_MS;
	unsigned trials = 0;
	for (unsigned q = 0; q < 4; q++) {
		assert_int_equal(order(e, 3, t), 3);
		seen = 0;
		for (unsigned k = 0; k < 3; k++)
			seen |= 1u << e->order[k];
		assert_int_equal(seen, 7);
		if (q < 3) {
			assert_int_equal(e->trial, (int)q);
			assert_int_equal(e->order[0], q);
			trials |= 1u << q;
		} else {
			assert_int_equal(e->trial, -1);
		}
	}
	assert_int_equal(trials, 7);
}

/* At most DNSALG_MAX_UPSTREAMS addresses; a new list makes room by
 * dropping the addresses not in it; bad arguments refused. */
static void table_bounds(void **state)
{
	struct env *e = *state;
	assert_int_equal(order(e, 0, 0), DNSALG_EINVAL);
	assert_int_equal(order(e, DNSALG_MAX_UPSTREAMS + 1, 0), DNSALG_EINVAL);
	assert_int_equal(dnsalg_health_count(e->h), 0);
	assert_int_equal(order(e, DNSALG_MAX_UPSTREAMS, 0), DNSALG_MAX_UPSTREAMS);
	assert_int_equal(dnsalg_health_count(e->h), DNSALG_MAX_UPSTREAMS);
	/* the same address twice is one entry */
	struct dnsalg_upstream_addr keep0 = e->to[0];
	e->to[1] = e->to[0];
	assert_int_equal(order(e, 2, 1), 2);
	assert_int_equal(dnsalg_health_count(e->h), DNSALG_MAX_UPSTREAMS);
	/* a whole new list: every old address makes room */
	for (unsigned i = 0; i < DNSALG_MAX_UPSTREAMS; i++)
		e->to[i] = addr((uint16_t)(6300 + i), false);
	for (int r = 0; r < 3; r++) {
		assert_int_equal(order(e, DNSALG_MAX_UPSTREAMS, 2), DNSALG_MAX_UPSTREAMS);
		assert_int_equal(dnsalg_health_count(e->h), DNSALG_MAX_UPSTREAMS);
	}
	struct dnsalg_health_info s;
	assert_int_equal(dnsalg_health_get(e->h, &keep0, &s), DNSALG_ENOENT);
	assert_int_equal(dnsalg_health_report(e->h, &keep0, false, false, 3, &e->cnt, NULL), DNSALG_ENOENT);
	/* room is made from an address not listed, even when a listed one
	 * was used longer ago: 6300 is DOWN and oldest, then a list of a new
	 * address and 6300 */
	take_down(e, 1, 0, 4);
	assert_int_equal(order(e, DNSALG_MAX_UPSTREAMS, 5), DNSALG_MAX_UPSTREAMS);
	assert_int_equal(order(e, 1, 4), 1);      /* 6300 the least recent */
	e->to[1] = e->to[0];
	e->to[0] = addr(6400, false);
	assert_int_equal(order(e, 2, 6), 2);
	assert_int_equal(dnsalg_health_count(e->h), DNSALG_MAX_UPSTREAMS);
	assert_true(info(e, 1).down);
	assert_false(info(e, 0).down);
	assert_int_equal(e->order[0], 0);
	assert_int_equal(e->order[1], 1);
	/* salen larger than the storage */
	e->to[0].salen = sizeof e->to[0].sa + 1;
	assert_int_equal(order(e, 1, 3), DNSALG_EINVAL);
}

/* A changed upstream list (a restart with another config, or another
 * transport's list): each new address starts UP with nothing against it;
 * one that stays keeps its state; the port is part of the address. */
static void new_list_starts_clean(void **state)
{
	struct env *e = *state;
	take_down(e, 2, 0, 0);
	failed(e, 1, false, 0);
	struct dnsalg_upstream_addr old0 = e->to[0], old1 = e->to[1];
	/* same address, another port: a server of its own */
	struct dnsalg_upstream_addr np = old0;
	((struct sockaddr_in6 *)&np.sa)->sin6_port = htons(5399);
	struct dnsalg_upstream_addr list[DNSALG_MAX_UPSTREAMS] = {
		np, old1, addr(7000, false), addr(7001, true)
	};
	memcpy(e->to, list, sizeof list);
	assert_int_equal(order(e, 4, 10), 4);
	assert_int_equal(e->order[0], 0);   /* the new one is UP and first */
	assert_int_equal(e->trial, -1);
	assert_false(info(e, 0).down);
	assert_int_equal(info(e, 0).fails, 0);
	assert_int_equal(info(e, 1).fails, 1);   /* kept */
	/* the DOWN one made room and comes back clean */
	struct dnsalg_health_info s;
	assert_int_equal(dnsalg_health_get(e->h, &old0, &s), DNSALG_ENOENT);
	e->to[3] = old0;
	assert_int_equal(order(e, 4, 20), 4);
	assert_false(info(e, 3).down);
	assert_int_equal(info(e, 3).fails, 0);
	assert_int_equal(e->order[0], 0);
	assert_int_equal(atomic_load(&e->cnt.upstream_skipped), 0);
	assert_int_equal(atomic_load(&e->cnt.upstream_up), 0);
}

static void log_lines(void **state)
{
	struct env *e = *state;
	char line[160];
	struct dnsalg_health_info s;
	take_down(e, 2, 0, 5000);
	s = info(e, 0);
	int n = dnsalg_health_format(&e->to[0], DNSALG_HEALTH_WENT_DOWN, &s, 5000, line, sizeof line);
	assert_int_equal(n, (int)strlen(line));
	assert_string_equal(line, "upstream [::1]:5300 down after 3 failed tries in a row; "
				  "asked last, and first again in 1000 ms");
	assert_int_equal(dnsalg_health_report(e->h, &e->to[0], false, false, 5000, NULL, &s), DNSALG_HEALTH_SAME);
	assert_int_equal(dnsalg_health_format(&e->to[0], DNSALG_HEALTH_SAME, &s, 5000, line, sizeof line), 0);
	assert_int_equal(dnsalg_health_report(e->h, &e->to[0], true, false, 17500, NULL, &s), DNSALG_HEALTH_WENT_UP);
	dnsalg_health_format(&e->to[0], DNSALG_HEALTH_WENT_UP, &s, 17500, line, sizeof line);
	assert_string_equal(line, "upstream [::1]:5300 up again after 12500 ms down");
	take_down(e, 2, 1, 0);
	s = info(e, 1);
	dnsalg_health_format(&e->to[1], DNSALG_HEALTH_WENT_DOWN, &s, 0, line, sizeof line);
	assert_non_null(strstr(line, "upstream 127.0.0.1:5301 down"));
	assert_int_equal(dnsalg_health_format(&e->to[1], DNSALG_HEALTH_WENT_DOWN, &s, 0, line, 20), DNSALG_EFULL);
}

/* Many threads on one state: never two trials of one upstream out at once. */
struct race {
	struct env *e;
	_Atomic uint64_t clock;
	_Atomic int out;
	_Atomic unsigned trials, overlap;
};

static void *racer(void *arg)
{
	struct race *r = arg;
	unsigned order[2];
	int trial;
	for (int k = 0; k < 20000; k++) {
		/* each step past the longest hold: a trial is always due */
		uint64_t now = atomic_fetch_add(&r->clock, 2 * DNSALG_HEALTH_HOLD_MAX_MS);
		dnsalg_health_order(r->e->h, r->e->to, 2, now, order, &trial, NULL);
		if (trial < 0)
			continue;
		if (atomic_fetch_add(&r->out, 1) != 0)
			atomic_fetch_add(&r->overlap, 1);
		atomic_fetch_add(&r->trials, 1);
		atomic_fetch_sub(&r->out, 1);
		dnsalg_health_report(r->e->h, &r->e->to[trial], false, true, now, NULL, NULL);
	}
	return NULL;
}

static void threads_share_one_trial(void **state)
{
	struct env *e = *state;
	take_down(e, 2, 0, 0);
	static struct race r;
	memset(&r, 0, sizeof r);
	r.e = e;
	r.clock = DNSALG_HEALTH_HOLD_MS;
	pthread_t th[8];
	for (int i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&th[i], NULL, racer, &r), 0);
	for (int i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	assert_true(atomic_load(&r.trials) > 0);
	assert_int_equal(atomic_load(&r.overlap), 0);
	assert_true(info(e, 0).down);
	assert_false(info(e, 0).trial);
	assert_int_equal(info(e, 0).hold_ms, DNSALG_HEALTH_HOLD_MAX_MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(down_after_n_failures_not_before, setup, teardown),
		cmocka_unit_test_setup_teardown(hold_doubles_up_to_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(one_trial_at_a_time, setup, teardown),
		cmocka_unit_test_setup_teardown(any_answer_brings_it_up, setup, teardown),
		cmocka_unit_test_setup_teardown(try_order, setup, teardown),
		cmocka_unit_test_setup_teardown(all_down_still_all_tried, setup, teardown),
		cmocka_unit_test_setup_teardown(table_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(new_list_starts_clean, setup, teardown),
		cmocka_unit_test_setup_teardown(log_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(threads_share_one_trial, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
