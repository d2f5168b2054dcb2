/* Unit suite for the Shim6 wire codec: round trips, one test per validity
 * rule, checksum, payload header, accessors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <shim6/wire.h>
#include "samples.h"

static uint8_t buf[SHIM6_MSG_MAX], buf2[SHIM6_MSG_MAX];
static struct shim6_msg msg, dec;

static int sample(unsigned idx)
{
	int n = wire_sample(idx, &msg, buf, sizeof buf);
	assert_true(n > 0);
	assert_int_equal(n % 8, 0);
	return n;
}

/* decode(buf) must succeed and encode(decode(buf)) must equal buf. */
static void assert_round_trip(const uint8_t *b, int n)
{
	assert_int_equal(shim6_wire_decode(b, (size_t)n, &dec), 0);
	assert_int_equal(dec.len, n);
	int m = shim6_wire_encode(&dec, buf2, sizeof buf2);
	assert_int_equal(m, n);
	assert_memory_equal(b, buf2, (size_t)n);
}

static int decode_err(const uint8_t *b, size_t n)
{
	int rc = shim6_wire_decode(b, n, &dec);
	assert_true(rc < 0);
	assert_string_not_equal(shim6_wire_strerror(rc), "unknown error");
	return rc;
}

/* ---- round trips ------------------------------------------------------- */

static void test_round_trip_all_samples(void **st)
{
	(void)st;
	for (unsigned i = 0; i < SAMPLE__COUNT; i++) {
		int n = sample(i);
		assert_round_trip(buf, n);
		assert_int_equal(dec.type, msg.type);
		assert_int_equal(dec.next_header, SHIM6_NH_NONE);
		assert_int_equal(dec.n_opts, msg.n_opts);
		assert_string_not_equal(shim6_wire_type_name(dec.type), "Unknown");
	}
}

static void test_i1_fields(void **st)
{
	(void)st;
	int n = sample(SAMPLE_I1);
	assert_int_equal(n, 16 + 40 + 8);
	assert_int_equal(buf[1], n / 8 - 1);
	assert_int_equal(buf[2], 1);            /* P = 0, type 1 */
	assert_int_equal(buf[3], 0);
	assert_int_equal(shim6_wire_decode(buf, (size_t)n, &dec), 0);
	assert_int_equal(dec.m.i1.init_ctag, 0x123456789abcULL);
	assert_int_equal(dec.m.i1.init_nonce, 0x11111111);
	assert_non_null(dec.ulid_pair);
	assert_memory_equal(dec.ulid_pair->u.ulid.sender, sample_ulid_a, 16);
	assert_memory_equal(dec.ulid_pair->u.ulid.receiver, sample_ulid_b, 16);
	assert_non_null(dec.forked);
	assert_int_equal(dec.forked->u.forked_instance_id, 7);
	/* Context tag sits right after the checksum, octets 6-11. */
	assert_int_equal(buf[6], 0x12);
	assert_int_equal(buf[11], 0xbc);
}

static void test_i2_options(void **st)
{
	(void)st;
	int n = sample(SAMPLE_I2);
	assert_int_equal(shim6_wire_decode(buf, (size_t)n, &dec), 0);
	assert_int_equal(dec.m.i2.init_nonce, 0x33333333);
	assert_int_equal(dec.m.i2.resp_nonce, 0x22222222);
	assert_non_null(dec.validator);
	assert_int_equal(dec.validator->u.bytes.len, sizeof sample_validator);
	assert_memory_equal(dec.validator->u.bytes.data, sample_validator, sizeof sample_validator);
	const struct shim6_opt_loclist *ll = &dec.loclist->u.loclist;
	assert_int_equal(ll->gen, 1);
	assert_int_equal(ll->n, 3);
	assert_memory_equal(ll->methods, sample_methods, 3);
	assert_memory_equal(ll->locators, sample_locators, 48);
	/* Locators start 8-aligned from the option's first octet. */
	assert_int_equal((ll->locators - (const uint8_t *)buf - 24 - 24) % 8, 0);
	const struct shim6_opt_locpref *lp = &dec.locpref->u.locpref;
	assert_int_equal(lp->elem_len, 3);
	assert_int_equal(lp->n, 3);
	struct shim6_locpref_elem e;
	shim6_wire_locpref_get(lp, 1, &e);
	assert_int_equal(e.flags, SHIM6_WIRE_LOCF_TEMPORARY);
	assert_int_equal(e.priority, 10);
	assert_int_equal(e.weight, 50);
	shim6_wire_locpref_get(lp, 2, &e);
	assert_int_equal(e.flags, SHIM6_WIRE_LOCF_BROKEN);
	assert_int_equal(dec.cga_pds->u.bytes.len, sizeof sample_pds);
	assert_memory_equal(dec.cga_pds->u.bytes.data, sample_pds, sizeof sample_pds);
	assert_int_equal(dec.cga_sig->u.bytes.len, sizeof sample_sig);
	assert_memory_equal(dec.cga_sig->u.bytes.data, sample_sig, sizeof sample_sig);
	assert_non_null(dec.ka_timeout);
	assert_int_equal(dec.ka_timeout->u.ka.seconds, 10);
	/* Options come back in wire order. */
	static const uint16_t order[] = { 1, 2, 3, 4, 5, 6, 7, 10 };
	assert_int_equal(dec.n_opts, 8);
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(dec.opts[i].type, order[i]);
}

static void test_locpref_short_elements(void **st)
{
	(void)st;
	struct shim6_locpref_elem e;
	int n = sample(SAMPLE_R2);      /* element length 2 */
	assert_int_equal(shim6_wire_decode(buf, (size_t)n, &dec), 0);
	assert_int_equal(dec.locpref->u.locpref.elem_len, 2);
	shim6_wire_locpref_get(&dec.locpref->u.locpref, 2, &e);
	assert_int_equal(e.flags, SHIM6_WIRE_LOCF_BROKEN);
	assert_int_equal(e.priority, 20);
	assert_int_equal(e.weight, 0);
	n = sample(SAMPLE_UPDATE_REQ);  /* element length 1 */
	assert_int_equal(shim6_wire_decode(buf, (size_t)n, &dec), 0);
	assert_int_equal(dec.locpref->u.locpref.elem_len, 1);
	assert_int_equal(dec.locpref->u.locpref.n, 3);
	shim6_wire_locpref_get(&dec.locpref->u.locpref, 1, &e);
	assert_int_equal(e.flags, SHIM6_WIRE_LOCF_TEMPORARY);
	assert_int_equal(e.priority, 0);
}

