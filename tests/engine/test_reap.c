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

struct rec { int site; int type; shim6_tstamp at; uint64_t tag; int loc; };
static struct rec recs[4096];
static int nrec;
static struct sim *cur;

static void txtap(void *u, int site, const struct shim6_tx *tx)
{
	(void)u;
	/* the receiver's context tag follows the 6-octet common header */
	uint64_t tag = 0;
	for (int i = 6; i < 12; i++)
		tag = tag << 8 | tx->buf[i];
	if (nrec < 4096)
		recs[nrec++] = (struct rec){ site, tx->buf[2] & 0x7f, cur->now, tag & 0x7fffffffffffULL,
					      sim_addr_loc(&tx->src) };
}

static int count(int site, int type, shim6_tstamp from)
{
	int n = 0;
	for (int i = 0; i < nrec; i++)
		n += recs[i].site == site && (type == 0 || recs[i].type == type) && recs[i].at >= from;
	return n;
}

/* Two sites, each with `nhosts` hosts of `nlocs` locators, every message recorded. */
static void start(struct sim *s, uint64_t seed, int nhosts, int nlocs)
{
	sim_init(s, seed, 2, nhosts, nlocs, NULL);
	cur = s;
	nrec = 0;
	s->tx_tap = txtap;
}

static void setup(struct sim *s, uint64_t seed)
{
	start(s, seed, 1, 2);
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

/* Site 0's prefix under locator l, as sim_loc lays addresses out. */
static struct shim6_in6 loc_prefix(int l)
{
	struct shim6_in6 p = sim_loc(0, 0, l);
	memset(p.b + 8, 0, 8);
	return p;
}

/*
 * The ISP behind a prefix fails by an outside check: one call for the
 * prefix, and the context on it explores and moves at once; while the
 * prefix is down the context cannot go back to it, and once it is up again
 * it can, when its new pair fails in turn.
 */
static void test_local_prefix_state(void **st)
{
	(void)st;
	static struct sim s;
	char why[64];
	setup(&s, 5);
	sim_flow(&s, 0, 0, 1, 0, 0, 200 * MS);
	sim_run(&s, 2 * S);
	struct shim6_ctx_info a;
	assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &a));
	int l = sim_addr_loc(&a.local_loc), o = 1 - l;
	struct shim6_in6 pl = loc_prefix(l), po = loc_prefix(o);
	for (int j = 0; j < 2; j++)
		sim_set_fail(&s, 0, l, 1, j, true);
	shim6_tstamp t0 = s.now;
	/* a prefix that holds none of its locators moves nothing */
	struct shim6_in6 none = loc_prefix(7);
	assert_int_equal(shim6_engine_local_prefix_state(s.site[0].eng, &none, 64, true, s.now), 0);
	none = loc_prefix(0x10);   /* /60: its last four bits differ from every locator's */
	assert_int_equal(shim6_engine_local_prefix_state(s.site[0].eng, &none, 60, true, s.now), 0);
	assert_int_equal(shim6_engine_local_prefix_state(s.site[0].eng, &pl, 64, true, s.now), 1);
	assert_int_equal(shim6_engine_local_prefix_state(s.site[0].eng, &pl, 129, true, s.now), SHIM6_ENG_EINVAL);
	sim_run(&s, 3 * S);
	assert_true(sim_agree(&s, 0, 0, 1, 0, 0, why, sizeof(why)));
	assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &a));
	assert_int_equal(sim_addr_loc(&a.local_loc), o);
	assert_true(count(0, MT_PROBE, t0) >= 1);

	/* l's links work again but the prefix is still down; o's fail: the
	 * context has nowhere to go */
	for (int j = 0; j < 2; j++) {
		sim_set_fail(&s, 0, l, 1, j, false);
		sim_set_fail(&s, 0, o, 1, j, true);
	}
	assert_int_equal(shim6_engine_local_prefix_state(s.site[0].eng, &po, 64, true, s.now), 1);
	sim_run(&s, 3 * S);
	assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &a));
	assert_int_not_equal(a.reap, SHIM6_REAP_OPERATIONAL);
	assert_int_equal(sim_addr_loc(&a.local_loc), o);
	/* l's prefix comes back: the exploring context finds it */
	assert_int_equal(shim6_engine_local_prefix_state(s.site[0].eng, &pl, 64, false, s.now), 0);
	sim_run(&s, 5 * S);
	assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &a));
	assert_int_equal(sim_addr_loc(&a.local_loc), l);
	assert_int_equal(a.reap, SHIM6_REAP_OPERATIONAL);
	assert_true(sim_agree(&s, 0, 0, 1, 0, 0, why, sizeof(why)));
	sim_fini(&s);
	assert_int_equal(s.allocs, 0);
}

