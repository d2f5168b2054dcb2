/* Context establishment (RFC 5533 §7): I1/R1/I2/R2, the stateless
 * responder, and recovery through R1bis/I2bis.  FSM actions are the act_*
 * functions; the table that calls them is in fsm.c. */
#include "internal.h"

#define VALIDATOR_LEN 16

static void put_ulid_pair(struct mb *m, const struct ctx *c, bool always)
{
	if (!always && in6_eq(&c->cur_l, &c->lulid) && in6_eq(&c->cur_p, &c->pulid))
		return;
	size_t o = mb_opt_begin(m, OPT_ULIDPAIR, false);
	mb_zero(m, 4);
	mb_bytes(m, c->lulid.b, 16);
	mb_bytes(m, c->pulid.b, 16);
	mb_opt_end(m, o);
}

static void put_fii(struct mb *m, const struct ctx *c)
{
	if (!c->forkid)
		return;
	size_t o = mb_opt_begin(m, OPT_FII, false);
	mb_u32(m, c->forkid);
	mb_opt_end(m, o);
}

/* The context uses the send timeout it announces, whatever a reload sets later. */
static void put_ka(struct shim6_engine *e, struct ctx *c, struct mb *m)
{
	uint64_t s = e->s.send_timeout / SHIM6_NS_PER_S;
	c->send_to = e->s.send_timeout;
	size_t o = mb_opt_begin(m, OPT_KATIMEOUT, false);
	mb_u16(m, 0);
	mb_u16(m, (uint16_t)(s ? (s > 0xffff ? 0xffff : s) : 1));
	mb_opt_end(m, o);
}

static size_t sig_input(uint32_t gen, const struct shim6_locator *l, size_t n, uint8_t *out)
{
	size_t o = 4;
	out[0] = (uint8_t)(gen >> 24); out[1] = (uint8_t)(gen >> 16);
	out[2] = (uint8_t)(gen >> 8); out[3] = (uint8_t)gen;
	for (size_t i = 0; i < n; i++)
		if (l[i].verif == SHIM6_VERIF_CGA) {
			memcpy(out + o, l[i].addr.b, 16);
			o += 16;
		}
	return o;
}

/* Locator List, Locator Preferences, CGA PDS and (for CGA) CGA Signature. */
void put_locators(struct shim6_engine *e, struct ctx *c, struct mb *m)
{
	size_t o = mb_opt_begin(m, OPT_LOCLIST, false);
	mb_u32(m, c->lgen);
	mb_u8(m, (uint8_t)c->nl);
	for (size_t i = 0; i < c->nl; i++)
		mb_u8(m, c->lloc[i].verif);
	size_t used = 9 + c->nl, pad = ((used + 7) & ~(size_t)7) - used;
	mb_zero(m, pad);
	for (size_t i = 0; i < c->nl; i++)
		mb_bytes(m, c->lloc[i].addr.b, 16);
	mb_opt_end(m, o);
	/* CGA signature input (RFC 5533 §5.15.4, after the message type tag
	 * that the signer prepends): generation, then the CGA locators */
	uint8_t sin[4 + 16 * SHIM6_MAX_LOCATORS];
	size_t sin_len = sig_input(c->lgen, c->lloc, c->nl, sin);

	o = mb_opt_begin(m, OPT_LOCPREF, false);
	mb_u32(m, c->lgen);
	mb_u8(m, 3);
	for (size_t i = 0; i < c->nl; i++) {
		uint8_t fl = c->lloc[i].flags;
		if (c->ldown[i])
			fl |= SHIM6_LOCF_BROKEN;
		mb_u8(m, fl);
		mb_u8(m, c->lloc[i].priority);
		mb_u8(m, c->lloc[i].weight);
	}
	mb_opt_end(m, o);

	struct shim6_host_info *hi = &e->hi;
	memset(hi, 0, offsetof(struct shim6_host_info, pds));
	if (e->cb.host_info(e->cb.user, &c->lulid, hi) < 0 || m->err)
		return;
	if (hi->pds_len) {
		o = mb_opt_begin(m, OPT_PDS, false);
		mb_bytes(m, hi->pds, hi->pds_len > SHIM6_MAX_PDS ? SHIM6_MAX_PDS : hi->pds_len);
		mb_opt_end(m, o);
	}
	if (hi->method != SHIM6_VERIF_CGA || !e->cb.sign)
		return;
	if (!c->sig_valid || c->sig_gen != c->lgen) {
		if (!c->sig)
			c->sig = e->mem.calloc(e->mem.user, 1, 512);
		if (!c->sig)
			return;
		int n = e->cb.sign(e->cb.user, &c->lulid, sin, sin_len, c->sig, 512);
		if (n <= 0)
			return;
		c->siglen = (size_t)n;
		c->sig_gen = c->lgen;
		c->sig_valid = true;
	}
	o = mb_opt_begin(m, OPT_CGASIG, false);
	mb_bytes(m, c->sig, c->siglen);
	mb_opt_end(m, o);
}

