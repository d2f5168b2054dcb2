/*
 * probe.h and the failure-aware NATv6 pick (natv6.h): the state machine on
 * a fake clock, the echo request checked by a checksum computed here, the
 * answers the lcores accept and refuse, and which pairs a failure moves.
 * No EAL: everything is plain memory.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "natv6.h"
#include "probe.h"

static const struct dp_probe_cfg CFG = { .interval_ms = 1000, .down_after = 3, .up_after = 2 };
static const char *OWN = "2001:db8:10:ffff::2", *TARGET = "2001:db8:10:ffff::1";
static const uint16_t ID = 0x5a17;

/* One step at `now`; returns the sequence number sent, or -1. */
static int step(struct dp_probe *p, uint32_t seen, uint64_t now)
{
	uint16_t seq;
	return dp_probe_step(p, seen, now, &CFG, &seq) ? seq : -1;
}

/* Probes at 0, 1000, ... : `answers[i]` says whether probe i is answered
 * half-way through its interval.  Returns the state after the last. */
static unsigned run(struct dp_probe *p, const bool *answers, unsigned n, uint64_t t0)
{
	for (unsigned i = 0; i < n; i++) {
		int seq = step(p, 0, t0 + i * 1000);
		assert_true(seq >= 0);
		if (answers[i])
			assert_int_equal(step(p, DP_PROBE_SEEN | (uint32_t)seq, t0 + i * 1000 + 500), -1);
	}
	return p->state;
}

static void an_isp_fails_after_down_after_probes_in_a_row_are_lost(void **st)
{
	struct dp_probe p = { 0 };
	(void)st;
	assert_int_equal(step(&p, 0, 0), 1);
	assert_int_equal(step(&p, 0, 999), -1);   /* not due yet */
	assert_int_equal(step(&p, 0, 1000), 2);   /* probe 1 lost */
	assert_int_equal(step(&p, 0, 2000), 3);   /* 2 lost */
	assert_int_equal(p.state, DP_PROBE_UP);
	assert_int_equal(step(&p, 0, 3000), 4);   /* 3 lost: down */
	assert_int_equal(p.state, DP_PROBE_DOWN);
	assert_int_equal(p.downs, 1);
	assert_int_equal(p.sent, 4);
	assert_int_equal(p.answered, 0);
	assert_int_equal(step(&p, 0, 4000), 5);   /* it goes on probing */
	assert_int_equal(p.state, DP_PROBE_DOWN);
	assert_int_equal(p.downs, 1);
}

static void an_answer_between_losses_starts_the_count_again(void **st)
{
	struct dp_probe p = { 0 };
	static const bool a[] = { false, false, true, false, false, true, false, false };
	(void)st;
	assert_int_equal(run(&p, a, 8, 0), DP_PROBE_UP);
	assert_int_equal(step(&p, 0, 8000), 9);   /* the 8th lost: two in a row, still up */
	assert_int_equal(p.state, DP_PROBE_UP);
	assert_int_equal(p.answered, 2);
	assert_int_equal(p.downs, 0);
}

static void a_failed_isp_is_back_after_up_after_answers_in_a_row(void **st)
{
	struct dp_probe p = { 0 };
	static const bool down[] = { false, false, false, false };
	(void)st;
	assert_int_equal(run(&p, down, 4, 0), DP_PROBE_DOWN);
	/* one answer, then a loss: the count starts again */
	int seq = step(&p, 0, 4000);
	assert_int_equal(step(&p, DP_PROBE_SEEN | (uint32_t)seq, 4100), -1);
	assert_int_equal(p.state, DP_PROBE_DOWN);
	seq = step(&p, DP_PROBE_SEEN | (uint32_t)seq, 5000);   /* probe 6 goes out, then is lost */
	seq = step(&p, 0, 6000);
	assert_int_equal(p.state, DP_PROBE_DOWN);
	assert_int_equal(step(&p, DP_PROBE_SEEN | (uint32_t)seq, 6100), -1);
	assert_int_equal(p.state, DP_PROBE_DOWN);
	seq = step(&p, DP_PROBE_SEEN | (uint32_t)seq, 7000);
	/* the second answer in a row brings it back as it arrives */
	assert_int_equal(step(&p, DP_PROBE_SEEN | (uint32_t)seq, 7050), -1);
	assert_int_equal(p.state, DP_PROBE_UP);
	assert_int_equal(p.downs, 1);
}

