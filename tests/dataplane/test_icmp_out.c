/*
 * ICMPv6 errors sent by inside hosts, on their way out.  Each case starts
 * from what a peer put on the wire, runs it through the ingress nodes to get
 * what the inside host received, lets the host answer with an error about
 * it, runs the outbound node, and compares with a frame built apart from the
 * code under test: the embedded copy must be the peer's own packet (or its
 * ULID form, for errors that travel inside a context).  Frames live in heap
 * buffers exactly as long as the frame so ASan sees any read past the data.
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
#include "icmp6.h"
#include "natv6.h"
#include "rewrite.h"

static struct dp_site site, peer_site;
static uint8_t H1[16], PEER[16], LOC1[16], RLOC[16], LEGACY[16];
static const uint64_t PTAG = UINT64_C(0x123456789abc), OTAG = UINT64_C(0x00000000beef);

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
	site.isp[0].weight = 3;
	site.isp[1].weight = 1;
	site.weight_total = 4;
	A("fd00:1:1:ffff::1", site.inside_addr);
	A("fd00:1:1:1:1c2d:3e4f:5a6b:7c8d", H1);
	A("fd00:2:2:1::22", PEER);
	A("2001:db8:10:1:1c2d:3e4f:5a6b:7c8d", LOC1);
	A("2001:db8:30:1::22", RLOC);
	A("2001:db8:77::5", LEGACY);
	/* the peer's proxy: CMULAs under fd00:2:2:1::/64, one ISP holding RLOC */
	peer_site = site;
	pfx(&peer_site.cmula[0], "fd00:2:2:1::", 64);
	peer_site.n_isp = 1;
	pfx(&peer_site.isp[0].pa, "2001:db8:30:1::", 64);
	peer_site.weight_total = 3;
	return 0;
}

/* ---- mbuf over a buffer exactly as long as the frame (headroom before) ---- */

static struct rte_mbuf *tight(const uint8_t *frame, size_t len, uint16_t headroom)
{
	return fab_tight(frame, len, headroom);
}

static int teardown(void **state)
{
	(void)state;
	fab_tight_free();
	return 0;
}

static uint8_t *mdata(struct rte_mbuf *m) { return rte_pktmbuf_mtod(m, uint8_t *); }
static uint32_t mlen(struct rte_mbuf *m) { return rte_pktmbuf_data_len(m); }

/* ---- builders (independent of the code under test) ------------------------ */

#define build fab_frame

#define tcp fab_tcp
#define udp fab_udp
#define echo fab_echo

/* ICMPv6 error of `type` carrying `inner`, checksum for (osrc, odst). */
static size_t icmp_err(uint8_t *s, uint8_t type, uint8_t code, const uint8_t *osrc, const uint8_t *odst,
		       const uint8_t *inner, size_t ilen)
{
	memset(s, 0, 8);
	s[0] = type;
	s[1] = code;
	if (type == 2) { s[6] = 0x05; s[7] = 0x00; }     /* PTB MTU 1280 */
	if (ilen)
		memcpy(s + 8, inner, ilen);
	uint16_t c = ref_csum6(osrc, odst, 58, s, 8 + ilen);
	s[2] = (uint8_t)(c >> 8); s[3] = (uint8_t)c;
	return 8 + ilen;
}

#define shim_hdr fab_shim_hdr

static struct dp_ctx ctx_here(void)
{
	struct dp_ctx c;
	memset(&c, 0, sizeof(c));
	memcpy(c.local_ulid, H1, 16);
	memcpy(c.remote_ulid, PEER, 16);
	memcpy(c.local_loc, LOC1, 16);
	memcpy(c.remote_loc, RLOC, 16);
	c.peer_tag = PTAG;
	c.own_tag = OTAG;
	return c;
}

static struct dp_ctx ctx_there(void)
{
	struct dp_ctx c;
	memset(&c, 0, sizeof(c));
	memcpy(c.local_ulid, PEER, 16);
	memcpy(c.remote_ulid, H1, 16);
	memcpy(c.local_loc, RLOC, 16);
	memcpy(c.remote_loc, LOC1, 16);
	c.peer_tag = OTAG;
	c.own_tag = PTAG;
	return c;
}

static uint8_t l4b[2048], wire[2048], got[2048], fin[2048], fexp[2048], l4[2048], body[2048], bexp[2048];

/* ---- NATv6 --------------------------------------------------------------- */

/* The PA address the pair (H1, LEGACY) uses, so the peer's packet and H1's error take one ISP. */
static void pair_pa(uint8_t pa[16])
{
	int isp = dp_isp_pick(&site, H1, LEGACY);
	assert_true(isp >= 0);
	dp_map_out(&site, (unsigned)isp, H1, pa);
}

