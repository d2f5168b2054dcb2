#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "shim6/cga.h"
#include "shim6/engine.h"
#include "shim6/hba.h"
#include "daemon.h"
#include "holdq.h"
#include "log.h"
#include "state_pace.h"
#include "peer.h"
#include "proxy.h"
#include "resolve.h"
#include "state.h"
#include "unreach.h"

#define IPPROTO_SHIM6 140

/* A held packet older than this goes (held_dropped_expired).  The host has
 * retransmitted it by then (TCP's SYN at 1, 3 and 7 s), so a late copy
 * would be a duplicate; and a context whose end never reaches the queue (an
 * event lost on a full engine queue, an install the control table had no
 * room for) must not keep its slots for good. */
#define HOLD_MAX_NS (10 * 1000000000ULL)

struct proxy {
	struct shim6_engine *eng;
	EVP_PKEY *key;
	uint32_t generation;
	struct holdq hq;         /* control.hold_total at start (a reload cannot grow it) */
	struct proxy_stats st;
	struct state_pace sp;    /* control.state_file rewrites, coalesced */
	pid_t saver;             /* background save in flight, or 0 */
	uint64_t saver_t0;
	uint64_t saver_gen;      /* state_generation() when it forked */
	struct unreach_rate unreach;   /* Destination Unreachables to hosts, rate-limited */
};

static struct proxy P;

/*
 * Writing the state file costs 0.7-2 us a context on this thread.  A
 * small table is saved in place; once a save has taken STATE_FORK_NS, the
 * next ones run in a child that writes the fork's copy-on-write snapshot,
 * so REAP, the channel and the heartbeats never wait for a big table.
 */
#define STATE_FORK_NS 10000000ULL
/* a context punted this long after its install was never installed (see proxy_punt) */
#define REINSTALL_AFTER_NS 1000000000ULL

static void save_state(struct daemon *d)
{
	uint64_t t0 = now_ns();
	pid_t pid = P.sp.last_ns >= STATE_FORK_NS ? state_save_bg(d, P.eng) : -1;
	state_pace_started(&P.sp);
	if (pid > 0) {
		P.saver = pid;
		P.saver_t0 = t0;
		P.saver_gen = state_generation();
		return;
	}
	if (P.sp.last_ns >= STATE_FORK_NS)
		P.st.state_fork_failed++;
	int rc = state_save(d, P.eng);
	state_pace_done(&P.sp, t0, now_ns(), rc == 0);
}

void proxy_state_changed(struct daemon *d)
{
	if (P.eng && state_pace_changed(&P.sp, now_ns()))
		save_state(d);
}

/* The background save, if it ended (or `wait`: once it ends). */
static void saver_reap(bool wait)
{
	int rc = P.saver ? state_save_bg_done(P.saver, wait) : -1;
	if (rc < 0)
		return;
	P.saver = 0;   /* a failure was logged by the child: counted, and retried after the gap */
	state_pace_done(&P.sp, P.saver_t0, now_ns(), rc == 0);
	/* a save in place since the fork wrote newer contexts than the child,
	 * whose rename may have come last: write them again */
	if (state_generation() != P.saver_gen)
		P.sp.pending = true;
}

bool proxy_enabled(const struct daemon *d) { (void)d; return P.eng != NULL; }
struct shim6_engine *proxy_engine(void) { return P.eng; }
const struct proxy_stats *proxy_stats(const struct daemon *d) { (void)d; return &P.st; }

static void rnd_fill(void *user, void *buf, size_t len)
{
	if (RAND_bytes(buf, (int)len) != 1)
		abort();  /* the engine's contract: randomness never fails */
}

static int find_pds(struct daemon *d, const uint8_t ulid[16], const uint8_t **pds, size_t *len,
		    const struct pshim6_conf_host **host)
{
	const struct pshim6_conf *c = d->conf;
	*host = NULL;
	for (unsigned i = 0; i < c->n_hosts; i++)
		if (!memcmp(&c->hosts[i].cmula, ulid, 16)) {
			*host = &c->hosts[i];
			if (c->hosts[i].pds_len) {
				*pds = c->hosts[i].pds;
				*len = c->hosts[i].pds_len;
				return 0;
			}
		}
	const struct lease_entry *l = addrtab_find(&d->tables.leases, (const struct in6_addr *)ulid);
	if (l) {
		*pds = l->pds;
		*len = l->pds_len;
		return 0;
	}
	return -1;
}

