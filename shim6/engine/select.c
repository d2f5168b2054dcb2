/* Locator helpers and the handshake's local locator choice.  A peer locator
 * is usable only if it is verified (CGA/HBA), not BROKEN, not down, and has
 * passed a return-routability check.  Without a policy the order is: stable
 * before TEMPORARY, lowest priority value, highest weight, list order. */
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

bool pair_verified(const struct ctx *c, const struct shim6_in6 *src, const struct shim6_in6 *dst)
{
	int pi = ploc_find(c, src);
	return pi >= 0 && c->pver[pi] && lloc_find(c, dst) >= 0;
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

