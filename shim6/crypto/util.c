/* Error strings, randomness, SHA-1 and hex: the small shared pieces. */
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "cga_internal.h"

const uint8_t shim6_cga_shim6_tag[16] = {
	0x4a, 0x30, 0x56, 0x62, 0x48, 0x58, 0x57, 0x4b,
	0x36, 0x55, 0x41, 0x6f, 0x50, 0x6a, 0x6d, 0x48,
};

const char *shim6_cga_strerror(int err)
{
	switch (err) {
	case SHIM6_CGA_OK:         return "ok";
	case SHIM6_CGA_EINVAL:     return "invalid argument";
	case SHIM6_CGA_ESHORT:     return "CGA parameters truncated";
	case SHIM6_CGA_EKEYDER:    return "public key is not a well-formed DER SubjectPublicKeyInfo";
	case SHIM6_CGA_EEXT:       return "malformed or duplicate CGA extension field";
	case SHIM6_CGA_ETOOLONG:   return "CGA parameters too long";
	case SHIM6_CGA_ECOLLISION: return "collision count greater than 2";
	case SHIM6_CGA_EPREFIX:    return "subnet prefix does not match the address";
	case SHIM6_CGA_EHASH1:     return "interface identifier does not match Hash1";
	case SHIM6_CGA_EHASH2:     return "Hash2 does not meet the address's Sec value";
	case SHIM6_CGA_ESEC:       return "unsupported Sec value (only 0, 1, 2)";
	case SHIM6_CGA_ENOSPACE:   return "output buffer too small";
	case SHIM6_CGA_ECANCELLED: return "generation cancelled";
	case SHIM6_CGA_ECRYPTO:    return "OpenSSL operation failed";
	case SHIM6_CGA_EKEY:       return "unusable key (RSA of 1024..4096 bits required)";
	case SHIM6_CGA_ESIG:       return "signature does not verify";
	case SHIM6_CGA_ENOTHBA:    return "no Multi-Prefix Extension: not an HBA set";
	case SHIM6_CGA_ENOTINSET:  return "address prefix is not in the HBA set";
	case SHIM6_CGA_EPSEUDOKEY: return "HBA set has a pseudo-key: no signatures";
	case SHIM6_CGA_ERNG:       return "random source failed";
	case SHIM6_CGA_EIO:        return "cannot read key file";
	case SHIM6_CGA_ENOPRIV:    return "signing needs a private key";
	case SHIM6_CGA_EHEX:       return "not an even-length hexadecimal string";
	default:                   return "unknown error";
	}
}

int cga_rng_fill(const struct shim6_cga_rng *rng, uint8_t *buf, size_t len)
{
	if (rng && rng->fill)
		return rng->fill(rng->user, buf, len) == 0 ? 0 : SHIM6_CGA_ERNG;
	if (len > (size_t)INT32_MAX || RAND_bytes(buf, (int)len) != 1)
		return SHIM6_CGA_ERNG;
	return 0;
}

/* The by-name fetch costs about as much as hashing a PDS: do it once. */
static pthread_once_t sha1_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha1_md;

static void sha1_fetch(void)
{
	sha1_md = EVP_MD_fetch(NULL, "SHA1", NULL);
}

int cga_hasher_init(struct cga_hasher *h)
{
	pthread_once(&sha1_once, sha1_fetch);
	h->md = sha1_md && EVP_MD_up_ref(sha1_md) ? sha1_md : NULL;
	h->ctx = EVP_MD_CTX_new();
	if (!h->md || !h->ctx) {
		cga_hasher_free(h);
		return SHIM6_CGA_ECRYPTO;
	}
	return 0;
}

void cga_hasher_free(struct cga_hasher *h)
{
	EVP_MD_CTX_free(h->ctx);
	EVP_MD_free(h->md);
	h->ctx = NULL;
	h->md = NULL;
}

int cga_sha1(struct cga_hasher *h, uint8_t md[20],
             const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
             const uint8_t *c, size_t clen, const uint8_t *d, size_t dlen)
{
	struct cga_hasher tmp;
	unsigned int n = 0;
	int rc = 0;

	if (!h) {
		if ((rc = cga_hasher_init(&tmp)) < 0)
			return rc;
		h = &tmp;
	}
	if (!EVP_DigestInit_ex2(h->ctx, h->md, NULL) ||
	    (alen && !EVP_DigestUpdate(h->ctx, a, alen)) ||
	    (blen && !EVP_DigestUpdate(h->ctx, b, blen)) ||
	    (clen && !EVP_DigestUpdate(h->ctx, c, clen)) ||
	    (dlen && !EVP_DigestUpdate(h->ctx, d, dlen)) ||
	    !EVP_DigestFinal_ex(h->ctx, md, &n) || n != 20)
		rc = SHIM6_CGA_ECRYPTO;
	if (h == &tmp)
		cga_hasher_free(&tmp);
	return rc;
}

int shim6_cga_hex_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
	static const char digits[] = "0123456789abcdef";

	if ((!in && len) || !out || len > (size_t)INT32_MAX / 2)
		return SHIM6_CGA_EINVAL;
	if (cap < 2 * len + 1) {
		if (cap)
			out[0] = '\0';
		return SHIM6_CGA_ENOSPACE;
	}
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
	return (int)(2 * len);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

int shim6_cga_hex_decode(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	if (!hex || (!out && cap))
		return SHIM6_CGA_EINVAL;
	for (; *hex; hex++) {
		int v;
		if (*hex == ':' || *hex == ' ' || *hex == '\t' || *hex == '\n' || *hex == '\r')
			continue;
		if ((v = hexval(*hex)) < 0)
			return SHIM6_CGA_EHEX;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n >= cap || n >= (size_t)INT32_MAX)
			return SHIM6_CGA_ENOSPACE;
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	return hi < 0 ? (int)n : SHIM6_CGA_EHEX;
}