static int cb_host_info(void *user, const struct shim6_in6 *ulid, struct shim6_host_info *out)
{
	struct daemon *d = user;
	const struct pshim6_conf *c = d->conf;
	const uint8_t *pds;
	size_t pds_len;
	const struct pshim6_conf_host *h;
	if (pshim6_conf_cmula_index(c, (const struct in6_addr *)ulid->b) < 0 ||
	    find_pds(d, ulid->b, &pds, &pds_len, &h) || pds_len > SHIM6_MAX_PDS)
		return SHIM6_ENG_ENOTLOCAL;
	memset(out, 0, sizeof(*out));
	bool hba = h && h->n_hba;
	out->method = hba ? SHIM6_VERIF_HBA : SHIM6_VERIF_CGA;
	for (unsigned i = 0; i < c->n_isps && i < SHIM6_MAX_LOCATORS; i++) {
		struct shim6_locator *l = &out->locs[out->nlocs++];
		if (hba && i < h->n_hba) {
			memcpy(l->addr.b, &h->hba[i], 16);
		} else {
			/* own-site mapping: PA prefix i + the CMULA's interface id */
			memcpy(l->addr.b, &c->isps[i].pa_prefix.addr, 8);
			memcpy(l->addr.b + 8, ulid->b + 8, 8);
		}
		l->verif = (uint8_t)out->method;
		te_ingress_pref(c, i, &l->priority, &l->weight);
	}
	out->generation = P.generation;
	out->pds_len = pds_len;
	memcpy(out->pds, pds, pds_len);
	return 0;
}

static int cb_sign(void *user, const struct shim6_in6 *ulid, const uint8_t *data, size_t len,
		   uint8_t *sig, size_t cap)
{
	return shim6_cga_sign_data(P.key, data, len, sig, cap);
}

static int cb_verify(void *user, const struct shim6_in6 *peer_ulid, enum shim6_verif method,
		     const uint8_t *pds, size_t pds_len, const struct shim6_locator *locs, size_t nlocs,
		     const uint8_t *data, size_t len, const uint8_t *sig, size_t sig_len)
{
	if (method == SHIM6_VERIF_HBA) {
		for (size_t i = 0; i < nlocs; i++)
			if (shim6_hba_verify(locs[i].addr.b, pds, pds_len))
				return -1;
		return 0;
	}
	if (shim6_cga_verify(peer_ulid->b, pds, pds_len))
		return -1;
	return shim6_cga_verify_sig_data(pds, pds_len, data, len, sig, sig_len) ? -1 : 0;
}

static int cb_select(void *user, const struct shim6_ctx_info *ci, const struct shim6_in6 *xl,
		     const struct shim6_in6 *xp, size_t *li, size_t *pi)
{
	struct daemon *d = user;
	const struct pshim6_conf *c = d->conf;
	int loc_of_isp[PSHIM6_CONF_MAX_ISPS];
	uint32_t avail = 0;
	for (unsigned i = 0; i < PSHIM6_CONF_MAX_ISPS; i++)
		loc_of_isp[i] = -1;
	for (size_t i = 0; i < ci->nlocal; i++) {
		int isp = pshim6_conf_isp_of(c, (const struct in6_addr *)ci->local_locs[i].addr.b);
		if (isp >= 0 && !(ci->local_locs[i].flags & SHIM6_LOCF_BROKEN) && loc_of_isp[isp] < 0) {
			loc_of_isp[isp] = (int)i;
			avail |= 1u << isp;
		}
	}
	/* best peer locator.  For the first I1 the peer's locators are the
	 * DNS/config ones, not yet verified or probed (peer_usable is all 0):
	 * requiring usability there meant TE never chose and its per-ISP
	 * counters stayed 0.  Only BROKEN ones are skipped then. */
	int best = -1;
	for (size_t i = 0; i < ci->npeer; i++) {
		if (xl ? !ci->peer_usable[i] : (ci->peer_locs[i].flags & SHIM6_LOCF_BROKEN) != 0)
			continue;
		if (best < 0 || ci->peer_locs[i].priority < ci->peer_locs[best].priority)
			best = (int)i;
	}
	if (best < 0 || !avail)
		return -1;
	/* ISPs the dataplane says are out (failed by its probes, or drained) are left out while another works */
	uint32_t use = te_working(avail, d->dp.isp_down);
	for (unsigned i = 0; i < PSHIM6_CONF_MAX_ISPS; i++)
		if (!(use >> i & 1))
			loc_of_isp[i] = -1;
	if (!xl) {
		int isp = te_choose(&d->te, (const struct in6_addr *)ci->local_ulid.b,
				    (const struct in6_addr *)ci->peer_ulid.b, use);
		if (isp < 0)
			return -1;
		*li = (size_t)loc_of_isp[isp];
		*pi = (size_t)best;
		return 0;
	}
	/* after a failure: the next ISP in cost/weight order, then any peer
	 * locator that makes the pair differ from the failed one */
	int order[PSHIM6_CONF_MAX_ISPS];
	unsigned n = te_fallback_order(c, order);
	for (int pass = 0; pass < 2; pass++)
		for (unsigned k = 0; k < n; k++) {
			int l = loc_of_isp[order[k]];
			if (l < 0)
				continue;
			bool same_local = !memcmp(ci->local_locs[l].addr.b, xl->b, 16);
			if (pass == 0 && same_local)
				continue;   /* first try leaving through another ISP */
			for (size_t p = 0; p < ci->npeer; p++) {
				if (!ci->peer_usable[p])
					continue;
				if (same_local && xp && !memcmp(ci->peer_locs[p].addr.b, xp->b, 16))
					continue;
				*li = (size_t)l;
				*pi = p;
				return 0;
			}
		}
	return -1;
}

