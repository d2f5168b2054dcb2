/*
 * natpin.h: the flow key a NATv6 packet in and its reply out share, and the
 * table of return paths (note, look up, clear, refresh, replace the oldest),
 * on frames built apart from the code under test.  No EAL: the table is
 * plain memory.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "natpin.h"

static const char *HOST = "fd00:1:1:1:1::7", *PEER = "2001:db8:77::9";

/* An IPv6 packet from src to dst: protocol `nh`, then `l4` (n octets). */
static uint32_t pkt(uint8_t *ip, const char *src, const char *dst, uint8_t nh, const uint8_t *l4, size_t n)
{
	memset(ip, 0, 40);
	ip[0] = 0x60;
	ip[4] = (uint8_t)(n >> 8);
	ip[5] = (uint8_t)n;
	ip[6] = nh;
	ip[7] = 64;
	assert_int_equal(inet_pton(AF_INET6, src, ip + 8), 1);
	assert_int_equal(inet_pton(AF_INET6, dst, ip + 24), 1);
	memcpy(ip + 40, l4, n);
	return (uint32_t)(40 + n);
}

static struct dp_walk walk(uint8_t nh)
{
	return (struct dp_walk){ .off = 40, .nh_off = 6, .nh = nh };
}

static void ports(uint8_t l4[8], uint16_t s, uint16_t d)
{
	memset(l4, 0, 8);
	l4[0] = (uint8_t)(s >> 8);
	l4[1] = (uint8_t)s;
	l4[2] = (uint8_t)(d >> 8);
	l4[3] = (uint8_t)d;
}

static uint8_t host[16];

/* The key of a packet in from PEER (to the host, whose CMULA is HOST) with
 * ports (peer's, host's), protocol nh. */
static uint64_t key_in(uint8_t nh, uint16_t peer_port, uint16_t host_port)
{
	uint8_t ip[64], l4[8];
	ports(l4, peer_port, host_port);
	uint32_t len = pkt(ip, PEER, "2001:db8:20:1:1::7", nh, l4, 8);
	struct dp_walk w = walk(nh);
	uint64_t k = 0;
	assert_true(dp_natpin_key(ip, len, &w, false, dp_pair_hash(host, ip + 8), &k));
	return k;
}

/* ... and of its reply out, from the host's CMULA */
static uint64_t key_out(uint8_t nh, uint16_t host_port, uint16_t peer_port)
{
	uint8_t ip[64], l4[8];
	ports(l4, host_port, peer_port);
	uint32_t len = pkt(ip, HOST, PEER, nh, l4, 8);
	struct dp_walk w = walk(nh);
	uint64_t k = 0;
	assert_true(dp_natpin_key(ip, len, &w, true, dp_pair_hash(ip + 8, ip + 24), &k));
	return k;
}

static void a_packet_in_and_its_reply_out_share_a_key_and_other_flows_do_not(void **st)
{
	(void)st;
	assert_int_equal(inet_pton(AF_INET6, HOST, host), 1);
	static const uint8_t protos[] = { 6, 17, 33, 132, 136 };
	for (unsigned i = 0; i < sizeof protos; i++) {
		assert_true(key_in(protos[i], 40000, 80) == key_out(protos[i], 80, 40000));
		assert_true(key_in(protos[i], 40000, 80) != key_out(protos[i], 40000, 80));
		assert_true(key_in(protos[i], 40000, 80) != key_in(protos[i], 40001, 80));
		assert_true(key_in(protos[i], 40000, 80) != key_in(protos[i], 40000, 81));
	}
	assert_true(key_in(6, 40000, 80) != key_in(17, 40000, 80));
	/* another host or peer */
	uint8_t ip[64], l4[8];
	uint64_t k;
	ports(l4, 80, 40000);
	uint32_t len = pkt(ip, "fd00:1:1:1:1::8", PEER, 6, l4, 8);
	struct dp_walk w = walk(6);
	assert_true(dp_natpin_key(ip, len, &w, true, dp_pair_hash(ip + 8, ip + 24), &k));
	assert_true(k != key_out(6, 80, 40000));
	len = pkt(ip, HOST, "2001:db8:77::a", 6, l4, 8);
	assert_true(dp_natpin_key(ip, len, &w, true, dp_pair_hash(ip + 8, ip + 24), &k));
	assert_true(k != key_out(6, 80, 40000));
}

