/* libFuzzer target: any input must decode without reading out of bounds;
 * every input that decodes must re-encode to exactly the same octets.
 * Each input is tried twice: as given, and with its checksum made right,
 * so that mutations reach the validity rules behind the checksum. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <shim6/wire.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(uint8_t *b, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Copy to an exact-size heap block so ASan sees any over-read. */
	uint8_t *b = malloc(size ? size : 1);
	if (!b)
		return 0;
	memcpy(b, data, size);
	one(b, size);
	if (size >= 8) {
		size_t mlen = ((size_t)b[1] + 1) * 8;
		if (mlen <= size) {
			b[4] = b[5] = 0;
			uint16_t c = shim6_wire_checksum(b, mlen);
			b[4] = (uint8_t)(c >> 8);
			b[5] = (uint8_t)c;
			one(b, size);
		}
	}
	free(b);
	return 0;
}

static void one(uint8_t *b, size_t size)
{
	static struct shim6_msg m;
	static uint8_t out[SHIM6_MSG_MAX];
	static uint8_t signed_data[SHIM6_CGA_SIGNED_MAX];

	uint8_t nh;
	uint64_t tag;
	(void)shim6_wire_payload_decode(b, size, &nh, &tag);

	int rc = shim6_wire_decode(b, size, &m);
	if (rc == 0) {
		int n = shim6_wire_encode(&m, out, sizeof out);
		if (n != m.len || memcmp(out, b, (size_t)n) != 0)
			abort();
		/* Walk every accessor over the views. */
		if (m.locpref)
			for (unsigned i = 0; i < m.locpref->u.locpref.n; i++) {
				struct shim6_locpref_elem e;
				shim6_wire_locpref_get(&m.locpref->u.locpref, i, &e);
			}
		if (m.loclist &&
		    shim6_wire_cga_signed_data(&m.loclist->u.loclist, signed_data, sizeof signed_data) < 0)
			abort();
		if (m.type == SHIM6_TYPE_PROBE) {
			struct shim6_probe_report r;
			for (unsigned i = 0; i < m.m.probe.psent; i++)
				if (shim6_wire_probe_report(&m.m.probe, false, i, &r))
					abort();
			for (unsigned i = 0; i < m.m.probe.precvd; i++)
				if (shim6_wire_probe_report(&m.m.probe, true, i, &r))
					abort();
		}
	} else if (strcmp(shim6_wire_strerror(rc), "unknown error") == 0) {
		abort();        /* every decode error must have a text */
	}
}