/* Verify and adopt the peer's Locator List (+ Preferences).  Returns 1 when
 * the list changed, 0 when it is the one we hold, < 0 on error.  `initial`
 * is set for handshake messages, where the sender's locator must be listed
 * and counts as return-routable (it echoed our nonce or validator). */
int take_locators(struct shim6_engine *e, struct ctx *c, const struct dmsg *d,
                  const struct shim6_in6 *src, const struct shim6_in6 *dst, bool initial)
{
	const struct optv *ll = &d->opt[OPT_LOCLIST];
	if (!ll->p || ll->len < 5)
		return SHIM6_ENG_EMALFORMED;
	uint32_t gen = get_u32(ll->p);
	size_t n = ll->p[4];
	size_t lo = ((9 + n + 7) & ~(size_t)7) - 4;   /* locators, from content start */
	if (n == 0 || lo + 16 * n > ll->len)
		return SHIM6_ENG_EMALFORMED;
	for (size_t i = 0; i < n; i++) {
		uint8_t v = ll->p[5 + i];
		if (v != SHIM6_VERIF_HBA && v != SHIM6_VERIF_CGA) {
			send_error(e, d, ERR_VERIF_METHOD, (size_t)(ll->p + 5 + i - d->m), src, dst);
			return SHIM6_ENG_EUNSUPP;
		}
	}
	if (!initial && c->pgen_valid) {
		int32_t diff = (int32_t)(gen - c->pgen);
		if (diff < 0)
			return SHIM6_ENG_ESTALE;
		if (diff == 0)
			return 0;
	}
	/* ownership: CGA signature or HBA set membership */
	struct shim6_locator tmp[SHIM6_MAX_LOCATORS];
	size_t keep = n < e->s.max_locators ? n : e->s.max_locators;
	struct shim6_locator all[256];
	uint8_t sin[4 + 16 * 256];   /* on the stack: engines may run in several threads */
	for (size_t i = 0; i < n; i++) {
		memset(&all[i], 0, sizeof(all[i]));
		memcpy(all[i].addr.b, ll->p + lo + 16 * i, 16);
		all[i].verif = ll->p[5 + i];
	}
	if (e->cb.verify) {
		const struct optv *pds = &d->opt[OPT_PDS], *sig = &d->opt[OPT_CGASIG];
		enum shim6_verif meth = (enum shim6_verif)all[0].verif;
		if (!pds->p || (meth == SHIM6_VERIF_CGA && !sig->p) ||
		    e->cb.verify(e->cb.user, &c->pulid, meth, pds->p, pds->len, all, n,
		                 sin, sig_input(gen, all, n, sin), sig->p, sig->len) != 0) {
			e->st.verify_failed++;
			return SHIM6_ENG_EVERIFY;
		}
	}
	memcpy(tmp, all, keep * sizeof(tmp[0]));
	const struct optv *lp = &d->opt[OPT_LOCPREF];
	if (lp->p && lp->len >= 5 && get_u32(lp->p) == gen) {
		size_t el = lp->p[4];
		/* any Element Length >= 1: the first three octets are Flags,
		 * Priority, Weight; octets beyond them are for future use */
		if (el >= 1 && (lp->len - 5) / el == n)
			for (size_t i = 0; i < keep; i++) {
				const uint8_t *p = lp->p + 5 + el * i;
				tmp[i].flags = p[0];
				tmp[i].priority = el >= 2 ? p[1] : 0;
				tmp[i].weight = el >= 3 ? p[2] : 0;
			}
	}
	int si = -1;
	for (size_t i = 0; i < keep; i++)
		if (in6_eq(&tmp[i].addr, src))
			si = (int)i;
	if (initial && si < 0)
		return SHIM6_ENG_EVERIFY;
	uint8_t probed[SHIM6_MAX_LOCATORS] = { 0 };
	bool down[SHIM6_MAX_LOCATORS] = { 0 };
	for (size_t i = 0; i < keep; i++) {
		int old = ploc_find(c, &tmp[i].addr);
		if (old >= 0 && c->pver[old]) {
			probed[i] = c->pprobed[old];
			down[i] = c->pdown[old];
		}
	}
	if (si >= 0 && initial)
		probed[si] = 1;
	memcpy(c->ploc, tmp, keep * sizeof(tmp[0]));
	memcpy(c->pprobed, probed, sizeof(probed));
	memcpy(c->pdown, down, sizeof(down));
	memset(c->pver, 0, sizeof(c->pver));
	memset(c->pver, 1, keep);
	c->np = keep;
	c->pgen = gen;
	c->pgen_valid = true;
	return 1;
}

