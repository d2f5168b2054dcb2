/*
 * The channel thread (channel.c), the tables' only writer, run for real:
 * each test starts it on a Unix socket in a temporary directory and talks
 * dpmsg to it as control and pshim6-dpctl do.  What is checked is what a
 * client relies on: every request answered once with its seq, nothing
 * applied before HELLO, malformed or oversized datagrams answered and the
 * client kept, a bounded number of clients, punts only to control (and
 * counted when nobody takes them), injected frames framed for their port,
 * dumps, REAP reads and REAP scans that match the tables, and a stop that
 * leaves no descriptor and no socket behind.  EAL runs with --no-huge.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "dataplane.h"
#include "eal_unit.h"
#include "fd_count.h"
#include "fd_limit.h"
#include "nd.h"

struct dp_state dp;   /* the process state channel.c reads (main.c's, in the daemon) */

#define POOL_N    255
#define INJECT_N  4      /* ring size: 3 frames fit */
#define WAIT_MS   3000   /* for an answer that must come; far above any real delay */
#define N_CLIENTS 8      /* channel.c's bound, as documented in pshim6-dataplane(8) */

static const uint8_t NH_MAC[3][6] = { { 2, 0, 0, 0, 0xee, 0 }, { 2, 0, 0, 0, 0xee, 1 }, { 2, 0, 0, 0, 0xee, 2 } };
static const uint8_t PORT_MAC[3][6] = { { 2, 0, 0, 0, 0xaa, 0 }, { 2, 0, 0, 0, 0xaa, 1 }, { 2, 0, 0, 0, 0xaa, 2 } };

static char dir[64];
static unsigned fds_before, mbufs_before;
static uint8_t rbuf[DPMSG_MAX_LEN];

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- client side ---------------------------------------------------------- */

static int client(void)
{
	int fd = dpmsg_connect(dp.channel_path);
	assert_true(fd >= 0);
	return fd;
}

/* The next message on fd within `ms`: a DPMSG_E_* code, DPMSG_E_CLOSED at
 * end of stream, or -ETIMEDOUT when nothing came. */
static int recv_within(int fd, struct dpmsg *m, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, ms) != 1)
		return -ETIMEDOUT;
	return dpmsg_recv(fd, rbuf, sizeof rbuf, m);
}

static void ask(int fd, const struct dpmsg *q, struct dpmsg *a)
{
	assert_int_equal(dpmsg_send(fd, q), DPMSG_OK);
	assert_int_equal(recv_within(fd, a, WAIT_MS), DPMSG_OK);
	assert_int_equal(a->seq, q->seq);
}

static void hello(int fd, uint16_t role)
{
	struct dpmsg q = { .type = DPMSG_HELLO, .seq = 1 }, a;
	q.u.hello.version = DPMSG_VERSION;
	q.u.hello.role = role;
	ask(fd, &q, &a);
	assert_int_equal(a.type, DPMSG_HELLO);
	if (role != DPMSG_ROLE_CONTROL)
		return;
	/* control is told at once which ISPs the probes say have failed */
	assert_int_equal(recv_within(fd, &a, WAIT_MS), DPMSG_OK);
	assert_int_equal(a.type, DPMSG_ISP_STATE);
	assert_int_equal(a.seq, 0);
	assert_int_equal(a.u.isp_state.n_isp, dp.site->n_isp);
	assert_int_equal(a.u.isp_state.down, dp.isp_down);
}

/* An ERROR with `code` and the request's seq, or an ACK when code is 0. */
static void expect(int fd, const struct dpmsg *q, int32_t code)
{
	struct dpmsg a;
	ask(fd, q, &a);
	if (code == 0) {
		assert_int_equal(a.type, DPMSG_ACK);
	} else {
		assert_int_equal(a.type, DPMSG_ERROR);
		assert_int_equal(a.u.error.code, code);
		assert_true(a.u.error.text[0] != 0);
	}
}

static void addr(uint8_t out[16], const char *pfx, uint32_t i)
{
	assert_int_equal(inet_pton(AF_INET6, pfx, out), 1);
	out[14] = (uint8_t)(i >> 8);
	out[15] = (uint8_t)i;
}

static struct dpmsg ctx_add(uint32_t seq, uint32_t i)
{
	struct dpmsg q = { .type = DPMSG_CTX_ADD, .seq = seq };
	addr(q.u.ctx.local_ulid, "fd00:1:1:1:1::", i);
	addr(q.u.ctx.remote_ulid, "fd00:2:2:1::", i);
	addr(q.u.ctx.local_loc, "2001:db8:10:1:1::", i);
	addr(q.u.ctx.remote_loc, "2001:db8:30:1::", i);
	q.u.ctx.peer_tag = UINT64_C(0x100000000) + i;
	q.u.ctx.own_tag = UINT64_C(0x500000000) + i;
	q.u.ctx.isp = 0;
	return q;
}

static struct dpmsg host_add(uint32_t seq, uint32_t i)
{
	struct dpmsg q = { .type = DPMSG_HOST_ADD, .seq = seq };
	addr(q.u.host.cmula, "fd00:1:1:1:2::", i);
	q.u.host.nloc = 2;
	addr(q.u.host.loc[0], "2001:db8:10:1:2::", i);
	addr(q.u.host.loc[1], "2001:db8:20:1:2::", i);
	return q;
}

/* ---- setup ---------------------------------------------------------------- */

static int group_setup(void **state)
{
	(void)state;
	/* room for a punt longer than a PUNT carries */
	dp.pool = rte_pktmbuf_pool_create("t_pool", POOL_N, 0, 0, RTE_PKTMBUF_HEADROOM + 4096, SOCKET_ID_ANY);
	assert_non_null(dp.pool);
	struct dp_site *s = &dp.sites[0];
	memset(s, 0, sizeof *s);
	s->n_isp = 2;
	dp.site = s;
	dp.n_ports = 3;
	for (unsigned p = 0; p < dp.n_ports; p++) {
		struct dp_port *pt = &dp.port[p];
		snprintf(pt->name, sizeof pt->name, "t_port%u", p);
		pt->tap = DP_NO_PORT;
		memcpy(pt->mac.addr_bytes, PORT_MAC[p], 6);
	}
	dp.tsc_hz = rte_get_tsc_hz();
	dp.n_lcores = 2;
	dp.nd_reachable_ms = 30000;
	dp.boot_id = UINT64_C(0x0123456789abcdef);
	return 0;
}

/* Each test: empty tables (1024 contexts, 4 hosts), empty rings, every next
 * hop static (no solicitations unless a test asks), zero counters, and a
 * running channel thread. */
