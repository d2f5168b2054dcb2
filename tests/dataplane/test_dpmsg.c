/* dpmsg codec: round trips, and every malformed datagram is refused with its code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "pshim6/dpmsg.h"

static struct dpmsg in, out;
static uint8_t buf[DPMSG_MAX_LEN];
static const uint8_t pkt[100] = { 0x60, 1, 2, 3, 4, 5, 6, 7, 8, 9 };

static void fill_ctx(struct dpmsg_ctx *c)
{
	for (int i = 0; i < 16; i++) {
		c->local_ulid[i] = (uint8_t)(0xfd + i);
		c->remote_ulid[i] = (uint8_t)(0x30 + i);
		c->local_loc[i] = (uint8_t)(0x20 + i);
		c->remote_loc[i] = (uint8_t)(0x40 + i);
	}
	c->peer_tag = UINT64_C(0x7fffdeadbeef);
	c->own_tag = UINT64_C(0x123456789abc);
	c->fii = 7;
	c->flags = DPMSG_CTXF_MSS_CLAMP;
	c->isp = 3;
}

/* Build one valid message of each type into `in`. */
static void make(uint8_t type)
{
	memset(&in, 0, sizeof(in));
	in.type = type;
	in.seq = 0x01020304u + type;
	switch (type) {
	case DPMSG_HELLO:
		in.u.hello = (struct dpmsg_hello){ DPMSG_VERSION, DPMSG_ROLE_DATAPLANE, 1000000, 4096, 2, 2,
						   UINT64_C(0x1122334455667788) };
		break;
	case DPMSG_ERROR:
		in.u.error.code = DPMSG_ERR_EXISTS;
		strcpy(in.u.error.text, "own tag 0x1 in use");
		break;
	case DPMSG_CTX_ADD: case DPMSG_CTX_DEL: case DPMSG_DUMP_CTX:
		fill_ctx(&in.u.ctx);
		break;
	case DPMSG_CTX_MOD:
		fill_ctx(&in.u.mod.ctx);
		in.u.mod.what = DPMSG_MOD_LOCATORS | DPMSG_MOD_PEER_TAG;
		break;
	case DPMSG_HOST_ADD: case DPMSG_HOST_DEL: case DPMSG_DUMP_HOST:
		memset(in.u.host.cmula, 0xfd, 16);
		in.u.host.nloc = 2;
		memset(in.u.host.loc[0], 0x20, 16);
		memset(in.u.host.loc[1], 0x30, 16);
		break;
	case DPMSG_PUNT:
		in.u.punt = (struct dpmsg_punt){ DPMSG_PUNT_UNKNOWN_TAG, 1, 1500, sizeof(pkt), pkt };
		break;
	case DPMSG_INJECT:
		in.u.inject = (struct dpmsg_inject){ 2, 0, sizeof(pkt), pkt };
		break;
	case DPMSG_DUMP_REQ:
		in.u.dump_req.what = DPMSG_DUMP_CONTEXTS;
		break;
	case DPMSG_DUMP_END:
		in.u.dump_end.count = 12345;
		break;
	case DPMSG_ISP_STATE:
		in.u.isp_state = (struct dpmsg_isp_state){ 3, 0x5 };
		break;
	case DPMSG_REAP_REQ:
		in.u.reap_req.n = 3;
		in.u.reap_req.own_tag[0] = 1;
		in.u.reap_req.own_tag[1] = DPMSG_TAG_MASK;
		in.u.reap_req.own_tag[2] = 99;
		break;
	case DPMSG_REAP:
		in.u.reap.n = 2;
		in.u.reap.e[0] = (struct dpmsg_reap_entry){ 1, 1000, 2000, 1 };
		in.u.reap.e[1] = (struct dpmsg_reap_entry){ 2, 0, 0, 0 };
		break;
	case DPMSG_REAP_SCAN_REQ:
		in.u.scan_req = (struct dpmsg_reap_scan_req){ 0x01020304u, DPMSG_SCAN_SLOTS_MAX,
							      UINT64_C(0x8877665544332211) };
		break;
	case DPMSG_REAP_SCAN:
		in.u.scan.next = 0x0a0b0c0du;
		in.u.scan.n = 2;
		in.u.scan.e[0] = (struct dpmsg_reap_entry){ DPMSG_TAG_MASK, UINT64_MAX, 0, 1 };
		in.u.scan.e[1] = (struct dpmsg_reap_entry){ 0, 5, UINT64_C(0x123456789abcdef0), 1 };
		break;
	case DPMSG_COUNTERS:
		in.u.counters.n = 2;
		in.u.counters.c[0] = (struct dpmsg_counter){ DPMSG_CNT_PUNT, 5 };
		in.u.counters.c[1] = (struct dpmsg_counter){ DPMSG_CNT_NAT_OUT, UINT64_MAX };
		break;
	}
}

