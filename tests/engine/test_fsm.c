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

/* ---- an imported context on the solo engine, and messages to it ---- */

#define IMP_TAG  0x1111
#define IMP_PTAG 0x2222

/* Import lulid 1/1 <-> pulid 2/1 on pair 1.0.1 -> 2.0.1; the peer's list
 * is 2.0.1 .. 2.(np-1).1, entry `unverified` (or -1) not verified. */
static void import_one(struct solo *s, uint32_t peer_gen, size_t np, int unverified)
{
	struct shim6_ctx_import im;
	memset(&im, 0, sizeof(im));
	im.local_ulid = SOLO_ULID(1, 1);
	im.peer_ulid = SOLO_ULID(2, 1);
	im.own_tag = IMP_TAG;
	im.peer_tag = IMP_PTAG;
	im.local_loc = SOLO_LOC(1, 0, 1);
	im.peer_loc = SOLO_LOC(2, 0, 1);
	im.npeer = np;
	for (size_t i = 0; i < np; i++) {
		im.peer_locs[i].addr = SOLO_LOC(2, (uint8_t)i, 1);
		im.peer_locs[i].verif = SHIM6_VERIF_HBA;
		im.verified[i] = (int)i != unverified;
	}
	im.peer_gen = peer_gen;
	uint64_t id;
	assert_int_equal(shim6_engine_context_import(s->e, &im, s->now, &id), 0);
	assert_int_equal(id, IMP_TAG);
}

static int send_to_ctx(struct solo *s, const uint8_t *buf, size_t n)
{
	struct shim6_in6 src = SOLO_LOC(2, 0, 1), dst = SOLO_LOC(1, 0, 1);
	return shim6_engine_recv(s->e, buf, n, &src, &dst, s->now);
}

/* An Update Request; with `flags`, Locator Preferences (Element Length 1)
 * giving locator i the flags flags[i]. */
static size_t mk_prefs(uint8_t *buf, uint32_t gen, const uint8_t *flags, size_t n)
{
	struct mb m;
	mb_init(&m, buf, SHIM6_MAX_MSG, MT_UPDATE_REQ);
	mb_tag(&m, IMP_TAG);
	mb_u32(&m, 777);
	if (flags) {
		size_t o = mb_opt_begin(&m, OPT_LOCPREF, false);
		mb_u32(&m, gen);
		mb_u8(&m, 1);
		for (size_t i = 0; i < n; i++)
			mb_u8(&m, flags[i]);
		mb_opt_end(&m, o);
	}
	return mb_finish(&m);
}

static size_t mk_update(uint8_t *buf, bool prefs, uint32_t gen, size_t n)
{
	uint8_t tmp[SHIM6_MAX_LOCATORS];
	memset(tmp, SHIM6_LOCF_TEMPORARY, sizeof tmp);
	return mk_prefs(buf, gen, prefs ? tmp : NULL, n);
}

/* An Update Request with a Locator List of the peer's locators 2.0.1 .. 2.(n-1).1. */
static size_t mk_update_list(uint8_t *buf, uint32_t gen, size_t n)
{
	struct mb m;
	mb_init(&m, buf, SHIM6_MAX_MSG, MT_UPDATE_REQ);
	mb_tag(&m, IMP_TAG);
	mb_u32(&m, 778);
	size_t o = mb_opt_begin(&m, OPT_LOCLIST, false);
	mb_u32(&m, gen);
	mb_u8(&m, (uint8_t)n);
	for (size_t i = 0; i < n; i++)
		mb_u8(&m, SHIM6_VERIF_HBA);
	size_t used = 9 + n;
	mb_zero(&m, ((used + 7) & ~(size_t)7) - used);
	for (size_t i = 0; i < n; i++) {
		struct shim6_in6 l = SOLO_LOC(2, (uint8_t)i, 1);
		mb_bytes(&m, l.b, 16);
	}
	mb_opt_end(&m, o);
	return mb_finish(&m);
}