static void test_locpref_long_elements(void **st)
{
	(void)st;
	/* Element Length 5: Flags, Priority, Weight, then two octets of a later
	 * extension, which are ignored but survive the round trip. */
	static const uint8_t elems[15] = {
		SHIM6_WIRE_LOCF_BROKEN, 10, 20, 0xaa, 0xbb,
		0, 11, 21, 0xcc, 0xdd,
		SHIM6_WIRE_LOCF_TEMPORARY, 12, 22, 0xee, 0xff,
	};
	sample(SAMPLE_I2);
	assert_int_equal(msg.opts[2].type, SHIM6_OPT_LOCATOR_PREFS);
	msg.opts[2].u.locpref.elem_len = 5;
	msg.opts[2].u.locpref.elems = elems;
	int n = shim6_wire_encode(&msg, buf, sizeof buf);
	assert_true(n > 0);
	assert_int_equal(shim6_wire_decode(buf, (size_t)n, &dec), 0);
	assert_int_equal(dec.locpref->u.locpref.elem_len, 5);
	assert_int_equal(dec.locpref->u.locpref.n, 3);
	struct shim6_locpref_elem e;
	shim6_wire_locpref_get(&dec.locpref->u.locpref, 2, &e);
	assert_int_equal(e.flags, SHIM6_WIRE_LOCF_TEMPORARY);
	assert_int_equal(e.priority, 12);
	assert_int_equal(e.weight, 22);
	assert_round_trip(buf, n);
	/* Packing a longer element zeroes the octets after Weight. */
	struct shim6_locpref_elem in[2] = { { 1, 2, 3 }, { 4, 5, 6 } };
	uint8_t packed[8];
	memset(packed, 0x5a, sizeof packed);
	shim6_wire_locpref_pack(in, 2, 4, packed);
	static const uint8_t want[8] = { 1, 2, 3, 0, 4, 5, 6, 0 };
	assert_memory_equal(packed, want, sizeof want);
}

static void test_i2bis_fields(void **st)
{
	(void)st;
	int n = sample(SAMPLE_I2BIS);
	assert_int_equal(shim6_wire_decode(buf, (size_t)n, &dec), 0);
	assert_int_equal(dec.m.i2bis.init_ctag, 0x123456789abcULL);
	assert_int_equal(dec.m.i2bis.init_nonce, 0x55555555);
	assert_int_equal(dec.m.i2bis.resp_nonce, 0x44444444);
	assert_int_equal(dec.m.i2bis.pkt_ctag, 0x0a0b0c0d0e0fULL);
	assert_int_equal(buf[26] & 0x7f, 0x0a);   /* packet tag in octets 26-31 */
	/* All 49 reserved bits survive a round trip. */
	msg.m.i2bis.reserved2 = (1ULL << 49) - 1;
	msg.m.i2bis.r = true;
	n = shim6_wire_encode(&msg, buf, sizeof buf);
	assert_true(n > 0);
	assert_round_trip(buf, n);
	assert_int_equal(dec.m.i2bis.reserved2, (1ULL << 49) - 1);
	assert_int_equal(dec.m.i2bis.pkt_ctag, 0x0a0b0c0d0e0fULL);
	assert_true(dec.m.i2bis.r);
}

static void test_other_fixed_fields(void **st)
{
	(void)st;
	int n = sample(SAMPLE_R1);
	assert_int_equal(shim6_wire_decode(buf, (size_t)n, &dec), 0);
	assert_int_equal(dec.m.r1.init_nonce, 0x11111111);
	assert_int_equal(dec.m.r1.resp_nonce, 0x22222222);
	n = sample(SAMPLE_R2);
	assert_int_equal(shim6_wire_decode(buf, (size_t)n, &dec), 0);
	assert_int_equal(dec.m.r2.resp_ctag, 0x7edcba987654ULL);
	assert_int_equal(dec.m.r2.init_nonce, 0x33333333);
	n = sample(SAMPLE_R1BIS);
	assert_int_equal(shim6_wire_decode(buf, (size_t)n, &dec), 0);
	assert_int_equal(dec.m.r1bis.pkt_ctag, 0x0a0b0c0d0e0fULL);
	assert_int_equal(dec.m.r1bis.resp_nonce, 0x44444444);
	n = sample(SAMPLE_UPDATE_ACK);
	assert_int_equal(shim6_wire_decode(buf, (size_t)n, &dec), 0);
	assert_int_equal(dec.type, SHIM6_TYPE_UPDATE_ACK);
	assert_int_equal(dec.m.update.req_nonce, 0x66666666);
	n = sample(SAMPLE_KEEPALIVE);
	assert_int_equal(n, 16);
	assert_int_equal(shim6_wire_decode(buf, (size_t)n, &dec), 0);
	assert_int_equal(dec.m.ka.rcv_ctag, 0x7edcba987654ULL);
}

static void test_reserved_bits_preserved(void **st)
{
	(void)st;
	/* R bits, Reserved1 and Reserved2 are ignored on receipt but must not
	 * be lost by a decode/encode pass. */
	sample(SAMPLE_R1);
	msg.type_specific = 0x55;
	msg.m.r1.reserved2 = 0xbeef;
	int n = shim6_wire_encode(&msg, buf, sizeof buf);
	assert_round_trip(buf, n);
	assert_int_equal(dec.type_specific, 0x55);
	assert_int_equal(dec.m.r1.reserved2, 0xbeef);
	sample(SAMPLE_KEEPALIVE);
	msg.m.ka.r = true;
	msg.m.ka.reserved2 = 0xdeadbeef;
	n = shim6_wire_encode(&msg, buf, sizeof buf);
	assert_round_trip(buf, n);
	assert_true(dec.m.ka.r);
	assert_int_equal(dec.m.ka.reserved2, 0xdeadbeef);
	/* Non-zero option padding and Locator List padding are kept too. */
	n = sample(SAMPLE_UNKNOWN_OPT);   /* option of 5 octets at 16: 7 padding */
	buf[16 + 4 + 5] = 0xaa;
	buf[16 + 4 + 5 + 6] = 0x55;
	wire_fix_checksum(buf);
	assert_round_trip(buf, n);
	assert_int_equal(dec.opts[0].pad[0], 0xaa);
	assert_int_equal(dec.opts[0].pad[6], 0x55);
	assert_int_equal(shim6_wire_decode(buf, (size_t)n, &dec), 0);
	size_t lloff = (size_t)(dec.loclist->u.loclist.methods - buf) + 3; /* first pad octet */
	buf[lloff] = 0x5a;
	wire_fix_checksum(buf);
	assert_round_trip(buf, n);
	assert_int_equal(dec.loclist->u.loclist.pad[0], 0x5a);
}