static int setup(void **state)
{
	(void)state;
	fds_before = (unsigned)fd_count();
	mbufs_before = rte_mempool_avail_count(dp.pool);
	dp.t = dp_tables_create("chan", 1024, 4, 1, SOCKET_ID_ANY);
	assert_non_null(dp.t);
	dp.punt = rte_ring_create("t_punt", 64, SOCKET_ID_ANY, RING_F_SC_DEQ);
	dp.inject = rte_ring_create("t_inject", INJECT_N, SOCKET_ID_ANY, RING_F_SC_DEQ);
	assert_non_null(dp.punt);
	assert_non_null(dp.inject);
	for (unsigned p = 0; p < dp.n_ports; p++) {
		struct dp_port *pt = &dp.port[p];
		pt->nh_static = true;
		dp_nh_store(pt, dp_nh_word(NH_MAC[p]));
		memset(pt->nh_addr, 0, 16);
		memset(&pt->nud, 0, sizeof pt->nud);
	}
	memset(&dp.chan_cnt, 0, sizeof dp.chan_cnt);
	for (unsigned l = 0; l < dp.n_lcores; l++)
		memset(&dp.lc[l].cnt, 0, sizeof dp.lc[l].cnt);
	snprintf(dir, sizeof dir, "/tmp/dp-chan.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(dp.channel_path, sizeof dp.channel_path, "%s/dataplane.sock", dir);
	dp.quit = false;
	assert_int_equal(dp_channel_start(&dp), 0);
	return 0;
}

/* The stop is checked on every test: the thread returns, the socket is
 * gone, no descriptor is left open and every mbuf is back in the pool.
 * Everything is released before the checks, so that one failure does not
 * fail the tests after it. */
static int teardown(void **state)
{
	(void)state;
	struct rte_mbuf *m;
	struct stat st;
	dp.quit = true;
	dp_channel_stop();
	int sock_left = stat(dp.channel_path, &st) == 0;
	int dir_left = rmdir(dir);
	while (rte_ring_dequeue(dp.inject, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	while (rte_ring_dequeue(dp.punt, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(dp.inject);
	rte_ring_free(dp.punt);
	dp_tables_free(dp.t);
	dp.t = NULL;
	assert_false(sock_left);
	assert_int_equal(dir_left, 0);
	assert_int_equal(rte_mempool_avail_count(dp.pool), mbufs_before);
	assert_int_equal((unsigned)fd_count(), fds_before);
	return 0;
}

/* ---- HELLO ---------------------------------------------------------------- */

static void test_nothing_applied_before_hello(void **state)
{
	(void)state;
	int fd = client();
	struct dpmsg q = ctx_add(41, 1);
	expect(fd, &q, DPMSG_ERR_NOHELLO);
	q = host_add(42, 1);
	expect(fd, &q, DPMSG_ERR_NOHELLO);
	assert_int_equal(dp.t->n_ctx, 0);
	assert_int_equal(dp.t->n_host, 0);

	/* a HELLO of another version does not count as one */
	struct dpmsg h = { .type = DPMSG_HELLO, .seq = 43 };
	h.u.hello.version = DPMSG_VERSION + 1;
	h.u.hello.role = DPMSG_ROLE_CONTROL;
	expect(fd, &h, DPMSG_ERR_VERSION);
	q = ctx_add(44, 1);
	expect(fd, &q, DPMSG_ERR_NOHELLO);
	assert_int_equal(dp.t->n_ctx, 0);
	close(fd);
}

static void test_hello_reports_the_dataplane(void **state)
{
	(void)state;
	int fd = client();
	struct dpmsg q = { .type = DPMSG_HELLO, .seq = 7 }, a;
	q.u.hello.version = DPMSG_VERSION;
	q.u.hello.role = DPMSG_ROLE_TOOL;
	ask(fd, &q, &a);
	assert_int_equal(a.type, DPMSG_HELLO);
	assert_int_equal(a.u.hello.version, DPMSG_VERSION);
	assert_int_equal(a.u.hello.role, DPMSG_ROLE_DATAPLANE);
	assert_int_equal(a.u.hello.ctx_capacity, dp.t->cap);
	assert_true(a.u.hello.ctx_capacity >= 64);
	assert_int_equal(a.u.hello.host_capacity, dp.t->host_cap);
	assert_int_equal(a.u.hello.n_lcores, 2);
	assert_int_equal(a.u.hello.n_isp, 2);
	assert_true(a.u.hello.boot_id == UINT64_C(0x0123456789abcdef));
	close(fd);
}

/* ---- ISP probes ------------------------------------------------------------ */

/* The probes the channel thread has put in the inject ring: each an echo
 * request from ISP 0's address to the target, raw, out of ISP 0's port.
 * Returns how many, and the newest one's sequence number in *seq. */
static unsigned probes_out(const uint8_t own[16], const uint8_t tgt[16], uint16_t *seq)
{
	struct rte_mbuf *m;
	unsigned n = 0;
	while (rte_ring_dequeue(dp.inject, (void **)&m) == 0) {
		const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
		assert_int_equal(m->port, DP_PORT_ISP(0));
		assert_true(m->hash.usr & DP_INJECT_RAW);
		assert_int_equal(rte_pktmbuf_data_len(m), DP_PROBE_FRAME_LEN);
		assert_memory_equal(f, NH_MAC[1], 6);
		assert_int_equal(f[14 + 6], 58);
		assert_memory_equal(f + 14 + 8, own, 16);
		assert_memory_equal(f + 14 + 24, tgt, 16);
		assert_int_equal(f[54], 128);
		assert_int_equal(f[58] << 8 | f[59], dp.probe_id);
		*seq = (uint16_t)(f[60] << 8 | f[61]);
		rte_pktmbuf_free(m);
		n++;
	}
	return n;
}

/* ISP 0 gets probes; unanswered, it fails and control is told; answered
 * again, it is back and control is told.  ISP 1 has no probe and never
 * fails. */
static void test_probes_fail_an_isp_and_control_is_told(void **state)
{
	(void)state;
	struct dp_site *s = dp.site;
	uint8_t tgt[16];
	uint16_t seq = 0;
	struct dpmsg a;
	inet_pton(AF_INET6, "2001:db8:ffff::53", tgt);
	inet_pton(AF_INET6, "2001:db8:10:ffff::2", s->isp[0].addr);
	memcpy(s->isp[0].probe.a[0], tgt, 16);
	s->probe_interval_ms = 100;
	s->probe_down_after = 2;
	s->probe_up_after = 1;
	dp.probe_id = 0x7036;
	__atomic_store_n(&s->isp[0].probe.n, 1, __ATOMIC_RELEASE);

	int fd = client();
	hello(fd, DPMSG_ROLE_CONTROL);
	assert_int_equal(recv_within(fd, &a, WAIT_MS), DPMSG_OK);
	assert_int_equal(a.type, DPMSG_ISP_STATE);
	assert_int_equal(a.u.isp_state.n_isp, 2);
	assert_int_equal(a.u.isp_state.down, 1);
	unsigned n = probes_out(s->isp[0].addr, tgt, &seq);
	assert_in_range(n, 3, 5);   /* one, then two lost; the third went out as the second was judged */
	assert_int_equal(dp.chan_cnt.c[DPMSG_CNT_ISP_DOWN], 1);
	assert_int_equal(dp.isp_down, 1);

	/* the newest probe answered, as an lcore records it (the ring holds 3:
	 * answer each new one until the thread has judged one) */
	int rc = -ETIMEDOUT;
	for (int t = 0; t < WAIT_MS / 20 && rc == -ETIMEDOUT; t++) {
		n += probes_out(s->isp[0].addr, tgt, &seq);
		__atomic_store_n(&dp.port[1].probe_seen, DP_PROBE_SEEN | seq, __ATOMIC_RELAXED);
		rc = recv_within(fd, &a, 20);
	}
	assert_int_equal(rc, DPMSG_OK);
	assert_int_equal(a.type, DPMSG_ISP_STATE);
	assert_int_equal(a.u.isp_state.down, 0);
	assert_int_equal(dp.isp_down, 0);
	assert_true(dp.chan_cnt.c[DPMSG_CNT_ISP_PROBES] >= n);

	close(fd);
	dp.quit = true;
	dp_channel_stop();   /* before the probe state is read and reset under the thread */
	assert_int_equal(dp.port[1].probe.answered, 1);
	assert_int_equal(dp.port[1].probe.downs, 1);
	memset(&s->isp[0].probe, 0, sizeof s->isp[0].probe);
	memset(&dp.port[1].probe, 0, sizeof dp.port[1].probe);
	memset(&dp.port[1].probe_target, 0, sizeof dp.port[1].probe_target);
	dp.port[1].probe_seen = 0;
	dp.isp_down = 0;
}

/* A drained ISP (isps.drain) is among the failed ones, with no probe at all,
 * and control is told; the drain lifted, it works again. */
static void test_a_drained_isp_is_reported_failed(void **state)
{
	(void)state;
	struct dp_site *s = dp.site;
	struct dpmsg a;
	__atomic_store_n(&s->isp[1].drain, true, __ATOMIC_RELEASE);
	for (int t = 0; t < WAIT_MS && __atomic_load_n(&dp.isp_down, __ATOMIC_RELAXED) != 2; t++)
		usleep(1000);
	assert_int_equal(dp.isp_down, 2);
	int fd = client();
	hello(fd, DPMSG_ROLE_CONTROL);   /* its ISP_STATE says ISP 1 has failed */
	assert_int_equal(dp.port[2].probe.sent, 0);   /* no probe was needed */
	__atomic_store_n(&s->isp[1].drain, false, __ATOMIC_RELEASE);
	assert_int_equal(recv_within(fd, &a, WAIT_MS), DPMSG_OK);
	assert_int_equal(a.type, DPMSG_ISP_STATE);
	assert_int_equal(a.u.isp_state.down, 0);
	close(fd);
	dp.quit = true;
	dp_channel_stop();
	assert_int_equal(dp.isp_down, 0);
	assert_int_equal(dp.chan_cnt.c[DPMSG_CNT_ISP_DOWN], 0);   /* counts what the probes found, not drains */
}

/* Several targets: each round is a request to each, in order, all with the
 * round's one sequence number, and the next round has the next number. */
static void test_a_probe_round_asks_every_target(void **state)
{
	(void)state;
	struct dp_site *s = dp.site;
	struct dp_probe_targets t = { .n = 2 };
	uint8_t dst[64][16];
	uint16_t seq[64];
	unsigned n = 0;
	inet_pton(AF_INET6, "2001:db8:ffff::53", t.a[0]);
	inet_pton(AF_INET6, "2001:db8:fffe::1", t.a[1]);
	inet_pton(AF_INET6, "2001:db8:10:ffff::2", s->isp[0].addr);
	memcpy(s->isp[0].probe.a, t.a, sizeof t.a);
	s->probe_interval_ms = 100;
	s->probe_down_after = 100;   /* no verdict changes here */
	s->probe_up_after = 1;
	dp.probe_id = 0x7036;
	__atomic_store_n(&s->isp[0].probe.n, 2, __ATOMIC_RELEASE);   /* the thread is running */

	int fd = client();
	hello(fd, DPMSG_ROLE_TOOL);
	/* the ring holds 3 frames: take them every 10 ms, for 4 or 5 rounds */
	for (int i = 0; i < 45 && n < 64; i++) {
		struct rte_mbuf *m;
		while (n < 64 && rte_ring_dequeue(dp.inject, (void **)&m) == 0) {
			const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
			assert_int_equal(m->port, DP_PORT_ISP(0));
			assert_int_equal(f[54], 128);
			memcpy(dst[n], f + 14 + 24, 16);
			seq[n++] = (uint16_t)(f[60] << 8 | f[61]);
			rte_pktmbuf_free(m);
		}
		usleep(10000);
	}
	close(fd);
	dp.quit = true;
	dp_channel_stop();
	assert_in_range(n, 8, 12);
	for (unsigned i = 0; i + 1 < n; i += 2) {
		assert_memory_equal(dst[i], t.a[0], 16);
		assert_memory_equal(dst[i + 1], t.a[1], 16);
		assert_int_equal(seq[i + 1], seq[i]);
		if (i)
			assert_int_equal(seq[i], (uint16_t)(seq[i - 2] + 1));
	}
	assert_int_equal(dp.port[1].probe.sent, (n + 1) / 2);
	memset(&s->isp[0].probe, 0, sizeof s->isp[0].probe);
	memset(&dp.port[1].probe, 0, sizeof dp.port[1].probe);
	memset(&dp.port[1].probe_target, 0, sizeof dp.port[1].probe_target);
}

/* ---- table writes --------------------------------------------------------- */

static void test_context_writes_are_applied_and_answered(void **state)
{
	(void)state;
	int fd = client();
	hello(fd, DPMSG_ROLE_CONTROL);
	struct dpmsg q = ctx_add(100, 5);
	expect(fd, &q, 0);
	assert_int_equal(dp.t->n_ctx, 1);
	const struct dp_ctx *x = dp_ctx_by_tag(dp.t, q.u.ctx.own_tag);
	assert_non_null(x);
	assert_true(dp_ctx_ulids_are(x, q.u.ctx.local_ulid));
	assert_memory_equal(x->remote_loc, q.u.ctx.remote_loc, 16);

	q.seq = 101;  /* the same pair again */
	expect(fd, &q, DPMSG_ERR_EXISTS);
	struct dpmsg bad = ctx_add(102, 6);
	bad.u.ctx.isp = 2;  /* the site has ISPs 0 and 1 */
	expect(fd, &bad, DPMSG_ERR_PORT);
	assert_int_equal(dp.t->n_ctx, 1);

	struct dpmsg m = { .type = DPMSG_CTX_MOD, .seq = 103 };
	m.u.mod.what = DPMSG_MOD_LOCATORS;
	m.u.mod.ctx = q.u.ctx;
	addr(m.u.mod.ctx.local_loc, "2001:db8:20:1:1::", 5);
	addr(m.u.mod.ctx.remote_loc, "2001:db8:40:1::", 5);
	m.u.mod.ctx.isp = 1;
	expect(fd, &m, 0);
	x = dp_ctx_by_tag(dp.t, q.u.ctx.own_tag);
	assert_non_null(x);
	assert_memory_equal(x->remote_loc, m.u.mod.ctx.remote_loc, 16);
	assert_int_equal(x->isp, 1);

	struct dpmsg d = { .type = DPMSG_CTX_DEL, .seq = 104 };
	d.u.ctx.own_tag = q.u.ctx.own_tag;
	expect(fd, &d, 0);
	assert_int_equal(dp.t->n_ctx, 0);
	assert_null(dp_ctx_by_tag(dp.t, q.u.ctx.own_tag));
	d.seq = 105;
	expect(fd, &d, DPMSG_ERR_NOTFOUND);
	m.seq = 106;
	expect(fd, &m, DPMSG_ERR_NOTFOUND);
	close(fd);
}

static void test_host_table_bound_is_answered(void **state)
{
	(void)state;
	int fd = client();
	hello(fd, DPMSG_ROLE_CONTROL);
	uint32_t i;
	for (i = 0; i < dp.t->host_cap; i++) {
		struct dpmsg q = host_add(200 + i, i);
		expect(fd, &q, 0);
	}
	struct dpmsg q = host_add(300, i);
	expect(fd, &q, DPMSG_ERR_FULL);
	assert_int_equal(dp.t->n_host, dp.t->host_cap);
	assert_null(dp_host_by_cmula(dp.t, q.u.host.cmula));

	/* room again once one leaves */
	struct dpmsg d = { .type = DPMSG_HOST_DEL, .seq = 301 };
	addr(d.u.host.cmula, "fd00:1:1:1:2::", 0);
	expect(fd, &d, 0);
	q.seq = 302;
	expect(fd, &q, 0);
	assert_non_null(dp_host_by_cmula(dp.t, q.u.host.cmula));
	close(fd);
}

/* ---- bad datagrams ---------------------------------------------------------- */

static void test_malformed_datagram_is_answered_and_client_kept(void **state)
{
	(void)state;
	int fd = client();
	hello(fd, DPMSG_ROLE_CONTROL);
	uint8_t b[DPMSG_MAX_LEN];
	struct dpmsg q = ctx_add(0x0a0b0c0d, 9), a;
	int n = dpmsg_encode(&q, b, sizeof b);
	assert_true(n > 12);
	/* one octet short of what its length field says */
	assert_int_equal(send(fd, b, (size_t)n - 1, 0), n - 1);
	assert_int_equal(recv_within(fd, &a, WAIT_MS), DPMSG_OK);
	assert_int_equal(a.type, DPMSG_ERROR);
	assert_int_equal(a.u.error.code, DPMSG_ERR_INVAL);
	assert_int_equal(a.seq, 0x0a0b0c0d);  /* so the client knows which request failed */
	/* too short to carry a seq */
	assert_int_equal(send(fd, b, 5, 0), 5);
	assert_int_equal(recv_within(fd, &a, WAIT_MS), DPMSG_OK);
	assert_int_equal(a.type, DPMSG_ERROR);
	assert_int_equal(a.seq, 0);
	/* an answer type is not a request */
	struct dpmsg ack = { .type = DPMSG_ACK, .seq = 77 };
	expect(fd, &ack, DPMSG_ERR_INVAL);
	assert_int_equal(dp.t->n_ctx, 0);
	/* and the client is still served */
	q.seq = 78;
	expect(fd, &q, 0);
	assert_int_equal(dp.t->n_ctx, 1);
	close(fd);
}

static void test_oversized_datagram_is_refused_and_client_kept(void **state)
{
	(void)state;
	int fd = client();
	hello(fd, DPMSG_ROLE_CONTROL);
	static uint8_t big[DPMSG_MAX_LEN + 512];
	struct dpmsg q = ctx_add(500, 3), a;
	int n = dpmsg_encode(&q, big, sizeof big);
	assert_true(n > 0);
	assert_int_equal(send(fd, big, sizeof big, 0), (ssize_t)sizeof big);
	assert_int_equal(recv_within(fd, &a, WAIT_MS), DPMSG_OK);
	assert_int_equal(a.type, DPMSG_ERROR);
	assert_int_equal(a.u.error.code, DPMSG_ERR_INVAL);
	assert_int_equal(dp.t->n_ctx, 0);  /* the valid message at its head is not applied */
	q.seq = 501;
	expect(fd, &q, 0);
	close(fd);
}

/* ---- the client bound -------------------------------------------------------- */

static void test_client_beyond_the_bound_is_closed(void **state)
{
	(void)state;
	int fd[N_CLIENTS], extra;
	struct dpmsg a;
	for (unsigned k = 0; k < N_CLIENTS; k++) {
		fd[k] = client();
		hello(fd[k], DPMSG_ROLE_TOOL);
	}
	extra = client();  /* the kernel completes the connection; the channel closes it */
	assert_int_equal(recv_within(extra, &a, WAIT_MS), DPMSG_E_CLOSED);
	close(extra);

	/* the clients inside the bound are unaffected */
	struct dpmsg c = { .type = DPMSG_COUNTERS_REQ, .seq = 9 };
	ask(fd[N_CLIENTS - 1], &c, &a);
	assert_int_equal(a.type, DPMSG_COUNTERS);

	/* a slot freed is a slot reused; the request on fd[1] is answered
	 * after the channel has seen fd[0] go (it serves slots in order) */
	close(fd[0]);
	c.seq = 10;
	ask(fd[1], &c, &a);
	extra = client();
	hello(extra, DPMSG_ROLE_TOOL);
	close(extra);
	for (unsigned k = 1; k < N_CLIENTS; k++)
		close(fd[k]);
}

/* Out of descriptors the listener stays readable and accept() keeps
 * failing: the channel counts it and leaves the listener alone for 100 ms
 * instead of spinning, and takes the client that waited once descriptors
 * are back. */
static void test_accept_out_of_descriptors_pauses_and_recovers(void **state)
{
	(void)state;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	memcpy(sun.sun_path, dp.channel_path, strlen(dp.channel_path) + 1);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct rlimit old;
	assert_int_equal(fd_limit_at_lowest_free(&old), 0);
	int c = connect(fd, (struct sockaddr *)&sun, sizeof sun);
	usleep(1000 * 1000);
	uint64_t failed = __atomic_load_n(&dp.chan_cnt.c[DPMSG_CNT_CHAN_ACCEPT_FAILED], __ATOMIC_RELAXED);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(c, 0);
	print_message("accept failed %llu times in 1 s\n", (unsigned long long)failed);
	assert_true(failed >= 2 && failed <= 20);   /* ~10 a second; a spin makes thousands */
	hello(fd, DPMSG_ROLE_TOOL);
	close(fd);
}

/* ---- fairness ---------------------------------------------------------------- */

static uint64_t counter(const struct dpmsg *a, uint16_t id)
{
	for (unsigned i = 0; i < a->u.counters.n; i++)
		if (a->u.counters.c[i].id == id)
			return a->u.counters.c[i].value;
	fail_msg("no counter %u", id);
	return 0;
}

/* A client with a long queue of requests is served a burst per round, and
 * the others in between: pshim6-dpctl must get its answer while control
 * writes a large table.  To queue both before the channel looks, the
 * channel is held in a dump to a second control client that does not read
 * yet: control's answers are the only ones it waits for. */
static void test_busy_client_does_not_starve_others(void **state)
{
	(void)state;
	enum { N = 600, DELS = 100, BURST = 64 };  /* BURST: channel.c's messages per client per round */
	int a = client(), c = client(), b = client();
	struct dpmsg q, r;
	hello(a, DPMSG_ROLE_CONTROL);
	hello(c, DPMSG_ROLE_CONTROL);
	hello(b, DPMSG_ROLE_TOOL);
	for (uint32_t i = 0; i < N; i++) {
		q = ctx_add(1000 + i, i);
		expect(a, &q, 0);
	}
	/* N dump entries overflow c's socket: the channel waits in the dump */
	q = (struct dpmsg){ .type = DPMSG_DUMP_REQ, .seq = 2 };
	q.u.dump_req.what = DPMSG_DUMP_CONTEXTS;
	assert_int_equal(dpmsg_send(c, &q), DPMSG_OK);
	usleep(200 * 1000);
	for (uint32_t i = 0; i < DELS; i++) {
		q = (struct dpmsg){ .type = DPMSG_CTX_DEL, .seq = 5000 + i };
		q.u.ctx.own_tag = UINT64_C(0x500000000) + i;
		assert_int_equal(dpmsg_send(a, &q), DPMSG_OK);
	}
	q = (struct dpmsg){ .type = DPMSG_COUNTERS_REQ, .seq = 3 };
	assert_int_equal(dpmsg_send(b, &q), DPMSG_OK);

	unsigned entries = 0;
	for (;;) {  /* reading lets the dump go on */
		assert_int_equal(recv_within(c, &r, WAIT_MS), DPMSG_OK);
		if (r.type == DPMSG_DUMP_END)
			break;
		entries++;
	}
	assert_int_equal(entries, N);
	assert_int_equal(r.u.dump_end.count, N);
	assert_int_equal(recv_within(b, &r, WAIT_MS), DPMSG_OK);
	assert_int_equal(r.type, DPMSG_COUNTERS);
	/* one burst of a's deletions went first, not all of them */
	assert_int_equal(counter(&r, DPMSG_CNT_CTX_ENTRIES), N - BURST);
	for (uint32_t i = 0; i < DELS; i++) {
		assert_int_equal(recv_within(a, &r, WAIT_MS), DPMSG_OK);
		assert_int_equal(r.type, DPMSG_ACK);
		assert_int_equal(r.seq, 5000 + i);
	}
	assert_int_equal(dp.t->n_ctx, N - DELS);
	close(a);
	close(b);
	close(c);
}

/* ---- clients that read slowly ------------------------------------------------ */

enum { SLOW_N = 600 };   /* dump entries: far more than a client's socket holds */
#define SEEN (SLOW_N + 1)   /* and one context written while a dump is held */

static void fill_contexts(int ctl, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		struct dpmsg q = ctx_add(1000 + i, i);
		expect(ctl, &q, 0);
	}
}

static void ask_dump(int fd, uint32_t seq)
{
	struct dpmsg q = { .type = DPMSG_DUMP_REQ, .seq = seq };
	q.u.dump_req.what = DPMSG_DUMP_CONTEXTS;
	assert_int_equal(dpmsg_send(fd, &q), DPMSG_OK);
}

/* Milliseconds another client waits for its COUNTERS. */
static unsigned counters_ms(int fd, struct dpmsg *a)
{
	struct dpmsg q = { .type = DPMSG_COUNTERS_REQ, .seq = 77 };
	uint64_t t = mono_ns();
	ask(fd, &q, a);
	assert_int_equal(a->type, DPMSG_COUNTERS);
	return (unsigned)((mono_ns() - t) / 1000000);
}

/* The rest of a dump: its entries' own tags are marked in seen[] (none
 * twice), and the DUMP_END's count must be how many came. */
static unsigned read_dump(int fd, uint32_t seq, bool seen[SEEN])
{
	struct dpmsg a;
	unsigned n = 0;
	for (;;) {
		assert_int_equal(recv_within(fd, &a, WAIT_MS), DPMSG_OK);
		assert_int_equal(a.seq, seq);
		if (a.type == DPMSG_DUMP_END)
			break;
		assert_int_equal(a.type, DPMSG_DUMP_CTX);
		uint64_t i = a.u.ctx.own_tag - UINT64_C(0x500000000);
		assert_true(i < SEEN);
		assert_false(seen[i]);
		seen[i] = true;
		n++;
	}
	return n;
}

/* A tool that leaves a large dump unread holds up only itself: the other
 * clients are answered and control's writes applied at once, and the dump
 * comes whole once it reads. */
static void test_unread_dump_holds_up_only_its_reader(void **state)
{
	(void)state;
	int ctl = client(), slow = client(), other = client();
	struct dpmsg a, q;
	bool seen[SEEN] = { false };
	hello(ctl, DPMSG_ROLE_CONTROL);
	hello(slow, DPMSG_ROLE_TOOL);
	hello(other, DPMSG_ROLE_TOOL);
	fill_contexts(ctl, SLOW_N);
	ask_dump(slow, 40);
	usleep(100 * 1000);
	/* well under the 2 s a stalled reader is given: nothing waited for it */
	assert_in_range(counters_ms(other, &a), 0, 1000);
	assert_int_equal(counter(&a, DPMSG_CNT_CTX_ENTRIES), SLOW_N);
	q = ctx_add(900, SLOW_N);   /* a context the dump cannot hold: no slot in seen[] */
	uint64_t t = mono_ns();
	expect(ctl, &q, 0);
	assert_in_range((mono_ns() - t) / 1000000, 0, 1000);
	/* its own next request waits behind the dump, in order */
	q = (struct dpmsg){ .type = DPMSG_COUNTERS_REQ, .seq = 41 };
	assert_int_equal(dpmsg_send(slow, &q), DPMSG_OK);
	unsigned n = read_dump(slow, 40, seen);
	assert_in_range(n, SLOW_N, SEEN);
	for (unsigned i = 0; i < SLOW_N; i++)
		assert_true(seen[i]);
	assert_int_equal(recv_within(slow, &a, WAIT_MS), DPMSG_OK);
	assert_int_equal(a.seq, 41);
	assert_int_equal(a.type, DPMSG_COUNTERS);
	assert_int_equal(counter(&a, DPMSG_CNT_CHAN_CLIENT_STALLED), 0);
	close(ctl);
	close(slow);
	close(other);
}

/* A reader as fast as the channel gets each dump whole, however often its
 * socket fills and the dump is resumed. */
static void test_fast_reader_gets_every_dump_whole(void **state)
{
	(void)state;
	int ctl = client(), fast = client();
	struct dpmsg a;
	hello(ctl, DPMSG_ROLE_CONTROL);
	hello(fast, DPMSG_ROLE_TOOL);
	fill_contexts(ctl, SLOW_N);
	for (uint32_t d = 0; d < 20; d++) {
		bool seen[SEEN] = { false };
		ask_dump(fast, 70 + d);
		assert_int_equal(read_dump(fast, 70 + d, seen), SLOW_N);
	}
	(void)counters_ms(fast, &a);
	assert_int_equal(counter(&a, DPMSG_CNT_CHAN_CLIENT_STALLED), 0);
	close(ctl);
	close(fast);
}

/* A reader that takes an answer now and then, slower than the stall limit
 * over the whole dump, is kept: the limit is on taking nothing at all.
 * Meanwhile others are answered promptly each time, and the deletions made
 * while it reads never show up twice or as what was not there. */
static void test_trickling_reader_is_kept_and_holds_up_nobody(void **state)
{
	(void)state;
	int ctl = client(), slow = client(), other = client();
	struct dpmsg a, q;
	bool seen[SEEN] = { false };
	unsigned took = 0, worst_ms = 0;
	hello(ctl, DPMSG_ROLE_CONTROL);
	hello(slow, DPMSG_ROLE_TOOL);
	hello(other, DPMSG_ROLE_TOOL);
	fill_contexts(ctl, SLOW_N);
	ask_dump(slow, 50);
	uint64_t until = mono_ns() + 3000 * UINT64_C(1000000);   /* past the 2 s limit */
	while (mono_ns() < until) {
		usleep(250 * 1000);
		assert_int_equal(recv_within(slow, &a, WAIT_MS), DPMSG_OK);
		assert_int_equal(a.type, DPMSG_DUMP_CTX);
		uint64_t i = a.u.ctx.own_tag - UINT64_C(0x500000000);
		assert_true(i < SLOW_N);
		assert_false(seen[i]);
		seen[i] = true;
		took++;
		unsigned ms = counters_ms(other, &a);
		worst_ms = ms > worst_ms ? ms : worst_ms;
		/* control deletes the even contexts as the dump goes on */
		q = (struct dpmsg){ .type = DPMSG_CTX_DEL, .seq = 2000 + took };
		q.u.ctx.own_tag = UINT64_C(0x500000000) + SLOW_N - 2 * took;
		expect(ctl, &q, 0);
	}
	assert_true(took >= 10);
	assert_in_range(worst_ms, 0, 1000);
	(void)read_dump(slow, 50, seen);
	/* whatever was never deleted came, and each entry once */
	for (unsigned i = 1; i < SLOW_N; i += 2)
		assert_true(seen[i]);
	(void)counters_ms(other, &a);
	assert_int_equal(counter(&a, DPMSG_CNT_CHAN_CLIENT_STALLED), 0);
	close(ctl);
	close(slow);
	close(other);
}

/* Requests sent faster than their answers are read: every answer comes,
 * in order, once the client reads; none is lost while they wait for room. */
static void test_unread_answers_wait_in_order(void **state)
{
	(void)state;
	enum { REQS = 400 };   /* COUNTERS answers: far more than the socket holds */
	int fd = client();
	struct dpmsg q = { .type = DPMSG_COUNTERS_REQ }, a;
	hello(fd, DPMSG_ROLE_TOOL);
	for (uint32_t i = 0; i < REQS; i++) {
		q.seq = 100 + i;
		assert_int_equal(dpmsg_send(fd, &q), DPMSG_OK);
	}
	usleep(200 * 1000);
	for (uint32_t i = 0; i < REQS; i++) {
		assert_int_equal(recv_within(fd, &a, WAIT_MS), DPMSG_OK);
		assert_int_equal(a.type, DPMSG_COUNTERS);
		assert_int_equal(a.seq, 100 + i);
	}
	assert_int_equal(counter(&a, DPMSG_CNT_CHAN_CLIENT_STALLED), 0);
	close(fd);
}

static uint64_t cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A reader that takes nothing for the stall limit is dropped, counted,
 * and its socket closed; nobody waited for it meanwhile, and the requests
 * it queued behind its dump did not keep the thread busy. */
static void test_stopped_reader_is_dropped_at_the_limit(void **state)
{
	(void)state;
	int ctl = client(), slow = client(), other = client();
	struct dpmsg a;
	hello(ctl, DPMSG_ROLE_CONTROL);
	hello(slow, DPMSG_ROLE_TOOL);
	hello(other, DPMSG_ROLE_TOOL);
	fill_contexts(ctl, SLOW_N);
	uint64_t t = mono_ns(), cpu = cpu_ms();
	ask_dump(slow, 60);
	struct dpmsg q = { .type = DPMSG_COUNTERS_REQ, .seq = 61 };
	assert_int_equal(dpmsg_send(slow, &q), DPMSG_OK);
	unsigned worst_ms = 0;
	do {
		unsigned ms = counters_ms(other, &a);
		worst_ms = ms > worst_ms ? ms : worst_ms;
		usleep(20 * 1000);
	} while (counter(&a, DPMSG_CNT_CHAN_CLIENT_STALLED) == 0 && mono_ns() - t < 5000 * UINT64_C(1000000));
	unsigned dropped_ms = (unsigned)((mono_ns() - t) / 1000000);
	cpu = cpu_ms() - cpu;   /* the thread polls every 2 ms: a small share of 2 s, not all of it */
	assert_in_range(cpu, 0, dropped_ms / 2);
	assert_int_equal(counter(&a, DPMSG_CNT_CHAN_CLIENT_STALLED), 1);
	assert_in_range(dropped_ms, 2000, 3000);
	assert_in_range(worst_ms, 0, 1000);
	/* the channel closed with the client's request unread: a reset, then
	 * what its socket held, then the end */
	unsigned got = 0, resets = 0;
	int rc;
	for (;;) {
		rc = recv_within(slow, &a, WAIT_MS);
		if (rc == DPMSG_E_IO && errno == ECONNRESET && !resets++)
			continue;
		if (rc != DPMSG_OK)
			break;
		assert_int_equal(a.type, DPMSG_DUMP_CTX);
		got++;
	}
	assert_int_equal(rc, DPMSG_E_CLOSED);
	assert_in_range(got, 1, SLOW_N - 1);
	close(ctl);
	close(slow);
	close(other);
}

/* ---- punts ------------------------------------------------------------------- */

static struct rte_mbuf *punt_frame(uint16_t port, uint16_t reason, uint32_t ip_len, uint8_t fill)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp.pool);
	assert_non_null(m);
	uint8_t *f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(DP_ETH_LEN + ip_len));
	if (!f) {
		fail_msg("no room for a %u-octet frame", (unsigned)(DP_ETH_LEN + ip_len));
		abort();  /* not reached: tells the compiler f is set below */
	}
	memset(f, 0xee, DP_ETH_LEN);
	memset(f + DP_ETH_LEN, fill, ip_len);
	f[DP_ETH_LEN] = 0x60;
	m->port = port;
	m->hash.usr = reason;
	return m;
}

static void test_punts_reach_control_clients_only(void **state)
{
	(void)state;
	int ctl = client(), tool = client();
	struct dpmsg a;
	hello(ctl, DPMSG_ROLE_CONTROL);
	hello(tool, DPMSG_ROLE_TOOL);
	assert_int_equal(rte_ring_enqueue(dp.punt, punt_frame(2, DPMSG_PUNT_UNKNOWN_TAG, 120, 0x11)), 0);
	/* longer than a PUNT carries: cut, with the real length said */
	assert_int_equal(rte_ring_enqueue(dp.punt, punt_frame(0, DPMSG_PUNT_NO_CTX, DPMSG_PKT_MAX + 100, 0x22)), 0);

	assert_int_equal(recv_within(ctl, &a, WAIT_MS), DPMSG_OK);
	assert_int_equal(a.type, DPMSG_PUNT);
	assert_int_equal(a.seq, 0);
	assert_int_equal(a.u.punt.reason, DPMSG_PUNT_UNKNOWN_TAG);
	assert_int_equal(a.u.punt.port, 2);
	assert_int_equal(a.u.punt.len, 120);
	assert_int_equal(a.u.punt.orig_len, 120);
	assert_int_equal(a.u.punt.data[0], 0x60);  /* the IPv6 packet, Ethernet left off */
	assert_int_equal(a.u.punt.data[119], 0x11);

	assert_int_equal(recv_within(ctl, &a, WAIT_MS), DPMSG_OK);
	assert_int_equal(a.type, DPMSG_PUNT);
	assert_int_equal(a.u.punt.reason, DPMSG_PUNT_NO_CTX);
	assert_int_equal(a.u.punt.port, 0);
	assert_int_equal(a.u.punt.len, DPMSG_PKT_MAX);
	assert_int_equal(a.u.punt.orig_len, DPMSG_PKT_MAX + 100);

	assert_int_equal(recv_within(tool, &a, 200), -ETIMEDOUT);  /* a tool gets none */
	assert_int_equal(dp.chan_cnt.c[DPMSG_CNT_PUNT_DROP], 0);
	close(ctl);
	close(tool);
}

static void test_punt_without_control_is_dropped_and_counted(void **state)
{
	(void)state;
	int tool = client();
	struct dpmsg a, c = { .type = DPMSG_COUNTERS_REQ, .seq = 3 };
	hello(tool, DPMSG_ROLE_TOOL);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(rte_ring_enqueue(dp.punt, punt_frame(1, DPMSG_PUNT_SHIM6_CTL, 80, (uint8_t)i)), 0);
	/* the ring empties when the channel has taken the batch; a request
	 * sent after that is read in a later round, after the batch's counts */
	for (unsigned w = 0; rte_ring_count(dp.punt) && w < WAIT_MS; w++)
		usleep(1000);
	assert_int_equal(rte_ring_count(dp.punt), 0);
	ask(tool, &c, &a);
	assert_int_equal(a.type, DPMSG_COUNTERS);
	uint64_t drops = UINT64_MAX;
	for (unsigned i = 0; i < a.u.counters.n; i++)
		if (a.u.counters.c[i].id == DPMSG_CNT_PUNT_DROP)
			drops = a.u.counters.c[i].value;
	assert_true(drops == 5);
	assert_int_equal(rte_mempool_avail_count(dp.pool), mbufs_before);  /* freed, not kept */
	assert_int_equal(recv_within(tool, &a, 100), -ETIMEDOUT);
	close(tool);
}

/* ---- inject ------------------------------------------------------------------ */

static struct dpmsg inject(uint32_t seq, uint16_t port, uint16_t flags, const uint8_t *pkt, uint32_t len)
{
	struct dpmsg q = { .type = DPMSG_INJECT, .seq = seq };
	q.u.inject.port = port;
	q.u.inject.flags = flags;
	q.u.inject.len = len;
	q.u.inject.data = pkt;
	return q;
}

static void test_inject_frames_for_the_port_and_bounds_the_queue(void **state)
{
	(void)state;
	int fd = client();
	uint8_t pkt[100];
	struct rte_mbuf *m = NULL;
	hello(fd, DPMSG_ROLE_CONTROL);
	for (unsigned i = 0; i < sizeof pkt; i++)
		pkt[i] = (uint8_t)(i * 7);
	pkt[0] = 0x60;

	struct dpmsg q = inject(1, 2, DPMSG_INJECT_AS_RX, pkt, sizeof pkt);
	expect(fd, &q, 0);
	assert_int_equal(rte_ring_count(dp.inject), 1);
	assert_int_equal(rte_ring_dequeue(dp.inject, (void **)&m), 0);
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	assert_int_equal(rte_pktmbuf_data_len(m), DP_ETH_LEN + sizeof pkt);
	assert_memory_equal(f, NH_MAC[2], 6);      /* to the port's next hop */
	assert_memory_equal(f + 6, PORT_MAC[2], 6); /* from the port */
	assert_int_equal(f[12], 0x86);
	assert_int_equal(f[13], 0xdd);
	assert_memory_equal(f + DP_ETH_LEN, pkt, sizeof pkt);
	assert_int_equal(m->port, 2);
	assert_int_equal(m->hash.usr, DPMSG_INJECT_AS_RX);
	rte_pktmbuf_free(m);

	/* refused without touching the queue */
	q = inject(2, 3, 0, pkt, sizeof pkt);
	expect(fd, &q, DPMSG_ERR_PORT);
	pkt[0] = 0x45;
	q = inject(3, 1, 0, pkt, sizeof pkt);
	expect(fd, &q, DPMSG_ERR_INVAL);
	pkt[0] = 0x60;
	q = inject(4, 1, 0, pkt, DP_IP6_LEN - 1);
	expect(fd, &q, DPMSG_ERR_INVAL);
	assert_int_equal(rte_ring_count(dp.inject), 0);

	/* the queue's bound: 3 frames, then FULL, and the refused mbuf is freed */
	for (uint32_t i = 0; i < INJECT_N - 1; i++) {
		q = inject(10 + i, 1, 0, pkt, sizeof pkt);
		expect(fd, &q, 0);
	}
	q = inject(20, 1, 0, pkt, sizeof pkt);
	expect(fd, &q, DPMSG_ERR_FULL);
	assert_int_equal(rte_ring_count(dp.inject), INJECT_N - 1);
	assert_int_equal(rte_mempool_avail_count(dp.pool), mbufs_before - (INJECT_N - 1));
	close(fd);
}

/* ---- reads ------------------------------------------------------------------- */

static void test_dump_lists_the_tables(void **state)
{
	(void)state;
	int fd = client();
	struct dpmsg q, a;
	bool seen_ctx[3] = { false }, seen_host[2] = { false };
	hello(fd, DPMSG_ROLE_TOOL);
	for (uint32_t i = 0; i < 3; i++) {
		q = ctx_add(10 + i, 20 + i);
		expect(fd, &q, 0);
	}
	for (uint32_t i = 0; i < 2; i++) {
		q = host_add(20 + i, i);
		expect(fd, &q, 0);
	}
	q = (struct dpmsg){ .type = DPMSG_DUMP_REQ, .seq = 30 };
	q.u.dump_req.what = DPMSG_DUMP_CONTEXTS | DPMSG_DUMP_HOSTS;
	assert_int_equal(dpmsg_send(fd, &q), DPMSG_OK);
	for (;;) {
		assert_int_equal(recv_within(fd, &a, WAIT_MS), DPMSG_OK);
		assert_int_equal(a.seq, 30);
		if (a.type == DPMSG_DUMP_END)
			break;
		if (a.type == DPMSG_DUMP_CTX) {
			struct dpmsg want;
			uint32_t i = (uint32_t)(a.u.ctx.own_tag - UINT64_C(0x500000000)) - 20;
			assert_true(i < 3);
			assert_false(seen_ctx[i]);
			seen_ctx[i] = true;
			want = ctx_add(0, 20 + i);
			assert_memory_equal(a.u.ctx.local_ulid, want.u.ctx.local_ulid, 16);
			assert_memory_equal(a.u.ctx.remote_ulid, want.u.ctx.remote_ulid, 16);
			assert_memory_equal(a.u.ctx.local_loc, want.u.ctx.local_loc, 16);
			assert_memory_equal(a.u.ctx.remote_loc, want.u.ctx.remote_loc, 16);
			assert_true(a.u.ctx.peer_tag == want.u.ctx.peer_tag);
		} else {
			assert_int_equal(a.type, DPMSG_DUMP_HOST);
			uint32_t i = a.u.host.cmula[15];
			assert_true(i < 2);
			assert_false(seen_host[i]);
			seen_host[i] = true;
			struct dpmsg want = host_add(0, i);
			assert_int_equal(a.u.host.nloc, 2);
			assert_memory_equal(a.u.host.loc, want.u.host.loc, 2 * 16);
		}
	}
	assert_int_equal(a.u.dump_end.count, 5);
	for (unsigned i = 0; i < 3; i++)
		assert_true(seen_ctx[i]);
	for (unsigned i = 0; i < 2; i++)
		assert_true(seen_host[i]);

	/* only what is asked for */
	q.seq = 31;
	q.u.dump_req.what = DPMSG_DUMP_HOSTS;
	assert_int_equal(dpmsg_send(fd, &q), DPMSG_OK);
	unsigned hosts = 0;
	for (;;) {
		assert_int_equal(recv_within(fd, &a, WAIT_MS), DPMSG_OK);
		if (a.type == DPMSG_DUMP_END)
			break;
		assert_int_equal(a.type, DPMSG_DUMP_HOST);
		hosts++;
	}
	assert_int_equal(hosts, 2);
	assert_int_equal(a.u.dump_end.count, 2);
	close(fd);
}

static void test_reap_read_reports_the_latest_stamp(void **state)
{
	(void)state;
	int fd = client();
	struct dpmsg q = ctx_add(1, 40), a;
	hello(fd, DPMSG_ROLE_CONTROL);
	expect(fd, &q, 0);
	const struct dp_ctx *x = dp_ctx_by_tag(dp.t, q.u.ctx.own_tag);
	assert_non_null(x);
	/* an older send stamp from lcore 0, the newest from lcore 1 */
	uint32_t now_ms = dp_tables_ms(dp.t, rte_rdtsc());
	dp_ctx_stamp(x, 0, 0, now_ms > 500 ? now_ms - 500 : 1);
	dp_ctx_stamp(x, 1, 0, now_ms);
	uint64_t stamped = mono_ns();

	struct dpmsg r = { .type = DPMSG_REAP_REQ, .seq = 2 };
	r.u.reap_req.n = 2;
	r.u.reap_req.own_tag[0] = q.u.ctx.own_tag;
	r.u.reap_req.own_tag[1] = q.u.ctx.own_tag + 1000;  /* unknown */
	ask(fd, &r, &a);
	assert_int_equal(a.type, DPMSG_REAP);
	assert_int_equal(a.u.reap.n, 2);
	assert_true(a.u.reap.e[0].own_tag == q.u.ctx.own_tag);
	assert_int_equal(a.u.reap.e[0].found, 1);
	/* the newest stamp, on CLOCK_MONOTONIC; a stamp has millisecond steps */
	int64_t off = (int64_t)a.u.reap.e[0].last_sent_ns - (int64_t)stamped;
	assert_true(off > -50 * 1000000LL && off < 50 * 1000000LL);
	assert_true(a.u.reap.e[0].last_recv_ns == 0);  /* never received */
	assert_int_equal(a.u.reap.e[1].found, 0);
	assert_true(a.u.reap.e[1].last_sent_ns == 0);
	close(fd);
}

/* A whole REAP walk through the channel, `max_slots` a request: seen[i]
 * counts the reports of context 60 + i; ns[i] is its answer. */
static void scan_walk(int fd, uint32_t max_slots, uint64_t since_ns, unsigned n_ctx, uint8_t *seen,
		      struct dpmsg_reap_entry *ns)
{
	struct dpmsg q = { .type = DPMSG_REAP_SCAN_REQ, .seq = 1000 }, a;
	unsigned steps = 0;
	memset(seen, 0, n_ctx);
	q.u.scan_req.max_slots = max_slots;
	q.u.scan_req.since_ns = since_ns;
	do {
		q.seq++;
		ask(fd, &q, &a);
		assert_int_equal(a.type, DPMSG_REAP_SCAN);
		assert_true(a.u.scan.n <= max_slots);
		for (unsigned k = 0; k < a.u.scan.n; k++) {
			uint64_t i = a.u.scan.e[k].own_tag - UINT64_C(0x500000000) - 60;
			assert_true(i < n_ctx);
			seen[i]++;
			ns[i] = a.u.scan.e[k];
			assert_int_equal(a.u.scan.e[k].found, 1);
		}
		assert_true(a.u.scan.next == DPMSG_SCAN_END || a.u.scan.next > q.u.scan_req.cursor);
		q.u.scan_req.cursor = a.u.scan.next;
		assert_true(++steps <= 2 * n_ctx + 2);
	} while (q.u.scan_req.cursor != DPMSG_SCAN_END);
}

/*
 * REAP_SCAN: contexts with traffic since a time, found by walking the
 * table in steps that follow `next`; idle ones never come back, and the
 * times are those REAP_REQ gives.
 */
static void test_reap_scan_reports_traffic_since(void **state)
{
	(void)state;
	enum { N = 40 };
	uint8_t seen[N];
	struct dpmsg_reap_entry e[N];
	int fd = client();
	hello(fd, DPMSG_ROLE_CONTROL);
	for (uint32_t i = 0; i < N; i++) {
		struct dpmsg q = ctx_add(10 + i, 60 + i);
		expect(fd, &q, 0);
	}
	usleep(50000);
	/* i % 4: 0 idle, 1 traffic 30 ms ago, 2 sent now, 3 received now
	 * (and sent 30 ms ago, on another lcore) */
	uint32_t then_ms = dp_tables_ms(dp.t, rte_rdtsc()) - 30;
	for (uint32_t i = 1; i < N; i += 4) {
		dp_ctx_stamp(dp_ctx_by_tag(dp.t, UINT64_C(0x500000000) + 60 + i), 0, 1, then_ms);
		dp_ctx_stamp(dp_ctx_by_tag(dp.t, UINT64_C(0x500000000) + 62 + i), 1, 0, then_ms);
	}
	uint64_t since = mono_ns() - 15 * 1000000ull;
	uint32_t now_ms = dp_tables_ms(dp.t, rte_rdtsc());
	for (uint32_t i = 2; i < N; i += 4) {
		dp_ctx_stamp(dp_ctx_by_tag(dp.t, UINT64_C(0x500000000) + 60 + i), 0, 0, now_ms);
		dp_ctx_stamp(dp_ctx_by_tag(dp.t, UINT64_C(0x500000000) + 61 + i), 0, 1, now_ms);
	}
	uint64_t stamped = mono_ns();

	scan_walk(fd, 3, since, N, seen, e);
	for (uint32_t i = 0; i < N; i++) {
		assert_int_equal(seen[i], i % 4 >= 2);
		if (!seen[i])
			continue;
		int64_t off = (int64_t)(i % 4 == 2 ? e[i].last_sent_ns : e[i].last_recv_ns) - (int64_t)stamped;
		assert_true(off > -50 * 1000000LL && off < 50 * 1000000LL);
		if (i % 4 == 2)
			assert_true(e[i].last_recv_ns == 0);
		else
			assert_true(e[i].last_sent_ns != 0 && e[i].last_sent_ns < e[i].last_recv_ns);
		/* the same times REAP_REQ reads */
		struct dpmsg r = { .type = DPMSG_REAP_REQ, .seq = 3000 + i }, a;
		r.u.reap_req.n = 1;
		r.u.reap_req.own_tag[0] = e[i].own_tag;
		ask(fd, &r, &a);
		assert_int_equal(a.type, DPMSG_REAP);
		assert_true(a.u.reap.e[0].last_sent_ns == e[i].last_sent_ns);
		assert_true(a.u.reap.e[0].last_recv_ns == e[i].last_recv_ns);
	}
	/* `since` anywhere in a stamp's millisecond finds it; from the next one on, not */
	uint64_t ms_start = e[2].last_sent_ns;
	const uint64_t in_ms[] = { ms_start, ms_start + 1, ms_start + 990000 };
	for (unsigned k = 0; k < 3; k++) {
		scan_walk(fd, 64, in_ms[k], N, seen, e);
		assert_int_equal(seen[2], 1);
		assert_true(e[2].last_sent_ns == ms_start);
	}
	scan_walk(fd, 64, ms_start + 1500000, N, seen, e);
	assert_int_equal(seen[2], 0);
	/* since 0: every context with traffic at all, in one request */
	scan_walk(fd, DPMSG_SCAN_SLOTS_MAX, 0, N, seen, e);
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(seen[i], i % 4 != 0);
	/* after all of it: nothing */
	scan_walk(fd, 5, mono_ns() + 1000000000ull, N, seen, e);
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(seen[i], 0);
	close(fd);
}

static void test_malformed_reap_scan_is_answered_and_client_kept(void **state)
{
	(void)state;
	int fd = client();
	uint8_t b[DPMSG_MAX_LEN];
	struct dpmsg q = { .type = DPMSG_REAP_SCAN_REQ, .seq = 0x51 }, a;
	q.u.scan_req.max_slots = 10;
	expect(fd, &q, DPMSG_ERR_NOHELLO);
	hello(fd, DPMSG_ROLE_CONTROL);
	struct dpmsg add = ctx_add(0x50, 1);
	expect(fd, &add, 0);
	dp_ctx_stamp(dp_ctx_by_tag(dp.t, add.u.ctx.own_tag), 0, 0, dp_tables_ms(dp.t, rte_rdtsc()));
	int n = dpmsg_encode(&q, b, sizeof b);
	assert_int_equal(n, DPMSG_HDR_LEN + 16);
	/* max_slots 0, one past the cap, the whole 32 bits; the body an octet short */
	static const uint32_t bad_slots[] = { 0, DPMSG_SCAN_SLOTS_MAX + 1, UINT32_MAX };
	for (unsigned k = 0; k < 3; k++) {
		uint8_t c[DPMSG_MAX_LEN];
		memcpy(c, b, (size_t)n);
		c[7] = (uint8_t)(0x60 + k);
		c[12] = (uint8_t)(bad_slots[k] >> 24);
		c[13] = (uint8_t)(bad_slots[k] >> 16);
		c[14] = (uint8_t)(bad_slots[k] >> 8);
		c[15] = (uint8_t)bad_slots[k];
		assert_int_equal(send(fd, c, (size_t)n, 0), n);
		assert_int_equal(recv_within(fd, &a, WAIT_MS), DPMSG_OK);
		assert_int_equal(a.type, DPMSG_ERROR);
		assert_int_equal(a.u.error.code, DPMSG_ERR_INVAL);
		assert_int_equal(a.seq, 0x60 + k);
	}
	b[3] = (uint8_t)(n - 1);
	assert_int_equal(send(fd, b, (size_t)n - 1, 0), n - 1);
	assert_int_equal(recv_within(fd, &a, WAIT_MS), DPMSG_OK);
	assert_int_equal(a.type, DPMSG_ERROR);
	assert_int_equal(a.u.error.code, DPMSG_ERR_INVAL);
	assert_int_equal(a.seq, 0x51);
	/* an answer is not a request */
	struct dpmsg ans = { .type = DPMSG_REAP_SCAN, .seq = 0x70 };
	expect(fd, &ans, DPMSG_ERR_INVAL);
	/* and the client is still served: a cursor past the end, then the walk */
	q.seq = 0x71;
	q.u.scan_req.cursor = UINT32_MAX - 1;
	ask(fd, &q, &a);
	assert_int_equal(a.type, DPMSG_REAP_SCAN);
	assert_int_equal(a.u.scan.n, 0);
	assert_int_equal(a.u.scan.next, DPMSG_SCAN_END);
	q.seq = 0x72;
	q.u.scan_req.cursor = 0;
	ask(fd, &q, &a);
	assert_int_equal(a.type, DPMSG_REAP_SCAN);
	assert_int_equal(a.u.scan.n, 1);
	assert_true(a.u.scan.e[0].own_tag == add.u.ctx.own_tag);
	assert_int_equal(a.u.scan.next, DPMSG_SCAN_END);
	close(fd);
}

static void test_counters_sum_lcores_and_channel(void **state)
{
	(void)state;
	int fd = client();
	struct dpmsg q = ctx_add(1, 50), a, c = { .type = DPMSG_COUNTERS_REQ, .seq = 5 };
	hello(fd, DPMSG_ROLE_TOOL);
	expect(fd, &q, 0);
	dp.lc[0].cnt.c[DPMSG_CNT_RX_IN_PKTS] = 5;
	dp.lc[1].cnt.c[DPMSG_CNT_RX_IN_PKTS] = 7;
	dp.lc[1].cnt.c[DPMSG_CNT_DROP_MTU] = 3;
	ask(fd, &c, &a);
	assert_int_equal(a.type, DPMSG_COUNTERS);
	assert_int_equal(a.u.counters.n, DPMSG_CNT__MAX - 1);
	for (unsigned i = 0; i < a.u.counters.n; i++) {
		uint64_t want = 0;
		assert_int_equal(a.u.counters.c[i].id, i + 1);  /* every id, in order */
		switch (a.u.counters.c[i].id) {
		case DPMSG_CNT_RX_IN_PKTS: want = 12; break;
		case DPMSG_CNT_DROP_MTU: want = 3; break;
		case DPMSG_CNT_CTX_ENTRIES: want = 1; break;
		default: break;
		}
		assert_true(a.u.counters.c[i].value == want);
	}
	close(fd);
}

/* ---- next hops ----------------------------------------------------------------- */

static void test_unresolved_next_hop_is_solicited(void **state)
{
	(void)state;
	struct dp_port *pt = &dp.port[1];
	struct rte_mbuf *m = NULL;
	uint8_t nh[16];
	assert_int_equal(inet_pton(AF_INET6, "fe80::1:2:3", nh), 1);
	/* the thread reads these on its next round; the stores order nothing
	 * else, as the daemon sets them before the thread starts */
	memcpy(pt->nh_addr, nh, 16);
	dp_nh_store(pt, 0);
	__atomic_store_n(&pt->nh_static, false, __ATOMIC_RELEASE);
	for (unsigned w = 0; w < WAIT_MS && rte_ring_dequeue(dp.inject, (void **)&m) != 0; w++)
		usleep(1000);
	assert_non_null(m);
	__atomic_store_n(&pt->nh_static, true, __ATOMIC_RELEASE);
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *), *ip = f + DP_ETH_LEN;
	assert_int_equal(m->port, 1);
	assert_int_equal(m->hash.usr, DP_INJECT_RAW);  /* a whole frame, sent as is */
	static const uint8_t snm_mac[6] = { 0x33, 0x33, 0xff, 0x02, 0x00, 0x03 };
	assert_memory_equal(f, snm_mac, 6);             /* the next hop's solicited-node group */
	assert_memory_equal(f + 6, PORT_MAC[1], 6);
	assert_int_equal(ip[DP_IP6_NH], DP_PROTO_ICMP6);
	assert_int_equal(ip[DP_IP6_LEN], DP_ND_NS);
	assert_memory_equal(ip + DP_IP6_LEN + 8, nh, 16);  /* target */
	rte_pktmbuf_free(m);
	assert_true(dp.chan_cnt.c[DPMSG_CNT_ICMP_GEN] >= 1);
}