static size_t mk_probe(uint8_t *buf)
{
	struct mb m;
	mb_init(&m, buf, SHIM6_MAX_MSG, MT_PROBE);
	mb_tag(&m, IMP_TAG);
	mb_u8(&m, 0);
	mb_u8(&m, (uint8_t)(SHIM6_REAP_OPERATIONAL << 6));
	mb_u16(&m, 0);
	return mb_finish(&m);
}

/* While recovering (I2BIS-SENT) a context takes no Update, Keepalive or
 * Probe: each is refused with ESTATE and nothing is sent back. */
static void test_unestablished_takes_no_update_or_reap(void **st)
{
	(void)st;
	struct solo s;
	solo_init(&s, NULL);
	import_one(&s, 5, 2, -1);
	uint8_t buf[SHIM6_MAX_MSG];
	struct mb m;
	mb_init(&m, buf, sizeof buf, MT_R1BIS);
	mb_tag(&m, IMP_PTAG);
	mb_u32(&m, 99);
	size_t o = mb_opt_begin(&m, OPT_VALIDATOR, false);
	for (int i = 0; i < 16; i++)
		mb_u8(&m, 0x5a);
	mb_opt_end(&m, o);
	size_t n = mb_finish(&m);
	assert_int_equal(send_to_ctx(&s, buf, n), 0);
	struct shim6_ctx_info ci;
	assert_int_equal(shim6_engine_ctx_info(s.e, IMP_TAG, &ci), 0);
	assert_int_equal(ci.state, SHIM6_ST_I2BIS_SENT);
	solo_drain(&s, 0, NULL);
	n = mk_update(buf, false, 0, 0);
	assert_int_equal(send_to_ctx(&s, buf, n), SHIM6_ENG_ESTATE);
	assert_int_equal(solo_drain(&s, 0, NULL), 0);
	assert_int_equal(keepalive_to(&s, IMP_TAG), SHIM6_ENG_ESTATE);
	n = mk_probe(buf);
	assert_int_equal(send_to_ctx(&s, buf, n), SHIM6_ENG_ESTATE);
	assert_int_equal(solo_drain(&s, 0, NULL), 0);
	solo_fini(&s);
	assert_int_equal(s.allocs, 0);
}

/* Locator Preferences name a list generation; before any generation of
 * the peer's list is known (an import without one) they are stale. */
static void test_prefs_before_any_generation(void **st)
{
	(void)st;
	struct solo s;
	solo_init(&s, NULL);
	import_one(&s, 0, 2, -1);
	uint8_t buf[SHIM6_MAX_MSG];
	size_t n = mk_update(buf, true, 0, 2);
	assert_int_equal(send_to_ctx(&s, buf, n), SHIM6_ENG_ESTALE);
	assert_int_equal(solo_drain(&s, MT_UPDATE_ACK, NULL), 0);
	struct shim6_ctx_info ci;
	assert_int_equal(shim6_engine_ctx_info(s.e, IMP_TAG, &ci), 0);
	for (size_t i = 0; i < ci.npeer; i++)
		assert_int_equal(ci.peer_locs[i].flags & SHIM6_LOCF_TEMPORARY, 0);
	solo_fini(&s);
	assert_int_equal(s.allocs, 0);
}

/* Explore for up to `secs`; count probes from local locator `lsrc` and to
 * peer locator `pdst` among all probes sent. */
static int explore_count(struct solo *s, int secs, const struct shim6_in6 *lsrc,
                         const struct shim6_in6 *pdst, int *nsrc, int *ndst)
{
	static struct shim6_tx tx;
	int total = 0;
	*nsrc = *ndst = 0;
	shim6_tstamp until = s->now + (shim6_tstamp)secs * S;
	do {
		while (shim6_engine_poll_tx(s->e, &tx)) {
			if ((tx.buf[2] & 0x7f) != MT_PROBE)
				continue;
			total++;
			*nsrc += lsrc && !memcmp(tx.src.b, lsrc->b, 16);
			*ndst += pdst && !memcmp(tx.dst.b, pdst->b, 16);
		}
	} while (solo_step(s, until));
	return total;
}

/* A local locator reported down is not probed from, nor a peer locator
 * reported down probed to, while exploring. */