static const uint8_t all_types[] = {
	DPMSG_HELLO, DPMSG_ACK, DPMSG_ERROR, DPMSG_CTX_ADD, DPMSG_CTX_MOD, DPMSG_CTX_DEL,
	DPMSG_HOST_ADD, DPMSG_HOST_DEL, DPMSG_PUNT, DPMSG_INJECT, DPMSG_DUMP_REQ, DPMSG_DUMP_CTX,
	DPMSG_DUMP_HOST, DPMSG_DUMP_END, DPMSG_REAP_REQ, DPMSG_REAP, DPMSG_COUNTERS_REQ, DPMSG_COUNTERS,
	DPMSG_REAP_SCAN_REQ, DPMSG_REAP_SCAN, DPMSG_ISP_STATE,
};

static void test_roundtrip_all(void **state)
{
	for (size_t t = 0; t < sizeof(all_types); t++) {
		make(all_types[t]);
		int n = dpmsg_encode(&in, buf, sizeof(buf));
		assert_true(n >= DPMSG_HDR_LEN);
		assert_int_equal(buf[0], DPMSG_VERSION);
		assert_int_equal(buf[1], all_types[t]);
		assert_int_equal(buf[2] << 8 | buf[3], n);
		memset(&out, 0xaa, sizeof(out));
		assert_int_equal(dpmsg_decode(buf, (size_t)n, &out), DPMSG_OK);
		assert_int_equal(out.type, in.type);
		assert_int_equal(out.seq, in.seq);
		switch (in.type) {
		case DPMSG_HELLO:
			assert_memory_equal(&out.u.hello, &in.u.hello, sizeof(in.u.hello));
			break;
		case DPMSG_ERROR:
			assert_int_equal(out.u.error.code, DPMSG_ERR_EXISTS);
			assert_string_equal(out.u.error.text, in.u.error.text);
			break;
		case DPMSG_CTX_ADD: case DPMSG_CTX_DEL: case DPMSG_DUMP_CTX:
			assert_memory_equal(out.u.ctx.local_ulid, in.u.ctx.local_ulid, 16);
			assert_memory_equal(out.u.ctx.remote_ulid, in.u.ctx.remote_ulid, 16);
			assert_memory_equal(out.u.ctx.local_loc, in.u.ctx.local_loc, 16);
			assert_memory_equal(out.u.ctx.remote_loc, in.u.ctx.remote_loc, 16);
			assert_true(out.u.ctx.peer_tag == in.u.ctx.peer_tag);
			assert_true(out.u.ctx.own_tag == in.u.ctx.own_tag);
			assert_int_equal(out.u.ctx.fii, 7);
			assert_int_equal(out.u.ctx.isp, 3);
			assert_int_equal(out.u.ctx.flags, DPMSG_CTXF_MSS_CLAMP);
			break;
		case DPMSG_CTX_MOD:
			assert_int_equal(out.u.mod.what, in.u.mod.what);
			assert_true(out.u.mod.ctx.own_tag == in.u.mod.ctx.own_tag);
			break;
		case DPMSG_HOST_ADD: case DPMSG_HOST_DEL: case DPMSG_DUMP_HOST:
			assert_int_equal(out.u.host.nloc, 2);
			assert_memory_equal(out.u.host.loc[1], in.u.host.loc[1], 16);
			break;
		case DPMSG_PUNT:
			assert_int_equal(out.u.punt.reason, DPMSG_PUNT_UNKNOWN_TAG);
			assert_int_equal(out.u.punt.orig_len, 1500);
			assert_int_equal(out.u.punt.len, sizeof(pkt));
			assert_memory_equal(out.u.punt.data, pkt, sizeof(pkt));
			assert_ptr_equal(out.u.punt.data, buf + 16); /* zero copy into the datagram */
			break;
		case DPMSG_INJECT:
			assert_int_equal(out.u.inject.port, 2);
			assert_memory_equal(out.u.inject.data, pkt, sizeof(pkt));
			break;
		case DPMSG_DUMP_END:
			assert_int_equal(out.u.dump_end.count, 12345);
			break;
		case DPMSG_ISP_STATE:
			assert_int_equal(out.u.isp_state.n_isp, 3);
			assert_int_equal(out.u.isp_state.down, 5);
			break;
		case DPMSG_REAP_REQ:
			assert_int_equal(out.u.reap_req.n, 3);
			assert_true(out.u.reap_req.own_tag[1] == DPMSG_TAG_MASK);
			break;
		case DPMSG_REAP:
			assert_int_equal(out.u.reap.n, 2);
			assert_true(out.u.reap.e[0].last_recv_ns == 2000);
			assert_int_equal(out.u.reap.e[1].found, 0);
			break;
		case DPMSG_COUNTERS:
			assert_true(out.u.counters.c[1].value == UINT64_MAX);
			break;
		case DPMSG_REAP_SCAN_REQ:
			assert_memory_equal(&out.u.scan_req, &in.u.scan_req, sizeof(in.u.scan_req));
			break;
		case DPMSG_REAP_SCAN:
			assert_int_equal(out.u.scan.next, in.u.scan.next);
			assert_int_equal(out.u.scan.n, 2);
			for (unsigned i = 0; i < 2; i++) {
				assert_true(out.u.scan.e[i].own_tag == in.u.scan.e[i].own_tag);
				assert_true(out.u.scan.e[i].last_sent_ns == in.u.scan.e[i].last_sent_ns);
				assert_true(out.u.scan.e[i].last_recv_ns == in.u.scan.e[i].last_recv_ns);
				assert_int_equal(out.u.scan.e[i].found, 1);
			}
			break;
		}
	}
}

