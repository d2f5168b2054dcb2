/* The yielding backup's lingering dataplane entries (peer_linger.h). */
#include "peer_linger.h"
#include <stdlib.h>
#include <string.h>

int peer_linger_init(struct peer_linger *l, uint32_t cap)
{
	memset(l, 0, sizeof *l);
	l->tags = calloc(cap ? cap : 1, sizeof *l->tags);
	l->cap = cap ? cap : 1;
	return l->tags ? 0 : -1;
}

void peer_linger_free(struct peer_linger *l)
{
	free(l->tags);
	memset(l, 0, sizeof *l);
}

uint64_t peer_linger_ns(const struct pshim6_conf_peer_proxy *c)
{
	return (uint64_t)c->yield_linger_ms * UINT64_C(1000000);
}

void peer_linger_start(struct peer_linger *l, uint64_t now, uint64_t linger_ns)
{
	l->n = 0;
	l->until_ns = now + linger_ns;
}

int peer_linger_add(struct peer_linger *l, uint64_t tag)
{
	if (l->n == l->cap)
		return -1;
	l->tags[l->n++] = tag;
	l->sorted = false;
	return 0;
}

static int cmp_tag(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

bool peer_linger_has(struct peer_linger *l, uint64_t tag)
{
	if (!l->n)
		return false;
	if (!l->sorted) {
		qsort(l->tags, l->n, sizeof *l->tags, cmp_tag);
		l->sorted = true;
	}
	return bsearch(&tag, l->tags, l->n, sizeof *l->tags, cmp_tag) != NULL;
}

bool peer_linger_due(const struct peer_linger *l, uint64_t now)
{
	return l->n && now >= l->until_ns;
}

uint64_t peer_linger_deadline(const struct peer_linger *l)
{
	return l->n ? l->until_ns : UINT64_MAX;
}