/* LEGACY -> pa on the wire (wire[], returns IPv6 length); what H1 received (got[]). */
static size_t peer_to_host_nat(const uint8_t *pa, uint8_t proto, size_t paylen)
{
	struct dp_cls c;
	size_t n4 = proto == 6 ? tcp(l4, LEGACY, pa, paylen) : proto == 17 ? udp(l4, LEGACY, pa, paylen, false)
									: echo(l4, LEGACY, pa, paylen);
	size_t n = build(wire, LEGACY, pa, proto, NULL, 0, l4, n4);
	struct rte_mbuf *m = tight(wire, n, FAB_HEADROOM);
	dp_classify_isp(&site, m, &c);
	assert_int_equal(c.verdict, DP_V_IN_NAT);
	dp_nat_in(m, &c.w, H1);
	assert_int_equal(mlen(m), n);
	memcpy(got, mdata(m), n);
	assert_memory_equal(got + 14 + 24, H1, 16);
	assert_int_equal(ref_verify6(LEGACY, H1, proto, got + 54, n4), 0xffff);
	return n - 14;
}

/* H1's error about the first `cut` octets of what it got; classified on the inside port. */
static struct rte_mbuf *host_error_nat(uint8_t type, size_t cut, struct dp_cls *c, size_t *nin)
{
	size_t nb = icmp_err(body, type, 4, H1, LEGACY, got + 14, cut);
	*nin = build(fin, H1, LEGACY, 58, NULL, 0, body, nb);
	struct rte_mbuf *m = tight(fin, *nin, FAB_HEADROOM);
	dp_classify_inside(&site, m, c);
	assert_int_equal(c->verdict, DP_V_EG_NAT);
	return m;
}

static void check_nat_roundtrip(uint8_t proto, size_t paylen)
{
	uint8_t pa[16];
	struct dp_cls c;
	size_t nin;
	pair_pa(pa);
	size_t n6 = peer_to_host_nat(pa, proto, paylen);
	struct rte_mbuf *m = host_error_nat(1, n6, &c, &nin);

	assert_int_equal(dp_icmp_out_nat(m, &c.w, pa), DP_ICMP_OK);
	/* expected: from the PA address, carrying exactly the peer's packet */
	size_t nbe = icmp_err(bexp, 1, 4, pa, LEGACY, wire + 14, n6);
	size_t nexp = build(fexp, pa, LEGACY, 58, NULL, 0, bexp, nbe);
	assert_int_equal(mlen(m), nexp);
	assert_memory_equal(mdata(m), fexp, nexp);
	assert_int_equal(ref_verify6(pa, LEGACY, 58, mdata(m) + 54, nbe), 0xffff);
}

static void test_nat_error_roundtrip(void **state)
{
	(void)state;
	check_nat_roundtrip(6, 0);
	check_nat_roundtrip(6, 333);
	check_nat_roundtrip(17, 1);
	check_nat_roundtrip(17, 100);
	check_nat_roundtrip(58, 56);
}

/* The other ISP's PA (a host with several PA addresses): the embedded destination follows `pa`. */
static void test_nat_error_other_isp(void **state)
{
	(void)state;
	uint8_t pa[16], other[16];
	struct dp_cls c;
	size_t nin;
	pair_pa(pa);
	dp_map_out(&site, memcmp(pa, LOC1, 16) == 0 ? 1 : 0, H1, other);
	size_t n6 = peer_to_host_nat(other, 6, 10);
	struct rte_mbuf *m = host_error_nat(1, n6, &c, &nin);
	assert_int_equal(dp_icmp_out_nat(m, &c.w, other), DP_ICMP_OK);
	size_t nbe = icmp_err(bexp, 1, 4, other, LEGACY, wire + 14, n6);
	size_t nexp = build(fexp, other, LEGACY, 58, NULL, 0, bexp, nbe);
	assert_memory_equal(mdata(m), fexp, nexp);
}

/* Every truncation of the embedded copy: below its fixed header refused, otherwise the peer's prefix. */
static void test_nat_error_every_cut(void **state)
{
	(void)state;
	static const uint8_t protos[3] = { 6, 17, 58 };
	uint8_t pa[16];
	pair_pa(pa);
	for (int k = 0; k < 3; k++) {
		size_t n6 = peer_to_host_nat(pa, protos[k], 31);
		for (size_t cut = 0; cut <= n6; cut++) {
			struct dp_cls c;
			size_t nin;
			struct rte_mbuf *m = host_error_nat(3, cut, &c, &nin);
			int rc = dp_icmp_out_nat(m, &c.w, pa);
			if (cut < 40) {
				assert_int_equal(rc, DP_ICMP_MALFORMED);
				assert_memory_equal(mdata(m), fin, nin);
				continue;
			}
			assert_int_equal(rc, DP_ICMP_OK);
			/*
			 * A copy that ends inside the embedded checksum field keeps the
			 * one octet it has as the host saw it: the peer's value depends on
			 * the missing octet (carries), so no translation can give it back.
			 */
			size_t ck = 40 + (protos[k] == 6 ? 16 : protos[k] == 17 ? 6 : 2);
			memcpy(l4b, wire + 14, cut);
			if (cut == ck + 1)
				l4b[ck] = got[14 + ck];
			size_t nbe = icmp_err(bexp, 3, 4, pa, LEGACY, l4b, cut);
			size_t nexp = build(fexp, pa, LEGACY, 58, NULL, 0, bexp, nbe);
			assert_int_equal(mlen(m), nexp);
			if (memcmp(mdata(m), fexp, nexp))
				print_message("proto %u cut %zu\n", protos[k], cut);
			assert_memory_equal(mdata(m), fexp, nexp);
		}
	}
}

