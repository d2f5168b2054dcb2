/* fsm.c + handshake timers: the state table, retransmission with backoff
 * and jitter, retry limits and fallbacks, hold-down, on a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "../../shim6/engine/internal.h"
#include "solo.h"

#define S SHIM6_NS_PER_S

static void test_names(void **st)
{
	(void)st;
	const char *want[] = { "IDLE", "I1-SENT", "I2-SENT", "I2BIS-SENT", "ESTABLISHED", "E-FAILED", "NO-SUPPORT" };
	for (int i = 0; i < SHIM6_ST__COUNT; i++)
		assert_string_equal(shim6_state_name((enum shim6_state)i), want[i]);
	assert_string_equal(shim6_state_name(SHIM6_ST__COUNT), "?");
	for (int i = 0; i < FEV__COUNT; i++)
		assert_string_not_equal(fsm_ev_name((enum fsm_ev)i), "?");
	assert_string_equal(shim6_reap_state_name(SHIM6_REAP_INBOUND_OK), "InboundOk");
	assert_string_equal(shim6_engine_strerror(SHIM6_ENG_EVALIDATOR), "bad responder validator");
}

static uint64_t open_one(struct solo *s)
{
	struct shim6_in6 lu = SOLO_ULID(1, 1), pu = SOLO_ULID(2, 1);
	struct shim6_in6 pl[2] = { SOLO_LOC(2, 0, 1), SOLO_LOC(2, 1, 1) };
	uint64_t id;
	assert_int_equal(shim6_engine_open(s->e, &lu, &pu, pl, 2, 0, s->now, &id), 0);
	return id;
}

static void test_i1_backoff_and_holddown(void **st)
{
	(void)st;
	struct solo s;
	solo_init(&s, NULL);
	uint64_t id = open_one(&s);
	static struct shim6_tx tx;
	shim6_tstamp times[16];
	int dst_seen[2] = { 0, 0 };
	int n = 0;
	assert_int_equal(solo_drain(&s, MT_I1, &tx), 1);
	times[n++] = s.now;
	assert_int_equal(tx.buf[2] & 0x7f, MT_I1);
	while (solo_step(&s, s.now + 1000 * S)) {
		int k = solo_drain(&s, MT_I1, &tx);
		if (!k)
			break;
		dst_seen[tx.dst.b[7]]++;
		times[n++] = s.now;
	}
	/* 1 + I1_RETRIES_MAX transmissions */
	assert_int_equal(n, 5);
	for (int k = 1; k < n; k++) {
		shim6_tstamp T = (4 * S) << (k - 1), d = times[k] - times[k - 1];
		assert_true(d >= T / 2 && d < T + T / 2);
	}
	assert_true(dst_seen[0] && dst_seen[1]);   /* retries rotate the peer locator */
	struct shim6_ctx_info ci;
	assert_int_equal(shim6_engine_ctx_info(s.e, id, &ci), 0);
	assert_int_equal(ci.state, SHIM6_ST_NO_SUPPORT);
	struct shim6_event ev;
	assert_int_equal(shim6_engine_poll_event(s.e, &ev), 1);
	assert_int_equal(ev.type, SHIM6_EV_NO_SUPPORT);
	/* held down: no new attempt to that ULID pair */
	struct shim6_in6 lu = SOLO_ULID(1, 1), pu = SOLO_ULID(2, 1);
	uint64_t id2;
	assert_int_equal(shim6_engine_open(s.e, &lu, &pu, NULL, 0, 0, s.now, &id2), SHIM6_ENG_EHOLDDOWN);
	/* removed after NO_R1_HOLDDOWN_TIME */
	shim6_tstamp t0 = s.now;
	assert_true(solo_step(&s, s.now + 61 * S));
	assert_true(s.now - t0 <= 60 * S);
	assert_int_equal(shim6_engine_poll_event(s.e, &ev), 1);
	assert_int_equal(ev.type, SHIM6_EV_REMOVED);
	assert_int_equal(shim6_engine_ctx_info(s.e, id, &ci), SHIM6_ENG_ENOCTX);
	assert_int_equal(shim6_engine_open(s.e, &lu, &pu, NULL, 0, 0, s.now, &id2), 0);
	solo_fini(&s);
	assert_int_equal(s.allocs, 0);
}

