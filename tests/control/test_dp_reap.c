/*
 * control/dp.c's reading of the REAP stamps, against the other end of a
 * SOCK_SEQPACKET pair standing for the dataplane: each round (a second, or
 * half a short Keepalive interval) a walk of the dataplane's table starts
 * when the last one is done, one REAP_SCAN_REQ in flight at a time, each
 * asking for the stamps later than the start of the walk before the last
 * one; the dataplane's answers reach the engine (proxy_reap) only for
 * contexts control has, with the stamps control had before, which never
 * move back; at most 1,024 requests a second.  Fake clock: time moves only
 * by the test.  Also: the dataplane's ISP_STATE, which the engine hears as
 * changes (proxy_isp_state).
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
#define MS  UINT64_C(1000000)
#define BOUND 1024u           /* requests a second, as pshim6-control(8) documents */
#define ENOUGH 100000u        /* more requests than any case wants: a walk that never stops */

/* ---- fakes of what dp.c calls outside itself ------------------------------ */

static uint64_t clk = 1000 * SEC;
uint64_t now_ns(void) { return clk; }

struct reaped { uint64_t tag, sent, recv, prev_sent, prev_recv; };
static struct reaped *reaped;
static unsigned nreaped, capreaped;

void proxy_reap(struct daemon *d, uint64_t own_tag, uint64_t sent_ns, uint64_t recv_ns,
		uint64_t prev_sent_ns, uint64_t prev_recv_ns)
{
	(void)d;
	if (nreaped == capreaped) {
		capreaped = capreaped ? 2 * capreaped : 1024;
		reaped = realloc(reaped, capreaped * sizeof(*reaped));
		assert_non_null(reaped);
	}
	reaped[nreaped++] = (struct reaped){ own_tag, sent_ns, recv_ns, prev_sent_ns, prev_recv_ns };
}

void proxy_punt(struct daemon *d, const struct dpmsg_punt *p) { (void)d; (void)p; }
static char isp_calls[64];   /* proxy_isp_state's calls: "0+" ISP 0 down, "0-" up, ... */
void proxy_isp_state(struct daemon *d, unsigned isp, bool down)
{
	(void)d;
	size_t n = strlen(isp_calls);
	assert_true(n + 2 < sizeof isp_calls);
	isp_calls[n] = (char)('0' + isp);
	isp_calls[n + 1] = down ? '+' : '-';
}
int proxy_import(struct daemon *d, const struct dpmsg_ctx *c) { (void)d; (void)c; return -1; }
void proxy_state_changed(struct daemon *d) { (void)d; }
bool peer_lingering(struct daemon *d, uint64_t own_tag) { (void)d; (void)own_tag; return false; }
void peer_ctx_imported(struct daemon *d, uint64_t own_tag) { (void)d; (void)own_tag; }

/* ---- the dataplane's end ------------------------------------------------- */

static struct pshim6_conf conf;
static struct daemon d;
static int other = -1;

static uint64_t tag_of(uint32_t i) { return UINT64_C(0x100000000) + i; }

/* Its table: slot i holds tag_of(i); it walks as dpmsg.h says.  ENDLESS
 * stands for a busy table that never ends: 128 entries an answer. */
enum { TABLE, ENDLESS };
static struct {
	int mode;
	uint32_t slots;
	uint64_t *sent, *recv;
	uint64_t answer_ns;      /* fake time an answer takes */
} dp;

struct req { uint32_t seq, cursor, max_slots; uint64_t since, at; };
static struct req *reqs;     /* every REAP_SCAN_REQ answered, in order */
static unsigned nreqs, capreqs;
static unsigned ncounters_req;

static void dp_table(uint32_t slots)
{
	dp.mode = TABLE;
	dp.slots = slots;
	dp.sent = calloc(slots ? slots : 1, sizeof(*dp.sent));
	dp.recv = calloc(slots ? slots : 1, sizeof(*dp.recv));
	assert_true(dp.sent && dp.recv);
}

static void dp_stamp(uint32_t i, uint64_t sent, uint64_t recv)
{
	assert_true(i < dp.slots);
	dp.sent[i] = sent;
	dp.recv[i] = recv;
}