static void cb_log(void *user, int level, const char *msg)
{
	/* its info and debug lines are about single contexts: held back in floods */
	if (level == 0)
		log_msg(PSHIM6_LOG_ERR, "engine: %s", msg);
	else
		log_bulk(level == 1 ? PSHIM6_LOG_INFO : PSHIM6_LOG_DEBUG, "engine: %s", msg);
}

static void engine_settings(const struct pshim6_conf *c, struct shim6_engine_settings *s)
{
	const uint64_t ms = SHIM6_NS_PER_MS;
	shim6_engine_settings_default(s);
	s->i1_timeout = c->shim6.i1_timeout_ms * ms;
	s->i1_retries_max = c->shim6.i1_retries;
	s->i2_timeout = c->shim6.i2_timeout_ms * ms;
	s->i2_retries_max = c->shim6.i2_retries;
	s->i2bis_timeout = c->shim6.i2bis_timeout_ms * ms;
	s->i2bis_retries_max = c->shim6.i2bis_retries;
	s->update_timeout = c->shim6.update_timeout_ms * ms;
	s->max_update_timeout = c->shim6.max_update_timeout_ms * ms;
	s->no_r1_holddown = c->shim6.no_r1_holddown_ms * ms;
	s->validator_min_lifetime = c->shim6.validator_lifetime_ms * ms;
	s->send_timeout = c->reap.send_timeout_ms * ms;
	s->keepalive_interval = c->reap.keepalive_interval_ms * ms;
	s->initial_probe_timeout = c->reap.initial_probe_ms * ms;
	s->initial_probes = c->reap.initial_probes;
	s->max_probe_timeout = c->reap.max_probe_backoff_ms * ms;
	s->max_contexts = c->engine.max_contexts;
	s->max_pending = c->engine.max_pending;
	s->recovery_rate = c->engine.recovery_rate;
	s->recovery_burst = c->engine.recovery_burst;
}

void proxy_reload(struct daemon *d, const struct pshim6_conf *old)
{
	const struct pshim6_conf *c = d->conf;
	struct shim6_engine_settings s;
	if (!P.eng || (!memcmp(&c->shim6, &old->shim6, sizeof c->shim6) &&
		       !memcmp(&c->reap, &old->reap, sizeof c->reap) &&
		       c->engine.recovery_rate == old->engine.recovery_rate &&
		       c->engine.recovery_burst == old->engine.recovery_burst))
		return;
	engine_settings(c, &s);
	if (shim6_engine_set_timers(P.eng, &s, now_ns())) {
		/* the loader's checks make this unreachable; said, not hidden */
		log_err("reload: the engine refused the new timers; the old ones stay");
		return;
	}
	log_notice("reload: Shim6 and REAP timers and the recovery rate apply now "
		   "(REAP send timeout %u ms; established contexts keep the one they announced)",
		   c->reap.send_timeout_ms);
}

int proxy_init(struct daemon *d)
{
	const struct pshim6_conf *c = d->conf;
	int rc = shim6_key_load_file(&P.key, c->site.key_file);
	if (rc || !shim6_key_has_private(P.key)) {
		log_warn("engine disabled: no private key in %s (contexts from the dataplane dump are still served)",
			 c->site.key_file);
		return -1;
	}
	struct shim6_engine_settings s;
	engine_settings(c, &s);
	struct shim6_engine_callbacks cb = {
		.user = d, .host_info = cb_host_info, .sign = cb_sign, .verify = cb_verify,
		.select_pair = cb_select, .log = cb_log,
	};
	struct shim6_engine_rand r = { .fill = rnd_fill };
	if (holdq_init(&P.hq, c->control.hold_total, HOLD_MAX_NS) ||
	    shim6_engine_new(&P.eng, &s, &cb, NULL, &r, now_ns())) {
		log_err("engine could not start");
		holdq_free(&P.hq);
		P.eng = NULL;
		return -1;
	}
	P.generation = 1;
	state_load(d);
	log_info("engine started: max %u contexts, %u pending, REAP send timeout %u ms",
		 s.max_contexts, s.max_pending, c->reap.send_timeout_ms);
	return 0;
}

void proxy_free(struct daemon *d)
{
	saver_reap(true);
	if (P.eng && P.sp.pending) {
		P.sp.last_ns = 0;   /* in place: the daemon is going */
		save_state(d);      /* a stop loses no change the pacing held back */
	}
	if (P.eng)
		shim6_engine_del(P.eng);
	holdq_free(&P.hq);
	EVP_PKEY_free(P.key);
	state_free();
	memset(&P, 0, sizeof P);
}

/* ---- hold queue --------------------------------------------------------- */

static void hold(struct daemon *d, uint64_t id, const uint8_t *data, uint32_t len, uint64_t now)
{
	if (holdq_add(&P.hq, id, data, len, now, d->conf->control.hold_packets))
		P.st.held_dropped_full++;  /* the host retransmits; the handshake goes on */
	else
		P.st.held++;
}

