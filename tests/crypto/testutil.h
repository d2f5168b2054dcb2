/* Shared bits of the crypto suites: a seeded RNG and the RFC 3972 KAT. */
#ifndef TESTS_CRYPTO_TESTUTIL_H
#define TESTS_CRYPTO_TESTUTIL_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include <shim6/cga.h>
#include <shim6/hba.h>

/* splitmix64: deterministic, seedable, good enough for modifiers. */
struct test_rng { uint64_t s; unsigned calls; int fail; };

static inline int test_rng_fill(void *user, uint8_t *buf, size_t len)
{
	struct test_rng *r = user;
	r->calls++;
	if (r->fail)
		return -1;
	for (size_t i = 0; i < len; i++) {
		uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		buf[i] = (uint8_t)(z ^ (z >> 31));
	}
	return 0;
}

/* RFC 3972 Appendix A: modifier | prefix | collision count | RSA-512 key. */
static const char kat_pds_hex[] =
	"89a8a8b2e858d8b8f2633f44d2d4ce9b" "fe80000000000000" "00"
	"305c300d06092a864886f70d0101010500034b003048024100c2c2f137305454f10bd9cea36844b530"
	"e9211a4b262b16467cb7dfba1f595c0194f275be5a4d386f2c3c2382508773c7867f9b3b9e63a09c7bc4"
	"8f7a54ebefaf0203010001";
static const char kat_addr[] = "fe80::3c4a:5bf6:ffb4:ca6c";

static inline size_t kat_pds(uint8_t *out, size_t cap)
{
	int n = shim6_cga_hex_decode(kat_pds_hex, out, cap);
	return n < 0 ? 0 : (size_t)n;
}

static inline void addr_parse(const char *s, uint8_t a[16])
{
	if (inet_pton(AF_INET6, s, a) != 1)
		memset(a, 0xee, 16);
}

#endif