/* Messages of `type` site 0 sent from its locator `loc` at or after t0. */
static int count_from(int type, int loc, shim6_tstamp from)
{
	int n = 0;
	for (int i = 0; i < nrec; i++)
		n += recs[i].site == 0 && recs[i].type == type && recs[i].loc == loc && recs[i].at >= from;
	return n;
}

/* Is site 0's locator `loc` BROKEN in the locator list that site 1's context
 * with (1, h) holds for it? */
static bool peer_sees_broken(struct sim *s, int h, int loc)
{
	struct shim6_ctx_info b;
	struct shim6_in6 a = sim_loc(0, h, loc);
	assert_true(sim_ctx(s, 1, h, 0, h, 0, &b));
	for (size_t i = 0; i < b.npeer; i++)
		if (in6_eq(&b.peer_locs[i].addr, &a))
			return b.peer_locs[i].flags & SHIM6_LOCF_BROKEN;
	fail_msg("site 1 does not know locator %d", loc);
	return false;
}

/*
 * A prefix already down when a context is set up: none of the context's
 * I1s leaves from it, even when the handshake must retry, its locator list
 * tells the peer it is broken, and once the prefix is up again a new
 * context uses it.  With every prefix down a new context still tries them
 * all, and the engine keeps a bounded number of down prefixes.
 */
