/*
 * The nodes of fastpath.c (dp_node_inside, dp_node_isp) on bursts of real
 * mbufs.  Every port is a ring PMD, so what a node transmits is read back
 * from the port's TX ring; the punt ring, the per-lcore counters and the
 * mbuf pool (nothing leaked on any path) are checked too.  Bursts mix the
 * verdicts, so the lookup arrays (one entry per shimmed packet) must stay
 * in step with the packets, and the table holds many contexts, so some
 * lookups leave the first-entry path.  Expected frames are built apart
 * from the code under test (fabmbuf.h).  EAL runs with --no-huge.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#include <cmocka.h>

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_malloc.h>

#include "dataplane.h"
#include "eal_unit.h"
#include "fabmbuf.h"
#include "natv6.h"

struct dp_state dp;   /* the process state fastpath.c reads (main.c's, in the daemon) */

#define NCTX      1000
#define NCROWD    12     /* more contexts, all in the primary bucket of context 0 */
#define POOL_N    2047
#define RING_N    1024
#define ISP_MTU   1500

static struct rte_mempool *pool;
static struct rte_ring *txr[DP_MAX_PORTS];
static struct dp_lcore *lc;
static uint32_t all[NCTX + NCROWD];   /* every installed context's index */
static const uint8_t NH_MAC[3][6] = { { 2, 0, 0, 0, 0xee, 0 }, { 2, 0, 0, 0, 0xee, 1 }, { 2, 0, 0, 0, 0xee, 2 } };
static const uint8_t PORT_MAC[3][6] = { { 2, 0, 0, 0, 0xaa, 0 }, { 2, 0, 0, 0, 0xaa, 1 }, { 2, 0, 0, 0, 0xaa, 2 } };

/* ---- addresses: prefix + a 32-bit index in the last octets ---------------- */

static void addr(uint8_t out[16], const char *pfx, uint32_t i)
{
	assert_int_equal(inet_pton(AF_INET6, pfx, out), 1);
	out[12] = (uint8_t)(i >> 24);
	out[13] = (uint8_t)(i >> 16);
	out[14] = (uint8_t)(i >> 8);
	out[15] = (uint8_t)i;
}

static void host(uint8_t a[16], uint32_t i) { addr(a, "fd00:1:1:1:1::", i); }     /* site CMULA */
static void peer(uint8_t a[16], uint32_t i) { addr(a, "fd00:2:2:1::", i); }       /* remote ULID */
static void rloc(uint8_t a[16], uint32_t i) { addr(a, "2001:db8:30:1::", i); }    /* remote locator */
static void legacy(uint8_t a[16], uint32_t i) { addr(a, "2001:db8:77::", i); }    /* peer without Shim6 */
static unsigned isp_of(uint32_t i) { return i % 2; }
static void lloc(uint8_t a[16], uint32_t i)                                      /* host(i) under its ISP */
{
	addr(a, isp_of(i) ? "2001:db8:20:1:1::" : "2001:db8:10:1:1::", i);
}
static uint64_t ptag(uint32_t i) { return UINT64_C(0x100000000) + i; }
static uint64_t otag(uint32_t i) { return UINT64_C(0x500000000) + i * 7; }

/* ---- setup ------------------------------------------------------------- */

static uint16_t ring_port(unsigned p)
{
	char name[32];
	snprintf(name, sizeof name, "t_rx%u", p);
	struct rte_ring *rx = rte_ring_create(name, RING_N, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof name, "t_tx%u", p);
	txr[p] = rte_ring_create(name, RING_N, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	assert_non_null(rx);
	assert_non_null(txr[p]);
	snprintf(name, sizeof name, "t_port%u", p);
	int id = rte_eth_from_rings(name, &rx, 1, &txr[p], 1, SOCKET_ID_ANY);
	assert_true(id >= 0);
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof conf);
	assert_int_equal(rte_eth_dev_configure((uint16_t)id, 1, 1, &conf), 0);
	assert_int_equal(rte_eth_rx_queue_setup((uint16_t)id, 0, 64, SOCKET_ID_ANY, NULL, pool), 0);
	assert_int_equal(rte_eth_tx_queue_setup((uint16_t)id, 0, 64, SOCKET_ID_ANY, NULL), 0);
	assert_int_equal(rte_eth_dev_start((uint16_t)id), 0);
	return (uint16_t)id;
}

static void pfx(struct dp_prefix *p, const char *a, uint8_t len)
{
	assert_int_equal(inet_pton(AF_INET6, a, p->addr), 1);
	p->len = len;
}

static void key_of(uint8_t key[32], uint32_t i)
{
	host(key, i);
	peer(key + 16, i);
}

static uint32_t bucket_of(uint32_t i)
{
	uint8_t key[32];
	key_of(key, i);
	return dp_hash_ulid(key) & dp.t->l_ulid.mask;
}

static void install(uint32_t i)
{
	struct dpmsg_ctx c;
	memset(&c, 0, sizeof c);
	host(c.local_ulid, i);
	peer(c.remote_ulid, i);
	lloc(c.local_loc, i);
	rloc(c.remote_loc, i);
	c.peer_tag = ptag(i);
	c.own_tag = otag(i);
	c.isp = (uint8_t)isp_of(i);
	assert_int_equal(dp_ctx_add(dp.t, &c, 2), 0);
}

static bool installed(uint32_t i)
{
	for (unsigned k = 0; k < NCTX + NCROWD; k++)
		if (all[k] == i)
			return true;
	return false;
}

