/* CGA: RFC 3972 known answer, parse bounds, generation, verification,
 * single-bit tampering, collision count, progress and cancel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "testutil.h"

static EVP_PKEY *key1024;
static uint8_t spki[SHIM6_CGA_PDS_MAX];
static size_t spki_len;
static const uint8_t pfx[8] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x02 };

static int setup(void **state)
{
	(void)state;
	if (shim6_key_generate(&key1024, 1024) < 0)
		return -1;
	int n = shim6_key_spki(key1024, spki, sizeof(spki));
	if (n <= 0)
		return -1;
	spki_len = (size_t)n;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(key1024);
	return 0;
}

static void test_kat_verify(void **state)
{
	uint8_t pds[256], addr[16];
	size_t n = kat_pds(pds, sizeof(pds));
	struct shim6_cga_params p;

	(void)state;
	assert_int_equal(n, 25 + 94);
	addr_parse(kat_addr, addr);
	assert_int_equal(shim6_cga_parse(&p, pds, n), 0);
	assert_int_equal(p.pubkey_len, 94);
	assert_int_equal(p.ext_len, 0);
	assert_int_equal(p.collision_count, 0);
	assert_int_equal(shim6_cga_verify(addr, pds, n), 0);
	/* Sec is 1: Hash2 has 16 leading zero bits, not 32. */
	assert_int_equal(shim6_cga_check_hash2(&p, 1), 0);
	assert_int_equal(shim6_cga_check_hash2(&p, 2), SHIM6_CGA_EHASH2);
}

static void test_kat_generate(void **state)
{
	uint8_t pds[256], addr[16];
	size_t n = kat_pds(pds, sizeof(pds));
	struct shim6_cga_gen_opts o = { .sec = 1, .modifier = pds };
	struct shim6_cga c;

	(void)state;
	addr_parse(kat_addr, addr);
	assert_int_equal(shim6_cga_generate(&c, pds + 16, pds + 25, 94, &o), 0);
	assert_memory_equal(c.addr, addr, 16);
	assert_int_equal(c.pds_len, n);
	assert_memory_equal(c.pds, pds, n);
	assert_int_equal(c.tries, 1);
}

static void test_kat_u_g_bits_ignored(void **state)
{
	uint8_t pds[256], addr[16];
	size_t n = kat_pds(pds, sizeof(pds));

	(void)state;
	addr_parse(kat_addr, addr);
	addr[8] ^= 0x03;   /* u and g are not part of the identifier */
	assert_int_equal(shim6_cga_verify(addr, pds, n), 0);
	addr[8] ^= 0x03;
	addr[8] ^= 0x20;   /* Sec 1 -> 0 ... */
	assert_int_equal(shim6_cga_verify(addr, pds, n), 0);  /* Sec 0 asks less: still valid */
	addr[8] ^= 0x40;   /* ... -> Sec 2: Hash2 too weak */
	assert_int_equal(shim6_cga_verify(addr, pds, n), SHIM6_CGA_EHASH2);
	addr[8] |= 0xe0;   /* Sec 7: unassigned */
	assert_int_equal(shim6_cga_verify(addr, pds, n), SHIM6_CGA_ESEC);
}