/* A peer's echo request in and the host's echo reply out share the identifier. */
static void an_echo_request_in_and_its_reply_out_share_a_key(void **st)
{
	(void)st;
	assert_int_equal(inet_pton(AF_INET6, HOST, host), 1);
	uint8_t ip[64], l4[8] = { 128, 0, 0, 0, 0x12, 0x34, 0, 1 };
	uint64_t kin, kout, kother;
	struct dp_walk w = walk(58);
	uint32_t len = pkt(ip, PEER, "2001:db8:20:1:1::7", 58, l4, 8);
	assert_true(dp_natpin_key(ip, len, &w, false, dp_pair_hash(host, ip + 8), &kin));
	l4[0] = 129;
	len = pkt(ip, HOST, PEER, 58, l4, 8);
	assert_true(dp_natpin_key(ip, len, &w, true, dp_pair_hash(ip + 8, ip + 24), &kout));
	assert_true(kin == kout);
	ip[40 + 5] = 0x35;
	assert_true(dp_natpin_key(ip, len, &w, true, dp_pair_hash(ip + 8, ip + 24), &kother));
	assert_true(kother != kout);
	/* other ICMPv6 messages (errors, ND) are no flow */
	ip[40] = 1;
	assert_false(dp_natpin_key(ip, len, &w, true, dp_pair_hash(ip + 8, ip + 24), &kother));
	ip[40] = 135;
	assert_false(dp_natpin_key(ip, len, &w, true, dp_pair_hash(ip + 8, ip + 24), &kother));
}

/* Fragments and ports cut short are no flow; another protocol is one
 * without ports. */
static void fragments_and_short_ports_have_no_key(void **st)
{
	(void)st;
	uint8_t ip[64], l4[8];
	uint64_t k;
	ports(l4, 80, 40000);
	uint32_t len = pkt(ip, HOST, PEER, 6, l4, 8);
	struct dp_walk w = walk(6);
	w.frag = 1;
	assert_false(dp_natpin_key(ip, len, &w, true, dp_pair_hash(ip + 8, ip + 24), &k));
	w.frag = 2;
	assert_false(dp_natpin_key(ip, len, &w, true, dp_pair_hash(ip + 8, ip + 24), &k));
	w = walk(6);
	assert_false(dp_natpin_key(ip, 43, &w, true, dp_pair_hash(ip + 8, ip + 24), &k));
	assert_true(dp_natpin_key(ip, 44, &w, true, dp_pair_hash(ip + 8, ip + 24), &k));
	w = walk(58);
	ip[40] = 129;
	assert_false(dp_natpin_key(ip, 45, &w, true, dp_pair_hash(ip + 8, ip + 24), &k));
	w = walk(47);   /* GRE: the pair and the protocol */
	uint64_t k2;
	assert_true(dp_natpin_key(ip, 40, &w, true, dp_pair_hash(ip + 8, ip + 24), &k));
	ports(l4, 1, 2);
	pkt(ip, HOST, PEER, 47, l4, 8);
	assert_true(dp_natpin_key(ip, 48, &w, true, dp_pair_hash(ip + 8, ip + 24), &k2));
	assert_true(k == k2);
}

static struct dp_natpin tab(uint32_t flows)
{
	struct dp_natpin p = { .mask = dp_natpin_buckets(flows) - 1 };
	p.w = aligned_alloc(64, dp_natpin_words(p.mask) * 8);
	p.used = calloc(dp_natpin_used_words(p.mask), 8);
	assert_non_null(p.w);
	assert_non_null(p.used);
	memset(p.w, 0, dp_natpin_words(p.mask) * 8);
	return p;
}

