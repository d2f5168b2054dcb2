/*
 * Control's installed contexts: a dense array (the CLI and the state file
 * walk it) with an open-addressing index on the own tag.  A dataplane dump,
 * a takeover and the REAP replies look a context up once each, so at
 * 1,000,000 contexts a scan per lookup made a dump or a takeover quadratic
 * (about 10^12 steps).  Linear probing with deletion by backward shift: no
 * tombstones, so a table that churns forever never degrades.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "ctxtab.h"

#define EMPTY 0u   /* slots hold index + 1 */

static uint32_t home(const struct ctxtab *t, uint64_t tag)
{
	/* tags are random, but a multiply spreads any pattern over the bits used */
	return (uint32_t)((tag * UINT64_C(0x9e3779b97f4a7c15)) >> 32) & t->mask;
}

int ctxtab_init(struct ctxtab *t, uint32_t cap)
{
	uint32_t slots = 16;
	memset(t, 0, sizeof(*t));
	while (slots < 2 * (uint64_t)cap && slots < (UINT32_C(1) << 31))
		slots *= 2;
	t->v = calloc(cap ? cap : 1, sizeof(*t->v));
	t->idx = calloc(slots, sizeof(*t->idx));
	if (!t->v || !t->idx) {
		ctxtab_free(t);
		return -ENOMEM;
	}
	t->cap = cap;
	t->mask = slots - 1;
	return 0;
}

void ctxtab_free(struct ctxtab *t)
{
	free(t->v);
	free(t->idx);
	memset(t, 0, sizeof(*t));
}

/* The slot that holds `tag`, or the empty slot where it would go. */
static uint32_t probe(const struct ctxtab *t, uint64_t tag)
{
	uint32_t s = home(t, tag);
	while (t->idx[s] != EMPTY && t->v[t->idx[s] - 1].d.own_tag != tag)
		s = (s + 1) & t->mask;
	return s;
}

struct ctl_ctx *ctxtab_find(struct ctxtab *t, uint64_t own_tag)
{
	if (!t->idx)
		return NULL;
	uint32_t s = probe(t, own_tag);
	return t->idx[s] == EMPTY ? NULL : &t->v[t->idx[s] - 1];
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
	if (!t->idx)
		return NULL;
	uint32_t s = probe(t, d->own_tag);
	struct ctl_ctx *c;
	if (t->idx[s] != EMPTY) {
		c = &t->v[t->idx[s] - 1];
	} else {
		if (t->n == t->cap)
			return NULL;
		c = &t->v[t->n++];
		memset(c, 0, sizeof(*c));
		t->idx[s] = t->n;
	}
	c->d = *d;
	return c;
}

void ctxtab_clear(struct ctxtab *t)
{
	if (t->idx)
		memset(t->idx, 0, ((size_t)t->mask + 1) * sizeof(*t->idx));
	t->n = 0;
}

int ctxtab_del(struct ctxtab *t, uint64_t own_tag)
{
	if (!t->idx)
		return -ENOENT;
	uint32_t s = probe(t, own_tag);
	if (t->idx[s] == EMPTY)
		return -ENOENT;
	uint32_t i = t->idx[s] - 1, last = t->n - 1;
	/* backward shift: pull later entries of the run into the hole when
	 * the hole lies between their home and where they sit */
	for (uint32_t h = s, j = (s + 1) & t->mask;; j = (j + 1) & t->mask) {
		if (t->idx[j] == EMPTY) {
			t->idx[h] = EMPTY;
			break;
		}
		uint32_t k = home(t, t->v[t->idx[j] - 1].d.own_tag);
		if (((j - k) & t->mask) >= ((j - h) & t->mask)) {
			t->idx[h] = t->idx[j];
			h = j;
		}
	}
	/* the dense array stays dense: the last entry moves into the gap */
	if (i != last) {
		t->v[i] = t->v[last];
		t->idx[probe(t, t->v[i].d.own_tag)] = i + 1;
	}
	t->n--;
	return 0;
}
