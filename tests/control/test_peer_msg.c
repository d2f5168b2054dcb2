/* The primary/backup sync messages (control/peer_msg.c): round trips of
 * every type, and every check the decoder makes, each on a message that is
 * valid except for the one thing under test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "log.h"
#include "peer_msg.h"

static const uint8_t KEY[32] = "0123456789abcdef0123456789abcdef";
static uint8_t buf[PEER_MSG_MAX];

static void hdr(struct peer_msg *m, uint8_t type)
{
	memset(m, 0, sizeof *m);
	m->type = type;
	m->role = PEER_ROLE_PRIMARY;
	m->state = 3;
	m->session = 0x1122334455667788ULL;
	m->echo = 0x99aabbccddeeff00ULL;
	m->seq = 42;
}

static void ctx_msg(struct peer_msg *m, size_t nloc)
{
	hdr(m, PEER_CTX);
	struct peer_ctx *c = &m->u.ctx;
	inet_pton(AF_INET6, "fd00:1:0:1::1234", c->local_ulid);
	inet_pton(AF_INET6, "fd00:2:0:1::5678", c->peer_ulid);
	inet_pton(AF_INET6, "2001:db8:a01:1::1234", c->local_loc);
	inet_pton(AF_INET6, "2001:db8:a02:1::5678", c->peer_loc);
	c->own_tag = 0x56928ac2348ULL;
	c->peer_tag = 0x7fffffffffffULL;
	c->forkid = 7;
	c->isp = 1;
	c->flags = 3;
	c->st.own_tag = c->own_tag;
	c->st.local_gen = 2372325613u;
	c->st.peer_gen = 1984928491u;
	c->st.initiator = 1;
	c->st.npeer = nloc;
	for (size_t i = 0; i < nloc; i++) {
		struct shim6_locator *l = &c->st.peer_locs[i];
		inet_pton(AF_INET6, "2001:db8:b02:1::5678", l->addr.b);
		l->addr.b[15] = (uint8_t)i;
		l->verif = 2;
		l->flags = (uint8_t)(i & 3);
		l->priority = (uint8_t)i;
		l->weight = (uint8_t)(255 - i);
		c->st.verified[i] = (uint8_t)(i & 1);
	}
}

static void same_hdr(const struct peer_msg *a, const struct peer_msg *b)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->role, b->role);
	assert_int_equal(a->state, b->state);
	assert_true(a->session == b->session);
	assert_true(a->echo == b->echo);
	assert_true(a->seq == b->seq);
}

static void test_round_trip_fixed(void **st)
{
	(void)st;
	static const uint8_t types[] = { PEER_HEARTBEAT, PEER_CTX_DEL, PEER_SYNC_BEGIN, PEER_SYNC_END };
	for (size_t t = 0; t < sizeof types; t++) {
		struct peer_msg m, o;
		hdr(&m, types[t]);
		if (types[t] == PEER_CTX_DEL)
			m.u.del_tag = 0x123456789abULL;
		else
			m.u.hb.contexts = 0xdeadbeef, m.u.hb.epoch_rx = 77;   /* same layout as sync */
		if (types[t] == PEER_HEARTBEAT)
			m.u.hb.epoch_tx = 0x01020304;
		int n = peer_msg_encode(&m, KEY, sizeof KEY, buf, sizeof buf);
		assert_int_equal(n, PEER_HDR_LEN + (types[t] == PEER_HEARTBEAT ? 12 : 8) + PEER_MAC_LEN);
		assert_int_equal(peer_msg_decode(buf, (size_t)n, KEY, sizeof KEY, &o), 0);
		same_hdr(&m, &o);
		if (types[t] == PEER_CTX_DEL)
			assert_true(o.u.del_tag == m.u.del_tag);
		else if (types[t] == PEER_HEARTBEAT)
			assert_true(o.u.hb.contexts == 0xdeadbeef && o.u.hb.epoch_rx == 77 && o.u.hb.epoch_tx == 0x01020304);
		else
			assert_true(o.u.sync.epoch == 0xdeadbeef && o.u.sync.count == 77);
	}
}

