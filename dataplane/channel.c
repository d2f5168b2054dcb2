/*
 * The control channel thread: the only writer of the tables.  It accepts
 * dpmsg clients on a Unix SOCK_SEQPACKET socket, applies their requests,
 * forwards punted packets to control clients and sends Neighbor
 * Solicitations for unresolved next hops.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "dataplane.h"
#include "reload.h"
#include "nd.h"

#define MAX_CLIENTS 8
#define PUNTS_PER_ROUND 64
/* How long a client may leave its answers unread before it is dropped.
 * This thread is the tables' only writer, so it never waits for a client
 * (a dump piped into a pager, a wedged process) but control: see struct
 * client.  control reads while it writes; it gets far longer per answer,
 * since dropping it loses the writes it has queued, and a takeover of a
 * large table keeps it busy for seconds. */
#define CLIENT_STALL_MS  2000
#define CONTROL_STALL_MS 30000
/* After a failed accept() (descriptors or memory short) the listener stays
 * readable: it is left out of the poll this long rather than spin. */
#define ACCEPT_PAUSE_MS  100

/*
 * Only control's answers may block this thread (up to CONTROL_STALL_MS per
 * answer): control's dumps are snapshots it builds its state from, and it
 * reads while it writes.  Any other client is never waited for: an answer
 * its socket has no room for is kept here, the client is not read until it
 * has gone, and a dump is resumed from its cursor as room appears.  So a
 * slow or stopped reader holds up only itself; after CLIENT_STALL_MS
 * without taking a single answer it is dropped.
 */
struct dump {
	bool on;
	uint8_t hosts;      /* 0: contexts, 1: hosts */
	uint32_t seq, what, it, n;
};

struct client {
	int fd;
	uint16_t role;      /* 0 until HELLO */
	uint32_t held_len;  /* octets in held[]: an answer waiting for room */
	uint64_t stuck_ns;  /* when the held answer began to wait */
	struct dump dump;
	uint8_t held[DPMSG_MAX_LEN];
};

static int lfd = -1;
static struct client cl[MAX_CLIENTS];
static pthread_t thread;
static bool running;
static uint8_t rbuf[DPMSG_MAX_LEN];
static struct dpmsg req, rep;

#define CCNT(id) (dp.chan_cnt.c[DPMSG_CNT_##id])

static void drop_client(struct client *c);


/* Not read until its held answer has gone: a dump in progress always has
 * one, and a second would have nowhere to wait. */
static bool busy(const struct client *c)
{
	return c->held_len != 0;
}

static void stalled(struct client *c, unsigned ms)
{
	CCNT(CHAN_CLIENT_STALLED)++;
	fprintf(stderr, "pshim6-dataplane: channel client (role %u) left its answers unread "
		"for %u ms; dropped\n", c->role, ms);
	drop_client(c);
}

/* Send `rep` to c: 0 sent; 1 kept in c->held until c has room (any client
 * but control); -1 the client is gone (closed, or control stalled for
 * CONTROL_STALL_MS: dropped, counted and logged). */
