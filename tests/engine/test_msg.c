/* msg.c: the engine's builder and decoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "../../shim6/engine/internal.h"

static size_t build_i2(uint8_t *buf, size_t cap)
{
	struct mb m;
	mb_init(&m, buf, cap, MT_I2);
	mb_tag(&m, 0xffffffffffffULL);   /* 48 bits in: the R bit must stay 0 */
	mb_u32(&m, 0x01020304);
	mb_u32(&m, 0x05060708);
	mb_zero(&m, 4);
	size_t o = mb_opt_begin(&m, OPT_VALIDATOR, false);
	mb_bytes(&m, "0123456789abcdef", 16);
	mb_opt_end(&m, o);
	o = mb_opt_begin(&m, OPT_FII, false);
	mb_u32(&m, 77);
	mb_opt_end(&m, o);
	o = mb_opt_begin(&m, OPT_PDS, false);
	mb_bytes(&m, "abcde", 5);        /* 4 + 5 -> padded to 16 */
	mb_opt_end(&m, o);
	return mb_finish(&m);
}

static void test_roundtrip(void **st)
{
	(void)st;
	uint8_t buf[256];
	size_t n = build_i2(buf, sizeof(buf));
	assert_int_equal(n % 8, 0);
	assert_int_equal(buf[1], n / 8 - 1);
	assert_int_equal(buf[0], 59);
	assert_int_equal(buf[2], MT_I2);           /* P = 0 */
	assert_int_equal(msg_cksum(buf, n), 0);
	struct dmsg d;
	assert_int_equal(msg_decode(buf, n, &d), 0);
	assert_int_equal(d.type, MT_I2);
	assert_int_equal(get_tag(buf + 6), TAG_MASK);
	assert_int_equal(buf[6] & 0x80, 0);   /* R bit clear */
	assert_int_equal(get_u32(buf + 12), 0x01020304);
	assert_non_null(d.opt[OPT_VALIDATOR].p);
	assert_int_equal(d.opt[OPT_VALIDATOR].len, 16);
	assert_int_equal(d.opt[OPT_FII].len, 4);
	assert_int_equal(get_u32(d.opt[OPT_FII].p), 77);
	assert_int_equal(d.opt[OPT_PDS].len, 5);
	assert_int_equal(d.opt[OPT_PDS].tlv_len, 16);
	assert_int_equal(d.crit_unknown, -1);
}

static void test_checksum_and_length(void **st)
{
	(void)st;
	uint8_t buf[256];
	size_t n = build_i2(buf, sizeof(buf));
	struct dmsg d;
	for (size_t i = 0; i < n; i++) {      /* any flipped bit breaks the checksum */
		buf[i] ^= 0x10;
		assert_int_equal(msg_decode(buf, n, &d), SHIM6_ENG_EMALFORMED);
		buf[i] ^= 0x10;
	}
	for (size_t k = 0; k < n; k++)        /* every truncation is refused */
		assert_int_equal(msg_decode(buf, k, &d), SHIM6_ENG_EMALFORMED);
	assert_int_equal(msg_decode(buf, n + 5, &d), 0);   /* trailing bytes ignored */
	assert_int_equal(d.len, n);
	buf[2] |= 0x80;                        /* P = 1: payload header, not control */
	assert_int_equal(msg_decode(buf, n, &d), SHIM6_ENG_EMALFORMED);
}

static void test_unknown_options(void **st)
{
	(void)st;
	uint8_t buf[128];
	struct mb m;
	mb_init(&m, buf, sizeof(buf), MT_I1);
	mb_tag(&m, 1);
	mb_u32(&m, 2);
	size_t o = mb_opt_begin(&m, 300, false);   /* unknown, C=0: skipped */
	mb_u16(&m, 1);
	mb_opt_end(&m, o);
	size_t crit_at = m.len;
	o = mb_opt_begin(&m, 301, true);           /* unknown, C=1 */
	mb_opt_end(&m, o);
	size_t n = mb_finish(&m);
	struct dmsg d;
	assert_int_equal(msg_decode(buf, n, &d), 0);
	assert_int_equal(d.crit_unknown, (int)crit_at);
	/* an option running past the message is malformed */
	buf[crit_at + 3] = 200;
	buf[4] = buf[5] = 0;
	uint16_t ck = msg_cksum(buf, n);
	buf[4] = (uint8_t)(ck >> 8);
	buf[5] = (uint8_t)ck;
	assert_int_equal(msg_decode(buf, n, &d), SHIM6_ENG_EMALFORMED);
}

static void test_unknown_type_and_overflow(void **st)
{
	(void)st;
	uint8_t buf[64];
	struct mb m;
	mb_init(&m, buf, sizeof(buf), 99);
	mb_zero(&m, 10);
	size_t n = mb_finish(&m);
	struct dmsg d;
	assert_int_equal(msg_decode(buf, n, &d), SHIM6_ENG_EMALFORMED);
	/* a builder that runs out of room reports it instead of overflowing */
	mb_init(&m, buf, 16, MT_I1);
	mb_zero(&m, 40);
	assert_true(m.err);
	assert_int_equal(mb_finish(&m), 0);
}

static void test_probe_length(void **st)
{
	(void)st;
	uint8_t buf[256];
	struct mb m;
	mb_init(&m, buf, sizeof(buf), MT_PROBE);
	mb_tag(&m, 9);
	mb_u8(&m, 0x21);       /* Precvd 2, Psent 1: needs 3 reports */
	mb_u8(&m, 1 << 6);
	mb_u16(&m, 0);
	mb_zero(&m, 80);       /* only 2 */
	size_t n = mb_finish(&m);
	struct dmsg d;
	assert_int_equal(msg_decode(buf, n, &d), SHIM6_ENG_EMALFORMED);
	mb_init(&m, buf, sizeof(buf), MT_PROBE);
	mb_tag(&m, 9);
	mb_u8(&m, 0x21);
	mb_u8(&m, 1 << 6);
	mb_u16(&m, 0);
	mb_zero(&m, 120);
	n = mb_finish(&m);
	assert_int_equal(msg_decode(buf, n, &d), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_checksum_and_length),
		cmocka_unit_test(test_unknown_options),
		cmocka_unit_test(test_unknown_type_and_overflow),
		cmocka_unit_test(test_probe_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