static size_t make_r1(uint8_t *buf, uint32_t inonce)
{
	struct mb m;
	mb_init(&m, buf, 128, MT_R1);
	mb_u16(&m, 0);
	mb_u32(&m, inonce);
	mb_u32(&m, 0xabcdef);
	size_t o = mb_opt_begin(&m, OPT_VALIDATOR, false);
	mb_bytes(&m, "validator-bytes!", 16);
	mb_opt_end(&m, o);
	return mb_finish(&m);
}

static void test_i2_fallback_to_i1(void **st)
{
	(void)st;
	struct solo s;
	solo_init(&s, NULL);
	uint64_t id = open_one(&s);
	static struct shim6_tx tx;
	struct shim6_ctx_info ci;
	int i1 = solo_drain(&s, MT_I1, &tx);
	for (int round = 0; round <= MAX_FALLBACK; round++) {
		assert_int_equal(i1, 1);
		uint32_t inonce = get_u32(tx.buf + 12);
		uint8_t buf[128];
		size_t n = make_r1(buf, inonce + 1);            /* wrong nonce: ignored */
		assert_int_equal(shim6_engine_recv(s.e, buf, n, &tx.dst, &tx.src, s.now), SHIM6_ENG_ENONCE);
		n = make_r1(buf, inonce);
		assert_int_equal(shim6_engine_recv(s.e, buf, n, &tx.dst, &tx.src, s.now), 0);
		assert_int_equal(solo_drain(&s, MT_I2, &tx), 1);
		assert_int_equal(shim6_engine_ctx_info(s.e, id, &ci), 0);
		assert_int_equal(ci.state, SHIM6_ST_I2_SENT);
		/* a duplicate R1 in I2-SENT has no row: ignored */
		assert_int_equal(shim6_engine_recv(s.e, buf, n, &tx.dst, &tx.src, s.now), SHIM6_ENG_ESTATE);
		/* the I2 echoes the validator */
		struct dmsg d;
		assert_int_equal(msg_decode(tx.buf, tx.len, &d), 0);
		assert_memory_equal(d.opt[OPT_VALIDATOR].p, "validator-bytes!", 16);
		int i2 = 0;
		static struct shim6_tx t2;
		while (solo_step(&s, s.now + 100 * S)) {
			i1 = 0;
			while (shim6_engine_poll_tx(s.e, &t2)) {
				if ((t2.buf[2] & 0x7f) == MT_I2)
					i2++;
				if ((t2.buf[2] & 0x7f) == MT_I1) {
					i1++;
					tx = t2;
				}
			}
			shim6_engine_ctx_info(s.e, id, &ci);
			if (ci.state != SHIM6_ST_I2_SENT)
				break;
		}
		assert_int_equal(i2, 2);                       /* I2_RETRIES_MAX */
		if (round < MAX_FALLBACK) {
			assert_int_equal(ci.state, SHIM6_ST_I1_SENT);   /* fell back */
		} else {
			assert_int_equal(ci.state, SHIM6_ST_E_FAILED);
			struct shim6_event ev;
			bool failed = false;
			while (shim6_engine_poll_event(s.e, &ev))
				failed |= ev.type == SHIM6_EV_FAILED;
			assert_true(failed);
		}
	}
	/* E-FAILED lingers, then goes */
	assert_true(solo_step(&s, s.now + 11 * S));
	assert_int_equal(shim6_engine_ctx_info(s.e, id, &ci), SHIM6_ENG_ENOCTX);
	struct shim6_engine_stats stt;
	shim6_engine_get_stats(s.e, &stt);
	assert_int_equal(stt.pending, 0);
	assert_int_equal(stt.contexts, 0);
	solo_fini(&s);
	assert_int_equal(s.allocs, 0);
}

static void test_policy_first_pair(void **st)
{
	(void)st;
	struct solo s;
	solo_init(&s, NULL);
	s.policy_pick = 1;
	open_one(&s);
	static struct shim6_tx tx;
	assert_int_equal(solo_drain(&s, MT_I1, &tx), 1);
	assert_int_equal(s.policy_calls, 1);
	assert_int_equal(tx.dst.b[7], 1);      /* peer locator chosen by policy */
	solo_fini(&s);
}