static void answer(const struct dpmsg *q, struct dpmsg *a)
{
	const struct dpmsg_reap_scan_req *r = &q->u.scan_req;
	memset(a, 0, sizeof *a);
	a->type = DPMSG_REAP_SCAN;
	a->seq = q->seq;
	if (dp.mode == ENDLESS) {
		for (unsigned k = 0; k < DPMSG_REAP_MAX; k++)
			a->u.scan.e[a->u.scan.n++] = (struct dpmsg_reap_entry){
				tag_of((r->cursor + k) % d.ctxs.n), clk, clk, 1 };
		a->u.scan.next = r->cursor + DPMSG_REAP_MAX;
		return;
	}
	uint32_t i = r->cursor, end = dp.slots;
	if (i < dp.slots && dp.slots - i > r->max_slots)
		end = i + r->max_slots;
	for (; i < end && a->u.scan.n < DPMSG_REAP_MAX; i++)
		if (dp.sent[i] > r->since_ns || dp.recv[i] > r->since_ns)
			a->u.scan.e[a->u.scan.n++] = (struct dpmsg_reap_entry){ tag_of(i), dp.sent[i], dp.recv[i], 1 };
	a->u.scan.next = i < dp.slots ? i : DPMSG_SCAN_END;
}

/* The next message dp.c sent, its queue included; 0 when there is none. */
static int take(struct dpmsg *m)
{
	static uint8_t buf[DPMSG_MAX_LEN];
	for (;;) {
		ssize_t got = recv(other, buf, sizeof buf, 0);
		if (got < 0) {
			assert_true(errno == EAGAIN);
			if (!d.dp.outq.n)
				return 0;
			dp_flush(&d);
			continue;
		}
		assert_int_equal(dpmsg_decode(buf, (size_t)got, m), DPMSG_OK);
		if (m->type == DPMSG_COUNTERS_REQ)
			ncounters_req++;
		return 1;
	}
}

/* The REAP_SCAN_REQ dp.c has in flight, if any: it may never have two. */
static int take_request(struct dpmsg *q)
{
	static struct dpmsg m;
	int have = 0;
	while (take(&m)) {
		if (m.type != DPMSG_REAP_SCAN_REQ)
			continue;   /* counters, a dump: not the walk's */
		if (have)
			fail_msg("request %u sent while %u (cursor %u) was in flight", m.seq, q->seq,
				 q->u.scan_req.cursor);
		*q = m;
		have = 1;
	}
	if (have) {
		if (nreqs == capreqs) {
			capreqs = capreqs ? 2 * capreqs : 1024;
			reqs = realloc(reqs, capreqs * sizeof(*reqs));
			assert_non_null(reqs);
		}
		reqs[nreqs++] = (struct req){ q->seq, q->u.scan_req.cursor, q->u.scan_req.max_slots,
					      q->u.scan_req.since_ns, clk };
	}
	return have;
}

static void dp_says(const struct dpmsg *m)
{
	uint8_t buf[DPMSG_MAX_LEN];
	int len = dpmsg_encode(m, buf, sizeof buf);
	assert_true(len > 0);
	assert_int_equal(send(other, buf, (size_t)len, 0), len);
	dp_read(&d);
}

/* Plays the dataplane until dp.c stops asking; returns the requests. */
static unsigned exchange(void)
{
	static struct dpmsg q, a;
	unsigned n = 0;
	while (take_request(&q)) {
		if (++n > ENOUGH)
			fail_msg("%u requests and still asking", n);
		answer(&q, &a);
		clk += dp.answer_ns;
		dp_says(&a);
	}
	return n;
}

/* A new socket pair between dp.c and this file's end of the channel. */
static void channel_pair(void)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
	d.dp.fd = sv[0];
	other = sv[1];
}

/* The dataplane goes away and comes back on a new connection. */
static void reconnect(const char *why)
{
	dp_close(&d, why);
	close(other);
	channel_pair();
}

static void rig(uint32_t n)
{
	memset(&d, 0, sizeof d);
	memset(&conf, 0, sizeof conf);
	memset(&dp, 0, sizeof dp);
	conf.dataplane.max_contexts = n;
	d.conf = &conf;
	assert_int_equal(ctxtab_init(&d.ctxs, n ? n : 1), 0);
	for (uint32_t i = 0; i < n; i++) {
		struct dpmsg_ctx c;
		memset(&c, 0, sizeof c);
		c.own_tag = tag_of(i);
		assert_non_null(ctxtab_add(&d.ctxs, &c));
	}
	channel_pair();
	d.dp.hello_done = true;        /* as after the dataplane's HELLO */
	dp_outq_init(&d.dp.outq, (size_t)64 << 20);
	nreaped = nreqs = ncounters_req = 0;
}

