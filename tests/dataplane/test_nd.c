/*
 * Next-hop Neighbor Discovery: the reachability state machine on a fake
 * clock (nud.h), what advertisements and solicitations do to the MAC in use
 * (dp_nd_learn), and the solicitations the dataplane sends (dp_nd_build_ns),
 * checked field by field with an independent checksum.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "fabmbuf.h"
#include "nd.h"

static const uint8_t MAC_A[6] = { 0x02, 0xaa, 0, 0, 0, 0x01 }, MAC_B[6] = { 0x02, 0xbb, 0, 0, 0, 0x02 };
static const uint8_t OWN_MAC[6] = { 0x02, 0x00, 0, 0, 0, 0x10 };
static uint8_t NH[16], OWN[16], OTHER[16];

static void A(const char *s, uint8_t out[16]) { assert_int_equal(inet_pton(AF_INET6, s, out), 1); }

static void port_init(struct dp_port *p)
{
	memset(p, 0, sizeof(*p));
	A("2001:db8:10:ffff::1", NH);
	A("2001:db8:10:ffff::2", OWN);
	A("2001:db8:10:ffff::99", OTHER);
	memcpy(p->nh_addr, NH, 16);
	memcpy(p->own_addr, OWN, 16);
	memcpy(p->mac.addr_bytes, OWN_MAC, 6);
}

/* ---- nud.h on a fake clock -------------------------------------------- */

#define REACH 30000

static void test_nud_resolves_then_confirms(void **state)
{
	struct dp_nud n = { 0 };
	(void)state;
	/* no MAC: a multicast solicitation now and every second, never faster */
	assert_int_equal(dp_nud_step(&n, false, 0, REACH, 0), DP_NUD_SEND_MCAST);
	assert_int_equal(dp_nud_step(&n, false, 0, REACH, 500), DP_NUD_NOTHING);
	assert_int_equal(dp_nud_step(&n, false, 0, REACH, 999), DP_NUD_NOTHING);
	assert_int_equal(dp_nud_step(&n, false, 0, REACH, 1000), DP_NUD_SEND_MCAST);
	assert_int_equal(n.state, DP_NUD_INCOMPLETE);
	/* the solicited answer: reachable for REACH from when it arrived */
	assert_int_equal(dp_nud_step(&n, true, 1200, REACH, 1300), DP_NUD_NOTHING);
	assert_int_equal(n.state, DP_NUD_REACHABLE);
	assert_int_equal(dp_nud_step(&n, true, 1200, REACH, 1200 + REACH - 1), DP_NUD_NOTHING);
	assert_int_equal(n.state, DP_NUD_REACHABLE);
	/* a later confirmation pushes the deadline */
	assert_int_equal(dp_nud_step(&n, true, 20000, REACH, 20001), DP_NUD_NOTHING);
	assert_int_equal(dp_nud_step(&n, true, 20000, REACH, 1200 + REACH), DP_NUD_NOTHING);
	assert_int_equal(n.state, DP_NUD_REACHABLE);
	assert_int_equal(dp_nud_step(&n, true, 20000, REACH, 20000 + REACH), DP_NUD_SEND_UCAST);
	assert_int_equal(n.state, DP_NUD_PROBE);
	/* answered during the probe */
	assert_int_equal(dp_nud_step(&n, true, 50500, REACH, 50600), DP_NUD_NOTHING);
	assert_int_equal(n.state, DP_NUD_REACHABLE);
	assert_int_equal(n.unreachable, 0);
}

