/* The replica table (peer_table.h). */
#include "peer_table.h"
#include <stdlib.h>
#include <string.h>

static uint32_t hash_tag(uint64_t tag, uint32_t mask)
{
	/* tags are random 47-bit numbers: a multiply spreads them enough */
	return (uint32_t)((tag * 0x9e3779b97f4a7c15ULL) >> 32) & mask;
}

int peer_table_init(struct peer_table *t, uint32_t cap)
{
	memset(t, 0, sizeof *t);
	if (!cap || cap > (1u << 28))
		return -1;
	t->cap = cap;
	t->nslots = 1;
	while (t->nslots < 2 * cap)
		t->nslots <<= 1;
	t->slot = calloc(t->nslots, sizeof *t->slot);
	t->v = calloc(cap, sizeof *t->v);
	if (!t->slot || !t->v) {
		peer_table_free(t);
		return -1;
	}
	return 0;
}

void peer_table_free(struct peer_table *t)
{
	free(t->slot);
	free(t->v);
	memset(t, 0, sizeof *t);
}

/* slot index holding tag, or the empty slot where it would go */
static uint32_t probe(const struct peer_table *t, uint64_t tag, int *found)
{
	uint32_t mask = t->nslots - 1, i = hash_tag(tag, mask);
	while (t->slot[i]) {
		if (t->v[t->slot[i] - 1].c.own_tag == tag) {
			*found = 1;
			return i;
		}
		i = (i + 1) & mask;
	}
	*found = 0;
	return i;
}

struct peer_replica *peer_table_find(struct peer_table *t, uint64_t own_tag)
{
	int found;
	if (!t->nslots)
		return NULL;
	uint32_t i = probe(t, own_tag, &found);
	return found ? &t->v[t->slot[i] - 1] : NULL;
}

struct peer_replica *peer_table_find_pair(struct peer_table *t, const uint8_t local[16], const uint8_t peer[16])
{
	/* rare (a punt while standing by): a scan is enough */
	for (uint32_t i = 0; i < t->n; i++)
		if (!memcmp(t->v[i].c.local_ulid, local, 16) && !memcmp(t->v[i].c.peer_ulid, peer, 16))
			return &t->v[i];
	return NULL;
}

int peer_table_put(struct peer_table *t, const struct peer_ctx *c, uint32_t epoch, uint64_t now)
{
	int found;
	uint32_t i = probe(t, c->own_tag, &found);
	struct peer_replica *r;
	if (found) {
		r = &t->v[t->slot[i] - 1];
		t->st.updates++;
	} else {
		if (t->n == t->cap) {
			t->st.full++;
			return -1;
		}
		r = &t->v[t->n++];
		t->slot[i] = t->n;
		t->st.adds++;
	}
	r->c = *c;
	r->epoch = epoch;
	r->updated_ns = now;
	return !found;
}

/* Empty slot i, then pull back entries of the run after it that would not
 * be found past the hole (backward-shift deletion, no tombstones). */
static void slot_remove(struct peer_table *t, uint32_t i)
{
	uint32_t mask = t->nslots - 1, j = i;
	t->slot[i] = 0;
	for (;;) {
		j = (j + 1) & mask;
		if (!t->slot[j])
			return;
		uint32_t h = hash_tag(t->v[t->slot[j] - 1].c.own_tag, mask);
		/* move j into the hole i when h is not cyclically in (i, j] */
		if ((j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j))) {
			t->slot[i] = t->slot[j];
			t->slot[j] = 0;
			i = j;
		}
	}
}

int peer_table_del(struct peer_table *t, uint64_t own_tag)
{
	int found;
	if (!t->nslots)
		return -1;
	uint32_t i = probe(t, own_tag, &found);
	if (!found)
		return -1;
	uint32_t idx = t->slot[i] - 1;
	slot_remove(t, i);
	uint32_t last = t->n - 1;
	if (idx != last) {
		/* move the last entry into the freed index and repoint its slot */
		uint32_t k = probe(t, t->v[last].c.own_tag, &found);
		t->v[idx] = t->v[last];
		t->slot[k] = idx + 1;
	}
	t->n--;
	t->st.dels++;
	return 0;
}

uint32_t peer_table_prune(struct peer_table *t, uint32_t epoch)
{
	uint32_t removed = 0;
	for (uint32_t i = 0; i < t->n;) {
		if (t->v[i].epoch != epoch) {
			peer_table_del(t, t->v[i].c.own_tag);
			t->st.dels--;
			removed++;
			continue;   /* index i now holds what was last */
		}
		i++;
	}
	t->st.pruned += removed;
	return removed;
}

void peer_table_clear(struct peer_table *t)
{
	if (t->slot)
		memset(t->slot, 0, t->nslots * sizeof *t->slot);
	t->n = 0;
}
