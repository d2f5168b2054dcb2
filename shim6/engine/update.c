/* Locator updates (RFC 5533 §10): Update Request carrying a new Locator
 * List (signed / HBA-checked like in the handshake) and/or Locator
 * Preferences, acknowledged by nonce.  Generation numbers order lists:
 * an older generation is a replay and changes nothing; the current one is
 * a retransmission and is only acknowledged.  Requests are retransmitted
 * from update_timeout, doubling, and given up past max_update_timeout. */
#include "internal.h"

static void send_update(struct shim6_engine *e, struct ctx *c)
{
	struct shim6_tx *t = tx_alloc(e);
	struct mb m;
	mb_init(&m, t->buf, sizeof(t->buf), MT_UPDATE_REQ);
	mb_tag(&m, c->peer_tag);
	mb_u32(&m, c->upd_nonce);
	put_locators(e, c, &m);
	tx_commit(e, t, &c->cur_l, &c->cur_p, mb_finish(&m));
	e->st.updates_sent++;
}

int upd_start(struct shim6_engine *e, struct ctx *c, shim6_tstamp now)
{
	if (c->st != SHIM6_ST_ESTABLISHED)
		return SHIM6_ENG_ESTATE;
	c->upd_nonce = rnd32(e);
	c->upd_to = e->s.update_timeout;
	send_update(e, c);
	c->t_upd = now + jitter(e, c->upd_to);
	return 0;
}

void upd_timer(struct shim6_engine *e, struct ctx *c, shim6_tstamp now)
{
	if (c->st != SHIM6_ST_ESTABLISHED)
		return;
	c->upd_to *= 2;
	if (c->upd_to > e->s.max_update_timeout) {
		eng_log(e, 1, "ctx %012llx: update not acknowledged, giving up",
		        (unsigned long long)c->tag);
		return;
	}
	send_update(e, c);
	c->t_upd = now + jitter(e, c->upd_to);
}

int upd_rx_request(struct shim6_engine *e, struct ctx *c, const struct dmsg *d,
                   const struct shim6_in6 *src, const struct shim6_in6 *dst, shim6_tstamp now)
{
	if (c->st != SHIM6_ST_ESTABLISHED)
		return SHIM6_ENG_ESTATE;
	if (!pair_verified(c, src, dst))
		return SHIM6_ENG_EVERIFY;
	int rc = 0;
	if (d->opt[OPT_LOCLIST].p) {
		rc = take_locators(e, c, d, src, dst, false);
		if (rc < 0)
			return rc;
	} else if (d->opt[OPT_LOCPREF].p) {
		const struct optv *lp = &d->opt[OPT_LOCPREF];
		if (lp->len < 5 || !c->pgen_valid || get_u32(lp->p) != c->pgen)
			return SHIM6_ENG_ESTALE;
		size_t el = lp->p[4];
		if (el < 1 || (lp->len - 5) / el < c->np)   /* longer elements: extra octets ignored */
			return SHIM6_ENG_EMALFORMED;
		for (size_t i = 0; i < c->np; i++) {
			const uint8_t *p = lp->p + 5 + el * i;
			struct shim6_locator *l = &c->ploc[i];
			if (l->flags != p[0] || (el >= 2 && l->priority != p[1]) ||
			    (el >= 3 && l->weight != p[2]))
				rc = 1;
			l->flags = p[0];
			l->priority = el >= 2 ? p[1] : 0;
			l->weight = el >= 3 ? p[2] : 0;
		}
	}
	struct shim6_tx *t = tx_alloc(e);
	struct mb m;
	mb_init(&m, t->buf, sizeof(t->buf), MT_UPDATE_ACK);
	mb_tag(&m, c->peer_tag);
	mb_u32(&m, get_u32(d->m + 12));
	tx_commit(e, t, dst, src, mb_finish(&m));
	if (rc == 1) {
		ev_push(e, SHIM6_EV_PEER_LOCATORS, c, 0);
		reap_pair_check(e, c, now);
	}
	ctx_reschedule(e, c);
	return 0;
}

int upd_rx_ack(struct shim6_engine *e, struct ctx *c, const struct dmsg *d, shim6_tstamp now)
{
	(void)now;
	if (c->t_upd == NEVER || get_u32(d->m + 12) != c->upd_nonce)
		return SHIM6_ENG_ENONCE;
	c->t_upd = NEVER;
	e->st.updates_acked++;
	ctx_reschedule(e, c);
	return 0;
}
