/* Bounds: max_contexts, max_pending, R1bis rate limit, output queues. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "../../shim6/engine/internal.h"
#include "sim.h"
#include "solo.h"

#define S SHIM6_NS_PER_S

static void test_max_pending(void **st)
{
	(void)st;
	struct solo s;
	struct shim6_engine_settings set;
	shim6_engine_settings_default(&set);
	set.max_contexts = 8;
	set.max_pending = 3;
	solo_init(&s, &set);
	struct shim6_in6 lu = SOLO_ULID(1, 1);
	for (int i = 0; i < 5; i++) {
		struct shim6_in6 pu = SOLO_ULID(2, (uint8_t)(i + 1));
		uint64_t id;
		int rc = shim6_engine_open(s.e, &lu, &pu, NULL, 0, 0, s.now, &id);
		assert_int_equal(rc, i < 3 ? 0 : SHIM6_ENG_EPENDFULL);
	}
	struct shim6_engine_stats stt;
	shim6_engine_get_stats(s.e, &stt);
	assert_int_equal(stt.pending, 3);
	assert_int_equal(stt.pending_full, 2);
	/* an unserved local ULID is refused without creating anything */
	struct shim6_in6 bad = SOLO_ULID(9, 1), pu = SOLO_ULID(2, 9);
	uint64_t id;
	assert_int_equal(shim6_engine_open(s.e, &bad, &pu, NULL, 0, 0, s.now, &id), SHIM6_ENG_EPENDFULL);
	solo_fini(&s);
	assert_int_equal(s.allocs, 0);
}

static void test_max_contexts_responder(void **st)
{
	(void)st;
	static struct sim s;
	struct shim6_engine_settings set;
	shim6_engine_settings_default(&set);
	set.max_contexts = 2;
	set.max_pending = 2;
	sim_init(&s, 5, 3, 2, 2, &set);
	/* sites 0 and 2 each open two contexts to site 1, which holds two */
	for (int h = 0; h < 2; h++) {
		assert_int_equal(sim_open(&s, 0, h, 1, h, 0, NULL), 0);
		assert_int_equal(sim_open(&s, 2, h, 1, h, 0, NULL), 0);
	}
	sim_run(&s, 120 * S);
	struct shim6_engine_stats b;
	shim6_engine_get_stats(s.site[1].eng, &b);
	assert_int_equal(b.contexts, 2);
	assert_true(b.ctx_full >= 2);
	/* the initiator side may not exceed its own bound either */
	struct shim6_engine_stats a;
	shim6_engine_get_stats(s.site[0].eng, &a);
	assert_true(a.contexts <= 2);
	struct shim6_in6 l = sim_ulid(0, 0);
	int ok = 0, refused = 0;
	for (int h = 0; h < 4; h++) {
		uint64_t id;
		struct shim6_in6 p = sim_ulid(2, h);
		p.b[14] = 0x77;    /* peers nobody has opened yet */
		int rc = shim6_engine_open(s.site[0].eng, &l, &p, NULL, 0, 0, s.now, &id);
		if (rc == 0)
			ok++;
		else if (rc == SHIM6_ENG_EFULL || rc == SHIM6_ENG_EPENDFULL)
			refused++;
	}
	assert_int_equal(ok, 2 - (int)a.contexts);
	assert_int_equal(refused, 4 - ok);
	sim_fini(&s);
	assert_int_equal(s.allocs, 0);
}

static void test_r1bis_rate_limit(void **st)
{
	(void)st;
	struct solo s;
	solo_init(&s, NULL);
	struct shim6_in6 src = SOLO_LOC(2, 0, 1), dst = SOLO_LOC(1, 0, 1);
	int sent = 0, limited = 0;
	for (int i = 0; i < 100; i++) {
		int rc = shim6_engine_unknown_tag(s.e, (uint64_t)i + 1, &src, &dst, s.now);
		if (rc == 0)
			sent++;
		else if (rc == SHIM6_ENG_ERATELIMIT)
			limited++;
	}
	assert_int_equal(sent, 20);        /* recovery_burst */
	assert_int_equal(limited, 80);
	assert_int_equal(solo_drain(&s, MT_R1BIS, NULL), 20);
	s.now += 50 * SHIM6_NS_PER_MS;    /* 100/s: 5 tokens back */
	sent = 0;
	for (int i = 0; i < 100; i++)
		sent += shim6_engine_unknown_tag(s.e, 1000 + (uint64_t)i, &src, &dst, s.now) == 0;
	assert_int_equal(sent, 5);
	s.now += 10 * S;                   /* the bucket never holds more than its depth */
	sent = 0;
	for (int i = 0; i < 100; i++)
		sent += shim6_engine_unknown_tag(s.e, 2000 + (uint64_t)i, &src, &dst, s.now) == 0;
	assert_int_equal(sent, 20);
	solo_fini(&s);
}