static void test_prefix_down_inherited(void **st)
{
	(void)st;
	static struct sim s;
	char why[64];
	struct shim6_ctx_info a;
	start(&s, 9, 3, 2);
	struct shim6_engine *e = s.site[0].eng;
	struct shim6_in6 p0 = loc_prefix(0), p1 = loc_prefix(1);
	assert_int_equal(shim6_engine_local_prefix_state(e, &p0, 64, true, s.now), 0);
	assert_int_equal(shim6_engine_local_prefix_state(e, &p0, 64, true, s.now), 0);   /* kept once */
	assert_int_equal(e->ndown, 1);

	/* locator 1's links fail for a while, so that the handshake retries:
	 * the retries must not rotate to locator 0 */
	for (int j = 0; j < 2; j++)
		sim_set_fail(&s, 0, 1, 1, j, true);
	shim6_tstamp t0 = s.now;
	assert_int_equal(sim_open(&s, 0, 0, 1, 0, 0, NULL), 0);
	sim_run(&s, 13 * S);   /* I1s 4, then 8 s apart */
	assert_true(count_from(MT_I1, 1, t0) >= 2);   /* a retry among them */
	assert_int_equal(count_from(MT_I1, 0, t0), 0);
	for (int j = 0; j < 2; j++)
		sim_set_fail(&s, 0, 1, 1, j, false);
	sim_run(&s, 20 * S);
	assert_true(sim_agree(&s, 0, 0, 1, 0, 0, why, sizeof(why)));
	assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &a));
	assert_int_equal(sim_addr_loc(&a.local_loc), 1);
	assert_true(peer_sees_broken(&s, 0, 0));
	assert_false(peer_sees_broken(&s, 0, 1));

	/* the prefix is up again: a new context's retries reach locator 0 */
	assert_int_equal(shim6_engine_local_prefix_state(e, &p0, 64, false, s.now), 0);
	assert_int_equal(e->ndown, 0);
	for (int j = 0; j < 2; j++)
		sim_set_fail(&s, 0, 1, 1, j, true);
	t0 = s.now;
	assert_int_equal(sim_open(&s, 0, 1, 1, 1, 0, NULL), 0);
	sim_run(&s, 10 * S);
	assert_true(count_from(MT_I1, 0, t0) >= 1);
	assert_true(sim_agree(&s, 0, 1, 1, 1, 0, why, sizeof(why)));
	assert_true(sim_ctx(&s, 0, 1, 1, 1, 0, &a));
	assert_int_equal(sim_addr_loc(&a.local_loc), 0);
	assert_false(peer_sees_broken(&s, 1, 0));
	for (int j = 0; j < 2; j++)
		sim_set_fail(&s, 0, 1, 1, j, false);

	/* every prefix down (each moves one of the two contexts to explore):
	 * a new context is set up all the same */
	assert_int_equal(shim6_engine_local_prefix_state(e, &p0, 64, true, s.now), 1);
	assert_int_equal(shim6_engine_local_prefix_state(e, &p1, 64, true, s.now), 1);
	assert_int_equal(sim_open(&s, 0, 2, 1, 2, 0, NULL), 0);
	sim_run(&s, 5 * S);
	assert_true(sim_agree(&s, 0, 2, 1, 2, 0, why, sizeof(why)));

	/* a shorter prefix over p0 is a prefix of its own, kept and taken up apart */
	assert_true(shim6_engine_local_prefix_state(e, &p0, 60, true, s.now) >= 0);
	assert_int_equal(e->ndown, 3);
	assert_int_equal(shim6_engine_local_prefix_state(e, &p0, 60, false, s.now), 0);
	assert_int_equal(e->ndown, 2);
	assert_int_equal(e->down[0].plen, 64);

	/* the bound: more prefixes are refused with nothing changed, one
	 * already kept is taken, and a prefix coming up makes room */
	struct shim6_in6 q = loc_prefix(0x40);
	for (int i = 2; i < SHIM6_ENG_MAX_DOWN_PREFIXES; i++) {
		q.b[7] = (uint8_t)i;
		assert_int_equal(shim6_engine_local_prefix_state(e, &q, 64, true, s.now), 0);
	}
	q.b[7] = 0xff;
	assert_int_equal(shim6_engine_local_prefix_state(e, &q, 64, true, s.now), SHIM6_ENG_EFULL);
	assert_int_equal(e->ndown, SHIM6_ENG_MAX_DOWN_PREFIXES);
	assert_int_equal(shim6_engine_local_prefix_state(e, &p1, 64, true, s.now), 0);
	assert_int_equal(shim6_engine_local_prefix_state(e, &p1, 64, false, s.now), 0);
	assert_int_equal(shim6_engine_local_prefix_state(e, &q, 64, true, s.now), 0);
	assert_int_equal(e->ndown, SHIM6_ENG_MAX_DOWN_PREFIXES);
	sim_fini(&s);
	assert_int_equal(s.allocs, 0);
}

/*
 * The responder keeps a down prefix too: site 1, with its locator 0's
 * prefix down, accepts a context from site 0; the accepted context has that
 * locator down and its locator list tells site 0 it is broken.
 */
