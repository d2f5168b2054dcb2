/*
 * EDNS options in the ALG's answers.
 *
 * The ALG is the DNS server its clients talk to, so the per-hop options end
 * here and never cross it:
 *   - COOKIE (RFC 7873): a client cookie is bound to the client and server
 *     addresses, so forwarding it upstream would hand the client a server
 *     cookie for the wrong hop.  The ALG is the server: it answers every
 *     COOKIE with the client cookie and its own RFC 9018 server cookie.
 *     Nothing is refused for a missing or stale server cookie (no BADCOOKIE):
 *     the ALG serves the site's own hosts, and a client that sends cookies
 *     gets one to send next time.  The secret rolls over while running
 *     (cookie_secret.c): a cookie made before a rollover still counts as
 *     valid while its secret is kept and its timestamp is under an hour
 *     old (only the secrets current about its timestamp are tried), and
 *     every answer carries one made with the new secret.
 *   - Options the ALG does not act on are ignored (RFC 6891 §6.1.2), and the
 *     upstream's options are dropped from answers except EDE (an explanation
 *     a client can use) and the CLIENT-SUBNET the client asked for.
 * CLIENT-SUBNET is end to end (RFC 7871 §7.5): the client's option is sent
 * upstream as it came, the answer's echo is checked and passed back, and
 * such answers are not cached (the scope they hold is the upstream's to
 * decide, and the cache does not key on subnets).
 */
#include <string.h>

#include "dnsalg.h"

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                          \
	do {                                                              \
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                    \
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                    \
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
	} while (0)

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

