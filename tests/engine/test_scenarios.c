/* Scenario tests: site proxies over the simulated network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <cmocka.h>

#include "sim.h"

#define S (SHIM6_NS_PER_S)
#define MS (SHIM6_NS_PER_MS)

static void assert_agree(struct sim *s, int s1, int h1, int s2, int h2, uint32_t fk)
{
	char why[128] = "";
	if (!sim_agree(s, s1, h1, s2, h2, fk, why, sizeof(why)))
		fail_msg("site%d/h%d <-> site%d/h%d fork %u: %s", s1, h1, s2, h2, fk, why);
}

static void finish(struct sim *s)
{
	sim_fini(s);
	assert_int_equal(s->allocs, 0);
}

static void test_establish(void **st)
{
	(void)st;
	static struct sim s;
	sim_init(&s, 1, 2, 2, 2, NULL);
	uint64_t id;
	assert_int_equal(sim_open(&s, 0, 0, 1, 0, 0, &id), 0);
	sim_run(&s, 5 * S);
	assert_agree(&s, 0, 0, 1, 0, 0);
	struct shim6_ctx_info a;
	assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &a));
	/* a proxy handshakes from locators, never from the ULIDs */
	assert_int_not_equal(memcmp(&a.local_loc, &a.local_ulid, 16), 0);
	assert_int_equal(sim_count_events(&s, 0, SHIM6_EV_ESTABLISHED), 1);
	assert_int_equal(sim_count_events(&s, 1, SHIM6_EV_ESTABLISHED), 1);
	finish(&s);
}

static void test_loss30(void **st)
{
	(void)st;
	static struct sim s;
	sim_init(&s, 30, 2, 4, 3, NULL);
	s.loss = 0.30;
	for (int h = 0; h < 4; h++)
		sim_flow(&s, 0, h, 1, h, 0, 1 * S);
	sim_run(&s, 400 * S);
	for (int h = 0; h < 4; h++)
		assert_agree(&s, 0, h, 1, h, 0);
	printf("loss 30%%: %llu dropped, %llu delivered\n", (unsigned long long)s.dropped,
	       (unsigned long long)s.delivered);
	finish(&s);
}

static void test_loss_dup_reorder(void **st)
{
	(void)st;
	static struct sim s;
	sim_init(&s, 31, 3, 2, 2, NULL);
	s.loss = 0.1;
	s.dup = 0.2;
	s.reorder = 0.3;
	sim_flow(&s, 0, 0, 1, 0, 0, 500 * MS);
	sim_flow(&s, 1, 1, 2, 0, 0, 500 * MS);
	sim_flow(&s, 2, 1, 0, 1, 0, 500 * MS);
	sim_run(&s, 300 * S);
	assert_agree(&s, 0, 0, 1, 0, 0);
	assert_agree(&s, 1, 1, 2, 0, 0);
	assert_agree(&s, 2, 1, 0, 1, 0);
	finish(&s);
}

static void test_simultaneous_open(void **st)
{
	(void)st;
	for (uint64_t seed = 1; seed <= 20; seed++) {
		static struct sim s;
		sim_init(&s, seed * 7, 2, 1, 3, NULL);
		assert_int_equal(sim_open(&s, 0, 0, 1, 0, 0, NULL), 0);
		assert_int_equal(sim_open(&s, 1, 0, 0, 0, 0, NULL), 0);
		sim_run(&s, 30 * S);
		assert_agree(&s, 0, 0, 1, 0, 0);
		struct shim6_engine_stats a, b;
		shim6_engine_get_stats(s.site[0].eng, &a);
		shim6_engine_get_stats(s.site[1].eng, &b);
		assert_int_equal(a.contexts, 1);
		assert_int_equal(b.contexts, 1);
		finish(&s);
	}
}

static void recover(int lost)
{
	static struct sim s;
	sim_init(&s, 40 + (uint64_t)lost, 2, 2, 2, NULL);
	sim_flow(&s, 0, 0, 1, 0, 0, 200 * MS);
	sim_run(&s, 10 * S);
	assert_agree(&s, 0, 0, 1, 0, 0);
	int keep = 1 - lost;
	struct shim6_ctx_info before;
	assert_true(sim_ctx(&s, keep, 0, lost, 0, 0, &before));
	s.nevs = 0;
	sim_reset_site(&s, lost);
	/* the flow keeps only the surviving side talking: the lost side's
	 * inside host is quiet, so recovery must come from R1bis/I2bis */
	s.flows[0].active = false;
	for (int i = 0; i < 40; i++) {
		struct shim6_engine *e = s.site[keep].eng;
		shim6_engine_data(e, before.id, SHIM6_DATA_SENT, s.now);
		sim_inject(&s, &before.local_loc, &before.peer_loc, NULL, 0, true, before.peer_tag);
		sim_run(&s, 100 * MS);
	}
	assert_agree(&s, 0, 0, 1, 0, 0);
	struct shim6_ctx_info after, lost_ctx;
	assert_true(sim_ctx(&s, keep, 0, lost, 0, 0, &after));
	assert_true(sim_ctx(&s, lost, 0, keep, 0, 0, &lost_ctx));
	assert_int_equal(after.id, before.id);            /* same context survived */
	assert_int_equal(lost_ctx.id, before.peer_tag);   /* tag restored: data flows unchanged */
	assert_true(sim_count_events(&s, keep, SHIM6_EV_RECOVERED) >= 1);
	struct shim6_engine_stats st;
	shim6_engine_get_stats(s.site[lost].eng, &st);
	assert_true(st.r1bis_sent >= 1);
	finish(&s);
}

