/* CGA generation, RFC 3972 §4. */
#include <string.h>

#include "cga_internal.h"

/* Steps 5-6: Hash1 over the finished PDS gives the interface identifier. */
static int form_address(struct shim6_cga *out)
{
	uint8_t md[20];
	int rc = cga_sha1(NULL, md, out->pds, out->pds_len, NULL, 0, NULL, 0, NULL, 0);

	if (rc < 0)
		return rc;
	memcpy(out->addr, out->pds + 16, 8);
	cga_iid_from_hash(md, out->sec, out->addr + 8);
	return 0;
}

int shim6_cga_generate(struct shim6_cga *out, const uint8_t prefix[8],
                       const uint8_t *pubkey, size_t pubkey_len,
                       const struct shim6_cga_gen_opts *opts)
{
	struct shim6_cga_gen_opts def = { 0 };
	int rc;

	if (!out || !prefix || !pubkey)
		return SHIM6_CGA_EINVAL;
	if (!opts)
		opts = &def;
	if (opts->sec > SHIM6_CGA_SEC_MAX)
		return SHIM6_CGA_ESEC;
	if (opts->collision_count > SHIM6_CGA_COLLISION_MAX)
		return SHIM6_CGA_ECOLLISION;
	if (cga_der_tlv_len(pubkey, pubkey_len, 0x30) != (int)pubkey_len)
		return SHIM6_CGA_EKEYDER;
	memset(out, 0, sizeof(*out));
	out->sec = opts->sec;
	out->collision_count = opts->collision_count;
	if (opts->modifier)
		memcpy(out->modifier, opts->modifier, 16);
	else if ((rc = cga_rng_fill(opts->rng, out->modifier, 16)) < 0)
		return rc;
	rc = cga_find_modifier(out->modifier, opts->sec, pubkey, pubkey_len,
	                       opts->ext, opts->ext_len, opts, &out->tries);
	if (rc < 0)
		return rc;
	rc = shim6_cga_build(out->pds, sizeof(out->pds), out->modifier, prefix,
	                     out->collision_count, pubkey, pubkey_len,
	                     opts->ext, opts->ext_len);
	if (rc < 0)
		return rc;
	out->pds_len = (size_t)rc;
	return form_address(out);
}

int shim6_cga_new(struct shim6_cga *out, const uint8_t prefix[8],
                  const uint8_t *pubkey, size_t pubkey_len,
                  unsigned sec, uint8_t collision_count,
                  const struct shim6_cga_rng *rng)
{
	struct shim6_cga_gen_opts o = {
		.sec = sec, .collision_count = collision_count, .rng = rng,
	};

	return shim6_cga_generate(out, prefix, pubkey, pubkey_len, &o);
}

int shim6_cga_bump(struct shim6_cga *cga, const struct shim6_cga_rng *rng)
{
	struct shim6_cga_params p;
	uint8_t key[SHIM6_CGA_PDS_MAX], ext[SHIM6_CGA_PDS_MAX], prefix[8];
	size_t key_len, ext_len;
	int rc;

	if (!cga || (rc = shim6_cga_parse(&p, cga->pds, cga->pds_len)) < 0)
		return cga ? rc : SHIM6_CGA_EINVAL;
	if (cga->sec > SHIM6_CGA_SEC_MAX)
		return SHIM6_CGA_ESEC;
	if (cga->collision_count < SHIM6_CGA_COLLISION_MAX) {
		cga->collision_count++;
		cga->pds[24] = cga->collision_count;
		rc = form_address(cga);
		return rc < 0 ? rc : 0;
	}
	/* RFC 3972 §4 step 7 gives up after three collisions; an allocator
	 * would rather start over with a new modifier. */
	memcpy(key, p.pubkey, p.pubkey_len);
	key_len = p.pubkey_len;
	memcpy(ext, p.ext, p.ext_len);
	ext_len = p.ext_len;
	memcpy(prefix, p.prefix, 8);
	{
		struct shim6_cga_gen_opts o = { .sec = cga->sec, .rng = rng,
		                                .ext = ext_len ? ext : NULL, .ext_len = ext_len };
		rc = shim6_cga_generate(cga, prefix, key, key_len, &o);
	}
	return rc < 0 ? rc : 1;
}
