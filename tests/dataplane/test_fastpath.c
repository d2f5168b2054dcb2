/*
 * Fast-path nodes on fabricated mbufs: each case builds the frame before and
 * the frame expected after, independently of the code under test, and checks
 * every checksum with a separate reference routine.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "fabmbuf.h"
#include "classify.h"
#include "classify_fast.h"
#include "icmp6.h"
#include "natv6.h"
#include "rewrite.h"

static uint8_t A(const char *s, uint8_t out[16]) { return (uint8_t)inet_pton(AF_INET6, s, out); }

static struct dp_site site;
static uint8_t H1[16], PEER[16], LOC1[16], RLOC[16], LEGACY[16], H1X[16], H1Y[16], RTR[16], INADDR[16];
static const uint64_t PTAG = UINT64_C(0x123456789abc), OTAG = UINT64_C(0x00000000beef);

static void pfx(struct dp_prefix *p, const char *a, uint8_t len) { A(a, p->addr); p->len = len; }

static int setup(void **state)
{
	memset(&site, 0, sizeof(site));
	site.n_cmula = 1;
	pfx(&site.cmula[0], "fd00:1:1:1::", 64);
	pfx(&site.cmula_space, "fd00::", 8);
	site.n_isp = 2;
	pfx(&site.isp[0].pa, "2001:db8:10:1::", 64);
	pfx(&site.isp[1].pa, "2001:db8:20:1::", 64);
	A("2001:db8:10:ffff::2", site.isp[0].addr);
	A("2001:db8:20:ffff::2", site.isp[1].addr);
	site.isp[0].mtu = site.isp[1].mtu = 1500;
	site.isp[0].weight = 3;
	site.isp[1].weight = 1;
	site.weight_total = 4;
	A("fd00:1:1:ffff::1", site.inside_addr);
	memcpy(INADDR, site.inside_addr, 16);
	site.inside_mtu = 1500;
	site.ptb = true;
	A("fd00:1:1:1:1c2d:3e4f:5a6b:7c8d", H1);
	A("fd00:2:2:1::22", PEER);
	A("2001:db8:10:1:1c2d:3e4f:5a6b:7c8d", LOC1);
	A("2001:db8:30:1::22", RLOC);
	A("2001:db8:77::5", LEGACY);
	memcpy(H1X, LOC1, 16);
	A("2001:db8:20:1:1c2d:3e4f:5a6b:7c8d", H1Y);
	A("2001:db8:99::1", RTR);
	return 0;
}

/* ---- packet builder (independent of the code under test) --------------- */


#define build fab_frame

#define tcp fab_tcp
#define udp fab_udp
#define echo fab_echo

#define shim_hdr fab_shim_hdr

static struct dp_ctx ctx(void)
{
	struct dp_ctx c;
	memset(&c, 0, sizeof(c));
	memcpy(c.local_ulid, H1, 16);
	memcpy(c.remote_ulid, PEER, 16);
	memcpy(c.local_loc, LOC1, 16);
	memcpy(c.remote_loc, RLOC, 16);
	c.peer_tag = PTAG;
	c.own_tag = OTAG;
	c.isp = 0;
	return c;
}

static uint8_t *mdata(struct rte_mbuf *m) { return rte_pktmbuf_mtod(m, uint8_t *); }

static struct fab fab;
static uint8_t in[2048], exp_[2048], l4[2048], l4b[2048];

/* ---- egress with header insertion -------------------------------------- */

static void test_egress_encap_tcp(void **state)
{
	size_t n4 = tcp(l4, H1, PEER, 100);
	size_t nin = build(in, H1, PEER, 6, NULL, 0, l4, n4);
	uint8_t sh[8];
	shim_hdr(sh, 6, PTAG);
	size_t nexp = build(exp_, LOC1, RLOC, 140, sh, 8, l4, n4);

	struct rte_mbuf *m = fab_mbuf(&fab, in, nin);
	struct dp_cls c;
	dp_classify_inside(&site, m, &c);
	assert_int_equal(c.verdict, DP_V_EG_SHIM);
	struct dp_ctx x = ctx();
	assert_int_equal(dp_shim_encap(m, &x), DP_RW_OK);
	assert_int_equal(rte_pktmbuf_data_len(m), nexp);
	assert_int_equal(m->pkt_len, nexp);
	assert_memory_equal(mdata(m), exp_, nexp);
	/* the TCP checksum still verifies against the ULIDs, as the peer will see them */
	assert_int_equal(ref_verify6(H1, PEER, 6, mdata(m) + 14 + 48, n4), 0xffff);
}

static void test_egress_encap_after_hbh(void **state)
{
	uint8_t hbh[8] = { 17, 0, 1, 4, 0, 0, 0, 0 }; /* HBH -> UDP, PadN */
	size_t n4 = udp(l4, H1, PEER, 33, false);
	size_t nin = build(in, H1, PEER, 0, hbh, 8, l4, n4);
	uint8_t ext[16];
	memcpy(ext, hbh, 8);
	ext[0] = 140;
	shim_hdr(ext + 8, 17, PTAG);
	size_t nexp = build(exp_, LOC1, RLOC, 0, ext, 16, l4, n4);

	struct rte_mbuf *m = fab_mbuf(&fab, in, nin);
	struct dp_cls c;
	dp_classify_inside(&site, m, &c);
	assert_int_equal(c.verdict, DP_V_EG_SHIM);
	struct dp_ctx x = ctx();
	assert_int_equal(dp_shim_encap(m, &x), DP_RW_OK);
	assert_int_equal(rte_pktmbuf_data_len(m), nexp);
	assert_memory_equal(mdata(m), exp_, nexp);
}

static void test_egress_no_headroom(void **state)
{
	size_t nin = build(in, H1, PEER, 6, NULL, 0, l4, tcp(l4, H1, PEER, 0));
	struct rte_mbuf *m = fab_mbuf(&fab, in, nin);
	m->data_off = 4; /* move the frame so only 4 octets of headroom remain */
	memcpy(fab.buf + 4, in, nin);
	struct dp_ctx x = ctx();
	assert_int_equal(dp_shim_encap(m, &x), DP_RW_NOROOM);
	assert_memory_equal(mdata(m), in, nin); /* untouched */
}

/* ---- ingress with header removal --------------------------------------- */

static void test_ingress_decap(void **state)
{
	/* the peer sends from its locator to ours, tag = our own tag */
	size_t n4 = tcp(l4, PEER, H1, 200);
	uint8_t sh[8];
	shim_hdr(sh, 6, OTAG);
	size_t nin = build(in, RLOC, LOC1, 140, sh, 8, l4, n4);
	size_t nexp = build(exp_, PEER, H1, 6, NULL, 0, l4, n4);

	struct rte_mbuf *m = fab_mbuf(&fab, in, nin);
	struct dp_cls c;
	dp_classify_isp(&site, m, &c);
	assert_int_equal(c.verdict, DP_V_IN_SHIM);
	assert_true(c.tag == OTAG);
	struct dp_ctx x = ctx();
	assert_int_equal(dp_shim_decap(m, &c.w, &x), DP_RW_OK);
	assert_int_equal(rte_pktmbuf_data_len(m), nexp);
	assert_memory_equal(mdata(m), exp_, nexp);
	assert_int_equal(ref_verify6(PEER, H1, 6, mdata(m) + 54, n4), 0xffff);
}

