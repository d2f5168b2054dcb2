/*
 * CMULA allocation over shim6's CGA/HBA code (RFC 3972 §4 and §7.3; RFC 5535
 * §3).  Public key only, a fresh random modifier per client, collision count
 * 0..2 on a taken address, then a new modifier; at most PDH_MODIFIER_ATTEMPTS
 * modifiers before giving up.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <shim6/cga.h>
#include <shim6/hba.h>
#include "pdh.h"

struct rng_glue {
	pdh_rand_fn fn;
	void *arg;
};

static int rng_fill(void *user, uint8_t *buf, size_t len)
{
	struct rng_glue *g = user;
	return g->fn(g->arg, buf, len);
}

static int map_err(int rc)
{
	switch (rc) {
	case SHIM6_CGA_ERNG:
	case SHIM6_CGA_ECRYPTO:
		return PDH_ECRYPTO;
	case SHIM6_CGA_ENOSPACE:
		return PDH_ENOSPC;
	default:
		return PDH_EINVAL;
	}
}

/* One candidate set: a CGA, or an HBA set whose first prefix is the CMULA's. */
struct cand {
	uint8_t addr[16];
	uint8_t pds[SHIM6_CGA_PDS_MAX];
	size_t pds_len;
	uint8_t modifier[16];
	uint8_t cc;
	struct shim6_cga cga;
};

static int hba_make(struct cand *c, const struct pdh_conf *conf, const struct shim6_cga_rng *rng,
                    const uint8_t *start_modifier, uint8_t cc)
{
	uint8_t prefixes[PDH_MAX_PREFIXES * 8];
	struct shim6_hba_set set;
	struct shim6_cga_gen_opts o = {.sec = (unsigned)conf->sec, .collision_count = cc,
	                               .modifier = start_modifier, .rng = rng};
	int rc;

	memcpy(prefixes, conf->cmula_prefix, 8);
	memcpy(prefixes + 8, conf->pa, 8 * conf->n_pa);
	rc = shim6_hba_generate(&set, prefixes, 1 + conf->n_pa, conf->key, conf->key_len, &o);
	if (rc < 0)
		return map_err(rc);
	memcpy(c->addr, set.addrs[0], 16);
	memcpy(c->pds, set.pds, set.pds_len);
	c->pds_len = set.pds_len;
	memcpy(c->modifier, set.modifier, 16);
	c->cc = cc;
	return PDH_OK;
}

static int cga_take(struct cand *c)
{
	memcpy(c->addr, c->cga.addr, 16);
	memcpy(c->pds, c->cga.pds, c->cga.pds_len);
	c->pds_len = c->cga.pds_len;
	c->cc = c->cga.collision_count;
	return PDH_OK;
}

/* First candidate; `start` (a modifier already meeting Sec) may be NULL. */
static int first(struct cand *c, const struct pdh_conf *conf, const struct shim6_cga_rng *rng,
                 const uint8_t *start, const volatile int *cancel)
{
	struct shim6_cga_gen_opts o = {.sec = (unsigned)conf->sec, .modifier = start, .rng = rng,
	                               .cancel = cancel};
	int rc;

	if (conf->mode == PDH_MODE_HBA)
		return hba_make(c, conf, rng, start, 0);
	rc = shim6_cga_generate(&c->cga, conf->cmula_prefix, conf->key, conf->key_len, &o);
	if (rc < 0)
		return map_err(rc);
	memcpy(c->modifier, c->cga.modifier, 16);
	return cga_take(c);
}

int pdh_alloc(const struct pdh_conf *conf, pdh_rand_fn rnd, void *rnd_arg,
              pdh_taken_fn taken, void *taken_arg, struct pdh_alloc_result *out)
{
	return pdh_alloc_ex(conf, rnd, rnd_arg, taken, taken_arg, NULL, out);
}

int pdh_alloc_ex(const struct pdh_conf *conf, pdh_rand_fn rnd, void *rnd_arg,
                 pdh_taken_fn taken, void *taken_arg, struct pdh_modpool *pool,
                 struct pdh_alloc_result *out)
{
	struct rng_glue g = {rnd, rnd_arg};
	struct shim6_cga_rng rng = {.user = &g, .fill = rng_fill};
	struct cand c;
	uint8_t m0[16];
	int rc;

	memset(out, 0, sizeof(*out));
	out->modifiers_tried = 1;
	rc = first(&c, conf, &rng, pool && pdh_modpool_take(pool, m0) == PDH_OK ? m0 : NULL, NULL);
	while (rc == PDH_OK) {
		rc = taken(taken_arg, c.addr);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			memcpy(out->addr, c.addr, 16);
			memcpy(out->pds_bytes, c.pds, c.pds_len);
			out->pds_len = c.pds_len;
			return pdh_pds_parse(&out->pds, out->pds_bytes, out->pds_len);
		}
		out->collisions++;
		if (c.cc == 2 && out->modifiers_tried == PDH_MODIFIER_ATTEMPTS)
			return PDH_EEXHAUSTED;
		if (c.cc == 2)
			out->modifiers_tried++;
		if (conf->mode == PDH_MODE_HBA) {
			/* Same modifier (its Hash2 already qualifies) with the next
			 * count, or a fresh one after count 2. */
			uint8_t m[16];
			memcpy(m, c.modifier, 16);
			rc = c.cc < 2 ? hba_make(&c, conf, &rng, m, (uint8_t)(c.cc + 1))
			              : hba_make(&c, conf, &rng, NULL, 0);
		} else {
			rc = shim6_cga_bump(&c.cga, &rng);
			rc = rc < 0 ? map_err(rc) : cga_take(&c);
		}
	}
	return rc;
}

