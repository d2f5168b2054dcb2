/* Xorshift generators for the unit suites' random operation sequences:
 * reproducible from the seed, so a failing sequence can be replayed. */
#ifndef PSHIM6_TEST_RNG_H
#define PSHIM6_TEST_RNG_H
#include <stdint.h>

static inline uint64_t test_rng64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static inline uint32_t test_rng32(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}
#endif
