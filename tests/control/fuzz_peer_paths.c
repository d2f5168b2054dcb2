/* libFuzzer target: the order in which the other proxy's datagrams reach
 * us over several paths (control/peer_paths.h).  The MAC makes their
 * contents trusted, not their order: a path can delay, drop, reorder or
 * repeat them, and heartbeats come once per path.  Input: records of 4
 * octets, [path | kind] [seq delta, signed, 3 octets]; kind picks a
 * heartbeat, another message, a tick of the clock, a reload that changes
 * the list of addresses (the delta's low octet says which stay) or a new
 * session.
 * Invariants: the stream's last number only grows, nothing is lost that
 * was not skipped, a replayed number is never taken twice, a path's
 * heartbeat numbers only grow, sync goes to a configured path. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "peer_paths.h"

#define MS 1000000ULL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct peer_paths P;
	struct in6_addr a[PEER_PATHS_MAX];
	memset(a, 0, sizeof a);
	for (unsigned i = 0; i < PEER_PATHS_MAX; i++)
		a[i].s6_addr[15] = (uint8_t)(i + 1);
	unsigned n = size ? (unsigned)(data[0] % PEER_PATHS_MAX) + 1 : 1;
	uint64_t now = 1000 * MS, seq = 1;
	peer_paths_init(&P, a, n, 100 * MS, now);
	peer_paths_session(&P, 0, seq);
	for (size_t off = 1; off + 4 <= size; off += 4) {
		unsigned path = (data[off] & 3) % n, kind = (data[off] >> 2) & 7;
		int32_t d = (int32_t)(((uint32_t)data[off + 1] << 16) | ((uint32_t)data[off + 2] << 8) | data[off + 3]);
		if (d & 0x800000)
			d -= 0x1000000;
		uint64_t s = d < 0 && (uint64_t)-d >= seq ? 1 : seq + (uint64_t)(int64_t)d;
		uint64_t before = P.data_seq, hb_before = P.p[path].hb_seq;
		switch (kind) {
		case 2: {
			/* a sync over `path` went unreceived: messages leave it
			 * for any other path that is up and not avoided */
			bool other = false;
			for (unsigned i = 0; i < n; i++)
				other |= i != path && peer_paths_up(&P, i) && !peer_paths_avoided(&P, i);
			uint64_t hold = (uint64_t)data[off + 3] * 100 * MS, k = P.p[path].holds;
			unsigned to = peer_paths_unreceived(&P, path, now, hold);
			if (!peer_paths_avoided(&P, path) || (other && to == path) || to >= n)
				abort();
			/* the hold doubles per verdict in a row, and no further than the cap */
			if (P.p[path].avoid_until_ns - now !=
			    (hold ? hold : 1) << (k < PEER_PATH_HOLD_MAX_DOUBLINGS ? k : PEER_PATH_HOLD_MAX_DOUBLINGS))
				abort();
			/* a sync over it arrives now and then: the next starts from the base */
			if (data[off + 2] & 1)
				peer_paths_received(&P, path);
			break;
		}
		case 0: case 1: {
			enum peer_rx_verdict v = peer_paths_rx_hb(&P, path, s);
			if (v == PEER_RX_REPLAY && P.p[path].hb_seq != hb_before)
				abort();
			if (v != PEER_RX_REPLAY && (P.p[path].hb_seq != s || s <= hb_before))
				abort();
			if (v != PEER_RX_REPLAY)
				peer_paths_heard(&P, path, now);
			break;
		}
		case 3: case 4: {
			uint64_t lost = 0;
			enum peer_rx_verdict v = peer_paths_rx_data(&P, path, s, &lost);
			if (v == PEER_RX_REPLAY && (P.data_seq != before || lost))
				abort();
			if (v == PEER_RX_NEW && (P.data_seq != s || s <= before || lost > s - before - 1))
				abort();
			if (v == PEER_RX_DUP)
				abort();
			break;
		}
		case 6: {
			/* a reload: path 0 stays, others by bit, new ones appear */
			struct in6_addr l[PEER_PATHS_MAX];
			unsigned k = 1;
			l[0] = P.p[0].addr;
			for (unsigned i = 0; i < 3; i++)
				if (data[off + 3] & (1u << i)) {
					memset(&l[k], 0, sizeof l[k]);
					l[k].s6_addr[15] = (uint8_t)(data[off + 3] >> 3) + (uint8_t)i;
					k++;
				}
			peer_paths_set(&P, l, k, now);
			n = P.n;
			/* listed twice collapses to one path; path 0 stays first */
			if (memcmp(&P.p[0].addr, &l[0], sizeof l[0]) || n < 1 || n > k)
				abort();
			break;
		}
		case 5:
			now += (uint64_t)(data[off + 3]) * MS * 10;
			peer_paths_tick(&P, now, NULL, NULL);
			/* everything due was done: a deadline in the past would
			 * spin the daemon's loop */
			if (peer_paths_deadline(&P) <= now)
				abort();
			break;
		case 7:
			peer_paths_session(&P, path, s);
			break;
		}
		if (s > seq)
			seq = s;
		if (peer_paths_sync(&P) >= n || peer_paths_n_up(&P) > n || P.hb_n > PEER_PATHS_HB_KEEP)
			abort();
	}
	return 0;
}
