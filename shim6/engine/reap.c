/* REAP (RFC 5534): failure detection driven by data events, and the
 * exploration of alternative locator pairs with Probe messages.
 *
 * Send timer: armed when we send while it is idle, stopped by anything
 * received; its expiry means "we sent, nothing came back" -> Exploring.
 * Keepalive timer: armed when payload is received while it is idle,
 * stopped when we send; its expiry sends a Keepalive so the peer's send
 * timer does not fire.
 * Exploring: one pair at a time, a probe per timeout; initial_probes
 * probes at initial_probe_timeout, then doubling up to max_probe_timeout.
 * A pair is adopted only once the peer reports having received a probe we
 * sent on it (that report is the return-routability check). */
#include "internal.h"

void reap_established(struct shim6_engine *e, struct ctx *c, shim6_tstamp now)
{
	c->reap = SHIM6_REAP_OPERATIONAL;
	c->t_send = c->t_ka = c->t_probe = NEVER;
	c->nsent = c->nrcvd = 0;
	c->synced = true;
	c->sync_left = 0;
	if (e->s.idle_timeout)
		c->t_idle = now + e->s.idle_timeout;
	ctx_reschedule(e, c);
}

void reap_data(struct shim6_engine *e, struct ctx *c, int dir, shim6_tstamp now)
{
	if (dir == SHIM6_DATA_SENT) {
		c->t_ka = NEVER;
		if (c->t_send == NEVER && c->reap == SHIM6_REAP_OPERATIONAL)
			c->t_send = now + (c->send_to ? c->send_to : e->s.send_timeout);
	} else {
		if (c->reap == SHIM6_REAP_OPERATIONAL)
			c->t_send = NEVER;
		if (c->t_ka == NEVER)
			c->t_ka = now + c->ka_interval;
	}
}

int reap_rx_keepalive(struct shim6_engine *e, struct ctx *c, shim6_tstamp now)
{
	(void)now;
	if (c->st != SHIM6_ST_ESTABLISHED)
		return SHIM6_ENG_ESTATE;
	if (c->reap == SHIM6_REAP_OPERATIONAL)
		c->t_send = NEVER;
	ctx_reschedule(e, c);
	return 0;
}

static void send_keepalive(struct shim6_engine *e, struct ctx *c)
{
	struct shim6_tx *t = tx_alloc(e);
	struct mb m;
	mb_init(&m, t->buf, sizeof(t->buf), MT_KEEPALIVE);
	mb_tag(&m, c->peer_tag);
	mb_u32(&m, 0);
	tx_commit(e, t, &c->cur_l, &c->cur_p, mb_finish(&m));
}

static void put_report(struct mb *m, const struct probe_rec *r)
{
	mb_bytes(m, r->src.b, 16);
	mb_bytes(m, r->dst.b, 16);
	mb_u32(m, r->nonce);
	mb_u32(m, r->data);
}

static void send_probe(struct shim6_engine *e, struct ctx *c, const struct shim6_in6 *l,
                       const struct shim6_in6 *p)
{
	/* newest sent record first; the probe's own nonce is sent[0] */
	memmove(&c->sent[1], &c->sent[0], (PROBE_HIST - 1) * sizeof(c->sent[0]));
	c->sent[0].src = *l;
	c->sent[0].dst = *p;
	c->sent[0].nonce = rnd32(e);
	/* Data is the sender's to use: 1 marks a probe sent on our current
	 * pair, so the peer can tell an announcement from a reply that only
	 * retraces the path a probe came in on. */
	c->sent[0].data = in6_eq(l, &c->cur_l) && in6_eq(p, &c->cur_p) && c->reap == SHIM6_REAP_OPERATIONAL;
	if (c->nsent < PROBE_HIST)
		c->nsent++;
	struct shim6_tx *t = tx_alloc(e);
	struct mb m;
	mb_init(&m, t->buf, sizeof(t->buf), MT_PROBE);
	mb_tag(&m, c->peer_tag);
	mb_u8(&m, (uint8_t)(c->nrcvd << 4 | c->nsent));
	mb_u8(&m, (uint8_t)(c->reap << 6));
	mb_u16(&m, 0);
	for (unsigned i = 0; i < c->nsent; i++)
		put_report(&m, &c->sent[i]);
	for (unsigned i = 0; i < c->nrcvd; i++)
		put_report(&m, &c->rcvd[i]);
	tx_commit(e, t, l, p, mb_finish(&m));
	e->st.probes_sent++;
}