static void test_nat_error_udp_zero_checksum(void **state)
{
	(void)state;
	uint8_t pa[16];
	struct dp_cls c;
	pair_pa(pa);
	size_t n4 = udp(l4, LEGACY, pa, 20, true);
	size_t n = build(wire, LEGACY, pa, 17, NULL, 0, l4, n4);
	memcpy(got, wire, n);
	memcpy(got + 14 + 24, H1, 16); /* NATv6-in keeps a zero UDP checksum zero */
	size_t nb = icmp_err(body, 1, 4, H1, LEGACY, got + 14, n - 14);
	size_t nin = build(fin, H1, LEGACY, 58, NULL, 0, body, nb);
	struct rte_mbuf *m = tight(fin, nin, FAB_HEADROOM);
	dp_classify_inside(&site, m, &c);
	assert_int_equal(dp_icmp_out_nat(m, &c.w, pa), DP_ICMP_OK);
	size_t nbe = icmp_err(bexp, 1, 4, pa, LEGACY, wire + 14, n - 14);
	size_t nexp = build(fexp, pa, LEGACY, 58, NULL, 0, bexp, nbe);
	assert_memory_equal(mdata(m), fexp, nexp);
	assert_int_equal(mdata(m)[54 + 8 + 40 + 6], 0);
	assert_int_equal(mdata(m)[54 + 8 + 40 + 7], 0);
}

/* Extension headers before the outer ICMPv6 header and inside the embedded packet. */
static void test_nat_error_ext_headers(void **state)
{
	(void)state;
	uint8_t pa[16], hbh[8] = { 6, 0, 1, 4, 0, 0, 0, 0 }, dopt[8] = { 58, 0, 1, 4, 0, 0, 0, 0 };
	struct dp_cls c;
	pair_pa(pa);
	size_t n4 = tcp(l4, LEGACY, pa, 50);
	size_t n = build(wire, LEGACY, pa, 0, hbh, 8, l4, n4);
	struct rte_mbuf *m = tight(wire, n, FAB_HEADROOM);
	dp_classify_isp(&site, m, &c);
	assert_int_equal(c.verdict, DP_V_IN_NAT);
	dp_nat_in(m, &c.w, H1);
	memcpy(got, mdata(m), n);
	size_t nb = icmp_err(body, 4, 1, H1, LEGACY, got + 14, n - 14);
	size_t nin = build(fin, H1, LEGACY, 60, dopt, 8, body, nb);
	m = tight(fin, nin, FAB_HEADROOM);
	dp_classify_inside(&site, m, &c);
	assert_int_equal(c.verdict, DP_V_EG_NAT);
	assert_int_equal(c.w.off, 48);
	assert_int_equal(dp_icmp_out_nat(m, &c.w, pa), DP_ICMP_OK);
	size_t nbe = icmp_err(bexp, 4, 1, pa, LEGACY, wire + 14, n - 14);
	size_t nexp = build(fexp, pa, LEGACY, 60, dopt, 8, bexp, nbe);
	assert_memory_equal(mdata(m), fexp, nexp);
}