static int r1bis_burst(struct solo *s, uint64_t first)
{
	struct shim6_in6 src = SOLO_LOC(2, 0, 1), dst = SOLO_LOC(1, 0, 1);
	int sent = 0;
	for (int i = 0; i < 100; i++)
		sent += shim6_engine_unknown_tag(s->e, first + (uint64_t)i, &src, &dst, s->now) == 0;
	solo_drain(s, 0, NULL);
	return sent;
}

/* A reload's recovery rate and depth: time before it fills at the old rate,
 * time after at the new one, and the new depth caps what is held. */
static void test_r1bis_rate_reload(void **st)
{
	(void)st;
	struct solo s;
	struct shim6_engine_settings n;
	solo_init(&s, NULL);
	assert_int_equal(r1bis_burst(&s, 1), 20);
	s.now += 100 * SHIM6_NS_PER_MS;    /* 10 tokens back at 100/s */
	shim6_engine_settings_default(&n);
	n.recovery_rate = 1000;
	n.recovery_burst = 6;
	assert_int_equal(shim6_engine_set_timers(s.e, &n, s.now), 0);
	assert_int_equal(r1bis_burst(&s, 1000), 6);   /* the 10 held, capped to the new depth */
	s.now += 3 * SHIM6_NS_PER_MS;      /* 1000/s: 3 back */
	assert_int_equal(r1bis_burst(&s, 2000), 3);
	s.now += 10 * S;
	assert_int_equal(r1bis_burst(&s, 3000), 6);
	n.recovery_rate = 100;
	n.recovery_burst = 50;
	assert_int_equal(shim6_engine_set_timers(s.e, &n, s.now), 0);
	assert_int_equal(r1bis_burst(&s, 4000), 0);   /* a deeper bucket is not a refill */
	s.now += 10 * S;
	assert_int_equal(r1bis_burst(&s, 5000), 50);
	solo_fini(&s);
}

static void test_txq_drops_oldest(void **st)
{
	(void)st;
	struct solo s;
	struct shim6_engine_settings set;
	shim6_engine_settings_default(&set);
	set.max_contexts = 8;
	set.txq_len = 4;
	solo_init(&s, &set);
	struct shim6_in6 src = SOLO_LOC(2, 0, 1), dst = SOLO_LOC(1, 0, 1);
	for (int i = 1; i <= 10; i++)
		assert_int_equal(shim6_engine_unknown_tag(s.e, (uint64_t)i, &src, &dst, s.now), 0);
	static struct shim6_tx tx;
	uint64_t want = 7;
	int n = 0;
	while (shim6_engine_poll_tx(s.e, &tx)) {
		assert_int_equal(get_tag(tx.buf + 6), want++);
		n++;
	}
	assert_int_equal(n, 4);
	struct shim6_engine_stats stt;
	shim6_engine_get_stats(s.e, &stt);
	assert_int_equal(stt.tx_dropped_full, 6);
	solo_fini(&s);
}

/* An Update Acknowledgement for a tag we do not hold is dropped without an
 * R1bis: acks must not buy recovery messages (or rate-limit tokens). */
static void test_update_ack_unknown_tag(void **st)
{
	(void)st;
	struct solo s;
	solo_init(&s, NULL);
	struct shim6_in6 src = SOLO_LOC(2, 0, 1), dst = SOLO_LOC(1, 0, 1);
	uint8_t buf[64];
	struct mb m;
	mb_init(&m, buf, sizeof buf, MT_UPDATE_ACK);
	mb_tag(&m, 0x777);
	mb_u32(&m, 1);
	size_t n = mb_finish(&m);
	assert_int_equal(shim6_engine_recv(s.e, buf, n, &src, &dst, s.now), SHIM6_ENG_ENOCTX);
	struct shim6_engine_stats x;
	shim6_engine_get_stats(s.e, &x);
	assert_int_equal(x.r1bis_sent, 0);
	assert_int_equal(solo_drain(&s, 0, NULL), 0);
	solo_fini(&s);
	assert_int_equal(s.allocs, 0);
}

/* A host whose only locator is BROKEN cannot start a handshake: open is
 * refused (ENOTLOCAL) and leaves nothing, rather than picking from none. */
static void test_open_all_broken(void **st)
{
	(void)st;
	static struct sim s;
	sim_init(&s, 7, 2, 1, 1, NULL);
	s.site[0].loc_flags[0] = SHIM6_LOCF_BROKEN;
	assert_int_equal(sim_open(&s, 0, 0, 1, 0, 0, NULL), SHIM6_ENG_ENOTLOCAL);
	struct shim6_engine_stats x;
	shim6_engine_get_stats(s.site[0].eng, &x);
	assert_int_equal(x.contexts, 0);
	assert_int_equal(x.tx_msgs, 0);
	sim_fini(&s);
	assert_int_equal(s.allocs, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_max_pending),
		cmocka_unit_test(test_max_contexts_responder),
		cmocka_unit_test(test_r1bis_rate_limit),
		cmocka_unit_test(test_r1bis_rate_reload),
		cmocka_unit_test(test_txq_drops_oldest),
		cmocka_unit_test(test_update_ack_unknown_tag),
		cmocka_unit_test(test_open_all_broken),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
