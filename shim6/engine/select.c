/* Locator pair selection.  A pair is a candidate only if its local locator
 * is not down or BROKEN and its peer locator is verified (CGA/HBA), not
 * BROKEN, not down, and has passed a return-routability check.  The policy
 * callback chooses among candidates (traffic engineering); the fallback
 * order is lowest priority value, then highest weight, then list order. */
#include "internal.h"

int ploc_find(const struct ctx *c, const struct shim6_in6 *a)
{
	for (size_t i = 0; i < c->np; i++)
		if (in6_eq(&c->ploc[i].addr, a))
			return (int)i;
	return -1;
}

int lloc_find(const struct ctx *c, const struct shim6_in6 *a)
{
	for (size_t i = 0; i < c->nl; i++)
		if (in6_eq(&c->lloc[i].addr, a))
			return (int)i;
	return -1;
}

bool lloc_usable(const struct ctx *c, size_t i)
{
	return i < c->nl && !c->ldown[i] && !(c->lloc[i].flags & SHIM6_LOCF_BROKEN);
}

bool ploc_usable(const struct ctx *c, size_t i)
{
	return i < c->np && c->pver[i] && c->pprobed[i] && !c->pdown[i] &&
	       !(c->ploc[i].flags & SHIM6_LOCF_BROKEN);
}

static bool better(const struct shim6_locator *a, const struct shim6_locator *b)
{
	bool at = a->flags & SHIM6_LOCF_TEMPORARY, bt = b->flags & SHIM6_LOCF_TEMPORARY;
	if (at != bt)
		return !at;           /* prefer stable locators */
	if (a->priority != b->priority)
		return a->priority < b->priority;
	return a->weight > b->weight;
}

/* Local locator for a new handshake. */
int sel_local(struct shim6_engine *e, struct ctx *c)
{
	(void)e;
	int best = -1;
	for (size_t i = 0; i < c->nl; i++)
		if (lloc_usable(c, i) && (best < 0 || better(&c->lloc[i], &c->lloc[best])))
			best = (int)i;
	return best;
}

int sel_pair(struct shim6_engine *e, struct ctx *c, const struct shim6_in6 *xl,
             const struct shim6_in6 *xp, size_t *li, size_t *pi)
{
	if (e->cb.select_pair) {
		struct shim6_ctx_info ci;
		ctx_fill_info(c, &ci);
		size_t l = SIZE_MAX, p = SIZE_MAX;
		if (e->cb.select_pair(e->cb.user, &ci, xl, xp, &l, &p) == 0 &&
		    lloc_usable(c, l) && ploc_usable(c, p)) {
			*li = l;
			*pi = p;
			return 0;
		}
	}
	int bl = -1, bp = -1;
	for (size_t l = 0; l < c->nl; l++) {
		if (!lloc_usable(c, l))
			continue;
		for (size_t p = 0; p < c->np; p++) {
			if (!ploc_usable(c, p))
				continue;
			if (xl && xp && in6_eq(xl, &c->lloc[l].addr) && in6_eq(xp, &c->ploc[p].addr))
				continue;
			if (bl < 0 || better(&c->ploc[p], &c->ploc[bp]) ||
			    (!better(&c->ploc[bp], &c->ploc[p]) && better(&c->lloc[l], &c->lloc[bl]))) {
				bl = (int)l;
				bp = (int)p;
			}
		}
	}
	if (bl < 0)
		return SHIM6_ENG_ENOCTX;
	*li = (size_t)bl;
	*pi = (size_t)bp;
	return 0;
}