static void test_ingress_decap_after_dstopts(void **state)
{
	uint8_t ext[16] = { 140, 0, 1, 4, 0, 0, 0, 0 };
	shim_hdr(ext + 8, 17, OTAG);
	size_t n4 = udp(l4, PEER, H1, 10, false);
	size_t nin = build(in, RLOC, LOC1, 60, ext, 16, l4, n4);
	uint8_t ex2[8] = { 17, 0, 1, 4, 0, 0, 0, 0 };
	size_t nexp = build(exp_, PEER, H1, 60, ex2, 8, l4, n4);

	struct rte_mbuf *m = fab_mbuf(&fab, in, nin);
	struct dp_cls c;
	dp_classify_isp(&site, m, &c);
	assert_int_equal(c.verdict, DP_V_IN_SHIM);
	struct dp_ctx x = ctx();
	assert_int_equal(dp_shim_decap(m, &c.w, &x), DP_RW_OK);
	assert_memory_equal(mdata(m), exp_, nexp);
}

static void test_ingress_roundtrip_of_egress(void **state)
{
	/* what we encapsulate, a peer with the mirror context decapsulates back */
	size_t n4 = tcp(l4, H1, PEER, 500);
	size_t nin = build(in, H1, PEER, 6, NULL, 0, l4, n4);
	struct rte_mbuf *m = fab_mbuf(&fab, in, nin);
	struct dp_ctx x = ctx(), mirror;
	assert_int_equal(dp_shim_encap(m, &x), 0);
	memset(&mirror, 0, sizeof(mirror));
	memcpy(mirror.local_ulid, PEER, 16);
	memcpy(mirror.remote_ulid, H1, 16);
	mirror.own_tag = PTAG;
	struct dp_site peer_site = site;
	peer_site.n_isp = 1;
	pfx(&peer_site.isp[0].pa, "2001:db8:30:1::", 64);
	struct dp_cls c;
	dp_classify_isp(&peer_site, m, &c);
	assert_int_equal(c.verdict, DP_V_IN_SHIM);
	assert_true(c.tag == PTAG);
	assert_int_equal(dp_shim_decap(m, &c.w, &mirror), 0);
	assert_int_equal(rte_pktmbuf_data_len(m), nin);
	assert_memory_equal(mdata(m), in, nin);
}

static void test_ingress_control_and_frag(void **state)
{
	uint8_t msg[16] = { 59, 1, 0x01, 0, 0, 0 }; /* P=0, type 1 (I1) */
	size_t nin = build(in, RLOC, LOC1, 140, NULL, 0, msg, 16);
	struct rte_mbuf *m = fab_mbuf(&fab, in, nin);
	struct dp_cls c;
	dp_classify_isp(&site, m, &c);
	assert_int_equal(c.verdict, DP_V_IN_SHIM_CTL);

	uint8_t ext[16] = { 140, 0, 0, 0, 0, 0, 0, 1 }; /* fragment, offset 0, M=1 */
	shim_hdr(ext + 8, 6, OTAG);
	nin = build(in, RLOC, LOC1, 44, ext, 16, l4, 20);
	m = fab_mbuf(&fab, in, nin);
	dp_classify_isp(&site, m, &c);
	assert_int_equal(c.verdict, DP_V_DROP);
	assert_int_equal(c.drop, DP_DROP_SHIM_AFTER_FRAG);

	/* the order RFC 5533 gives, payload header then Fragment header: each
	 * fragment is restored on its own and keeps its Fragment header */
	uint8_t ext2[16];
	shim_hdr(ext2, 44, OTAG);
	memcpy(ext2 + 8, (const uint8_t[8]){ 6, 0, 0, 0, 0, 0, 0, 1 }, 8);
	nin = build(in, RLOC, LOC1, 140, ext2, 16, l4, 20);
	m = fab_mbuf(&fab, in, nin);
	dp_classify_isp(&site, m, &c);
	assert_int_equal(c.verdict, DP_V_IN_SHIM);
	assert_true(c.tag == OTAG);
	size_t nexp = build(exp_, PEER, H1, 44, ext2 + 8, 8, l4, 20);
	struct dp_ctx x = ctx();
	assert_int_equal(dp_shim_decap(m, &c.w, &x), DP_RW_OK);
	assert_int_equal(rte_pktmbuf_data_len(m), nexp);
	assert_memory_equal(mdata(m), exp_, nexp);
}

/* ---- NATv6 -------------------------------------------------------------- */

static void check_nat_out(uint8_t proto, size_t n4, int isp_expect)
{
	size_t nin = build(in, H1, LEGACY, proto, NULL, 0, l4, n4);
	struct rte_mbuf *m = fab_mbuf(&fab, in, nin);
	struct dp_cls c;
	dp_classify_inside(&site, m, &c);
	assert_int_equal(c.verdict, DP_V_EG_NAT);
	int isp = dp_isp_pick(&site, H1, LEGACY);
	assert_true(isp == 0 || isp == 1);
	if (isp_expect >= 0)
		assert_int_equal(isp, isp_expect);
	uint8_t pa[16];
	dp_map_out(&site, (unsigned)isp, H1, pa);
	assert_memory_equal(pa, isp ? H1Y : H1X, 16);
	dp_nat_out(m, &c.w, pa);
	uint8_t *ip = mdata(m) + 14;
	assert_memory_equal(ip + 8, pa, 16);
	assert_memory_equal(ip + 24, LEGACY, 16);
	assert_int_equal(ref_verify6(pa, LEGACY, proto, ip + 40, n4), 0xffff);
	/* and back in: the legacy peer answers to the PA address */
	memcpy(l4b, ip + 40, n4);
	size_t nback = build(in, LEGACY, pa, proto, NULL, 0, l4b, n4);
	m = fab_mbuf(&fab, in, nback);
	dp_classify_isp(&site, m, &c);
	assert_int_equal(c.verdict, DP_V_IN_NAT);
	assert_int_equal(c.isp, isp);
	uint8_t cm[16];
	dp_map_in(&site, pa, cm);
	assert_memory_equal(cm, H1, 16);
	dp_nat_in(m, &c.w, cm);
	ip = mdata(m) + 14;
	assert_memory_equal(ip + 24, H1, 16);
	assert_int_equal(ref_verify6(LEGACY, H1, proto, ip + 40, n4), 0xffff);
}

static void test_nat_tcp_udp_icmp(void **state)
{
	check_nat_out(6, tcp(l4, H1, LEGACY, 77), -1);
	check_nat_out(17, udp(l4, H1, LEGACY, 31, false), -1);
	check_nat_out(58, echo(l4, H1, LEGACY, 56), -1);
}

