/* Engine object, context lifetime, output queues and the public entry
 * points.  Protocol logic lives in handshake.c, update.c and reap.c. */
#include "internal.h"

#include <shim6/wire.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void shim6_engine_settings_default(struct shim6_engine_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->i1_timeout = 4 * SHIM6_NS_PER_S;
	s->i1_retries_max = 4;
	s->no_r1_holddown = 60 * SHIM6_NS_PER_S;
	s->i2_timeout = 4 * SHIM6_NS_PER_S;
	s->i2_retries_max = 2;
	s->i2bis_timeout = 4 * SHIM6_NS_PER_S;
	s->i2bis_retries_max = 2;
	s->validator_min_lifetime = 30 * SHIM6_NS_PER_S;
	s->update_timeout = 4 * SHIM6_NS_PER_S;
	s->max_update_timeout = 120 * SHIM6_NS_PER_S;
	s->send_timeout = 10 * SHIM6_NS_PER_S;
	s->keepalive_interval = 0;
	s->initial_probe_timeout = 500 * SHIM6_NS_PER_MS;
	s->initial_probes = 4;
	s->max_probe_timeout = 60 * SHIM6_NS_PER_S;
	s->max_explore_time = 0;
	s->max_contexts = 65536;
	s->max_pending = 4096;
	s->max_locators = 8;
	s->recovery_rate = 100;
	s->recovery_burst = 20;
	s->txq_len = 256;
	s->evq_len = 1024;
	s->failed_linger = 10 * SHIM6_NS_PER_S;
	s->idle_timeout = 0;
}

const char *shim6_engine_strerror(int err)
{
	switch (err) {
	case 0: return "success";
	case SHIM6_ENG_EINVAL: return "invalid argument";
	case SHIM6_ENG_ENOMEM: return "out of memory";
	case SHIM6_ENG_EMALFORMED: return "malformed message";
	case SHIM6_ENG_ENOCTX: return "no such context";
	case SHIM6_ENG_EFULL: return "context table full";
	case SHIM6_ENG_EPENDFULL: return "too many pending handshakes";
	case SHIM6_ENG_ENOTLOCAL: return "ULID not served by this site";
	case SHIM6_ENG_EEXIST: return "context exists";
	case SHIM6_ENG_EVALIDATOR: return "bad responder validator";
	case SHIM6_ENG_EVERIFY: return "locator verification failed";
	case SHIM6_ENG_ESTATE: return "not acceptable in this state";
	case SHIM6_ENG_ENONCE: return "nonce mismatch";
	case SHIM6_ENG_ERATELIMIT: return "rate limited";
	case SHIM6_ENG_ECRITICAL: return "unknown critical option";
	case SHIM6_ENG_EHOLDDOWN: return "peer held down (no Shim6 support)";
	case SHIM6_ENG_ESTALE: return "stale or replayed message";
	case SHIM6_ENG_EUNSUPP: return "unsupported verification method";
	default: return "unknown error";
	}
}

const char *shim6_reap_state_name(enum shim6_reap_state st)
{
	switch (st) {
	case SHIM6_REAP_OPERATIONAL: return "Operational";
	case SHIM6_REAP_EXPLORING: return "Exploring";
	case SHIM6_REAP_INBOUND_OK: return "InboundOk";
	}
	return "?";
}

const char *shim6_event_name(enum shim6_event_type t)
{
	switch (t) {
	case SHIM6_EV_ESTABLISHED: return "established";
	case SHIM6_EV_PAIR_CHANGED: return "pair-changed";
	case SHIM6_EV_FAILED: return "failed";
	case SHIM6_EV_NO_SUPPORT: return "no-support";
	case SHIM6_EV_REMOVED: return "removed";
	case SHIM6_EV_PEER_LOCATORS: return "peer-locators";
	case SHIM6_EV_RECOVERED: return "recovered";
	}
	return "?";
}

bool in6_eq(const struct shim6_in6 *a, const struct shim6_in6 *b)
{
	return memcmp(a->b, b->b, 16) == 0;
}

void eng_log(struct shim6_engine *e, int lvl, const char *fmt, ...)
{
	if (!e->cb.log)
		return;
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	e->cb.log(e->cb.user, lvl, buf);
}

static void *libc_calloc(void *u, size_t n, size_t s) { (void)u; return calloc(n, s); }
static void libc_free(void *u, void *p) { (void)u; free(p); }

