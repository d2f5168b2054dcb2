/* shim6_engine_context_import: a site loses its engine state (controller
 * restart), imports the context it kept forwarding, and carries on with no
 * R1bis/I2bis/R2: keepalives and data are accepted, and REAP can still
 * explore and move the pair. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <cmocka.h>

#include <shim6/wire.h>

#include "../../shim6/engine/internal.h"
#include "sim.h"

#define S (SHIM6_NS_PER_S)
#define MS (SHIM6_NS_PER_MS)

static void assert_agree(struct sim *s, int s1, int h1, int s2, int h2)
{
	char why[128] = "";
	if (!sim_agree(s, s1, h1, s2, h2, 0, why, sizeof(why)))
		fail_msg("no agreement: %s", why);
}

/* What a takeover imports of the context `snap` shows: every peer locator
 * verified but `unverified` (-1: none). */
static void import_of(const struct shim6_ctx_info *snap, struct shim6_ctx_import *im, int unverified)
{
	memset(im, 0, sizeof(*im));
	im->local_ulid = snap->local_ulid;
	im->peer_ulid = snap->peer_ulid;
	im->forkid = snap->forkid;
	im->own_tag = snap->id;
	im->peer_tag = snap->peer_tag;
	im->local_loc = snap->local_loc;
	im->peer_loc = snap->peer_loc;
	im->npeer = snap->npeer;
	for (size_t i = 0; i < snap->npeer; i++) {
		im->peer_locs[i] = snap->peer_locs[i];
		im->verified[i] = (int)i != unverified;
	}
	im->initiator = snap->initiator;
}

/* Establish 0/h0 <-> 1/h0 with a one-way flow from `sender`, then make
 * site 1 lose everything and import its context from `snap`. */
static void restart_and_import_as(struct sim *s, int sender, struct shim6_ctx_info *snap,
                                  struct shim6_ctx_import *im, int unverified)
{
	if (sender == 0)
		sim_flow(s, 0, 0, 1, 0, 0, 200 * MS);
	else
		sim_flow(s, 1, 0, 0, 0, 0, 200 * MS);
	s->flows[0].oneway = true;
	sim_run(s, 10 * S);
	assert_agree(s, 0, 0, 1, 0);
	assert_true(sim_ctx(s, 1, 0, 0, 0, 0, snap));
	import_of(snap, im, unverified);
	sim_reset_site(s, 1);
	s->nevs = 0;
	uint64_t id = 0;
	assert_int_equal(shim6_engine_context_import(s->site[1].eng, im, s->now, &id), 0);
	assert_int_equal(id, snap->id);
}

static void restart_and_import(struct sim *s, int sender, struct shim6_ctx_info *snap,
                               struct shim6_ctx_import *im)
{
	restart_and_import_as(s, sender, snap, im, -1);
}

static void assert_no_renegotiation(struct sim *s)
{
	for (int i = 0; i < 2; i++) {
		struct shim6_engine_stats st;
		shim6_engine_get_stats(s->site[i].eng, &st);
		assert_int_equal(st.r1bis_sent, 0);
		assert_int_equal(st.i2bis_sent, 0);
		assert_int_equal(st.recoveries, 0);
		assert_int_equal(sim_count_events(s, i, SHIM6_EV_RECOVERED), 0);
		assert_int_equal(sim_count_events(s, i, SHIM6_EV_ESTABLISHED), 0);
	}
}