static void take_ka(struct shim6_engine *e, struct ctx *c, const struct dmsg *d)
{
	const struct optv *o = &d->opt[OPT_KATIMEOUT];
	c->ka_interval = e->s.keepalive_interval;
	if (o->p && o->len >= 4) {
		shim6_tstamp kt = (shim6_tstamp)get_u16(o->p + 2) * SHIM6_NS_PER_S;
		if (kt && kt / 3 < c->ka_interval)
			c->ka_interval = kt / 3 ? kt / 3 : 1;
	}
}

static void arm_hs(struct shim6_engine *e, struct ctx *c, shim6_tstamp now)
{
	c->t_hs = now + jitter(e, c->hs_base);
}

/* ---------------------------------------------------------------- I1 ---- */
static int send_i1(struct shim6_engine *e, struct ctx *c, shim6_tstamp now)
{
	/* rotate over local and peer locators on retries: one of the pairs
	 * may be the broken one */
	size_t nl = 0, idx[SHIM6_MAX_LOCATORS];
	for (size_t i = 0; i < c->nl; i++)
		if (lloc_usable(c, i))
			idx[nl++] = i;
	if (nl == 0 || c->np == 0)
		return SHIM6_ENG_ENOTLOCAL;
	int best = sel_local(e, c);
	size_t li = (c->retries == 0 && best >= 0) ? (size_t)best : idx[c->retries % nl];
	size_t pi = (c->retries / nl) % c->np;
	if (c->retries == 0 && e->cb.select_pair) {
		/* traffic engineering picks the first pair */
		struct shim6_ctx_info ci;
		ctx_fill_info(c, &ci);
		size_t l = SIZE_MAX, p = SIZE_MAX;
		if (e->cb.select_pair(e->cb.user, &ci, NULL, NULL, &l, &p) == 0 &&
		    lloc_usable(c, l) && p < c->np) {
			li = l;
			pi = p;
		}
	}
	c->cur_l = c->lloc[li].addr;
	c->cur_p = c->ploc[pi].addr;
	struct shim6_tx *t = tx_alloc(e);
	struct mb m;
	mb_init(&m, t->buf, sizeof(t->buf), MT_I1);
	mb_tag(&m, c->tag);
	mb_u32(&m, c->inonce);
	put_ulid_pair(&m, c, false);
	put_fii(&m, c);
	tx_commit(e, t, &c->cur_l, &c->cur_p, mb_finish(&m));
	arm_hs(e, c, now);
	return 0;
}

int act_send_i1(struct shim6_engine *e, struct ctx *c, struct fsm_arg *a)
{
	ctx_set_nonce(e, c, rnd32(e));
	c->retries = 0;
	c->hs_base = e->s.i1_timeout;
	return send_i1(e, c, a->now);
}

int act_resend_i1(struct shim6_engine *e, struct ctx *c, struct fsm_arg *a)
{
	c->retries++;
	c->hs_base *= 2;
	return send_i1(e, c, a->now);
}

int act_fallback_i1(struct shim6_engine *e, struct ctx *c, struct fsm_arg *a)
{
	c->fallbacks++;
	c->initiator = true;
	return act_send_i1(e, c, a);
}

int act_no_support(struct shim6_engine *e, struct ctx *c, struct fsm_arg *a)
{
	c->t_hs = NEVER;
	c->t_linger = a->now + e->s.no_r1_holddown;
	e->st.ctx_failed++;
	ev_push(e, SHIM6_EV_NO_SUPPORT, c, SHIM6_ENG_EHOLDDOWN);
	return 0;
}

