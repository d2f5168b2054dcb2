/*
 * dpmsg decoder on arbitrary datagrams: never reads past the input, and a
 * datagram it accepts re-encodes to the same octets (the layout is canonical;
 * ERROR text after its first NUL is the one exception).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pshim6/dpmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dpmsg m, m2;
	static uint8_t out[DPMSG_MAX_LEN];
	int n;

	if (dpmsg_decode(data, size, &m) != DPMSG_OK)
		return 0;
	n = dpmsg_encode(&m, out, sizeof(out));
	if (n < 0 || (size_t)n != size)
		abort();
	if (m.type != DPMSG_ERROR && memcmp(out, data, size) != 0)
		abort();
	if (dpmsg_decode(out, (size_t)n, &m2) != DPMSG_OK || m2.type != m.type || m2.seq != m.seq)
		abort();
	return 0;
}
