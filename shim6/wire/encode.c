/* Control message encoding: fixed fields, options in order, Hdr Ext Len and
 * checksum.  The output is byte-identical to the input of a successful
 * shim6_wire_decode() of the same view. */
#include <string.h>

#include <shim6/wire.h>
#include "be.h"

#define TAG_OK(t) (((t) & ~SHIM6_CTAG_MASK) == 0)

static int fixed_len(const struct shim6_msg *m)
{
	switch (m->type) {
	case SHIM6_TYPE_I1: case SHIM6_TYPE_R1: case SHIM6_TYPE_R2:
	case SHIM6_TYPE_R1BIS: case SHIM6_TYPE_UPDATE_REQ: case SHIM6_TYPE_UPDATE_ACK:
	case SHIM6_TYPE_KEEPALIVE:
		return 16;
	case SHIM6_TYPE_I2:
		return 24;
	case SHIM6_TYPE_I2BIS:
		return 32;
	case SHIM6_TYPE_PROBE:
		return 16 + SHIM6_PROBE_REPORT_LEN * (m->m.probe.psent + m->m.probe.precvd);
	case SHIM6_TYPE_ERROR:
		return 8 + ((m->m.error.invoking_len + 7) & ~7);
	default:
		return SHIM6_E_INVAL;
	}
}

static int check_fields(const struct shim6_msg *m)
{
	switch (m->type) {
	case SHIM6_TYPE_I1:    return TAG_OK(m->m.i1.init_ctag) ? 0 : SHIM6_E_FIELD;
	case SHIM6_TYPE_I2:    return TAG_OK(m->m.i2.init_ctag) ? 0 : SHIM6_E_FIELD;
	case SHIM6_TYPE_R2:    return TAG_OK(m->m.r2.resp_ctag) ? 0 : SHIM6_E_FIELD;
	case SHIM6_TYPE_R1BIS: return TAG_OK(m->m.r1bis.pkt_ctag) ? 0 : SHIM6_E_FIELD;
	case SHIM6_TYPE_I2BIS:
		return TAG_OK(m->m.i2bis.init_ctag) && TAG_OK(m->m.i2bis.pkt_ctag) &&
		       m->m.i2bis.reserved2 < (1ULL << 49) ? 0 : SHIM6_E_FIELD;
	case SHIM6_TYPE_UPDATE_REQ:
	case SHIM6_TYPE_UPDATE_ACK:
		return TAG_OK(m->m.update.rcv_ctag) ? 0 : SHIM6_E_FIELD;
	case SHIM6_TYPE_KEEPALIVE: return TAG_OK(m->m.ka.rcv_ctag) ? 0 : SHIM6_E_FIELD;
	case SHIM6_TYPE_PROBE: {
		const struct shim6_m_probe *p = &m->m.probe;
		if (!TAG_OK(p->rcv_ctag) || p->psent > 15 || p->precvd > 15 || p->state > 3 ||
		    p->reserved2 >= (1u << 22))
			return SHIM6_E_FIELD;
		if ((p->psent && !p->sent) || (p->precvd && !p->recvd))
			return SHIM6_E_INVAL;
		return 0;
	}
	case SHIM6_TYPE_ERROR:
		if (m->n_opts)
			return SHIM6_E_INVAL;   /* an Error carries the invoking packet, not options */
		/* At least one octet of invoking packet: Hdr Ext Len >= 1. */
		return !m->m.error.invoking_len || !m->m.error.invoking ? SHIM6_E_INVAL : 0;
	default:
		return 0;
	}
}