static int teardown(void **state)
{
	(void)state;
	dp_close(&d, "test over");
	close(other);
	other = -1;
	ctxtab_free(&d.ctxs);
	free(dp.sent);
	free(dp.recv);
	memset(&dp, 0, sizeof dp);
	return 0;
}

/* A round starts: rounds are a second apart unless the Keepalive interval
 * is short, and the clock only moves forward across cases. */
static void round_at(uint64_t t)
{
	clk = t;
	dp_tick(&d, clk);
}

static void next_round(void)
{
	round_at(clk + SEC);
}

static const struct reaped *reaped_of(uint64_t tag)
{
	const struct reaped *r = NULL;
	for (unsigned i = 0; i < nreaped; i++)
		if (reaped[i].tag == tag)
			r = &reaped[i];
	return r;
}

/* ---- tests --------------------------------------------------------------- */

/* (a) The first two walks after the HELLO ask for everything stamped; each
 * walk after that for what was stamped since the walk before the last one
 * started, from the start of the table, 65,536 slots a request. */
static void test_since_is_the_start_of_the_walk_before_the_last(void **state)
{
	(void)state;
	rig(10);
	dp_table(10);
	for (uint32_t i = 0; i < 10; i++)
		dp_stamp(i, clk - SEC, clk - SEC);
	uint64_t start[5];
	for (unsigned w = 0; w < 5; w++) {
		next_round();
		start[w] = clk;
		assert_int_equal(exchange(), 1);
		assert_int_equal(reqs[w].cursor, 0);
		assert_int_equal(reqs[w].max_slots, DPMSG_SCAN_SLOTS_MAX);
		assert_true(reqs[w].at == start[w]);
		assert_int_equal(d.st.dp_reap_walks, w + 1);
	}
	assert_true(reqs[0].since == 0);
	assert_true(reqs[1].since == 0);
	assert_true(reqs[2].since == start[0]);
	assert_true(reqs[3].since == start[1]);
	assert_true(reqs[4].since == start[2]);
	/* everything stamped was in the first two walks, nothing since */
	assert_int_equal(nreaped, 20);
	assert_true(d.st.dp_reap_entries == 20);
}

/* (b) A walk follows `next` to the END, one request in flight, its since
 * the same throughout; entries reach the engine with the stamps control
 * had before, tags control lacks do not, and an older stamp than control's
 * does not move control's back. */
static void test_a_walk_follows_next_to_the_end(void **state)
{
	(void)state;
	rig(300);
	dp_table(310);               /* slots 300..309: contexts control does not have */
	for (uint32_t i = 0; i < 310; i++)
		dp_stamp(i, 100 * SEC + i * MS, 90 * SEC + i * MS);
	next_round();
	assert_int_equal(exchange(), 3);   /* 128 + 128 + 54 entries */
	assert_int_equal(reqs[0].cursor, 0);
	assert_int_equal(reqs[1].cursor, 128);
	assert_int_equal(reqs[2].cursor, 256);
	for (unsigned k = 0; k < 3; k++)
		assert_true(reqs[k].since == 0);
	assert_int_equal(d.st.dp_reap_reqs, 3);
	assert_int_equal(d.st.dp_reap_walks, 1);
	assert_true(d.st.dp_reap_entries == 310);
	assert_int_equal(nreaped, 300);
	for (uint32_t i = 0; i < 300; i++) {
		const struct reaped *r = reaped_of(tag_of(i));
		assert_non_null(r);
		assert_true(r->sent == 100 * SEC + i * MS && r->recv == 90 * SEC + i * MS);
		assert_true(r->prev_sent == 0 && r->prev_recv == 0);
	}
	for (uint32_t i = 300; i < 310; i++)
		assert_null(reaped_of(tag_of(i)));

	/* the next walk: 7 sent again, 8 reports older stamps than control has */
	dp_stamp(7, 200 * SEC, 90 * SEC + 7 * MS);
	struct ctl_ctx *x8 = ctxtab_find(&d.ctxs, tag_of(8));
	x8->last_sent_ns = 500 * SEC;
	x8->last_recv_ns = 400 * SEC;
	dp_stamp(8, 450 * SEC, 0);
	nreaped = 0;
	next_round();
	assert_int_equal(exchange(), 3);
	const struct reaped *r7 = reaped_of(tag_of(7)), *r8 = reaped_of(tag_of(8));
	assert_true(r7->sent == 200 * SEC && r7->prev_sent == 100 * SEC + 7 * MS);
	assert_true(r7->recv == 90 * SEC + 7 * MS && r7->prev_recv == 90 * SEC + 7 * MS);
	assert_true(r8->sent == 500 * SEC && r8->prev_sent == 500 * SEC);
	assert_true(r8->recv == 400 * SEC && r8->prev_recv == 400 * SEC);
	assert_true(x8->last_sent_ns == 500 * SEC && x8->last_recv_ns == 400 * SEC);
	assert_true(ctxtab_find(&d.ctxs, tag_of(7))->last_sent_ns == 200 * SEC);
}