int act_fail(struct shim6_engine *e, struct ctx *c, struct fsm_arg *a)
{
	c->t_hs = c->t_upd = c->t_send = c->t_ka = c->t_probe = NEVER;
	c->t_linger = a->now + e->s.failed_linger;
	e->st.ctx_failed++;
	ev_push(e, SHIM6_EV_FAILED, c, SHIM6_ENG_ESTATE);
	return 0;
}

int act_remove(struct shim6_engine *e, struct ctx *c, struct fsm_arg *a)
{
	(void)a;
	ctx_free(e, c, 0);
	return 0;
}

/* Stateless responder: answer I1 with R1 and remember nothing. */
int hs_rx_i1(struct shim6_engine *e, const struct dmsg *d, const struct shim6_in6 *src,
             const struct shim6_in6 *dst, shim6_tstamp now)
{
	const uint8_t *m = d->m;
	uint64_t itag = get_tag(m + 6);
	uint32_t inonce = get_u32(m + 12);
	struct shim6_in6 pulid = *src, lulid = *dst;
	const struct optv *up = &d->opt[OPT_ULIDPAIR];
	if (up->p) {
		if (up->len < 36)
			return SHIM6_ENG_EMALFORMED;
		memcpy(pulid.b, up->p + 4, 16);
		memcpy(lulid.b, up->p + 20, 16);
	}
	uint32_t forkid = 0;
	if (d->opt[OPT_FII].p && d->opt[OPT_FII].len >= 4)
		forkid = get_u32(d->opt[OPT_FII].p);
	struct shim6_host_info *hi = &e->hi;
	memset(hi, 0, offsetof(struct shim6_host_info, pds));
	if (e->cb.host_info(e->cb.user, &lulid, hi) < 0)
		return SHIM6_ENG_ENOTLOCAL;
	validator_rotate(e, now);
	uint32_t rnonce = rnd32(e);
	uint8_t v[VALIDATOR_LEN];
	validator_make(e, e->key_cur, rnonce, itag, inonce, &pulid, &lulid, forkid, v);
	struct shim6_tx *t = tx_alloc(e);
	struct mb mb;
	mb_init(&mb, t->buf, sizeof(t->buf), MT_R1);
	mb_u16(&mb, 0);
	mb_u32(&mb, inonce);
	mb_u32(&mb, rnonce);
	size_t o = mb_opt_begin(&mb, OPT_VALIDATOR, false);
	mb_bytes(&mb, v, sizeof(v));
	mb_opt_end(&mb, o);
	tx_commit(e, t, dst, src, mb_finish(&mb));
	e->st.r1_sent++;
	return 0;
}

/* ---------------------------------------------------------------- I2 ---- */
static int send_i2(struct shim6_engine *e, struct ctx *c, shim6_tstamp now)
{
	struct shim6_tx *t = tx_alloc(e);
	struct mb m;
	mb_init(&m, t->buf, sizeof(t->buf), MT_I2);
	mb_tag(&m, c->tag);
	mb_u32(&m, c->inonce);
	mb_u32(&m, c->rnonce);
	mb_zero(&m, 4);
	size_t o = mb_opt_begin(&m, OPT_VALIDATOR, false);
	mb_bytes(&m, c->validator, c->vlen);
	mb_opt_end(&m, o);
	put_locators(e, c, &m);
	put_ulid_pair(&m, c, false);
	put_fii(&m, c);
	put_ka(e, c, &m);
	tx_commit(e, t, &c->cur_l, &c->cur_p, mb_finish(&m));
	arm_hs(e, c, now);
	return 0;
}

int act_send_i2(struct shim6_engine *e, struct ctx *c, struct fsm_arg *a)
{
	const struct dmsg *d = a->d;
	const struct optv *v = &d->opt[OPT_VALIDATOR];
	if (!v->p || v->len == 0 || v->len > sizeof(c->validator))
		return SHIM6_ENG_EMALFORMED;
	if (ploc_find(c, a->src) < 0 || lloc_find(c, a->dst) < 0)
		return SHIM6_ENG_ENOCTX;
	c->rnonce = get_u32(d->m + 12);
	memcpy(c->validator, v->p, v->len);
	c->vlen = v->len;
	c->cur_p = *a->src;
	c->cur_l = *a->dst;
	c->retries = 0;
	c->hs_base = e->s.i2_timeout;
	return send_i2(e, c, a->now);
}