static void test_prefix_down_kept_for_accepted(void **st)
{
	(void)st;
	static struct sim s;
	char why[64];
	start(&s, 13, 1, 2);
	struct shim6_in6 p0 = sim_loc(1, 0, 0);
	memset(p0.b + 8, 0, 8);
	assert_int_equal(shim6_engine_local_prefix_state(s.site[1].eng, &p0, 64, true, s.now), 0);
	assert_int_equal(sim_open(&s, 0, 0, 1, 0, 0, NULL), 0);
	sim_run(&s, 8 * S);
	assert_true(sim_agree(&s, 0, 0, 1, 0, 0, why, sizeof(why)));
	struct shim6_ctx_info a, b;
	assert_true(sim_ctx(&s, 1, 0, 0, 0, 0, &b));
	assert_false(b.initiator);
	struct ctx *c = tab_by_tag(s.site[1].eng, b.id);
	struct shim6_in6 l0 = sim_loc(1, 0, 0), l1 = sim_loc(1, 0, 1);
	assert_true(c->ldown[lloc_find(c, &l0)]);
	assert_false(c->ldown[lloc_find(c, &l1)]);
	assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &a));
	bool seen = false;
	for (size_t i = 0; i < a.npeer; i++)
		if (in6_eq(&a.peer_locs[i].addr, &l0)) {
			assert_true(a.peer_locs[i].flags & SHIM6_LOCF_BROKEN);
			seen = true;
		}
	assert_true(seen);
	sim_fini(&s);
	assert_int_equal(s.allocs, 0);
}

/* Is site 0's locator `loc` down in its context with site 1 (host 0)? */
static bool local_down(struct sim *s, int loc)
{
	struct shim6_ctx_info a;
	struct shim6_in6 l = sim_loc(0, 0, loc);
	assert_true(sim_ctx(s, 0, 0, 1, 0, 0, &a));
	struct ctx *c = tab_by_tag(s->site[0].eng, a.id);
	assert_non_null(c);
	int i = lloc_find(c, &l);
	assert_true(i >= 0);
	return c->ldown[i];
}

/*
 * A context's own locators change (one goes, then comes back in front of
 * the others): each locator keeps its own down mark wherever it lands in
 * the list.
 */
static void test_down_mark_follows_its_locator(void **st)
{
	(void)st;
	static struct sim s;
	start(&s, 11, 1, 3);
	assert_int_equal(sim_open(&s, 0, 0, 1, 0, 0, NULL), 0);
	sim_run(&s, 5 * S);
	struct shim6_in6 l1 = sim_loc(0, 0, 1), u0 = sim_ulid(0, 0);
	assert_int_equal(shim6_engine_locator_down(s.site[0].eng, &l1, s.now), 0);
	assert_true(local_down(&s, 1));
	s.site[0].loc_removed[0][0] = true;
	assert_true(shim6_engine_local_changed(s.site[0].eng, &u0, s.now) >= 0);
	sim_run(&s, 2 * S);
	assert_true(local_down(&s, 1));
	assert_false(local_down(&s, 2));
	s.site[0].loc_removed[0][0] = false;
	assert_true(shim6_engine_local_changed(s.site[0].eng, &u0, s.now) >= 0);
	sim_run(&s, 2 * S);
	assert_false(local_down(&s, 0));
	assert_true(local_down(&s, 1));
	assert_false(local_down(&s, 2));
	sim_fini(&s);
	assert_int_equal(s.allocs, 0);
}

/* First probe site 0 sent at or after t0 for context `c` (its pair cut);
 * 0 when none.  Data goes out on it every 100 ms for `secs`. */
static shim6_tstamp first_probe_after(struct sim *s, const struct shim6_ctx_info *c, shim6_tstamp t0, int secs)
{
	for (int i = 0; i < secs * 10; i++) {
		shim6_engine_data(s->site[0].eng, c->id, SHIM6_DATA_SENT, s->now);
		sim_run(s, 100 * MS);
	}
	for (int i = 0; i < nrec; i++)
		if (recs[i].site == 0 && recs[i].type == MT_PROBE && recs[i].tag == c->peer_tag && recs[i].at >= t0)
			return recs[i].at;
	return 0;
}

/*
 * A reload's timers: a context made before keeps the send timeout it
 * announced (its peer paces Keepalives to it), one made after announces
 * and uses the new one, and the new probe timeout paces both.
 */
