/* CMULA allocation: RFC 3972 known answer, Sec, collision handling, HBA sets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <unistd.h>
#include "testkeys.h"

/* Deterministic "random": a counter, or a fixed modifier first. */
struct rng { unsigned calls; const uint8_t *first; };
static int rng_fill(void *arg, uint8_t *buf, size_t n)
{
	struct rng *r = arg;
	if (r->first && r->calls == 0)
		memcpy(buf, r->first, n);
	else
		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)(r->calls * 37 + i * 11 + 5);
	r->calls++;
	return 0;
}

/* The first `busy` addresses asked about are taken. */
struct taken { unsigned asked, busy; uint8_t seen[16][16]; };
static int taken_fn(void *arg, const uint8_t addr[16])
{
	struct taken *t = arg;
	if (t->asked < 16)
		memcpy(t->seen[t->asked], addr, 16);
	return t->asked++ < t->busy;
}

static void known_answer(void **state)
{
	struct pdh_conf c;
	struct rng r = {0, rfc3972_modifier};
	struct taken t = {0};
	struct pdh_alloc_result res;

	test_conf(&c, 1, PDH_MODE_CGA);
	memset(c.cmula_prefix, 0, 8);
	c.cmula_prefix[0] = 0xfe;
	c.cmula_prefix[1] = 0x80;
	assert_int_equal(pdh_alloc(&c, rng_fill, &r, taken_fn, &t, &res), PDH_OK);
	assert_memory_equal(res.addr, rfc3972_addr, 16);
	assert_memory_equal(res.pds.modifier, rfc3972_modifier, 16);
	assert_int_equal(res.pds.collision_count, 0);
	assert_int_equal(pdh_verify(rfc3972_addr, &res.pds, 1), PDH_OK);
	/* Claiming Sec 0 for a Sec-1 address, or a flipped bit, must fail. */
	assert_int_not_equal(pdh_verify(rfc3972_addr, &res.pds, 0), PDH_OK);
	uint8_t bad[16];
	memcpy(bad, rfc3972_addr, 16);
	bad[15] ^= 1;
	assert_int_not_equal(pdh_verify(bad, &res.pds, 1), PDH_OK);
}

static void sec_bits_and_hash2(void **state)
{
	for (int sec = 0; sec <= 1; sec++) {
		struct pdh_conf c;
		struct rng r = {0};
		struct taken t = {0};
		struct pdh_alloc_result res;

		test_conf(&c, sec, PDH_MODE_CGA);
		assert_int_equal(pdh_alloc(&c, rng_fill, &r, taken_fn, &t, &res), PDH_OK);
		assert_memory_equal(res.addr, c.cmula_prefix, 8);
		assert_int_equal(res.addr[8] >> 5, sec);
		assert_int_equal(res.addr[8] & 0x03, 0); /* u and g cleared */
		assert_int_equal(pdh_verify(res.addr, &res.pds, sec), PDH_OK);
		assert_int_equal(res.pds.has_multi_prefix, 0);
	}
}

static void collisions_bump_count_then_modifier(void **state)
{
	struct pdh_conf c;
	struct rng r = {0};
	struct taken t = {.busy = 4};
	struct pdh_alloc_result res;

	test_conf(&c, 0, PDH_MODE_CGA);
	assert_int_equal(pdh_alloc(&c, rng_fill, &r, taken_fn, &t, &res), PDH_OK);
	/* cc 0,1,2 with modifier 1 taken, then modifier 2 cc 0 taken, cc 1 free. */
	assert_int_equal(t.asked, 5);
	assert_int_equal(res.collisions, 4);
	assert_int_equal(res.modifiers_tried, 2);
	assert_int_equal(r.calls, 2);
	assert_int_equal(res.pds.collision_count, 1);
	assert_memory_equal(res.addr, t.seen[4], 16);
	for (int i = 0; i < 4; i++)
		assert_memory_not_equal(t.seen[i], t.seen[i + 1], 16);
	assert_int_equal(pdh_verify(res.addr, &res.pds, 0), PDH_OK);
}

static void collisions_exhaust(void **state)
{
	struct pdh_conf c;
	struct rng r = {0};
	struct taken t = {.busy = 1000};
	struct pdh_alloc_result res;

	test_conf(&c, 0, PDH_MODE_CGA);
	assert_int_equal(pdh_alloc(&c, rng_fill, &r, taken_fn, &t, &res), PDH_EEXHAUSTED);
	assert_int_equal(t.asked, 3 * PDH_MODIFIER_ATTEMPTS);
}

static int taken_err(void *arg, const uint8_t addr[16]) { return PDH_EIO; }
static int rng_fail(void *arg, uint8_t *buf, size_t n) { return -1; }

static void errors_propagate(void **state)
{
	struct pdh_conf c;
	struct rng r = {0};
	struct pdh_alloc_result res;
	struct taken t = {0};

	test_conf(&c, 0, PDH_MODE_CGA);
	assert_int_equal(pdh_alloc(&c, rng_fill, &r, taken_err, NULL, &res), PDH_EIO);
	assert_int_equal(pdh_alloc(&c, rng_fail, NULL, taken_fn, &t, &res), PDH_ECRYPTO);
}