int act_resend_i2(struct shim6_engine *e, struct ctx *c, struct fsm_arg *a)
{
	c->retries++;
	c->hs_base *= 2;
	return send_i2(e, c, a->now);
}

static void send_r2(struct shim6_engine *e, struct ctx *c, uint32_t inonce)
{
	struct shim6_tx *t = tx_alloc(e);
	struct mb m;
	mb_init(&m, t->buf, sizeof(t->buf), MT_R2);
	mb_tag(&m, c->tag);
	mb_u32(&m, inonce);
	put_locators(e, c, &m);
	put_ka(e, c, &m);
	tx_commit(e, t, &c->cur_l, &c->cur_p, mb_finish(&m));
}

/* An I2 (or I2bis) whose validator checked out, for context c (new, or one
 * that exists for the same ULIDs and fork). */
int act_accept_i2(struct shim6_engine *e, struct ctx *c, struct fsm_arg *a)
{
	const struct dmsg *d = a->d;
	uint64_t ptag = get_tag(d->m + 6);
	uint32_t inonce = get_u32(d->m + 12);
	enum shim6_state old = c->st;
	int rc = load_local(e, c);
	if (rc < 0)
		return rc;
	if (lloc_find(c, a->dst) < 0)
		return SHIM6_ENG_ENOTLOCAL;
	if (old == SHIM6_ST_ESTABLISHED && c->peer_tag == ptag) {
		/* our R2 was lost: answer again, change nothing */
		send_r2(e, c, inonce);
		return 0;
	}
	rc = take_locators(e, c, d, a->src, a->dst, true);
	if (rc < 0)
		return rc;
	bool pending = old == SHIM6_ST_I1_SENT || old == SHIM6_ST_I2_SENT || old == SHIM6_ST_I2BIS_SENT;
	/* Simultaneous open: both sides accept the other's I2.  To end on
	 * one pair, the side with the smaller ULID adopts the pair the peer
	 * used; the other keeps its own (if it was already return-routable). */
	bool keep = pending && memcmp(c->lulid.b, c->pulid.b, 16) > 0 &&
	            ploc_find(c, &c->cur_p) >= 0 && lloc_find(c, &c->cur_l) >= 0;
	if (!keep) {
		c->cur_l = *a->dst;
		c->cur_p = *a->src;
	} else {
		c->pprobed[ploc_find(c, &c->cur_p)] = 1;
	}
	ctx_set_peer_tag(e, c, ptag);
	take_ka(e, c, d);
	send_r2(e, c, inonce);
	e->st.ctx_established++;
	ctx_set_state(e, c, SHIM6_ST_ESTABLISHED);
	reap_established(e, c, a->now);
	ev_push(e, SHIM6_EV_ESTABLISHED, c, 0);
	return 0;
}

int act_accept_r2(struct shim6_engine *e, struct ctx *c, struct fsm_arg *a)
{
	const struct dmsg *d = a->d;
	if (lloc_find(c, a->dst) < 0)
		return SHIM6_ENG_ENOTLOCAL;
	int rc = take_locators(e, c, d, a->src, a->dst, true);
	if (rc < 0)
		return rc;
	bool recovered = c->st == SHIM6_ST_I2BIS_SENT;
	c->cur_l = *a->dst;
	c->cur_p = *a->src;
	ctx_set_peer_tag(e, c, get_tag(d->m + 6));
	take_ka(e, c, d);
	c->fallbacks = 0;
	e->st.ctx_established++;
	ctx_set_state(e, c, SHIM6_ST_ESTABLISHED);
	reap_established(e, c, a->now);
	if (recovered)
		e->st.recoveries++;
	ev_push(e, recovered ? SHIM6_EV_RECOVERED : SHIM6_EV_ESTABLISHED, c, 0);
	return 0;
}