static void test_probe_reports(void **st)
{
	(void)st;
	int n = sample(SAMPLE_PROBE);
	assert_int_equal(n, 16 + 3 * 40);
	assert_int_equal(buf[12], 1 << 4 | 2);   /* Precvd high nibble, Psent low */
	assert_int_equal(buf[13] >> 6, SHIM6_WIRE_STATE_EXPLORING);
	assert_int_equal(shim6_wire_decode(buf, (size_t)n, &dec), 0);
	assert_int_equal(dec.m.probe.psent, 2);
	assert_int_equal(dec.m.probe.precvd, 1);
	assert_int_equal(dec.m.probe.state, SHIM6_WIRE_STATE_EXPLORING);
	struct shim6_probe_report r;
	assert_int_equal(shim6_wire_probe_report(&dec.m.probe, false, 1, &r), 0);
	assert_memory_equal(r.src, sample_locators[1], 16);
	assert_memory_equal(r.dst, sample_locators[2], 16);
	assert_int_equal(r.nonce, 0x1001);
	assert_int_equal(r.data, 0xd1);
	assert_int_equal(shim6_wire_probe_report(&dec.m.probe, true, 0, &r), 0);
	assert_int_equal(r.nonce, 0x1002);
	assert_int_equal(shim6_wire_probe_report(&dec.m.probe, true, 1, &r), SHIM6_E_INVAL);
	assert_int_equal(shim6_wire_probe_report(&dec.m.probe, false, 2, &r), SHIM6_E_INVAL);
}

static void test_error_message(void **st)
{
	(void)st;
	int n = sample(SAMPLE_ERROR);
	assert_int_equal(n, 8 + 48);            /* 44 octets padded to 48 */
	assert_int_equal(buf[2], 68);
	assert_int_equal(buf[3] >> 1, SHIM6_ERRCODE_CRITICAL_OPTION);
	assert_int_equal(shim6_wire_decode(buf, (size_t)n, &dec), 0);
	assert_int_equal(dec.type_specific, SHIM6_ERRCODE_CRITICAL_OPTION);
	assert_int_equal(dec.m.error.pointer, 16);
	assert_int_equal(dec.m.error.invoking_len, 48);
	assert_int_equal(dec.m.error.invoking[0], 59);
	assert_int_equal(dec.n_opts, 0);
}

static void test_unknown_noncritical_kept(void **st)
{
	(void)st;
	int n = sample(SAMPLE_UNKNOWN_OPT);
	assert_int_equal(shim6_wire_decode(buf, (size_t)n, &dec), 0);
	assert_int_equal(dec.n_opts, 2);
	assert_int_equal(dec.opts[0].type, 99);
	assert_false(dec.opts[0].critical);
	assert_int_equal(dec.opts[0].u.bytes.len, 5);
	assert_non_null(dec.loclist);
	assert_round_trip(buf, n);
}

static void test_known_option_with_c_bit(void **st)
{
	(void)st;
	sample(SAMPLE_I1);
	msg.opts[1].critical = true;           /* FII with C = 1 is still known */
	int n = shim6_wire_encode(&msg, buf, sizeof buf);
	assert_round_trip(buf, n);
	assert_true(dec.forked->critical);
}

static void test_checksum_alternative_ffff(void **st)
{
	(void)st;
	/* A message whose other octets sum to 0xffff verifies with both 0x0000
	 * and 0xffff in the checksum field; the decoder accepts both and the
	 * encoder reproduces what it saw. */
	uint8_t b[16] = { 0 };
	b[1] = 1; b[2] = SHIM6_TYPE_KEEPALIVE;
	/* Choose the reserved2 octets so the sum of all words is 0xffff. */
	uint32_t s = (uint32_t)(b[0] << 8 | b[1]) + (uint32_t)(b[2] << 8 | b[3]);
	uint16_t fill = (uint16_t)(0xffff - s);
	b[14] = (uint8_t)(fill >> 8); b[15] = (uint8_t)fill;
	b[4] = 0xff; b[5] = 0xff;
	assert_int_equal(shim6_wire_checksum(b, 16), 0);
	assert_round_trip(b, 16);
	b[4] = 0; b[5] = 0;
	assert_round_trip(b, 16);
}

/* ---- checksum ---------------------------------------------------------- */

static void test_checksum_rfc1071(void **st)
{
	(void)st;
	/* RFC 1071 §3 example: words 0001 f203 f4f5 f6f7 sum to 0xddf2. */
	const uint8_t d[8] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	assert_int_equal(shim6_wire_checksum(d, 8), (uint16_t)~0xddf2);
	/* Odd length: the last octet is padded with a zero octet. */
	const uint8_t o[3] = { 0x12, 0x34, 0x56 };
	assert_int_equal(shim6_wire_checksum(o, 3), (uint16_t)~(0x1234 + 0x5600));
	assert_int_equal(shim6_wire_checksum(o, 0), 0xffff);
}