static void test_explore_skips_down_locators(void **st)
{
	(void)st;
	struct solo s;
	solo_init(&s, NULL);
	import_one(&s, 5, 3, -1);
	struct shim6_in6 l0 = SOLO_LOC(1, 0, 1), p2 = SOLO_LOC(2, 2, 1);
	assert_int_equal(shim6_engine_locator_down(s.e, &p2, s.now), 0);
	assert_int_equal(shim6_engine_locator_down(s.e, &l0, s.now), 0);
	struct shim6_ctx_info ci;
	assert_int_equal(shim6_engine_ctx_info(s.e, IMP_TAG, &ci), 0);
	assert_int_equal(ci.reap, SHIM6_REAP_EXPLORING);
	int ns, nd;
	int total = explore_count(&s, 10, &l0, &p2, &ns, &nd);
	assert_true(total >= 4);
	assert_int_equal(ns, 0);
	assert_int_equal(nd, 0);
	solo_fini(&s);
	assert_int_equal(s.allocs, 0);
}

/* A new peer list keeps the down mark of a locator it lists again only if
 * that locator was verified before: one held unverified and reported down
 * starts afresh once the list proves it, and is probed. */
static void test_new_list_keeps_down_only_from_verified(void **st)
{
	(void)st;
	struct solo s;
	solo_init(&s, NULL);
	import_one(&s, 5, 2, 1);
	struct shim6_in6 l0 = SOLO_LOC(1, 0, 1), p1 = SOLO_LOC(2, 1, 1);
	assert_int_equal(shim6_engine_locator_down(s.e, &p1, s.now), 0);
	uint8_t buf[SHIM6_MAX_MSG];
	size_t n = mk_update_list(buf, 6, 2);
	assert_int_equal(send_to_ctx(&s, buf, n), 0);
	assert_int_equal(solo_drain(&s, MT_UPDATE_ACK, NULL), 1);
	assert_int_equal(shim6_engine_locator_down(s.e, &l0, s.now), 0);
	int ns, nd;
	explore_count(&s, 10, NULL, &p1, &ns, &nd);
	assert_true(nd >= 1);
	solo_fini(&s);
	assert_int_equal(s.allocs, 0);
}

/* Exploration gives up exactly at max_explore_time (4 probes at 0.5 s in
 * 2 s, none at the 2 s mark); a packet for the failed context draws an
 * R1bis as for one we do not hold. */
static void test_explore_giveup_bound_and_r1bis(void **st)
{
	(void)st;
	struct solo s;
	struct shim6_engine_settings set;
	solo_settings(&set);
	set.max_explore_time = 2 * S;
	solo_init(&s, &set);
	import_one(&s, 5, 2, -1);
	struct shim6_in6 l0 = SOLO_LOC(1, 0, 1);
	shim6_tstamp t0 = s.now;
	assert_int_equal(shim6_engine_locator_down(s.e, &l0, s.now), 0);
	static struct shim6_tx tx;
	int probes = 0;
	struct shim6_ctx_info ci;
	for (;;) {
		while (shim6_engine_poll_tx(s.e, &tx))
			probes += (tx.buf[2] & 0x7f) == MT_PROBE;
		assert_int_equal(shim6_engine_ctx_info(s.e, IMP_TAG, &ci), 0);
		if (ci.state == SHIM6_ST_E_FAILED)
			break;
		assert_true(solo_step(&s, t0 + 60 * S));
	}
	assert_int_equal(probes, 4);
	assert_true(s.now == t0 + 2 * S);
	assert_int_equal(keepalive_to(&s, IMP_TAG), SHIM6_ENG_ENOCTX);
	assert_int_equal(solo_drain(&s, MT_R1BIS, NULL), 1);
	solo_fini(&s);
	assert_int_equal(s.allocs, 0);
}

/* Import: a full list (SHIM6_MAX_LOCATORS) is accepted; the stored list
 * is capped at max_locators. */