static void test_recover_responder_lost(void **st) { (void)st; recover(1); }
static void test_recover_initiator_lost(void **st) { (void)st; recover(0); }

static shim6_tstamp failover(const struct shim6_engine_settings *set, bool print)
{
	static struct sim s;
	sim_init(&s, 50, 2, 1, 3, set);
	s.log = getenv("SIM_LOG") != NULL;
	sim_flow(&s, 0, 0, 1, 0, 0, 100 * MS);
	sim_run(&s, 10 * S);
	assert_agree(&s, 0, 0, 1, 0, 0);
	struct shim6_ctx_info a;
	assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &a));
	int la = sim_addr_loc(&a.local_loc), lb = sim_addr_loc(&a.peer_loc);
	s.nevs = 0;
	shim6_tstamp t0 = s.now;
	sim_set_fail(&s, 0, la, 1, lb, true);
	shim6_tstamp sw = 0;
	for (int i = 0; i < 1200 && !sw; i++) {
		sim_run(&s, 100 * MS);
		if (sim_count_events(&s, 0, SHIM6_EV_PAIR_CHANGED) && sim_count_events(&s, 1, SHIM6_EV_PAIR_CHANGED)) {
			sim_run(&s, 1 * S);
			char why[128];
			if (sim_agree(&s, 0, 0, 1, 0, 0, why, sizeof(why)))
				sw = s.now - S - t0;
		}
	}
	assert_true(sw > 0);
	assert_agree(&s, 0, 0, 1, 0, 0);
	assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &a));
	assert_false(s.fail[0][sim_addr_loc(&a.local_loc)][1][sim_addr_loc(&a.peer_loc)]);
	if (print)
		printf("failover after pair failure: %.2f s simulated (send timeout %.1f s)\n",
		       (double)sw / 1e9, set ? (double)set->send_timeout / 1e9 : 10.0);
	finish(&s);
	return sw;
}

static void test_pair_failure(void **st)
{
	(void)st;
	shim6_tstamp t = failover(NULL, true);
	/* RFC timers: send timeout 10 s + exploration; must not exceed a minute */
	assert_true(t < 60 * S);
	struct shim6_engine_settings fast;
	shim6_engine_settings_default(&fast);
	fast.max_contexts = 64;
	fast.send_timeout = 1 * S;
	fast.initial_probe_timeout = 200 * MS;
	t = failover(&fast, true);
	assert_true(t < 5 * S);
}

static void test_locator_update(void **st)
{
	(void)st;
	static struct sim s;
	sim_init(&s, 60, 2, 1, 3, NULL);
	sim_flow(&s, 0, 0, 1, 0, 0, 200 * MS);
	sim_run(&s, 10 * S);
	assert_agree(&s, 0, 0, 1, 0, 0);
	struct shim6_ctx_info a;
	assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &a));
	int lb = sim_addr_loc(&a.peer_loc);
	/* site 1 drops the locator in use from host 0's set */
	s.site[1].loc_removed[0][lb] = true;
	struct shim6_in6 u = sim_ulid(1, 0);
	assert_int_equal(shim6_engine_local_changed(s.site[1].eng, &u, s.now), 1);
	sim_run(&s, 30 * S);
	assert_true(sim_count_events(&s, 0, SHIM6_EV_PEER_LOCATORS) >= 1);
	assert_agree(&s, 0, 0, 1, 0, 0);
	assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &a));
	assert_int_not_equal(sim_addr_loc(&a.peer_loc), lb);
	assert_int_equal(a.npeer, 2);
	struct shim6_engine_stats st1;
	shim6_engine_get_stats(s.site[1].eng, &st1);
	assert_true(st1.updates_acked >= 1);

	/* preferences: mark another locator BROKEN, it must not be used */
	int now_b = sim_addr_loc(&a.peer_loc);
	s.site[1].loc_flags[now_b] = SHIM6_LOCF_BROKEN;
	assert_int_equal(shim6_engine_local_changed(s.site[1].eng, &u, s.now), 1);
	sim_run(&s, 30 * S);
	assert_agree(&s, 0, 0, 1, 0, 0);
	assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &a));
	assert_int_not_equal(sim_addr_loc(&a.peer_loc), now_b);
	assert_int_not_equal(sim_addr_loc(&a.peer_loc), lb);
	finish(&s);
}

static void test_update_retransmit(void **st)
{
	(void)st;
	static struct sim s;
	sim_init(&s, 61, 2, 1, 2, NULL);
	sim_open(&s, 0, 0, 1, 0, 0, NULL);
	sim_run(&s, 5 * S);
	assert_agree(&s, 0, 0, 1, 0, 0);
	s.loss = 1.0;
	s.site[1].loc_flags[1] = SHIM6_LOCF_TEMPORARY;
	struct shim6_in6 u = sim_ulid(1, 0);
	shim6_engine_local_changed(s.site[1].eng, &u, s.now);
	sim_run(&s, 400 * S);
	struct shim6_engine_stats st1;
	shim6_engine_get_stats(s.site[1].eng, &st1);
	/* 4,8,16,32,64 s then give up past MAX_UPDATE_TIMEOUT (120 s) */
	assert_int_equal(st1.updates_sent, 5);
	assert_int_equal(st1.updates_acked, 0);
	finish(&s);
}