static int rx_i2_common(struct shim6_engine *e, const struct dmsg *d, const struct shim6_in6 *src,
                        const struct shim6_in6 *dst, const struct shim6_in6 *lulid,
                        const struct shim6_in6 *pulid, uint32_t forkid, uint64_t want_tag,
                        shim6_tstamp now)
{
	struct ctx *c = tab_by_ulid(e, lulid, pulid, forkid);
	bool fresh = false;
	if (c && (c->st == SHIM6_ST_NO_SUPPORT || c->st == SHIM6_ST_E_FAILED)) {
		ctx_free(e, c, 0);
		c = NULL;
	}
	if (!c) {
		c = ctx_new(e, lulid, pulid, forkid, want_tag, now);
		if (!c)
			return SHIM6_ENG_EFULL;
		fresh = true;
	}
	struct fsm_arg a = { .d = d, .src = src, .dst = dst, .now = now };
	int rc = fsm_run(e, c, FEV_I2, &a);
	if (rc < 0 && fresh) {
		/* nothing was announced for it */
		for (int t = 0; t < 4; t++)
			tab_remove(e, t, c);
		heap_remove(e, c);
		e->nctx--;
		e->st.ctx_created--;
		if (c->sig)
			e->mem.free(e->mem.user, c->sig);
		e->mem.free(e->mem.user, c);
	}
	return rc;
}

static void ulids_of(const struct dmsg *d, const struct shim6_in6 *src, const struct shim6_in6 *dst,
                     struct shim6_in6 *pulid, struct shim6_in6 *lulid, uint32_t *forkid)
{
	*pulid = *src;
	*lulid = *dst;
	const struct optv *up = &d->opt[OPT_ULIDPAIR];
	if (up->p && up->len >= 36) {
		memcpy(pulid->b, up->p + 4, 16);
		memcpy(lulid->b, up->p + 20, 16);
	}
	*forkid = 0;
	if (d->opt[OPT_FII].p && d->opt[OPT_FII].len >= 4)
		*forkid = get_u32(d->opt[OPT_FII].p);
}

int hs_rx_i2(struct shim6_engine *e, const struct dmsg *d, const struct shim6_in6 *src,
             const struct shim6_in6 *dst, shim6_tstamp now)
{
	const uint8_t *m = d->m;
	struct shim6_in6 pulid, lulid;
	uint32_t forkid;
	ulids_of(d, src, dst, &pulid, &lulid, &forkid);
	const struct optv *v = &d->opt[OPT_VALIDATOR];
	if (!v->p || !validator_check(e, get_u32(m + 16), get_tag(m + 6), get_u32(m + 12),
	                              &pulid, &lulid, forkid, v->p, v->len, now)) {
		e->st.validator_bad++;
		return SHIM6_ENG_EVALIDATOR;
	}
	return rx_i2_common(e, d, src, dst, &lulid, &pulid, forkid, 0, now);
}

/* ------------------------------------------------------- recovery ------ */
/* Token bucket: recovery_rate per second, recovery_burst deep (milli-tokens). */
void hs_recovery_refill(struct shim6_engine *e, shim6_tstamp now)
{
	uint64_t cap = (uint64_t)e->s.recovery_burst * 1000;
	if (now > e->tok_t) {
		uint64_t add = (now - e->tok_t) / SHIM6_NS_PER_MS * e->s.recovery_rate;
		if (add) {
			e->tokens = e->tokens + add > cap ? cap : e->tokens + add;
			e->tok_t = now;
		}
	}
}

int hs_send_r1bis(struct shim6_engine *e, uint64_t tag, const struct shim6_in6 *src,
                  const struct shim6_in6 *dst, shim6_tstamp now)
{
	hs_recovery_refill(e, now);
	if (e->tokens < 1000) {
		e->st.r1bis_ratelimited++;
		return SHIM6_ENG_ERATELIMIT;
	}
	e->tokens -= 1000;
	validator_rotate(e, now);
	uint32_t rnonce = rnd32(e);
	uint8_t v[VALIDATOR_LEN];
	validator_make(e, e->key_cur, rnonce, tag, 0, src, dst, 0, v);
	struct shim6_tx *t = tx_alloc(e);
	struct mb m;
	mb_init(&m, t->buf, sizeof(t->buf), MT_R1BIS);
	mb_tag(&m, tag);
	mb_u32(&m, rnonce);
	size_t o = mb_opt_begin(&m, OPT_VALIDATOR, false);
	mb_bytes(&m, v, sizeof(v));
	mb_opt_end(&m, o);
	tx_commit(e, t, dst, src, mb_finish(&m));
	e->st.r1bis_sent++;
	return 0;
}