static void inject(struct daemon *d, uint16_t port, uint16_t flags, const uint8_t *data, uint32_t len)
{
	struct dpmsg m = { .type = DPMSG_INJECT };
	m.u.inject.port = port;
	m.u.inject.flags = flags;
	m.u.inject.len = len;
	m.u.inject.data = data;
	dp_write(d, &m);
}

/* back in at the inside port: the fast path now has the context */
static void send_held(void *d, const uint8_t *data, uint32_t len)
{
	inject(d, 0, DPMSG_INJECT_AS_RX, data, len);
}

/* A host's packet that cannot be delivered: an ICMPv6 Destination
 * Unreachable back to the host (unreach.h), from the inside address, when
 * there is one and the rate allows. */
static void refuse(void *arg, const uint8_t *data, uint32_t len)
{
	struct daemon *d = arg;
	uint8_t out[UNREACH_MIN_MTU];
	if (!d->conf->inside.has_address)
		return;
	size_t n = unreach_build((const uint8_t *)&d->conf->inside.address.addr, data, len, out, sizeof out);
	if (!n)
		return;
	if (!unreach_allow(&P.unreach, now_ns())) {
		P.st.unreach_limited++;
		return;
	}
	P.st.unreach_sent++;
	inject(d, 0, 0, out, (uint32_t)n);
}

/* Release (send=true) or refuse the packets held for `id`, in arrival order. */
static void release(struct daemon *d, uint64_t id, bool send)
{
	uint32_t n = holdq_release(&P.hq, id, send ? send_held : refuse, d);
	if (send)
		P.st.held_sent += n;
	else
		P.st.held_dropped_failed += n;
}

/* ---- engine output ------------------------------------------------------ */

static void ctx_from_event(const struct daemon *d, const struct shim6_event *ev, struct dpmsg_ctx *c)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->local_ulid, ev->local_ulid.b, 16);
	memcpy(c->remote_ulid, ev->peer_ulid.b, 16);
	memcpy(c->local_loc, ev->local_loc.b, 16);
	memcpy(c->remote_loc, ev->peer_loc.b, 16);
	c->peer_tag = ev->peer_tag & DPMSG_TAG_MASK;
	c->own_tag = ev->id & DPMSG_TAG_MASK;
	c->fii = ev->forkid;
	c->flags = ev->forkid == 0 ? DPMSG_CTXF_DEFAULT_FII : 0;
	if (d->conf->dataplane.pmtu != PSHIM6_PMTU_ICMP)
		c->flags |= DPMSG_CTXF_MSS_CLAMP;
	int isp = pshim6_conf_isp_of(d->conf, (const struct in6_addr *)ev->local_loc.b);
	c->isp = (uint8_t)(isp < 0 ? 0 : isp);
}

static void on_event(struct daemon *d, const struct shim6_event *ev)
{
	struct dpmsg m;
	char a[2][INET6_ADDRSTRLEN];
	struct ctl_ctx *x = ctxtab_find(&d->ctxs, ev->id);
	P.st.events++;
	switch (ev->type) {
	case SHIM6_EV_ESTABLISHED:
	case SHIM6_EV_RECOVERED:
		memset(&m, 0, sizeof m);
		m.type = x ? DPMSG_CTX_MOD : DPMSG_CTX_ADD;
		if (x) {
			m.u.mod.what = DPMSG_MOD_LOCATORS | DPMSG_MOD_PEER_TAG;
			ctx_from_event(d, ev, &m.u.mod.ctx);
		} else {
			ctx_from_event(d, ev, &m.u.ctx);
		}
		struct dpmsg_ctx cx = x ? m.u.mod.ctx : m.u.ctx;
		x = ctxtab_add(&d->ctxs, &cx);
		if (!x) {
			log_ctx(PSHIM6_LOG_WARNING, ev->id, "control context table full; not installed");
			release(d, ev->id, false);
			return;
		}
		if (!x->created_ns)
			x->created_ns = now_ns();
		x->state = SHIM6_ST_ESTABLISHED;
		x->origin = CTX_FROM_ENGINE;
		dp_write(d, &m);
		P.st.ctx_installed++;
		log_ctx(PSHIM6_LOG_NOTICE, ev->id, "%s %s -> %s via %s (peer tag %012llx)",
			ev->type == SHIM6_EV_RECOVERED ? "recovered" : "established",
			inet_ntop(AF_INET6, ev->local_loc.b, a[0], sizeof a[0]),
			inet_ntop(AF_INET6, ev->peer_loc.b, a[1], sizeof a[1]),
			d->conf->isps[cx.isp].name, (unsigned long long)cx.peer_tag);
		release(d, ev->id, true);
		peer_ctx_changed(d, ev->id);
		return;
	case SHIM6_EV_PAIR_CHANGED:
		if (!x)
			return;
		memset(&m, 0, sizeof m);
		m.type = DPMSG_CTX_MOD;
		/* the locators only: a pair change keeps the peer's tag, and the
		 * message says what changed (a dataplane entry that differs in
		 * anything else is the resync's to find, dp_resync.c) */
		m.u.mod.what = DPMSG_MOD_LOCATORS;
		ctx_from_event(d, ev, &m.u.mod.ctx);
		x->d = m.u.mod.ctx;
		x->pair_changes++;
		x->reap = SHIM6_REAP_OPERATIONAL;
		dp_write(d, &m);
		P.st.pair_changes++;
		log_ctx(PSHIM6_LOG_NOTICE, ev->id, "locator pair changed to %s -> %s via %s",
			inet_ntop(AF_INET6, ev->local_loc.b, a[0], sizeof a[0]),
			inet_ntop(AF_INET6, ev->peer_loc.b, a[1], sizeof a[1]),
			d->conf->isps[m.u.mod.ctx.isp].name);
		peer_ctx_changed(d, ev->id);
		return;
	case SHIM6_EV_FAILED:
	case SHIM6_EV_NO_SUPPORT:
		log_ctx(PSHIM6_LOG_WARNING, ev->id, "%s (%s) to %s", shim6_event_name(ev->type),
			shim6_engine_strerror(ev->reason), inet_ntop(AF_INET6, ev->peer_ulid.b, a[0], sizeof a[0]));
		release(d, ev->id, false);
		if (x)
			x->state = ev->type == SHIM6_EV_FAILED ? SHIM6_ST_E_FAILED : SHIM6_ST_NO_SUPPORT;
		return;
	case SHIM6_EV_REMOVED:
		release(d, ev->id, false);
		if (x) {
			memset(&m, 0, sizeof m);
			m.type = DPMSG_CTX_DEL;
			m.u.ctx.own_tag = ev->id & DPMSG_TAG_MASK;
			dp_write(d, &m);
			ctxtab_del(&d->ctxs, ev->id);
			P.st.ctx_removed++;
			peer_ctx_removed(d, ev->id);
		}
		log_ctx(PSHIM6_LOG_INFO, ev->id, "removed");
		return;
	case SHIM6_EV_PEER_LOCATORS:
		log_ctx(PSHIM6_LOG_DEBUG, ev->id, "peer locator set updated");
		peer_ctx_changed(d, ev->id);
		return;
	}
}

