#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "ctxtab.h"

int ctxtab_init(struct ctxtab *t, uint32_t cap)
{
	t->cap = cap;
	t->n = 0;
	t->v = calloc(cap, sizeof(*t->v));
	return t->v ? 0 : -ENOMEM;
}

void ctxtab_free(struct ctxtab *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* Linear scans: lookups come from the CLI and from handshake-rate events,
 * never per packet (the dataplane owns the per-packet tables). */
struct ctl_ctx *ctxtab_find(struct ctxtab *t, uint64_t own_tag)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (t->v[i].d.own_tag == own_tag)
			return &t->v[i];
	return NULL;
}

struct ctl_ctx *ctxtab_find_pair(struct ctxtab *t, const uint8_t local[16], const uint8_t remote[16])
{
	for (uint32_t i = 0; i < t->n; i++)
		if (!memcmp(t->v[i].d.local_ulid, local, 16) && !memcmp(t->v[i].d.remote_ulid, remote, 16))
			return &t->v[i];
	return NULL;
}

struct ctl_ctx *ctxtab_add(struct ctxtab *t, const struct dpmsg_ctx *d)
{
	struct ctl_ctx *c = ctxtab_find(t, d->own_tag);
	if (!c) {
		if (t->n == t->cap)
			return NULL;
		c = &t->v[t->n++];
		memset(c, 0, sizeof(*c));
	}
	c->d = *d;
	return c;
}

int ctxtab_del(struct ctxtab *t, uint64_t own_tag)
{
	struct ctl_ctx *c = ctxtab_find(t, own_tag);
	if (!c)
		return -ENOENT;
	*c = t->v[--t->n];
	return 0;
}
