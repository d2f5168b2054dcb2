/*
 * TCP MSS clamping on fabricated mbufs.  Every frame lives in a heap buffer
 * exactly as long as the frame, so under ASan any read past the data is an
 * error; expected frames are built apart from the code under test and
 * checksums come from the reference routine in fabmbuf.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include "test_rng.h"

#include "fabmbuf.h"
#include "classify.h"
#include "mss.h"
#include "natv6.h"
#include "rewrite.h"

static struct dp_site site;
static uint8_t H1[16], PEER[16], LEGACY[16], LOC1[16], RLOC[16];

static void A(const char *s, uint8_t out[16]) { assert_int_equal(inet_pton(AF_INET6, s, out), 1); }
static void pfx(struct dp_prefix *p, const char *a, uint8_t len) { A(a, p->addr); p->len = len; }

static int setup(void **state)
{
	(void)state;
	memset(&site, 0, sizeof(site));
	site.n_cmula = 1;
	pfx(&site.cmula[0], "fd00:1:1:1::", 64);
	pfx(&site.cmula_space, "fd00::", 8);
	site.n_isp = 2;
	pfx(&site.isp[0].pa, "2001:db8:10:1::", 64);
	pfx(&site.isp[1].pa, "2001:db8:20:1::", 64);
	site.isp[0].mtu = site.isp[1].mtu = 1500;
	site.isp[0].weight = site.isp[1].weight = 1;
	site.weight_total = 2;
	A("fd00:1:1:ffff::1", site.inside_addr);
	A("fd00:1:1:1:1c2d:3e4f:5a6b:7c8d", H1);
	A("fd00:2:2:1::22", PEER);
	A("2001:db8:77::5", LEGACY);
	A("2001:db8:10:1:1c2d:3e4f:5a6b:7c8d", LOC1);
	A("2001:db8:30:1::22", RLOC);
	return 0;
}

/* ---- mbuf over a buffer exactly as long as the frame ---------------------- */

static struct rte_mbuf *tight(const uint8_t *frame, size_t len)
{
	return fab_tight(frame, len, FAB_HEADROOM);
}

static int teardown(void **state)
{
	(void)state;
	fab_tight_free();
	return 0;
}

static uint8_t *mdata(struct rte_mbuf *m) { return rte_pktmbuf_mtod(m, uint8_t *); }

/* ---- builders (independent of the code under test) ------------------------ */

#define build fab_frame

/*
 * TCP segment: `opt` (padded with EOL to a multiple of 4) then `paylen`
 * octets of payload; data offset from the padded option length unless
 * `doff` is nonzero; checksum for (src, dst) by the reference routine.
 */
static size_t tcpseg(uint8_t *s, const uint8_t *src, const uint8_t *dst, uint8_t flags,
		     const uint8_t *opt, size_t optlen, size_t paylen, unsigned doff)
{
	size_t olen = (optlen + 3) & ~(size_t)3;
	memset(s, 0, 20 + olen);
	s[0] = 0xc0; s[1] = 0x01; s[2] = 0x01; s[3] = 0xbb;     /* 49153 -> 443 */
	s[4] = 0x11; s[5] = 0x22; s[6] = 0x33; s[7] = 0x44;
	if (flags & 0x10) { s[8] = 0x55; s[11] = 0x66; }
	s[12] = (uint8_t)((doff ? doff : (20 + olen) / 4) << 4);
	s[13] = flags;
	s[14] = 0xfa; s[15] = 0xf0;
	if (optlen)
		memcpy(s + 20, opt, optlen);
	for (size_t i = 0; i < paylen; i++)
		s[20 + olen + i] = (uint8_t)(i * 31 + 7);
	uint16_t c = ref_csum6(src, dst, 6, s, 20 + olen + paylen);
	s[16] = (uint8_t)(c >> 8); s[17] = (uint8_t)c;
	return 20 + olen + paylen;
}

#define SYN 0x02
#define ACK 0x10
#define PSH 0x08

static uint8_t fin[2048], fexp[2048], seg[2048], seg2[2048];