static void test_nat_udp_zero_checksum_kept(void **state)
{
	size_t n4 = udp(l4, H1, LEGACY, 12, true);
	size_t nin = build(in, H1, LEGACY, 17, NULL, 0, l4, n4);
	struct rte_mbuf *m = fab_mbuf(&fab, in, nin);
	struct dp_cls c;
	dp_classify_inside(&site, m, &c);
	dp_nat_out(m, &c.w, H1X);
	assert_int_equal(mdata(m)[14 + 40 + 6], 0);
	assert_int_equal(mdata(m)[14 + 40 + 7], 0);
}

static void test_nat_later_fragment_untouched_payload(void **state)
{
	uint8_t ext[8] = { 6, 0, 0x05, 0xa8, 0, 0, 0, 9 }; /* offset 181*8, not first */
	memset(l4, 0x5a, 64);
	size_t nin = build(in, H1, LEGACY, 44, ext, 8, l4, 64);
	struct rte_mbuf *m = fab_mbuf(&fab, in, nin);
	struct dp_cls c;
	dp_classify_inside(&site, m, &c);
	assert_int_equal(c.verdict, DP_V_EG_NAT);
	assert_int_equal(c.w.frag, 2);
	dp_nat_out(m, &c.w, H1X);
	assert_memory_equal(mdata(m) + 14 + 48, l4, 64);
	assert_memory_equal(mdata(m) + 14 + 8, H1X, 16);
}

static void test_isp_pick_weights_and_stability(void **state)
{
	unsigned hits[2] = { 0, 0 };
	uint8_t src[16], dst[16];
	memcpy(src, H1, 16);
	memcpy(dst, LEGACY, 16);
	for (unsigned i = 0; i < 20000; i++) {
		src[15] = (uint8_t)i; src[14] = (uint8_t)(i >> 8);
		dst[13] = (uint8_t)(i * 13);
		int a = dp_isp_pick(&site, src, dst);
		assert_int_equal(a, dp_isp_pick(&site, src, dst));
		hits[a]++;
	}
	double f = hits[0] / 20000.0;
	assert_true(f > 0.70 && f < 0.80); /* weights 3:1 */
	/* consecutive peers of one host, and consecutive hosts to one peer (only
	 * the last octet differs): still spread, weights 1:1 */
	struct dp_site s1 = site;
	s1.isp[0].weight = s1.isp[1].weight = 1;
	s1.weight_total = 2;
	for (int which = 0; which < 2; which++) {
		unsigned n0 = 0;
		memcpy(src, H1, 16);
		memcpy(dst, LEGACY, 16);
		for (unsigned i = 0; i < 256; i++) {
			(which ? src : dst)[15] = (uint8_t)i;
			n0 += dp_isp_pick(&s1, src, dst) == 0;
		}
		assert_in_range(n0, 256 * 35 / 100, 256 * 65 / 100);
	}
	struct dp_site s2 = site;
	s2.isp[1].weight = 0;
	s2.weight_total = 3;
	for (unsigned i = 0; i < 1000; i++) {
		src[15] = (uint8_t)i;
		assert_int_equal(dp_isp_pick(&s2, src, dst), 0);
	}
}

/* ---- ICMPv6 error translation ------------------------------------------ */

static size_t icmp_err(uint8_t *s, uint8_t type, const uint8_t *osrc, const uint8_t *odst,
		       const uint8_t *inner, size_t ilen)
{
	memset(s, 0, 8);
	s[0] = type;
	memcpy(s + 8, inner, ilen);
	uint16_t c = ref_csum6(osrc, odst, 58, s, 8 + ilen);
	s[2] = (uint8_t)(c >> 8); s[3] = (uint8_t)c;
	return 8 + ilen;
}

static void test_icmp_error_about_shimmed(void **state)
{
	/* what we sent: H1->PEER TCP, shimmed to LOC1->RLOC with PTAG */
	size_t n4 = tcp(l4, H1, PEER, 40);
	uint8_t sh[8], sent[512], orig[512];
	shim_hdr(sh, 6, PTAG);
	size_t nsent = build(sent, LOC1, RLOC, 140, sh, 8, l4, n4);
	size_t norig = build(orig, H1, PEER, 6, NULL, 0, l4, n4);
	/* a router answers Destination Unreachable to our locator */
	uint8_t body[600], bexp[600];
	size_t nb = icmp_err(body, 1, RTR, LOC1, sent + 14, nsent - 14);
	size_t nin = build(in, RTR, LOC1, 58, NULL, 0, body, nb);
	size_t nbe = icmp_err(bexp, 1, RTR, H1, orig + 14, norig - 14);
	size_t nexp = build(exp_, RTR, H1, 58, NULL, 0, bexp, nbe);

	struct rte_mbuf *m = fab_mbuf(&fab, in, nin);
	struct dp_cls c;
	dp_classify_isp(&site, m, &c);
	assert_int_equal(c.verdict, DP_V_IN_ICMP_ERR);
	struct dp_icmp_inner ii;
	uint8_t *ip = mdata(m) + 14;
	assert_int_equal(dp_icmp_inner_parse(ip, rte_pktmbuf_data_len(m) - 14, &c.w, &ii), 0);
	assert_true(ii.shim);
	assert_true(ii.peer_tag == PTAG);
	struct dp_ctx x = ctx();
	assert_int_equal(dp_icmp_xlate_shim(m, &c.w, &ii, &x), 0);
	assert_int_equal(rte_pktmbuf_data_len(m), nexp);
	assert_memory_equal(mdata(m), exp_, nexp);
	ip = mdata(m) + 14;
	assert_int_equal(ref_verify6(RTR, H1, 58, ip + 40, nbe), 0xffff);

	/* same error, but the context's locators differ: refused, not translated */
	m = fab_mbuf(&fab, in, nin);
	dp_classify_isp(&site, m, &c);
	dp_icmp_inner_parse(mdata(m) + 14, rte_pktmbuf_data_len(m) - 14, &c.w, &ii);
	memcpy(x.remote_loc, LEGACY, 16);
	assert_int_equal(dp_icmp_xlate_shim(m, &c.w, &ii, &x), DP_ICMP_MISMATCH);
}

