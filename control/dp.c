/*
 * The dataplane channel (SOCK_SEQPACKET, dpmsg).  Control connects, says
 * HELLO, and asks for a dump.  The first dump after a control restart hands
 * back the contexts the dataplane kept forwarding, taken as they are with no
 * renegotiation.  Every dump after that is compared with control's table
 * and the dataplane is brought back to it (dp_resync.h): writes are lost
 * while the channel is down or when it is reset, and a restarted dataplane
 * (a changed boot_id) starts empty.  Reconnects back off from 100 ms to
 * 5 s.  Counters are read once a second, or every half Keepalive interval
 * when that is shorter, and the REAP stamps by walks of the dataplane's
 * table (below).
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "daemon.h"
#include "log.h"
#include "peer.h"
#include "proxy.h"

#define BACKOFF_MIN 100000000ULL
#define BACKOFF_MAX 5000000000ULL
#define POLL_EVERY  1000000000ULL

/* The output queue's bound: a full table written twice over (a takeover,
 * then a relocation of all of it) and room for held packets besides. */
#define OUTQ_BASE      (16u << 20)
#define OUTQ_PER_CTX   (2u * 160u)
#define READ_BURST     64        /* messages read per wakeup: answers to a burst come in bursts */

/* REAP stamps: the dataplane walks its own table and answers with the
 * contexts stamped since a time (REAP_SCAN, dpmsg.h), so an idle context
 * costs nothing on the wire.  Asking for each context by tag cost N/128
 * requests a reading: at the bound below a table of 1,000,000 took 8 s,
 * and keepalives went late past about 390,000 contexts with RFC timers;
 * a walk of it is 16 requests when little of it is busy.  REAP wants the
 * stamps well within its Keepalive interval (send timeout / 3, 3.3 s by
 * default), so a walk starts each round (a second, or half the Keepalive
 * interval when the config makes that shorter) once the last one is done.
 * One request is in flight at a time: the dataplane's answer says where
 * the next one starts.  REAP_MSGS_MAX requests a second (a busy table
 * answers 128 contexts a request) bound the cost to both sides, shared
 * among a second's rounds; a walk the bound cuts goes on in the next round
 * from where it stopped. */
#define REAP_MSGS_MAX  1024u
#define REAP_PERIOD_MIN 50000000ULL   /* 50 ms */

static uint64_t last_poll_ns;

static uint64_t poll_period_ns(const struct daemon *d)
{
	uint64_t half_ka = (uint64_t)d->conf->reap.keepalive_interval_ms * 1000000 / 2;
	if (!half_ka || half_ka >= POLL_EVERY)
		return POLL_EVERY;
	return half_ka < REAP_PERIOD_MIN ? REAP_PERIOD_MIN : half_ka;
}

/* Walk requests a round: the second's budget shared among its rounds. */
static uint32_t reap_per_round(const struct daemon *d)
{
	uint64_t msgs = (uint64_t)REAP_MSGS_MAX * poll_period_ns(d) / POLL_EVERY;
	return msgs ? (uint32_t)msgs : 1;
}

/* 1: the socket took it; 0: it has no room now; -1: the channel failed. */
static int try_send(int fd, const uint8_t *buf, size_t len)
{
	ssize_t s;
	do
		s = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (s < 0 && errno == EINTR);
	if (s == (ssize_t)len)
		return 1;
	if (s < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS))
		return 0;
	return -1;
}

/* Never blocks (dp_outq.h says why): what the socket refuses waits in order. */
static int dp_send(struct daemon *d, struct dpmsg *m)
{
	uint8_t buf[DPMSG_MAX_LEN];
	m->seq = ++d->dp.seq;
	int n = dpmsg_encode(m, buf, sizeof buf);
	if (n < 0) {
		d->st.dp_errors++;
		log_warn("dataplane message %s not sent: %s", dpmsg_type_name(m->type), dpmsg_strerror(n));
		return -1;
	}
	int rc = d->dp.outq.n ? 0 : try_send(d->dp.fd, buf, (size_t)n);
	if (rc < 0) {
		d->st.dp_errors++;
		dp_close(d, strerror(errno));
		return -1;
	}
	if (rc == 0 && dp_outq_push(&d->dp.outq, buf, (uint16_t)n)) {
		d->st.dp_outq_full++;
		log_err("dataplane channel: %zu octets wait to be sent (the bound): the dataplane is not reading; "
			"resetting the channel", dp_outq_bytes(&d->dp.outq));
		dp_close(d, "output queue full");
		return -1;
	}
	d->st.dp_msgs_tx++;
	return 0;
}