static void an_answer_after_the_next_probe_went_out_is_lost(void **st)
{
	struct dp_probe p = { 0 };
	(void)st;
	for (unsigned i = 0; i < 3; i++) {
		int seq = step(&p, 0, i * 1000);
		assert_true(seq >= 0);
		/* the answer to the probe before this one */
		assert_int_equal(step(&p, DP_PROBE_SEEN | (uint32_t)(seq - 1), i * 1000 + 10), -1);
	}
	assert_int_equal(step(&p, DP_PROBE_SEEN | 2u, 3000), 4);
	assert_int_equal(p.state, DP_PROBE_DOWN);
	assert_int_equal(p.answered, 0);
	/* an answer without DP_PROBE_SEEN is no answer */
	assert_int_equal(step(&p, 4, 3100), -1);
	assert_int_equal(p.answered, 0);
}

/* A probe that could not leave the box is neither answered nor lost: an
 * appliance short of buffers does not fail its ISPs. */
static void a_probe_that_never_left_is_not_lost(void **st)
{
	struct dp_probe p = { 0 };
	(void)st;
	for (unsigned i = 0; i < 10; i++) {
		assert_true(step(&p, 0, i * 1000) >= 0);
		dp_probe_unsent(&p);
	}
	assert_int_equal(p.state, DP_PROBE_UP);
	assert_int_equal(p.sent, 0);
	/* and one that did leave, then the next not: the first is judged lost once */
	assert_int_equal(step(&p, 0, 10000), 11);
	assert_int_equal(step(&p, 0, 11000), 12);
	dp_probe_unsent(&p);
	assert_int_equal(step(&p, 0, 12000), 13);
	assert_int_equal(step(&p, 0, 13000), 14);
	assert_int_equal(p.state, DP_PROBE_UP);   /* two lost in a row: 11 and 13 */
	assert_int_equal(p.sent, 3);
	dp_probe_unsent(&p);
	dp_probe_unsent(&p);   /* twice is once */
	assert_int_equal(p.sent, 2);
}

/* ---- the frames -------------------------------------------------------- */