static void test_import_list_bounds(void **st)
{
	(void)st;
	struct solo s;
	struct shim6_engine_settings set;
	solo_settings(&set);
	set.max_locators = SHIM6_MAX_LOCATORS;
	solo_init(&s, &set);
	import_one(&s, 5, SHIM6_MAX_LOCATORS, -1);
	struct shim6_ctx_info ci;
	assert_int_equal(shim6_engine_ctx_info(s.e, IMP_TAG, &ci), 0);
	assert_int_equal(ci.npeer, SHIM6_MAX_LOCATORS);
	solo_fini(&s);
	set.max_locators = 3;
	solo_init(&s, &set);
	import_one(&s, 5, 5, -1);
	assert_int_equal(shim6_engine_ctx_info(s.e, IMP_TAG, &ci), 0);
	assert_int_equal(ci.npeer, 3);
	solo_fini(&s);
	assert_int_equal(s.allocs, 0);
}

/* Import fills the table up to max_contexts and no further. */
static void test_import_up_to_max_contexts(void **st)
{
	(void)st;
	struct solo s;
	struct shim6_engine_settings set;
	shim6_engine_settings_default(&set);
	set.max_contexts = 2;
	set.max_pending = 1;
	solo_init(&s, &set);
	struct shim6_ctx_import im;
	memset(&im, 0, sizeof(im));
	im.local_ulid = SOLO_ULID(1, 1);
	im.peer_ulid = SOLO_ULID(2, 1);
	im.local_loc = SOLO_LOC(1, 0, 1);
	im.peer_loc = SOLO_LOC(2, 0, 1);
	for (uint32_t k = 0; k < 3; k++) {
		im.forkid = k;
		im.own_tag = 0x100 + k;
		im.peer_tag = 0x200 + k;
		assert_int_equal(shim6_engine_context_import(s.e, &im, s.now, NULL),
		                 k < 2 ? 0 : SHIM6_ENG_EFULL);
	}
	solo_fini(&s);
	assert_int_equal(s.allocs, 0);
}

/* Start exploring on the imported context (its local locator 1.0.1 goes
 * down) and return the first probe sent: pair and nonce. */
static void explore_first_probe(struct solo *s, struct shim6_in6 *l, struct shim6_in6 *p, uint32_t *nonce)
{
	import_one(s, 5, 2, -1);
	struct shim6_in6 l0 = SOLO_LOC(1, 0, 1);
	assert_int_equal(shim6_engine_locator_down(s->e, &l0, s->now), 0);
	static struct shim6_tx tx;
	assert_int_equal(solo_drain(s, MT_PROBE, &tx), 1);
	*l = tx.src;
	*p = tx.dst;
	*nonce = get_u32(tx.buf + 16 + 32);
}

/* A Probe from the peer on src -> dst in state pst; with own != 0 it carries
 * its own sent report (Data = own - 1), with rl/rp a receipt report of our
 * probe rl -> rp with `nonce`. */
static int peer_probe(struct solo *s, const struct shim6_in6 *src, const struct shim6_in6 *dst,
                      unsigned pst, int own, const struct shim6_in6 *rl, const struct shim6_in6 *rp,
                      uint32_t nonce)
{
	uint8_t buf[SHIM6_MAX_MSG];
	struct mb m;
	mb_init(&m, buf, sizeof buf, MT_PROBE);
	mb_tag(&m, IMP_TAG);
	mb_u8(&m, (uint8_t)((rl ? 1 : 0) << 4 | (own ? 1 : 0)));
	mb_u8(&m, (uint8_t)(pst << 6));
	mb_u16(&m, 0);
	if (own) {
		mb_bytes(&m, src->b, 16);
		mb_bytes(&m, dst->b, 16);
		mb_u32(&m, 4242);
		mb_u32(&m, (uint32_t)(own - 1));
	}
	if (rl) {
		mb_bytes(&m, rl->b, 16);
		mb_bytes(&m, rp->b, 16);
		mb_u32(&m, nonce);
		mb_u32(&m, 0);
	}
	size_t n = mb_finish(&m);
	return shim6_engine_recv(s->e, buf, n, src, dst, s->now);
}

/* The peer confirms our first exploring probe: the context is Operational
 * on that pair.  Returns the pair and the probe's nonce. */