void dp_flush(struct daemon *d)
{
	uint16_t len;
	const uint8_t *b;
	while (d->dp.fd >= 0 && (b = dp_outq_peek(&d->dp.outq, &len)) != NULL) {
		int rc = try_send(d->dp.fd, b, len);
		if (rc == 0)
			return;
		if (rc < 0) {
			d->st.dp_errors++;
			dp_close(d, strerror(errno));
			return;
		}
		dp_outq_pop(&d->dp.outq);
	}
}

int dp_write(struct daemon *d, struct dpmsg *m)
{
	if (d->dp.fd < 0 || !d->dp.hello_done) {
		d->st.dp_write_down++;   /* the resync at the next HELLO makes up for it */
		return -1;
	}
	/* sent after DUMP_REQ, so applied after the dump: it need not be added again */
	if (d->dp.dumping && (m->type == DPMSG_CTX_ADD || m->type == DPMSG_CTX_MOD))
		dp_resync_mark(&d->dp.rs, &d->ctxs, m->type == DPMSG_CTX_ADD ? m->u.ctx.own_tag : m->u.mod.ctx.own_tag);
	return dp_send(d, m);
}

/* A new connection, or a restarted dataplane, has a table no walk has
 * seen, and an answer to a request of before can never come. */
static void walk_reset(struct daemon *d)
{
	memset(&d->dp.walk, 0, sizeof d->dp.walk);
}

void dp_close(struct daemon *d, const char *why)
{
	if (d->dp.fd < 0)
		return;
	close(d->dp.fd);
	d->dp.fd = -1;
	if (d->dp.outq.n)
		log_warn("dataplane channel: %u queued messages dropped with it", d->dp.outq.n);
	dp_outq_free(&d->dp.outq);
	d->dp.hello_done = false;
	/* isp_down stays: the next HELLO brings the verdicts again, and what
	 * changed meanwhile is a change against it (the engine's locators a
	 * failed ISP took down must come back up) */
	d->dp.dumping = false;
	d->dp.rs.active = false;
	walk_reset(d);
	log_warn("dataplane channel closed: %s", why);
}

uint64_t dp_deadline(const struct daemon *d)
{
	if (d->dp.fd < 0)
		return d->dp.next_try_ns;
	return last_poll_ns + poll_period_ns(d);
}

static void walk_send(struct daemon *d)
{
	struct dp_walk *w = &d->dp.walk;
	struct dpmsg m = { .type = DPMSG_REAP_SCAN_REQ };
	m.u.scan_req.cursor = w->cursor;
	m.u.scan_req.max_slots = DPMSG_SCAN_SLOTS_MAX;
	m.u.scan_req.since_ns = w->since_ns;
	if (dp_send(d, &m)) {
		w->on = false;   /* the channel closed, or a request it could not encode: nothing would answer */
		return;
	}
	w->waiting = true;
	w->seq = m.seq;
	w->budget--;
	d->st.dp_reap_reqs++;
}

static void poll_dataplane(struct daemon *d, uint64_t now)
{
	struct dpmsg m = { .type = DPMSG_COUNTERS_REQ };
	if (dp_send(d, &m))
		return;
	struct dp_walk *w = &d->dp.walk;
	w->budget = reap_per_round(d);
	if (w->waiting)
		return;   /* its answer goes on with this round's budget */
	if (!w->on) {
		if (!d->ctxs.n)
			return;
		/* A context installed or removed while a walk passes can move
		 * in the dataplane's table and be missed by that walk; the one
		 * before saw its stamps, so asking from that one's start catches
		 * whatever came after.  Until two walks are done (since the
		 * HELLO) there is no such walk: everything stamped. */
		w->on = true;
		w->cursor = 0;
		w->since_ns = w->done < 2 ? 0 : w->done_start_ns[1];
		w->start_ns = now;
	}
	walk_send(d);
}

uint64_t dp_reap_sweep_ms(const struct daemon *d)
{
	return d->st.dp_reap_walk_ms;
}