static void test_round_trip_ctx(void **st)
{
	(void)st;
	for (size_t nloc = 0; nloc <= SHIM6_MAX_LOCATORS; nloc++) {
		struct peer_msg m, o;
		ctx_msg(&m, nloc);
		int n = peer_msg_encode(&m, KEY, sizeof KEY, buf, sizeof buf);
		assert_true(n > PEER_HDR_LEN + PEER_CTX_FIXED + PEER_MAC_LEN);
		assert_int_equal(peer_msg_decode(buf, (size_t)n, KEY, sizeof KEY, &o), 0);
		same_hdr(&m, &o);
		assert_memory_equal(&o.u.ctx.local_ulid, &m.u.ctx.local_ulid, 64);
		assert_true(o.u.ctx.own_tag == m.u.ctx.own_tag && o.u.ctx.peer_tag == m.u.ctx.peer_tag);
		assert_int_equal(o.u.ctx.forkid, 7);
		assert_int_equal(o.u.ctx.isp, 1);
		assert_int_equal(o.u.ctx.flags, 3);
		const struct ctl_state_ctx *a = &m.u.ctx.st, *b = &o.u.ctx.st;
		assert_true(a->own_tag == b->own_tag && a->local_gen == b->local_gen && a->peer_gen == b->peer_gen);
		assert_int_equal(a->initiator, b->initiator);
		assert_int_equal(a->npeer, b->npeer);
		for (size_t i = 0; i < nloc; i++) {
			assert_memory_equal(a->peer_locs[i].addr.b, b->peer_locs[i].addr.b, 16);
			assert_int_equal(a->peer_locs[i].verif, b->peer_locs[i].verif);
			assert_int_equal(a->peer_locs[i].flags, b->peer_locs[i].flags);
			assert_int_equal(a->peer_locs[i].priority, b->peer_locs[i].priority);
			assert_int_equal(a->peer_locs[i].weight, b->peer_locs[i].weight);
			assert_int_equal(a->verified[i], b->verified[i]);
		}
	}
}

/* Re-sign buf[0..len-MAC) after an edit, so the check under test is the
 * one that fails and not the MAC. */
static void resign(uint8_t *b, size_t len)
{
	unsigned int ol = 0;
	HMAC(EVP_sha256(), KEY, sizeof KEY, b, len - PEER_MAC_LEN, b + len - PEER_MAC_LEN, &ol);
}

static int encode_ctx(size_t nloc)
{
	struct peer_msg m;
	ctx_msg(&m, nloc);
	return peer_msg_encode(&m, KEY, sizeof KEY, buf, sizeof buf);
}

static int encode_hb(void)
{
	struct peer_msg m;
	hdr(&m, PEER_HEARTBEAT);
	return peer_msg_encode(&m, KEY, sizeof KEY, buf, sizeof buf);
}

