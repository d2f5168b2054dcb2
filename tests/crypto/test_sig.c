/* Keys and CGA signatures over locator lists (RFC 5533 §5.15.5). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/encoder.h>

#include "testutil.h"
#include <shim6/wire.h>

static EVP_PKEY *key;   /* RSA-2048, the default */
static uint8_t spki[SHIM6_CGA_PDS_MAX];
static size_t spki_len;
static struct shim6_cga cga;
static const uint8_t pfx[8] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0x11 };

static uint8_t methods[3] = { SHIM6_CGA_VERIF_CGA, SHIM6_CGA_VERIF_HBA, SHIM6_CGA_VERIF_CGA };
static uint8_t locs[3][16];

static int setup(void **state)
{
	int n;
	(void)state;
	if (shim6_key_generate(&key, 0) < 0 || EVP_PKEY_get_bits(key) != 2048)
		return -1;
	if ((n = shim6_key_spki(key, spki, sizeof(spki))) <= 0)
		return -1;
	spki_len = (size_t)n;
	if (shim6_cga_new(&cga, pfx, spki, spki_len, 1, 0, NULL) < 0)
		return -1;
	addr_parse("2001:db8:1::11", locs[0]);
	addr_parse("2001:db8:2::22", locs[1]);
	addr_parse("2001:db8:3::33", locs[2]);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(key);
	return 0;
}

static void test_sig_input_layout(void **state)
{
	struct shim6_cga_loclist ll = { 0x01020304, 3, methods, &locs[0][0] };
	uint8_t in[64];

	(void)state;
	/* generation, then only the CGA-method locators, in order. */
	assert_int_equal(shim6_cga_sig_input(&ll, in, sizeof(in)), 4 + 32);
	assert_memory_equal(in, "\x01\x02\x03\x04", 4);
	assert_memory_equal(in + 4, locs[0], 16);
	assert_memory_equal(in + 20, locs[2], 16);
	assert_int_equal(shim6_cga_sig_input(&ll, in, 20), SHIM6_CGA_ENOSPACE);
}