void dp_tick(struct daemon *d, uint64_t now)
{
	if (d->dp.fd < 0) {
		if (now < d->dp.next_try_ns)
			return;
		d->dp.fd = dpmsg_connect(d->conf->dataplane.channel);
		if (d->dp.fd < 0) {
			d->dp.backoff_ns = d->dp.backoff_ns ? d->dp.backoff_ns * 2 : BACKOFF_MIN;
			if (d->dp.backoff_ns > BACKOFF_MAX)
				d->dp.backoff_ns = BACKOFF_MAX;
			d->dp.next_try_ns = now + d->dp.backoff_ns;
			if (d->dp.backoff_ns == BACKOFF_MAX)
				log_debug("dataplane %s: %s", d->conf->dataplane.channel, strerror(errno));
			return;
		}
		d->dp.backoff_ns = 0;
		d->st.dp_connects++;
		d->dp.outq.max = OUTQ_BASE + (size_t)d->conf->dataplane.max_contexts * OUTQ_PER_CTX;
		struct dpmsg m = { .type = DPMSG_HELLO };
		m.u.hello.version = DPMSG_VERSION;
		m.u.hello.role = DPMSG_ROLE_CONTROL;
		dp_send(d, &m);
		last_poll_ns = now;
		return;
	}
	if (d->dp.hello_done && now >= last_poll_ns + poll_period_ns(d)) {
		last_poll_ns = now;
		poll_dataplane(d, now);
	}
}

static void dump_start(struct daemon *d, bool adopt)
{
	struct dpmsg q = { .type = DPMSG_DUMP_REQ };
	q.u.dump_req.what = DPMSG_DUMP_CONTEXTS | DPMSG_DUMP_HOSTS;
	d->dp.dumping = true;
	d->dp.adopt = adopt;
	d->dp.dump_count = 0;
	dp_resync_begin(&d->dp.rs);
	dp_send(d, &q);
}

int dp_resync_start(struct daemon *d)
{
	if (d->dp.fd < 0 || !d->dp.hello_done || d->dp.dumping)
		return -1;
	log_notice("dataplane resync asked for: comparing the dataplane's %u-context table with ours", d->ctxs.n);
	dump_start(d, false);
	return 0;
}

static void on_hello(struct daemon *d, const struct dpmsg *m)
{
	/* the first HELLO since control started: the dump is what to take back */
	bool first = !d->dp.hello.boot_id;
	bool restarted = !first && d->dp.hello.boot_id != m->u.hello.boot_id;
	d->dp.hello = m->u.hello;
	d->dp.hello_done = true;
	walk_reset(d);
	log_notice("dataplane connected: boot %016llx, %u contexts capacity, %u lcores, %u ISP ports",
		   (unsigned long long)m->u.hello.boot_id, m->u.hello.ctx_capacity, m->u.hello.n_lcores,
		   m->u.hello.n_isp);
	if (restarted)
		log_warn("dataplane restarted: its tables are empty; installing our %u contexts again", d->ctxs.n);
	dump_start(d, first);
}

static void on_isp_state(struct daemon *d, const struct dpmsg *m)
{
	const struct pshim6_conf *c = d->conf;
	uint32_t was = d->dp.isp_down, now = m->u.isp_state.down;
	if (m->u.isp_state.n_isp != c->n_isps) {
		d->st.dp_errors++;
		log_warn("dataplane ISP state for %u ISPs, config has %u: ignored", m->u.isp_state.n_isp, c->n_isps);
		return;
	}
	d->dp.isp_down = now;
	for (unsigned i = 0; i < c->n_isps; i++) {
		if (!((was ^ now) >> i & 1))
			continue;
		proxy_isp_state(d, i, now >> i & 1);
		isp_notify_change(&d->ispn, i, now >> i & 1, now_ns());
		if (now >> i & 1)
			log_warn("ISP %s %s: new contexts and failovers avoid it while another ISP works",
				 c->isps[i].name, c->isps[i].drain ? "drained (isps.drain)" : "failed by the dataplane's probes");
		else
			log_notice("ISP %s works again by the dataplane's probes", c->isps[i].name);
	}
}