/* the imported side only receives: it must send keepalives the peer accepts */
static void test_import_keepalives(void **st)
{
	(void)st;
	static struct sim s;
	sim_init(&s, 71, 2, 1, 2, NULL);
	struct shim6_ctx_info snap;
	struct shim6_ctx_import im;
	restart_and_import(&s, 0, &snap, &im);
	struct shim6_engine_stats before;
	shim6_engine_get_stats(s.site[0].eng, &before);
	sim_run(&s, 120 * S);
	assert_agree(&s, 0, 0, 1, 0);
	struct shim6_ctx_info now;
	assert_true(sim_ctx(&s, 1, 0, 0, 0, 0, &now));
	assert_int_equal(now.id, snap.id);
	assert_int_equal(now.peer_tag, snap.peer_tag);
	assert_int_equal(now.reap, SHIM6_REAP_OPERATIONAL);
	assert_memory_equal(&now.local_loc, &snap.local_loc, 16);
	struct shim6_engine_stats st0, st1;
	shim6_engine_get_stats(s.site[0].eng, &st0);
	shim6_engine_get_stats(s.site[1].eng, &st1);
	assert_true(st1.tx_msgs > 0);                       /* keepalives went out */
	assert_true(st0.rx_msgs > before.rx_msgs);          /* and were taken */
	assert_int_equal(st0.pair_changes, before.pair_changes);  /* no exploration */
	assert_int_equal(st1.ctx_imported, 1);
	assert_no_renegotiation(&s);
	sim_fini(&s);
	assert_int_equal(s.allocs, 0);
}

/* the imported side sends; its pair then fails: REAP on the imported
 * context explores with probes the peer accepts, and moves */
static void test_import_failover(void **st)
{
	(void)st;
	static struct sim s;
	sim_init(&s, 72, 2, 1, 2, NULL);
	struct shim6_ctx_info snap;
	struct shim6_ctx_import im;
	restart_and_import(&s, 1, &snap, &im);
	sim_run(&s, 20 * S);
	assert_agree(&s, 0, 0, 1, 0);
	assert_no_renegotiation(&s);
	sim_set_fail(&s, 1, sim_addr_loc(&snap.local_loc), 0, sim_addr_loc(&snap.peer_loc), true);
	sim_run(&s, 120 * S);
	assert_agree(&s, 0, 0, 1, 0);
	struct shim6_ctx_info now;
	assert_true(sim_ctx(&s, 1, 0, 0, 0, 0, &now));
	assert_int_equal(now.id, snap.id);
	assert_true(memcmp(&now.local_loc, &snap.local_loc, 16) != 0 ||
	            memcmp(&now.peer_loc, &snap.peer_loc, 16) != 0);
	struct shim6_engine_stats st0;
	shim6_engine_get_stats(s.site[0].eng, &st0);
	assert_true(st0.probes_rx > 0);
	assert_true(sim_count_events(&s, 1, SHIM6_EV_PAIR_CHANGED) >= 1);
	for (int i = 0; i < 2; i++) {
		struct shim6_engine_stats x;
		shim6_engine_get_stats(s.site[i].eng, &x);
		assert_int_equal(x.r1bis_sent, 0);
		assert_int_equal(x.i2bis_sent, 0);
	}
	sim_fini(&s);
	assert_int_equal(s.allocs, 0);
}

static void test_import_refusals(void **st)
{
	(void)st;
	static struct sim s;
	sim_init(&s, 73, 2, 1, 2, NULL);
	struct shim6_ctx_info snap;
	struct shim6_ctx_import im;
	restart_and_import(&s, 0, &snap, &im);
	struct shim6_engine *e = s.site[1].eng;
	/* the same context again */
	assert_int_equal(shim6_engine_context_import(e, &im, s.now, NULL), SHIM6_ENG_EEXIST);
	struct shim6_ctx_import bad = im;
	bad.own_tag = 0;
	assert_int_equal(shim6_engine_context_import(e, &bad, s.now, NULL), SHIM6_ENG_EINVAL);
	bad = im;
	bad.own_tag ^= 1;
	bad.forkid = 9;
	bad.local_loc = sim_loc(0, 0, 0);   /* not ours */
	assert_int_equal(shim6_engine_context_import(e, &bad, s.now, NULL), SHIM6_ENG_ENOTLOCAL);
	struct shim6_engine_stats x;
	shim6_engine_get_stats(e, &x);
	assert_int_equal(x.contexts, 1);
	sim_fini(&s);
	assert_int_equal(s.allocs, 0);
}

