/* RSA keys through OpenSSL 3 EVP: load (PEM/DER, private/public), generate,
 * export.  Every key this library accepts is RSA of 1024..4096 bits. */
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/decoder.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cga_internal.h"

static int check_rsa(EVP_PKEY *k)
{
	int bits;

	if (!k || EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA)
		return SHIM6_CGA_EKEY;
	bits = EVP_PKEY_get_bits(k);
	if (bits < SHIM6_CGA_KEY_BITS_MIN || bits > SHIM6_CGA_KEY_BITS_MAX)
		return SHIM6_CGA_EKEY;
	return 0;
}

int shim6_key_load(EVP_PKEY **out, const uint8_t *buf, size_t len)
{
	/* Private first: a private key file also yields the public half. */
	static const int selections[] = { EVP_PKEY_KEYPAIR, EVP_PKEY_PUBLIC_KEY };
	EVP_PKEY *k = NULL;
	int rc;

	if (!out || !buf || len == 0 || len > (1u << 20))
		return SHIM6_CGA_EINVAL;
	*out = NULL;
	for (size_t i = 0; i < sizeof(selections) / sizeof(selections[0]) && !k; i++) {
		const unsigned char *p = buf;
		size_t left = len;
		OSSL_DECODER_CTX *dctx = OSSL_DECODER_CTX_new_for_pkey(&k, NULL, NULL, "RSA",
		                                                       selections[i], NULL, NULL);
		if (!dctx)
			return SHIM6_CGA_ECRYPTO;
		if (!OSSL_DECODER_from_data(dctx, &p, &left)) {
			EVP_PKEY_free(k);
			k = NULL;
		}
		OSSL_DECODER_CTX_free(dctx);
	}
	if (!k)
		return SHIM6_CGA_EKEY;
	if ((rc = check_rsa(k)) < 0) {
		EVP_PKEY_free(k);
		return rc;
	}
	*out = k;
	return 0;
}

int shim6_key_load_file(EVP_PKEY **out, const char *path)
{
	uint8_t buf[16384];
	size_t n;
	FILE *f;
	int bad;

	if (!out || !path)
		return SHIM6_CGA_EINVAL;
	*out = NULL;
	if (!(f = fopen(path, "rb")))
		return SHIM6_CGA_EIO;
	n = fread(buf, 1, sizeof(buf), f);
	bad = ferror(f) ? SHIM6_CGA_EIO : (n == sizeof(buf) && fgetc(f) != EOF) ? SHIM6_CGA_EKEY : 0;
	fclose(f);
	if (bad)
		return bad;
	if (n == 0)
		return SHIM6_CGA_EKEY;
	return shim6_key_load(out, buf, n);
}

int shim6_key_generate(EVP_PKEY **out, unsigned bits)
{
	EVP_PKEY *k;

	if (!out)
		return SHIM6_CGA_EINVAL;
	*out = NULL;
	if (bits == 0)
		bits = SHIM6_CGA_KEY_BITS_DEFAULT;
	if (bits < SHIM6_CGA_KEY_BITS_MIN || bits > SHIM6_CGA_KEY_BITS_MAX)
		return SHIM6_CGA_EKEY;
	if (!(k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits)))
		return SHIM6_CGA_ECRYPTO;
	*out = k;
	return 0;
}

int shim6_key_spki(EVP_PKEY *key, uint8_t *out, size_t cap)
{
	unsigned char *p = out;
	int n;

	if (!key || !out)
		return SHIM6_CGA_EINVAL;
	n = i2d_PUBKEY(key, NULL);
	if (n <= 0)
		return SHIM6_CGA_ECRYPTO;
	if ((size_t)n > cap)
		return SHIM6_CGA_ENOSPACE;
	return i2d_PUBKEY(key, &p) == n ? n : SHIM6_CGA_ECRYPTO;
}

bool shim6_key_has_private(EVP_PKEY *key)
{
	BIGNUM *d = NULL;
	bool has;

	if (!key)
		return false;
	has = EVP_PKEY_get_bn_param(key, "d", &d) == 1 && d != NULL;
	BN_free(d);
	return has;
}

/* Copy a memory BIO into out[cap]; text adds a NUL. */
static int bio_take(BIO *b, uint8_t *out, size_t cap, bool text)
{
	char *data;
	long n = BIO_get_mem_data(b, &data);

	if (n <= 0)
		return SHIM6_CGA_ECRYPTO;
	if ((size_t)n + (text ? 1 : 0) > cap)
		return SHIM6_CGA_ENOSPACE;
	memcpy(out, data, (size_t)n);
	if (text)
		out[n] = 0;
	return (int)n;
}

int shim6_key_to_pem(EVP_PKEY *key, bool priv, char *out, size_t cap)
{
	BIO *b;
	int ok, rc;

	if (!key || !out)
		return SHIM6_CGA_EINVAL;
	if (!(b = BIO_new(BIO_s_mem())))
		return SHIM6_CGA_ECRYPTO;
	if (priv && shim6_key_has_private(key))
		ok = PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL);
	else
		ok = PEM_write_bio_PUBKEY(b, key);
	rc = ok ? bio_take(b, (uint8_t *)out, cap, true) : SHIM6_CGA_ECRYPTO;
	BIO_free(b);
	return rc;
}

int shim6_key_to_der(EVP_PKEY *key, bool priv, uint8_t *out, size_t cap)
{
	BIO *b;
	int ok, rc;

	if (!key || !out)
		return SHIM6_CGA_EINVAL;
	if (!(priv && shim6_key_has_private(key)))
		return shim6_key_spki(key, out, cap);
	if (!(b = BIO_new(BIO_s_mem())))
		return SHIM6_CGA_ECRYPTO;
	ok = i2d_PKCS8PrivateKey_bio(b, key, NULL, NULL, 0, NULL, NULL);
	rc = ok ? bio_take(b, out, cap, false) : SHIM6_CGA_ECRYPTO;
	BIO_free(b);
	return rc;
}