static void on_dump_ctx(struct daemon *d, const struct dpmsg *m)
{
	struct dpmsg fix;
	d->dp.dump_count++;
	switch (dp_resync_entry(&d->dp.rs, &d->ctxs, &m->u.ctx, &fix)) {
	case DP_RESYNC_SAME:
		return;
	case DP_RESYNC_FIX:
		log_ctx(PSHIM6_LOG_INFO, m->u.ctx.own_tag, "dataplane entry differs from ours: %s",
			fix.type == DPMSG_CTX_MOD ? "modified back" : "another context under this tag, deleted");
		dp_send(d, &fix);
		return;
	case DP_RESYNC_UNKNOWN:
		break;
	}
	if (!d->dp.adopt) {
		/* gone from control while its DEL could not reach the dataplane */
		if (peer_lingering(d, m->u.ctx.own_tag))
			return;   /* a yielding backup's entry: peer.c deletes it when the linger ends */
		fix = (struct dpmsg){ .type = DPMSG_CTX_DEL };
		fix.u.ctx.own_tag = m->u.ctx.own_tag;
		log_ctx(PSHIM6_LOG_INFO, m->u.ctx.own_tag, "in the dataplane but not ours: deleted");
		dp_resync_unknown_deleted(&d->dp.rs);
		dp_send(d, &fix);
		return;
	}
	struct ctl_ctx *x = ctxtab_add(&d->ctxs, &m->u.ctx);
	if (!x) {
		log_warn("context table full (%u); dumped context %012llx not tracked", d->ctxs.cap,
			 (unsigned long long)m->u.ctx.own_tag);
		return;
	}
	x->state = 4; /* ESTABLISHED: the dataplane only holds usable contexts */
	x->origin = CTX_FROM_DUMP;
	x->created_ns = now_ns();
	x->seen = d->dp.rs.epoch;
	dp_resync_unknown_adopted(&d->dp.rs);
	log_ctx(PSHIM6_LOG_INFO, x->d.own_tag, "taken over from the dataplane dump");
	/* to the standing-by proxy too, as any other context change */
	if (proxy_import(d, &m->u.ctx) == 0)
		peer_ctx_imported(d, m->u.ctx.own_tag);
}

static void on_dump_end(struct daemon *d, const struct dpmsg *m)
{
	struct dpmsg fix;
	d->dp.dumping = false;
	while (d->dp.fd >= 0 && dp_resync_next_missing(&d->dp.rs, &d->ctxs, &fix))
		dp_send(d, &fix);
	const struct dp_resync_count *c = &d->dp.rs.now;
	log_notice("dataplane dump: %u contexts; now tracking %u (%llu as ours, %llu taken over, %llu modified back, "
		   "%llu replaced, %llu deleted, %llu installed again)",
		   m->u.dump_end.count, d->ctxs.n, (unsigned long long)c->same, (unsigned long long)c->adopted,
		   (unsigned long long)c->modified, (unsigned long long)c->replaced, (unsigned long long)c->deleted,
		   (unsigned long long)c->added);
	/* imports without a state line chose fresh local generations:
	 * keep them, or a second restart would choose others again */
	if (c->adopted)
		proxy_state_changed(d);
}

/* Each stamp only moves forward: an entry the dataplane installed anew
 * (after its restart, or put back by a resync) starts again from 0, and
 * its first traffic one way must not make control forget the other. */
static void reap_entry(struct daemon *d, const struct dpmsg_reap_entry *e)
{
	struct ctl_ctx *x = ctxtab_find(&d->ctxs, e->own_tag);
	if (!x)
		return;   /* gone from control since, or a yielding backup's */
	uint64_t ps = x->last_sent_ns, pr = x->last_recv_ns;
	if (e->last_sent_ns > ps)
		x->last_sent_ns = e->last_sent_ns;
	if (e->last_recv_ns > pr)
		x->last_recv_ns = e->last_recv_ns;
	proxy_reap(d, e->own_tag, x->last_sent_ns, x->last_recv_ns, ps, pr);
}