/* (c) A table of 1,000,000 with 1,000 busy contexts is 16 requests of
 * 65,536 slots: all 1,000 reach the engine within the round.  Asking by
 * tag, 128 a request and 1,024 requests a second, took 8 rounds. */
static void test_a_million_mostly_idle_read_in_one_round(void **state)
{
	(void)state;
	enum { N = 1000000, BUSY = 1000 };
	rig(N);
	dp_table(N);
	for (uint32_t k = 0; k < BUSY; k++)
		dp_stamp(k * (N / BUSY) + 500, clk - 2 * SEC, clk - 3 * SEC);
	dp.answer_ns = 1 * MS;
	next_round();
	uint64_t round = clk;
	assert_int_equal(exchange(), 16);
	for (unsigned k = 0; k < 16; k++) {
		assert_int_equal(reqs[k].cursor, k * DPMSG_SCAN_SLOTS_MAX);
		assert_int_equal(reqs[k].max_slots, DPMSG_SCAN_SLOTS_MAX);
	}
	assert_true(clk < round + SEC);
	assert_int_equal(d.st.dp_reap_walks, 1);
	assert_int_equal(nreaped, BUSY);
	for (uint32_t k = 0; k < BUSY; k++)
		assert_non_null(reaped_of(tag_of(k * (N / BUSY) + 500)));
	assert_true(dp_reap_sweep_ms(&d) == 16);
}

/* (d) A table busy all through answers 128 entries a request and never
 * ends: a round asks its bound, 1,024 a second, and the walk goes on in the
 * next round from where it stopped.  With a 300 ms Keepalive interval,
 * rounds of 150 ms share the second's bound. */
static void test_requests_are_bounded_per_second(void **state)
{
	(void)state;
	rig(1000);
	dp.mode = ENDLESS;
	next_round();
	assert_int_equal(exchange(), BOUND);
	for (unsigned k = 0; k < BOUND; k++)
		assert_int_equal(reqs[k].cursor, k * DPMSG_REAP_MAX);
	round_at(clk + SEC / 2);             /* not yet a round */
	assert_int_equal(exchange(), 0);
	round_at(clk + SEC / 2);
	assert_int_equal(exchange(), BOUND);
	assert_int_equal(reqs[BOUND].cursor, BOUND * DPMSG_REAP_MAX);   /* the same walk, on */
	assert_true(reqs[BOUND].since == reqs[0].since);
	assert_int_equal(d.st.dp_reap_walks, 0);
	assert_int_equal(d.st.dp_reap_reqs, 2 * BOUND);

	conf.reap.keepalive_interval_ms = 300;
	const uint32_t per_round = BOUND * 150 / 1000;   /* 153 */
	uint64_t from = clk + 150 * MS;
	unsigned before = nreqs, rounds = 0;
	for (uint64_t t = from; t < from + 3 * SEC; t += 50 * MS) {
		round_at(t);
		unsigned got = exchange();
		if (got)
			rounds++;
		assert_true(got == 0 || got == per_round);
	}
	assert_int_equal(rounds, 20);
	assert_true(nreqs - before <= 3 * BOUND);
	assert_int_equal(reqs[before].cursor, reqs[before - 1].cursor + DPMSG_REAP_MAX);
}

/* (e) An answer whose seq is not that of the request in flight is counted
 * and goes nowhere: not to the engine, not into the walk; a round that
 * comes meanwhile sends nothing, the request is still out. */