static void test_header_checks(void **st)
{
	(void)st;
	struct peer_msg o;
	size_t n = (size_t)encode_hb();
	for (size_t l = 0; l < PEER_HDR_LEN + PEER_MAC_LEN; l++)
		assert_int_equal(peer_msg_decode(buf, l, KEY, sizeof KEY, &o), PEER_E_SHORT);
	buf[0] = 2;
	assert_int_equal(peer_msg_decode(buf, n, KEY, sizeof KEY, &o), PEER_E_VERSION);
	n = (size_t)encode_hb();
	assert_int_equal(peer_msg_decode(buf, n - 1, KEY, sizeof KEY, &o), PEER_E_LENGTH);
	buf[n] = 0;
	assert_int_equal(peer_msg_decode(buf, n + 1, KEY, sizeof KEY, &o), PEER_E_LENGTH);
	/* every octet covered by the MAC, and the MAC itself */
	for (size_t i = 4; i < n; i++) {
		n = (size_t)encode_hb();
		buf[i] ^= 0x10;
		assert_int_equal(peer_msg_decode(buf, n, KEY, sizeof KEY, &o), PEER_E_MAC);
	}
	n = (size_t)encode_hb();
	static const uint8_t other[32] = "0123456789abcdef0123456789abcdeF";
	assert_int_equal(peer_msg_decode(buf, n, other, sizeof other, &o), PEER_E_MAC);
	assert_int_equal(peer_msg_decode(buf, n, KEY, 31, &o), PEER_E_MAC);
	/* type */
	buf[1] = 0;
	resign(buf, n);
	assert_int_equal(peer_msg_decode(buf, n, KEY, sizeof KEY, &o), PEER_E_TYPE);
	buf[1] = PEER_SYNC_CTX + 1;
	resign(buf, n);
	assert_int_equal(peer_msg_decode(buf, n, KEY, sizeof KEY, &o), PEER_E_TYPE);
	/* role, state, reserved, session */
	static const struct { size_t off; uint8_t v; } bad[] = {
		{ 4, 0 }, { 4, 3 }, { 5, PEER_STATE_MAX + 1 }, { 6, 1 }, { 7, 1 },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		n = (size_t)encode_hb();
		buf[bad[i].off] = bad[i].v;
		resign(buf, n);
		assert_int_equal(peer_msg_decode(buf, n, KEY, sizeof KEY, &o), PEER_E_FIELD);
	}
	n = (size_t)encode_hb();
	memset(buf + 8, 0, 8);
	resign(buf, n);
	assert_int_equal(peer_msg_decode(buf, n, KEY, sizeof KEY, &o), PEER_E_FIELD);
}

/* A fixed-size body one octet short or long (length field and MAC kept right). */
static void test_fixed_body_lengths(void **st)
{
	(void)st;
	static const uint8_t types[] = { PEER_HEARTBEAT, PEER_CTX_DEL, PEER_SYNC_BEGIN, PEER_SYNC_END };
	for (size_t t = 0; t < sizeof types; t++)
		for (int delta = -8; delta <= 8; delta++) {
			if (!delta)
				continue;
			uint8_t b[PEER_HDR_LEN + 24 + PEER_MAC_LEN] = { 0 };
			struct peer_msg m, o;
			hdr(&m, types[t]);
			m.u.del_tag = 1;
			if (types[t] == PEER_SYNC_BEGIN || types[t] == PEER_SYNC_END)
				m.u.sync.epoch = 1;
			int n = peer_msg_encode(&m, KEY, sizeof KEY, b, sizeof b);
			assert_true(n > 0);
			size_t len = (size_t)((int)n + delta);
			b[2] = (uint8_t)(len >> 8);
			b[3] = (uint8_t)len;
			resign(b, len);
			assert_int_equal(peer_msg_decode(b, len, KEY, sizeof KEY, &o), PEER_E_BODY);
		}
}

