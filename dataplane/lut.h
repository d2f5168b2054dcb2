/*
 * The fast path's context index: key hash -> context slot, read lock-free by
 * the lcores, written by the channel thread only.
 *
 * Why not rte_hash: its lock-free bulk lookup was a fifth of the egress
 * lcore's time (change counters, key store indirection, cuckoo retries).
 * Here a bucket is one cache line of 8 entries, each entry one 64-bit word
 * (32-bit hash, slot + 1), so a reader needs the bucket line and the context
 * line, and a writer publishes or retracts an entry with one atomic store.
 * Entries never move (no cuckoo displacement), so a reader never sees a key
 * in flight.  The key itself lives in the context; callers verify it.
 *
 * Two choices per key: the primary bucket unless it is full, then the
 * alternative; with buckets sized for four entries on average at capacity,
 * random keys put under one entry in a hundred in the alternative; when
 * both are full, the entry goes to a small stash that readers scan only
 * when the primary bucket says something of its own overflowed.  Stash full -> DP_LUT_FULL:
 * the bound is exact and the caller reports it.
 */
#ifndef PSHIM6_DP_LUT_H
#define PSHIM6_DP_LUT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_prefetch.h>
#ifdef __SSE2__
#include <emmintrin.h>
#include <xmmintrin.h>
#endif

#define DP_LUT_WAYS   8
#define DP_LUT_STASH  64

enum dp_lut_rc {
	DP_LUT_OK = 0,
	DP_LUT_FULL = -1,      /* both buckets and the stash are full */
	DP_LUT_NOTFOUND = -2,
	DP_LUT_NOMEM = -3,
};

struct dp_lut_bkt {
	uint64_t e[DP_LUT_WAYS];       /* 0 = empty, else hash << 32 | (slot + 1) */
} __rte_cache_aligned;

struct dp_lut {
	uint32_t mask;                 /* buckets - 1 */
	uint32_t n;                    /* entries */
	struct dp_lut_bkt *b;
	uint8_t *ovf;                  /* per bucket: stash entries whose primary bucket it is */
	uint32_t n_stash;
	uint64_t stash[DP_LUT_STASH];
	uint64_t mem_bytes;
};

static __rte_always_inline uint32_t dp_lut_alt(const struct dp_lut *l, uint32_t h)
{
	/* a second, independent-looking bucket from the same 32 bits */
	return ((h * UINT32_C(0x9e3779b1)) >> 11 ^ h >> 21) & l->mask;
}

static __rte_always_inline uint64_t dp_lut_load(const uint64_t *e)
{
	return __atomic_load_n(e, __ATOMIC_ACQUIRE);
}

/*
 * The slot whose hash is `h` in bucket `b`, starting after way `from`;
 * -1 when none.  Several slots may share a hash: callers verify the key and
 * continue from the way returned.
 */
static __rte_always_inline int dp_lut_scan(const struct dp_lut_bkt *b, uint32_t h, int from, uint32_t *slot)
{
	for (int w = from + 1; w < DP_LUT_WAYS; w++) {
		uint64_t e = dp_lut_load(&b->e[w]);
		if ((uint32_t)(e >> 32) == h && (uint32_t)e != 0) {
			*slot = (uint32_t)e - 1;
			return w;
		}
	}
	return -1;
}

#define DP_LUT_NONE UINT32_MAX

/*
 * The fast path's first probe: the slot of the first way in `b` whose hash
 * is `h`, all eight ways compared at once (SSE2 is in every x86-64 CPU), no
 * loop: the scan above cost 20 to 40 instructions a packet.  The vector
 * loads are only a hint: the slot comes from an atomic load of the way they
 * name, so an entry replaced since gives a slot whose key is not the
 * caller's, and one emptied since (or an empty way when h is 0) gives
 * DP_LUT_NONE.  Callers verify the key and take dp_lut_find otherwise, as
 * they must for hash collisions anyway.
 */
