/* The standard ownership check for a peer's locator list, for callers to
 * use from their `verify` callback: CGA (RFC 3972 + the RFC 5533 signature)
 * or HBA (RFC 5535) through shim6/crypto. */
#include "internal.h"

#include <shim6/cga.h>
#include <shim6/hba.h>

int shim6_engine_verify_locators(const struct shim6_in6 *peer_ulid, enum shim6_verif method,
                                 const uint8_t *pds, size_t pds_len,
                                 const struct shim6_locator *locs, size_t nlocs,
                                 const uint8_t *data, size_t len,
                                 const uint8_t *sig, size_t sig_len)
{
	if (!peer_ulid || !pds || (nlocs && !locs))
		return SHIM6_ENG_EINVAL;
	switch (method) {
	case SHIM6_VERIF_CGA:
		if (!sig || !data)
			return SHIM6_ENG_EVERIFY;
		if (shim6_cga_verify(peer_ulid->b, pds, pds_len) != 0)
			return SHIM6_ENG_EVERIFY;
		if (shim6_cga_verify_sig_data(pds, pds_len, data, len, sig, sig_len) != 0)
			return SHIM6_ENG_EVERIFY;
		/* locators marked HBA in a CGA-signed list must still be in the set */
		for (size_t i = 0; i < nlocs; i++)
			if (locs[i].verif == SHIM6_VERIF_HBA &&
			    shim6_hba_verify(locs[i].addr.b, pds, pds_len) != 0)
				return SHIM6_ENG_EVERIFY;
		return 0;
	case SHIM6_VERIF_HBA:
		if (shim6_hba_verify(peer_ulid->b, pds, pds_len) != 0)
			return SHIM6_ENG_EVERIFY;
		for (size_t i = 0; i < nlocs; i++)
			if (shim6_hba_verify(locs[i].addr.b, pds, pds_len) != 0)
				return SHIM6_ENG_EVERIFY;
		return 0;
	default:
		return SHIM6_ENG_EUNSUPP;
	}
}
