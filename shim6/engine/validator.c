/* Responder Validator (RFC 5533 §7.10): a keyed hash over the values the
 * responder would otherwise have to remember, so that it keeps no state
 * before a valid I2/I2bis.  The secret rotates no sooner than
 * validator_min_lifetime; the current and the previous secret are accepted,
 * so a validator stays good for at least that long. */
#include "internal.h"

static inline uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }
static inline uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

#define SIPROUND do { \
	v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32); \
	v2 += v3; v3 = rotl(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = rotl(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32); } while (0)

/* SipHash-2-4 (Aumasson & Bernstein), written from the paper's description. */
uint64_t siphash24(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *in = data;
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
	uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
	size_t n = len & ~(size_t)7;
	for (size_t i = 0; i < n; i += 8) {
		uint64_t m = le64(in + i);
		v3 ^= m;
		SIPROUND; SIPROUND;
		v0 ^= m;
	}
	uint64_t b = (uint64_t)len << 56;
	for (size_t i = 0; i < (len & 7); i++)
		b |= (uint64_t)in[n + i] << (8 * i);
	v3 ^= b;
	SIPROUND; SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND; SIPROUND; SIPROUND; SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

void validator_rotate(struct shim6_engine *e, shim6_tstamp now)
{
	if (now - e->key_born < e->s.validator_min_lifetime)
		return;
	memcpy(e->key_prev, e->key_cur, 16);
	e->have_prev = true;
	e->rnd.fill(e->rnd.user, e->key_cur, 16);
	e->key_born = now;
}

void validator_make(struct shim6_engine *e, const uint8_t key[16], uint32_t rnonce,
                    uint64_t tag, uint32_t inonce, const struct shim6_in6 *a,
                    const struct shim6_in6 *b, uint32_t forkid, uint8_t out[16])
{
	(void)e;
	uint8_t buf[4 + 8 + 4 + 32 + 4 + 1];
	size_t o = 0;
	memcpy(buf + o, &rnonce, 4); o += 4;
	memcpy(buf + o, &tag, 8); o += 8;
	memcpy(buf + o, &inonce, 4); o += 4;
	memcpy(buf + o, a->b, 16); o += 16;
	memcpy(buf + o, b->b, 16); o += 16;
	memcpy(buf + o, &forkid, 4); o += 4;
	buf[o] = 1;
	uint64_t h1 = siphash24(key, buf, o + 1);
	buf[o] = 2;
	uint64_t h2 = siphash24(key, buf, o + 1);
	memcpy(out, &h1, 8);
	memcpy(out + 8, &h2, 8);
}

static bool ct_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t d = 0;
	for (size_t i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

bool validator_check(struct shim6_engine *e, uint32_t rnonce, uint64_t tag, uint32_t inonce,
                     const struct shim6_in6 *a, const struct shim6_in6 *b, uint32_t forkid,
                     const uint8_t *v, size_t vlen, shim6_tstamp now)
{
	uint8_t want[16];
	validator_rotate(e, now);
	if (vlen != 16)
		return false;
	validator_make(e, e->key_cur, rnonce, tag, inonce, a, b, forkid, want);
	if (ct_eq(want, v, 16))
		return true;
	if (!e->have_prev)
		return false;
	validator_make(e, e->key_prev, rnonce, tag, inonce, a, b, forkid, want);
	return ct_eq(want, v, 16);
}
