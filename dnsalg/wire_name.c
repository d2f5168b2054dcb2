/* Walking names in a DNS message: one bounded walk for every parser here. */
#include "dnsalg.h"

size_t dnsalg_wire_skip_name(const uint8_t *w, size_t len, size_t off)
{
	/* a name has at most 127 labels (RFC 1035 §2.3.4: 255 octets), so a
	 * walk longer than that is a malformed message, not a long name */
	for (unsigned n = 0; n < 128; n++) {
		if (off >= len)
			return 0;
		uint8_t l = w[off];
		if ((l & 0xC0) == 0xC0)
			return off + 2 <= len ? off + 2 : 0;
		if (l & 0xC0)
			return 0;   /* 0x40 (extended labels, retired by RFC 6891) or 0x80 (reserved) */
		if (l == 0)
			return off + 1;
		off += 1u + l;
	}
	return 0;
}