static uint16_t naive_checksum(const uint8_t *b, size_t n)
{
	uint32_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += (i & 1) ? b[i] : (uint32_t)b[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void test_checksum_matches_reference(void **st)
{
	(void)st;
	/* Every length and alignment against a byte-at-a-time reference. */
	static uint8_t d[300];
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof d; i++) {
		x = x * 1103515245u + 12345u;
		d[i] = (uint8_t)(x >> 16);
	}
	for (size_t off = 0; off < 8; off++)
		for (size_t n = 0; n + off <= sizeof d; n++)
			assert_int_equal(shim6_wire_checksum(d + off, n), naive_checksum(d + off, n));
	memset(d, 0xff, sizeof d);
	for (size_t n = 0; n < 40; n++)
		assert_int_equal(shim6_wire_checksum(d, n), naive_checksum(d, n));
}

static void test_checksum_every_sample(void **st)
{
	(void)st;
	for (unsigned i = 0; i < SAMPLE__COUNT; i++) {
		int n = sample(i);
		assert_int_equal(shim6_wire_checksum(buf, (size_t)n), 0);
		/* Any single-bit flip outside the checksum is detected. */
		for (int bit = 0; bit < 8 * n; bit += 37) {
			if (bit / 8 == 4 || bit / 8 == 5)
				continue;
			buf[bit / 8] ^= (uint8_t)(1 << (bit % 8));
			int rc = shim6_wire_decode(buf, (size_t)n, &dec);
			assert_true(rc < 0);
			buf[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		}
	}
}

/* ---- validity rules, one test each ------------------------------------- */

static void test_rule_trunc(void **st)
{
	(void)st;
	int n = sample(SAMPLE_I2);
	assert_int_equal(decode_err(buf, 7), SHIM6_E_TRUNC);
	assert_int_equal(decode_err(buf, (size_t)n - 1), SHIM6_E_TRUNC);
	assert_int_equal(dec.err_offset, 1);
	/* A longer buffer is fine: the message ends where Hdr Ext Len says. */
	assert_int_equal(shim6_wire_decode(buf, sizeof buf, &dec), 0);
	assert_int_equal(dec.len, n);
}

static void test_rule_pbit(void **st)
{
	(void)st;
	int n = sample(SAMPLE_I1);
	buf[2] |= 0x80;
	wire_fix_checksum(buf);
	assert_int_equal(decode_err(buf, (size_t)n), SHIM6_E_PBIT);
}

static void test_rule_hipbit(void **st)
{
	(void)st;
	int n = sample(SAMPLE_I1);
	buf[3] |= 0x01;
	wire_fix_checksum(buf);
	assert_int_equal(decode_err(buf, (size_t)n), SHIM6_E_HIPBIT);
}

static void test_rule_csum(void **st)
{
	(void)st;
	int n = sample(SAMPLE_I1);
	buf[13] ^= 0x40;
	assert_int_equal(decode_err(buf, (size_t)n), SHIM6_E_CSUM);
	assert_int_equal(dec.err_offset, 4);
}

static void test_rule_badtype(void **st)
{
	(void)st;
	static const uint8_t unassigned[] = { 0, 7, 59, 63, 69, 100, 127 };
	for (unsigned i = 0; i < sizeof unassigned; i++) {
		int n = sample(SAMPLE_KEEPALIVE);
		buf[2] = unassigned[i];
		wire_fix_checksum(buf);
		assert_int_equal(decode_err(buf, (size_t)n), SHIM6_E_BADTYPE);
		assert_int_equal(dec.err_offset, 2);
		assert_int_equal(shim6_wire_error_code(SHIM6_E_BADTYPE), SHIM6_ERRCODE_UNKNOWN_TYPE);
	}
}

static void test_rule_hdrlen(void **st)
{
	(void)st;
	/* Every type's minimum: 8-octet messages fail for all, I2 needs 24 and
	 * I2bis 32 octets. */
	static const uint8_t types[] = { 1, 2, 3, 4, 5, 6, 64, 65, 66, 67, 68 };
	uint8_t b[32];
	for (unsigned i = 0; i < sizeof types; i++) {
		memset(b, 0, sizeof b);
		b[0] = 59; b[1] = 0; b[2] = types[i];
		wire_fix_checksum(b);
		assert_int_equal(decode_err(b, 8), SHIM6_E_HDRLEN);
	}
	memset(b, 0, sizeof b);
	b[0] = 59; b[1] = 1; b[2] = SHIM6_TYPE_I2;
	wire_fix_checksum(b);
	assert_int_equal(decode_err(b, 16), SHIM6_E_HDRLEN);
	b[1] = 2; b[2] = SHIM6_TYPE_I2BIS;
	wire_fix_checksum(b);
	assert_int_equal(decode_err(b, 24), SHIM6_E_HDRLEN);
}

static void test_rule_probe_len(void **st)
{
	(void)st;
	int n = sample(SAMPLE_PROBE);
	buf[12] = 3 << 4 | 2;               /* announce 5 reports, carry 3 */
	wire_fix_checksum(buf);
	assert_int_equal(decode_err(buf, (size_t)n), SHIM6_E_PROBE_LEN);
}

static void test_rule_opt_trunc(void **st)
{
	(void)st;
	int n = sample(SAMPLE_R1);          /* validator 20 octets at 16 */
	buf[16 + 2] = 0; buf[16 + 3] = 29;  /* 4 + 29 + 7 = 40 > 24 left */
	wire_fix_checksum(buf);
	assert_int_equal(decode_err(buf, (size_t)n), SHIM6_E_OPT_TRUNC);
	assert_int_equal(dec.err_offset, 16);
}

static void test_rule_opt_crit_unknown(void **st)
{
	(void)st;
	int n = sample(SAMPLE_UNKNOWN_OPT);
	buf[16 + 1] |= 1;                   /* C = 1 on option type 99 */
	wire_fix_checksum(buf);
	assert_int_equal(decode_err(buf, (size_t)n), SHIM6_E_OPT_CRIT_UNKNOWN);
	assert_int_equal(dec.err_offset, 16);
	assert_int_equal(shim6_wire_error_code(SHIM6_E_OPT_CRIT_UNKNOWN), SHIM6_ERRCODE_CRITICAL_OPTION);
}

static void test_rule_opt_len(void **st)
{
	(void)st;
	/* ULID Pair must be 36, FII and Keepalive Timeout 4, Locator
	 * Preferences at least 5 octets. */
	struct { uint16_t type; uint16_t len; } bad[] = {
		{ SHIM6_OPT_ULID_PAIR, 32 }, { SHIM6_OPT_FORKED_INSTANCE, 8 },
		{ SHIM6_OPT_KEEPALIVE_TIMEOUT, 2 }, { SHIM6_OPT_LOCATOR_PREFS, 4 },
	};
	static const uint8_t zeros[64];
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		shim6_wire_msg_init(&msg, SHIM6_TYPE_UPDATE_ACK);
		struct shim6_opt *o = shim6_wire_opt_add(&msg, 200, false);
		o->u.bytes.data = zeros;
		o->u.bytes.len = bad[i].len;
		int n = shim6_wire_encode(&msg, buf, sizeof buf);
		assert_true(n > 0);
		buf[16] = (uint8_t)(bad[i].type >> 7);
		buf[17] = (uint8_t)(bad[i].type << 1);
		wire_fix_checksum(buf);
		assert_int_equal(decode_err(buf, (size_t)n), SHIM6_E_OPT_LEN);
	}
}

static void test_rule_opt_dup(void **st)
{
	(void)st;
	sample(SAMPLE_I1);
	struct shim6_opt *o = shim6_wire_opt_add(&msg, SHIM6_OPT_FORKED_INSTANCE, false);
	o->u.forked_instance_id = 8;
	int n = shim6_wire_encode(&msg, buf, sizeof buf);
	assert_int_equal(decode_err(buf, (size_t)n), SHIM6_E_OPT_DUP);
	/* Unknown non-critical options may repeat. */
	sample(SAMPLE_UNKNOWN_OPT);
	msg.opts[1] = msg.opts[0];
	n = shim6_wire_encode(&msg, buf, sizeof buf);
	assert_round_trip(buf, n);
}

static void test_rule_opt_too_many(void **st)
{
	(void)st;
	shim6_wire_msg_init(&msg, SHIM6_TYPE_UPDATE_ACK);
	for (unsigned i = 0; i < SHIM6_WIRE_MAX_OPTS; i++)
		assert_non_null(shim6_wire_opt_add(&msg, (uint16_t)(300 + i), false));
	assert_null(shim6_wire_opt_add(&msg, 400, false));
	int n = shim6_wire_encode(&msg, buf, sizeof buf);
	assert_round_trip(buf, n);          /* exactly the bound is fine */
	/* Append one more 8-octet option by hand. */
	uint8_t extra[8] = { 0x03, 0x20, 0, 0, 0, 0, 0, 0 };
	memcpy(buf + n, extra, 8);
	buf[1] = (uint8_t)((n + 8) / 8 - 1);
	wire_fix_checksum(buf);
	assert_int_equal(decode_err(buf, (size_t)n + 8), SHIM6_E_OPT_TOO_MANY);
}

static void test_rule_loclist_count(void **st)
{
	(void)st;
	int n = sample(SAMPLE_UNKNOWN_OPT);
	assert_int_equal(shim6_wire_decode(buf, (size_t)n, &dec), 0);
	size_t num = (size_t)(dec.loclist->u.loclist.methods - buf) - 1;
	buf[num] = 2;                       /* claims 2, carries 3 */
	wire_fix_checksum(buf);
	assert_int_equal(decode_err(buf, (size_t)n), SHIM6_E_LOCLIST_COUNT);
	buf[num] = 4;
	wire_fix_checksum(buf);
	assert_int_equal(decode_err(buf, (size_t)n), SHIM6_E_LOCLIST_COUNT);
}

static void test_rule_loclist_method(void **st)
{
	(void)st;
	static const uint8_t bad[] = { 0, 3, 255 };
	for (unsigned i = 0; i < sizeof bad; i++) {
		int n = sample(SAMPLE_UNKNOWN_OPT);
		assert_int_equal(shim6_wire_decode(buf, (size_t)n, &dec), 0);
		size_t m0 = (size_t)(dec.loclist->u.loclist.methods - buf);
		buf[m0 + 2] = bad[i];
		wire_fix_checksum(buf);
		assert_int_equal(decode_err(buf, (size_t)n), SHIM6_E_LOCLIST_METHOD);
		/* The Pointer of an Error code 2 names the method octet itself. */
		assert_int_equal(dec.err_offset, m0 + 2);
	}
}

static void test_rule_locpref_elemlen(void **st)
{
	(void)st;
	/* Only 0 is invalid: it cannot hold the Flags octet every element starts
	 * with.  Longer elements are test_locpref_long_elements. */
	int n = sample(SAMPLE_I2);
	assert_int_equal(shim6_wire_decode(buf, (size_t)n, &dec), 0);
	size_t el = (size_t)(dec.locpref->u.locpref.elems - buf) - 1;
	buf[el] = 0;
	wire_fix_checksum(buf);
	assert_int_equal(decode_err(buf, (size_t)n), SHIM6_E_LOCPREF_ELEMLEN);
	assert_int_equal(dec.err_offset, el - 8);   /* the option's first octet */
}

static void test_rule_locpref_len(void **st)
{
	(void)st;
	int n = sample(SAMPLE_I2);
	assert_int_equal(shim6_wire_decode(buf, (size_t)n, &dec), 0);
	size_t opt = (size_t)(dec.locpref->u.locpref.elems - buf) - 9;
	/* Content 5 + 9 -> 5 + 8 stays in the same padded size (16 octets). */
	assert_int_equal(buf[opt + 3], 14);
	buf[opt + 3] = 13;
	wire_fix_checksum(buf);
	assert_int_equal(decode_err(buf, (size_t)n), SHIM6_E_LOCPREF_LEN);
}

static void test_rule_locpref_count(void **st)
{
	(void)st;
	sample(SAMPLE_I2);
	msg.opts[2].u.locpref.n = 2;        /* same generation as the list of 3 */
	int n = shim6_wire_encode(&msg, buf, sizeof buf);
	assert_int_equal(decode_err(buf, (size_t)n), SHIM6_E_LOCPREF_COUNT);
	assert_int_equal(shim6_wire_error_code(SHIM6_E_LOCPREF_COUNT), SHIM6_ERRCODE_PREF_COUNT);
	/* A different generation refers to an earlier list: not checked here. */
	msg.opts[2].u.locpref.gen = 77;
	n = shim6_wire_encode(&msg, buf, sizeof buf);
	assert_round_trip(buf, n);
}

static void test_rule_missing_validator(void **st)
{
	(void)st;
	static const unsigned with_validator[] = { SAMPLE_R1, SAMPLE_I2, SAMPLE_R1BIS, SAMPLE_I2BIS };
	for (unsigned i = 0; i < 4; i++) {
		sample(with_validator[i]);
		assert_int_equal(msg.opts[0].type, SHIM6_OPT_RESP_VALIDATOR);
		msg.opts[0].type = 250;         /* unknown, non-critical */
		int n = shim6_wire_encode(&msg, buf, sizeof buf);
		assert_int_equal(decode_err(buf, (size_t)n), SHIM6_E_MISSING_VALIDATOR);
	}
}

static void test_rule_cga_sig_orphan(void **st)
{
	(void)st;
	sample(SAMPLE_UPDATE_REQ);
	assert_int_equal(msg.opts[0].type, SHIM6_OPT_LOCATOR_LIST);
	msg.opts[0].type = 250;
	msg.opts[0].u.bytes.data = sample_pds;
	msg.opts[0].u.bytes.len = 8;
	msg.opts[1].u.locpref.gen = 99;     /* keep the count rule out of it */
	int n = shim6_wire_encode(&msg, buf, sizeof buf);
	assert_int_equal(decode_err(buf, (size_t)n), SHIM6_E_CGA_SIG_ORPHAN);
}

static void test_error_offsets_inside(void **st)
{
	(void)st;
	/* Every failure reports an offset inside the message. */
	for (unsigned i = 0; i < SAMPLE__COUNT; i++) {
		int n = sample(i);
		buf[n - 1] ^= 0xff;
		int rc = shim6_wire_decode(buf, (size_t)n, &dec);
		assert_true(rc < 0);
		assert_true(dec.err_offset < n);
	}
}

/* ---- encoder errors ------------------------------------------------------ */

static void test_encode_errors(void **st)
{
	(void)st;
	int n = sample(SAMPLE_I2);
	for (int cap = 0; cap < n; cap += 8)
		assert_int_equal(shim6_wire_encode(&msg, buf, (size_t)cap), SHIM6_E_NOSPACE);
	assert_int_equal(shim6_wire_encode(&msg, buf, (size_t)n), n);
	msg.m.i2.init_ctag = 1ULL << 47;
	assert_int_equal(shim6_wire_encode(&msg, buf, sizeof buf), SHIM6_E_FIELD);
	sample(SAMPLE_I2);
	msg.opts[2].u.locpref.elem_len = 0;
	assert_int_equal(shim6_wire_encode(&msg, buf, sizeof buf), SHIM6_E_FIELD);
	sample(SAMPLE_PROBE);
	msg.m.probe.psent = 16;
	assert_int_equal(shim6_wire_encode(&msg, buf, sizeof buf), SHIM6_E_FIELD);
	shim6_wire_msg_init(&msg, SHIM6_TYPE_ERROR);     /* no invoking packet */
	assert_int_equal(shim6_wire_encode(&msg, buf, sizeof buf), SHIM6_E_INVAL);
	shim6_wire_msg_init(&msg, SHIM6_TYPE_UPDATE_ACK);
	msg.type = 7;
	assert_int_equal(shim6_wire_encode(&msg, buf, sizeof buf), SHIM6_E_INVAL);
	/* Larger than Hdr Ext Len can express. */
	static uint8_t big[1000];
	shim6_wire_msg_init(&msg, SHIM6_TYPE_UPDATE_ACK);
	for (int i = 0; i < 3; i++) {
		struct shim6_opt *o = shim6_wire_opt_add(&msg, SHIM6_OPT_CGA_PDS + (uint16_t)i * 100, false);
		o->u.bytes.data = big;
		o->u.bytes.len = sizeof big;
	}
	static uint8_t huge[4096];
	assert_int_equal(shim6_wire_encode(&msg, huge, sizeof huge), SHIM6_E_NOSPACE);
	assert_int_equal(shim6_wire_encode(NULL, buf, sizeof buf), SHIM6_E_INVAL);
	assert_int_equal(shim6_wire_decode(NULL, 8, &dec), SHIM6_E_INVAL);
}

static void test_largest_message(void **st)
{
	(void)st;
	/* Hdr Ext Len 255: 2048 octets round-trip. */
	static uint8_t pds[2048 - 16 - 4 - 4];
	for (size_t i = 0; i < sizeof pds; i++)
		pds[i] = (uint8_t)i;
	shim6_wire_msg_init(&msg, SHIM6_TYPE_UPDATE_ACK);
	struct shim6_opt *o = shim6_wire_opt_add(&msg, SHIM6_OPT_CGA_PDS, false);
	o->u.bytes.data = pds;
	o->u.bytes.len = sizeof pds;
	int n = shim6_wire_encode(&msg, buf, sizeof buf);
	assert_int_equal(n, 2048);
	assert_int_equal(buf[1], 255);
	assert_round_trip(buf, n);
}

/* ---- payload header, CGA signed data, names -------------------------------- */

static void test_payload_header(void **st)
{
	(void)st;
	uint8_t p[8], nh;
	uint64_t tag;
	assert_int_equal(shim6_wire_payload_encode(6, 0x7fffffffffffULL, p), 8);
	assert_int_equal(p[0], 6);
	assert_int_equal(p[1], 0);
	assert_int_equal(p[2], 0xff);
	assert_true(shim6_wire_is_payload(p));
	assert_int_equal(shim6_wire_payload_decode(p, 8, &nh, &tag), 0);
	assert_int_equal(nh, 6);
	assert_int_equal(tag, 0x7fffffffffffULL);
	assert_int_equal(shim6_wire_payload_encode(17, 0x0102030405ULL, p), 8);
	const uint8_t want[8] = { 17, 0, 0x80, 0x01, 0x02, 0x03, 0x04, 0x05 };
	assert_memory_equal(p, want, 8);
	assert_int_equal(shim6_wire_payload_decode(p, 8, &nh, &tag), 0);
	assert_int_equal(tag, 0x0102030405ULL);
	assert_int_equal(shim6_wire_payload_encode(6, 1ULL << 47, p), SHIM6_E_FIELD);
	assert_int_equal(shim6_wire_payload_decode(p, 7, &nh, &tag), SHIM6_E_TRUNC);
	p[1] = 1;
	assert_int_equal(shim6_wire_payload_decode(p, 8, &nh, &tag), SHIM6_E_PAYLOAD_LEN);
	int n = sample(SAMPLE_I1);
	assert_false(shim6_wire_is_payload(buf));
	assert_int_equal(shim6_wire_payload_decode(buf, (size_t)n, &nh, &tag), SHIM6_E_PBIT);
	/* And a payload header is not a control message. */
	shim6_wire_payload_encode(59, 5, p);
	assert_int_equal(shim6_wire_decode(p, 8, &dec), SHIM6_E_PBIT);
}

static void test_cga_signed_data(void **st)
{
	(void)st;
	int n = sample(SAMPLE_I2);
	assert_int_equal(shim6_wire_decode(buf, (size_t)n, &dec), 0);
	uint8_t out[SHIM6_CGA_SIGNED_MAX];
	int len = shim6_wire_cga_signed_data(&dec.loclist->u.loclist, out, sizeof out);
	/* Tag, generation 1, and the two locators marked CGA (not the HBA one). */
	assert_int_equal(len, 16 + 4 + 32);
	const uint8_t tag[16] = { 0x4a, 0x30, 0x56, 0x62, 0x48, 0x58, 0x57, 0x4b,
	                          0x36, 0x55, 0x41, 0x6f, 0x50, 0x6a, 0x6d, 0x48 };
	assert_memory_equal(out, tag, 16);
	const uint8_t gen[4] = { 0, 0, 0, 1 };
	assert_memory_equal(out + 16, gen, 4);
	assert_memory_equal(out + 20, sample_locators[0], 16);
	assert_memory_equal(out + 36, sample_locators[1], 16);
	assert_int_equal(shim6_wire_cga_signed_data(&dec.loclist->u.loclist, out, 51), SHIM6_E_NOSPACE);
	uint8_t body[SHIM6_CGA_SIGNED_MAX];
	assert_int_equal(shim6_wire_cga_sig_body(&dec.loclist->u.loclist, body, sizeof body), 4 + 32);
	assert_memory_equal(body, out + 16, 36);
	assert_int_equal(shim6_wire_cga_sig_body(&dec.loclist->u.loclist, body, 35), SHIM6_E_NOSPACE);
	/* A list with no CGA locator signs just the generation. */
	struct shim6_opt_loclist hba = dec.loclist->u.loclist;
	static const uint8_t all_hba[3] = { 1, 1, 1 };
	hba.methods = all_hba;
	assert_int_equal(shim6_wire_cga_signed_data(&hba, out, sizeof out), 20);
}

static void test_names(void **st)
{
	(void)st;
	assert_string_equal(shim6_wire_type_name(SHIM6_TYPE_I2BIS), "I2bis");
	assert_string_equal(shim6_wire_type_name(68), "Error");
	assert_string_equal(shim6_wire_type_name(7), "Unknown");
	assert_string_equal(shim6_wire_opt_name(SHIM6_OPT_KEEPALIVE_TIMEOUT), "Keepalive Timeout");
	for (int e = -1; e > -SHIM6_E__COUNT; e--)
		assert_string_not_equal(shim6_wire_strerror(e), "unknown error");
	assert_string_equal(shim6_wire_strerror(-SHIM6_E__COUNT), "unknown error");
	assert_string_equal(shim6_wire_strerror(5), "unknown error");
	assert_int_equal(shim6_wire_error_code(SHIM6_E_CSUM), -1);
}

/* ---- bounds at the edges ------------------------------------------------ */

static void test_rule_trunc_offset_of_short_buffer(void **st)
{
	(void)st;
	sample(SAMPLE_I1);
	/* Fewer than 8 octets: not even Hdr Ext Len can be trusted. */
	assert_int_equal(decode_err(buf, 7), SHIM6_E_TRUNC);
	assert_int_equal(dec.err_offset, 0);
}

static void test_rule_probe_len_exact(void **st)
{
	(void)st;
	/* One sent report needs Hdr Ext Len 1 + 5 = 6 (56 octets); 5 is short. */
	uint8_t b[56];
	memset(b, 0, sizeof b);
	b[0] = 59; b[1] = 6; b[2] = SHIM6_TYPE_PROBE; b[12] = 0x01;
	wire_fix_checksum(b);
	assert_int_equal(shim6_wire_decode(b, sizeof b, &dec), 0);
	assert_int_equal(dec.m.probe.psent, 1);
	b[1] = 5;
	wire_fix_checksum(b);
	assert_int_equal(decode_err(b, 48), SHIM6_E_PROBE_LEN);
	assert_int_equal(dec.err_offset, 12);
}

static void test_error_minimum_length(void **st)
{
	(void)st;
	/* An Error of 16 octets (Hdr Ext Len 1) carries 8 octets of invoking packet. */
	uint8_t b[16];
	memset(b, 0, sizeof b);
	b[0] = 59; b[1] = 1; b[2] = SHIM6_TYPE_ERROR; b[8] = 0x60;
	wire_fix_checksum(b);
	assert_int_equal(shim6_wire_decode(b, sizeof b, &dec), 0);
	assert_int_equal(dec.m.error.invoking_len, 8);
	assert_int_equal(dec.m.error.invoking[0], 0x60);
}

static void test_known_opaque_options_with_c_bit(void **st)
{
	(void)st;
	/* Responder Validator, CGA PDS and Signature are known: C = 1 does not
	 * make them "unknown critical". */
	int n = sample(SAMPLE_R1);
	msg.opts[0].critical = true;
	n = shim6_wire_encode(&msg, buf, sizeof buf);
	assert_round_trip(buf, n);
	assert_non_null(dec.validator);
	assert_true(dec.validator->critical);
	shim6_wire_msg_init(&msg, SHIM6_TYPE_UPDATE_ACK);
	struct shim6_opt *o = shim6_wire_opt_add(&msg, SHIM6_OPT_CGA_PDS, true);
	o->u.bytes.data = sample_pds;
	o->u.bytes.len = 40;
	n = shim6_wire_encode(&msg, buf, sizeof buf);
	assert_round_trip(buf, n);
	assert_true(dec.cga_pds->critical);
}

static void test_rule_opt_len_too_long(void **st)
{
	(void)st;
	/* ULID Pair is exactly 36 and Keepalive Timeout exactly 4: longer
	 * contents are malformed, not truncated to the known fields. */
	struct { uint16_t type; uint16_t len; } bad[] = {
		{ SHIM6_OPT_ULID_PAIR, 40 }, { SHIM6_OPT_KEEPALIVE_TIMEOUT, 8 },
	};
	static const uint8_t zeros[64];
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		shim6_wire_msg_init(&msg, SHIM6_TYPE_UPDATE_ACK);
		struct shim6_opt *o = shim6_wire_opt_add(&msg, 200, false);
		o->u.bytes.data = zeros;
		o->u.bytes.len = bad[i].len;
		int n = shim6_wire_encode(&msg, buf, sizeof buf);
		assert_true(n > 0);
		buf[16] = (uint8_t)(bad[i].type >> 7);
		buf[17] = (uint8_t)(bad[i].type << 1);
		wire_fix_checksum(buf);
		assert_int_equal(decode_err(buf, (size_t)n), SHIM6_E_OPT_LEN);
	}
}

