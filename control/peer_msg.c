/* The primary/backup sync messages: encode, check, decode (peer_msg.h).
 * A context travels as a fixed binary part (what the dataplane needs) and
 * a state-file line parsed by state.c's strict parser, so nothing received
 * from the other proxy is trusted beyond what a state file would be. */
#include "peer_msg.h"
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "pshim6/dpmsg.h"
#include "state_line.h"

const char *peer_msg_strerror(int err)
{
	switch (err) {
	case PEER_E_SHORT: return "shorter than header and MAC";
	case PEER_E_VERSION: return "unknown version";
	case PEER_E_LENGTH: return "length field differs from the datagram";
	case PEER_E_MAC: return "HMAC does not verify";
	case PEER_E_TYPE: return "unknown type";
	case PEER_E_BODY: return "body length wrong for the type";
	case PEER_E_FIELD: return "field out of range";
	case PEER_E_SPACE: return "no room";
	default: return err >= 0 ? "ok" : "unknown error";
	}
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)(v >> 32)); put32(p + 4, (uint32_t)v); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) << 32 | get32(p + 4); }

static int mac(const uint8_t *key, size_t keylen, const uint8_t *data, size_t len, uint8_t out[PEER_MAC_LEN])
{
	unsigned int ol = 0;
	if (!HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &ol) || ol != PEER_MAC_LEN)
		return -1;
	return 0;
}

static size_t body_len_fixed(uint8_t type)
{
	switch (type) {
	case PEER_HEARTBEAT: return 12;
	case PEER_CTX_DEL: case PEER_SYNC_BEGIN: case PEER_SYNC_END: return 8;
	default: return 0;
	}
}

int peer_msg_encode(const struct peer_msg *m, const uint8_t *key, size_t keylen, uint8_t *buf, size_t cap)
{
	char line[STATE_LINE_MAX];
	size_t body;
	int ll = 0;
	if (m->role < PEER_ROLE_PRIMARY || m->role > PEER_ROLE_BACKUP || m->state > PEER_STATE_MAX || !m->session)
		return PEER_E_FIELD;
	if (m->type == PEER_CTX || m->type == PEER_SYNC_CTX) {
		if (m->type == PEER_SYNC_CTX && !m->sync_epoch)
			return PEER_E_FIELD;
		if (!m->u.ctx.own_tag || m->u.ctx.own_tag > DPMSG_TAG_MASK || m->u.ctx.st.own_tag != m->u.ctx.own_tag)
			return PEER_E_FIELD;
		ll = state_line_format(&m->u.ctx.st, line, sizeof line);
		if (ll < 0 || ll > PEER_LINE_MAX)
			return PEER_E_SPACE;
		body = PEER_CTX_FIXED + (size_t)ll + (m->type == PEER_SYNC_CTX ? 4 : 0);
	} else if (m->type == PEER_LEASE) {
		if (!m->u.lease.len || m->u.lease.len > PEER_LINE_MAX)
			return PEER_E_SPACE;
		if (memchr(m->u.lease.text, 0, m->u.lease.len) || memchr(m->u.lease.text, '\n', m->u.lease.len) ||
		    memchr(m->u.lease.text, '\r', m->u.lease.len))
			return PEER_E_FIELD;
		body = m->u.lease.len;
	} else if (!(body = body_len_fixed(m->type))) {
		return PEER_E_TYPE;
	} else if ((m->type == PEER_SYNC_BEGIN || m->type == PEER_SYNC_END) && !m->u.sync.epoch) {
		return PEER_E_FIELD;
	}
	size_t len = PEER_HDR_LEN + body + PEER_MAC_LEN;
	if (len > cap || len > UINT16_MAX)
		return PEER_E_SPACE;
	memset(buf, 0, PEER_HDR_LEN);
	buf[0] = PEER_VERSION;
	buf[1] = m->type;
	put16(buf + 2, (uint16_t)len);
	buf[4] = m->role;
	buf[5] = m->state;
	put64(buf + 8, m->session);
	put64(buf + 16, m->echo);
	put64(buf + 24, m->seq);
	uint8_t *b = buf + PEER_HDR_LEN;
	switch (m->type) {
	case PEER_HEARTBEAT:
		put32(b, m->u.hb.contexts);
		put32(b + 4, m->u.hb.epoch_rx);
		put32(b + 8, m->u.hb.epoch_tx);
		break;
	case PEER_SYNC_BEGIN: case PEER_SYNC_END: put32(b, m->u.sync.epoch); put32(b + 4, m->u.sync.count); break;
	case PEER_CTX_DEL: put64(b, m->u.del_tag); break;
	case PEER_LEASE: memcpy(b, m->u.lease.text, m->u.lease.len); break;
	case PEER_CTX: case PEER_SYNC_CTX: {
		const struct peer_ctx *c = &m->u.ctx;
		if (m->type == PEER_SYNC_CTX) {
			put32(b, m->sync_epoch);
			b += 4;
		}
		memcpy(b, c->local_ulid, 16);
		memcpy(b + 16, c->peer_ulid, 16);
		memcpy(b + 32, c->local_loc, 16);
		memcpy(b + 48, c->peer_loc, 16);
		put64(b + 64, c->own_tag);
		put64(b + 72, c->peer_tag);
		put32(b + 80, c->forkid);
		b[84] = c->isp;
		b[85] = c->flags;
		put16(b + 86, (uint16_t)ll);
		memcpy(b + PEER_CTX_FIXED, line, (size_t)ll);
		break;
	}
	}
	if (mac(key, keylen, buf, len - PEER_MAC_LEN, buf + len - PEER_MAC_LEN))
		return PEER_E_MAC;
	return (int)len;
}