static void test_parse_bounds(void **state)
{
	uint8_t pds[256], buf[SHIM6_CGA_PDS_MAX + 8], addr[16];
	size_t n = kat_pds(pds, sizeof(pds));
	struct shim6_cga_params p;

	(void)state;
	addr_parse(kat_addr, addr);
	/* Every truncation fails cleanly (the key's DER length no longer fits). */
	for (size_t len = 0; len < n; len++)
		assert_true(shim6_cga_parse(&p, pds, len) < 0);
	assert_int_equal(shim6_cga_parse(&p, NULL, 0), SHIM6_CGA_ESHORT);
	assert_int_equal(shim6_cga_parse(NULL, pds, n), SHIM6_CGA_EINVAL);
	/* Trailing octets that are not a whole extension TLV. */
	memcpy(buf, pds, n);
	buf[n] = 0;
	assert_int_equal(shim6_cga_parse(&p, buf, n + 1), SHIM6_CGA_EEXT);
	/* An extension whose length runs past the end. */
	memcpy(buf + n, "\x00\x99\x00\x05\x01\x02\x03\x04", 8);
	assert_int_equal(shim6_cga_parse(&p, buf, n + 8), SHIM6_CGA_EEXT);
	/* A well-formed unknown extension parses; Hash1 then differs. */
	buf[n + 3] = 4;
	assert_int_equal(shim6_cga_parse(&p, buf, n + 8), 0);
	assert_int_equal(p.n_ext, 1);
	assert_int_equal(p.exts[0].type, 0x99);
	assert_int_equal(shim6_cga_verify(addr, buf, n + 8), SHIM6_CGA_EHASH1);
	/* Key not a SEQUENCE; long-form length not minimal; too long. */
	memcpy(buf, pds, n);
	buf[25] = 0x31;
	assert_int_equal(shim6_cga_parse(&p, buf, n), SHIM6_CGA_EKEYDER);
	buf[25] = 0x30;
	buf[26] = 0x81;
	assert_int_equal(shim6_cga_parse(&p, buf, n), SHIM6_CGA_EKEYDER);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(shim6_cga_parse(&p, buf, SHIM6_CGA_PDS_MAX + 1), SHIM6_CGA_ETOOLONG);
	/* Multi-Prefix Extension with a length that is not 4 + 8n. */
	memcpy(buf, pds, n);
	memcpy(buf + n, "\x00\x12\x00\x05\x80\x00\x00\x00\x01", 9);
	assert_int_equal(shim6_cga_parse(&p, buf, n + 9), SHIM6_CGA_EEXT);
}

static void test_build_roundtrip(void **state)
{
	uint8_t mod[16], out[SHIM6_CGA_PDS_MAX], ext[8] = { 0xff, 0xfd, 0, 4, 1, 2, 3, 4 };
	struct shim6_cga_params p;
	int n;

	(void)state;
	memset(mod, 0xa5, sizeof(mod));
	n = shim6_cga_build(out, sizeof(out), mod, pfx, 2, spki, spki_len, ext, sizeof(ext));
	assert_int_equal(n, 25 + (int)spki_len + 8);
	assert_int_equal(shim6_cga_parse(&p, out, (size_t)n), 0);
	assert_memory_equal(p.modifier, mod, 16);
	assert_memory_equal(p.prefix, pfx, 8);
	assert_int_equal(p.collision_count, 2);
	assert_int_equal(p.pubkey_len, spki_len);
	assert_memory_equal(p.pubkey, spki, spki_len);
	assert_int_equal(p.n_ext, 1);
	assert_int_equal(p.exts[0].type, 0xfffd);
	assert_int_equal(shim6_cga_build(out, 30, mod, pfx, 0, spki, spki_len, NULL, 0),
	                 SHIM6_CGA_ENOSPACE);
	assert_int_equal(shim6_cga_build(out, sizeof(out), mod, pfx, 0, spki, spki_len - 1, NULL, 0),
	                 SHIM6_CGA_EKEYDER);
	assert_int_equal(shim6_cga_build(out, sizeof(out), mod, pfx, 0, spki, spki_len, ext, 3),
	                 SHIM6_CGA_EEXT);
}

/* Generated at `sec`, verified, then every single-bit change of the PDS
 * (modifier, prefix, collision count, key, extension) must fail. */
