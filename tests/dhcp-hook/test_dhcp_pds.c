/* PDS codec and hex: round trips, and every malformed shape is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include "testkeys.h"

static size_t rfc_pds(uint8_t *buf, size_t cap, int hba)
{
	struct pdh_pds p = {0};
	ssize_t n;

	memcpy(p.modifier, rfc3972_modifier, 16);
	p.prefix[0] = 0xfe;
	p.prefix[1] = 0x80;
	p.key = rfc3972_key;
	p.key_len = sizeof(rfc3972_key);
	if (hba) {
		p.has_multi_prefix = 1;
		p.p_flag = 1;
		p.n_prefixes = 2;
		memcpy(p.prefixes[0], p.prefix, 8);
		p.prefixes[1][0] = 0x20;
	}
	n = pdh_pds_encode(buf, cap, &p);
	assert_true(n > 0);
	return (size_t)n;
}

static void roundtrip(void **state)
{
	uint8_t buf[PDH_PDS_MAX], again[PDH_PDS_MAX];
	struct pdh_pds p;

	for (int hba = 0; hba <= 1; hba++) {
		size_t n = rfc_pds(buf, sizeof(buf), hba);
		assert_int_equal(n, 25 + 94 + (hba ? 8 + 16 : 0));
		assert_int_equal(pdh_pds_parse(&p, buf, n), PDH_OK);
		assert_memory_equal(p.modifier, rfc3972_modifier, 16);
		assert_int_equal(p.key_len, 94);
		assert_ptr_equal(p.key, buf + 25);
		assert_int_equal(p.has_multi_prefix, hba);
		assert_int_equal(p.n_prefixes, hba ? 2 : 0);
		assert_int_equal(pdh_pds_encode(again, sizeof(again), &p), (ssize_t)n);
		assert_memory_equal(buf, again, n);
	}
	/* The Multi-Prefix Extension on the wire: type 0x0012, length 4 + 8n, P bit. */
	size_t n = rfc_pds(buf, sizeof(buf), 1);
	assert_int_equal(buf[119], 0x00);
	assert_int_equal(buf[120], 0x12);
	assert_int_equal(buf[122], 20);
	assert_int_equal(buf[123], 0x80);
	(void)n;
}

static void rejects(void **state)
{
	uint8_t buf[PDH_PDS_MAX], m[PDH_PDS_MAX];
	struct pdh_pds p;
	size_t n = rfc_pds(buf, sizeof(buf), 1);

	/* Every truncation fails (the only valid cut is the bare CGA one). */
	for (size_t cut = 0; cut < n; cut++)
		if (cut != 25 + 94)
			assert_int_not_equal(pdh_pds_parse(&p, buf, cut), PDH_OK);
	memcpy(m, buf, n);
	m[24] = 3; /* collision count > 2 */
	assert_int_equal(pdh_pds_parse(&p, m, n), PDH_EINVAL);
	memcpy(m, buf, n);
	m[25] = 0x31; /* key is not a SEQUENCE */
	assert_int_equal(pdh_pds_parse(&p, m, n), PDH_EINVAL);
	memcpy(m, buf, n);
	m[26] = 0x7f; /* key length past the end */
	assert_int_equal(pdh_pds_parse(&p, m, n), PDH_EINVAL);
	memcpy(m, buf, n);
	m[120] = 0x13; /* unknown extension */
	assert_int_equal(pdh_pds_parse(&p, m, n), PDH_EINVAL);
	memcpy(m, buf, n);
	m[124] = 1; /* reserved bits */
	assert_int_equal(pdh_pds_parse(&p, m, n), PDH_EINVAL);
	memcpy(m, buf, n);
	m[122] = 21; /* length not 4 + 8n */
	assert_int_equal(pdh_pds_parse(&p, m, n), PDH_EINVAL);
	/* Two Multi-Prefix Extensions. */
	memcpy(m, buf, n);
	memcpy(m + n, buf + 119, n - 119);
	assert_int_equal(pdh_pds_parse(&p, m, n + (n - 119)), PDH_EINVAL);
	/* Encode refuses a collision count over 2 and a too-small buffer. */
	assert_int_equal(pdh_pds_parse(&p, buf, n), PDH_OK);
	assert_int_equal(pdh_pds_encode(m, n - 1, &p), PDH_ENOSPC);
	p.collision_count = 3;
	assert_int_equal(pdh_pds_encode(m, sizeof(m), &p), PDH_EINVAL);
}

static void hex(void **state)
{
	const uint8_t in[4] = {0x00, 0xab, 0x7f, 0xff};
	char out[9];
	uint8_t back[4];

	assert_int_equal(pdh_hex_encode(out, sizeof(out), in, 4), PDH_OK);
	assert_string_equal(out, "00ab7fff");
	assert_int_equal(pdh_hex_encode(out, 8, in, 4), PDH_ENOSPC);
	assert_int_equal(pdh_hex_decode(back, 4, "00AB7fff", 8), 4);
	assert_memory_equal(back, in, 4);
	assert_int_equal(pdh_hex_decode(back, 4, "00ab7ff", 7), PDH_EINVAL);
	assert_int_equal(pdh_hex_decode(back, 4, "00ab7fgf", 8), PDH_EINVAL);
	assert_int_equal(pdh_hex_decode(back, 3, "00ab7fff", 8), PDH_ENOSPC);
}