static void test_forked(void **st)
{
	(void)st;
	static struct sim s;
	sim_init(&s, 70, 2, 1, 2, NULL);
	sim_flow(&s, 0, 0, 1, 0, 0, 300 * MS);
	sim_flow(&s, 0, 0, 1, 0, 7, 300 * MS);
	sim_flow(&s, 1, 0, 0, 0, 9, 300 * MS);
	sim_run(&s, 20 * S);
	assert_agree(&s, 0, 0, 1, 0, 0);
	assert_agree(&s, 0, 0, 1, 0, 7);
	assert_agree(&s, 0, 0, 1, 0, 9);
	struct shim6_ctx_info a, b, c;
	sim_ctx(&s, 0, 0, 1, 0, 0, &a);
	sim_ctx(&s, 0, 0, 1, 0, 7, &b);
	sim_ctx(&s, 0, 0, 1, 0, 9, &c);
	assert_int_not_equal(a.id, b.id);
	assert_int_not_equal(a.id, c.id);
	assert_int_equal(b.forkid, 7);
	struct shim6_engine_stats st0;
	shim6_engine_get_stats(s.site[0].eng, &st0);
	assert_int_equal(st0.contexts, 3);
	finish(&s);
}

/* ---- attacker ---- */
#define CAP_MAX 256
static struct sim_pkt cap[CAP_MAX];
static int ncap;
static void tap(void *u, const struct sim_pkt *p)
{
	(void)u;
	if (!p->payload && ncap < CAP_MAX)
		cap[ncap++] = *p;
}

struct snap { struct shim6_ctx_info a, b; struct shim6_engine_stats sa, sb; int nevs; };
static void take(struct sim *s, struct snap *n)
{
	assert_true(sim_ctx(s, 0, 0, 1, 0, 0, &n->a));
	assert_true(sim_ctx(s, 1, 0, 0, 0, 0, &n->b));
	shim6_engine_get_stats(s->site[0].eng, &n->sa);
	shim6_engine_get_stats(s->site[1].eng, &n->sb);
	n->nevs = s->nevs;
}
static void same(const struct snap *x, const struct snap *y)
{
	assert_int_equal(x->a.id, y->a.id);
	assert_int_equal(x->a.peer_tag, y->a.peer_tag);
	assert_int_equal(x->a.state, y->a.state);
	assert_int_equal(x->a.reap, y->a.reap);
	assert_memory_equal(&x->a.peer_loc, &y->a.peer_loc, 16);
	assert_memory_equal(&x->a.local_loc, &y->a.local_loc, 16);
	assert_int_equal(x->a.npeer, y->a.npeer);
	assert_int_equal(x->b.id, y->b.id);
	assert_int_equal(x->b.peer_tag, y->b.peer_tag);
	assert_int_equal(x->b.state, y->b.state);
	assert_memory_equal(&x->b.peer_loc, &y->b.peer_loc, 16);
	assert_int_equal(x->b.npeer, y->b.npeer);
	assert_int_equal(x->sa.contexts, y->sa.contexts);
	assert_int_equal(x->sb.contexts, y->sb.contexts);
	assert_int_equal(x->nevs, y->nevs);
}

#include "../../shim6/engine/internal.h"

static size_t forge(uint8_t *buf, uint8_t type, uint64_t tag, uint32_t n1, uint32_t n2,
                    const struct shim6_in6 *locs, size_t nl)
{
	struct mb m;
	mb_init(&m, buf, SHIM6_MAX_MSG, type);
	switch (type) {
	case MT_R1:
		mb_u16(&m, 0); mb_u32(&m, n1); mb_u32(&m, n2);
		break;
	case MT_I2:
		mb_tag(&m, tag); mb_u32(&m, n1); mb_u32(&m, n2); mb_zero(&m, 4);
		break;
	default:
		mb_tag(&m, tag); mb_u32(&m, n1);
		if (type == MT_PROBE) { m.len -= 4; mb_u8(&m, 0x01); mb_u8(&m, 1 << 6); mb_u16(&m, 0);
			mb_zero(&m, 40); }
	}
	if (type == MT_I2) {
		size_t o = mb_opt_begin(&m, OPT_VALIDATOR, false);
		mb_zero(&m, 16);
		mb_opt_end(&m, o);
	}
	if (nl) {
		size_t o = mb_opt_begin(&m, OPT_LOCLIST, false);
		mb_u32(&m, 0x7fffffff); mb_u8(&m, (uint8_t)nl);
		for (size_t i = 0; i < nl; i++) mb_u8(&m, SHIM6_VERIF_HBA);
		size_t used = 9 + nl; mb_zero(&m, ((used + 7) & ~(size_t)7) - used);
		for (size_t i = 0; i < nl; i++) mb_bytes(&m, locs[i].b, 16);
		mb_opt_end(&m, o);
		o = mb_opt_begin(&m, OPT_PDS, false);
		mb_bytes(&m, "PDS:", 4); mb_zero(&m, 16);
		mb_opt_end(&m, o);
	}
	return mb_finish(&m);
}