static void check_all_bit_flips(const uint8_t addr[16], uint8_t *pds, size_t len,
                                int (*verify)(const uint8_t *, const uint8_t *, size_t))
{
	assert_int_equal(verify(addr, pds, len), 0);
	for (size_t bit = 0; bit < len * 8; bit++) {
		pds[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		int rc = verify(addr, pds, len);
		pds[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (rc == 0)
			fail_msg("flipping bit %zu of %zu still verifies", bit, len * 8);
	}
	/* And every bit of the interface identifier except u and g. */
	uint8_t a[16];
	for (int bit = 64; bit < 128; bit++) {
		memcpy(a, addr, 16);
		a[bit / 8] ^= (uint8_t)(0x80u >> (bit % 8));
		int ug = bit == 70 || bit == 71;
		int sec_down = bit >= 64 && bit <= 66 && (a[8] >> 5) < (addr[8] >> 5);
		if (!ug && !sec_down && verify(a, pds, len) == 0)
			fail_msg("address bit %d flipped still verifies", bit);
	}
	assert_int_equal(verify(addr, pds, len), 0);
}

static void test_generate_sec0_sec1_and_flip(void **state)
{
	struct test_rng r = { .s = 42 };
	struct shim6_cga_rng rng = { &r, test_rng_fill };
	uint8_t ext[12] = { 0xff, 0xfe, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8 };
	struct shim6_cga c;

	(void)state;
	for (unsigned sec = 0; sec <= 1; sec++) {
		struct shim6_cga_gen_opts o = { .sec = sec, .rng = &rng, .ext = ext, .ext_len = sizeof(ext) };
		assert_int_equal(shim6_cga_generate(&c, pfx, spki, spki_len, &o), 0);
		assert_int_equal(c.addr[8] >> 5, sec);
		assert_int_equal(c.addr[8] & 0x03, 0);
		assert_memory_equal(c.addr, pfx, 8);
		check_all_bit_flips(c.addr, c.pds, c.pds_len, shim6_cga_verify);
	}
	/* Deterministic: the same seed gives the same address. */
	struct shim6_cga c2;
	struct test_rng r2 = { .s = 42 };
	struct shim6_cga_rng rng2 = { &r2, test_rng_fill };
	struct shim6_cga_gen_opts o0 = { .sec = 0, .rng = &rng2, .ext = ext, .ext_len = sizeof(ext) };
	struct test_rng r3 = { .s = 42 };
	struct shim6_cga_rng rng3 = { &r3, test_rng_fill };
	struct shim6_cga_gen_opts o1 = { .sec = 0, .rng = &rng3, .ext = ext, .ext_len = sizeof(ext) };
	assert_int_equal(shim6_cga_generate(&c, pfx, spki, spki_len, &o0), 0);
	assert_int_equal(shim6_cga_generate(&c2, pfx, spki, spki_len, &o1), 0);
	assert_memory_equal(c.addr, c2.addr, 16);
	/* A Sec 1 CGA was found by searching: >1 try is the rule (2^-16 not). */
	struct shim6_cga_gen_opts o2 = { .sec = 1, .rng = &rng3 };
	assert_int_equal(shim6_cga_generate(&c2, pfx, spki, spki_len, &o2), 0);
	assert_true(c2.tries >= 1);
	assert_int_equal(shim6_cga_verify(c2.addr, c2.pds, c2.pds_len), 0);
	/* Wrong prefix in the address. */
	c2.addr[7] ^= 1;
	assert_int_equal(shim6_cga_verify(c2.addr, c2.pds, c2.pds_len), SHIM6_CGA_EPREFIX);
}

static void test_collision_count_and_bump(void **state)
{
	struct test_rng r = { .s = 7 };
	struct shim6_cga_rng rng = { &r, test_rng_fill };
	struct shim6_cga c;
	uint8_t seen[4][16];

	(void)state;
	assert_int_equal(shim6_cga_new(&c, pfx, spki, spki_len, 1, 0, &rng), 0);
	uint8_t mod0[16];
	memcpy(mod0, c.modifier, 16);
	memcpy(seen[0], c.addr, 16);
	for (int i = 1; i <= 2; i++) {
		assert_int_equal(shim6_cga_bump(&c, &rng), 0);
		assert_int_equal(c.collision_count, i);
		assert_int_equal(c.pds[24], i);
		assert_memory_equal(c.modifier, mod0, 16);
		assert_int_equal(shim6_cga_verify(c.addr, c.pds, c.pds_len), 0);
		memcpy(seen[i], c.addr, 16);
		for (int j = 0; j < i; j++)
			assert_memory_not_equal(seen[i], seen[j], 16);
	}
	/* Third collision: new modifier, count back to 0, same Sec. */
	assert_int_equal(shim6_cga_bump(&c, &rng), 1);
	assert_int_equal(c.collision_count, 0);
	assert_int_equal(c.sec, 1);
	assert_memory_not_equal(c.modifier, mod0, 16);
	assert_int_equal(shim6_cga_verify(c.addr, c.pds, c.pds_len), 0);
	/* Collision count 3 is never valid. */
	c.pds[24] = 3;
	assert_int_equal(shim6_cga_verify(c.addr, c.pds, c.pds_len), SHIM6_CGA_ECOLLISION);
	assert_int_equal(shim6_cga_new(&c, pfx, spki, spki_len, 0, 3, &rng), SHIM6_CGA_ECOLLISION);
	assert_int_equal(shim6_cga_new(&c, pfx, spki, spki_len, 3, 0, &rng), SHIM6_CGA_ESEC);
	/* A failing random source is reported, not papered over. */
	r.fail = 1;
	assert_int_equal(shim6_cga_new(&c, pfx, spki, spki_len, 0, 0, &rng), SHIM6_CGA_ERNG);
}

struct prog { uint64_t calls, last, stop_after; volatile int *flag; };

static int on_progress(void *user, uint64_t tries, unsigned sec)
{
	struct prog *p = user;
	assert_int_equal(sec, 2);
	assert_true(tries > p->last);
	p->last = tries;
	p->calls++;
	if (p->flag && p->calls == p->stop_after)
		*p->flag = 1;            /* cancel through the flag ... */
	return !p->flag && p->calls == p->stop_after;  /* ... or the return */
}

static void test_sec2_progress_and_cancel(void **state)
{
	struct test_rng r = { .s = 99 };
	struct shim6_cga_rng rng = { &r, test_rng_fill };
	struct prog pr = { .stop_after = 3 };
	struct shim6_cga_gen_opts o = { .sec = 2, .rng = &rng, .progress = on_progress,
	                                .progress_user = &pr, .progress_every = 4096 };
	struct shim6_cga c;

	(void)state;
	/* Sec 2 needs ~2^32 tries; cancelling from the callback stops it. */
	assert_int_equal(shim6_cga_generate(&c, pfx, spki, spki_len, &o), SHIM6_CGA_ECANCELLED);
	assert_int_equal(pr.calls, 3);
	assert_int_equal(c.tries, 3 * 4096);

	/* Cancel through the flag, set from the callback (as another thread would). */
	volatile int flag = 0;
	struct prog pr2 = { .stop_after = 2, .flag = &flag };
	o.progress_user = &pr2;
	o.cancel = &flag;
	assert_int_equal(shim6_cga_generate(&c, pfx, spki, spki_len, &o), SHIM6_CGA_ECANCELLED);
	assert_true(c.tries >= 2 * 4096 && c.tries <= 3 * 4096);

	/* A flag already set stops within the first 4096 tries. */
	o.progress = NULL;
	assert_int_equal(shim6_cga_generate(&c, pfx, spki, spki_len, &o), SHIM6_CGA_ECANCELLED);
	assert_int_equal(c.tries, 4096);
}

static void test_hex_and_strerror(void **state)
{
	uint8_t b[4];
	char s[9];

	(void)state;
	assert_int_equal(shim6_cga_hex_decode("0A:bc 1f\n00", b, sizeof(b)), 4);
	assert_int_equal(b[0], 0x0a);
	assert_int_equal(b[3], 0x00);
	assert_int_equal(shim6_cga_hex_encode(b, 4, s, sizeof(s)), 8);
	assert_string_equal(s, "0abc1f00");
	assert_int_equal(shim6_cga_hex_decode("abc", b, sizeof(b)), SHIM6_CGA_EHEX);
	assert_int_equal(shim6_cga_hex_decode("zz", b, sizeof(b)), SHIM6_CGA_EHEX);
	assert_int_equal(shim6_cga_hex_decode("0011223344", b, sizeof(b)), SHIM6_CGA_ENOSPACE);
	assert_int_equal(shim6_cga_hex_encode(b, 4, s, 8), SHIM6_CGA_ENOSPACE);
	for (int e = 0; e >= -22; e--)
		assert_string_not_equal(shim6_cga_strerror(e), "unknown error");
	assert_string_equal(shim6_cga_strerror(-999), "unknown error");
}

static void test_verify_null_addr_and_first_prefix_octet(void **state)
{
	uint8_t pds[256], addr[16];
	size_t n = kat_pds(pds, sizeof(pds));

	(void)state;
	addr_parse(kat_addr, addr);
	assert_int_equal(shim6_cga_verify(NULL, pds, n), SHIM6_CGA_EINVAL);
	/* All eight prefix octets bind the address, the first included. */
	addr[0] ^= 0x01;
	assert_int_equal(shim6_cga_verify(addr, pds, n), SHIM6_CGA_EPREFIX);
}

static void test_sec1_needs_two_zero_octets_of_hash2(void **state)
{
	static const uint8_t zero9[9];
	uint8_t pds[256], addr[16], md[20], iid[8];
	size_t n = kat_pds(pds, sizeof(pds));
	struct shim6_cga_params p;
	unsigned int mdlen;
	uint32_t m;

	(void)state;
	/* Find a modifier whose Hash2 starts with one zero octet but not two:
	 * Sec 1 asks for 16 zero bits, so it must be refused. */
	for (m = 0; m < 1u << 20; m++) {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		pds[12] = (uint8_t)(m >> 24); pds[13] = (uint8_t)(m >> 16);
		pds[14] = (uint8_t)(m >> 8);  pds[15] = (uint8_t)m;
		assert_true(EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
		            EVP_DigestUpdate(ctx, pds, 16) == 1 &&
		            EVP_DigestUpdate(ctx, zero9, 9) == 1 &&
		            EVP_DigestUpdate(ctx, pds + 25, n - 25) == 1 &&
		            EVP_DigestFinal_ex(ctx, md, &mdlen) == 1);
		EVP_MD_CTX_free(ctx);
		if (md[0] == 0 && md[1] != 0)
			break;
	}
	assert_true(m < 1u << 20);
	assert_int_equal(shim6_cga_parse(&p, pds, n), 0);
	assert_int_equal(shim6_cga_check_hash2(&p, 1), SHIM6_CGA_EHASH2);
	assert_int_equal(shim6_cga_iid(&p, NULL, 1, iid), 0);
	memcpy(addr, pds + 16, 8);
	memcpy(addr + 8, iid, 8);
	assert_int_equal(shim6_cga_verify(addr, pds, n), SHIM6_CGA_EHASH2);
	addr[8] &= 0x1f;   /* the same identifier at Sec 0 verifies */
	assert_int_equal(shim6_cga_verify(addr, pds, n), 0);
}

static void test_parse_der_length_forms(void **state)
{
	uint8_t pds[256], buf[300];
	size_t n = kat_pds(pds, sizeof(pds));
	struct shim6_cga_params p;

	(void)state;
	/* 0x80 is the indefinite form, which DER forbids, even when 128
	 * octets follow. */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, pds, 25);
	memcpy(buf + 25, "\x30\x80", 2);
	assert_int_equal(shim6_cga_parse(&p, buf, 25 + 2 + 128), SHIM6_CGA_EKEYDER);
	/* 0x82 with a zero high octet is a non-minimal length. */
	memcpy(buf, pds, 25);
	memcpy(buf + 25, "\x30\x82\x00\x5c", 4);
	memcpy(buf + 29, pds + 27, n - 27);
	assert_int_equal(shim6_cga_parse(&p, buf, n + 2), SHIM6_CGA_EKEYDER);
	/* Long-form length octets past the end of the PDS are never read:
	 * the octets after the buffer's end would announce a length. */
	memset(buf, 0, sizeof(buf));
	memcpy(buf + 25, "\x30\x81\x80", 3);
	assert_int_equal(shim6_cga_parse(&p, buf, 27), SHIM6_CGA_ESHORT);
	memcpy(buf + 25, "\x30\x82\x01\x00", 4);
	assert_int_equal(shim6_cga_parse(&p, buf, 28), SHIM6_CGA_ESHORT);
}

static void test_parse_multiprefix_and_ext_count(void **state)
{
	uint8_t pds[256], buf[SHIM6_CGA_PDS_MAX];
	size_t n = kat_pds(pds, sizeof(pds));
	struct shim6_cga_params p;
	static const uint8_t mp[] = { 0x00, 0x12, 0x00, 0x0c, 0x80, 0, 0, 0,
	                              0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1 };

	(void)state;
	memcpy(buf, pds, n);
	/* A set with no prefix is malformed. */
	memcpy(buf + n, "\x00\x12\x00\x04\x80\x00\x00\x00", 8);
	assert_int_equal(shim6_cga_parse(&p, buf, n + 8), SHIM6_CGA_EEXT);
	/* 4 + 8 + 3 octets: a partial prefix is malformed. */
	memcpy(buf + n, mp, sizeof(mp));
	buf[n + 3] = 15;
	memset(buf + n + 16, 0, 3);
	assert_int_equal(shim6_cga_parse(&p, buf, n + 19), SHIM6_CGA_EEXT);
	/* One set per PDS. */
	memcpy(buf + n, mp, sizeof(mp));
	memcpy(buf + n + 16, mp, sizeof(mp));
	assert_int_equal(shim6_cga_parse(&p, buf, n + 16), 0);
	assert_int_equal(shim6_cga_parse(&p, buf, n + 32), SHIM6_CGA_EEXT);
	/* Only the top bit of the flags is P; the reserved bits are not. */
	buf[n + 4] = 0x01;
	assert_int_equal(shim6_cga_parse(&p, buf, n + 16), 0);
	assert_true(p.mp_present);
	assert_false(p.mp_pflag);
	/* At most SHIM6_CGA_EXT_MAX extension fields are kept: one more is refused. */
	for (size_t i = 0; i <= SHIM6_CGA_EXT_MAX; i++)
		memcpy(buf + n + 4 * i, "\x00\x99\x00\x00", 4);
	assert_int_equal(shim6_cga_parse(&p, buf, n + 4 * SHIM6_CGA_EXT_MAX), 0);
	assert_int_equal(p.n_ext, SHIM6_CGA_EXT_MAX);
	assert_int_equal(shim6_cga_parse(&p, buf, n + 4 * (SHIM6_CGA_EXT_MAX + 1)), SHIM6_CGA_EEXT);
}

static void test_build_guards(void **state)
{
	uint8_t pds[256], key[128], out[300];
	size_t n = kat_pds(pds, sizeof(pds));

	(void)state;
	assert_int_equal(shim6_cga_build(out, sizeof(out), pds, NULL, 0, pds + 25, n - 25, NULL, 0),
	                 SHIM6_CGA_EINVAL);
	assert_int_equal(shim6_cga_build(out, sizeof(out), pds, pds + 16, 0, NULL, n - 25, NULL, 0),
	                 SHIM6_CGA_EINVAL);
	/* The key must be exactly one DER element: trailing octets (here a
	 * well-formed empty extension) are not part of it. */
	memcpy(key, pds + 25, n - 25);
	memset(key + n - 25, 0, 4);
	assert_int_equal(shim6_cga_build(out, sizeof(out), pds, pds + 16, 0, key, n - 25 + 4, NULL, 0),
	                 SHIM6_CGA_EKEYDER);
	/* The output buffer must hold the whole PDS, not one octet less. */
	assert_int_equal(shim6_cga_build(out, n - 1, pds, pds + 16, 0, pds + 25, n - 25, NULL, 0),
	                 SHIM6_CGA_ENOSPACE);
	assert_int_equal(shim6_cga_build(out, n, pds, pds + 16, 0, pds + 25, n - 25, NULL, 0), (int)n);
	assert_memory_equal(out, pds, n);
}

static void test_hash_api_guards(void **state)
{
	uint8_t pds[256], iid[8];
	size_t n = kat_pds(pds, sizeof(pds));
	struct shim6_cga_params p;

	(void)state;
	assert_int_equal(shim6_cga_parse(&p, pds, n), 0);
	/* Sec 3..7 are unassigned for both Hash1 and Hash2. */
	assert_int_equal(shim6_cga_check_hash2(&p, SHIM6_CGA_SEC_MAX + 1), SHIM6_CGA_ESEC);
	assert_int_equal(shim6_cga_iid(&p, NULL, SHIM6_CGA_SEC_MAX + 1, iid), SHIM6_CGA_ESEC);
	/* Parameters not from shim6_cga_parse: no modifier, or a PDS shorter
	 * than its fixed fields. */
	memset(&p, 0, sizeof(p));
	assert_int_equal(shim6_cga_check_hash2(&p, 1), SHIM6_CGA_EINVAL);
	p.raw = pds;
	p.raw_len = SHIM6_CGA_FIXED_LEN - 1;
	assert_int_equal(shim6_cga_iid(&p, NULL, 0, iid), SHIM6_CGA_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kat_verify),
		cmocka_unit_test(test_kat_generate),
		cmocka_unit_test(test_kat_u_g_bits_ignored),
		cmocka_unit_test(test_parse_bounds),
		cmocka_unit_test(test_build_roundtrip),
		cmocka_unit_test(test_generate_sec0_sec1_and_flip),
		cmocka_unit_test(test_collision_count_and_bump),
		cmocka_unit_test(test_sec2_progress_and_cancel),
		cmocka_unit_test(test_hex_and_strerror),
		cmocka_unit_test(test_verify_null_addr_and_first_prefix_octet),
		cmocka_unit_test(test_sec1_needs_two_zero_octets_of_hash2),
		cmocka_unit_test(test_parse_der_length_forms),
		cmocka_unit_test(test_parse_multiprefix_and_ext_count),
		cmocka_unit_test(test_build_guards),
		cmocka_unit_test(test_hash_api_guards),
	};
	return cmocka_run_group_tests_name("crypto_cga", tests, setup, teardown);
}