static int reply(struct client *c)
{
	uint8_t buf[DPMSG_MAX_LEN];
	int n = dpmsg_encode(&rep, buf, sizeof(buf));
	uint64_t give_up = 0;

	if (c->fd < 0 || n < 0)
		return -1;
	for (;;) {
		ssize_t s = send(c->fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
		uint64_t now;

		if (s == n)
			return 0;
		if (s < 0 && errno == EINTR)
			continue;
		if (s >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
			drop_client(c);
			return -1;
		}
		if (c->role != DPMSG_ROLE_CONTROL) {
			memcpy(c->held, buf, (size_t)n);
			c->held_len = (uint32_t)n;
			c->stuck_ns = dp_mono_ns();
			return 1;
		}
		now = dp_mono_ns() / 1000000;
		if (!give_up)
			give_up = now + CONTROL_STALL_MS;
		if (now >= give_up) {
			stalled(c, CONTROL_STALL_MS);
			return -1;
		}
		(void)poll(&(struct pollfd){ .fd = c->fd, .events = POLLOUT }, 1, (int)(give_up - now));
	}
}

/* Hand c its held answer if it has room now; false when c is gone. */
static bool flush_held(struct client *c)
{
	ssize_t s;

	do
		s = send(c->fd, c->held, c->held_len, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (s < 0 && errno == EINTR);
	if (s == (ssize_t)c->held_len) {
		c->held_len = 0;
	} else if (s >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
		drop_client(c);
		return false;
	}
	return true;
}

static void reply_err(struct client *c, uint32_t seq, int32_t code, const char *text)
{
	memset(&rep, 0, sizeof(rep));
	rep.type = DPMSG_ERROR;
	rep.seq = seq;
	rep.u.error.code = code;
	snprintf(rep.u.error.text, sizeof(rep.u.error.text), "%s", text);
	(void)reply(c);
}

static void reply_rc(struct client *c, uint32_t seq, int rc, const char *what)
{
	if (rc == 0) {
		memset(&rep, 0, sizeof(rep));
		rep.type = DPMSG_ACK;
		rep.seq = seq;
		(void)reply(c);
	} else {
		reply_err(c, seq, rc, what);
	}
}

void dp_counters_sum(const struct dp_state *s, uint64_t out[DPMSG_CNT__MAX])
{
	memset(out, 0, sizeof(uint64_t) * DPMSG_CNT__MAX);
	for (unsigned l = 0; l < s->n_lcores; l++)
		for (unsigned i = 0; i < DPMSG_CNT__MAX; i++)
			out[i] += s->lc[l].cnt.c[i];
	for (unsigned i = 0; i < DPMSG_CNT__MAX; i++)
		out[i] += s->chan_cnt.c[i];
	out[DPMSG_CNT_CTX_ENTRIES] = s->t->n_ctx;
	out[DPMSG_CNT_HOST_ENTRIES] = s->t->n_host;
}

/* rep = the dump's next answer, from its cursor; false when that is DUMP_END.
 * Not a snapshot when resumed: what is written meanwhile may be missed. */
static bool dump_next(struct dump *d)
{
	memset(&rep, 0, sizeof(rep));
	rep.seq = d->seq;
	if (!d->hosts) {
		const struct dp_ctx *x = d->what & DPMSG_DUMP_CONTEXTS ? dp_ctx_next(dp.t, &d->it) : NULL;
		if (x) {
			rep.type = DPMSG_DUMP_CTX;
			dp_ctx_to_msg(x, &rep.u.ctx);
			return true;
		}
		d->hosts = 1;
		d->it = 0;
	}
	if (d->what & DPMSG_DUMP_HOSTS) {
		const void *key;
		void *data;
		if (rte_hash_iterate(dp.t->h_host, &key, &data, &d->it) >= 0) {
			const struct dp_host *h = data;
			rep.type = DPMSG_DUMP_HOST;
			memcpy(rep.u.host.cmula, h->cmula, 16);
			rep.u.host.nloc = h->nloc;
			memcpy(rep.u.host.loc, h->loc, sizeof(h->loc));
			return true;
		}
	}
	rep.type = DPMSG_DUMP_END;
	rep.u.dump_end.count = d->n;
	return false;
}

/* Send the dump on until it ends, c has no room (it goes on from the
 * cursor when c has) or c is gone.  control's never stops half-way. */
static void dump_more(struct client *c)
{
	while (c->dump.on) {
		if (dump_next(&c->dump))
			c->dump.n++;
		else
			c->dump.on = false;
		if (reply(c) != 0)
			return;
	}
}

static void do_dump(struct client *c, uint32_t seq, uint32_t what)
{
	c->dump = (struct dump){ .on = true, .seq = seq, .what = what };
	dump_more(c);
}

static void do_inject(struct client *c, const struct dpmsg *m)
{
	struct rte_mbuf *mb;
	uint8_t *f;

	if (m->u.inject.port >= dp.n_ports) {
		reply_err(c, m->seq, DPMSG_ERR_PORT, "no such port");
		return;
	}
	if (m->u.inject.len < DP_IP6_LEN || (m->u.inject.data[0] >> 4) != 6) {
		reply_err(c, m->seq, DPMSG_ERR_INVAL, "not an IPv6 packet");
		return;
	}
	mb = rte_pktmbuf_alloc(dp.pool);
	if (!mb) {
		reply_err(c, m->seq, DPMSG_ERR_FULL, "no mbuf");
		return;
	}
	f = (uint8_t *)rte_pktmbuf_append(mb, (uint16_t)(DP_ETH_LEN + m->u.inject.len));
	if (!f) {
		rte_pktmbuf_free(mb);
		reply_err(c, m->seq, DPMSG_ERR_INVAL, "packet too big for an mbuf");
		return;
	}
	{
		uint64_t nh = dp_nh_load(&dp.port[m->u.inject.port]);
		memcpy(f, &nh, 6);
	}
	memcpy(f + 6, dp.port[m->u.inject.port].mac.addr_bytes, 6);
	f[12] = 0x86;
	f[13] = 0xdd;
	memcpy(f + DP_ETH_LEN, m->u.inject.data, m->u.inject.len);
	mb->port = m->u.inject.port;
	mb->hash.usr = m->u.inject.flags;
	if (rte_ring_mp_enqueue(dp.inject, mb) != 0) {
		rte_pktmbuf_free(mb);
		reply_err(c, m->seq, DPMSG_ERR_FULL, "inject queue full");
		return;
	}
	reply_rc(c, m->seq, 0, NULL);
}

/*
 * A step of a REAP walk.  The walk runs here, on the tables' only writer,
 * so every write waits for it: that is why the codec caps max_slots at
 * DPMSG_SCAN_SLOTS_MAX.  A look is one line of a context in random order;
 * 65,536 of them in a table of 1,000,000 take about 2 ms (4 KiB pages),
 * and reading the index in order between them (16 MiB at that size) at
 * most 3 ms more: a wait a write can take, and a walk of the whole table
 * in 16 requests.  No walk state is kept here: the cursor is the
 * client's, so a client that goes away leaves nothing behind.
 */
static void do_scan(struct client *c, const struct dpmsg *m)
{
	struct dp_stamps st[DPMSG_REAP_MAX];
	uint32_t cur = m->u.scan_req.cursor;
	unsigned n = dp_ctx_scan(dp.t, &cur, m->u.scan_req.max_slots, m->u.scan_req.since_ns, st, DPMSG_REAP_MAX);

	memset(&rep, 0, sizeof(rep));
	rep.type = DPMSG_REAP_SCAN;
	rep.seq = m->seq;
	rep.u.scan.next = cur;
	rep.u.scan.n = (uint16_t)n;
	for (unsigned i = 0; i < n; i++) {
		struct dpmsg_reap_entry *e = &rep.u.scan.e[i];
		e->own_tag = st[i].own_tag;
		e->last_sent_ns = st[i].sent;
		e->last_recv_ns = st[i].recv;
		e->found = 1;
	}
	(void)reply(c);
}

/* Which ISPs are out (failed by the probes, or drained), to a control client: control's
 * traffic engineering keeps new contexts off them. */
static void send_isp_state(struct client *c)
{
	memset(&rep, 0, sizeof(rep));
	rep.type = DPMSG_ISP_STATE;
	rep.u.isp_state.n_isp = (uint16_t)dp.site->n_isp;
	rep.u.isp_state.down = __atomic_load_n(&dp.isp_down, __ATOMIC_RELAXED);
	(void)reply(c);
}

static void handle(struct client *c, const struct dpmsg *m)
{
	int rc;

	if (m->type == DPMSG_HELLO) {
		if (m->u.hello.version != DPMSG_VERSION) {
			reply_err(c, m->seq, DPMSG_ERR_VERSION, "dpmsg version 1 only");
			return;
		}
		c->role = m->u.hello.role;
		memset(&rep, 0, sizeof(rep));
		rep.type = DPMSG_HELLO;
		rep.seq = m->seq;
		rep.u.hello.version = DPMSG_VERSION;
		rep.u.hello.role = DPMSG_ROLE_DATAPLANE;
		rep.u.hello.ctx_capacity = dp.t->cap;
		rep.u.hello.host_capacity = dp.t->host_cap;
		rep.u.hello.n_lcores = (uint16_t)dp.n_lcores;
		rep.u.hello.n_isp = (uint16_t)dp.site->n_isp;
		rep.u.hello.boot_id = dp.boot_id;
		if (reply(c) == 0 && c->role == DPMSG_ROLE_CONTROL)
			send_isp_state(c);
		return;
	}
	if (!c->role) {
		reply_err(c, m->seq, DPMSG_ERR_NOHELLO, "send HELLO first");
		return;
	}
	switch (m->type) {
	case DPMSG_CTX_ADD:
		rc = dp_ctx_add(dp.t, &m->u.ctx, dp.site->n_isp);
		reply_rc(c, m->seq, rc, dpmsg_errname(rc));
		break;
	case DPMSG_CTX_MOD:
		rc = dp_ctx_mod(dp.t, &m->u.mod, dp.site->n_isp);
		reply_rc(c, m->seq, rc, dpmsg_errname(rc));
		break;
	case DPMSG_CTX_DEL:
		rc = dp_ctx_del(dp.t, m->u.ctx.own_tag);
		reply_rc(c, m->seq, rc, dpmsg_errname(rc));
		break;
	case DPMSG_HOST_ADD:
		rc = dp_host_add(dp.t, &m->u.host);
		reply_rc(c, m->seq, rc, dpmsg_errname(rc));
		break;
	case DPMSG_HOST_DEL:
		rc = dp_host_del(dp.t, m->u.host.cmula);
		reply_rc(c, m->seq, rc, dpmsg_errname(rc));
		break;
	case DPMSG_INJECT:
		do_inject(c, m);
		break;
	case DPMSG_DUMP_REQ:
		do_dump(c, m->seq, m->u.dump_req.what);
		break;
	case DPMSG_REAP_REQ:
		memset(&rep, 0, sizeof(rep));
		rep.type = DPMSG_REAP;
		rep.seq = m->seq;
		rep.u.reap.n = m->u.reap_req.n;
		for (unsigned i = 0; i < m->u.reap_req.n; i++) {
			struct dpmsg_reap_entry *e = &rep.u.reap.e[i];
			e->own_tag = m->u.reap_req.own_tag[i];
			e->found = dp_ctx_stamps(dp.t, e->own_tag, &e->last_sent_ns, &e->last_recv_ns) == 0;
		}
		(void)reply(c);
		break;
	case DPMSG_REAP_SCAN_REQ:
		do_scan(c, m);
		break;
	case DPMSG_COUNTERS_REQ: {
		uint64_t sum[DPMSG_CNT__MAX];
		dp_counters_sum(&dp, sum);
		memset(&rep, 0, sizeof(rep));
		rep.type = DPMSG_COUNTERS;
		rep.seq = m->seq;
		for (uint16_t i = 1; i < DPMSG_CNT__MAX; i++)
			rep.u.counters.c[rep.u.counters.n++] = (struct dpmsg_counter){ i, sum[i] };
		(void)reply(c);
		break;
	}
	default:
		reply_err(c, m->seq, DPMSG_ERR_INVAL, "not a request");
		break;
	}
}

static void drop_client(struct client *c)
{
	close(c->fd);
	c->fd = -1;
	c->role = 0;
}

/* A client waiting for room: go on where it stopped, or drop it once it has
 * taken nothing for CLIENT_STALL_MS.  Tried every round, not only on
 * POLLOUT: a Unix socket polls writable only when its queue is down to a
 * quarter, but takes a datagram as soon as the reader has taken one, and a
 * reader that takes one now and then is slow, not stalled. */
static void resume(struct client *c, uint64_t now_ns)
{
	if (!flush_held(c))
		return;
	if (!c->held_len)
		dump_more(c);
	/* stuck_ns may be newer than now_ns: the answer kept just above */
	if (c->fd >= 0 && c->held_len && now_ns >= c->stuck_ns + CLIENT_STALL_MS * 1000000ull)
		stalled(c, CLIENT_STALL_MS);
}

static void forward_punts(void)
{
	struct rte_mbuf *pk[PUNTS_PER_ROUND];
	unsigned n = rte_ring_sc_dequeue_burst(dp.punt, (void **)pk, PUNTS_PER_ROUND, NULL);

	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pk[i];
		uint32_t len = rte_pktmbuf_data_len(m) > DP_ETH_LEN ? rte_pktmbuf_data_len(m) - DP_ETH_LEN : 0;
		bool sent = false;
		memset(&rep, 0, offsetof(struct dpmsg, u) + sizeof(rep.u.punt));
		rep.type = DPMSG_PUNT;
		rep.u.punt.reason = (uint16_t)m->hash.usr;
		rep.u.punt.port = m->port;
		rep.u.punt.orig_len = len;
		rep.u.punt.len = len > DPMSG_PKT_MAX ? DPMSG_PKT_MAX : len;
		rep.u.punt.data = rte_pktmbuf_mtod_offset(m, uint8_t *, DP_ETH_LEN);
		for (int k = 0; k < MAX_CLIENTS; k++) {
			uint8_t buf[DPMSG_MAX_LEN];
			int bl;
			if (cl[k].fd < 0 || cl[k].role != DPMSG_ROLE_CONTROL)
				continue;
			bl = dpmsg_encode(&rep, buf, sizeof(buf));
			/* never block on a slow control: drop and count instead */
			if (bl > 0 && send(cl[k].fd, buf, (size_t)bl, MSG_DONTWAIT | MSG_NOSIGNAL) == bl)
				sent = true;
		}
		if (!sent)
			CCNT(PUNT_DROP)++;
		rte_pktmbuf_free(m);
	}
}

static void send_ns(struct dp_port *pt, unsigned p, bool unicast)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp.pool);
	if (!m)
		return;
	if (dp_nd_build_ns(m, pt, unicast) < 0) {
		rte_pktmbuf_free(m);
		return;
	}
	m->port = (uint16_t)p;
	m->hash.usr = DP_INJECT_RAW;
	if (rte_ring_mp_enqueue(dp.inject, m) != 0) {
		rte_pktmbuf_free(m);
		return;
	}
	CCNT(ICMP_GEN)++;
	if (unicast)
		CCNT(ND_PROBES)++;
}