/* Linux-like SYN options: MSS, SACK-permitted, timestamps, NOP, wscale. */
static size_t syn_opts(uint8_t *o, uint16_t mss)
{
	const uint8_t t[20] = { 2, 4, (uint8_t)(mss >> 8), (uint8_t)mss, 4, 2, 8, 10,
				0, 0, 0x12, 0x34, 0, 0, 0, 0, 1, 3, 3, 7 };
	memcpy(o, t, sizeof(t));
	return sizeof(t);
}

static struct rte_mbuf *classified(const uint8_t *f, size_t n, struct dp_cls *c)
{
	struct rte_mbuf *m = tight(f, n);
	dp_classify_inside(&site, m, c);
	return m;
}

/* Clamp a SYN from H1 to LEGACY whose options are `opt`; compare with the same SYN built with `opt_exp`. */
static void expect_clamp(const uint8_t *opt, size_t optlen, const uint8_t *opt_exp, uint8_t flags,
			 size_t paylen, uint16_t max, int rc_exp)
{
	struct dp_cls c;
	size_t n4 = tcpseg(seg, H1, LEGACY, flags, opt, optlen, paylen, 0);
	size_t nin = build(fin, H1, LEGACY, 6, NULL, 0, seg, n4);
	size_t n4e = tcpseg(seg2, H1, LEGACY, flags, opt_exp, optlen, paylen, 0);
	size_t nexp = build(fexp, H1, LEGACY, 6, NULL, 0, seg2, n4e);
	struct rte_mbuf *m = classified(fin, nin, &c);

	assert_int_equal(c.verdict, DP_V_EG_NAT);
	assert_int_equal(dp_mss_clamp(m, &c.w, max), rc_exp);
	assert_int_equal(rte_pktmbuf_data_len(m), nexp);
	/* checksum equals a full recomputation, not merely one that verifies */
	assert_memory_equal(mdata(m), fexp, nexp);
	assert_int_equal(ref_verify6(H1, LEGACY, 6, mdata(m) + 54, n4), 0xffff);
}

static void test_syn_mss_above(void **state)
{
	(void)state;
	uint8_t o[20], e[20];
	syn_opts(o, 1460);
	syn_opts(e, 1392);
	expect_clamp(o, 20, e, SYN, 0, 1392, DP_MSS_CLAMPED);
}

static void test_syn_mss_below_and_equal(void **state)
{
	(void)state;
	uint8_t o[20];
	syn_opts(o, 1200);
	expect_clamp(o, 20, o, SYN, 0, 1392, DP_MSS_UNTOUCHED);
	syn_opts(o, 1392);
	expect_clamp(o, 20, o, SYN, 0, 1392, DP_MSS_UNTOUCHED);
	syn_opts(o, 1393);
	uint8_t e[20];
	syn_opts(e, 1392);
	expect_clamp(o, 20, e, SYN, 0, 1392, DP_MSS_CLAMPED);
}

static void test_synack(void **state)
{
	(void)state;
	uint8_t o[20], e[20];
	syn_opts(o, 8960);
	syn_opts(e, 1432);
	expect_clamp(o, 20, e, SYN | ACK, 0, 1432, DP_MSS_CLAMPED);
}

static void test_not_syn_untouched(void **state)
{
	(void)state;
	uint8_t o[4] = { 2, 4, 0x23, 0x28 }; /* an MSS-shaped option in a data segment */
	expect_clamp(o, 4, o, ACK | PSH, 100, 536, DP_MSS_UNTOUCHED);
	expect_clamp(o, 4, o, ACK, 0, 536, DP_MSS_UNTOUCHED);
}

static void test_no_mss_option(void **state)
{
	(void)state;
	uint8_t o[12] = { 1, 1, 4, 2, 1, 3, 3, 7, 1, 1, 1, 1 }; /* SACK-perm, wscale, NOPs */
	expect_clamp(o, 12, o, SYN, 0, 1000, DP_MSS_UNTOUCHED);
	expect_clamp(NULL, 0, NULL, SYN, 0, 1000, DP_MSS_UNTOUCHED); /* no options at all */
}