static struct shim6_opt *one_opt(uint16_t type)
{
	shim6_wire_msg_init(&msg, SHIM6_TYPE_UPDATE_ACK);
	return shim6_wire_opt_add(&msg, type, false);
}

static void test_opt_encode_guards(void **st)
{
	(void)st;
	static const uint8_t one[16];
	struct shim6_opt *o;

	/* Content longer than the 16-bit length field. */
	o = one_opt(SHIM6_OPT_LOCATOR_PREFS);
	o->u.locpref.elem_len = 19;
	o->u.locpref.n = 3449;             /* 5 + 19 * 3449 = 65536 */
	assert_int_equal(shim6_wire_opt_size(o), 0);
	/* The type has 15 bits. */
	o = one_opt(0x8000);
	assert_int_equal(shim6_wire_encode(&msg, buf, sizeof buf), SHIM6_E_FIELD);
	/* Room for the option's content but not for its padding. */
	o = one_opt(200);
	o->u.bytes.data = one;
	o->u.bytes.len = 1;
	assert_int_equal(shim6_wire_encode(&msg, buf, 16 + 7), SHIM6_E_NOSPACE);
	assert_int_equal(shim6_wire_encode(&msg, buf, 16 + 8), 24);
	/* Announced contents without the data behind them. */
	o->u.bytes.data = NULL;
	assert_int_equal(shim6_wire_encode(&msg, buf, sizeof buf), SHIM6_E_INVAL);
	o = one_opt(SHIM6_OPT_LOCATOR_LIST);
	o->u.loclist.n = 1;
	o->u.loclist.locators = one;
	assert_int_equal(shim6_wire_encode(&msg, buf, sizeof buf), SHIM6_E_INVAL);
	o = one_opt(SHIM6_OPT_LOCATOR_PREFS);
	o->u.locpref.elem_len = 1;
	o->u.locpref.n = 1;
	assert_int_equal(shim6_wire_encode(&msg, buf, sizeof buf), SHIM6_E_INVAL);
	o = one_opt(SHIM6_OPT_ULID_PAIR);
	o->u.ulid.sender = one;
	assert_int_equal(shim6_wire_encode(&msg, buf, sizeof buf), SHIM6_E_INVAL);
}