static void test_icmp_error_about_natted(void **state)
{
	/* we NATed H1->LEGACY UDP to H1X->LEGACY; an error comes back, truncated inner */
	size_t n4 = udp(l4, H1X, LEGACY, 100, false);
	uint8_t sent[512], orig[512];
	size_t nsent = build(sent, H1X, LEGACY, 17, NULL, 0, l4, n4);
	memcpy(l4b, l4, n4);
	/* the inner as the host sent it: checksum for H1 (re-derived independently) */
	l4b[6] = l4b[7] = 0;
	uint16_t ck = ref_csum6(H1, LEGACY, 17, l4b, n4);
	l4b[6] = (uint8_t)(ck >> 8); l4b[7] = (uint8_t)ck;
	size_t norig = build(orig, H1, LEGACY, 17, NULL, 0, l4b, n4);
	uint8_t body[600], bexp[600];
	size_t nb = icmp_err(body, 1, RTR, H1X, sent + 14, nsent - 14);
	size_t nin = build(in, RTR, H1X, 58, NULL, 0, body, nb);
	size_t nbe = icmp_err(bexp, 1, RTR, H1, orig + 14, norig - 14);
	size_t nexp = build(exp_, RTR, H1, 58, NULL, 0, bexp, nbe);

	struct rte_mbuf *m = fab_mbuf(&fab, in, nin);
	struct dp_cls c;
	dp_classify_isp(&site, m, &c);
	assert_int_equal(c.verdict, DP_V_IN_ICMP_ERR);
	struct dp_icmp_inner ii;
	assert_int_equal(dp_icmp_inner_parse(mdata(m) + 14, rte_pktmbuf_data_len(m) - 14, &c.w, &ii), 0);
	assert_false(ii.shim);
	uint8_t od[16], is[16];
	dp_map_in(&site, mdata(m) + 14 + 24, od);
	dp_map_in(&site, mdata(m) + 14 + ii.off + 8, is);
	assert_int_equal(dp_icmp_xlate_nat(m, &c.w, &ii, od, is), 0);
	assert_memory_equal(mdata(m), exp_, nexp);
}

/* ---- Packet Too Big ------------------------------------------------------ */

static void test_ptb(void **state)
{
	size_t n4 = tcp(l4, H1, PEER, 1500 - 40 - 20);   /* a full 1500-octet packet */
	size_t nin = build(in, H1, PEER, 6, NULL, 0, l4, n4);
	struct rte_mbuf *m = fab_mbuf(&fab, in, nin);
	struct dp_cls c;
	dp_classify_inside(&site, m, &c);
	assert_int_equal(c.verdict, DP_V_EG_SHIM);
	assert_true(dp_shim_too_big(m, 1500));
	assert_int_equal(dp_icmp_ptb(m, &c.w, 1500 - 8, INADDR), DP_ICMP_OK);
	uint8_t *ip = mdata(m) + 14;
	assert_int_equal(rte_pktmbuf_data_len(m), 14 + 1280);
	assert_int_equal(m->pkt_len, 14 + 1280);
	assert_int_equal(ip[0] >> 4, 6);
	assert_int_equal(ip[4] << 8 | ip[5], 1240);
	assert_int_equal(ip[6], 58);
	assert_memory_equal(ip + 8, INADDR, 16);
	assert_memory_equal(ip + 24, H1, 16);
	assert_int_equal(ip[40], 2);
	assert_int_equal(ip[41], 0);
	assert_int_equal((ip[44] << 24) | (ip[45] << 16) | (ip[46] << 8) | ip[47], 1492);
	assert_memory_equal(ip + 48, in + 14, 1232); /* the start of what the host sent */
	assert_int_equal(ref_verify6(INADDR, H1, 58, ip + 40, 1240), 0xffff);

	/* exactly fits with the header: not too big */
	nin = build(in, H1, PEER, 6, NULL, 0, l4, tcp(l4, H1, PEER, 1492 - 60));
	m = fab_mbuf(&fab, in, nin);
	assert_false(dp_shim_too_big(m, 1500));

	/* never an error about an error */
	uint8_t body[1600];
	size_t nb = icmp_err(body, 1, H1, PEER, in + 14, 1400);
	nin = build(in, H1, PEER, 58, NULL, 0, body, nb);
	m = fab_mbuf(&fab, in, nin);
	dp_classify_inside(&site, m, &c);
	assert_int_equal(dp_icmp_ptb(m, &c.w, 1492, INADDR), DP_ICMP_NOREPLY);
}

/* ---- hostile input ------------------------------------------------------- */

static void test_classify_rejects_bad_input(void **state)
{
	struct dp_cls c;
	size_t nin = build(in, RLOC, LOC1, 6, NULL, 0, l4, tcp(l4, RLOC, LOC1, 10));
	struct rte_mbuf *m;

	/* lying payload length */
	in[14 + 5] += 1;
	m = fab_mbuf(&fab, in, nin);
	dp_classify_isp(&site, m, &c);
	assert_int_equal(c.verdict, DP_V_DROP);
	assert_int_equal(c.drop, DP_DROP_MALFORMED);
	in[14 + 5] -= 1;

	/* every truncation: dropped as malformed, never anything else */
	for (size_t cut = 0; cut < 14 + 40; cut++) {
		m = fab_mbuf(&fab, in, cut);
		dp_classify_isp(&site, m, &c);
		assert_true(c.verdict == DP_V_DROP || (cut < 14 && c.verdict == DP_V_DROP));
	}

	/* padding after the packet is trimmed, not forwarded */
	memset(in + nin, 0xee, 30);
	m = fab_mbuf(&fab, in, nin + 30);
	dp_classify_isp(&site, m, &c);
	assert_int_equal(c.verdict, DP_V_IN_NAT);
	assert_int_equal(rte_pktmbuf_data_len(m), nin);

	/* a chain of destination options that never ends */
	uint8_t ext[8 * 12];
	for (int i = 0; i < 12; i++) {
		uint8_t *e = ext + 8 * i;
		memset(e, 0, 8);
		e[0] = 60; e[2] = 1; e[3] = 4;
	}
	nin = build(in, RLOC, LOC1, 60, ext, sizeof(ext), NULL, 0);
	m = fab_mbuf(&fab, in, nin);
	dp_classify_isp(&site, m, &c);
	assert_int_equal(c.verdict, DP_V_DROP);
	assert_int_equal(c.drop, DP_DROP_CHAIN);

	/* an extension header whose length runs past the packet */
	ext[1] = 200;
	nin = build(in, RLOC, LOC1, 60, ext, 16, NULL, 0);
	m = fab_mbuf(&fab, in, nin);
	dp_classify_isp(&site, m, &c);
	assert_int_equal(c.drop, DP_DROP_MALFORMED);

	/* Hop-by-Hop not first */
	uint8_t e2[16] = { 0, 0, 1, 4, 0, 0, 0, 0, 59, 0, 1, 4, 0, 0, 0, 0 };
	nin = build(in, RLOC, LOC1, 60, e2, 16, NULL, 0);
	m = fab_mbuf(&fab, in, nin);
	dp_classify_isp(&site, m, &c);
	assert_int_equal(c.drop, DP_DROP_CHAIN);

	/* a payload header cut short */
	uint8_t sh[8];
	shim_hdr(sh, 6, OTAG);
	nin = build(in, RLOC, LOC1, 140, sh, 5, NULL, 0);
	m = fab_mbuf(&fab, in, nin);
	dp_classify_isp(&site, m, &c);
	assert_int_equal(c.drop, DP_DROP_MALFORMED);

	/* not for us at all */
	nin = build(in, RLOC, LEGACY, 6, NULL, 0, l4, 20);
	m = fab_mbuf(&fab, in, nin);
	dp_classify_isp(&site, m, &c);
	assert_int_equal(c.drop, DP_DROP_NO_ROUTE);

	/* ND to our own address: the kernel's business */
	nin = build(in, RLOC, site.isp[0].addr, 58, NULL, 0, l4, 24);
	m = fab_mbuf(&fab, in, nin);
	dp_classify_isp(&site, m, &c);
	assert_int_equal(c.verdict, DP_V_EXCEPTION);

	/* a site host sending from a foreign source is not forwarded */
	nin = build(in, LEGACY, PEER, 6, NULL, 0, l4, 20);
	m = fab_mbuf(&fab, in, nin);
	dp_classify_inside(&site, m, &c);
	assert_int_equal(c.drop, DP_DROP_NO_ROUTE);
}