/* TSC cycles per millisecond: the timers of nud.h and probe.h run on the TSC in ms. */
static uint64_t tsc_per_ms(void)
{
	return dp.tsc_hz / 1000 ? dp.tsc_hz / 1000 : 1;
}

/* Resolve next hops and keep learned MACs confirmed (nud.h). */
static void tend_next_hops(void)
{
	uint64_t ms_div = tsc_per_ms(), now_ms = rte_rdtsc() / ms_div;

	for (unsigned p = 0; p < dp.n_ports; p++) {
		struct dp_port *pt = &dp.port[p];
		uint64_t unr;
		enum dp_nud_do act;
		if (pt->nh_static || dp_addr_is_unspec(pt->nh_addr))
			continue;
		unr = pt->nud.unreachable;
		act = dp_nud_step(&pt->nud, dp_nh_ok(dp_nh_load(pt)),
				  __atomic_load_n(&pt->nh_confirm_tsc, __ATOMIC_RELAXED) / ms_div,
				  dp.nd_reachable_ms, now_ms);
		if (pt->nud.unreachable != unr) {
			CCNT(ND_UNREACHABLE)++;
			fprintf(stderr, "pshim6-dataplane: port %s: next hop unanswered after %u probes; "
				"soliciting it again\n", pt->name, DP_NUD_UCAST_PROBES);
		}
		if (act != DP_NUD_NOTHING)
			send_ns(pt, p, act == DP_NUD_SEND_UCAST);
	}
}