static bool pref_better(const struct shim6_locator *a, const struct shim6_locator *b)
{
	bool at = a->flags & SHIM6_LOCF_TEMPORARY, bt = b->flags & SHIM6_LOCF_TEMPORARY;
	if (at != bt)
		return !at;
	if (a->priority != b->priority)
		return a->priority < b->priority;
	return a->weight > b->weight;
}

/* Candidate pairs in exploration order: the policy's choice first, then by
 * Locator Preferences (peer locator, then local), the current pair last. */
static size_t candidates(struct shim6_engine *e, struct ctx *c, size_t *ls, size_t *ps)
{
	size_t n = 0;
	for (size_t p = 0; p < c->np; p++) {
		if (!c->pver[p] || c->pdown[p] || (c->ploc[p].flags & SHIM6_LOCF_BROKEN))
			continue;
		for (size_t l = 0; l < c->nl; l++) {
			if (!lloc_usable(c, l))
				continue;
			/* insertion sort keeps it stable and small */
			size_t k = n++;
			while (k > 0) {
				const struct shim6_locator *pp = &c->ploc[ps[k - 1]], *lp = &c->lloc[ls[k - 1]];
				bool b = pref_better(&c->ploc[p], pp) ||
				         (!pref_better(pp, &c->ploc[p]) && pref_better(&c->lloc[l], lp));
				if (!b)
					break;
				ls[k] = ls[k - 1];
				ps[k] = ps[k - 1];
				k--;
			}
			ls[k] = l;
			ps[k] = p;
		}
	}
	for (size_t i = 0; i + 1 < n; i++) {
		if (in6_eq(&c->lloc[ls[i]].addr, &c->cur_l) && in6_eq(&c->ploc[ps[i]].addr, &c->cur_p)) {
			size_t tl = ls[i], tp = ps[i];
			memmove(&ls[i], &ls[i + 1], (n - i - 1) * sizeof(*ls));
			memmove(&ps[i], &ps[i + 1], (n - i - 1) * sizeof(*ps));
			ls[n - 1] = tl;
			ps[n - 1] = tp;
			break;
		}
	}
	if (e->cb.select_pair && n > 1) {
		struct shim6_ctx_info ci;
		ctx_fill_info(c, &ci);
		size_t li = SIZE_MAX, pi = SIZE_MAX;
		if (e->cb.select_pair(e->cb.user, &ci, &c->cur_l, &c->cur_p, &li, &pi) == 0) {
			for (size_t i = 0; i < n; i++) {
				if (ls[i] != li || ps[i] != pi)
					continue;
				memmove(&ls[1], &ls[0], i * sizeof(*ls));
				memmove(&ps[1], &ps[0], i * sizeof(*ps));
				ls[0] = li;
				ps[0] = pi;
				break;
			}
		}
	}
	return n;
}

static void probe_next(struct shim6_engine *e, struct ctx *c, shim6_tstamp now)
{
	size_t ls[SHIM6_MAX_LOCATORS * SHIM6_MAX_LOCATORS], ps[SHIM6_MAX_LOCATORS * SHIM6_MAX_LOCATORS];
	size_t n = candidates(e, c, ls, ps);
	if (n) {
		size_t k = c->explore_idx % n;
		send_probe(e, c, &c->lloc[ls[k]].addr, &c->ploc[ps[k]].addr);
	}
	c->explore_idx++;
	c->probes_in_cycle++;
	if (c->probes_in_cycle > e->s.initial_probes) {
		c->probe_to *= 2;
		if (c->probe_to > e->s.max_probe_timeout)
			c->probe_to = e->s.max_probe_timeout;
	}
	c->t_probe = now + c->probe_to;
}

void reap_start_explore(struct shim6_engine *e, struct ctx *c, shim6_tstamp now)
{
	c->reap = SHIM6_REAP_EXPLORING;
	c->explore_start = now;
	c->probes_in_cycle = 0;
	c->explore_idx = 0;
	c->probe_to = e->s.initial_probe_timeout;
	c->t_send = c->t_ka = NEVER;
	probe_next(e, c, now);
}

