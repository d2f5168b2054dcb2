/*
 * Solicit -> Request bridge.  Kea calls lease6_select for the Solicit (fake
 * allocation) and again for the Request, each time with its own candidate; the
 * CMULA chosen for the Solicit waits here, keyed by DUID+IAID, so the Request
 * commits the same address.
 *
 * Bounded: `cap` slots.  A new entry takes a free slot; with none free it
 * takes the oldest entry's (all entries share one TTL, so expired ones are
 * always the oldest); evicting a live one is counted, and that client gets a
 * fresh CMULA in its Request.  Two hash chains (client, address) and an age
 * list keep every operation O(1) on average.
 */
#include <stdlib.h>
#include <string.h>
#include "pdh.h"

int pdh_client_key(uint8_t *out, size_t cap, const uint8_t *duid, size_t duid_len, uint32_t iaid)
{
	if (duid_len == 0 || duid_len + 4 > cap || duid_len + 4 > PDH_CLIENT_MAX)
		return PDH_EINVAL;
	out[0] = (uint8_t)(iaid >> 24);
	out[1] = (uint8_t)(iaid >> 16);
	out[2] = (uint8_t)(iaid >> 8);
	out[3] = (uint8_t)iaid;
	memcpy(out + 4, duid, duid_len);
	return (int)(duid_len + 4);
}

static uint32_t fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

int pdh_pending_init(struct pdh_pending *t, size_t cap, unsigned ttl)
{
	memset(t, 0, sizeof(*t));
	if (cap == 0 || cap > (1u << 24))
		return PDH_EINVAL;
	t->nbucket = 1;
	while (t->nbucket < cap)
		t->nbucket <<= 1;
	t->e = calloc(cap, sizeof(*t->e));
	t->cbucket = malloc(t->nbucket * sizeof(int32_t));
	t->abucket = malloc(t->nbucket * sizeof(int32_t));
	if (!t->e || !t->cbucket || !t->abucket) {
		free(t->e);
		free(t->cbucket);
		free(t->abucket);
		t->e = NULL;
		return PDH_ENOSPC;
	}
	for (size_t i = 0; i < t->nbucket; i++)
		t->cbucket[i] = t->abucket[i] = -1;
	for (size_t i = 0; i < cap; i++)
		t->e[i].newer = i + 1 < cap ? (int32_t)(i + 1) : -1;
	t->freelist = 0;
	t->oldest = t->newest = -1;
	t->cap = cap;
	t->ttl = ttl;
	pthread_mutex_init(&t->lock, NULL);
	return PDH_OK;
}

void pdh_pending_free(struct pdh_pending *t)
{
	if (!t->e)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t->e);
	free(t->cbucket);
	free(t->abucket);
	t->e = NULL;
}

static int live(const struct pdh_pending_entry *e, uint64_t now)
{
	return e->used && e->expires > now;
}

static int32_t *cslot(struct pdh_pending *t, const uint8_t *client, size_t clen)
{
	return &t->cbucket[fnv1a(client, clen) & (t->nbucket - 1)];
}

static int32_t *aslot(struct pdh_pending *t, const uint8_t addr[16])
{
	return &t->abucket[fnv1a(addr, 16) & (t->nbucket - 1)];
}

static void unlink_entry(struct pdh_pending *t, int32_t i)
{
	struct pdh_pending_entry *e = &t->e[i];
	int32_t *pp;

	for (pp = cslot(t, e->client, e->client_len); *pp != -1; pp = &t->e[*pp].cnext)
		if (*pp == i) {
			*pp = e->cnext;
			break;
		}
	for (pp = aslot(t, e->addr); *pp != -1; pp = &t->e[*pp].anext)
		if (*pp == i) {
			*pp = e->anext;
			break;
		}
	if (e->older != -1)
		t->e[e->older].newer = e->newer;
	else
		t->oldest = e->newer;
	if (e->newer != -1)
		t->e[e->newer].older = e->older;
	else
		t->newest = e->older;
	e->used = 0;
	e->newer = t->freelist;
	t->freelist = i;
}

static int32_t find_client(struct pdh_pending *t, const uint8_t *client, size_t clen)
{
	for (int32_t i = *cslot(t, client, clen); i != -1; i = t->e[i].cnext)
		if (t->e[i].client_len == clen && !memcmp(t->e[i].client, client, clen))
			return i;
	return -1;
}

int pdh_pending_put(struct pdh_pending *t, const uint8_t *client, size_t clen,
                    const uint8_t addr[16], const uint8_t *pds, size_t pds_len, uint64_t now)
{
	struct pdh_pending_entry *e;
	int32_t i, *pp;
	int rc = PDH_OK;

	if (clen == 0 || clen > PDH_CLIENT_MAX || pds_len > PDH_PDS_MAX)
		return PDH_EINVAL;
	pthread_mutex_lock(&t->lock);
	i = find_client(t, client, clen);
	if (i != -1)
		unlink_entry(t, i);
	if (t->freelist == -1) {
		i = t->oldest;
		if (live(&t->e[i], now)) {
			t->evicted++;
			rc = PDH_EFULL;
		} else {
			t->expired++;
		}
		unlink_entry(t, i);
	}
	i = t->freelist;
	e = &t->e[i];
	t->freelist = e->newer;
	e->older = t->newest;
	e->newer = -1;
	if (t->newest != -1)
		t->e[t->newest].newer = i;
	else
		t->oldest = i;
	t->newest = i;
	e->used = 1;
	memcpy(e->client, client, clen);
	e->client_len = clen;
	memcpy(e->addr, addr, 16);
	if (pds_len)
		memcpy(e->pds, pds, pds_len);
	e->pds_len = pds_len;
	e->expires = now + t->ttl;
	pp = cslot(t, client, clen);
	e->cnext = *pp;
	*pp = i;
	pp = aslot(t, addr);
	e->anext = *pp;
	*pp = i;
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int pdh_pending_get(struct pdh_pending *t, const uint8_t *client, size_t clen,
                    uint64_t now, struct pdh_pending_entry *out)
{
	int32_t i;
	int rc = PDH_ENOENT;

	pthread_mutex_lock(&t->lock);
	i = find_client(t, client, clen);
	if (i != -1 && live(&t->e[i], now)) {
		*out = t->e[i];
		rc = PDH_OK;
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int pdh_pending_addr_taken(struct pdh_pending *t, const uint8_t addr[16],
                           const uint8_t *client, size_t clen, uint64_t now)
{
	int taken = 0;

	pthread_mutex_lock(&t->lock);
	for (int32_t i = *aslot(t, addr); i != -1 && !taken; i = t->e[i].anext) {
		struct pdh_pending_entry *e = &t->e[i];
		if (live(e, now) && !memcmp(e->addr, addr, 16) &&
		    !(e->client_len == clen && !memcmp(e->client, client, clen)))
			taken = 1;
	}
	pthread_mutex_unlock(&t->lock);
	return taken;
}

int pdh_pending_drop_addr(struct pdh_pending *t, const uint8_t addr[16])
{
	int dropped = 0;
	int32_t i, next;

	pthread_mutex_lock(&t->lock);
	for (i = *aslot(t, addr); i != -1; i = next) {
		next = t->e[i].anext;
		if (!memcmp(t->e[i].addr, addr, 16)) {
			unlink_entry(t, i);
			dropped = 1;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return dropped;
}

size_t pdh_pending_count(struct pdh_pending *t, uint64_t now)
{
	size_t n = 0;

	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < t->cap; i++)
		n += (size_t)live(&t->e[i], now);
	pthread_mutex_unlock(&t->lock);
	return n;
}