static void test_sign_verify_and_tamper(void **state)
{
	struct shim6_cga_loclist ll = { 77, 3, methods, &locs[0][0] };
	uint8_t sig[SHIM6_CGA_SIG_MAX], in[64];
	int slen, ilen;

	(void)state;
	slen = shim6_cga_sign(key, &ll, sig, sizeof(sig));
	assert_int_equal(slen, 256);
	assert_int_equal(shim6_cga_verify_sig(cga.pds, cga.pds_len, &ll, sig, (size_t)slen), 0);

	/* Any single-bit change of the signed octets fails. */
	ilen = shim6_cga_sig_input(&ll, in, sizeof(in));
	for (int bit = 0; bit < ilen * 8; bit++) {
		in[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(shim6_cga_verify_sig_data(cga.pds, cga.pds_len, in, (size_t)ilen,
		                                           sig, (size_t)slen), SHIM6_CGA_ESIG);
		in[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	/* A modified locator list: other generation, a changed, dropped or
	 * re-ordered CGA locator, a locator switched to CGA. */
	struct shim6_cga_loclist m = ll;
	m.generation = 78;
	assert_int_equal(shim6_cga_verify_sig(cga.pds, cga.pds_len, &m, sig, (size_t)slen), SHIM6_CGA_ESIG);
	uint8_t l2[3][16];
	memcpy(l2, locs, sizeof(l2));
	l2[2][15] ^= 1;
	m = ll;
	m.locators = &l2[0][0];
	assert_int_equal(shim6_cga_verify_sig(cga.pds, cga.pds_len, &m, sig, (size_t)slen), SHIM6_CGA_ESIG);
	m = ll;
	m.count = 2;
	assert_int_equal(shim6_cga_verify_sig(cga.pds, cga.pds_len, &m, sig, (size_t)slen), SHIM6_CGA_ESIG);
	memcpy(l2[0], locs[2], 16);
	memcpy(l2[2], locs[0], 16);
	m = ll;
	m.locators = &l2[0][0];
	assert_int_equal(shim6_cga_verify_sig(cga.pds, cga.pds_len, &m, sig, (size_t)slen), SHIM6_CGA_ESIG);
	uint8_t meth2[3] = { 2, 2, 2 };
	m = ll;
	m.methods = meth2;
	assert_int_equal(shim6_cga_verify_sig(cga.pds, cga.pds_len, &m, sig, (size_t)slen), SHIM6_CGA_ESIG);
	/* A changed HBA-method locator is not covered by the signature. */
	memcpy(l2, locs, sizeof(l2));
	l2[1][0] ^= 0xff;
	m = ll;
	m.locators = &l2[0][0];
	assert_int_equal(shim6_cga_verify_sig(cga.pds, cga.pds_len, &m, sig, (size_t)slen), 0);
	/* Tampered or truncated signature. */
	sig[100] ^= 1;
	assert_int_equal(shim6_cga_verify_sig(cga.pds, cga.pds_len, &ll, sig, (size_t)slen), SHIM6_CGA_ESIG);
	sig[100] ^= 1;
	assert_int_equal(shim6_cga_verify_sig(cga.pds, cga.pds_len, &ll, sig, (size_t)slen - 1), SHIM6_CGA_ESIG);
	/* The tag is part of the signed octets: a raw signature over the data
	 * without it does not verify. */
	{
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		size_t rl = sizeof(sig);
		assert_int_equal(EVP_DigestSignInit_ex(ctx, NULL, "SHA1", NULL, NULL, key, NULL), 1);
		assert_int_equal(EVP_DigestSign(ctx, sig, &rl, in, (size_t)ilen), 1);
		EVP_MD_CTX_free(ctx);
		assert_int_equal(shim6_cga_verify_sig_data(cga.pds, cga.pds_len, in, (size_t)ilen, sig, rl),
		                 SHIM6_CGA_ESIG);
	}
}

/* The wire codec and this library agree on the signed octets: a signature
 * made here verifies, as plain RSASSA-PKCS1-v1_5/SHA-1, over what
 * shim6_wire_cga_signed_data() says the option covers (tag included), and
 * shim6_wire_cga_sig_body() is exactly our input without the tag. */
static void test_agrees_with_wire_codec(void **state)
{
	struct shim6_opt_loclist wl = { .gen = 0xdeadbeef, .n = 3, .methods = methods,
	                                .locators = &locs[0][0] };
	struct shim6_cga_loclist ll = { 0xdeadbeef, 3, methods, &locs[0][0] };
	uint8_t sig[SHIM6_CGA_SIG_MAX], covered[SHIM6_CGA_SIGNED_MAX], body[SHIM6_CGA_SIGNED_MAX], in[64];
	int slen, clen, blen, ilen;

	(void)state;
	slen = shim6_cga_sign(key, &ll, sig, sizeof(sig));
	clen = shim6_wire_cga_signed_data(&wl, covered, sizeof(covered));
	blen = shim6_wire_cga_sig_body(&wl, body, sizeof(body));
	ilen = shim6_cga_sig_input(&ll, in, sizeof(in));
	assert_true(slen > 0);
	assert_int_equal(clen, 16 + 4 + 2 * 16);
	assert_memory_equal(covered, shim6_cga_shim6_tag, 16);
	assert_int_equal(blen, ilen);
	assert_memory_equal(body, in, (size_t)ilen);
	assert_memory_equal(covered + 16, in, (size_t)ilen);

	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit_ex(ctx, NULL, "SHA1", NULL, NULL, key, NULL), 1);
	assert_int_equal(EVP_DigestVerify(ctx, sig, (size_t)slen, covered, (size_t)clen), 1);
	EVP_MD_CTX_free(ctx);
	assert_int_equal(shim6_cga_verify_sig_data(cga.pds, cga.pds_len, body, (size_t)blen, sig, (size_t)slen), 0);
}

static void test_other_key_fails(void **state)
{
	EVP_PKEY *k2;
	struct shim6_cga_loclist ll = { 1, 3, methods, &locs[0][0] };
	uint8_t sig[SHIM6_CGA_SIG_MAX];
	int slen;

	(void)state;
	assert_int_equal(shim6_key_generate(&k2, 1024), 0);
	slen = shim6_cga_sign(k2, &ll, sig, sizeof(sig));
	assert_int_equal(slen, 128);
	assert_int_equal(shim6_cga_verify_sig(cga.pds, cga.pds_len, &ll, sig, (size_t)slen), SHIM6_CGA_ESIG);
	EVP_PKEY_free(k2);
	assert_int_equal(shim6_key_generate(&k2, 512), SHIM6_CGA_EKEY);
	assert_int_equal(shim6_key_generate(&k2, 8192), SHIM6_CGA_EKEY);
}

/* More peers than the decoded-key cache has slots: every key still checks
 * its own signatures and refuses the others', in and out of the cache. */
static void test_key_cache_many_peers(void **state)
{
	enum { N = 11 };
	static struct shim6_cga peers[N];
	static uint8_t sigs[N][SHIM6_CGA_SIG_MAX];
	int slen[N];
	struct shim6_cga_loclist ll = { 5, 3, methods, &locs[0][0] };

	(void)state;
	for (int i = 0; i < N; i++) {
		EVP_PKEY *k;
		uint8_t s[SHIM6_CGA_PDS_MAX];
		int l;
		assert_int_equal(shim6_key_generate(&k, 1024), 0);
		l = shim6_key_spki(k, s, sizeof(s));
		assert_true(l > 0);
		assert_int_equal(shim6_cga_new(&peers[i], pfx, s, (size_t)l, 0, 0, NULL), 0);
		slen[i] = shim6_cga_sign(k, &ll, sigs[i], sizeof(sigs[i]));
		assert_int_equal(slen[i], 128);
		EVP_PKEY_free(k);
	}
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < N; i++)
			for (int j = 0; j < N; j++)
				assert_int_equal(shim6_cga_verify_sig(peers[i].pds, peers[i].pds_len, &ll,
				                                      sigs[j], (size_t)slen[j]),
				                 i == j ? 0 : SHIM6_CGA_ESIG);
}

static void test_kat_key_too_small_for_signatures(void **state)
{
	uint8_t pds[256], sig[256] = { 0 };
	size_t n = kat_pds(pds, sizeof(pds));

	(void)state;
	/* RSA-512 is fine for the address check, refused for signatures. */
	assert_int_equal(shim6_cga_verify_sig_data(pds, n, (const uint8_t *)"x", 1, sig, 64),
	                 SHIM6_CGA_EKEY);
}

static void load_roundtrip(bool priv, bool pem)
{
	char text[8192];
	uint8_t der[4096], spki2[1024];
	EVP_PKEY *k = NULL;
	int n;

	if (pem) {
		n = shim6_key_to_pem(key, priv, text, sizeof(text));
		assert_true(n > 0);
		assert_non_null(strstr(text, priv ? "BEGIN PRIVATE KEY" : "BEGIN PUBLIC KEY"));
		assert_int_equal(shim6_key_load(&k, (const uint8_t *)text, (size_t)n), 0);
	} else {
		n = shim6_key_to_der(key, priv, der, sizeof(der));
		assert_true(n > 0);
		assert_int_equal(shim6_key_load(&k, der, (size_t)n), 0);
	}
	assert_int_equal(shim6_key_has_private(k), priv);
	assert_int_equal(shim6_key_spki(k, spki2, sizeof(spki2)), (int)spki_len);
	assert_memory_equal(spki2, spki, spki_len);
	EVP_PKEY_free(k);
}

static void test_key_formats(void **state)
{
	EVP_PKEY *k = NULL;
	char path[] = "/tmp/pshim6-cga-test-XXXXXX";
	char text[8192];
	int fd, n;

	(void)state;
	load_roundtrip(true, true);
	load_roundtrip(false, true);
	load_roundtrip(true, false);
	load_roundtrip(false, false);
	assert_int_equal(shim6_key_load(&k, (const uint8_t *)"garbage", 7), SHIM6_CGA_EKEY);
	assert_null(k);
	assert_int_equal(shim6_key_load_file(&k, "/nonexistent/key.pem"), SHIM6_CGA_EIO);
	/* From a file, and a public key cannot sign. */
	n = shim6_key_to_pem(key, false, text, sizeof(text));
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, (size_t)n), n);
	close(fd);
	assert_int_equal(shim6_key_load_file(&k, path), 0);
	unlink(path);
	struct shim6_cga_loclist ll = { 1, 3, methods, &locs[0][0] };
	uint8_t sig[SHIM6_CGA_SIG_MAX];
	assert_int_equal(shim6_cga_sign(k, &ll, sig, sizeof(sig)), SHIM6_CGA_ENOPRIV);
	assert_int_equal(shim6_cga_sign(key, &ll, sig, 100), SHIM6_CGA_ENOSPACE);
	EVP_PKEY_free(k);
	/* PKCS#1 ("BEGIN RSA PRIVATE KEY" / RSAPublicKey), PEM and DER. */
	static const char *const fmts[] = { "PEM", "DER" };
	for (int f = 0; f < 2; f++) {
		for (int priv = 0; priv < 2; priv++) {
			unsigned char *data = NULL;
			size_t dlen = 0;
			OSSL_ENCODER_CTX *ec = OSSL_ENCODER_CTX_new_for_pkey(
				key, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, fmts[f], "type-specific", NULL);
			assert_non_null(ec);
			assert_int_equal(OSSL_ENCODER_to_data(ec, &data, &dlen), 1);
			OSSL_ENCODER_CTX_free(ec);
			if (f == 0)
				assert_non_null(strstr((char *)data, priv ? "RSA PRIVATE KEY" : "RSA PUBLIC KEY"));
			assert_int_equal(shim6_key_load(&k, data, dlen), 0);
			assert_int_equal(shim6_key_has_private(k), priv);
			uint8_t s2[1024];
			assert_int_equal(shim6_key_spki(k, s2, sizeof(s2)), (int)spki_len);
			assert_memory_equal(s2, spki, spki_len);
			EVP_PKEY_free(k);
			OPENSSL_free(data);
		}
	}
	/* The DER SPKI of the KAT is RSA-512: loadable as DER, refused (too small). */
	uint8_t pds[256];
	kat_pds(pds, sizeof(pds));
	assert_int_equal(shim6_key_load(&k, pds + 25, 94), SHIM6_CGA_EKEY);
}