/* A REAP probe to `e` for context `tag`, reporting one probe sent. */
static int probe_to(struct sim *s, struct shim6_engine *e, uint64_t tag,
                    const struct shim6_in6 *src, const struct shim6_in6 *dst)
{
	struct shim6_probe_report r = { .nonce = 7 };
	uint8_t rep[SHIM6_PROBE_REPORT_LEN], buf[256];
	struct shim6_msg m;
	memcpy(r.src, src->b, 16);
	memcpy(r.dst, dst->b, 16);
	shim6_wire_probe_report_pack(&r, rep);
	shim6_wire_msg_init(&m, SHIM6_TYPE_PROBE);
	m.m.probe.rcv_ctag = tag;
	m.m.probe.psent = 1;
	m.m.probe.state = SHIM6_WIRE_STATE_EXPLORING;
	m.m.probe.sent = rep;
	int n = shim6_wire_encode(&m, buf, sizeof buf);
	assert_true(n > 0);
	return shim6_engine_recv(e, buf, (size_t)n, src, dst, s->now);
}

/* The import of restart_and_import with the peer locator not in use marked
 * unverified: a first run (same seed) says which locator the pair uses.
 * Returns the unverified one's index, *cur the one in use. */
static int import_one_unverified(struct sim *s, uint64_t seed, struct shim6_ctx_info *snap,
                                 struct shim6_ctx_import *im, int *cur)
{
	sim_init(s, seed, 2, 1, 2, NULL);
	restart_and_import_as(s, 0, snap, im, -1);
	sim_fini(s);
	*cur = -1;
	for (size_t i = 0; i < im->npeer; i++)
		if (!memcmp(&im->peer_locs[i].addr, &im->peer_loc, sizeof im->peer_loc))
			*cur = (int)i;
	assert_true(*cur >= 0 && im->npeer == 2);
	sim_init(s, seed, 2, 1, 2, NULL);
	restart_and_import_as(s, 0, snap, im, 1 - *cur);
	return 1 - *cur;
}

/* An imported peer locator marked unverified is known but not proven: a
 * probe from it is refused like one from a stranger, and the same probe
 * from a verified locator is taken. */
static void test_import_unverified_locator(void **st)
{
	(void)st;
	static struct sim s;
	struct shim6_ctx_info snap;
	struct shim6_ctx_import im;
	int cur, other = import_one_unverified(&s, 74, &snap, &im, &cur);
	struct shim6_engine *e = s.site[1].eng;
	struct shim6_engine_stats a, b;
	shim6_engine_get_stats(e, &a);
	assert_int_equal(probe_to(&s, e, im.own_tag, &im.peer_locs[other].addr, &im.local_loc), SHIM6_ENG_EVERIFY);
	shim6_engine_get_stats(e, &b);
	assert_int_equal(b.probes_rx, a.probes_rx);
	assert_true(probe_to(&s, e, im.own_tag, &im.peer_locs[cur].addr, &im.local_loc) >= 0);
	shim6_engine_get_stats(e, &b);
	assert_int_equal(b.probes_rx, a.probes_rx + 1);
	sim_fini(&s);
	assert_int_equal(s.allocs, 0);
}

static struct shim6_in6 g_unverified;
static int g_probes, g_probes_unverified;
static void probe_tap(void *u, int site, const struct shim6_tx *tx)
{
	(void)u;
	if (site != 1 || (tx->buf[2] & 0x7f) != 67)   /* Probe */
		return;
	g_probes++;
	g_probes_unverified += !memcmp(&tx->dst, &g_unverified, sizeof tx->dst);
}

/* Exploration probes only verified peer locators: an imported locator
 * marked unverified is never a probe destination (no flooding of an
 * address the peer has not proven it owns). */
static void test_import_unverified_not_probed(void **st)
{
	(void)st;
	static struct sim s;
	struct shim6_ctx_info snap;
	struct shim6_ctx_import im;
	int cur, other = import_one_unverified(&s, 75, &snap, &im, &cur);
	(void)cur;
	g_unverified = im.peer_locs[other].addr;
	g_probes = g_probes_unverified = 0;
	s.tx_tap = probe_tap;
	s.loss = 1.0;                  /* nothing answers: keep exploring */
	assert_int_equal(shim6_engine_locator_down(s.site[1].eng, &im.local_loc, s.now), 0);
	sim_run(&s, 20 * S);
	assert_true(g_probes >= 4);
	assert_int_equal(g_probes_unverified, 0);
	sim_fini(&s);
	assert_int_equal(s.allocs, 0);
}

