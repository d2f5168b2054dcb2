/*
 * libFuzzer target: the upstream wire check (upstream_wire.c), then ldns on
 * what it lets through, as upstream.c does with every answer.  The input is
 * the answer; its own ID is the query's, so most inputs get past the ID
 * test and into the walk.  Whatever the check accepts must parse without a
 * leak (LeakSanitizer: ldns 1.8.3 leaks extra TSIG records) and, when ldns
 * takes it, must not hold a TSIG record; a refusal must be a documented
 * code.
 */
#include <stdint.h>
#include <stdlib.h>

#include "dnsalg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint16_t id = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 0;
	int r = dnsalg_upstream_wire_check(data, size, id);
	if (r != 0) {
		if (r != DNSALG_EWIRE && r != DNSALG_EMISMATCH && r != DNSALG_ETSIG)
			abort();
		return 0;
	}
	if (size < 12 || !(data[2] & 0x80))
		abort();
	ldns_pkt *p = NULL;
	if (ldns_wire2pkt(&p, data, size) == LDNS_STATUS_OK) {
		if (ldns_pkt_tsig(p) || ldns_pkt_id(p) != id)
			abort();
		ldns_pkt_free(p);
	}
	return 0;
}