uint32_t rnd32(struct shim6_engine *e)
{
	uint32_t v;
	e->rnd.fill(e->rnd.user, &v, sizeof(v));
	return v;
}

/* Uniform in [T/2, 3T/2): desynchronises retransmissions (RFC 5533 §7.8). */
shim6_tstamp jitter(struct shim6_engine *e, shim6_tstamp t)
{
	if (t < 2)
		return t;
	uint64_t r;
	e->rnd.fill(e->rnd.user, &r, sizeof(r));
	return t / 2 + r % t;
}

static bool timers_ok(const struct shim6_engine_settings *s)
{
	return s->send_timeout && s->i1_timeout && s->i2_timeout && s->i2bis_timeout &&
	       s->update_timeout && s->initial_probe_timeout;
}

static void timers_fill(struct shim6_engine_settings *s)
{
	if (s->keepalive_interval == 0)
		s->keepalive_interval = s->send_timeout / 3;
	if (s->max_probe_timeout < s->initial_probe_timeout)
		s->max_probe_timeout = s->initial_probe_timeout;
}

int shim6_engine_new(struct shim6_engine **out, const struct shim6_engine_settings *settings,
                     const struct shim6_engine_callbacks *cb, const struct shim6_engine_mem *mem,
                     const struct shim6_engine_rand *rnd, shim6_tstamp now)
{
	struct shim6_engine_mem m = { NULL, libc_calloc, libc_free };
	if (!out || !cb || !cb->host_info || !rnd || !rnd->fill)
		return SHIM6_ENG_EINVAL;
	if (mem)
		m = *mem;
	struct shim6_engine_settings s;
	if (settings)
		s = *settings;
	else
		shim6_engine_settings_default(&s);
	if (s.max_contexts == 0 || s.txq_len == 0 || s.evq_len == 0 || !timers_ok(&s))
		return SHIM6_ENG_EINVAL;
	if (s.max_locators == 0 || s.max_locators > SHIM6_MAX_LOCATORS)
		s.max_locators = SHIM6_MAX_LOCATORS;
	if (s.max_pending == 0 || s.max_pending > s.max_contexts)
		s.max_pending = s.max_contexts;
	timers_fill(&s);

	struct shim6_engine *e = m.calloc(m.user, 1, sizeof(*e));
	if (!e)
		return SHIM6_ENG_ENOMEM;
	e->s = s;
	e->cb = *cb;
	e->mem = m;
	e->rnd = *rnd;
	e->txq = m.calloc(m.user, s.txq_len, sizeof(struct shim6_tx));
	e->evq = m.calloc(m.user, s.evq_len, sizeof(struct shim6_event));
	if (!e->txq || !e->evq || tab_init(e) < 0) {
		shim6_engine_del(e);
		return SHIM6_ENG_ENOMEM;
	}
	e->rnd.fill(e->rnd.user, e->key_cur, 16);
	e->key_born = now;
	e->tokens = (uint64_t)s.recovery_burst * 1000;
	e->tok_t = now;
	*out = e;
	return 0;
}

int shim6_engine_set_timers(struct shim6_engine *e, const struct shim6_engine_settings *s,
                            shim6_tstamp now)
{
	if (!e || !s || !timers_ok(s))
		return SHIM6_ENG_EINVAL;
	struct shim6_engine_settings n = *s;
	/* the bounds sized the tables: they stay */
	n.max_contexts = e->s.max_contexts;
	n.max_pending = e->s.max_pending;
	n.max_locators = e->s.max_locators;
	n.txq_len = e->s.txq_len;
	n.evq_len = e->s.evq_len;
	timers_fill(&n);
	/* time so far fills the bucket at the old rate; the new depth caps it */
	hs_recovery_refill(e, now);
	e->s = n;
	if (e->tokens > (uint64_t)n.recovery_burst * 1000)
		e->tokens = (uint64_t)n.recovery_burst * 1000;
	return 0;
}

void shim6_engine_del(struct shim6_engine *e)
{
	if (!e)
		return;
	if (e->tab[HT_TAG]) {
		for (size_t b = 0; b < e->nbuckets; b++) {
			struct ctx *c = e->tab[HT_TAG][b];
			while (c) {
				struct ctx *n = c->hn[HT_TAG];
				if (c->sig)
					e->mem.free(e->mem.user, c->sig);
				e->mem.free(e->mem.user, c);
				c = n;
			}
		}
	}
	tab_fini(e);
	if (e->txq)
		e->mem.free(e->mem.user, e->txq);
	if (e->evq)
		e->mem.free(e->mem.user, e->evq);
	e->mem.free(e->mem.user, e);
}