static int group_setup(void **state)
{
	(void)state;
	pool = rte_pktmbuf_pool_create("t_pool", POOL_N, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	assert_non_null(pool);

	struct dp_site *s = &dp.sites[0];
	memset(s, 0, sizeof *s);
	s->n_cmula = 1;
	pfx(&s->cmula[0], "fd00:1:1:1::", 64);
	pfx(&s->cmula_space, "fd00::", 8);
	s->n_isp = 2;
	pfx(&s->isp[0].pa, "2001:db8:10:1::", 64);
	pfx(&s->isp[1].pa, "2001:db8:20:1::", 64);
	inet_pton(AF_INET6, "2001:db8:10:ffff::2", s->isp[0].addr);
	inet_pton(AF_INET6, "2001:db8:20:ffff::2", s->isp[1].addr);
	s->isp[0].mtu = s->isp[1].mtu = ISP_MTU;
	s->isp[0].weight = 3;
	s->isp[1].weight = 1;
	s->weight_total = 4;
	inet_pton(AF_INET6, "fd00:1:1:ffff::1", s->inside_addr);
	s->inside_mtu = 1500;
	s->ptb = true;
	dp.site = s;

	dp.n_ports = 3;
	for (unsigned p = 0; p < dp.n_ports; p++) {
		struct dp_port *pt = &dp.port[p];
		snprintf(pt->name, sizeof pt->name, "t_port%u", p);
		pt->id = ring_port(p);
		pt->tap = DP_NO_PORT;
		pt->mtu = 1500;
		memcpy(pt->mac.addr_bytes, PORT_MAC[p], 6);
		pt->nh_static = true;
		dp_nh_store(pt, dp_nh_word(NH_MAC[p]));
	}
	dp.t = dp_tables_create("nodes", 1024, 16, 1, SOCKET_ID_ANY);
	assert_non_null(dp.t);
	dp.natpin.mask = dp_natpin_buckets(64) - 1;
	dp.natpin.w = rte_zmalloc("t_natpin", dp_natpin_words(dp.natpin.mask) * 8, 64);
	dp.natpin.used = rte_zmalloc("t_natpin_used", dp_natpin_used_words(dp.natpin.mask) * 8, 64);
	assert_non_null(dp.natpin.w);
	assert_non_null(dp.natpin.used);
	/* 0..NCTX-1, then NCROWD whose keys share context 0's primary bucket,
	 * so that bucket overflows into the keys' alternatives */
	uint32_t b0 = bucket_of(0), n = 0;
	for (uint32_t i = 0; n < NCTX + NCROWD; i++) {
		assert_true(i < 10 * 1000 * 1000);
		if (i >= NCTX && bucket_of(i) != b0)
			continue;
		install(i);
		all[n++] = i;
	}
	dp.tsc_hz = rte_get_tsc_hz();
	dp.n_lcores = 1;
	lc = &dp.lc[0];
	lc->idx = 0;
	lc->qid = 0;
	for (unsigned p = 0; p < dp.n_ports; p++) {
		lc->txb[p] = rte_zmalloc("t_txb", RTE_ETH_TX_BUFFER_SIZE(DP_BURST), 0);
		assert_non_null(lc->txb[p]);
		rte_eth_tx_buffer_init(lc->txb[p], DP_BURST);
		rte_eth_tx_buffer_set_err_callback(lc->txb[p], rte_eth_tx_buffer_count_callback,
						   &lc->cnt.c[DPMSG_CNT_DROP_TX]);
	}
	dp_fast_prep(dp.site, &lc->fast);
	return 0;
}

/* Each test: fresh counters, an ICMP budget of 2 with no refill in sight,
 * a punt ring of `punt_size` (capacity one less). */
static int setup_punt(unsigned punt_size)
{
	memset(&lc->cnt, 0, sizeof lc->cnt);
	dp.icmp_rate = 2;
	lc->icmp_tokens = 2;
	lc->icmp_last = rte_rdtsc();
	dp.punt = rte_ring_create("t_punt", punt_size, SOCKET_ID_ANY, RING_F_SC_DEQ);
	assert_non_null(dp.punt);
	return 0;
}

static int setup(void **state) { (void)state; return setup_punt(64); }
static int setup_small_punt(void **state) { (void)state; return setup_punt(8); }

/* Whatever a test left is freed, and every mbuf must be back in the pool. */
static int teardown(void **state)
{
	(void)state;
	struct rte_mbuf *m;
	for (unsigned p = 0; p < dp.n_ports; p++) {
		rte_eth_tx_buffer_flush(dp.port[p].id, 0, lc->txb[p]);
		while (rte_ring_dequeue(txr[p], (void **)&m) == 0)
			rte_pktmbuf_free(m);
	}
	while (rte_ring_dequeue(dp.punt, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(dp.punt);
	dp.punt = NULL;
	assert_int_equal(rte_mempool_avail_count(pool), POOL_N);
	return 0;
}

/* ---- frames -------------------------------------------------------------- */

static uint8_t l4[2048];

static struct rte_mbuf *mk(const uint8_t *frame, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	assert_non_null(m);
	uint8_t *d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	assert_non_null(d);
	memcpy(d, frame, len);
	return m;
}

/* TCP from host(i) to peer(i) (or to `dst`), as an inside host sends it. */
static size_t out_tcp(uint8_t *f, const uint8_t src[16], const uint8_t dst[16], size_t pay)
{
	size_t n = fab_tcp(l4, src, dst, pay);
	return fab_frame(f, src, dst, 6, NULL, 0, l4, n);
}

static void flush(void)
{
	for (unsigned p = 0; p < dp.n_ports; p++)
		rte_eth_tx_buffer_flush(dp.port[p].id, 0, lc->txb[p]);
}

static unsigned drain(unsigned p, struct rte_mbuf **out, unsigned max)
{
	return rte_ring_dequeue_burst(txr[p], (void **)out, max, NULL);
}

static uint64_t cnt(unsigned id) { return lc->cnt.c[id]; }

static void free_all(struct rte_mbuf **m, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		rte_pktmbuf_free(m[i]);
}

/* The frame a shimmed packet of context i leaves by: locators, header, MACs of its ISP link. */
static size_t expect_shim_out(uint8_t *f, uint32_t i, size_t pay)
{
	uint8_t h[16], pr[16], ll[16], rl[16], sh[8];
	host(h, i);
	peer(pr, i);
	lloc(ll, i);
	rloc(rl, i);
	size_t n = fab_tcp(l4, h, pr, pay);   /* the checksum covers the ULIDs, untouched */
	fab_shim_hdr(sh, 6, ptag(i));
	size_t len = fab_frame(f, ll, rl, 140, sh, 8, l4, n);
	memcpy(f, NH_MAC[1 + isp_of(i)], 6);
	memcpy(f + 6, PORT_MAC[1 + isp_of(i)], 6);
	return len;
}

static void assert_frame(const struct rte_mbuf *m, const uint8_t *f, size_t len)
{
	assert_int_equal(rte_pktmbuf_data_len(m), len);
	assert_int_equal(rte_pktmbuf_pkt_len(m), len);
	assert_memory_equal(rte_pktmbuf_mtod(m, const uint8_t *), f, len);
}

/* ---- egress ------------------------------------------------------------- */

/*
 * One burst of 32: context packets, packets to remote ULIDs without a
 * context, packets to a peer without Shim6, and frames whose payload
 * length lies, in turn.  Each kind must come out where it belongs, in
 * order, the shimmed ones each with its own context's locators and tag.
 */
static void egress_mixed_burst(void **state)
{
	(void)state;
	uint8_t f[256], src[16], dst[16];
	struct rte_mbuf *in[DP_BURST], *out[64];
	uint32_t ctx_of[DP_BURST];

	for (unsigned k = 0; k < DP_BURST; k++) {
		uint32_t i = (k * 131 + 7) % NCTX;
		size_t len;
		ctx_of[k] = i;
		host(src, i);
		switch (k % 4) {
		case 0: peer(dst, i); break;                      /* context i */
		case 1: peer(dst, NCTX + k); break;               /* no context */
		case 2: legacy(dst, k); break;                    /* NATv6 */
		default: peer(dst, i); break;                     /* lying payload length */
		}
		len = out_tcp(f, src, dst, 40 + k);
		if (k % 4 == 3)
			f[14 + 5] += 8;
		in[k] = mk(f, len);
	}
	dp_node_inside(lc, in, DP_BURST, rte_rdtsc());
	flush();

	assert_int_equal(cnt(DPMSG_CNT_RX_IN_PKTS), 32);
	assert_int_equal(cnt(DPMSG_CNT_EGRESS_SHIM), 8);
	assert_int_equal(cnt(DPMSG_CNT_SHIM_GENERAL), 0);
	assert_int_equal(cnt(DPMSG_CNT_PUNT), 8);
	assert_int_equal(cnt(DPMSG_CNT_NAT_OUT), 8);
	assert_int_equal(cnt(DPMSG_CNT_DROP_MALFORMED), 8);
	assert_int_equal(cnt(DPMSG_CNT_TX_OUT_PKTS), 16);
	assert_int_equal(cnt(DPMSG_CNT_TX_IN_PKTS), 0);

	/* shimmed and translated, per ISP link, in arrival order */
	unsigned seen_shim = 0, seen_nat = 0;
	for (unsigned p = 1; p <= 2; p++) {
		unsigned n = drain(p, out, 64), k = 0;
		for (unsigned o = 0; o < n; o++) {
			const uint8_t *ip = rte_pktmbuf_mtod(out[o], const uint8_t *) + 14;
			if (ip[6] == 140) {
				while (k < DP_BURST && (k % 4 != 0 || 1 + isp_of(ctx_of[k]) != p))
					k++;
				assert_true(k < DP_BURST);
				size_t len = expect_shim_out(f, ctx_of[k], 40 + k);
				assert_frame(out[o], f, len);
				k++;
				seen_shim++;
			} else {
				/* NATv6: the source is the host's address under this link's PA
				 * prefix, and the TCP checksum verifies with it */
				assert_int_equal(ip[6], 6);
				assert_memory_equal(ip + 8, dp.site->isp[p - 1].pa.addr, 8);
				assert_memory_equal(ip + 16, "\x00\x01\x00\x00", 4);
				size_t l = ((size_t)ip[4] << 8 | ip[5]);
				assert_int_equal(ref_verify6(ip + 8, ip + 24, 6, ip + 40, l), 0xffff);
				assert_memory_equal(rte_pktmbuf_mtod(out[o], const uint8_t *), NH_MAC[p], 6);
				seen_nat++;
			}
		}
		free_all(out, n);
	}
	assert_int_equal(seen_shim, 8);
	assert_int_equal(seen_nat, 8);
	assert_int_equal(drain(0, out, 64), 0);

	/* the punted ones, untouched, with their reason and port */
	unsigned n = rte_ring_dequeue_burst(dp.punt, (void **)out, 64, NULL);
	assert_int_equal(n, 8);
	for (unsigned o = 0; o < n; o++) {
		unsigned k = 4 * o + 1;
		host(src, ctx_of[k]);
		peer(dst, NCTX + k);
		size_t len = out_tcp(f, src, dst, 40 + k);
		assert_frame(out[o], f, len);
		assert_int_equal(out[o]->hash.usr, DPMSG_PUNT_NO_CTX);
		assert_int_equal(out[o]->port, DP_PORT_INSIDE);
	}
	free_all(out, n);
}

/*
 * Every context once, in bursts, in an order unrelated to the table's:
 * each packet must get its own context, whichever bucket or stash entry
 * holds it, and its REAP "sent" stamp.
 */
static void egress_every_context(void **state)
{
	(void)state;
	uint8_t f[256], src[16], dst[16];
	struct rte_mbuf *in[DP_BURST], *out[64];
	const unsigned total = NCTX + NCROWD;
	uint32_t order[NCTX + NCROWD], r = 12345;

	/* a fixed shuffle (Fisher-Yates over a small LCG) */
	memcpy(order, all, sizeof order);
	for (unsigned i = total - 1; i > 0; i--) {
		r = r * 1103515245u + 12345u;
		unsigned j = (r >> 8) % (i + 1);
		uint32_t t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (uint32_t b = 0; b < total; b += DP_BURST) {
		unsigned n = total - b < DP_BURST ? total - b : DP_BURST;
		for (unsigned k = 0; k < n; k++) {
			host(src, order[b + k]);
			peer(dst, order[b + k]);
			in[k] = mk(f, out_tcp(f, src, dst, 16));
		}
		dp_node_inside(lc, in, n, rte_rdtsc());
		flush();
		unsigned got = 0;
		for (unsigned p = 1; p <= 2; p++) {
			unsigned m = drain(p, out, 64);
			for (unsigned o = 0; o < m; o++) {
				/* which context: the tag says; its locators must match */
				const uint8_t *ip = rte_pktmbuf_mtod(out[o], const uint8_t *) + 14;
				uint64_t tag = ((uint64_t)(ip[42] & 0x7f) << 40) | ((uint64_t)ip[43] << 32) |
					       ((uint64_t)ip[44] << 24) | ((uint64_t)ip[45] << 16) |
					       ((uint64_t)ip[46] << 8) | ip[47];
				uint32_t i = (uint32_t)(tag - ptag(0));
				assert_true(installed(i));
				assert_int_equal(1 + isp_of(i), p);
				assert_frame(out[o], f, expect_shim_out(f, i, 16));
			}
			free_all(out, m);
			got += m;
		}
		assert_int_equal(got, n);
	}
	assert_int_equal(cnt(DPMSG_CNT_EGRESS_SHIM), total);
	assert_int_equal(cnt(DPMSG_CNT_PUNT), 0);
	/* the burst lookup's first guess missed for some: the full lookup ran */
	unsigned past_primary = 0;
	for (unsigned k = 0; k < total; k++) {
		uint8_t key[32];
		uint32_t s;
		key_of(key, all[k]);
		uint32_t h = dp_hash_ulid(key);
		int w = dp_lut_scan(dp_lut_bucket(&dp.t->l_ulid, h), h, -1, &s);
		past_primary += w < 0 || !dp_ctx_ulids_are(&dp.t->slots[s], key);
	}
	printf("# %u of %u contexts not found first in their primary bucket\n", past_primary, total);
	assert_true(past_primary >= 4);   /* 1 + NCROWD keys for 8 ways */
	for (unsigned k = 0; k < total; k++) {
		uint64_t sent, recv;
		assert_int_equal(dp_ctx_stamps(dp.t, otag(all[k]), &sent, &recv), 0);
		if (sent == 0)
			fail_msg("context %u: no REAP sent stamp", all[k]);
	}
}

/* ---- ingress ------------------------------------------------------------ */

/*
 * One burst on ISP port 1: payload headers with known tags, payload
 * headers with unknown tags, Shim6 control messages, and NATv6 traffic to
 * a host's PA address, in turn.
 */
static void ingress_mixed_burst(void **state)
{
	(void)state;
	uint8_t f[256], src[16], sh[16], hs[16];
	struct rte_mbuf *in[DP_BURST], *out[64];
	uint32_t ctx_of[DP_BURST];
	size_t len;

	for (unsigned k = 0; k < DP_BURST; k++) {
		uint32_t i = (k * 37 + 2) % NCTX & ~UINT32_C(1);   /* ISP 0's contexts */
		ctx_of[k] = i;
		host(hs, i);
		peer(src, i);
		switch (k % 4) {
		case 0:   /* context i: TCP over the ULIDs, on the locators */
		case 1: { /* the same with a tag nobody holds */
			size_t n = fab_tcp(l4, src, hs, 24 + k);
			uint8_t ll[16], rl[16];
			lloc(ll, i);
			rloc(rl, i);
			fab_shim_hdr(sh, 6, k % 4 == 0 ? otag(i) : UINT64_C(0x7777000000) + k);
			len = fab_frame(f, rl, ll, 140, sh, 8, l4, n);
			break;
		}
		case 2: { /* a Shim6 control message (P = 0): I1 */
			uint8_t ll[16], rl[16], msg[24];
			memset(msg, 0, sizeof msg);
			msg[0] = 59;
			msg[1] = 2;     /* (2 + 1) * 8 octets */
			msg[2] = 1;     /* P = 0, type I1 */
			lloc(ll, i);
			rloc(rl, i);
			len = fab_frame(f, rl, ll, 140, NULL, 0, msg, sizeof msg);
			break;
		}
		default: { /* NATv6: a peer without Shim6 to the host's PA address */
			uint8_t pa[16];
			legacy(src, k);
			lloc(pa, i);
			size_t n = fab_tcp(l4, src, pa, 24 + k);
			len = fab_frame(f, src, pa, 6, NULL, 0, l4, n);
			break;
		}
		}
		in[k] = mk(f, len);
	}
	dp_node_isp(lc, DP_PORT_ISP(0), in, DP_BURST, rte_rdtsc());
	flush();

	assert_int_equal(cnt(DPMSG_CNT_RX_OUT_PKTS), 32);
	assert_int_equal(cnt(DPMSG_CNT_INGRESS_SHIM), 8);
	assert_int_equal(cnt(DPMSG_CNT_NAT_IN), 8);
	assert_int_equal(cnt(DPMSG_CNT_PUNT), 16);
	assert_int_equal(cnt(DPMSG_CNT_TX_IN_PKTS), 16);
	assert_int_equal(cnt(DPMSG_CNT_TX_OUT_PKTS), 0);

	unsigned n = drain(0, out, 64);
	assert_int_equal(n, 16);
	for (unsigned o = 0; o < n; o++) {
		unsigned k = o / 2 * 4 + (o % 2 ? 3 : 0);
		uint32_t i = ctx_of[k];
		host(hs, i);
		if (k % 4 == 0) {
			/* header gone, ULIDs back, the checksum as the peer made it */
			peer(src, i);
			size_t l = fab_tcp(l4, src, hs, 24 + k);
			len = fab_frame(f, src, hs, 6, NULL, 0, l4, l);
			memcpy(f, NH_MAC[0], 6);
			memcpy(f + 6, PORT_MAC[0], 6);
			assert_frame(out[o], f, len);
		} else {
			const uint8_t *ip = rte_pktmbuf_mtod(out[o], const uint8_t *) + 14;
			legacy(src, k);
			assert_memory_equal(ip + 8, src, 16);
			assert_memory_equal(ip + 24, hs, 16);   /* the CMULA again */
			size_t l = ((size_t)ip[4] << 8 | ip[5]);
			assert_int_equal(ref_verify6(ip + 8, ip + 24, 6, ip + 40, l), 0xffff);
		}
	}
	free_all(out, n);
	for (unsigned p = 1; p <= 2; p++)
		assert_int_equal(drain(p, out, 64), 0);

	n = rte_ring_dequeue_burst(dp.punt, (void **)out, 64, NULL);
	assert_int_equal(n, 16);
	for (unsigned o = 0; o < n; o++) {
		unsigned k = o / 2 * 4 + 1 + o % 2;
		assert_int_equal(out[o]->hash.usr, k % 4 == 1 ? DPMSG_PUNT_UNKNOWN_TAG : DPMSG_PUNT_SHIM6_CTL);
		assert_int_equal(out[o]->port, DP_PORT_ISP(0));
		const uint8_t *ip = rte_pktmbuf_mtod(out[o], const uint8_t *) + 14;
		assert_int_equal(ip[6], 140);    /* as it came: nothing removed */
	}
	free_all(out, n);
}

/* ---- shimmed packets only the general classifier takes --------------------- */

static const uint8_t HBH_PADN[8] = { 0, 0, 1, 4, 0, 0, 0, 0 };   /* Next Header set by the caller */

/* The tag of a shimmed frame whose payload header is at `off` of its IPv6 packet. */
static uint64_t tag_at(const struct rte_mbuf *m, unsigned off)
{
	const uint8_t *h = rte_pktmbuf_mtod(m, const uint8_t *) + 14 + off;
	uint64_t t = h[2] & 0x7f;
	for (unsigned j = 3; j < 8; j++)
		t = t << 8 | h[j];
	return t;
}

/*
 * A Hop-by-Hop header, or Ethernet padding after the packet, keeps a
 * packet off the fast classifier; it is shimmed all the same, out of the
 * node loop: the payload header after the Hop-by-Hop header, the padding
 * gone.  Without a context it is punted as it came.  Canonical packets in
 * the same burst keep their place in the lookup arrays.
 */
static void egress_shim_off_the_fast_path(void **state)
{
	(void)state;
	uint8_t f[256], e[256], src[16], dst[16], ext[16];
	struct rte_mbuf *in[DP_BURST], *out[64];
	uint32_t ctx_of[DP_BURST];
	unsigned shimmed = 0;

	for (unsigned k = 0; k < DP_BURST; k++) {
		uint32_t i = (k * 131 + 7) % NCTX;
		size_t len, n;
		ctx_of[k] = i;
		host(src, i);
		peer(dst, k % 4 == 2 ? NCTX + k : i);
		n = fab_tcp(l4, src, dst, 30 + k);
		if (k % 4 == 0 || k % 4 == 2) {   /* Hop-by-Hop; 2: no context */
			memcpy(ext, HBH_PADN, 8);
			ext[0] = 6;
			len = fab_frame(f, src, dst, 0, ext, 8, l4, n);
		} else {
			len = fab_frame(f, src, dst, 6, NULL, 0, l4, n);
		}
		if (k % 4 == 1) {                 /* two octets of Ethernet padding */
			f[len] = f[len + 1] = 0xee;
			len += 2;
		}
		in[k] = mk(f, len);
	}
	dp_node_inside(lc, in, DP_BURST, rte_rdtsc());
	flush();

	assert_int_equal(cnt(DPMSG_CNT_EGRESS_SHIM), 24);
	assert_int_equal(cnt(DPMSG_CNT_SHIM_GENERAL), 16);   /* the canonical 8 stayed in the loop */
	assert_int_equal(cnt(DPMSG_CNT_PUNT), 8);
	assert_int_equal(cnt(DPMSG_CNT_TX_OUT_PKTS), 24);
	assert_int_equal(cnt(DPMSG_CNT_DROP_MALFORMED), 0);
	for (unsigned p = 1; p <= 2; p++) {
		unsigned n = drain(p, out, 64);
		for (unsigned o = 0; o < n; o++) {
			const uint8_t *ip = rte_pktmbuf_mtod(out[o], const uint8_t *) + 14;
			bool hbh = ip[6] == 0;
			uint64_t tag = tag_at(out[o], hbh ? 48 : 40);
			unsigned k = 0;
			while (k < DP_BURST && (k % 4 == 2 || ptag(ctx_of[k]) != tag))
				k++;
			assert_true(k < DP_BURST);
			assert_int_equal(hbh, k % 4 == 0);
			assert_int_equal(1 + isp_of(ctx_of[k]), p);
			if (hbh) {
				uint8_t h[16], pr[16], ll[16], rl[16];
				host(h, ctx_of[k]);
				peer(pr, ctx_of[k]);
				lloc(ll, ctx_of[k]);
				rloc(rl, ctx_of[k]);
				size_t l = fab_tcp(l4, h, pr, 30 + k);
				memcpy(ext, HBH_PADN, 8);
				ext[0] = 140;
				fab_shim_hdr(ext + 8, 6, ptag(ctx_of[k]));
				size_t len = fab_frame(e, ll, rl, 0, ext, 16, l4, l);
				memcpy(e, NH_MAC[p], 6);
				memcpy(e + 6, PORT_MAC[p], 6);
				assert_frame(out[o], e, len);
			} else {
				assert_frame(out[o], e, expect_shim_out(e, ctx_of[k], 30 + k));
			}
			shimmed++;
		}
		free_all(out, n);
	}
	assert_int_equal(shimmed, 24);
	unsigned n = rte_ring_dequeue_burst(dp.punt, (void **)out, 64, NULL);
	assert_int_equal(n, 8);
	for (unsigned o = 0; o < n; o++) {
		const uint8_t *ip = rte_pktmbuf_mtod(out[o], const uint8_t *) + 14;
		assert_int_equal(out[o]->hash.usr, DPMSG_PUNT_NO_CTX);
		assert_int_equal(ip[6], 0);            /* as it came */
		peer(dst, NCTX + 4 * o + 2);
		assert_memory_equal(ip + 24, dst, 16);
	}
	free_all(out, n);
}

/*
 * The same on an ISP port: a payload header behind a Destination Options
 * header, or in a padded frame, is removed out of the node loop (the
 * Destination Options header then chains to the upper layer); with an
 * unknown tag it is punted for R1bis.
 */
static void ingress_shim_off_the_fast_path(void **state)
{
	(void)state;
	uint8_t f[256], e[256], pr[16], hs[16], ll[16], rl[16], ext[16];
	struct rte_mbuf *in[DP_BURST], *out[64];
	uint32_t ctx_of[DP_BURST];
	size_t len;

	for (unsigned k = 0; k < DP_BURST; k++) {
		uint32_t i = (k * 37 + 2) % NCTX & ~UINT32_C(1);   /* ISP 0's contexts */
		ctx_of[k] = i;
		host(hs, i);
		peer(pr, i);
		lloc(ll, i);
		rloc(rl, i);
		size_t n = fab_tcp(l4, pr, hs, 20 + k);
		uint64_t tag = k % 4 == 2 ? UINT64_C(0x7777000000) + k : otag(i);
		if (k % 4 == 0 || k % 4 == 2) {   /* Destination Options first; 2: unknown tag */
			memcpy(ext, HBH_PADN, 8);
			ext[0] = 140;
			fab_shim_hdr(ext + 8, 6, tag);
			len = fab_frame(f, rl, ll, 60, ext, 16, l4, n);
		} else {
			fab_shim_hdr(ext, 6, tag);
			len = fab_frame(f, rl, ll, 140, ext, 8, l4, n);
		}
		if (k % 4 == 1) {
			f[len] = f[len + 1] = f[len + 2] = 0;
			len += 3;
		}
		in[k] = mk(f, len);
	}
	dp_node_isp(lc, DP_PORT_ISP(0), in, DP_BURST, rte_rdtsc());
	flush();

	assert_int_equal(cnt(DPMSG_CNT_INGRESS_SHIM), 24);
	assert_int_equal(cnt(DPMSG_CNT_SHIM_GENERAL), 16);
	assert_int_equal(cnt(DPMSG_CNT_PUNT), 8);
	assert_int_equal(cnt(DPMSG_CNT_TX_IN_PKTS), 24);
	assert_int_equal(cnt(DPMSG_CNT_DROP_MALFORMED), 0);
	unsigned n = drain(0, out, 64);
	assert_int_equal(n, 24);
	for (unsigned o = 0; o < n; o++) {
		unsigned k = o / 3 * 4 + (o % 3 == 2 ? 3 : o % 3);
		host(hs, ctx_of[k]);
		peer(pr, ctx_of[k]);
		size_t l = fab_tcp(l4, pr, hs, 20 + k);
		if (k % 4 == 0) {
			memcpy(ext, HBH_PADN, 8);
			ext[0] = 6;
			len = fab_frame(e, pr, hs, 60, ext, 8, l4, l);
		} else {
			len = fab_frame(e, pr, hs, 6, NULL, 0, l4, l);
		}
		memcpy(e, NH_MAC[0], 6);
		memcpy(e + 6, PORT_MAC[0], 6);
		assert_frame(out[o], e, len);
	}
	free_all(out, n);
	n = rte_ring_dequeue_burst(dp.punt, (void **)out, 64, NULL);
	assert_int_equal(n, 8);
	for (unsigned o = 0; o < n; o++) {
		assert_int_equal(out[o]->hash.usr, DPMSG_PUNT_UNKNOWN_TAG);
		assert_int_equal(tag_at(out[o], 48), UINT64_C(0x7777000000) + 4 * o + 2);
	}
	free_all(out, n);
}

/* ---- NATv6 connections a peer opened ------------------------------------- */

/* TCP from src to dst with these ports, as its sender makes it. */
static size_t tcp_ports(uint8_t *f, const uint8_t src[16], const uint8_t dst[16], uint16_t sp, uint16_t dport,
			size_t pay)
{
	size_t n = fab_tcp(l4, src, dst, pay);
	l4[0] = (uint8_t)(sp >> 8);
	l4[1] = (uint8_t)sp;
	l4[2] = (uint8_t)(dport >> 8);
	l4[3] = (uint8_t)dport;
	l4[16] = l4[17] = 0;
	uint16_t c = ref_csum6(src, dst, 6, l4, n);
	l4[16] = (uint8_t)(c >> 8);
	l4[17] = (uint8_t)c;
	return fab_frame(f, src, dst, 6, NULL, 0, l4, n);
}

/* TSC cycles nat_in and nat_out add to the clock: time passing for the notes */
static uint64_t nat_skew;

/* One packet in from the legacy peer to `pa` on ISP port `isp`, delivered
 * to the host inside. */
static void nat_in(unsigned isp, const uint8_t pa[16], const uint8_t hs[16], const uint8_t lg[16], uint16_t pport)
{
	uint8_t f[256];
	struct rte_mbuf *m = mk(f, tcp_ports(f, lg, pa, pport, 80, 16)), *out[4];
	dp_node_isp(lc, DP_PORT_ISP(isp), &m, 1, rte_rdtsc() + nat_skew);
	flush();
	assert_int_equal(drain(0, out, 4), 1);
	assert_memory_equal(rte_pktmbuf_mtod(out[0], const uint8_t *) + 14 + 24, hs, 16);
	free_all(out, 1);
}

/* The host's packet out to the legacy peer: which ISP port it left by, and
 * with which source (its checksum verified with it). */
static unsigned nat_out(const uint8_t hs[16], const uint8_t lg[16], uint16_t pport, uint8_t src[16])
{
	uint8_t f[256];
	struct rte_mbuf *m = mk(f, tcp_ports(f, hs, lg, 80, pport, 16)), *out[4];
	dp_node_inside(lc, &m, 1, rte_rdtsc() + nat_skew);
	flush();
	unsigned by = 0;
	for (unsigned isp = 0; isp < 2; isp++) {
		unsigned n = drain(DP_PORT_ISP(isp), out, 4);
		if (!n)
			continue;
		assert_int_equal(n, 1);
		assert_int_equal(by, 0);
		by = DP_PORT_ISP(isp);
		const uint8_t *ip = rte_pktmbuf_mtod(out[0], const uint8_t *) + 14;
		memcpy(src, ip + 8, 16);
		assert_memory_equal(ip + 24, lg, 16);
		assert_int_equal(ref_verify6(ip + 8, ip + 24, 6, ip + 40, 36), 0xffff);
		assert_memory_equal(rte_pktmbuf_mtod(out[0], const uint8_t *), NH_MAC[by], 6);
		free_all(out, 1);
	}
	assert_int_not_equal(by, 0);
	return by;
}

/* Host i and a legacy peer the weights put on ISP 0, the host's PA
 * addresses under both ISPs, and an empty table of return paths. */
static void nat_pair_on_isp0(uint32_t i, uint8_t hs[16], uint8_t lg[16], uint8_t pa0[16], uint8_t pa1[16])
{
	unsigned j = 0;
	host(hs, i);
	do
		legacy(lg, ++j);
	while (dp_isp_pick(dp.site, hs, lg) != 0);
	addr(pa0, "2001:db8:10:1:1::", i);
	addr(pa1, "2001:db8:20:1:1::", i);
	memset(dp.natpin.w, 0, dp_natpin_words(dp.natpin.mask) * 8);
	memset(dp.natpin.used, 0, dp_natpin_used_words(dp.natpin.mask) * 8);
}

/*
 * A legacy peer opens a connection to the host's PA address under the ISP
 * the weights do not pick for the pair (ISP 1 here, weighted 1 to ISP 0's
 * 3): the replies leave through that ISP, from that address.  The host's
 * own connections to the peer keep the pick, and a packet of the flow in
 * through the pick's address ends the note.
 */
static void a_connection_a_peer_opened_is_answered_through_its_isp(void **st)
{
	(void)st;
	uint8_t hs[16], lg[16], pa0[16], pa1[16], src[16];
	nat_pair_on_isp0(5, hs, lg, pa0, pa1);

	nat_in(1, pa1, hs, lg, 40000);
	assert_int_equal(cnt(DPMSG_CNT_NAT_FLOWS_NOTED), 1);
	assert_int_equal(nat_out(hs, lg, 40000, src), DP_PORT_ISP(1));
	assert_memory_equal(src, pa1, 16);
	assert_int_equal(cnt(DPMSG_CNT_NAT_FLOW_OUT), 1);
	/* again, and the note is not made twice */
	nat_in(1, pa1, hs, lg, 40000);
	assert_int_equal(cnt(DPMSG_CNT_NAT_FLOWS_NOTED), 1);
	assert_int_equal(nat_out(hs, lg, 40000, src), DP_PORT_ISP(1));
	/* another connection of the pair: the pick */
	assert_int_equal(nat_out(hs, lg, 40001, src), DP_PORT_ISP(0));
	assert_memory_equal(src, pa0, 16);
	/* the flow in through the pick's address: the note goes */
	nat_in(0, pa0, hs, lg, 40000);
	assert_int_equal(nat_out(hs, lg, 40000, src), DP_PORT_ISP(0));
	assert_memory_equal(src, pa0, 16);
	assert_int_equal(cnt(DPMSG_CNT_NAT_FLOW_OUT), 2);
	assert_int_equal(cnt(DPMSG_CNT_NAT_IN), 3);
	assert_int_equal(cnt(DPMSG_CNT_NAT_OUT), 4);
	assert_int_equal(cnt(DPMSG_CNT_NAT_FLOWS_EVICTED), 0);
}

/*
 * ISP 0, the pick for the pair, fails (its probes lost): the host's new
 * connection leaves by ISP 1 from its address there, and keeps ISP 1 when
 * ISP 0 works again, while the pair's next connection goes back to ISP 0.
 * A connection the peer opens through ISP 0's address while ISP 0 is
 * taken to have failed is answered through ISP 0, and still is after it
 * returns.
 */
static void natv6_pairs_leave_a_failed_isp_and_their_connections_keep_the_new_one(void **st)
{
	(void)st;
	uint8_t hs[16], lg[16], pa0[16], pa1[16], src[16];
	nat_pair_on_isp0(6, hs, lg, pa0, pa1);

	dp.isp_down = 1u << 0;
	assert_int_equal(nat_out(hs, lg, 41000, src), DP_PORT_ISP(1));
	assert_memory_equal(src, pa1, 16);
	assert_int_equal(cnt(DPMSG_CNT_NAT_ISP_MOVED), 1);
	assert_int_equal(cnt(DPMSG_CNT_NAT_FLOWS_NOTED), 1);
	/* the peer answers through ISP 1: the note stays */
	nat_in(1, pa1, hs, lg, 41000);
	assert_int_equal(nat_out(hs, lg, 41000, src), DP_PORT_ISP(1));
	assert_int_equal(cnt(DPMSG_CNT_NAT_ISP_MOVED), 2);   /* a packet count */
	assert_int_equal(cnt(DPMSG_CNT_NAT_FLOWS_NOTED), 1);
	/* the peer opens a connection through ISP 0's address all the same */
	nat_in(0, pa0, hs, lg, 41001);
	assert_int_equal(nat_out(hs, lg, 41001, src), DP_PORT_ISP(0));
	assert_memory_equal(src, pa0, 16);
	assert_int_equal(cnt(DPMSG_CNT_NAT_ISP_MOVED), 2);

	dp.isp_down = 0;
	assert_int_equal(nat_out(hs, lg, 41000, src), DP_PORT_ISP(1));
	assert_memory_equal(src, pa1, 16);
	nat_in(1, pa1, hs, lg, 41000);
	assert_int_equal(nat_out(hs, lg, 41000, src), DP_PORT_ISP(1));
	assert_int_equal(nat_out(hs, lg, 41001, src), DP_PORT_ISP(0));
	assert_int_equal(nat_out(hs, lg, 41002, src), DP_PORT_ISP(0));
	assert_memory_equal(src, pa0, 16);
	assert_int_equal(cnt(DPMSG_CNT_NAT_ISP_MOVED), 2);

	/* every ISP failed: the pick stands */
	dp.isp_down = 3;
	assert_int_equal(nat_out(hs, lg, 41003, src), DP_PORT_ISP(0));
	assert_int_equal(cnt(DPMSG_CNT_NAT_ISP_MOVED), 2);
	dp.isp_down = 0;

	/* the moved connection's packets out keep its note young: 2 h in steps
	 * of 20 min, each under TCP's idle time, and it stays on ISP 1 */
	for (unsigned k = 1; k <= 6; k++) {
		nat_skew = (uint64_t)k * 1200 * rte_get_tsc_hz();
		assert_int_equal(nat_out(hs, lg, 41000, src), DP_PORT_ISP(1));
	}
	assert_int_equal(cnt(DPMSG_CNT_NAT_FLOWS_EXPIRED), 0);
	/* then idle past it (RFC 5382's 2 h 4 min): the note goes, and the
	 * next packet out takes the pick, as a new flow would */
	nat_skew += (uint64_t)(DP_NATPIN_IDLE_TCP_S + 2) * rte_get_tsc_hz();
	assert_int_equal(nat_out(hs, lg, 41000, src), DP_PORT_ISP(0));
	assert_memory_equal(src, pa0, 16);
	assert_int_equal(cnt(DPMSG_CNT_NAT_FLOWS_EXPIRED), 1);
	assert_int_equal(nat_out(hs, lg, 41000, src), DP_PORT_ISP(0));
	assert_int_equal(cnt(DPMSG_CNT_NAT_FLOWS_EXPIRED), 1);
	nat_skew = 0;
}

/* The target's echo reply to `own` on ISP 0's link: identifier `id`, sequence `seq`. */
static size_t probe_reply(uint8_t *f, const uint8_t tgt[16], const uint8_t own[16], uint16_t id, uint16_t seq)
{
	size_t n = fab_echo(l4, tgt, own, 8);
	memcpy(l4 + 8, DP_PROBE_DATA, 8);   /* what the request held */
	l4[0] = 129;
	l4[4] = (uint8_t)(id >> 8);
	l4[5] = (uint8_t)id;
	l4[6] = (uint8_t)(seq >> 8);
	l4[7] = (uint8_t)seq;
	l4[2] = l4[3] = 0;
	uint16_t c = ref_csum6(tgt, own, 58, l4, n);
	l4[2] = (uint8_t)(c >> 8);
	l4[3] = (uint8_t)c;
	return fab_frame(f, tgt, own, 58, NULL, 0, l4, n);
}

/* An answer to an ISP probe is taken on the ISP port and recorded for the
 * channel thread; an echo reply that is not one goes on to the kernel's
 * side (here: no TAP, a counted drop). */
static void an_isp_probe_s_answer_is_taken_and_recorded(void **st)
{
	(void)st;
	struct dp_site *s = dp.site;
	uint8_t f[256], tgt[16], tgt2[16];
	struct rte_mbuf *m, *out[4];
	inet_pton(AF_INET6, "2001:db8:ffff::53", tgt);
	inet_pton(AF_INET6, "2001:db8:fffe::1", tgt2);
	s->isp[0].probe.n = 2;
	memcpy(s->isp[0].probe.a[0], tgt, 16);
	memcpy(s->isp[0].probe.a[1], tgt2, 16);
	dp.probe_id = 0x4242;
	dp.port[1].probe_seen = 0;

	/* the second target's answer is as good as the first's */
	m = mk(f, probe_reply(f, tgt2, s->isp[0].addr, 0x4242, 8));
	dp_node_isp(lc, DP_PORT_ISP(0), &m, 1, rte_rdtsc());
	flush();
	assert_int_equal(dp.port[1].probe_seen, DP_PROBE_SEEN | 8);
	m = mk(f, probe_reply(f, tgt, s->isp[0].addr, 0x4242, 9));
	dp_node_isp(lc, DP_PORT_ISP(0), &m, 1, rte_rdtsc());
	flush();
	assert_int_equal(dp.port[1].probe_seen, DP_PROBE_SEEN | 9);
	/* the other target's answer to the same round: counted, but the round
	 * trip stays the first answer's */
	uint64_t first = dp.port[1].probe_seen_tsc;
	assert_true(first != 0);
	m = mk(f, probe_reply(f, tgt2, s->isp[0].addr, 0x4242, 9));
	dp_node_isp(lc, DP_PORT_ISP(0), &m, 1, rte_rdtsc() + 1000);
	flush();
	assert_int_equal(dp.port[1].probe_seen_tsc, first);
	assert_int_equal(cnt(DPMSG_CNT_ISP_PROBE_REPLIES), 3);
	assert_int_equal(cnt(DPMSG_CNT_DROP_NO_ROUTE), 0);

	/* another identifier (the kernel's ping), or the same answer on ISP 1's port */
	m = mk(f, probe_reply(f, tgt, s->isp[0].addr, 0x4243, 10));
	dp_node_isp(lc, DP_PORT_ISP(0), &m, 1, rte_rdtsc());
	m = mk(f, probe_reply(f, tgt, s->isp[0].addr, 0x4242, 11));
	dp_node_isp(lc, DP_PORT_ISP(1), &m, 1, rte_rdtsc());
	flush();
	assert_int_equal(dp.port[1].probe_seen, DP_PROBE_SEEN | 9);
	assert_int_equal(dp.port[2].probe_seen, 0);
	assert_int_equal(cnt(DPMSG_CNT_ISP_PROBE_REPLIES), 3);
	/* neither taken: the first for the kernel (no TAP here), the second to nobody on ISP 1's link */
	assert_int_equal(cnt(DPMSG_CNT_DROP_NO_ROUTE), 2);
	/* a reload took the probe away: its answers are no longer ours */
	memset(&s->isp[0].probe, 0, sizeof s->isp[0].probe);
	m = mk(f, probe_reply(f, tgt, s->isp[0].addr, 0x4242, 12));
	dp_node_isp(lc, DP_PORT_ISP(0), &m, 1, rte_rdtsc());
	flush();
	assert_int_equal(dp.port[1].probe_seen, DP_PROBE_SEEN | 9);
	assert_int_equal(cnt(DPMSG_CNT_DROP_NO_ROUTE), 3);
	for (unsigned p = 0; p < dp.n_ports; p++)
		free_all(out, drain(p, out, 4));
}

/* ---- bounds and failures ------------------------------------------------- */

/* A punt ring that fills: the rest is dropped and counted, nothing leaks. */
static void punt_ring_full(void **state)
{
	(void)state;
	uint8_t f[256], src[16], dst[16];
	struct rte_mbuf *in[20];
	for (unsigned k = 0; k < 20; k++) {
		host(src, k);
		peer(dst, NCTX + 100 + k);
		in[k] = mk(f, out_tcp(f, src, dst, 8));
	}
	dp_node_inside(lc, in, 20, rte_rdtsc());
	flush();
	assert_int_equal(cnt(DPMSG_CNT_PUNT), 7);   /* a ring of 8 holds 7 */
	assert_int_equal(cnt(DPMSG_CNT_PUNT_DROP), 13);
	assert_int_equal(rte_ring_count(dp.punt), 7);
}

/*
 * Too big once the header is added: Packet Too Big back to the sender
 * with the link MTU less 8, within the ICMP budget (2 here); beyond it,
 * dropped.  Every one counts in drop_mtu.
 */
static void too_big_within_budget(void **state)
{
	(void)state;
	static uint8_t f[1600];
	uint8_t src[16], dst[16];
	struct rte_mbuf *in[3], *out[8];
	uint32_t i = 4;   /* ISP 0 */
	host(src, i);
	peer(dst, i);
	for (unsigned k = 0; k < 3; k++)
		in[k] = mk(f, out_tcp(f, src, dst, ISP_MTU - 40 - 20));   /* exactly the MTU before the header */
	dp_node_inside(lc, in, 3, rte_rdtsc());
	flush();
	assert_int_equal(cnt(DPMSG_CNT_DROP_MTU), 3);
	assert_int_equal(cnt(DPMSG_CNT_ICMP_GEN), 2);
	assert_int_equal(cnt(DPMSG_CNT_EGRESS_SHIM), 0);
	unsigned n = drain(0, out, 8);
	assert_int_equal(n, 2);
	for (unsigned o = 0; o < n; o++) {
		const uint8_t *e = rte_pktmbuf_mtod(out[o], const uint8_t *), *ip = e + 14;
		assert_memory_equal(e, "\x02\x00\x00\x00\x00\x0a", 6);   /* back to the sender's MAC */
		assert_int_equal(ip[6], 58);
		assert_memory_equal(ip + 24, src, 16);
		assert_int_equal(ip[40], 2);                             /* Packet Too Big */
		uint32_t mtu = (uint32_t)ip[44] << 24 | (uint32_t)ip[45] << 16 | (uint32_t)ip[46] << 8 | ip[47];
		assert_int_equal(mtu, ISP_MTU - 8);
		size_t l = ((size_t)ip[4] << 8 | ip[5]);
		assert_true(40 + l <= 1280);
		assert_int_equal(ref_verify6(ip + 8, ip + 24, 58, ip + 40, l), 0xffff);
	}
	free_all(out, n);
	assert_int_equal(drain(1, out, 8), 0);
}

/* An ISP link whose next hop is not resolved: dropped and counted, not sent. */
static void next_hop_unresolved(void **state)
{
	(void)state;
	uint8_t f[256], src[16], dst[16];
	struct rte_mbuf *in[4], *out[8];
	dp_nh_store(&dp.port[1], 0);
	for (unsigned k = 0; k < 4; k++) {
		host(src, 2 * k);     /* ISP 0 */
		peer(dst, 2 * k);
		in[k] = mk(f, out_tcp(f, src, dst, 8));
	}
	dp_node_inside(lc, in, 4, rte_rdtsc());
	flush();
	dp_nh_store(&dp.port[1], dp_nh_word(NH_MAC[1]));
	assert_int_equal(cnt(DPMSG_CNT_DROP_NO_ROUTE), 4);
	assert_int_equal(cnt(DPMSG_CNT_TX_OUT_PKTS), 0);
	assert_int_equal(drain(1, out, 8), 0);

	/* the inside next hop unresolved: payload headers in are removed and
	 * counted, the packets dropped */
	dp_nh_store(&dp.port[0], 0);
	for (unsigned k = 0; k < 4; k++) {
		uint8_t ll[16], rl[16], sh[8];
		size_t n;
		host(dst, 2 * k);
		peer(src, 2 * k);
		lloc(ll, 2 * k);
		rloc(rl, 2 * k);
		n = fab_tcp(l4, src, dst, 8);
		fab_shim_hdr(sh, 6, otag(2 * k));
		in[k] = mk(f, fab_frame(f, rl, ll, 140, sh, 8, l4, n));
	}
	dp_node_isp(lc, DP_PORT_ISP(0), in, 4, rte_rdtsc());
	flush();
	dp_nh_store(&dp.port[0], dp_nh_word(NH_MAC[0]));
	assert_int_equal(cnt(DPMSG_CNT_INGRESS_SHIM), 4);
	assert_int_equal(cnt(DPMSG_CNT_DROP_NO_ROUTE), 8);
	assert_int_equal(cnt(DPMSG_CNT_TX_IN_PKTS), 0);
	assert_int_equal(drain(0, out, 8), 0);
}

/*
 * A site prefix longer than 64 bits keeps the fast classifier off
 * (dp_fast_prep): its one-word compare would take a source that shares
 * only the first 64 bits for the site's.  Such a source is dropped; the
 * site's own hosts are shimmed by the general classifier.
 */
static void a_site_the_fast_classifier_does_not_fit(void **state)
{
	(void)state;
	struct dp_site *s = &dp.sites[0];
	const struct dp_prefix keep = s->cmula[0];
	uint8_t f[256], src[16], dst[16];
	struct rte_mbuf *in[4], *out[8];

	pfx(&s->cmula[0], "fd00:1:1:1:1::", 80);   /* host(i) stays inside */
	dp_fast_prep(s, &lc->fast);
	assert_false(lc->fast.in_ok);
	for (unsigned k = 0; k < 4; k++) {
		host(src, 2 * k);
		if (k % 2)
			src[9] = 2;   /* fd00:1:1:1:2::: the first 64 bits only */
		peer(dst, 2 * k);
		in[k] = mk(f, out_tcp(f, src, dst, 8));
	}
	dp_node_inside(lc, in, 4, rte_rdtsc());
	flush();
	s->cmula[0] = keep;
	dp_fast_prep(s, &lc->fast);
	assert_int_equal(cnt(DPMSG_CNT_EGRESS_SHIM), 2);
	assert_int_equal(cnt(DPMSG_CNT_DROP_NO_ROUTE), 2);
	assert_int_equal(cnt(DPMSG_CNT_PUNT), 0);
	unsigned n = drain(1, out, 8);
	assert_int_equal(n, 2);
	for (unsigned o = 0; o < n; o++)
		assert_frame(out[o], f, expect_shim_out(f, 4 * o, 8));
	free_all(out, n);
}

/* ---- Neighbor Discovery on an ISP link (no kernel interface) ------------- */

static const uint8_t RTR_MAC[6] = { 2, 0, 0, 0, 0x77, 1 }, RTR_MAC2[6] = { 2, 0, 0, 0, 0x77, 2 };

/* ISP 0's port with its own address `own` and a next hop `rtr` whose MAC
 * Neighbor Discovery is to learn; nd_port_static puts back the static next
 * hop with no addresses that the other cases expect. */
static void nd_port_learning(struct dp_port *pt, const uint8_t own[16], const uint8_t rtr[16])
{
	memcpy(pt->own_addr, own, 16);
	memcpy(pt->nh_addr, rtr, 16);
	pt->nh_static = false;
}

static void nd_port_static(struct dp_port *pt)
{
	pt->nh_static = true;
	dp_nh_store(pt, dp_nh_word(NH_MAC[1]));
	memset(pt->own_addr, 0, 16);
	memset(pt->nh_addr, 0, 16);
}

/* NS (135) or NA (136) from the router's link-local address, hop limit 255. */
static size_t nd_frame(uint8_t *f, uint8_t type, const uint8_t src[16], const uint8_t dst[16],
		       const uint8_t target[16], uint8_t flags, uint8_t opt, const uint8_t mac[6], uint8_t hlim)
{
	uint8_t icmp[32];
	memset(icmp, 0, sizeof icmp);
	icmp[0] = type;
	icmp[4] = flags;
	memcpy(icmp + 8, target, 16);
	icmp[24] = opt;
	icmp[25] = 1;
	memcpy(icmp + 26, mac, 6);
	uint16_t c = ref_csum6(src, dst, 58, icmp, sizeof icmp);
	icmp[2] = (uint8_t)(c >> 8);
	icmp[3] = (uint8_t)c;
	size_t len = fab_frame(f, src, dst, 58, NULL, 0, icmp, sizeof icmp);
	f[14 + 7] = hlim;
	memcpy(f + 6, mac, 6);
	return len;
}

/*
 * A Solicitation for the appliance's own ISP address is answered from the
 * fast path (solicited, override, our MAC), a DAD probe to all-nodes; one
 * with a hop limit other than 255 is not Neighbor Discovery.  The next
 * hop's MAC is learned from its own solicitation, and an override
 * advertisement from it with a new MAC moves the link's traffic at once.
 */
static void nd_on_isp_link(void **state)
{
	(void)state;
	struct dp_port *pt = &dp.port[1];
	uint8_t f[256], rtr[16], own[16], snm[16], unspec[16] = { 0 }, allnodes[16];
	struct rte_mbuf *m, *out[8];
	inet_pton(AF_INET6, "fe80::1", rtr);
	inet_pton(AF_INET6, "2001:db8:10:ffff::2", own);
	inet_pton(AF_INET6, "ff02::1:ff00:2", snm);
	inet_pton(AF_INET6, "ff02::1", allnodes);
	nd_port_learning(pt, own, rtr);

	m = mk(f, nd_frame(f, 135, rtr, snm, own, 0, 1, RTR_MAC, 255));
	dp_node_isp(lc, DP_PORT_ISP(0), &m, 1, rte_rdtsc());
	m = mk(f, nd_frame(f, 135, unspec, snm, own, 0, 1, RTR_MAC, 255));   /* DAD */
	dp_node_isp(lc, DP_PORT_ISP(0), &m, 1, rte_rdtsc());
	m = mk(f, nd_frame(f, 135, rtr, snm, own, 0, 1, RTR_MAC, 64));
	dp_node_isp(lc, DP_PORT_ISP(0), &m, 1, rte_rdtsc());
	flush();
	assert_int_equal(cnt(DPMSG_CNT_ICMP_GEN), 2);
	assert_int_equal(cnt(DPMSG_CNT_DROP_NO_ROUTE), 1);    /* the hop-limit-64 one: no kernel to take it */
	/* the next hop's own solicitation carried its MAC: taken (RFC 4861 7.2.3) */
	assert_int_equal(cnt(DPMSG_CNT_ND_MAC_CHANGED), 1);
	assert_true(dp_nh_load(pt) == dp_nh_word(RTR_MAC));
	unsigned n = drain(1, out, 8);
	assert_int_equal(n, 2);
	for (unsigned o = 0; o < n; o++) {
		const uint8_t *e = rte_pktmbuf_mtod(out[o], const uint8_t *), *ip = e + 14, *icmp = ip + 40;
		assert_int_equal(rte_pktmbuf_data_len(out[o]), 14 + 40 + 32);
		assert_memory_equal(e + 6, PORT_MAC[1], 6);
		assert_memory_equal(e, o == 0 ? RTR_MAC : (const uint8_t *)"\x33\x33\x00\x00\x00\x01", 6);
		assert_int_equal(ip[7], 255);
		assert_memory_equal(ip + 8, own, 16);
		assert_memory_equal(ip + 24, o == 0 ? rtr : allnodes, 16);
		assert_int_equal(icmp[0], 136);
		assert_int_equal(icmp[4], 0x60);                 /* solicited, override */
		assert_memory_equal(icmp + 8, own, 16);
		assert_int_equal(icmp[24], 2);
		assert_memory_equal(icmp + 26, PORT_MAC[1], 6);
		assert_int_equal(ref_verify6(ip + 8, ip + 24, 58, icmp, 32), 0xffff);
	}
	free_all(out, n);

	/* the router moves to a new MAC and says so */
	m = mk(f, nd_frame(f, 136, rtr, allnodes, rtr, 0x20, 2, RTR_MAC2, 255));
	dp_node_isp(lc, DP_PORT_ISP(0), &m, 1, rte_rdtsc());
	assert_int_equal(cnt(DPMSG_CNT_ND_MAC_CHANGED), 2);
	assert_true(dp_nh_load(pt) == dp_nh_word(RTR_MAC2));
	uint8_t src[16], dst[16];
	host(src, 0);
	peer(dst, 0);
	m = mk(f, out_tcp(f, src, dst, 8));
	dp_node_inside(lc, &m, 1, rte_rdtsc());
	flush();
	n = drain(1, out, 8);
	assert_int_equal(n, 1);
	assert_memory_equal(rte_pktmbuf_mtod(out[0], const uint8_t *), RTR_MAC2, 6);
	free_all(out, n);

	nd_port_static(pt);
}

/*
 * With no kernel interface, the next hop's answer to our solicitation is
 * the dataplane's own business: it confirms the MAC and is then consumed,
 * counted as nd_received and not as a drop.  An advertisement about any
 * other address is still nothing of ours.
 */
static void nd_answer_taken(void **state)
{
	(void)state;
	struct dp_port *pt = &dp.port[1];
	uint8_t f[256], rtr[16], own[16], other[16];
	struct rte_mbuf *m, *out[8];
	inet_pton(AF_INET6, "2001:db8:10:ffff::1", rtr);
	inet_pton(AF_INET6, "2001:db8:10:ffff::2", own);
	inet_pton(AF_INET6, "2001:db8:10:ffff::9", other);
	nd_port_learning(pt, own, rtr);
	pt->nh_confirm_tsc = 0;

	m = mk(f, nd_frame(f, 136, rtr, own, rtr, 0x60, 2, RTR_MAC, 255));   /* solicited, override */
	dp_node_isp(lc, DP_PORT_ISP(0), &m, 1, rte_rdtsc());
	flush();
	assert_int_equal(cnt(DPMSG_CNT_ND_RECEIVED), 1);
	assert_int_equal(cnt(DPMSG_CNT_DROP_NO_ROUTE), 0);
	assert_true(dp_nh_load(pt) == dp_nh_word(RTR_MAC));
	assert_true(pt->nh_confirm_tsc != 0);
	assert_int_equal(drain(1, out, 8), 0);

	m = mk(f, nd_frame(f, 136, other, own, other, 0x60, 2, RTR_MAC2, 255));
	dp_node_isp(lc, DP_PORT_ISP(0), &m, 1, rte_rdtsc());
	flush();
	assert_int_equal(cnt(DPMSG_CNT_ND_RECEIVED), 1);
	assert_int_equal(cnt(DPMSG_CNT_DROP_NO_ROUTE), 1);
	assert_true(dp_nh_load(pt) == dp_nh_word(RTR_MAC));

	nd_port_static(pt);
}

/* Only ICMPv6 is Neighbor Discovery: a UDP datagram from the next hop, hop limit
 * 255, whose payload reads like an NS for our address with a source link-layer
 * option, is neither answered nor taught anything. */
static void nd_needs_icmpv6(void **state)
{
	(void)state;
	struct dp_port *pt = &dp.port[1];
	uint8_t f[256], rtr[16], own[16];
	struct rte_mbuf *m, *out[8];
	inet_pton(AF_INET6, "fe80::1", rtr);
	inet_pton(AF_INET6, "2001:db8:10:ffff::2", own);
	nd_port_learning(pt, own, rtr);
	uint64_t before = dp_nh_load(pt);
	m = mk(f, nd_frame(f, 135, rtr, own, own, 0, 1, RTR_MAC, 255));
	rte_pktmbuf_mtod(m, uint8_t *)[14 + 6] = 17;
	dp_node_isp(lc, DP_PORT_ISP(0), &m, 1, rte_rdtsc());
	flush();
	assert_int_equal(cnt(DPMSG_CNT_ICMP_GEN), 0);
	assert_int_equal(drain(1, out, 8), 0);
	assert_true(dp_nh_load(pt) == before);
	assert_int_equal(cnt(DPMSG_CNT_ND_MAC_CHANGED), 0);
	nd_port_static(pt);
}

int main(int argc, char **argv)
{
	(void)argc;
	if (eal_unit_init(argv[0], "nodes", "512") < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(egress_mixed_burst, setup, teardown),
		cmocka_unit_test_setup_teardown(egress_every_context, setup, teardown),
		cmocka_unit_test_setup_teardown(ingress_mixed_burst, setup, teardown),
		cmocka_unit_test_setup_teardown(egress_shim_off_the_fast_path, setup, teardown),
		cmocka_unit_test_setup_teardown(ingress_shim_off_the_fast_path, setup, teardown),
		cmocka_unit_test_setup_teardown(a_connection_a_peer_opened_is_answered_through_its_isp, setup, teardown),
		cmocka_unit_test_setup_teardown(natv6_pairs_leave_a_failed_isp_and_their_connections_keep_the_new_one, setup, teardown),
		cmocka_unit_test_setup_teardown(an_isp_probe_s_answer_is_taken_and_recorded, setup, teardown),
		cmocka_unit_test_setup_teardown(punt_ring_full, setup_small_punt, teardown),
		cmocka_unit_test_setup_teardown(too_big_within_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(next_hop_unresolved, setup, teardown),
		cmocka_unit_test_setup_teardown(a_site_the_fast_classifier_does_not_fit, setup, teardown),
		cmocka_unit_test_setup_teardown(nd_on_isp_link, setup, teardown),
		cmocka_unit_test_setup_teardown(nd_needs_icmpv6, setup, teardown),
		cmocka_unit_test_setup_teardown(nd_answer_taken, setup, teardown),
	};
	int rc = cmocka_run_group_tests(tests, group_setup, NULL);
	rte_eal_cleanup();
	return rc;
}
