/* One engine on a fake clock, for the per-module suites: deterministic
 * randomness, a site with two hosts and two locators each, captured output. */
#ifndef SHIM6_TEST_SOLO_H
#define SHIM6_TEST_SOLO_H

#include <shim6/engine.h>
#include <stdlib.h>
#include <string.h>

struct solo {
	struct shim6_engine *e;
	shim6_tstamp now;
	uint64_t rng;
	long allocs;
	int policy_calls;
	int policy_pick;    /* -1: decline */
	size_t nlocs;       /* locators host_info gives each host (0: both) */
	uint8_t loc_flags[2];   /* and their flags */
};

static inline void solo_rand(void *u, void *buf, size_t len)
{
	struct solo *s = u;
	uint8_t *p = buf;
	for (size_t i = 0; i < len; i++) {
		s->rng = s->rng * 6364136223846793005ULL + 1442695040888963407ULL;
		p[i] = (uint8_t)(s->rng >> 56);
	}
}
static inline void *solo_calloc(void *u, size_t n, size_t sz) { ((struct solo *)u)->allocs++; return calloc(n, sz); }
static inline void solo_free(void *u, void *p) { if (p) ((struct solo *)u)->allocs--; free(p); }

static inline struct shim6_in6 solo_addr(uint8_t a, uint8_t site, uint8_t loc, uint8_t host)
{
	struct shim6_in6 x = { { a, 0x01, 0x0d, 0xb8 } };
	x.b[5] = site;
	x.b[7] = loc;
	x.b[15] = host;
	return x;
}
#define SOLO_ULID(site, h)   solo_addr(0xfd, site, 0xff, h)
#define SOLO_LOC(site, l, h) solo_addr(0x20, site, l, h)

static inline int solo_host_info(void *u, const struct shim6_in6 *ulid, struct shim6_host_info *out)
{
	const struct solo *s = u;
	if (ulid->b[0] != 0xfd || ulid->b[5] != 1 || ulid->b[15] < 1 || ulid->b[15] > 2)
		return SHIM6_ENG_ENOTLOCAL;
	out->method = SHIM6_VERIF_HBA;
	out->nlocs = s->nlocs && s->nlocs < 2 ? s->nlocs : 2;
	for (size_t i = 0; i < out->nlocs; i++) {
		out->locs[i].addr = SOLO_LOC(1, (uint8_t)i, ulid->b[15]);
		out->locs[i].verif = SHIM6_VERIF_HBA;
		out->locs[i].flags = s->loc_flags[i];
	}
	out->pds_len = 8;
	memcpy(out->pds, "solo-pds", 8);
	return 0;
}

static inline int solo_select(void *u, const struct shim6_ctx_info *ci, const struct shim6_in6 *xl,
                              const struct shim6_in6 *xp, size_t *li, size_t *pi)
{
	struct solo *s = u;
	(void)ci; (void)xl; (void)xp;
	s->policy_calls++;
	if (s->policy_pick < 0)
		return -1;
	*li = 0;
	*pi = (size_t)s->policy_pick;
	return 0;
}

/* The settings solo_init uses when given none: RFC defaults, small tables. */
static inline void solo_settings(struct shim6_engine_settings *set)
{
	shim6_engine_settings_default(set);
	set->max_contexts = 16;
	set->max_pending = 8;
}

static inline void solo_init(struct solo *s, const struct shim6_engine_settings *set)
{
	memset(s, 0, sizeof(*s));
	s->now = 100 * SHIM6_NS_PER_S;
	s->rng = 42;
	s->policy_pick = -1;
	struct shim6_engine_callbacks cb = { .user = s, .host_info = solo_host_info, .select_pair = solo_select };
	struct shim6_engine_mem mem = { s, solo_calloc, solo_free };
	struct shim6_engine_rand rnd = { s, solo_rand };
	struct shim6_engine_settings d;
	solo_settings(&d);
	if (shim6_engine_new(&s->e, set ? set : &d, &cb, &mem, &rnd, s->now) != 0)
		abort();
}

static inline void solo_fini(struct solo *s)
{
	shim6_engine_del(s->e);
}

/* Drain tx; return how many messages of `type` (or all with type 0). */
static inline int solo_drain(struct solo *s, int type, struct shim6_tx *last)
{
	static struct shim6_tx tx;
	int n = 0;
	while (shim6_engine_poll_tx(s->e, &tx)) {
		if (type == 0 || (tx.buf[2] & 0x7f) == type) {
			n++;
			if (last)
				*last = tx;
		}
	}
	return n;
}

/* Advance the fake clock to the next deadline (bounded by `until`). */
static inline bool solo_step(struct solo *s, shim6_tstamp until)
{
	shim6_tstamp d = shim6_engine_deadline(s->e);
	if (d > until)
		return false;
	if (d > s->now)
		s->now = d;
	shim6_engine_expire(s->e, s->now);
	return true;
}

#endif