static void test_ctx_checks(void **st)
{
	(void)st;
	struct peer_msg o;
	size_t n = (size_t)encode_ctx(2);
	uint8_t *b = buf + PEER_HDR_LEN;
	/* line length field disagrees with the body, both ways */
	for (int delta = -3; delta <= 3; delta++) {
		if (!delta)
			continue;
		n = (size_t)encode_ctx(2);
		unsigned ll = (unsigned)(b[86] << 8 | b[87]) + (unsigned)delta;
		b[86] = (uint8_t)(ll >> 8);
		b[87] = (uint8_t)ll;
		resign(buf, n);
		assert_int_equal(peer_msg_decode(buf, n, KEY, sizeof KEY, &o), PEER_E_BODY);
	}
	/* body shorter than the fixed part */
	n = (size_t)encode_ctx(0);
	size_t len = PEER_HDR_LEN + PEER_CTX_FIXED - 1 + PEER_MAC_LEN;
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	resign(buf, len);
	assert_int_equal(peer_msg_decode(buf, len, KEY, sizeof KEY, &o), PEER_E_BODY);
	/* fields: own tag 0 / 48 bits, peer tag 0 / 48 bits, isp, unknown flags */
	static const struct { size_t off; uint8_t v; } bad[] = {
		{ 64, 0x80 }, { 72, 0x80 }, { 84, 8 }, { 85, 4 }, { 85, 0x80 },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		n = (size_t)encode_ctx(1);
		b[bad[i].off] = bad[i].v;
		resign(buf, n);
		assert_int_equal(peer_msg_decode(buf, n, KEY, sizeof KEY, &o), PEER_E_FIELD);
	}
	n = (size_t)encode_ctx(1);
	memset(b + 64, 0, 8);
	resign(buf, n);
	assert_int_equal(peer_msg_decode(buf, n, KEY, sizeof KEY, &o), PEER_E_FIELD);
	n = (size_t)encode_ctx(1);
	memset(b + 72, 0, 8);
	resign(buf, n);
	assert_int_equal(peer_msg_decode(buf, n, KEY, sizeof KEY, &o), PEER_E_FIELD);
	/* the line: another tag than the binary part, a bad token, a NUL */
	n = (size_t)encode_ctx(1);
	char *line = (char *)b + PEER_CTX_FIXED;
	assert_memory_equal(line, "ctx 056928ac2348 ", 17);
	line[15] = '9';
	resign(buf, n);
	assert_int_equal(peer_msg_decode(buf, n, KEY, sizeof KEY, &o), PEER_E_FIELD);
	n = (size_t)encode_ctx(1);
	line[0] = 'X';
	resign(buf, n);
	assert_int_equal(peer_msg_decode(buf, n, KEY, sizeof KEY, &o), PEER_E_FIELD);
	n = (size_t)encode_ctx(1);
	line[20] = 0;
	resign(buf, n);
	assert_int_equal(peer_msg_decode(buf, n, KEY, sizeof KEY, &o), PEER_E_FIELD);
	n = (size_t)encode_ctx(1);
	line[4] = '-';
	resign(buf, n);
	assert_int_equal(peer_msg_decode(buf, n, KEY, sizeof KEY, &o), PEER_E_FIELD);
	/* a deletion of tag 0 or a 48-bit tag */
	struct peer_msg m;
	hdr(&m, PEER_CTX_DEL);
	m.u.del_tag = 5;
	n = (size_t)peer_msg_encode(&m, KEY, sizeof KEY, buf, sizeof buf);
	memset(b, 0, 8);
	resign(buf, n);
	assert_int_equal(peer_msg_decode(buf, n, KEY, sizeof KEY, &o), PEER_E_FIELD);
	b[0] = 0x80;
	resign(buf, n);
	assert_int_equal(peer_msg_decode(buf, n, KEY, sizeof KEY, &o), PEER_E_FIELD);
}

