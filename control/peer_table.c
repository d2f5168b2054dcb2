/* The replica table (peer_table.h). */
#include "peer_table.h"
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static uint64_t tag_of(const void *arg, uint32_t i)
{
	return ((const struct peer_table *)arg)->v[i].c.own_tag;
}

int peer_table_init(struct peer_table *t, uint32_t cap)
{
	memset(t, 0, sizeof *t);
	if (!cap || cap > (1u << 28))
		return -1;
	t->cap = cap;
	t->v = calloc(cap, sizeof *t->v);
	if (!t->v || tagidx_init(&t->ix, cap, tag_of, t)) {
		peer_table_free(t);
		return -1;
	}
	return 0;
}

void peer_table_free(struct peer_table *t)
{
	tagidx_free(&t->ix);
	free(t->v);
	memset(t, 0, sizeof *t);
}

struct peer_replica *peer_table_find(struct peer_table *t, uint64_t own_tag)
{
	uint32_t i = tagidx_find(&t->ix, own_tag);
	return i ? &t->v[i - 1] : NULL;
}

struct peer_replica *peer_table_find_pair(struct peer_table *t, const uint8_t local[16], const uint8_t peer[16])
{
	/* rare (a punt while standing by): a scan is enough */
	for (uint32_t i = 0; i < t->n; i++)
		if (!memcmp(t->v[i].c.local_ulid, local, 16) && !memcmp(t->v[i].c.peer_ulid, peer, 16))
			return &t->v[i];
	return NULL;
}

int peer_table_put(struct peer_table *t, const struct peer_ctx *c, uint32_t gen, uint64_t now)
{
	struct peer_replica *r = peer_table_find(t, c->own_tag);
	bool found = r != NULL;
	if (found) {
		t->st.updates++;
	} else {
		if (t->n == t->cap) {
			t->st.full++;
			return -1;
		}
		tagidx_set(&t->ix, c->own_tag, t->n);
		r = &t->v[t->n++];
		t->st.adds++;
	}
	r->c = *c;
	r->gen = gen;
	r->updated_ns = now;
	return !found;
}

int peer_table_del(struct peer_table *t, uint64_t own_tag)
{
	uint32_t idx = tagidx_find(&t->ix, own_tag);
	if (!idx--)
		return -1;
	tagidx_del(&t->ix, own_tag);
	uint32_t last = t->n - 1;
	if (idx != last) {
		/* move the last entry into the freed index and repoint its slot */
		t->v[idx] = t->v[last];
		tagidx_set(&t->ix, t->v[idx].c.own_tag, idx);
	}
	t->n--;
	t->st.dels++;
	return 0;
}

uint32_t peer_table_prune(struct peer_table *t, uint32_t gen)
{
	uint32_t removed = 0;
	for (uint32_t i = 0; i < t->n;) {
		if (t->v[i].gen != gen) {
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
	tagidx_clear(&t->ix);
	t->n = 0;
}