static void sized_in_buckets_of_8_a_power_of_two_at_least_as_many(void **st)
{
	(void)st;
	assert_int_equal(dp_natpin_buckets(64), 8);
	assert_int_equal(dp_natpin_buckets(65), 8);
	assert_int_equal(dp_natpin_buckets(100), 16);
	assert_int_equal(dp_natpin_buckets(65536), 8192);
	assert_int_equal(dp_natpin_buckets(16777216), 2097152);
	assert_int_equal(dp_natpin_buckets(1), 1);
}

/* A flow in through a PA address the pick would not give is noted; in
 * through the pick's, its note goes; a look-up finds what was noted last. */
static void noted_looked_up_moved_and_cleared(void **st)
{
	(void)st;
	struct dp_natpin p = tab(64);
	uint64_t k = 0x123456789abcdef0;
	assert_int_equal(dp_natpin_get(&p, k, 2, 10, DP_NATPIN_IDLE_TCP_S), -1);
	assert_int_equal(dp_natpin_note(&p, k, 0, true, 10), DP_NATPIN_KEPT);   /* the pick: nothing */
	assert_int_equal(dp_natpin_get(&p, k, 2, 10, DP_NATPIN_IDLE_TCP_S), -1);
	assert_int_equal(dp_natpin_note(&p, k, 1, false, 10), DP_NATPIN_NOTED);
	assert_int_equal(dp_natpin_get(&p, k, 2, 10, DP_NATPIN_IDLE_TCP_S), 1);
	assert_int_equal(dp_natpin_get(&p, k ^ (UINT64_C(1) << 40), 2, 10, DP_NATPIN_IDLE_TCP_S), -1);   /* same bucket, other check */
	assert_int_equal(dp_natpin_note(&p, k, 1, false, 10), DP_NATPIN_KEPT);
	assert_int_equal(dp_natpin_note(&p, k, 2, false, 10), DP_NATPIN_KEPT);   /* now through a third ISP */
	assert_int_equal(dp_natpin_get(&p, k, 3, 10, DP_NATPIN_IDLE_TCP_S), 2);
	assert_int_equal(dp_natpin_get(&p, k, 2, 10, DP_NATPIN_IDLE_TCP_S), -1);   /* an ISP the site no longer has */
	assert_int_equal(dp_natpin_note(&p, k, 0, true, 11), DP_NATPIN_CLEARED);
	assert_int_equal(dp_natpin_get(&p, k, 3, 10, DP_NATPIN_IDLE_TCP_S), -1);
	for (size_t i = 0; i < dp_natpin_words(p.mask); i++)
		assert_true(p.w[i] == 0);
	free(p.w);
	free(p.used);
	/* no table: nothing noted, nothing found */
	struct dp_natpin none = { 0 };
	assert_int_equal(dp_natpin_note(&none, k, 1, false, 10), DP_NATPIN_KEPT);
	assert_int_equal(dp_natpin_get(&none, k, 2, 10, DP_NATPIN_IDLE_TCP_S), -1);
}

/* A note's age restarts with its flow's packets in, a second at a time. */
static void a_note_is_refreshed_once_a_second(void **st)
{
	(void)st;
	struct dp_natpin p = tab(64);
	uint64_t k = 0x0fedcba987654321;
	uint64_t *b = dp_natpin_bucket(&p, k);
	assert_int_equal(dp_natpin_note(&p, k, 1, false, 100), DP_NATPIN_NOTED);
	uint64_t first = b[0];
	assert_int_equal((first >> 8) & 0xffffff, 100);
	assert_int_equal(first & 0xff, 2);
	assert_int_equal(dp_natpin_note(&p, k, 1, false, 100), DP_NATPIN_KEPT);
	assert_true(b[0] == first);
	assert_int_equal(dp_natpin_note(&p, k, 1, false, 101), DP_NATPIN_KEPT);
	assert_int_equal((b[0] >> 8) & 0xffffff, 101);
	/* the clock wraps at 2^24 s: an age is taken modulo that */
	dp_natpin_note(&p, k, 1, false, 0x1000000 + 101);
	assert_int_equal((b[0] >> 8) & 0xffffff, 101);
	free(p.w);
	free(p.used);
}

