/* CGA signatures over Shim6 locator lists (RFC 5533 §5.15.5):
 * RSASSA-PKCS1-v1_5 with SHA-1 over tag | generation | CGA locators. */
#include <pthread.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "cga_internal.h"

int shim6_cga_sig_input(const struct shim6_cga_loclist *ll, uint8_t *out, size_t cap)
{
	size_t n = 4;

	if (!ll || !out || (ll->count && (!ll->methods || !ll->locators)) || ll->count > 255)
		return SHIM6_CGA_EINVAL;
	if (cap < 4)
		return SHIM6_CGA_ENOSPACE;
	out[0] = (uint8_t)(ll->generation >> 24);
	out[1] = (uint8_t)(ll->generation >> 16);
	out[2] = (uint8_t)(ll->generation >> 8);
	out[3] = (uint8_t)ll->generation;
	for (size_t i = 0; i < ll->count; i++) {
		if (ll->methods[i] != SHIM6_CGA_VERIF_CGA)
			continue;
		if (cap - n < 16)
			return SHIM6_CGA_ENOSPACE;
		memcpy(out + n, ll->locators + 16 * i, 16);
		n += 16;
	}
	return (int)n;
}

/* SHA-1 fetched once: a by-name fetch on every signature costs more than
 * the hashing. */
static pthread_once_t sha1_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha1_md;

static void sha1_fetch(void)
{
	sha1_md = EVP_MD_fetch(NULL, "SHA1", NULL);
}

static const EVP_MD *sha1(void)
{
	pthread_once(&sha1_once, sha1_fetch);
	return sha1_md;
}

/* Decoding a SubjectPublicKeyInfo through OpenSSL 3's decoders costs several
 * RSA-2048 verifications, and a peer sends the same key again and again.  A
 * small LRU of decoded keys, keyed by the exact DER octets, removes that. */
#define KEY_CACHE_SLOTS 8
#define KEY_CACHE_MAX_DER 600           /* RSA-4096 SPKI is 550 octets */
static struct {
	size_t    len;
	uint8_t   der[KEY_CACHE_MAX_DER];
	EVP_PKEY *key;
	uint64_t  used;
} key_cache[KEY_CACHE_SLOTS];
static uint64_t key_cache_clock;
static pthread_mutex_t key_cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* A reference to the decoded key (caller frees), or NULL. */
static EVP_PKEY *spki_key(const uint8_t *der, size_t len)
{
	const unsigned char *kp = der;
	EVP_PKEY *k = NULL;
	size_t victim = 0;

	pthread_mutex_lock(&key_cache_lock);
	for (size_t i = 0; i < KEY_CACHE_SLOTS; i++) {
		if (key_cache[i].key && key_cache[i].len == len && !memcmp(key_cache[i].der, der, len)) {
			key_cache[i].used = ++key_cache_clock;
			k = key_cache[i].key;
			EVP_PKEY_up_ref(k);
			break;
		}
	}
	pthread_mutex_unlock(&key_cache_lock);
	if (k)
		return k;

	k = d2i_PUBKEY(NULL, &kp, (long)len);
	if (!k || kp != der + len) {
		EVP_PKEY_free(k);
		ERR_clear_error();
		return NULL;
	}
	if (len > KEY_CACHE_MAX_DER || EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA)
		return k;
	pthread_mutex_lock(&key_cache_lock);
	for (size_t i = 1; i < KEY_CACHE_SLOTS; i++)
		if (key_cache[i].used < key_cache[victim].used)
			victim = i;
	EVP_PKEY_free(key_cache[victim].key);
	memcpy(key_cache[victim].der, der, len);
	key_cache[victim].len = len;
	key_cache[victim].key = k;
	key_cache[victim].used = ++key_cache_clock;
	EVP_PKEY_up_ref(k);
	pthread_mutex_unlock(&key_cache_lock);
	return k;
}

static int rsa_ok(EVP_PKEY *k)
{
	int bits;

	if (!k || EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA)
		return SHIM6_CGA_EKEY;
	bits = EVP_PKEY_get_bits(k);
	return bits >= SHIM6_CGA_KEY_BITS_MIN && bits <= SHIM6_CGA_KEY_BITS_MAX ? 0 : SHIM6_CGA_EKEY;
}