static void test_close(void **st)
{
	(void)st;
	struct solo s;
	solo_init(&s, NULL);
	uint64_t id = open_one(&s);
	assert_int_equal(shim6_engine_close(s.e, id, s.now), 0);
	assert_int_equal(shim6_engine_close(s.e, id, s.now), SHIM6_ENG_ENOCTX);
	assert_int_equal(shim6_engine_deadline(s.e), SHIM6_TSTAMP_NEVER);
	solo_fini(&s);
	assert_int_equal(s.allocs, 0);
}

static size_t make_r1_v(uint8_t *buf, uint32_t inonce, size_t vlen)
{
	struct mb m;
	mb_init(&m, buf, 256, MT_R1);
	mb_u16(&m, 0);
	mb_u32(&m, inonce);
	mb_u32(&m, 0xabcdef);
	size_t o = mb_opt_begin(&m, OPT_VALIDATOR, false);
	for (size_t i = 0; i < vlen; i++)
		mb_u8(&m, 0x5a);
	mb_opt_end(&m, o);
	return mb_finish(&m);
}

/* The nonce alone does not move a handshake: an R1 must come from a peer
 * locator the I1 went to, reach one of ours, and carry a validator that
 * fits its buffer (72 octets would overrun it). */
static void test_r1_refusals(void **st)
{
	(void)st;
	struct solo s;
	solo_init(&s, NULL);
	uint64_t id = open_one(&s);
	static struct shim6_tx tx;
	assert_int_equal(solo_drain(&s, MT_I1, &tx), 1);
	uint32_t inonce = get_u32(tx.buf + 12);
	struct shim6_in6 stranger = SOLO_LOC(3, 0, 1), notours = SOLO_LOC(1, 1, 2);
	uint8_t buf[256];
	size_t n = make_r1_v(buf, inonce, 16);
	assert_int_equal(shim6_engine_recv(s.e, buf, n, &stranger, &tx.src, s.now), SHIM6_ENG_ENOCTX);
	assert_int_equal(shim6_engine_recv(s.e, buf, n, &tx.dst, &notours, s.now), SHIM6_ENG_ENOCTX);
	n = make_r1_v(buf, inonce, 0);
	assert_int_equal(shim6_engine_recv(s.e, buf, n, &tx.dst, &tx.src, s.now), SHIM6_ENG_EMALFORMED);
	n = make_r1_v(buf, inonce, 72);
	assert_int_equal(shim6_engine_recv(s.e, buf, n, &tx.dst, &tx.src, s.now), SHIM6_ENG_EMALFORMED);
	struct shim6_ctx_info ci;
	assert_int_equal(shim6_engine_ctx_info(s.e, id, &ci), 0);
	assert_int_equal(ci.state, SHIM6_ST_I1_SENT);
	assert_int_equal(solo_drain(&s, MT_I2, NULL), 0);
	n = make_r1_v(buf, inonce, 16);
	assert_int_equal(shim6_engine_recv(s.e, buf, n, &tx.dst, &tx.src, s.now), 0);
	assert_int_equal(solo_drain(&s, MT_I2, NULL), 1);
	solo_fini(&s);
	assert_int_equal(s.allocs, 0);
}

/* An R2 answers our I2 only if it reaches one of our locators. */
static void test_r2_to_foreign_locator(void **st)
{
	(void)st;
	struct solo s;
	solo_init(&s, NULL);
	uint64_t id = open_one(&s);
	static struct shim6_tx tx;
	assert_int_equal(solo_drain(&s, MT_I1, &tx), 1);
	uint32_t inonce = get_u32(tx.buf + 12);
	uint8_t buf[256];
	size_t n = make_r1(buf, inonce);
	assert_int_equal(shim6_engine_recv(s.e, buf, n, &tx.dst, &tx.src, s.now), 0);
	assert_int_equal(solo_drain(&s, MT_I2, &tx), 1);
	struct mb m;
	mb_init(&m, buf, sizeof buf, MT_R2);
	mb_tag(&m, 0x99);
	mb_u32(&m, inonce);
	size_t o = mb_opt_begin(&m, OPT_LOCLIST, false);
	mb_u32(&m, 1);
	mb_u8(&m, 1);
	mb_u8(&m, SHIM6_VERIF_HBA);
	mb_zero(&m, 6);
	mb_bytes(&m, tx.dst.b, 16);
	mb_opt_end(&m, o);
	n = mb_finish(&m);
	struct shim6_in6 notours = SOLO_LOC(1, 1, 2);
	assert_int_equal(shim6_engine_recv(s.e, buf, n, &tx.dst, &notours, s.now), SHIM6_ENG_ENOTLOCAL);
	struct shim6_ctx_info ci;
	assert_int_equal(shim6_engine_ctx_info(s.e, id, &ci), 0);
	assert_int_equal(ci.state, SHIM6_ST_I2_SENT);
	assert_int_equal(shim6_engine_recv(s.e, buf, n, &tx.dst, &tx.src, s.now), 0);
	assert_int_equal(shim6_engine_ctx_info(s.e, id, &ci), 0);
	assert_int_equal(ci.state, SHIM6_ST_ESTABLISHED);
	solo_fini(&s);
	assert_int_equal(s.allocs, 0);
}

