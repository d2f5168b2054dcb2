#include <string.h>

#include "samples.h"

const uint8_t sample_locators[3][16] = {
	{ 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 },
	{ 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 },
	{ 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 },
};
const uint8_t sample_methods[3] = { SHIM6_WIRE_VERIF_CGA, SHIM6_WIRE_VERIF_CGA, SHIM6_WIRE_VERIF_HBA };
const uint8_t sample_ulid_a[16] = { 0xfd, 0x00, 0, 0, 0, 0, 0, 0x01, 0x3c, 0x4a, 0x5b, 0xf6, 0xff, 0xb4, 0xca, 0x6c };
const uint8_t sample_ulid_b[16] = { 0xfd, 0x00, 0, 0, 0, 0, 0, 0x02, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0 };
uint8_t sample_pds[200], sample_sig[256], sample_validator[20];
static uint8_t prefs3[3 * 3], prefs2[3 * 2], prefs1[3];
static uint8_t reports[3][SHIM6_PROBE_REPORT_LEN];
static uint8_t invoking[44];
static const uint8_t unknown_body[5] = { 1, 2, 3, 4, 5 };

static void fill(void)
{
	for (size_t i = 0; i < sizeof sample_pds; i++)
		sample_pds[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < sizeof sample_sig; i++)
		sample_sig[i] = (uint8_t)(i * 13 + 5);
	for (size_t i = 0; i < sizeof sample_validator; i++)
		sample_validator[i] = (uint8_t)(0xa0 + i);
	struct shim6_locpref_elem e[3] = {
		{ 0, 10, 50 }, { SHIM6_WIRE_LOCF_TEMPORARY, 10, 50 }, { SHIM6_WIRE_LOCF_BROKEN, 20, 0 },
	};
	shim6_wire_locpref_pack(e, 3, 3, prefs3);
	shim6_wire_locpref_pack(e, 3, 2, prefs2);
	shim6_wire_locpref_pack(e, 3, 1, prefs1);
	for (unsigned i = 0; i < 3; i++) {
		struct shim6_probe_report r = { .nonce = 0x1000 + i, .data = 0xd0 + i };
		memcpy(r.src, sample_locators[i], 16);
		memcpy(r.dst, sample_locators[(i + 1) % 3], 16);
		shim6_wire_probe_report_pack(&r, reports[i]);
	}
	memset(invoking, 0, sizeof invoking);
	invoking[0] = 59; invoking[1] = 1; invoking[2] = 1;   /* start of an I1 */
	for (size_t i = 3; i < sizeof invoking; i++)
		invoking[i] = (uint8_t)i;
}

static void add_bytes(struct shim6_msg *m, uint16_t type, const uint8_t *d, uint16_t len)
{
	struct shim6_opt *o = shim6_wire_opt_add(m, type, false);
	o->u.bytes.data = d;
	o->u.bytes.len = len;
}

static void add_loclist(struct shim6_msg *m, uint32_t gen)
{
	struct shim6_opt *o = shim6_wire_opt_add(m, SHIM6_OPT_LOCATOR_LIST, false);
	o->u.loclist.gen = gen;
	o->u.loclist.n = 3;
	o->u.loclist.methods = sample_methods;
	o->u.loclist.locators = &sample_locators[0][0];
}

static void add_locpref(struct shim6_msg *m, uint32_t gen, uint8_t elem_len)
{
	struct shim6_opt *o = shim6_wire_opt_add(m, SHIM6_OPT_LOCATOR_PREFS, false);
	o->u.locpref.gen = gen;
	o->u.locpref.elem_len = elem_len;
	o->u.locpref.n = 3;
	o->u.locpref.elems = elem_len == 3 ? prefs3 : elem_len == 2 ? prefs2 : prefs1;
}

static void add_ulid(struct shim6_msg *m)
{
	struct shim6_opt *o = shim6_wire_opt_add(m, SHIM6_OPT_ULID_PAIR, false);
	o->u.ulid.sender = sample_ulid_a;
	o->u.ulid.receiver = sample_ulid_b;
}

static void add_fii(struct shim6_msg *m, uint32_t id)
{
	shim6_wire_opt_add(m, SHIM6_OPT_FORKED_INSTANCE, false)->u.forked_instance_id = id;
}

static void add_ka(struct shim6_msg *m, uint16_t secs)
{
	shim6_wire_opt_add(m, SHIM6_OPT_KEEPALIVE_TIMEOUT, false)->u.ka.seconds = secs;
}

static const char *const names[SAMPLE__COUNT] = {
	"I1", "R1", "I2", "R2", "R1bis", "I2bis", "Update Request", "Update Acknowledgement",
	"Keepalive", "Probe", "Error", "Update Request with unknown option",
};

const char *wire_sample_name(unsigned idx)
{
	return idx < SAMPLE__COUNT ? names[idx] : "?";
}