static void test_an_answer_to_no_request_is_ignored(void **state)
{
	(void)state;
	static struct dpmsg q, a;
	rig(3);
	dp_table(3);
	for (uint32_t i = 0; i < 3; i++)
		dp_stamp(i, clk - SEC, clk - SEC);
	next_round();
	assert_true(take_request(&q));
	answer(&q, &a);
	a.seq = q.seq + 1;
	a.u.scan.next = 2;
	dp_says(&a);
	assert_int_equal(d.st.dp_reap_stale, 1);
	assert_int_equal(nreaped, 0);
	assert_false(take_request(&q));      /* its `next` was not followed */
	next_round();                         /* nor a new request while one is out */
	assert_false(take_request(&q));
	a.seq = q.seq;                       /* the answer to it ends the walk */
	a.u.scan.next = DPMSG_SCAN_END;
	dp_says(&a);
	assert_int_equal(nreaped, 3);
	assert_int_equal(d.st.dp_reap_walks, 1);
	dp_says(&a);                          /* the same again: nothing in flight now */
	assert_int_equal(d.st.dp_reap_stale, 2);
	assert_int_equal(nreaped, 3);
	assert_int_equal(d.st.dp_reap_entries, 3);
}

/* (f) A walk under way when the channel closes is given up: after the
 * reconnect and the HELLO the next walk starts from the table's start, and
 * the first two ask for everything again. */
static void test_a_reconnect_starts_the_walks_over(void **state)
{
	(void)state;
	static struct dpmsg q, a;
	rig(300);
	dp_table(300);
	for (uint32_t i = 0; i < 300; i++)
		dp_stamp(i, clk, clk);
	next_round();
	uint64_t first = clk;
	assert_int_equal(exchange(), 3);
	next_round();
	assert_int_equal(exchange(), 3);
	for (uint32_t i = 0; i < 300; i++)    /* busy since: the third walk is 3 requests too */
		dp_stamp(i, clk, clk);
	next_round();                          /* a third walk, cut by the channel */
	assert_true(take_request(&q));
	assert_true(q.u.scan_req.since_ns == first);
	answer(&q, &a);
	dp_says(&a);
	assert_true(take_request(&q));
	assert_int_equal(q.u.scan_req.cursor, 128);

	reconnect("test: the dataplane went away");
	dp_outq_init(&d.dp.outq, (size_t)64 << 20);
	memset(&a, 0, sizeof a);
	a.type = DPMSG_HELLO;
	a.u.hello = (struct dpmsg_hello){ .version = DPMSG_VERSION, .role = DPMSG_ROLE_DATAPLANE,
					  .ctx_capacity = 1000, .boot_id = 0x1234 };
	dp_says(&a);
	assert_true(d.dp.hello_done);

	unsigned before = nreqs;
	for (uint32_t i = 0; i < 300; i++)
		dp_stamp(i, clk, clk);
	next_round();
	uint64_t again = clk;
	assert_int_equal(exchange(), 3);
	assert_int_equal(reqs[before].cursor, 0);
	assert_true(reqs[before].since == 0);
	next_round();
	assert_int_equal(exchange(), 3);
	assert_true(reqs[before + 3].since == 0);
	next_round();
	exchange();
	assert_true(reqs[before + 6].since == again);
	assert_int_equal(d.st.dp_reap_walks, 2 + 3);
}

/* (g) reap_sweep_ms is the last complete walk, its first request to its
 * END, as measured: the answers' time, and the rounds a cut walk waits. */
static void test_sweep_ms_is_the_walk_measured(void **state)
{
	(void)state;
	rig(10);
	dp_table(300);
	for (uint32_t i = 0; i < 300; i++)
		dp_stamp(i, clk, clk);
	assert_true(dp_reap_sweep_ms(&d) == 0);   /* no walk done yet */
	dp.answer_ns = 7 * MS;
	next_round();
	assert_int_equal(exchange(), 3);
	assert_true(dp_reap_sweep_ms(&d) == 21);
	free(dp.sent);
	free(dp.recv);

	/* 1,030 requests' worth of busy slots: the bound cuts the walk */
	dp_table((BOUND + 6) * DPMSG_REAP_MAX);
	for (uint32_t i = 0; i < dp.slots; i++)
		dp_stamp(i, clk, clk);
	dp.answer_ns = 0;
	next_round();
	assert_int_equal(exchange(), BOUND);
	assert_true(dp_reap_sweep_ms(&d) == 21);  /* this walk is not done */
	round_at(clk + SEC + 3 * MS);
	assert_int_equal(exchange(), 6);
	assert_true(dp_reap_sweep_ms(&d) == 1003);
}

