/* ICMPv6 Destination Unreachable for packets control cannot deliver. */
#include <string.h>
#include <shim6/wire.h>
#include "unreach.h"

#define IP6_LEN 40
#define ICMP6_HDR 8

int unreach_allow(struct unreach_rate *r, uint64_t now_ns)
{
	if (now_ns > r->at_ns) {
		/* tokens_milli grows by UNREACH_RATE per second, in thousandths */
		uint64_t add = (now_ns - r->at_ns) / 1000000 * UNREACH_RATE;
		r->tokens_milli += add;
		if (r->tokens_milli > UNREACH_BURST * 1000)
			r->tokens_milli = UNREACH_BURST * 1000;
		if (add)
			r->at_ns = now_ns;
	}
	if (r->tokens_milli < 1000)
		return 0;
	r->tokens_milli -= 1000;
	return 1;
}

size_t unreach_build(const uint8_t own[16], const uint8_t *pkt, size_t len, uint8_t *out, size_t cap)
{
	static const uint8_t zero[16];
	if (len < IP6_LEN || (pkt[0] >> 4) != 6 || cap < UNREACH_MIN_MTU)
		return 0;
	const uint8_t *src = pkt + 8, *dst = pkt + 24;
	if (!memcmp(src, zero, 16) || src[0] == 0xff || dst[0] == 0xff)
		return 0;
	/* an ICMPv6 error (types below 128) never gets one */
	if (pkt[6] == 58 && (len < IP6_LEN + 1 || pkt[IP6_LEN] < 128))
		return 0;
	size_t body = len < UNREACH_MIN_MTU - IP6_LEN - ICMP6_HDR ? len : UNREACH_MIN_MTU - IP6_LEN - ICMP6_HDR;
	size_t plen = ICMP6_HDR + body;
	uint8_t *ip = out, *icmp = out + IP6_LEN;
	memset(out, 0, IP6_LEN + ICMP6_HDR);
	ip[0] = 0x60;
	ip[4] = (uint8_t)(plen >> 8);
	ip[5] = (uint8_t)plen;
	ip[6] = 58;
	ip[7] = 64;
	memcpy(ip + 8, own, 16);
	memcpy(ip + 24, src, 16);
	icmp[0] = 1;   /* Destination Unreachable */
	icmp[1] = 3;   /* address unreachable */
	memcpy(icmp + ICMP6_HDR, pkt, body);
	/* the checksum over the pseudo-header (RFC 8200 section 8.1) and the message */
	uint8_t ph[40 + UNREACH_MIN_MTU];
	memcpy(ph, ip + 8, 32);
	ph[32] = ph[33] = 0;
	ph[34] = (uint8_t)(plen >> 8);
	ph[35] = (uint8_t)plen;
	ph[36] = ph[37] = ph[38] = 0;
	ph[39] = 58;
	memcpy(ph + 40, icmp, plen);
	uint16_t c = shim6_wire_checksum(ph, 40 + plen);
	icmp[2] = (uint8_t)(c >> 8);
	icmp[3] = (uint8_t)c;
	return IP6_LEN + plen;
}