/* Every proper prefix of every valid datagram is refused (no partial decode). */
static void test_truncation_refused(void **state)
{
	for (size_t t = 0; t < sizeof(all_types); t++) {
		make(all_types[t]);
		int n = dpmsg_encode(&in, buf, sizeof(buf));
		for (int cut = 0; cut < n; cut++) {
			int rc = dpmsg_decode(buf, (size_t)cut, &out);
			assert_true(rc == DPMSG_E_SHORT || rc == DPMSG_E_LEN);
		}
	}
}

/* Length field agreeing with a datagram that has one extra body octet: wrong for the type. */
static void test_body_length_exact(void **state)
{
	static const uint8_t fixed[] = { DPMSG_HELLO, DPMSG_ACK, DPMSG_ERROR, DPMSG_CTX_ADD, DPMSG_CTX_MOD,
					 DPMSG_HOST_ADD, DPMSG_DUMP_REQ, DPMSG_REAP_REQ, DPMSG_REAP,
					 DPMSG_COUNTERS, DPMSG_COUNTERS_REQ, DPMSG_REAP_SCAN_REQ,
					 DPMSG_REAP_SCAN, DPMSG_ISP_STATE };
	for (size_t t = 0; t < sizeof(fixed); t++) {
		make(fixed[t]);
		int n = dpmsg_encode(&in, buf, sizeof(buf));
		buf[n] = 0;
		buf[2] = (uint8_t)((n + 1) >> 8);
		buf[3] = (uint8_t)(n + 1);
		assert_int_equal(dpmsg_decode(buf, (size_t)n + 1, &out), DPMSG_E_LEN);
	}
}

static void test_header_checks(void **state)
{
	make(DPMSG_CTX_ADD);
	int n = dpmsg_encode(&in, buf, sizeof(buf));
	buf[0] = DPMSG_VERSION + 1;
	assert_int_equal(dpmsg_decode(buf, (size_t)n, &out), DPMSG_E_VERSION);
	buf[0] = DPMSG_VERSION;
	buf[1] = 200;
	assert_int_equal(dpmsg_decode(buf, (size_t)n, &out), DPMSG_E_TYPE);
	buf[1] = DPMSG_CTX_ADD;
	buf[3]++; /* length says one more than received */
	assert_int_equal(dpmsg_decode(buf, (size_t)n, &out), DPMSG_E_SHORT);
	buf[3] -= 2; /* length says one fewer */
	assert_int_equal(dpmsg_decode(buf, (size_t)n, &out), DPMSG_E_LEN);
	assert_int_equal(dpmsg_decode(buf, 3, &out), DPMSG_E_SHORT);
}