/* Same verdict, drop reason, ISP, walk and tag as the general classifier. */
static void same_cls(const struct dp_cls *a, const struct dp_cls *b)
{
	assert_int_equal(a->verdict, b->verdict);
	assert_int_equal(a->drop, b->drop);
	assert_int_equal(a->isp, b->isp);
	assert_int_equal(a->w.off, b->w.off);
	assert_int_equal(a->w.nh_off, b->w.nh_off);
	assert_int_equal(a->w.nh, b->w.nh);
	assert_int_equal(a->w.frag, b->w.frag);
	if (a->verdict == DP_V_IN_SHIM)
		assert_true(a->tag == b->tag);
}

/*
 * The fast classifiers take the common packets and agree with the general
 * ones on them; every other frame they decline.  Frames: the common cases,
 * then every single-octet change of their first 70 octets.
 */
static void test_fast_classify_agrees(void **state)
{
	struct dp_fast f;
	struct dp_cls c1, c2;
	uint8_t sh[8 + 20], frames[4][256];
	size_t len[4];
	unsigned taken = 0, declined = 0;

	dp_fast_prep(&site, &f);
	assert_true(f.in_ok);
	assert_true(f.isp_ok);
	len[0] = build(frames[0], H1, PEER, 6, NULL, 0, l4, tcp(l4, H1, PEER, 40));      /* egress, shim */
	len[1] = build(frames[1], H1, LEGACY, 17, NULL, 0, l4, udp(l4, H1, LEGACY, 9, false)); /* egress, NATv6 */
	shim_hdr(sh, 6, OTAG);
	len[2] = build(frames[2], RLOC, LOC1, 140, sh, 8, l4, tcp(l4, PEER, H1, 30));    /* ingress, payload header */
	len[3] = build(frames[3], H1, PEER, 58, NULL, 0, l4, echo(l4, H1, PEER, 16));     /* egress, ICMPv6 */
	for (int k = 0; k < 4; k++) {
		bool isp = k == 2;
		for (int pos = -1; pos < 70; pos++) {
			for (int v = 0; v < (pos < 0 ? 1 : 4); v++) {
				static const uint8_t vals[4] = { 0x00, 0xff, 0x80, 0x3a };
				struct rte_mbuf *m;
				bool fast;
				memcpy(in, frames[k], len[k]);
				if (pos >= 0)
					in[pos] = (uint8_t)(in[pos] ^ vals[v] ^ (vals[v] == 0 ? 1 : 0));
				m = fab_mbuf(&fab, in, len[k]);
				fast = isp ? dp_classify_isp_fast(&f, m, &c1) : dp_classify_inside_fast(&f, m, &c1);
				if (pos < 0)
					assert_true(fast);  /* the common cases are taken */
				m = fab_mbuf(&fab, in, len[k]);
				if (isp)
					dp_classify_isp(&site, m, &c2);
				else
					dp_classify_inside(&site, m, &c2);
				if (fast) {
					same_cls(&c1, &c2);
					taken++;
				} else {
					declined++;
				}
			}
		}
	}
	print_message("# fast classifiers: %u frames taken (all agreeing), %u declined\n", taken, declined);
	assert_true(taken > 100 && declined > 100);
	/* a site prefix longer than 64 bits turns the inside fast path off */
	struct dp_site s2 = site;
	s2.cmula[0].len = 96;
	dp_fast_prep(&s2, &f);
	assert_false(f.in_ok);
}

/* ---- guards of the general classifier, one frame each ------------------- */

static struct dp_cls cls_of(const struct dp_site *st, bool isp, const uint8_t *f, size_t n, uint16_t segs)
{
	struct dp_cls c;
	struct rte_mbuf *m = fab_mbuf(&fab, f, n);
	m->nb_segs = segs;
	if (isp)
		dp_classify_isp(st, m, &c);
	else
		dp_classify_inside(st, m, &c);
	return c;
}

#define CLS(isp, n, v, d) do {                                          \
		struct dp_cls c_ = cls_of(&site, isp, in, n, 1);        \
		assert_int_equal(c_.verdict, v);                        \
		assert_int_equal(c_.drop, d);                           \
	} while (0)

/* A chain of `k` Destination Options headers ending in No Next Header. */
static size_t dst_chain(uint8_t *ext, int k)
{
	memset(ext, 0, 8 * (size_t)k);
	for (int i = 0; i < k; i++) {
		ext[8 * i] = i == k - 1 ? 59 : 60;
		ext[8 * i + 2] = 1; ext[8 * i + 3] = 4; /* PadN */
	}
	return 8 * (size_t)k;
}

