/*
 * Raw frames through classify and every rewrite node, as the lcore loop
 * would run them (the general path, and the nodes' own for what the fast
 * classifiers take) (tables replaced by a context that always matches, so the
 * rewrite paths run on hostile input too).  Checks the mbuf stays coherent
 * and every emitted IPv6 packet's payload length matches its size.
 * Byte 0 picks the port (even: inside, odd: ISP) and, in bits 1-2, the
 * ISPs taken to have failed; the rest is the frame.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fabmbuf.h"
#include "classify.h"
#include "classify_fast.h"
#include "icmp6.h"
#include "mss.h"
#include "natpin.h"
#include "natv6.h"
#include "nd.h"
#include "probe.h"
#include "rewrite.h"

static struct dp_site site;
static struct dp_ctx ctx;
static struct fab fab;
static struct dp_fast fast;
static uint64_t pin_words[2 * DP_NATPIN_WAYS] __attribute__((aligned(64))), pin_used[1];
static struct dp_natpin pin = { .w = pin_words, .used = pin_used, .mask = 1 };   /* two buckets: full ones, replaced */

static void init(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	site.n_cmula = 1;
	inet_pton(AF_INET6, "fd00:1:1:1::", site.cmula[0].addr);
	site.cmula[0].len = 64;
	inet_pton(AF_INET6, "fd00::", site.cmula_space.addr);
	site.cmula_space.len = 8;
	site.n_isp = 2;
	inet_pton(AF_INET6, "2001:db8:10:1::", site.isp[0].pa.addr);
	inet_pton(AF_INET6, "2001:db8:20:1::", site.isp[1].pa.addr);
	site.isp[0].pa.len = site.isp[1].pa.len = 64;
	site.isp[0].mtu = 1500;
	site.isp[1].mtu = 1280;
	site.isp[0].weight = 2;
	site.isp[1].weight = 1;
	site.weight_total = 3;
	site.ptb = true;
	inet_pton(AF_INET6, "fd00:1:1:ffff::1", site.inside_addr);
	inet_pton(AF_INET6, "fd00:1:1:1::11", ctx.local_ulid);
	inet_pton(AF_INET6, "fd00:2:2:1::22", ctx.remote_ulid);
	inet_pton(AF_INET6, "2001:db8:10:1::11", ctx.local_loc);
	inet_pton(AF_INET6, "2001:db8:30:1::22", ctx.remote_loc);
	ctx.peer_tag = 0x123456789abc;
	ctx.own_tag = 0xbeef;
	dp_fast_prep(&site, &fast);
}

/* A fast classifier that takes a frame must agree with the general one. */
static void fast_agrees(const uint8_t *frame, size_t len, bool isp)
{
	struct dp_cls a, b;
	struct rte_mbuf *m = fab_mbuf(&fab, frame, len);
	if (!(isp ? dp_classify_isp_fast(&fast, m, &a) : dp_classify_inside_fast(&fast, m, &a)))
		return;
	m = fab_mbuf(&fab, frame, len);
	if (isp)
		dp_classify_isp(&site, m, &b);
	else
		dp_classify_inside(&site, m, &b);
	if (a.verdict != b.verdict || a.drop != b.drop || a.isp != b.isp || a.w.off != b.w.off ||
	    a.w.nh_off != b.w.nh_off || a.w.nh != b.w.nh || a.w.frag != b.w.frag ||
	    (a.verdict == DP_V_IN_SHIM && a.tag != b.tag))
		abort();
}

static void check(struct rte_mbuf *m, int emitted)
{
	if (m->data_len != m->pkt_len || m->data_off + m->data_len > m->buf_len)
		abort();
	if (emitted) {
		const uint8_t *ip = dp_ip6(m);
		if (m->data_len < DP_ETH_LEN + DP_IP6_LEN)
			abort();
		if ((uint32_t)dp_get16(ip + DP_IP6_PLEN) + DP_IP6_LEN + DP_ETH_LEN != m->data_len)
			abort();
	}
}

/*
 * The node loops' own path for what the fast classifiers take as shimmed:
 * the encap without its Hop-by-Hop test, the decap without its offset and
 * length tests (fastpath.c, V_CANON).  Safe only if the fast classifiers
 * never take a frame those tests would have stopped.
 */
