/* Locator Preferences with Element Length > 3 (RFC 5533 §5.15.3 leaves
 * room for longer elements; the first three octets are Flags, Priority,
 * Weight): accepted in a Locator List update (the handshake's list parser)
 * and in a preferences-only update, extra octets ignored. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sim.h"
#include "../../shim6/engine/internal.h"

#define S (SHIM6_NS_PER_S)
#define MS (SHIM6_NS_PER_MS)

static void put_prefs(struct mb *m, uint32_t gen, size_t n, uint8_t el, uint8_t prio0)
{
	size_t o = mb_opt_begin(m, OPT_LOCPREF, false);
	mb_u32(m, gen);
	mb_u8(m, el);
	for (size_t i = 0; i < n; i++) {
		mb_u8(m, 0);
		if (el >= 2)
			mb_u8(m, (uint8_t)(prio0 + i));
		if (el >= 3)
			mb_u8(m, 9);
		for (uint8_t k = 3; k < el; k++)
			mb_u8(m, 0xee);
	}
	mb_opt_end(m, o);
}

/* Update Request from site 1 (HBA) to site 0 carrying site 1's list again
 * under gen, with preferences of element length el. */
static size_t build_update(uint8_t *buf, size_t cap, const struct shim6_ctx_info *ci,
                           uint32_t gen, uint8_t el, bool with_list, uint8_t prio0)
{
	struct mb m;
	mb_init(&m, buf, cap, MT_UPDATE_REQ);
	mb_tag(&m, ci->id);
	mb_u32(&m, 0x1234567u + gen);
	if (with_list) {
		size_t o = mb_opt_begin(&m, OPT_LOCLIST, false);
		mb_u32(&m, gen);
		mb_u8(&m, (uint8_t)ci->npeer);
		for (size_t i = 0; i < ci->npeer; i++)
			mb_u8(&m, SHIM6_VERIF_HBA);
		size_t used = 9 + ci->npeer, pad = ((used + 7) & ~(size_t)7) - used;
		mb_zero(&m, pad);
		for (size_t i = 0; i < ci->npeer; i++)
			mb_bytes(&m, ci->peer_locs[i].addr.b, 16);
		mb_opt_end(&m, o);
	}
	put_prefs(&m, gen, ci->npeer, el, prio0);
	if (with_list) {
		size_t o = mb_opt_begin(&m, OPT_PDS, false);
		mb_bytes(&m, "PDS:", 4);
		mb_bytes(&m, ci->peer_ulid.b, 16);
		mb_opt_end(&m, o);
	}
	return mb_finish(&m);
}

static void test_long_elements(void **st)
{
	(void)st;
	static struct sim s;
	sim_init(&s, 81, 2, 1, 3, NULL);
	sim_flow(&s, 0, 0, 1, 0, 0, 500 * MS);
	sim_run(&s, 10 * S);
	struct shim6_ctx_info ci;
	assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &ci));
	assert_true(ci.npeer >= 2);
	struct shim6_engine *e = s.site[0].eng;
	uint32_t pgen = 0;
	assert_int_equal(shim6_engine_ctx_generations(e, ci.id, NULL, &pgen), 0);
	assert_int_not_equal(pgen, 0);

	/* a new list generation with 5-octet preference elements */
	static uint8_t buf[SHIM6_MAX_MSG];
	size_t len = build_update(buf, sizeof(buf), &ci, pgen + 1, 5, true, 20);
	assert_int_equal(shim6_engine_recv(e, buf, len, &ci.peer_loc, &ci.local_loc, s.now), 0);
	struct shim6_ctx_info after;
	assert_int_equal(shim6_engine_ctx_info(e, ci.id, &after), 0);
	for (size_t i = 0; i < after.npeer; i++) {
		assert_int_equal(after.peer_locs[i].priority, 20 + i);
		assert_int_equal(after.peer_locs[i].weight, 9);
		assert_int_equal(after.peer_locs[i].flags, 0);
	}
	assert_int_equal(shim6_engine_ctx_generations(e, ci.id, NULL, &pgen), 0);

	/* preferences only, 8-octet elements, same generation */
	len = build_update(buf, sizeof(buf), &ci, pgen, 8, false, 40);
	assert_int_equal(shim6_engine_recv(e, buf, len, &ci.peer_loc, &ci.local_loc, s.now), 0);
	assert_int_equal(shim6_engine_ctx_info(e, ci.id, &after), 0);
	for (size_t i = 0; i < after.npeer; i++) {
		assert_int_equal(after.peer_locs[i].priority, 40 + i);
		assert_int_equal(after.peer_locs[i].weight, 9);
	}
	/* 1-octet elements still work: priority and weight default to 0 */
	len = build_update(buf, sizeof(buf), &ci, pgen, 1, false, 0);
	assert_int_equal(shim6_engine_recv(e, buf, len, &ci.peer_loc, &ci.local_loc, s.now), 0);
	assert_int_equal(shim6_engine_ctx_info(e, ci.id, &after), 0);
	assert_int_equal(after.peer_locs[0].priority, 0);
	sim_run(&s, 10 * S);
	char why[128] = "";
	if (!sim_agree(&s, 0, 0, 1, 0, 0, why, sizeof(why)))
		fail_msg("%s", why);
	sim_fini(&s);
	assert_int_equal(s.allocs, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_long_elements),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