void reap_pair_check(struct shim6_engine *e, struct ctx *c, shim6_tstamp now)
{
	if (c->st != SHIM6_ST_ESTABLISHED || c->reap != SHIM6_REAP_OPERATIONAL)
		return;
	int l = lloc_find(c, &c->cur_l), p = ploc_find(c, &c->cur_p);
	if (l < 0 || p < 0 || !lloc_usable(c, (size_t)l) || c->pdown[p] ||
	    (c->ploc[p].flags & SHIM6_LOCF_BROKEN))
		reap_start_explore(e, c, now);
}

int reap_timer(struct shim6_engine *e, struct ctx *c, shim6_tstamp now)
{
	if (c->st != SHIM6_ST_ESTABLISHED) {
		c->t_send = c->t_ka = c->t_probe = NEVER;
		return 0;
	}
	if (c->t_ka <= now) {
		c->t_ka = NEVER;
		send_keepalive(e, c);
	}
	if (c->t_send <= now) {
		c->t_send = NEVER;
		if (c->reap == SHIM6_REAP_OPERATIONAL) {
			eng_log(e, 1, "ctx %012llx: send timeout, exploring", (unsigned long long)c->tag);
			reap_start_explore(e, c, now);
		}
	}
	if (c->t_probe <= now) {
		c->t_probe = NEVER;
		if (c->reap == SHIM6_REAP_OPERATIONAL) {
			/* The end with the smaller ULID must end on the reverse of
			 * the leader's pair, so it keeps asking (backing off to
			 * max_probe_timeout) until the leader answers on it; the
			 * leader only repeats its announcement a few times. */
			bool yielder = memcmp(c->lulid.b, c->pulid.b, 16) < 0;
			if (!c->synced && (c->sync_left || yielder)) {
				if (c->sync_left)
					c->sync_left--;
				send_probe(e, c, &c->cur_l, &c->cur_p);
				c->probe_to *= 2;
				if (c->probe_to > e->s.max_probe_timeout)
					c->probe_to = e->s.max_probe_timeout;
				c->t_probe = now + c->probe_to;
			}
			return 0;
		}
		if (e->s.max_explore_time && now - c->explore_start >= e->s.max_explore_time) {
			struct fsm_arg a = { .now = now };
			fsm_run(e, c, FEV_EXPLORE_GIVEUP, &a);
			return 0;
		}
		probe_next(e, c, now);
	}
	return 0;
}

static void set_pair(struct shim6_engine *e, struct ctx *c, const struct shim6_in6 *l,
                     const struct shim6_in6 *p)
{
	if (in6_eq(&c->cur_l, l) && in6_eq(&c->cur_p, p))
		return;
	c->cur_l = *l;
	c->cur_p = *p;
	e->st.pair_changes++;
	eng_log(e, 1, "ctx %012llx: locator pair changed", (unsigned long long)c->tag);
	ev_push(e, SHIM6_EV_PAIR_CHANGED, c, 0);
}

/* Tell the peer which pair we use (with our receive reports), and repeat
 * a few times until a probe comes back on the reverse of that pair. */
static void announce(struct shim6_engine *e, struct ctx *c, shim6_tstamp now)
{
	c->synced = false;
	c->sync_left = e->s.initial_probes;
	c->probe_to = e->s.initial_probe_timeout;
	send_probe(e, c, &c->cur_l, &c->cur_p);
	c->t_probe = now + c->probe_to;
}

static void go_operational(struct shim6_engine *e, struct ctx *c, const struct shim6_in6 *l,
                           const struct shim6_in6 *p, shim6_tstamp now)
{
	set_pair(e, c, l, p);
	c->reap = SHIM6_REAP_OPERATIONAL;
	c->t_send = NEVER;
	announce(e, c, now);
}

