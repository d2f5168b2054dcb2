/* unreach.c: the Destination Unreachable a host gets for a packet control
 * cannot deliver, checked field by field with a checksum summed here, the
 * packets that must get none, and the rate on a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include "unreach.h"

#define MS 1000000ull

static const char *OWN = "fd00:10::1", *HOST = "fd00:10:0:1::2a", *PEER = "fd00:20:0:1::7";

/* An IPv6 packet from `src` to `dst` with Next Header `nh` and `pay`
 * octets of payload, the first of them `first`. */
static size_t packet(uint8_t *p, const char *src, const char *dst, uint8_t nh, size_t pay, uint8_t first)
{
	memset(p, 0, 40 + pay);
	p[0] = 0x60;
	p[4] = (uint8_t)(pay >> 8);
	p[5] = (uint8_t)pay;
	p[6] = nh;
	p[7] = 63;
	inet_pton(AF_INET6, src, p + 8);
	inet_pton(AF_INET6, dst, p + 24);
	for (size_t i = 0; i < pay; i++)
		p[40 + i] = (uint8_t)(i * 7 + 1);
	if (pay)
		p[40] = first;
	return 40 + pay;
}

/* RFC 1071 over the pseudo-header and the ICMPv6 message, written apart
 * from the code under test: 0 over a message whose checksum is right. */
static uint16_t sum_here(const uint8_t *ip)
{
	uint32_t plen = (uint32_t)ip[4] << 8 | ip[5], s = 0;
	for (int i = 8; i < 40; i += 2)
		s += (uint32_t)ip[i] << 8 | ip[i + 1];
	s += plen + 58;
	for (uint32_t i = 0; i < plen; i += 2)
		s += (uint32_t)ip[40 + i] << 8 | (i + 1 < plen ? ip[41 + i] : 0);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void own(uint8_t a[16]) { inet_pton(AF_INET6, OWN, a); }

static void the_error_goes_back_to_the_host_with_the_packet_in_it(void **st)
{
	(void)st;
	uint8_t p[2000], out[UNREACH_MIN_MTU], o[16], h[16];
	own(o);
	inet_pton(AF_INET6, HOST, h);
	size_t n = packet(p, HOST, PEER, 6, 20, 0x9c), len = unreach_build(o, p, n, out, sizeof out);
	assert_int_equal(len, 40 + 8 + n);
	assert_int_equal(out[0] >> 4, 6);
	assert_int_equal(((size_t)out[4] << 8 | out[5]), 8 + n);
	assert_int_equal(out[6], 58);
	assert_memory_equal(out + 8, o, 16);
	assert_memory_equal(out + 24, h, 16);
	assert_int_equal(out[40], 1);   /* Destination Unreachable */
	assert_int_equal(out[41], 3);   /* address unreachable */
	assert_int_equal(out[44] | out[45] | out[46] | out[47], 0);
	assert_memory_equal(out + 48, p, n);
	assert_int_equal(sum_here(out), 0);

	/* a large packet: cut so that the error fits the minimum MTU */
	n = packet(p, HOST, PEER, 17, 1400, 0);
	len = unreach_build(o, p, n, out, sizeof out);
	assert_int_equal(len, UNREACH_MIN_MTU);
	assert_memory_equal(out + 48, p, UNREACH_MIN_MTU - 48);
	assert_int_equal(sum_here(out), 0);
	/* an odd length sums right too */
	n = packet(p, HOST, PEER, 17, 21, 0);
	len = unreach_build(o, p, n, out, sizeof out);
	assert_int_equal(len, 48 + 61);
	assert_int_equal(sum_here(out), 0);
	/* an ICMPv6 informational message (an echo request) gets one */
	n = packet(p, HOST, PEER, 58, 16, 128);
	assert_int_equal(unreach_build(o, p, n, out, sizeof out), 48 + n);
}

static void packets_that_must_get_none(void **st)
{
	(void)st;
	uint8_t p[256], out[UNREACH_MIN_MTU], o[16];
	own(o);
	size_t n = packet(p, HOST, PEER, 58, 16, 1);   /* an error about an error */
	assert_int_equal(unreach_build(o, p, n, out, sizeof out), 0);
	n = packet(p, HOST, PEER, 58, 0, 0);           /* ICMPv6 with no type to look at */
	assert_int_equal(unreach_build(o, p, n, out, sizeof out), 0);
	n = packet(p, "::", PEER, 17, 8, 0);
	assert_int_equal(unreach_build(o, p, n, out, sizeof out), 0);
	n = packet(p, "ff02::1", PEER, 17, 8, 0);
	assert_int_equal(unreach_build(o, p, n, out, sizeof out), 0);
	n = packet(p, HOST, "ff0e::1", 17, 8, 0);
	assert_int_equal(unreach_build(o, p, n, out, sizeof out), 0);
	n = packet(p, HOST, PEER, 17, 8, 0);
	assert_int_equal(unreach_build(o, p, 39, out, sizeof out), 0);        /* cut inside the header */
	p[0] = 0x40;
	assert_int_equal(unreach_build(o, p, n, out, sizeof out), 0);         /* not IPv6 */
	p[0] = 0x60;
	assert_int_equal(unreach_build(o, p, n, out, UNREACH_MIN_MTU - 1), 0); /* no room */
	assert_int_not_equal(unreach_build(o, p, n, out, sizeof out), 0);
}

/* A burst of UNREACH_BURST, then UNREACH_RATE a second. */
static void the_rate(void **st)
{
	(void)st;
	struct unreach_rate r = { 0 };
	uint64_t t = 5000 * MS;
	unsigned n = 0;
	for (int i = 0; i < 50; i++)
		n += (unsigned)unreach_allow(&r, t);
	assert_int_equal(n, UNREACH_BURST);
	n = 0;
	for (int i = 0; i < 1000; i++) {   /* a second, asked every ms */
		t += MS;
		n += (unsigned)unreach_allow(&r, t);
	}
	assert_int_equal(n, UNREACH_RATE);
	t += 60000 * MS;                     /* a long quiet spell refills only the burst */
	n = 0;
	for (int i = 0; i < 50; i++)
		n += (unsigned)unreach_allow(&r, t);
	assert_int_equal(n, UNREACH_BURST);
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(the_error_goes_back_to_the_host_with_the_packet_in_it),
		cmocka_unit_test(packets_that_must_get_none),
		cmocka_unit_test(the_rate),
	};
	return cmocka_run_group_tests(t, NULL, NULL);
}
