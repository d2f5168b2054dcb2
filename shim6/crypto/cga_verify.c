/* CGA verification, RFC 3972 §5: hashes only, no public-key operation. */
#include <string.h>

#include "cga_internal.h"

int shim6_cga_verify(const uint8_t addr[16], const uint8_t *pds, size_t pds_len)
{
	struct shim6_cga_params p;
	uint8_t iid[8];
	unsigned sec;
	int rc;

	if (!addr)
		return SHIM6_CGA_EINVAL;
	if ((rc = shim6_cga_parse(&p, pds, pds_len)) < 0)
		return rc;
	if (p.collision_count > SHIM6_CGA_COLLISION_MAX)
		return SHIM6_CGA_ECOLLISION;
	if (memcmp(p.prefix, addr, 8) != 0)
		return SHIM6_CGA_EPREFIX;
	sec = addr[8] >> 5;
	if (sec > SHIM6_CGA_SEC_MAX)
		return SHIM6_CGA_ESEC;
	if ((rc = shim6_cga_iid(&p, NULL, sec, iid)) < 0)
		return rc;
	/* Compare ignoring Sec (checked via Hash2) and the u and g bits. */
	if ((iid[0] & 0x1c) != (addr[8] & 0x1c) || memcmp(iid + 1, addr + 9, 7) != 0)
		return SHIM6_CGA_EHASH1;
	return shim6_cga_check_hash2(&p, sec);
}
