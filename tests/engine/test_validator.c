/* validator.c: keyed hash, rotation, stateless responder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "../../shim6/engine/internal.h"
#include "solo.h"

static void test_siphash_vector(void **st)
{
	(void)st;
	/* SipHash-2-4 reference vector: key 00..0f, message 00..0e */
	uint8_t key[16], msg[15];
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	assert_int_equal(siphash24(key, msg, 15), 0xa129ca6149be45e5ULL);
	assert_int_equal(siphash24(key, msg, 0), 0x726fdb47dd0e0e31ULL);
}

static void test_rotation(void **st)
{
	(void)st;
	struct solo s;
	solo_init(&s, NULL);
	struct shim6_engine *e = s.e;
	struct shim6_in6 a = SOLO_ULID(2, 1), b = SOLO_ULID(1, 1);
	uint8_t v[16];
	shim6_tstamp t = s.now, life = e->s.validator_min_lifetime;
	validator_rotate(e, t);
	validator_make(e, e->key_cur, 7, 99, 5, &a, &b, 0, v);
	assert_true(validator_check(e, 7, 99, 5, &a, &b, 0, v, 16, t));
	/* any field changed: refused */
	assert_false(validator_check(e, 8, 99, 5, &a, &b, 0, v, 16, t));
	assert_false(validator_check(e, 7, 98, 5, &a, &b, 0, v, 16, t));
	assert_false(validator_check(e, 7, 99, 6, &a, &b, 0, v, 16, t));
	assert_false(validator_check(e, 7, 99, 5, &b, &a, 0, v, 16, t));
	assert_false(validator_check(e, 7, 99, 5, &a, &b, 1, v, 16, t));
	assert_false(validator_check(e, 7, 99, 5, &a, &b, 0, v, 15, t));
	/* no rotation before the minimum lifetime */
	uint8_t k0[16];
	memcpy(k0, e->key_cur, 16);
	validator_rotate(e, t + life - 1);
	assert_memory_equal(k0, e->key_cur, 16);
	/* one rotation: previous secret still accepted */
	assert_true(validator_check(e, 7, 99, 5, &a, &b, 0, v, 16, t + life));
	assert_memory_not_equal(k0, e->key_cur, 16);
	/* a second rotation retires it */
	assert_false(validator_check(e, 7, 99, 5, &a, &b, 0, v, 16, t + 2 * life));
	solo_fini(&s);
	assert_int_equal(s.allocs, 0);
}

static void test_stateless_responder(void **st)
{
	(void)st;
	struct solo s;
	solo_init(&s, NULL);
	struct shim6_in6 pu = SOLO_ULID(2, 1), lu = SOLO_ULID(1, 1);
	struct shim6_in6 src = SOLO_LOC(2, 0, 1), dst = SOLO_LOC(1, 0, 1);
	long before = s.allocs;
	for (int i = 0; i < 1000; i++) {
		uint8_t buf[128];
		struct mb m;
		mb_init(&m, buf, sizeof(buf), MT_I1);
		mb_tag(&m, (uint64_t)i + 1);
		mb_u32(&m, (uint32_t)i);
		size_t o = mb_opt_begin(&m, OPT_ULIDPAIR, false);
		mb_zero(&m, 4);
		mb_bytes(&m, pu.b, 16);
		mb_bytes(&m, lu.b, 16);
		mb_opt_end(&m, o);
		size_t n = mb_finish(&m);
		assert_int_equal(shim6_engine_recv(s.e, buf, n, &src, &dst, s.now), 0);
		struct shim6_tx tx;
		assert_int_equal(solo_drain(&s, MT_R1, &tx), 1);
		assert_memory_equal(&tx.src, &dst, 16);
		assert_memory_equal(&tx.dst, &src, 16);
	}
	struct shim6_engine_stats stt;
	shim6_engine_get_stats(s.e, &stt);
	assert_int_equal(stt.contexts, 0);
	assert_int_equal(stt.r1_sent, 1000);
	assert_int_equal(s.allocs, before);   /* 1000 I1s, not one allocation */
	/* an I1 for a ULID this site does not serve gets nothing */
	struct shim6_in6 other = SOLO_ULID(3, 1);
	uint8_t buf[128];
	struct mb m;
	mb_init(&m, buf, sizeof(buf), MT_I1);
	mb_tag(&m, 1);
	mb_u32(&m, 1);
	size_t o = mb_opt_begin(&m, OPT_ULIDPAIR, false);
	mb_zero(&m, 4);
	mb_bytes(&m, pu.b, 16);
	mb_bytes(&m, other.b, 16);
	mb_opt_end(&m, o);
	size_t n = mb_finish(&m);
	assert_int_equal(shim6_engine_recv(s.e, buf, n, &src, &dst, s.now), SHIM6_ENG_ENOTLOCAL);
	assert_int_equal(solo_drain(&s, 0, NULL), 0);
	solo_fini(&s);
	assert_int_equal(s.allocs, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash_vector),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_stateless_responder),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
