/* Context indexes: four chained hash tables (own tag, ULID pair + fork,
 * pending initiator nonce, peer tag) sized once from max_contexts, and a
 * binary min-heap of per-context deadlines.  Nothing grows after
 * shim6_engine_new(), so the memory bound is fixed at creation. */
#include "internal.h"

static size_t hkey(const struct shim6_engine *e, uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return (size_t)k & (e->nbuckets - 1);
}

static uint64_t ulid_key(const struct shim6_in6 *l, const struct shim6_in6 *p, uint32_t forkid)
{
	static const uint8_t k[16] = { 's', 'h', 'i', 'm', '6', 'u', 'l', 'i', 'd' };
	uint8_t buf[36];
	memcpy(buf, l->b, 16);
	memcpy(buf + 16, p->b, 16);
	memcpy(buf + 32, &forkid, 4);
	return siphash24(k, buf, sizeof(buf));
}

static uint64_t key_of(int t, const struct ctx *c)
{
	switch (t) {
	case HT_TAG: return c->tag;
	case HT_ULID: return ulid_key(&c->lulid, &c->pulid, c->forkid);
	case HT_NONCE: return c->inonce;
	default: return c->peer_tag;
	}
}

int tab_init(struct shim6_engine *e)
{
	size_t n = 16;
	while (n < e->s.max_contexts)
		n <<= 1;
	e->nbuckets = n;
	for (int t = 0; t < 4; t++) {
		e->tab[t] = e->mem.calloc(e->mem.user, n, sizeof(struct ctx *));
		if (!e->tab[t])
			return SHIM6_ENG_ENOMEM;
	}
	e->hcap = e->s.max_contexts;
	e->heap = e->mem.calloc(e->mem.user, e->hcap ? e->hcap : 1, sizeof(struct ctx *));
	return e->heap ? 0 : SHIM6_ENG_ENOMEM;
}

void tab_fini(struct shim6_engine *e)
{
	for (int t = 0; t < 4; t++)
		if (e->tab[t])
			e->mem.free(e->mem.user, e->tab[t]);
	if (e->heap)
		e->mem.free(e->mem.user, e->heap);
}

void tab_insert(struct shim6_engine *e, int t, struct ctx *c)
{
	if (c->in_tab[t])
		return;
	size_t b = hkey(e, key_of(t, c));
	c->hn[t] = e->tab[t][b];
	e->tab[t][b] = c;
	c->in_tab[t] = true;
}

void tab_remove(struct shim6_engine *e, int t, struct ctx *c)
{
	if (!c->in_tab[t])
		return;
	struct ctx **pp = &e->tab[t][hkey(e, key_of(t, c))];
	while (*pp && *pp != c)
		pp = &(*pp)->hn[t];
	if (*pp)
		*pp = c->hn[t];
	c->in_tab[t] = false;
	c->hn[t] = NULL;
}

struct ctx *tab_by_tag(struct shim6_engine *e, uint64_t tag)
{
	for (struct ctx *c = e->tab[HT_TAG][hkey(e, tag)]; c; c = c->hn[HT_TAG])
		if (c->tag == tag)
			return c;
	return NULL;
}

struct ctx *tab_by_ulid(struct shim6_engine *e, const struct shim6_in6 *l,
                        const struct shim6_in6 *p, uint32_t forkid)
{
	for (struct ctx *c = e->tab[HT_ULID][hkey(e, ulid_key(l, p, forkid))]; c; c = c->hn[HT_ULID])
		if (c->forkid == forkid && in6_eq(&c->lulid, l) && in6_eq(&c->pulid, p))
			return c;
	return NULL;
}

struct ctx *tab_by_nonce(struct shim6_engine *e, uint32_t nonce)
{
	for (struct ctx *c = e->tab[HT_NONCE][hkey(e, nonce)]; c; c = c->hn[HT_NONCE])
		if (c->inonce == nonce)
			return c;
	return NULL;
}

struct ctx *tab_first_ptag(struct shim6_engine *e, uint64_t ptag)
{
	for (struct ctx *c = e->tab[HT_PTAG][hkey(e, ptag)]; c; c = c->hn[HT_PTAG])
		if (c->peer_tag == ptag)
			return c;
	return NULL;
}

struct ctx *tab_next_ptag(struct ctx *c, uint64_t ptag)
{
	for (c = c->hn[HT_PTAG]; c; c = c->hn[HT_PTAG])
		if (c->peer_tag == ptag)
			return c;
	return NULL;
}

/* ---- heap ---- */
static void hswap(struct shim6_engine *e, size_t i, size_t j)
{
	struct ctx *t = e->heap[i];
	e->heap[i] = e->heap[j];
	e->heap[j] = t;
	e->heap[i]->heap_idx = i;
	e->heap[j]->heap_idx = j;
}

static void hup(struct shim6_engine *e, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (e->heap[p]->deadline <= e->heap[i]->deadline)
			break;
		hswap(e, i, p);
		i = p;
	}
}

static void hdown(struct shim6_engine *e, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < e->hn && e->heap[l]->deadline < e->heap[m]->deadline)
			m = l;
		if (r < e->hn && e->heap[r]->deadline < e->heap[m]->deadline)
			m = r;
		if (m == i)
			return;
		hswap(e, i, m);
		i = m;
	}
}

void heap_remove(struct shim6_engine *e, struct ctx *c)
{
	size_t i = c->heap_idx;
	if (i == SIZE_MAX)
		return;
	e->hn--;
	if (i != e->hn) {
		e->heap[i] = e->heap[e->hn];
		e->heap[i]->heap_idx = i;
		hdown(e, i);
		hup(e, i);
	}
	c->heap_idx = SIZE_MAX;
}

void heap_update(struct shim6_engine *e, struct ctx *c)
{
	if (c->deadline == NEVER) {
		heap_remove(e, c);
		return;
	}
	if (c->heap_idx == SIZE_MAX) {
		if (e->hn >= e->hcap)
			return;   /* cannot happen: one slot per context */
		c->heap_idx = e->hn;
		e->heap[e->hn++] = c;
		hup(e, c->heap_idx);
		return;
	}
	hdown(e, c->heap_idx);
	hup(e, c->heap_idx);
}

struct ctx *heap_top(const struct shim6_engine *e)
{
	return e->hn ? e->heap[0] : NULL;
}