int reap_rx_probe(struct shim6_engine *e, struct ctx *c, const struct dmsg *d,
                  const struct shim6_in6 *src, const struct shim6_in6 *dst, shim6_tstamp now)
{
	if (c->st != SHIM6_ST_ESTABLISHED)
		return SHIM6_ENG_ESTATE;
	if (!pair_verified(c, src, dst))
		return SHIM6_ENG_EVERIFY;
	const uint8_t *m = d->m;
	unsigned precvd = m[12] >> 4, psent = m[12] & 15;
	unsigned pst = m[13] >> 6;
	e->st.probes_rx++;
	eng_log(e, 2, "ctx %012llx %s: probe from peer (%s) sent %u rcvd %u on ..%02x%02x->..%02x%02x",
	        (unsigned long long)c->tag, shim6_reap_state_name(c->reap),
	        shim6_reap_state_name((enum shim6_reap_state)pst), psent, precvd,
	        src->b[6], src->b[7], dst->b[6], dst->b[7]);
	const uint8_t *rep = m + 16;
	if (psent) {
		memmove(&c->rcvd[1], &c->rcvd[0], (PROBE_HIST - 1) * sizeof(c->rcvd[0]));
		c->rcvd[0].src = *src;
		c->rcvd[0].dst = *dst;
		c->rcvd[0].nonce = get_u32(rep + 32);
		c->rcvd[0].data = 0;
		if (c->nrcvd < PROBE_HIST)
			c->nrcvd++;
	}
	/* which of our probes did the peer receive? */
	const struct probe_rec *conf = NULL;
	for (unsigned i = 0; i < precvd; i++) {
		const uint8_t *r = rep + 40 * (psent + i);
		uint32_t nonce = get_u32(r + 32);
		for (unsigned j = 0; j < c->nsent; j++) {
			if (c->sent[j].nonce != nonce || memcmp(c->sent[j].src.b, r, 16) ||
			    memcmp(c->sent[j].dst.b, r + 16, 16))
				continue;
			int k = ploc_find(c, &c->sent[j].dst), l = lloc_find(c, &c->sent[j].src);
			if (k < 0 || l < 0)
				continue;
			c->pprobed[k] = 1;
			/* the peer heard it, but a pair one of whose locators went
			 * down or BROKEN since it was sent is no pair to settle on */
			if (!lloc_usable(c, (size_t)l) || c->pdown[k] || (c->ploc[k].flags & SHIM6_LOCF_BROKEN))
				continue;
			if (!conf || (in6_eq(&c->sent[j].src, dst) && in6_eq(&c->sent[j].dst, src)))
				conf = &c->sent[j];
		}
	}
	struct probe_rec cp;
	if (conf) {
		cp = *conf;
		conf = &cp;
	}
	switch (c->reap) {
	case SHIM6_REAP_EXPLORING:
	case SHIM6_REAP_INBOUND_OK:
		if (conf) {
			go_operational(e, c, &conf->src, &conf->dst, now);
		} else {
			c->reap = SHIM6_REAP_INBOUND_OK;
			send_probe(e, c, dst, src);
		}
		break;
	case SHIM6_REAP_OPERATIONAL:
		if (pst == SHIM6_REAP_EXPLORING) {
			/* the peer hears nothing from us: answer on the reverse of the
			 * pair that just worked, and keep probing until confirmed */
			c->reap = SHIM6_REAP_INBOUND_OK;
			c->explore_start = now;
			c->probes_in_cycle = 0;
			c->explore_idx = 0;
			c->probe_to = e->s.initial_probe_timeout;
			c->t_send = c->t_ka = NEVER;
			send_probe(e, c, dst, src);
			c->t_probe = now + c->probe_to;
		} else if (pst == SHIM6_REAP_INBOUND_OK) {
			send_probe(e, c, dst, src);
		} else {
			/* Both ends may have settled on different pairs (they
			 * explored at once, or loss ate a probe).  The end with the
			 * larger ULID leads; the other takes the reverse of the
			 * leader's pair once it has proved it with a probe. */
			bool rev_cur = in6_eq(dst, &c->cur_l) && in6_eq(src, &c->cur_p);
			bool yielder = memcmp(c->lulid.b, c->pulid.b, 16) < 0;
			bool on_cur = psent && get_u32(rep + 36) == 1;
			if (rev_cur) {
				bool was = c->synced;
				c->synced |= on_cur;
				if (psent && (!yielder || !was))
					send_probe(e, c, dst, src);
			} else if (yielder) {
				if (conf && in6_eq(&conf->src, dst) && in6_eq(&conf->dst, src)) {
					set_pair(e, c, dst, src);
					announce(e, c, now);
				} else {
					send_probe(e, c, dst, src);
				}
			} else {
				send_probe(e, c, &c->cur_l, &c->cur_p);
			}
		}
		c->t_send = NEVER;
		break;
	}
	ctx_reschedule(e, c);
	return 0;
}