static void test_lease(void **st)
{
	(void)st;
	static struct peer_msg m, o;
	static const char line[] = "{\"cmd\":\"lease\",\"event\":\"add\",\"cmula\":\"fd00:1:0:1::1\",\"mode\":\"cga\","
				   "\"iaid\":1,\"pds\":\"00\",\"duid\":\"\"}";
	hdr(&m, PEER_LEASE);
	m.u.lease.len = sizeof line - 1;
	memcpy(m.u.lease.text, line, sizeof line);
	int n = peer_msg_encode(&m, KEY, sizeof KEY, buf, sizeof buf);
	assert_int_equal(n, PEER_HDR_LEN + (int)sizeof line - 1 + PEER_MAC_LEN);
	assert_int_equal(peer_msg_decode(buf, (size_t)n, KEY, sizeof KEY, &o), 0);
	same_hdr(&m, &o);
	assert_int_equal(o.u.lease.len, sizeof line - 1);
	assert_string_equal(o.u.lease.text, line);
	/* NUL, CR, LF anywhere in the line: refused by both ends */
	static const char bad[] = { 0, '\r', '\n' };
	for (size_t i = 0; i < sizeof bad; i++) {
		n = peer_msg_encode(&m, KEY, sizeof KEY, buf, sizeof buf);
		buf[PEER_HDR_LEN + 10] = (uint8_t)bad[i];
		resign(buf, (size_t)n);
		assert_int_equal(peer_msg_decode(buf, (size_t)n, KEY, sizeof KEY, &o), PEER_E_FIELD);
		m.u.lease.text[5] = bad[i];
		assert_int_equal(peer_msg_encode(&m, KEY, sizeof KEY, buf, sizeof buf), PEER_E_FIELD);
		m.u.lease.text[5] = line[5];
	}
	/* an empty body, and an empty or overlong line to encode */
	size_t len = PEER_HDR_LEN + PEER_MAC_LEN;
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	buf[1] = PEER_LEASE;
	resign(buf, len);
	assert_int_equal(peer_msg_decode(buf, len, KEY, sizeof KEY, &o), PEER_E_BODY);
	m.u.lease.len = 0;
	assert_int_equal(peer_msg_encode(&m, KEY, sizeof KEY, buf, sizeof buf), PEER_E_SPACE);
	m.u.lease.len = PEER_LINE_MAX + 1;
	assert_int_equal(peer_msg_encode(&m, KEY, sizeof KEY, buf, sizeof buf), PEER_E_SPACE);
}

/* SYNC_CTX: a context of a full sync, with the sync's epoch in front. */
static void test_sync_ctx(void **st)
{
	(void)st;
	struct peer_msg m, o, c;
	for (size_t nloc = 0; nloc <= SHIM6_MAX_LOCATORS; nloc++) {
		ctx_msg(&c, nloc);
		int nc = peer_msg_encode(&c, KEY, sizeof KEY, buf, sizeof buf);
		ctx_msg(&m, nloc);
		m.type = PEER_SYNC_CTX;
		m.sync_epoch = 0xfedcba98u;
		int n = peer_msg_encode(&m, KEY, sizeof KEY, buf, sizeof buf);
		assert_int_equal(n, nc + 4);
		assert_int_equal(buf[1], PEER_SYNC_CTX);
		assert_int_equal(buf[PEER_HDR_LEN], 0xfe);
		assert_int_equal(buf[PEER_HDR_LEN + 3], 0x98);
		assert_int_equal(peer_msg_decode(buf, (size_t)n, KEY, sizeof KEY, &o), 0);
		same_hdr(&m, &o);
		assert_true(o.sync_epoch == 0xfedcba98u);
		assert_memory_equal(&o.u.ctx.local_ulid, &m.u.ctx.local_ulid, 64);
		assert_true(o.u.ctx.own_tag == m.u.ctx.own_tag && o.u.ctx.peer_tag == m.u.ctx.peer_tag);
		assert_int_equal(o.u.ctx.st.npeer, nloc);
		assert_true(o.u.ctx.st.local_gen == m.u.ctx.st.local_gen);
	}
	/* epoch 0 is "none": refused by both ends */
	ctx_msg(&m, 1);
	m.type = PEER_SYNC_CTX;
	m.sync_epoch = 0;
	assert_int_equal(peer_msg_encode(&m, KEY, sizeof KEY, buf, sizeof buf), PEER_E_FIELD);
	m.sync_epoch = 5;
	size_t n = (size_t)peer_msg_encode(&m, KEY, sizeof KEY, buf, sizeof buf);
	memset(buf + PEER_HDR_LEN, 0, 4);
	resign(buf, n);
	assert_int_equal(peer_msg_decode(buf, n, KEY, sizeof KEY, &o), PEER_E_FIELD);
	/* the CTX part's line length off by one either way, and a body too
	 * short for the epoch and the fixed part */
	for (int delta = -1; delta <= 1; delta += 2) {
		n = (size_t)peer_msg_encode(&m, KEY, sizeof KEY, buf, sizeof buf);
		uint8_t *b = buf + PEER_HDR_LEN + 4;
		unsigned ll = (unsigned)(b[86] << 8 | b[87]) + (unsigned)delta;
		b[86] = (uint8_t)(ll >> 8);
		b[87] = (uint8_t)ll;
		resign(buf, n);
		assert_int_equal(peer_msg_decode(buf, n, KEY, sizeof KEY, &o), PEER_E_BODY);
	}
	for (size_t blen = 0; blen < PEER_SYNC_CTX_FIXED; blen += 7) {
		size_t len = PEER_HDR_LEN + blen + PEER_MAC_LEN;
		(void)peer_msg_encode(&m, KEY, sizeof KEY, buf, sizeof buf);
		buf[2] = (uint8_t)(len >> 8);
		buf[3] = (uint8_t)len;
		resign(buf, len);
		assert_int_equal(peer_msg_decode(buf, len, KEY, sizeof KEY, &o), PEER_E_BODY);
	}
	/* a SYNC_CTX whose context fails the CTX checks fails the same way */
	n = (size_t)peer_msg_encode(&m, KEY, sizeof KEY, buf, sizeof buf);
	buf[PEER_HDR_LEN + 4 + 84] = 8;   /* isp */
	resign(buf, n);
	assert_int_equal(peer_msg_decode(buf, n, KEY, sizeof KEY, &o), PEER_E_FIELD);
}