static void canonical(const uint8_t *frame, size_t len, bool isp)
{
	struct dp_cls a;
	struct rte_mbuf *m = fab_mbuf(&fab, frame, len);

	if (isp) {
		if (!dp_classify_isp_fast(&fast, m, &a) || a.verdict != DP_V_IN_SHIM)
			return;
		if (a.w.off != DP_IP6_LEN || m->data_len < DP_ETH_LEN + DP_IP6_LEN + DP_SHIM6_LEN)
			abort();
		(void)dp_shim_decap_eth_first(m, &ctx, 0, 0);
		check(m, 1);
	} else {
		if (!dp_classify_inside_fast(&fast, m, &a) || a.verdict != DP_V_EG_SHIM)
			return;
		if (a.w.off != DP_IP6_LEN || dp_ip6(m)[DP_IP6_NH] == DP_PROTO_HBH)
			abort();
		if (dp_shim_encap_eth_nohbh(m, &ctx, 0, 0) == DP_RW_OK)
			check(m, 1);
	}
}

/* What an NS/NA does to a next hop: the MAC word stays well formed. */
static void nd_learn(uint8_t sel, struct rte_mbuf *m)
{
	static struct dp_port p;
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *), *ip = f + DP_ETH_LEN;
	uint32_t len = rte_pktmbuf_data_len(m);
	uint64_t before, after;

	if (len < DP_ETH_LEN + DP_IP6_LEN || ip[DP_IP6_NH] != DP_PROTO_ICMP6)
		return;
	memset(p.nh_addr, 0, 16);
	p.nh_addr[15] = 1;
	if (sel & 2)   /* let the frame name the next hop, so the learning paths are reached */
		memcpy(p.nh_addr, ip + (sel & 4 ? DP_IP6_SRC : DP_IP6_DST), 16);
	p.nh_static = (sel & 8) != 0;
	before = dp_nh_load(&p);
	unsigned r = dp_nd_learn(&p, ip, ip + DP_IP6_LEN, len - DP_ETH_LEN - DP_IP6_LEN, 1);
	after = dp_nh_load(&p);
	if (p.nh_static && (r != DP_ND_LEARN_NONE || after != before))
		abort();
	if (after != before && !dp_nh_ok(after))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rte_mbuf *m;
	struct dp_cls c;
	uint8_t a[16];

	init();
	if (size < 1 || size - 1 > FAB_BUF - FAB_HEADROOM)
		return 0;
	fast_agrees(data + 1, size - 1, data[0] & 1);
	canonical(data + 1, size - 1, data[0] & 1);
	m = fab_mbuf(&fab, data + 1, size - 1);
	nd_learn(data[0], m);
	if (data[0] & 1) {
		/* the lcores ask every frame for the kernel whether it answers a probe;
		 * on the fuzzer's own buffer, so a read past the frame is seen */
		static const uint8_t own[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x10, 0xff, 0xff, [15] = 2 };
		static const struct dp_probe_targets tgt = {
			.n = 2, .a = { { 0x20, 0x01, 0x0d, 0xb8, 0, 0x10, 0xff, 0xfe, [15] = 1 },
				       { 0x20, 0x01, 0x0d, 0xb8, 0, 0x10, 0xff, 0xff, [15] = 1 } } };
		uint16_t seq;
		(void)dp_probe_match(data + 1, size - 1, own, &tgt, 0x7036, &seq);
		dp_classify_isp(&site, m, &c);
		check(m, 0);
		switch (c.verdict) {
		case DP_V_IN_SHIM:
			if (dp_shim_decap(m, &c.w, &ctx) == DP_RW_OK)
				check(m, 1);
			break;
		case DP_V_IN_NAT: {
			uint8_t *ip = dp_ip6(m);
			uint64_t key;
			if (c.isp < 0 || c.isp >= (int)site.n_isp)   /* the node notes under it */
				abort();
			dp_map_in(&site, ip + DP_IP6_DST, a);
			uint64_t pair = dp_pair_hash(a, ip + DP_IP6_SRC);
			if (dp_natpin_key(ip, m->data_len - DP_ETH_LEN, &c.w, false, pair, &key))
				(void)dp_natpin_note(&pin, key, (unsigned)c.isp, dp_isp_pick_hash(&site, pair) == c.isp,
						     ip[7]);
			dp_nat_in(m, &c.w, a);
			check(m, 1);
			break;
		}
		case DP_V_IN_ICMP_ERR: {
			struct dp_icmp_inner in;
			uint8_t *ip = dp_ip6(m);
			if (dp_icmp_inner_parse(ip, m->data_len - DP_ETH_LEN, &c.w, &in) != DP_ICMP_OK)
				break;
			if (in.shim) {
				/* make the context match the embedded packet so translation runs */
				struct dp_ctx x = ctx;
				memcpy(x.local_loc, ip + in.off + DP_IP6_SRC, 16);
				memcpy(x.remote_loc, ip + in.off + DP_IP6_DST, 16);
				if (dp_icmp_xlate_shim(m, &c.w, &in, &x) == DP_ICMP_OK)
					check(m, 1);
			} else {
				uint8_t b[16];
				dp_map_in(&site, ip + DP_IP6_DST, a);
				dp_map_in(&site, ip + in.off + DP_IP6_SRC, b);
				dp_icmp_xlate_nat(m, &c.w, &in, a, b);
				check(m, 1);
			}
			break;
		}
		default:
			break;
		}
	} else {
		dp_classify_inside(&site, m, &c);
		check(m, 0);
		switch (c.verdict) {
		case DP_V_EG_SHIM:
			if (dp_shim_too_big(m, site.isp[data[0] >> 7].mtu)) {
				if (dp_icmp_ptb(m, &c.w, site.isp[data[0] >> 7].mtu - 8, site.inside_addr) == DP_ICMP_OK) {
					check(m, 1);
					if (m->data_len > DP_ETH_LEN + DP_MIN_MTU)
						abort();
				}
			} else {
				/* what the lcore loop does before the encap */
				const uint8_t *ip = dp_ip6(m);
				uint32_t len = m->data_len - DP_ETH_LEN;
				if (dp_is_tcp_syn(ip, len, &c.w))
					(void)dp_mss_clamp(m, &c.w, dp_mss_for_mtu(site.isp[data[0] >> 7].mtu, true));
				else if (dp_is_icmp_error(ip, len, &c.w)) {
					struct dp_ctx x = ctx;
					if (len >= 80) { /* make the context match the quoted packet so the cut runs */
						memcpy(x.remote_ulid, ip + 48 + DP_IP6_SRC, 16);
						memcpy(x.local_ulid, ip + 48 + DP_IP6_DST, 16);
					}
					if (dp_icmp_out_shim(m, &c.w, &x, site.isp[data[0] >> 7].mtu) == DP_ICMP_OK &&
					    m->data_len - DP_ETH_LEN + DP_SHIM6_LEN > site.isp[data[0] >> 7].mtu)
						abort();
				}
				check(m, 0);
				if (dp_shim_encap(m, &ctx) == DP_RW_OK)
					check(m, 1);
			}
			break;
		case DP_V_EG_NAT: {
			uint8_t *ip = dp_ip6(m);
			int isp = dp_isp_pick_live(&site, dp_pair_hash(ip + DP_IP6_SRC, ip + DP_IP6_DST), data[0] >> 1 & 3), p;
			uint64_t key;
			if (isp < 0 || isp >= (int)site.n_isp)
				abort();
			if (dp_natpin_key(ip, m->data_len - DP_ETH_LEN, &c.w, true, dp_pair_hash(ip + DP_IP6_SRC, ip + DP_IP6_DST),
					  &key) &&
			    (p = dp_natpin_get(&pin, key, site.n_isp, ip[7], dp_natpin_idle_s(c.w.nh))) >= 0) {
				if (p >= (int)site.n_isp)
					abort();
				isp = p;
			}
			dp_map_out(&site, (unsigned)isp, ip + DP_IP6_SRC, a);
			if (dp_is_tcp_syn(ip, m->data_len - DP_ETH_LEN, &c.w))
				(void)dp_mss_clamp(m, &c.w, dp_mss_for_mtu(site.isp[isp].mtu, false));
			if (!dp_is_icmp_error(ip, m->data_len - DP_ETH_LEN, &c.w) || dp_icmp_out_nat(m, &c.w, a) != DP_ICMP_OK)
				dp_nat_out(m, &c.w, a);
			check(m, 1);
			break;
		}
		default:
			break;
		}
	}
	return 0;
}