static void encode_fixed(const struct shim6_msg *m, uint8_t *b)
{
	switch (m->type) {
	case SHIM6_TYPE_I1:
		put_rtag(b + 6, m->m.i1.r, m->m.i1.init_ctag);
		put32(b + 12, m->m.i1.init_nonce);
		break;
	case SHIM6_TYPE_R1:
		put16(b + 6, m->m.r1.reserved2);
		put32(b + 8, m->m.r1.init_nonce);
		put32(b + 12, m->m.r1.resp_nonce);
		break;
	case SHIM6_TYPE_I2:
		put_rtag(b + 6, m->m.i2.r, m->m.i2.init_ctag);
		put32(b + 12, m->m.i2.init_nonce);
		put32(b + 16, m->m.i2.resp_nonce);
		put32(b + 20, m->m.i2.reserved2);
		break;
	case SHIM6_TYPE_R2:
		put_rtag(b + 6, m->m.r2.r, m->m.r2.resp_ctag);
		put32(b + 12, m->m.r2.init_nonce);
		break;
	case SHIM6_TYPE_R1BIS:
		put_rtag(b + 6, m->m.r1bis.r, m->m.r1bis.pkt_ctag);
		put32(b + 12, m->m.r1bis.resp_nonce);
		break;
	case SHIM6_TYPE_I2BIS:
		put_rtag(b + 6, m->m.i2bis.r, m->m.i2bis.init_ctag);
		put32(b + 12, m->m.i2bis.init_nonce);
		put32(b + 16, m->m.i2bis.resp_nonce);
		put48(b + 20, m->m.i2bis.reserved2 >> 1);
		put_rtag(b + 26, m->m.i2bis.reserved2 & 1, m->m.i2bis.pkt_ctag);
		break;
	case SHIM6_TYPE_UPDATE_REQ:
	case SHIM6_TYPE_UPDATE_ACK:
		put_rtag(b + 6, m->m.update.r, m->m.update.rcv_ctag);
		put32(b + 12, m->m.update.req_nonce);
		break;
	case SHIM6_TYPE_KEEPALIVE:
		put_rtag(b + 6, m->m.ka.r, m->m.ka.rcv_ctag);
		put32(b + 12, m->m.ka.reserved2);
		break;
	case SHIM6_TYPE_PROBE: {
		const struct shim6_m_probe *p = &m->m.probe;
		put_rtag(b + 6, p->r, p->rcv_ctag);
		b[12] = (uint8_t)(p->precvd << 4 | p->psent);
		b[13] = (uint8_t)(p->state << 6 | p->reserved2 >> 16);
		put16(b + 14, (uint16_t)p->reserved2);
		if (p->psent)
			memcpy(b + 16, p->sent, SHIM6_PROBE_REPORT_LEN * p->psent);
		if (p->precvd)
			memcpy(b + 16 + SHIM6_PROBE_REPORT_LEN * p->psent, p->recvd,
			       SHIM6_PROBE_REPORT_LEN * p->precvd);
		break;
	}
	case SHIM6_TYPE_ERROR: {
		const struct shim6_m_error *e = &m->m.error;
		size_t padded = ((size_t)e->invoking_len + 7) & ~(size_t)7;
		put16(b + 6, e->pointer);
		if (e->invoking_len)
			memcpy(b + 8, e->invoking, e->invoking_len);
		memset(b + 8 + e->invoking_len, 0, padded - e->invoking_len);
		break;
	}
	}
}

int shim6_wire_encode(const struct shim6_msg *m, uint8_t *buf, size_t cap)
{
	if (!m || !buf || m->n_opts > SHIM6_WIRE_MAX_OPTS)
		return SHIM6_E_INVAL;
	if (m->type > 0x7f || m->type_specific > 0x7f)
		return SHIM6_E_FIELD;
	int fixed = fixed_len(m);
	if (fixed < 0)
		return fixed;
	int rc = check_fields(m);
	if (rc < 0)
		return rc;

	size_t lim = cap < SHIM6_MSG_MAX ? cap : SHIM6_MSG_MAX;
	if ((size_t)fixed > lim)
		return SHIM6_E_NOSPACE;
	memset(buf, 0, 8);
	encode_fixed(m, buf);

	size_t off = (size_t)fixed;
	for (unsigned i = 0; i < m->n_opts; i++) {
		rc = shim6_wire_opt_encode(&m->opts[i], buf + off, lim - off);
		if (rc < 0)
			return rc;
		off += (size_t)rc;
	}

	buf[0] = m->next_header;
	buf[1] = (uint8_t)(off / 8 - 1);
	buf[2] = m->type;               /* P = 0 */
	buf[3] = (uint8_t)(m->type_specific << 1);      /* Shim6/HIP bit = 0 */
	put16(buf + 4, 0);
	uint16_t c = shim6_wire_checksum(buf, off);
	/* 0x0000 and 0xffff both verify when the rest sums to 0xffff; keep the
	 * caller's choice so a decoded message re-encodes identically. */
	if (c == 0 && m->checksum == 0xffff)
		c = 0xffff;
	put16(buf + 4, c);
	return (int)off;
}

void shim6_wire_msg_init(struct shim6_msg *m, enum shim6_msg_type type)
{
	memset(m, 0, sizeof *m);
	m->type = (uint8_t)type;
	m->next_header = SHIM6_NH_NONE;
}

struct shim6_opt *shim6_wire_opt_add(struct shim6_msg *m, uint16_t type, bool critical)
{
	if (m->n_opts >= SHIM6_WIRE_MAX_OPTS)
		return NULL;
	struct shim6_opt *o = &m->opts[m->n_opts++];
	memset(o, 0, sizeof *o);
	o->type = type;
	o->critical = critical;
	return o;
}
