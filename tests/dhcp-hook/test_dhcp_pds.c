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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roundtrip),
		cmocka_unit_test(rejects),
		cmocka_unit_test(hex),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
