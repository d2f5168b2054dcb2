/*
 * Two bounded caches, both set-associative (4 ways per bucket) so a lookup or
 * an eviction touches at most 4 slots and the memory is fixed at start:
 *  - the answer cache holds finished answers as wire bytes plus the offsets
 *    of their TTLs, so a hit is a copy and a few stores;
 *  - the ULID cache holds ULID -> (name, locators) for pshim6-control.
 * When a bucket is full the entry closest to expiry goes.  Entries past
 * their TTL are never served (checked against the caller's `now`).
 */
#include <stdlib.h>
#include <string.h>

#include "dnsalg.h"

#define WAYS 4
#define STRIPES 64

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint32_t buckets_for(uint32_t entries)
{
	uint32_t b = (entries + WAYS - 1) / WAYS;
	return b ? b : 1;
}

/* ---- wire walk ----------------------------------------------------------- */

/*
 * Walk every RR; collect TTL offsets (not OPT) and the minimum TTL.  For a
 * negative answer the SOA MINIMUM also bounds it (RFC 2308).  Returns the
 * number of TTLs, or -1 when malformed or over `max`.
 */
static int walk_ttls(const uint8_t *w, size_t len, uint16_t *offs, unsigned max, int64_t *min)
{
	*min = -1;
	if (len < 12)
		return -1;
	unsigned qd = rd16(w + 4), rr = (unsigned)rd16(w + 6) + rd16(w + 8) + rd16(w + 10);
	size_t off = 12;
	for (unsigned i = 0; i < qd; i++) {
		off = dnsalg_wire_skip_name(w, len, off);
		if (!off || off + 4 > len)
			return -1;
		off += 4;
	}
	unsigned n = 0;
	for (unsigned i = 0; i < rr; i++) {
		off = dnsalg_wire_skip_name(w, len, off);
		if (!off || off + 10 > len)
			return -1;
		uint16_t type = rd16(w + off), rdlen = rd16(w + off + 8);
		if (off + 10u + rdlen > len)
			return -1;
		if (type != LDNS_RR_TYPE_OPT) {
			if (n >= max)
				return -1;
			if (offs)
				offs[n] = (uint16_t)(off + 4);
			n++;
			int64_t t = rd32(w + off + 4);
			if (type == LDNS_RR_TYPE_SOA && rdlen >= 20) {
				int64_t m = rd32(w + off + 10 + rdlen - 4);
				if (m < t)
					t = m;
			}
			if (*min < 0 || t < *min)
				*min = t;
		}
		off += 10u + rdlen;
	}
	return off == len ? (int)n : -1;
}

int64_t dnsalg_wire_min_ttl(const uint8_t *wire, size_t len)
{
	int64_t m;
	if (walk_ttls(wire, len, NULL, 65535, &m) < 0)
		return -1;
	return m;
}

/* ---- answer cache -------------------------------------------------------- */

#define KEY_MAX (255 + 5)
struct aentry {
	uint64_t hash;
	uint64_t stored_ms, expires_ms;  /* expires_ms == 0: empty */
	uint8_t key[KEY_MAX];
	uint16_t keylen;
	uint16_t len, n_ttl;
	uint8_t *wire;                   /* wire[len], then n_ttl offsets, then n_ttl TTLs */
};

struct dnsalg_acache {
	uint32_t nbuckets, max_ttl;
	_Atomic uint32_t count;
	_Atomic uint64_t bytes;          /* wire + metadata held */
	uint64_t max_bytes;              /* 1 KiB per entry on average */
	struct aentry *slots;            /* nbuckets * WAYS */
	pthread_mutex_t lock[STRIPES];
};

struct dnsalg_acache *dnsalg_acache_new(uint32_t entries, uint32_t max_ttl)
{
	struct dnsalg_acache *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->nbuckets = buckets_for(entries);
	c->max_ttl = max_ttl;
	c->max_bytes = (uint64_t)c->nbuckets * WAYS * 1024;
	c->slots = calloc((size_t)c->nbuckets * WAYS, sizeof *c->slots);
	if (!c->slots) {
		free(c);
		return NULL;
	}
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_init(&c->lock[i], NULL);
	return c;
}

void dnsalg_acache_free(struct dnsalg_acache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < (size_t)c->nbuckets * WAYS; i++)
		free(c->slots[i].wire);
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_destroy(&c->lock[i]);
	free(c->slots);
	free(c);
}

uint32_t dnsalg_acache_count(struct dnsalg_acache *c)
{
	return atomic_load(&c->count);
}