/* One echo request of a probe round to `target`: false when it could not
 * leave this box. */
static bool send_probe_to(unsigned p, uint64_t nh, const struct dp_port *pt, const struct dp_isp *isp,
			  const uint8_t *target, uint16_t seq)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp.pool);
	uint8_t *f;

	if (!m)
		return false;
	f = (uint8_t *)rte_pktmbuf_append(m, DP_PROBE_FRAME_LEN);
	if (!f) {
		rte_pktmbuf_free(m);
		return false;
	}
	dp_probe_build(f, nh, pt->mac.addr_bytes, isp->addr, target, dp.probe_id, seq);
	m->port = (uint16_t)p;
	m->hash.usr = DP_INJECT_RAW;
	if (rte_ring_mp_enqueue(dp.inject, m) != 0) {
		rte_pktmbuf_free(m);
		return false;
	}
	CCNT(ISP_PROBES)++;
	return true;
}

/* A probe round, a request to each target with one sequence number: false
 * when none of them could leave this box (dp_probe_unsent). */
static bool send_probe(struct dp_port *pt, unsigned p, const struct dp_isp *isp, uint16_t seq)
{
	uint64_t nh = dp_nh_load(pt);
	bool sent = false;

	if (!dp_nh_ok(nh))
		return true;   /* no next hop: lost, as it would be on the wire */
	for (unsigned k = 0; k < isp->probe.n; k++)
		sent |= send_probe_to(p, nh, pt, isp, isp->probe.a[k], seq);
	if (sent)
		pt->probe_sent_tsc = rte_rdtsc();
	return sent;
}