static void test_nud_unanswered_probes(void **state)
{
	struct dp_nud n = { 0 };
	uint64_t t = 0;
	unsigned ucast = 0, mcast = 0;
	(void)state;
	assert_int_equal(dp_nud_step(&n, false, 0, REACH, t), DP_NUD_SEND_MCAST);
	assert_int_equal(dp_nud_step(&n, true, 100, REACH, 100), DP_NUD_NOTHING);
	/* nobody answers from here on: walk the clock 100 ms at a time */
	for (t = 100; t <= 100 + REACH + 10000; t += 100) {
		enum dp_nud_do d = dp_nud_step(&n, true, 100, REACH, t);
		if (d == DP_NUD_SEND_UCAST) {
			ucast++;
			assert_int_equal(mcast, 0); /* the unicast probes come first */
		}
		if (d == DP_NUD_SEND_MCAST)
			mcast++;
		if (t < 100 + REACH)
			assert_int_equal(d, DP_NUD_NOTHING);
	}
	assert_int_equal(ucast, DP_NUD_UCAST_PROBES);
	assert_int_equal(n.state, DP_NUD_UNREACHABLE);
	assert_int_equal(n.unreachable, 1);
	/* REACH + 3 probes 1 s apart, then one multicast a second: 10 s -> 7 or 8 */
	assert_in_range(mcast, 7, 8);
	/* a new router answers the multicast: reachable again, no second count */
	assert_int_equal(dp_nud_step(&n, true, t, REACH, t + 1), DP_NUD_NOTHING);
	assert_int_equal(n.state, DP_NUD_REACHABLE);
	assert_int_equal(n.unreachable, 1);
}

static void test_nud_unconfirmed_mac_is_probed(void **state)
{
	struct dp_nud n = { 0 };
	(void)state;
	assert_int_equal(dp_nud_step(&n, false, 0, REACH, 0), DP_NUD_SEND_MCAST);
	/* a MAC from an unsolicited advertisement: probe it at once */
	assert_int_equal(dp_nud_step(&n, true, 0, REACH, 10), DP_NUD_SEND_UCAST);
	assert_int_equal(n.state, DP_NUD_PROBE);
	assert_int_equal(dp_nud_step(&n, true, 0, REACH, 20), DP_NUD_NOTHING);
	assert_int_equal(dp_nud_step(&n, true, 0, REACH, 1010), DP_NUD_SEND_UCAST);
}

/* ---- dp_nd_learn on fabricated messages -------------------------------- */

/* IPv6 header + NA (target, flags, optional TLLA) built apart from nd.h */
static uint32_t make_na(uint8_t *ip, const uint8_t *src, const uint8_t *target, uint8_t flags, const uint8_t *tlla)
{
	uint32_t len = 24 + (tlla ? 8 : 0);
	memset(ip, 0, 40 + len);
	ip[0] = 0x60; ip[4] = 0; ip[5] = (uint8_t)len; ip[6] = 58; ip[7] = 255;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, OWN, 16);
	ip[40] = 136;
	ip[44] = flags;
	memcpy(ip + 48, target, 16);
	if (tlla) {
		ip[64] = 2; ip[65] = 1;
		memcpy(ip + 66, tlla, 6);
	}
	return len;
}

static uint32_t make_ns(uint8_t *ip, const uint8_t *src, const uint8_t *target, const uint8_t *slla)
{
	uint32_t len = 24 + (slla ? 8 : 0);
	memset(ip, 0, 40 + len);
	ip[0] = 0x60; ip[5] = (uint8_t)len; ip[6] = 58; ip[7] = 255;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, target, 16);
	ip[40] = 135;
	memcpy(ip + 48, target, 16);
	if (slla) {
		ip[64] = 1; ip[65] = 1;
		memcpy(ip + 66, slla, 6);
	}
	return len;
}

static bool mac_is(const struct dp_port *p, const uint8_t *mac)
{
	uint64_t w = dp_nh_load(p);
	return dp_nh_ok(w) && memcmp(&w, mac, 6) == 0;
}

#define NA_S 0x40
#define NA_O 0x20

