/* The tag index (tagidx.h). */
#include <stdlib.h>
#include <string.h>
#include "tagidx.h"

static uint32_t home(const struct tagidx *x, uint64_t tag)
{
	/* tags are random, but a multiply spreads any pattern over the bits used */
	return (uint32_t)((tag * UINT64_C(0x9e3779b97f4a7c15)) >> 32) & x->mask;
}

int tagidx_init(struct tagidx *x, uint32_t cap, uint64_t (*key)(const void *arg, uint32_t i), const void *arg)
{
	uint32_t slots = 16;
	memset(x, 0, sizeof *x);
	while (slots < 2 * (uint64_t)cap && slots < (UINT32_C(1) << 31))
		slots *= 2;
	x->slot = calloc(slots, sizeof *x->slot);
	if (!x->slot)
		return -1;
	x->mask = slots - 1;
	x->key = key;
	x->arg = arg;
	return 0;
}

void tagidx_free(struct tagidx *x)
{
	free(x->slot);
	memset(x, 0, sizeof *x);
}

/* The slot that holds `tag`, or the empty slot where it would go. */
static uint32_t probe(const struct tagidx *x, uint64_t tag)
{
	uint32_t s = home(x, tag);
	while (x->slot[s] && x->key(x->arg, x->slot[s] - 1) != tag)
		s = (s + 1) & x->mask;
	return s;
}

uint32_t tagidx_find(const struct tagidx *x, uint64_t tag)
{
	return x->slot ? x->slot[probe(x, tag)] : 0;
}

void tagidx_set(struct tagidx *x, uint64_t tag, uint32_t i)
{
	x->slot[probe(x, tag)] = i + 1;
}

void tagidx_del(struct tagidx *x, uint64_t tag)
{
	uint32_t h = probe(x, tag);
	/* backward shift: pull later entries of the run into the hole when
	 * the hole lies between their home and where they sit */
	for (uint32_t j = (h + 1) & x->mask;; j = (j + 1) & x->mask) {
		if (!x->slot[j]) {
			x->slot[h] = 0;
			return;
		}
		uint32_t k = home(x, x->key(x->arg, x->slot[j] - 1));
		if (((j - k) & x->mask) >= ((j - h) & x->mask)) {
			x->slot[h] = x->slot[j];
			h = j;
		}
	}
}

void tagidx_clear(struct tagidx *x)
{
	if (x->slot)
		memset(x->slot, 0, ((size_t)x->mask + 1) * sizeof *x->slot);
}