#define CTXF_KNOWN (DPMSG_CTXF_MSS_CLAMP | DPMSG_CTXF_DEFAULT_FII)

static int decode_ctx(const uint8_t *b, size_t blen, struct peer_ctx *c)
{
	if (blen < PEER_CTX_FIXED)
		return PEER_E_BODY;
	size_t ll = get16(b + 86);
	if (blen != PEER_CTX_FIXED + ll || ll > PEER_LINE_MAX)
		return PEER_E_BODY;
	memcpy(c->local_ulid, b, 16);
	memcpy(c->peer_ulid, b + 16, 16);
	memcpy(c->local_loc, b + 32, 16);
	memcpy(c->peer_loc, b + 48, 16);
	c->own_tag = get64(b + 64);
	c->peer_tag = get64(b + 72);
	c->forkid = get32(b + 80);
	c->isp = b[84];
	c->flags = b[85];
	if (!c->own_tag || c->own_tag > DPMSG_TAG_MASK || !c->peer_tag || c->peer_tag > DPMSG_TAG_MASK ||
	    c->isp >= DPMSG_MAX_ISP || (c->flags & ~CTXF_KNOWN))
		return PEER_E_FIELD;
	if (state_parse_line((const char *)b + PEER_CTX_FIXED, ll, &c->st) != 1 || c->st.own_tag != c->own_tag)
		return PEER_E_FIELD;
	return 0;
}

int peer_msg_decode(const uint8_t *buf, size_t len, const uint8_t *key, size_t keylen, struct peer_msg *m)
{
	uint8_t want[PEER_MAC_LEN];
	memset(m, 0, sizeof *m);
	if (len < PEER_HDR_LEN + PEER_MAC_LEN)
		return PEER_E_SHORT;
	if (buf[0] != PEER_VERSION)
		return PEER_E_VERSION;
	if (get16(buf + 2) != len)
		return PEER_E_LENGTH;
	if (mac(key, keylen, buf, len - PEER_MAC_LEN, want) ||
	    CRYPTO_memcmp(want, buf + len - PEER_MAC_LEN, PEER_MAC_LEN))
		return PEER_E_MAC;
	m->type = buf[1];
	m->role = buf[4];
	m->state = buf[5];
	m->session = get64(buf + 8);
	m->echo = get64(buf + 16);
	m->seq = get64(buf + 24);
	const uint8_t *b = buf + PEER_HDR_LEN;
	size_t blen = len - PEER_HDR_LEN - PEER_MAC_LEN;
	size_t fixed = body_len_fixed(m->type);
	if (m->type != PEER_CTX && m->type != PEER_SYNC_CTX && m->type != PEER_LEASE && !fixed)
		return PEER_E_TYPE;
	if (m->type == PEER_LEASE && (blen == 0 || blen > PEER_LINE_MAX))
		return PEER_E_BODY;
	if (fixed && blen != fixed)
		return PEER_E_BODY;
	if (m->role < PEER_ROLE_PRIMARY || m->role > PEER_ROLE_BACKUP || m->state > PEER_STATE_MAX ||
	    get16(buf + 6) != 0 || !m->session)
		return PEER_E_FIELD;
	switch (m->type) {
	case PEER_HEARTBEAT:
		m->u.hb.contexts = get32(b);
		m->u.hb.epoch_rx = get32(b + 4);
		m->u.hb.epoch_tx = get32(b + 8);
		return 0;
	case PEER_SYNC_BEGIN: case PEER_SYNC_END:
		m->u.sync.epoch = get32(b);
		m->u.sync.count = get32(b + 4);
		return m->u.sync.epoch ? 0 : PEER_E_FIELD;
	case PEER_CTX_DEL:
		m->u.del_tag = get64(b);
		return m->u.del_tag && m->u.del_tag <= DPMSG_TAG_MASK ? 0 : PEER_E_FIELD;
	case PEER_LEASE:
		if (memchr(b, 0, blen) || memchr(b, '\n', blen) || memchr(b, '\r', blen))
			return PEER_E_FIELD;
		memcpy(m->u.lease.text, b, blen);
		m->u.lease.text[blen] = 0;
		m->u.lease.len = (uint16_t)blen;
		return 0;
	case PEER_SYNC_CTX:
		if (blen < PEER_SYNC_CTX_FIXED)
			return PEER_E_BODY;
		m->sync_epoch = get32(b);
		if (!m->sync_epoch)
			return PEER_E_FIELD;
		return decode_ctx(b + 4, blen - 4, &m->u.ctx);
	default:
		return decode_ctx(b, blen, &m->u.ctx);
	}
}