static void test_encode_field_ranges(void **st)
{
	(void)st;
	/* Each field wider than the wire allows is refused, not truncated. */
	shim6_wire_msg_init(&msg, SHIM6_TYPE_UPDATE_ACK);
	msg.n_opts = SHIM6_WIRE_MAX_OPTS + 1;
	assert_int_equal(shim6_wire_encode(&msg, buf, sizeof buf), SHIM6_E_INVAL);
	shim6_wire_msg_init(&msg, SHIM6_TYPE_UPDATE_ACK);
	msg.type = 0x80 | SHIM6_TYPE_I1;
	assert_int_equal(shim6_wire_encode(&msg, buf, sizeof buf), SHIM6_E_FIELD);
	shim6_wire_msg_init(&msg, SHIM6_TYPE_UPDATE_ACK);
	msg.type_specific = 0x80;
	assert_int_equal(shim6_wire_encode(&msg, buf, sizeof buf), SHIM6_E_FIELD);
	msg.type_specific = 0;
	msg.m.update.rcv_ctag = 1ULL << 47;
	assert_int_equal(shim6_wire_encode(&msg, buf, sizeof buf), SHIM6_E_FIELD);
	shim6_wire_msg_init(&msg, SHIM6_TYPE_KEEPALIVE);
	msg.m.ka.rcv_ctag = 1ULL << 47;
	assert_int_equal(shim6_wire_encode(&msg, buf, sizeof buf), SHIM6_E_FIELD);
	shim6_wire_msg_init(&msg, SHIM6_TYPE_R1BIS);
	msg.m.r1bis.pkt_ctag = 1ULL << 47;
	assert_int_equal(shim6_wire_encode(&msg, buf, sizeof buf), SHIM6_E_FIELD);
	shim6_wire_msg_init(&msg, SHIM6_TYPE_I2BIS);
	msg.m.i2bis.init_ctag = 1ULL << 47;
	assert_int_equal(shim6_wire_encode(&msg, buf, sizeof buf), SHIM6_E_FIELD);
	shim6_wire_msg_init(&msg, SHIM6_TYPE_I2BIS);
	msg.m.i2bis.pkt_ctag = 1ULL << 47;
	assert_int_equal(shim6_wire_encode(&msg, buf, sizeof buf), SHIM6_E_FIELD);
	shim6_wire_msg_init(&msg, SHIM6_TYPE_I2BIS);
	msg.m.i2bis.reserved2 = 1ULL << 49;
	assert_int_equal(shim6_wire_encode(&msg, buf, sizeof buf), SHIM6_E_FIELD);
	shim6_wire_msg_init(&msg, SHIM6_TYPE_PROBE);
	msg.m.probe.state = 4;
	assert_int_equal(shim6_wire_encode(&msg, buf, sizeof buf), SHIM6_E_FIELD);
	shim6_wire_msg_init(&msg, SHIM6_TYPE_PROBE);
	msg.m.probe.reserved2 = 1u << 22;
	assert_int_equal(shim6_wire_encode(&msg, buf, sizeof buf), SHIM6_E_FIELD);
	/* Reports announced without their data. */
	shim6_wire_msg_init(&msg, SHIM6_TYPE_PROBE);
	msg.m.probe.psent = 1;
	assert_int_equal(shim6_wire_encode(&msg, buf, sizeof buf), SHIM6_E_INVAL);
	/* An Error carries the invoking packet, never options, and not nothing. */
	static const uint8_t inv[8] = { 0x60 };
	shim6_wire_msg_init(&msg, SHIM6_TYPE_ERROR);
	msg.m.error.invoking = inv;
	assert_int_equal(shim6_wire_encode(&msg, buf, sizeof buf), SHIM6_E_INVAL);
	msg.m.error.invoking_len = 8;
	struct shim6_opt *o = shim6_wire_opt_add(&msg, SHIM6_OPT_FORKED_INSTANCE, false);
	assert_non_null(o);
	assert_int_equal(shim6_wire_encode(&msg, buf, sizeof buf), SHIM6_E_INVAL);
	msg.n_opts = 0;
	assert_int_equal(shim6_wire_encode(&msg, buf, sizeof buf), 16);
}