/* A full bucket replaces the note seen longest ago. */
static void a_full_bucket_replaces_its_oldest_note(void **st)
{
	(void)st;
	struct dp_natpin p = tab(64);   /* 8 buckets */
	uint64_t k[DP_NATPIN_WAYS + 1];
	for (unsigned i = 0; i <= DP_NATPIN_WAYS; i++)
		k[i] = (uint64_t)(0x1000 + i) << 32 | 5;   /* all in bucket 5 */
	for (unsigned i = 0; i < DP_NATPIN_WAYS; i++)
		assert_int_equal(dp_natpin_note(&p, k[i], 1, false, 1000 + (i == 3 ? 0 : 10)), DP_NATPIN_NOTED);
	/* k[3] is the oldest; refreshing another keeps it so */
	dp_natpin_note(&p, k[0], 1, false, 1020);
	assert_int_equal(dp_natpin_note(&p, k[DP_NATPIN_WAYS], 1, false, 1030), DP_NATPIN_EVICTED);
	assert_int_equal(dp_natpin_get(&p, k[3], 2, 1030, DP_NATPIN_IDLE_TCP_S), -1);
	for (unsigned i = 0; i <= DP_NATPIN_WAYS; i++)
		if (i != 3)
			assert_int_equal(dp_natpin_get(&p, k[i], 2, 1030, DP_NATPIN_IDLE_TCP_S), 1);
	/* no other bucket touched */
	for (unsigned b = 0; b <= p.mask; b++)
		for (unsigned w = 0; b != 5 && w < DP_NATPIN_WAYS; w++)
			assert_true(p.w[b * DP_NATPIN_WAYS + w] == 0);
	free(p.w);
	free(p.used);
}

/* A bucket's bit is set while it holds a note, so flows without one (nearly
 * all) are answered without reading the bucket; a note left unflagged by a
 * race is flagged again by its flow's next packet in. */
static void a_bucket_is_flagged_while_it_holds_a_note(void **st)
{
	(void)st;
	struct dp_natpin p = tab(64);
	uint64_t a = (uint64_t)0x1111 << 32 | 3, b = (uint64_t)0x2222 << 32 | 3, c = (uint64_t)0x3333 << 32 | 4;
	assert_false(dp_natpin_flagged(&p, a));
	dp_natpin_note(&p, a, 1, false, 5);
	dp_natpin_note(&p, b, 1, false, 5);
	assert_true(dp_natpin_flagged(&p, a));
	assert_false(dp_natpin_flagged(&p, c));
	assert_true(p.used[0] == UINT64_C(1) << 3);
	assert_int_equal(dp_natpin_note(&p, a, 0, true, 6), DP_NATPIN_CLEARED);
	assert_true(dp_natpin_flagged(&p, b));   /* b is still there */
	assert_int_equal(dp_natpin_note(&p, b, 0, true, 6), DP_NATPIN_CLEARED);
	assert_false(dp_natpin_flagged(&p, b));
	assert_true(p.used[0] == 0);
	/* unflagged, a note is not found, and a packet through the pick does
	 * not read the bucket (a word planted there survives it) */
	dp_natpin_note(&p, a, 1, false, 7);
	dp_natpin_flag(&p, a, false);
	assert_int_equal(dp_natpin_get(&p, a, 2, 7, DP_NATPIN_IDLE_TCP_S), -1);
	assert_int_equal(dp_natpin_note(&p, a, 0, true, 7), DP_NATPIN_KEPT);
	assert_int_equal(dp_natpin_note(&p, a, 1, false, 7), DP_NATPIN_KEPT);
	assert_true(dp_natpin_flagged(&p, a));
	assert_int_equal(dp_natpin_get(&p, a, 2, 7, DP_NATPIN_IDLE_TCP_S), 1);
	/* flagged but empty (a race the other way): cleared by the next look */
	assert_int_equal(dp_natpin_note(&p, a, 0, true, 8), DP_NATPIN_CLEARED);
	dp_natpin_flag(&p, c, true);
	assert_int_equal(dp_natpin_note(&p, c, 0, true, 8), DP_NATPIN_KEPT);
	assert_false(dp_natpin_flagged(&p, c));
	free(p.w);
	free(p.used);
}