uint64_t dnsalg_siphash24(const uint8_t key[16], const uint8_t *m, size_t len)
{
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t b = le64(m + i);
		v3 ^= b;
		SIPROUND;
		SIPROUND;
		v0 ^= b;
	}
	uint64_t b = (uint64_t)len << 56;
	for (size_t j = 0; i + j < len; j++)
		b |= (uint64_t)m[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

void dnsalg_cookie_make(const uint8_t secret[DNSALG_COOKIE_SECRET], const uint8_t cc[8],
			const struct in6_addr *client, uint32_t wall_s, uint8_t out[16])
{
	/* RFC 9018 §4.4: SipHash-2-4(Client Cookie | Version | Reserved |
	 * Timestamp | Client-IP), the address in 4 octets for IPv4 */
	uint8_t in[8 + 8 + 16];
	memcpy(in, cc, 8);
	out[0] = 1;
	out[1] = out[2] = out[3] = 0;
	out[4] = (uint8_t)(wall_s >> 24);
	out[5] = (uint8_t)(wall_s >> 16);
	out[6] = (uint8_t)(wall_s >> 8);
	out[7] = (uint8_t)wall_s;
	memcpy(in + 8, out, 8);
	size_t n = 16;
	if (IN6_IS_ADDR_V4MAPPED(client)) {
		memcpy(in + n, &client->s6_addr[12], 4);
		n += 4;
	} else {
		memcpy(in + n, client->s6_addr, 16);
		n += 16;
	}
	uint64_t h = dnsalg_siphash24(secret, in, n);
	for (int i = 0; i < 8; i++)
		out[8 + i] = (uint8_t)(h >> (8 * i)); /* SipHash's output is little-endian */
}

static uint32_t cookie_ts(const struct dnsalg_query *q)
{
	const uint8_t *sc = q->cookie + 8;
	return (uint32_t)sc[4] << 24 | (uint32_t)sc[5] << 16 | (uint32_t)sc[6] << 8 | sc[7];
}

bool dnsalg_cookie_fresh(const struct dnsalg_query *q, uint32_t wall_s)
{
	if (q->cookie_len != 24 || q->cookie[8] != 1)
		return false;
	int32_t age = (int32_t)(wall_s - cookie_ts(q));  /* serial number arithmetic */
	return age <= (int32_t)DNSALG_COOKIE_WINDOW_S && age >= -300;
}

_Thread_local unsigned long dnsalg_cookie_hashes;

bool dnsalg_cookie_valid(const uint8_t secret[DNSALG_COOKIE_SECRET],
			 const struct dnsalg_query *q, const struct in6_addr *client,
			 uint32_t wall_s)
{
	if (!dnsalg_cookie_fresh(q, wall_s))
		return false;
	dnsalg_cookie_hashes++;
	const uint8_t *sc = q->cookie + 8;
	uint32_t ts = cookie_ts(q);
	uint8_t want[16];
	dnsalg_cookie_make(secret, q->cookie, client, ts, want);
	uint8_t diff = 0;
	for (int i = 0; i < 16; i++)
		diff |= (uint8_t)(want[i] ^ sc[i]);
	return diff == 0;
}

long dnsalg_wire_opt_at(const uint8_t *w, size_t len)
{
	if (len < 12)
		return -1;
	unsigned qd = rd16(w + 4), rr = (unsigned)rd16(w + 6) + rd16(w + 8) + rd16(w + 10);
	size_t off = 12;
	for (unsigned i = 0; i < qd; i++) {
		off = dnsalg_wire_skip_name(w, len, off);
		if (off == 0 || off + 4 > len)
			return -1;
		off += 4;
	}
	long opt = -1;
	for (unsigned i = 0; i < rr; i++) {
		size_t name = off;
		off = dnsalg_wire_skip_name(w, len, off);
		if (off == 0 || off + 10 > len || off + 10u + rd16(w + off + 8) > len)
			return -1;
		opt = rd16(w + off) == LDNS_RR_TYPE_OPT && off == name + 1 && w[name] == 0 ? (long)off : -1;
		off += 10u + rd16(w + off + 8);
	}
	return off == len ? opt : -1;
}

int dnsalg_wire_opt_filter(uint8_t *w, size_t len, const struct dnsalg_query *q,
			   struct dnsalg_counters *cnt)
{
	long at = dnsalg_wire_opt_at(w, len);
	if (at < 0)
		return (int)len;
	size_t rd = (size_t)at + 10, end = rd + rd16(w + at + 8), o = rd, put = rd;
	while (o + 4 <= end) {
		uint16_t code = rd16(w + o), ol = rd16(w + o + 2);
		if (o + 4u + ol > end)
			break;
		bool keep = code == DNSALG_OPT_EDE;
		if (code == DNSALG_OPT_ECS && q->ecs_len) {
			/* family, source prefix length and address as sent (RFC 7871 §7.3) */
			unsigned bytes = (q->ecs[2] + 7u) / 8;
			if (ol != 4 + bytes || memcmp(w + o + 4, q->ecs, 3) ||
			    memcmp(w + o + 8, q->ecs + 4, bytes)) {
				DNSALG_INC(cnt, ecs_mismatch);
				return DNSALG_EMISMATCH;
			}
			keep = true;
		}
		if (keep) {
			memmove(w + put, w + o, 4u + ol);
			put += 4u + ol;
		}
		o += 4u + ol;
	}
	wr16(w + at + 8, (uint16_t)(put - rd));
	return (int)put; /* the OPT RR is the last one: nothing follows it */
}

int dnsalg_edns_finish(struct dnsalg_ctx *x, const struct dnsalg_query *q, const uint8_t *in,
		       const struct dnsalg_client *cl, bool tcp, uint8_t *out, int n, size_t outcap)
{
	if (n <= 0 || !q->edns || !q->cookie_len || !cl)
		return n;
	if (q->cookie_len > 8) {
		int v = dnsalg_cookie_check(&x->cookie, q, &cl->addr, cl->wall_s);
		if (v == DNSALG_COOKIE_BAD) {
			DNSALG_INC(x->cnt, cookie_invalid);  /* RFC 7873 §5.2.4: as if absent */
		} else {
			DNSALG_INC(x->cnt, cookie_valid);
			if (v >= DNSALG_COOKIE_PREVIOUS)
				DNSALG_INC(x->cnt, cookie_prev_secret_hits);
			if (v > DNSALG_COOKIE_PREVIOUS)   /* older than the last rollover's */
				DNSALG_INC(x->cnt, cookie_old_secret_hits);
		}
	} else {
		DNSALG_INC(x->cnt, cookie_new);
	}
	size_t limit = outcap;
	if (!tcp) {
		size_t l = dnsalg_query_udp_limit(q);
		limit = l < outcap ? l : outcap;
	}
	uint8_t opt[4 + 24] = { 0, DNSALG_OPT_COOKIE, 0, 24 };
	memcpy(opt + 4, q->cookie, 8);
	/* always the current secret: a client on the previous one moves over */
	dnsalg_cookie_server(&x->cookie, q->cookie, &cl->addr, cl->wall_s, opt + 12);
	if ((size_t)n + sizeof opt > limit) {
		DNSALG_INC(x->cnt, truncated);
		n = dnsalg_wire_empty_answer(q, in, out[3] & 0xF, true, out, outcap);
		if (n < 0)
			return n;
	}
	long at = dnsalg_wire_opt_at(out, (size_t)n);
	if (at < 0 || (size_t)n + sizeof opt > outcap)
		return n;
	memcpy(out + n, opt, sizeof opt);
	wr16(out + at + 8, (uint16_t)(rd16(out + at + 8) + sizeof opt));
	return n + (int)sizeof opt;
}