static void test_learn_and_follow(void **state)
{
	struct dp_port p;
	uint8_t ip[128];
	uint32_t len;
	(void)state;
	port_init(&p);
	assert_false(dp_nh_ok(dp_nh_load(&p)));

	/* answer to our multicast NS: learned and confirmed, not a "change" */
	len = make_na(ip, NH, NH, NA_S | NA_O, MAC_A);
	assert_int_equal(dp_nd_learn(&p, ip, ip + 40, len, 1000), DP_ND_LEARN_CONFIRMED);
	assert_true(mac_is(&p, MAC_A));
	assert_int_equal(p.nh_confirm_tsc, 1000);

	/* solicited answer without a link-layer option: confirms what is in use */
	len = make_na(ip, NH, NH, NA_S, NULL);
	assert_int_equal(dp_nd_learn(&p, ip, ip + 40, len, 2000), DP_ND_LEARN_CONFIRMED);
	assert_int_equal(p.nh_confirm_tsc, 2000);

	/* a different MAC without Override: kept, and it confirms nothing */
	len = make_na(ip, NH, NH, NA_S, MAC_B);
	assert_int_equal(dp_nd_learn(&p, ip, ip + 40, len, 3000), DP_ND_LEARN_NONE);
	assert_true(mac_is(&p, MAC_A));
	assert_int_equal(p.nh_confirm_tsc, 2000);

	/* an unsolicited Override (a router announcing its new MAC): followed */
	len = make_na(ip, NH, NH, NA_O, MAC_B);
	assert_int_equal(dp_nd_learn(&p, ip, ip + 40, len, 4000), DP_ND_LEARN_CHANGED);
	assert_true(mac_is(&p, MAC_B));
	assert_int_equal(p.nh_confirm_tsc, 2000);

	/* advertisements about some other address change nothing */
	len = make_na(ip, OTHER, OTHER, NA_S | NA_O, MAC_A);
	assert_int_equal(dp_nd_learn(&p, ip, ip + 40, len, 5000), DP_ND_LEARN_NONE);
	assert_true(mac_is(&p, MAC_B));

	/* the next hop's own solicitation carries its current MAC */
	len = make_ns(ip, NH, OWN, MAC_A);
	assert_int_equal(dp_nd_learn(&p, ip, ip + 40, len, 6000), DP_ND_LEARN_CHANGED);
	assert_true(mac_is(&p, MAC_A));

	/* a solicitation from anyone else does not */
	len = make_ns(ip, OTHER, OWN, MAC_B);
	assert_int_equal(dp_nd_learn(&p, ip, ip + 40, len, 7000), DP_ND_LEARN_NONE);
	assert_true(mac_is(&p, MAC_A));
}

static void test_static_mac_never_changes(void **state)
{
	struct dp_port p;
	uint8_t ip[128];
	uint32_t len;
	(void)state;
	port_init(&p);
	dp_nh_store(&p, dp_nh_word(MAC_A));
	p.nh_static = true;
	len = make_na(ip, NH, NH, NA_S | NA_O, MAC_B);
	assert_int_equal(dp_nd_learn(&p, ip, ip + 40, len, 1000), DP_ND_LEARN_NONE);
	len = make_ns(ip, NH, OWN, MAC_B);
	assert_int_equal(dp_nd_learn(&p, ip, ip + 40, len, 1000), DP_ND_LEARN_NONE);
	assert_true(mac_is(&p, MAC_A));
}

static void test_learn_rejects_bad_options(void **state)
{
	struct dp_port p;
	uint8_t ip[128];
	uint32_t len;
	(void)state;
	port_init(&p);
	len = make_na(ip, NH, NH, NA_S | NA_O, MAC_A);
	ip[65] = 0;   /* option length 0: the parse stops, nothing learned */
	assert_int_equal(dp_nd_learn(&p, ip, ip + 40, len, 1000), DP_ND_LEARN_NONE);
	assert_false(dp_nh_ok(dp_nh_load(&p)));
	ip[65] = 2;   /* runs past the message */
	assert_int_equal(dp_nd_learn(&p, ip, ip + 40, len, 1000), DP_ND_LEARN_NONE);
	assert_int_equal(dp_nd_learn(&p, ip, ip + 40, 20, 1000), DP_ND_LEARN_NONE); /* truncated */
	assert_false(dp_nh_ok(dp_nh_load(&p)));
}