static void test_attacker(void **st)
{
	(void)st;
	static struct sim s;
	sim_init(&s, 80, 2, 1, 3, NULL);
	ncap = 0;
	s.tap = tap;
	sim_flow(&s, 0, 0, 1, 0, 0, 300 * MS);
	sim_run(&s, 10 * S);
	/* an update so that one is captured for replay */
	struct shim6_in6 u = sim_ulid(1, 0);
	s.site[1].loc_flags[2] = SHIM6_LOCF_TEMPORARY;
	shim6_engine_local_changed(s.site[1].eng, &u, s.now);
	sim_run(&s, 5 * S);
	s.site[1].loc_flags[2] = 0;
	shim6_engine_local_changed(s.site[1].eng, &u, s.now);
	sim_run(&s, 5 * S);
	s.tap = NULL;
	s.flows[0].active = false;
	sim_run(&s, 1 * S);
	assert_agree(&s, 0, 0, 1, 0, 0);
	struct snap before, after;
	take(&s, &before);
	assert_true(ncap > 6);

	uint8_t buf[SHIM6_MAX_MSG];
	struct shim6_in6 evil = { { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x66, 0x66 } };
	struct shim6_in6 a0 = sim_loc(0, 0, 0), b0 = sim_loc(1, 0, 0);
	struct shim6_in6 evil_locs[2] = { evil, b0 };
	size_t n;
	for (int k = 0; k < 50; k++) {
		uint32_t r1 = (uint32_t)sim_rand(&s), r2 = (uint32_t)sim_rand(&s);
		/* forged R1 and R2: nonces that match nothing */
		n = forge(buf, MT_R1, 0, r1, r2, NULL, 0);
		sim_inject(&s, &b0, &a0, buf, n, false, 0);
		n = forge(buf, MT_R2, sim_rand(&s) & TAG_MASK, r1, 0, evil_locs, 2);
		sim_inject(&s, &b0, &a0, buf, n, false, 0);
		/* I2 with a bad validator, for the real ULIDs */
		n = forge(buf, MT_I2, sim_rand(&s) & TAG_MASK, r1, r2, evil_locs, 2);
		sim_inject(&s, &b0, &a0, buf, n, false, 0);
		/* Update with the right tag but a locator list it cannot prove */
		n = forge(buf, MT_UPDATE_REQ, before.a.id, r1, 0, evil_locs, 2);
		sim_inject(&s, &b0, &a0, buf, n, false, 0);
		sim_inject(&s, &evil, &a0, buf, n, false, 0);
		/* Probe from an address that is not a verified locator */
		n = forge(buf, MT_PROBE, before.a.id, r1, 0, NULL, 0);
		sim_inject(&s, &evil, &a0, buf, n, false, 0);
		sim_run(&s, 200 * MS);
	}
	/* replay everything captured, in order */
	for (int i = 0; i < ncap; i++) {
		sim_inject(&s, &cap[i].src, &cap[i].dst, cap[i].buf, cap[i].len, false, 0);
		if (i % 8 == 7)
			sim_run(&s, 100 * MS);
	}
	sim_run(&s, 2 * S);
	take(&s, &after);
	same(&before, &after);
	assert_true(after.sa.validator_bad + after.sb.validator_bad >= 50);
	assert_true(after.sa.verify_failed >= 50);
	finish(&s);
}

static void test_critical_option(void **st)
{
	(void)st;
	static struct sim s;
	sim_init(&s, 90, 2, 1, 1, NULL);
	uint8_t buf[SHIM6_MAX_MSG];
	struct mb m;
	mb_init(&m, buf, sizeof(buf), MT_I1);
	mb_tag(&m, 5);
	mb_u32(&m, 1);
	size_t o = mb_opt_begin(&m, 99, true);
	mb_u32(&m, 0);
	mb_opt_end(&m, o);
	size_t n = mb_finish(&m);
	struct shim6_in6 a = sim_loc(0, 0, 0), b = sim_loc(1, 0, 0);
	assert_int_equal(shim6_engine_recv(s.site[1].eng, buf, n, &a, &b, s.now), SHIM6_ENG_ECRITICAL);
	struct shim6_tx tx;
	assert_int_equal(shim6_engine_poll_tx(s.site[1].eng, &tx), 1);
	assert_int_equal(tx.buf[2] & 0x7f, MT_ERROR);
	assert_int_equal(tx.buf[3] >> 1, ERR_CRITICAL_OPT);
	assert_int_equal(get_u16(tx.buf + 6), 16);   /* pointer: the option */
	/* the same option with C=0 is skipped and the I1 answered */
	mb_init(&m, buf, sizeof(buf), MT_I1);
	mb_tag(&m, 5);
	mb_u32(&m, 1);
	struct shim6_in6 ua = sim_ulid(0, 0), ub = sim_ulid(1, 0);
	o = mb_opt_begin(&m, OPT_ULIDPAIR, false);
	mb_zero(&m, 4);
	mb_bytes(&m, ua.b, 16);
	mb_bytes(&m, ub.b, 16);
	mb_opt_end(&m, o);
	o = mb_opt_begin(&m, 99, false);
	mb_u32(&m, 0);
	mb_opt_end(&m, o);
	n = mb_finish(&m);
	assert_int_equal(shim6_engine_recv(s.site[1].eng, buf, n, &a, &b, s.now), 0);
	assert_int_equal(shim6_engine_poll_tx(s.site[1].eng, &tx), 1);
	assert_int_equal(tx.buf[2] & 0x7f, MT_R1);
	/* an unknown message type draws Error code 0 pointing at the type */
	mb_init(&m, buf, sizeof(buf), 99);
	mb_zero(&m, 10);
	n = mb_finish(&m);
	assert_int_equal(shim6_engine_recv(s.site[1].eng, buf, n, &a, &b, s.now), SHIM6_ENG_EMALFORMED);
	assert_int_equal(shim6_engine_poll_tx(s.site[1].eng, &tx), 1);
	assert_int_equal(tx.buf[2] & 0x7f, MT_ERROR);
	assert_int_equal(tx.buf[3] >> 1, 0);
	assert_int_equal(get_u16(tx.buf + 6), 2);
	/* but an Error is never answered with an Error */
	assert_int_equal(shim6_engine_recv(s.site[0].eng, tx.buf, tx.len, &b, &a, s.now), 0);
	assert_int_equal(shim6_engine_poll_tx(s.site[0].eng, &tx), 0);
	finish(&s);
}