/* ---- output queues: bounded rings; when full the oldest entry is dropped
 * (retransmission timers recover lost messages; events are counted). */
struct shim6_tx *tx_alloc(struct shim6_engine *e)
{
	if (e->txn == e->s.txq_len) {
		e->txh = (e->txh + 1) % e->s.txq_len;
		e->txn--;
		e->st.tx_dropped_full++;
	}
	return &e->txq[(e->txh + e->txn) % e->s.txq_len];
}

void tx_commit(struct shim6_engine *e, struct shim6_tx *t, const struct shim6_in6 *src,
               const struct shim6_in6 *dst, size_t len)
{
	if (len == 0)
		return;
	t->src = *src;
	t->dst = *dst;
	t->len = len;
	e->txn++;
	e->st.tx_msgs++;
}

int shim6_engine_poll_tx(struct shim6_engine *e, struct shim6_tx *out)
{
	if (!e->txn)
		return 0;
	const struct shim6_tx *t = &e->txq[e->txh];
	out->src = t->src;
	out->dst = t->dst;
	out->len = t->len;
	memcpy(out->buf, t->buf, t->len);
	e->txh = (e->txh + 1) % e->s.txq_len;
	e->txn--;
	return 1;
}

void ev_push(struct shim6_engine *e, enum shim6_event_type type, const struct ctx *c, int reason)
{
	if (e->evn == e->s.evq_len) {
		e->evh = (e->evh + 1) % e->s.evq_len;
		e->evn--;
		e->st.ev_dropped_full++;
	}
	struct shim6_event *v = &e->evq[(e->evh + e->evn) % e->s.evq_len];
	memset(v, 0, sizeof(*v));
	v->type = type;
	v->id = c->tag;
	v->peer_tag = c->peer_tag;
	v->local_ulid = c->lulid;
	v->peer_ulid = c->pulid;
	v->forkid = c->forkid;
	v->local_loc = c->cur_l;
	v->peer_loc = c->cur_p;
	v->reason = reason;
	e->evn++;
	eng_log(e, 1, "ctx %012llx event %s", (unsigned long long)c->tag, shim6_event_name(type));
}

int shim6_engine_poll_event(struct shim6_engine *e, struct shim6_event *out)
{
	if (!e->evn)
		return 0;
	*out = e->evq[e->evh];
	e->evh = (e->evh + 1) % e->s.evq_len;
	e->evn--;
	return 1;
}

/* ---- contexts ---- */
static bool is_pending(enum shim6_state st)
{
	return st == SHIM6_ST_I1_SENT || st == SHIM6_ST_I2_SENT;
}

static uint64_t new_tag(struct shim6_engine *e)
{
	for (;;) {
		uint64_t t;
		e->rnd.fill(e->rnd.user, &t, sizeof(t));
		t &= TAG_MASK;
		if (t != 0 && !tab_by_tag(e, t))
			return t;
	}
}

struct ctx *ctx_new(struct shim6_engine *e, const struct shim6_in6 *lulid,
                    const struct shim6_in6 *pulid, uint32_t forkid, uint64_t want_tag,
                    shim6_tstamp now)
{
	if (e->nctx >= e->s.max_contexts) {
		e->st.ctx_full++;
		return NULL;
	}
	struct ctx *c = e->mem.calloc(e->mem.user, 1, sizeof(*c));
	if (!c)
		return NULL;
	c->tag = (want_tag && !tab_by_tag(e, want_tag & TAG_MASK)) ? (want_tag & TAG_MASK) : new_tag(e);
	c->lulid = *lulid;
	c->pulid = *pulid;
	c->forkid = forkid;
	c->st = SHIM6_ST_IDLE;
	c->heap_idx = SIZE_MAX;
	c->deadline = NEVER;
	c->t_hs = c->t_upd = c->t_send = c->t_ka = c->t_probe = c->t_linger = c->t_idle = NEVER;
	c->ka_interval = e->s.keepalive_interval;
	c->last_data = now;
	tab_insert(e, HT_TAG, c);
	tab_insert(e, HT_ULID, c);
	e->nctx++;
	e->st.ctx_created++;
	return c;
}

