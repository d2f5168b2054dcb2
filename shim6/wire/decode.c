/* Control message decoding and validation (RFC 5533 §5.3-5.14 and the
 * "silently discard unless" lists of §7-§10; RFC 5534 §5).  Each rule fails
 * with its own SHIM6_E_* code and leaves err_offset at the octet concerned.
 * docs/wire.md says which rules were checked against which source. */
#include <string.h>

#include <shim6/wire.h>
#include "be.h"

/* Octets of type-specific fixed fields from octet 0 and the minimum Hdr Ext
 * Len, per type.  Probe's reports are checked separately. */
static int fixed_len(unsigned type, unsigned *min_hel)
{
	switch (type) {
	case SHIM6_TYPE_I1:
	case SHIM6_TYPE_R1:
	case SHIM6_TYPE_R2:
	case SHIM6_TYPE_R1BIS:
	case SHIM6_TYPE_UPDATE_REQ:
	case SHIM6_TYPE_UPDATE_ACK:
	case SHIM6_TYPE_KEEPALIVE:
	case SHIM6_TYPE_PROBE:
		*min_hel = 1;
		return 16;
	case SHIM6_TYPE_I2:
		*min_hel = 2;
		return 24;
	case SHIM6_TYPE_I2BIS:
		*min_hel = 3;
		return 32;
	case SHIM6_TYPE_ERROR:
		/* Pointer, then at least one 8-octet unit of the invoking packet. */
		*min_hel = 1;
		return 8;
	default:
		return -1;
	}
}

static void decode_fixed(const uint8_t *b, struct shim6_msg *m)
{
	switch (m->type) {
	case SHIM6_TYPE_I1:
		m->m.i1.init_ctag = get_rtag(b + 6, &m->m.i1.r);
		m->m.i1.init_nonce = be32(b + 12);
		break;
	case SHIM6_TYPE_R1:
		m->m.r1.reserved2 = be16(b + 6);
		m->m.r1.init_nonce = be32(b + 8);
		m->m.r1.resp_nonce = be32(b + 12);
		break;
	case SHIM6_TYPE_I2:
		m->m.i2.init_ctag = get_rtag(b + 6, &m->m.i2.r);
		m->m.i2.init_nonce = be32(b + 12);
		m->m.i2.resp_nonce = be32(b + 16);
		m->m.i2.reserved2 = be32(b + 20);
		break;
	case SHIM6_TYPE_R2:
		m->m.r2.resp_ctag = get_rtag(b + 6, &m->m.r2.r);
		m->m.r2.init_nonce = be32(b + 12);
		break;
	case SHIM6_TYPE_R1BIS:
		m->m.r1bis.pkt_ctag = get_rtag(b + 6, &m->m.r1bis.r);
		m->m.r1bis.resp_nonce = be32(b + 12);
		break;
	case SHIM6_TYPE_I2BIS: {
		bool top;
		m->m.i2bis.init_ctag = get_rtag(b + 6, &m->m.i2bis.r);
		m->m.i2bis.init_nonce = be32(b + 12);
		m->m.i2bis.resp_nonce = be32(b + 16);
		/* 49 reserved bits: octets 20-25 and the top bit of octet 26. */
		m->m.i2bis.pkt_ctag = get_rtag(b + 26, &top);
		m->m.i2bis.reserved2 = be48(b + 20) << 1 | (top ? 1 : 0);
		break;
	}
	case SHIM6_TYPE_UPDATE_REQ:
	case SHIM6_TYPE_UPDATE_ACK:
		m->m.update.rcv_ctag = get_rtag(b + 6, &m->m.update.r);
		m->m.update.req_nonce = be32(b + 12);
		break;
	case SHIM6_TYPE_KEEPALIVE:
		m->m.ka.rcv_ctag = get_rtag(b + 6, &m->m.ka.r);
		m->m.ka.reserved2 = be32(b + 12);
		break;
	case SHIM6_TYPE_PROBE:
		m->m.probe.rcv_ctag = get_rtag(b + 6, &m->m.probe.r);
		m->m.probe.precvd = b[12] >> 4;
		m->m.probe.psent = b[12] & 0x0f;
		m->m.probe.state = b[13] >> 6;
		m->m.probe.reserved2 = (uint32_t)(b[13] & 0x3f) << 16 | be16(b + 14);
		m->m.probe.sent = b + 16;
		m->m.probe.recvd = b + 16 + SHIM6_PROBE_REPORT_LEN * m->m.probe.psent;
		break;
	case SHIM6_TYPE_ERROR:
		m->m.error.pointer = be16(b + 6);
		m->m.error.invoking = b + 8;
		m->m.error.invoking_len = (uint16_t)(m->len - 8);
		break;
	}
}