static void test_unsupported_method(void **st)
{
	(void)st;
	static struct sim s;
	sim_init(&s, 92, 2, 1, 2, NULL);
	sim_open(&s, 0, 0, 1, 0, 0, NULL);
	sim_run(&s, 5 * S);
	struct shim6_ctx_info a;
	assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &a));
	uint8_t buf[SHIM6_MAX_MSG];
	struct mb m;
	mb_init(&m, buf, sizeof(buf), MT_UPDATE_REQ);
	mb_tag(&m, a.id);
	mb_u32(&m, 1234);
	size_t o = mb_opt_begin(&m, OPT_LOCLIST, false);
	mb_u32(&m, 99);
	mb_u8(&m, 1);
	mb_u8(&m, 7);            /* no such verification method */
	mb_zero(&m, 6);
	mb_bytes(&m, a.peer_loc.b, 16);
	mb_opt_end(&m, o);
	size_t n = mb_finish(&m);
	assert_int_equal(shim6_engine_recv(s.site[0].eng, buf, n, &a.peer_loc, &a.local_loc, s.now),
	                 SHIM6_ENG_EUNSUPP);
	static struct shim6_tx tx;
	assert_int_equal(shim6_engine_poll_tx(s.site[0].eng, &tx), 1);
	assert_int_equal(tx.buf[2] & 0x7f, MT_ERROR);
	assert_int_equal(tx.buf[3] >> 1, ERR_VERIF_METHOD);
	assert_int_equal(get_u16(tx.buf + 6), 16 + 4 + 5);   /* points at the method octet */
	struct shim6_ctx_info b;
	assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &b));
	assert_int_equal(b.npeer, a.npeer);                  /* nothing adopted */
	assert_int_equal(shim6_engine_poll_tx(s.site[0].eng, &tx), 0);   /* no ack */
	finish(&s);
}

static void test_verify_fail(void **st)
{
	(void)st;
	static struct sim s;
	sim_init(&s, 91, 2, 1, 2, NULL);
	s.site[1].reject_verify = true;
	sim_open(&s, 0, 0, 1, 0, 0, NULL);
	sim_run(&s, 300 * S);
	struct shim6_engine_stats b;
	shim6_engine_get_stats(s.site[1].eng, &b);
	assert_true(b.verify_failed >= 3);
	assert_int_equal(b.contexts, 0);       /* responder kept nothing */
	assert_true(sim_count_events(&s, 0, SHIM6_EV_FAILED) + sim_count_events(&s, 0, SHIM6_EV_NO_SUPPORT) >= 1);
	finish(&s);
}

/* ---- each refusal of the Update, probe and R1bis handlers, case by case ---- */

/* Established 0/h0 -> 1/h0 (site 1 verifies by HBA); returns site 0's view. */
static void est(struct sim *s, uint64_t seed, struct shim6_ctx_info *a, uint32_t *pgen)
{
	sim_init(s, seed, 2, 1, 2, NULL);
	assert_int_equal(sim_open(s, 0, 0, 1, 0, 0, NULL), 0);
	sim_run(s, 5 * S);
	assert_agree(s, 0, 0, 1, 0, 0);
	assert_true(sim_ctx(s, 0, 0, 1, 0, 0, a));
	assert_int_equal(shim6_engine_ctx_generations(s->site[0].eng, a->id, NULL, pgen), 0);
}

/* An Update Request to `tag` carrying an HBA Locator List of site 1 host 0's
 * locators `locs` (nl may be 0) at generation gen, with its PDS. */
static size_t upd_list(uint8_t *buf, uint64_t tag, uint32_t gen, const int *locs, size_t nl)
{
	struct mb m;
	struct shim6_in6 u = sim_ulid(1, 0);
	mb_init(&m, buf, SHIM6_MAX_MSG, MT_UPDATE_REQ);
	mb_tag(&m, tag);
	mb_u32(&m, 4321);
	size_t o = mb_opt_begin(&m, OPT_LOCLIST, false);
	mb_u32(&m, gen);
	mb_u8(&m, (uint8_t)nl);
	for (size_t i = 0; i < nl; i++)
		mb_u8(&m, SHIM6_VERIF_HBA);
	size_t used = 9 + nl;
	mb_zero(&m, ((used + 7) & ~(size_t)7) - used);
	for (size_t i = 0; i < nl; i++) {
		struct shim6_in6 l = sim_loc(1, 0, locs[i]);
		mb_bytes(&m, l.b, 16);
	}
	mb_opt_end(&m, o);
	o = mb_opt_begin(&m, OPT_PDS, false);
	mb_bytes(&m, "PDS:", 4);
	mb_bytes(&m, u.b, 16);
	mb_opt_end(&m, o);
	return mb_finish(&m);
}

/* An Update Request with only Locator Preferences: n elements of el octets. */
static size_t upd_prefs(uint8_t *buf, uint64_t tag, uint32_t gen, uint8_t el, size_t n)
{
	struct mb m;
	mb_init(&m, buf, SHIM6_MAX_MSG, MT_UPDATE_REQ);
	mb_tag(&m, tag);
	mb_u32(&m, 4321);
	size_t o = mb_opt_begin(&m, OPT_LOCPREF, false);
	mb_u32(&m, gen);
	mb_u8(&m, el);
	for (size_t i = 0; i < n * el; i++)
		mb_u8(&m, i % el == 0 ? SHIM6_LOCF_BROKEN : 7);
	mb_opt_end(&m, o);
	return mb_finish(&m);
}

static uint64_t tx_count(struct shim6_engine *e)
{
	struct shim6_engine_stats x;
	shim6_engine_get_stats(e, &x);
	return x.tx_msgs;
}

/* A well-formed, verifiable list is still refused from a source that is not
 * a verified peer locator: no ack, nothing adopted.  The same from the
 * current peer locator is taken. */