static void test_nat_error_mismatch_and_hostile(void **state)
{
	(void)state;
	uint8_t pa[16], other[16];
	struct dp_cls c;
	size_t nin;
	pair_pa(pa);
	size_t n6 = peer_to_host_nat(pa, 6, 40);

	/* about a packet to another address: not ours to translate */
	A("fd00:1:1:1::99", other);
	memcpy(got + 14 + 24, other, 16);
	struct rte_mbuf *m = host_error_nat(1, n6, &c, &nin);
	assert_int_equal(dp_icmp_out_nat(m, &c.w, pa), DP_ICMP_MISMATCH);
	assert_memory_equal(mdata(m), fin, nin);
	memcpy(got + 14 + 24, H1, 16);

	/* embedded version not 6 */
	for (uint8_t v = 0; v < 16; v++) {
		if (v == 6)
			continue;
		got[14] = (uint8_t)(v << 4);
		m = host_error_nat(1, n6, &c, &nin);
		assert_int_equal(dp_icmp_out_nat(m, &c.w, pa), DP_ICMP_MALFORMED);
		assert_memory_equal(mdata(m), fin, nin);
	}
	got[14] = 0x60;

	/* embedded extension header whose length runs past the copy */
	uint8_t ext[8] = { 6, 30, 1, 4, 0, 0, 0, 0 };
	size_t n = build(wire, LEGACY, H1, 60, ext, 8, l4, 20);
	memcpy(got, wire, n);
	m = host_error_nat(1, n - 14, &c, &nin);
	assert_int_equal(dp_icmp_out_nat(m, &c.w, pa), DP_ICMP_MALFORMED);
	assert_memory_equal(mdata(m), fin, nin);

	/* a payload header inside: no host behind us ever received one */
	uint8_t sh[8];
	shim_hdr(sh, 6, OTAG);
	n = build(wire, LEGACY, H1, 140, sh, 8, l4, 20);
	memcpy(got, wire, n);
	m = host_error_nat(1, n - 14, &c, &nin);
	assert_int_equal(dp_icmp_out_nat(m, &c.w, pa), DP_ICMP_MALFORMED);
	assert_memory_equal(mdata(m), fin, nin);

	/* embedded payload length lying in both directions: only the octets present count */
	n6 = peer_to_host_nat(pa, 17, 64);
	for (int lie = 0; lie < 2; lie++) {
		n6 = peer_to_host_nat(pa, 17, 64);
		got[14 + 4] = lie ? 0xff : 0;
		got[14 + 5] = lie ? 0xff : 3;
		memcpy(wire + 14 + 4, got + 14 + 4, 2);
		m = host_error_nat(1, n6, &c, &nin);
		assert_int_equal(dp_icmp_out_nat(m, &c.w, pa), DP_ICMP_OK);
		size_t nbe = icmp_err(bexp, 1, 4, pa, LEGACY, wire + 14, n6);
		size_t nexp = build(fexp, pa, LEGACY, 58, NULL, 0, bexp, nbe);
		assert_memory_equal(mdata(m), fexp, nexp);
	}

	/* not an error, and an ICMPv6 message too short to carry anything */
	size_t ne = echo(l4, H1, LEGACY, 60);
	nin = build(fin, H1, LEGACY, 58, NULL, 0, l4, ne);
	m = tight(fin, nin, FAB_HEADROOM);
	dp_classify_inside(&site, m, &c);
	assert_int_equal(dp_icmp_out_nat(m, &c.w, pa), DP_ICMP_MALFORMED);
	for (size_t k = 1; k < 48; k++) {
		memset(body, 0, k);
		body[0] = 1;
		nin = build(fin, H1, LEGACY, 58, NULL, 0, body, k);
		m = tight(fin, nin, FAB_HEADROOM);
		dp_classify_inside(&site, m, &c);
		assert_int_equal(c.verdict, DP_V_EG_NAT);
		assert_int_equal(dp_icmp_out_nat(m, &c.w, pa), DP_ICMP_MALFORMED);
		assert_memory_equal(mdata(m), fin, nin);
	}
}

static uint32_t rnd(uint32_t *x) { return test_rng32(x); }

/* Random embedded octets after a plausible start: a defined code, untouched unless OK, right checksum if OK. */
static void test_nat_error_random_embedded(void **state)
{
	(void)state;
	uint8_t pa[16];
	uint32_t x = 0x9e3779b9;
	unsigned ok = 0, bad = 0;
	pair_pa(pa);
	for (unsigned it = 0; it < 20000; it++) {
		size_t ilen = rnd(&x) % 200;
		for (size_t i = 0; i < ilen; i++)
			got[14 + i] = (uint8_t)rnd(&x);
		if (ilen > 40 && rnd(&x) % 4) {
			static const uint8_t nhs[] = { 0, 6, 17, 43, 44, 58, 59, 60, 140 };
			got[14] = 0x60;
			got[14 + 6] = nhs[rnd(&x) % sizeof(nhs)];
			memcpy(got + 14 + 24, H1, 16);
			if (ilen > 42 && rnd(&x) % 2) {
				got[14 + 40] = nhs[rnd(&x) % sizeof(nhs)];
				got[14 + 41] = (uint8_t)(rnd(&x) % 4);
			}
		}
		struct dp_cls c;
		size_t nin;
		struct rte_mbuf *m = host_error_nat((uint8_t)(rnd(&x) % 5), ilen, &c, &nin);
		int rc = dp_icmp_out_nat(m, &c.w, pa);
		assert_true(rc == DP_ICMP_OK || rc == DP_ICMP_MALFORMED || rc == DP_ICMP_MISMATCH);
		if (rc != DP_ICMP_OK) {
			assert_memory_equal(mdata(m), fin, nin);
			bad++;
			continue;
		}
		ok++;
		assert_memory_equal(mdata(m) + 14 + 8, pa, 16);
		assert_memory_equal(mdata(m) + 54 + 8 + 24, pa, 16);
		assert_int_equal(ref_verify6(pa, LEGACY, 58, mdata(m) + 54, nin - 54), 0xffff);
	}
	print_message("random embedded: %u translated, %u refused\n", ok, bad);
	assert_true(ok > 1000 && bad > 1000);
}