void ctx_release(struct shim6_engine *e, struct ctx *c)
{
	for (int t = 0; t < 4; t++)
		tab_remove(e, t, c);
	heap_remove(e, c);
	if (c->pending_counted)
		e->npending--;
	e->nctx--;
	e->st.ctx_removed++;
	if (c->sig)
		e->mem.free(e->mem.user, c->sig);
	e->mem.free(e->mem.user, c);
}

void ctx_free(struct shim6_engine *e, struct ctx *c, int reason)
{
	ev_push(e, SHIM6_EV_REMOVED, c, reason);
	ctx_release(e, c);
}

void ctx_set_state(struct shim6_engine *e, struct ctx *c, enum shim6_state st)
{
	c->st = st;
	bool p = is_pending(st);
	if (p && !c->pending_counted) {
		e->npending++;
		c->pending_counted = true;
	} else if (!p && c->pending_counted) {
		e->npending--;
		c->pending_counted = false;
	}
	if (st != SHIM6_ST_I1_SENT && st != SHIM6_ST_I2_SENT && st != SHIM6_ST_I2BIS_SENT)
		tab_remove(e, HT_NONCE, c);
	if (st == SHIM6_ST_ESTABLISHED)
		c->t_hs = NEVER;
	ctx_reschedule(e, c);
}

void ctx_set_nonce(struct shim6_engine *e, struct ctx *c, uint32_t nonce)
{
	tab_remove(e, HT_NONCE, c);
	c->inonce = nonce;
	tab_insert(e, HT_NONCE, c);
}

/* Setting the peer tag is where context confusion (RFC 5533 §7.15) is
 * caught: another context that already uses this peer tag towards an
 * overlapping peer locator set belongs to a peer instance that is gone. */
void ctx_set_peer_tag(struct shim6_engine *e, struct ctx *c, uint64_t ptag)
{
	tab_remove(e, HT_PTAG, c);
	c->peer_tag = ptag;
	for (;;) {
		struct ctx *o = tab_first_ptag(e, ptag);
		while (o) {
			bool overlap = in6_eq(&o->pulid, &c->pulid);
			for (size_t i = 0; !overlap && i < o->np; i++)
				overlap = ploc_find(c, &o->ploc[i].addr) >= 0;
			if (overlap)
				break;
			o = tab_next_ptag(o, ptag);
		}
		if (!o)
			break;
		eng_log(e, 1, "context confusion: ctx %012llx removed", (unsigned long long)o->tag);
		e->st.ctx_confusion++;
		ctx_free(e, o, SHIM6_ENG_EEXIST);
	}
	tab_insert(e, HT_PTAG, c);
}

void ctx_reschedule(struct shim6_engine *e, struct ctx *c)
{
	shim6_tstamp d = c->t_hs;
	const shim6_tstamp t[] = { c->t_upd, c->t_send, c->t_ka, c->t_probe, c->t_linger, c->t_idle };
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i] < d)
			d = t[i];
	c->deadline = d;
	heap_update(e, c);
}

void ctx_fill_info(const struct ctx *c, struct shim6_ctx_info *ci)
{
	memset(ci, 0, sizeof(*ci));
	ci->id = c->tag;
	ci->peer_tag = c->peer_tag;
	ci->state = c->st;
	ci->reap = c->reap;
	ci->local_ulid = c->lulid;
	ci->peer_ulid = c->pulid;
	ci->forkid = c->forkid;
	ci->local_loc = c->cur_l;
	ci->peer_loc = c->cur_p;
	ci->nlocal = c->nl;
	ci->npeer = c->np;
	ci->local_locs = c->lloc;
	ci->peer_locs = c->ploc;
	ci->peer_usable = c->pprobed;
	ci->initiator = c->initiator;
}

