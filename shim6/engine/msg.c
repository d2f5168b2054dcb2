/* Minimal Shim6 codec for the engine's own use: build messages in place and
 * decode received ones into views.  Applies the length, checksum and option
 * rules the engine depends on; the full codec with every RFC validity rule
 * is shim6/wire. */
#include "internal.h"

uint16_t get_u16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
uint64_t get_tag(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 6; i++)
		v = v << 8 | p[i];
	return v & TAG_MASK;
}

uint16_t msg_cksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void mb_init(struct mb *m, uint8_t *buf, size_t cap, uint8_t type)
{
	m->buf = buf;
	m->cap = cap;
	m->len = 0;
	m->err = cap < 8;
	if (m->err)
		return;
	buf[0] = 59;            /* No Next Header */
	buf[1] = 0;
	buf[2] = type & 0x7f;   /* P = 0 */
	buf[3] = 0;
	buf[4] = buf[5] = 0;    /* checksum */
	m->len = 6;
}

static uint8_t *room(struct mb *m, size_t n)
{
	if (m->err || m->len + n > m->cap) {
		m->err = true;
		return NULL;
	}
	uint8_t *p = m->buf + m->len;
	m->len += n;
	return p;
}

void mb_u8(struct mb *m, uint8_t v) { uint8_t *p = room(m, 1); if (p) p[0] = v; }
void mb_u16(struct mb *m, uint16_t v)
{
	uint8_t *p = room(m, 2);
	if (p) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
}
void mb_u32(struct mb *m, uint32_t v)
{
	uint8_t *p = room(m, 4);
	if (p) { p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v; }
}
void mb_tag(struct mb *m, uint64_t tag)
{
	uint8_t *p = room(m, 6);
	tag &= TAG_MASK;
	if (p)
		for (int i = 5; i >= 0; i--, tag >>= 8)
			p[i] = (uint8_t)tag;
}
void mb_bytes(struct mb *m, const void *src, size_t n)
{
	uint8_t *p = room(m, n);
	if (p && n)
		memcpy(p, src, n);
}
void mb_zero(struct mb *m, size_t n)
{
	uint8_t *p = room(m, n);
	if (p && n)
		memset(p, 0, n);
}

size_t mb_opt_begin(struct mb *m, uint16_t type, bool crit)
{
	size_t off = m->len;
	mb_u16(m, (uint16_t)(type << 1 | (crit ? 1 : 0)));
	mb_u16(m, 0);
	return off;
}

void mb_opt_end(struct mb *m, size_t off)
{
	if (m->err)
		return;
	size_t clen = m->len - off - 4;
	m->buf[off + 2] = (uint8_t)(clen >> 8);
	m->buf[off + 3] = (uint8_t)clen;
	size_t total = (4 + clen + 7) & ~(size_t)7;
	mb_zero(m, total - 4 - clen);
}

size_t mb_finish(struct mb *m)
{
	if (!m->err && (m->len & 7))
		mb_zero(m, 8 - (m->len & 7));
	if (m->err || m->len > 8 * 256)
		return 0;
	m->buf[1] = (uint8_t)(m->len / 8 - 1);
	m->buf[4] = m->buf[5] = 0;
	uint16_t ck = msg_cksum(m->buf, m->len);
	m->buf[4] = (uint8_t)(ck >> 8);
	m->buf[5] = (uint8_t)ck;
	return m->len;
}

/* Length of the fixed (type-specific) part, from octet 0, where options
 * begin; 0 for unknown types. */
size_t msg_fixed_len(uint8_t type)
{
	switch (type) {
	case MT_I1: case MT_R1: case MT_R2: case MT_R1BIS:
	case MT_UPDATE_REQ: case MT_UPDATE_ACK: case MT_KEEPALIVE: case MT_PROBE:
		return 16;
	case MT_I2:
		return 24;
	case MT_I2BIS:
		return 32;
	case MT_ERROR:
		return 8;
	default:
		return 0;
	}
}

int msg_decode(const uint8_t *buf, size_t len, struct dmsg *d)
{
	memset(d, 0, sizeof(*d));
	d->crit_unknown = -1;
	if (len < 8)
		return SHIM6_ENG_EMALFORMED;
	size_t mlen = 8 + 8 * (size_t)buf[1];
	if (mlen > len || (buf[2] & 0x80))
		return SHIM6_ENG_EMALFORMED;
	if (msg_cksum(buf, mlen) != 0)
		return SHIM6_ENG_EMALFORMED;
	d->type = buf[2] & 0x7f;
	d->m = buf;
	d->len = mlen;
	size_t fl = msg_fixed_len(d->type);
	if (fl == 0)
		return SHIM6_ENG_EMALFORMED;
	if (d->type == MT_PROBE) {
		/* reports follow the fixed part: Psent + Precvd, 40 octets each */
		if (mlen < 16)
			return SHIM6_ENG_EMALFORMED;
		fl = 16 + 40 * (size_t)((buf[12] >> 4) + (buf[12] & 15));
	} else if (d->type == MT_ERROR) {
		return mlen >= fl ? 0 : SHIM6_ENG_EMALFORMED;  /* rest is the packet in error */
	}
	if (mlen < fl)
		return SHIM6_ENG_EMALFORMED;
	size_t off = fl;
	while (off + 4 <= mlen) {
		uint16_t th = get_u16(buf + off);
		uint16_t ol = get_u16(buf + off + 2);
		uint16_t type = th >> 1;
		size_t total = (4 + (size_t)ol + 7) & ~(size_t)7;
		if (off + total > mlen) {
			/* trailing zero padding of the message is not an option */
			if (th == 0 && ol == 0)
				break;
			return SHIM6_ENG_EMALFORMED;
		}
		if (type < OPT__MAX && type != 0 && type != 8 && type != 9) {
			if (d->opt[type].p == NULL) {
				d->opt[type].p = buf + off + 4;
				d->opt[type].len = ol;
				d->opt[type].tlv = buf + off;
				d->opt[type].tlv_len = total;
			}
		} else if (th == 0 && ol == 0) {
			/* padding */
		} else if ((th & 1) && d->crit_unknown < 0) {
			d->crit_unknown = (int)off;
		}
		off += total;
	}
	return 0;
}