/* Slot for a known option's role pointer, NULL for unknown types. */
static const struct shim6_opt **role(struct shim6_msg *m, uint16_t type)
{
	switch (type) {
	case SHIM6_OPT_RESP_VALIDATOR:    return &m->validator;
	case SHIM6_OPT_LOCATOR_LIST:      return &m->loclist;
	case SHIM6_OPT_LOCATOR_PREFS:     return &m->locpref;
	case SHIM6_OPT_CGA_PDS:           return &m->cga_pds;
	case SHIM6_OPT_CGA_SIGNATURE:     return &m->cga_sig;
	case SHIM6_OPT_ULID_PAIR:         return &m->ulid_pair;
	case SHIM6_OPT_FORKED_INSTANCE:   return &m->forked;
	case SHIM6_OPT_KEEPALIVE_TIMEOUT: return &m->ka_timeout;
	default:                          return NULL;
	}
}

/* Index of the first verification method that is neither HBA nor CGA: the
 * octet an Error code 2 Pointer names. */
static size_t bad_method(const uint8_t *methods, unsigned n)
{
	size_t i = 0;
	while (i < n && (methods[i] == SHIM6_WIRE_VERIF_HBA || methods[i] == SHIM6_WIRE_VERIF_CGA))
		i++;
	return i;
}

static int fail(struct shim6_msg *m, int err, size_t off)
{
	m->err_offset = (uint16_t)off;
	return err;
}

int shim6_wire_decode(const uint8_t *b, size_t len, struct shim6_msg *m)
{
	if (!b || !m)
		return SHIM6_E_INVAL;
	memset(m, 0, offsetof(struct shim6_msg, opts));
	m->validator = m->loclist = m->locpref = m->cga_pds = NULL;
	m->cga_sig = m->ulid_pair = m->forked = m->ka_timeout = NULL;
	m->err_offset = 0;

	if (len < 8)
		return fail(m, SHIM6_E_TRUNC, 0);
	size_t mlen = ((size_t)b[1] + 1) * 8;
	if (len < mlen)
		return fail(m, SHIM6_E_TRUNC, 1);
	if (b[2] & 0x80)
		return fail(m, SHIM6_E_PBIT, 2);
	if (b[3] & 0x01)
		return fail(m, SHIM6_E_HIPBIT, 3);
	if (shim6_wire_checksum(b, mlen) != 0)
		return fail(m, SHIM6_E_CSUM, 4);

	m->next_header = b[0];
	m->type = b[2] & 0x7f;
	m->type_specific = b[3] >> 1;
	m->checksum = be16(b + 4);
	m->len = (uint16_t)mlen;

	unsigned min_hel;
	int fixed = fixed_len(m->type, &min_hel);
	if (fixed < 0)
		return fail(m, SHIM6_E_BADTYPE, 2);
	if (b[1] < min_hel)
		return fail(m, SHIM6_E_HDRLEN, 1);
	if (m->type == SHIM6_TYPE_PROBE) {
		/* RFC 5534 §5.3: room for every report the counts announce. */
		unsigned reports = (b[12] >> 4) + (b[12] & 0x0f);
		if (b[1] < 1 + 5 * reports)
			return fail(m, SHIM6_E_PROBE_LEN, 12);
		fixed += (int)(SHIM6_PROBE_REPORT_LEN * reports);
	}
	decode_fixed(b, m);
	if (m->type == SHIM6_TYPE_ERROR)
		return 0;       /* the rest is the invoking packet, not options */

	size_t off = (size_t)fixed;
	while (off < mlen) {
		if (m->n_opts >= SHIM6_WIRE_MAX_OPTS)
			return fail(m, SHIM6_E_OPT_TOO_MANY, off);
		struct shim6_opt *o = &m->opts[m->n_opts];
		size_t total;
		int rc = shim6_wire_opt_decode(b + off, mlen - off, o, &total);
		if (rc == SHIM6_E_LOCLIST_METHOD)
			return fail(m, rc, off + 9 + bad_method(b + off + 9, b[off + 8]));
		if (rc < 0)
			return fail(m, rc, off);
		const struct shim6_opt **slot = role(m, o->type);
		if (slot) {
			if (*slot)
				return fail(m, SHIM6_E_OPT_DUP, off);
			*slot = o;
		}
		m->n_opts++;
		off += total;
	}

	switch (m->type) {
	case SHIM6_TYPE_R1:
	case SHIM6_TYPE_I2:
	case SHIM6_TYPE_R1BIS:
	case SHIM6_TYPE_I2BIS:
		if (!m->validator)
			return fail(m, SHIM6_E_MISSING_VALIDATOR, 2);
		break;
	default:
		break;
	}
	if (m->cga_sig && !m->loclist)
		return fail(m, SHIM6_E_CGA_SIG_ORPHAN, (size_t)(m->cga_sig->u.bytes.data - 4 - b));
	if (m->locpref && m->loclist && m->locpref->u.locpref.gen == m->loclist->u.loclist.gen &&
	    m->locpref->u.locpref.n != m->loclist->u.loclist.n)
		return fail(m, SHIM6_E_LOCPREF_COUNT, (size_t)(m->locpref->u.locpref.elems - 5 - b));
	return 0;
}
