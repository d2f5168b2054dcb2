/* The state-file line as snprintf() and inet_ntop() write it: the reference
 * the daemon's own writer (control/state_line.c) must match octet for
 * octet, shared by its unit suite and fuzz_state_file.  Returns the length
 * the whole line needs; the text is cut at cap - 1 when it does not fit. */
#ifndef PSHIM6_TESTS_STATE_LINE_REF_H
#define PSHIM6_TESTS_STATE_LINE_REF_H
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include "state.h"

static inline size_t state_line_ref(const struct ctl_state_ctx *s, char *o, size_t cap)
{
	size_t n = (size_t)snprintf(o, cap, "ctx %012" PRIx64 " %" PRIu32 " %" PRIu32 " %d", s->own_tag,
				    s->local_gen, s->peer_gen, s->initiator ? 1 : 0);
	for (size_t i = 0; i < s->npeer; i++) {
		char a[INET6_ADDRSTRLEN];
		const struct shim6_locator *l = &s->peer_locs[i];
		inet_ntop(AF_INET6, l->addr.b, a, sizeof a);
		n += (size_t)snprintf(n < cap ? o + n : NULL, n < cap ? cap - n : 0, " %s,%u,%u,%u,%u,%d", a,
				      l->verif, l->flags, l->priority, l->weight, s->verified[i] ? 1 : 0);
	}
	return n;
}
#endif