static __rte_always_inline uint32_t dp_lut_first(const struct dp_lut_bkt *b, uint32_t h)
{
#ifdef __SSE2__
	const __m128 *v = (const __m128 *)b->e;
	const __m128i k = _mm_set1_epi32((int)h);
	/* the hashes (odd 32-bit halves) of ways 0..3 and 4..7, compared, then
	 * packed to 16 bits a way: two mask bits a way */
	__m128i h03 = _mm_castps_si128(_mm_shuffle_ps(_mm_load_ps((const float *)v), v[1], _MM_SHUFFLE(3, 1, 3, 1)));
	__m128i h47 = _mm_castps_si128(_mm_shuffle_ps(_mm_load_ps((const float *)(v + 2)), v[3], _MM_SHUFFLE(3, 1, 3, 1)));
	unsigned hit = (unsigned)_mm_movemask_epi8(_mm_packs_epi32(_mm_cmpeq_epi32(h03, k), _mm_cmpeq_epi32(h47, k)));

	if (!hit)
		return DP_LUT_NONE;
	return (uint32_t)dp_lut_load(&b->e[(unsigned)__builtin_ctz(hit) >> 1]) - 1;   /* 0 (emptied) -> DP_LUT_NONE */
#else
	uint32_t s;
	return dp_lut_scan(b, h, -1, &s) >= 0 ? s : DP_LUT_NONE;
#endif
}

static __rte_always_inline const struct dp_lut_bkt *dp_lut_bucket(const struct dp_lut *l, uint32_t h)
{
	return &l->b[h & l->mask];
}

/*
 * Full lookup: `match(slot, arg)` says whether the slot holds the key.
 * Returns the slot or -1.
 */
static __rte_always_inline int64_t dp_lut_find(const struct dp_lut *l, uint32_t h,
					       bool (*match)(uint32_t slot, const void *arg), const void *arg)
{
	const struct dp_lut_bkt *b[2] = { &l->b[h & l->mask], &l->b[dp_lut_alt(l, h)] };
	uint32_t s;

	for (int i = 0; i < 2; i++)
		for (int w = dp_lut_scan(b[i], h, -1, &s); w >= 0; w = dp_lut_scan(b[i], h, w, &s))
			if (match(s, arg))
				return s;
	if (__atomic_load_n(&l->ovf[h & l->mask], __ATOMIC_ACQUIRE)) {
		for (uint32_t i = 0; i < DP_LUT_STASH; i++) {
			uint64_t e = dp_lut_load(&l->stash[i]);
			if ((uint32_t)(e >> 32) == h && (uint32_t)e != 0 && match((uint32_t)e - 1, arg))
				return (uint32_t)e - 1;
		}
	}
	return -1;
}

/* Writer side (one thread).  `cap` entries always fit unless the stash overflows. */
int dp_lut_init(struct dp_lut *l, uint32_t cap, int socket);
void dp_lut_free(struct dp_lut *l);
int dp_lut_add(struct dp_lut *l, uint32_t h, uint32_t slot);
/* Entry (h, old) now points at `slot`: one store, readers see old or new. */
int dp_lut_replace(struct dp_lut *l, uint32_t h, uint32_t old, uint32_t slot);
int dp_lut_del(struct dp_lut *l, uint32_t h, uint32_t slot);
/* Every entry once, buckets then stash: start with *it = 0; false at the end. */
bool dp_lut_next(const struct dp_lut *l, uint32_t *it, uint32_t *slot);
/* The same, reading no more than *ways ways (counted down): 1 an entry,
 * 0 the end, -1 the budget ran out with *it where to go on.  A walk over a
 * sparse index reads mostly empty ways: bounding what one call may read
 * bounds how long the writer that walks holds everything else. */
int dp_lut_next_within(const struct dp_lut *l, uint32_t *it, uint32_t *slot, uint32_t *ways);

#endif