/* A PDS with `ext` (its 4-octet header and data) in place of the
 * Multi-Prefix Extension of rfc_pds(). */
static size_t with_ext(uint8_t *m, const uint8_t *ext, size_t el)
{
	size_t n = rfc_pds(m, PDH_PDS_MAX, 0);
	memcpy(m + n, ext, el);
	return n + el;
}

/* Shapes of the Multi-Prefix Extension RFC 5535 §4 does not allow: no
 * prefix, a length that is not 4 + 8n, more prefixes than the table holds,
 * reserved bits set in the first or last reserved octet. */
static void multi_prefix_shapes(void **state)
{
	uint8_t m[PDH_PDS_MAX], ext[4 + 4 + 8 * (PDH_MAX_PREFIXES + 1)] = {0x00, 0x12};
	struct pdh_pds p;

	ext[3] = 4;                                     /* no prefix */
	assert_int_equal(pdh_pds_parse(&p, m, with_ext(m, ext, 8)), PDH_EINVAL);
	ext[3] = 13;                                    /* 4 + 9 */
	assert_int_equal(pdh_pds_parse(&p, m, with_ext(m, ext, 4 + 13)), PDH_EINVAL);
	ext[3] = 4 + 8 * PDH_MAX_PREFIXES;              /* the most there may be */
	assert_int_equal(pdh_pds_parse(&p, m, with_ext(m, ext, 8 + 8 * PDH_MAX_PREFIXES)), PDH_OK);
	assert_int_equal(p.n_prefixes, PDH_MAX_PREFIXES);
	ext[3] = 4 + 8 * (PDH_MAX_PREFIXES + 1);        /* one more */
	assert_int_equal(pdh_pds_parse(&p, m, with_ext(m, ext, sizeof(ext))), PDH_EINVAL);
	ext[3] = 12;
	ext[4] = 0x81;                                  /* P and a reserved bit */
	assert_int_equal(pdh_pds_parse(&p, m, with_ext(m, ext, 16)), PDH_EINVAL);
	ext[4] = 0x80;
	ext[7] = 1;
	assert_int_equal(pdh_pds_parse(&p, m, with_ext(m, ext, 16)), PDH_EINVAL);
	ext[7] = 0;
	assert_int_equal(pdh_pds_parse(&p, m, with_ext(m, ext, 16)), PDH_OK);
	assert_int_equal(p.p_flag, 1);
}

/* DER lengths must be minimal (0x81 only for 128..255, 0x82 only from 256),
 * and the key may take at most PDH_KEY_MAX octets, header included. */
static void key_der_lengths(void **state)
{
	uint8_t m[PDH_PDS_MAX + 8] = {0};
	struct pdh_pds p;

	m[25] = 0x30, m[26] = 0x81, m[27] = 0x05;       /* 5 in the long form */
	assert_int_equal(pdh_pds_parse(&p, m, 25 + 3 + 5), PDH_EINVAL);
	m[26] = 0x82, m[27] = 0x00, m[28] = 0x05;       /* 5 in two octets */
	assert_int_equal(pdh_pds_parse(&p, m, 25 + 4 + 5), PDH_EINVAL);
	m[27] = (PDH_KEY_MAX - 4) >> 8, m[28] = (PDH_KEY_MAX - 4) & 0xff;
	assert_int_equal(pdh_pds_parse(&p, m, 25 + PDH_KEY_MAX), PDH_OK);
	assert_int_equal(p.key_len, PDH_KEY_MAX);
	m[27] = (PDH_KEY_MAX - 3) >> 8, m[28] = (PDH_KEY_MAX - 3) & 0xff;
	assert_int_equal(pdh_pds_parse(&p, m, 25 + PDH_KEY_MAX + 1), PDH_EINVAL);
}

/* The encoder refuses what the parser would: too many prefixes, the
 * extension with none, or no key. */
static void encode_refuses_bad_prefix_counts(void **state)
{
	uint8_t buf[PDH_PDS_MAX], m[PDH_PDS_MAX];
	struct pdh_pds p;

	assert_int_equal(pdh_pds_parse(&p, buf, rfc_pds(buf, sizeof(buf), 1)), PDH_OK);
	p.n_prefixes = PDH_MAX_PREFIXES + 1;
	assert_int_equal(pdh_pds_encode(m, sizeof(m), &p), PDH_EINVAL);
	p.n_prefixes = 0;
	assert_int_equal(pdh_pds_encode(m, sizeof(m), &p), PDH_EINVAL);
	p.n_prefixes = 2;
	p.key_len = 0;                                  /* no key */
	assert_int_equal(pdh_pds_encode(m, sizeof(m), &p), PDH_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roundtrip),
		cmocka_unit_test(rejects),
		cmocka_unit_test(multi_prefix_shapes),
		cmocka_unit_test(key_der_lengths),
		cmocka_unit_test(encode_refuses_bad_prefix_counts),
		cmocka_unit_test(hex),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