static void hba_set(void **state)
{
	struct pdh_conf c;
	struct rng r = {0};
	struct taken t = {0};
	struct pdh_alloc_result res;
	uint8_t a[16], other[8] = {0x20, 0x01, 0x0d, 0xb8, 0, 9, 0, 0};

	test_conf(&c, 1, PDH_MODE_HBA);
	assert_int_equal(pdh_alloc(&c, rng_fill, &r, taken_fn, &t, &res), PDH_OK);
	assert_int_equal(res.pds.has_multi_prefix, 1);
	assert_int_equal(res.pds.p_flag, 1);
	assert_int_equal(res.pds.n_prefixes, 3);
	assert_memory_equal(res.pds.prefixes[0], c.cmula_prefix, 8);
	assert_int_equal(pdh_verify(res.addr, &res.pds, 1), PDH_OK);
	for (size_t i = 0; i < c.n_pa; i++) {
		assert_int_equal(pdh_addr_for_prefix(a, &res.pds, c.pa[i], 1), PDH_OK);
		assert_memory_equal(a, c.pa[i], 8);
		assert_memory_not_equal(a + 8, res.addr + 8, 8); /* HBA: own IID per prefix */
		assert_int_equal(pdh_verify(a, &res.pds, 1), PDH_OK);
	}
	/* A prefix outside the set never verifies. */
	assert_int_equal(pdh_addr_for_prefix(a, &res.pds, other, 1), PDH_OK);
	assert_int_not_equal(pdh_verify(a, &res.pds, 1), PDH_OK);
}

static void modifier_pool(void **state)
{
	struct pdh_conf c;
	struct pdh_modpool mp;
	struct rng r = {0};
	struct taken t = {0};
	struct pdh_alloc_result res;
	uint8_t first[16];

	for (int mode = PDH_MODE_CGA; mode <= PDH_MODE_HBA; mode++) {
		test_conf(&c, 1, (enum pdh_mode)mode);
		assert_int_equal(pdh_modpool_init(&mp, &c, 2, rng_fill, &r), PDH_OK);
		assert_int_equal(pdh_modpool_take(&mp, first), PDH_ENOENT);
		assert_int_equal(pdh_modpool_fill_one(&mp), PDH_OK);
		assert_int_equal(pdh_modpool_fill_one(&mp), PDH_OK);
		assert_int_equal(pdh_modpool_fill_one(&mp), PDH_OK); /* full: dropped */
		assert_int_equal(mp.count, 2);
		memcpy(first, mp.mods[mp.head], 16);
		t.asked = 0;
		assert_int_equal(pdh_alloc_ex(&c, rng_fill, &r, taken_fn, &t, &mp, &res), PDH_OK);
		assert_memory_equal(res.pds.modifier, first, 16); /* drawn from the pool */
		assert_int_equal(mp.count, 1);
		assert_int_equal(pdh_verify(res.addr, &res.pds, 1), PDH_OK);
		/* Each pooled modifier is used once. */
		assert_int_equal(pdh_alloc_ex(&c, rng_fill, &r, taken_fn, &t, &mp, &res), PDH_OK);
		assert_memory_not_equal(res.pds.modifier, first, 16);
		assert_int_equal(mp.count, 0);
		assert_int_equal(pdh_alloc_ex(&c, rng_fill, &r, taken_fn, &t, &mp, &res), PDH_OK);
		assert_int_equal(mp.empty, 2); /* the initial take and this one */
		assert_int_equal(pdh_verify(res.addr, &res.pds, 1), PDH_OK);
		pdh_modpool_free(&mp);
	}
	/* The thread fills the pool, then stops promptly when freed. */
	test_conf(&c, 1, PDH_MODE_CGA);
	assert_int_equal(pdh_modpool_init(&mp, &c, 3, rng_fill, &r), PDH_OK);
	assert_int_equal(pdh_modpool_start(&mp), PDH_OK);
	for (int i = 0; i < 300 && mp.made < 3; i++)
		usleep(100000);
	assert_int_equal(mp.made, 3);
	pdh_modpool_free(&mp);
	assert_int_equal(pdh_modpool_init(&mp, &c, 100, rng_fill, &r), PDH_OK);
	assert_int_equal(pdh_modpool_start(&mp), PDH_OK);
	pdh_modpool_free(&mp); /* joins mid-search via the cancel flag */
	assert_true(mp.mods == NULL);
}

/* The modifier pool holds 1..PDH_MODPOOL_MAX modifiers: a pool of none
 * would divide by zero on its first take. */
static void modpool_size_limits(void **state)
{
	struct pdh_modpool mp;
	struct pdh_conf c;

	test_conf(&c, 1, PDH_MODE_CGA);
	assert_int_equal(pdh_modpool_init(&mp, &c, 0, NULL, NULL), PDH_EINVAL);
	assert_int_equal(pdh_modpool_init(&mp, &c, PDH_MODPOOL_MAX + 1, NULL, NULL), PDH_EINVAL);
	assert_int_equal(pdh_modpool_init(&mp, &c, PDH_MODPOOL_MAX, NULL, NULL), PDH_OK);
	pdh_modpool_free(&mp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(known_answer),
		cmocka_unit_test(modpool_size_limits),
		cmocka_unit_test(sec_bits_and_hash2),
		cmocka_unit_test(collisions_bump_count_then_modifier),
		cmocka_unit_test(collisions_exhaust),
		cmocka_unit_test(errors_propagate),
		cmocka_unit_test(hba_set),
		cmocka_unit_test(modifier_pool),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