static bool in_prefix(const struct shim6_in6 *a, const struct shim6_in6 *p, unsigned plen)
{
	unsigned full = plen / 8, rest = plen % 8;
	if (memcmp(a->b, p->b, full))
		return false;
	return !rest || ((a->b[full] ^ p->b[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

/* The kept down prefix that is prefix/plen, or -1. */
static int down_find(const struct shim6_engine *e, const struct shim6_in6 *prefix, unsigned plen)
{
	for (size_t i = 0; i < e->ndown; i++)
		if (e->down[i].plen == plen && in_prefix(&e->down[i].p, prefix, plen))
			return (int)i;
	return -1;
}

static bool in_down_prefix(const struct shim6_engine *e, const struct shim6_in6 *a)
{
	for (size_t i = 0; i < e->ndown; i++)
		if (in_prefix(a, &e->down[i].p, e->down[i].plen))
			return true;
	return false;
}

/* Load our locators for c from host_info; bumps lgen when they changed. */
int load_local(struct shim6_engine *e, struct ctx *c)
{
	struct shim6_host_info *hi = &e->hi;
	memset(hi, 0, offsetof(struct shim6_host_info, pds));
	int rc = e->cb.host_info(e->cb.user, &c->lulid, hi);
	if (rc < 0)
		return SHIM6_ENG_ENOTLOCAL;
	size_t n = hi->nlocs < e->s.max_locators ? hi->nlocs : e->s.max_locators;
	if (n == 0)
		return SHIM6_ENG_ENOTLOCAL;
	bool changed = n != c->nl || memcmp(c->lloc, hi->locs, n * sizeof(hi->locs[0])) != 0;
	if (changed) {
		/* a locator that stays keeps its "down" mark, a new one is down
		 * in a down prefix; built aside, because a locator may move to
		 * a place whose old mark is still to be read */
		bool down[SHIM6_MAX_LOCATORS], all = true;
		for (size_t i = 0; i < n; i++) {
			int old = lloc_find(c, &hi->locs[i].addr);
			down[i] = old >= 0 ? c->ldown[old] : in_down_prefix(e, &hi->locs[i].addr);
			all &= down[i];
		}
		if (all && c->nl == 0)
			memset(down, 0, sizeof(down));   /* a new context tries them all */
		memcpy(c->ldown, down, n * sizeof(down[0]));
		memcpy(c->lloc, hi->locs, n * sizeof(hi->locs[0]));
		for (size_t i = 0; i < n; i++)
			if (c->lloc[i].verif == SHIM6_VERIF_NONE)
				c->lloc[i].verif = (uint8_t)hi->method;
		c->nl = n;
		if (c->lgen == 0)
			c->lgen = rnd32(e) | 1;   /* unguessable start (LinShim6 pitfall) */
		else
			c->lgen++;
		c->sig_valid = false;
	}
	return changed ? 1 : 0;
}

/* ---- public entry points ---- */
int shim6_engine_open(struct shim6_engine *e, const struct shim6_in6 *lulid,
                      const struct shim6_in6 *pulid, const struct shim6_in6 *plocs, size_t np,
                      uint32_t forkid, shim6_tstamp now, uint64_t *id)
{
	if (!e || !lulid || !pulid || (np && !plocs))
		return SHIM6_ENG_EINVAL;
	struct ctx *c = tab_by_ulid(e, lulid, pulid, forkid);
	if (c) {
		if (id)
			*id = c->tag;
		return c->st == SHIM6_ST_NO_SUPPORT ? SHIM6_ENG_EHOLDDOWN : SHIM6_ENG_EEXIST;
	}
	if (e->npending >= e->s.max_pending) {
		e->st.pending_full++;
		return SHIM6_ENG_EPENDFULL;
	}
	if (e->nctx >= e->s.max_contexts) {
		e->st.ctx_full++;
		return SHIM6_ENG_EFULL;
	}
	c = ctx_new(e, lulid, pulid, forkid, 0, now);
	if (!c)
		return SHIM6_ENG_ENOMEM;
	c->initiator = true;
	int rc = load_local(e, c);
	if (rc < 0) {
		ctx_release(e, c);   /* no event: the caller never saw it */
		return rc;
	}
	/* Until the peer's verified list arrives, the caller's locators are
	 * only handshake destinations: unverified, unprobed. */
	size_t n = 0;
	for (size_t i = 0; i < np && n < e->s.max_locators; i++) {
		c->ploc[n].addr = plocs[i];
		n++;
	}
	if (n == 0)
		c->ploc[n++].addr = *pulid;
	c->np = n;
	struct fsm_arg a = { .now = now };
	rc = fsm_run(e, c, FEV_OPEN, &a);
	if (rc < 0) {
		ctx_release(e, c);
		return rc;
	}
	if (id)
		*id = c->tag;
	return 0;
}

int shim6_engine_close(struct shim6_engine *e, uint64_t id, shim6_tstamp now)
{
	struct ctx *c = tab_by_tag(e, id);
	if (!c)
		return SHIM6_ENG_ENOCTX;
	struct fsm_arg a = { .now = now };
	return fsm_run(e, c, FEV_CLOSE, &a);
}

void send_error(struct shim6_engine *e, const struct dmsg *d, uint8_t code, size_t ptr,
                const struct shim6_in6 *src, const struct shim6_in6 *dst)
{
	struct shim6_tx *t = tx_alloc(e);
	struct mb m;
	mb_init(&m, t->buf, sizeof(t->buf), MT_ERROR);
	t->buf[3] = (uint8_t)(code << 1);   /* Error Code is the type-specific field */
	mb_u16(&m, (uint16_t)ptr);
	/* as much of the offending message as fits */
	size_t n = d->len;
	if (n > 512)
		n = 512;
	mb_bytes(&m, d->m, n);
	tx_commit(e, t, dst, src, mb_finish(&m));
	e->st.errors_sent++;
}

static bool has_tag(uint8_t type)
{
	return type == MT_R2 || type == MT_UPDATE_REQ || type == MT_UPDATE_ACK ||
	       type == MT_KEEPALIVE || type == MT_PROBE;
}

int shim6_engine_recv(struct shim6_engine *e, const uint8_t *msg, size_t len,
                      const struct shim6_in6 *src, const struct shim6_in6 *dst, shim6_tstamp now)
{
	if (!e || !msg || !src || !dst)
		return SHIM6_ENG_EINVAL;
	e->st.rx_msgs++;
	/* Every RFC validity rule first, through the full codec; it also says
	 * which failures the RFC answers with an Error message. */
	struct shim6_msg wm;
	int wrc = shim6_wire_decode(msg, len, &wm);
	struct dmsg d;
	int rc = msg_decode(msg, len, &d);
	if (wrc < 0) {
		e->st.rx_dropped++;
		int code = shim6_wire_error_code(wrc);
		if (wrc == SHIM6_E_LOCLIST_METHOD)
			code = ERR_VERIF_METHOD;   /* tell the peer we cannot verify its list */
		bool is_error = len >= 3 && (msg[2] & 0x7f) == MT_ERROR;
		if (code >= 0 && !is_error && len >= 8 && 8 + 8 * (size_t)msg[1] <= len) {
			/* enough of a message to quote it back */
			struct dmsg q = { .m = msg, .len = 8 + 8 * (size_t)msg[1] };
			send_error(e, &q, (uint8_t)code, wm.err_offset, src, dst);
		}
		if (wrc == SHIM6_E_OPT_CRIT_UNKNOWN)
			return SHIM6_ENG_ECRITICAL;
		if (wrc == SHIM6_E_LOCLIST_METHOD)
			return SHIM6_ENG_EUNSUPP;
		return SHIM6_ENG_EMALFORMED;
	}
	if (rc < 0) {
		e->st.rx_dropped++;
		return rc;
	}
	const uint8_t *m = d.m;
	struct fsm_arg a = { .d = &d, .src = src, .dst = dst, .now = now };
	struct ctx *c = NULL;
	if (d.type == MT_R2 || d.type == MT_R1) {
		/* R1/R2 are matched by our initiator nonce, never by tag */
		uint32_t in = get_u32(m + (d.type == MT_R1 ? 8 : 12));
		c = tab_by_nonce(e, in);
		if (!c)
			rc = SHIM6_ENG_ENONCE;
		else
			rc = fsm_run(e, c, d.type == MT_R1 ? FEV_R1 : FEV_R2, &a);
	} else if (has_tag(d.type)) {
		uint64_t tag = get_tag(m + 6);
		c = tab_by_tag(e, tag);
		if (!c || c->st == SHIM6_ST_NO_SUPPORT || c->st == SHIM6_ST_E_FAILED ||
		    c->st == SHIM6_ST_I1_SENT || c->st == SHIM6_ST_I2_SENT) {
			/* A REAP or update message for a context we do not hold:
			 * the peer has state we lost (RFC 5533 §7.17). */
			rc = (d.type == MT_UPDATE_ACK) ? SHIM6_ENG_ENOCTX
			                               : hs_send_r1bis(e, tag, src, dst, now);
			if (rc == 0)
				rc = SHIM6_ENG_ENOCTX;
		} else if (d.type == MT_UPDATE_REQ) {
			rc = upd_rx_request(e, c, &d, src, dst, now);
		} else if (d.type == MT_UPDATE_ACK) {
			rc = upd_rx_ack(e, c, &d, now);
		} else if (d.type == MT_KEEPALIVE) {
			rc = reap_rx_keepalive(e, c, now);
		} else {
			rc = reap_rx_probe(e, c, &d, src, dst, now);
		}
	} else {
		switch (d.type) {
		case MT_I1: rc = hs_rx_i1(e, &d, src, dst, now); break;
		case MT_I2: rc = hs_rx_i2(e, &d, src, dst, now); break;
		case MT_I2BIS: rc = hs_rx_i2bis(e, &d, src, dst, now); break;
		case MT_R1BIS: {
			uint64_t ptag = get_tag(m + 6);
			rc = SHIM6_ENG_ENOCTX;
			for (c = tab_first_ptag(e, ptag); c; c = tab_next_ptag(c, ptag)) {
				/* only from a locator of that peer */
				if (ploc_find(c, src) < 0)
					continue;
				rc = fsm_run(e, c, FEV_R1BIS, &a);
				break;
			}
			break;
		}
		case MT_ERROR:
			eng_log(e, 1, "Error message code %u received", m[3] >> 1);
			rc = 0;
			break;
		default:
			rc = SHIM6_ENG_EMALFORMED;
		}
	}
	if (rc < 0)
		e->st.rx_dropped++;
	return rc;
}

int shim6_engine_unknown_tag(struct shim6_engine *e, uint64_t tag, const struct shim6_in6 *src,
                             const struct shim6_in6 *dst, shim6_tstamp now)
{
	if (!e || !src || !dst)
		return SHIM6_ENG_EINVAL;
	struct ctx *c = tab_by_tag(e, tag & TAG_MASK);
	if (c && c->st == SHIM6_ST_ESTABLISHED)
		return SHIM6_ENG_EEXIST;
	return hs_send_r1bis(e, tag & TAG_MASK, src, dst, now);
}

int shim6_engine_data(struct shim6_engine *e, uint64_t id, int dir, shim6_tstamp now)
{
	struct ctx *c = tab_by_tag(e, id);
	if (!c)
		return SHIM6_ENG_ENOCTX;
	if (dir != SHIM6_DATA_SENT && dir != SHIM6_DATA_RECV)
		return SHIM6_ENG_EINVAL;
	c->last_data = now;
	if (e->s.idle_timeout && c->st == SHIM6_ST_ESTABLISHED)
		c->t_idle = now + e->s.idle_timeout;
	if (c->st == SHIM6_ST_ESTABLISHED)
		reap_data(e, c, dir, now);
	ctx_reschedule(e, c);
	return 0;
}

int shim6_engine_locator_down(struct shim6_engine *e, const struct shim6_in6 *loc, shim6_tstamp now)
{
	if (!e || !loc)
		return SHIM6_ENG_EINVAL;
	/* Walk every context; this is an operator/link event, not per packet. */
	for (size_t b = 0; b < e->nbuckets; b++) {
		for (struct ctx *c = e->tab[HT_TAG][b]; c; c = c->hn[HT_TAG]) {
			int i = lloc_find(c, loc);
			if (i >= 0)
				c->ldown[i] = true;
			int j = ploc_find(c, loc);
			if (j >= 0)
				c->pdown[j] = true;
			if ((i >= 0 || j >= 0) && c->st == SHIM6_ST_ESTABLISHED &&
			    (in6_eq(&c->cur_l, loc) || in6_eq(&c->cur_p, loc)) &&
			    c->reap == SHIM6_REAP_OPERATIONAL) {
				reap_start_explore(e, c, now);
				ctx_reschedule(e, c);
			}
		}
	}
	return 0;
}

int shim6_engine_local_prefix_state(struct shim6_engine *e, const struct shim6_in6 *prefix, unsigned plen,
				    bool down, shim6_tstamp now)
{
	if (!e || !prefix || plen > 128)
		return SHIM6_ENG_EINVAL;
	int k = down_find(e, prefix, plen);
	if (down && k < 0) {
		if (e->ndown == SHIM6_ENG_MAX_DOWN_PREFIXES)
			return SHIM6_ENG_EFULL;
		e->down[e->ndown].p = *prefix;
		e->down[e->ndown++].plen = plen;
	} else if (!down && k >= 0) {
		e->down[k] = e->down[--e->ndown];
	}
	int n = 0;
	/* one walk for the whole prefix: a locator at a time would walk once per host */
	for (size_t b = 0; b < e->nbuckets; b++) {
		for (struct ctx *c = e->tab[HT_TAG][b]; c; c = c->hn[HT_TAG]) {
			for (size_t i = 0; i < c->nl; i++)
				if (in_prefix(&c->lloc[i].addr, prefix, plen))
					c->ldown[i] = down;
			if (down && c->st == SHIM6_ST_ESTABLISHED && c->reap == SHIM6_REAP_OPERATIONAL &&
			    in_prefix(&c->cur_l, prefix, plen)) {
				reap_start_explore(e, c, now);
				ctx_reschedule(e, c);
				n++;
			}
		}
	}
	return n;
}

int shim6_engine_local_changed(struct shim6_engine *e, const struct shim6_in6 *lulid, shim6_tstamp now)
{
	if (!e || !lulid)
		return SHIM6_ENG_EINVAL;
	int n = 0;
	for (size_t b = 0; b < e->nbuckets; b++) {
		for (struct ctx *c = e->tab[HT_TAG][b]; c; c = c->hn[HT_TAG]) {
			if (!in6_eq(&c->lulid, lulid))
				continue;
			if (load_local(e, c) <= 0)
				continue;
			/* Locators that went away or turned BROKEN take the
			 * current pair with them. */
			if (c->st == SHIM6_ST_ESTABLISHED) {
				upd_start(e, c, now);
				reap_pair_check(e, c, now);
				n++;
			}
			ctx_reschedule(e, c);
		}
	}
	return n;
}

shim6_tstamp shim6_engine_deadline(const struct shim6_engine *e)
{
	const struct ctx *c = heap_top(e);
	return c ? c->deadline : NEVER;
}

int shim6_engine_expire(struct shim6_engine *e, shim6_tstamp now)
{
	int n = 0;
	struct ctx *c;
	while ((c = heap_top(e)) && c->deadline <= now) {
		n++;
		heap_remove(e, c);
		if (c->t_linger <= now) {
			struct fsm_arg a = { .now = now };
			if (fsm_run(e, c, FEV_LINGER, &a) == 0)
				continue;
			c->t_linger = NEVER;
		}
		if (c->t_idle <= now) {
			struct fsm_arg a = { .now = now };
			fsm_run(e, c, FEV_CLOSE, &a);
			continue;
		}
		if (c->t_hs <= now) {
			c->t_hs = NEVER;
			if (hs_timer(e, c, now))
				continue;
		}
		if (c->t_upd <= now) {
			c->t_upd = NEVER;
			upd_timer(e, c, now);
		}
		if (c->t_send <= now || c->t_ka <= now || c->t_probe <= now) {
			if (reap_timer(e, c, now))
				continue;
		}
		ctx_reschedule(e, c);
	}
	return n;
}

int shim6_engine_ctx_info(struct shim6_engine *e, uint64_t id, struct shim6_ctx_info *out)
{
	struct ctx *c = tab_by_tag(e, id);
	if (!c)
		return SHIM6_ENG_ENOCTX;
	ctx_fill_info(c, out);
	return 0;
}

int shim6_engine_ctx_find(struct shim6_engine *e, const struct shim6_in6 *lulid,
                          const struct shim6_in6 *pulid, uint32_t forkid, uint64_t *id)
{
	struct ctx *c = tab_by_ulid(e, lulid, pulid, forkid);
	if (!c)
		return SHIM6_ENG_ENOCTX;
	*id = c->tag;
	return 0;
}

int shim6_engine_ctx_foreach(struct shim6_engine *e,
                             int (*fn)(void *arg, const struct shim6_ctx_info *ci), void *arg)
{
	struct shim6_ctx_info ci;
	for (size_t b = 0; b < e->nbuckets; b++)
		for (struct ctx *c = e->tab[HT_TAG][b]; c; c = c->hn[HT_TAG]) {
			ctx_fill_info(c, &ci);
			int r = fn(arg, &ci);
			if (r)
				return r;
		}
	return 0;
}

void shim6_engine_get_stats(const struct shim6_engine *e, struct shim6_engine_stats *out)
{
	*out = e->st;
	out->contexts = e->nctx;
	out->pending = e->npending;
}