static void test_classify_guards(void **state)
{
	uint8_t MC[16], LL[16], HOST2[16], ext[128], sh[16];
	size_t n;
	A("ff02::1", MC);
	A("fe90::1", LL);             /* inside fe80::/10, not fe80::/16 */
	A("fd00:1:1:1::99", HOST2);

	/* Ethernet level: a multi-segment mbuf is dropped; a bare non-IPv6
	 * header (14 octets) and an ARP frame go to the kernel */
	n = build(in, H1, PEER, 6, NULL, 0, l4, tcp(l4, H1, PEER, 10));
	assert_int_equal(cls_of(&site, false, in, n, 2).drop, DP_DROP_MALFORMED);
	in[12] = 0x08; in[13] = 0x06;
	CLS(false, 14, DP_V_EXCEPTION, DP_DROP_MALFORMED);
	CLS(false, 60, DP_V_EXCEPTION, DP_DROP_MALFORMED);
	/* IP version 4 in the IPv6 EtherType; payload length 0 (jumbogram) */
	n = build(in, H1, PEER, 6, NULL, 0, l4, tcp(l4, H1, PEER, 10));
	in[14] = 0x40;
	CLS(false, n, DP_V_DROP, DP_DROP_MALFORMED);
	n = build(in, H1, PEER, 6, NULL, 0, l4, tcp(l4, H1, PEER, 10));
	in[18] = in[19] = 0;
	CLS(false, n, DP_V_DROP, DP_DROP_MALFORMED);

	/* inside: multicast, link-local and the appliance's own destinations, a
	 * link-local source: all for the kernel */
	n = build(in, H1, MC, 6, NULL, 0, l4, tcp(l4, H1, MC, 10));
	CLS(false, n, DP_V_EXCEPTION, DP_DROP_MALFORMED);
	n = build(in, H1, LL, 6, NULL, 0, l4, tcp(l4, H1, LL, 10));
	CLS(false, n, DP_V_EXCEPTION, DP_DROP_MALFORMED);
	n = build(in, H1, INADDR, 6, NULL, 0, l4, tcp(l4, H1, INADDR, 10));
	CLS(false, n, DP_V_EXCEPTION, DP_DROP_MALFORMED);
	n = build(in, LL, PEER, 6, NULL, 0, l4, tcp(l4, LL, PEER, 10));
	CLS(false, n, DP_V_EXCEPTION, DP_DROP_MALFORMED);
	/* inside: an over-long chain is a chain drop, not a malformed one */
	n = build(in, H1, PEER, 60, ext, dst_chain(ext, 12), NULL, 0);
	CLS(false, n, DP_V_DROP, DP_DROP_CHAIN);
	/* inside: PA source to a site CMULA, and site host to site host: no route */
	n = build(in, H1X, H1, 6, NULL, 0, l4, tcp(l4, H1X, H1, 10));
	CLS(false, n, DP_V_DROP, DP_DROP_NO_ROUTE);
	n = build(in, H1, HOST2, 6, NULL, 0, l4, tcp(l4, H1, HOST2, 10));
	CLS(false, n, DP_V_DROP, DP_DROP_NO_ROUTE);
	/* inside: a legacy host sending a payload header */
	shim_hdr(sh, 6, PTAG);
	n = build(in, H1, PEER, 140, sh, 8, l4, tcp(l4, H1, PEER, 10));
	CLS(false, n, DP_V_DROP, DP_DROP_MALFORMED);

	/* ISP: link-local destination and the second ISP's own address: kernel */
	n = build(in, RLOC, LL, 6, NULL, 0, l4, tcp(l4, RLOC, LL, 10));
	CLS(true, n, DP_V_EXCEPTION, DP_DROP_MALFORMED);
	n = build(in, RLOC, site.isp[1].addr, 6, NULL, 0, l4, tcp(l4, RLOC, site.isp[1].addr, 10));
	CLS(true, n, DP_V_EXCEPTION, DP_DROP_MALFORMED);
	/* ISP: payload header of 7 octets (P set), and one with Hdr Ext Len 1 */
	shim_hdr(sh, 6, OTAG);
	n = build(in, RLOC, LOC1, 140, sh, 7, NULL, 0);
	CLS(true, n, DP_V_DROP, DP_DROP_MALFORMED);
	memset(sh + 8, 0, 8);
	sh[1] = 1;
	n = build(in, RLOC, LOC1, 140, sh, 16, NULL, 0);
	CLS(true, n, DP_V_DROP, DP_DROP_MALFORMED);
	/* ISP: a later fragment whose Next Header is 140 carries the middle of a
	 * datagram, not a payload header: NATv6 traffic like any other */
	memcpy(ext, (const uint8_t[8]){ 140, 0, 0x00, 0x08, 0, 0, 0, 9 }, 8);
	shim_hdr(ext + 8, 6, OTAG);
	n = build(in, RLOC, LOC1, 44, ext, 16, l4, 16);
	CLS(true, n, DP_V_IN_NAT, DP_DROP_NONE);
	/* ISP: ICMPv6 error in a first fragment is not translated; an unfragmented
	 * one is exactly when the embedded fixed header is all there */
	uint8_t inner[64];
	memcpy(inner, in + 14, 40);
	uint8_t body[128];
	size_t nb = icmp_err(body, 1, RTR, LOC1, inner, 40);
	memcpy(ext, (const uint8_t[8]){ 58, 0, 0x00, 0x01, 0, 0, 0, 9 }, 8);
	n = build(in, RTR, LOC1, 44, ext, 8, body, nb);
	CLS(true, n, DP_V_IN_NAT, DP_DROP_NONE);
	n = build(in, RTR, LOC1, 58, NULL, 0, body, nb);
	CLS(true, n, DP_V_IN_ICMP_ERR, DP_DROP_NONE);
	n = build(in, RTR, LOC1, 58, NULL, 0, body, nb - 1);
	CLS(true, n, DP_V_IN_NAT, DP_DROP_NONE);

	/* the walk: DP_MAX_EXT_HDRS headers pass, one more is a chain drop */
	n = build(in, RLOC, LOC1, 60, ext, dst_chain(ext, DP_MAX_EXT_HDRS), NULL, 0);
	CLS(true, n, DP_V_IN_NAT, DP_DROP_NONE);
	n = build(in, RLOC, LOC1, 60, ext, dst_chain(ext, DP_MAX_EXT_HDRS + 1), NULL, 0);
	CLS(true, n, DP_V_DROP, DP_DROP_CHAIN);
	/* the walk: a 16-octet header with 15 octets present */
	dst_chain(ext, 2);
	ext[0] = 59;
	ext[1] = 1;
	n = build(in, RLOC, LOC1, 60, ext, 15, NULL, 0);
	CLS(true, n, DP_V_DROP, DP_DROP_MALFORMED);
	/* the walk stops at a later fragment: what follows is data, however it looks */
	memcpy(ext, (const uint8_t[8]){ 60, 0, 0x00, 0x08, 0, 0, 0, 9 }, 8);
	memset(ext + 8, 0, 16);
	ext[9] = 200;
	n = build(in, RLOC, LOC1, 44, ext, 24, NULL, 0);
	struct dp_cls c = cls_of(&site, true, in, n, 1);
	assert_int_equal(c.verdict, DP_V_IN_NAT);
	assert_int_equal(c.w.frag, 2);
	assert_int_equal(c.w.nh, 60);
	assert_int_equal(c.w.off, 48);
}

/* Fast and general classifier on one frame: equal whenever the fast one takes it. */
static bool agree(const struct dp_site *st, bool isp, const uint8_t *f, size_t n)
{
	struct dp_fast fp;
	struct dp_cls c1, c2;
	dp_fast_prep(st, &fp);
	struct rte_mbuf *m = fab_mbuf(&fab, f, n);
	bool fast = isp ? dp_classify_isp_fast(&fp, m, &c1) : dp_classify_inside_fast(&fp, m, &c1);
	m = fab_mbuf(&fab, f, n);
	if (isp)
		dp_classify_isp(st, m, &c2);
	else
		dp_classify_inside(st, m, &c2);
	if (fast)
		same_cls(&c1, &c2);
	return fast;
}

/* Frames the single-octet flips of test_fast_classify_agrees never make, and
 * sites with unusual prefixes: each guard of the fast path on its own. */