static void explore_and_confirm(struct solo *s, struct shim6_in6 *l, struct shim6_in6 *p, uint32_t *nonce)
{
	explore_first_probe(s, l, p, nonce);
	struct shim6_in6 p0 = SOLO_LOC(2, 0, 1), l0 = SOLO_LOC(1, 0, 1);
	assert_int_equal(peer_probe(s, &p0, &l0, SHIM6_REAP_EXPLORING, 0, l, p, *nonce), 0);
	struct shim6_ctx_info ci;
	assert_int_equal(shim6_engine_ctx_info(s->e, IMP_TAG, &ci), 0);
	assert_int_equal(ci.reap, SHIM6_REAP_OPERATIONAL);
	assert_memory_equal(ci.local_loc.b, l->b, 16);
	assert_memory_equal(ci.peer_loc.b, p->b, 16);
	solo_drain(s, 0, NULL);
}

/* The peer's Locator Preferences (its imported generation 5) mark its
 * locator `p`, one of 2.0.1 and 2.1.1, BROKEN. */
static void peer_marks_broken(struct solo *s, const struct shim6_in6 *p)
{
	struct shim6_in6 p1 = SOLO_LOC(2, 1, 1);
	uint8_t buf[SHIM6_MAX_MSG], fl[2] = { 0, 0 };
	fl[memcmp(p->b, p1.b, 16) == 0] = SHIM6_LOCF_BROKEN;
	size_t n = mk_prefs(buf, 5, fl, 2);
	assert_int_equal(send_to_ctx(s, buf, n), 0);
}

/* The peer's receipt of a probe whose local (which 0) or peer (which 1)
 * locator was reported down, or whose peer locator the peer marked BROKEN
 * (which 2), after the probe went out does not make that pair the working
 * one.  With a peer locator left, the next probe avoids the lost one, and
 * its receipt is taken. */
static void test_confirm_after_down_not_taken(void **st)
{
	(void)st;
	for (int which = 0; which < 3; which++) {
		struct solo s;
		solo_init(&s, NULL);
		struct shim6_in6 l, p, l0 = SOLO_LOC(1, 0, 1), p0 = SOLO_LOC(2, 0, 1);
		uint32_t nonce;
		explore_first_probe(&s, &l, &p, &nonce);
		if (which < 2)
			assert_int_equal(shim6_engine_locator_down(s.e, which == 0 ? &l : &p, s.now), 0);
		else
			peer_marks_broken(&s, &p);
		assert_int_equal(peer_probe(&s, &p0, &l0, SHIM6_REAP_EXPLORING, 0, &l, &p, nonce), 0);
		struct shim6_ctx_info ci;
		assert_int_equal(shim6_engine_ctx_info(s.e, IMP_TAG, &ci), 0);
		assert_int_equal(ci.reap, SHIM6_REAP_INBOUND_OK);
		assert_false(!memcmp(ci.local_loc.b, l.b, 16) && !memcmp(ci.peer_loc.b, p.b, 16));
		solo_drain(&s, 0, NULL);
		if (which > 0) {
			static struct shim6_tx tx;
			bool sent = false;
			while (!sent && solo_step(&s, s.now + 10 * S)) {
				while (shim6_engine_poll_tx(s.e, &tx))
					sent |= (tx.buf[2] & 0x7f) == MT_PROBE;
			}
			assert_true(sent);
			assert_memory_equal(tx.src.b, l.b, 16);
			assert_memory_not_equal(tx.dst.b, p.b, 16);
			struct shim6_in6 l2 = tx.src, p2 = tx.dst;
			assert_int_equal(peer_probe(&s, &p0, &l0, SHIM6_REAP_EXPLORING, 0, &l2, &p2,
			                            get_u32(tx.buf + 16 + 32)), 0);
			assert_int_equal(shim6_engine_ctx_info(s.e, IMP_TAG, &ci), 0);
			assert_int_equal(ci.reap, SHIM6_REAP_OPERATIONAL);
			assert_memory_equal(ci.local_loc.b, l2.b, 16);
			assert_memory_equal(ci.peer_loc.b, p2.b, 16);
		}
		solo_fini(&s);
		assert_int_equal(s.allocs, 0);
	}
}