static void test_update_from_unverified_source(void **st)
{
	(void)st;
	static struct sim s;
	struct shim6_ctx_info a, b;
	uint32_t pg;
	est(&s, 100, &a, &pg);
	struct shim6_engine *e = s.site[0].eng;
	uint8_t buf[SHIM6_MAX_MSG];
	const int l01[2] = { 0, 1 };
	size_t n = upd_list(buf, a.id, pg + 1, l01, 2);
	struct shim6_in6 stranger = sim_loc(1, 0, 2);   /* right IID, not listed */
	uint64_t t0 = tx_count(e);
	assert_int_equal(shim6_engine_recv(e, buf, n, &stranger, &a.local_loc, s.now), SHIM6_ENG_EVERIFY);
	struct shim6_in6 notours = sim_loc(0, 0, 2);
	assert_int_equal(shim6_engine_recv(e, buf, n, &a.peer_loc, &notours, s.now), SHIM6_ENG_EVERIFY);
	assert_int_equal(tx_count(e), t0);
	assert_int_equal(shim6_engine_recv(e, buf, n, &a.peer_loc, &a.local_loc, s.now), 0);
	assert_int_equal(tx_count(e), t0 + 1);              /* the ack */
	assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &b));
	assert_int_equal(b.npeer, 2);
	finish(&s);
}

/* A Locator List with no locators is malformed: adopting it would leave the
 * context without any peer locator. */
static void test_update_empty_list(void **st)
{
	(void)st;
	static struct sim s;
	struct shim6_ctx_info a, b;
	uint32_t pg;
	est(&s, 101, &a, &pg);
	uint8_t buf[SHIM6_MAX_MSG];
	size_t n = upd_list(buf, a.id, pg + 1, NULL, 0);
	assert_int_equal(shim6_engine_recv(s.site[0].eng, buf, n, &a.peer_loc, &a.local_loc, s.now),
	                 SHIM6_ENG_EMALFORMED);
	assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &b));
	assert_int_equal(b.npeer, a.npeer);
	finish(&s);
}

/* A list update proves ownership, not reachability: the locator it came
 * from stays unprobed (not usable) until REAP has checked it. */
static void test_update_source_not_probed(void **st)
{
	(void)st;
	static struct sim s;
	struct shim6_ctx_info a, b;
	uint32_t pg;
	est(&s, 102, &a, &pg);
	int k = -1;
	for (size_t i = 0; i < a.npeer; i++)
		if (!a.peer_usable[i])
			k = (int)i;
	assert_true(k >= 0);
	struct shim6_in6 src = a.peer_locs[k].addr;
	uint8_t buf[SHIM6_MAX_MSG];
	const int l01[2] = { 0, 1 };
	size_t n = upd_list(buf, a.id, pg + 1, l01, 2);
	assert_int_equal(shim6_engine_recv(s.site[0].eng, buf, n, &src, &a.local_loc, s.now), 0);
	assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &b));
	uint32_t g2;
	shim6_engine_ctx_generations(s.site[0].eng, a.id, NULL, &g2);
	assert_int_equal(g2, pg + 1);                     /* the list was taken */
	for (size_t i = 0; i < b.npeer; i++)
		if (!memcmp(&b.peer_locs[i].addr, &src, 16))
			assert_int_equal(b.peer_usable[i], 0);
	finish(&s);
}

/* Preferences apply only to the list generation they name, and must cover
 * every peer locator (else the engine would read past the option). */
static void test_update_prefs_checked(void **st)
{
	(void)st;
	static struct sim s;
	struct shim6_ctx_info a, b;
	uint32_t pg;
	est(&s, 103, &a, &pg);
	struct shim6_engine *e = s.site[0].eng;
	uint8_t buf[SHIM6_MAX_MSG];
	size_t n = upd_prefs(buf, a.id, pg - 1, 3, a.npeer);
	assert_int_equal(shim6_engine_recv(e, buf, n, &a.peer_loc, &a.local_loc, s.now), SHIM6_ENG_ESTALE);
	n = upd_prefs(buf, a.id, pg, 3, a.npeer - 1);
	assert_int_equal(shim6_engine_recv(e, buf, n, &a.peer_loc, &a.local_loc, s.now), SHIM6_ENG_EMALFORMED);
	assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &b));
	for (size_t i = 0; i < b.npeer; i++)
		assert_int_equal(b.peer_locs[i].flags & SHIM6_LOCF_BROKEN, 0);
	n = upd_prefs(buf, a.id, pg, 3, a.npeer);         /* the right one is taken */
	assert_int_equal(shim6_engine_recv(e, buf, n, &a.peer_loc, &a.local_loc, s.now), 0);
	assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &b));
	assert_int_equal(b.peer_locs[0].flags & SHIM6_LOCF_BROKEN, SHIM6_LOCF_BROKEN);
	finish(&s);
}

static size_t upd_ack(uint8_t *buf, uint64_t tag, uint32_t nonce)
{
	struct mb m;
	mb_init(&m, buf, SHIM6_MAX_MSG, MT_UPDATE_ACK);
	mb_tag(&m, tag);
	mb_u32(&m, nonce);
	return mb_finish(&m);
}

/* An Update Acknowledgement stops retransmission only if it echoes the
 * outstanding request's nonce, and only once. */