static int view(struct shim6_cga_params *v, uint8_t *buf, const struct pdh_pds *p)
{
	ssize_t n = pdh_pds_encode(buf, PDH_PDS_MAX, p);

	if (n < 0)
		return (int)n;
	return shim6_cga_parse(v, buf, (size_t)n) < 0 ? PDH_EINVAL : (int)n;
}

int pdh_addr_for_prefix(uint8_t addr[16], const struct pdh_pds *p, const uint8_t prefix[8], int sec)
{
	uint8_t buf[PDH_PDS_MAX];
	struct shim6_cga_params v;
	int n = view(&v, buf, p);

	if (n < 0)
		return n;
	memcpy(addr, prefix, 8);
	return shim6_cga_iid(&v, prefix, (unsigned)sec, addr + 8) < 0 ? PDH_ECRYPTO : PDH_OK;
}

int pdh_verify(const uint8_t addr[16], const struct pdh_pds *pds, int sec)
{
	uint8_t buf[PDH_PDS_MAX];
	struct shim6_cga_params v;
	int n = view(&v, buf, pds);

	if (n < 0)
		return n;
	if (sec < 0 || (addr[8] >> 5) != sec)
		return PDH_EINVAL;
	n = pds->has_multi_prefix ? shim6_hba_verify(addr, buf, (size_t)n)
	                          : shim6_cga_verify(addr, buf, (size_t)n);
	return n < 0 ? PDH_EINVAL : PDH_OK;
}

/* ---- modifier pool ---- */

int pdh_modpool_init(struct pdh_modpool *mp, const struct pdh_conf *c, size_t cap,
                     pdh_rand_fn rnd, void *rnd_arg)
{
	memset(mp, 0, sizeof(*mp));
	if (cap == 0 || cap > PDH_MODPOOL_MAX)
		return PDH_EINVAL;
	mp->mods = calloc(cap, 16);
	if (!mp->mods)
		return PDH_ENOSPC;
	mp->cap = cap;
	mp->conf = c;
	mp->rnd = rnd;
	mp->rnd_arg = rnd_arg;
	pthread_mutex_init(&mp->lock, NULL);
	pthread_cond_init(&mp->cond, NULL);
	return PDH_OK;
}

int pdh_modpool_fill_one(struct pdh_modpool *mp)
{
	struct rng_glue g = {mp->rnd, mp->rnd_arg};
	struct shim6_cga_rng rng = {.user = &g, .fill = rng_fill};
	struct cand c;
	int rc = first(&c, mp->conf, &rng, NULL, &mp->stop);

	if (rc < 0)
		return rc;
	pthread_mutex_lock(&mp->lock);
	if (mp->count < mp->cap) {
		memcpy(mp->mods[(mp->head + mp->count) % mp->cap], c.modifier, 16);
		mp->count++;
		mp->made++;
	}
	pthread_mutex_unlock(&mp->lock);
	return PDH_OK;
}

int pdh_modpool_take(struct pdh_modpool *mp, uint8_t out[16])
{
	int rc = PDH_ENOENT;

	pthread_mutex_lock(&mp->lock);
	if (mp->count) {
		memcpy(out, mp->mods[mp->head], 16);
		memset(mp->mods[mp->head], 0, 16); /* used once */
		mp->head = (mp->head + 1) % mp->cap;
		mp->count--;
		mp->taken++;
		rc = PDH_OK;
		pthread_cond_signal(&mp->cond);
	} else {
		mp->empty++;
	}
	pthread_mutex_unlock(&mp->lock);
	return rc;
}

static void *pool_main(void *arg)
{
	struct pdh_modpool *mp = arg;

	/* Searching ahead must never take CPU from packet processing. */
	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
	for (;;) {
		pthread_mutex_lock(&mp->lock);
		while (!mp->stop && mp->count == mp->cap)
			pthread_cond_wait(&mp->cond, &mp->lock);
		pthread_mutex_unlock(&mp->lock);
		if (mp->stop)
			break;
		if (pdh_modpool_fill_one(mp) < 0 && !mp->stop)
			usleep(100000); /* RNG trouble: do not spin */
	}
	return NULL;
}

int pdh_modpool_start(struct pdh_modpool *mp)
{
	if (pthread_create(&mp->th, NULL, pool_main, mp) != 0)
		return PDH_EIO;
	mp->running = 1;
	return PDH_OK;
}

void pdh_modpool_free(struct pdh_modpool *mp)
{
	if (!mp->mods)
		return;
	pthread_mutex_lock(&mp->lock);
	mp->stop = 1;
	pthread_cond_broadcast(&mp->cond);
	pthread_mutex_unlock(&mp->lock);
	if (mp->running)
		pthread_join(mp->th, NULL);
	pthread_cond_destroy(&mp->cond);
	pthread_mutex_destroy(&mp->lock);
	free(mp->mods);
	mp->mods = NULL;
}