static void test_field_ranges(void **state)
{
	make(DPMSG_CTX_ADD);
	in.u.ctx.peer_tag = DPMSG_TAG_MASK + 1;
	assert_int_equal(dpmsg_encode(&in, buf, sizeof(buf)), DPMSG_E_FIELD);
	make(DPMSG_CTX_ADD);
	int n = dpmsg_encode(&in, buf, sizeof(buf));
	buf[DPMSG_HDR_LEN + 64] = 0x80; /* top octet of the peer tag: bit 63 set */
	assert_int_equal(dpmsg_decode(buf, (size_t)n, &out), DPMSG_E_FIELD);
	make(DPMSG_CTX_ADD);
	n = dpmsg_encode(&in, buf, sizeof(buf));
	buf[n - 1] = DPMSG_MAX_ISP; /* isp index */
	assert_int_equal(dpmsg_decode(buf, (size_t)n, &out), DPMSG_E_FIELD);

	make(DPMSG_CTX_MOD);
	in.u.mod.what = 0;
	assert_int_equal(dpmsg_encode(&in, buf, sizeof(buf)), DPMSG_E_FIELD);

	make(DPMSG_HOST_ADD);
	n = dpmsg_encode(&in, buf, sizeof(buf));
	buf[DPMSG_HDR_LEN + 16] = DPMSG_MAX_ISP + 1;
	assert_int_equal(dpmsg_decode(buf, (size_t)n, &out), DPMSG_E_FIELD);

	make(DPMSG_REAP_REQ);
	n = dpmsg_encode(&in, buf, sizeof(buf));
	buf[DPMSG_HDR_LEN] = 0xff; /* count 0xff03 > DPMSG_REAP_MAX */
	assert_int_equal(dpmsg_decode(buf, (size_t)n, &out), DPMSG_E_FIELD);

	make(DPMSG_PUNT);
	in.u.punt.orig_len = 10; /* shorter than the bytes carried: a lie */
	n = dpmsg_encode(&in, buf, sizeof(buf));
	assert_int_equal(dpmsg_decode(buf, (size_t)n, &out), DPMSG_E_FIELD);
}

/* REAP_SCAN with 0, 1 and DPMSG_REAP_MAX entries: each one and `next` come back. */
static void test_reap_scan_sizes(void **state)
{
	static const uint16_t sizes[] = { 0, 1, DPMSG_REAP_MAX };
	for (size_t k = 0; k < 3; k++) {
		make(DPMSG_REAP_SCAN);
		in.u.scan.n = sizes[k];
		in.u.scan.next = k == 0 ? DPMSG_SCAN_END : (uint32_t)k;
		for (unsigned i = 0; i < sizes[k]; i++)
			in.u.scan.e[i] = (struct dpmsg_reap_entry){ (UINT64_C(0x400000000000) + i) & DPMSG_TAG_MASK,
								    UINT64_C(1000000000) * i, i % 3 ? i : 0, 1 };
		int n = dpmsg_encode(&in, buf, sizeof(buf));
		assert_int_equal(n, DPMSG_HDR_LEN + 6 + 24 * sizes[k]);
		assert_true(n <= DPMSG_MAX_LEN);
		memset(&out, 0xaa, sizeof(out));
		assert_int_equal(dpmsg_decode(buf, (size_t)n, &out), DPMSG_OK);
		assert_int_equal(out.type, DPMSG_REAP_SCAN);
		assert_int_equal(out.u.scan.next, in.u.scan.next);
		assert_int_equal(out.u.scan.n, sizes[k]);
		for (unsigned i = 0; i < sizes[k]; i++) {
			assert_true(out.u.scan.e[i].own_tag == in.u.scan.e[i].own_tag);
			assert_true(out.u.scan.e[i].last_sent_ns == in.u.scan.e[i].last_sent_ns);
			assert_true(out.u.scan.e[i].last_recv_ns == in.u.scan.e[i].last_recv_ns);
			assert_int_equal(out.u.scan.e[i].found, 1);   /* a scan reports installed contexts only */
		}
	}
	/* the request's bounds of max_slots, both ends included */
	static const uint32_t slots[] = { 1, DPMSG_SCAN_SLOTS_MAX };
	for (size_t k = 0; k < 2; k++) {
		make(DPMSG_REAP_SCAN_REQ);
		in.u.scan_req.max_slots = slots[k];
		in.u.scan_req.cursor = DPMSG_SCAN_END;
		int n = dpmsg_encode(&in, buf, sizeof(buf));
		assert_int_equal(n, DPMSG_HDR_LEN + 16);
		assert_int_equal(dpmsg_decode(buf, (size_t)n, &out), DPMSG_OK);
		assert_int_equal(out.u.scan_req.max_slots, slots[k]);
		assert_int_equal(out.u.scan_req.cursor, DPMSG_SCAN_END);
	}
}