static void test_encode_checksum_ffff_only_when_equivalent(void **st)
{
	(void)st;
	/* A decoded 0xffff is kept only where it is the same checksum as
	 * 0x0000; otherwise the computed checksum is written. */
	int n = sample(SAMPLE_I2);
	assert_int_equal(shim6_wire_decode(buf, (size_t)n, &dec), 0);
	assert_true(dec.checksum != 0 && dec.checksum != 0xffff);
	dec.checksum = 0xffff;
	assert_int_equal(shim6_wire_encode(&dec, buf2, sizeof buf2), n);
	assert_memory_equal(buf, buf2, (size_t)n);
}

static void test_error_padding_zeroed(void **st)
{
	(void)st;
	/* The invoking packet is padded to 8 octets with zeros, whatever the
	 * output buffer held before. */
	static const uint8_t inv[5] = { 0x60, 1, 2, 3, 4 };
	shim6_wire_msg_init(&msg, SHIM6_TYPE_ERROR);
	msg.m.error.invoking = inv;
	msg.m.error.invoking_len = sizeof inv;
	memset(buf, 0xaa, 32);
	assert_int_equal(shim6_wire_encode(&msg, buf, sizeof buf), 16);
	assert_memory_equal(buf + 8, inv, 5);
	assert_memory_equal(buf + 13, "\0\0\0", 3);
	assert_int_equal(shim6_wire_decode(buf, 16, &dec), 0);
}