/* BEGIN and END carry a non-zero epoch (0 is "no sync" in heartbeats). */
static void test_sync_epoch_zero(void **st)
{
	(void)st;
	static const uint8_t types[] = { PEER_SYNC_BEGIN, PEER_SYNC_END };
	for (size_t t = 0; t < sizeof types; t++) {
		struct peer_msg m, o;
		hdr(&m, types[t]);
		m.u.sync.count = 3;
		assert_int_equal(peer_msg_encode(&m, KEY, sizeof KEY, buf, sizeof buf), PEER_E_FIELD);
		m.u.sync.epoch = 1;
		size_t n = (size_t)peer_msg_encode(&m, KEY, sizeof KEY, buf, sizeof buf);
		assert_int_equal(peer_msg_decode(buf, n, KEY, sizeof KEY, &o), 0);
		buf[PEER_HDR_LEN + 3] = 0;
		resign(buf, n);
		assert_int_equal(peer_msg_decode(buf, n, KEY, sizeof KEY, &o), PEER_E_FIELD);
	}
}

static void test_encode_refuses(void **st)
{
	(void)st;
	struct peer_msg m;
	uint8_t small[PEER_HDR_LEN + 8 + PEER_MAC_LEN - 1];
	hdr(&m, PEER_HEARTBEAT);
	assert_int_equal(peer_msg_encode(&m, KEY, sizeof KEY, small, sizeof small), PEER_E_SPACE);
	m.type = 9;
	assert_int_equal(peer_msg_encode(&m, KEY, sizeof KEY, buf, sizeof buf), PEER_E_TYPE);
	hdr(&m, PEER_HEARTBEAT);
	m.role = 0;
	assert_int_equal(peer_msg_encode(&m, KEY, sizeof KEY, buf, sizeof buf), PEER_E_FIELD);
	hdr(&m, PEER_HEARTBEAT);
	m.session = 0;
	assert_int_equal(peer_msg_encode(&m, KEY, sizeof KEY, buf, sizeof buf), PEER_E_FIELD);
	ctx_msg(&m, 1);
	m.u.ctx.st.own_tag++;
	assert_int_equal(peer_msg_encode(&m, KEY, sizeof KEY, buf, sizeof buf), PEER_E_FIELD);
	ctx_msg(&m, 16);
	uint8_t mid[PEER_HDR_LEN + PEER_CTX_FIXED + 100];
	assert_int_equal(peer_msg_encode(&m, KEY, sizeof KEY, mid, sizeof mid), PEER_E_SPACE);
}