static void test_fast_classify_guards(void **state)
{
	uint8_t MC[16], LL[16], FE80[16], HOST2[16], SRC2[16], sh[8];
	size_t n;
	struct dp_fast f;
	A("ff02::1", MC);
	A("fe90::1", LL);
	A("fe80::1", FE80);
	A("fd00:1:1:1::99", HOST2);
	A("fd00:1:1:2::5", SRC2);
	shim_hdr(sh, 6, OTAG);

	/* inside: payload length 0 with nothing after the header */
	n = build(in, H1, PEER, 6, NULL, 0, NULL, 0);
	agree(&site, false, in, n);
	/* inside: to the appliance, to another site host, to fe80::/10 */
	n = build(in, H1, INADDR, 6, NULL, 0, l4, tcp(l4, H1, INADDR, 10));
	agree(&site, false, in, n);
	n = build(in, H1, HOST2, 6, NULL, 0, l4, tcp(l4, H1, HOST2, 10));
	agree(&site, false, in, n);
	n = build(in, H1, LL, 6, NULL, 0, l4, tcp(l4, H1, LL, 10));
	agree(&site, false, in, n);
	/* ISP: payload header of 7 octets; to either ISP address; to ISP 1's PA */
	n = build(in, RLOC, LOC1, 140, sh, 7, NULL, 0);
	agree(&site, true, in, n);
	for (int i = 0; i < 2; i++) {
		n = build(in, RLOC, site.isp[i].addr, 140, sh, 8, l4, tcp(l4, PEER, H1, 10));
		agree(&site, true, in, n);
	}
	n = build(in, RLOC, H1Y, 140, sh, 8, l4, tcp(l4, PEER, H1, 10));
	assert_true(agree(&site, true, in, n));

	/* a second site prefix: a source there is taken, a destination there is not ours to shim */
	struct dp_site s2 = site;
	s2.n_cmula = 2;
	pfx(&s2.cmula[1], "fd00:1:1:2::", 64);
	n = build(in, SRC2, PEER, 6, NULL, 0, l4, tcp(l4, SRC2, PEER, 10));
	assert_true(agree(&s2, false, in, n));
	n = build(in, H1, SRC2, 6, NULL, 0, l4, tcp(l4, H1, SRC2, 10));
	agree(&s2, false, in, n);
	/* a remote CMULA space that holds multicast (fc00::/6) or link-local (fe00::/8) */
	s2 = site;
	pfx(&s2.cmula_space, "fc00::", 6);
	n = build(in, H1, MC, 6, NULL, 0, l4, tcp(l4, H1, MC, 10));
	agree(&s2, false, in, n);
	pfx(&s2.cmula_space, "fe00::", 8);
	n = build(in, H1, FE80, 6, NULL, 0, l4, tcp(l4, H1, FE80, 10));
	agree(&s2, false, in, n);
	/* a site prefix shorter than /10 could hold link-local sources */
	s2 = site;
	pfx(&s2.cmula[0], "fe00::", 8);
	n = build(in, FE80, PEER, 6, NULL, 0, l4, tcp(l4, FE80, PEER, 10));
	agree(&s2, false, in, n);
	/* a PA prefix holding multicast */
	s2 = site;
	pfx(&s2.isp[1].pa, "ff00::", 8);
	n = build(in, RLOC, MC, 140, sh, 8, l4, tcp(l4, PEER, H1, 10));
	agree(&s2, true, in, n);
	/* prefixes longer than 64 bits keep the general path */
	s2 = site;
	s2.isp[1].pa.len = 96;
	dp_fast_prep(&s2, &f);
	assert_false(f.isp_ok);
	s2 = site;
	s2.cmula_space.len = 96;
	dp_fast_prep(&s2, &f);
	assert_false(f.in_ok);
}

/* RFC 4443 2.4(e): no Packet Too Big for an unspecified or multicast source or a
 * multicast destination; an echo request (128) and a later fragment whose data
 * starts like an error type are not errors, and do get one. */
static void test_ptb_no_reply_cases(void **state)
{
	uint8_t MC[16], UNSPEC_[16] = { 0 }, ext[8];
	const uint8_t *srcs[3] = { UNSPEC_, MC, H1 }, *dsts[3] = { PEER, PEER, MC };
	struct dp_walk w;
	size_t n;
	A("ff02::1", MC);
	for (int k = 0; k < 3; k++) {
		n = build(in, srcs[k], dsts[k], 6, NULL, 0, l4, tcp(l4, srcs[k], dsts[k], 1460));
		struct rte_mbuf *m = fab_mbuf(&fab, in, n);
		assert_int_equal(dp_walk6(in + 14, (uint32_t)n - 14, &w), DP_WALK_OK);
		assert_int_equal(dp_icmp_ptb(m, &w, 1492, INADDR), DP_ICMP_NOREPLY);
	}
	n = build(in, H1, PEER, 58, NULL, 0, l4, echo(l4, H1, PEER, 1452));
	struct rte_mbuf *m = fab_mbuf(&fab, in, n);
	assert_int_equal(dp_walk6(in + 14, (uint32_t)n - 14, &w), DP_WALK_OK);
	assert_int_equal(dp_icmp_ptb(m, &w, 1492, INADDR), DP_ICMP_OK);
	memcpy(ext, (const uint8_t[8]){ 58, 0, 0x00, 0x08, 0, 0, 0, 9 }, 8);
	memset(l4, 0, 1452);
	l4[0] = 1;
	n = build(in, H1, PEER, 44, ext, 8, l4, 1452);
	m = fab_mbuf(&fab, in, n);
	assert_int_equal(dp_walk6(in + 14, (uint32_t)n - 14, &w), DP_WALK_OK);
	assert_int_equal(w.frag, 2);
	assert_int_equal(dp_icmp_ptb(m, &w, 1492, INADDR), DP_ICMP_OK);
}

/* The embedded packet of an ICMPv6 error: a payload header with P=0 (a control
 * message) or cut short is malformed; in a later fragment Next Header 140 is
 * only data.  And an embedded source other than our locator is a mismatch. */