static void on_scan(struct daemon *d, const struct dpmsg *m)
{
	struct dp_walk *w = &d->dp.walk;
	if (!w->waiting || m->seq != w->seq) {
		/* its request was given up (refused, or a HELLO reset the
		 * walk): where it says to go on belongs to no walk */
		d->st.dp_reap_stale++;
		return;
	}
	w->waiting = false;
	d->st.dp_reap_entries += m->u.scan.n;
	for (unsigned i = 0; i < m->u.scan.n && d->dp.fd >= 0; i++)
		reap_entry(d, &m->u.scan.e[i]);
	if (d->dp.fd < 0)
		return;   /* an engine write closed the channel: the walk was reset */
	if (m->u.scan.next != DPMSG_SCAN_END) {
		w->cursor = m->u.scan.next;
		if (w->budget)
			walk_send(d);
		return;
	}
	w->on = false;
	w->done_start_ns[1] = w->done_start_ns[0];
	w->done_start_ns[0] = w->start_ns;
	w->done += w->done < 2;
	d->st.dp_reap_walks++;
	d->st.dp_reap_walk_ms = (now_ns() - w->start_ns) / 1000000;
}

/* ERROR or ACK to the request in flight: a dataplane without REAP_SCAN.
 * The walk ends, the next round tries again; REAP hears of no traffic
 * meanwhile, hence the log. */
static void walk_refused(struct daemon *d, uint32_t seq)
{
	struct dp_walk *w = &d->dp.walk;
	if (!w->waiting || seq != w->seq)
		return;
	w->waiting = w->on = false;
	uint64_t n = ++d->st.dp_reap_refused;
	if (log_nth(n))
		log_warn("dataplane refused a REAP stamp walk (%llu times): REAP hears of no traffic",
			 (unsigned long long)n);
}

static void dp_read_one(struct daemon *d);

/* Up to READ_BURST messages while the socket has them: a burst of writes
 * comes back as a burst of answers. */
void dp_read(struct daemon *d)
{
	for (int i = 0; i < READ_BURST && d->dp.fd >= 0; i++) {
		if (i) {
			struct pollfd p = { .fd = d->dp.fd, .events = POLLIN };
			if (poll(&p, 1, 0) != 1 || !(p.revents & (POLLIN | POLLHUP | POLLERR)))
				return;
		}
		dp_read_one(d);
	}
}

static void dp_read_one(struct daemon *d)
{
	static uint8_t buf[DPMSG_MAX_LEN];
	static struct dpmsg m;
	int rc = dpmsg_recv(d->dp.fd, buf, sizeof buf, &m);
	if (rc == DPMSG_E_CLOSED || rc == DPMSG_E_IO) {
		d->st.dp_errors += rc == DPMSG_E_IO;
		dp_close(d, dpmsg_strerror(rc));
		d->dp.next_try_ns = now_ns() + BACKOFF_MIN;
		return;
	}
	if (rc < 0) {
		/* a malformed message is dropped and counted, the channel stays */
		d->st.dp_errors++;
		log_warn("dataplane message dropped: %s", dpmsg_strerror(rc));
		return;
	}
	d->st.dp_msgs_rx++;
	switch (m.type) {
	case DPMSG_HELLO: on_hello(d, &m); break;
	case DPMSG_DUMP_CTX: on_dump_ctx(d, &m); break;
	case DPMSG_DUMP_HOST: break; /* HBA hosts come from config and leases */
	case DPMSG_DUMP_END: on_dump_end(d, &m); break;
	case DPMSG_COUNTERS:
		d->dp.ncounters = m.u.counters.n;
		memcpy(d->dp.counters, m.u.counters.c, sizeof(m.u.counters.c[0]) * m.u.counters.n);
		d->dp.counters_ns = now_ns();
		break;
	case DPMSG_REAP_SCAN: on_scan(d, &m); break;
	case DPMSG_ISP_STATE: on_isp_state(d, &m); break;
	case DPMSG_PUNT:
		d->st.dp_punts++;
		log_debug("punt reason %u port %u len %u", m.u.punt.reason, m.u.punt.port, m.u.punt.len);
		proxy_punt(d, &m.u.punt);
		break;
	case DPMSG_ERROR:
		d->st.dp_errors++;
		log_warn("dataplane refused request %u: %s (%s)", m.seq, dpmsg_errname(m.u.error.code),
			 m.u.error.text);
		walk_refused(d, m.seq);
		break;
	case DPMSG_ACK: walk_refused(d, m.seq); break;
	default:
		d->st.dp_errors++;
		log_warn("unexpected dataplane message %s", dpmsg_type_name(m.type));
	}
}
