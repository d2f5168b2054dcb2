/* Context index writer side: single writer, entries published by one atomic store. */
#include "lut.h"

#include <string.h>

#include <rte_malloc.h>

static void put(uint64_t *e, uint64_t v)
{
	__atomic_store_n(e, v, __ATOMIC_RELEASE);
}

static uint64_t entry(uint32_t h, uint32_t slot)
{
	return (uint64_t)h << 32 | (slot + 1);
}

int dp_lut_init(struct dp_lut *l, uint32_t cap, int socket)
{
	uint64_t nb = 8;

	/* four entries per bucket on average at capacity: half the ways free */
	while (nb * 4 < cap)
		nb <<= 1;
	memset(l, 0, sizeof(*l));
	l->mask = (uint32_t)(nb - 1);
	l->b = rte_zmalloc_socket("dp_lut", sizeof(struct dp_lut_bkt) * nb, RTE_CACHE_LINE_SIZE, socket);
	l->ovf = rte_zmalloc_socket("dp_lut_ovf", nb, 0, socket);
	if (!l->b || !l->ovf) {
		dp_lut_free(l);
		return DP_LUT_NOMEM;
	}
	l->mem_bytes = sizeof(struct dp_lut_bkt) * nb + nb;
	return DP_LUT_OK;
}

void dp_lut_free(struct dp_lut *l)
{
	rte_free(l->b);
	rte_free(l->ovf);
	l->b = NULL;
	l->ovf = NULL;
}

static int fill(struct dp_lut_bkt *b, uint64_t v)
{
	for (int w = 0; w < DP_LUT_WAYS; w++)
		if (b->e[w] == 0) {
			put(&b->e[w], v);
			return 1;
		}
	return 0;
}

int dp_lut_add(struct dp_lut *l, uint32_t h, uint32_t slot)
{
	struct dp_lut_bkt *b1 = &l->b[h & l->mask], *b2 = &l->b[dp_lut_alt(l, h)];
	uint64_t v = entry(h, slot);

	/* the primary unless it is full: the fast path reads only the primary */
	if (fill(b1, v) || fill(b2, v)) {
		l->n++;
		return DP_LUT_OK;
	}
	for (uint32_t i = 0; i < DP_LUT_STASH; i++)
		if (l->stash[i] == 0) {
			/* counter first: a reader that finds the entry must also look */
			__atomic_store_n(&l->ovf[h & l->mask], (uint8_t)(l->ovf[h & l->mask] + 1), __ATOMIC_RELEASE);
			put(&l->stash[i], v);
			l->n_stash++;
			l->n++;
			return DP_LUT_OK;
		}
	return DP_LUT_FULL;
}

static uint64_t *locate(struct dp_lut *l, uint32_t h, uint32_t slot, bool *stashed)
{
	struct dp_lut_bkt *b[2] = { &l->b[h & l->mask], &l->b[dp_lut_alt(l, h)] };
	uint64_t v = entry(h, slot);

	*stashed = false;
	for (int i = 0; i < 2; i++)
		for (int w = 0; w < DP_LUT_WAYS; w++)
			if (b[i]->e[w] == v)
				return &b[i]->e[w];
	for (uint32_t i = 0; i < DP_LUT_STASH; i++)
		if (l->stash[i] == v) {
			*stashed = true;
			return &l->stash[i];
		}
	return NULL;
}

int dp_lut_replace(struct dp_lut *l, uint32_t h, uint32_t old, uint32_t slot)
{
	bool st;
	uint64_t *e = locate(l, h, old, &st);
	if (!e)
		return DP_LUT_NOTFOUND;
	put(e, entry(h, slot));
	return DP_LUT_OK;
}

int dp_lut_del(struct dp_lut *l, uint32_t h, uint32_t slot)
{
	bool st;
	uint64_t *e = locate(l, h, slot, &st);
	if (!e)
		return DP_LUT_NOTFOUND;
	put(e, 0);
	if (st) {
		/* the entry went first: a reader that misses it may still look, harmlessly */
		__atomic_store_n(&l->ovf[h & l->mask], (uint8_t)(l->ovf[h & l->mask] - 1), __ATOMIC_RELEASE);
		l->n_stash--;
	}
	l->n--;
	return DP_LUT_OK;
}

int dp_lut_next_within(const struct dp_lut *l, uint32_t *it, uint32_t *slot, uint32_t *ways)
{
	uint32_t nway = (l->mask + 1) * DP_LUT_WAYS;

	for (; *it < nway + DP_LUT_STASH; (*it)++) {
		if (!*ways)
			return -1;
		(*ways)--;
		uint64_t e = *it < nway ? l->b[*it / DP_LUT_WAYS].e[*it % DP_LUT_WAYS] : l->stash[*it - nway];
		if (e) {
			*slot = (uint32_t)e - 1;
			(*it)++;
			return 1;
		}
	}
	return 0;
}

bool dp_lut_next(const struct dp_lut *l, uint32_t *it, uint32_t *slot)
{
	uint32_t ways = UINT32_MAX;
	return dp_lut_next_within(l, it, slot, &ways) > 0;
}