/* Each malformed REAP_SCAN form refused with its code, decoding and encoding. */
static void test_reap_scan_malformed(void **state)
{
	int n;

	/* a request's body is 16 octets, no more, no fewer */
	make(DPMSG_REAP_SCAN_REQ);
	n = dpmsg_encode(&in, buf, sizeof(buf));
	for (int len = DPMSG_HDR_LEN; len < n + 3; len++) {
		if (len == n)
			continue;
		buf[2] = (uint8_t)(len >> 8);
		buf[3] = (uint8_t)len;
		assert_int_equal(dpmsg_decode(buf, (size_t)len, &out), DPMSG_E_LEN);
	}
	/* max_slots 0 and above DPMSG_SCAN_SLOTS_MAX */
	static const uint32_t bad[] = { 0, DPMSG_SCAN_SLOTS_MAX + 1, UINT32_MAX };
	for (size_t k = 0; k < 3; k++) {
		make(DPMSG_REAP_SCAN_REQ);
		in.u.scan_req.max_slots = bad[k];
		assert_int_equal(dpmsg_encode(&in, buf, sizeof(buf)), DPMSG_E_FIELD);
		in.u.scan_req.max_slots = 1;
		n = dpmsg_encode(&in, buf, sizeof(buf));
		buf[DPMSG_HDR_LEN + 4] = (uint8_t)(bad[k] >> 24);
		buf[DPMSG_HDR_LEN + 5] = (uint8_t)(bad[k] >> 16);
		buf[DPMSG_HDR_LEN + 6] = (uint8_t)(bad[k] >> 8);
		buf[DPMSG_HDR_LEN + 7] = (uint8_t)bad[k];
		assert_int_equal(dpmsg_decode(buf, (size_t)n, &out), DPMSG_E_FIELD);
	}

	/* a reply's body: shorter than its fixed part, or not 24 octets an entry */
	make(DPMSG_REAP_SCAN);
	n = dpmsg_encode(&in, buf, sizeof(buf));
	assert_int_equal(n, DPMSG_HDR_LEN + 6 + 2 * 24);
	for (int len = DPMSG_HDR_LEN; len < n + 30; len++) {
		if (len == n)
			continue;
		buf[2] = (uint8_t)(len >> 8);
		buf[3] = (uint8_t)len;
		assert_int_equal(dpmsg_decode(buf, (size_t)len, &out), DPMSG_E_LEN);
	}
	/* n above DPMSG_REAP_MAX: refused as such, whatever the length */
	make(DPMSG_REAP_SCAN);
	in.u.scan.n = DPMSG_REAP_MAX + 1;
	assert_int_equal(dpmsg_encode(&in, buf, sizeof(buf)), DPMSG_E_FIELD);
	make(DPMSG_REAP_SCAN);
	in.u.scan.n = DPMSG_REAP_MAX;
	n = dpmsg_encode(&in, buf, sizeof(buf));
	assert_true(n > 0);
	buf[DPMSG_HDR_LEN + 5] = DPMSG_REAP_MAX + 1;
	assert_int_equal(dpmsg_decode(buf, (size_t)n, &out), DPMSG_E_FIELD);
	buf[DPMSG_HDR_LEN + 4] = 0xff;   /* 0xff81 */
	assert_int_equal(dpmsg_decode(buf, (size_t)n, &out), DPMSG_E_FIELD);
	/* a tag over 47 bits, in the first entry and in the last */
	make(DPMSG_REAP_SCAN);
	in.u.scan.e[1].own_tag = DPMSG_TAG_MASK + 1;
	assert_int_equal(dpmsg_encode(&in, buf, sizeof(buf)), DPMSG_E_FIELD);
	in.u.scan.e[1].own_tag = UINT64_C(1) << 63;
	assert_int_equal(dpmsg_encode(&in, buf, sizeof(buf)), DPMSG_E_FIELD);
	make(DPMSG_REAP_SCAN);
	n = dpmsg_encode(&in, buf, sizeof(buf));
	buf[DPMSG_HDR_LEN + 6 + 2] |= 0x80;            /* entry 0: bit 47 of the tag */
	assert_int_equal(dpmsg_decode(buf, (size_t)n, &out), DPMSG_E_FIELD);
	make(DPMSG_REAP_SCAN);
	n = dpmsg_encode(&in, buf, sizeof(buf));
	buf[DPMSG_HDR_LEN + 6 + 24] = 0x80;            /* entry 1: bit 63 */
	assert_int_equal(dpmsg_decode(buf, (size_t)n, &out), DPMSG_E_FIELD);
	/* a full reply into a buffer one octet short */
	make(DPMSG_REAP_SCAN);
	in.u.scan.n = DPMSG_REAP_MAX;
	assert_int_equal(dpmsg_encode(&in, buf, DPMSG_HDR_LEN + 6 + 24 * DPMSG_REAP_MAX - 1), DPMSG_E_NOSPACE);
}