/* Encoder bounds the decoder also enforces: a state past PEER_STATE_MAX, and an own tag
 * of 0 or over 47 bits (the state line agreeing, so only the tag check can refuse). */
static void test_encode_field_bounds(void **st)
{
	(void)st;
	struct peer_msg m;
	hdr(&m, PEER_HEARTBEAT);
	m.state = PEER_STATE_MAX + 1;
	assert_int_equal(peer_msg_encode(&m, KEY, sizeof KEY, buf, sizeof buf), PEER_E_FIELD);
	static const uint64_t bad[] = { 0, UINT64_C(1) << 47 };
	for (size_t i = 0; i < 2; i++) {
		ctx_msg(&m, 1);
		m.u.ctx.own_tag = m.u.ctx.st.own_tag = bad[i];
		assert_int_equal(peer_msg_encode(&m, KEY, sizeof KEY, buf, sizeof buf), PEER_E_FIELD);
	}
}

/* A LEASE body one octet over PEER_LINE_MAX, correctly signed, is refused: lease.text
 * holds PEER_LINE_MAX octets and a NUL, so accepting it would write past the buffer. */
static void test_lease_overlong_body(void **st)
{
	(void)st;
	struct peer_msg o;
	int n = encode_hb();
	assert_true(n > 0);
	size_t len = PEER_HDR_LEN + PEER_LINE_MAX + 1 + PEER_MAC_LEN;
	assert_true(len <= sizeof buf);
	buf[1] = PEER_LEASE;
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	memset(buf + PEER_HDR_LEN, 'a', PEER_LINE_MAX + 1);
	resign(buf, len);
	assert_int_equal(peer_msg_decode(buf, len, KEY, sizeof KEY, &o), PEER_E_BODY);
	/* the same at exactly PEER_LINE_MAX is a lease */
	len--;
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	resign(buf, len);
	assert_int_equal(peer_msg_decode(buf, len, KEY, sizeof KEY, &o), 0);
	assert_int_equal(o.u.lease.len, PEER_LINE_MAX);
}

/* A CTX whose line length field says PEER_LINE_MAX + 1, the body agreeing and
 * signed: a body error, refused before the state-line parser sees it. */
static void test_ctx_line_over_max(void **st)
{
	(void)st;
	struct peer_msg o;
	int n = encode_ctx(1);
	assert_true(n > 0);
	size_t ll = PEER_LINE_MAX + 1, len = PEER_HDR_LEN + PEER_CTX_FIXED + ll + PEER_MAC_LEN;
	assert_true(len <= sizeof buf);
	uint8_t *b = buf + PEER_HDR_LEN;
	b[86] = (uint8_t)(ll >> 8);
	b[87] = (uint8_t)ll;
	memset(b + PEER_CTX_FIXED, 'a', ll);
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	resign(buf, len);
	assert_int_equal(peer_msg_decode(buf, len, KEY, sizeof KEY, &o), PEER_E_BODY);
}

int main(void)
{
	log_set_level(PSHIM6_LOG_ERR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_fixed),
		cmocka_unit_test(test_round_trip_ctx),
		cmocka_unit_test(test_header_checks),
		cmocka_unit_test(test_fixed_body_lengths),
		cmocka_unit_test(test_ctx_checks),
		cmocka_unit_test(test_lease),
		cmocka_unit_test(test_sync_ctx),
		cmocka_unit_test(test_sync_epoch_zero),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_encode_field_bounds),
		cmocka_unit_test(test_lease_overlong_body),
		cmocka_unit_test(test_ctx_line_over_max),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