/* Key: lower-cased qname, type, class, and the flags that change the answer. */
static uint16_t make_key(const struct dnsalg_query *q, uint8_t *k)
{
	for (size_t i = 0; i < q->qname_len; i++) {
		uint8_t b = q->qname[i];
		k[i] = (b >= 'A' && b <= 'Z') ? (uint8_t)(b + 32) : b;
	}
	size_t n = q->qname_len;
	k[n++] = (uint8_t)(q->qtype >> 8);
	k[n++] = (uint8_t)q->qtype;
	k[n++] = (uint8_t)(q->qclass >> 8);
	k[n++] = (uint8_t)q->qclass;
	k[n++] = (uint8_t)((q->edns ? 1 : 0) | (q->do_bit ? 2 : 0) |
			   ((q->flags & DNSALG_F_CD) ? 4 : 0) | ((q->flags & DNSALG_F_RD) ? 8 : 0));
	return (uint16_t)n;
}

static void drop(struct dnsalg_acache *c, struct aentry *e)
{
	if (e->expires_ms) {
		atomic_fetch_sub(&c->bytes, (uint64_t)e->len + (uint64_t)e->n_ttl * 6);
		free(e->wire);
		e->wire = NULL;
		e->expires_ms = 0;
		atomic_fetch_sub(&c->count, 1);
	}
}

int dnsalg_acache_get(struct dnsalg_acache *c, const struct dnsalg_query *q,
		      const uint8_t *in, uint64_t now, uint8_t *out, size_t outcap)
{
	uint8_t k[KEY_MAX];
	uint16_t kl = make_key(q, k);
	uint64_t h = fnv1a(k, kl);
	uint32_t b = (uint32_t)(h % c->nbuckets);
	pthread_mutex_t *lk = &c->lock[b % STRIPES];
	int r = DNSALG_ENOENT;
	pthread_mutex_lock(lk);
	struct aentry *s = &c->slots[(size_t)b * WAYS];
	for (int i = 0; i < WAYS; i++) {
		struct aentry *e = &s[i];
		if (!e->expires_ms || e->hash != h || e->keylen != kl || memcmp(e->key, k, kl))
			continue;
		if (now >= e->expires_ms) {
			drop(c, e);
			break;
		}
		if (e->len > outcap) {
			r = DNSALG_EFULL;
			break;
		}
		memcpy(out, e->wire, e->len);
		out[0] = in[0];
		out[1] = in[1];
		memcpy(out + 12, in + 12, q->question_len);
		uint32_t age = (uint32_t)((now - e->stored_ms) / 1000);
		const uint8_t *meta = e->wire + e->len;
		for (unsigned j = 0; j < e->n_ttl; j++) {
			uint16_t off = rd16(meta + 2 * j);
			uint32_t t = rd32(meta + 2 * e->n_ttl + 4 * j);
			wr32(out + off, t > age ? t - age : 0);
		}
		r = e->len;
		break;
	}
	pthread_mutex_unlock(lk);
	return r;
}

int dnsalg_acache_put(struct dnsalg_acache *c, const struct dnsalg_query *q,
		      const uint8_t *wire, size_t len, uint64_t now,
		      struct dnsalg_counters *cnt)
{
	if (len > DNSALG_CACHE_WIRE_MAX || len < 12 + q->question_len)
		return DNSALG_EINVAL;
	uint16_t offs[DNSALG_CACHE_WIRE_MAX / 11];
	int64_t min;
	int n = walk_ttls(wire, len, offs, sizeof offs / sizeof offs[0], &min);
	if (n < 0 || min <= 0)
		return DNSALG_EINVAL; /* no TTL to bound it: not cacheable */
	if (min > c->max_ttl)
		min = c->max_ttl;
	uint8_t *blob = malloc(len + (size_t)n * 6);
	if (!blob)
		return DNSALG_ENOMEM;
	memcpy(blob, wire, len);
	for (int j = 0; j < n; j++) {
		blob[len + 2 * j] = (uint8_t)(offs[j] >> 8);
		blob[len + 2 * j + 1] = (uint8_t)offs[j];
		memcpy(blob + len + 2 * n + 4 * j, wire + offs[j], 4);
	}
	uint8_t k[KEY_MAX];
	uint16_t kl = make_key(q, k);
	uint64_t h = fnv1a(k, kl);
	uint32_t b = (uint32_t)(h % c->nbuckets);
	pthread_mutex_t *lk = &c->lock[b % STRIPES];
	pthread_mutex_lock(lk);
	struct aentry *s = &c->slots[(size_t)b * WAYS], *victim = NULL;
	for (int i = 0; i < WAYS && !victim; i++)
		if (s[i].expires_ms && s[i].hash == h && s[i].keylen == kl && !memcmp(s[i].key, k, kl))
			victim = &s[i];
	for (int i = 0; i < WAYS && !victim; i++)
		if (!s[i].expires_ms || s[i].expires_ms <= now)
			victim = &s[i];
	if (!victim) {
		victim = &s[0];
		for (int i = 1; i < WAYS; i++)
			if (s[i].expires_ms < victim->expires_ms)
				victim = &s[i];
		if (cnt)
			DNSALG_INC(cnt, cache_evictions);
	}
	uint64_t held = victim->expires_ms ? victim->len + (uint64_t)victim->n_ttl * 6 : 0;
	if (atomic_load(&c->bytes) - held + len + (uint64_t)n * 6 > c->max_bytes) {
		pthread_mutex_unlock(lk);
		free(blob);
		return DNSALG_EFULL; /* byte budget spent: serve uncached */
	}
	drop(c, victim);
	atomic_fetch_add(&c->bytes, len + (uint64_t)n * 6);
	victim->hash = h;
	memcpy(victim->key, k, kl);
	victim->keylen = kl;
	victim->wire = blob;
	victim->len = (uint16_t)len;
	victim->n_ttl = (uint16_t)n;
	victim->stored_ms = now;
	victim->expires_ms = now + (uint64_t)min * 1000;
	atomic_fetch_add(&c->count, 1);
	pthread_mutex_unlock(lk);
	if (cnt)
		DNSALG_INC(cnt, cache_inserts);
	return 0;
}