static void test_packet_bounds(void **state)
{
	static uint8_t big[DPMSG_PKT_MAX + 1];
	make(DPMSG_INJECT);
	in.u.inject.data = big;
	in.u.inject.len = DPMSG_PKT_MAX;
	int n = dpmsg_encode(&in, buf, sizeof(buf));
	assert_int_equal(n, DPMSG_HDR_LEN + 4 + DPMSG_PKT_MAX);
	assert_int_equal(dpmsg_decode(buf, (size_t)n, &out), DPMSG_OK);
	in.u.inject.len = DPMSG_PKT_MAX + 1;
	assert_int_equal(dpmsg_encode(&in, buf, sizeof(buf)), DPMSG_E_TOOBIG);
	in.u.inject.len = 0;
	assert_int_equal(dpmsg_encode(&in, buf, sizeof(buf)), DPMSG_E_FIELD);
	/* encode into a buffer too small */
	make(DPMSG_CTX_ADD);
	assert_int_equal(dpmsg_encode(&in, buf, 40), DPMSG_E_NOSPACE);
}

/* Set the header length field to `len` (the datagram is `len` octets). */
static void set_len(size_t len)
{
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
}

/* Encoder refuses out-of-range fields of every typed body, at the first value past each bound. */
static void test_encode_field_bounds(void **state)
{
	static uint8_t big[DPMSG_PKT_MAX + 1];
	make(DPMSG_CTX_ADD);
	in.u.ctx.own_tag = DPMSG_TAG_MASK + 1;
	assert_int_equal(dpmsg_encode(&in, buf, sizeof(buf)), DPMSG_E_FIELD);
	make(DPMSG_CTX_ADD);
	in.u.ctx.isp = DPMSG_MAX_ISP;
	assert_int_equal(dpmsg_encode(&in, buf, sizeof(buf)), DPMSG_E_FIELD);
	make(DPMSG_HOST_ADD);
	in.u.host.nloc = DPMSG_MAX_ISP + 1;
	assert_int_equal(dpmsg_encode(&in, buf, sizeof(buf)), DPMSG_E_FIELD);
	make(DPMSG_PUNT);
	in.u.punt.data = big;
	in.u.punt.len = DPMSG_PKT_MAX + 1;
	assert_int_equal(dpmsg_encode(&in, buf, sizeof(buf)), DPMSG_E_TOOBIG);
	make(DPMSG_REAP_REQ);
	in.u.reap_req.n = DPMSG_REAP_MAX + 1;
	assert_int_equal(dpmsg_encode(&in, buf, sizeof(buf)), DPMSG_E_FIELD);
	make(DPMSG_COUNTERS);
	in.u.counters.n = DPMSG_COUNTERS_MAX + 1;
	assert_int_equal(dpmsg_encode(&in, buf, sizeof(buf)), DPMSG_E_FIELD);
}

/* Header: a datagram shorter than the header whose length field agrees is E_SHORT;
 * one longer than DPMSG_MAX_LEN is E_LEN even when its length field agrees. */
static void test_decode_header_bounds(void **state)
{
	make(DPMSG_ACK);
	dpmsg_encode(&in, buf, sizeof(buf));
	set_len(DPMSG_HDR_LEN - 1);
	assert_int_equal(dpmsg_decode(buf, DPMSG_HDR_LEN - 1, &out), DPMSG_E_SHORT);
	make(DPMSG_PUNT);
	dpmsg_encode(&in, buf, sizeof(buf));
	set_len(DPMSG_MAX_LEN + 1);
	assert_int_equal(dpmsg_decode(buf, DPMSG_MAX_LEN + 1, &out), DPMSG_E_LEN);
}

