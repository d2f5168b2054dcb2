/* Payload extension header (RFC 5533 §5.2): Next Header, Hdr Ext Len = 0,
 * P = 1, 47-bit receiver context tag.  8 octets, no checksum. */
#include <shim6/wire.h>
#include "be.h"

int shim6_wire_payload_encode(uint8_t next_header, uint64_t ctag, uint8_t out[SHIM6_PAYLOAD_HDR_LEN])
{
	if (!out)
		return SHIM6_E_INVAL;
	if (ctag & ~SHIM6_CTAG_MASK)
		return SHIM6_E_FIELD;
	out[0] = next_header;
	out[1] = 0;
	put48(out + 2, ctag);
	out[2] |= 0x80;
	return SHIM6_PAYLOAD_HDR_LEN;
}

int shim6_wire_payload_decode(const uint8_t *b, size_t len, uint8_t *next_header, uint64_t *ctag)
{
	if (!b || !next_header || !ctag)
		return SHIM6_E_INVAL;
	if (len < SHIM6_PAYLOAD_HDR_LEN)
		return SHIM6_E_TRUNC;
	if (!(b[2] & 0x80))
		return SHIM6_E_PBIT;
	if (b[1] != 0)
		return SHIM6_E_PAYLOAD_LEN;
	*next_header = b[0];
	*ctag = be48(b + 2) & SHIM6_CTAG_MASK;
	return 0;
}