static int keepalive_to(struct solo *s, uint64_t tag)
{
	struct shim6_in6 src = SOLO_LOC(2, 0, 1), dst = SOLO_LOC(1, 0, 1);
	uint8_t buf[64];
	struct mb m;
	mb_init(&m, buf, sizeof buf, MT_KEEPALIVE);
	mb_tag(&m, tag);
	mb_u32(&m, 0);
	size_t n = mb_finish(&m);
	return shim6_engine_recv(s->e, buf, n, &src, &dst, s->now);
}

/* A Keepalive for a context we hold only as pending (I1-SENT, I2-SENT) or
 * held down (NO-SUPPORT) means the peer has state we lack: answer R1bis
 * (RFC 5533 section 7.17), as for an unknown tag. */
static void test_r1bis_for_unestablished(void **st)
{
	(void)st;
	struct solo s;
	solo_init(&s, NULL);
	uint64_t a = open_one(&s);
	struct shim6_ctx_info ci;
	while (solo_step(&s, s.now + 200 * S)) {
		solo_drain(&s, 0, NULL);
		assert_int_equal(shim6_engine_ctx_info(s.e, a, &ci), 0);
		if (ci.state == SHIM6_ST_NO_SUPPORT)
			break;
	}
	assert_int_equal(ci.state, SHIM6_ST_NO_SUPPORT);
	assert_int_equal(keepalive_to(&s, a), SHIM6_ENG_ENOCTX);
	assert_int_equal(solo_drain(&s, MT_R1BIS, NULL), 1);
	struct shim6_in6 lu = SOLO_ULID(1, 2), pu = SOLO_ULID(2, 2);
	struct shim6_in6 pl = SOLO_LOC(2, 0, 2);
	uint64_t b;
	assert_int_equal(shim6_engine_open(s.e, &lu, &pu, &pl, 1, 0, s.now, &b), 0);
	static struct shim6_tx tx;
	assert_int_equal(solo_drain(&s, MT_I1, &tx), 1);
	assert_int_equal(keepalive_to(&s, b), SHIM6_ENG_ENOCTX);
	assert_int_equal(solo_drain(&s, MT_R1BIS, NULL), 1);
	uint8_t buf[128];
	size_t n = make_r1(buf, get_u32(tx.buf + 12));
	assert_int_equal(shim6_engine_recv(s.e, buf, n, &tx.dst, &tx.src, s.now), 0);
	assert_int_equal(shim6_engine_ctx_info(s.e, b, &ci), 0);
	assert_int_equal(ci.state, SHIM6_ST_I2_SENT);
	solo_drain(&s, 0, NULL);
	assert_int_equal(keepalive_to(&s, b), SHIM6_ENG_ENOCTX);
	assert_int_equal(solo_drain(&s, MT_R1BIS, NULL), 1);
	solo_fini(&s);
	assert_int_equal(s.allocs, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_i1_backoff_and_holddown),
		cmocka_unit_test(test_i2_fallback_to_i1),
		cmocka_unit_test(test_policy_first_pair),
		cmocka_unit_test(test_close),
		cmocka_unit_test(test_r1_refusals),
		cmocka_unit_test(test_r2_to_foreign_locator),
		cmocka_unit_test(test_r1bis_for_unestablished),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
