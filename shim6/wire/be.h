/* Big-endian load/store helpers shared by the codec files (internal). */
#ifndef SHIM6_WIRE_BE_H
#define SHIM6_WIRE_BE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t be48(const uint8_t *p)
{
	return (uint64_t)be16(p) << 32 | be32(p + 2);
}
static inline void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline void put48(uint8_t *p, uint64_t v) { put16(p, (uint16_t)(v >> 32)); put32(p + 2, (uint32_t)v); }

/* R bit + 47-bit context tag in 6 octets (the common layout of §5). */
static inline uint64_t get_rtag(const uint8_t *p, bool *r)
{
	*r = (p[0] & 0x80) != 0;
	return be48(p) & 0x7fffffffffffULL;
}
static inline void put_rtag(uint8_t *p, bool r, uint64_t tag)
{
	put48(p, tag & 0x7fffffffffffULL);
	if (r)
		p[0] |= 0x80;
}

/* Option padding: total = 4 + len + (7 - ((len + 3) % 8)) (RFC 5533 §5.15). */
static inline unsigned opt_pad(unsigned clen) { return 7 - ((clen + 3) % 8); }
/* Padding between the verification methods and the locators of a Locator
 * List, so that the locators start 8-aligned from the option start. */
static inline unsigned loclist_pad(unsigned n) { return (8 - (9 + n) % 8) % 8; }
static inline unsigned loclist_clen(unsigned n) { return 5 + n + loclist_pad(n) + 16 * n; }

struct shim6_opt;
/* options.c: one option at p, room octets available up to the message end.
 * Decode stores the option's total size (with padding) in *total. */
int shim6_wire_opt_decode(const uint8_t *p, size_t room, struct shim6_opt *o, size_t *total);
int shim6_wire_opt_encode(const struct shim6_opt *o, uint8_t *p, size_t room);

#endif