static void drain(struct daemon *d)
{
	static struct shim6_tx tx;
	static uint8_t pkt[40 + SHIM6_MAX_MSG];
	while (shim6_engine_poll_tx(P.eng, &tx)) {
		int isp = pshim6_conf_isp_of(d->conf, (const struct in6_addr *)tx.src.b);
		if (isp < 0 || tx.len > SHIM6_MAX_MSG) {
			P.st.tx_no_isp++;
			continue;
		}
		memset(pkt, 0, 40);
		pkt[0] = 0x60;
		pkt[4] = (uint8_t)(tx.len >> 8);
		pkt[5] = (uint8_t)tx.len;
		pkt[6] = IPPROTO_SHIM6;
		pkt[7] = 64;
		memcpy(pkt + 8, tx.src.b, 16);
		memcpy(pkt + 24, tx.dst.b, 16);
		memcpy(pkt + 40, tx.buf, tx.len);
		/* ISPs filter on source: leave through the ISP owning the source */
		inject(d, (uint16_t)(1 + isp), 0, pkt, (uint32_t)(40 + tx.len));
		P.st.tx++;
	}
	struct shim6_event ev;
	bool changed = false;
	while (shim6_engine_poll_event(P.eng, &ev)) {
		on_event(d, &ev);
		changed |= ev.type != SHIM6_EV_FAILED && ev.type != SHIM6_EV_NO_SUPPORT;
	}
	if (changed)
		proxy_state_changed(d);
}

/* ---- input ---------------------------------------------------------------- */

/* Find the Shim6 header behind the IPv6 header and any HBH/Routing/DstOpt
 * headers; returns its offset or -1. */
static int shim6_offset(const uint8_t *p, uint32_t len)
{
	if (len < 40 || (p[0] >> 4) != 6)
		return -1;
	uint8_t nh = p[6];
	uint32_t off = 40;
	for (int hops = 0; hops < 8; hops++) {
		if (nh == IPPROTO_SHIM6)
			return off + 8 <= len ? (int)off : -1;
		if (nh != 0 && nh != 43 && nh != 60)
			return -1;
		if (off + 8 > len)
			return -1;
		nh = p[off];
		off += 8u * (p[off + 1] + 1u);
	}
	return -1;
}

static const struct in6_addr *peer_locators(struct daemon *d, const struct in6_addr *ulid, size_t *n)
{
	const struct peer_entry *pe = tables_peer(&d->tables, ulid, now_ns());
	if (pe) {
		*n = pe->nloc;
		return pe->loc;
	}
	for (unsigned i = 0; i < d->conf->n_peers; i++)
		if (!memcmp(&d->conf->peers[i].ulid, ulid, 16)) {
			*n = d->conf->peers[i].n_locators;
			return d->conf->peers[i].locators;
		}
	return NULL;
}

