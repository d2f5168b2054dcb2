/* Adopting a context that already exists in the forwarding plane (after a
 * controller restart).  Nothing is sent: the peer still holds the same
 * tags and pair, so the context simply continues; REAP starts Operational
 * and its timers pick up from the next data event. */
#include "internal.h"

int shim6_engine_context_import(struct shim6_engine *e, const struct shim6_ctx_import *imp,
                                shim6_tstamp now, uint64_t *id)
{
	if (!e || !imp)
		return SHIM6_ENG_EINVAL;
	uint64_t tag = imp->own_tag & TAG_MASK, ptag = imp->peer_tag & TAG_MASK;
	if (tag == 0 || ptag == 0 || imp->npeer > SHIM6_MAX_LOCATORS)
		return SHIM6_ENG_EINVAL;
	if (tab_by_tag(e, tag) || tab_by_ulid(e, &imp->local_ulid, &imp->peer_ulid, imp->forkid))
		return SHIM6_ENG_EEXIST;
	if (e->nctx >= e->s.max_contexts) {
		e->st.ctx_full++;
		return SHIM6_ENG_EFULL;
	}
	struct ctx *c = ctx_new(e, &imp->local_ulid, &imp->peer_ulid, imp->forkid, tag, now);
	if (!c)
		return SHIM6_ENG_ENOMEM;
	int rc = load_local(e, c);
	if (rc >= 0 && lloc_find(c, &imp->local_loc) < 0)
		rc = SHIM6_ENG_ENOTLOCAL;
	if (rc < 0) {
		ctx_release(e, c);
		return rc;
	}
	if (imp->local_gen)
		c->lgen = imp->local_gen;
	c->initiator = imp->initiator != 0;

	/* The peer list: the pair's peer locator first (proven by traffic),
	 * then the rest as known, up to max_locators, without duplicates. */
	size_t n = 0;
	c->ploc[n].addr = imp->peer_loc;
	c->ploc[n].verif = SHIM6_VERIF_CGA;
	c->pver[n] = 1;
	c->pprobed[n] = 1;
	for (size_t i = 0; i < imp->npeer; i++) {
		if (in6_eq(&imp->peer_locs[i].addr, &imp->peer_loc)) {
			struct shim6_in6 keep = c->ploc[0].addr;
			c->ploc[0] = imp->peer_locs[i];
			c->ploc[0].addr = keep;
			if (c->ploc[0].verif == SHIM6_VERIF_NONE)
				c->ploc[0].verif = SHIM6_VERIF_CGA;
			break;
		}
	}
	n = 1;
	for (size_t i = 0; i < imp->npeer && n < e->s.max_locators; i++) {
		bool dup = false;
		for (size_t j = 0; j < n && !dup; j++)
			dup = in6_eq(&c->ploc[j].addr, &imp->peer_locs[i].addr);
		if (dup)
			continue;
		c->ploc[n] = imp->peer_locs[i];
		c->pver[n] = imp->verified[i] ? 1 : 0;
		c->pprobed[n] = 0;
		n++;
	}
	c->np = n;
	c->pgen = imp->peer_gen;
	c->pgen_valid = imp->peer_gen != 0;
	c->cur_l = imp->local_loc;
	c->cur_p = imp->peer_loc;
	ctx_set_peer_tag(e, c, ptag);
	ctx_set_state(e, c, SHIM6_ST_ESTABLISHED);
	reap_established(e, c, now);
	e->st.ctx_imported++;
	if (id)
		*id = c->tag;
	return 0;
}

int shim6_engine_ctx_generations(struct shim6_engine *e, uint64_t id,
                                 uint32_t *local_gen, uint32_t *peer_gen)
{
	if (!e)
		return SHIM6_ENG_EINVAL;
	struct ctx *c = tab_by_tag(e, id & TAG_MASK);
	if (!c)
		return SHIM6_ENG_ENOCTX;
	if (local_gen)
		*local_gen = c->lgen;
	if (peer_gen)
		*peer_gen = c->pgen_valid ? c->pgen : 0;
	return 0;
}