static void test_sig_input_bounds(void **state)
{
	static uint8_t hba[256];
	static uint8_t many_locs[256][16];
	struct shim6_cga_loclist ll = { 7, 1, NULL, &locs[0][0] };
	uint8_t in[64], sig[256] = { 0 };

	(void)state;
	/* Locators announced but not supplied. */
	assert_int_equal(shim6_cga_sig_input(&ll, in, sizeof(in)), SHIM6_CGA_EINVAL);
	/* A Locator List holds at most 255 locators (8-bit count). */
	memset(hba, SHIM6_CGA_VERIF_HBA, sizeof(hba));
	ll = (struct shim6_cga_loclist){ 7, 256, hba, &many_locs[0][0] };
	assert_int_equal(shim6_cga_sig_input(&ll, in, sizeof(in)), SHIM6_CGA_EINVAL);
	ll.count = 255;
	assert_int_equal(shim6_cga_sig_input(&ll, in, sizeof(in)), 4);
	/* The generation alone needs 4 octets; each CGA locator 16 more. */
	ll = (struct shim6_cga_loclist){ 7, 1, methods, &locs[0][0] };
	assert_int_equal(shim6_cga_sig_input(&ll, in, 3), SHIM6_CGA_ENOSPACE);
	assert_int_equal(shim6_cga_sig_input(&ll, in, 19), SHIM6_CGA_ENOSPACE);
	assert_int_equal(shim6_cga_sig_input(&ll, in, 20), 20);
	/* Signed data announced with no pointer is refused before any crypto. */
	assert_int_equal(shim6_cga_verify_sig_key(key, NULL, 4, sig, (size_t)EVP_PKEY_get_size(key)),
	                 SHIM6_CGA_EINVAL);
}