int wire_sample(unsigned idx, struct shim6_msg *m, uint8_t *buf, size_t cap)
{
	static int filled;
	if (!filled) {
		fill();
		filled = 1;
	}
	switch (idx) {
	case SAMPLE_I1:
		shim6_wire_msg_init(m, SHIM6_TYPE_I1);
		m->m.i1.init_ctag = 0x123456789abcULL;
		m->m.i1.init_nonce = 0x11111111;
		add_ulid(m);
		add_fii(m, 7);
		break;
	case SAMPLE_R1:
		shim6_wire_msg_init(m, SHIM6_TYPE_R1);
		m->m.r1.init_nonce = 0x11111111;
		m->m.r1.resp_nonce = 0x22222222;
		add_bytes(m, SHIM6_OPT_RESP_VALIDATOR, sample_validator, sizeof sample_validator);
		break;
	case SAMPLE_I2:
		shim6_wire_msg_init(m, SHIM6_TYPE_I2);
		m->m.i2.init_ctag = 0x123456789abcULL;
		m->m.i2.init_nonce = 0x33333333;
		m->m.i2.resp_nonce = 0x22222222;
		add_bytes(m, SHIM6_OPT_RESP_VALIDATOR, sample_validator, sizeof sample_validator);
		add_loclist(m, 1);
		add_locpref(m, 1, 3);
		add_bytes(m, SHIM6_OPT_CGA_PDS, sample_pds, sizeof sample_pds);
		add_bytes(m, SHIM6_OPT_CGA_SIGNATURE, sample_sig, sizeof sample_sig);
		add_ulid(m);
		add_fii(m, 7);
		add_ka(m, 10);
		break;
	case SAMPLE_R2:
		shim6_wire_msg_init(m, SHIM6_TYPE_R2);
		m->m.r2.resp_ctag = 0x7edcba987654ULL;
		m->m.r2.init_nonce = 0x33333333;
		add_loclist(m, 9);
		add_locpref(m, 9, 2);
		add_bytes(m, SHIM6_OPT_CGA_PDS, sample_pds, sizeof sample_pds);
		add_bytes(m, SHIM6_OPT_CGA_SIGNATURE, sample_sig, sizeof sample_sig);
		add_ka(m, 15);
		break;
	case SAMPLE_R1BIS:
		shim6_wire_msg_init(m, SHIM6_TYPE_R1BIS);
		m->m.r1bis.pkt_ctag = 0x0a0b0c0d0e0fULL;
		m->m.r1bis.resp_nonce = 0x44444444;
		add_bytes(m, SHIM6_OPT_RESP_VALIDATOR, sample_validator, 12);
		break;
	case SAMPLE_I2BIS:
		shim6_wire_msg_init(m, SHIM6_TYPE_I2BIS);
		m->m.i2bis.init_ctag = 0x123456789abcULL;
		m->m.i2bis.init_nonce = 0x55555555;
		m->m.i2bis.resp_nonce = 0x44444444;
		m->m.i2bis.pkt_ctag = 0x0a0b0c0d0e0fULL;
		add_bytes(m, SHIM6_OPT_RESP_VALIDATOR, sample_validator, 12);
		add_loclist(m, 2);
		add_bytes(m, SHIM6_OPT_CGA_PDS, sample_pds, sizeof sample_pds);
		add_bytes(m, SHIM6_OPT_CGA_SIGNATURE, sample_sig, sizeof sample_sig);
		add_ulid(m);
		break;
	case SAMPLE_UPDATE_REQ:
		shim6_wire_msg_init(m, SHIM6_TYPE_UPDATE_REQ);
		m->m.update.rcv_ctag = 0x7edcba987654ULL;
		m->m.update.req_nonce = 0x66666666;
		add_loclist(m, 3);
		add_locpref(m, 3, 1);
		add_bytes(m, SHIM6_OPT_CGA_SIGNATURE, sample_sig, sizeof sample_sig);
		break;
	case SAMPLE_UPDATE_ACK:
		shim6_wire_msg_init(m, SHIM6_TYPE_UPDATE_ACK);
		m->m.update.rcv_ctag = 0x123456789abcULL;
		m->m.update.req_nonce = 0x66666666;
		break;
	case SAMPLE_KEEPALIVE:
		shim6_wire_msg_init(m, SHIM6_TYPE_KEEPALIVE);
		m->m.ka.rcv_ctag = 0x7edcba987654ULL;
		break;
	case SAMPLE_PROBE:
		shim6_wire_msg_init(m, SHIM6_TYPE_PROBE);
		m->m.probe.rcv_ctag = 0x7edcba987654ULL;
		m->m.probe.psent = 2;
		m->m.probe.precvd = 1;
		m->m.probe.state = SHIM6_WIRE_STATE_EXPLORING;
		m->m.probe.sent = reports[0];
		m->m.probe.recvd = reports[2];
		break;
	case SAMPLE_ERROR:
		shim6_wire_msg_init(m, SHIM6_TYPE_ERROR);
		m->type_specific = SHIM6_ERRCODE_CRITICAL_OPTION;
		m->m.error.pointer = 16;
		m->m.error.invoking = invoking;
		m->m.error.invoking_len = sizeof invoking;
		break;
	case SAMPLE_UNKNOWN_OPT:
		shim6_wire_msg_init(m, SHIM6_TYPE_UPDATE_REQ);
		m->m.update.rcv_ctag = 0x7edcba987654ULL;
		m->m.update.req_nonce = 0x77777777;
		add_bytes(m, 99, unknown_body, sizeof unknown_body);      /* C = 0: skipped */
		add_loclist(m, 4);
		break;
	default:
		return SHIM6_E_INVAL;
	}
	return shim6_wire_encode(m, buf, cap);
}

void wire_fix_checksum(uint8_t *buf)
{
	size_t len = ((size_t)buf[1] + 1) * 8;
	buf[4] = buf[5] = 0;
	uint16_t c = shim6_wire_checksum(buf, len);
	buf[4] = (uint8_t)(c >> 8);
	buf[5] = (uint8_t)c;
}
