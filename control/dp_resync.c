/* Dataplane table against control's after a dump (dp_resync.h). */
#include "dp_resync.h"
#include <string.h>

void dp_resync_begin(struct dp_resync *r)
{
	if (++r->epoch == 0)
		r->epoch = 1;   /* 0 is what a new ctl_ctx starts with: never "seen" */
	r->active = true;
	r->cursor = 0;
	memset(&r->now, 0, sizeof r->now);
	r->runs++;
}

static bool same_key(const struct dpmsg_ctx *a, const struct dpmsg_ctx *b)
{
	return !memcmp(a->local_ulid, b->local_ulid, 16) && !memcmp(a->remote_ulid, b->remote_ulid, 16) &&
	       a->fii == b->fii;
}

static uint32_t mod_what(const struct dpmsg_ctx *want, const struct dpmsg_ctx *have)
{
	uint32_t w = 0;
	if (memcmp(want->local_loc, have->local_loc, 16) || memcmp(want->remote_loc, have->remote_loc, 16) ||
	    want->isp != have->isp)
		w |= DPMSG_MOD_LOCATORS;
	if (want->peer_tag != have->peer_tag)
		w |= DPMSG_MOD_PEER_TAG;
	if (want->flags != have->flags)
		w |= DPMSG_MOD_FLAGS;
	return w;
}

enum dp_resync_act dp_resync_entry(struct dp_resync *r, struct ctxtab *t, const struct dpmsg_ctx *dumped,
				   struct dpmsg *fix)
{
	struct ctl_ctx *x = ctxtab_find(t, dumped->own_tag);
	if (!x) {
		r->now.unknown++;
		r->total.unknown++;
		return DP_RESYNC_UNKNOWN;
	}
	memset(fix, 0, sizeof *fix);
	if (!same_key(&x->d, dumped)) {
		/* another context under this tag: away with it, ours goes in at the end */
		fix->type = DPMSG_CTX_DEL;
		fix->u.ctx.own_tag = dumped->own_tag;
		r->now.replaced++;
		r->total.replaced++;
		return DP_RESYNC_FIX;
	}
	x->seen = r->epoch;
	uint32_t w = mod_what(&x->d, dumped);
	if (!w) {
		r->now.same++;
		r->total.same++;
		return DP_RESYNC_SAME;
	}
	fix->type = DPMSG_CTX_MOD;
	fix->u.mod.what = w;
	fix->u.mod.ctx = x->d;
	r->now.modified++;
	r->total.modified++;
	return DP_RESYNC_FIX;
}

void dp_resync_unknown_deleted(struct dp_resync *r)
{
	r->now.deleted++;
	r->total.deleted++;
}

void dp_resync_unknown_adopted(struct dp_resync *r)
{
	r->now.adopted++;
	r->total.adopted++;
}

void dp_resync_mark(struct dp_resync *r, struct ctxtab *t, uint64_t own_tag)
{
	if (!r->active)
		return;
	struct ctl_ctx *x = ctxtab_find(t, own_tag);
	if (x)
		x->seen = r->epoch;
}

bool dp_resync_next_missing(struct dp_resync *r, struct ctxtab *t, struct dpmsg *fix)
{
	while (r->active && r->cursor < t->n) {
		struct ctl_ctx *x = &t->v[r->cursor++];
		if (x->seen == r->epoch)
			continue;
		x->seen = r->epoch;
		memset(fix, 0, sizeof *fix);
		fix->type = DPMSG_CTX_ADD;
		fix->u.ctx = x->d;
		r->now.added++;
		r->total.added++;
		return true;
	}
	r->active = false;
	return false;
}