static void test_nops_before_mss(void **state)
{
	(void)state;
	/* 1..3 NOPs put the MSS value at every alignment of the checksum words */
	for (unsigned nops = 0; nops < 4; nops++) {
		uint8_t o[12] = { 0 }, e[12] = { 0 };
		memset(o, 1, nops);
		o[nops] = 2; o[nops + 1] = 4; o[nops + 2] = 0x05; o[nops + 3] = 0xb4; /* 1460 */
		memcpy(e, o, sizeof(e));
		e[nops + 2] = 0x05; e[nops + 3] = 0x78;                               /* 1400 */
		expect_clamp(o, nops + 4, e, SYN, 0, 1400, DP_MSS_CLAMPED);
		expect_clamp(o, nops + 4, e, SYN, 7, 1400, DP_MSS_CLAMPED);    /* odd-length data after */
	}
}

static void test_eol_ends_the_list(void **state)
{
	(void)state;
	/* after EOL the octets are padding, even if they look like an MSS option */
	uint8_t o[8] = { 1, 0, 2, 4, 0x05, 0xb4, 0, 0 };
	expect_clamp(o, 8, o, SYN, 0, 1000, DP_MSS_UNTOUCHED);
}

static void test_several_mss_options(void **state)
{
	(void)state;
	uint8_t o[12] = { 2, 4, 0x05, 0xb4, 1, 2, 4, 0x02, 0x00, 2, 4, 0x40 };
	/* the third one (0x40xx) is cut by the header end: the list is malformed */
	expect_clamp(o, 12, o, SYN, 0, 1200, DP_MSS_MALFORMED);
	uint8_t o2[16] = { 2, 4, 0x05, 0xb4, 1, 2, 4, 0x02, 0x00, 1, 2, 4, 0x40, 0x00, 0, 0 };
	uint8_t e2[16] = { 2, 4, 0x04, 0xb0, 1, 2, 4, 0x02, 0x00, 1, 2, 4, 0x04, 0xb0, 0, 0 };
	expect_clamp(o2, 16, e2, SYN, 0, 1200, DP_MSS_CLAMPED); /* both above: both lowered */
}

