/* RFC 1071 Internet checksum.  Shim6 control messages are checksummed
 * alone, with no pseudo-header (RFC 5533 §5.3). */
#include <string.h>

#include <shim6/wire.h>

uint16_t shim6_wire_checksum(const uint8_t *buf, size_t len)
{
	/* The one's complement sum does not depend on byte order (RFC 1071
	 * §2(B)): add native-order words and swap the folded result once.
	 * 32-bit halves into a 64-bit accumulator cannot overflow for any
	 * length below 2^32 octets. */
	uint64_t sum = 0;
	const uint8_t *p = buf;

	for (; len >= 8; p += 8, len -= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		sum += (v & 0xffffffffu) + (v >> 32);
	}
	if (len >= 4) {
		uint32_t v;
		memcpy(&v, p, 4);
		sum += v;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t v;
		memcpy(&v, p, 2);
		sum += v;
		p += 2;
		len -= 2;
	}
	if (len) {
		const uint8_t tail[2] = { p[0], 0 };
		uint16_t v;
		memcpy(&v, tail, 2);
		sum += v;
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	uint16_t r = (uint16_t)~sum;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	r = (uint16_t)(r << 8 | r >> 8);
#endif
	return r;
}
