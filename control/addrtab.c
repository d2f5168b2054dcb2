#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "addrtab.h"

static uint32_t hash(const struct addrtab *t, const struct in6_addr *k)
{
	uint64_t a, b;
	memcpy(&a, k->s6_addr, 8);
	memcpy(&b, k->s6_addr + 8, 8);
	uint64_t h = (a ^ t->seed) * 0x9e3779b97f4a7c15ULL;
	h ^= (b + (t->seed >> 17)) * 0xc2b2ae3d27d4eb4fULL;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return (uint32_t)h & t->mask;
}

int addrtab_init(struct addrtab *t, uint32_t cap, size_t vsize, uint64_t seed)
{
	memset(t, 0, sizeof(*t));
	if (cap == 0 || cap > (1u << 24))
		return -EINVAL;
	uint32_t nb = 1;
	while (nb < cap)
		nb <<= 1;
	t->cap = cap;
	t->mask = nb - 1;
	t->seed = seed;
	t->vsize = vsize;
	t->bucket = malloc(sizeof(int32_t) * nb);
	t->next = malloc(sizeof(int32_t) * cap);
	t->key = calloc(cap, sizeof(*t->key));
	t->used = calloc(cap, 1);
	t->vals = calloc(cap, vsize);
	if (!t->bucket || !t->next || !t->key || !t->used || !t->vals) {
		addrtab_free(t);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < nb; i++)
		t->bucket[i] = -1;
	for (uint32_t i = 0; i < cap; i++)
		t->next[i] = i + 1 < cap ? (int32_t)(i + 1) : -1;
	t->free_head = 0;
	return 0;
}

void addrtab_free(struct addrtab *t)
{
	free(t->bucket);
	free(t->next);
	free(t->key);
	free(t->used);
	free(t->vals);
	memset(t, 0, sizeof(*t));
}

void *addrtab_find(const struct addrtab *t, const struct in6_addr *k)
{
	if (!t->cap)
		return NULL;
	for (int32_t i = t->bucket[hash(t, k)]; i >= 0; i = t->next[i])
		if (!memcmp(&t->key[i], k, sizeof(*k)))
			return t->vals + (size_t)i * t->vsize;
	return NULL;
}

void *addrtab_insert(struct addrtab *t, const struct in6_addr *k, bool *existed)
{
	void *v = addrtab_find(t, k);
	if (existed)
		*existed = v != NULL;
	if (v)
		return v;
	if (t->free_head < 0)
		return NULL;
	int32_t i = t->free_head;
	t->free_head = t->next[i];
	uint32_t h = hash(t, k);
	t->key[i] = *k;
	t->used[i] = 1;
	t->next[i] = t->bucket[h];
	t->bucket[h] = i;
	t->n++;
	v = t->vals + (size_t)i * t->vsize;
	memset(v, 0, t->vsize);
	return v;
}

int addrtab_remove(struct addrtab *t, const struct in6_addr *k)
{
	if (!t->cap)
		return -ENOENT;
	uint32_t h = hash(t, k);
	for (int32_t *pp = &t->bucket[h]; *pp >= 0; pp = &t->next[*pp]) {
		int32_t i = *pp;
		if (memcmp(&t->key[i], k, sizeof(*k)))
			continue;
		*pp = t->next[i];
		t->used[i] = 0;
		t->next[i] = t->free_head;
		t->free_head = i;
		t->n--;
		return 0;
	}
	return -ENOENT;
}

void *addrtab_slot(const struct addrtab *t, uint32_t i, const struct in6_addr **k)
{
	if (i >= t->cap || !t->used[i])
		return NULL;
	if (k)
		*k = &t->key[i];
	return t->vals + (size_t)i * t->vsize;
}
