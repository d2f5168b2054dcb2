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

/* Every octet of the validator counts, and before the first rotation there
 * is no previous secret: an all-zero key (the unset key_prev) is not one. */
static void test_validator_exact(void **st)
{
	(void)st;
	struct solo s;
	solo_init(&s, NULL);
	struct shim6_engine *e = s.e;
	struct shim6_in6 a = SOLO_ULID(2, 1), b = SOLO_ULID(1, 1);
	uint8_t v[16], zero[16] = { 0 };
	validator_make(e, e->key_cur, 7, 99, 5, &a, &b, 0, v);
	for (int i = 0; i < 16; i++) {
		v[i] ^= 1;
		assert_false(validator_check(e, 7, 99, 5, &a, &b, 0, v, 16, s.now));
		v[i] ^= 1;
	}
	assert_true(validator_check(e, 7, 99, 5, &a, &b, 0, v, 16, s.now));
	validator_make(e, zero, 7, 99, 5, &a, &b, 0, v);
	assert_false(validator_check(e, 7, 99, 5, &a, &b, 0, v, 16, s.now));
	solo_fini(&s);
	assert_int_equal(s.allocs, 0);
}

/* I2 / I2bis from pu to lu, tag 0x1234, listing the one locator `loc`. */
static size_t hs_msg_for(uint8_t *buf, uint8_t type, uint32_t rnonce, const uint8_t *v,
                         const struct shim6_in6 *loc, uint64_t pkt_tag,
                         struct shim6_in6 pu, struct shim6_in6 lu)
{
	struct mb m;
	mb_init(&m, buf, 256, type);
	mb_tag(&m, 0x1234);
	mb_u32(&m, 0);                         /* initiator nonce, as in the I1 */
	mb_u32(&m, rnonce);
	if (type == MT_I2BIS) {
		mb_zero(&m, 6);
		mb_tag(&m, pkt_tag);
	} else {
		mb_zero(&m, 4);
	}
	size_t o = mb_opt_begin(&m, OPT_VALIDATOR, false);
	mb_bytes(&m, v, 16);
	mb_opt_end(&m, o);
	o = mb_opt_begin(&m, OPT_LOCLIST, false);
	mb_u32(&m, 1);
	mb_u8(&m, 1);
	mb_u8(&m, SHIM6_VERIF_HBA);
	mb_zero(&m, 6);
	mb_bytes(&m, loc->b, 16);
	mb_opt_end(&m, o);
	o = mb_opt_begin(&m, OPT_ULIDPAIR, false);
	mb_zero(&m, 4);
	mb_bytes(&m, pu.b, 16);
	mb_bytes(&m, lu.b, 16);
	mb_opt_end(&m, o);
	return mb_finish(&m);
}

static size_t hs_msg(uint8_t *buf, uint8_t type, uint32_t rnonce, const uint8_t *v,
                     const struct shim6_in6 *loc, uint64_t pkt_tag)
{
	return hs_msg_for(buf, type, rnonce, v, loc, pkt_tag, SOLO_ULID(2, 1), SOLO_ULID(1, 1));
}

/* An I2 with a validator from our own R1 must still come from a locator it
 * lists (the one that proved return-routable) and to one of our locators;
 * neither refusal may leave state behind. */
static void test_i2_source_and_destination(void **st)
{
	(void)st;
	struct solo s;
	solo_init(&s, NULL);
	struct shim6_in6 pu = SOLO_ULID(2, 1), lu = SOLO_ULID(1, 1);
	struct shim6_in6 src = SOLO_LOC(2, 0, 1), other = SOLO_LOC(2, 1, 1), dst = SOLO_LOC(1, 0, 1);
	struct shim6_in6 notours = SOLO_LOC(1, 0, 2);   /* host 2's locator */
	uint8_t buf[256];
	struct mb m;
	mb_init(&m, buf, sizeof buf, MT_I1);
	mb_tag(&m, 0x1234);
	mb_u32(&m, 0);
	size_t o = mb_opt_begin(&m, OPT_ULIDPAIR, false);
	mb_zero(&m, 4);
	mb_bytes(&m, pu.b, 16);
	mb_bytes(&m, lu.b, 16);
	mb_opt_end(&m, o);
	size_t n = mb_finish(&m);
	assert_int_equal(shim6_engine_recv(s.e, buf, n, &src, &dst, s.now), 0);
	static struct shim6_tx r1;
	assert_int_equal(solo_drain(&s, MT_R1, &r1), 1);
	struct dmsg d;
	assert_int_equal(msg_decode(r1.buf, r1.len, &d), 0);
	uint32_t rnonce = get_u32(r1.buf + 12);
	const uint8_t *v = d.opt[OPT_VALIDATOR].p;
	n = hs_msg(buf, MT_I2, rnonce, v, &other, 0);    /* lists only `other` */
	assert_int_equal(shim6_engine_recv(s.e, buf, n, &src, &dst, s.now), SHIM6_ENG_EVERIFY);
	n = hs_msg(buf, MT_I2, rnonce, v, &src, 0);
	assert_int_equal(shim6_engine_recv(s.e, buf, n, &src, &notours, s.now), SHIM6_ENG_ENOTLOCAL);
	struct shim6_engine_stats x;
	shim6_engine_get_stats(s.e, &x);
	assert_int_equal(x.contexts, 0);
	assert_int_equal(solo_drain(&s, MT_R2, NULL), 0);
	assert_int_equal(shim6_engine_recv(s.e, buf, n, &src, &dst, s.now), 0);
	shim6_engine_get_stats(s.e, &x);
	assert_int_equal(x.contexts, 1);
	solo_fini(&s);
	assert_int_equal(s.allocs, 0);
}