/* What a dataplane entry says of a context, as the engine imports it. */
static void import_from_dp(struct shim6_ctx_import *im, const struct dpmsg_ctx *dc)
{
	memset(im, 0, sizeof *im);
	memcpy(im->local_ulid.b, dc->local_ulid, 16);
	memcpy(im->peer_ulid.b, dc->remote_ulid, 16);
	memcpy(im->local_loc.b, dc->local_loc, 16);
	memcpy(im->peer_loc.b, dc->remote_loc, 16);
	im->forkid = dc->fii;
	im->own_tag = dc->own_tag;
	im->peer_tag = dc->peer_tag;
}

/* The peer's locators as the peer table or the config know them
 * (unverified until the peer's next update): what a state line without
 * any leaves in the import. */
static void import_peer_locators(struct daemon *d, struct shim6_ctx_import *im)
{
	size_t n = 0;
	const struct in6_addr *pl = peer_locators(d, (const struct in6_addr *)im->peer_ulid.b, &n);
	for (size_t i = 0; pl && i < n && im->npeer < SHIM6_MAX_LOCATORS; i++)
		memcpy(im->peer_locs[im->npeer++].addr.b, &pl[i], 16);
}

/* A context from the dataplane's dump becomes an engine context again, so
 * the peer's keepalives and probes find it and nothing is renegotiated.
 * The dump holds the pair in use and both tags; the peer's other locators
 * come from what the peer table or the config says (unverified until the
 * peer's next update). */
int proxy_import(struct daemon *d, const struct dpmsg_ctx *dc)
{
	if (!P.eng)
		return -1;
	struct shim6_ctx_import im;
	import_from_dp(&im, dc);
	import_peer_locators(d, &im);
	const struct ctl_state_ctx *sc = state_find(d, dc->own_tag);
	if (sc)
		state_fill_import(sc, &im);
	uint64_t id = 0;
	int rc = shim6_engine_context_import(P.eng, &im, now_ns(), &id);
	if (rc < 0) {
		P.st.import_failed++;
		log_ctx(PSHIM6_LOG_WARNING, dc->own_tag, "engine import failed: %s", shim6_engine_strerror(rc));
		return rc;
	}
	P.st.imported++;
	log_ctx(PSHIM6_LOG_INFO, dc->own_tag, "imported into the engine (%zu peer locators%s)",
		im.npeer, sc ? ", from the state file" : "");
	return 0;
}

/* A line of another context would give this one its generations (the
 * peer's next update could be ignored as stale) and its peer's locators.
 * Which half of such a record is wrong cannot be told, so neither is
 * installed: the peer's next packet finds no context and recovers it
 * (R1bis / I2bis), as for a context that was never replicated. */
int proxy_adopt(struct daemon *d, const struct dpmsg_ctx *dc, const struct ctl_state_ctx *sc)
{
	if (!P.eng)
		return -1;
	if (sc->own_tag != dc->own_tag) {
		P.st.adopt_foreign_line++;
		log_ctx(PSHIM6_LOG_WARNING, dc->own_tag, "replicated context not taken over: its state line is ctx=%012llx's",
			(unsigned long long)sc->own_tag);
		return SHIM6_ENG_EINVAL;
	}
	struct shim6_ctx_import im;
	import_from_dp(&im, dc);
	import_peer_locators(d, &im);
	state_fill_import(sc, &im);
	uint64_t id = 0;
	int rc = shim6_engine_context_import(P.eng, &im, now_ns(), &id);
	if (rc == SHIM6_ENG_EEXIST)
		return 1;
	if (rc < 0) {
		P.st.import_failed++;
		log_ctx(PSHIM6_LOG_WARNING, dc->own_tag, "replicated context not imported: %s", shim6_engine_strerror(rc));
		return rc;
	}
	struct ctl_ctx *x = ctxtab_add(&d->ctxs, dc);
	if (!x) {
		log_ctx(PSHIM6_LOG_WARNING, dc->own_tag, "control context table full; replicated context not installed");
		shim6_engine_close(P.eng, id, now_ns());
		return -1;
	}
	x->state = SHIM6_ST_ESTABLISHED;
	x->reap = SHIM6_REAP_OPERATIONAL;
	x->origin = CTX_FROM_ENGINE;
	x->created_ns = now_ns();
	struct dpmsg m = { .type = DPMSG_CTX_ADD };
	m.u.ctx = *dc;
	dp_write(d, &m);
	P.st.imported++;
	P.st.ctx_installed++;
	log_ctx(PSHIM6_LOG_INFO, dc->own_tag, "taken over from the replica (%zu peer locators)", im.npeer);
	return 0;
}

static int collect_id(void *arg, const struct shim6_ctx_info *ci)
{
	uint64_t **w = arg;
	*(*w)++ = ci->id;
	return 0;
}

