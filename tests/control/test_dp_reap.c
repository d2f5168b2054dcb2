/*
 * control/dp.c's reading of the REAP stamps, against the other end of a
 * SOCK_SEQPACKET pair standing for the dataplane: every context's stamps
 * are asked for each round (a second, or half a short Keepalive interval),
 * so that REAP hears of traffic well within its Keepalive interval however
 * large the table; past the
 * round's bound a sweep takes more rounds and says so (reap_sweep_ms); the
 * answers reach the engine (proxy_reap) only for contexts control still
 * has, with the previous stamps to compare.  Fake clock: time moves only
 * by the test.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon.h"
#include "peer.h"
#include "proxy.h"

#define SEC UINT64_C(1000000000)
#define PER_ROUND (1024u * DPMSG_REAP_MAX)   /* the bound pshim6-control(8) documents */

/* ---- fakes of what dp.c calls outside itself ------------------------------ */

static uint64_t clk = 1000 * SEC;
uint64_t now_ns(void) { return clk; }

struct reaped { uint64_t tag, sent, recv, prev_sent, prev_recv; };
static struct reaped reaped[16];
static unsigned nreaped;

void proxy_reap(struct daemon *d, uint64_t own_tag, uint64_t sent_ns, uint64_t recv_ns,
		uint64_t prev_sent_ns, uint64_t prev_recv_ns)
{
	(void)d;
	assert_true(nreaped < 16);
	reaped[nreaped++] = (struct reaped){ own_tag, sent_ns, recv_ns, prev_sent_ns, prev_recv_ns };
}

void proxy_punt(struct daemon *d, const struct dpmsg_punt *p) { (void)d; (void)p; }
int proxy_import(struct daemon *d, const struct dpmsg_ctx *c) { (void)d; (void)c; return -1; }
void proxy_state_changed(struct daemon *d) { (void)d; }
bool peer_lingering(struct daemon *d, uint64_t own_tag) { (void)d; (void)own_tag; return false; }
void peer_ctx_imported(struct daemon *d, uint64_t own_tag) { (void)d; (void)own_tag; }

/* ---- the rig ------------------------------------------------------------- */

static struct pshim6_conf conf;
static struct daemon d;
static int other = -1;                   /* the dataplane's end */
static uint8_t *seen;                    /* per context index: times its stamps were asked for */
static uint32_t ncounters_req;

static uint64_t tag_of(uint32_t i) { return UINT64_C(0x100000000) + i; }

static void rig(uint32_t n)
{
	int sv[2];
	memset(&d, 0, sizeof d);
	memset(&conf, 0, sizeof conf);
	conf.dataplane.max_contexts = n;
	d.conf = &conf;
	assert_int_equal(ctxtab_init(&d.ctxs, n ? n : 1), 0);
	for (uint32_t i = 0; i < n; i++) {
		struct dpmsg_ctx c;
		memset(&c, 0, sizeof c);
		c.local_ulid[0] = 0xfd;
		memcpy(c.local_ulid + 8, &i, 4);
		c.remote_ulid[0] = 0xfd;
		c.remote_ulid[1] = 2;
		c.own_tag = tag_of(i);
		assert_non_null(ctxtab_add(&d.ctxs, &c));
	}
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
	d.dp.fd = sv[0];
	other = sv[1];
	d.dp.hello_done = true;        /* as after the dataplane's HELLO */
	dp_outq_init(&d.dp.outq, (size_t)64 << 20);
	seen = calloc(n ? n : 1, 1);
	assert_non_null(seen);
	nreaped = 0;
}

static int teardown(void **state)
{
	(void)state;
	dp_close(&d, "test over");
	close(other);
	other = -1;
	ctxtab_free(&d.ctxs);
	free(seen);
	seen = NULL;
	return 0;
}

/* What dp.c sent since the last call, the queue included: REAP_REQ tags
 * are counted per context; returns the REAP_REQ messages. */
static unsigned drain(void)
{
	static uint8_t buf[DPMSG_MAX_LEN];
	static struct dpmsg m;
	unsigned reqs = 0;
	for (;;) {
		ssize_t got = recv(other, buf, sizeof buf, 0);
		if (got < 0) {
			assert_true(errno == EAGAIN);
			if (!d.dp.outq.n)
				return reqs;
			dp_flush(&d);    /* room again: what waited goes */
			continue;
		}
		assert_int_equal(dpmsg_decode(buf, (size_t)got, &m), DPMSG_OK);
		if (m.type == DPMSG_COUNTERS_REQ) {
			ncounters_req++;
			continue;
		}
		assert_int_equal(m.type, DPMSG_REAP_REQ);
		assert_true(m.u.reap_req.n >= 1 && m.u.reap_req.n <= DPMSG_REAP_MAX);
		for (unsigned k = 0; k < m.u.reap_req.n; k++) {
			uint64_t i = m.u.reap_req.own_tag[k] - tag_of(0);
			assert_true(i < d.ctxs.n);
			seen[i]++;
		}
		reqs++;
	}
}

static void round_at(uint64_t t)
{
	clk = t;
	dp_tick(&d, clk);
}

static void expect_each_seen(uint32_t n, uint8_t times)
{
	for (uint32_t i = 0; i < n; i++)
		if (seen[i] != times)
			fail_msg("context %u asked for %u times, not %u", i, seen[i], times);
}

/* ---- tests --------------------------------------------------------------- */