/* Each refusal on its own: a tag already in use (other ULIDs), a ULID pair
 * already held (other tag), no peer tag, and more peer locators than the
 * arrays hold; none may create a context. */
static void test_import_refusals_each(void **st)
{
	(void)st;
	static struct sim s;
	sim_init(&s, 76, 2, 1, 2, NULL);
	struct shim6_ctx_info snap;
	struct shim6_ctx_import im;
	restart_and_import(&s, 0, &snap, &im);
	struct shim6_engine *e = s.site[1].eng;
	static struct shim6_ctx_import bad;
	bad = im;
	bad.forkid = 5;                         /* new ULID triple, same tag */
	assert_int_equal(shim6_engine_context_import(e, &bad, s.now, NULL), SHIM6_ENG_EEXIST);
	bad = im;
	bad.own_tag ^= 0x100;                   /* new tag, same ULID triple */
	assert_int_equal(shim6_engine_context_import(e, &bad, s.now, NULL), SHIM6_ENG_EEXIST);
	bad = im;
	bad.own_tag ^= 0x100;
	bad.forkid = 5;
	bad.peer_tag = 0;
	assert_int_equal(shim6_engine_context_import(e, &bad, s.now, NULL), SHIM6_ENG_EINVAL);
	bad.peer_tag = im.peer_tag;
	bad.npeer = SHIM6_MAX_LOCATORS + 1;
	assert_int_equal(shim6_engine_context_import(e, &bad, s.now, NULL), SHIM6_ENG_EINVAL);
	struct shim6_engine_stats x;
	shim6_engine_get_stats(e, &x);
	assert_int_equal(x.contexts, 1);
	assert_int_equal(x.ctx_imported, 1);
	sim_fini(&s);
	assert_int_equal(s.allocs, 0);
}

/* A context taken over (imported) while one of its locators' prefixes is
 * down by an outside check: that locator is down in it from the start, the
 * other is not. */
static void test_import_with_a_prefix_down(void **st)
{
	(void)st;
	static struct sim s;
	sim_init(&s, 74, 2, 1, 2, NULL);
	struct shim6_ctx_info snap;
	struct shim6_ctx_import im;
	sim_flow(&s, 0, 0, 1, 0, 0, 200 * MS);
	sim_run(&s, 10 * S);
	assert_agree(&s, 0, 0, 1, 0);
	assert_true(sim_ctx(&s, 1, 0, 0, 0, 0, &snap));
	import_of(&snap, &im, -1);
	sim_reset_site(&s, 1);
	/* the other locator's prefix is down on the engine that takes over */
	int cur = sim_addr_loc(&snap.local_loc), other = 1 - cur;
	struct shim6_in6 po = sim_loc(1, 0, other), lo = po, lc = snap.local_loc;
	memset(po.b + 8, 0, 8);
	assert_int_equal(shim6_engine_local_prefix_state(s.site[1].eng, &po, 64, true, s.now), 0);
	assert_int_equal(shim6_engine_context_import(s.site[1].eng, &im, s.now, NULL), 0);
	struct ctx *c = tab_by_tag(s.site[1].eng, snap.id);
	assert_non_null(c);
	assert_true(c->ldown[lloc_find(c, &lo)]);
	assert_false(c->ldown[lloc_find(c, &lc)]);
	sim_run(&s, 5 * S);
	assert_agree(&s, 0, 0, 1, 0);
	sim_fini(&s);
	assert_int_equal(s.allocs, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_import_keepalives),
		cmocka_unit_test(test_import_failover),
		cmocka_unit_test(test_import_refusals),
		cmocka_unit_test(test_import_with_a_prefix_down),
		cmocka_unit_test(test_import_unverified_locator),
		cmocka_unit_test(test_import_unverified_not_probed),
		cmocka_unit_test(test_import_refusals_each),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