/* An Operational context leaves its pair at once when the peer marks its
 * peer locator BROKEN (which 0), or the site marks its local locator
 * BROKEN (which 1) or withdraws it (which 2). */
static void test_pair_check_on_broken_or_withdrawn(void **st)
{
	(void)st;
	for (int which = 0; which < 3; which++) {
		struct solo s;
		solo_init(&s, NULL);
		struct shim6_in6 l, p, u = SOLO_ULID(1, 1);
		uint32_t nonce;
		explore_and_confirm(&s, &l, &p, &nonce);
		if (which == 0) {
			peer_marks_broken(&s, &p);
		} else {
			/* the confirmed pair's local locator is 1.1.1, the other being down */
			assert_memory_equal(l.b, SOLO_LOC(1, 1, 1).b, 16);
			if (which == 1)
				s.loc_flags[1] = SHIM6_LOCF_BROKEN;
			else
				s.nlocs = 1;
			assert_int_equal(shim6_engine_local_changed(s.e, &u, s.now), 1);
		}
		struct shim6_ctx_info ci;
		assert_int_equal(shim6_engine_ctx_info(s.e, IMP_TAG, &ci), 0);
		assert_int_equal(ci.reap, SHIM6_REAP_EXPLORING);
		solo_fini(&s);
		assert_int_equal(s.allocs, 0);
	}
}

/* Once the peer has answered on the reverse of the announced pair (its
 * probe marked as sent on its current pair), the announcement is not
 * repeated. */
static void test_no_announce_once_synced(void **st)
{
	(void)st;
	struct solo s;
	solo_init(&s, NULL);
	struct shim6_in6 l, p;
	uint32_t nonce;
	explore_and_confirm(&s, &l, &p, &nonce);
	assert_int_equal(peer_probe(&s, &p, &l, SHIM6_REAP_OPERATIONAL, 2, NULL, NULL, 0), 0);
	solo_drain(&s, 0, NULL);
	int ns, nd;
	assert_int_equal(explore_count(&s, 30, NULL, NULL, &ns, &nd), 0);
	solo_fini(&s);
	assert_int_equal(s.allocs, 0);
}

/* The end with the smaller ULID moves to the reverse of the leader's pair
 * only once the leader reports a probe received on exactly that reverse;
 * a receipt for another pair leaves its pair alone. */
static void test_yielder_moves_only_on_proven_reverse(void **st)
{
	(void)st;
	struct solo s;
	solo_init(&s, NULL);
	struct shim6_in6 l, p;
	uint32_t nonce;
	explore_and_confirm(&s, &l, &p, &nonce);
	struct shim6_in6 l0 = SOLO_LOC(1, 0, 1), q = SOLO_LOC(2, 0, 1);
	if (!memcmp(p.b, q.b, 16))
		q = SOLO_LOC(2, 1, 1);
	assert_int_equal(peer_probe(&s, &q, &l0, SHIM6_REAP_OPERATIONAL, 1, &l, &p, nonce), 0);
	struct shim6_ctx_info ci;
	assert_int_equal(shim6_engine_ctx_info(s.e, IMP_TAG, &ci), 0);
	assert_memory_equal(ci.local_loc.b, l.b, 16);
	assert_memory_equal(ci.peer_loc.b, p.b, 16);
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
		cmocka_unit_test(test_unestablished_takes_no_update_or_reap),
		cmocka_unit_test(test_prefs_before_any_generation),
		cmocka_unit_test(test_explore_skips_down_locators),
		cmocka_unit_test(test_new_list_keeps_down_only_from_verified),
		cmocka_unit_test(test_explore_giveup_bound_and_r1bis),
		cmocka_unit_test(test_import_list_bounds),
		cmocka_unit_test(test_import_up_to_max_contexts),
		cmocka_unit_test(test_confirm_after_down_not_taken),
		cmocka_unit_test(test_pair_check_on_broken_or_withdrawn),
		cmocka_unit_test(test_no_announce_once_synced),
		cmocka_unit_test(test_yielder_moves_only_on_proven_reverse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
