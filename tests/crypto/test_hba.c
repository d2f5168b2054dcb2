/* HBA sets (RFC 5535): generation with a real key and with a pseudo-key,
 * membership, single-bit tampering of every PDS field and the extension. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "testutil.h"

static const uint8_t prefixes[3][8] = {
	{ 0x20, 0x01, 0x0d, 0xb8, 0xa0, 0, 0, 1 },
	{ 0x20, 0x01, 0x0d, 0xb8, 0xb0, 0, 0, 1 },
	{ 0x20, 0x01, 0x0d, 0xb8, 0xc0, 0, 0, 1 },
};

static int verify_any(const uint8_t *a, const uint8_t *p, size_t l)
{
	return shim6_hba_verify(a, p, l);
}

static void flip_all(const uint8_t addr[16], uint8_t *pds, size_t len)
{
	assert_int_equal(shim6_hba_verify(addr, pds, len), 0);
	for (size_t bit = 0; bit < len * 8; bit++) {
		pds[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		int rc = verify_any(addr, pds, len);
		pds[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		/* The Subnet Prefix field (octets 16..23) is replaced by the
		 * address's own prefix in HBA verification, so it is the one
		 * field whose bits do not matter. */
		if (rc == 0 && !(bit / 8 >= 16 && bit / 8 < 24))
			fail_msg("flipping PDS bit %zu of %zu still verifies", bit, len * 8);
	}
	/* Every address bit too: the prefix (leaves the set) and the interface
	 * identifier, except u and g and a Sec lowered (which asks less). */
	for (int bit = 0; bit < 128; bit++) {
		uint8_t a[16];
		memcpy(a, addr, 16);
		a[bit / 8] ^= (uint8_t)(0x80u >> (bit % 8));
		int ug = bit == 70 || bit == 71;
		int sec_down = bit >= 64 && bit <= 66 && (a[8] >> 5) < (addr[8] >> 5);
		if (!ug && !sec_down && shim6_hba_verify(a, pds, len) == 0)
			fail_msg("address bit %d flipped still verifies", bit);
	}
}

static void test_pseudo_key_set(void **state)
{
	struct test_rng r = { .s = 5 };
	struct shim6_cga_rng rng = { &r, test_rng_fill };
	struct shim6_cga_gen_opts o = { .sec = 1, .rng = &rng };
	struct shim6_hba_set s;
	struct shim6_cga_params p;

	(void)state;
	assert_int_equal(shim6_hba_generate(&s, &prefixes[0][0], 3, NULL, 0, &o), 0);
	assert_int_equal(s.count, 3);
	assert_false(s.real_key);
	assert_int_equal(shim6_cga_parse(&p, s.pds, s.pds_len), 0);
	assert_true(p.mp_present);
	assert_false(p.mp_pflag);
	assert_int_equal(p.n_prefixes, 3);
	assert_int_equal(p.pubkey_len, 78);     /* 384-bit pseudo-key as RSA SPKI */
	for (size_t i = 0; i < 3; i++) {
		assert_memory_equal(s.addrs[i], prefixes[i], 8);
		assert_int_equal(s.addrs[i][8] >> 5, 1);
		assert_int_equal(shim6_hba_verify(s.addrs[i], s.pds, s.pds_len), 0);
		for (size_t j = 0; j < i; j++)
			assert_memory_not_equal(s.addrs[i] + 8, s.addrs[j] + 8, 8);
		flip_all(s.addrs[i], s.pds, s.pds_len);
	}
	/* The first address is also a plain CGA of the PDS (its Subnet Prefix). */
	assert_int_equal(shim6_cga_verify(s.addrs[0], s.pds, s.pds_len), 0);
	assert_int_equal(shim6_cga_verify(s.addrs[1], s.pds, s.pds_len), SHIM6_CGA_EPREFIX);
	/* A pseudo-key cannot carry a signature. */
	uint8_t sig[128] = { 0 };
	assert_int_equal(shim6_cga_verify_sig_data(s.pds, s.pds_len, sig, 4, sig, 128),
	                 SHIM6_CGA_EPSEUDOKEY);
	/* An address of another prefix, and one whose IID is another's. */
	uint8_t a[16];
	memcpy(a, s.addrs[0], 16);
	a[4] = 0xd0;
	assert_int_equal(shim6_hba_verify(a, s.pds, s.pds_len), SHIM6_CGA_ENOTINSET);
	memcpy(a, s.addrs[1], 8);
	memcpy(a + 8, s.addrs[0] + 8, 8);
	assert_int_equal(shim6_hba_verify(a, s.pds, s.pds_len), SHIM6_CGA_EHASH1);
	/* A plain CGA PDS is not an HBA set. */
	uint8_t kat[256], kaddr[16];
	size_t kn = kat_pds(kat, sizeof(kat));
	addr_parse(kat_addr, kaddr);
	assert_int_equal(shim6_hba_verify(kaddr, kat, kn), SHIM6_CGA_ENOTHBA);
}