/* A dataplane that refuses the walk (ERROR, or an ACK from one that takes
 * any request for a write) ends it: the next round starts another. */
static void test_a_refused_walk_starts_again(void **state)
{
	(void)state;
	static struct dpmsg q, a;
	rig(3);
	dp_table(3);
	next_round();
	assert_true(take_request(&q));
	memset(&a, 0, sizeof a);
	a.type = DPMSG_ERROR;
	a.seq = q.seq;
	a.u.error.code = DPMSG_ERR_INVAL;
	dp_says(&a);
	assert_int_equal(d.st.dp_reap_refused, 1);
	next_round();
	assert_true(take_request(&q));
	assert_int_equal(q.u.scan_req.cursor, 0);
	memset(&a, 0, sizeof a);              /* one that takes any request for a write */
	a.type = DPMSG_ACK;
	a.seq = q.seq;
	dp_says(&a);
	assert_int_equal(d.st.dp_reap_refused, 2);
	next_round();
	assert_true(take_request(&q));
	assert_int_equal(q.u.scan_req.cursor, 0);
}

static void test_no_context_no_walk(void **state)
{
	(void)state;
	rig(0);
	next_round();
	assert_int_equal(exchange(), 0);
	assert_true(ncounters_req > 0);   /* the counters are still read */
	assert_int_equal(d.st.dp_reap_reqs, 0);
}

static void isp_state(uint16_t n, uint32_t down)
{
	struct dpmsg m = { .type = DPMSG_ISP_STATE };
	m.u.isp_state.n_isp = n;
	m.u.isp_state.down = down;
	dp_says(&m);
}

/* Each ISP whose verdict changed is handed on once, failed or back; a
 * message about another number of ISPs is dropped and counted; a channel
 * that closes and opens again compares the new verdicts with the old, so
 * an ISP that came back meanwhile is brought back up. */
static void test_isp_state_changes_reach_the_engine(void **st)
{
	(void)st;
	rig(0);
	conf.n_isps = 3;
	strcpy(conf.isps[0].name, "x");
	strcpy(conf.isps[1].name, "y");
	strcpy(conf.isps[2].name, "z");
	isp_calls[0] = 0;
	isp_state(3, 0);
	assert_string_equal(isp_calls, "");
	isp_state(3, 5);
	assert_string_equal(isp_calls, "0+2+");
	isp_state(3, 5);
	isp_state(3, 4);
	assert_string_equal(isp_calls, "0+2+0-");
	assert_int_equal(d.dp.isp_down, 4);
	uint64_t errs = d.st.dp_errors;
	isp_state(2, 0);
	assert_int_equal(d.st.dp_errors, errs + 1);
	assert_int_equal(d.dp.isp_down, 4);
	/* the channel goes and comes back; meanwhile z came back */
	reconnect("test");
	d.dp.hello_done = true;
	isp_state(3, 0);
	assert_string_equal(isp_calls, "0+2+0-2-");
	conf.n_isps = 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_since_is_the_start_of_the_walk_before_the_last, teardown),
		cmocka_unit_test_teardown(test_a_walk_follows_next_to_the_end, teardown),
		cmocka_unit_test_teardown(test_a_million_mostly_idle_read_in_one_round, teardown),
		cmocka_unit_test_teardown(test_requests_are_bounded_per_second, teardown),
		cmocka_unit_test_teardown(test_an_answer_to_no_request_is_ignored, teardown),
		cmocka_unit_test_teardown(test_a_reconnect_starts_the_walks_over, teardown),
		cmocka_unit_test_teardown(test_sweep_ms_is_the_walk_measured, teardown),
		cmocka_unit_test_teardown(test_a_refused_walk_starts_again, teardown),
		cmocka_unit_test_teardown(test_no_context_no_walk, teardown),
		cmocka_unit_test_teardown(test_isp_state_changes_reach_the_engine, teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(reaped);
	free(reqs);
	return rc;
}