/* An ISP's probe targets for a log line, comma-separated. */
static const char *targets_str(const struct dp_probe_targets *t, char *b, size_t n)
{
	size_t at = 0;

	b[0] = 0;
	for (unsigned k = 0; k < t->n && at + INET6_ADDRSTRLEN + 2 <= n; k++) {
		if (k) {
			b[at++] = ',';
			b[at++] = ' ';
		}
		inet_ntop(AF_INET6, t->a[k], b + at, INET6_ADDRSTRLEN);
		at += strlen(b + at);
	}
	return b;
}

/*
 * Whether each probed ISP works (probe.h), published to the lcores as
 * dp.isp_down, with the drained ISPs (isps.drain) among the failed ones
 * whatever their probes say: everything that follows a failure (NATv6's
 * pick, control's TE, REAP, isp_notify) then follows a drain.  An ISP
 * without a probe, or whose targets a reload changed, starts again UP:
 * nothing says it has failed.
 */
static void tend_probes(void)
{
	const struct dp_site *s = dp.site;   /* the channel thread is the only writer */
	const struct dp_probe_cfg cfg = { s->probe_interval_ms, s->probe_down_after, s->probe_up_after };
	uint64_t ms_div = tsc_per_ms(), now_ms = rte_rdtsc() / ms_div;
	uint32_t down = 0;

	for (unsigned i = 0; i < s->n_isp && DP_PORT_ISP(i) < dp.n_ports; i++) {
		const struct dp_isp *isp = &s->isp[i];
		struct dp_port *pt = &dp.port[DP_PORT_ISP(i)];
		uint8_t was = pt->probe.state;
		uint64_t answered = pt->probe.answered;
		uint32_t seen;
		uint16_t seq;
		bool due;

		if (isp->drain)
			down |= 1u << i;   /* the probes go on: what they say holds when the drain ends */
		if (!isp->probe.n || memcmp(&pt->probe_target, &isp->probe, sizeof(isp->probe))) {
			/* the numbers go on: an answer to an old target must not pass for one to the new */
			pt->probe = (struct dp_probe){ .state = DP_PROBE_UP, .seq = pt->probe.seq, .due_ms = now_ms };
			pt->probe_target = isp->probe;
			if (was != DP_PROBE_UP)
				fprintf(stderr, "pshim6-dataplane: ISP %u (port %s): probe targets changed; taken to work "
					"until their probes say otherwise\n", i, pt->name);
			continue;
		}
		seen = __atomic_load_n(&pt->probe_seen, __ATOMIC_RELAXED);
		due = dp_probe_step(&pt->probe, seen, now_ms, &cfg, &seq);
		if (pt->probe.answered != answered)   /* before send_probe stamps the next one */
			pt->probe_rtt_us = (__atomic_load_n(&pt->probe_seen_tsc, __ATOMIC_RELAXED) - pt->probe_sent_tsc) *
					   1000 / ms_div;
		if (due && !send_probe(pt, DP_PORT_ISP(i), isp, seq))
			dp_probe_unsent(&pt->probe);
		if (pt->probe.state != was) {
			char t[DP_PROBE_TARGETS * (INET6_ADDRSTRLEN + 2)];
			targets_str(&isp->probe, t, sizeof(t));
			if (pt->probe.state == DP_PROBE_DOWN) {
				CCNT(ISP_DOWN)++;
				fprintf(stderr, "pshim6-dataplane: ISP %u (port %s) failed: %u probe%s to %s unanswered; "
					"NATv6 moves its pairs to the ISPs that work\n", i, pt->name, cfg.down_after,
					cfg.down_after == 1 ? "" : "s", t);
			} else {
				fprintf(stderr, "pshim6-dataplane: ISP %u (port %s) works again: %u probe%s to %s answered; "
					"NATv6 pairs return to it\n", i, pt->name, cfg.up_after, cfg.up_after == 1 ? "" : "s", t);
			}
		}
		if (pt->probe.state == DP_PROBE_DOWN)
			down |= 1u << i;
	}
	if (down == __atomic_load_n(&dp.isp_down, __ATOMIC_RELAXED))
		return;
	__atomic_store_n(&dp.isp_down, down, __ATOMIC_RELAXED);
	for (int k = 0; k < MAX_CLIENTS; k++)
		if (cl[k].fd >= 0 && cl[k].role == DPMSG_ROLE_CONTROL && !busy(&cl[k]))
			send_isp_state(&cl[k]);
}

