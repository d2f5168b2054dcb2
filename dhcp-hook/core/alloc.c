/*
 * CMULA allocation (RFC 3972 §4 and §7.3; RFC 5535 §3).  A fresh random
 * modifier per client, collision count 0..2 on a taken address, then a new
 * modifier; at most PDH_MODIFIER_ATTEMPTS modifiers.
 */
#include <string.h>
#include "cga.h"

/* ~2^16 tries expected at Sec 1; 2^24 leaves a wide margin before giving up. */
#define MODIFIER_SEARCH_MAX (1u << 24)

/* Extension bytes of the multi-prefix extension (empty for CGA mode). */
static size_t ext_bytes(uint8_t *out, const struct pdh_pds *p)
{
	uint8_t buf[PDH_PDS_MAX];
	ssize_t n = pdh_pds_encode(buf, sizeof(buf), p);

	if (n < 0)
		return 0;
	memcpy(out, buf + 25 + p->key_len, (size_t)n - 25 - p->key_len);
	return (size_t)n - 25 - p->key_len;
}

static int address_of(uint8_t addr[16], const struct pdh_pds *p, int sec)
{
	uint8_t buf[PDH_PDS_MAX];
	ssize_t n = pdh_pds_encode(buf, sizeof(buf), p);

	if (n < 0)
		return (int)n;
	memcpy(addr, p->prefix, 8);
	return pdh_cga_iid(addr + 8, buf, (size_t)n, sec);
}

int pdh_alloc(const struct pdh_conf *c, pdh_rand_fn rnd, void *rnd_arg,
              pdh_taken_fn taken, void *taken_arg, struct pdh_alloc_result *out)
{
	struct pdh_pds *p = &out->pds;
	uint8_t ext[8 + 8 * PDH_MAX_PREFIXES];
	size_t extlen;

	memset(out, 0, sizeof(*out));
	p->key = c->key;
	p->key_len = c->key_len;
	memcpy(p->prefix, c->cmula_prefix, 8);
	if (c->mode == PDH_MODE_HBA) {
		/* The set covers the CMULA prefix first, then every PA prefix;
		 * P=1: the public key field holds the site's real key. */
		p->has_multi_prefix = 1;
		p->p_flag = 1;
		memcpy(p->prefixes[0], c->cmula_prefix, 8);
		memcpy(p->prefixes[1], c->pa, 8 * c->n_pa);
		p->n_prefixes = 1 + c->n_pa;
	}
	extlen = ext_bytes(ext, p);

	for (unsigned m = 0; m < PDH_MODIFIER_ATTEMPTS; m++) {
		int rc;

		out->modifiers_tried++;
		if (rnd(rnd_arg, p->modifier, 16) != 0)
			return PDH_ECRYPTO;
		rc = pdh_cga_find_modifier(p->modifier, c->key, c->key_len, ext, extlen, c->sec,
		                           MODIFIER_SEARCH_MAX);
		if (rc < 0)
			return rc;
		for (uint8_t cc = 0; cc <= 2; cc++) {
			p->collision_count = cc;
			rc = address_of(out->addr, p, c->sec);
			if (rc < 0)
				return rc;
			rc = taken(taken_arg, out->addr);
			if (rc < 0)
				return rc;
			if (rc == 0)
				return PDH_OK;
			out->collisions++;
		}
	}
	return PDH_EEXHAUSTED;
}

int pdh_verify(const uint8_t addr[16], const struct pdh_pds *pds, int sec)
{
	struct pdh_pds q = *pds;
	uint8_t ext[8 + 8 * PDH_MAX_PREFIXES], want[16];
	size_t extlen = ext_bytes(ext, pds);
	int ok, rc, in_set = 0;

	if (sec < 0 || sec > 7 || (addr[8] >> 5) != sec)
		return PDH_EINVAL;
	/* RFC 3972 §5: a prefix that is not the address's own fails;
	 * RFC 5535 §5: for a set the address's prefix must be one of the set. */
	if (pds->has_multi_prefix) {
		for (size_t i = 0; i < pds->n_prefixes; i++)
			in_set |= !memcmp(pds->prefixes[i], addr, 8);
		if (!in_set)
			return PDH_EINVAL;
		memcpy(q.prefix, addr, 8);
	} else if (memcmp(pds->prefix, addr, 8)) {
		return PDH_EINVAL;
	}
	ok = pdh_cga_hash2_ok(pds->modifier, pds->key, pds->key_len, ext, extlen, sec);
	if (ok <= 0)
		return ok < 0 ? ok : PDH_EINVAL;
	rc = address_of(want, &q, sec);
	if (rc < 0)
		return rc;
	return memcmp(want, addr, 16) ? PDH_EINVAL : PDH_OK;
}

int pdh_addr_for_prefix(uint8_t addr[16], const struct pdh_pds *p, const uint8_t prefix[8], int sec)
{
	struct pdh_pds q = *p;

	memcpy(q.prefix, prefix, 8);
	return address_of(addr, &q, sec);
}