static void test_malformed_options(void **state)
{
	(void)state;
	static const struct { uint8_t o[8]; size_t n; const char *what; } bad[] = {
		{ { 2, 0, 0x05, 0xb4 }, 4, "MSS length 0" },
		{ { 2, 1, 0x05, 0xb4 }, 4, "MSS length 1" },
		{ { 8, 0, 1, 1 }, 4, "other option length 0" },
		{ { 1, 1, 1, 8 }, 4, "kind without length octet at header end" },
		{ { 8, 1, 2, 4, 5, 0xb4, 0, 0 }, 8, "option length 1 before a good MSS" },
		{ { 2, 3, 0x05, 0xb4 }, 4, "MSS length 3" },
		{ { 2, 6, 0x05, 0xb4, 0, 0, 0, 0 }, 8, "MSS length 6" },
		{ { 1, 1, 1, 1, 1, 1, 2, 4 }, 8, "MSS cut by the header end" },
		{ { 3, 9, 1, 1, 2, 4, 5, 0xb4 }, 8, "option runs past the header" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("%s\n", bad[i].what);
		/* with payload after the header: the walk must not wander into it */
		expect_clamp(bad[i].o, bad[i].n, bad[i].o, SYN, 40, 1000, DP_MSS_MALFORMED);
		expect_clamp(bad[i].o, bad[i].n, bad[i].o, SYN, 0, 1000, DP_MSS_MALFORMED);
	}
}

/* Independent option walk, to check codes on random option bytes. */
static int ref_mss(const uint8_t *t, size_t n, uint16_t max)
{
	size_t h, i = 20;
	int found = 0;
	if (n < 20)
		return -1;
	if (!(t[13] & SYN))
		return 0;
	h = (size_t)(t[12] >> 4) * 4;
	if (h < 20 || h > n)
		return -1;
	while (i < h) {
		if (t[i] == 0)
			break;
		if (t[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= h || t[i + 1] < 2 || i + t[i + 1] > h)
			return -1;
		if (t[i] == 2) {
			if (t[i + 1] != 4)
				return -1;
			if (((t[i + 2] << 8) | t[i + 3]) > max)
				found = 1;
		}
		i += t[i + 1];
	}
	return found;
}

/* Data offset or packet length lie: untouched, distinct code, nothing read past the data. */
static void test_truncated_header_and_options(void **state)
{
	(void)state;
	struct dp_cls c;
	uint8_t o[20];
	syn_opts(o, 1460);
	size_t n4 = tcpseg(seg, H1, LEGACY, SYN, o, 20, 0, 0);
	size_t nin = build(fin, H1, LEGACY, 6, NULL, 0, seg, n4);

	/* the packet ends at every octet of the TCP header and options */
	for (size_t cut = 1; cut < n4; cut++) {
		size_t n = 54 + cut;
		memcpy(fexp, fin, n);
		fexp[18] = (uint8_t)(cut >> 8); fexp[19] = (uint8_t)cut; /* payload length agrees */
		struct rte_mbuf *m = classified(fexp, n, &c);
		assert_int_equal(c.verdict, DP_V_EG_NAT);
		assert_int_equal(dp_mss_clamp(m, &c.w, 1000), DP_MSS_MALFORMED);
		assert_memory_equal(mdata(m), fexp, n);
	}
	/* a walk that claims more than the mbuf holds */
	struct rte_mbuf *m = classified(fin, nin, &c);
	struct dp_walk w = c.w;
	w.off = (uint16_t)(nin - 14 - 10);
	assert_int_equal(dp_mss_clamp(m, &w, 1000), DP_MSS_MALFORMED);
	w.off = 0xffff;
	assert_int_equal(dp_mss_clamp(m, &w, 1000), DP_MSS_MALFORMED);
	assert_memory_equal(mdata(m), fin, nin);

	/* every data offset: below 5 words or beyond the data is malformed */
	for (unsigned doff = 0; doff < 16; doff++) {
		n4 = tcpseg(seg, H1, LEGACY, SYN, o, 20, 0, doff);
		if (doff == 0) { /* tcpseg takes 0 for "from the options": set it here */
			seg[12] = 0;
			seg[16] = seg[17] = 0;
			uint16_t ck = ref_csum6(H1, LEGACY, 6, seg, n4);
			seg[16] = (uint8_t)(ck >> 8); seg[17] = (uint8_t)ck;
		}
		nin = build(fin, H1, LEGACY, 6, NULL, 0, seg, n4);
		m = classified(fin, nin, &c);
		int rc = dp_mss_clamp(m, &c.w, 1000);
		int ref = ref_mss(seg, n4, 1000);
		assert_int_equal(rc, ref < 0 ? DP_MSS_MALFORMED : ref ? DP_MSS_CLAMPED : DP_MSS_UNTOUCHED);
		if (doff < 5 || doff > 10)
			assert_int_equal(rc, DP_MSS_MALFORMED);
		if (doff == 6 || doff == 10)
			assert_int_equal(rc, DP_MSS_CLAMPED);   /* MSS first, then the header ends cleanly */
		if (doff == 7 || doff == 8)
			assert_int_equal(rc, DP_MSS_MALFORMED); /* timestamps cut by the header end */
		if (rc == DP_MSS_CLAMPED)
			assert_int_equal(ref_verify6(H1, LEGACY, 6, mdata(m) + 54, n4), 0xffff);
		else
			assert_memory_equal(mdata(m), fin, nin);
	}
}

static uint32_t rnd(uint32_t *x) { return test_rng32(x); }

static void test_random_options(void **state)
{
	(void)state;
	struct dp_cls c;
	uint32_t x = 0x2545f491;
	unsigned clamped = 0, malformed = 0, untouched = 0;

	for (unsigned it = 0; it < 30000; it++) {
		uint8_t o[64];
		size_t optlen = 0, paylen, k = 0;
		/* options as stacks write them, then now and then a corrupted octet */
		while (k < 40) {
			switch (rnd(&x) % 8) {
			case 0: o[k++] = 1; break;
			case 1: o[k++] = 0; break;
			case 2: case 3:
				o[k++] = 2; o[k++] = 4; o[k++] = (uint8_t)(rnd(&x) >> 3); o[k++] = (uint8_t)rnd(&x); break;
			case 4: o[k++] = 4; o[k++] = 2; break;
			case 5: o[k++] = 3; o[k++] = 3; o[k++] = 7; break;
			case 6:
				o[k++] = 8; o[k++] = 10;
				for (int j = 0; j < 8; j++) o[k++] = (uint8_t)rnd(&x);
				break;
			default: {
				uint8_t l = (uint8_t)(rnd(&x) % 9);
				o[k++] = (uint8_t)(5 + rnd(&x) % 250); o[k++] = l;
				for (int j = 2; j < l; j++) o[k++] = (uint8_t)rnd(&x);
			}
			}
		}
		if (rnd(&x) % 4 == 0)
			o[rnd(&x) % 40] = (uint8_t)rnd(&x);
		optlen = (rnd(&x) % 11) * 4;
		paylen = rnd(&x) % 5;
		size_t n4 = tcpseg(seg, H1, LEGACY, (x >> 16) & 1 ? SYN : SYN | ACK, o, optlen, paylen, 0);
		size_t nin = build(fin, H1, LEGACY, 6, NULL, 0, seg, n4);
		struct rte_mbuf *m = classified(fin, nin, &c);
		int ref = ref_mss(seg, n4, 1000);
		int rc = dp_mss_clamp(m, &c.w, 1000);
		if (ref < 0) {
			assert_int_equal(rc, DP_MSS_MALFORMED);
			malformed++;
		} else if (ref == 0) {
			assert_int_equal(rc, DP_MSS_UNTOUCHED);
			untouched++;
		} else {
			assert_int_equal(rc, DP_MSS_CLAMPED);
			clamped++;
		}
		if (rc != DP_MSS_CLAMPED)
			assert_memory_equal(mdata(m), fin, nin);
		else
			assert_int_equal(ref_verify6(H1, LEGACY, 6, mdata(m) + 54, n4), 0xffff);
	}
	print_message("random options: %u clamped, %u untouched, %u malformed\n", clamped, untouched, malformed);
	assert_true(clamped > 100 && untouched > 100 && malformed > 100);
}

/* Every MSS value, option alignment and payload parity: equals a full recomputation. */
static void test_checksum_sweep(void **state)
{
	(void)state;
	for (unsigned v = 1; v < 65536; v += 97) {
		for (unsigned nops = 0; nops < 4; nops++) {
			uint8_t o[8] = { 0 }, e[8] = { 0 };
			memset(o, 1, nops);
			o[nops] = 2; o[nops + 1] = 4; o[nops + 2] = (uint8_t)(v >> 8); o[nops + 3] = (uint8_t)v;
			memcpy(e, o, 8);
			uint16_t max = 1220;
			if (v > max) {
				e[nops + 2] = (uint8_t)(max >> 8);
				e[nops + 3] = (uint8_t)max;
			}
			expect_clamp(o, nops + 4, e, SYN, v % 3, max, v > max ? DP_MSS_CLAMPED : DP_MSS_UNTOUCHED);
		}
	}
}

static void test_ext_headers_and_fragments(void **state)
{
	(void)state;
	struct dp_cls c;
	uint8_t o[20], e[20];
	syn_opts(o, 1460);
	syn_opts(e, 1412);

	/* Hop-by-Hop then Destination Options before TCP */
	uint8_t ext[16] = { 60, 0, 1, 4, 0, 0, 0, 0, 6, 0, 1, 4, 0, 0, 0, 0 };
	size_t n4 = tcpseg(seg, H1, LEGACY, SYN, o, 20, 0, 0);
	size_t nin = build(fin, H1, LEGACY, 0, ext, 16, seg, n4);
	size_t n4e = tcpseg(seg2, H1, LEGACY, SYN, e, 20, 0, 0);
	size_t nexp = build(fexp, H1, LEGACY, 0, ext, 16, seg2, n4e);
	struct rte_mbuf *m = classified(fin, nin, &c);
	assert_int_equal(dp_mss_clamp(m, &c.w, 1412), DP_MSS_CLAMPED);
	assert_memory_equal(mdata(m), fexp, nexp);

	/* a first fragment carries the header: clamped; a later one is left alone */
	uint8_t fr[8] = { 6, 0, 0, 1, 0, 0, 0, 5 };          /* offset 0, M=1 */
	nin = build(fin, H1, LEGACY, 44, fr, 8, seg, n4);
	nexp = build(fexp, H1, LEGACY, 44, fr, 8, seg2, n4e);
	m = classified(fin, nin, &c);
	assert_int_equal(c.w.frag, 1);
	assert_int_equal(dp_mss_clamp(m, &c.w, 1412), DP_MSS_CLAMPED);
	assert_memory_equal(mdata(m), fexp, nexp);
	fr[2] = 0x05; fr[3] = 0xa8;                           /* offset 181*8 */
	nin = build(fin, H1, LEGACY, 44, fr, 8, seg, n4);
	m = classified(fin, nin, &c);
	assert_int_equal(c.w.frag, 2);
	assert_int_equal(dp_mss_clamp(m, &c.w, 1412), DP_MSS_UNTOUCHED);
	assert_memory_equal(mdata(m), fin, nin);

	/* not TCP */
	nin = build(fin, H1, LEGACY, 17, NULL, 0, seg, n4);
	m = classified(fin, nin, &c);
	assert_int_equal(dp_mss_clamp(m, &c.w, 1412), DP_MSS_UNTOUCHED);
	assert_memory_equal(mdata(m), fin, nin);
}

/* The node order the lcore loop would use: clamp, then NATv6 or payload header. */
static void test_with_nat_and_shim(void **state)
{
	(void)state;
	struct dp_cls c;
	uint8_t o[20];
	syn_opts(o, 1460);

	uint16_t mss_nat = dp_mss_for_mtu(1280, false), mss_shim = dp_mss_for_mtu(1280, true);
	assert_int_equal(mss_nat, 1280 - 40 - 20);
	assert_int_equal(mss_shim, 1280 - 40 - 20 - 8);
	assert_int_equal(dp_mss_for_mtu(1500, true), 1432);
	assert_int_equal(dp_mss_for_mtu(9000, false), 8940);
	assert_int_equal(dp_mss_for_mtu(100, false), 1220);     /* IPv6 links carry 1280 */

	/* NATv6: clamp, translate; the peer sees MSS 1220 and a right checksum for the PA source */
	size_t n4 = tcpseg(seg, H1, LEGACY, SYN, o, 20, 0, 0);
	size_t nin = build(fin, H1, LEGACY, 6, NULL, 0, seg, n4);
	struct rte_mbuf *m = classified(fin, nin, &c);
	assert_int_equal(c.verdict, DP_V_EG_NAT);
	assert_int_equal(dp_mss_clamp(m, &c.w, mss_nat), DP_MSS_CLAMPED);
	uint8_t pa[16];
	dp_map_out(&site, 0, H1, pa);
	dp_nat_out(m, &c.w, pa);
	uint8_t *t = mdata(m) + 54;
	assert_int_equal(dp_get16(t + 22), 1220);
	assert_int_equal(ref_verify6(pa, LEGACY, 6, t, n4), 0xffff);

	/* shimmed: clamp before the payload header goes in; the checksum still covers the ULIDs */
	n4 = tcpseg(seg, H1, PEER, SYN, o, 20, 0, 0);
	nin = build(fin, H1, PEER, 6, NULL, 0, seg, n4);
	m = classified(fin, nin, &c);
	assert_int_equal(c.verdict, DP_V_EG_SHIM);
	assert_int_equal(dp_mss_clamp(m, &c.w, mss_shim), DP_MSS_CLAMPED);
	struct dp_ctx x;
	memset(&x, 0, sizeof(x));
	memcpy(x.local_ulid, H1, 16);
	memcpy(x.remote_ulid, PEER, 16);
	memcpy(x.local_loc, LOC1, 16);
	memcpy(x.remote_loc, RLOC, 16);
	x.peer_tag = 0x123456789abc;
	/* dp_shim_encap needs headroom: copy into a fabricated mbuf */
	static struct fab fb;
	m = fab_mbuf(&fb, mdata(m), rte_pktmbuf_data_len(m));
	assert_int_equal(dp_shim_encap(m, &x), DP_RW_OK);
	t = mdata(m) + 14 + 48;
	assert_int_equal(dp_get16(t + 22), 1212);
	assert_int_equal(ref_verify6(H1, PEER, 6, t, n4), 0xffff);

	/* ingress after NATv6-in: a SYN+ACK from the legacy peer, clamped for the inside host */
	n4 = tcpseg(seg, LEGACY, pa, SYN | ACK, o, 20, 0, 0);
	nin = build(fin, LEGACY, pa, 6, NULL, 0, seg, n4);
	m = tight(fin, nin);
	dp_classify_isp(&site, m, &c);
	assert_int_equal(c.verdict, DP_V_IN_NAT);
	dp_nat_in(m, &c.w, H1);
	assert_int_equal(dp_mss_clamp(m, &c.w, mss_nat), DP_MSS_CLAMPED);
	t = mdata(m) + 54;
	assert_int_equal(dp_get16(t + 22), 1220);
	assert_int_equal(ref_verify6(LEGACY, H1, 6, t, n4), 0xffff);
}

/* Ten MSS options fill the 40 octets of options; every one above the bound is lowered. */
static void test_ten_mss_options(void **state)
{
	(void)state;
	uint8_t o[40], e[40];
	for (int i = 0; i < 10; i++) {
		memcpy(o + 4 * i, (const uint8_t[4]){ 2, 4, 0x05, (uint8_t)(0xa0 + i) }, 4);
		memcpy(e + 4 * i, (const uint8_t[4]){ 2, 4, 0x04, 0xb0 }, 4);
	}
	expect_clamp(o, 40, e, SYN, 0, 1200, DP_MSS_CLAMPED);
}

/* The cheap SYN test: a bare 20-octet SYN at the very end of the packet is one;
 * a later fragment is not, whatever its first octets look like. */
static void test_is_tcp_syn_edges(void **state)
{
	(void)state;
	struct dp_walk w;
	size_t n4 = tcpseg(seg, H1, LEGACY, SYN, NULL, 0, 0, 0);
	size_t n = build(fin, H1, LEGACY, 6, NULL, 0, seg, n4);
	assert_int_equal(dp_walk6(fin + 14, (uint32_t)n - 14, &w), DP_WALK_OK);
	assert_true(dp_is_tcp_syn(fin + 14, (uint32_t)n - 14, &w));
	uint8_t ext[8] = { 6, 0, 0x00, 0x08, 0, 0, 0, 9 };
	n = build(fin, H1, LEGACY, 44, ext, 8, seg, n4);
	assert_int_equal(dp_walk6(fin + 14, (uint32_t)n - 14, &w), DP_WALK_OK);
	assert_int_equal(w.frag, 2);
	assert_false(dp_is_tcp_syn(fin + 14, (uint32_t)n - 14, &w));
}

/* Inbound SYNs are bounded by the smallest ISP link: mss_in is the minimum over ISPs. */
static void test_mss_in_is_minimum(void **state)
{
	(void)state;
	struct dp_site s = site;
	s.n_isp = 2;
	s.isp[0].mtu = 1500;
	s.isp[1].mtu = 1400;
	dp_site_mss_prep(&s, true);
	assert_int_equal(s.mss_in, 1400 - 60);
	s.isp[0].mtu = 1400;
	s.isp[1].mtu = 1500;
	dp_site_mss_prep(&s, true);
	assert_int_equal(s.mss_in, 1400 - 60);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syn_mss_above),
		cmocka_unit_test(test_syn_mss_below_and_equal),
		cmocka_unit_test(test_synack),
		cmocka_unit_test(test_not_syn_untouched),
		cmocka_unit_test(test_no_mss_option),
		cmocka_unit_test(test_nops_before_mss),
		cmocka_unit_test(test_eol_ends_the_list),
		cmocka_unit_test(test_several_mss_options),
		cmocka_unit_test(test_ten_mss_options),
		cmocka_unit_test(test_is_tcp_syn_edges),
		cmocka_unit_test(test_mss_in_is_minimum),
		cmocka_unit_test(test_malformed_options),
		cmocka_unit_test(test_truncated_header_and_options),
		cmocka_unit_test(test_random_options),
		cmocka_unit_test(test_checksum_sweep),
		cmocka_unit_test(test_ext_headers_and_fragments),
		cmocka_unit_test(test_with_nat_and_shim),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
