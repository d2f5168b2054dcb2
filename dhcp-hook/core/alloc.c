/*
 * CMULA allocation over shim6's CGA/HBA code (RFC 3972 §4 and §7.3; RFC 5535
 * §3).  Public key only, a fresh random modifier per client, collision count
 * 0..2 on a taken address, then a new modifier; at most PDH_MODIFIER_ATTEMPTS
 * modifiers before giving up.
 */
#include <string.h>
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

int pdh_alloc(const struct pdh_conf *conf, pdh_rand_fn rnd, void *rnd_arg,
              pdh_taken_fn taken, void *taken_arg, struct pdh_alloc_result *out)
{
	struct rng_glue g = {rnd, rnd_arg};
	struct shim6_cga_rng rng = {.user = &g, .fill = rng_fill};
	struct cand c;
	int rc;

	memset(out, 0, sizeof(*out));
	out->modifiers_tried = 1;
	if (conf->mode == PDH_MODE_HBA)
		rc = hba_make(&c, conf, &rng, NULL, 0);
	else if ((rc = shim6_cga_new(&c.cga, conf->cmula_prefix, conf->key, conf->key_len,
	                             (unsigned)conf->sec, 0, &rng)) < 0)
		rc = map_err(rc);
	else
		rc = cga_take(&c);
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