/* I2bis is checked against the validator of our own R1bis like I2 is:
 * one wrong octet is counted, refused, and leaves no state. */
static void test_i2bis_validator(void **st)
{
	(void)st;
	struct solo s;
	solo_init(&s, NULL);
	struct shim6_in6 src = SOLO_LOC(2, 0, 1), dst = SOLO_LOC(1, 0, 1);
	const uint64_t lost = 0x4242;          /* the tag the peer still uses */
	assert_int_equal(shim6_engine_unknown_tag(s.e, lost, &src, &dst, s.now), 0);
	static struct shim6_tx r1b;
	assert_int_equal(solo_drain(&s, MT_R1BIS, &r1b), 1);
	struct dmsg d;
	assert_int_equal(msg_decode(r1b.buf, r1b.len, &d), 0);
	uint32_t rnonce = get_u32(r1b.buf + 12);
	uint8_t v[16];
	memcpy(v, d.opt[OPT_VALIDATOR].p, 16);
	v[3] ^= 0x80;
	uint8_t buf[256];
	size_t n = hs_msg(buf, MT_I2BIS, rnonce, v, &src, lost);
	assert_int_equal(shim6_engine_recv(s.e, buf, n, &src, &dst, s.now), SHIM6_ENG_EVALIDATOR);
	struct shim6_engine_stats x;
	shim6_engine_get_stats(s.e, &x);
	assert_int_equal(x.validator_bad, 1);
	assert_int_equal(x.contexts, 0);
	assert_int_equal(solo_drain(&s, 0, NULL), 0);
	v[3] ^= 0x80;
	n = hs_msg(buf, MT_I2BIS, rnonce, v, &src, lost);
	assert_int_equal(shim6_engine_recv(s.e, buf, n, &src, &dst, s.now), 0);
	shim6_engine_get_stats(s.e, &x);
	assert_int_equal(x.contexts, 1);
	uint64_t id;
	struct shim6_in6 pu = SOLO_ULID(2, 1), lu = SOLO_ULID(1, 1);
	assert_int_equal(shim6_engine_ctx_find(s.e, &lu, &pu, 0, &id), 0);
	assert_int_equal(id, lost);            /* keeps the tag the peer uses */
	solo_fini(&s);
	assert_int_equal(s.allocs, 0);
}

/* I1 (tag 0x1234, nonce 0) from pu to lu over src -> dst; the R1's
 * responder nonce is returned and its validator copied to v. */
static uint32_t get_r1(struct solo *s, struct shim6_in6 pu, struct shim6_in6 lu,
                       const struct shim6_in6 *src, const struct shim6_in6 *dst, uint8_t v[16])
{
	uint8_t buf[128];
	struct mb m;
	mb_init(&m, buf, sizeof buf, MT_I1);
	mb_tag(&m, 0x1234);
	mb_u32(&m, 0);
	size_t o = mb_opt_begin(&m, OPT_ULIDPAIR, false);
	mb_zero(&m, 4);
	mb_bytes(&m, pu.b, 16);
	mb_bytes(&m, lu.b, 16);
	mb_opt_end(&m, o);
	size_t n = mb_finish(&m);
	assert_int_equal(shim6_engine_recv(s->e, buf, n, src, dst, s->now), 0);
	static struct shim6_tx r1;
	assert_int_equal(solo_drain(s, MT_R1, &r1), 1);
	struct dmsg d;
	assert_int_equal(msg_decode(r1.buf, r1.len, &d), 0);
	memcpy(v, d.opt[OPT_VALIDATOR].p, 16);
	return get_u32(r1.buf + 12);
}

/* Context confusion (RFC 5533 section 7.15): a new context whose peer uses the
 * same context tag towards an overlapping locator set means the old peer
 * instance is gone; the old context is removed, not kept alongside. */