static void test_cga_signed_data_exact_room(void **st)
{
	(void)st;
	int n = sample(SAMPLE_I2);
	assert_int_equal(shim6_wire_decode(buf, (size_t)n, &dec), 0);
	uint8_t out[SHIM6_CGA_SIGNED_MAX];
	/* Room for the tag, the generation and the two CGA locators only: the
	 * HBA locator takes no room. */
	assert_int_equal(shim6_wire_cga_signed_data(&dec.loclist->u.loclist, out, 52), 52);
	/* Less than the tag itself. */
	assert_int_equal(shim6_wire_cga_signed_data(&dec.loclist->u.loclist, out, 15), SHIM6_E_NOSPACE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_all_samples),
		cmocka_unit_test(test_i1_fields),
		cmocka_unit_test(test_i2_options),
		cmocka_unit_test(test_locpref_short_elements),
		cmocka_unit_test(test_locpref_long_elements),
		cmocka_unit_test(test_i2bis_fields),
		cmocka_unit_test(test_other_fixed_fields),
		cmocka_unit_test(test_reserved_bits_preserved),
		cmocka_unit_test(test_probe_reports),
		cmocka_unit_test(test_error_message),
		cmocka_unit_test(test_unknown_noncritical_kept),
		cmocka_unit_test(test_known_option_with_c_bit),
		cmocka_unit_test(test_checksum_alternative_ffff),
		cmocka_unit_test(test_checksum_rfc1071),
		cmocka_unit_test(test_checksum_matches_reference),
		cmocka_unit_test(test_checksum_every_sample),
		cmocka_unit_test(test_rule_trunc),
		cmocka_unit_test(test_rule_pbit),
		cmocka_unit_test(test_rule_hipbit),
		cmocka_unit_test(test_rule_csum),
		cmocka_unit_test(test_rule_badtype),
		cmocka_unit_test(test_rule_hdrlen),
		cmocka_unit_test(test_rule_probe_len),
		cmocka_unit_test(test_rule_opt_trunc),
		cmocka_unit_test(test_rule_opt_crit_unknown),
		cmocka_unit_test(test_rule_opt_len),
		cmocka_unit_test(test_rule_opt_dup),
		cmocka_unit_test(test_rule_opt_too_many),
		cmocka_unit_test(test_rule_loclist_count),
		cmocka_unit_test(test_rule_loclist_method),
		cmocka_unit_test(test_rule_locpref_elemlen),
		cmocka_unit_test(test_rule_locpref_len),
		cmocka_unit_test(test_rule_locpref_count),
		cmocka_unit_test(test_rule_missing_validator),
		cmocka_unit_test(test_rule_cga_sig_orphan),
		cmocka_unit_test(test_error_offsets_inside),
		cmocka_unit_test(test_encode_errors),
		cmocka_unit_test(test_largest_message),
		cmocka_unit_test(test_payload_header),
		cmocka_unit_test(test_cga_signed_data),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_rule_trunc_offset_of_short_buffer),
		cmocka_unit_test(test_rule_probe_len_exact),
		cmocka_unit_test(test_error_minimum_length),
		cmocka_unit_test(test_known_opaque_options_with_c_bit),
		cmocka_unit_test(test_rule_opt_len_too_long),
		cmocka_unit_test(test_opt_encode_guards),
		cmocka_unit_test(test_encode_field_ranges),
		cmocka_unit_test(test_encode_checksum_ffff_only_when_equivalent),
		cmocka_unit_test(test_error_padding_zeroed),
		cmocka_unit_test(test_cga_signed_data_exact_room),
	};
	return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