static void test_icmp_inner_parse_guards(void **state)
{
	uint8_t sh[8], sent[256], body[320], ext[16];
	struct dp_walk w;
	struct dp_icmp_inner ii;
	size_t ns, nb, n;
	shim_hdr(sh, 6, PTAG);

	sh[2] &= 0x7f;
	ns = build(sent, LOC1, RLOC, 140, sh, 8, l4, 8);
	nb = icmp_err(body, 1, RTR, LOC1, sent + 14, ns - 14);
	n = build(in, RTR, LOC1, 58, NULL, 0, body, nb);
	assert_int_equal(dp_walk6(in + 14, (uint32_t)n - 14, &w), DP_WALK_OK);
	assert_int_equal(dp_icmp_inner_parse(in + 14, (uint32_t)n - 14, &w, &ii), DP_ICMP_MALFORMED);

	shim_hdr(sh, 6, PTAG);
	ns = build(sent, LOC1, RLOC, 140, sh, 4, NULL, 0);
	nb = icmp_err(body, 1, RTR, LOC1, sent + 14, ns - 14);
	n = build(in, RTR, LOC1, 58, NULL, 0, body, nb);
	assert_int_equal(dp_walk6(in + 14, (uint32_t)n - 14, &w), DP_WALK_OK);
	assert_int_equal(dp_icmp_inner_parse(in + 14, (uint32_t)n - 14, &w, &ii), DP_ICMP_MALFORMED);

	memcpy(ext, (const uint8_t[8]){ 140, 0, 0x00, 0x08, 0, 0, 0, 9 }, 8);
	shim_hdr(ext + 8, 6, PTAG);
	ns = build(sent, LOC1, RLOC, 44, ext, 16, NULL, 0);
	nb = icmp_err(body, 1, RTR, LOC1, sent + 14, ns - 14);
	n = build(in, RTR, LOC1, 58, NULL, 0, body, nb);
	assert_int_equal(dp_walk6(in + 14, (uint32_t)n - 14, &w), DP_WALK_OK);
	assert_int_equal(dp_icmp_inner_parse(in + 14, (uint32_t)n - 14, &w, &ii), DP_ICMP_OK);
	assert_false(ii.shim);

	/* a shimmed embedded packet whose source is not the context's local locator */
	shim_hdr(sh, 6, PTAG);
	ns = build(sent, H1Y, RLOC, 140, sh, 8, l4, 8);
	nb = icmp_err(body, 1, RTR, LOC1, sent + 14, ns - 14);
	n = build(in, RTR, LOC1, 58, NULL, 0, body, nb);
	struct rte_mbuf *m = fab_mbuf(&fab, in, n);
	assert_int_equal(dp_walk6(in + 14, (uint32_t)n - 14, &w), DP_WALK_OK);
	assert_int_equal(dp_icmp_inner_parse(in + 14, (uint32_t)n - 14, &w, &ii), DP_ICMP_OK);
	assert_true(ii.shim);
	struct dp_ctx x = ctx();
	assert_int_equal(dp_icmp_xlate_shim(m, &w, &ii, &x), DP_ICMP_MISMATCH);
	assert_memory_equal(mdata(m), in, n);

	/* an embedded packet that was only the payload header: its length becomes 0 */
	ns = build(sent, LOC1, RLOC, 140, sh, 8, NULL, 0);
	nb = icmp_err(body, 1, RTR, LOC1, sent + 14, ns - 14);
	n = build(in, RTR, LOC1, 58, NULL, 0, body, nb);
	m = fab_mbuf(&fab, in, n);
	assert_int_equal(dp_walk6(in + 14, (uint32_t)n - 14, &w), DP_WALK_OK);
	assert_int_equal(dp_icmp_inner_parse(in + 14, (uint32_t)n - 14, &w, &ii), DP_ICMP_OK);
	assert_int_equal(dp_icmp_xlate_shim(m, &w, &ii, &x), DP_ICMP_OK);
	assert_int_equal(dp_get16(mdata(m) + 14 + 48 + 4), 0);
	assert_int_equal(ref_verify6(RTR, H1, 58, mdata(m) + 54, rte_pktmbuf_data_len(m) - 54), 0xffff);
}

/* Rewrites on their own, as the last line of defence: a Hop-by-Hop header
 * cut short is not encapsulated, a payload header cut short is not removed;
 * and with overlapping PA prefixes the fast path picks the ISP the general
 * classifier picks (the first match). */
static void test_rewrite_guards(void **state)
{
	uint8_t hbh[8] = { 6, 0, 1, 4, 0, 0, 0, 0 }, sh[8];
	struct dp_ctx x = ctx();
	struct dp_walk w;
	size_t n = build(in, H1, PEER, 0, hbh, 7, NULL, 0);
	struct rte_mbuf *m = fab_mbuf(&fab, in, n);
	assert_int_equal(dp_shim_encap(m, &x), DP_RW_MALFORMED);
	assert_int_equal(rte_pktmbuf_data_len(m), n);

	shim_hdr(sh, 6, OTAG);
	n = build(in, RLOC, LOC1, 140, sh, 7, NULL, 0);
	m = fab_mbuf(&fab, in, n);
	w = (struct dp_walk){ .off = 40, .nh_off = 6, .nh = 140 };
	assert_int_equal(dp_shim_decap(m, &w, &x), DP_RW_MALFORMED);
	assert_int_equal(rte_pktmbuf_data_len(m), n);

	struct dp_site s2 = site;
	pfx(&s2.isp[1].pa, "2001:db8:10::", 48);
	n = build(in, RLOC, LOC1, 140, sh, 8, l4, tcp(l4, PEER, H1, 10));
	assert_true(agree(&s2, true, in, n));
}

/* An ICMPv6 packet with no ICMPv6 header (walk ends at the data's end) is not
 * an error: a too-big one gets its Packet Too Big, whatever octet follows. */
static void test_ptb_icmp_header_absent(void **state)
{
	static uint8_t opts[1376];
	struct dp_walk w = { 0 };
	memset(opts, 0, sizeof opts); /* Pad1 options */
	opts[0] = 58;
	opts[1] = sizeof opts / 8 - 1;
	size_t n = build(in, H1, PEER, 60, opts, sizeof opts, NULL, 0);
	struct rte_mbuf *m = fab_mbuf(&fab, in, n);
	mdata(m)[n] = 1;  /* the octet past the data looks like an error type */
	assert_int_equal(dp_walk6(mdata(m) + 14, (uint32_t)n - 14, &w), DP_WALK_OK);
	assert_int_equal(w.off, n - 14);
	assert_int_equal(dp_icmp_ptb(m, &w, 1280, INADDR), DP_ICMP_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_egress_encap_tcp),
		cmocka_unit_test(test_egress_encap_after_hbh),
		cmocka_unit_test(test_egress_no_headroom),
		cmocka_unit_test(test_ingress_decap),
		cmocka_unit_test(test_ingress_decap_after_dstopts),
		cmocka_unit_test(test_ingress_roundtrip_of_egress),
		cmocka_unit_test(test_ingress_control_and_frag),
		cmocka_unit_test(test_nat_tcp_udp_icmp),
		cmocka_unit_test(test_nat_udp_zero_checksum_kept),
		cmocka_unit_test(test_nat_later_fragment_untouched_payload),
		cmocka_unit_test(test_isp_pick_weights_and_stability),
		cmocka_unit_test(test_icmp_error_about_shimmed),
		cmocka_unit_test(test_icmp_error_about_natted),
		cmocka_unit_test(test_ptb),
		cmocka_unit_test(test_classify_rejects_bad_input),
		cmocka_unit_test(test_fast_classify_agrees),
		cmocka_unit_test(test_classify_guards),
		cmocka_unit_test(test_fast_classify_guards),
		cmocka_unit_test(test_ptb_no_reply_cases),
		cmocka_unit_test(test_icmp_inner_parse_guards),
		cmocka_unit_test(test_rewrite_guards),
		cmocka_unit_test(test_ptb_icmp_header_absent),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
