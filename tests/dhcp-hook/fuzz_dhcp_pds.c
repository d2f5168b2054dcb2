/*
 * Fuzzes what the hook parses from outside: the "pds" hex of a lease's
 * user-context (the lease database may come from an HA peer or an operator),
 * the raw PDS, and the control daemon's reply line.  First octet selects.
 * Invariant checked: a PDS that parses re-encodes to the same octets.
 */
#include <stdlib.h>
#include <string.h>
#include "pdh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[PDH_PDS_MAX + 64], again[PDH_PDS_MAX + 64];
	struct pdh_pds p;
	char err[64];
	ssize_t n;

	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0: /* user-context hex */
		if (pdh_ctx_pds_from_hex(&p, buf, sizeof(buf), (const char *)data + 1, size - 1) != PDH_OK)
			return 0;
		n = pdh_hex_decode(buf, sizeof(buf), (const char *)data + 1, size - 1);
		break;
	case 1: /* raw PDS */
		n = (ssize_t)(size - 1);
		if (size - 1 > sizeof(buf))
			return 0;
		memcpy(buf, data + 1, size - 1);
		if (pdh_pds_parse(&p, buf, size - 1) != PDH_OK)
			return 0;
		break;
	default:
		pdh_msg_reply((const char *)data + 1, size - 1, err, sizeof(err));
		return 0;
	}
	if (pdh_pds_encode(again, sizeof(again), &p) != n || memcmp(again, buf, (size_t)n))
		abort();
	/* Verification over parsed, attacker-chosen parameters must not misbehave. */
	{
		uint8_t addr[16] = {0};
		memcpy(addr, p.prefix, 8);
		addr[8] = (uint8_t)(p.modifier[0] & 0x20);
		(void)pdh_verify(addr, &p, addr[8] >> 5);
	}
	return 0;
}