static void *chan_main(void *arg)
{
	struct pollfd pfd[MAX_CLIENTS + 1];
	uint64_t next_ns = 0, accept_from_ns = 0;

	(void)arg;
	while (!dp.quit) {
		int n = 0, ready, rc;
		uint64_t now_ns = dp_mono_ns();

		pfd[n++] = (struct pollfd){ .fd = now_ns >= accept_from_ns ? lfd : -1, .events = POLLIN };
		for (int k = 0; k < MAX_CLIENTS; k++)
			pfd[n++] = (struct pollfd){ .fd = cl[k].fd, .events = busy(&cl[k]) ? POLLOUT : POLLIN };
		ready = poll(pfd, (nfds_t)n, 2);
		if (ready == 0)
			dp_tables_reclaim(dp.t, false);  /* idle: hand back what readers are done with */
		if (ready > 0 && (pfd[0].revents & POLLIN)) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			if (fd < 0 && errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
				CCNT(CHAN_ACCEPT_FAILED)++;
				accept_from_ns = now_ns + ACCEPT_PAUSE_MS * 1000000u;
			}
			if (fd >= 0) {
				int k;
				for (k = 0; k < MAX_CLIENTS && cl[k].fd >= 0; k++)
					;
				if (k == MAX_CLIENTS)
					close(fd); /* bounded: extra clients are refused */
				else
					cl[k] = (struct client){ .fd = fd };
			}
		}
		now_ns = dp_mono_ns();
		for (int k = 0; k < MAX_CLIENTS; k++)
			if (cl[k].fd >= 0 && busy(&cl[k]))
				resume(&cl[k], now_ns);
		/* every ready client gets its burst in this round: a client with a
		 * long queue (control writing a table) must not hold up the rest */
		for (int k = 0; ready > 0 && k < MAX_CLIENTS; k++) {
			if (cl[k].fd < 0 || !(pfd[k + 1].events & POLLIN) ||
			    !(pfd[k + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			/* a few messages per round keep punts flowing under a write storm */
			for (int burst = 0; burst < 64 && cl[k].fd >= 0 && !busy(&cl[k]); burst++) {
				ssize_t got = recv(cl[k].fd, rbuf, sizeof(rbuf), MSG_DONTWAIT | MSG_TRUNC);
				if (got < 0 && (errno == EAGAIN || errno == EINTR))
					break;
				if (got <= 0) {
					drop_client(&cl[k]);
					break;
				}
				if ((size_t)got > sizeof(rbuf)) {
					reply_err(&cl[k], 0, DPMSG_ERR_INVAL, "datagram too long");
					continue;
				}
				rc = dpmsg_decode(rbuf, (size_t)got, &req);
				if (rc < 0) {
					uint32_t seq = got >= 8 ? (uint32_t)rbuf[4] << 24 | (uint32_t)rbuf[5] << 16 |
								  (uint32_t)rbuf[6] << 8 | rbuf[7] : 0;
					reply_err(&cl[k], seq, DPMSG_ERR_INVAL, dpmsg_strerror(rc));
					continue;
				}
				handle(&cl[k], &req);
			}
		}
		forward_punts();
		if (dp.reload) {
			dp.reload = 0;
			(void)dp_reload();
		}
		now_ns = dp_mono_ns();   /* after the round's work */
		tend_probes();
		if (now_ns >= next_ns) {
			tend_next_hops();
			dp_tables_clock_now(dp.t);   /* the REAP stamps follow CLOCK_MONOTONIC */
			next_ns = now_ns + 100000000u;
		}
	}
	return NULL;
}

int dp_channel_start(struct dp_state *s)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	for (int k = 0; k < MAX_CLIENTS; k++)
		cl[k].fd = -1;
	if (strlen(s->channel_path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "pshim6-dataplane: channel path too long: %s\n", s->channel_path);
		return -1;
	}
	strcpy(sun.sun_path, s->channel_path);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return -1;
	unlink(s->channel_path);
	if (bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || chmod(s->channel_path, 0600) < 0 ||
	    listen(lfd, MAX_CLIENTS) < 0) {
		fprintf(stderr, "pshim6-dataplane: channel %s: %s\n", s->channel_path, strerror(errno));
		close(lfd);
		return -1;
	}
	if (rte_ctrl_thread_create(&thread, "pshim6-chan", NULL, chan_main, NULL) != 0) {
		close(lfd);
		return -1;
	}
	running = true;
	return 0;
}

void dp_channel_stop(void)
{
	if (!running)
		return;
	pthread_join(thread, NULL);
	for (int k = 0; k < MAX_CLIENTS; k++)
		if (cl[k].fd >= 0)
			drop_client(&cl[k]);
	close(lfd);
	unlink(dp.channel_path);
	running = false;
}