static void test_update_ack_nonce(void **st)
{
	(void)st;
	static struct sim s;
	struct shim6_ctx_info a;
	uint32_t pg;
	est(&s, 104, &a, &pg);
	struct shim6_engine *e = s.site[1].eng;   /* site 1 sends the update */
	struct shim6_ctx_info b;
	assert_true(sim_ctx(&s, 1, 0, 0, 0, 0, &b));
	s.site[1].loc_flags[1] = SHIM6_LOCF_TEMPORARY;
	struct shim6_in6 u = sim_ulid(1, 0);
	assert_int_equal(shim6_engine_local_changed(e, &u, s.now), 1);
	static struct shim6_tx tx;
	uint32_t nonce = 0;
	int nupd = 0;
	while (shim6_engine_poll_tx(e, &tx))
		if ((tx.buf[2] & 0x7f) == MT_UPDATE_REQ) {
			nonce = get_u32(tx.buf + 12);
			nupd++;
		}
	assert_int_equal(nupd, 1);
	uint8_t buf[64];
	struct shim6_engine_stats x;
	size_t n = upd_ack(buf, b.id, nonce + 1);
	assert_int_equal(shim6_engine_recv(e, buf, n, &b.peer_loc, &b.local_loc, s.now), SHIM6_ENG_ENONCE);
	n = upd_ack(buf, b.id, nonce);
	assert_int_equal(shim6_engine_recv(e, buf, n, &b.peer_loc, &b.local_loc, s.now), 0);
	assert_int_equal(shim6_engine_recv(e, buf, n, &b.peer_loc, &b.local_loc, s.now), SHIM6_ENG_ENONCE);
	shim6_engine_get_stats(e, &x);
	assert_int_equal(x.updates_acked, 1);
	finish(&s);
}

/* A local change that changes nothing sends no Update and counts no
 * context, and a data report names a direction the engine knows. */
static void test_local_unchanged_and_data_dir(void **st)
{
	(void)st;
	static struct sim s;
	struct shim6_ctx_info a, b;
	uint32_t pg;
	est(&s, 106, &a, &pg);
	struct shim6_engine *e = s.site[1].eng;
	struct shim6_in6 u = sim_ulid(1, 0);
	uint64_t t0 = tx_count(e);
	assert_int_equal(shim6_engine_local_changed(e, &u, s.now), 0);
	assert_int_equal(tx_count(e), t0);
	assert_true(sim_ctx(&s, 1, 0, 0, 0, 0, &b));
	assert_int_equal(shim6_engine_data(e, b.id, 7, s.now), SHIM6_ENG_EINVAL);
	assert_int_equal(shim6_engine_data(e, b.id, SHIM6_DATA_RECV, s.now), 0);
	finish(&s);
}

/* A Probe that reports one of ours as received confirms a pair only if
 * nonce, source and destination all match what we sent (RFC 5534's
 * return-routability check); a near miss leaves REAP exploring. */
static void test_probe_report_must_match(void **st)
{
	(void)st;
	static struct sim s;
	struct shim6_ctx_info a, b;
	uint32_t pg;
	est(&s, 105, &a, &pg);
	struct shim6_engine *e = s.site[0].eng;
	assert_int_equal(shim6_engine_locator_down(e, &a.local_loc, s.now), 0);
	static struct shim6_tx tx, probe;
	int np = 0;
	while (shim6_engine_poll_tx(e, &tx))
		if ((tx.buf[2] & 0x7f) == MT_PROBE) {
			probe = tx;
			np++;
		}
	assert_int_equal(np, 1);
	struct shim6_in6 ps, pd;                  /* our probe's report of itself */
	memcpy(ps.b, probe.buf + 16, 16);
	memcpy(pd.b, probe.buf + 32, 16);
	uint32_t nonce = get_u32(probe.buf + 48);
	struct shim6_in6 other_p = a.peer_locs[0].addr;
	if (!memcmp(&other_p, &pd, 16))
		other_p = a.peer_locs[1].addr;
	struct { struct shim6_in6 s, d; uint32_t n; } bad[3] = {
		{ ps, pd, nonce + 1 }, { a.local_loc, pd, nonce }, { ps, other_p, nonce },
	};
	uint8_t buf[128];
	for (int i = 0; i <= 3; i++) {
		struct mb m;
		mb_init(&m, buf, sizeof buf, MT_PROBE);
		mb_tag(&m, a.id);
		mb_u8(&m, 0x10);                      /* precvd 1, psent 0 */
		mb_u8(&m, SHIM6_REAP_EXPLORING << 6);
		mb_u16(&m, 0);
		mb_bytes(&m, i < 3 ? bad[i].s.b : ps.b, 16);
		mb_bytes(&m, i < 3 ? bad[i].d.b : pd.b, 16);
		mb_u32(&m, i < 3 ? bad[i].n : nonce);
		mb_u32(&m, 0);
		size_t n = mb_finish(&m);
		assert_int_equal(shim6_engine_recv(e, buf, n, &pd, &ps, s.now), 0);
		assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &b));
		if (i < 3)
			assert_int_not_equal(b.reap, SHIM6_REAP_OPERATIONAL);
		else
			assert_int_equal(b.reap, SHIM6_REAP_OPERATIONAL);
	}
	finish(&s);
}

static size_t r1bis(uint8_t *buf, uint64_t tag, size_t vlen)
{
	struct mb m;
	mb_init(&m, buf, SHIM6_MAX_MSG, MT_R1BIS);
	mb_tag(&m, tag);
	mb_u32(&m, 99);
	size_t o = mb_opt_begin(&m, OPT_VALIDATOR, false);
	for (size_t i = 0; i < vlen; i++)
		mb_u8(&m, 0x5a);
	mb_opt_end(&m, o);
	return mb_finish(&m);
}

/* R1bis tears an established context down into recovery, so it is taken
 * only from a peer locator, to one of ours, with a validator that fits;
 * and a context we hold never draws an R1bis from us. */