/* Decoder range checks on fields the encoder never produces wrong. */
static void test_decode_field_bounds(void **state)
{
	int n;
	/* HELLO role outside CONTROL..TOOL, both sides (octets 10..11) */
	static const uint16_t roles[] = { DPMSG_ROLE_CONTROL - 1, DPMSG_ROLE_TOOL + 1 };
	for (int k = 0; k < 2; k++) {
		make(DPMSG_HELLO);
		n = dpmsg_encode(&in, buf, sizeof(buf));
		buf[DPMSG_HDR_LEN + 2] = (uint8_t)(roles[k] >> 8);
		buf[DPMSG_HDR_LEN + 3] = (uint8_t)roles[k];
		assert_int_equal(dpmsg_decode(buf, (size_t)n, &out), DPMSG_E_FIELD);
	}
	/* CTX_ADD own tag over 47 bits (body 72..79) */
	make(DPMSG_CTX_ADD);
	n = dpmsg_encode(&in, buf, sizeof(buf));
	buf[DPMSG_HDR_LEN + 72] = 0x80;
	assert_int_equal(dpmsg_decode(buf, (size_t)n, &out), DPMSG_E_FIELD);
	/* CTX_MOD `what` zero, and with an unknown bit */
	make(DPMSG_CTX_MOD);
	n = dpmsg_encode(&in, buf, sizeof(buf));
	memset(buf + DPMSG_HDR_LEN, 0, 4);
	assert_int_equal(dpmsg_decode(buf, (size_t)n, &out), DPMSG_E_FIELD);
	buf[DPMSG_HDR_LEN] = 0x80;
	assert_int_equal(dpmsg_decode(buf, (size_t)n, &out), DPMSG_E_FIELD);
	/* DUMP_REQ `what` zero */
	make(DPMSG_DUMP_REQ);
	n = dpmsg_encode(&in, buf, sizeof(buf));
	memset(buf + DPMSG_HDR_LEN, 0, 4);
	assert_int_equal(dpmsg_decode(buf, (size_t)n, &out), DPMSG_E_FIELD);
	/* INJECT with an unknown flag */
	make(DPMSG_INJECT);
	n = dpmsg_encode(&in, buf, sizeof(buf));
	buf[DPMSG_HDR_LEN + 2] = 0x80;
	assert_int_equal(dpmsg_decode(buf, (size_t)n, &out), DPMSG_E_FIELD);
	/* REAP_REQ tag over 47 bits */
	make(DPMSG_REAP_REQ);
	n = dpmsg_encode(&in, buf, sizeof(buf));
	buf[DPMSG_HDR_LEN + 2 + 8] = 0x80;
	assert_int_equal(dpmsg_decode(buf, (size_t)n, &out), DPMSG_E_FIELD);
	/* ISP_STATE: more ISPs than a dataplane has, a failed ISP beyond them, the
	 * reserved octets set; and every ISP failed is fine */
	make(DPMSG_ISP_STATE);
	in.u.isp_state.n_isp = DPMSG_MAX_ISP + 1;
	assert_int_equal(dpmsg_encode(&in, buf, sizeof(buf)), DPMSG_E_FIELD);
	make(DPMSG_ISP_STATE);
	in.u.isp_state.down = 1u << 3;
	assert_int_equal(dpmsg_encode(&in, buf, sizeof(buf)), DPMSG_E_FIELD);
	make(DPMSG_ISP_STATE);
	n = dpmsg_encode(&in, buf, sizeof(buf));
	buf[DPMSG_HDR_LEN + 1] = DPMSG_MAX_ISP + 1;
	assert_int_equal(dpmsg_decode(buf, (size_t)n, &out), DPMSG_E_FIELD);
	buf[DPMSG_HDR_LEN + 1] = 3;
	buf[DPMSG_HDR_LEN + 7] = 0x08;
	assert_int_equal(dpmsg_decode(buf, (size_t)n, &out), DPMSG_E_FIELD);
	buf[DPMSG_HDR_LEN + 7] = 0x07;
	assert_int_equal(dpmsg_decode(buf, (size_t)n, &out), DPMSG_OK);
	assert_int_equal(out.u.isp_state.down, 7);
	buf[DPMSG_HDR_LEN + 3] = 1;
	assert_int_equal(dpmsg_decode(buf, (size_t)n, &out), DPMSG_E_FIELD);
	/* PUNT: orig_len one below the octets carried is a lie, equal is fine */
	make(DPMSG_PUNT);
	in.u.punt.orig_len = sizeof(pkt) - 1;
	n = dpmsg_encode(&in, buf, sizeof(buf));
	assert_int_equal(dpmsg_decode(buf, (size_t)n, &out), DPMSG_E_FIELD);
	in.u.punt.orig_len = sizeof(pkt);
	n = dpmsg_encode(&in, buf, sizeof(buf));
	assert_int_equal(dpmsg_decode(buf, (size_t)n, &out), DPMSG_OK);
}

