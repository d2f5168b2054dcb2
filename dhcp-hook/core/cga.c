/*
 * The two CGA hashes (RFC 3972 §4).  Kept behind three small functions so the
 * allocator does not care where the SHA-1 comes from.
 */
#include <string.h>
#include <openssl/evp.h>
#include "cga.h"

static int sha1(uint8_t md[20], const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                const uint8_t *c, size_t clen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned mdlen = 0;
	int ok;

	if (!ctx)
		return PDH_ECRYPTO;
	ok = EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) && EVP_DigestUpdate(ctx, a, alen) &&
	     (!blen || EVP_DigestUpdate(ctx, b, blen)) && (!clen || EVP_DigestUpdate(ctx, c, clen)) &&
	     EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	return ok && mdlen == 20 ? PDH_OK : PDH_ECRYPTO;
}

int pdh_cga_hash2_ok(const uint8_t mod[16], const uint8_t *key, size_t klen,
                     const uint8_t *ext, size_t extlen, int sec)
{
	uint8_t head[25] = {0}, md[20];

	if (sec == 0)
		return 1;
	memcpy(head, mod, 16); /* then 9 zero octets: prefix and collision count */
	if (sha1(md, head, sizeof(head), key, klen, ext, extlen) < 0)
		return PDH_ECRYPTO;
	for (int i = 0; i < 2 * sec; i++)
		if (md[i])
			return 0;
	return 1;
}

static void inc128(uint8_t m[16])
{
	for (int i = 15; i >= 0; i--)
		if (++m[i])
			break;
}

int pdh_cga_find_modifier(uint8_t mod[16], const uint8_t *key, size_t klen,
                          const uint8_t *ext, size_t extlen, int sec, uint32_t max_tries)
{
	for (uint32_t i = 0; i < max_tries; i++) {
		int ok = pdh_cga_hash2_ok(mod, key, klen, ext, extlen, sec);
		if (ok < 0)
			return ok;
		if (ok)
			return PDH_OK;
		inc128(mod);
	}
	return PDH_EEXHAUSTED;
}

int pdh_cga_iid(uint8_t iid[8], const uint8_t *pds, size_t len, int sec)
{
	uint8_t md[20];

	if (sha1(md, pds, len, NULL, 0, NULL, 0) < 0)
		return PDH_ECRYPTO;
	memcpy(iid, md, 8);
	iid[0] = (uint8_t)((iid[0] & 0x1c) | (sec << 5)); /* Sec in top 3 bits; u, g cleared */
	return PDH_OK;
}