/* The channel thread anchors the REAP stamps' clock to CLOCK_MONOTONIC
 * every 100 ms: stamps are compared with control's clock. */
static void test_stamp_clock_is_anchored(void **state)
{
	(void)state;
	uint32_t seq0 = __atomic_load_n(&dp.t->clk.seq, __ATOMIC_ACQUIRE);
	usleep(450000);
	uint32_t seq1 = __atomic_load_n(&dp.t->clk.seq, __ATOMIC_ACQUIRE);
	assert_true(seq1 >= seq0 + 2 * 2);     /* two anchors at least, two steps each */
	uint64_t want = (mono_ns() - dp.t->mono0_ns) / 1000000u;
	uint32_t ms = dp_tables_ms(dp.t, rte_rdtsc());
	assert_in_range(ms, want - 2, want + 2);
}

int main(int argc, char **argv)
{
	(void)argc;
	if (eal_unit_init(argv[0], "chan", "64") < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_nothing_applied_before_hello, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hello_reports_the_dataplane, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stamp_clock_is_anchored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_context_writes_are_applied_and_answered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_table_bound_is_answered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_datagram_is_answered_and_client_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_datagram_is_refused_and_client_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_beyond_the_bound_is_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accept_out_of_descriptors_pauses_and_recovers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_client_does_not_starve_others, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unread_dump_holds_up_only_its_reader, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fast_reader_gets_every_dump_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trickling_reader_is_kept_and_holds_up_nobody, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unread_answers_wait_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stopped_reader_is_dropped_at_the_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_punts_reach_control_clients_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_punt_without_control_is_dropped_and_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inject_frames_for_the_port_and_bounds_the_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_lists_the_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reap_read_reports_the_latest_stamp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reap_scan_reports_traffic_since, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_reap_scan_is_answered_and_client_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counters_sum_lcores_and_channel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unresolved_next_hop_is_solicited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probes_fail_an_isp_and_control_is_told, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_probe_round_asks_every_target, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_drained_isp_is_reported_failed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