static void test_every_context_is_read_each_round(void **state)
{
	(void)state;
	enum { N = 1000 };
	rig(N);
	round_at(clk + SEC);
	assert_int_equal(drain(), (N + DPMSG_REAP_MAX - 1) / DPMSG_REAP_MAX);
	expect_each_seen(N, 1);
	round_at(clk + SEC / 2);           /* not yet a round */
	assert_int_equal(drain(), 0);
	round_at(clk + SEC / 2);
	drain();
	expect_each_seen(N, 2);
	assert_true(d.st.dp_reap_reqs == 2 * 8);
	assert_true(dp_reap_sweep_ms(&d) == 1000);
}

/* Past the bound: a round asks for exactly its bound, in order from where
 * the last one stopped, so two rounds read every context at least once and
 * none a third time. */
static void test_a_larger_table_takes_more_rounds(void **state)
{
	(void)state;
	const uint32_t n = PER_ROUND + 9000;
	rig(n);
	round_at(clk + SEC);
	assert_int_equal(drain(), 1024);
	uint32_t once = 0;
	for (uint32_t i = 0; i < n; i++)
		once += seen[i] == 1;
	assert_int_equal(once, PER_ROUND);
	round_at(clk + SEC);
	assert_int_equal(drain(), 1024);
	for (uint32_t i = 0; i < n; i++)
		if (seen[i] < 1 || seen[i] > 2)
			fail_msg("context %u asked for %u times in two rounds", i, seen[i]);
	assert_true(dp_reap_sweep_ms(&d) == 2000);
}

/* Fast REAP timers: a round every half Keepalive interval (300 ms -> 150
 * ms), the second's budget shared among the rounds; never under 50 ms. */
static void test_short_keepalive_reads_every_half_interval(void **state)
{
	(void)state;
	const uint64_t MS = SEC / 1000;
	const uint32_t per_round = 1024u * 150 / 1000 * DPMSG_REAP_MAX;   /* 153 requests */
	rig(per_round + 100);
	conf.reap.keepalive_interval_ms = 300;
	round_at(clk + SEC);                /* the last round was long ago */
	assert_int_equal(drain(), per_round / DPMSG_REAP_MAX);
	round_at(clk + 149 * MS);
	assert_int_equal(drain(), 0);       /* not yet */
	round_at(clk + 1 * MS);
	assert_int_equal(drain(), per_round / DPMSG_REAP_MAX);
	for (uint32_t i = 0; i < per_round + 100; i++)   /* the cursor went on round */
		if (seen[i] < 1 || seen[i] > 2)
			fail_msg("context %u asked for %u times in two rounds", i, seen[i]);
	assert_true(dp_reap_sweep_ms(&d) == 300);
	conf.reap.keepalive_interval_ms = 40;
	round_at(clk + 49 * MS);
	assert_int_equal(drain(), 0);
	round_at(clk + 1 * MS);
	assert_true(drain() > 0);
}

static void test_no_context_no_read(void **state)
{
	(void)state;
	rig(0);
	round_at(clk + SEC);
	assert_int_equal(drain(), 0);
	assert_true(ncounters_req > 0);   /* the counters are still read */
	assert_true(dp_reap_sweep_ms(&d) == 1000);
}

/* The answers: to the engine for contexts control has, with the stamps it
 * had before, which control then keeps. */
static void test_answers_reach_the_engine_with_the_previous_stamps(void **state)
{
	(void)state;
	rig(3);
	struct dpmsg m = { .type = DPMSG_REAP, .seq = 9 };
	uint8_t buf[DPMSG_MAX_LEN];
	m.u.reap.n = 3;
	m.u.reap.e[0] = (struct dpmsg_reap_entry){ tag_of(1), 5 * SEC, 4 * SEC, 1 };
	m.u.reap.e[1] = (struct dpmsg_reap_entry){ tag_of(7), 5 * SEC, 5 * SEC, 1 };  /* not ours */
	m.u.reap.e[2] = (struct dpmsg_reap_entry){ tag_of(2), 0, 0, 0 };              /* the dataplane lacks it */
	int len = dpmsg_encode(&m, buf, sizeof buf);
	assert_true(len > 0);
	assert_int_equal(send(other, buf, (size_t)len, 0), len);
	dp_read(&d);
	assert_int_equal(nreaped, 1);
	assert_true(reaped[0].tag == tag_of(1));
	assert_true(reaped[0].sent == 5 * SEC && reaped[0].recv == 4 * SEC);
	assert_true(reaped[0].prev_sent == 0 && reaped[0].prev_recv == 0);
	/* the next answer is compared with these */
	m.u.reap.n = 1;
	m.u.reap.e[0] = (struct dpmsg_reap_entry){ tag_of(1), 6 * SEC, 4 * SEC, 1 };
	len = dpmsg_encode(&m, buf, sizeof buf);
	assert_int_equal(send(other, buf, (size_t)len, 0), len);
	dp_read(&d);
	assert_int_equal(nreaped, 2);
	assert_true(reaped[1].sent == 6 * SEC && reaped[1].prev_sent == 5 * SEC);
	assert_true(reaped[1].recv == 4 * SEC && reaped[1].prev_recv == 4 * SEC);
	assert_true(ctxtab_find(&d.ctxs, tag_of(1))->last_sent_ns == 6 * SEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_every_context_is_read_each_round, teardown),
		cmocka_unit_test_teardown(test_a_larger_table_takes_more_rounds, teardown),
		cmocka_unit_test_teardown(test_short_keepalive_reads_every_half_interval, teardown),
		cmocka_unit_test_teardown(test_no_context_no_read, teardown),
		cmocka_unit_test_teardown(test_answers_reach_the_engine_with_the_previous_stamps, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