/* The ICMPv6 checksum over the pseudo-header, computed here word by word. */
static uint16_t csum_here(const uint8_t *ip, uint32_t l4len)
{
	uint64_t sum = 0;
	for (int i = 8; i < 40; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	sum += l4len + 58;
	for (uint32_t i = 0; i < l4len; i += 2)
		sum += (uint32_t)(ip[40 + i] << 8 | (i + 1 < l4len ? ip[40 + i + 1] : 0));
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void addr(const char *s, uint8_t a[16])
{
	assert_int_equal(inet_pton(AF_INET6, s, a), 1);
}

static void the_probe_is_an_echo_request_from_own_to_the_target(void **st)
{
	uint8_t f[DP_PROBE_FRAME_LEN + 8], own[16], tgt[16], mac[6] = { 2, 0, 0, 0, 0, 9 };
	uint8_t nhmac[8] = { 2, 0, 0, 0, 0, 1, 0, 1 };
	uint64_t nh;
	(void)st;
	memcpy(&nh, nhmac, 8);
	addr(OWN, own);
	addr(TARGET, tgt);
	dp_probe_build(f, nh, mac, own, tgt, ID, 0x1234);
	assert_memory_equal(f, nhmac, 6);
	assert_memory_equal(f + 6, mac, 6);
	assert_int_equal(f[12] << 8 | f[13], 0x86dd);
	const uint8_t *ip = f + 14;
	assert_int_equal(ip[0] >> 4, 6);
	assert_int_equal(ip[4] << 8 | ip[5], 16);
	assert_int_equal(ip[6], 58);
	assert_memory_equal(ip + 8, own, 16);
	assert_memory_equal(ip + 24, tgt, 16);
	assert_int_equal(ip[40], 128);
	assert_int_equal(ip[41], 0);
	assert_int_equal(ip[44] << 8 | ip[45], ID);
	assert_int_equal(ip[46] << 8 | ip[47], 0x1234);
	/* a right checksum makes the sum over the message fold to zero */
	assert_int_equal(csum_here(ip, 16), 0);
}

/* The answer to probe `seq` from `from`: the request turned round, summed here. */
static uint32_t answer_from(uint8_t *f, const char *from, uint16_t seq)
{
	uint8_t own[16], tgt[16], *ip = f + 14;
	addr(OWN, own);
	addr(from, tgt);
	dp_probe_build(f, 0, (const uint8_t[6]){ 0 }, tgt, own, ID, seq);
	ip[40] = 129;
	ip[42] = ip[43] = 0;
	uint16_t c = csum_here(ip, 16);
	ip[42] = (uint8_t)(c >> 8);
	ip[43] = (uint8_t)c;
	return DP_PROBE_FRAME_LEN;
}

static uint32_t answer(uint8_t *f, uint16_t seq)
{
	return answer_from(f, TARGET, seq);
}

static bool match(const uint8_t *f, uint32_t len, uint16_t *seq)
{
	uint8_t own[16];
	struct dp_probe_targets t = { .n = 1 };
	addr(OWN, own);
	addr(TARGET, t.a[0]);
	return dp_probe_match(f, len, own, &t, ID, seq);
}

static void only_the_target_s_answer_to_our_probe_matches(void **st)
{
	uint8_t f[128];
	uint16_t seq = 0;
	uint32_t len = answer(f, 77);
	(void)st;
	assert_true(match(f, len, &seq));
	assert_int_equal(seq, 77);
	assert_true(match(f, len + 10, &seq));     /* Ethernet padding after the packet */

	/* each with its checksum made right again, but the last */
	static const struct { unsigned off; uint8_t x; const char *what; } bad[] = {
		{ 12, 0x01, "not IPv6" },      { 14, 0x10, "version 7" },    { 20, 0x01, "not ICMPv6" },
		{ 54, 0x01, "an echo request" }, { 55, 0x01, "code 1" },   { 58, 0x01, "another identifier" },
		{ 22 + 15, 0x01, "from another source" }, { 38 + 15, 0x01, "to another address" },
		{ 62, 0x01, "other data, with the same identifier (the kernel's ping)" },
		{ 69, 0x01, "other data in the last octet" },
		{ 62, 0x01, "a payload octet changed, the checksum not" },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t g[128], *ip = g + 14;
		memcpy(g, f, sizeof(g));
		g[bad[i].off] ^= bad[i].x;
		if (i + 1 < sizeof(bad) / sizeof(bad[0])) {
			ip[42] = ip[43] = 0;
			uint16_t c = csum_here(ip, 16);
			ip[42] = (uint8_t)(c >> 8);
			ip[43] = (uint8_t)c;
		}
		if (match(g, len, &seq))
			fail_msg("matched %s", bad[i].what);
	}
	for (uint32_t l = 0; l < len; l++)
		if (match(f, l, &seq))
			fail_msg("matched a frame cut to %u octets", l);
	/* a payload length beyond the frame, or shorter than an echo header */
	uint8_t g[128];
	memcpy(g, f, sizeof(g));
	g[19] = 17;
	assert_false(match(g, len, &seq));
	/* our data and 8 octets more, summed right: not what a request held */
	g[19] = 24;
	memset(g + 14 + 56, 0x5a, 8);
	g[14 + 42] = g[14 + 43] = 0;
	uint16_t c24 = csum_here(g + 14, 24);
	g[14 + 42] = (uint8_t)(c24 >> 8);
	g[14 + 43] = (uint8_t)c24;
	assert_false(match(g, len + 8, &seq));
	/* 4 octets summed right: the identifier and number would lie beyond it */
	g[19] = 4;
	g[14 + 42] = g[14 + 43] = 0;
	uint16_t c = csum_here(g + 14, 4);
	g[14 + 42] = (uint8_t)(c >> 8);
	g[14 + 43] = (uint8_t)c;
	assert_false(match(g, len, &seq));
}

/* Several targets: an answer from any of them matches, one from an address
 * past the count (a slot a reload emptied, say) does not. */
static void an_answer_from_any_target_matches(void **st)
{
	static const char *const tg[DP_PROBE_TARGETS] = { "2001:db8:99::1", "2001:db8:99::2", "2001:db8:98::7",
							   "2001:db8:97::1" };
	struct dp_probe_targets t = { .n = 3 };
	uint8_t own[16], f[128];
	uint16_t seq = 0;
	(void)st;
	addr(OWN, own);
	for (unsigned k = 0; k < DP_PROBE_TARGETS; k++)
		addr(tg[k], t.a[k]);
	for (unsigned k = 0; k < 3; k++) {
		uint32_t len = answer_from(f, tg[k], (uint16_t)(40 + k));
		assert_true(dp_probe_match(f, len, own, &t, ID, &seq));
		assert_int_equal(seq, 40 + k);
	}
	uint32_t len = answer_from(f, tg[3], 43);
	assert_false(dp_probe_match(f, len, own, &t, ID, &seq));
	t.n = DP_PROBE_TARGETS;
	assert_true(dp_probe_match(f, len, own, &t, ID, &seq));
	len = answer_from(f, "2001:db8:99::3", 44);
	assert_false(dp_probe_match(f, len, own, &t, ID, &seq));
	t.n = 0;
	len = answer_from(f, tg[0], 45);
	assert_false(dp_probe_match(f, len, own, &t, ID, &seq));
}

/* ---- the pick when ISPs fail -------------------------------------------- */

static void site3(struct dp_site *s, uint32_t w0, uint32_t w1, uint32_t w2)
{
	memset(s, 0, sizeof(*s));
	s->n_isp = 3;
	s->isp[0].weight = w0;
	s->isp[1].weight = w1;
	s->isp[2].weight = w2;
	s->weight_total = w0 + w1 + w2;
}

static uint64_t next_hash(uint64_t *x)
{
	*x += UINT64_C(0x9e3779b97f4a7c15);
	return dp_mix64(*x);
}

static void a_failure_moves_only_the_failed_isp_s_pairs_by_weight(void **st)
{
	struct dp_site s;
	uint64_t x = 1;
	unsigned moved[3] = { 0 }, n1 = 0;
	(void)st;
	site3(&s, 3, 2, 2);
	for (unsigned i = 0; i < 70000; i++) {
		uint64_t h = next_hash(&x);
		int pick = dp_isp_pick_hash(&s, h), live = dp_isp_pick_live(&s, h, 1u << 1);
		assert_int_equal(dp_isp_pick_live(&s, h, 0), pick);
		if (pick != 1) {
			assert_int_equal(live, pick);   /* a pair on a working ISP stays */
			continue;
		}
		n1++;
		assert_true(live == 0 || live == 2);
		moved[live]++;
	}
	/* 2/7 of the pairs were on ISP 1; they go 3:2 to ISPs 0 and 2 */
	assert_in_range(n1, 19000, 21000);
	assert_in_range(moved[0] * 1000 / n1, 570, 630);
	/* the same pair moves the same way every time */
	x = 1;
	for (unsigned i = 0; i < 1000; i++) {
		uint64_t h = next_hash(&x);
		assert_int_equal(dp_isp_pick_live(&s, h, 2), dp_isp_pick_live(&s, h, 2));
	}
}

static void with_no_weighted_isp_working_a_weight_0_one_takes_the_pairs(void **st)
{
	struct dp_site s;
	uint64_t x = 7;
	(void)st;
	site3(&s, 1, 1, 0);
	for (unsigned i = 0; i < 1000; i++) {
		uint64_t h = next_hash(&x);
		int pick = dp_isp_pick_hash(&s, h);
		assert_true(pick == 0 || pick == 1);
		assert_int_equal(dp_isp_pick_live(&s, h, 3), 2);
		/* every ISP failed: the pick stands */
		assert_int_equal(dp_isp_pick_live(&s, h, 7), pick);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(an_isp_fails_after_down_after_probes_in_a_row_are_lost),
		cmocka_unit_test(an_answer_between_losses_starts_the_count_again),
		cmocka_unit_test(a_failed_isp_is_back_after_up_after_answers_in_a_row),
		cmocka_unit_test(an_answer_after_the_next_probe_went_out_is_lost),
		cmocka_unit_test(a_probe_that_never_left_is_not_lost),
		cmocka_unit_test(the_probe_is_an_echo_request_from_own_to_the_target),
		cmocka_unit_test(only_the_target_s_answer_to_our_probe_matches),
		cmocka_unit_test(an_answer_from_any_target_matches),
		cmocka_unit_test(a_failure_moves_only_the_failed_isp_s_pairs_by_weight),
		cmocka_unit_test(with_no_weighted_isp_working_a_weight_0_one_takes_the_pairs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