/* ---- Shim6: error travelling inside the context ----------------------------- */

/* PEER -> H1 through both proxies: wire[] (RLOC -> LOC1 + payload header), got[] what H1 received. */
static size_t peer_to_host_shim(uint8_t proto, size_t paylen, size_t *nwire)
{
	struct dp_cls c;
	uint8_t sh[8];
	size_t n4 = proto == 6 ? tcp(l4, PEER, H1, paylen) : udp(l4, PEER, H1, paylen, false);
	shim_hdr(sh, proto, OTAG);
	*nwire = build(wire, RLOC, LOC1, 140, sh, 8, l4, n4);
	struct rte_mbuf *m = tight(wire, *nwire, FAB_HEADROOM);
	dp_classify_isp(&site, m, &c);
	assert_int_equal(c.verdict, DP_V_IN_SHIM);
	assert_true(c.tag == OTAG);
	struct dp_ctx x = ctx_here();
	assert_int_equal(dp_shim_decap(m, &c.w, &x), DP_RW_OK);
	size_t n = mlen(m);
	memcpy(got, mdata(m), n);
	assert_memory_equal(got + 14 + 8, PEER, 16);
	assert_memory_equal(got + 14 + 24, H1, 16);
	return n - 14;
}

static struct rte_mbuf *host_error_shim(uint8_t type, size_t cut, struct dp_cls *c, size_t *nin)
{
	size_t nb = icmp_err(body, type, 0, H1, PEER, got + 14, cut);
	*nin = build(fin, H1, PEER, 58, NULL, 0, body, nb);
	struct rte_mbuf *m = tight(fin, *nin, FAB_HEADROOM);
	dp_classify_inside(&site, m, c);
	assert_int_equal(c->verdict, DP_V_EG_SHIM);
	return m;
}

static void test_shim_error_in_context_roundtrip(void **state)
{
	(void)state;
	struct dp_cls c;
	size_t nw, nin;
	size_t n6 = peer_to_host_shim(6, 200, &nw);
	struct rte_mbuf *m = host_error_shim(1, n6, &c, &nin);
	struct dp_ctx x = ctx_here(), y = ctx_there();

	assert_int_equal(dp_icmp_out_shim(m, &c.w, &x, 1500), DP_ICMP_OK);
	assert_memory_equal(mdata(m), fin, nin);                /* nothing to change */
	assert_int_equal(dp_shim_encap(m, &x), DP_RW_OK);
	/* the peer's proxy: payload header with its own tag, ULIDs restored */
	dp_classify_isp(&peer_site, m, &c);
	assert_int_equal(c.verdict, DP_V_IN_SHIM);
	assert_true(c.tag == PTAG);
	assert_int_equal(dp_shim_decap(m, &c.w, &y), DP_RW_OK);
	/* PEER gets H1's error about exactly the packet PEER's stack sent */
	size_t n4 = tcp(l4, PEER, H1, 200);
	uint8_t sent[600];
	size_t ns = build(sent, PEER, H1, 6, NULL, 0, l4, n4);
	size_t nbe = icmp_err(bexp, 1, 0, H1, PEER, sent + 14, ns - 14);
	size_t nexp = build(fexp, H1, PEER, 58, NULL, 0, bexp, nbe);
	assert_int_equal(mlen(m), nexp);
	assert_memory_equal(mdata(m), fexp, nexp);
}

/* A full-size error and a small ISP MTU: cut so it fits with the payload header. */
static void test_shim_error_fits_mtu(void **state)
{
	(void)state;
	struct dp_ctx x = ctx_here();
	for (uint32_t mtu = 1280; mtu < 1292; mtu++) {
		for (size_t pay = 1100; pay < 1400; pay += 37) {
			struct dp_cls c;
			size_t nw, nin;
			size_t n6 = peer_to_host_shim(17, pay, &nw);
			size_t cut = n6 < 1280 - 48 ? n6 : 1280 - 48; /* as much as RFC 4443 lets the host quote */
			struct rte_mbuf *m = host_error_shim(1, cut, &c, &nin);
			assert_int_equal(dp_icmp_out_shim(m, &c.w, &x, mtu), DP_ICMP_OK);
			size_t want = nin - 14 + 8 > mtu ? mtu - 8 : nin - 14;
			assert_int_equal(mlen(m), 14 + want);
			assert_int_equal(m->pkt_len, 14 + want);
			assert_false(dp_shim_too_big(m, mtu));
			uint8_t *ip = mdata(m) + 14;
			assert_int_equal(dp_get16(ip + 4), want - 40);
			/* equals the error the host would have built with less room */
			size_t nbe = icmp_err(bexp, 1, 0, H1, PEER, got + 14, want - 48);
			size_t nexp = build(fexp, H1, PEER, 58, NULL, 0, bexp, nbe);
			assert_memory_equal(mdata(m), fexp, nexp);
		}
	}
}