static void test_real_key_set_signs(void **state)
{
	EVP_PKEY *k;
	uint8_t spki[1024], sig[SHIM6_CGA_SIG_MAX];
	struct shim6_hba_set s;
	int n;

	(void)state;
	assert_int_equal(shim6_key_generate(&k, 1024), 0);
	n = shim6_key_spki(k, spki, sizeof(spki));
	assert_true(n > 0);
	assert_int_equal(shim6_hba_generate(&s, &prefixes[0][0], 2, spki, (size_t)n, NULL), 0);
	assert_true(s.real_key);
	assert_int_equal(s.sec, 0);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(shim6_hba_verify(s.addrs[i], s.pds, s.pds_len), 0);
		flip_all(s.addrs[i], s.pds, s.pds_len);
	}
	/* P=1: the set's key also signs locator lists (CGA-compatible). */
	uint8_t methods[2] = { SHIM6_CGA_VERIF_CGA, SHIM6_CGA_VERIF_CGA };
	struct shim6_cga_loclist ll = { 9, 2, methods, &s.addrs[0][0] };
	int slen = shim6_cga_sign(k, &ll, sig, sizeof(sig));
	assert_int_equal(slen, 128);
	assert_int_equal(shim6_cga_verify_sig(s.pds, s.pds_len, &ll, sig, (size_t)slen), 0);
	EVP_PKEY_free(k);
}

static void test_bad_inputs(void **state)
{
	struct shim6_hba_set s;
	uint8_t dup[2][8];
	struct shim6_cga_gen_opts o = { .sec = 3 };

	(void)state;
	memcpy(dup[0], prefixes[0], 8);
	memcpy(dup[1], prefixes[0], 8);
	assert_int_equal(shim6_hba_generate(&s, &dup[0][0], 2, NULL, 0, NULL), SHIM6_CGA_EINVAL);
	assert_int_equal(shim6_hba_generate(&s, &prefixes[0][0], 0, NULL, 0, NULL), SHIM6_CGA_EINVAL);
	assert_int_equal(shim6_hba_generate(&s, &prefixes[0][0], SHIM6_HBA_MAX_PREFIXES + 1, NULL, 0, NULL),
	                 SHIM6_CGA_EINVAL);
	assert_int_equal(shim6_hba_generate(&s, &prefixes[0][0], 1, NULL, 0, &o), SHIM6_CGA_ESEC);
	assert_int_equal(shim6_hba_generate(&s, &prefixes[0][0], 1, (const uint8_t *)"\x30\x05", 2, NULL),
	                 SHIM6_CGA_EKEYDER);
	/* Largest set fits the PDS bound with the pseudo-key. */
	uint8_t many[SHIM6_HBA_MAX_PREFIXES][8];
	for (int i = 0; i < SHIM6_HBA_MAX_PREFIXES; i++) {
		memcpy(many[i], prefixes[0], 8);
		many[i][7] = (uint8_t)i;
	}
	assert_int_equal(shim6_hba_generate(&s, &many[0][0], SHIM6_HBA_MAX_PREFIXES, NULL, 0, NULL), 0);
	for (int i = 0; i < SHIM6_HBA_MAX_PREFIXES; i++)
		assert_int_equal(shim6_hba_verify(s.addrs[i], s.pds, s.pds_len), 0);
}

static void test_mp_ext_bounds(void **state)
{
	uint8_t many[SHIM6_HBA_MAX_PREFIXES + 1][8] = { { 0 } };
	uint8_t out[4 + 4 + 8 * (SHIM6_HBA_MAX_PREFIXES + 1)];

	(void)state;
	assert_int_equal(shim6_hba_mp_ext(out, sizeof(out), true, &prefixes[0][0], 0), SHIM6_CGA_EINVAL);
	assert_int_equal(shim6_hba_mp_ext(out, sizeof(out), true, &many[0][0], SHIM6_HBA_MAX_PREFIXES + 1),
	                 SHIM6_CGA_EINVAL);
	/* Type, length, flags and one prefix: 16 octets, and not one fewer. */
	assert_int_equal(shim6_hba_mp_ext(out, 15, true, &prefixes[0][0], 1), SHIM6_CGA_ENOSPACE);
	assert_int_equal(shim6_hba_mp_ext(out, 16, true, &prefixes[0][0], 1), 16);
	assert_memory_equal(out, "\x00\x12\x00\x0c\x80\x00\x00\x00", 8);
}