int shim6_cga_sign_data(EVP_PKEY *priv, const uint8_t *data, size_t len,
                        uint8_t *sig, size_t cap)
{
	EVP_MD_CTX *ctx;
	EVP_PKEY_CTX *pctx = NULL;
	size_t slen = cap;
	int rc;

	if (!priv || (!data && len) || !sig)
		return SHIM6_CGA_EINVAL;
	if ((rc = rsa_ok(priv)) < 0)
		return rc;
	if (!shim6_key_has_private(priv))
		return SHIM6_CGA_ENOPRIV;
	if ((size_t)EVP_PKEY_get_size(priv) > cap)
		return SHIM6_CGA_ENOSPACE;
	if (!(ctx = EVP_MD_CTX_new()))
		return SHIM6_CGA_ECRYPTO;
	if (sha1() && EVP_DigestSignInit(ctx, &pctx, sha1(), NULL, priv) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
	    EVP_DigestSignUpdate(ctx, shim6_cga_shim6_tag, 16) == 1 &&
	    (len == 0 || EVP_DigestSignUpdate(ctx, data, len) == 1) &&
	    EVP_DigestSignFinal(ctx, sig, &slen) == 1)
		rc = (int)slen;
	else
		rc = SHIM6_CGA_ECRYPTO;
	EVP_MD_CTX_free(ctx);
	return rc;
}

int shim6_cga_sign(EVP_PKEY *priv, const struct shim6_cga_loclist *ll,
                   uint8_t *sig, size_t cap)
{
	uint8_t in[4 + 255 * 16];
	int n = shim6_cga_sig_input(ll, in, sizeof(in));

	return n < 0 ? n : shim6_cga_sign_data(priv, in, (size_t)n, sig, cap);
}

int shim6_cga_verify_sig_key(EVP_PKEY *pub, const uint8_t *data, size_t len,
                             const uint8_t *sig, size_t sig_len)
{
	EVP_MD_CTX *ctx;
	EVP_PKEY_CTX *pctx = NULL;
	int rc, v;

	if (!pub || (!data && len) || !sig)
		return SHIM6_CGA_EINVAL;
	if ((rc = rsa_ok(pub)) < 0)
		return rc;
	if (sig_len != (size_t)EVP_PKEY_get_size(pub))
		return SHIM6_CGA_ESIG;
	if (!(ctx = EVP_MD_CTX_new()))
		return SHIM6_CGA_ECRYPTO;
	if (sha1() && EVP_DigestVerifyInit(ctx, &pctx, sha1(), NULL, pub) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
	    EVP_DigestVerifyUpdate(ctx, shim6_cga_shim6_tag, 16) == 1 &&
	    (len == 0 || EVP_DigestVerifyUpdate(ctx, data, len) == 1)) {
		v = EVP_DigestVerifyFinal(ctx, sig, sig_len);
		rc = v == 1 ? 0 : SHIM6_CGA_ESIG;
	} else {
		rc = SHIM6_CGA_ECRYPTO;
	}
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

int shim6_cga_verify_sig_data(const uint8_t *pds, size_t pds_len,
                              const uint8_t *data, size_t len,
                              const uint8_t *sig, size_t sig_len)
{
	struct shim6_cga_params p;
	EVP_PKEY *pub;
	int rc;

	if ((rc = shim6_cga_parse(&p, pds, pds_len)) < 0)
		return rc;
	if (p.mp_present && !p.mp_pflag)
		return SHIM6_CGA_EPSEUDOKEY;
	if (!(pub = spki_key(p.pubkey, p.pubkey_len)))
		return SHIM6_CGA_EKEY;
	rc = shim6_cga_verify_sig_key(pub, data, len, sig, sig_len);
	EVP_PKEY_free(pub);
	return rc;
}

int shim6_cga_verify_sig(const uint8_t *pds, size_t pds_len,
                         const struct shim6_cga_loclist *ll,
                         const uint8_t *sig, size_t sig_len)
{
	uint8_t in[4 + 255 * 16];
	int n = shim6_cga_sig_input(ll, in, sizeof(in));

	return n < 0 ? n : shim6_cga_verify_sig_data(pds, pds_len, in, (size_t)n, sig, sig_len);
}
