/* libFuzzer target: untrusted control messages into an engine that holds an
 * established context.  Input: chunks of [flags][len][bytes]; flag 0x01
 * patches the context tag at octet 6 with the real one so fuzzed Updates,
 * Probes and Keepalives reach the context; 0x02 sends from a verified
 * peer locator rather than a stranger's address. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sim s;
	sim_init(&s, 7, 2, 1, 2, NULL);
	sim_open(&s, 0, 0, 1, 0, 0, NULL);
	sim_run(&s, 2 * SHIM6_NS_PER_S);
	struct shim6_ctx_info a;
	uint64_t tag = sim_ctx(&s, 1, 0, 0, 0, 0, &a) ? a.id : 1;
	struct shim6_in6 stranger = sim_loc(0, 5, 0), peer = sim_loc(0, 0, 0), me = sim_loc(1, 0, 0);
	uint8_t buf[SHIM6_MAX_MSG];
	size_t off = 0;
	while (off + 2 <= size) {
		uint8_t flags = data[off];
		size_t want = data[off + 1] * 8u + 8u;
		off += 2;
		size_t take = want < size - off ? want : size - off;
		size_t len = take < sizeof(buf) ? take : sizeof(buf);
		memcpy(buf, data + off, len);
		off += take;
		if ((flags & 1) && len >= 12)
			for (int i = 0; i < 6; i++)
				buf[6 + i] = (uint8_t)(tag >> (8 * (5 - i)));
		shim6_engine_recv(s.site[1].eng, buf, len, (flags & 2) ? &peer : &stranger, &me, s.now);
		if (flags & 4)
			shim6_engine_unknown_tag(s.site[1].eng, tag ^ flags, &peer, &me, s.now);
		sim_run(&s, 100 * SHIM6_NS_PER_MS);
	}
	sim_run(&s, 5 * SHIM6_NS_PER_S);
	sim_fini(&s);
	if (s.allocs != 0)
		abort();
	return 0;
}