/* ---- ULID cache ---------------------------------------------------------- */

struct uentry {
	struct dnsalg_ulid_entry e;
	uint64_t expires_ms;             /* 0: empty */
};

struct dnsalg_ucache {
	uint32_t nbuckets;
	uint32_t count;
	struct uentry *slots;
	pthread_mutex_t lock;
};

struct dnsalg_ucache *dnsalg_ucache_new(uint32_t entries)
{
	struct dnsalg_ucache *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->nbuckets = buckets_for(entries);
	c->slots = calloc((size_t)c->nbuckets * WAYS, sizeof *c->slots);
	if (!c->slots) {
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

void dnsalg_ucache_free(struct dnsalg_ucache *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c->slots);
	free(c);
}

uint32_t dnsalg_ucache_count(struct dnsalg_ucache *c)
{
	pthread_mutex_lock(&c->lock);
	uint32_t n = c->count;
	pthread_mutex_unlock(&c->lock);
	return n;
}

static bool same_mapping(const struct dnsalg_ulid_entry *a, const struct dnsalg_ulid_entry *b)
{
	return a->n_locators == b->n_locators && strcmp(a->name, b->name) == 0 &&
	       memcmp(a->locators, b->locators, a->n_locators * sizeof a->locators[0]) == 0;
}

int dnsalg_ucache_put(struct dnsalg_ucache *c, const struct dnsalg_ulid_entry *e,
		      uint64_t now, struct dnsalg_counters *cnt)
{
	if (e->ttl == 0)
		return DNSALG_EINVAL;
	uint32_t b = (uint32_t)(fnv1a((const uint8_t *)&e->ulid, 16) % c->nbuckets);
	int r = 1;
	pthread_mutex_lock(&c->lock);
	struct uentry *s = &c->slots[(size_t)b * WAYS], *v = NULL;
	for (int i = 0; i < WAYS && !v; i++)
		if (s[i].expires_ms && !memcmp(&s[i].e.ulid, &e->ulid, 16))
			v = &s[i];
	if (v && v->expires_ms > now && same_mapping(&v->e, e)) {
		r = 0;
	} else {
		for (int i = 0; i < WAYS && !v; i++)
			if (!s[i].expires_ms || s[i].expires_ms <= now)
				v = &s[i];
		if (!v) {
			v = &s[0];
			for (int i = 1; i < WAYS; i++)
				if (s[i].expires_ms < v->expires_ms)
					v = &s[i];
			if (cnt)
				DNSALG_INC(cnt, ulid_cache_evictions);
		}
	}
	if (!v->expires_ms)
		c->count++;
	v->e = *e;
	v->expires_ms = now + (uint64_t)e->ttl * 1000;
	pthread_mutex_unlock(&c->lock);
	if (r == 1 && cnt)
		DNSALG_INC(cnt, ulid_cache_inserts);
	return r;
}

int dnsalg_ucache_get(struct dnsalg_ucache *c, const struct in6_addr *ulid,
		      uint64_t now, struct dnsalg_ulid_entry *out)
{
	uint32_t b = (uint32_t)(fnv1a((const uint8_t *)ulid, 16) % c->nbuckets);
	int r = DNSALG_ENOENT;
	pthread_mutex_lock(&c->lock);
	struct uentry *s = &c->slots[(size_t)b * WAYS];
	for (int i = 0; i < WAYS; i++) {
		if (!s[i].expires_ms || memcmp(&s[i].e.ulid, ulid, 16))
			continue;
		if (s[i].expires_ms <= now) {
			s[i].expires_ms = 0;
			c->count--;
			break;
		}
		*out = s[i].e;
		out->ttl = (uint32_t)((s[i].expires_ms - now + 999) / 1000);
		r = 0;
		break;
	}
	pthread_mutex_unlock(&c->lock);
	return r;
}