static void test_generate_refuses_bad_options(void **state)
{
	uint8_t pds[256], big[SHIM6_CGA_PDS_MAX + 8] = { 0x30, 0x82, 0x04, 0x01 };
	size_t n = kat_pds(pds, sizeof(pds));
	struct shim6_cga_gen_opts o = { 0 };
	struct shim6_hba_set s;

	(void)state;
	/* The set's only extension is its own Multi-Prefix one. */
	o.ext_len = 4;
	assert_int_equal(shim6_hba_generate(&s, &prefixes[0][0], 1, NULL, 0, &o), SHIM6_CGA_EINVAL);
	o.ext_len = 0;
	o.collision_count = SHIM6_CGA_COLLISION_MAX + 1;
	assert_int_equal(shim6_hba_generate(&s, &prefixes[0][0], 1, NULL, 0, &o), SHIM6_CGA_ECOLLISION);
	/* A well-formed DER key too long for any PDS is refused up front. */
	assert_int_equal(shim6_hba_generate(&s, &prefixes[0][0], 1, big, 4 + 0x401, NULL),
	                 SHIM6_CGA_EKEYDER);
	/* A real key is accepted; the KAT key is 94 octets of DER. */
	assert_int_equal(shim6_hba_generate(&s, &prefixes[0][0], 2, pds + 25, n - 25, NULL), 0);
	assert_true(s.real_key);
}

static void test_verify_collision_membership_and_ug(void **state)
{
	struct test_rng r = { .s = 9 };
	struct shim6_cga_rng rng = { &r, test_rng_fill };
	struct shim6_cga_gen_opts o = { .sec = 0, .rng = &rng };
	struct shim6_hba_set s;
	uint8_t a[16];

	(void)state;
	assert_int_equal(shim6_hba_generate(&s, &prefixes[0][0], 3, NULL, 0, &o), 0);
	/* u and g are not part of the identifier. */
	memcpy(a, s.addrs[1], 16);
	a[8] ^= 0x03;
	assert_int_equal(shim6_hba_verify(a, s.pds, s.pds_len), 0);
	/* A prefix that differs from a member only in its last octet is not in the set. */
	memcpy(a, s.addrs[1], 16);
	a[7] ^= 0x01;
	assert_int_equal(shim6_hba_verify(a, s.pds, s.pds_len), SHIM6_CGA_ENOTINSET);
	/* Collision count 3 is refused before any hashing. */
	s.pds[24] = SHIM6_CGA_COLLISION_MAX + 1;
	assert_int_equal(shim6_hba_verify(s.addrs[1], s.pds, s.pds_len), SHIM6_CGA_ECOLLISION);
}

static int zero_fill(void *user, uint8_t *buf, size_t len)
{
	(void)user;
	memset(buf, 0, len);
	return 0;
}

static void test_pseudo_key_shape(void **state)
{
	struct shim6_cga_rng rng = { NULL, zero_fill };
	uint8_t k[128];
	const size_t mlen = SHIM6_HBA_PSEUDO_KEY_BITS / 8;

	(void)state;
	assert_int_equal(shim6_hba_pseudo_key(k, 77, &rng), SHIM6_CGA_ENOSPACE);
	assert_int_equal(shim6_hba_pseudo_key(k, 78, &rng), 78);
	/* The modulus is a full-length odd number even from an all-zero source. */
	assert_int_equal(k[25], 0x80);
	assert_int_equal(k[25 + mlen - 1], 0x01);
	assert_memory_equal(k + 25 + mlen, "\x02\x03\x01\x00\x01", 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pseudo_key_set),
		cmocka_unit_test(test_real_key_set_signs),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_mp_ext_bounds),
		cmocka_unit_test(test_generate_refuses_bad_options),
		cmocka_unit_test(test_verify_collision_membership_and_ug),
		cmocka_unit_test(test_pseudo_key_shape),
	};
	return cmocka_run_group_tests_name("crypto_hba", tests, NULL, NULL);
}