static void test_set_timers(void **st)
{
	(void)st;
	static struct sim s;
	struct shim6_ctx_info a, b;
	start(&s, 5, 2, 2);
	assert_int_equal(sim_open(&s, 0, 0, 1, 0, 0, NULL), 0);
	sim_run(&s, 5 * S);
	assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &a));

	struct shim6_engine_settings n;
	shim6_engine_settings_default(&n);
	n.send_timeout = 3 * S;
	n.initial_probe_timeout = 200 * MS;
	n.max_contexts = 1;             /* a bound: ignored */
	struct shim6_engine *e = s.site[0].eng;
	n.send_timeout = 0;
	assert_int_equal(shim6_engine_set_timers(e, &n, s.now), SHIM6_ENG_EINVAL);
	assert_int_equal(e->s.send_timeout, 10 * S);   /* nothing changed */
	n.send_timeout = 3 * S;
	size_t cap = e->s.max_contexts;
	assert_int_equal(shim6_engine_set_timers(e, &n, s.now), 0);
	assert_int_equal(e->s.max_contexts, cap);
	assert_int_equal(e->s.keepalive_interval, 1 * S);   /* derived again: 3 s / 3 */

	/* one-way traffic on the old context: the peer's Keepalives come every
	 * 10/3 s, so a 3 s send timer would explore for nothing */
	int f = sim_flow(&s, 0, 0, 1, 0, 0, 200 * MS);
	s.flows[f].oneway = true;
	shim6_tstamp t0 = s.now;
	sim_run(&s, 30 * S);
	assert_int_equal(count(0, MT_PROBE, t0), 0);
	s.flows[f].active = false;

	/* a context made now: its peer keeps alive within 3 s (1 s apart) */
	assert_int_equal(sim_open(&s, 0, 1, 1, 1, 0, NULL), 0);
	sim_run(&s, 5 * S);
	assert_true(sim_ctx(&s, 0, 1, 1, 1, 0, &b));
	f = sim_flow(&s, 0, 1, 1, 1, 0, 200 * MS);
	s.flows[f].oneway = true;
	t0 = s.now;
	sim_run(&s, 30 * S);
	assert_int_equal(count(0, MT_PROBE, t0), 0);
	int ka = count(1, MT_KEEPALIVE, t0);
	printf("keepalives for the new context in 30 s: %d\n", ka);
	assert_true(ka >= 25);          /* against about 9 at the old 10/3 s */
	s.flows[f].active = false;
	sim_run(&s, 15 * S);

	/* cut everything: the new context explores after 3 s, the old after 10 s,
	 * and both probe 200 ms apart */
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++)
			sim_set_fail(&s, 0, i, 1, j, true);
	t0 = s.now;
	shim6_tstamp pb = first_probe_after(&s, &b, t0, 6);
	printf("new context: first probe %.1f s after the cut\n", (double)(pb - t0) / S);
	assert_true(pb && pb - t0 >= 3 * S && pb - t0 < 3 * S + 200 * MS);
	t0 = s.now;
	shim6_tstamp pa = first_probe_after(&s, &a, t0, 12);
	printf("old context: first probe %.1f s after its first send\n", (double)(pa - t0) / S);
	assert_true(pa && pa - t0 >= 10 * S && pa - t0 < 10 * S + 200 * MS);
	shim6_tstamp prev = 0, gaps = 0;
	for (int i = 0; i < nrec && gaps < 3; i++) {
		if (recs[i].site != 0 || recs[i].type != MT_PROBE || recs[i].tag != a.peer_tag || recs[i].at < pa)
			continue;
		if (prev && recs[i].at != prev) {
			assert_int_equal(recs[i].at - prev, 200 * MS);
			gaps++;
		}
		prev = recs[i].at;
	}
	assert_int_equal(gaps, 3);
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
		cmocka_unit_test(test_local_prefix_state),
		cmocka_unit_test(test_prefix_down_inherited),
		cmocka_unit_test(test_down_mark_follows_its_locator),
		cmocka_unit_test(test_prefix_down_kept_for_accepted),
		cmocka_unit_test(test_set_timers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
