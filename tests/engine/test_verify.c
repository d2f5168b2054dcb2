/* verify.c: the standard CGA / HBA check behind the `verify` callback,
 * with real keys through shim6/crypto. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/rand.h>
#include <shim6/cga.h>
#include <shim6/engine.h>
#include <shim6/hba.h>

static int rng_fill(void *u, uint8_t *buf, size_t len) { (void)u; return RAND_bytes(buf, (int)len) == 1 ? 0 : -1; }

/* A fresh key, its CGA under fd42::/64 and two locators under PA prefixes
 * with the CGA's interface identifier, marked `verif`. */
static EVP_PKEY *cga_fixture(struct shim6_cga *c, struct shim6_in6 *ulid, struct shim6_locator locs[2],
                             enum shim6_verif verif)
{
	EVP_PKEY *k;
	assert_int_equal(shim6_key_generate(&k, 1024), 0);
	uint8_t spki[512];
	int sl = shim6_key_spki(k, spki, sizeof(spki));
	assert_true(sl > 0);
	struct shim6_cga_rng rng = { NULL, rng_fill };
	const uint8_t pre[8] = { 0xfd, 0x42 };
	assert_int_equal(shim6_cga_new(c, pre, spki, (size_t)sl, 0, 0, &rng), 0);
	memcpy(ulid->b, c->addr, 16);
	memset(locs, 0, 2 * sizeof(locs[0]));
	for (int i = 0; i < 2; i++) {
		const uint8_t pa[8] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, (uint8_t)i };
		memcpy(locs[i].addr.b, pa, 8);
		memcpy(locs[i].addr.b + 8, c->addr + 8, 8);
		locs[i].verif = verif;
	}
	return k;
}

static void test_cga(void **st)
{
	(void)st;
	static struct shim6_cga c;
	struct shim6_in6 ulid;
	struct shim6_locator locs[2];
	EVP_PKEY *k = cga_fixture(&c, &ulid, locs, SHIM6_VERIF_CGA);
	uint8_t data[4 + 32] = { 0, 0, 0, 7 };
	memcpy(data + 4, locs[0].addr.b, 16);
	memcpy(data + 20, locs[1].addr.b, 16);
	uint8_t sig[512];
	int n = shim6_cga_sign_data(k, data, sizeof(data), sig, sizeof(sig));
	assert_true(n > 0);
	assert_int_equal(shim6_engine_verify_locators(&ulid, SHIM6_VERIF_CGA, c.pds, c.pds_len, locs, 2,
	                                              data, sizeof(data), sig, (size_t)n), 0);
	data[20] ^= 1;   /* a locator the key did not sign */
	assert_int_equal(shim6_engine_verify_locators(&ulid, SHIM6_VERIF_CGA, c.pds, c.pds_len, locs, 2,
	                                              data, sizeof(data), sig, (size_t)n), SHIM6_ENG_EVERIFY);
	data[20] ^= 1;
	struct shim6_in6 other = ulid;
	other.b[15] ^= 1;  /* a ULID that is not this PDS's CGA */
	assert_int_equal(shim6_engine_verify_locators(&other, SHIM6_VERIF_CGA, c.pds, c.pds_len, locs, 2,
	                                              data, sizeof(data), sig, (size_t)n), SHIM6_ENG_EVERIFY);
	assert_int_equal(shim6_engine_verify_locators(&ulid, SHIM6_VERIF_CGA, c.pds, c.pds_len, locs, 2,
	                                              data, sizeof(data), NULL, 0), SHIM6_ENG_EVERIFY);
	assert_int_equal(shim6_engine_verify_locators(&ulid, (enum shim6_verif)9, c.pds, c.pds_len, locs, 2,
	                                              data, sizeof(data), sig, (size_t)n), SHIM6_ENG_EUNSUPP);
	EVP_PKEY_free(k);
}