static void test_context_confusion(void **st)
{
	(void)st;
	struct solo s;
	solo_init(&s, NULL);
	struct shim6_in6 lu = SOLO_ULID(1, 1), pu1 = SOLO_ULID(2, 1), pu2 = SOLO_ULID(2, 2);
	struct shim6_in6 src = SOLO_LOC(2, 0, 1), dst = SOLO_LOC(1, 0, 1);
	uint8_t v[16], buf[256];
	uint32_t rn = get_r1(&s, pu1, lu, &src, &dst, v);
	size_t n = hs_msg_for(buf, MT_I2, rn, v, &src, 0, pu1, lu);
	assert_int_equal(shim6_engine_recv(s.e, buf, n, &src, &dst, s.now), 0);
	/* another ULID pair, same peer tag, same peer locator */
	rn = get_r1(&s, pu2, lu, &src, &dst, v);
	n = hs_msg_for(buf, MT_I2, rn, v, &src, 0, pu2, lu);
	assert_int_equal(shim6_engine_recv(s.e, buf, n, &src, &dst, s.now), 0);
	struct shim6_engine_stats x;
	shim6_engine_get_stats(s.e, &x);
	assert_int_equal(x.ctx_confusion, 1);
	assert_int_equal(x.contexts, 1);
	uint64_t id;
	assert_int_equal(shim6_engine_ctx_find(s.e, &lu, &pu1, 0, &id), SHIM6_ENG_ENOCTX);
	assert_int_equal(shim6_engine_ctx_find(s.e, &lu, &pu2, 0, &id), 0);
	solo_fini(&s);
	assert_int_equal(s.allocs, 0);
}

/* I2bis asks to keep the tag the peer still uses; if that tag already names
 * another of our contexts, the new one must get a fresh tag (two contexts
 * with one tag would cross their traffic). */
static void test_i2bis_tag_in_use(void **st)
{
	(void)st;
	struct solo s;
	solo_init(&s, NULL);
	struct shim6_in6 lu2 = SOLO_ULID(1, 2), pu2 = SOLO_ULID(2, 2);
	struct shim6_in6 src = SOLO_LOC(2, 0, 1), dst = SOLO_LOC(1, 0, 1);
	uint64_t busy;
	assert_int_equal(shim6_engine_open(s.e, &lu2, &pu2, NULL, 0, 0, s.now, &busy), 0);
	solo_drain(&s, 0, NULL);
	/* not established, so an unknown-tag report for it draws an R1bis */
	assert_int_equal(shim6_engine_unknown_tag(s.e, busy, &src, &dst, s.now), 0);
	static struct shim6_tx r1b;
	assert_int_equal(solo_drain(&s, MT_R1BIS, &r1b), 1);
	struct dmsg d;
	assert_int_equal(msg_decode(r1b.buf, r1b.len, &d), 0);
	uint8_t buf[256];
	size_t n = hs_msg(buf, MT_I2BIS, get_u32(r1b.buf + 12), d.opt[OPT_VALIDATOR].p, &src, busy);
	assert_int_equal(shim6_engine_recv(s.e, buf, n, &src, &dst, s.now), 0);
	struct shim6_in6 pu = SOLO_ULID(2, 1), lu = SOLO_ULID(1, 1);
	uint64_t id;
	assert_int_equal(shim6_engine_ctx_find(s.e, &lu, &pu, 0, &id), 0);
	assert_int_not_equal(id, busy);
	assert_int_equal(shim6_engine_ctx_find(s.e, &lu2, &pu2, 0, &id), 0);
	assert_int_equal(id, busy);
	solo_fini(&s);
	assert_int_equal(s.allocs, 0);
}

/* A peer that handshakes while we hold its ULID pair down (NO-SUPPORT,
 * after our I1s went unanswered) replaces the held-down context. */
static void test_i2_replaces_held_down(void **st)
{
	(void)st;
	struct solo s;
	solo_init(&s, NULL);
	struct shim6_in6 lu = SOLO_ULID(1, 1), pu = SOLO_ULID(2, 1);
	struct shim6_in6 src = SOLO_LOC(2, 0, 1), dst = SOLO_LOC(1, 0, 1);
	uint64_t id;
	assert_int_equal(shim6_engine_open(s.e, &lu, &pu, &src, 1, 0, s.now, &id), 0);
	struct shim6_ctx_info ci;
	while (solo_step(&s, s.now + 200 * SHIM6_NS_PER_S)) {
		solo_drain(&s, 0, NULL);
		assert_int_equal(shim6_engine_ctx_info(s.e, id, &ci), 0);
		if (ci.state == SHIM6_ST_NO_SUPPORT)
			break;
	}
	assert_int_equal(ci.state, SHIM6_ST_NO_SUPPORT);
	uint8_t v[16], buf[256];
	uint32_t rn = get_r1(&s, pu, lu, &src, &dst, v);
	size_t n = hs_msg(buf, MT_I2, rn, v, &src, 0);
	assert_int_equal(shim6_engine_recv(s.e, buf, n, &src, &dst, s.now), 0);
	assert_int_equal(shim6_engine_ctx_find(s.e, &lu, &pu, 0, &id), 0);
	assert_int_equal(shim6_engine_ctx_info(s.e, id, &ci), 0);
	assert_int_equal(ci.state, SHIM6_ST_ESTABLISHED);
	solo_fini(&s);
	assert_int_equal(s.allocs, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash_vector),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_stateless_responder),
		cmocka_unit_test(test_validator_exact),
		cmocka_unit_test(test_i2_source_and_destination),
		cmocka_unit_test(test_i2bis_validator),
		cmocka_unit_test(test_context_confusion),
		cmocka_unit_test(test_i2bis_tag_in_use),
		cmocka_unit_test(test_i2_replaces_held_down),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