static void test_peer_key_over_4096_bits_refused(void **state)
{
	/* SubjectPublicKeyInfo of an RSA key with a 4104-bit modulus: a peer's
	 * key above SHIM6_CGA_KEY_BITS_MAX is refused before any RSA work. */
	static const uint8_t head[] = {
		0x30, 0x82, 0x02, 0x23,
		0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
		0x03, 0x82, 0x02, 0x10, 0x00,
		0x30, 0x82, 0x02, 0x0b,
		0x02, 0x82, 0x02, 0x02, 0x00,
	};
	static const uint8_t tail[] = { 0x02, 0x03, 0x01, 0x00, 0x01 };
	static uint8_t big[sizeof(head) + 513 + sizeof(tail)], pds[SHIM6_CGA_PDS_MAX], sig[513];
	const uint8_t modifier[16] = { 0 };
	int n;

	(void)state;
	memcpy(big, head, sizeof(head));
	memset(big + sizeof(head), 0xc5, 513);
	memcpy(big + sizeof(head) + 513, tail, sizeof(tail));
	n = shim6_cga_build(pds, sizeof(pds), modifier, pfx, 0, big, sizeof(big), NULL, 0);
	assert_int_equal(n, 25 + (int)sizeof(big));
	assert_int_equal(shim6_cga_verify_sig_data(pds, (size_t)n, (const uint8_t *)"abcd", 4,
	                                           sig, sizeof(sig)), SHIM6_CGA_EKEY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sig_input_layout),
		cmocka_unit_test(test_sign_verify_and_tamper),
		cmocka_unit_test(test_agrees_with_wire_codec),
		cmocka_unit_test(test_other_key_fails),
		cmocka_unit_test(test_key_cache_many_peers),
		cmocka_unit_test(test_kat_key_too_small_for_signatures),
		cmocka_unit_test(test_key_formats),
		cmocka_unit_test(test_sig_input_bounds),
		cmocka_unit_test(test_peer_key_over_4096_bits_refused),
	};
	return cmocka_run_group_tests_name("crypto_sig", tests, setup, teardown);
}