static int send_i2bis(struct shim6_engine *e, struct ctx *c, shim6_tstamp now)
{
	struct shim6_tx *t = tx_alloc(e);
	struct mb m;
	mb_init(&m, t->buf, sizeof(t->buf), MT_I2BIS);
	mb_tag(&m, c->tag);
	mb_u32(&m, c->inonce);
	mb_u32(&m, c->rnonce);
	mb_zero(&m, 6);
	mb_tag(&m, c->pkt_tag);
	size_t o = mb_opt_begin(&m, OPT_VALIDATOR, false);
	mb_bytes(&m, c->validator, c->vlen);
	mb_opt_end(&m, o);
	put_locators(e, c, &m);
	put_ulid_pair(&m, c, true);
	put_fii(&m, c);
	put_ka(e, c, &m);
	tx_commit(e, t, &c->cur_l, &c->cur_p, mb_finish(&m));
	e->st.i2bis_sent++;
	arm_hs(e, c, now);
	return 0;
}

int act_send_i2bis(struct shim6_engine *e, struct ctx *c, struct fsm_arg *a)
{
	const struct dmsg *d = a->d;
	const struct optv *v = &d->opt[OPT_VALIDATOR];
	if (!v->p || v->len == 0 || v->len > sizeof(c->validator))
		return SHIM6_ENG_EMALFORMED;
	if (lloc_find(c, a->dst) < 0)
		return SHIM6_ENG_ENOCTX;
	c->pkt_tag = get_tag(d->m + 6);
	c->rnonce = get_u32(d->m + 12);
	memcpy(c->validator, v->p, v->len);
	c->vlen = v->len;
	/* answer on the exact pair the R1bis named, or its validator fails */
	c->cur_l = *a->dst;
	c->cur_p = *a->src;
	c->t_send = c->t_ka = c->t_probe = NEVER;
	c->reap = SHIM6_REAP_OPERATIONAL;
	ctx_set_nonce(e, c, rnd32(e));
	c->retries = 0;
	c->hs_base = e->s.i2bis_timeout;
	return send_i2bis(e, c, a->now);
}

int act_resend_i2bis(struct shim6_engine *e, struct ctx *c, struct fsm_arg *a)
{
	c->retries++;
	c->hs_base *= 2;
	return send_i2bis(e, c, a->now);
}

int hs_rx_i2bis(struct shim6_engine *e, const struct dmsg *d, const struct shim6_in6 *src,
                const struct shim6_in6 *dst, shim6_tstamp now)
{
	const uint8_t *m = d->m;
	struct shim6_in6 pulid, lulid;
	uint32_t forkid;
	ulids_of(d, src, dst, &pulid, &lulid, &forkid);
	uint64_t pkt_tag = get_tag(m + 26);
	const struct optv *v = &d->opt[OPT_VALIDATOR];
	if (!v->p || !validator_check(e, get_u32(m + 16), pkt_tag, 0, src, dst, 0, v->p, v->len, now)) {
		e->st.validator_bad++;
		return SHIM6_ENG_EVALIDATOR;
	}
	struct shim6_host_info *hi = &e->hi;
	memset(hi, 0, offsetof(struct shim6_host_info, pds));
	if (e->cb.host_info(e->cb.user, &lulid, hi) < 0)
		return SHIM6_ENG_ENOTLOCAL;
	/* keep the tag the peer already uses, so its data flows unchanged */
	return rx_i2_common(e, d, src, dst, &lulid, &pulid, forkid, pkt_tag, now);
}

int hs_timer(struct shim6_engine *e, struct ctx *c, shim6_tstamp now)
{
	struct fsm_arg a = { .now = now };
	unsigned max;
	switch (c->st) {
	case SHIM6_ST_I1_SENT: max = e->s.i1_retries_max; break;
	case SHIM6_ST_I2_SENT: max = e->s.i2_retries_max; break;
	case SHIM6_ST_I2BIS_SENT: max = e->s.i2bis_retries_max; break;
	default: return 0;
	}
	enum fsm_ev ev = FEV_HS_TIMEOUT;
	if (c->retries >= max)
		ev = (c->st != SHIM6_ST_I1_SENT && c->fallbacks >= MAX_FALLBACK) ? FEV_EXPLORE_GIVEUP
		                                                                : FEV_HS_GIVEUP;
	fsm_run(e, c, ev, &a);
	return 0;
}