static void test_shim_error_refused(void **state)
{
	(void)state;
	struct dp_cls c;
	size_t nw, nin;
	struct dp_ctx x = ctx_here();
	size_t n6 = peer_to_host_shim(6, 20, &nw);

	/* about a packet from someone else */
	struct dp_ctx o = x;
	A("fd00:2:2:1::23", o.remote_ulid);
	struct rte_mbuf *m = host_error_shim(1, n6, &c, &nin);
	assert_int_equal(dp_icmp_out_shim(m, &c.w, &o, 1500), DP_ICMP_MISMATCH);
	o = x;
	A("fd00:1:1:1::77", o.local_ulid);
	assert_int_equal(dp_icmp_out_shim(m, &c.w, &o, 1500), DP_ICMP_MISMATCH);
	assert_memory_equal(mdata(m), fin, nin);

	/* embedded fixed header cut short, and wrong version */
	for (size_t cut = 0; cut < 40; cut++) {
		m = host_error_shim(1, cut, &c, &nin);
		assert_int_equal(dp_icmp_out_shim(m, &c.w, &x, 1280), DP_ICMP_MALFORMED);
		assert_memory_equal(mdata(m), fin, nin);
	}
	got[14] = 0x40;
	m = host_error_shim(1, n6, &c, &nin);
	assert_int_equal(dp_icmp_out_shim(m, &c.w, &x, 1500), DP_ICMP_MALFORMED);
	got[14] = 0x60;

	/* an MTU that leaves no room for the embedded header */
	m = host_error_shim(1, n6, &c, &nin);
	assert_int_equal(dp_icmp_out_shim(m, &c.w, &x, 90), DP_ICMP_NOROOM);
	assert_memory_equal(mdata(m), fin, nin);
}

/* ---- Shim6: error leaving outside the context, embedded as on the wire ------ */

static void test_shim_error_wire_form(void **state)
{
	(void)state;
	struct dp_cls c;
	size_t nw, nin;
	struct dp_ctx x = ctx_here(), y = ctx_there();
	size_t n6 = peer_to_host_shim(6, 300, &nw);
	struct rte_mbuf *m = host_error_shim(1, n6, &c, &nin);

	assert_int_equal(dp_icmp_out_shim_wire(m, &c.w, &x, 1280), DP_ICMP_OK);
	/* from our locator to the peer's, quoting the peer's packet as it was on the wire */
	size_t nbe = icmp_err(bexp, 1, 0, LOC1, RLOC, wire + 14, nw - 14);
	size_t nexp = build(fexp, LOC1, RLOC, 58, NULL, 0, bexp, nbe);
	assert_int_equal(mlen(m), nexp);
	assert_memory_equal(mdata(m), fexp, nexp);

	/* the peer's proxy translates it as an error from the path */
	dp_classify_isp(&peer_site, m, &c);
	assert_int_equal(c.verdict, DP_V_IN_ICMP_ERR);
	struct dp_icmp_inner in;
	assert_int_equal(dp_icmp_inner_parse(mdata(m) + 14, mlen(m) - 14, &c.w, &in), DP_ICMP_OK);
	assert_true(in.shim);
	assert_true(in.peer_tag == y.peer_tag);
	assert_int_equal(dp_icmp_xlate_shim(m, &c.w, &in, &y), DP_ICMP_OK);
	size_t n4 = tcp(l4, PEER, H1, 300);
	uint8_t sent[600];
	size_t ns = build(sent, PEER, H1, 6, NULL, 0, l4, n4);
	nbe = icmp_err(bexp, 1, 0, LOC1, PEER, sent + 14, ns - 14);
	nexp = build(fexp, LOC1, PEER, 58, NULL, 0, bexp, nbe);
	assert_int_equal(mlen(m), nexp);
	assert_memory_equal(mdata(m), fexp, nexp);
}