void proxy_release_all(struct daemon *d, bool keep_dp)
{
	uint64_t now = now_ns();
	if (keep_dp)
		ctxtab_clear(&d->ctxs);   /* REMOVED events then find nothing to delete */
	if (P.eng) {
		struct shim6_engine_stats e;
		shim6_engine_get_stats(P.eng, &e);
		uint64_t *ids = calloc(e.contexts + e.pending + 1, sizeof *ids), *w = ids;
		if (ids) {
			shim6_engine_ctx_foreach(P.eng, collect_id, &w);
			for (uint64_t *i = ids; i < w; i++)
				shim6_engine_close(P.eng, *i, now);
			free(ids);
		}
		drain(d);   /* REMOVED events: CTX_DEL each */
	}
	while (d->ctxs.n) {
		struct dpmsg m = { .type = DPMSG_CTX_DEL };
		m.u.ctx.own_tag = d->ctxs.v[d->ctxs.n - 1].d.own_tag;
		dp_write(d, &m);
		ctxtab_del(&d->ctxs, m.u.ctx.own_tag);
	}
}

/*
 * Installed a while ago, yet punted: our write never reached the dataplane
 * (its channel went down or was reset, and the resync at the reconnect has
 * not come yet).  Install it again, or the two would hand the packet back
 * and forth.  Younger than that, it raced the install, which is ahead of it
 * on the channel.
 */
static void reinstall_if_lost(struct daemon *d, struct ctl_ctx *x, uint64_t now)
{
	if (now - x->created_ns <= REINSTALL_AFTER_NS)
		return;
	struct dpmsg m = { .type = DPMSG_CTX_ADD };
	m.u.ctx = x->d;
	x->created_ns = now;   /* once per interval at most */
	if (dp_write(d, &m) == 0) {
		P.st.reinstalled++;
		log_ctx(PSHIM6_LOG_WARNING, x->d.own_tag, "punted by the dataplane though installed; installed again");
	}
}

void proxy_punt(struct daemon *d, const struct dpmsg_punt *p)
{
	if (!P.eng || !peer_punt_gate(d, p))
		return;
	uint64_t now = now_ns();
	if (p->len < 40 || p->data[0] >> 4 != 6) {
		P.st.punt_bad++;
		return;
	}
	const struct shim6_in6 *src = (const void *)(p->data + 8), *dst = (const void *)(p->data + 24);
	int off;
	switch (p->reason) {
	case DPMSG_PUNT_NO_CTX: {
		P.st.punt_no_ctx++;
		if (p->orig_len > p->len) {
			P.st.punt_bad++;  /* truncated copy: cannot be replayed */
			return;
		}
		size_t n = 0;
		const struct in6_addr *locs = peer_locators(d, (const struct in6_addr *)dst->b, &n);
		if (!locs) {
			/* ask the ALG; the host's retransmission finds the answer */
			P.st.no_locators++;
			resolve_start(d, (const struct in6_addr *)dst->b);
			return;
		}
		struct shim6_in6 pl[PSHIM6_CONF_MAX_PEER_LOCATORS];
		for (size_t i = 0; i < n; i++)
			memcpy(pl[i].b, &locs[i], 16);
		uint64_t id = 0;
		int rc = shim6_engine_open(P.eng, src, dst, pl, n, 0, now, &id);
		if (rc == 0 || rc == SHIM6_ENG_EEXIST) {
			P.st.opens += rc == 0;
			struct ctl_ctx *x = ctxtab_find(&d->ctxs, id);
			if (x && x->state == SHIM6_ST_ESTABLISHED) {
				reinstall_if_lost(d, x, now);
				inject(d, 0, DPMSG_INJECT_AS_RX, p->data, p->len);
			} else
				hold(d, id, p->data, p->len, now);
		} else if (rc == SHIM6_ENG_EHOLDDOWN) {
			P.st.holddown++;
			refuse(d, p->data, p->len);
		} else {
			P.st.open_refused++;
			log_debug("open refused: %s", shim6_engine_strerror(rc));
		}
		break;
	}
	case DPMSG_PUNT_SHIM6_CTL:
		P.st.punt_ctl++;
		off = shim6_offset(p->data, p->len);
		if (off < 0) {
			P.st.punt_bad++;
			return;
		}
		shim6_engine_recv(P.eng, p->data + off, p->len - (uint32_t)off, src, dst, now);
		break;
	case DPMSG_PUNT_UNKNOWN_TAG: {
		P.st.punt_unknown_tag++;
		off = shim6_offset(p->data, p->len);
		if (off < 0) {
			P.st.punt_bad++;
			return;
		}
		const uint8_t *h = p->data + off;
		uint64_t tag = ((uint64_t)(h[2] & 0x7f) << 40) | ((uint64_t)h[3] << 32) |
			       ((uint64_t)h[4] << 24) | ((uint64_t)h[5] << 16) | ((uint64_t)h[6] << 8) | h[7];
		if (shim6_engine_unknown_tag(P.eng, tag, src, dst, now) == SHIM6_ENG_EEXIST) {
			/* ours and established: the dataplane lacks it (the packet is lost;
			 * the next finds the context) */
			struct ctl_ctx *x = ctxtab_find(&d->ctxs, tag);
			if (x)
				reinstall_if_lost(d, x, now);
		}
		break;
	}
	default:
		P.st.punt_bad++;
		return;
	}
	drain(d);
}

