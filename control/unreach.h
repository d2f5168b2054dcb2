/*
 * ICMPv6 Destination Unreachable (RFC 4443 section 3.1, code 3, address
 * unreachable) for a host's packet control cannot deliver: held while a
 * handshake ran and the peer never answered (NO-SUPPORT) or the context
 * could not be installed, or punted while the peer is held down.  Without
 * it the host's connection waits out its own timeouts (minutes for a TCP
 * SYN) against a peer that cannot be reached.
 *
 * Sans-I/O: the caller passes the packet and `now`, and sends what comes
 * back through the dataplane's inject path, out of the inside port.
 */
#ifndef PSHIM6_CONTROL_UNREACH_H
#define PSHIM6_CONTROL_UNREACH_H
#include <stddef.h>
#include <stdint.h>

#define UNREACH_MIN_MTU   1280   /* an error never exceeds it (RFC 4443 section 2.4 (c)) */
#define UNREACH_RATE      10     /* errors a second, RFC 4443 section 2.4 (f) ... */
#define UNREACH_BURST     10     /* ... in bursts of at most this many */

struct unreach_rate {
	uint64_t tokens_milli;   /* thousandths of an error */
	uint64_t at_ns;
};

/* A token for one error at `now`: 1, or 0 when the rate is spent. */
int unreach_allow(struct unreach_rate *r, uint64_t now_ns);

/*
 * The error about IPv6 packet `pkt` (len octets) from `own` (the
 * appliance's inside address) into out (at least UNREACH_MIN_MTU octets):
 * its length, or 0 when the packet must not get one: too short to be an
 * IPv6 packet, a source that names no single host (::, multicast), a
 * multicast destination, or an ICMPv6 error itself (RFC 4443 section 2.4
 * (e); only a first Next Header of 58 is looked at).
 */
size_t unreach_build(const uint8_t own[16], const uint8_t *pkt, size_t len, uint8_t *out, size_t cap);
#endif