/* ---- solicitations ------------------------------------------------------ */

static void check_ns(const uint8_t *f, size_t flen, const uint8_t *eth_dst, const uint8_t *ip_dst)
{
	const uint8_t *ip = f + 14, *icmp = ip + 40;
	assert_int_equal(flen, 14 + 40 + 32);
	assert_memory_equal(f, eth_dst, 6);
	assert_memory_equal(f + 6, OWN_MAC, 6);
	assert_int_equal(f[12], 0x86);
	assert_int_equal(f[13], 0xdd);
	assert_int_equal(ip[0] >> 4, 6);
	assert_int_equal(ip[5], 32);
	assert_int_equal(ip[6], 58);
	assert_int_equal(ip[7], 255);
	assert_memory_equal(ip + 8, OWN, 16);
	assert_memory_equal(ip + 24, ip_dst, 16);
	assert_int_equal(icmp[0], 135);
	assert_memory_equal(icmp + 8, NH, 16);
	assert_int_equal(icmp[24], 1);   /* our own link-layer address */
	assert_int_equal(icmp[25], 1);
	assert_memory_equal(icmp + 26, OWN_MAC, 6);
	assert_int_equal(ref_verify6(ip + 8, ip + 24, 58, icmp, 32), 0xffff);
}

static void test_build_ns(void **state)
{
	struct dp_port p;
	struct fab fb;
	struct rte_mbuf *m;
	uint8_t snm[16] = { 0xff, 0x02, [11] = 1, [12] = 0xff };
	uint8_t snm_mac[6] = { 0x33, 0x33, 0xff };
	(void)state;
	port_init(&p);
	memcpy(snm + 13, NH + 13, 3);
	memcpy(snm_mac + 3, NH + 13, 3);

	m = fab_mbuf(&fb, OWN_MAC, 0);
	assert_int_equal(dp_nd_build_ns(m, &p, false), 0);
	check_ns(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_data_len(m), snm_mac, snm);

	dp_nh_store(&p, dp_nh_word(MAC_B));
	m = fab_mbuf(&fb, OWN_MAC, 0);
	assert_int_equal(dp_nd_build_ns(m, &p, true), 0);
	check_ns(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_data_len(m), MAC_B, NH);
}

/* Option and length guards of dp_nd_learn: a TLLA option of 16 octets is not
 * a link-layer address; a message shorter than the 24-octet NA body confirms
 * nothing; with no MAC known, an NA without Override still teaches one. */
static void test_learn_length_and_override_guards(void **state)
{
	struct dp_port p;
	uint8_t ip[128];
	uint32_t len;
	(void)state;
	port_init(&p);
	len = make_na(ip, NH, NH, NA_S | NA_O, MAC_A);
	ip[65] = 2;
	len += 8;
	assert_int_equal(dp_nd_learn(&p, ip, ip + 40, len, 1000), DP_ND_LEARN_NONE);
	assert_false(dp_nh_ok(dp_nh_load(&p)));

	len = make_na(ip, NH, NH, NA_S, MAC_A);   /* Solicited, no Override, none known */
	dp_nd_learn(&p, ip, ip + 40, len, 1000);
	assert_true(mac_is(&p, MAC_A));

	len = make_na(ip, NH, NH, NA_S | NA_O, NULL);
	assert_int_equal(dp_nd_learn(&p, ip, ip + 40, len, 2000), DP_ND_LEARN_CONFIRMED);
	assert_int_equal(dp_nd_learn(&p, ip, ip + 40, 23, 3000), DP_ND_LEARN_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nud_resolves_then_confirms),
		cmocka_unit_test(test_nud_unanswered_probes),
		cmocka_unit_test(test_nud_unconfirmed_mac_is_probed),
		cmocka_unit_test(test_learn_and_follow),
		cmocka_unit_test(test_static_mac_never_changes),
		cmocka_unit_test(test_learn_rejects_bad_options),
		cmocka_unit_test(test_learn_length_and_override_guards),
		cmocka_unit_test(test_build_ns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