/* Counts one past the maximum with a body length that matches them are still refused. */
static void test_decode_count_over_max(void **state)
{
	size_t len;
	memset(buf, 0, sizeof(buf));
	buf[0] = DPMSG_VERSION;
	buf[DPMSG_HDR_LEN] = 0;
	buf[DPMSG_HDR_LEN + 1] = DPMSG_REAP_MAX + 1;
	buf[1] = DPMSG_REAP_REQ;
	set_len(len = DPMSG_HDR_LEN + 2 + 8 * (DPMSG_REAP_MAX + 1));
	assert_int_equal(dpmsg_decode(buf, len, &out), DPMSG_E_FIELD);
	buf[1] = DPMSG_REAP;
	set_len(len = DPMSG_HDR_LEN + 2 + 25 * (DPMSG_REAP_MAX + 1));
	assert_true(len <= DPMSG_MAX_LEN);
	assert_int_equal(dpmsg_decode(buf, len, &out), DPMSG_E_FIELD);
	buf[1] = DPMSG_COUNTERS;
	buf[DPMSG_HDR_LEN + 1] = DPMSG_COUNTERS_MAX + 1;
	set_len(len = DPMSG_HDR_LEN + 2 + 10 * (DPMSG_COUNTERS_MAX + 1));
	assert_int_equal(dpmsg_decode(buf, len, &out), DPMSG_E_FIELD);
}

/* PUNT and INJECT bodies at their edges: fixed part only (INJECT needs a packet), and one
 * octet more packet than DPMSG_PKT_MAX, each with a consistent length field. */
static void test_decode_packet_edges(void **state)
{
	memset(buf, 0, sizeof(buf));
	buf[0] = DPMSG_VERSION;
	buf[1] = DPMSG_PUNT;
	set_len(DPMSG_HDR_LEN + 7);
	assert_int_equal(dpmsg_decode(buf, DPMSG_HDR_LEN + 7, &out), DPMSG_E_LEN);
	buf[DPMSG_HDR_LEN + 4] = 0xff; /* orig_len large enough */
	set_len(DPMSG_HDR_LEN + 8 + DPMSG_PKT_MAX + 1);
	assert_int_equal(dpmsg_decode(buf, DPMSG_HDR_LEN + 8 + DPMSG_PKT_MAX + 1, &out), DPMSG_E_TOOBIG);
	memset(buf + DPMSG_HDR_LEN, 0, 8);
	buf[1] = DPMSG_INJECT;
	set_len(DPMSG_HDR_LEN + 4);
	assert_int_equal(dpmsg_decode(buf, DPMSG_HDR_LEN + 4, &out), DPMSG_E_LEN);
	set_len(DPMSG_HDR_LEN + 4 + DPMSG_PKT_MAX + 1);
	assert_int_equal(dpmsg_decode(buf, DPMSG_HDR_LEN + 4 + DPMSG_PKT_MAX + 1, &out), DPMSG_E_TOOBIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_all),
		cmocka_unit_test(test_truncation_refused),
		cmocka_unit_test(test_body_length_exact),
		cmocka_unit_test(test_header_checks),
		cmocka_unit_test(test_field_ranges),
		cmocka_unit_test(test_packet_bounds),
		cmocka_unit_test(test_reap_scan_sizes),
		cmocka_unit_test(test_reap_scan_malformed),
		cmocka_unit_test(test_encode_field_bounds),
		cmocka_unit_test(test_decode_header_bounds),
		cmocka_unit_test(test_decode_field_bounds),
		cmocka_unit_test(test_decode_count_over_max),
		cmocka_unit_test(test_decode_packet_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
