/*
 * Reverse lookups through the DNS ALG: when a host sends to a remote CMULA
 * whose locators nobody pushed and config does not list, control asks the
 * ALG ({"cmd":"resolve-ulid"}); the answer goes into the peer table, where
 * the host's retransmission finds it.  Asynchronous (never blocks the poll
 * loop), at most RESOLVE_MAX at once, one per ULID, each with a deadline.
 */
#ifndef PSHIM6_CONTROL_RESOLVE_H
#define PSHIM6_CONTROL_RESOLVE_H
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>

#define RESOLVE_MAX 32

struct daemon;

struct resolve_stats { uint64_t started, answered, failed, timeouts, busy; };

void resolve_start(struct daemon *d, const struct in6_addr *ulid);
/* poll integration: fill fds (returns count), then handle revents */
unsigned resolve_pollfds(struct daemon *d, struct pollfd *pf, unsigned cap);
void resolve_ready(struct daemon *d, int fd);
void resolve_expire(struct daemon *d, uint64_t now);
void resolve_free(struct daemon *d);
const struct resolve_stats *resolve_stats(void);
#endif