static void test_r1bis_refusals(void **st)
{
	(void)st;
	static struct sim s;
	struct shim6_ctx_info a, b;
	uint32_t pg;
	est(&s, 106, &a, &pg);
	struct shim6_engine *e = s.site[0].eng;
	uint8_t buf[SHIM6_MAX_MSG];
	size_t n = r1bis(buf, a.peer_tag, 16);
	struct shim6_in6 stranger = sim_loc(1, 0, 2), notours = sim_loc(0, 0, 2);
	assert_int_equal(shim6_engine_recv(e, buf, n, &stranger, &a.local_loc, s.now), SHIM6_ENG_ENOCTX);
	assert_int_equal(shim6_engine_recv(e, buf, n, &a.peer_loc, &notours, s.now), SHIM6_ENG_ENOCTX);
	size_t big = r1bis(buf, a.peer_tag, 72);
	assert_int_equal(shim6_engine_recv(e, buf, big, &a.peer_loc, &a.local_loc, s.now), SHIM6_ENG_EMALFORMED);
	assert_int_equal(shim6_engine_unknown_tag(e, a.id, &a.peer_loc, &a.local_loc, s.now), SHIM6_ENG_EEXIST);
	struct shim6_engine_stats x;
	shim6_engine_get_stats(e, &x);
	assert_int_equal(x.i2bis_sent, 0);
	assert_int_equal(x.r1bis_sent, 0);
	assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &b));
	assert_int_equal(b.state, SHIM6_ST_ESTABLISHED);
	n = r1bis(buf, a.peer_tag, 16);                    /* the genuine case */
	assert_int_equal(shim6_engine_recv(e, buf, n, &a.peer_loc, &a.local_loc, s.now), 0);
	assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &b));
	assert_int_equal(b.state, SHIM6_ST_I2BIS_SENT);
	finish(&s);
}

/* With max_update_timeout a power of two times update_timeout, the
 * retransmission at exactly that timeout is still sent: 4, 8, 16, 32, 64 s,
 * then given up. */
static void test_update_retransmit_at_max(void **st)
{
	(void)st;
	static struct sim s;
	struct shim6_engine_settings set;
	shim6_engine_settings_default(&set);
	set.max_contexts = 8;
	set.max_update_timeout = 64 * S;
	sim_init(&s, 62, 2, 1, 2, &set);
	sim_open(&s, 0, 0, 1, 0, 0, NULL);
	sim_run(&s, 5 * S);
	assert_agree(&s, 0, 0, 1, 0, 0);
	s.loss = 1.0;
	s.site[1].loc_flags[1] = SHIM6_LOCF_TEMPORARY;
	struct shim6_in6 u = sim_ulid(1, 0);
	shim6_engine_local_changed(s.site[1].eng, &u, s.now);
	sim_run(&s, 400 * S);
	struct shim6_engine_stats st1;
	shim6_engine_get_stats(s.site[1].eng, &st1);
	assert_int_equal(st1.updates_sent, 5);
	finish(&s);
}

/* A context that failed (E-FAILED) is replaced by a valid I2 from its peer:
 * the peer, after losing its state, establishes afresh with it. */
static void test_i2_replaces_failed_context(void **st)
{
	(void)st;
	static struct sim s;
	struct shim6_engine_settings set;
	shim6_engine_settings_default(&set);
	set.max_contexts = 8;
	set.max_explore_time = 10 * S;
	set.failed_linger = 600 * S;
	sim_init(&s, 63, 2, 1, 2, &set);
	sim_open(&s, 0, 0, 1, 0, 0, NULL);
	sim_run(&s, 5 * S);
	assert_agree(&s, 0, 0, 1, 0, 0);
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++)
			sim_set_fail(&s, 0, i, 1, j, true);
	struct shim6_ctx_info a;
	assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &a));
	for (int i = 0; i < 40 && a.state != SHIM6_ST_E_FAILED; i++) {
		shim6_engine_data(s.site[0].eng, a.id, SHIM6_DATA_SENT, s.now);
		sim_run(&s, 1 * S);
		assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &a));
	}
	assert_int_equal(a.state, SHIM6_ST_E_FAILED);
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++)
			sim_set_fail(&s, 0, i, 1, j, false);
	sim_reset_site(&s, 1);
	assert_int_equal(sim_open(&s, 1, 0, 0, 0, 0, NULL), 0);
	sim_run(&s, 60 * S);
	assert_agree(&s, 1, 0, 0, 0, 0);
	assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &a));
	assert_int_equal(a.state, SHIM6_ST_ESTABLISHED);
	finish(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_establish),
		cmocka_unit_test(test_loss30),
		cmocka_unit_test(test_loss_dup_reorder),
		cmocka_unit_test(test_simultaneous_open),
		cmocka_unit_test(test_recover_responder_lost),
		cmocka_unit_test(test_recover_initiator_lost),
		cmocka_unit_test(test_pair_failure),
		cmocka_unit_test(test_locator_update),
		cmocka_unit_test(test_update_retransmit),
		cmocka_unit_test(test_forked),
		cmocka_unit_test(test_attacker),
		cmocka_unit_test(test_critical_option),
		cmocka_unit_test(test_unsupported_method),
		cmocka_unit_test(test_verify_fail),
		cmocka_unit_test(test_update_from_unverified_source),
		cmocka_unit_test(test_update_empty_list),
		cmocka_unit_test(test_update_source_not_probed),
		cmocka_unit_test(test_update_prefs_checked),
		cmocka_unit_test(test_update_ack_nonce),
		cmocka_unit_test(test_local_unchanged_and_data_dir),
		cmocka_unit_test(test_probe_report_must_match),
		cmocka_unit_test(test_r1bis_refusals),
		cmocka_unit_test(test_update_retransmit_at_max),
		cmocka_unit_test(test_i2_replaces_failed_context),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
