/* Hash1 and Hash2 of RFC 3972 §3-§5. */
#include <string.h>

#include "cga_internal.h"

static const uint8_t zero9[9];

static bool hash2_ok(const uint8_t md[20], unsigned sec)
{
	for (unsigned i = 0; i < 2 * sec; i++)
		if (md[i])
			return false;
	return true;
}

int shim6_cga_check_hash2(const struct shim6_cga_params *p, unsigned sec)
{
	uint8_t md[20];
	int rc;

	if (!p || !p->modifier)
		return SHIM6_CGA_EINVAL;
	if (sec > SHIM6_CGA_SEC_MAX)
		return SHIM6_CGA_ESEC;
	if (sec == 0)
		return 0;
	rc = cga_sha1(NULL, md, p->modifier, 16, zero9, 9, p->pubkey, p->pubkey_len,
	              p->ext, p->ext_len);
	if (rc < 0)
		return rc;
	return hash2_ok(md, sec) ? 0 : SHIM6_CGA_EHASH2;
}

void cga_iid_from_hash(const uint8_t hash1[20], unsigned sec, uint8_t iid[8])
{
	memcpy(iid, hash1, 8);
	/* Top 3 bits carry Sec; u (0x02) and g (0x01) are cleared. */
	iid[0] = (uint8_t)((iid[0] & 0x1c) | (sec & 7) << 5);
}

int shim6_cga_iid(const struct shim6_cga_params *p, const uint8_t *prefix,
                  unsigned sec, uint8_t iid[8])
{
	uint8_t md[20];
	int rc;

	if (!p || !p->raw || p->raw_len < SHIM6_CGA_FIXED_LEN || !iid)
		return SHIM6_CGA_EINVAL;
	if (sec > SHIM6_CGA_SEC_MAX)
		return SHIM6_CGA_ESEC;
	if (!prefix)
		prefix = p->prefix;
	/* Hash1 over the PDS with `prefix` spliced into the Subnet Prefix field
	 * (HBA verification substitutes each address's own prefix). */
	rc = cga_sha1(NULL, md, p->raw, 16, prefix, 8, p->raw + 24, p->raw_len - 24, NULL, 0);
	if (rc < 0)
		return rc;
	cga_iid_from_hash(md, sec, iid);
	return 0;
}

int cga_find_modifier(uint8_t modifier[16], unsigned sec,
                      const uint8_t *key, size_t key_len,
                      const uint8_t *ext, size_t ext_len,
                      const struct shim6_cga_gen_opts *opts, uint64_t *tries)
{
	struct cga_hasher h;
	uint64_t every = opts && opts->progress_every ? opts->progress_every : 65536;
	uint64_t n = 0;
	uint8_t md[20];
	int rc;

	if (sec > SHIM6_CGA_SEC_MAX)
		return SHIM6_CGA_ESEC;
	if (sec == 0)
		return 0;                        /* any modifier will do */
	if ((rc = cga_hasher_init(&h)) < 0)
		return rc;
	for (;;) {
		rc = cga_sha1(&h, md, modifier, 16, zero9, 9, key, key_len, ext, ext_len);
		n++;
		if (rc < 0 || hash2_ok(md, sec))
			break;
		/* Next candidate: modifier + 1, a 128-bit big-endian integer. */
		for (int i = 15; i >= 0 && ++modifier[i] == 0; i--)
			;
		if (opts && (n & 4095) == 0 && opts->cancel && *opts->cancel) {
			rc = SHIM6_CGA_ECANCELLED;
			break;
		}
		if (opts && opts->progress && n % every == 0 &&
		    opts->progress(opts->progress_user, *tries + n, sec)) {
			rc = SHIM6_CGA_ECANCELLED;
			break;
		}
	}
	cga_hasher_free(&h);
	*tries += n;
	return rc;
}
