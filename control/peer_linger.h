/*
 * What a yielding backup leaves in its dataplane: the tags of the contexts
 * it gave back to the primary stay installed for peer.yield_linger_ms, so
 * traffic routing still sends to this proxy (until bird/BFD/OSPF and the
 * ISPs move back) is forwarded, then they are deleted.  Pure: the caller
 * deletes the entries when peer_linger_due says so.
 */
#ifndef PSHIM6_CONTROL_PEER_LINGER_H
#define PSHIM6_CONTROL_PEER_LINGER_H
#include <stdbool.h>
#include <stdint.h>
#include "pshim6/conf.h"

struct peer_linger {
	uint64_t *tags;
	uint32_t cap, n;
	bool sorted;                /* tags[0..n) in order, for peer_linger_has */
	uint64_t until_ns;
};

int peer_linger_init(struct peer_linger *l, uint32_t cap);   /* 0, -1 out of memory */
void peer_linger_free(struct peer_linger *l);
/* The linger time the configuration asks for, in ns. */
uint64_t peer_linger_ns(const struct pshim6_conf_peer_proxy *c);
/* Start lingering (the caller ended the previous one): entries added next
 * stay until now + linger_ns. */
void peer_linger_start(struct peer_linger *l, uint64_t now, uint64_t linger_ns);
int peer_linger_add(struct peer_linger *l, uint64_t tag);    /* 0, -1 full */
/* Whether `tag` lingers (sorts the list the first time after an add). */
bool peer_linger_has(struct peer_linger *l, uint64_t tag);
bool peer_linger_due(const struct peer_linger *l, uint64_t now);
uint64_t peer_linger_deadline(const struct peer_linger *l);  /* UINT64_MAX when none */
#endif
