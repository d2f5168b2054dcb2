/* Hash-Based Addresses, RFC 5535. */
#include <string.h>

#include <shim6/hba.h>

#include "cga_internal.h"

int shim6_hba_pseudo_key(uint8_t *out, size_t cap, const struct shim6_cga_rng *rng)
{
	/* SubjectPublicKeyInfo { rsaEncryption, RSAPublicKey { n, 65537 } }
	 * with n a random 384-bit odd number: 78 octets. */
	static const uint8_t head[] = {
		0x30, 0x4c,
		0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
		0x05, 0x00,
		0x03, 0x3b, 0x00,
		0x30, 0x38,
		0x02, 0x31, 0x00,
	};
	static const uint8_t tail[] = { 0x02, 0x03, 0x01, 0x00, 0x01 };
	const size_t mlen = SHIM6_HBA_PSEUDO_KEY_BITS / 8;
	int rc;

	if (!out)
		return SHIM6_CGA_EINVAL;
	if (cap < sizeof(head) + mlen + sizeof(tail))
		return SHIM6_CGA_ENOSPACE;
	memcpy(out, head, sizeof(head));
	if ((rc = cga_rng_fill(rng, out + sizeof(head), mlen)) < 0)
		return rc;
	out[sizeof(head)] |= 0x80;
	out[sizeof(head) + mlen - 1] |= 0x01;
	memcpy(out + sizeof(head) + mlen, tail, sizeof(tail));
	return (int)(sizeof(head) + mlen + sizeof(tail));
}

int shim6_hba_mp_ext(uint8_t *out, size_t cap, bool pflag,
                     const uint8_t *prefixes, size_t n)
{
	size_t len = 4 + 8 * n;

	if (!out || !prefixes || n == 0 || n > SHIM6_HBA_MAX_PREFIXES)
		return SHIM6_CGA_EINVAL;
	if (cap < 4 + len)
		return SHIM6_CGA_ENOSPACE;
	out[0] = SHIM6_CGA_EXT_MULTIPREFIX >> 8;
	out[1] = SHIM6_CGA_EXT_MULTIPREFIX & 0xff;
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
	out[4] = pflag ? 0x80 : 0;
	out[5] = out[6] = out[7] = 0;
	memcpy(out + 8, prefixes, 8 * n);
	return (int)(4 + len);
}

int shim6_hba_generate(struct shim6_hba_set *out,
                       const uint8_t *prefixes, size_t n,
                       const uint8_t *pubkey, size_t pubkey_len,
                       const struct shim6_cga_gen_opts *opts)
{
	struct shim6_cga_gen_opts def = { 0 };
	struct shim6_cga_params p;
	uint8_t key[SHIM6_CGA_PDS_MAX], ext[4 + 4 + 8 * SHIM6_HBA_MAX_PREFIXES];
	int klen, elen, rc;

	if (!out || !prefixes || n == 0 || n > SHIM6_HBA_MAX_PREFIXES)
		return SHIM6_CGA_EINVAL;
	if (!opts)
		opts = &def;
	if (opts->ext || opts->ext_len)
		return SHIM6_CGA_EINVAL;
	if (opts->sec > SHIM6_CGA_SEC_MAX)
		return SHIM6_CGA_ESEC;
	if (opts->collision_count > SHIM6_CGA_COLLISION_MAX)
		return SHIM6_CGA_ECOLLISION;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (memcmp(prefixes + 8 * i, prefixes + 8 * j, 8) == 0)
				return SHIM6_CGA_EINVAL;
	memset(out, 0, sizeof(*out));
	if (pubkey) {
		if (pubkey_len > sizeof(key) ||
		    cga_der_tlv_len(pubkey, pubkey_len, 0x30) != (int)pubkey_len)
			return SHIM6_CGA_EKEYDER;
		memcpy(key, pubkey, pubkey_len);
		klen = (int)pubkey_len;
	} else if ((klen = shim6_hba_pseudo_key(key, sizeof(key), opts->rng)) < 0) {
		return klen;
	}
	out->real_key = pubkey != NULL;
	if ((elen = shim6_hba_mp_ext(ext, sizeof(ext), out->real_key, prefixes, n)) < 0)
		return elen;
	out->sec = opts->sec;
	if (opts->modifier)
		memcpy(out->modifier, opts->modifier, 16);
	else if ((rc = cga_rng_fill(opts->rng, out->modifier, 16)) < 0)
		return rc;
	/* One Hash2 search for the whole set: it covers the extension. */
	rc = cga_find_modifier(out->modifier, opts->sec, key, (size_t)klen, ext, (size_t)elen,
	                       opts, &out->tries);
	if (rc < 0)
		return rc;
	rc = shim6_cga_build(out->pds, sizeof(out->pds), out->modifier, prefixes,
	                     opts->collision_count, key, (size_t)klen, ext, (size_t)elen);
	if (rc < 0)
		return rc;
	out->pds_len = (size_t)rc;
	if ((rc = shim6_cga_parse(&p, out->pds, out->pds_len)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		memcpy(out->addrs[i], prefixes + 8 * i, 8);
		if ((rc = shim6_cga_iid(&p, prefixes + 8 * i, out->sec, out->addrs[i] + 8)) < 0)
			return rc;
	}
	out->count = n;
	return 0;
}

int shim6_hba_verify(const uint8_t addr[16], const uint8_t *pds, size_t pds_len)
{
	struct shim6_cga_params p;
	uint8_t iid[8];
	unsigned sec;
	size_t i;
	int rc;

	if (!addr)
		return SHIM6_CGA_EINVAL;
	if ((rc = shim6_cga_parse(&p, pds, pds_len)) < 0)
		return rc;
	if (!p.mp_present)
		return SHIM6_CGA_ENOTHBA;
	if (p.collision_count > SHIM6_CGA_COLLISION_MAX)
		return SHIM6_CGA_ECOLLISION;
	for (i = 0; i < p.n_prefixes; i++)
		if (memcmp(p.prefixes + 8 * i, addr, 8) == 0)
			break;
	if (i == p.n_prefixes)
		return SHIM6_CGA_ENOTINSET;
	sec = addr[8] >> 5;
	if (sec > SHIM6_CGA_SEC_MAX)
		return SHIM6_CGA_ESEC;
	if ((rc = shim6_cga_iid(&p, addr, sec, iid)) < 0)
		return rc;
	if ((iid[0] & 0x1c) != (addr[8] & 0x1c) || memcmp(iid + 1, addr + 9, 7) != 0)
		return SHIM6_CGA_EHASH1;
	return shim6_cga_check_hash2(&p, sec);
}