static void test_hba(void **st)
{
	(void)st;
	struct shim6_cga_rng rng = { NULL, rng_fill };
	static struct shim6_hba_set hs;
	uint8_t pre[3][8] = { { 0xfd, 0x42 }, { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1 }, { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 2 } };
	struct shim6_cga_gen_opts o;
	memset(&o, 0, sizeof(o));
	o.rng = &rng;
	assert_int_equal(shim6_hba_generate(&hs, &pre[0][0], 3, NULL, 0, &o), 0);
	struct shim6_in6 ulid;
	memcpy(ulid.b, hs.addrs[0], 16);
	struct shim6_locator locs[2];
	memset(locs, 0, sizeof(locs));
	memcpy(locs[0].addr.b, hs.addrs[1], 16);
	memcpy(locs[1].addr.b, hs.addrs[2], 16);
	assert_int_equal(shim6_engine_verify_locators(&ulid, SHIM6_VERIF_HBA, hs.pds, hs.pds_len, locs, 2,
	                                              NULL, 0, NULL, 0), 0);
	locs[1].addr.b[15] ^= 1;   /* not in the set */
	assert_int_equal(shim6_engine_verify_locators(&ulid, SHIM6_VERIF_HBA, hs.pds, hs.pds_len, locs, 2,
	                                              NULL, 0, NULL, 0), SHIM6_ENG_EVERIFY);
}

/* CGA-signed lists may mark locators HBA; the signature does not cover
 * those, so each must still be in the PDS's HBA set (this CGA has none). */
static void test_cga_list_hba_locator(void **st)
{
	(void)st;
	static struct shim6_cga c;
	struct shim6_in6 ulid;
	struct shim6_locator locs[2];
	EVP_PKEY *k = cga_fixture(&c, &ulid, locs, SHIM6_VERIF_CGA);
	locs[1].verif = SHIM6_VERIF_HBA;
	uint8_t data[4 + 16] = { 0, 0, 0, 7 };     /* generation + the CGA locator */
	memcpy(data + 4, locs[0].addr.b, 16);
	uint8_t sig[512];
	int n = shim6_cga_sign_data(k, data, sizeof(data), sig, sizeof(sig));
	assert_true(n > 0);
	assert_int_equal(shim6_engine_verify_locators(&ulid, SHIM6_VERIF_CGA, c.pds, c.pds_len, locs, 1,
	                                              data, sizeof(data), sig, (size_t)n), 0);
	assert_int_equal(shim6_engine_verify_locators(&ulid, SHIM6_VERIF_CGA, c.pds, c.pds_len, locs, 2,
	                                              data, sizeof(data), sig, (size_t)n), SHIM6_ENG_EVERIFY);
	EVP_PKEY_free(k);
}

/* HBA: the peer's ULID itself must be one of the set's addresses. */
static void test_hba_ulid_in_set(void **st)
{
	(void)st;
	struct shim6_cga_rng rng = { NULL, rng_fill };
	static struct shim6_hba_set hs;
	uint8_t pre[2][8] = { { 0xfd, 0x42 }, { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1 } };
	struct shim6_cga_gen_opts o;
	memset(&o, 0, sizeof(o));
	o.rng = &rng;
	assert_int_equal(shim6_hba_generate(&hs, &pre[0][0], 2, NULL, 0, &o), 0);
	struct shim6_in6 ulid;
	memcpy(ulid.b, hs.addrs[0], 16);
	struct shim6_locator loc;
	memset(&loc, 0, sizeof(loc));
	memcpy(loc.addr.b, hs.addrs[1], 16);
	assert_int_equal(shim6_engine_verify_locators(&ulid, SHIM6_VERIF_HBA, hs.pds, hs.pds_len, &loc, 1,
	                                              NULL, 0, NULL, 0), 0);
	ulid.b[15] ^= 1;   /* a ULID outside the set, with a listed locator */
	assert_int_equal(shim6_engine_verify_locators(&ulid, SHIM6_VERIF_HBA, hs.pds, hs.pds_len, &loc, 1,
	                                              NULL, 0, NULL, 0), SHIM6_ENG_EVERIFY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cga),
		cmocka_unit_test(test_hba),
		cmocka_unit_test(test_cga_list_hba_locator),
		cmocka_unit_test(test_hba_ulid_in_set),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