void proxy_reap(struct daemon *d, uint64_t own_tag, uint64_t sent_ns, uint64_t recv_ns,
		uint64_t prev_sent_ns, uint64_t prev_recv_ns)
{
	if (!P.eng)
		return;
	if (sent_ns > prev_sent_ns)
		shim6_engine_data(P.eng, own_tag, SHIM6_DATA_SENT, sent_ns);
	if (recv_ns > prev_recv_ns)
		shim6_engine_data(P.eng, own_tag, SHIM6_DATA_RECV, recv_ns);
	struct shim6_ctx_info ci;
	struct ctl_ctx *x = ctxtab_find(&d->ctxs, own_tag);
	if (x && shim6_engine_ctx_info(P.eng, own_tag, &ci) == 0) {
		x->reap = (uint8_t)ci.reap;
		x->state = (uint8_t)ci.state;
	}
	drain(d);
}

void proxy_isp_state(struct daemon *d, unsigned isp, bool down)
{
	if (!P.eng || isp >= d->conf->n_isps)
		return;
	const struct pshim6_conf_isp *c = &d->conf->isps[isp];
	int n = shim6_engine_local_prefix_state(P.eng, (const struct shim6_in6 *)&c->pa_prefix.addr, c->pa_prefix.len,
						down, now_ns());
	if (n > 0) {
		P.st.isp_explores += (uint64_t)n;
		/* dp.c's line just before says why the ISP is out */
		log_notice("ISP %s out: %d context%s on it explore other paths now", c->name, n, n == 1 ? "" : "s");
	} else if (n < 0) {
		log_warn("ISP %s: the engine did not take its %s prefix: %s", c->name,
			 down ? "failed" : "working", shim6_engine_strerror(n));
	}
	drain(d);
}

void proxy_tick(struct daemon *d, uint64_t now)
{
	if (!P.eng)
		return;
	if (shim6_engine_deadline(P.eng) <= now)
		shim6_engine_expire(P.eng, now);
	drain(d);
	P.st.held_dropped_expired += holdq_expire(&P.hq, now);
	saver_reap(false);
	if (state_pace_due(&P.sp) <= now)
		save_state(d);
}

uint64_t proxy_deadline(const struct daemon *d)
{
	if (!P.eng)
		return UINT64_MAX;
	uint64_t e = shim6_engine_deadline(P.eng), s = state_pace_due(&P.sp), h = holdq_deadline(&P.hq);
	if (h < e)
		e = h;
	if (P.saver)
		s = now_ns() + 10000000ULL;   /* look for the child's end every 10 ms */
	return s < e ? s : e;
}

void proxy_counters(struct daemon *d, FILE *out, void (*put)(void *, const char *, const char *, uint64_t), void *arg)
{
	const struct proxy_stats *s = &P.st;
#define C(n) put(arg, "proxy", #n, s->n)
	C(punt_no_ctx); C(punt_ctl); C(punt_unknown_tag); C(punt_bad); C(no_locators); C(opens);
	C(open_refused); C(holddown); C(held); C(held_sent); C(held_dropped_full); C(held_dropped_failed);
	C(unreach_sent); C(unreach_limited);
	C(held_dropped_expired);
	C(tx); C(tx_no_isp); C(events); C(ctx_installed); C(ctx_removed); C(pair_changes);
	C(imported); C(import_failed); C(adopt_foreign_line); C(reinstalled); C(isp_explores);
#undef C
	/* control.state_file (state_pace.h) */
	put(arg, "proxy", "state_saves", P.sp.saves);
	put(arg, "proxy", "state_saves_coalesced", P.sp.coalesced);
	put(arg, "proxy", "state_save_failed", P.sp.failed);
	put(arg, "proxy", "state_fork_failed", P.st.state_fork_failed);
	put(arg, "proxy", "state_saving_in_background", P.saver != 0);
	put(arg, "proxy", "state_pending", P.sp.pending);
	put(arg, "proxy", "state_last_save_us", P.sp.last_ns / 1000);
	put(arg, "proxy", "state_max_save_us", P.sp.max_ns / 1000);
	if (!P.eng)
		return;
	struct shim6_engine_stats e;
	shim6_engine_get_stats(P.eng, &e);
#define E(n) put(arg, "engine", #n, e.n)
	E(rx_msgs); E(rx_dropped); E(tx_msgs); E(tx_dropped_full); E(ev_dropped_full);
	E(ctx_created); E(ctx_established); E(ctx_failed); E(ctx_removed); E(ctx_confusion);
	E(ctx_full); E(pending_full); E(r1_sent); E(r1bis_sent); E(r1bis_ratelimited);
	E(validator_bad); E(verify_failed); E(updates_sent); E(updates_acked); E(probes_sent);
	E(probes_rx); E(pair_changes); E(recoveries); E(errors_sent); E(contexts); E(pending);
	E(ctx_imported); E(i2bis_sent);
#undef E
	(void)out;
}