/* A note found idle past its protocol's time goes, and the flow takes the
 * pick again; a note found in time restarts its age, so a flow whose
 * packets only go out keeps it while it lasts. */
static void a_note_expires_when_its_flow_is_idle(void **st)
{
	(void)st;
	struct dp_natpin p = tab(64);
	uint64_t k = 0x5555666677778888;
	uint64_t *b = dp_natpin_bucket(&p, k);

	assert_int_equal(dp_natpin_idle_s(DP_PROTO_TCP), 7440);
	assert_int_equal(dp_natpin_idle_s(132), 7440);
	assert_int_equal(dp_natpin_idle_s(DP_PROTO_UDP), 300);
	assert_int_equal(dp_natpin_idle_s(DP_PROTO_ICMP6), 60);
	assert_int_equal(dp_natpin_note(&p, k, 1, false, 1000), DP_NATPIN_NOTED);
	/* found at the bound: kept, and its age restarts */
	assert_int_equal(dp_natpin_get(&p, k, 2, 1300, 300), 1);
	assert_int_equal((b[0] >> 8) & 0xffffff, 1300);
	assert_int_equal(dp_natpin_get(&p, k, 2, 1300, 300), 1);
	assert_int_equal(dp_natpin_get(&p, k, 2, 1600, 300), 1);
	/* past it: removed, then not found; the bucket held nothing else, so
	 * its flag goes too */
	assert_int_equal(dp_natpin_get(&p, k, 2, 1901, 300), DP_NATPIN_EXPIRED);
	assert_true(b[0] == 0);
	assert_false(dp_natpin_flagged(&p, k));
	assert_int_equal(dp_natpin_get(&p, k, 2, 1901, 300), -1);
	/* the flow's next packet in notes it again */
	assert_int_equal(dp_natpin_note(&p, k, 1, false, 1902), DP_NATPIN_NOTED);
	assert_int_equal(dp_natpin_get(&p, k, 2, 1902, 60), 1);
	/* across the clock's wrap at 2^24 s; another note in the bucket keeps its flag */
	uint64_t other = (k & ~UINT64_C(0xffffffff00000000)) | UINT64_C(0x4242) << 32;
	assert_int_equal(dp_natpin_note(&p, other, 1, false, 1902), DP_NATPIN_NOTED);
	assert_int_equal(dp_natpin_get(&p, k, 2, 0x1000000 + 1902 + 60, 60), 1);
	assert_int_equal(dp_natpin_get(&p, k, 2, 0x1000000 + 1902 + 121, 60), DP_NATPIN_EXPIRED);
	assert_true(dp_natpin_flagged(&p, other));
	assert_int_equal(dp_natpin_get(&p, other, 2, 1902, 60), 1);
	free(p.w);
	free(p.used);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_note_expires_when_its_flow_is_idle),
		cmocka_unit_test(a_packet_in_and_its_reply_out_share_a_key_and_other_flows_do_not),
		cmocka_unit_test(an_echo_request_in_and_its_reply_out_share_a_key),
		cmocka_unit_test(fragments_and_short_ports_have_no_key),
		cmocka_unit_test(sized_in_buckets_of_8_a_power_of_two_at_least_as_many),
		cmocka_unit_test(noted_looked_up_moved_and_cleared),
		cmocka_unit_test(a_note_is_refreshed_once_a_second),
		cmocka_unit_test(a_full_bucket_replaces_its_oldest_note),
		cmocka_unit_test(a_bucket_is_flagged_while_it_holds_a_note),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
