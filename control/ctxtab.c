/*
 * Control's installed contexts: a dense array (the CLI and the state file
 * walk it) indexed by own tag (tagidx.h).  A dataplane dump, a takeover
 * and the REAP replies look a context up once each: with a scan per lookup
 * they were quadratic, 7.8 s at 100,000 contexts.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "ctxtab.h"

static uint64_t tag_of(const void *arg, uint32_t i)
{
	return ((const struct ctxtab *)arg)->v[i].d.own_tag;
}

int ctxtab_init(struct ctxtab *t, uint32_t cap)
{
	memset(t, 0, sizeof(*t));
	t->v = calloc(cap ? cap : 1, sizeof(*t->v));
	if (!t->v || tagidx_init(&t->ix, cap, tag_of, t)) {
		ctxtab_free(t);
		return -ENOMEM;
	}
	t->cap = cap;
	return 0;
}

void ctxtab_free(struct ctxtab *t)
{
	free(t->v);
	tagidx_free(&t->ix);
	memset(t, 0, sizeof(*t));
}

struct ctl_ctx *ctxtab_find(struct ctxtab *t, uint64_t own_tag)
{
	uint32_t i = tagidx_find(&t->ix, own_tag);
	return i ? &t->v[i - 1] : NULL;
}

/* Linear: only the CLI asks by ULID pair. */
struct ctl_ctx *ctxtab_find_pair(struct ctxtab *t, const uint8_t local[16], const uint8_t remote[16])
{
	for (uint32_t i = 0; i < t->n; i++)
		if (!memcmp(t->v[i].d.local_ulid, local, 16) && !memcmp(t->v[i].d.remote_ulid, remote, 16))
			return &t->v[i];
	return NULL;
}

struct ctl_ctx *ctxtab_add(struct ctxtab *t, const struct dpmsg_ctx *d)
{
	struct ctl_ctx *c = t->ix.slot ? ctxtab_find(t, d->own_tag) : NULL;
	if (!c) {
		if (!t->ix.slot || t->n == t->cap)
			return NULL;
		c = &t->v[t->n];
		memset(c, 0, sizeof(*c));
		tagidx_set(&t->ix, d->own_tag, t->n++);
	}
	c->d = *d;
	return c;
}

void ctxtab_clear(struct ctxtab *t)
{
	tagidx_clear(&t->ix);
	t->n = 0;
}

int ctxtab_del(struct ctxtab *t, uint64_t own_tag)
{
	uint32_t i = tagidx_find(&t->ix, own_tag);
	if (!i--)
		return -ENOENT;
	tagidx_del(&t->ix, own_tag);
	/* the dense array stays dense: the last entry moves into the gap */
	if (i != t->n - 1) {
		t->v[i] = t->v[t->n - 1];
		tagidx_set(&t->ix, t->v[i].d.own_tag, i);
	}
	t->n--;
	return 0;
}
