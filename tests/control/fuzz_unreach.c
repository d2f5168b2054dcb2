/* libFuzzer target: a host's packet, as punted or held, through the
 * Destination Unreachable builder.  The packet sits in a buffer of its
 * exact size, so a read past it is seen; an error that is built must fit
 * the minimum MTU, carry the packet's head and sum right. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <shim6/wire.h>
#include "unreach.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t own[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xff, [15] = 1 };
	uint8_t out[UNREACH_MIN_MTU], ph[40 + UNREACH_MIN_MTU];
	uint8_t *p = malloc(size ? size : 1);
	if (!p)
		return 0;
	memcpy(p, data, size);
	size_t n = unreach_build(own, p, size, out, sizeof out);
	if (n) {
		size_t plen = (size_t)out[4] << 8 | out[5];
		if (n > UNREACH_MIN_MTU || n != 40 + plen || out[40] != 1 || memcmp(out + 48, p, n - 48))
			abort();
		memcpy(ph, out + 8, 32);
		memset(ph + 32, 0, 8);
		ph[34] = (uint8_t)(plen >> 8);
		ph[35] = (uint8_t)plen;
		ph[39] = 58;
		memcpy(ph + 40, out + 40, plen);
		if (shim6_wire_checksum(ph, 40 + plen) != 0)
			abort();
	}
	free(p);
	return 0;
}
