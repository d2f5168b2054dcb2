/* RFC 1071 Internet checksum.  Shim6 control messages are checksummed
 * alone, with no pseudo-header (RFC 5533 §5.3). */
#include <shim6/wire.h>

uint16_t shim6_wire_checksum(const uint8_t *buf, size_t len)
{
	uint64_t sum = 0;
	size_t i = 0;

	/* 32 bits at a time into a 64-bit accumulator: carries cannot be lost
	 * for any length a Shim6 message can have. */
	for (; i + 4 <= len; i += 4)
		sum += (uint32_t)buf[i] << 24 | (uint32_t)buf[i + 1] << 16 |
		       (uint32_t)buf[i + 2] << 8 | buf[i + 3];
	for (; i + 2 <= len; i += 2)
		sum += (uint32_t)buf[i] << 8 | buf[i + 1];
	if (i < len)
		sum += (uint32_t)buf[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}