static void test_shim_error_wire_form_hbh_and_cut(void **state)
{
	(void)state;
	struct dp_cls c;
	struct dp_ctx x = ctx_here();
	uint8_t ext[16] = { 140, 0, 1, 4, 0, 0, 0, 0 };
	shim_hdr(ext + 8, 17, OTAG);

	/* Hop-by-Hop stays first: the payload header goes back after it */
	size_t n4 = udp(l4, PEER, H1, 1300, false);
	size_t nw = build(wire, RLOC, LOC1, 0, ext, 16, l4, n4);
	struct rte_mbuf *m = tight(wire, nw, FAB_HEADROOM);
	dp_classify_isp(&site, m, &c);
	assert_int_equal(c.verdict, DP_V_IN_SHIM);
	assert_int_equal(dp_shim_decap(m, &c.w, &x), DP_RW_OK);
	size_t n = mlen(m);
	memcpy(got, mdata(m), n);
	assert_int_equal(got[14 + 40], 17);
	size_t cut = 1280 - 48;                      /* a full-size error */
	size_t nin;
	m = host_error_shim(1, cut, &c, &nin);
	assert_int_equal(nin - 14, 1280);
	assert_int_equal(dp_icmp_out_shim_wire(m, &c.w, &x, 1280), DP_ICMP_OK);
	size_t nbe = icmp_err(bexp, 1, 0, LOC1, RLOC, wire + 14, 1280 - 48);
	size_t nexp = build(fexp, LOC1, RLOC, 58, NULL, 0, bexp, nbe);
	assert_int_equal(mlen(m), 14 + 1280);
	assert_memory_equal(mdata(m), fexp, nexp);

	/* a cut that would split the payload header back in: refused, untouched */
	m = host_error_shim(1, cut, &c, &nin);
	assert_int_equal(dp_icmp_out_shim_wire(m, &c.w, &x, 48 + 40 + 8 + 7), DP_ICMP_NOROOM);
	assert_memory_equal(mdata(m), fin, nin);
}

static void test_shim_error_wire_form_refused(void **state)
{
	(void)state;
	struct dp_cls c;
	size_t nw, nin;
	struct dp_ctx x = ctx_here();
	size_t n6 = peer_to_host_shim(6, 30, &nw);

	/* a corrupted error is not given a fresh checksum */
	struct rte_mbuf *m = host_error_shim(1, n6, &c, &nin);
	mdata(m)[nin - 1] ^= 0x40;
	memcpy(fexp, mdata(m), nin);
	assert_int_equal(dp_icmp_out_shim_wire(m, &c.w, &x, 1280), DP_ICMP_MALFORMED);
	assert_memory_equal(mdata(m), fexp, nin);

	/* no headroom for the 8 octets */
	size_t nb = icmp_err(body, 1, 0, H1, PEER, got + 14, n6);
	nin = build(fin, H1, PEER, 58, NULL, 0, body, nb);
	m = tight(fin, nin, 4);
	dp_classify_inside(&site, m, &c);
	assert_int_equal(dp_icmp_out_shim_wire(m, &c.w, &x, 1280), DP_ICMP_NOROOM);
	assert_memory_equal(mdata(m), fin, nin);

	/* mismatch, truncated and wrong-version embedded headers */
	struct dp_ctx o = x;
	A("fd00:2:2:1::23", o.remote_ulid);
	m = host_error_shim(1, n6, &c, &nin);
	assert_int_equal(dp_icmp_out_shim_wire(m, &c.w, &o, 1280), DP_ICMP_MISMATCH);
	for (size_t cut = 0; cut < 40; cut++) {
		m = host_error_shim(1, cut, &c, &nin);
		assert_int_equal(dp_icmp_out_shim_wire(m, &c.w, &x, 1280), DP_ICMP_MALFORMED);
		assert_memory_equal(mdata(m), fin, nin);
	}
	got[14] = 0x70;
	m = host_error_shim(1, n6, &c, &nin);
	assert_int_equal(dp_icmp_out_shim_wire(m, &c.w, &x, 1280), DP_ICMP_MALFORMED);
	got[14] = 0x60;
	/* a lying embedded Hop-by-Hop length */
	got[14 + 6] = 0;
	got[14 + 40 + 1] = 200;
	m = host_error_shim(1, n6, &c, &nin);
	assert_int_equal(dp_icmp_out_shim_wire(m, &c.w, &x, 1280), DP_ICMP_MALFORMED);
	assert_int_equal(dp_icmp_out_shim(m, &c.w, &x, 1280), DP_ICMP_MALFORMED);
	assert_memory_equal(mdata(m), fin, nin);
}

/* Guards of dp_icmp_out_shim / dp_icmp_out_shim_wire the other tests do not reach:
 * a fragmented error is never cut (out_shim: NOROOM) nor rebuilt (wire: MALFORMED);
 * the cut bound sits exactly at the embedded fixed header; an embedded payload
 * header or a foreign embedded destination is refused; an embedded payload
 * length that cannot grow by 8 is malformed; the wire form is cut to exactly max. */
static void test_shim_error_out_guards(void **state)
{
	(void)state;
	struct dp_cls c;
	size_t nw, nin;
	struct dp_ctx x = ctx_here();
	struct rte_mbuf *m;

	/* the host's error in a first fragment, too big for the link once shimmed */
	size_t n6 = peer_to_host_shim(17, 1300, &nw);
	size_t nb = icmp_err(body, 1, 0, H1, PEER, got + 14, 1232);
	uint8_t fr[8] = { 58, 0, 0x00, 0x01, 0, 0, 0, 9 };
	nin = build(fin, H1, PEER, 44, fr, 8, body, nb);
	m = tight(fin, nin, FAB_HEADROOM);
	dp_classify_inside(&site, m, &c);
	assert_int_equal(c.verdict, DP_V_EG_SHIM);
	assert_int_equal(c.w.frag, 1);
	assert_int_equal(dp_icmp_out_shim(m, &c.w, &x, 1280), DP_ICMP_NOROOM);
	assert_memory_equal(mdata(m), fin, nin);
	assert_int_equal(dp_icmp_out_shim_wire(m, &c.w, &x, 1280), DP_ICMP_MALFORMED);
	assert_memory_equal(mdata(m), fin, nin);

	/* the cut: max = mtu - 8 may keep the embedded fixed header exactly, not one octet less */
	n6 = peer_to_host_shim(6, 20, &nw);
	m = host_error_shim(1, n6, &c, &nin);
	assert_int_equal(dp_icmp_out_shim(m, &c.w, &x, 8 + 40 + 8 + 40 - 1), DP_ICMP_NOROOM);
	assert_memory_equal(mdata(m), fin, nin);
	assert_int_equal(dp_icmp_out_shim(m, &c.w, &x, 8 + 40 + 8 + 40), DP_ICMP_OK);
	assert_int_equal(mlen(m), 14 + 40 + 8 + 40);

	/* about a packet that carried a payload header */
	uint8_t sh[8], sent[256];
	shim_hdr(sh, 6, OTAG);
	size_t ns = build(sent, PEER, H1, 140, sh, 8, l4, tcp(l4, PEER, H1, 20));
	memcpy(got, sent, ns);
	m = host_error_shim(1, ns - 14, &c, &nin);
	assert_int_equal(dp_icmp_out_shim(m, &c.w, &x, 1500), DP_ICMP_MALFORMED);
	assert_int_equal(dp_icmp_out_shim_wire(m, &c.w, &x, 1280), DP_ICMP_MALFORMED);
	assert_memory_equal(mdata(m), fin, nin);

	/* wire form: embedded destination not our ULID */
	n6 = peer_to_host_shim(6, 20, &nw);
	struct dp_ctx o = x;
	A("fd00:1:1:1::77", o.local_ulid);
	m = host_error_shim(1, n6, &c, &nin);
	assert_int_equal(dp_icmp_out_shim_wire(m, &c.w, &o, 1280), DP_ICMP_MISMATCH);
	assert_memory_equal(mdata(m), fin, nin);

	/* wire form: embedded payload length 0xfff8 cannot take 8 more */
	got[14 + 4] = 0xff;
	got[14 + 5] = 0xf8;
	m = host_error_shim(1, n6, &c, &nin);
	assert_int_equal(dp_icmp_out_shim_wire(m, &c.w, &x, 1280), DP_ICMP_MALFORMED);
	assert_memory_equal(mdata(m), fin, nin);

	/* wire form: 8 octets added, max one below: cut to exactly max, checksum right */
	n6 = peer_to_host_shim(6, 100, &nw);
	m = host_error_shim(1, n6, &c, &nin);
	uint32_t max = (uint32_t)(nin - 14) + 8 - 1;
	assert_int_equal(dp_icmp_out_shim_wire(m, &c.w, &x, max), DP_ICMP_OK);
	assert_int_equal(mlen(m), 14 + max);
	uint8_t *ip = mdata(m) + 14;
	assert_int_equal(dp_get16(ip + 4), max - 40);
	assert_int_equal(ref_verify6(LOC1, RLOC, 58, ip + 40, max - 40), 0xffff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nat_error_roundtrip),
		cmocka_unit_test(test_nat_error_other_isp),
		cmocka_unit_test(test_nat_error_every_cut),
		cmocka_unit_test(test_nat_error_udp_zero_checksum),
		cmocka_unit_test(test_nat_error_ext_headers),
		cmocka_unit_test(test_nat_error_mismatch_and_hostile),
		cmocka_unit_test(test_nat_error_random_embedded),
		cmocka_unit_test(test_shim_error_in_context_roundtrip),
		cmocka_unit_test(test_shim_error_fits_mtu),
		cmocka_unit_test(test_shim_error_refused),
		cmocka_unit_test(test_shim_error_wire_form),
		cmocka_unit_test(test_shim_error_wire_form_hbh_and_cut),
		cmocka_unit_test(test_shim_error_wire_form_refused),
		cmocka_unit_test(test_shim_error_out_guards),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
